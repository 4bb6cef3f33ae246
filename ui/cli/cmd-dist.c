/*
 * cmd-dist.c: cmctl dist-rule create|list|show|attach|detach, publish
 * list|status|retry.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "cli.h"

enum { O_URL = 256, O_METHOD, O_PUBLISH, O_FORMAT, O_SERVERCA, O_CLIENT,
    O_USER, O_PWFILE, O_CA, O_PROC, O_CPFILE };

/* A secret from a file, into a buffer the caller wipes and frees. */
static int
secret_from(struct cli *cli, const char *file, char **out)
{
	int rc;

	if ((*out = calloc(1, 1024)) == NULL)
		return 1;
	if ((rc = cm_secret_file(cli->ctx, file, 0, *out, 1024)) != 0)
		return cli_fail(cli, rc);
	return 0;
}

static void
secret_wipe(char *s)
{
	if (s != NULL) {
		explicit_bzero(s, 1024);
		free(s);
	}
}

int
cmd_dist_rule_create(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "name",		required_argument, NULL, 'n' },
		{ "url",		required_argument, NULL, O_URL },
		{ "method",		required_argument, NULL, O_METHOD },
		{ "publish",		required_argument, NULL, O_PUBLISH },
		{ "format",		required_argument, NULL, O_FORMAT },
		{ "server-ca",		required_argument, NULL, O_SERVERCA },
		{ "client",		required_argument, NULL, O_CLIENT },
		{ "basic-user",		required_argument, NULL, O_USER },
		{ "basic-password-file", required_argument, NULL, O_PWFILE },
		{ "client-pass-file",	required_argument, NULL, O_CPFILE },
		{ NULL, 0, NULL, 0 }
	};
	struct cm_dist_rule_req req;
	const char *cafile = NULL, *pwfile = NULL, *cpfile = NULL;
	unsigned char *pem = NULL;
	char *pw = NULL, *cpw = NULL, *bundle = NULL;
	size_t len = 0;
	int ch, rc, status = 0;

	memset(&req, 0, sizeof(req));
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "n:", opts, NULL)) != -1) {
		switch (ch) {
		case 'n': req.name = optarg; break;
		case O_URL: req.url = optarg; break;
		case O_METHOD: req.method = optarg; break;
		case O_PUBLISH: req.content = optarg; break;
		case O_FORMAT: req.format = optarg; break;
		case O_SERVERCA: cafile = optarg; break;
		case O_CLIENT: req.client = optarg; break;
		case O_USER: req.basic_user = optarg; break;
		case O_PWFILE: pwfile = optarg; break;
		case O_CPFILE: cpfile = optarg; break;
		default:
			return cli_usage_error("dist-rule create: unknown "
			    "option or missing argument \"%s\"",
			    argv[optind - 1]);
		}
	}
	if (optind != argc || req.name == NULL || req.url == NULL ||
	    req.method == NULL || req.content == NULL || cafile == NULL)
		return cli_usage_error("dist-rule create -n NAME --url URL "
		    "--method PUT|POST --publish LIST --server-ca FILE");
	if ((rc = cm_file_read(cli->ctx, cafile, &pem, &len)) != 0)
		return cli_fail(cli, rc);
	if ((bundle = calloc(1, len + 1)) == NULL) {
		cm_free(pem);
		return 1;
	}
	memcpy(bundle, pem, len);
	cm_free(pem);
	req.server_ca = bundle;
	if ((pwfile != NULL && (status = secret_from(cli, pwfile, &pw)) !=
	    0) || (cpfile != NULL && (status = secret_from(cli, cpfile,
	    &cpw)) != 0))
		goto out;
	req.basic_password = pw;
	req.client_pass = cpw;
	if ((rc = cm_dist_rule_create(cli->ctx, &req)) != 0) {
		status = cli_fail(cli, rc);
		goto out;
	}
	cli_info(cli, "distribution rule \"%s\" created", req.name);
out:
	secret_wipe(pw);
	secret_wipe(cpw);
	free(bundle);
	return status;
}

static int
rule_line(void *arg, const struct cm_dist_rule_info *ri)
{
	(void)arg;
	printf("%s\t%s %s\t%s\t%s\n", ri->name, ri->method, ri->url,
	    ri->content, ri->format);
	return 0;
}

int
cmd_dist_rule_list(struct cli *cli, int argc, char **argv)
{
	int rc;

	if ((rc = cli_args("dist-rule list takes no options", argc, argv,
	    0)) != 0)
		return rc;
	if ((rc = cm_dist_rule_list(cli->ctx, NULL, rule_line, NULL)) != 0)
		return cli_fail(cli, rc);
	return 0;
}

static int
rule_detail(void *arg, const struct cm_dist_rule_info *ri)
{
	const char *p, *nl;
	char t[32];

	printf("Name: %s\nURL: %s\nMethod: %s\nPublishes: %s\nFormat: %s\n",
	    ri->name, ri->url, ri->method, ri->content, ri->format);
	printf("Client credential: %s\nHTTP basic user: %s\nCreated: %s\n",
	    ri->client != NULL ? ri->client : "none", ri->basic_user != NULL ?
	    ri->basic_user : "none", cli_time(ri->created, t, sizeof(t)));
	if (ri->client_pass)
		printf("Client passphrase: sealed\n");
	for (p = ri->attached; *p != '\0'; p = *nl != '\0' ? nl + 1 : nl) {
		nl = p + strcspn(p, "\n");
		printf("Attached: %.*s\n", (int)(nl - p), p);
	}
	fputs(ri->server_ca, stdout);
	(void)arg;
	return 0;
}

int
cmd_dist_rule_show(struct cli *cli, int argc, char **argv)
{
	int rc;

	if ((rc = cli_args("dist-rule show NAME", argc, argv, 1)) != 0)
		return rc;
	if ((rc = cm_dist_rule_list(cli->ctx, argv[1], rule_detail, NULL)) != 0)
		return cli_fail(cli, rc);
	return 0;
}

/* dist-rule attach and detach: a rule and a CA or a procedure. */
static int
link(struct cli *cli, int argc, char **argv, int detach)
{
	static const struct option opts[] = {
		{ "ca",		required_argument, NULL, O_CA },
		{ "procedure",	required_argument, NULL, O_PROC },
		{ NULL, 0, NULL, 0 }
	};
	const char *ca = NULL, *proc = NULL;
	const char *verb = detach ? "detach" : "attach";
	int ch, rc;

	opterr = 0;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case O_CA: ca = optarg; break;
		case O_PROC: proc = optarg; break;
		default:
			return cli_usage_error("dist-rule %s: unknown "
			    "option or missing argument \"%s\"", verb,
			    argv[optind - 1]);
		}
	}
	if (optind != argc - 1 || (ca == NULL) == (proc == NULL))
		return cli_usage_error("dist-rule %s NAME (--ca CA | "
		    "--procedure PROCEDURE)", verb);
	rc = detach ? cm_dist_rule_detach(cli->ctx, argv[optind], ca, proc) :
	    cm_dist_rule_attach(cli->ctx, argv[optind], ca, proc);
	if (rc != 0)
		return cli_fail(cli, rc);
	cli_info(cli, "distribution rule \"%s\" %sed %s %s \"%s\"",
	    argv[optind], verb, detach ? "from" : "to", ca != NULL ? "CA" :
	    "certificate procedure", ca != NULL ? ca : proc);
	return 0;
}

int
cmd_dist_rule_attach(struct cli *cli, int argc, char **argv)
{
	return link(cli, argc, argv, 0);
}

int
cmd_dist_rule_detach(struct cli *cli, int argc, char **argv)
{
	return link(cli, argc, argv, 1);
}

static int
pub_line(void *arg, const struct cm_publication_info *pi)
{
	char t[32], n[32];

	(void)arg;
	printf("%lld\t%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\n",
	    (long long)pi->id, pi->state, pi->rule, pi->kind, pi->ca,
	    pi->target, pi->attempts, cli_time(pi->created, t, sizeof(t)),
	    pi->last_error != NULL ? pi->last_error : "-",
	    strcmp(pi->state, "pending") == 0 ? cli_time(pi->next_try, n,
	    sizeof(n)) : "-");
	return 0;
}

int
cmd_publish_list(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "state",	required_argument, NULL, 's' },
		{ "rule",	required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 }
	};
	const char *state = NULL, *rule = NULL;
	int ch, rc;

	opterr = 0;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 's': state = optarg; break;
		case 'r': rule = optarg; break;
		default:
			return cli_usage_error("publish list: unknown option "
			    "or missing argument \"%s\"", argv[optind - 1]);
		}
	}
	if (optind != argc)
		return cli_usage_error("publish list [--state "
		    "pending|delivered|failed|superseded|withdrawn] [--rule "
		    "RULE]");
	if ((rc = cm_publication_list(cli->ctx, state, rule, pub_line,
	    NULL)) != 0)
		return cli_fail(cli, rc);
	return 0;
}

/* Counts by rule and state, and each rule's last error. */
struct status {
	struct {
		char	rule[160];
		long	n[5];
		char	error[300];
	}	*v;
	size_t	 n;
};

static int
status_cb(void *arg, const struct cm_publication_info *pi)
{
	struct status *st = arg;
	size_t i;
	int s;
	void *nv;

	for (i = 0; i < st->n; i++)
		if (strcmp(st->v[i].rule, pi->rule) == 0)
			break;
	if (i == st->n) {
		if ((nv = reallocarray(st->v, st->n + 1, sizeof(*st->v))) ==
		    NULL)
			return -1;
		st->v = nv;
		memset(&st->v[i], 0, sizeof(st->v[i]));
		snprintf(st->v[i].rule, sizeof(st->v[i].rule), "%s", pi->rule);
		st->n++;
	}
	s = strcmp(pi->state, "pending") == 0 ? 0 :
	    strcmp(pi->state, "delivered") == 0 ? 1 :
	    strcmp(pi->state, "failed") == 0 ? 2 :
	    strcmp(pi->state, "superseded") == 0 ? 3 : 4;
	st->v[i].n[s]++;
	/* The latest error of what has not gone. */
	if (pi->last_error != NULL && (s == 0 || s == 2))
		snprintf(st->v[i].error, sizeof(st->v[i].error), "%s",
		    pi->last_error);
	return 0;
}

int
cmd_publish_status(struct cli *cli, int argc, char **argv)
{
	struct status st = { NULL, 0 };
	size_t i;
	int rc;

	if ((rc = cli_args("publish status", argc, argv, 0)) != 0)
		return rc;
	if ((rc = cm_publication_list(cli->ctx, NULL, NULL, status_cb,
	    &st)) != 0) {
		free(st.v);
		return cli_fail(cli, rc);
	}
	for (i = 0; i < st.n; i++)
		printf("%s\tpending %ld\tdelivered %ld\tfailed %ld\t"
		    "superseded %ld\twithdrawn %ld\t%s\n", st.v[i].rule,
		    st.v[i].n[0], st.v[i].n[1], st.v[i].n[2], st.v[i].n[3],
		    st.v[i].n[4], st.v[i].error[0] != '\0' ? st.v[i].error :
		    "-");
	free(st.v);
	return 0;
}

int
cmd_publish_retry(struct cli *cli, int argc, char **argv)
{
	long id = 0;
	int64_t n = 0;
	int rc;

	if (argc > 2)
		return cli_usage_error("publish retry [ID]");
	if (argc == 2 && cli_parse_int("publish retry", argv[1], 1, 0x7fffffff,
	    &id) != 0)
		return EXIT_USAGE;
	if ((rc = cm_publication_retry(cli->ctx, id, &n)) != 0)
		return cli_fail(cli, rc);
	cli_info(cli, "%lld publication%s back in the queue", (long long)n,
	    n == 1 ? "" : "s");
	return 0;
}
