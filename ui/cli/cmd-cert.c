/*
 * cmd-cert.c: cmctl cert list|show|export, revoke and release.
 */
#include "config.h"

#include <string.h>

#include "cli.h"

enum { O_CA = 256, O_SUBJECT, O_STATUS, O_EXPIRING, O_LIMIT, O_DER, O_TIME };

static int
cert_line(void *arg, const struct cm_cert_info *ci)
{
	char t[32];

	(void)arg;
	printf("%s\t%s\t%s\t%s\t%s\n", ci->serial, ci->ca, ci->status,
	    cli_time(ci->not_after, t, sizeof(t)), ci->subject);
	return 0;
}

int
cmd_cert_list(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "ca",		required_argument, NULL, O_CA },
		{ "subject",	required_argument, NULL, O_SUBJECT },
		{ "status",	required_argument, NULL, O_STATUS },
		{ "expiring",	required_argument, NULL, O_EXPIRING },
		{ "limit",	required_argument, NULL, O_LIMIT },
		{ NULL, 0, NULL, 0 }
	};
	struct cm_cert_filter f;
	long v;
	int ch, rc;

	memset(&f, 0, sizeof(f));
	f.expiring_days = -1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case O_CA: f.ca = optarg; break;
		case O_SUBJECT: f.subject_prefix = optarg; break;
		case O_STATUS: f.status = optarg; break;
		case O_EXPIRING:
			if (cli_parse_int("--expiring", optarg, 0, 36500, &v) ==
			    -1)
				return EXIT_USAGE;
			f.expiring_days = (int)v;
			break;
		case O_LIMIT:
			if (cli_parse_int("--limit", optarg, 1, 100000000, &v) ==
			    -1)
				return EXIT_USAGE;
			f.limit = (int)v;
			break;
		default:
			return cli_usage_error("cert list: unknown option or "
			    "missing argument \"%s\"", argv[optind - 1]);
		}
	}
	if (optind != argc)
		return cli_usage_error("cert list takes no arguments");
	if ((rc = cm_cert_list(cli->ctx, &f, cert_line, NULL)) != 0)
		return cli_fail(cli, rc);
	return 0;
}

static int
parse_serial_ca(const char *cmd, int argc, char **argv, const char **ca,
    const char **out, int *der, const char **reason, const char **when)
{
	static const struct option opts[] = {
		{ "ca",		required_argument, NULL, O_CA },
		{ "output",	required_argument, NULL, 'o' },
		{ "der",	no_argument,	   NULL, O_DER },
		{ "reason",	required_argument, NULL, 'r' },
		{ "time",	required_argument, NULL, O_TIME },
		{ NULL, 0, NULL, 0 }
	};
	int ch;

	opterr = 0;
	while ((ch = getopt_long(argc, argv, "o:r:", opts, NULL)) != -1) {
		if (ch == O_CA)
			*ca = optarg;
		else if (ch == 'o' && out != NULL)
			*out = optarg;
		else if (ch == O_DER && der != NULL)
			*der = 1;
		else if (ch == 'r' && reason != NULL)
			*reason = optarg;
		else if (ch == O_TIME && when != NULL)
			*when = optarg;
		else
			return cli_usage_error("%s: unknown option or missing "
			    "argument \"%s\"", cmd, argv[optind - 1]);
	}
	if (optind != argc - 1)
		return cli_usage_error("%s: one SERIAL is required", cmd);
	return 0;
}

static int
cert_detail(void *arg, const struct cm_cert_info *ci)
{
	char t1[32], t2[32], t3[32];

	(void)arg;
	printf("Serial: %s\nCA: %s\nSubject: %s\nProcedure: %s\nStatus: %s\n"
	    "Not before: %s\nNot after: %s\nIssued: %s\n", ci->serial, ci->ca,
	    ci->subject, ci->procedure != NULL ? ci->procedure :
	    "(CA certificate)", ci->status,
	    cli_time(ci->not_before, t1, sizeof(t1)),
	    cli_time(ci->not_after, t2, sizeof(t2)),
	    cli_time(ci->issued, t3, sizeof(t3)));
	if (ci->reason != NULL)
		printf("Reason: %s\nRevocation time: %s\n", ci->reason,
		    cli_time(ci->revocation_time, t1, sizeof(t1)));
	return 0;
}

int
cmd_cert_show(struct cli *cli, int argc, char **argv)
{
	const char *ca = NULL;
	int rc;

	if ((rc = parse_serial_ca("cert show", argc, argv, &ca, NULL, NULL,
	    NULL, NULL)) != 0)
		return rc;
	if ((rc = cm_cert_show(cli->ctx, argv[optind], ca, cert_detail,
	    NULL)) != 0)
		return cli_fail(cli, rc);
	return 0;
}

struct export_arg {
	struct cli	*cli;
	const char	*out;
	int		 der;
	int		 status;
};

static int
cert_export_cb(void *arg, const struct cm_cert_info *ci)
{
	struct export_arg *a = arg;

	a->status = cli_der_or_pem(a->cli, a->out, ci->der, ci->der_len,
	    a->der, "CERTIFICATE");
	return 1;
}

int
cmd_cert_export(struct cli *cli, int argc, char **argv)
{
	struct export_arg a = { cli, NULL, 0, 0 };
	const char *ca = NULL;
	int rc;

	if ((rc = parse_serial_ca("cert export", argc, argv, &ca, &a.out,
	    &a.der, NULL, NULL)) != 0)
		return rc;
	if ((rc = cm_cert_show(cli->ctx, argv[optind], ca, cert_export_cb,
	    &a)) != 0)
		return cli_fail(cli, rc);
	return a.status;
}

int
cmd_revoke(struct cli *cli, int argc, char **argv)
{
	struct cm_revoke_req req;
	int rc;

	memset(&req, 0, sizeof(req));
	if ((rc = parse_serial_ca("revoke", argc, argv, &req.ca, NULL, NULL,
	    &req.reason, &req.time)) != 0)
		return rc;
	if (req.reason == NULL)
		return cli_usage_error("revoke SERIAL -r REASON");
	req.serial = argv[optind];
	if ((rc = cm_cert_revoke(cli->ctx, &req)) != 0)
		return cli_fail(cli, rc);
	cli_info(cli, "certificate %s: %s", req.serial, req.reason);
	return 0;
}

int
cmd_release(struct cli *cli, int argc, char **argv)
{
	const char *ca = NULL;
	int rc;

	if ((rc = parse_serial_ca("release", argc, argv, &ca, NULL, NULL, NULL,
	    NULL)) != 0)
		return rc;
	if ((rc = cm_cert_release(cli->ctx, argv[optind], ca)) != 0)
		return cli_fail(cli, rc);
	cli_info(cli, "certificate %s: hold released", argv[optind]);
	return 0;
}

int
cmd_cert_renew(struct cli *cli, int argc, char **argv)
{
	struct cm_issued is;
	struct cli_out o;
	const char *ca = NULL, *out = NULL;
	int der = 0, rc;

	if ((rc = parse_serial_ca("cert renew", argc, argv, &ca, &out, &der,
	    NULL, NULL)) != 0)
		return rc;
	if (out != NULL && cli_out_open(cli, out, &o) == -1)
		return 1;
	if ((rc = cm_cert_renew(cli->ctx, argv[optind], ca, der, &is)) != 0) {
		if (out != NULL)
			cli_out_abort(&o);
		return cli_fail(cli, rc);
	}
	return cli_issued_out(cli, &o, out != NULL, &is);
}
