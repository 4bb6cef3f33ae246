/*
 * hwsetup.c: cm-hwsetup, the HSM utility.  It prepares keys on PKCS#11
 * tokens outside the CMDB: key pairs and secret keys, PKCS#10 requests
 * signed on the token, certificates installed beside their keys, and
 * listings.  Options are the product's: single-dash words.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

struct hw {
	const char	*libname;
	const char	*token;
	const char	*slot;
	const char	*pin;		/* -pin: on the command line */
	const char	*id;
	const char	*label;
	const char	*action;
	const char	*arg;
	const char	*keyusage;
	const char	*out;
	const char	*conf;
	int		 sign_only;
	struct cli	 cli;
};

static void
usage(FILE *f)
{
	fprintf(f, "usage: cm-hwsetup [-c FILE] [-libname MODULE] "
	    "(-token LABEL | -slot N)\n"
	    "                  [-pin PIN | -pinfile FILE] [-id ID] "
	    "[-label LABEL] ACTION\n"
	    "       ACTION: -list | -genrsa BITS [-sign] | -genec CURVE |\n"
	    "               -genkey AES-256|AES-128|DES3 |\n"
	    "               -genreq DN [-keyusage LIST] [-out FILE] | "
	    "-install FILE\n"
	    "       cm-hwsetup [-libname MODULE] -list\n"
	    "       cm-hwsetup -h | --help | -V | --version\n");
}

/* The engine asks for a token's PIN: -pin, else -pinfile, else the tty. */
static int
hw_secret(void *arg, int kind, const char *prompt, int confirm, char *buf,
    size_t len)
{
	struct hw *hw = arg;

	if (kind == CM_SECRET_TOKEN && hw->pin != NULL) {
		if (strlen(hw->pin) >= len)
			return CM_ERR_INVAL;
		memcpy(buf, hw->pin, strlen(hw->pin) + 1);
		return 0;
	}
	return cli_get_secret(&hw->cli, kind, prompt, confirm, buf, len);
}

/* Append s to the URI, percent-encoding all but unreserved characters. */
static void
uri_add(char *uri, size_t len, const char *attr, const char *s, int hex)
{
	size_t n = strlen(uri);
	const unsigned char *p = (const unsigned char *)s;

	n += (size_t)snprintf(uri + n, len - n, "%s%s=",
	    uri[n - 1] == ':' ? "" : ";", attr);
	if (n >= len - 4) {
		uri[len - 1] = '\0';
		return;
	}
	for (; *p != '\0' && n + 4 < len; p++) {
		if (hex) {
			if (p[1] == '\0')
				break;
			n += (size_t)snprintf(uri + n, len - n, "%%%c%c", p[0],
			    p[1]);
			p++;
		} else if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' &&
		    *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		    strchr("-._~", *p) != NULL)
			uri[n++] = (char)*p;
		else
			n += (size_t)snprintf(uri + n, len - n, "%%%02X", *p);
	}
	uri[n] = '\0';
}

static int
is_hex(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n % 2 == 0 && n <= 128 &&
	    strspn(s, "0123456789abcdefABCDEF") == n;
}

static int
token_line(void *arg, const struct cm_hw_token *t)
{
	(void)arg;
	if (!t->initialized) {
		printf("Slot %lu\t(not initialized)\t%s\t%s\n", t->slot,
		    t->serial, t->model);
		return 0;
	}
	printf("Slot %lu\t%s\t%s\t%s\t%s%s%s%s\n", t->slot, t->label,
	    t->serial, t->model, t->user_pin_set ? "PIN set" : "no user PIN",
	    t->pin_locked ? ", PIN locked" : t->pin_final_try ?
	    ", PIN final try" : t->pin_count_low ? ", PIN count low" : "",
	    t->so_pin_locked ? ", SO PIN locked" : "",
	    t->pin_pad ? ", PIN pad" : "");
	return 0;
}

static int
object_line(void *arg, const struct cm_hw_object *o)
{
	(void)arg;
	printf("%s\t%s\t%s\t%s", o->kind, o->id, o->label, o->type);
	if (o->sensitive >= 0)
		printf("\t%s, %s", o->sensitive ? "sensitive" : "not sensitive",
		    o->never_extractable == 1 ? "never extractable" :
		    o->extractable == 0 ? "not extractable" :
		    o->extractable == 1 ? "extractable" :
		    "extractable unknown");
	if (o->subject != NULL)
		printf("\t%s", o->subject);
	putchar('\n');
	return 0;
}

/* One option with a value: argv[*i] is the option, argv[*i + 1] it. */
static int
value(int argc, char **argv, int *i, const char **v)
{
	if (*i + 1 >= argc)
		return cli_usage_error("%s needs a value", argv[*i]);
	*v = argv[++*i];
	return 0;
}

static int
parse(struct hw *hw, int argc, char **argv)
{
	static const char *const actions[] = { "-list", "-genrsa", "-genec",
	    "-genkey", "-genreq", "-install", NULL };
	const char *o;
	size_t k;
	int i, rc;

	for (i = 1; i < argc; i++) {
		o = argv[i];
		for (k = 0; actions[k] != NULL; k++)
			if (strcmp(o, actions[k]) == 0)
				break;
		if (actions[k] != NULL) {
			if (hw->action != NULL)
				return cli_usage_error("%s and %s: one action "
				    "at a time", hw->action, o);
			hw->action = o;
			if (k > 0 && (rc = value(argc, argv, &i, &hw->arg)) != 0)
				return rc;
			continue;
		}
		if (strcmp(o, "-sign") == 0) {
			hw->sign_only = 1;
			continue;
		}
		rc = 0;
		if (strcmp(o, "-libname") == 0)
			rc = value(argc, argv, &i, &hw->libname);
		else if (strcmp(o, "-token") == 0)
			rc = value(argc, argv, &i, &hw->token);
		else if (strcmp(o, "-slot") == 0)
			rc = value(argc, argv, &i, &hw->slot);
		else if (strcmp(o, "-pin") == 0) {
			/* Kept off the process list from here on. */
			if ((rc = value(argc, argv, &i, &hw->pin)) == 0) {
				if ((hw->pin = strdup(hw->pin)) == NULL)
					return 1;
				explicit_bzero(argv[i], strlen(argv[i]));
			}
		}
		else if (strcmp(o, "-pinfile") == 0)
			rc = value(argc, argv, &i, &hw->cli.token_pin_file);
		else if (strcmp(o, "-id") == 0)
			rc = value(argc, argv, &i, &hw->id);
		else if (strcmp(o, "-label") == 0)
			rc = value(argc, argv, &i, &hw->label);
		else if (strcmp(o, "-keyusage") == 0)
			rc = value(argc, argv, &i, &hw->keyusage);
		else if (strcmp(o, "-out") == 0)
			rc = value(argc, argv, &i, &hw->out);
		else if (strcmp(o, "-c") == 0)
			rc = value(argc, argv, &i, &hw->conf);
		else
			return cli_usage_error("unknown option \"%s\"", o);
		if (rc != 0)
			return rc;
	}
	if (hw->action == NULL)
		return cli_usage_error("an action is required: -list, -genrsa, "
		    "-genec, -genkey, -genreq or -install");
	if (hw->token != NULL && hw->slot != NULL)
		return cli_usage_error("-token and -slot: name the token once");
	if (strcmp(hw->action, "-list") != 0 && hw->token == NULL &&
	    hw->slot == NULL)
		return cli_usage_error("%s: name the token with -token LABEL or "
		    "-slot N", hw->action);
	if (hw->slot != NULL && strspn(hw->slot, "0123456789") !=
	    strlen(hw->slot))
		return cli_usage_error("-slot \"%s\": a slot number", hw->slot);
	if (hw->id != NULL && !is_hex(hw->id))
		return cli_usage_error("-id \"%s\": an even number of hex "
		    "digits, at most 128", hw->id);
	if (hw->pin != NULL && hw->cli.token_pin_file != NULL)
		return cli_usage_error("-pin and -pinfile: give the PIN once");
	if (hw->sign_only && strcmp(hw->action, "-genrsa") != 0)
		return cli_usage_error("-sign goes with -genrsa");
	if ((hw->keyusage != NULL || hw->out != NULL) &&
	    strcmp(hw->action, "-genreq") != 0)
		return cli_usage_error("-keyusage and -out go with -genreq");
	if (strcmp(hw->action, "-list") != 0 &&
	    strcmp(hw->action, "-install") != 0 && hw->id == NULL)
		return cli_usage_error("%s: -id ID is required", hw->action);
	return 0;
}

static int
run(struct hw *hw)
{
	struct cli *cli = &hw->cli;
	struct cli_out out;
	char uri[1024], type[64];
	unsigned char *der = NULL, *pem = NULL, *buf = NULL;
	size_t derlen = 0, pemlen = 0, len = 0;
	long bits;
	int rc;

	snprintf(uri, sizeof(uri), "pkcs11:");
	if (hw->token != NULL)
		uri_add(uri, sizeof(uri), "token", hw->token, 0);
	if (hw->slot != NULL)
		uri_add(uri, sizeof(uri), "slot-id", hw->slot, 0);
	if (hw->id != NULL)
		uri_add(uri, sizeof(uri), "id", hw->id, 1);
	if (hw->label != NULL)
		uri_add(uri, sizeof(uri), "object", hw->label, 0);
	if (hw->libname != NULL)
		uri_add(uri, sizeof(uri), "module-path", hw->libname, 0);

	if (strcmp(hw->action, "-list") == 0) {
		if (hw->token == NULL && hw->slot == NULL)
			rc = cm_hw_tokens(cli->ctx, hw->libname, token_line,
			    NULL);
		else
			rc = cm_hw_objects(cli->ctx, uri, object_line, NULL);
		return rc != 0 ? cli_fail(cli, rc) : 0;
	}
	if (strcmp(hw->action, "-genrsa") == 0) {
		if (cli_parse_int("-genrsa", hw->arg, 2048, 8192,
		    &bits) != 0)
			return EXIT_USAGE;
		snprintf(type, sizeof(type), "rsa:%ld", bits);
		rc = cm_hw_keygen(cli->ctx, uri, type, hw->sign_only ? "sign" :
		    "sign,decrypt");
	} else if (strcmp(hw->action, "-genec") == 0) {
		snprintf(type, sizeof(type), "ec:%s", hw->arg);
		rc = cm_hw_keygen(cli->ctx, uri, type, "sign");
	} else if (strcmp(hw->action, "-genkey") == 0) {
		if (strcasecmp(hw->arg, "AES-256") == 0)
			rc = cm_hw_keygen(cli->ctx, uri, "aes-256", NULL);
		else if (strcasecmp(hw->arg, "AES-128") == 0)
			rc = cm_hw_keygen(cli->ctx, uri, "aes-128", NULL);
		else if (strcasecmp(hw->arg, "DES3") == 0)
			rc = cm_hw_keygen(cli->ctx, uri, "des3", NULL);
		else
			return cli_usage_error("-genkey \"%s\": AES-256, "
			    "AES-128 or DES3", hw->arg);
	} else if (strcmp(hw->action, "-genreq") == 0) {
		if (hw->out != NULL && cli_out_open(cli, hw->out, &out) != 0)
			return 1;
		rc = cm_hw_request(cli->ctx, uri, hw->arg, hw->keyusage, &der,
		    &derlen);
		if (rc == 0)
			rc = cm_pem_encode(cli->ctx, "CERTIFICATE REQUEST", der,
			    derlen, &pem, &pemlen);
		cm_free(der);
		if (rc != 0) {
			if (hw->out != NULL)
				cli_out_abort(&out);
			return cli_fail(cli, rc);
		}
		rc = hw->out != NULL ? cli_out_commit(cli, &out, pem, pemlen) :
		    cli_write_stdout(pem, pemlen);
		cm_free(pem);
		return rc == 0 ? 0 : 1;
	} else {
		if ((rc = cm_file_read(cli->ctx, hw->arg, &buf, &len)) == 0)
			rc = cm_hw_install(cli->ctx, uri, buf, len);
		cm_free(buf);
	}
	if (rc != 0)
		return cli_fail(cli, rc);
	if (!cli->quiet)
		fprintf(stderr, "cm-hwsetup: %s done\n", hw->action + 1);
	return 0;
}

int
main(int argc, char *argv[])
{
	struct hw hw;
	struct cm_ui_ops ui;
	char *db = NULL;
	int i, rc, status;

	cli_prog = "cm-hwsetup";
	memset(&hw, 0, sizeof(hw));
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") ==
		    0) {
			usage(stdout);
			return 0;
		}
		if (strcmp(argv[i], "-V") == 0 || strcmp(argv[i],
		    "--version") == 0) {
			printf("cm-hwsetup (opencm) %s\n", PACKAGE_VERSION);
			return 0;
		}
	}
	if ((status = parse(&hw, argc, argv)) != 0)
		return status;
	if ((rc = cm_ctx_new(&hw.cli.ctx)) != 0) {
		fprintf(stderr, "cm-hwsetup: %s\n", cm_strerror(rc));
		return 1;
	}
	ui.get_secret = hw_secret;
	ui.arg = &hw;
	cm_ctx_set_ui(hw.cli.ctx, &ui);
	/* cm.conf names the modules when -libname does not. */
	if ((rc = cm_ctx_setup(hw.cli.ctx, hw.conf, NULL, &db)) != 0)
		status = cli_fail(&hw.cli, rc);
	else
		status = run(&hw);
	free(db);
	cm_ctx_free(hw.cli.ctx);
	if (hw.pin != NULL) {
		explicit_bzero((char *)hw.pin, strlen(hw.pin));
		free((char *)hw.pin);
	}
	return status;
}
