/*
 * cmd-procedure.c: cmctl cert-procedure create|modify|list|show.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "cli.h"

enum { O_CA = 256, O_FORMAT, O_KU, O_EKU, O_VALIDITY, O_DIGEST, O_CHAIN,
    O_KEYS, O_FIELD, O_NOFIELDS };

/* cert-procedure create, and modify: the same options, all optional. */
int
cmd_procedure_create(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "name",	required_argument, NULL, 'n' },
		{ "ca",		required_argument, NULL, O_CA },
		{ "format",	required_argument, NULL, O_FORMAT },
		{ "key-usage",	required_argument, NULL, O_KU },
		{ "eku",	required_argument, NULL, O_EKU },
		{ "validity",	required_argument, NULL, O_VALIDITY },
		{ "digest",	required_argument, NULL, O_DIGEST },
		{ "chain",	required_argument, NULL, O_CHAIN },
		{ "allow-keys",	required_argument, NULL, O_KEYS },
		{ "field",	required_argument, NULL, O_FIELD },
		{ "no-fields",	no_argument,	   NULL, O_NOFIELDS },
		{ NULL, 0, NULL, 0 }
	};
	static const char *none[1];
	struct cm_cert_procedure_req req;
	const char **fields = NULL, **nf;
	int ch, rc, modify = strcmp(argv[0], "modify") == 0, nofields = 0;

	memset(&req, 0, sizeof(req));
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "n:", opts, NULL)) != -1) {
		switch (ch) {
		case 'n': req.name = optarg; break;
		case O_CA: req.ca = optarg; break;
		case O_FORMAT: req.format = optarg; break;
		case O_KU: req.key_usage = optarg; break;
		case O_EKU: req.eku = optarg; break;
		case O_VALIDITY: req.validity = optarg; break;
		case O_DIGEST: req.digest = optarg; break;
		case O_CHAIN: req.chain = optarg; break;
		case O_KEYS: req.allow_keys = optarg; break;
		case O_FIELD:
			nf = reallocarray(fields, req.nfields + 1,
			    sizeof(*fields));
			if (nf == NULL) {
				free(fields);
				return 1;
			}
			fields = nf;
			fields[req.nfields++] = optarg;
			break;
		case O_NOFIELDS:
			if (modify) {
				nofields = 1;
				break;
			}
			/* FALLTHROUGH */
		default:
			free(fields);
			return cli_usage_error("cert-procedure %s: unknown "
			    "option or missing argument \"%s\"", argv[0],
			    argv[optind - 1]);
		}
	}
	/* modify: no --field keeps the fields, --no-fields clears them. */
	req.fields = fields != NULL ? fields : nofields || !modify ? none :
	    NULL;
	if (nofields && fields != NULL) {
		free(fields);
		return cli_usage_error("cert-procedure modify: --field or "
		    "--no-fields, not both");
	}
	if (optind != argc || req.name == NULL || (!modify && (req.ca ==
	    NULL || req.format == NULL))) {
		free(fields);
		return cli_usage_error(modify ? "cert-procedure modify -n NAME "
		    "[options of create]" : "cert-procedure create -n NAME --ca "
		    "CA --format FORMAT");
	}
	rc = modify ? cm_cert_procedure_modify(cli->ctx, &req) :
	    cm_cert_procedure_create(cli->ctx, &req);
	free(fields);
	if (rc != 0)
		return cli_fail(cli, rc);
	cli_info(cli, "certificate procedure \"%s\" %s", req.name, modify ?
	    "modified" : "created");
	return 0;
}

static int
proc_line(void *arg, const struct cm_cert_procedure_info *pi)
{
	(void)arg;
	printf("%s\t%s\t%s\t%s\n", pi->name, pi->ca, pi->format, pi->state);
	return 0;
}

int
cmd_procedure_list(struct cli *cli, int argc, char **argv)
{
	int rc;

	if ((rc = cli_args("cert-procedure list takes no options", argc, argv, 0)) != 0)
		return rc;
	if ((rc = cm_cert_procedure_list(cli->ctx, NULL, proc_line, NULL)) != 0)
		return cli_fail(cli, rc);
	return 0;
}

static int
proc_detail(void *arg, const struct cm_cert_procedure_info *pi)
{
	const char *p, *nl;

	(void)arg;
	printf("Name: %s\nCA: %s\nFormat: %s\nKey usage: %s\n"
	    "Extended key usage: %s\nValidity: %s\nDigest: %s\nChain: %s\n"
	    "Allowed keys: %s\nState: %s\n", pi->name, pi->ca, pi->format,
	    pi->key_usage, pi->eku, pi->validity, pi->digest, pi->chain,
	    pi->allow_keys, pi->state);
	for (p = pi->fields; *p != '\0'; p = nl + 1) {
		if ((nl = strchr(p, '\n')) == NULL)
			break;
		printf("Field: %.*s\n", (int)(nl - p), p);
	}
	return 0;
}

int
cmd_procedure_show(struct cli *cli, int argc, char **argv)
{
	int rc;

	if ((rc = cli_args("cert-procedure show NAME", argc, argv, 1)) != 0)
		return rc;
	if ((rc = cm_cert_procedure_list(cli->ctx, argv[optind], proc_detail,
	    NULL)) != 0)
		return cli_fail(cli, rc);
	return 0;
}
