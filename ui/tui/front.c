/*
 * front.c: what cm-awb and cm-ra share above the widgets: start-up
 * (options, cm.conf, the CMDB), officer login, the header, lists of names
 * for choice fields, and the cmctl command shown on the status line.
 */
#include "config.h"

#include <errno.h>
#include <time.h>
#include <fcntl.h>
#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tui.h"

/* Append an option and its (quoted) value; nothing when value is empty. */
void
tui_cmd_add(struct tui_cmd *c, const char *opt, const char *value)
{
	char *q;
	size_t n = strlen(c->buf);

	if (value == NULL || *value == '\0')
		return;
	if ((q = tui_shell_quote(value)) == NULL)
		return;
	snprintf(c->buf + n, sizeof(c->buf) - n, "%s%s%s%s", n > 0 ? " " : "",
	    opt != NULL ? opt : "", opt != NULL ? " " : "", q);
	free(q);
}

/* Append words as they are. */
void
tui_cmd_word(struct tui_cmd *c, const char *word)
{
	size_t n = strlen(c->buf);

	snprintf(c->buf + n, sizeof(c->buf) - n, "%s%s", n > 0 ? " " : "",
	    word);
}

void
tui_names_free(struct tui_names *nm)
{
	size_t i;

	for (i = 0; i < nm->n; i++)
		free(nm->v[i]);
	free(nm->v);
	memset(nm, 0, sizeof(*nm));
}

/* Add a name; the list stays NULL-terminated for choice fields. */
int
tui_names_add(struct tui_names *nm, const char *name)
{
	char **nv;

	if ((nv = reallocarray(nm->v, nm->n + 2, sizeof(*nv))) == NULL)
		return CM_ERR_NOMEM;
	nm->v = nv;
	if ((nm->v[nm->n] = strdup(name)) == NULL)
		return CM_ERR_NOMEM;
	nm->n++;
	nm->v[nm->n] = NULL;
	return 0;
}

static int
key_name(void *arg, const struct cm_key_info *ki)
{
	return strcmp(ki->state, "in use") == 0 ? tui_names_add(arg,
	    ki->name) : 0;
}

static int
ca_name(void *arg, const struct cm_ca_info *ci)
{
	return strcmp(ci->state, "active") == 0 ? tui_names_add(arg,
	    ci->name) : 0;
}

static int
proc_name(void *arg, const struct cm_cert_procedure_info *pi)
{
	return tui_names_add(arg, pi->name);
}

static int
tproc_p12_name(void *arg, const struct cm_token_procedure_info *pi)
{
	return strcmp(pi->storage, "pkcs12") == 0 ? tui_names_add(arg,
	    pi->name) : 0;
}

static int
tproc_card_name(void *arg, const struct cm_token_procedure_info *pi)
{
	return strcmp(pi->storage, "smartcard") == 0 ? tui_names_add(arg,
	    pi->name) : 0;
}

static int
profile_name(void *arg, const struct cm_officer_profile_info *pi)
{
	return tui_names_add(arg, pi->name);
}

/*
 * The names a choice field offers, with first (when not NULL) in front:
 * keys in use, active CAs, certificate procedures, the token procedures
 * that make soft tokens, officer profiles.  The list is NULL-terminated,
 * also when empty.
 */
int
tui_names(struct cm_ctx *ctx, enum tui_names_kind kind, const char *first,
    struct tui_names *nm)
{
	int rc = 0;

	memset(nm, 0, sizeof(*nm));
	if (first != NULL && (rc = tui_names_add(nm, first)) != 0)
		return rc;
	switch (kind) {
	case TUI_N_KEYS:
		rc = cm_key_list(ctx, NULL, NULL, key_name, nm);
		break;
	case TUI_N_CAS:
		rc = cm_ca_list(ctx, NULL, ca_name, nm);
		break;
	case TUI_N_PROCEDURES:
		rc = cm_cert_procedure_list(ctx, NULL, proc_name, nm);
		break;
	case TUI_N_SOFT_PROCEDURES:
		rc = cm_token_procedure_list(ctx, NULL, tproc_p12_name, nm);
		break;
	case TUI_N_CARD_PROCEDURES:
		rc = cm_token_procedure_list(ctx, NULL, tproc_card_name, nm);
		break;
	case TUI_N_PROFILES:
		rc = cm_officer_profile_list(ctx, NULL, profile_name, nm);
		break;
	}
	if (rc == 0 && nm->v == NULL && (nm->v = calloc(1,
	    sizeof(*nm->v))) == NULL)
		rc = CM_ERR_NOMEM;
	if (rc != 0)
		tui_names_free(nm);
	return rc;
}

struct prof {
	char	profile[160];
	char	perms[160];
};

static int
prof_cb(void *arg, const struct cm_officer_info *oi)
{
	struct prof *p = arg;

	snprintf(p->profile, sizeof(p->profile), "%s", oi->profile);
	snprintf(p->perms, sizeof(p->perms), "%s", oi->permissions);
	return 0;
}

/* The header: the CMDB, and who is logged in with which profile. */
void
tui_header_update(struct tui *t)
{
	struct cm_ctx *ctx = tui_ctx(t);
	struct prof p;
	const char *name;
	char who[400] = "";
	size_t i, n;
	int setup = 0;

	for (i = 0; (name = cm_officer_session(ctx, i)) != NULL; i++) {
		memset(&p, 0, sizeof(p));
		(void)cm_officer_list(ctx, name, prof_cb, &p);
		n = strlen(who);
		snprintf(who + n, sizeof(who) - n, "%s%s (%s)", i > 0 ?
		    ", " : "Officer ", name, p.profile);
	}
	if (who[0] == '\0') {
		if (cm_officer_setup_mode(ctx, &setup) == 0 && setup)
			snprintf(who, sizeof(who), "Setup mode: no officer "
			    "needed yet");
		else
			snprintf(who, sizeof(who), "No officer logged in");
	}
	tui_header(t, "| %s | %s", who, cm_db_path(ctx));
}

/*
 * The login dialog: the officer's token (a PKCS#12 file, or a smart card
 * named by a PKCS#11 URI) and its PIN in a masked field.  A refused login
 * says why on the status line and asks
 * again.  Returns the logged-in officer's name (in the context) or NULL
 * when the officer pressed Esc.
 */
const char *
tui_login(struct tui *t, const char *title, const char *token)
{
	struct cm_ctx *ctx = tui_ctx(t);
	struct tui_field f[3];
	unsigned char *buf = NULL;
	size_t len, i;
	int rc;

	memset(f, 0, sizeof(f));
	f[0].label = "Officer token";
	f[0].kind = TUI_TEXT;
	f[0].required = 1;
	f[0].help = "The officer's PKCS#12 file, or smart card: "
	    "pkcs11:token=LABEL";
	if (token != NULL)
		snprintf(f[0].value, sizeof(f[0].value), "%s", token);
	f[1].label = "PIN";
	f[1].kind = TUI_SECRET;
	f[1].required = 1;
	f[1].help = "The PIN of the token; it is not shown";
	for (;;) {
		if (!tui_form(t, title, f, 2))
			break;
		/* A smart card (a PKCS#11 URI), or a PKCS#12 file. */
		len = 0;
		rc = strncmp(f[0].value, "pkcs11:", 7) == 0 ? 0 :
		    cm_file_read(ctx, f[0].value, &buf, &len);
		if (rc == 0) {
			tui_set_secret(t, f[1].value);
			rc = cm_officer_login(ctx, f[0].value, buf, len);
			tui_set_secret(t, NULL);
			cm_free(buf);
			buf = NULL;
		}
		tui_form_wipe(f, 2);
		if (rc == 0) {
			for (i = 0; cm_officer_session(ctx, i + 1) != NULL; i++)
				;
			tui_header_update(t);
			tui_refresh_all(t);	/* what the officer sees */
			tui_status(t, "Logged in from %s", f[0].value);
			return cm_officer_session(ctx, i);
		}
		tui_error(t, rc);
	}
	tui_form_wipe(f, 2);
	return NULL;
}

/*
 * The session of cm-awb and cm-ra: an officer logs in (in setup mode Esc
 * goes on without one; else Esc quits), then the screens run.  token fills
 * in the login.  Returns 0, or a CM_ERR_* with the message in the context.
 */
int
tui_session(struct tui *t, const char *token)
{
	int setup, rc;

	tui_header_update(t);
	if ((rc = cm_officer_setup_mode(tui_ctx(t), &setup)) != 0)
		return rc;
	if (tui_login(t, setup ? "Log in (Esc: setup mode, no officer yet)" :
	    "Log in", token) == NULL && !setup)
		return 0;
	tui_run(t);
	return 0;
}

static void
usage(FILE *f, const char *prog)
{
	fprintf(f, "usage: %s [-c cm.conf] [-d CMDB] [--officer FILE|URI]\n"
	    "       %s -h | --help | -V | --version\n", prog, prog);
}

/*
 * Options and set-up common to cm-awb and cm-ra.  Returns 0 with the
 * context, the CMDB path (cm_free) and the --officer token, a positive
 * exit status to exit with, or -1 to exit 0 (after --help).
 */
int
tui_options(const char *prog, int argc, char **argv, struct cm_ctx **ctx,
    char **db, const char **officer)
{
	static const struct option opts[] = {
		{ "officer",	required_argument,	NULL, 'O' },
		{ "help",	no_argument,		NULL, 'h' },
		{ "version",	no_argument,		NULL, 'V' },
		{ NULL,		0,			NULL, 0 }
	};
	const char *conf = NULL, *dbopt = NULL;
	struct passwd *pw;
	char actor[300];
	int ch, rc;

	*ctx = NULL;
	*db = NULL;
	*officer = NULL;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "c:d:hV", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			conf = optarg;
			break;
		case 'd':
			dbopt = optarg;
			break;
		case 'O':
			*officer = optarg;
			break;
		case 'h':
			usage(stdout, prog);
			return -1;
		case 'V':
			printf("%s (opencm) %s\n", prog, PACKAGE_VERSION);
			return -1;
		default:
			fprintf(stderr, "%s: unknown option or missing "
			    "argument \"%s\"\n", prog, argv[optind - 1]);
			usage(stderr, prog);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "%s: no arguments are taken: \"%s\"\n", prog,
		    argv[optind]);
		usage(stderr, prog);
		return 2;
	}
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		fprintf(stderr, "%s: needs a terminal (cmctl(8) does the same "
		    "from scripts)\n", prog);
		return 2;
	}
	if (cm_ctx_new(ctx) != 0) {
		fprintf(stderr, "%s: out of memory\n", prog);
		return 1;
	}
	pw = getpwuid(getuid());
	snprintf(actor, sizeof(actor), "%s:%s", prog, pw != NULL ?
	    pw->pw_name : "?");
	if ((rc = cm_ctx_set_actor(*ctx, actor)) != 0 ||
	    (rc = cm_ctx_setup(*ctx, conf, dbopt, db)) != 0) {
		fprintf(stderr, "%s: %s\n", prog, cm_ctx_errmsg(*ctx));
		cm_ctx_free(*ctx);
		*ctx = NULL;
		return 1;
	}
	return 0;
}

/*
 * Write a new file: never over an existing one (O_EXCL), 0600 when private;
 * a file that could not be written whole is removed.  Returns 0, or -1
 * with the reason on the status line.
 */
int
tui_save(struct tui *t, const char *path, const void *data, size_t len,
    int private)
{
	const unsigned char *p = data;
	ssize_t w;
	int fd, e;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, private ?
	    0600 : 0644)) == -1) {
		e = errno;
		tui_status(t, "%s: %s%s", path, strerror(e), e == EEXIST ?
		    " (a file is never written over)" : "");
		tui_status_error(t);
		return -1;
	}
	while (len > 0) {
		if ((w = write(fd, p, len)) <= 0) {
			if (w == -1 && errno == EINTR)
				continue;
			goto fail;
		}
		p += w;
		len -= (size_t)w;
	}
	if (fsync(fd) == -1 || close(fd) == -1) {
		fd = -1;
		goto fail;
	}
	return 0;
fail:
	e = errno;
	if (fd != -1)
		close(fd);
	unlink(path);
	tui_status(t, "%s: %s", path, strerror(e));
	tui_status_error(t);
	return -1;
}

/* Inline validation of a file to be made: it must not exist. */
int
tui_check_new_file(struct tui *t, const char *v, char *err, size_t len)
{
	if (access(v, F_OK) != 0)
		return 0;
	snprintf(err, len, "%s: exists; a file is never written over", v);
	return -1;
}

/*
 * Save data that was issued.  A path that cannot be written is asked for
 * again: what was issued is recorded, and only this copy holds the key.
 * Returns 0, or -1 when the officer gave up.
 */
int
tui_save_retry(struct tui *t, const char *title, char *path, size_t pathlen,
    const void *data, size_t len, int private)
{
	struct tui_field f[1];

	while (tui_save(t, path, data, len, private) != 0) {
		memset(f, 0, sizeof(f));
		f[0].label = "Save to";
		f[0].required = 1;
		f[0].check = tui_check_new_file;
		f[0].help = "Another file: the first could not be written";
		if (!tui_form(t, title, f, 1))
			return -1;
		snprintf(path, pathlen, "%s", f[0].value);
	}
	return 0;
}

/* Inline validation of a DN field, by the engine's own parser. */
int
tui_check_dn(struct tui *t, const char *v, char *err, size_t len)
{
	if (cm_dn_check(tui_ctx(t), v) == 0)
		return 0;
	snprintf(err, len, "%s", cm_ctx_errmsg(tui_ctx(t)));
	return -1;
}

int
tui_check_duration(struct tui *t, const char *v, char *err, size_t len)
{
	time_t out;

	if (cm_duration_parse(tui_ctx(t), "duration", v, time(NULL), &out) ==
	    0)
		return 0;
	snprintf(err, len, "%s", cm_ctx_errmsg(tui_ctx(t)));
	return -1;
}

int
tui_check_int(struct tui *t, const char *v, char *err, size_t len)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(v, &end, 10);
	if (errno == 0 && *end == '\0' && end != v && n >= -1 && n <= 100)
		return 0;
	snprintf(err, len, "\"%s\": a number from -1 (none) to 100", v);
	return -1;
}

int
tui_check_name(struct tui *t, const char *v, char *err, size_t len)
{
	if (cm_name_check(tui_ctx(t), "name", v) == 0)
		return 0;
	snprintf(err, len, "%s", cm_ctx_errmsg(tui_ctx(t)));
	return -1;
}

/* Inline validation of a subjectAltName list. */
int
tui_check_san(struct tui *t, const char *v, char *err, size_t len)
{
	if (cm_san_check(tui_ctx(t), v) == 0)
		return 0;
	snprintf(err, len, "%s", cm_ctx_errmsg(tui_ctx(t)));
	return -1;
}

/* An action: log out, and log in as another officer. */
void
tui_relogin(struct tui *t, struct tui_view *v, const struct tui_row *row)
{
	cm_officer_logout(tui_ctx(t), NULL);
	tui_header_update(t);
	if (tui_login(t, "Log in", NULL) == NULL)
		tui_status(t, "No officer logged in");
	tui_refresh_all(t);
}

static int
procedure_row(void *arg, const struct cm_cert_procedure_info *pi)
{
	return tui_rows_add(arg, pi->id, pi->name, "%-22.22s %-14.14s %-12s "
	    "%-8s %s", pi->name, pi->ca, pi->format, pi->validity, pi->state);
}

/* The fetch of a view of the certificate procedures (not paged). */
int
tui_procedures_fetch(struct tui *t, struct tui_view *v,
    const struct tui_row *after, int back, size_t n, struct tui_rows *out)
{
	if (after != NULL)
		return 0;
	return cm_cert_procedure_list(tui_ctx(t), NULL, procedure_row, out);
}

static int
procedure_text(void *arg, const struct cm_cert_procedure_info *pi)
{
	tui_text_add(arg, "Name:          %s    (%s)", pi->name, pi->state);
	tui_text_add(arg, "Issuing CA:    %s", pi->ca);
	tui_text_add(arg, "Format:        %s", pi->format);
	tui_text_add(arg, "Key usage:     %s", pi->key_usage);
	tui_text_add(arg, "Extended KU:   %s", pi->eku != NULL ? pi->eku :
	    "-");
	tui_text_add(arg, "Validity:      %s   digest %s   chain %s",
	    pi->validity, pi->digest, pi->chain);
	tui_text_add(arg, "Allowed keys:  %s", pi->allow_keys);
	return tui_text_add(arg, "Fields:        %s", pi->fields != NULL &&
	    pi->fields[0] ? pi->fields : "-");
}

/* The detail of a certificate procedure. */
int
tui_procedures_detail(struct tui *t, struct tui_view *v,
    const struct tui_row *r, char **text)
{
	return cm_cert_procedure_list(tui_ctx(t), r->key, procedure_text,
	    text);
}
