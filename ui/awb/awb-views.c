/*
 * awb-views.c: the tree of the Administrator's Workbench: Key Registry
 * (in use, retired), CAs, certificate and token procedures, officer
 * profiles, officers, pending changes and the audit log; their lists,
 * detail panes and the dialogs that create and change policy objects.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "awb.h"

/* The key types a soft or token key may have. */
static const char *const key_types[] = { "ec:p256", "ec:p384", "rsa:2048",
    "rsa:3072", "rsa:4096", "ed25519", NULL };

/*
 * Split a form's list at semicolons, in place: the items, without the
 * blanks around them, empty ones left out.  Returns the number of items in
 * *out (free it), or 0.
 */
static size_t
split_list(char *buf, char ***out)
{
	char *p, *e, *save = NULL, **nv;
	size_t n = 0;

	*out = NULL;
	for (p = strtok_r(buf, ";", &save); p != NULL;
	    p = strtok_r(NULL, ";", &save)) {
		while (*p == ' ')
			p++;
		for (e = p + strlen(p); e > p && e[-1] == ' '; )
			*--e = '\0';
		if (*p == '\0')
			continue;
		if ((nv = reallocarray(*out, n + 1, sizeof(*nv))) == NULL)
			break;
		*out = nv;
		(*out)[n++] = p;
	}
	return n;
}

/*
 * A Request dialog turned into a Modify dialog: its name field becomes a
 * line of text naming the object, which the dialog then changes.
 */
static void
modify_name(struct tui_field *name, char *title, size_t len,
    const char *what, const char *modify)
{
	snprintf(title, len, "Modify %s \"%.200s\"", what, modify);
	snprintf(name->value, sizeof(name->value), "%s", modify);
	name->kind = TUI_NOTE;
	name->label = title;
}

/* Key Registry */

static int
key_row(void *arg, const struct cm_key_info *ki)
{
	return tui_rows_add(arg, ki->id, ki->name, "%-20.20s %-10s %-8s %s",
	    ki->name, ki->algorithm, ki->state, ki->identifier);
}

static int
keys_fetch(struct tui *t, struct tui_view *v, const struct tui_row *after,
    int back, size_t n, struct tui_rows *out)
{
	if (after != NULL)
		return 0;
	return cm_key_list(tui_ctx(t), v->filter, NULL, key_row, out);
}

static int
key_text(void *arg, const struct cm_key_info *ki)
{
	char c[32];

	tui_text_add(arg, "Name:        %s", ki->name);
	tui_text_add(arg, "Identifier:  %s", ki->identifier);
	tui_text_add(arg, "Algorithm:   %s", ki->algorithm);
	tui_text_add(arg, "Device:      %s", ki->device);
	tui_text_add(arg, "State:       %s", ki->state);
	return tui_text_add(arg, "Created:     %s", tui_when(ki->created, c,
	    sizeof(c)));
}

static int
keys_detail(struct tui *t, struct tui_view *v, const struct tui_row *r,
    char **text)
{
	return cm_key_list(tui_ctx(t), NULL, r->key, key_text, text);
}

static int
key_create_fn(struct cm_ctx *ctx, const void *req)
{
	return cm_key_create(ctx, req);
}

static void
key_new(struct tui *t, struct tui_view *v, const struct tui_row *r)
{
	struct tui_field f[2];
	struct cm_key_req req;
	struct tui_cmd cmd;

	memset(f, 0, sizeof(f));
	f[0].label = "Name";
	f[0].kind = TUI_TEXT;
	f[0].required = 1;
	f[0].check = tui_check_name;
	f[0].help = "The name of the CA key in the Key Registry";
	f[1].label = "Type";
	f[1].kind = TUI_CHOICE;
	f[1].choices = key_types;
	f[1].help = "Left, Right or the first letter; Space lists them";
	while (tui_form(t, "New CA key (soft key store)", f, 2)) {
		memset(&req, 0, sizeof(req));
		req.name = f[0].value;
		req.type = f[1].value;
		memset(&cmd, 0, sizeof(cmd));
		tui_cmd_word(&cmd, "key create");
		tui_cmd_add(&cmd, "-n", req.name);
		tui_cmd_add(&cmd, "-t", req.type);
		if (awb_submit(t, key_create_fn, &req, &cmd) >= 0)
			break;
	}
}

static int
key_state_fn(struct cm_ctx *ctx, const void *req)
{
	const char * const *a = req;

	if (strcmp(a[0], "retire") == 0)
		return cm_key_retire(ctx, a[1]);
	return cm_key_remove(ctx, a[1]);
}

static void
key_state(struct tui *t, const struct tui_row *r, const char *verb)
{
	struct tui_cmd cmd;
	const char *a[2] = { verb, r->key };
	char q[300];

	snprintf(q, sizeof(q), "%s the CA key \"%s\"?", strcmp(verb,
	    "retire") == 0 ? "Retire" : "Remove", r->key);
	if (!tui_confirm(t, "Key Registry", q))
		return;
	memset(&cmd, 0, sizeof(cmd));
	tui_cmd_word(&cmd, "key");
	tui_cmd_word(&cmd, verb);
	tui_cmd_add(&cmd, NULL, r->key);
	awb_submit(t, key_state_fn, a, &cmd);
}

static void
key_retire(struct tui *t, struct tui_view *v, const struct tui_row *r)
{
	key_state(t, r, "retire");
}

static void
key_remove(struct tui *t, struct tui_view *v, const struct tui_row *r)
{
	key_state(t, r, "remove");
}

static const struct tui_action key_actions[] = {
	{ 'n', "n", "New", "create a CA key", 0, key_new },
	{ 'r', "r", "Retire", "retire the key: no new CAs use it", 1,
	    key_retire },
	{ 'x', "x", "Remove", "remove a retired key from the key store", 1,
	    key_remove },
	{ 0, NULL, NULL, NULL, 0, NULL }
};

#define KEY_HEADER "Name                 Algorithm  State    Identifier"

static struct tui_view keys_all = {
	.name = "Key Registry",
	.header = KEY_HEADER,
	.depth = 0,
	.fetch = keys_fetch,
	.detail = keys_detail,
	.actions = key_actions,
	.empty = "No CA keys: n makes one",
};
static struct tui_view keys_inuse = {
	.name = "In use",
	.header = KEY_HEADER,
	.depth = 1,
	.fetch = keys_fetch,
	.detail = keys_detail,
	.actions = key_actions,
	.empty = "No keys in use",
	.filter = "in-use",
};
static struct tui_view keys_retired = {
	.name = "Retired",
	.header = KEY_HEADER,
	.depth = 1,
	.fetch = keys_fetch,
	.detail = keys_detail,
	.actions = key_actions,
	.empty = "No retired keys",
	.filter = "retired",
};

/* CAs */

static int
ca_row(void *arg, const struct cm_ca_info *ci)
{
	char c[32];

	return tui_rows_add(arg, ci->id, ci->name, "%-16.16s %-8s %-14.14s "
	    "%-10.10s %s", ci->name, ci->state, ci->issuer, ci->not_after ?
	    tui_when(ci->not_after, c, sizeof(c)) : "-", ci->subject);
}

static int
cas_fetch(struct tui *t, struct tui_view *v, const struct tui_row *after,
    int back, size_t n, struct tui_rows *out)
{
	if (after != NULL)
		return 0;
	return cm_ca_list(tui_ctx(t), NULL, ca_row, out);
}

static int
ca_text(void *arg, const struct cm_ca_info *ci)
{
	char a[32], b[32];

	tui_text_add(arg, "Name:        %s    State: %s", ci->name, ci->state);
	tui_text_add(arg, "Subject:     %s", ci->subject);
	tui_text_add(arg, "Issuer:      %s", ci->issuer);
	tui_text_add(arg, "CA key:      %s (%s)", ci->key, ci->key_identifier);
	tui_text_add(arg, "Serial:      %s", ci->serial != NULL ? ci->serial :
	    "-");
	tui_text_add(arg, "Valid:       %s to %s", tui_when(ci->not_before, a,
	    sizeof(a)), tui_when(ci->not_after, b, sizeof(b)));
	if (ci->pathlen < 0)
		tui_text_add(arg, "Path length: none");
	else
		tui_text_add(arg, "Path length: %d", ci->pathlen);
	tui_text_add(arg, "CRLs:        every %lds, delta every %lds, next "
	    "number %lld", ci->crl_interval, ci->delta_interval,
	    (long long)ci->next_crl_number);
	tui_text_add(arg, "CDP:         %s", ci->cdp != NULL ? ci->cdp : "-");
	return tui_text_add(arg, "AIA:         %s", ci->aia != NULL ? ci->aia :
	    "-");
}

static int
cas_detail(struct tui *t, struct tui_view *v, const struct tui_row *r,
    char **text)
{
	return cm_ca_list(tui_ctx(t), r->key, ca_text, text);
}

static int
ca_create_fn(struct cm_ctx *ctx, const void *req)
{
	return cm_ca_create(ctx, req);
}

/* The subject of a CA Request: Country, Organization, Common name. */
static int
ca_subject(char *out, size_t len, const char *c, const char *o,
    const char *cn)
{
	int n;

	n = snprintf(out, len, "%s%s%s%s%s%sCN=%s", c[0] ? "C=" : "", c,
	    c[0] ? "," : "", o[0] ? "O=" : "", o, o[0] ? "," : "", cn);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

enum { CA_NAME, CA_KEY, CA_ISSUER, CA_USAGE, CA_C, CA_O, CA_CN,
    CA_VALIDITY, CA_PATHLEN, CA_CRL, CA_DELTA, CA_CDP, CA_AIA, CA_NFIELDS };

static void
ca_new(struct tui *t, struct tui_view *v, const struct tui_row *r)
{
	struct tui_field f[CA_NFIELDS];
	struct tui_names keys, cas;
	struct cm_ca_req req;
	struct tui_cmd cmd;
	char subject[1600], pl[16];
	int rc;

	if ((rc = tui_names(tui_ctx(t), TUI_N_KEYS, NULL, &keys)) != 0) {
		tui_error(t, rc);
		return;
	}
	if ((rc = tui_names(tui_ctx(t), TUI_N_CAS, "self-signed", &cas)) != 0) {
		tui_names_free(&keys);
		tui_error(t, rc);
		return;
	}
	memset(f, 0, sizeof(f));
	f[CA_NAME].label = "Name";
	f[CA_NAME].required = 1;
	f[CA_NAME].check = tui_check_name;
	f[CA_KEY].label = "CA key";
	f[CA_KEY].kind = TUI_CHOICE;
	f[CA_KEY].choices = (const char * const *)keys.v;
	f[CA_KEY].required = 1;
	f[CA_KEY].help = "A key in use from the Key Registry";
	f[CA_ISSUER].label = "Issuing CA";
	f[CA_ISSUER].kind = TUI_CHOICE;
	f[CA_ISSUER].choices = (const char * const *)cas.v;
	f[CA_ISSUER].help = "self-signed for a root, or the CA that signs it";
	f[CA_USAGE].label = "Usage: certificate and CRL signing; format: CA "
	    "certificate (RFC 5280)";
	f[CA_USAGE].kind = TUI_NOTE;
	f[CA_C].label = "Country";
	f[CA_C].help = "Two letters, as SE; may be empty";
	f[CA_O].label = "Organization";
	f[CA_CN].label = "Common name";
	f[CA_CN].required = 1;
	f[CA_VALIDITY].label = "Validity";
	f[CA_VALIDITY].check = tui_check_duration;
	f[CA_VALIDITY].help = "As 10y, 5y, 365d";
	snprintf(f[CA_VALIDITY].value, sizeof(f[0].value), "10y");
	f[CA_PATHLEN].label = "Path length";
	f[CA_PATHLEN].check = tui_check_int;
	f[CA_PATHLEN].help = "pathLenConstraint; -1: none";
	snprintf(f[CA_PATHLEN].value, sizeof(f[0].value), "-1");
	f[CA_CRL].label = "CRL interval";
	f[CA_CRL].check = tui_check_duration;
	snprintf(f[CA_CRL].value, sizeof(f[0].value), "24h");
	f[CA_DELTA].label = "Delta CRL interval";
	f[CA_DELTA].help = "0: no delta CRLs";
	snprintf(f[CA_DELTA].value, sizeof(f[0].value), "0");
	f[CA_CDP].label = "CRL distribution point";
	f[CA_CDP].help = "A URL, in the certificates this CA issues";
	f[CA_AIA].label = "CA issuers (AIA)";
	f[CA_AIA].help = "A URL of this CA's certificate, in what it issues";
	while (tui_form(t, "CA Request", f, CA_NFIELDS)) {
		if (ca_subject(subject, sizeof(subject), f[CA_C].value,
		    f[CA_O].value, f[CA_CN].value) != 0 ||
		    tui_check_dn(t, subject, pl, 0) != 0) {
			tui_error(t, CM_ERR_INVAL);
			continue;
		}
		memset(&req, 0, sizeof(req));
		req.name = f[CA_NAME].value;
		req.key = f[CA_KEY].value;
		req.subject = subject;
		req.issuer = strcmp(f[CA_ISSUER].value, "self-signed") == 0 ?
		    NULL : f[CA_ISSUER].value;
		req.validity = f[CA_VALIDITY].value;
		req.pathlen = atoi(f[CA_PATHLEN].value);
		req.crl_interval = f[CA_CRL].value;
		req.delta_interval = f[CA_DELTA].value;
		req.cdp = f[CA_CDP].value[0] ? f[CA_CDP].value : NULL;
		req.aia = f[CA_AIA].value[0] ? f[CA_AIA].value : NULL;
		memset(&cmd, 0, sizeof(cmd));
		tui_cmd_word(&cmd, "ca create");
		tui_cmd_add(&cmd, "-n", req.name);
		tui_cmd_add(&cmd, "-k", req.key);
		tui_cmd_add(&cmd, "-s", subject);
		if (req.issuer == NULL)
			tui_cmd_word(&cmd, "--self-signed");
		tui_cmd_add(&cmd, "-i", req.issuer);
		tui_cmd_add(&cmd, "--validity", req.validity);
		if (req.pathlen >= 0)
			tui_cmd_add(&cmd, "--pathlen", f[CA_PATHLEN].value);
		tui_cmd_add(&cmd, "--crl-interval", req.crl_interval);
		if (strcmp(req.delta_interval, "0") != 0)
			tui_cmd_add(&cmd, "--delta-interval",
			    req.delta_interval);
		tui_cmd_add(&cmd, "--cdp", req.cdp);
		tui_cmd_add(&cmd, "--aia", req.aia);
		if (awb_submit(t, ca_create_fn, &req, &cmd) >= 0)
			break;
	}
	tui_names_free(&keys);
	tui_names_free(&cas);
}

static void
ca_cert(struct tui *t, struct tui_view *v, const struct tui_row *r)
{
	unsigned char *pem = NULL;
	size_t len;
	int rc;

	if ((rc = cm_ca_export(tui_ctx(t), r->key, 1, &pem, &len)) != 0) {
		tui_error(t, rc);
		return;
	}
	tui_pager(t, r->key, (const char *)pem);
	tui_command(t, "ca export %s --chain", tui_q(r->key));
	cm_free(pem);
}

static int
ca_modify_fn(struct cm_ctx *ctx, const void *req)
{
	return cm_ca_modify(ctx, req);
}

static int
ca_fill(void *arg, const struct cm_ca_info *ci)
{
	struct tui_field *f = arg;

	snprintf(f[1].value, sizeof(f[1].value), "%lds", ci->crl_interval);
	if (ci->delta_interval > 0)
		snprintf(f[2].value, sizeof(f[2].value), "%lds",
		    ci->delta_interval);
	else
		snprintf(f[2].value, sizeof(f[2].value), "0");
	snprintf(f[3].value, sizeof(f[3].value), "%s", ci->cdp != NULL ?
	    ci->cdp : "");
	snprintf(f[4].value, sizeof(f[4].value), "%s", ci->aia != NULL ?
	    ci->aia : "");
	snprintf(f[5].value, sizeof(f[5].value), "%s", ci->revoke_delta ?
	    "yes" : "no");
	return 0;
}

static const char *const yes_no[] = { "no", "yes", NULL };

/* Modify a CA's CRL settings: intervals, CDP and AIA, delta on revoke. */
static void
ca_modify(struct tui *t, struct tui_view *v, const struct tui_row *r)
{
	struct tui_field f[6];
	struct cm_ca_req req;
	struct tui_cmd cmd;
	char title[300];
	int rc;

	memset(f, 0, sizeof(f));
	snprintf(title, sizeof(title), "CRL settings of CA \"%.200s\"",
	    r->key);
	f[0].label = title;
	f[0].kind = TUI_NOTE;
	f[1].label = "CRL interval";
	f[1].required = 1;
	f[1].check = tui_check_duration;
	f[2].label = "Delta CRL interval";
	f[2].required = 1;
	f[2].help = "0: no delta CRLs; shorter than the CRL interval";
	f[3].label = "CRL distribution point";
	f[3].help = "A URL in what the CA issues from now on; empty: none";
	f[4].label = "CA issuers (AIA)";
	f[4].help = "A URL in what the CA issues from now on; empty: none";
	f[5].label = "Delta CRL on revocation";
	f[5].kind = TUI_CHOICE;
	f[5].choices = yes_no;
	f[5].help = "yes: every revocation issues and publishes a delta CRL "
	    "at once";
	if ((rc = cm_ca_list(tui_ctx(t), r->key, ca_fill, f)) != 0) {
		tui_error(t, rc);
		return;
	}
	while (tui_form(t, "Modify CA", f, 6)) {
		memset(&req, 0, sizeof(req));
		req.name = r->key;
		req.crl_interval = f[1].value;
		req.delta_interval = f[2].value;
		req.cdp = f[3].value;
		req.aia = f[4].value;
		req.revoke_delta = f[5].value;
		memset(&cmd, 0, sizeof(cmd));
		tui_cmd_word(&cmd, "ca modify");
		tui_cmd_add(&cmd, NULL, r->key);
		tui_cmd_add(&cmd, "--crl-interval", req.crl_interval);
		tui_cmd_add(&cmd, "--delta-interval", req.delta_interval);
		if (req.cdp[0] != '\0')
			tui_cmd_add(&cmd, "--cdp", req.cdp);
		else
			tui_cmd_word(&cmd, "--cdp ''");
		if (req.aia[0] != '\0')
			tui_cmd_add(&cmd, "--aia", req.aia);
		else
			tui_cmd_word(&cmd, "--aia ''");
		tui_cmd_add(&cmd, "--revoke-delta", req.revoke_delta);
		if (awb_submit(t, ca_modify_fn, &req, &cmd) >= 0)
			break;
	}
}

static const struct tui_action ca_actions[] = {
	{ 'n', "n", "New", "a CA Request: create a CA", 0, ca_new },
	{ 'm', "m", "Modify", "change the CA's CRL intervals, CDP and AIA (a "
	    "policy change)", 1, ca_modify },
	{ 'c', "c", "Certificate", "show the CA certificate and its chain "
	    "(PEM)", 1, ca_cert },
	{ 0, NULL, NULL, NULL, 0, NULL }
};

static struct tui_view cas_view = {
	.name = "CAs",
	.header = "Name             State    Issuer         Valid to "
	    "  Subject",
	.depth = 0,
	.fetch = cas_fetch,
	.detail = cas_detail,
	.actions = ca_actions,
	.empty = "No CAs: n makes one",
};

/* Certificate procedures */

static int
proc_create_fn(struct cm_ctx *ctx, const void *req)
{
	return cm_cert_procedure_create(ctx, req);
}

static int
proc_modify_fn(struct cm_ctx *ctx, const void *req)
{
	return cm_cert_procedure_modify(ctx, req);
}

enum { P_NAME, P_CA, P_FORMAT, P_KU, P_EKU, P_VALIDITY, P_DIGEST, P_CHAIN,
    P_KEYS, P_FIELDS, P_NFIELDS };

static void	proc_form(struct tui *, const char *);

/* Fill the procedure dialog with what the procedure is now. */
static int
proc_fill(void *arg, const struct cm_cert_procedure_info *pi)
{
	struct tui_field *f = arg;
	char *p;

	snprintf(f[P_CA].value, sizeof(f[0].value), "%s", pi->ca);
	snprintf(f[P_FORMAT].value, sizeof(f[0].value), "%s", pi->format);
	snprintf(f[P_KU].value, sizeof(f[0].value), "%s", pi->key_usage);
	snprintf(f[P_EKU].value, sizeof(f[0].value), "%s", pi->eku != NULL ?
	    pi->eku : "");
	snprintf(f[P_VALIDITY].value, sizeof(f[0].value), "%s", pi->validity);
	snprintf(f[P_DIGEST].value, sizeof(f[0].value), "%s", pi->digest);
	snprintf(f[P_CHAIN].value, sizeof(f[0].value), "%s", pi->chain);
	snprintf(f[P_KEYS].value, sizeof(f[0].value), "%s", pi->allow_keys);
	snprintf(f[P_FIELDS].value, sizeof(f[0].value), "%s", pi->fields !=
	    NULL ? pi->fields : "");
	for (p = f[P_FIELDS].value; (p = strchr(p, '\n')) != NULL; )
		*p = ';';
	return 0;
}

static void
proc_new(struct tui *t, struct tui_view *v, const struct tui_row *r)
{
	proc_form(t, NULL);
}

static void
proc_modify(struct tui *t, struct tui_view *v, const struct tui_row *r)
{
	proc_form(t, r->key);
}

/* The Certificate Procedure Request: a new one, or modify the named one. */
static void
proc_form(struct tui *t, const char *modify)
{
	static const char *const digests[] = { "sha256", "sha384", "sha512",
	    NULL };
	static const char *const chains[] = { "none", "ca", "full", NULL };
	struct tui_field f[P_NFIELDS];
	struct cm_cert_procedure_req req;
	struct tui_names cas;
	struct tui_cmd cmd;
	char **fields = NULL, copy[512], title[300];
	static const char *none[1];
	size_t nf = 0, i;
	int rc;

	if ((rc = tui_names(tui_ctx(t), TUI_N_CAS, NULL, &cas)) != 0) {
		tui_error(t, rc);
		return;
	}
	memset(f, 0, sizeof(f));
	f[P_NAME].label = "Name";
	f[P_NAME].required = 1;
	f[P_NAME].check = tui_check_name;
	f[P_CA].label = "Issuing CA";
	f[P_CA].kind = TUI_CHOICE;
	f[P_CA].choices = (const char * const *)cas.v;
	f[P_CA].required = 1;
	f[P_FORMAT].label = "Format";
	f[P_FORMAT].kind = TUI_CHOICE;
	f[P_FORMAT].choices = cm_formats();
	f[P_FORMAT].help = "The certificate format the procedure narrows";
	f[P_KU].label = "Key usage";
	f[P_KU].help = "A comma list; empty: the format's";
	f[P_EKU].label = "Extended key usage";
	f[P_EKU].help = "A comma list, as serverAuth,clientAuth; empty: the "
	    "format's";
	f[P_VALIDITY].label = "Validity";
	f[P_VALIDITY].check = tui_check_duration;
	snprintf(f[P_VALIDITY].value, sizeof(f[0].value), "365d");
	f[P_DIGEST].label = "Digest";
	f[P_DIGEST].kind = TUI_CHOICE;
	f[P_DIGEST].choices = digests;
	f[P_CHAIN].label = "Chain";
	f[P_CHAIN].kind = TUI_CHOICE;
	f[P_CHAIN].choices = chains;
	f[P_CHAIN].help = "Issuer certificates put with what is issued";
	f[P_KEYS].label = "Allowed keys";
	f[P_KEYS].help = "A comma list of key types; empty: the format's";
	f[P_FIELDS].label = "Fields";
	f[P_FIELDS].help = "KEY=VALUE; KEY=VALUE ... (certificate-policy, "
	    "ocsp-url, pathlen, challenge-password)";
	snprintf(title, sizeof(title), "Certificate Procedure Request");
	if (modify != NULL) {
		modify_name(&f[P_NAME], title, sizeof(title),
		    "certificate procedure", modify);
		if ((rc = cm_cert_procedure_list(tui_ctx(t), modify, proc_fill,
		    f)) != 0) {
			tui_error(t, rc);
			tui_names_free(&cas);
			return;
		}
	}
	while (tui_form(t, title, f, P_NFIELDS)) {
		memset(&req, 0, sizeof(req));
		req.name = f[P_NAME].value;
		req.ca = f[P_CA].value;
		req.format = f[P_FORMAT].value;
		/* Empty: the format's; in a modification too. */
		req.key_usage = f[P_KU].value[0] || modify != NULL ?
		    f[P_KU].value : NULL;
		req.eku = f[P_EKU].value[0] || modify != NULL ?
		    f[P_EKU].value : NULL;
		req.validity = f[P_VALIDITY].value;
		req.digest = f[P_DIGEST].value;
		req.chain = f[P_CHAIN].value;
		req.allow_keys = f[P_KEYS].value[0] || modify != NULL ?
		    f[P_KEYS].value : NULL;
		memset(&cmd, 0, sizeof(cmd));
		tui_cmd_word(&cmd, modify != NULL ? "cert-procedure modify" :
		    "cert-procedure create");
		tui_cmd_add(&cmd, "-n", req.name);
		tui_cmd_add(&cmd, "--ca", req.ca);
		tui_cmd_add(&cmd, "--format", req.format);
		tui_cmd_add(&cmd, "--key-usage", req.key_usage);
		tui_cmd_add(&cmd, "--eku", req.eku);
		tui_cmd_add(&cmd, "--validity", req.validity);
		tui_cmd_add(&cmd, "--digest", req.digest);
		tui_cmd_add(&cmd, "--chain", req.chain);
		tui_cmd_add(&cmd, "--allow-keys", req.allow_keys);
		free(fields);
		snprintf(copy, sizeof(copy), "%s", f[P_FIELDS].value);
		nf = split_list(copy, &fields);
		for (i = 0; i < nf; i++)
			tui_cmd_add(&cmd, "--field", fields[i]);
		req.fields = fields != NULL ? (const char * const *)fields :
		    none;
		req.nfields = nf;
		if (modify != NULL && nf == 0)
			tui_cmd_word(&cmd, "--no-fields");
		if (awb_submit(t, modify != NULL ? proc_modify_fn :
		    proc_create_fn, &req, &cmd) >= 0)
			break;
	}
	free(fields);
	tui_names_free(&cas);
}

static const struct tui_action proc_actions[] = {
	{ 'n', "n", "New", "a Certificate Procedure Request", 0, proc_new },
	{ 'm', "m", "Modify", "change the procedure (a policy change)", 1,
	    proc_modify },
	{ 0, NULL, NULL, NULL, 0, NULL }
};

static struct tui_view procs = {
	.name = "Certificate procedures",
	.header = "Name                   CA             Format       "
	    "Validity State",
	.depth = 0,
	.fetch = tui_procedures_fetch,
	.detail = tui_procedures_detail,
	.actions = proc_actions,
	.empty = "No certificate procedures",
};

/* Token procedures */

static int
tproc_row(void *arg, const struct cm_token_procedure_info *pi)
{
	char list[200], *p;

	snprintf(list, sizeof(list), "%s", pi->cert_procedures);
	for (p = list; (p = strchr(p, '\n')) != NULL; )
		*p = ',';
	return tui_rows_add(arg, pi->id, pi->name, "%-20.20s %-10s %-7s %s",
	    pi->name, pi->storage, pi->pin_procedure, list);
}

static int
tprocs_fetch(struct tui *t, struct tui_view *v, const struct tui_row *after,
    int back, size_t n, struct tui_rows *out)
{
	if (after != NULL)
		return 0;
	return cm_token_procedure_list(tui_ctx(t), NULL, tproc_row, out);
}

static int
tproc_text(void *arg, const struct cm_token_procedure_info *pi)
{
	tui_text_add(arg, "Name:                %s", pi->name);
	tui_text_add(arg, "Storage profile:     %s", pi->storage);
	tui_text_add(arg, "Card serial number:  %s", pi->card_serial ? "yes" :
	    "no");
	tui_text_add(arg, "Serial number range: %s", pi->serial_range);
	tui_text_add(arg, "PIN procedure:       %s", pi->pin_procedure);
	tui_text_add(arg, "Issuer certificates: %s", pi->issuer_certs);
	tui_text_add(arg, "Key type:            %s", pi->key_type);
	return tui_text_add(arg, "Certificate procedures:\n%s",
	    pi->cert_procedures);
}

static int
tprocs_detail(struct tui *t, struct tui_view *v, const struct tui_row *r,
    char **text)
{
	return cm_token_procedure_list(tui_ctx(t), r->key, tproc_text, text);
}

static int
tproc_create_fn(struct cm_ctx *ctx, const void *req)
{
	return cm_token_procedure_create(ctx, req);
}

enum { T_NAME, T_STORAGE, T_CARD, T_RANGE, T_PIN, T_ISSUER, T_KEY, T_PROCS,
    T_NFIELDS };

static int
tproc_modify_fn(struct cm_ctx *ctx, const void *req)
{
	return cm_token_procedure_modify(ctx, req);
}

struct tproc_fill_arg {
	struct tui_field	*f;
	char			*storage_note;
};

static int
tproc_fill(void *arg, const struct cm_token_procedure_info *pi)
{
	struct tproc_fill_arg *a = arg;
	struct tui_field *f = a->f;
	char *p;

	snprintf(a->storage_note, 200, "Storage profile: %s (does not change)",
	    pi->storage);
	snprintf(f[T_CARD].value, sizeof(f[0].value), "%s", pi->card_serial ?
	    "yes" : "no");
	snprintf(f[T_RANGE].value, sizeof(f[0].value), "%s", pi->serial_range);
	snprintf(f[T_PIN].value, sizeof(f[0].value), "%s", pi->pin_procedure);
	snprintf(f[T_ISSUER].value, sizeof(f[0].value), "%s",
	    pi->issuer_certs);
	snprintf(f[T_KEY].value, sizeof(f[0].value), "%s", pi->key_type);
	snprintf(f[T_PROCS].value, sizeof(f[0].value), "%s",
	    pi->cert_procedures);
	p = f[T_PROCS].value + strlen(f[T_PROCS].value);
	while (p > f[T_PROCS].value && p[-1] == '\n')
		*--p = '\0';
	for (p = f[T_PROCS].value; (p = strchr(p, '\n')) != NULL; )
		*p = ';';
	return 0;
}

static void	tproc_form(struct tui *, const char *);

static void
tproc_new(struct tui *t, struct tui_view *v, const struct tui_row *r)
{
	tproc_form(t, NULL);
}

static void
tproc_modify(struct tui *t, struct tui_view *v, const struct tui_row *r)
{
	tproc_form(t, r->key);
}

/* The Token Procedure Request: a new one, or modify the named one. */
static void
tproc_form(struct tui *t, const char *modify)
{
	static const char *const storage[] = { "pkcs12", "pkcs10", "smartcard",
	    NULL };
	static const char *const yesno[] = { "by storage", "yes", "no", NULL };
	static const char *const range[] = { "none", "optional", "mandatory",
	    NULL };
	static const char *const pin[] = { "show", "letter", NULL };
	static const char *const issuer[] = { "none", "ca", "chain", NULL };
	struct tui_field f[T_NFIELDS];
	struct cm_token_procedure_req req;
	struct tproc_fill_arg fa;
	struct tui_cmd cmd;
	char copy[512], **procs_v = NULL, title[300];
	char note[200];
	size_t np = 0, i;
	int rc;

	memset(f, 0, sizeof(f));
	f[T_NAME].label = "Name";
	f[T_NAME].required = 1;
	f[T_NAME].check = tui_check_name;
	f[T_STORAGE].label = "Storage profile";
	f[T_STORAGE].kind = TUI_CHOICE;
	f[T_STORAGE].choices = storage;
	f[T_CARD].label = "Card serial number";
	f[T_CARD].kind = TUI_CHOICE;
	f[T_CARD].choices = yesno;
	f[T_RANGE].label = "Serial number range";
	f[T_RANGE].kind = TUI_CHOICE;
	f[T_RANGE].choices = range;
	f[T_PIN].label = "PIN procedure";
	f[T_PIN].kind = TUI_CHOICE;
	f[T_PIN].choices = pin;
	f[T_ISSUER].label = "Issuer certificates";
	f[T_ISSUER].kind = TUI_CHOICE;
	f[T_ISSUER].choices = issuer;
	f[T_KEY].label = "Key type";
	f[T_KEY].kind = TUI_CHOICE;
	f[T_KEY].choices = key_types;
	f[T_PROCS].label = "Certificate procedures";
	f[T_PROCS].required = 1;
	f[T_PROCS].help = "Separated by ;, one certificate (and key) each";
	snprintf(title, sizeof(title), "Token Procedure Request");
	if (modify != NULL) {
		modify_name(&f[T_NAME], title, sizeof(title), "token procedure",
		    modify);
		f[T_STORAGE].kind = TUI_NOTE;
		f[T_STORAGE].label = note;
		fa.f = f;
		fa.storage_note = note;
		if ((rc = cm_token_procedure_list(tui_ctx(t), modify,
		    tproc_fill, &fa)) != 0) {
			tui_error(t, rc);
			return;
		}
	}
	while (tui_form(t, title, f, T_NFIELDS)) {
		memset(&req, 0, sizeof(req));
		req.name = f[T_NAME].value;
		req.storage = modify != NULL ? NULL : f[T_STORAGE].value;
		req.card_serial = strcmp(f[T_CARD].value, "by storage") == 0 ?
		    NULL : f[T_CARD].value;
		req.serial_range = f[T_RANGE].value;
		req.pin_procedure = f[T_PIN].value;
		req.issuer_certs = f[T_ISSUER].value;
		req.key_type = f[T_KEY].value;
		memset(&cmd, 0, sizeof(cmd));
		tui_cmd_word(&cmd, modify != NULL ? "token-procedure modify" :
		    "token-procedure create");
		tui_cmd_add(&cmd, "-n", req.name);
		tui_cmd_add(&cmd, "--storage", req.storage);
		tui_cmd_add(&cmd, "--card-serial", req.card_serial);
		tui_cmd_add(&cmd, "--serial-range", req.serial_range);
		tui_cmd_add(&cmd, "--pin-procedure", req.pin_procedure);
		tui_cmd_add(&cmd, "--issuer-certs", req.issuer_certs);
		tui_cmd_add(&cmd, "--key-type", req.key_type);
		free(procs_v);
		snprintf(copy, sizeof(copy), "%s", f[T_PROCS].value);
		np = split_list(copy, &procs_v);
		for (i = 0; i < np; i++)
			tui_cmd_add(&cmd, "--cert-procedure", procs_v[i]);
		req.cert_procedures = (const char * const *)procs_v;
		req.ncert_procedures = np;
		if (awb_submit(t, modify != NULL ? tproc_modify_fn :
		    tproc_create_fn, &req, &cmd) >= 0)
			break;
	}
	free(procs_v);
}

static const struct tui_action tproc_actions[] = {
	{ 'n', "n", "New", "a Token Procedure Request", 0, tproc_new },
	{ 'm', "m", "Modify", "change the token procedure (a policy change)",
	    1, tproc_modify },
	{ 0, NULL, NULL, NULL, 0, NULL }
};

static struct tui_view tprocs = {
	.name = "Token procedures",
	.header = "Name                 Storage    PIN     Certificate "
	    "procedures",
	.depth = 0,
	.fetch = tprocs_fetch,
	.detail = tprocs_detail,
	.actions = tproc_actions,
	.empty = "No token procedures",
};

/* Distribution rules */

static int
dist_row(void *arg, const struct cm_dist_rule_info *ri)
{
	return tui_rows_add(arg, ri->id, ri->name, "%-16.16s %-4s %-24.24s %s",
	    ri->name, ri->method, ri->content, ri->url);
}

static int
dists_fetch(struct tui *t, struct tui_view *v, const struct tui_row *after,
    int back, size_t n, struct tui_rows *out)
{
	if (after != NULL)
		return 0;
	return cm_dist_rule_list(tui_ctx(t), NULL, dist_row, out);
}

/* Counts of a rule's queue, by state, for its detail. */
struct dist_counts {
	const char	*rule;
	long		 n[5];
	char		 error[300];
};

static int
dist_count(void *arg, const struct cm_publication_info *pi)
{
	static const char *const states[] = {
		"pending", "delivered", "failed", "superseded", "withdrawn"
	};
	struct dist_counts *c = arg;
	int i;

	for (i = 0; i < 5; i++)
		if (strcmp(pi->state, states[i]) == 0)
			c->n[i]++;
	if (pi->last_error != NULL && strcmp(pi->state, "delivered") != 0 &&
	    strcmp(pi->state, "superseded") != 0)
		snprintf(c->error, sizeof(c->error), "%s", pi->last_error);
	return 0;
}

static int
dist_text(void *arg, const struct cm_dist_rule_info *ri)
{
	const char *p, *nl;

	tui_text_add(arg, "Name:               %s", ri->name);
	tui_text_add(arg, "URL:                %s", ri->url);
	tui_text_add(arg, "Method:             %s", ri->method);
	tui_text_add(arg, "Publishes:          %s", ri->content);
	tui_text_add(arg, "Format:             %s", ri->format);
	tui_text_add(arg, "Client credential:  %s%s", ri->client != NULL ?
	    ri->client : "none", ri->client_pass ? " (passphrase sealed)" :
	    "");
	tui_text_add(arg, "HTTP basic user:    %s", ri->basic_user != NULL ?
	    ri->basic_user : "none");
	for (p = ri->attached; *p != '\0'; p = *nl != '\0' ? nl + 1 : nl) {
		nl = p + strcspn(p, "\n");
		tui_text_add(arg, "Attached:           %.*s", (int)(nl - p),
		    p);
	}
	return 0;
}

static int
dists_detail(struct tui *t, struct tui_view *v, const struct tui_row *r,
    char **text)
{
	struct dist_counts c;
	int rc;

	memset(&c, 0, sizeof(c));
	if ((rc = cm_dist_rule_list(tui_ctx(t), r->key, dist_text, text)) !=
	    0 || (rc = cm_publication_list(tui_ctx(t), NULL, r->key,
	    dist_count, &c)) != 0)
		return rc;
	tui_text_add(text, "Queue:              pending %ld, delivered %ld, "
	    "failed %ld, superseded %ld, withdrawn %ld", c.n[0], c.n[1],
	    c.n[2], c.n[3], c.n[4]);
	if (c.error[0] != '\0')
		tui_text_add(text, "Last error:         %s", c.error);
	return 0;
}

static int
dist_create_fn(struct cm_ctx *ctx, const void *req)
{
	return cm_dist_rule_create(ctx, req);
}

static const char *const methods[] = { "PUT", "POST", NULL };
static const char *const dist_formats[] = { "der", "pem", NULL };

/* The Distribution Rule Request. */
static void
dist_new(struct tui *t, struct tui_view *v, const struct tui_row *r)
{
	struct tui_field f[10];
	struct cm_dist_rule_req req;
	struct tui_cmd cmd;
	unsigned char *pem = NULL;
	char *bundle = NULL;
	size_t len = 0;
	int rc;

	memset(f, 0, sizeof(f));
	f[0].label = "Name";
	f[0].required = 1;
	f[0].check = tui_check_name;
	f[1].label = "URL";
	f[1].required = 1;
	f[1].help = "https://host[:port]/path: PUT appends each target name";
	f[2].label = "Method";
	f[2].kind = TUI_CHOICE;
	f[2].choices = methods;
	f[3].label = "Publishes";
	f[3].required = 1;
	f[3].help = "Comma list of crl, delta-crl, ca-cert, certs, cil";
	f[4].label = "Format";
	f[4].kind = TUI_CHOICE;
	f[4].choices = dist_formats;
	f[5].label = "Server CA file";
	f[5].required = 1;
	f[5].help = "PEM: the CA certificates the server's certificate must "
	    "chain to";
	f[6].label = "Client credential";
	f[6].help = "A PKCS#12 file or a pkcs11: URI; empty: none";
	f[7].label = "PKCS#12 passphrase";
	f[7].kind = TUI_SECRET;
	f[7].help = "Sealed under the key store; empty for a token key";
	f[8].label = "HTTP basic user";
	f[8].help = "Empty: no HTTP basic authentication";
	f[9].label = "HTTP basic password";
	f[9].kind = TUI_SECRET;
	f[9].help = "Sealed under the key store";
	while (tui_form(t, "Distribution Rule Request", f, 10)) {
		free(bundle);
		bundle = NULL;
		if ((rc = cm_file_read(tui_ctx(t), f[5].value, &pem,
		    &len)) != 0) {
			tui_error(t, rc);
			continue;
		}
		if ((bundle = calloc(1, len + 1)) != NULL)
			memcpy(bundle, pem, len);
		cm_free(pem);
		if (bundle == NULL)
			break;
		memset(&req, 0, sizeof(req));
		req.name = f[0].value;
		req.url = f[1].value;
		req.method = f[2].value;
		req.content = f[3].value;
		req.format = f[4].value;
		req.server_ca = bundle;
		req.client = f[6].value[0] != '\0' ? f[6].value : NULL;
		req.client_pass = f[7].value[0] != '\0' ? f[7].value : NULL;
		req.basic_user = f[8].value[0] != '\0' ? f[8].value : NULL;
		req.basic_password = f[9].value[0] != '\0' ? f[9].value : NULL;
		memset(&cmd, 0, sizeof(cmd));
		tui_cmd_word(&cmd, "dist-rule create");
		tui_cmd_add(&cmd, "-n", req.name);
		tui_cmd_add(&cmd, "--url", req.url);
		tui_cmd_add(&cmd, "--method", req.method);
		tui_cmd_add(&cmd, "--publish", req.content);
		tui_cmd_add(&cmd, "--format", req.format);
		tui_cmd_add(&cmd, "--server-ca", f[5].value);
		tui_cmd_add(&cmd, "--client", req.client);
		if (req.client_pass != NULL)
			tui_cmd_word(&cmd, "--client-pass-file FILE");
		tui_cmd_add(&cmd, "--basic-user", req.basic_user);
		if (req.basic_password != NULL)
			tui_cmd_word(&cmd, "--basic-password-file FILE");
		if (awb_submit(t, dist_create_fn, &req, &cmd) >= 0)
			break;
	}
	explicit_bzero(f[7].value, sizeof(f[7].value));
	explicit_bzero(f[9].value, sizeof(f[9].value));
	free(bundle);
}

static int
dist_attach_fn(struct cm_ctx *ctx, const void *arg)
{
	const char * const *a = arg;

	return cm_dist_rule_attach(ctx, a[0], a[1], a[2]);
}

static int
dist_detach_fn(struct cm_ctx *ctx, const void *arg)
{
	const char * const *a = arg;

	return cm_dist_rule_detach(ctx, a[0], a[1], a[2]);
}

/* Attach the rule to, or detach it from, a CA or a procedure. */
static void
dist_link(struct tui *t, const struct tui_row *r, int detach)
{
	struct tui_field f[3];
	struct tui_cmd cmd;
	const char *a[3];
	char title[300];

	memset(f, 0, sizeof(f));
	snprintf(title, sizeof(title), "%s rule \"%.200s\" %s one of:",
	    detach ? "Detach" : "Attach", r->key, detach ? "from" : "to");
	f[0].label = title;
	f[0].kind = TUI_NOTE;
	f[1].label = "CA";
	f[1].help = "Its CRLs, CA certificate, CIL and certificates";
	f[2].label = "Certificate procedure";
	f[2].help = "The certificates issued under it";
	while (tui_form(t, detach ? "Detach distribution rule" :
	    "Attach distribution rule", f, 3)) {
		a[0] = r->key;
		a[1] = f[1].value[0] != '\0' ? f[1].value : NULL;
		a[2] = f[2].value[0] != '\0' ? f[2].value : NULL;
		memset(&cmd, 0, sizeof(cmd));
		tui_cmd_word(&cmd, detach ? "dist-rule detach" :
		    "dist-rule attach");
		tui_cmd_add(&cmd, NULL, r->key);
		tui_cmd_add(&cmd, "--ca", a[1]);
		tui_cmd_add(&cmd, "--procedure", a[2]);
		if (awb_submit(t, detach ? dist_detach_fn : dist_attach_fn, a,
		    &cmd) >= 0)
			break;
	}
}

static void
dist_attach(struct tui *t, struct tui_view *v, const struct tui_row *r)
{
	dist_link(t, r, 0);
}

static void
dist_detach(struct tui *t, struct tui_view *v, const struct tui_row *r)
{
	dist_link(t, r, 1);
}

static const struct tui_action dist_actions[] = {
	{ 'n', "n", "New", "a Distribution Rule Request (a policy change)", 0,
	    dist_new },
	{ 'a', "a", "Attach", "attach the rule to a CA or a certificate "
	    "procedure (a policy change)", 1, dist_attach },
	{ 'd', "d", "Detach", "detach the rule from a CA or a certificate "
	    "procedure; what it has not delivered is withdrawn", 1,
	    dist_detach },
	{ 0, NULL, NULL, NULL, 0, NULL }
};

static struct tui_view dists = {
	.name = "Distribution rules",
	.header = "Name             How  Publishes                URL",
	.depth = 0,
	.fetch = dists_fetch,
	.detail = dists_detail,
	.actions = dist_actions,
	.empty = "No distribution rules",
};

/* The publication queue: what has not gone (pending and failed). */

static int
pub_row(void *arg, const struct cm_publication_info *pi)
{
	char key[32];

	if (strcmp(pi->state, "pending") != 0 &&
	    strcmp(pi->state, "failed") != 0)
		return 0;
	snprintf(key, sizeof(key), "%lld", (long long)pi->id);
	return tui_rows_add(arg, pi->id, key, "%-6lld %-9s %-14.14s "
	    "%-24.24s %2d %s", (long long)pi->id, pi->state, pi->rule,
	    pi->target, pi->attempts, pi->last_error != NULL ?
	    pi->last_error : "");
}

static int
pubs_fetch(struct tui *t, struct tui_view *v, const struct tui_row *after,
    int back, size_t n, struct tui_rows *out)
{
	if (after != NULL)
		return 0;
	return cm_publication_list(tui_ctx(t), NULL, NULL, pub_row, out);
}

struct pub_want {
	int64_t	 id;
	char	**text;
};

static int
pub_text(void *arg, const struct cm_publication_info *pi)
{
	struct pub_want *w = arg;
	char t1[32], t2[32];

	if (pi->id != w->id)
		return 0;
	cm_time_format(pi->created, t1, sizeof(t1));
	cm_time_format(pi->next_try, t2, sizeof(t2));
	tui_text_add(w->text, "Publication:  %lld", (long long)pi->id);
	tui_text_add(w->text, "State:        %s", pi->state);
	tui_text_add(w->text, "Rule:         %s", pi->rule);
	tui_text_add(w->text, "What:         %s of CA %s", pi->kind, pi->ca);
	tui_text_add(w->text, "Target:       %s", pi->target);
	tui_text_add(w->text, "Attempts:     %d", pi->attempts);
	tui_text_add(w->text, "Queued:       %s", t1);
	if (strcmp(pi->state, "pending") == 0)
		tui_text_add(w->text, "Next try:     %s", t2);
	return tui_text_add(w->text, "Last error:   %s", pi->last_error !=
	    NULL ? pi->last_error : "none");
}

static int
pubs_detail(struct tui *t, struct tui_view *v, const struct tui_row *r,
    char **text)
{
	struct pub_want w = { r->id, text };

	return cm_publication_list(tui_ctx(t), NULL, NULL, pub_text, &w);
}

static void
pub_retry(struct tui *t, struct tui_view *v, const struct tui_row *r)
{
	int64_t n = 0;
	int rc;

	if ((rc = cm_publication_retry(tui_ctx(t), r->id, &n)) != 0) {
		tui_error(t, rc);
		return;
	}
	tui_command(t, "publish retry %lld", (long long)r->id);
	tui_refresh(t, v);
}

static const struct tui_action pub_actions[] = {
	{ 'r', "r", "Retry", "put a failed publication back in the queue", 1,
	    pub_retry },
	{ 0, NULL, NULL, NULL, 0, NULL }
};

static struct tui_view pubs = {
	.name = "Publication queue",
	.header = "Id     State     Rule           Target                   "
	    "Tr Last error",
	.depth = 1,
	.fetch = pubs_fetch,
	.detail = pubs_detail,
	.actions = pub_actions,
	.empty = "Nothing waits: every publication was delivered",
};

/* Officer profiles */

static int
prof_row(void *arg, const struct cm_officer_profile_info *pi)
{
	return tui_rows_add(arg, pi->id, pi->name, "%-24.24s %s", pi->name,
	    pi->permissions);
}

static int
profs_fetch(struct tui *t, struct tui_view *v, const struct tui_row *after,
    int back, size_t n, struct tui_rows *out)
{
	if (after != NULL)
		return 0;
	return cm_officer_profile_list(tui_ctx(t), NULL, prof_row, out);
}

static int
prof_text(void *arg, const struct cm_officer_profile_info *pi)
{
	tui_text_add(arg, "Name:         %s", pi->name);
	return tui_text_add(arg, "Permissions:  %s", pi->permissions);
}

static int
profs_detail(struct tui *t, struct tui_view *v, const struct tui_row *r,
    char **text)
{
	return cm_officer_profile_list(tui_ctx(t), r->key, prof_text, text);
}

static int
prof_create_fn(struct cm_ctx *ctx, const void *req)
{
	return cm_officer_profile_create(ctx, req);
}

static int
prof_modify_fn(struct cm_ctx *ctx, const void *req)
{
	return cm_officer_profile_modify(ctx, req);
}

static int
prof_fill(void *arg, const struct cm_officer_profile_info *pi)
{
	struct tui_field *f = arg;

	snprintf(f[1].value, sizeof(f[1].value), "%s", pi->permissions);
	return 0;
}

/* The Officer Profile Request: a new one, or modify the named one. */
static void
prof_form(struct tui *t, const char *modify)
{
	struct tui_field f[2];
	struct cm_officer_profile_req req;
	struct tui_cmd cmd;
	char title[300];
	int rc;

	memset(f, 0, sizeof(f));
	f[0].label = "Name";
	f[0].required = 1;
	f[0].check = tui_check_name;
	f[1].label = "Permissions";
	f[1].required = 1;
	f[1].help = "Comma list of policy, issue, revoke, recover, audit";
	snprintf(title, sizeof(title), "Officer Profile Request");
	if (modify != NULL) {
		modify_name(&f[0], title, sizeof(title), "officer profile",
		    modify);
		if ((rc = cm_officer_profile_list(tui_ctx(t), modify, prof_fill,
		    f)) != 0) {
			tui_error(t, rc);
			return;
		}
	}
	while (tui_form(t, title, f, 2)) {
		req.name = f[0].value;
		req.permissions = f[1].value;
		memset(&cmd, 0, sizeof(cmd));
		tui_cmd_word(&cmd, modify != NULL ? "officer-profile modify" :
		    "officer-profile create");
		tui_cmd_add(&cmd, "-n", req.name);
		tui_cmd_add(&cmd, "--permissions", req.permissions);
		if (awb_submit(t, modify != NULL ? prof_modify_fn :
		    prof_create_fn, &req, &cmd) >= 0)
			break;
	}
}

static void
prof_new(struct tui *t, struct tui_view *v, const struct tui_row *r)
{
	prof_form(t, NULL);
}

static void
prof_modify(struct tui *t, struct tui_view *v, const struct tui_row *r)
{
	prof_form(t, r->key);
}

static const struct tui_action prof_actions[] = {
	{ 'n', "n", "New", "an Officer Profile Request", 0, prof_new },
	{ 'm', "m", "Modify", "change the profile's permissions (a policy "
	    "change)", 1, prof_modify },
	{ 0, NULL, NULL, NULL, 0, NULL }
};

static struct tui_view profs = {
	.name = "Officer profiles",
	.header = "Name                     Permissions",
	.depth = 0,
	.fetch = profs_fetch,
	.detail = profs_detail,
	.actions = prof_actions,
	.empty = "No officer profiles",
};

/* Officers */

static int
off_row(void *arg, const struct cm_officer_info *oi)
{
	return tui_rows_add(arg, oi->id, oi->name, "%-20.20s %-18.18s %-8s %s",
	    oi->name, oi->profile, oi->state, oi->subject);
}

static int
offs_fetch(struct tui *t, struct tui_view *v, const struct tui_row *after,
    int back, size_t n, struct tui_rows *out)
{
	if (after != NULL)
		return 0;
	return cm_officer_list(tui_ctx(t), NULL, off_row, out);
}

static int
off_text(void *arg, const struct cm_officer_info *oi)
{
	char c[32];

	tui_text_add(arg, "Name:         %s    (%s)", oi->name, oi->state);
	tui_text_add(arg, "Profile:      %s: %s", oi->profile,
	    oi->permissions);
	tui_text_add(arg, "Certificate:  %s", oi->subject);
	tui_text_add(arg, "Serial:       %s (CA %s)", oi->serial, oi->ca);
	return tui_text_add(arg, "Created:      %s", tui_when(oi->created, c,
	    sizeof(c)));
}

static int
offs_detail(struct tui *t, struct tui_view *v, const struct tui_row *r,
    char **text)
{
	return cm_officer_list(tui_ctx(t), r->key, off_text, text);
}

static int
off_create_fn(struct cm_ctx *ctx, const void *req)
{
	return cm_officer_create(ctx, req);
}

static void
off_new(struct tui *t, struct tui_view *v, const struct tui_row *r)
{
	struct tui_field f[3];
	struct cm_officer_req req;
	struct tui_names profiles;
	struct tui_cmd cmd;
	unsigned char *cert = NULL;
	size_t len;
	int rc;

	if ((rc = tui_names(tui_ctx(t), TUI_N_PROFILES, NULL, &profiles)) !=
	    0) {
		tui_error(t, rc);
		return;
	}
	memset(f, 0, sizeof(f));
	f[0].label = "Name";
	f[0].required = 1;
	f[1].label = "Officer profile";
	f[1].kind = TUI_CHOICE;
	f[1].choices = (const char * const *)profiles.v;
	f[1].required = 1;
	f[2].label = "Certificate file";
	f[2].required = 1;
	f[2].help = "The officer's certificate (PEM or DER), issued by a CA "
	    "in the CMDB";
	while (tui_form(t, "Officer Request", f, 3)) {
		if ((rc = cm_file_read(tui_ctx(t), f[2].value, &cert,
		    &len)) != 0) {
			tui_error(t, rc);
			continue;
		}
		memset(&req, 0, sizeof(req));
		req.name = f[0].value;
		req.profile = f[1].value;
		req.cert = cert;
		req.cert_len = len;
		memset(&cmd, 0, sizeof(cmd));
		tui_cmd_word(&cmd, "officer create");
		tui_cmd_add(&cmd, "-n", req.name);
		tui_cmd_add(&cmd, "--cert", f[2].value);
		tui_cmd_add(&cmd, "--profile", req.profile);
		rc = awb_submit(t, off_create_fn, &req, &cmd);
		cm_free(cert);
		if (rc >= 0)
			break;
	}
	tui_names_free(&profiles);
}

static int
off_disable_fn(struct cm_ctx *ctx, const void *req)
{
	return cm_officer_disable(ctx, req);
}

static void
off_disable(struct tui *t, struct tui_view *v, const struct tui_row *r)
{
	struct tui_cmd cmd;
	char q[300];

	snprintf(q, sizeof(q), "Disable officer \"%s\"?", r->key);
	if (!tui_confirm(t, "Officers", q))
		return;
	memset(&cmd, 0, sizeof(cmd));
	tui_cmd_word(&cmd, "officer disable");
	tui_cmd_add(&cmd, NULL, r->key);
	awb_submit(t, off_disable_fn, r->key, &cmd);
}

struct off_modify {
	const char	*name;
	const char	*profile;
};

static int
off_modify_fn(struct cm_ctx *ctx, const void *req)
{
	const struct off_modify *m = req;

	return cm_officer_modify(ctx, m->name, m->profile);
}

static int
off_fill(void *arg, const struct cm_officer_info *oi)
{
	struct tui_field *f = arg;

	snprintf(f[1].value, sizeof(f[1].value), "%s", oi->profile);
	return 0;
}

/* Another officer profile for the officer of the current row. */
static void
off_modify(struct tui *t, struct tui_view *v, const struct tui_row *r)
{
	struct tui_field f[2];
	struct tui_names profiles;
	struct off_modify m;
	struct tui_cmd cmd;
	char title[300];
	int rc;

	if ((rc = tui_names(tui_ctx(t), TUI_N_PROFILES, NULL, &profiles)) !=
	    0) {
		tui_error(t, rc);
		return;
	}
	memset(f, 0, sizeof(f));
	snprintf(title, sizeof(title), "Officer \"%.200s\"", r->key);
	f[0].label = title;
	f[0].kind = TUI_NOTE;
	f[1].label = "Officer profile";
	f[1].kind = TUI_CHOICE;
	f[1].choices = (const char * const *)profiles.v;
	f[1].required = 1;
	f[1].help = "What the officer may do from now on";
	if ((rc = cm_officer_list(tui_ctx(t), r->key, off_fill, f)) != 0) {
		tui_error(t, rc);
		tui_names_free(&profiles);
		return;
	}
	while (tui_form(t, "Modify officer", f, 2)) {
		m.name = r->key;
		m.profile = f[1].value;
		memset(&cmd, 0, sizeof(cmd));
		tui_cmd_word(&cmd, "officer modify");
		tui_cmd_add(&cmd, NULL, r->key);
		tui_cmd_add(&cmd, "--profile", m.profile);
		if (awb_submit(t, off_modify_fn, &m, &cmd) >= 0)
			break;
	}
	tui_names_free(&profiles);
}

static const struct tui_action off_actions[] = {
	{ 'n', "n", "New", "an Officer Request: register an officer", 0,
	    off_new },
	{ 'm', "m", "Modify", "give the officer another officer profile", 1,
	    off_modify },
	{ 'd', "d", "Disable", "disable the officer", 1, off_disable },
	{ 0, NULL, NULL, NULL, 0, NULL }
};

static struct tui_view offs = {
	.name = "Officers",
	.header = "Name                 Profile            State    "
	    "Certificate",
	.depth = 0,
	.fetch = offs_fetch,
	.detail = offs_detail,
	.actions = off_actions,
	.empty = "No officers",
};

/* Changes */

static int
change_row(void *arg, const struct cm_change_info *ci)
{
	char c[32], id[24];

	snprintf(id, sizeof(id), "%lld", (long long)ci->id);
	return tui_rows_add(arg, ci->id, id, "%-5lld %-9s %-22.22s %-18.18s "
	    "%-16s %s", (long long)ci->id, ci->state, ci->type,
	    ci->object != NULL ? ci->object : "", tui_when(ci->created, c,
	    sizeof(c)), ci->signers != NULL ? ci->signers : "");
}

static int
changes_fetch(struct tui *t, struct tui_view *v, const struct tui_row *after,
    int back, size_t n, struct tui_rows *out)
{
	if (after != NULL)
		return 0;
	return cm_change_list(tui_ctx(t), 0, v->filter, change_row, out);
}

static int
change_text(void *arg, const struct cm_change_info *ci)
{
	char a[32], b[32];

	tui_text_add(arg, "Change %lld: %s of %s, %s", (long long)ci->id,
	    ci->type, ci->object != NULL ? ci->object : "-", ci->state);
	tui_text_add(arg, "Made %s, applied %s; signed by %s",
	    tui_when(ci->created, a, sizeof(a)), tui_when(ci->applied, b,
	    sizeof(b)), ci->signers != NULL && ci->signers[0] ? ci->signers :
	    "nobody");
	if (ci->reason != NULL)
		tui_text_add(arg, "Rejected: %s", ci->reason);
	tui_text_add(arg, "SHA-256 of the document: %s", ci->digest);
	return tui_text_add(arg, "%s", ci->document);
}

static int
changes_detail(struct tui *t, struct tui_view *v, const struct tui_row *r,
    char **text)
{
	return cm_change_list(tui_ctx(t), r->id, NULL, change_text, text);
}

static void
change_sign(struct tui *t, struct tui_view *v, const struct tui_row *r)
{
	char *text = NULL;
	int rc;

	if ((rc = changes_detail(t, v, r, &text)) != 0) {
		tui_error(t, rc);
		return;
	}
	tui_pager(t, "The document you sign", text);
	free(text);
	if (!tui_confirm(t, "Sign", "Sign this change with your officer key? "
	    "With the second signature it is applied."))
		return;
	if ((rc = cm_change_sign(tui_ctx(t), r->id)) != 0) {
		tui_error(t, rc);
		return;
	}
	tui_command(t, "change sign %lld", (long long)r->id);
	tui_refresh_all(t);
}

static void
change_reject(struct tui *t, struct tui_view *v, const struct tui_row *r)
{
	struct tui_field f[1];
	int rc;

	memset(f, 0, sizeof(f));
	f[0].label = "Reason";
	f[0].help = "Why the change is rejected, for the audit log";
	if (!tui_form(t, "Reject change", f, 1))
		return;
	if ((rc = cm_change_reject(tui_ctx(t), r->id, f[0].value[0] ?
	    f[0].value : NULL)) != 0) {
		tui_error(t, rc);
		return;
	}
	tui_command(t, "change reject %lld%s%s", (long long)r->id,
	    f[0].value[0] ? " -r " : "", f[0].value[0] ? tui_q(f[0].value) :
	    "");
	tui_refresh_all(t);
}

static const struct tui_action pending_actions[] = {
	{ 's', "s", "Sign", "read the document, then sign the change", 1,
	    change_sign },
	{ 'j', "j", "Reject", "reject the change", 1, change_reject },
	{ 0, NULL, NULL, NULL, 0, NULL }
};

#define CHANGE_HEADER "Id    State     Type                   Object        " \
	"     Made             Signed by"

static struct tui_view pending = {
	.name = "Pending changes",
	.header = CHANGE_HEADER,
	.depth = 0,
	.fetch = changes_fetch,
	.detail = changes_detail,
	.actions = pending_actions,
	.empty = "No change waits for a " "signature",
	.filter = "pending",
};
static struct tui_view history = {
	.name = "All changes",
	.header = CHANGE_HEADER,
	.depth = 1,
	.fetch = changes_fetch,
	.detail = changes_detail,
	.empty = "No changes",
};

/* Audit log: paged, newest last, with a filter. */

static struct audit_state {
	struct cm_audit_filter	f;
	char			actor[512];
	char			action[512];
	char			since[512];
	char			until[512];
	char			result[512];
} audit_state;

static int
audit_row(void *arg, const struct cm_audit_info *ai)
{
	char c[32], seq[24];

	snprintf(seq, sizeof(seq), "%lld", (long long)ai->seq);
	return tui_rows_add(arg, ai->seq, seq, "%-6lld %-16s %-24.24s %-20.20s "
	    "%-7s %s", (long long)ai->seq, tui_when(ai->time, c, sizeof(c)),
	    ai->actor, ai->action, ai->result, ai->object);
}

static int
audit_fetch(struct tui *t, struct tui_view *v, const struct tui_row *after,
    int back, size_t n, struct tui_rows *out)
{
	struct cm_audit_filter f = audit_state.f;

	f.after_seq = after != NULL ? after->id : 0;
	f.backward = back;
	f.limit = (int)n;
	return cm_audit_list(tui_ctx(t), &f, audit_row, out);
}

static int
audit_text(void *arg, const struct cm_audit_info *ai)
{
	char c[32];

	tui_text_add(arg, "Record %lld at %s: %s", (long long)ai->seq,
	    tui_when(ai->time, c, sizeof(c)), ai->result);
	tui_text_add(arg, "Actor:   %s", ai->actor);
	tui_text_add(arg, "Action:  %s", ai->action);
	tui_text_add(arg, "Object:  %s", ai->object);
	return tui_text_add(arg, "Detail:  %s", ai->detail);
}

static int
audit_detail(struct tui *t, struct tui_view *v, const struct tui_row *r,
    char **text)
{
	struct cm_audit_filter f;

	memset(&f, 0, sizeof(f));
	f.after_seq = r->id - 1;
	f.limit = 1;
	return cm_audit_list(tui_ctx(t), &f, audit_text, text);
}

/* Copy a form value into the filter's own storage. */
static void
setv(char *dst, const char *src)
{
	size_t n = strnlen(src, 511);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

static void
audit_filter(struct tui *t, struct tui_view *v, const struct tui_row *r)
{
	static const char *const results[] = { "any", "ok", "refused", NULL };
	struct audit_state *s = &audit_state;
	struct tui_field f[5];
	struct tui_cmd cmd;
	time_t since = 0, until = 0;
	int rc;

	memset(f, 0, sizeof(f));
	f[0].label = "Officer or actor";
	f[0].help = "Records whose actor contains this, as an officer's name";
	setv(f[0].value, s->actor);
	f[1].label = "Action";
	f[1].help = "Records whose action starts so, as ca. or change.";
	setv(f[1].value, s->action);
	f[2].label = "Since";
	f[2].help = "A time, as 2026-11-23 or 2026-11-23T10:00:00Z";
	setv(f[2].value, s->since);
	f[3].label = "Until";
	setv(f[3].value, s->until);
	f[4].label = "Result";
	f[4].kind = TUI_CHOICE;
	f[4].choices = results;
	setv(f[4].value, s->result[0] ? s->result : "any");
	while (tui_form(t, "Filter the audit log", f, 5)) {
		if ((f[2].value[0] && (rc = cm_time_parse(tui_ctx(t), "since",
		    f[2].value, &since)) != 0) || (f[3].value[0] &&
		    (rc = cm_time_parse(tui_ctx(t), "until", f[3].value,
		    &until)) != 0)) {
			tui_error(t, rc);
			continue;
		}
		setv(s->actor, f[0].value);
		setv(s->action, f[1].value);
		setv(s->since, f[2].value);
		setv(s->until, f[3].value);
		setv(s->result, strcmp(f[4].value, "any") == 0 ? "" :
		    f[4].value);
		memset(&s->f, 0, sizeof(s->f));
		s->f.actor = s->actor[0] ? s->actor : NULL;
		s->f.action = s->action[0] ? s->action : NULL;
		s->f.since = since;
		s->f.until = until;
		s->f.result = s->result[0] ? s->result : NULL;
		memset(&cmd, 0, sizeof(cmd));
		tui_cmd_word(&cmd, "audit list");
		tui_cmd_add(&cmd, "--actor", s->f.actor);
		tui_cmd_add(&cmd, "--action", s->f.action);
		tui_cmd_add(&cmd, "--since", s->since);
		tui_cmd_add(&cmd, "--until", s->until);
		tui_cmd_add(&cmd, "--result", s->f.result);
		tui_refresh(t, v);
		tui_command(t, "%s", cmd.buf);
		break;
	}
}

static void
audit_verify_key(struct tui *t, struct tui_view *v, const struct tui_row *r)
{
	awb_verify(t);
}

static const struct tui_action audit_actions[] = {
	{ '/', "/", "Filter", "filter by officer, action, time and result", 0,
	    audit_filter },
	{ 'v', "v", "Verify", "verify the audit log: the first bad record", 0,
	    audit_verify_key },
	{ 0, NULL, NULL, NULL, 0, NULL }
};

struct tui_view awb_view_audit = {
	.name = "Audit log",
	.header = "Seq    Time             Actor                    "
	    "Action               Result  Object",
	.depth = 0,
	.paged = 1,
	.fetch = audit_fetch,
	.detail = audit_detail,
	.actions = audit_actions,
	.empty = "No audit records match",
};

struct tui_view *awb_views[] = {
	&keys_all, &keys_inuse, &keys_retired, &cas_view, &procs, &tprocs,
	&dists, &pubs, &profs, &offs, &pending, &history, &awb_view_audit
};
const size_t awb_nviews = sizeof(awb_views) / sizeof(awb_views[0]);
