/*
 * cmd-officer.c: cmctl officer-profile create|list|show and officer
 * create|list|show|disable.
 */
#include "config.h"

#include <string.h>

#include "cli.h"

enum { O_PERMS = 256, O_CERT, O_PROFILE };

/* officer-profile create, and modify (new permissions). */
int
cmd_officer_profile_create(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "name", required_argument, NULL, 'n' },
		{ "permissions", required_argument, NULL, O_PERMS },
		{ NULL, 0, NULL, 0 }
	};
	struct cm_officer_profile_req req;
	int ch, rc, modify = strcmp(argv[0], "modify") == 0;

	memset(&req, 0, sizeof(req));
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "n:", opts, NULL)) != -1) {
		switch (ch) {
		case 'n': req.name = optarg; break;
		case O_PERMS: req.permissions = optarg; break;
		default:
			return cli_usage_error("officer-profile %s: unknown "
			    "option or missing argument \"%s\"", argv[0],
			    argv[optind - 1]);
		}
	}
	if (optind != argc || req.name == NULL || req.permissions == NULL)
		return cli_usage_error("officer-profile %s -n NAME "
		    "--permissions LIST", argv[0]);
	rc = modify ? cm_officer_profile_modify(cli->ctx, &req) :
	    cm_officer_profile_create(cli->ctx, &req);
	if (rc != 0)
		return cli_fail(cli, rc);
	cli_info(cli, "officer profile \"%s\" %s", req.name, modify ?
	    "modified" : "created");
	return 0;
}

static int
profile_line(void *arg, const struct cm_officer_profile_info *pi)
{
	(void)arg;
	printf("%s\t%s\n", pi->name, pi->permissions);
	return 0;
}

static int
profile_detail(void *arg, const struct cm_officer_profile_info *pi)
{
	(void)arg;
	printf("Name: %s\nPermissions: %s\n", pi->name, pi->permissions);
	return 0;
}

int
cmd_officer_profile_list(struct cli *cli, int argc, char **argv)
{
	int rc;

	if ((rc = cli_args("officer-profile list", argc, argv, 0)) != 0)
		return rc;
	if ((rc = cm_officer_profile_list(cli->ctx, NULL, profile_line,
	    NULL)) != 0)
		return cli_fail(cli, rc);
	return 0;
}

int
cmd_officer_profile_show(struct cli *cli, int argc, char **argv)
{
	int rc;

	if ((rc = cli_args("officer-profile show NAME", argc, argv, 1)) != 0)
		return rc;
	if ((rc = cm_officer_profile_list(cli->ctx, argv[optind],
	    profile_detail, NULL)) != 0)
		return cli_fail(cli, rc);
	return 0;
}

int
cmd_officer_create(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "name", required_argument, NULL, 'n' },
		{ "cert", required_argument, NULL, O_CERT },
		{ "profile", required_argument, NULL, O_PROFILE },
		{ NULL, 0, NULL, 0 }
	};
	struct cm_officer_req req;
	const char *file = NULL;
	unsigned char *buf = NULL;
	int ch, rc;

	memset(&req, 0, sizeof(req));
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "n:", opts, NULL)) != -1) {
		switch (ch) {
		case 'n': req.name = optarg; break;
		case O_CERT: file = optarg; break;
		case O_PROFILE: req.profile = optarg; break;
		default:
			return cli_usage_error("officer create: unknown option "
			    "or missing argument \"%s\"", argv[optind - 1]);
		}
	}
	if (optind != argc || req.name == NULL || file == NULL ||
	    req.profile == NULL)
		return cli_usage_error("officer create -n NAME --cert FILE "
		    "--profile PROFILE");
	if ((rc = cm_file_read(cli->ctx, file, &buf, &req.cert_len)) != 0)
		return cli_fail(cli, rc);
	req.cert = buf;
	rc = cm_officer_create(cli->ctx, &req);
	cm_free(buf);
	if (rc != 0)
		return cli_fail(cli, rc);
	cli_info(cli, "officer \"%s\" created", req.name);
	return 0;
}

static int
officer_line(void *arg, const struct cm_officer_info *oi)
{
	(void)arg;
	printf("%s\t%s\t%s\t%s\n", oi->name, oi->profile, oi->state,
	    oi->subject);
	return 0;
}

static int
officer_detail(void *arg, const struct cm_officer_info *oi)
{
	char t[32];

	(void)arg;
	printf("Name: %s\nProfile: %s\nPermissions: %s\nState: %s\n"
	    "Subject: %s\nCertificate: %s\nCA: %s\nCreated: %s\n", oi->name,
	    oi->profile, oi->permissions, oi->state, oi->subject, oi->serial,
	    oi->ca, cli_time(oi->created, t, sizeof(t)));
	return 0;
}

int
cmd_officer_list(struct cli *cli, int argc, char **argv)
{
	int rc;

	if ((rc = cli_args("officer list", argc, argv, 0)) != 0)
		return rc;
	if ((rc = cm_officer_list(cli->ctx, NULL, officer_line, NULL)) != 0)
		return cli_fail(cli, rc);
	return 0;
}

int
cmd_officer_show(struct cli *cli, int argc, char **argv)
{
	int rc;

	if ((rc = cli_args("officer show NAME", argc, argv, 1)) != 0)
		return rc;
	if ((rc = cm_officer_list(cli->ctx, argv[optind], officer_detail,
	    NULL)) != 0)
		return cli_fail(cli, rc);
	return 0;
}

int
cmd_officer_disable(struct cli *cli, int argc, char **argv)
{
	int rc;

	if ((rc = cli_args("officer disable NAME", argc, argv, 1)) != 0)
		return rc;
	if ((rc = cm_officer_disable(cli->ctx, argv[optind])) != 0)
		return cli_fail(cli, rc);
	cli_info(cli, "officer \"%s\" disabled", argv[optind]);
	return 0;
}

static int
change_line(void *arg, const struct cm_change_info *ci)
{
	char t[32];

	(void)arg;
	printf("%lld\t%s\t%s\t%s\t%s\t%s\n", (long long)ci->id, ci->state,
	    ci->type, ci->object, cli_time(ci->created, t, sizeof(t)),
	    ci->signers);
	return 0;
}

int
cmd_change_list(struct cli *cli, int argc, char **argv)
{
	const char *state = NULL;
	int rc;

	if ((rc = cli_state_opt(argc, argv, "change list",
	    "change list takes no arguments", &state)) != 0)
		return rc;
	if ((rc = cm_change_list(cli->ctx, 0, state, change_line, NULL)) != 0)
		return cli_fail(cli, rc);
	return 0;
}

static int
change_detail(void *arg, const struct cm_change_info *ci)
{
	char t1[32], t2[32];

	(void)arg;
	printf("Change: %lld\nType: %s\nObject: %s\nState: %s\nCreated: %s\n",
	    (long long)ci->id, ci->type, ci->object, ci->state,
	    cli_time(ci->created, t1, sizeof(t1)));
	if (ci->applied != 0)
		printf("Applied: %s\n", cli_time(ci->applied, t2, sizeof(t2)));
	printf("Signed by: %s\nSHA-256: %s\n", ci->signers, ci->digest);
	if (ci->reason != NULL)
		printf("Reason: %s\n", ci->reason);
	printf("Document:\n%s\n", ci->document);
	return 0;
}

static int
change_id(const char *cmd, int argc, char **argv, long *id,
    const char **reason)
{
	static const struct option opts[] = {
		{ "reason", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 }
	};
	int ch;

	opterr = 0;
	while ((ch = getopt_long(argc, argv, "r:", opts, NULL)) != -1) {
		if (ch != 'r' || reason == NULL)
			return cli_usage_error("change %s: unknown option or "
			    "missing argument \"%s\"", cmd, argv[optind - 1]);
		*reason = optarg;
	}
	if (optind != argc - 1)
		return cli_usage_error("change %s ID", cmd);
	return cli_parse_int("change ID", argv[optind], 1, 0x7fffffff, id) ==
	    -1 ? EXIT_USAGE : 0;
}

int
cmd_change_show(struct cli *cli, int argc, char **argv)
{
	long id;
	int rc;

	if ((rc = change_id("show", argc, argv, &id, NULL)) != 0)
		return rc;
	if ((rc = cm_change_list(cli->ctx, id, NULL, change_detail, NULL)) != 0)
		return cli_fail(cli, rc);
	return 0;
}

int
cmd_change_sign(struct cli *cli, int argc, char **argv)
{
	long id;
	int rc;

	if ((rc = change_id("sign", argc, argv, &id, NULL)) != 0)
		return rc;
	if ((rc = cm_change_sign(cli->ctx, id)) != 0)
		return cli_fail(cli, rc);
	cli_info(cli, "change %ld signed and applied", id);
	return 0;
}

int
cmd_change_reject(struct cli *cli, int argc, char **argv)
{
	const char *reason = NULL;
	long id;
	int rc;

	if ((rc = change_id("reject", argc, argv, &id, &reason)) != 0)
		return rc;
	if ((rc = cm_change_reject(cli->ctx, id, reason)) != 0)
		return cli_fail(cli, rc);
	cli_info(cli, "change %ld rejected", id);
	return 0;
}

int
cmd_policy_export(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 }
	};
	const char *out = NULL;
	struct cli_out o;
	unsigned char *xml = NULL;
	size_t len = 0;
	int ch, rc;

	opterr = 0;
	while ((ch = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
		if (ch != 'o')
			return cli_usage_error("policy export: unknown option or "
			    "missing argument \"%s\"", argv[optind - 1]);
		out = optarg;
	}
	if (optind != argc)
		return cli_usage_error("policy export [-o FILE]");
	if (out != NULL && cli_out_open(cli, out, &o) == -1)
		return 1;
	if ((rc = cm_policy_export(cli->ctx, &xml, &len)) != 0) {
		if (out != NULL)
			cli_out_abort(&o);
		return cli_fail(cli, rc);
	}
	if (out == NULL)
		rc = cli_write_stdout(xml, len) == 0 ? 0 : 1;
	else
		rc = cli_out_commit(cli, &o, xml, len) == 0 ? 0 : 1;
	cm_free(xml);
	return rc;
}

int
cmd_policy_import(struct cli *cli, int argc, char **argv)
{
	unsigned char *buf = NULL;
	size_t len;
	int rc;

	if ((rc = cli_args("policy import FILE", argc, argv, 1)) != 0)
		return rc;
	if ((rc = cm_file_read(cli->ctx, argv[optind], &buf, &len)) != 0)
		return cli_fail(cli, rc);
	rc = cm_policy_import(cli->ctx, buf, len);
	cm_free(buf);
	if (rc != 0)
		return cli_fail(cli, rc);
	cli_info(cli, "policy imported from %s", argv[optind]);
	return 0;
}

int
cmd_officer_modify(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "profile", required_argument, NULL, O_PROFILE },
		{ NULL, 0, NULL, 0 }
	};
	const char *profile = NULL;
	int ch, rc;

	opterr = 0;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch != O_PROFILE)
			return cli_usage_error("officer modify: unknown option "
			    "or missing argument \"%s\"", argv[optind - 1]);
		profile = optarg;
	}
	if (optind != argc - 1 || profile == NULL)
		return cli_usage_error("officer modify NAME --profile PROFILE");
	if ((rc = cm_officer_modify(cli->ctx, argv[optind], profile)) != 0)
		return cli_fail(cli, rc);
	cli_info(cli, "officer \"%s\" modified", argv[optind]);
	return 0;
}
