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

/* Write a secret into a file reserved (0600, O_EXCL) before it existed. */
static int
secret_write(int fd, const char *path, const char *text)
{
	size_t len = strlen(text);

	if (write(fd, text, len) == (ssize_t)len && write(fd, "\n", 1) == 1 &&
	    fsync(fd) == 0)
		return 0;
	fprintf(stderr, "cmctl: %s: %s\n", path, strerror(errno));
	return -1;
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
	int ch, rc, i, status = 0, made = 0, pfd[2] = { -1, -1 };

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
	/* Tokens and PIN files are reserved first: no PIN is ever lost. */
	if (cli_out_open(cli, path[0], &o[0]) == -1)
		goto fail;
	if (cli_out_open(cli, path[1], &o[1]) == -1) {
		cli_out_abort(&o[0]);
		goto fail;
	}
	for (i = 0; i < 2; i++)
		if ((pfd[i] = open(pin[i], O_WRONLY | O_CREAT | O_EXCL |
		    O_CLOEXEC, 0600)) == -1) {
			fprintf(stderr, "cmctl: %s: %s\n", pin[i],
			    strerror(errno));
			goto abort;
		}
	if ((rc = cm_bootstrap(cli->ctx, org, t)) != 0) {
		status = cli_fail(cli, rc);
		goto abort;
	}
	for (i = 0; i < 2; i++) {
		cli_out_private(&o[i]);
		if (cli_out_commit(cli, &o[i], t[i].data, t[i].len) == -1 ||
		    secret_write(pfd[i], pin[i], t[i].pin) == -1)
			status = 1;
		else
			printf("Bootstrap officer %d: %s (PIN in %s)\n", i + 1,
			    path[i], pin[i]);
		cm_token_issued_clear(&t[i]);
		close(pfd[i]);
	}
	return status;
abort:
	for (i = 0; i < 2; i++) {
		cli_out_abort(&o[i]);
		if (pfd[i] != -1) {
			close(pfd[i]);
			unlink(pin[i]);
		}
	}
	if (made)
		rmdir(kit);
	return status != 0 ? status : 1;
fail:
	if (made)
		rmdir(kit);
	return 1;
}
