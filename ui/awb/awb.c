/*
 * awb.c: cm-awb, the Administrator's Workbench: start-up (a new CMDB and
 * its bootstrap when there is none), officer login, how a policy change is
 * signed, and the Tools menu.
 */
#include "config.h"

#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "awb.h"

/*
 * Make a policy change.  Once four-eye control is on and one officer is
 * logged in, ask how the change is signed: a second officer logs in now
 * and signs with the first (and is logged out again), or the change waits
 * in Pending changes.  Returns 0 when done or pending, 1 when cancelled,
 * or a CM_ERR_* shown on the status line.
 */
int
awb_submit(struct tui *t, awb_change_fn fn, const void *req,
    const struct tui_cmd *cmd)
{
	static const char *const how[] = {
		"A second officer signs now (token and PIN)",
		"Pending changes: a second officer signs later",
		"Cancel: change nothing",
		NULL
	};
	struct cm_ctx *ctx = tui_ctx(t);
	const char *second = NULL;
	char name[160] = "";
	int64_t pending;
	int setup, rc, c;

	if ((rc = cm_officer_setup_mode(ctx, &setup)) != 0)
		return tui_error(t, rc);
	if (!setup && cm_officer_session(ctx, 0) != NULL &&
	    cm_officer_session(ctx, 1) == NULL) {
		c = tui_menu(t, "Who signs the change?", how, 3, 0);
		if (c == 0) {
			second = tui_login(t, "Second officer: log in to sign",
			    NULL);
			if (second == NULL) {
				tui_status(t, "Not signed: nothing changed");
				return 1;
			}
			snprintf(name, sizeof(name), "%s", second);
		} else if (c != 1) {
			tui_status(t, "Cancelled: nothing changed");
			return 1;
		}
	}
	rc = fn(ctx, req);
	if (name[0] != '\0') {
		cm_officer_logout(ctx, name);
		tui_header_update(t);
	}
	if (rc != 0)
		return tui_error(t, rc);
	if ((pending = cm_change_pending(ctx)) != 0)
		tui_status(t, "Change %lld is pending: a second officer signs "
		    "it in Pending changes ($ cmctl change sign %lld)",
		    (long long)pending, (long long)pending);
	else if (cmd != NULL)
		tui_command(t, "%s", cmd->buf);
	tui_refresh_all(t);
	return 0;
}

static int
ca_revoke_fn(struct cm_ctx *ctx, const void *arg)
{
	const char * const *a = arg;

	return cm_ca_revoke(ctx, a[0], a[1]);
}

static const char *const reasons[] = {
	"unspecified", "keyCompromise", "cACompromise", "affiliationChanged",
	"superseded", "cessationOfOperation", "privilegeWithdrawn", NULL
};

static void
tool_revoke_ca(struct tui *t)
{
	struct tui_field f[2];
	struct tui_names cas;
	struct tui_cmd cmd;
	const char *a[2];
	int rc;

	if ((rc = tui_names(tui_ctx(t), TUI_N_CAS, NULL, &cas)) != 0) {
		tui_error(t, rc);
		return;
	}
	memset(f, 0, sizeof(f));
	f[0].label = "CA";
	f[0].kind = TUI_CHOICE;
	f[0].choices = (const char * const *)cas.v;
	f[0].required = 1;
	f[0].help = "The CA to revoke: it signs nothing more";
	f[1].label = "Reason";
	f[1].kind = TUI_CHOICE;
	f[1].choices = reasons;
	f[1].help = "The CRL reason on its issuer's CRL";
	while (tui_form(t, "Revoke CA", f, 2)) {
		if (!tui_confirm(t, "Revoke CA", "Revoke the CA? This cannot "
		    "be undone."))
			break;
		memset(&cmd, 0, sizeof(cmd));
		tui_cmd_word(&cmd, "ca revoke");
		tui_cmd_add(&cmd, NULL, f[0].value);
		tui_cmd_add(&cmd, "-r", f[1].value);
		a[0] = f[0].value;
		a[1] = f[1].value;
		if (awb_submit(t, ca_revoke_fn, a, &cmd) >= 0)
			break;
	}
	tui_names_free(&cas);
}

static void
tool_crl(struct tui *t)
{
	static const char *const kinds[] = { "full", "delta", NULL };
	struct tui_field f[2];
	struct tui_names cas;
	struct tui_cmd cmd;
	int64_t number;
	int rc;

	if ((rc = tui_names(tui_ctx(t), TUI_N_CAS, NULL, &cas)) != 0) {
		tui_error(t, rc);
		return;
	}
	memset(f, 0, sizeof(f));
	f[0].label = "CA";
	f[0].kind = TUI_CHOICE;
	f[0].choices = (const char * const *)cas.v;
	f[0].required = 1;
	f[1].label = "CRL";
	f[1].kind = TUI_CHOICE;
	f[1].choices = kinds;
	f[1].help = "A delta CRL needs a delta interval on the CA";
	if (tui_form(t, "Issue CRL now", f, 2)) {
		rc = cm_crl_issue(tui_ctx(t), f[0].value,
		    strcmp(f[1].value, "delta") == 0, &number);
		if (rc != 0)
			tui_error(t, rc);
		else {
			memset(&cmd, 0, sizeof(cmd));
			tui_cmd_word(&cmd, "crl issue");
			tui_cmd_add(&cmd, "--ca", f[0].value);
			if (strcmp(f[1].value, "delta") == 0)
				tui_cmd_word(&cmd, "--delta");
			tui_command(t, "%s   (CRL number %lld)", cmd.buf,
			    (long long)number);
			tui_refresh_all(t);
		}
	}
	tui_names_free(&cas);
}

/* Verify the audit log and say what was found, the first bad record too. */
void
awb_verify(struct tui *t)
{
	int64_t count = 0, bad = 0;
	char msg[1200];
	int rc;

	rc = cm_audit_verify(tui_ctx(t), &count, &bad);
	if (rc == 0) {
		snprintf(msg, sizeof(msg), "The audit log verifies: %lld "
		    "records, hash chain, change signatures and checkpoints "
		    "intact.", (long long)count);
		tui_command(t, "audit verify   (ok, %lld records)",
		    (long long)count);
	} else {
		snprintf(msg, sizeof(msg), "The audit log does NOT verify.\n"
		    "First bad record: %lld\n%s", (long long)bad,
		    cm_ctx_errmsg(tui_ctx(t)));
		tui_error(t, rc);
	}
	tui_message(t, "Verify audit log", msg);
}

static void
tool_export(struct tui *t)
{
	struct tui_field f[1];
	unsigned char *doc = NULL;
	size_t len;
	int rc;

	memset(f, 0, sizeof(f));
	f[0].label = "File";
	f[0].kind = TUI_TEXT;
	f[0].required = 1;
	f[0].help = "A new file for the policy as XML (cmctl policy import "
	    "reads it)";
	snprintf(f[0].value, sizeof(f[0].value), "policy.xml");
	if (!tui_form(t, "Export policy", f, 1))
		return;
	if ((rc = cm_policy_export(tui_ctx(t), &doc, &len)) != 0) {
		tui_error(t, rc);
		return;
	}
	if (tui_save(t, f[0].value, doc, len, 0) == 0)
		tui_command(t, "policy export -o %s", tui_q(f[0].value));
	cm_free(doc);
}

static void
tool_checkpoint(struct tui *t)
{
	int64_t seq;
	int rc;

	if ((rc = cm_audit_checkpoint(tui_ctx(t), &seq)) != 0)
		tui_error(t, rc);
	else {
		tui_command(t, "audit checkpoint   (record %lld signed)",
		    (long long)seq);
		tui_refresh(t, &awb_view_audit);
	}
}

/* The Tools menu. */
void
awb_tools(struct tui *t, struct tui_view *v, const struct tui_row *row)
{
	static const char *const items[] = {
		"Revoke CA", "Issue CRL now", "Verify audit log",
		"Export policy", "Sign an audit checkpoint", NULL
	};

	switch (tui_menu(t, "Tools", items, 5, 0)) {
	case 0: tool_revoke_ca(t); break;
	case 1: tool_crl(t); break;
	case 2: awb_verify(t); break;
	case 3: tool_export(t); break;
	case 4: tool_checkpoint(t); break;
	default: break;
	}
}

/*
 * There is no CMDB: offer to create it and run the bootstrap (the Boot CA
 * and two bootstrap officers, cm-bootstrap(7)).  The tokens go to a boot
 * kit directory; their PINs are shown once.  Returns 1 with the CMDB open
 * and the first token's path in token, 0 to quit (with err set when the
 * bootstrap failed).
 */
static int
bootstrap_offer(struct tui *t, const char *db, char *token, size_t toklen,
    char *err, size_t errlen)
{
	struct cm_ctx *ctx = tui_ctx(t);
	struct cm_token_issued tok[2];
	struct tui_field f[2];
	char msg[3000], path[2][1100], *dir = NULL, *d;
	int rc, i, ok = 0;

	snprintf(msg, sizeof(msg), "There is no CMDB at\n  %s\n\nCreate it "
	    "and run the bootstrap of a new PKI (cm-bootstrap(7))?\nIt makes "
	    "the Boot CA and two bootstrap officers with PKCS#12\ntokens.", db);
	if (!tui_confirm(t, "New CMDB", msg))
		return 0;
	memset(f, 0, sizeof(f));
	f[0].label = "Organization";
	f[0].kind = TUI_TEXT;
	f[0].required = 1;
	f[0].check = tui_check_dn;
	f[0].help = "The DN the Boot CA and the officers' names end in";
	snprintf(f[0].value, sizeof(f[0].value), "O=opencm");
	f[1].label = "Boot kit directory";
	f[1].kind = TUI_TEXT;
	f[1].required = 1;
	f[1].help = "A new directory for the two bootstrap officer tokens";
	if ((dir = strdup(db)) != NULL) {
		d = dirname(dir);
		snprintf(f[1].value, sizeof(f[1].value), "%s/boot-kit", d);
		free(dir);
	}
	for (;;) {
		if (!tui_form(t, "Bootstrap", f, 2))
			return 0;
		for (i = 0; i < 2; i++)
			snprintf(path[i], sizeof(path[i]), "%s/boot-officer-"
			    "%d.p12", f[1].value, i + 1);
		cm_mkparent(path[0]);
		if (access(path[0], F_OK) == 0 || access(path[1], F_OK) == 0) {
			tui_status(t, "%s: holds a boot kit already; a kit is "
			    "never written over", f[1].value);
			tui_status_error(t);
			continue;
		}
		cm_mkparent(db);
		if ((rc = cm_db_create(ctx, db)) != 0) {
			tui_error(t, rc);
			continue;
		}
		if ((rc = cm_bootstrap(ctx, f[0].value, tok)) != 0) {
			/* The CMDB stays; cmctl bootstrap can run in it. */
			snprintf(err, errlen, "cm-awb: %s: the CMDB %s was "
			    "made, the bootstrap was not", cm_ctx_errmsg(ctx),
			    db);
			return 0;
		}
		break;
	}
	snprintf(msg, sizeof(msg), "The CMDB and the Boot CA are made.\n"
	    "Boot kit: %s\n\n", f[1].value);
	for (i = 0; i < 2; i++) {
		/* Asked again until saved: the bootstrap cannot be redone. */
		if (tui_save_retry(t, "Save the bootstrap officer token",
		    path[i], sizeof(path[i]), tok[i].data, tok[i].len, 1) != 0)
			snprintf(msg + strlen(msg), sizeof(msg) - strlen(msg),
			    "Bootstrap officer %d: NOT SAVED (start again with "
			    "a new CMDB)\n", i + 1);
		else
			snprintf(msg + strlen(msg), sizeof(msg) - strlen(msg),
			    "Bootstrap officer %d: %s\n  PIN: %s\n", i + 1,
			    strncmp(path[i], f[1].value, strlen(f[1].value)) ==
			    0 ? path[i] + strlen(f[1].value) + 1 : path[i],
			    tok[i].pin);
	}
	snprintf(msg + strlen(msg), sizeof(msg) - strlen(msg), "\nNote the "
	    "PINs now: they are shown once and stored nowhere.\nThe two "
	    "bootstrap officers sign every change together.");
	tui_message(t, "Bootstrap officers", msg);
	explicit_bzero(msg, sizeof(msg));
	for (i = 0; i < 2; i++)
		cm_token_issued_clear(&tok[i]);
	tui_command(t, "init && cmctl bootstrap --kit %s --org %s",
	    tui_q(f[1].value), tui_q(f[0].value));
	snprintf(token, toklen, "%s", path[0]);
	ok = 1;
	return ok;
}

static const struct tui_action global[] = {
	{ 't', "t", "Tools", "Tools: revoke CA, issue CRL now, verify the "
	    "audit log, export policy, audit checkpoint", 0, awb_tools },
	{ 'L', "L", "Login", "log out, and log in as another officer", 0,
	    tui_relogin },
	{ 0, NULL, NULL, NULL, 0, NULL }
};

int
main(int argc, char *argv[])
{
	struct tui_app app;
	struct cm_ctx *ctx;
	struct tui *t = NULL;
	const char *officer;
	char *db = NULL, token[1200] = "", err[1100] = "";
	int status, rc;

	if ((status = tui_options("cm-awb", argc, argv, &ctx, &db,
	    &officer)) != 0)
		return status < 0 ? 0 : status;
	memset(&app, 0, sizeof(app));
	app.name = "cm-awb";
	app.title = "Administrator's Workbench";
	app.views = awb_views;
	app.nviews = awb_nviews;
	app.global = global;
	if ((rc = tui_init(&t, ctx, &app)) != 0) {
		fprintf(stderr, "cm-awb: cannot start the terminal\n");
		status = 1;
		goto out;
	}
	if (officer != NULL)
		snprintf(token, sizeof(token), "%s", officer);
	tui_header(t, "| %s", db);
	if (access(db, F_OK) != 0) {
		if (!bootstrap_offer(t, db, token, sizeof(token), err,
		    sizeof(err))) {
			status = err[0] != '\0';
			goto out;
		}
	} else if ((rc = cm_db_open(ctx, db)) != 0) {
		snprintf(err, sizeof(err), "cm-awb: %s", cm_ctx_errmsg(ctx));
		status = 1;
		goto out;
	}
	if (tui_session(t, token[0] != '\0' ? token : NULL) != 0) {
		snprintf(err, sizeof(err), "cm-awb: %s", cm_ctx_errmsg(ctx));
		status = 1;
	}
out:
	tui_end(t);
	if (err[0] != '\0')
		fprintf(stderr, "%s\n", err);
	cm_ctx_free(ctx);
	cm_free(db);
	return status;
}
