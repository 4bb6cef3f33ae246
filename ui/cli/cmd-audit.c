/*
 * cmd-audit.c: cmctl audit list|verify.
 */
#include "config.h"

#include <string.h>

#include "cli.h"

enum { O_SINCE = 256, O_UNTIL, O_LIMIT, O_OFFICER, O_ACTION, O_RESULT };

static int
audit_line(void *arg, const struct cm_audit_info *ai)
{
	char t[32];

	(void)arg;
	printf("%lld\t%s\t%s\t%s\t%s\t%s\t%s\n", (long long)ai->seq,
	    cli_time(ai->time, t, sizeof(t)), ai->actor, ai->action,
	    ai->object, ai->result, ai->detail);
	return 0;
}

int
cmd_audit_list(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "since", required_argument, NULL, O_SINCE },
		{ "until", required_argument, NULL, O_UNTIL },
		{ "limit", required_argument, NULL, O_LIMIT },
		{ "actor", required_argument, NULL, O_OFFICER },
		{ "action", required_argument, NULL, O_ACTION },
		{ "result", required_argument, NULL, O_RESULT },
		{ NULL, 0, NULL, 0 }
	};
	struct cm_audit_filter f;
	long limit = 0;
	int ch, rc;

	memset(&f, 0, sizeof(f));

	opterr = 0;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case O_SINCE:
			if ((rc = cm_time_parse(cli->ctx, "--since", optarg,
			    &f.since)) != 0)
				return cli_fail(cli, rc);
			break;
		case O_UNTIL:
			if ((rc = cm_time_parse(cli->ctx, "--until", optarg,
			    &f.until)) != 0)
				return cli_fail(cli, rc);
			break;
		case O_OFFICER:
			f.actor = optarg;
			break;
		case O_ACTION:
			f.action = optarg;
			break;
		case O_RESULT:
			f.result = optarg;
			break;
		case O_LIMIT:
			if (cli_parse_int("--limit", optarg, 1, 100000000,
			    &limit) == -1)
				return EXIT_USAGE;
			break;
		default:
			return cli_usage_error("audit list: unknown option or "
			    "missing argument \"%s\"", argv[optind - 1]);
		}
	}
	if (optind != argc)
		return cli_usage_error("audit list takes no arguments");
	f.limit = (int)limit;
	if ((rc = cm_audit_list(cli->ctx, &f, audit_line, NULL)) != 0)
		return cli_fail(cli, rc);
	return 0;
}

int
cmd_audit_checkpoint(struct cli *cli, int argc, char **argv)
{
	int64_t seq;
	int rc;

	if ((rc = cli_args("audit checkpoint takes no options", argc, argv, 0)) != 0)
		return rc;
	if ((rc = cm_audit_checkpoint(cli->ctx, &seq)) != 0)
		return cli_fail(cli, rc);
	printf("audit checkpoint: records 1 to %lld signed\n", (long long)seq);
	return 0;
}

int
cmd_audit_verify(struct cli *cli, int argc, char **argv)
{
	int64_t count, bad;
	int rc;

	if ((rc = cli_args("audit verify takes no options", argc, argv, 0)) != 0)
		return rc;
	if ((rc = cm_audit_verify(cli->ctx, &count, &bad)) != 0)
		return cli_fail(cli, rc);
	printf("audit log: %lld records verified\n", (long long)count);
	(void)bad;
	return 0;
}
