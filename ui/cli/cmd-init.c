/*
 * cmd-init.c: cmctl init.
 */
#include "config.h"

#include "cli.h"

int
cmd_init(struct cli *cli, int argc, char **argv)
{
	int rc;

	if ((rc = cli_args("init takes no options or arguments", argc, argv, 0)) != 0)
		return rc;
	if ((rc = cm_db_create(cli->ctx, cli->db_path)) != 0)
		return cli_fail(cli, rc);
	cli_info(cli, "created CMDB %s with a soft key store", cli->db_path);
	return 0;
}
