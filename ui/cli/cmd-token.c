/*
 * cmd-token.c: cmctl subject register|list|show, token-procedure
 * create|list|show, and token issue|list|show|revoke.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

enum { O_EMAIL = 256, O_SAN, O_SEARCH, O_STORAGE, O_CARD, O_RANGE, O_PINPROC,
    O_ISSUER, O_CP, O_KEYTYPE, O_SUBJECT, O_LETTER, O_CSR, O_FALLBACK,
    O_RANGES };

int
cmd_subject_register(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "subject", required_argument, NULL, 's' },
		{ "email", required_argument, NULL, O_EMAIL },
		{ "san", required_argument, NULL, O_SAN },
		{ NULL, 0, NULL, 0 }
	};
	struct cm_subject_req req;
	int64_t id;
	int ch, rc;

	memset(&req, 0, sizeof(req));
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "s:", opts, NULL)) != -1) {
		switch (ch) {
		case 's': req.dn = optarg; break;
		case O_EMAIL: req.email = optarg; break;
		case O_SAN: req.san = optarg; break;
		default:
			return cli_usage_error("subject register: unknown option "
			    "or missing argument \"%s\"", argv[optind - 1]);
		}
	}
	if (optind != argc || req.dn == NULL)
		return cli_usage_error("subject register -s DN [--email ADDRESS] "
		    "[--san LIST]");
	if ((rc = cm_subject_register(cli->ctx, &req, &id)) != 0)
		return cli_fail(cli, rc);
	printf("%lld\n", (long long)id);
	return 0;
}

static int
subject_line(void *arg, const struct cm_subject_info *si)
{
	(void)arg;
	printf("%lld\t%s\t%s\n", (long long)si->id, si->dn,
	    si->email != NULL ? si->email : "");
	return 0;
}

int
cmd_subject_list(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "search", required_argument, NULL, O_SEARCH },
		{ NULL, 0, NULL, 0 }
	};
	const char *search = NULL;
	int ch, rc;

	opterr = 0;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch != O_SEARCH)
			return cli_usage_error("subject list: unknown option or "
			    "missing argument \"%s\"", argv[optind - 1]);
		search = optarg;
	}
	if (optind != argc)
		return cli_usage_error("subject list [--search TEXT]");
	if ((rc = cm_subject_search(cli->ctx, search, NULL, subject_line,
	    NULL)) != 0)
		return cli_fail(cli, rc);
	return 0;
}

int
cmd_subject_modify(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "email", required_argument, NULL, O_EMAIL },
		{ "san", required_argument, NULL, O_SAN },
		{ NULL, 0, NULL, 0 }
	};
	struct cm_subject_req req;
	int ch, rc;

	memset(&req, 0, sizeof(req));
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case O_EMAIL: req.email = optarg; break;
		case O_SAN: req.san = optarg; break;
		default:
			return cli_usage_error("subject modify: unknown option "
			    "or missing argument \"%s\"", argv[optind - 1]);
		}
	}
	if (optind != argc - 1 || (req.email == NULL && req.san == NULL))
		return cli_usage_error("subject modify ID|DN [--email ADDRESS] "
		    "[--san LIST]");
	if ((rc = cm_subject_modify(cli->ctx, argv[optind], &req)) != 0)
		return cli_fail(cli, rc);
	cli_info(cli, "subject %s: modified", argv[optind]);
	return 0;
}

static int
token_id_line(void *arg, const struct cm_token_info *ti)
{
	(void)arg;
	printf("Token: %lld\n", (long long)ti->id);
	return 0;
}

struct subject_show {
	struct cli	*cli;
	int		 rc;
};

static int
subject_detail(void *arg, const struct cm_subject_info *si)
{
	struct subject_show *s = arg;
	char t[32], id[32];

	printf("ID: %lld\nDN: %s\nEmail: %s\nSAN: %s\nCreated: %s\n",
	    (long long)si->id, si->dn, si->email != NULL ? si->email : "",
	    si->san != NULL ? si->san : "", cli_time(si->created, t,
	    sizeof(t)));
	snprintf(id, sizeof(id), "%lld", (long long)si->id);
	s->rc = cm_token_list(s->cli->ctx, 0, id, token_id_line, NULL);
	return 1;
}

int
cmd_subject_show(struct cli *cli, int argc, char **argv)
{
	struct subject_show s = { cli, 0 };
	int rc;

	if ((rc = cli_args("subject show ID|DN", argc, argv, 1)) != 0)
		return rc;
	if ((rc = cm_subject_list(cli->ctx, argv[optind], subject_detail,
	    &s)) != 0 || (rc = s.rc) != 0)
		return cli_fail(cli, rc);
	return 0;
}

/* token-procedure create, and modify: the same options, all optional. */
int
cmd_token_procedure_create(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "name",		required_argument, NULL, 'n' },
		{ "storage",		required_argument, NULL, O_STORAGE },
		{ "card-serial",	required_argument, NULL, O_CARD },
		{ "serial-range",	required_argument, NULL, O_RANGE },
		{ "serial-ranges",	required_argument, NULL, O_RANGES },
		{ "pin-procedure",	required_argument, NULL, O_PINPROC },
		{ "issuer-certs",	required_argument, NULL, O_ISSUER },
		{ "cert-procedure",	required_argument, NULL, O_CP },
		{ "key-type",		required_argument, NULL, O_KEYTYPE },
		{ NULL, 0, NULL, 0 }
	};
	struct cm_token_procedure_req req;
	const char **cps = NULL, **ncp;
	int ch, rc, modify = strcmp(argv[0], "modify") == 0;

	memset(&req, 0, sizeof(req));
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "n:", opts, NULL)) != -1) {
		switch (ch) {
		case 'n': req.name = optarg; break;
		case O_STORAGE: req.storage = optarg; break;
		case O_CARD: req.card_serial = optarg; break;
		case O_RANGE: req.serial_range = optarg; break;
		case O_RANGES: req.serial_ranges = optarg; break;
		case O_PINPROC: req.pin_procedure = optarg; break;
		case O_ISSUER: req.issuer_certs = optarg; break;
		case O_KEYTYPE: req.key_type = optarg; break;
		case O_CP:
			ncp = reallocarray(cps, req.ncert_procedures + 1,
			    sizeof(*cps));
			if (ncp == NULL) {
				free(cps);
				return 1;
			}
			cps = ncp;
			cps[req.ncert_procedures++] = optarg;
			break;
		default:
			free(cps);
			return cli_usage_error("token-procedure %s: unknown "
			    "option or missing argument \"%s\"", argv[0],
			    argv[optind - 1]);
		}
	}
	req.cert_procedures = cps;
	if (optind != argc || req.name == NULL || (!modify &&
	    (req.storage == NULL || req.ncert_procedures == 0))) {
		free(cps);
		return cli_usage_error(modify ? "token-procedure modify -n NAME "
		    "[options of create]" : "token-procedure create -n NAME "
		    "--storage STORAGE --cert-procedure P [--cert-procedure P2 "
		    "...]");
	}
	rc = modify ? cm_token_procedure_modify(cli->ctx, &req) :
	    cm_token_procedure_create(cli->ctx, &req);
	free(cps);
	if (rc != 0)
		return cli_fail(cli, rc);
	cli_info(cli, "token procedure \"%s\" %s", req.name, modify ?
	    "modified" : "created");
	return 0;
}

static int
tp_line(void *arg, const struct cm_token_procedure_info *ti)
{
	const char *p;

	(void)arg;
	printf("%s\t%s\t", ti->name, ti->storage);
	for (p = ti->cert_procedures; *p != '\0'; p++)
		putchar(*p == '\n' ? ',' : *p);
	putchar('\n');
	return 0;
}

int
cmd_token_procedure_list(struct cli *cli, int argc, char **argv)
{
	int rc;

	if ((rc = cli_args("token-procedure list takes no options", argc, argv, 0)) != 0)
		return rc;
	if ((rc = cm_token_procedure_list(cli->ctx, NULL, tp_line, NULL)) != 0)
		return cli_fail(cli, rc);
	return 0;
}

static int
tp_detail(void *arg, const struct cm_token_procedure_info *ti)
{
	const char *p, *nl;

	(void)arg;
	printf("Name: %s\nStorage: %s\nCard serial: %s\nSerial range: %s\n"
	    "PIN procedure: %s\nIssuer certificates: %s\nKey type: %s\n",
	    ti->name, ti->storage, ti->card_serial ? "yes" : "no",
	    ti->serial_range, ti->pin_procedure, ti->issuer_certs,
	    ti->key_type);
	if (ti->serial_ranges != NULL)
		printf("Serial ranges: %s\n", ti->serial_ranges);
	for (p = ti->cert_procedures; *p != '\0'; p = nl + 1) {
		if ((nl = strchr(p, '\n')) == NULL)
			nl = p + strlen(p) - 1;
		printf("Certificate procedure: %.*s\n", (int)(nl - p +
		    (*nl != '\n')), p);
	}
	return 0;
}

int
cmd_token_procedure_show(struct cli *cli, int argc, char **argv)
{
	int rc;

	if ((rc = cli_args("token-procedure show NAME", argc, argv, 1)) != 0)
		return rc;
	if ((rc = cm_token_procedure_list(cli->ctx, argv[optind], tp_detail,
	    NULL)) != 0)
		return cli_fail(cli, rc);
	return 0;
}

/* Write a PIN letter into a file opened (0600, O_EXCL) before issuing. */
int
cli_pin_letter(int fd, const char *path, const struct cm_token_issued *t)
{
	char *buf = NULL;
	int n, rc = -1;

	n = asprintf(&buf, "Token: %lld\nSubject: %s\nPIN: %s\n",
	    (long long)t->id, t->subject, t->pin);
	if (n > 0 && write(fd, buf, (size_t)n) == n && fsync(fd) == 0)
		rc = 0;
	else
		fprintf(stderr, "cmctl: %s: %s; token %lld is useless without "
		    "its PIN: revoke it\n", path, strerror(errno),
		    (long long)t->id);
	if (buf != NULL) {
		explicit_bzero(buf, (size_t)n);
		free(buf);
	}
	return rc;
}

struct tp_needs {
	int	letter;
	int	csr;
};

static int
tp_needs(void *arg, const struct cm_token_procedure_info *ti)
{
	struct tp_needs *n = arg;

	n->csr = strcmp(ti->storage, "pkcs10") == 0;
	n->letter = strcmp(ti->pin_procedure, "letter") == 0 && !n->csr;
	return 1;
}

int
cmd_token_issue(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "procedure",		required_argument, NULL, 'P' },
		{ "subject",		required_argument, NULL, O_SUBJECT },
		{ "output",		required_argument, NULL, 'o' },
		{ "pin-letter",		required_argument, NULL, O_LETTER },
		{ "csr",		required_argument, NULL, O_CSR },
		{ "pkcs12-fallback",	no_argument,	   NULL, O_FALLBACK },
		{ NULL, 0, NULL, 0 }
	};
	struct cm_token_req req;
	struct cm_token_issued t;
	struct cli_out o;
	const char *out = NULL, *letter = NULL, *csr = NULL;
	unsigned char *buf = NULL;
	size_t i;
	struct tp_needs needs = { 0, 0 };
	int ch, rc, status = 0, lfd = -1;

	memset(&req, 0, sizeof(req));
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "P:o:", opts, NULL)) != -1) {
		switch (ch) {
		case 'P': req.procedure = optarg; break;
		case 'o': out = optarg; break;
		case O_SUBJECT: req.subject = optarg; break;
		case O_LETTER: letter = optarg; break;
		case O_CSR: csr = optarg; break;
		case O_FALLBACK: req.pkcs12_fallback = 1; break;
		default:
			return cli_usage_error("token issue: unknown option or "
			    "missing argument \"%s\"", argv[optind - 1]);
		}
	}
	if (optind != argc || req.procedure == NULL || req.subject == NULL ||
	    out == NULL)
		return cli_usage_error("token issue -P TOKEN_PROCEDURE --subject "
		    "ID|DN -o FILE");
	if ((rc = cm_token_procedure_list(cli->ctx, req.procedure, tp_needs,
	    &needs)) != 0)
		return cli_fail(cli, rc);
	if (needs.csr && csr == NULL)
		return cli_usage_error("token issue: token procedure \"%s\" "
		    "stores PKCS#10: give --csr FILE", req.procedure);
	if (needs.letter && letter == NULL)
		return cli_usage_error("token issue: token procedure \"%s\" "
		    "hands out PIN letters: give --pin-letter FILE",
		    req.procedure);
	/* The letter is reserved first, so a PIN is never lost. */
	if (letter != NULL && (lfd = open(letter, O_WRONLY | O_CREAT | O_EXCL |
	    O_CLOEXEC, 0600)) == -1) {
		fprintf(stderr, "cmctl: %s: %s%s\n", letter, strerror(errno),
		    errno == EEXIST ? " (a PIN letter is never written over an "
		    "existing file)" : "");
		return errno == EEXIST ? 6 : 1;
	}
	if (csr != NULL) {
		if ((rc = cm_file_read(cli->ctx, csr, &buf, &req.csr_len)) != 0) {
			status = cli_fail(cli, rc);
			goto drop_letter;
		}
		req.csr = buf;
		req.csr_name = csr;
	}
	if (cli_out_open(cli, out, &o) == -1) {
		cm_free(buf);
		status = 1;
		goto drop_letter;
	}
	rc = cm_token_issue(cli->ctx, &req, &t);
	cm_free(buf);
	if (rc != 0) {
		cli_out_abort(&o);
		status = cli_fail(cli, rc);
		goto drop_letter;
	}
	if (t.pin != NULL)
		cli_out_private(&o);
	if (cli_out_commit(cli, &o, t.data, t.len) == -1)
		status = 1;
	printf("Token: %lld\n", (long long)t.id);
	for (i = 0; i < t.nserials; i++)
		printf("Certificate: %s\n", t.serials[i]);
	if (t.pin != NULL && status == 0) {
		if (lfd != -1) {
			status = cli_pin_letter(lfd, letter, &t) == 0 ? 0 :
			    1;
			close(lfd);
			lfd = -1;
		} else
			printf("PIN: %s\n", t.pin);
	}
	fflush(stdout);
	cm_token_issued_clear(&t);
	if (lfd == -1)
		return status;
	/* No PIN went into it: do not leave an empty letter behind. */
	close(lfd);
	unlink(letter);
	return status;
drop_letter:
	if (lfd != -1) {
		close(lfd);
		unlink(letter);
	}
	return status;
}

static int
token_line(void *arg, const struct cm_token_info *ti)
{
	(void)arg;
	printf("%lld\t%s\t%s\t%s\t%s\n", (long long)ti->id, ti->procedure,
	    ti->subject, ti->storage, ti->state);
	return 0;
}

int
cmd_token_list(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "subject", required_argument, NULL, O_SUBJECT },
		{ NULL, 0, NULL, 0 }
	};
	const char *subject = NULL;
	int ch, rc;

	opterr = 0;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch != O_SUBJECT)
			return cli_usage_error("token list: unknown option or "
			    "missing argument \"%s\"", argv[optind - 1]);
		subject = optarg;
	}
	if (optind != argc)
		return cli_usage_error("token list takes no arguments");
	if ((rc = cm_token_list(cli->ctx, 0, subject, token_line, NULL)) != 0)
		return cli_fail(cli, rc);
	return 0;
}

static int
token_detail(void *arg, const struct cm_token_info *ti)
{
	char t[32];

	(void)arg;
	printf("Token: %lld\nProcedure: %s\nSubject: %s\nStorage: %s\n"
	    "State: %s\nCreated: %s\n", (long long)ti->id, ti->procedure,
	    ti->subject, ti->storage, ti->state, cli_time(ti->created, t,
	    sizeof(t)));
	return 0;
}

static int
token_cert_line(void *arg, const struct cm_cert_info *ci)
{
	(void)arg;
	printf("Certificate: %s %s\n", ci->serial, ci->status);
	return 0;
}

static int
token_id_arg(const char *cmd, int argc, char **argv, long *id)
{
	char usage[32];
	int rc;

	snprintf(usage, sizeof(usage), "token %s ID", cmd);
	if ((rc = cli_args(usage, argc, argv, 1)) != 0)
		return rc;
	return cli_parse_int("token ID", argv[optind], 1, 0x7fffffff, id) ==
	    -1 ? EXIT_USAGE : 0;
}

int
cmd_token_show(struct cli *cli, int argc, char **argv)
{
	long id;
	int rc;

	if ((rc = token_id_arg("show", argc, argv, &id)) != 0)
		return rc;
	if ((rc = cm_token_list(cli->ctx, id, NULL, token_detail, NULL)) != 0 ||
	    (rc = cm_token_certs(cli->ctx, id, token_cert_line, NULL)) != 0)
		return cli_fail(cli, rc);
	return 0;
}

int
cmd_token_revoke(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "reason", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 }
	};
	const char *reason = NULL;
	long id;
	int ch, rc;

	opterr = 0;
	while ((ch = getopt_long(argc, argv, "r:", opts, NULL)) != -1) {
		if (ch != 'r')
			return cli_usage_error("token revoke: unknown option or "
			    "missing argument \"%s\"", argv[optind - 1]);
		reason = optarg;
	}
	if (optind != argc - 1 || reason == NULL)
		return cli_usage_error("token revoke ID -r REASON");
	if (cli_parse_int("token ID", argv[optind], 1, 0x7fffffff, &id) == -1)
		return EXIT_USAGE;
	if ((rc = cm_token_revoke(cli->ctx, id, reason)) != 0)
		return cli_fail(cli, rc);
	cli_info(cli, "token %ld revoked", id);
	return 0;
}
