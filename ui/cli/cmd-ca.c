/*
 * cmd-ca.c: cmctl ca create|request|import|list|show|export|revoke.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "cli.h"

enum { O_SELF = 256, O_VALIDITY, O_PATHLEN, O_CRL, O_DELTA, O_CDP, O_AIA,
    O_CERT, O_CHAIN, O_RDELTA };

static const struct option ca_opts[] = {
	{ "name",		required_argument,	NULL, 'n' },
	{ "key",		required_argument,	NULL, 'k' },
	{ "subject",		required_argument,	NULL, 's' },
	{ "issuer",		required_argument,	NULL, 'i' },
	{ "self-signed",	no_argument,		NULL, O_SELF },
	{ "validity",		required_argument,	NULL, O_VALIDITY },
	{ "pathlen",		required_argument,	NULL, O_PATHLEN },
	{ "crl-interval",	required_argument,	NULL, O_CRL },
	{ "delta-interval",	required_argument,	NULL, O_DELTA },
	{ "cdp",		required_argument,	NULL, O_CDP },
	{ "aia",		required_argument,	NULL, O_AIA },
	{ "output",		required_argument,	NULL, 'o' },
	{ NULL,			0,			NULL, 0 }
};

static int
ca_parse(const char *cmd, int argc, char **argv, struct cm_ca_req *req,
    int *self, const char **out)
{
	long v;
	int ch;

	memset(req, 0, sizeof(*req));
	req->pathlen = -1;
	*self = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "n:k:s:i:o:", ca_opts, NULL)) !=
	    -1) {
		switch (ch) {
		case 'n': req->name = optarg; break;
		case 'k': req->key = optarg; break;
		case 's': req->subject = optarg; break;
		case 'i': req->issuer = optarg; break;
		case 'o': *out = optarg; break;
		case O_SELF: *self = 1; break;
		case O_VALIDITY: req->validity = optarg; break;
		case O_CRL: req->crl_interval = optarg; break;
		case O_DELTA: req->delta_interval = optarg; break;
		case O_CDP: req->cdp = optarg; break;
		case O_AIA: req->aia = optarg; break;
		case O_PATHLEN:
			if (cli_parse_int("--pathlen", optarg, 0, 16, &v) == -1)
				return EXIT_USAGE;
			req->pathlen = (int)v;
			break;
		default:
			return cli_usage_error("ca %s: unknown option or missing "
			    "argument \"%s\"", cmd, argv[optind - 1]);
		}
	}
	if (optind != argc)
		return cli_usage_error("ca %s: unexpected argument \"%s\"", cmd,
		    argv[optind]);
	if (req->name == NULL || req->key == NULL || req->subject == NULL)
		return cli_usage_error("ca %s: -n NAME, -k KEY and -s DN are "
		    "required", cmd);
	return 0;
}

int
cmd_ca_create(struct cli *cli, int argc, char **argv)
{
	struct cm_ca_req req;
	const char *out = NULL;
	int self, rc;

	if ((rc = ca_parse("create", argc, argv, &req, &self, &out)) != 0)
		return rc;
	if (out != NULL)
		return cli_usage_error("ca create: -o is for ca request");
	if (self == (req.issuer != NULL))
		return cli_usage_error("ca create: give either --self-signed or "
		    "-i ISSUER_CA");
	if ((rc = cm_ca_create(cli->ctx, &req)) != 0)
		return cli_fail(cli, rc);
	cli_info(cli, "CA \"%s\" created", req.name);
	return 0;
}

int
cmd_ca_request(struct cli *cli, int argc, char **argv)
{
	struct cm_ca_req req;
	struct cli_out o;
	const char *out = NULL;
	unsigned char *csr = NULL;
	size_t len = 0;
	int self, rc;

	if ((rc = ca_parse("request", argc, argv, &req, &self, &out)) != 0)
		return rc;
	if (self || req.issuer != NULL || req.validity != NULL ||
	    req.pathlen != -1)
		return cli_usage_error("ca request: the external issuer sets "
		    "issuer, validity and path length");
	if (out == NULL)
		return cli_usage_error("ca request: -o FILE is required");
	if (cli_out_open(cli, out, &o) == -1)
		return 1;
	if ((rc = cm_ca_request(cli->ctx, &req, &csr, &len)) != 0) {
		cli_out_abort(&o);
		return cli_fail(cli, rc);
	}
	rc = cli_out_commit(cli, &o, csr, len) == 0 ? 0 : 1;
	cm_free(csr);
	if (rc == 0)
		cli_info(cli, "CA \"%s\" is pending; request written to %s",
		    req.name, out);
	return rc;
}

int
cmd_ca_import(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "name", required_argument, NULL, 'n' },
		{ "cert", required_argument, NULL, O_CERT },
		{ NULL, 0, NULL, 0 }
	};
	const char *name = NULL, *file = NULL;
	unsigned char *buf = NULL;
	size_t len;
	int ch, rc;

	opterr = 0;
	while ((ch = getopt_long(argc, argv, "n:", opts, NULL)) != -1) {
		switch (ch) {
		case 'n': name = optarg; break;
		case O_CERT: file = optarg; break;
		default:
			return cli_usage_error("ca import: unknown option or "
			    "missing argument \"%s\"", argv[optind - 1]);
		}
	}
	if (optind != argc || name == NULL || file == NULL)
		return cli_usage_error("ca import -n NAME --cert FILE");
	if ((rc = cm_file_read(cli->ctx, file, &buf, &len)) != 0)
		return cli_fail(cli, rc);
	rc = cm_ca_import(cli->ctx, name, buf, len);
	cm_free(buf);
	if (rc != 0)
		return cli_fail(cli, rc);
	cli_info(cli, "CA \"%s\" is active", name);
	return 0;
}

static int
ca_line(void *arg, const struct cm_ca_info *ci)
{
	(void)arg;
	printf("%s\t%s\t%s\t%s\t%s\n", ci->name, ci->state, ci->issuer,
	    ci->key, ci->subject);
	return 0;
}

int
cmd_ca_list(struct cli *cli, int argc, char **argv)
{
	int rc;

	if ((rc = cli_args("ca list takes no options", argc, argv, 0)) != 0)
		return rc;
	if ((rc = cm_ca_list(cli->ctx, NULL, ca_line, NULL)) != 0)
		return cli_fail(cli, rc);
	return 0;
}

static int
ca_detail(void *arg, const struct cm_ca_info *ci)
{
	char t1[32], t2[32];

	(void)arg;
	printf("Name: %s\nState: %s\nSubject: %s\nIssuer: %s\nKey: %s\n"
	    "Key identifier: %s\n", ci->name, ci->state, ci->subject,
	    ci->issuer, ci->key, ci->key_identifier);
	if (ci->cert != NULL)
		printf("Serial: %s\nNot before: %s\nNot after: %s\n", ci->serial,
		    cli_time(ci->not_before, t1, sizeof(t1)),
		    cli_time(ci->not_after, t2, sizeof(t2)));
	if (ci->pathlen >= 0)
		printf("Path length: %d\n", ci->pathlen);
	printf("CRL interval: %lds\nDelta CRL interval: %lds\n",
	    ci->crl_interval, ci->delta_interval);
	if (ci->revoke_delta)
		printf("Delta CRL on revocation: yes\n");
	if (ci->cdp != NULL)
		printf("CDP: %s\n", ci->cdp);
	if (ci->aia != NULL)
		printf("AIA: %s\n", ci->aia);
	printf("Next CRL number: %lld\n", (long long)ci->next_crl_number);
	return 0;
}

int
cmd_ca_show(struct cli *cli, int argc, char **argv)
{
	int rc;

	if ((rc = cli_args("ca show NAME", argc, argv, 1)) != 0)
		return rc;
	if ((rc = cm_ca_list(cli->ctx, argv[optind], ca_detail, NULL)) != 0)
		return cli_fail(cli, rc);
	return 0;
}

int
cmd_ca_export(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "chain", no_argument, NULL, O_CHAIN },
		{ "output", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 }
	};
	const char *out = NULL;
	struct cli_out o;
	unsigned char *pem = NULL;
	size_t len = 0;
	int ch, chain = 0, rc;

	opterr = 0;
	while ((ch = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
		switch (ch) {
		case 'o': out = optarg; break;
		case O_CHAIN: chain = 1; break;
		default:
			return cli_usage_error("ca export: unknown option or "
			    "missing argument \"%s\"", argv[optind - 1]);
		}
	}
	if (optind != argc - 1)
		return cli_usage_error("ca export NAME [--chain] [-o FILE]");
	if ((rc = cm_ca_export(cli->ctx, argv[optind], chain, &pem, &len)) != 0)
		return cli_fail(cli, rc);
	if (out == NULL)
		rc = cli_write_stdout(pem, len) == 0 ? 0 : 1;
	else if (cli_out_open(cli, out, &o) == -1)
		rc = 1;
	else
		rc = cli_out_commit(cli, &o, pem, len) == 0 ? 0 : 1;
	cm_free(pem);
	return rc;
}

int
cmd_ca_revoke(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "reason", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 }
	};
	const char *reason = NULL;
	int ch, rc;

	opterr = 0;
	while ((ch = getopt_long(argc, argv, "r:", opts, NULL)) != -1) {
		if (ch != 'r')
			return cli_usage_error("ca revoke: unknown option or "
			    "missing argument \"%s\"", argv[optind - 1]);
		reason = optarg;
	}
	if (optind != argc - 1 || reason == NULL)
		return cli_usage_error("ca revoke NAME -r REASON");
	if ((rc = cm_ca_revoke(cli->ctx, argv[optind], reason)) != 0)
		return cli_fail(cli, rc);
	cli_info(cli, "CA \"%s\" revoked", argv[optind]);
	return 0;
}

int
cmd_ca_modify(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "crl-interval", required_argument, NULL, O_CRL },
		{ "delta-interval", required_argument, NULL, O_DELTA },
		{ "cdp", required_argument, NULL, O_CDP },
		{ "aia", required_argument, NULL, O_AIA },
		{ "revoke-delta", required_argument, NULL, O_RDELTA },
		{ NULL, 0, NULL, 0 }
	};
	struct cm_ca_req req;
	int ch, rc;

	memset(&req, 0, sizeof(req));
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case O_CRL: req.crl_interval = optarg; break;
		case O_DELTA: req.delta_interval = optarg; break;
		case O_CDP: req.cdp = optarg; break;
		case O_AIA: req.aia = optarg; break;
		case O_RDELTA: req.revoke_delta = optarg; break;
		default:
			return cli_usage_error("ca modify: unknown option or "
			    "missing argument \"%s\"", argv[optind - 1]);
		}
	}
	if (optind != argc - 1 || (req.crl_interval == NULL &&
	    req.delta_interval == NULL && req.cdp == NULL && req.aia == NULL &&
	    req.revoke_delta == NULL))
		return cli_usage_error("ca modify NAME [--crl-interval 24h] "
		    "[--delta-interval 1h] [--cdp URL] [--aia URL] "
		    "[--revoke-delta yes|no]");
	req.name = argv[optind];
	if ((rc = cm_ca_modify(cli->ctx, &req)) != 0)
		return cli_fail(cli, rc);
	cli_info(cli, "CA \"%s\" modified", req.name);
	return 0;
}
