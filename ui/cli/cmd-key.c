/*
 * cmd-key.c: cmctl key create|list|show|retire|remove.
 */
#include "config.h"

#include <string.h>

#include "cli.h"

static int
one_name(int argc, char **argv, const char *cmd, const char **name)
{
	opterr = 0;
	if (getopt_long(argc, argv, "", NULL, NULL) != -1)
		return cli_usage_error("key %s: unknown option \"%s\"", cmd,
		    argv[optind - 1]);
	if (optind != argc - 1)
		return cli_usage_error("key %s NAME: one key name is required",
		    cmd);
	*name = argv[optind];
	return 0;
}

int
cmd_key_create(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "name", required_argument, NULL, 'n' },
		{ "type", required_argument, NULL, 't' },
		{ "device", required_argument, NULL, 'D' },
		{ NULL, 0, NULL, 0 }
	};
	struct cm_key_req req;
	int ch, rc;

	memset(&req, 0, sizeof(req));
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "n:t:", opts, NULL)) != -1) {
		switch (ch) {
		case 'n':
			req.name = optarg;
			break;
		case 't':
			req.type = optarg;
			break;
		case 'D':
			req.device = optarg;
			break;
		default:
			return cli_usage_error("key create: unknown option or "
			    "missing argument \"%s\"", argv[optind - 1]);
		}
	}
	if (optind != argc || req.name == NULL || req.type == NULL)
		return cli_usage_error("key create -n NAME -t TYPE "
		    "[--device soft|URI]");
	if ((rc = cm_key_create(cli->ctx, &req)) != 0)
		return cli_fail(cli, rc);
	cli_info(cli, "key \"%s\" created", req.name);
	return 0;
}

static int
key_line(void *arg, const struct cm_key_info *ki)
{
	(void)arg;
	printf("%s\t%s\t%s\t%s\t%s\n", ki->name, ki->identifier,
	    ki->algorithm, ki->device, ki->state);
	return 0;
}

int
cmd_key_list(struct cli *cli, int argc, char **argv)
{
	const char *state = NULL;
	int rc;

	if ((rc = cli_state_opt(argc, argv, "key list",
	    "key list takes no arguments", &state)) != 0)
		return rc;
	if ((rc = cm_key_list(cli->ctx, state, NULL, key_line, NULL)) != 0)
		return cli_fail(cli, rc);
	return 0;
}

static int
key_detail(void *arg, const struct cm_key_info *ki)
{
	struct cli *cli = arg;
	unsigned char *pem = NULL;
	size_t len = 0;
	char t[32];

	printf("Name: %s\nIdentifier: %s\nAlgorithm: %s\nDevice: %s\n"
	    "State: %s\nCreated: %s\n", ki->name, ki->identifier,
	    ki->algorithm, ki->device, ki->state,
	    cli_time(ki->created, t, sizeof(t)));
	if (cm_pem_encode(cli->ctx, "PUBLIC KEY", ki->spki, ki->spki_len,
	    &pem, &len) == 0)
		fwrite(pem, 1, len, stdout);
	cm_free(pem);
	return 0;
}

int
cmd_key_show(struct cli *cli, int argc, char **argv)
{
	const char *name;
	int rc;

	if ((rc = one_name(argc, argv, "show", &name)) != 0)
		return rc;
	if ((rc = cm_key_list(cli->ctx, NULL, name, key_detail, cli)) != 0)
		return cli_fail(cli, rc);
	return 0;
}

int
cmd_key_retire(struct cli *cli, int argc, char **argv)
{
	const char *name;
	int rc;

	if ((rc = one_name(argc, argv, "retire", &name)) != 0)
		return rc;
	if ((rc = cm_key_retire(cli->ctx, name)) != 0)
		return cli_fail(cli, rc);
	cli_info(cli, "key \"%s\" retired", name);
	return 0;
}

int
cmd_key_remove(struct cli *cli, int argc, char **argv)
{
	const char *name;
	int rc;

	if ((rc = one_name(argc, argv, "remove", &name)) != 0)
		return rc;
	if ((rc = cm_key_remove(cli->ctx, name)) != 0)
		return cli_fail(cli, rc);
	cli_info(cli, "key \"%s\" removed: its private key is destroyed",
	    name);
	return 0;
}
