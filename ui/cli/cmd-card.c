/*
 * cmd-card.c: cmctl card init|personalize|replace|list|show|unblock|revoke,
 * and the card readers: card readers|wait.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

enum { O_SUBJECT = 256, O_CARD, O_LABEL, O_LETTER, O_REPLACES, O_TRANSPORT,
    O_READER, O_TIMEOUT, O_REMOVED };

/* Reserve a PIN letter (0600, never over a file): -1 after a message. */
static int
letter_open(const char *path)
{
	int fd, e;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0600)) == -1) {
		e = errno;
		fprintf(stderr, "cmctl: %s: %s%s\n", path, strerror(e),
		    e == EEXIST ? " (a PIN letter is never written over an "
		    "existing file)" : "");
		errno = e;
	}
	return fd;
}

int
cmd_card_init(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "card",	required_argument, NULL, O_CARD },
		{ "label",	required_argument, NULL, O_LABEL },
		{ "transport-pin-file", required_argument, NULL, O_TRANSPORT },
		{ NULL, 0, NULL, 0 }
	};
	const char *card = NULL, *label = NULL, *tfile = NULL;
	char serial[40], *pin = NULL, *transport = NULL;
	int ch, rc;

	opterr = 0;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case O_CARD: card = optarg; break;
		case O_LABEL: label = optarg; break;
		case O_TRANSPORT: tfile = optarg; break;
		default:
			return cli_usage_error("card init: unknown option or "
			    "missing argument \"%s\"", argv[optind - 1]);
		}
	}
	if (optind != argc || label == NULL)
		return cli_usage_error("card init --label LABEL [--card URI] "
		    "[--transport-pin-file FILE]");
	if (tfile != NULL) {
		if ((transport = calloc(1, 256)) == NULL)
			return 1;
		if ((rc = cm_secret_file(cli->ctx, tfile, 0, transport,
		    256)) != 0) {
			free(transport);
			return cli_fail(cli, rc);
		}
	}
	rc = cm_card_init(cli->ctx, card, label, transport, &pin, serial,
	    sizeof(serial));
	if (transport != NULL) {
		explicit_bzero(transport, 256);
		free(transport);
	}
	if (rc != 0)
		return cli_fail(cli, rc);
	printf("Card: %s\n", serial);
	if (pin != NULL) {
		printf("Transport PIN: %s\n", pin);
		explicit_bzero(pin, strlen(pin));
		free(pin);
	}
	return 0;
}

/* Print what a personalization made; the PIN shown, or in the letter. */
static int
personalized(struct cli *cli, struct cm_token_issued *t, struct cli_out *o,
    int lfd, const char *letter)
{
	size_t i;
	int status = 0;

	if (o != NULL && cli_out_commit(cli, o, t->data, t->len) == -1)
		status = 1;
	printf("Token: %lld\n", (long long)t->id);
	for (i = 0; i < t->nserials; i++)
		printf("Certificate: %s\n", t->serials[i]);
	if (t->pin != NULL) {
		if (lfd != -1)
			status = cli_pin_letter(lfd, letter, t) == 0 ? status :
			    1;
		else
			printf("PIN: %s\n", t->pin);
	}
	fflush(stdout);
	return status;
}

struct needs {
	char	*procedure;
	int	 letter;
};

static int
card_proc(void *arg, const struct cm_card_info *ci)
{
	struct needs *n = arg;

	if (ci->procedure != NULL && n->procedure == NULL)
		n->procedure = strdup(ci->procedure);
	return 0;
}

static int
proc_letter(void *arg, const struct cm_token_procedure_info *ti)
{
	struct needs *n = arg;

	n->letter = strcmp(ti->pin_procedure, "letter") == 0;
	return 1;
}

static int
card_personalize(struct cli *cli, int argc, char **argv, int replace)
{
	static const struct option opts[] = {
		{ "procedure",	required_argument, NULL, 'P' },
		{ "subject",	required_argument, NULL, O_SUBJECT },
		{ "card",	required_argument, NULL, O_CARD },
		{ "label",	required_argument, NULL, O_LABEL },
		{ "pin-letter",	required_argument, NULL, O_LETTER },
		{ "output",	required_argument, NULL, 'o' },
		{ "reason",	required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 }
	};
	struct cm_card_req req;
	struct cm_token_issued t;
	struct cli_out o;
	struct needs n = { NULL, 0 };
	const char *letter = NULL, *out = NULL;
	int ch, rc, status, lfd = -1;

	memset(&req, 0, sizeof(req));
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "P:o:r:", opts, NULL)) != -1) {
		switch (ch) {
		case 'P': req.procedure = optarg; break;
		case 'o': out = optarg; break;
		case 'r': req.reason = optarg; break;
		case O_SUBJECT: req.subject = optarg; break;
		case O_CARD: req.card = optarg; break;
		case O_LABEL: req.label = optarg; break;
		case O_LETTER: letter = optarg; break;
		default:
			return cli_usage_error("card %s: unknown option or "
			    "missing argument \"%s\"", argv[0],
			    argv[optind - 1]);
		}
	}
	if (replace) {
		if (optind != argc - 1)
			return cli_usage_error("card replace SERIAL [--card URI] "
			    "[-r REASON] [--pin-letter FILE] [-o FILE]");
		req.replaces = argv[optind];
	} else if (optind != argc || req.procedure == NULL ||
	    req.subject == NULL)
		return cli_usage_error("card personalize -P TOKEN_PROCEDURE "
		    "--subject ID|DN [--card URI] [--label LABEL] [--pin-letter "
		    "FILE] [-o FILE]");
	if (!replace && req.reason != NULL)
		return cli_usage_error("card personalize: -r goes with card "
		    "replace");
	/* A procedure that hands out PIN letters gets one. */
	if (req.procedure == NULL && replace) {
		rc = cm_card_list(cli->ctx, req.replaces, card_proc, &n);
		if (rc != 0)
			return cli_fail(cli, rc);
	}
	if (req.procedure != NULL || n.procedure != NULL) {
		rc = cm_token_procedure_list(cli->ctx, req.procedure != NULL ?
		    req.procedure : n.procedure, proc_letter, &n);
		free(n.procedure);
		if (rc != 0)
			return cli_fail(cli, rc);
	}
	if (n.letter && letter == NULL)
		return cli_usage_error("card %s: the token procedure hands out "
		    "PIN letters: give --pin-letter FILE", argv[0]);
	/* The files are reserved first, so a card is never left unseen. */
	if (letter != NULL && (lfd = letter_open(letter)) == -1)
		return errno == EEXIST ? 6 : 1;
	if (out != NULL && cli_out_open(cli, out, &o) == -1) {
		status = 1;
		goto drop;
	}
	rc = cm_card_personalize(cli->ctx, &req, &t);
	if (rc != 0) {
		status = cli_fail(cli, rc);
		if (out != NULL)
			cli_out_abort(&o);
		goto drop;
	}
	status = personalized(cli, &t, out != NULL ? &o : NULL, lfd, letter);
	cm_token_issued_clear(&t);
	if (lfd != -1)
		close(lfd);
	return status;
drop:
	if (lfd != -1) {
		close(lfd);
		unlink(letter);
	}
	return status;
}

int
cmd_card_personalize(struct cli *cli, int argc, char **argv)
{
	return card_personalize(cli, argc, argv, 0);
}

int
cmd_card_replace(struct cli *cli, int argc, char **argv)
{
	return card_personalize(cli, argc, argv, 1);
}

static int
card_line(void *arg, const struct cm_card_info *ci)
{
	const char *state = arg;

	if (state != NULL && strcmp(state, ci->state) != 0)
		return 0;
	printf("%s\t%s\t%s %s\t%s\t%s\n", ci->serial, ci->state,
	    ci->manufacturer, ci->model, ci->label,
	    ci->subject != NULL ? ci->subject : "-");
	return 0;
}

int
cmd_card_list(struct cli *cli, int argc, char **argv)
{
	const char *state = NULL;
	int rc;

	if ((rc = cli_state_opt(argc, argv, "card list", "card list "
	    "[--state initialized|personalized|revoked]", &state)) != 0)
		return rc;
	if (state != NULL && strcmp(state, "initialized") != 0 &&
	    strcmp(state, "personalized") != 0 && strcmp(state, "revoked") != 0)
		return cli_usage_error("card list: state \"%s\": initialized, "
		    "personalized or revoked", state);
	if ((rc = cm_card_list(cli->ctx, NULL, card_line, (void *)state)) != 0)
		return cli_fail(cli, rc);
	return 0;
}

static int
card_cert(void *arg, const struct cm_cert_info *ci)
{
	(void)arg;
	printf("Certificate: %s\t%s\t%s\t%s\n", ci->serial, ci->status,
	    ci->procedure != NULL ? ci->procedure : "-", ci->subject);
	return 0;
}

static int
card_detail(void *arg, const struct cm_card_info *ci)
{
	struct cli *cli = arg;
	char t[32];
	int rc;

	printf("Card: %s\nState: %s\nManufacturer: %s\nModel: %s\nLabel: %s\n"
	    "Initialized: %s\n", ci->serial, ci->state, ci->manufacturer,
	    ci->model, ci->label, cli_time(ci->created, t, sizeof(t)));
	if (ci->replaces != NULL)
		printf("Replaces: %s\n", ci->replaces);
	if (ci->token_id == 0)
		return 0;
	printf("Token: %lld\nSubject: %s\nToken procedure: %s\n",
	    (long long)ci->token_id, ci->subject, ci->procedure);
	if ((rc = cm_token_certs(cli->ctx, ci->token_id, card_cert, NULL)) != 0)
		return rc;
	return 0;
}

int
cmd_card_show(struct cli *cli, int argc, char **argv)
{
	int rc;

	if ((rc = cli_args("card show SERIAL", argc, argv, 1)) != 0)
		return rc;
	if ((rc = cm_card_list(cli->ctx, argv[1], card_detail, cli)) != 0)
		return cli_fail(cli, rc);
	return 0;
}

int
cmd_card_unblock(struct cli *cli, int argc, char **argv)
{
	char *pin = NULL;
	int rc;

	if ((rc = cli_args("card unblock SERIAL", argc, argv, 1)) != 0)
		return rc;
	if ((rc = cm_card_unblock(cli->ctx, argv[1], &pin)) != 0)
		return cli_fail(cli, rc);
	printf("Card: %s\nPIN: %s\n", argv[1], pin);
	explicit_bzero(pin, strlen(pin));
	free(pin);
	return 0;
}

int
cmd_card_revoke(struct cli *cli, int argc, char **argv)
{
	const char *reason = NULL;
	int ch, rc;

	opterr = 0;
	while ((ch = getopt(argc, argv, "r:")) != -1) {
		if (ch != 'r')
			return cli_usage_error("card revoke: unknown option or "
			    "missing argument \"%s\"", argv[optind - 1]);
		reason = optarg;
	}
	if (optind != argc - 1 || reason == NULL)
		return cli_usage_error("card revoke SERIAL -r REASON");
	if ((rc = cm_card_revoke(cli->ctx, argv[optind], reason)) != 0)
		return cli_fail(cli, rc);
	cli_info(cli, "card %s revoked", argv[optind]);
	return 0;
}

static void
print_atr(const unsigned char *atr, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		printf("%s%02X", i > 0 ? " " : "", atr[i]);
}

static int
reader_line(void *arg, const struct cm_reader *r)
{
	(void)arg;
	printf("%s\t%s\t", r->name, r->present ? (r->mute ? "mute card" :
	    "card") : "empty");
	print_atr(r->atr, r->atr_len);
	putchar('\n');
	return 0;
}

int
cmd_card_readers(struct cli *cli, int argc, char **argv)
{
	int rc;

	if ((rc = cli_args("card readers", argc, argv, 0)) != 0)
		return rc;
	if ((rc = cm_pcsc_readers(cli->ctx, reader_line, NULL)) != 0)
		return cli_fail(cli, rc);
	return 0;
}

int
cmd_card_wait(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "reader",	required_argument, NULL, O_READER },
		{ "timeout",	required_argument, NULL, O_TIMEOUT },
		{ "removed",	no_argument,	   NULL, O_REMOVED },
		{ NULL, 0, NULL, 0 }
	};
	struct cm_card_event ev;
	const char *reader = NULL;
	long timeout = -1;
	int ch, rc, removed = 0;

	opterr = 0;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case O_READER: reader = optarg; break;
		case O_REMOVED: removed = 1; break;
		case O_TIMEOUT:
			if (cli_parse_int("--timeout", optarg, 0, 86400,
			    &timeout) != 0)
				return 2;
			break;
		default:
			return cli_usage_error("card wait: unknown option or "
			    "missing argument \"%s\"", argv[optind - 1]);
		}
	}
	if (optind != argc)
		return cli_usage_error("card wait [--reader NAME] [--removed] "
		    "[--timeout SECONDS]");
	rc = cm_pcsc_wait(cli->ctx, reader, !removed, timeout < 0 ? -1 :
	    (int)(timeout * 1000), &ev);
	if (rc != 0)
		return cli_fail(cli, rc);
	printf("%s\t%s\t", ev.reader, ev.present ? "card" : "empty");
	print_atr(ev.atr, ev.atr_len);
	putchar('\n');
	return 0;
}
