/*
 * cmd-init.c: cmctl init.
 */
#include "config.h"

#include "cli.h"

int
cmd_init(struct cli *cli, int argc, char **argv)
{
	int rc;

	opterr = 0;
	if (getopt_long(argc, argv, "", NULL, NULL) != -1 || optind < argc)
		return cli_usage_error("init takes no options or arguments");
	if ((rc = cm_db_create(cli->ctx, cli->db_path)) != 0)
		return cli_fail(cli, rc);
	cli_info(cli, "created CMDB %s with a soft key store", cli->db_path);
	return 0;
}
