/*
 * ra.c: cm-ra, the Registration Authority: soft tokens, PKCS#10 issuance,
 * subjects, certificate search with revoke, hold, release and renew, and
 * the Smart Card tab, the card station.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tui.h"

static int
subject_found(void *arg, const struct cm_subject_info *si)
{
	return 0;
}

static int
check_subject(struct tui *t, const char *v, char *err, size_t len)
{
	if (cm_subject_list(tui_ctx(t), v, subject_found, NULL) == 0)
		return 0;
	snprintf(err, len, "%s", cm_ctx_errmsg(tui_ctx(t)));
	return -1;
}

static int
check_file(struct tui *t, const char *v, char *err, size_t len)
{
	if (access(v, R_OK) == 0)
		return 0;
	snprintf(err, len, "%s: cannot be read", v);
	return -1;
}

static int
check_days(struct tui *t, const char *v, char *err, size_t len)
{
	char *end;
	long n = strtol(v, &end, 10);

	if (*end == '\0' && n >= 0 && n <= 36500)
		return 0;
	snprintf(err, len, "\"%s\": a number of days", v);
	return -1;
}

static const char *const reasons[] = {
	"unspecified", "keyCompromise", "affiliationChanged", "superseded",
	"cessationOfOperation", "privilegeWithdrawn", NULL
};

/* Tab 1: Soft Token */

static int
token_row(void *arg, const struct cm_token_info *ti)
{
	char c[32], id[24];

	snprintf(id, sizeof(id), "%lld", (long long)ti->id);
	return tui_rows_add(arg, ti->id, id, "%-6lld %-18.18s %-9s %-9s %-16s "
	    "%s", (long long)ti->id, ti->procedure, ti->storage, ti->state,
	    tui_when(ti->created, c, sizeof(c)), ti->subject);
}

static int
tokens_fetch(struct tui *t, struct tui_view *v, const struct tui_row *after,
    int back, size_t n, struct tui_rows *out)
{
	struct cm_page pg = { after != NULL ? after->id : 0, back, (int)n };

	return cm_token_page(tui_ctx(t), &pg, token_row, out);
}

static int
token_text(void *arg, const struct cm_token_info *ti)
{
	char c[32];

	tui_text_add(arg, "Token %lld: %s, %s, %s", (long long)ti->id,
	    ti->procedure, ti->storage, ti->state);
	tui_text_add(arg, "Subject: %s", ti->subject);
	return tui_text_add(arg, "Issued:  %s", tui_when(ti->created, c,
	    sizeof(c)));
}

static int
token_cert_text(void *arg, const struct cm_cert_info *ci)
{
	char c[32];

	return tui_text_add(arg, "  %s  %-8s to %s  %s", ci->serial,
	    ci->status, tui_when(ci->not_after, c, sizeof(c)), ci->procedure !=
	    NULL ? ci->procedure : "");
}

static int
tokens_detail(struct tui *t, struct tui_view *v, const struct tui_row *r,
    char **text)
{
	int rc;

	if ((rc = cm_token_list(tui_ctx(t), r->id, NULL, token_text,
	    text)) != 0)
		return rc;
	tui_text_add(text, "Certificates:");
	return cm_token_certs(tui_ctx(t), r->id, token_cert_text, text);
}

struct tp_info {
	int	letter;
	int	csr;
};

static int
tp_cb(void *arg, const struct cm_token_procedure_info *pi)
{
	struct tp_info *i = arg;

	i->letter = strcmp(pi->pin_procedure, "letter") == 0;
	i->csr = strcmp(pi->storage, "pkcs10") == 0;
	return 0;
}

/* Issue a soft token (PKCS#12) to a subject; the PIN is shown once. */
static void
token_issue(struct tui *t, const char *subject)
{
	struct tui_field f[4];
	struct tui_names procs;
	struct cm_token_req req;
	struct cm_token_issued tok;
	struct tp_info tp;
	struct tui_cmd cmd;
	char msg[1400], path[600], letter[600], text[1400];
	int rc;

	if ((rc = tui_names(tui_ctx(t), TUI_N_SOFT_PROCEDURES, NULL,
	    &procs)) != 0) {
		tui_error(t, rc);
		return;
	}
	memset(f, 0, sizeof(f));
	f[0].label = "Token procedure";
	f[0].kind = TUI_CHOICE;
	f[0].choices = (const char * const *)procs.v;
	f[0].required = 1;
	f[0].help = "How the token is made: its keys, certificates and PIN";
	f[1].label = "Subject";
	f[1].required = 1;
	f[1].check = check_subject;
	f[1].help = "A registered subject: its ID or DN (Subjects tab)";
	if (subject != NULL)
		snprintf(f[1].value, sizeof(f[1].value), "%s", subject);
	f[2].label = "PKCS#12 file";
	f[2].required = 1;
	f[2].check = tui_check_new_file;
	f[2].help = "A new file for the token (0600)";
	f[3].label = "PIN letter file";
	f[3].check = tui_check_new_file;
	f[3].help = "Only for procedures with PIN letters; else the PIN is "
	    "shown once";
	while (tui_form(t, "Issue soft token", f, 4)) {
		memset(&tp, 0, sizeof(tp));
		if ((rc = cm_token_procedure_list(tui_ctx(t), f[0].value, tp_cb,
		    &tp)) != 0) {
			tui_error(t, rc);
			continue;
		}
		if (tp.csr) {
			tui_status(t, "token procedure \"%s\" stores PKCS#10: "
			    "use the PKCS#10 tab", f[0].value);
			tui_status_error(t);
			continue;
		}
		if (tp.letter && f[3].value[0] == '\0') {
			tui_status(t, "token procedure \"%s\" hands out PIN "
			    "letters: give a PIN letter file", f[0].value);
			tui_status_error(t);
			continue;
		}
		memset(&req, 0, sizeof(req));
		req.procedure = f[0].value;
		req.subject = f[1].value;
		if ((rc = cm_token_issue(tui_ctx(t), &req, &tok)) != 0) {
			tui_error(t, rc);
			continue;
		}
		snprintf(path, sizeof(path), "%s", f[2].value);
		memset(&cmd, 0, sizeof(cmd));
		tui_cmd_word(&cmd, "token issue");
		tui_cmd_add(&cmd, "-P", f[0].value);
		tui_cmd_add(&cmd, "--subject", f[1].value);
		if (tui_save_retry(t, "Save the PKCS#12 token", path,
		    sizeof(path), tok.data, tok.len, 1) != 0) {
			snprintf(msg, sizeof(msg), "Token %lld was issued but "
			    "not saved: it is useless.\nRevoke it: r on the "
			    "token in this list.", (long long)tok.id);
			tui_message(t, "Not saved", msg);
			cm_token_issued_clear(&tok);
			break;
		}
		tui_cmd_add(&cmd, "-o", path);
		if (tp.letter) {
			snprintf(letter, sizeof(letter), "%s", f[3].value);
			snprintf(text, sizeof(text), "Token: %lld\nSubject: "
			    "%s\nPIN: %s\n", (long long)tok.id, tok.subject,
			    tok.pin);
			if (tui_save_retry(t, "Save the PIN letter", letter,
			    sizeof(letter), text, strlen(text), 1) != 0)
				tui_message(t, "PIN letter", "The PIN letter "
				    "was not saved: the token is useless "
				    "without it. Revoke it.");
			explicit_bzero(text, sizeof(text));
			tui_cmd_add(&cmd, "--pin-letter", letter);
			snprintf(msg, sizeof(msg), "Token %lld for\n  %s\n"
			    "saved to %s; its PIN is in the letter %s.",
			    (long long)tok.id, tok.subject, path, letter);
		} else
			snprintf(msg, sizeof(msg), "Token %lld for\n  %s\n"
			    "saved to %s\n\n  PIN: %s\n\nThe PIN is shown this "
			    "once and stored nowhere: hand it to the holder "
			    "now.",
			    (long long)tok.id, tok.subject, path, tok.pin);
		tui_message(t, "Soft token issued", msg);
		explicit_bzero(msg, sizeof(msg));
		cm_token_issued_clear(&tok);
		tui_command(t, "%s", cmd.buf);
		tui_refresh_all(t);
		break;
	}
	tui_form_wipe(f, 4);
	tui_names_free(&procs);
}

static void
token_issue_key(struct tui *t, struct tui_view *v, const struct tui_row *r)
{
	token_issue(t, NULL);
}

static void
token_revoke(struct tui *t, struct tui_view *v, const struct tui_row *r)
{
	struct tui_field f[1];
	int rc;

	memset(f, 0, sizeof(f));
	f[0].label = "Reason";
	f[0].kind = TUI_CHOICE;
	f[0].choices = reasons;
	if (!tui_form(t, "Revoke token (all its certificates)", f, 1))
		return;
	if (!tui_confirm(t, "Revoke token", "Revoke the token and every "
	    "certificate of it?"))
		return;
	if ((rc = cm_token_revoke(tui_ctx(t), r->id, f[0].value)) != 0) {
		tui_error(t, rc);
		return;
	}
	tui_command(t, "token revoke %lld -r %s", (long long)r->id,
	    tui_q(f[0].value));
	tui_refresh_all(t);
}

static const struct tui_action token_actions[] = {
	{ 'i', "i", "Issue", "issue a soft token (PKCS#12) to a subject", 0,
	    token_issue_key },
	{ 'r', "r", "Revoke", "revoke the token: all its certificates", 1,
	    token_revoke },
	{ 0, NULL, NULL, NULL, 0, NULL }
};

static struct tui_view tokens_view = {
	.name = "Soft Token",
	.header = "Id     Procedure          Storage   State     Issued        "
	    "   Subject",
	.paged = 1,
	.fetch = tokens_fetch,
	.detail = tokens_detail,
	.actions = token_actions,
	.empty = "No tokens yet: i issues one",
};

/* Tab 2: PKCS#10 */

/*
 * Issue a certificate from a PKCS#10 request: the officer reviews the
 * subject and SAN that will be issued before anything is signed.
 */
static void
p10_issue(struct tui *t, const char *procedure, const char *subject)
{
	static const char *const fmts[] = { "PEM", "DER", NULL };
	struct tui_field f[6];
	struct tui_names procs;
	struct cm_issue_req req;
	struct cm_issued is;
	struct tui_cmd cmd;
	unsigned char *csr = NULL;
	char *subj = NULL, *san = NULL, msg[2400], path[600];
	size_t len;
	int rc;

	if ((rc = tui_names(tui_ctx(t), TUI_N_PROCEDURES, NULL, &procs)) !=
	    0) {
		tui_error(t, rc);
		return;
	}
	memset(f, 0, sizeof(f));
	f[0].label = "Request file";
	f[0].required = 1;
	f[0].check = check_file;
	f[0].help = "A PKCS#10 request, PEM or DER";
	f[1].label = "Certificate procedure";
	f[1].kind = TUI_CHOICE;
	f[1].choices = (const char * const *)procs.v;
	f[1].required = 1;
	if (procedure != NULL)
		snprintf(f[1].value, sizeof(f[1].value), "%s", procedure);
	f[2].label = "Subject (instead)";
	f[2].check = tui_check_dn;
	f[2].help = "Empty: the request's subject";
	if (subject != NULL)
		snprintf(f[2].value, sizeof(f[2].value), "%s", subject);
	f[3].label = "SAN (added)";
	f[3].check = tui_check_san;
	f[3].help = "DNS:name,IP:address,email:addr,URI:uri";
	f[4].label = "Certificate file";
	f[4].required = 1;
	f[4].check = tui_check_new_file;
	f[5].label = "Encoding";
	f[5].kind = TUI_CHOICE;
	f[5].choices = fmts;
	while (tui_form(t, "Issue from a PKCS#10 request", f, 6)) {
		if ((rc = cm_file_read(tui_ctx(t), f[0].value, &csr,
		    &len)) != 0) {
			tui_error(t, rc);
			continue;
		}
		memset(&req, 0, sizeof(req));
		req.procedure = f[1].value;
		req.csr = csr;
		req.csr_len = len;
		req.csr_name = f[0].value;
		req.subject = f[2].value[0] ? f[2].value : NULL;
		req.san = f[3].value[0] ? f[3].value : NULL;
		req.der = strcmp(f[5].value, "DER") == 0;
		if ((rc = cm_cert_preview(tui_ctx(t), &req, &subj,
		    &san)) != 0) {
			tui_error(t, rc);
			cm_free(csr);
			continue;
		}
		snprintf(msg, sizeof(msg), "Procedure: %s\n\nSubject: %s\n"
		    "SAN:     %s\n\nIssue this certificate?", req.procedure,
		    subj, san != NULL ? san : "(none)");
		cm_free(subj);
		cm_free(san);
		if (!tui_confirm(t, "Review", msg)) {
			cm_free(csr);
			tui_status(t, "Not issued");
			continue;
		}
		rc = cm_cert_issue(tui_ctx(t), &req, &is);
		cm_free(csr);
		if (rc != 0) {
			tui_error(t, rc);
			continue;
		}
		snprintf(path, sizeof(path), "%s", f[4].value);
		memset(&cmd, 0, sizeof(cmd));
		tui_cmd_word(&cmd, "issue");
		tui_cmd_add(&cmd, "-p", req.procedure);
		tui_cmd_add(&cmd, "--csr", f[0].value);
		tui_cmd_add(&cmd, "-s", req.subject);
		tui_cmd_add(&cmd, "--san", req.san);
		if (tui_save_retry(t, "Save the certificate", path,
		    sizeof(path), is.data, is.len, 0) == 0) {
			tui_cmd_add(&cmd, "-o", path);
			if (req.der)
				tui_cmd_word(&cmd, "--der");
			tui_command(t, "%s   (serial %s)", cmd.buf, is.serial);
		} else {
			tui_status(t, "Certificate %s is issued and recorded, "
			    "not saved: the Search tab shows it", is.serial);
		}
		cm_issued_clear(&is);
		tui_refresh_all(t);
		break;
	}
	tui_names_free(&procs);
}

static void
p10_issue_key(struct tui *t, struct tui_view *v, const struct tui_row *r)
{
	p10_issue(t, r != NULL ? r->key : NULL, NULL);
}

static const struct tui_action p10_actions[] = {
	{ 'i', "i", "Issue", "issue from a PKCS#10 request under the chosen "
	    "procedure", 0, p10_issue_key },
	{ TUI_KEY_ENTER, "Enter", NULL, "issue under the procedure of the row",
	    1, p10_issue_key },
	{ 0, NULL, NULL, NULL, 0, NULL }
};

static struct tui_view p10_view = {
	.name = "PKCS#10",
	.header = "Certificate procedure  CA             Format       Validity "
	    "State",
	.fetch = tui_procedures_fetch,
	.detail = tui_procedures_detail,
	.actions = p10_actions,
	.empty = "No certificate procedures (the AWB makes them)",
};

/* Tab 3: Subjects */

static char subject_search[512];

static int
subject_row(void *arg, const struct cm_subject_info *si)
{
	char id[24];

	snprintf(id, sizeof(id), "%lld", (long long)si->id);
	return tui_rows_add(arg, si->id, id, "%-6lld %-28.28s %s",
	    (long long)si->id, si->email != NULL ? si->email : "-", si->dn);
}

static int
subjects_fetch(struct tui *t, struct tui_view *v,
    const struct tui_row *after, int back, size_t n, struct tui_rows *out)
{
	struct cm_page pg = { after != NULL ? after->id : 0, back, (int)n };

	return cm_subject_search(tui_ctx(t), subject_search, &pg, subject_row,
	    out);
}

static int
subject_tok(void *arg, const struct cm_token_info *ti)
{
	return tui_text_add(arg, "  token %lld  %s  %s", (long long)ti->id,
	    ti->procedure, ti->state);
}

static int
subject_text(void *arg, const struct cm_subject_info *si)
{
	char c[32];

	tui_text_add(arg, "Subject %lld: %s", (long long)si->id, si->dn);
	tui_text_add(arg, "Email:   %s", si->email != NULL ? si->email : "-");
	tui_text_add(arg, "SAN:     %s", si->san != NULL ? si->san : "-");
	return tui_text_add(arg, "Since:   %s", tui_when(si->created, c,
	    sizeof(c)));
}

static int
subjects_detail(struct tui *t, struct tui_view *v, const struct tui_row *r,
    char **text)
{
	int rc;

	if ((rc = cm_subject_list(tui_ctx(t), r->key, subject_text,
	    text)) != 0)
		return rc;
	tui_text_add(text, "Tokens:");
	return cm_token_list(tui_ctx(t), 0, r->key, subject_tok, text);
}

static void
subject_register(struct tui *t, struct tui_view *v, const struct tui_row *r)
{
	struct tui_field f[3];
	struct cm_subject_req req;
	struct tui_cmd cmd;
	int64_t id;
	int rc;

	memset(f, 0, sizeof(f));
	f[0].label = "Distinguished name";
	f[0].required = 1;
	f[0].check = tui_check_dn;
	f[0].help = "As C=SE,O=Example,CN=Anna Svensson";
	f[1].label = "Email";
	f[2].label = "SAN";
	f[2].check = tui_check_san;
	f[2].help = "DNS:name,IP:address,email:addr,URI:uri";
	while (tui_form(t, "Register subject", f, 3)) {
		memset(&req, 0, sizeof(req));
		req.dn = f[0].value;
		req.email = f[1].value[0] ? f[1].value : NULL;
		req.san = f[2].value[0] ? f[2].value : NULL;
		if ((rc = cm_subject_register(tui_ctx(t), &req, &id)) != 0) {
			tui_error(t, rc);
			continue;
		}
		memset(&cmd, 0, sizeof(cmd));
		tui_cmd_word(&cmd, "subject register");
		tui_cmd_add(&cmd, "-s", req.dn);
		tui_cmd_add(&cmd, "--email", req.email);
		tui_cmd_add(&cmd, "--san", req.san);
		tui_command(t, "%s   (ID %lld)", cmd.buf, (long long)id);
		tui_refresh(t, v);
		break;
	}
}

static int
subject_fill(void *arg, const struct cm_subject_info *si)
{
	struct tui_field *f = arg;

	snprintf(f[0].value, sizeof(f[0].value), "%s", si->email != NULL ?
	    si->email : "");
	snprintf(f[1].value, sizeof(f[1].value), "%s", si->san != NULL ?
	    si->san : "");
	return 0;
}

static void
subject_edit(struct tui *t, struct tui_view *v, const struct tui_row *r)
{
	struct tui_field f[2];
	struct cm_subject_req req;
	struct tui_cmd cmd;
	int rc;

	memset(f, 0, sizeof(f));
	f[0].label = "Email";
	f[0].help = "Empty: none";
	f[1].label = "SAN";
	f[1].check = tui_check_san;
	f[1].help = "Empty: none.  Issued certificates do not change";
	if ((rc = cm_subject_list(tui_ctx(t), r->key, subject_fill, f)) != 0) {
		tui_error(t, rc);
		return;
	}
	while (tui_form(t, "Edit subject", f, 2)) {
		memset(&req, 0, sizeof(req));
		req.email = f[0].value;
		req.san = f[1].value;
		if ((rc = cm_subject_modify(tui_ctx(t), r->key, &req)) != 0) {
			tui_error(t, rc);
			continue;
		}
		memset(&cmd, 0, sizeof(cmd));
		tui_cmd_word(&cmd, "subject modify");
		tui_cmd_word(&cmd, r->key);
		if (f[0].value[0])
			tui_cmd_add(&cmd, "--email", f[0].value);
		else
			tui_cmd_word(&cmd, "--email ''");
		if (f[1].value[0])
			tui_cmd_add(&cmd, "--san", f[1].value);
		else
			tui_cmd_word(&cmd, "--san ''");
		tui_command(t, "%s", cmd.buf);
		tui_refresh(t, v);
		break;
	}
}

static void
subject_find(struct tui *t, struct tui_view *v, const struct tui_row *r)
{
	struct tui_field f[1];

	memset(f, 0, sizeof(f));
	f[0].label = "DN or email contains";
	f[0].help = "Empty: every subject";
	snprintf(f[0].value, sizeof(f[0].value), "%s", subject_search);
	if (!tui_form(t, "Search subjects", f, 1))
		return;
	snprintf(subject_search, sizeof(subject_search), "%.500s", f[0].value);
	tui_refresh(t, v);
	if (subject_search[0])
		tui_command(t, "subject list --search %s",
		    tui_q(subject_search));
}

static void
subject_token(struct tui *t, struct tui_view *v, const struct tui_row *r)
{
	token_issue(t, r->key);
}

static const struct tui_action subject_actions[] = {
	{ 'n', "n", "Register", "register a subject", 0, subject_register },
	{ 'e', "e", "Edit", "change the subject's email and SAN", 1,
	    subject_edit },
	{ '/', "/", "Search", "search by DN or email", 0, subject_find },
	{ 'i', "i", "Soft token", "issue a soft token to this subject", 1,
	    subject_token },
	{ 0, NULL, NULL, NULL, 0, NULL }
};

static struct tui_view subjects_view = {
	.name = "Subjects",
	.header = "Id     Email                        Distinguished name",
	.paged = 1,
	.fetch = subjects_fetch,
	.detail = subjects_detail,
	.actions = subject_actions,
	.empty = "No subjects: n registers one",
};

/* Tab 4: Search certificates, paged from the engine. */

static struct search_state {
	char	subject[512];
	char	serial[512];
	char	ca[512];
	char	status[512];
	char	days[512];
} search;

static int
cert_row(void *arg, const struct cm_cert_info *ci)
{
	char c[32];
	int rc;

	rc = tui_rows_add(arg, ci->id, ci->serial, "%-32s %-7s %-12.12s "
	    "%-10.10s %s", ci->serial, ci->status, ci->ca,
	    tui_when(ci->not_after, c, sizeof(c)), ci->subject);
	if (rc == 0)
		rc = tui_rows_aux(arg, ci->subject);
	return rc;
}

static int
certs_fetch(struct tui *t, struct tui_view *v, const struct tui_row *after,
    int back, size_t n, struct tui_rows *out)
{
	struct cm_cert_filter f;

	if (search.serial[0] != '\0')
		return after != NULL ? 0 : cm_cert_show(tui_ctx(t),
		    search.serial, search.ca[0] ? search.ca : NULL, cert_row,
		    out);
	memset(&f, 0, sizeof(f));
	f.ca = search.ca[0] ? search.ca : NULL;
	f.subject_prefix = search.subject[0] ? search.subject : NULL;
	f.status = search.status[0] ? search.status : NULL;
	f.expiring_days = search.days[0] ? atoi(search.days) : -1;
	f.limit = (int)n;
	f.backward = back;
	if (after != NULL) {
		f.after_id = after->id;
		f.after_subject = after->aux;
	}
	return cm_cert_list(tui_ctx(t), &f, cert_row, out);
}

struct cert_text_arg {
	struct tui	*t;
	char		**text;
};

static int
cert_text(void *arg, const struct cm_cert_info *ci)
{
	struct cert_text_arg *a = arg;
	char c1[32], c2[32], *x509 = NULL;

	tui_text_add(a->text, "Serial %s of CA %s: %s%s%s", ci->serial,
	    ci->ca, ci->status, ci->reason != NULL ? ", " : "",
	    ci->reason != NULL ? ci->reason : "");
	tui_text_add(a->text, "Subject:   %s", ci->subject);
	tui_text_add(a->text, "Valid:     %s to %s", tui_when(ci->not_before,
	    c1, sizeof(c1)), tui_when(ci->not_after, c2, sizeof(c2)));
	tui_text_add(a->text, "Procedure: %s", ci->procedure != NULL ?
	    ci->procedure : "(a CA certificate)");
	if (cm_cert_text(tui_ctx(a->t), ci->der, ci->der_len, &x509) == 0) {
		tui_text_add(a->text, "%s", x509);
		cm_free(x509);
	}
	return 0;
}

static int
certs_detail(struct tui *t, struct tui_view *v, const struct tui_row *r,
    char **text)
{
	struct cert_text_arg a = { t, text };

	return cm_cert_show(tui_ctx(t), r->key, NULL, cert_text, &a);
}

static int
ca_of(void *arg, const struct cm_cert_info *ci)
{
	snprintf(arg, 160, "%s", ci->ca);
	return 0;
}

static void
certs_filter(struct tui *t, struct tui_view *v, const struct tui_row *r)
{
	static const char *const states[] = { "any", "valid", "hold",
	    "revoked", "expired", NULL };
	struct tui_names cas;
	struct tui_field f[5];
	struct tui_cmd cmd;
	int rc;

	if ((rc = tui_names(tui_ctx(t), TUI_N_CAS, "any", &cas)) != 0) {
		tui_error(t, rc);
		return;
	}
	memset(f, 0, sizeof(f));
	f[0].label = "Subject starts with";
	f[0].help = "A DN prefix, as CN=www or C=SE,O=Example";
	snprintf(f[0].value, sizeof(f[0].value), "%.500s", search.subject);
	f[1].label = "Serial";
	f[1].help = "Hexadecimal; the other fields but CA are then ignored";
	snprintf(f[1].value, sizeof(f[1].value), "%.500s", search.serial);
	f[2].label = "CA";
	f[2].kind = TUI_CHOICE;
	f[2].choices = (const char * const *)cas.v;
	snprintf(f[2].value, sizeof(f[2].value), "%.500s", search.ca[0] ?
	    search.ca : "any");
	f[3].label = "Status";
	f[3].kind = TUI_CHOICE;
	f[3].choices = states;
	snprintf(f[3].value, sizeof(f[3].value), "%.500s", search.status[0] ?
	    search.status : "any");
	f[4].label = "Expiring within days";
	f[4].check = check_days;
	snprintf(f[4].value, sizeof(f[4].value), "%.500s", search.days);
	if (tui_form(t, "Search certificates", f, 5)) {
		snprintf(search.subject, sizeof(search.subject), "%.500s",
		    f[0].value);
		snprintf(search.serial, sizeof(search.serial), "%.500s",
		    f[1].value);
		snprintf(search.ca, sizeof(search.ca), "%.500s",
		    strcmp(f[2].value, "any") == 0 ? "" : f[2].value);
		snprintf(search.status, sizeof(search.status), "%.500s",
		    strcmp(f[3].value, "any") == 0 ? "" : f[3].value);
		snprintf(search.days, sizeof(search.days), "%.500s",
		    f[4].value);
		memset(&cmd, 0, sizeof(cmd));
		if (search.serial[0]) {
			tui_cmd_word(&cmd, "cert show");
			tui_cmd_add(&cmd, NULL, search.serial);
		} else {
			tui_cmd_word(&cmd, "cert list");
			tui_cmd_add(&cmd, "--subject", search.subject);
			tui_cmd_add(&cmd, "--status", search.status);
			tui_cmd_add(&cmd, "--expiring", search.days);
		}
		tui_cmd_add(&cmd, "--ca", search.ca);
		tui_refresh(t, v);
		tui_command(t, "%s", cmd.buf);
	}
	tui_names_free(&cas);
}

static void
cert_revoke_as(struct tui *t, struct tui_view *v, const struct tui_row *r,
    int hold)
{
	struct tui_field f[1];
	struct cm_revoke_req req;
	char ca[160] = "", q[400];
	int rc;

	if ((rc = cm_cert_show(tui_ctx(t), r->key, NULL, ca_of, ca)) != 0) {
		tui_error(t, rc);
		return;
	}
	memset(f, 0, sizeof(f));
	memset(&req, 0, sizeof(req));
	req.serial = r->key;
	req.ca = ca;
	if (hold) {
		req.reason = "certificateHold";
		snprintf(q, sizeof(q), "Put certificate %s on hold?", r->key);
		if (!tui_confirm(t, "Hold", q))
			return;
	} else {
		f[0].label = "Reason";
		f[0].kind = TUI_CHOICE;
		f[0].choices = reasons;
		f[0].help = "The CRL reason";
		if (!tui_form(t, "Revoke certificate", f, 1))
			return;
		req.reason = f[0].value;
		snprintf(q, sizeof(q), "Revoke certificate %s (%.60s)?", r->key,
		    f[0].value);
		if (!tui_confirm(t, "Revoke", q))
			return;
	}
	if ((rc = cm_cert_revoke(tui_ctx(t), &req)) != 0) {
		tui_error(t, rc);
		return;
	}
	tui_command(t, "revoke %s -r %s --ca %s", r->key, req.reason,
	    tui_q(ca));
	tui_refresh(t, v);
}

static void
cert_revoke(struct tui *t, struct tui_view *v, const struct tui_row *r)
{
	cert_revoke_as(t, v, r, 0);
}

static void
cert_hold(struct tui *t, struct tui_view *v, const struct tui_row *r)
{
	cert_revoke_as(t, v, r, 1);
}

static void
cert_release(struct tui *t, struct tui_view *v, const struct tui_row *r)
{
	char ca[160] = "";
	int rc;

	if ((rc = cm_cert_show(tui_ctx(t), r->key, NULL, ca_of, ca)) != 0 ||
	    (rc = cm_cert_release(tui_ctx(t), r->key, ca)) != 0) {
		tui_error(t, rc);
		return;
	}
	tui_command(t, "release %s --ca %s", r->key, tui_q(ca));
	tui_refresh(t, v);
}

struct renew_info {
	char	ca[160];
	char	procedure[160];
	char	subject[1024];
};

static int
renew_info(void *arg, const struct cm_cert_info *ci)
{
	struct renew_info *i = arg;

	snprintf(i->ca, sizeof(i->ca), "%s", ci->ca);
	snprintf(i->procedure, sizeof(i->procedure), "%s", ci->procedure !=
	    NULL ? ci->procedure : "");
	snprintf(i->subject, sizeof(i->subject), "%s", ci->subject);
	return 0;
}

static void
cert_renew(struct tui *t, struct tui_view *v, const struct tui_row *r)
{
	static const char *const how[] = {
		"Same key: a new certificate for the key the holder has",
		"New key: issue from a new PKCS#10 request",
		NULL
	};
	struct renew_info ri;
	struct tui_field f[1];
	struct cm_issued is;
	char path[600];
	int rc, c;

	memset(&ri, 0, sizeof(ri));
	if ((rc = cm_cert_show(tui_ctx(t), r->key, NULL, renew_info, &ri)) !=
	    0) {
		tui_error(t, rc);
		return;
	}
	if ((c = tui_menu(t, "Renew", how, 2, 0)) < 0)
		return;
	if (c == 1) {
		p10_issue(t, ri.procedure[0] ? ri.procedure : NULL, ri.subject);
		return;
	}
	memset(f, 0, sizeof(f));
	f[0].label = "Certificate file";
	f[0].required = 1;
	f[0].check = tui_check_new_file;
	f[0].help = "A new file for the renewed certificate (PEM)";
	while (tui_form(t, "Renew with the same key", f, 1)) {
		if ((rc = cm_cert_renew(tui_ctx(t), r->key, ri.ca, 0, &is)) !=
		    0) {
			tui_error(t, rc);
			break;
		}
		snprintf(path, sizeof(path), "%s", f[0].value);
		if (tui_save_retry(t, "Save the certificate", path,
		    sizeof(path), is.data, is.len, 0) == 0)
			tui_command(t, "cert renew %s --ca %s -o %s   (serial "
			    "%s)", r->key, tui_q(ri.ca), tui_q(path),
			    is.serial);
		cm_issued_clear(&is);
		tui_refresh(t, v);
		break;
	}
}

static const struct tui_action cert_actions[] = {
	{ '/', "/", "Search", "search by subject prefix, serial, CA, status "
	    "and expiry", 0, certs_filter },
	{ 'r', "r", "Revoke", "revoke with a reason", 1, cert_revoke },
	{ 'h', "h", "Hold", "put on hold (certificateHold)", 1, cert_hold },
	{ 'l', "l", "Release", "release from hold", 1, cert_release },
	{ 'w', "w", "Renew", "renew with the same or a new key", 1,
	    cert_renew },
	{ 0, NULL, NULL, NULL, 0, NULL }
};

static struct tui_view certs_view = {
	.name = "Search",
	.header = "Serial                           Status  CA           Valid "
	    "to   Subject",
	.paged = 1,
	.fetch = certs_fetch,
	.detail = certs_detail,
	.actions = cert_actions,
	.empty = "No certificates match (/ searches)",
};


/* Tab 5: Smart Card, the card station. */

/* The last card a reader saw. */
static struct cm_card_event last_card;

struct card_state {
	char	state[16];
	char	subject[512];
	int	found;
};

static int
card_state_cb(void *arg, const struct cm_card_info *ci)
{
	struct card_state *c = arg;

	snprintf(c->state, sizeof(c->state), "%s", ci->state);
	snprintf(c->subject, sizeof(c->subject), "%s", ci->subject != NULL ?
	    ci->subject : "");
	c->found = 1;
	return 0;
}

struct card_rows {
	struct cm_ctx		*ctx;
	struct tui_rows		*out;
	int64_t			 n;
};

static int
card_row(void *arg, const struct cm_hw_token *tk)
{
	struct card_rows *a = arg;
	struct card_state c;
	int rc;

	memset(&c, 0, sizeof(c));
	if (!tk->initialized)
		snprintf(c.state, sizeof(c.state), "blank");
	else if ((rc = cm_card_list(a->ctx, tk->serial, card_state_cb,
	    &c)) == CM_ERR_NOTFOUND)
		snprintf(c.state, sizeof(c.state), "not opencm's");
	else if (rc != 0)
		return rc;
	/* A blank card is named by no serial: the blank card present. */
	if ((rc = tui_rows_add(a->out, ++a->n, tk->initialized ? tk->serial :
	    "", "%-16s %-13s %-20.20s %-14.14s %s", tk->initialized ?
	    tk->serial : "-", c.state, tk->initialized ? tk->label :
	    "(blank card)", tk->model, c.subject)) != 0)
		return rc;
	return 0;
}

static int
cards_fetch(struct tui *t, struct tui_view *v, const struct tui_row *after,
    int back, size_t n, struct tui_rows *out)
{
	struct card_rows a = { tui_ctx(t), out, 0 };

	if (after != NULL)
		return 0;
	return cm_hw_tokens(tui_ctx(t), NULL, card_row, &a);
}

static int
card_text(void *arg, const struct cm_card_info *ci)
{
	char c[32];

	tui_text_add(arg, "Card %s: %s, \"%s\" (%s %s)", ci->serial, ci->state,
	    ci->label, ci->manufacturer, ci->model);
	tui_text_add(arg, "Initialized: %s", tui_when(ci->created, c,
	    sizeof(c)));
	if (ci->replaces != NULL)
		tui_text_add(arg, "Replaces card %s", ci->replaces);
	if (ci->token_id != 0) {
		tui_text_add(arg, "Token %lld, %s: %s", (long long)ci->token_id,
		    ci->procedure, ci->subject);
		tui_text_add(arg, "Certificates:");
	}
	return 0;
}

struct card_detail {
	char	**text;
	int64_t	  token;
};

static int
card_token_cb(void *arg, const struct cm_card_info *ci)
{
	struct card_detail *d = arg;

	d->token = ci->token_id;
	return card_text(d->text, ci);
}

static void
atr_text(char *buf, size_t len)
{
	size_t i, n = 0;

	buf[0] = '\0';
	for (i = 0; i < last_card.atr_len && n + 4 < len; i++)
		n += (size_t)snprintf(buf + n, len - n, "%s%02X", i > 0 ? " " :
		    "", last_card.atr[i]);
}

static int
cards_detail(struct tui *t, struct tui_view *v, const struct tui_row *r,
    char **text)
{
	struct card_detail d = { text, 0 };
	char atr[120];
	int rc;

	if (last_card.reader[0] != '\0') {
		atr_text(atr, sizeof(atr));
		tui_text_add(text, "Reader: %s, ATR %s", last_card.reader, atr);
	}
	if (r->key == NULL || *r->key == '\0') {
		tui_text_add(text, "A blank card: p personalizes it (it is "
		    "initialized first)");
		return 0;
	}
	rc = cm_card_list(tui_ctx(t), r->key, card_token_cb, &d);
	if (rc == CM_ERR_NOTFOUND) {
		tui_text_add(text, "Card %s was not initialized by opencm: its "
		    "SO PIN is not known", r->key);
		return 0;
	}
	if (rc != 0 || d.token == 0)
		return rc;
	return cm_token_certs(tui_ctx(t), d.token, token_cert_text, text);
}

static int
card_wait_step(void *arg)
{
	struct tui *t = arg;
	struct cm_card_event ev;
	int rc;

	rc = cm_pcsc_wait(tui_ctx(t), NULL, 1, 250, &ev);
	if (rc == CM_ERR_TIMEOUT)
		return 0;
	if (rc == 0)
		last_card = ev;
	return rc == 0 ? 1 : rc;
}

/* Wait until a card is in a reader; say which and its ATR. */
static void
card_wait(struct tui *t, struct tui_view *v, const struct tui_row *r)
{
	char atr[120];
	int rc;

	rc = tui_wait(t, "Card station", "Insert a card into a reader.",
	    card_wait_step, t);
	if (rc < 0) {
		tui_error(t, rc);
		return;
	}
	if (rc == 0)
		return;
	atr_text(atr, sizeof(atr));
	tui_refresh(t, v);
	tui_status(t, "Card in %s, ATR %s", last_card.reader, atr);
}

struct keys_text {
	char	buf[1200];
	int	n;
};

static int
keys_cb(void *arg, const struct cm_token_procedure_info *pi)
{
	struct keys_text *k = arg;
	const char *p, *nl;
	size_t len;

	for (p = pi->cert_procedures; *p != '\0'; p = *nl != '\0' ? nl + 1 :
	    nl) {
		nl = p + strcspn(p, "\n");
		len = strlen(k->buf);
		snprintf(k->buf + len, sizeof(k->buf) - len, "  Add key %d "
		    "(%s): certificate procedure %.*s\n", ++k->n, pi->key_type,
		    (int)(nl - p), p);
	}
	return 0;
}

/* Show the card's new PIN once, or put it in a PIN letter. */
static void
card_pin(struct tui *t, const char *title, const char *what,
    struct cm_token_issued *tok, const char *letter)
{
	char msg[1600], text[700], path[600];

	if (tok->pin_letter && letter != NULL && *letter != '\0') {
		snprintf(path, sizeof(path), "%s", letter);
		snprintf(text, sizeof(text), "Token: %lld\nSubject: %s\nPIN: "
		    "%s\n", (long long)tok->id, tok->subject, tok->pin);
		if (tui_save_retry(t, "Save the PIN letter", path,
		    sizeof(path), text, strlen(text), 1) != 0)
			snprintf(msg, sizeof(msg), "%s\nThe PIN letter was not "
			    "saved: unblock the card (u) for a new PIN.", what);
		else
			snprintf(msg, sizeof(msg), "%s\nIts PIN is in the "
			    "letter %s.", what, path);
		explicit_bzero(text, sizeof(text));
	} else
		snprintf(msg, sizeof(msg), "%s\n\n  PIN: %s\n\nThe PIN is "
		    "shown this once and stored nowhere: hand it to the holder "
		    "now.", what, tok->pin);
	tui_message(t, title, msg);
	explicit_bzero(msg, sizeof(msg));
}

/*
 * Personalize the card of the row (a blank card: initialized first) for
 * a registered subject, under a smart card token procedure; or, with
 * replaces, as the replacement of that card.
 */
static void
card_personalize_common(struct tui *t, const struct tui_row *r,
    const char *replaces)
{
	struct tui_field f[5];
	struct tui_names procs;
	struct cm_card_req req;
	struct cm_token_issued tok;
	struct keys_text keys;
	struct tp_info tp;
	struct tui_cmd cmd;
	char uri[120], what[900], ask[2400];
	size_t nf = replaces != NULL ? 2 : 4, i;
	int rc;

	if ((rc = tui_names(tui_ctx(t), TUI_N_CARD_PROCEDURES, NULL,
	    &procs)) != 0) {
		tui_error(t, rc);
		return;
	}
	memset(f, 0, sizeof(f));
	if (replaces != NULL) {
		f[0].label = "Reason";
		f[0].kind = TUI_CHOICE;
		f[0].choices = reasons;
		f[0].help = "Why the old card's certificates are revoked "
		    "(keyCompromise for a lost card)";
		snprintf(f[0].value, sizeof(f[0].value), "superseded");
		f[1].label = "PIN letter file";
		f[1].check = tui_check_new_file;
		f[1].help = "Only for procedures with PIN letters";
	} else {
		f[0].label = "Token procedure";
		f[0].kind = TUI_CHOICE;
		f[0].choices = (const char * const *)procs.v;
		f[0].required = 1;
		f[0].help = "A smart card procedure: the keys and "
		    "certificates of the card";
		f[1].label = "Subject";
		f[1].required = 1;
		f[1].check = check_subject;
		f[1].help = "A registered subject: its ID or DN (s registers "
		    "one)";
		f[2].label = "Card label";
		f[2].help = "For a blank card; empty: the subject's name";
		f[3].label = "PIN letter file";
		f[3].check = tui_check_new_file;
		f[3].help = "Only for procedures with PIN letters; else the "
		    "PIN is shown once";
	}
	while (tui_form(t, replaces != NULL ? "Replace card" :
	    "Personalize card", f, nf)) {
		memset(&req, 0, sizeof(req));
		memset(&keys, 0, sizeof(keys));
		memset(&tp, 0, sizeof(tp));
		if (r->key != NULL && *r->key != '\0') {
			snprintf(uri, sizeof(uri), "pkcs11:serial=%s", r->key);
			req.card = uri;
		}
		if (replaces != NULL) {
			req.replaces = replaces;
			req.reason = f[0].value;
		} else {
			req.procedure = f[0].value;
			req.subject = f[1].value;
			req.label = f[2].value[0] != '\0' ? f[2].value : NULL;
			(void)cm_token_procedure_list(tui_ctx(t), f[0].value,
			    keys_cb, &keys);
			(void)cm_token_procedure_list(tui_ctx(t), f[0].value,
			    tp_cb, &tp);
			if (tp.letter && f[3].value[0] == '\0') {
				tui_status(t, "token procedure \"%s\" hands "
				    "out PIN letters: give a PIN letter file",
				    f[0].value);
				tui_status_error(t);
				continue;
			}
		}
		snprintf(ask, sizeof(ask), "%s card %s%s%s?\n%s",
		    replaces != NULL ? "Replace" : "Personalize",
		    req.card != NULL ? r->key : "(the blank card)",
		    replaces != NULL ? " as the new card of " : " for\n  ",
		    replaces != NULL ? replaces : f[1].value, keys.buf);
		if (!tui_confirm(t, "Smart card", ask))
			continue;
		if ((rc = cm_card_personalize(tui_ctx(t), &req, &tok)) != 0) {
			tui_error(t, rc);
			tui_refresh(t, tui_current(t));
			continue;
		}
		memset(&cmd, 0, sizeof(cmd));
		if (replaces != NULL) {
			tui_cmd_word(&cmd, "card replace");
			tui_cmd_word(&cmd, replaces);
			tui_cmd_add(&cmd, "-r", f[0].value);
		} else {
			tui_cmd_word(&cmd, "card personalize");
			tui_cmd_add(&cmd, "-P", f[0].value);
			tui_cmd_add(&cmd, "--subject", f[1].value);
			if (req.label != NULL)
				tui_cmd_add(&cmd, "--label", req.label);
		}
		if (req.card != NULL)
			tui_cmd_add(&cmd, "--card", req.card);
		if (tok.pin_letter && f[replaces != NULL ? 1 : 3].value[0] !=
		    '\0')
			tui_cmd_add(&cmd, "--pin-letter",
			    f[replaces != NULL ? 1 : 3].value);
		snprintf(what, sizeof(what), "Card personalized for\n  %s\n"
		    "token %lld, %zu certificate%s:", tok.subject,
		    (long long)tok.id, tok.nserials, tok.nserials == 1 ? "" :
		    "s");
		for (i = 0; i < tok.nserials; i++) {
			rc = (int)strlen(what);
			snprintf(what + rc, sizeof(what) - (size_t)rc, "\n  %s",
			    tok.serials[i]);
		}
		card_pin(t, "Smart card", what, &tok, f[replaces != NULL ?
		    1 : 3].value);
		cm_token_issued_clear(&tok);
		tui_command(t, "%s", cmd.buf);
		tui_refresh_all(t);
		break;
	}
	tui_form_wipe(f, nf);
	tui_names_free(&procs);
}

static void
card_personalize(struct tui *t, struct tui_view *v, const struct tui_row *r)
{
	card_personalize_common(t, r, NULL);
}

/* The card of the row replaces a lost or broken card. */
static void
card_replace(struct tui *t, struct tui_view *v, const struct tui_row *r)
{
	struct tui_field f[1];

	memset(f, 0, sizeof(f));
	f[0].label = "Card replaced";
	f[0].required = 1;
	f[0].help = "The serial number of the lost or broken card";
	if (!tui_form(t, "Replace a card", f, 1))
		return;
	card_personalize_common(t, r, f[0].value);
}

static void
card_unblock(struct tui *t, struct tui_view *v, const struct tui_row *r)
{
	struct cm_token_issued tok;
	char what[200];
	int rc;

	if (r->key == NULL || *r->key == '\0' || !tui_confirm(t, "Unblock",
	    "Set a new user PIN on this card with its SO PIN?"))
		return;
	memset(&tok, 0, sizeof(tok));
	if ((rc = cm_card_unblock(tui_ctx(t), r->key, &tok.pin)) != 0) {
		tui_error(t, rc);
		return;
	}
	snprintf(what, sizeof(what), "Card %s is unblocked.", r->key);
	card_pin(t, "Card unblocked", what, &tok, NULL);
	cm_token_issued_clear(&tok);
	tui_command(t, "card unblock %s", tui_q(r->key));
	tui_refresh_all(t);
}

static void
card_revoke(struct tui *t, struct tui_view *v, const struct tui_row *r)
{
	struct tui_field f[1];
	int rc;

	if (r->key == NULL || *r->key == '\0')
		return;
	memset(f, 0, sizeof(f));
	f[0].label = "Reason";
	f[0].kind = TUI_CHOICE;
	f[0].choices = reasons;
	if (!tui_form(t, "Revoke card (all its certificates)", f, 1) ||
	    !tui_confirm(t, "Revoke card", "Revoke the card and every "
	    "certificate of it?"))
		return;
	if ((rc = cm_card_revoke(tui_ctx(t), r->key, f[0].value)) != 0) {
		tui_error(t, rc);
		return;
	}
	tui_command(t, "card revoke %s -r %s", tui_q(r->key),
	    tui_q(f[0].value));
	tui_refresh_all(t);
}

static void
card_subject(struct tui *t, struct tui_view *v, const struct tui_row *r)
{
	subject_register(t, v, r);
}

static const struct tui_action card_actions[] = {
	{ 'w', "w", "Wait", "wait for a card in a reader (PC/SC)", 0,
	    card_wait },
	{ 'p', "p", "Personalize", "personalize the card: keys, "
	    "certificates and a new PIN", 1, card_personalize },
	{ 's', "s", "Subject", "register a subject", 0, card_subject },
	{ 'u', "u", "Unblock", "set a new user PIN with the card's SO PIN", 1,
	    card_unblock },
	{ 'x', "x", "Replace", "this card replaces a lost or broken one", 1,
	    card_replace },
	{ 'r', "r", "Revoke", "revoke the card: all its certificates", 1,
	    card_revoke },
	{ 0, NULL, NULL, NULL, 0, NULL }
};

static struct tui_view cards_view = {
	.name = "Smart Card",
	.header = "Serial           State         Label                Model"
	    "          Subject",
	.fetch = cards_fetch,
	.detail = cards_detail,
	.actions = card_actions,
	.empty = "No card in the PKCS#11 modules: w waits for one",
};

static struct tui_view *views[] = {
	&tokens_view, &p10_view, &subjects_view, &certs_view, &cards_view
};

static const struct tui_action global[] = {
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
	char *db = NULL, err[1100] = "";
	int status;

	if ((status = tui_options("cm-ra", argc, argv, &ctx, &db,
	    &officer)) != 0)
		return status < 0 ? 0 : status;
	memset(&app, 0, sizeof(app));
	app.name = "cm-ra";
	app.title = "Registration Authority";
	app.views = views;
	app.nviews = sizeof(views) / sizeof(views[0]);
	app.tabs = 1;
	app.global = global;
	if (access(db, F_OK) != 0) {
		fprintf(stderr, "cm-ra: %s: no CMDB (cm-awb creates one)\n",
		    db);
		status = 1;
		goto out;
	}
	if (cm_db_open(ctx, db) != 0) {
		fprintf(stderr, "cm-ra: %s\n", cm_ctx_errmsg(ctx));
		status = 1;
		goto out;
	}
	if (tui_init(&t, ctx, &app) != 0) {
		fprintf(stderr, "cm-ra: cannot start the terminal\n");
		status = 1;
		goto out;
	}
	if (tui_session(t, officer) != 0) {
		snprintf(err, sizeof(err), "cm-ra: %s", cm_ctx_errmsg(ctx));
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
