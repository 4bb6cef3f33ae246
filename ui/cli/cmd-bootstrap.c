/*
 * cmd-bootstrap.c: cmctl bootstrap --kit DIR.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

enum { O_KIT = 256, O_ORG };

/* Write a secret file: mode 0600, never over an existing file. */
static int
secret_file(const char *path, const char *text)
{
	size_t len = strlen(text);
	int fd, rc = -1;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) ==
	    -1) {
		fprintf(stderr, "cmctl: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (write(fd, text, len) == (ssize_t)len && write(fd, "\n", 1) == 1 &&
	    fsync(fd) == 0)
		rc = 0;
	else
		fprintf(stderr, "cmctl: %s: %s\n", path, strerror(errno));
	close(fd);
	return rc;
}

int
cmd_bootstrap(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "kit", required_argument, NULL, O_KIT },
		{ "org", required_argument, NULL, O_ORG },
		{ NULL, 0, NULL, 0 }
	};
	struct cm_token_issued t[2];
	struct cli_out o[2];
	const char *kit = NULL, *org = NULL;
	char path[2][1024], pin[2][1100];
	int ch, rc, i, status = 0, made = 0;

	opterr = 0;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case O_KIT: kit = optarg; break;
		case O_ORG: org = optarg; break;
		default:
			return cli_usage_error("bootstrap: unknown option or "
			    "missing argument \"%s\"", argv[optind - 1]);
		}
	}
	if (optind != argc || kit == NULL)
		return cli_usage_error("bootstrap --kit DIR [--org DN]");
	if (strlen(kit) > 900)
		return cli_usage_error("bootstrap: --kit path too long");
	if (mkdir(kit, 0700) == 0)
		made = 1;
	else if (errno != EEXIST) {
		fprintf(stderr, "cmctl: %s: %s\n", kit, strerror(errno));
		return 1;
	}
	for (i = 0; i < 2; i++) {
		snprintf(path[i], sizeof(path[i]), "%s/boot-officer-%d.p12", kit,
		    i + 1);
		snprintf(pin[i], sizeof(pin[i]), "%s/boot-officer-%d.p12.pin",
		    kit, i + 1);
		if (access(path[i], F_OK) == 0 || access(pin[i], F_OK) == 0) {
			fprintf(stderr, "cmctl: %s: the boot kit is never "
			    "written over an existing one\n", kit);
			if (made)
				rmdir(kit);
			return 6;
		}
	}
	if (cli_out_open(cli, path[0], &o[0]) == -1)
		goto fail;
	if (cli_out_open(cli, path[1], &o[1]) == -1) {
		cli_out_abort(&o[0]);
		goto fail;
	}
	if ((rc = cm_bootstrap(cli->ctx, org, t)) != 0) {
		cli_out_abort(&o[0]);
		cli_out_abort(&o[1]);
		if (made)
			rmdir(kit);
		return cli_fail(cli, rc);
	}
	for (i = 0; i < 2; i++) {
		cli_out_private(&o[i]);
		if (cli_out_commit(cli, &o[i], t[i].data, t[i].len) == -1 ||
		    secret_file(pin[i], t[i].pin) == -1)
			status = 1;
		else
			printf("Bootstrap officer %d: %s (PIN in %s)\n", i + 1,
			    path[i], pin[i]);
		cm_token_issued_clear(&t[i]);
	}
	return status;
fail:
	if (made)
		rmdir(kit);
	return 1;
}
