/*
 * cmd-crl.c: cmctl crl issue|list|export, and cil issue|list|export:
 * certificate issuance lists are issued, kept and exported as CRLs are.
 */
#include "config.h"

#include <string.h>

#include "cli.h"

enum { O_CA = 256, O_DELTA, O_DER, O_NUMBER };

static const struct option crl_opts[] = {
	{ "ca",		required_argument, NULL, O_CA },
	{ "delta",	no_argument,	   NULL, O_DELTA },
	{ "der",	no_argument,	   NULL, O_DER },
	{ "number",	required_argument, NULL, O_NUMBER },
	{ "output",	required_argument, NULL, 'o' },
	{ NULL, 0, NULL, 0 }
};

struct crl_args {
	const char	*ca;
	const char	*out;
	int		 delta;
	int		 der;
	long		 number;
	int		 status;
	struct cli	*cli;
	struct cli_out	 file;		/* reserved by crl issue */
	int		 reserved;
	int		 cil;		/* a CIL, not a CRL */
};

static const char *
noun(const struct crl_args *a)
{
	return a->cil ? "cil" : "crl";
}

static const char *
label(const struct crl_args *a)
{
	return a->cil ? "CERTIFICATE ISSUANCE LIST" : "X509 CRL";
}

static int
lists(struct cli *cli, struct crl_args *a, int64_t number, cm_crl_cb cb,
    void *arg)
{
	return a->cil ? cm_cil_list(cli->ctx, a->ca, number, cb, arg) :
	    cm_crl_list(cli->ctx, a->ca, number, cb, arg);
}

static int
crl_parse(const char *cmd, int argc, char **argv, struct crl_args *a,
    const char *allowed)
{
	int ch;

	opterr = 0;
	while ((ch = getopt_long(argc, argv, "o:", crl_opts, NULL)) != -1) {
		if (ch == O_CA)
			a->ca = optarg;
		else if (ch == 'o' && strchr(allowed, 'o'))
			a->out = optarg;
		else if (ch == O_DELTA && strchr(allowed, 'd'))
			a->delta = 1;
		else if (ch == O_DER && strchr(allowed, 'r'))
			a->der = 1;
		else if (ch == O_NUMBER && strchr(allowed, 'n')) {
			if (cli_parse_int("--number", optarg, 1, 0x7fffffff,
			    &a->number) == -1)
				return EXIT_USAGE;
		} else
			return cli_usage_error("%s %s: unknown option or "
			    "missing argument \"%s\"", noun(a), cmd,
			    argv[optind - 1]);
	}
	if (optind != argc || a->ca == NULL)
		return cli_usage_error("%s %s: --ca CA is required", noun(a),
		    cmd);
	return 0;
}

static int
crl_write(void *arg, const struct cm_crl_info *ci)
{
	struct crl_args *a = arg;
	unsigned char *pem = NULL;
	size_t len = 0;
	int rc;

	if (!a->reserved) {
		a->status = cli_der_or_pem(a->cli, a->out, ci->der, ci->der_len,
		    a->der, label(a));
		return 1;
	}
	if (a->der)
		a->status = cli_out_commit(a->cli, &a->file, ci->der,
		    ci->der_len) == 0 ? 0 : 1;
	else if ((rc = cm_pem_encode(a->cli->ctx, label(a), ci->der,
	    ci->der_len, &pem, &len)) != 0) {
		cli_out_abort(&a->file);
		a->status = cli_fail(a->cli, rc);
	} else
		a->status = cli_out_commit(a->cli, &a->file, pem, len) == 0 ?
		    0 : 1;
	cm_free(pem);
	return 1;
}

static int
issue(struct cli *cli, int argc, char **argv, int cil)
{
	struct crl_args a;
	int64_t number;
	int rc;

	memset(&a, 0, sizeof(a));
	a.cli = cli;
	a.cil = cil;
	if ((rc = crl_parse("issue", argc, argv, &a, cil ? "or" : "odr")) !=
	    0)
		return rc;
	/* Reserve the output first: a number is never spent in vain. */
	if (a.out != NULL && cli_out_open(cli, a.out, &a.file) == -1)
		return 1;
	rc = cil ? cm_cil_issue(cli->ctx, a.ca, &number) :
	    cm_crl_issue(cli->ctx, a.ca, a.delta, &number);
	if (rc != 0) {
		if (a.out != NULL)
			cli_out_abort(&a.file);
		return cli_fail(cli, rc);
	}
	if (a.out == NULL) {
		/* The list itself goes to standard output. */
		cli_info(cli, "%s %lld of CA \"%s\" issued", cil ? "CIL" :
		    "CRL", (long long)number, a.ca);
		if ((rc = lists(cli, &a, number, crl_write, &a)) != 0)
			return cli_fail(cli, rc);
		return a.status;
	}
	printf("%lld\n", (long long)number);
	fflush(stdout);
	a.reserved = 1;
	if ((rc = lists(cli, &a, number, crl_write, &a)) != 0) {
		cli_out_abort(&a.file);
		return cli_fail(cli, rc);
	}
	return a.status;
}

int
cmd_crl_issue(struct cli *cli, int argc, char **argv)
{
	return issue(cli, argc, argv, 0);
}

int
cmd_cil_issue(struct cli *cli, int argc, char **argv)
{
	return issue(cli, argc, argv, 1);
}

static int
crl_line(void *arg, const struct cm_crl_info *ci)
{
	const struct crl_args *a = arg;
	char t1[32], t2[32];

	printf("%lld\t%s\t%s\t%s\t%lld\n", (long long)ci->number,
	    a->cil ? "cil" : ci->delta ? "delta" : "full",
	    cli_time(ci->this_update, t1, sizeof(t1)),
	    cli_time(ci->next_update, t2, sizeof(t2)),
	    (long long)ci->entries);
	return 0;
}

static int
list(struct cli *cli, int argc, char **argv, int cil)
{
	struct crl_args a;
	int rc;

	memset(&a, 0, sizeof(a));
	a.cil = cil;
	if ((rc = crl_parse("list", argc, argv, &a, "")) != 0)
		return rc;
	if ((rc = lists(cli, &a, 0, crl_line, &a)) != 0)
		return cli_fail(cli, rc);
	return 0;
}

int
cmd_crl_list(struct cli *cli, int argc, char **argv)
{
	return list(cli, argc, argv, 0);
}

int
cmd_cil_list(struct cli *cli, int argc, char **argv)
{
	return list(cli, argc, argv, 1);
}

static int
export(struct cli *cli, int argc, char **argv, int cil)
{
	struct crl_args a;
	int rc;

	memset(&a, 0, sizeof(a));
	a.cli = cli;
	a.cil = cil;
	if ((rc = crl_parse("export", argc, argv, &a, "onr")) != 0)
		return rc;
	if ((rc = lists(cli, &a, a.number > 0 ? a.number : -1, crl_write,
	    &a)) != 0)
		return cli_fail(cli, rc);
	return a.status;
}

int
cmd_crl_export(struct cli *cli, int argc, char **argv)
{
	return export(cli, argc, argv, 0);
}

int
cmd_cil_export(struct cli *cli, int argc, char **argv)
{
	return export(cli, argc, argv, 1);
}
