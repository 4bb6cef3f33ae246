/*
 * procedure.c: certificate procedures, the policy for one kind of
 * certificate: issuing CA, format, key usage, extended key usage,
 * validity, digest, the CA chain to hand out, allowed key types and custom
 * format fields.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "extern.h"

#define DEFAULT_KEYS	"rsa:2048,ec:p256,ec:p384,ec:p521,ed25519"

static int
keys_check(struct cm_ctx *ctx, const char *proc, const char *list)
{
	char **v = NULL, *end;
	size_t n = 0, i;
	long bits;
	int rc;

	if ((rc = cm_split(list, ',', &v, &n)) != 0)
		return rc;
	if (n == 0)
		rc = cm_err(ctx, CM_ERR_INVAL, "certificate procedure \"%s\": "
		    "no key types allowed", proc);
	for (i = 0; rc == 0 && i < n; i++) {
		if (strncmp(v[i], "rsa:", 4) == 0) {
			bits = strtol(v[i] + 4, &end, 10);
			if (*end == '\0' && bits >= 2048 && bits <= 16384)
				continue;
			rc = cm_err(ctx, CM_ERR_POLICY, "certificate procedure "
			    "\"%s\": \"%s\": RSA keys must be of 2048 to 16384 "
			    "bits", proc, v[i]);
		} else if (strcmp(v[i], "ec:p256") != 0 &&
		    strcmp(v[i], "ec:p384") != 0 &&
		    strcmp(v[i], "ec:p521") != 0 &&
		    strcmp(v[i], "ed25519") != 0)
			rc = cm_err(ctx, CM_ERR_INVAL, "certificate procedure "
			    "\"%s\": unknown key type \"%s\" (rsa:BITS, ec:p256, "
			    "ec:p384, ec:p521, ed25519)", proc, v[i]);
	}
	cm_split_free(v, n);
	return rc;
}

/* Check one KEY=VALUE field and append it to *out.  0 or CM_ERR_INVAL. */
static int
field_check(struct cm_ctx *ctx, const struct cm_cert_procedure_req *req,
    const char *kv, char **out)
{
	const char *eq = strchr(kv, '=');
	const char *v;
	char key[64], *n, *end;
	ASN1_OBJECT *o;
	long pl;
	size_t klen;

	if (eq == NULL || eq == kv || (klen = (size_t)(eq - kv)) >= sizeof(key))
		return cm_err(ctx, CM_ERR_INVAL, "certificate procedure \"%s\": "
		    "field \"%s\" is not KEY=VALUE", req->name, kv);
	memcpy(key, kv, klen);
	key[klen] = '\0';
	v = eq + 1;
	if (strcmp(key, "certificate-policy") == 0) {
		if (strspn(v, "0123456789.") != strlen(v) || *v == '\0' ||
		    (o = OBJ_txt2obj(v, 1)) == NULL)
			return cm_err(ctx, CM_ERR_INVAL, "certificate procedure "
			    "\"%s\": certificate-policy \"%s\" is not a dotted "
			    "OID", req->name, v);
		ASN1_OBJECT_free(o);
	} else if (strcmp(key, "ocsp-url") == 0) {
		if (strncmp(v, "http://", 7) != 0 &&
		    strncmp(v, "https://", 8) != 0)
			return cm_err(ctx, CM_ERR_INVAL, "certificate procedure "
			    "\"%s\": ocsp-url \"%s\" must be an http or https "
			    "URL", req->name, v);
		/* It goes into an extension's configuration string. */
		if (strpbrk(v, ",; \t\n") != NULL)
			return cm_err(ctx, CM_ERR_INVAL, "certificate procedure "
			    "\"%s\": ocsp-url \"%s\" must not contain commas, "
			    "semicolons or white space", req->name, v);
	} else if (strcmp(key, "pathlen") == 0) {
		pl = strtol(v, &end, 10);
		if (*v == '\0' || *end != '\0' || pl < 0 || pl > 16)
			return cm_err(ctx, CM_ERR_INVAL, "certificate procedure "
			    "\"%s\": pathlen \"%s\" must be 0 to 16", req->name,
			    v);
		if (strcmp(req->format, "ca") != 0)
			return cm_err(ctx, CM_ERR_INVAL, "certificate procedure "
			    "\"%s\": pathlen applies to format ca only",
			    req->name);
	} else if (strcmp(key, "challenge-password") == 0) {
		if (strcmp(v, "allow") != 0 && strcmp(v, "refuse") != 0)
			return cm_err(ctx, CM_ERR_INVAL, "certificate procedure "
			    "\"%s\": challenge-password must be allow or "
			    "refuse", req->name);
	} else
		return cm_err(ctx, CM_ERR_INVAL, "certificate procedure \"%s\": "
		    "unknown field \"%s\" (certificate-policy, ocsp-url, "
		    "pathlen, challenge-password)", req->name, key);
	if (cm_asprintf(&n, "%s%s\n", *out != NULL ? *out : "", kv) != 0)
		return CM_ERR_NOMEM;
	free(*out);
	*out = n;
	return 0;
}

/*
 * A procedure of format ca makes sub CAs under its CA: the CA's path
 * length must allow one, and the pathlen field must be below it (RFC 5280
 * 4.2.1.9).
 */
static int
ca_pathlen_check(struct cm_ctx *ctx, const char *proc, const char *ca,
    const char *fields)
{
	const char *p;
	int64_t pathlen;
	long want = -1;
	int rc;

	rc = store_int(ctx, &pathlen, "SELECT coalesce(pathlen, -1) FROM cas "
	    "WHERE name = ?", "t", ca);
	if (rc != 0)
		return rc == CM_ERR_NOTFOUND ? cm_err(ctx, rc, "CA \"%s\" not "
		    "found", ca) : rc;
	if (fields != NULL && (p = strstr(fields, "pathlen=")) != NULL &&
	    (p == fields || p[-1] == '\n'))
		want = strtol(p + 8, NULL, 10);
	if (pathlen == 0)
		return cm_err(ctx, CM_ERR_POLICY, "certificate procedure \"%s\": "
		    "CA \"%s\" has path length 0 and cannot certify sub CAs "
		    "(RFC 5280 4.2.1.9)", proc, ca);
	if (pathlen > 0 && want >= pathlen)
		return cm_err(ctx, CM_ERR_POLICY, "certificate procedure \"%s\": "
		    "pathlen %ld must be below the %lld of CA \"%s\" (RFC 5280 "
		    "4.2.1.9)", proc, want, (long long)pathlen, ca);
	return 0;
}

/*
 * Create a certificate procedure, as a policy change.  Every setting is
 * checked against the format here, so the change holds only valid ones.
 */
static int
procedure_request(struct cm_ctx *ctx, const struct cm_cert_procedure_req *req,
    const char *type)
{
	const struct format *f;
	struct change *ch = NULL;
	char *fields = NULL, *ku = NULL, *eku = NULL, *keys = NULL;
	const char *digest, *chain;
	int64_t id;
	size_t i;
	int rc;
	time_t t;

	if (req->name == NULL || *req->name == '\0') {
		rc = cm_err(ctx, CM_ERR_INVAL, "certificate procedure: a name "
		    "is required");
		goto out;
	}
	rc = store_int(ctx, &id, "SELECT id FROM procedures WHERE name = ?",
	    "t", req->name);
	if ((rc = change_target(ctx, rc, strcmp(type, "cert-procedure.modify")
	    == 0, "certificate procedure", req->name)) != 0)
		goto out;
	if (req->ca == NULL) {
		rc = cm_err(ctx, CM_ERR_INVAL, "certificate procedure \"%s\": "
		    "an issuing CA is required", req->name);
		goto out;
	}
	if ((rc = ca_lookup(ctx, req->ca, &id)) != 0)
		goto out;
	rc = store_int(ctx, &id, "SELECT id FROM cas WHERE name = ? AND "
	    "state = 'active'", "t", req->ca);
	if (rc == CM_ERR_NOTFOUND) {
		rc = cm_err(ctx, CM_ERR_POLICY, "certificate procedure \"%s\": "
		    "CA \"%s\" is not active", req->name, req->ca);
		goto out;
	} else if (rc != 0)
		goto out;
	if ((f = format_find(req->format)) == NULL) {
		rc = cm_err(ctx, CM_ERR_INVAL, "certificate procedure \"%s\": "
		    "unknown format \"%s\" (rfc5280, server, client, email, ca, "
		    "ocsp-signing, code-signing, estenroll)", req->name,
		    req->format == NULL ? "" : req->format);
		goto out;
	}
	if ((rc = cm_list_norm(cm_def(req->key_usage, format_ku(f)), &ku)) != 0 ||
	    (rc = cm_list_norm(cm_def(req->eku, format_eku(f)), &eku)) != 0 ||
	    (rc = cm_list_norm(cm_def(req->allow_keys, DEFAULT_KEYS), &keys)) != 0)
		goto out;
	if ((rc = format_check(ctx, f, req->name, ku, eku)) != 0)
		goto out;
	if (format_is_ca(f) && (!cm_list_has(ku, "keyCertSign"))) {
		rc = cm_err(ctx, CM_ERR_POLICY, "certificate procedure \"%s\": "
		    "format ca needs key usage keyCertSign (RFC 5280 4.2.1.3)",
		    req->name);
		goto out;
	}
	if ((rc = cm_duration_parse(ctx, "validity", cm_def(req->validity,
	    "365d"), time(NULL), &t)) != 0)
		goto out;
	digest = cm_def(req->digest, "sha256");
	if (strcmp(digest, "sha256") != 0 && strcmp(digest, "sha384") != 0 &&
	    strcmp(digest, "sha512") != 0) {
		rc = cm_err(ctx, CM_ERR_INVAL, "certificate procedure \"%s\": "
		    "digest \"%s\" (sha256, sha384 or sha512)", req->name,
		    digest);
		goto out;
	}
	chain = cm_def(req->chain, "none");
	if (strcmp(chain, "none") != 0 && strcmp(chain, "ca") != 0 &&
	    strcmp(chain, "full") != 0) {
		rc = cm_err(ctx, CM_ERR_INVAL, "certificate procedure \"%s\": "
		    "chain \"%s\" (none, ca or full)", req->name, chain);
		goto out;
	}
	if ((rc = keys_check(ctx, req->name, keys)) != 0)
		goto out;
	for (i = 0; i < req->nfields; i++)
		if ((rc = field_check(ctx, req, req->fields[i], &fields)) != 0)
			goto out;
	if (format_is_ca(f) && (rc = ca_pathlen_check(ctx, req->name, req->ca,
	    fields)) != 0)
		goto out;
	if ((ch = change_new(type)) == NULL ||
	    change_set(ch, "name", req->name) != 0 ||
	    change_set(ch, "ca", req->ca) != 0 ||
	    change_set(ch, "format", req->format) != 0 ||
	    change_set(ch, "key-usage", ku) != 0 ||
	    change_set(ch, "eku", eku) != 0 ||
	    change_set(ch, "validity", cm_def(req->validity, "365d")) != 0 ||
	    change_set(ch, "digest", digest) != 0 ||
	    change_set(ch, "chain", chain) != 0 ||
	    change_set(ch, "allow-keys", keys) != 0 ||
	    change_set(ch, "fields", cm_def(fields, "")) != 0) {
		rc = CM_ERR_NOMEM;
		goto out;
	}
	rc = change_submit(ctx, ch, req->name);
	change_free(ch);
	free(fields);
	free(ku);
	free(eku);
	free(keys);
	return rc;
out:
	free(fields);
	free(ku);
	free(eku);
	free(keys);
	change_free(ch);
	return audit_done(ctx, rc, type, req->name);
}

/* Create a certificate procedure, as a policy change. */
int
cm_cert_procedure_create(struct cm_ctx *ctx,
    const struct cm_cert_procedure_req *req)
{
	return procedure_request(ctx, req, "cert-procedure.create");
}

struct pcur {
	char	*ca, *format, *ku, *eku, *validity, *digest, *chain, *keys;
	char	*fields;
	int	 found;
};

static int
pcur_cb(void *arg, const struct cm_cert_procedure_info *pi)
{
	struct pcur *c = arg;

	c->found = 1;
	if ((c->ca = cm_strdup(pi->ca)) == NULL ||
	    (c->format = cm_strdup(pi->format)) == NULL ||
	    (c->ku = cm_strdup(pi->key_usage)) == NULL ||
	    (c->eku = cm_strdup(pi->eku)) == NULL ||
	    (c->validity = cm_strdup(pi->validity)) == NULL ||
	    (c->digest = cm_strdup(pi->digest)) == NULL ||
	    (c->chain = cm_strdup(pi->chain)) == NULL ||
	    (c->keys = cm_strdup(pi->allow_keys)) == NULL ||
	    (c->fields = cm_strdup(pi->fields)) == NULL)
		return CM_ERR_NOMEM;
	return 0;
}

/*
 * Change a certificate procedure, as a policy change: what req leaves NULL
 * keeps its value (fields: a NULL array keeps them, an empty one clears
 * them).  The rules of create apply to the result.  Certificates already
 * issued do not change.
 */
int
cm_cert_procedure_modify(struct cm_ctx *ctx,
    const struct cm_cert_procedure_req *req)
{
	struct cm_cert_procedure_req m = *req;
	struct pcur c;
	char **fv = NULL;
	size_t nf = 0;
	int rc;

	memset(&c, 0, sizeof(c));
	if (req->name == NULL || *req->name == '\0')
		return cm_err(ctx, CM_ERR_INVAL, "certificate procedure: a name "
		    "is required");
	if ((rc = cm_cert_procedure_list(ctx, req->name, pcur_cb, &c)) != 0) {
		rc = audit_done(ctx, rc, "cert-procedure.modify", req->name);
		goto out;
	}
	m.ca = cm_def(req->ca, c.ca);
	m.format = cm_def(req->format, c.format);
	/* NULL keeps a list; an empty one is the format's (NULL to create). */
	m.key_usage = req->key_usage == NULL ? c.ku : *req->key_usage != '\0' ?
	    req->key_usage : NULL;
	m.eku = req->eku == NULL ? c.eku : *req->eku != '\0' ? req->eku :
	    NULL;
	m.validity = cm_def(req->validity, c.validity);
	m.digest = cm_def(req->digest, c.digest);
	m.chain = cm_def(req->chain, c.chain);
	m.allow_keys = req->allow_keys == NULL ? c.keys : *req->allow_keys !=
	    '\0' ? req->allow_keys : NULL;
	if (req->fields == NULL) {
		if (c.fields[0] != '\0' &&
		    (rc = cm_split(c.fields, '\n', &fv, &nf)) != 0)
			goto out;
		m.fields = (const char * const *)fv;
		m.nfields = nf;
	}
	rc = procedure_request(ctx, &m, "cert-procedure.modify");
out:
	cm_split_free(fv, nf);
	free(c.ca);
	free(c.format);
	free(c.ku);
	free(c.eku);
	free(c.validity);
	free(c.digest);
	free(c.chain);
	free(c.keys);
	free(c.fields);
	return rc;
}

struct users_arg {
	struct cm_ctx	*ctx;
	const char	*proc;
	const char	*allow;
	int		 rc;
};

static int
users_cb(void *arg, struct store_row *row)
{
	struct users_arg *a = arg;
	const char *tp = store_row_text(row, 0), *kt = store_row_text(row, 1);
	long min;
	int ok;

	ok = issue_key_allowed(a->allow, kt, strncmp(kt, "rsa:", 4) == 0 ?
	    atoi(kt + 4) : 0, &min);
	if (ok > 0)
		return 0;
	a->rc = ok < 0 ? ok : cm_err(a->ctx, CM_ERR_POLICY, "certificate "
	    "procedure \"%s\": token procedure \"%s\" makes %s keys for it, "
	    "which the new allowed keys (%s) leave out", a->proc, tp, kt,
	    a->allow);
	return 1;
}

/* Whether the token procedures that use a procedure keep their key type. */
static int
users_allowed(struct cm_ctx *ctx, const char *proc, const char *allow)
{
	struct users_arg a = { ctx, proc, allow, 0 };
	int rc;

	rc = store_query(ctx, "SELECT t.name, t.key_type FROM token_procedures "
	    "t JOIN token_procedure_keys k ON k.token_procedure_id = t.id JOIN "
	    "procedures p ON p.id = k.procedure_id WHERE p.name = ?", users_cb,
	    &a, "t", proc);
	return rc != 0 ? rc : a.rc;
}

/* The fields of a change document, checked as create checks them. */
static int
apply_fields_check(struct cm_ctx *ctx, const struct change *ch)
{
	struct cm_cert_procedure_req req;
	char **v = NULL, *out = NULL;
	const char *fields = cm_def(change_get(ch, "fields"), "");
	size_t n = 0, i;
	int rc = 0;

	memset(&req, 0, sizeof(req));
	req.name = change_get(ch, "name");
	req.format = change_get(ch, "format");
	if (*fields == '\0')
		return 0;
	if ((rc = cm_split(fields, '\n', &v, &n)) != 0)
		return rc;
	for (i = 0; i < n && rc == 0; i++)
		if (*v[i] != '\0')
			rc = field_check(ctx, &req, v[i], &out);
	free(out);
	cm_split_free(v, n);
	return rc;
}

/* Apply cert-procedure.create and cert-procedure.modify. */
int
procedure_apply_create(struct cm_ctx *ctx, const struct change *ch)
{
	int64_t ca_id, other;
	int rc, modify = strcmp(change_type(ch), "cert-procedure.modify") ==
	    0;

	if (change_get(ch, "name") == NULL || change_get(ch, "format") == NULL)
		return cm_err(ctx, CM_ERR_INVAL, "cert-procedure.create: name "
		    "or format missing");
	if (format_find(change_get(ch, "format")) == NULL)
		return cm_err(ctx, CM_ERR_INVAL, "cert-procedure.create: "
		    "unknown format");
	/* The checks of create, again: the change may come from an import. */
	if ((rc = format_check(ctx, format_find(change_get(ch, "format")),
	    change_get(ch, "name"), cm_def(change_get(ch, "key-usage"), ""),
	    cm_def(change_get(ch, "eku"), ""))) != 0 ||
	    (rc = keys_check(ctx, change_get(ch, "name"),
	    cm_def(change_get(ch, "allow-keys"), ""))) != 0)
		return rc;
	if (cm_duration_seconds(cm_def(change_get(ch, "validity"), "")) <= 0 ||
	    !cm_list_has("sha256,sha384,sha512", cm_def(change_get(ch, "digest"),
	    "")) || !cm_list_has("none,ca,full", cm_def(change_get(ch, "chain"),
	    "")))
		return cm_err(ctx, CM_ERR_INVAL, "certificate procedure \"%s\": "
		    "a validity, digest or chain that cert-procedure create does "
		    "not take", change_get(ch, "name"));
	if (format_is_ca(format_find(change_get(ch, "format"))) &&
	    !cm_list_has(cm_def(change_get(ch, "key-usage"), ""), "keyCertSign"))
		return cm_err(ctx, CM_ERR_POLICY, "certificate procedure \"%s\": "
		    "format ca needs key usage keyCertSign (RFC 5280 4.2.1.3)",
		    change_get(ch, "name"));
	if ((rc = apply_fields_check(ctx, ch)) != 0)
		return rc;
	if ((rc = ca_lookup(ctx, change_get(ch, "ca"), &ca_id)) != 0)
		return rc;
	rc = store_int(ctx, &other, "SELECT id FROM procedures WHERE name = ?",
	    "t", change_get(ch, "name"));
	if ((rc = change_target(ctx, rc, modify, "certificate procedure",
	    change_get(ch, "name"))) != 0)
		return rc;
	if (store_int(ctx, &other, "SELECT id FROM cas WHERE id = ? AND state "
	    "= 'active'", "i", ca_id) != 0)
		return cm_err(ctx, CM_ERR_POLICY, "certificate procedure \"%s\": "
		    "CA \"%s\" is not active", change_get(ch, "name"),
		    change_get(ch, "ca"));
	if (strcmp(change_get(ch, "format"), "ca") == 0 &&
	    (rc = ca_pathlen_check(ctx, change_get(ch, "name"),
	    change_get(ch, "ca"), change_get(ch, "fields"))) != 0)
		return rc;
	if (modify && (rc = users_allowed(ctx, change_get(ch, "name"),
	    cm_def(change_get(ch, "allow-keys"), ""))) != 0)
		return rc;
	if (modify)
		return store_exec(ctx, "UPDATE procedures SET ca_id = ?2, format "
		    "= ?3, key_usage = ?4, eku = ?5, validity = ?6, digest = ?7, "
		    "chain = ?8, allow_keys = ?9, fields = ?10 WHERE name = ?1",
		    "tit" "ttt" "ttt" "t", change_get(ch, "name"), ca_id,
		    change_get(ch, "format"), cm_def(change_get(ch,
		    "key-usage"), ""), cm_def(change_get(ch, "eku"), ""),
		    change_get(ch, "validity"), change_get(ch, "digest"),
		    change_get(ch, "chain"), change_get(ch, "allow-keys"),
		    cm_def(change_get(ch, "fields"), ""));
	return store_exec(ctx, "INSERT INTO procedures (name, ca_id, format, "
	    "key_usage, eku, validity, digest, chain, allow_keys, fields, "
	    "created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
	    "tit" "ttt" "ttt" "ti", change_get(ch, "name"), ca_id,
	    change_get(ch, "format"), cm_def(change_get(ch, "key-usage"), ""),
	    cm_def(change_get(ch, "eku"), ""), change_get(ch, "validity"),
	    change_get(ch, "digest"), change_get(ch, "chain"),
	    change_get(ch, "allow-keys"), cm_def(change_get(ch, "fields"), ""),
	    (int64_t)time(NULL));
}

struct plist_arg {
	cm_cert_procedure_cb	 cb;
	void			*arg;
};

static int
plist_cb(void *arg, struct store_row *row)
{
	struct plist_arg *a = arg;
	struct cm_cert_procedure_info pi;
	char state[256];
	const char *ca_state = store_row_text(row, 11);
	const char *key_state = store_row_text(row, 12);

	pi.id = store_row_int(row, 0);
	pi.name = store_row_text(row, 1);
	pi.ca = store_row_text(row, 2);
	pi.format = store_row_text(row, 3);
	pi.key_usage = store_row_text(row, 4);
	pi.eku = store_row_text(row, 5);
	pi.validity = store_row_text(row, 6);
	pi.digest = store_row_text(row, 7);
	pi.chain = store_row_text(row, 8);
	pi.allow_keys = store_row_text(row, 9);
	pi.fields = store_row_text(row, 10);
	if (strcmp(ca_state, "active") != 0)
		snprintf(state, sizeof(state), "unusable: CA \"%s\" is %s",
		    pi.ca, ca_state);
	else if (strcmp(key_state, "in use") != 0)
		snprintf(state, sizeof(state), "unusable: the CA key is %s",
		    key_state);
	else
		snprintf(state, sizeof(state), "usable");
	pi.state = state;
	return a->cb(a->arg, &pi);
}

/* Call cb for every certificate procedure, or the one named. */
int
cm_cert_procedure_list(struct cm_ctx *ctx, const char *name,
    cm_cert_procedure_cb cb, void *arg)
{
	struct plist_arg a = { cb, arg };
	int64_t id;
	int rc;

	if (name != NULL && (rc = store_named(ctx, &id, "SELECT id FROM "
	    "procedures WHERE name = ?", "certificate procedure", name)) != 0)
		return rc;
	return store_query(ctx, "SELECT p.id, p.name, c.name, p.format, "
	    "p.key_usage, p.eku, p.validity, p.digest, p.chain, p.allow_keys, "
	    "p.fields, c.state, k.state FROM procedures p JOIN cas c ON "
	    "c.id = p.ca_id JOIN keys k ON k.id = c.key_id WHERE ?1 IS NULL OR "
	    "p.name = ?1 ORDER BY p.name", plist_cb, &a, "t", name);
}

struct pload_arg {
	struct procedure	*p;
	char			*fields;
	int			 found;
};

static int
pload_cb(void *arg, struct store_row *row)
{
	struct pload_arg *a = arg;
	struct procedure *p = a->p;

	p->id = store_row_int(row, 0);
	p->ca_id = store_row_int(row, 1);
	p->fmt = format_find(store_row_text(row, 2));
	p->ku = cm_strdup(store_row_text(row, 3));
	p->eku = cm_strdup(store_row_text(row, 4));
	p->validity = cm_strdup(store_row_text(row, 5));
	p->digest = cm_strdup(store_row_text(row, 6));
	p->chain = cm_strdup(store_row_text(row, 7));
	p->allow_keys = cm_strdup(store_row_text(row, 8));
	a->fields = cm_strdup(store_row_text(row, 9));
	a->found = 1;
	return 1;
}

static int
ext_push(struct cm_ctx *ctx, struct procedure *p, X509V3_CTX *v3, int nid,
    const char *value)
{
	X509_EXTENSION *ext;

	if ((ext = X509V3_EXT_nconf_nid(NULL, v3, nid, value)) == NULL)
		return cm_err_ssl(ctx, CM_ERR_INVAL, "certificate procedure "
		    "\"%s\": extension %s \"%s\"", p->name, OBJ_nid2sn(nid),
		    value);
	if (!sk_X509_EXTENSION_push(p->exts, ext)) {
		X509_EXTENSION_free(ext);
		return CM_ERR_NOMEM;
	}
	return 0;
}

/* Build the extensions every certificate of the procedure carries. */
static int
procedure_exts(struct cm_ctx *ctx, struct procedure *p, const char *fields,
    const char *cdp, const char *aia)
{
	X509V3_CTX v3;
	char **lines = NULL, *buf = NULL, *pol = NULL, *ocsp = NULL;
	const char *pathlen = NULL;
	size_t n = 0, i;
	int rc;

	if ((p->exts = sk_X509_EXTENSION_new_null()) == NULL)
		return CM_ERR_NOMEM;
	X509V3_set_ctx(&v3, p->ca_cert, NULL, NULL, NULL, 0);
	if ((rc = cm_split(fields, '\n', &lines, &n)) != 0)
		return rc;
	for (i = 0; i < n; i++) {
		if (strncmp(lines[i], "certificate-policy=", 19) == 0) {
			if ((rc = cm_asprintf(&buf, "%s%s%s", pol != NULL ?
			    pol : "", pol != NULL ? "," : "", lines[i] + 19))
			    != 0)
				goto out;
			free(pol);
			pol = buf;
			buf = NULL;
		} else if (strncmp(lines[i], "ocsp-url=", 9) == 0) {
			ocsp = lines[i] + 9;
			/* As field_check(): a stored field may be imported. */
			if (strpbrk(ocsp, ",; \t") != NULL) {
				rc = cm_err(ctx, CM_ERR_POLICY, "certificate "
				    "procedure \"%s\": ocsp-url \"%s\" holds a "
				    "comma, semicolon or blank", p->name, ocsp);
				goto out;
			}
		}
		else if (strncmp(lines[i], "pathlen=", 8) == 0)
			pathlen = lines[i] + 8;
		else if (strcmp(lines[i], "challenge-password=allow") == 0)
			p->challenge_ok = 1;
	}
	if (format_is_ca(p->fmt)) {
		if ((rc = cm_asprintf(&buf, "critical,CA:TRUE%s%s",
		    pathlen != NULL ? ",pathlen:" : "",
		    pathlen != NULL ? pathlen : "")) != 0 ||
		    (rc = ext_push(ctx, p, &v3, NID_basic_constraints, buf)) !=
		    0)
			goto out;
		free(buf);
		buf = NULL;
	}
	if (*p->eku != '\0' &&
	    (rc = ext_push(ctx, p, &v3, NID_ext_key_usage, p->eku)) != 0)
		goto out;
	if ((rc = ext_push(ctx, p, &v3, NID_authority_key_identifier,
	    "keyid:always")) != 0)
		goto out;
	if (cdp != NULL) {
		if ((rc = cm_asprintf(&buf, "URI:%s", cdp)) != 0 ||
		    (rc = ext_push(ctx, p, &v3, NID_crl_distribution_points,
		    buf)) != 0)
			goto out;
		free(buf);
		buf = NULL;
	}
	if (aia != NULL || ocsp != NULL) {
		if ((rc = cm_asprintf(&buf, "%s%s%s%s%s", aia != NULL ?
		    "caIssuers;URI:" : "", aia != NULL ? aia : "",
		    aia != NULL && ocsp != NULL ? "," : "",
		    ocsp != NULL ? "OCSP;URI:" : "", ocsp != NULL ? ocsp : ""))
		    != 0 ||
		    (rc = ext_push(ctx, p, &v3, NID_info_access, buf)) != 0)
			goto out;
		free(buf);
		buf = NULL;
	}
	if (pol != NULL &&
	    (rc = ext_push(ctx, p, &v3, NID_certificate_policies, pol)) != 0)
		goto out;
	if (format_ocsp_nocheck(p->fmt) &&
	    (rc = ext_push(ctx, p, &v3, NID_id_pkix_OCSP_noCheck, "ignored"))
	    != 0)
		goto out;
out:
	free(buf);
	free(pol);
	cm_split_free(lines, n);
	return rc;
}

static int
kstate_cb(void *arg, struct store_row *row)
{
	snprintf(arg, 16, "%s", store_row_text(row, 0));
	return 1;
}

struct caurl_arg {
	char	*cdp;
	char	*aia;
};

static int
caurl_cb(void *arg, struct store_row *row)
{
	struct caurl_arg *a = arg;

	if (!store_row_null(row, 0))
		a->cdp = cm_strdup(store_row_text(row, 0));
	if (!store_row_null(row, 1))
		a->aia = cm_strdup(store_row_text(row, 1));
	return 1;
}

/*
 * Load a procedure for issuance: its CA must be active with its key in
 * use.  Returns 0 and *out (caller frees with procedure_free) or a
 * CM_ERR_* naming the procedure and why it cannot be used.
 */
int
procedure_load(struct cm_ctx *ctx, const char *name, struct procedure **out)
{
	struct procedure *p;
	struct pload_arg a;
	struct caurl_arg u = { NULL, NULL };
	char kstate[16] = "";
	int rc;

	*out = NULL;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return CM_ERR_NOMEM;
	/* The policy it is read under, read first: a change may commit. */
	if ((rc = change_latest(ctx, &p->policy)) != 0) {
		free(p);
		return rc;
	}
	memset(&a, 0, sizeof(a));
	a.p = p;
	if ((p->name = cm_strdup(name)) == NULL) {
		rc = CM_ERR_NOMEM;
		goto out;
	}
	rc = store_query(ctx, "SELECT id, ca_id, format, key_usage, eku, "
	    "validity, digest, chain, allow_keys, fields FROM procedures WHERE "
	    "name = ?", pload_cb, &a, "t", name);
	if (rc != 0)
		goto out;
	if (!a.found) {
		rc = cm_err(ctx, CM_ERR_NOTFOUND, "certificate procedure \"%s\" "
		    "not found", name);
		goto out;
	}
	if (p->fmt == NULL || p->ku == NULL || p->eku == NULL ||
	    p->validity == NULL || p->digest == NULL || p->chain == NULL ||
	    p->allow_keys == NULL || a.fields == NULL) {
		rc = CM_ERR_NOMEM;
		goto out;
	}
	if ((rc = ca_load(ctx, p->ca_id, &p->ca_cert, &p->key_id, p->ca_name,
	    sizeof(p->ca_name))) != 0) {
		{
			char what[256];

			snprintf(what, sizeof(what), "certificate procedure "
			    "\"%s\" cannot be used", name);
			cm_err_prefix(ctx, what);
		}
		goto out;
	}
	rc = store_query(ctx, "SELECT state FROM keys WHERE id = ?", kstate_cb,
	    kstate, "i", p->key_id);
	if (rc != 0)
		goto out;
	if (strcmp(kstate, "in use") != 0) {
		rc = cm_err(ctx, CM_ERR_POLICY, "certificate procedure \"%s\" "
		    "cannot be used: the key of CA \"%s\" is %s", name,
		    p->ca_name, kstate);
		goto out;
	}
	p->ca_not_after = x509_time(X509_get0_notAfter(p->ca_cert));
	if ((rc = store_query(ctx, "SELECT cdp, aia FROM cas WHERE id = ?",
	    caurl_cb, &u, "i", p->ca_id)) != 0)
		goto out;
	if ((rc = procedure_exts(ctx, p, a.fields, u.cdp, u.aia)) != 0)
		goto out;
	if (strcmp(p->chain, "none") != 0 &&
	    (rc = ca_chain_pem(ctx, p->ca_id, strcmp(p->chain, "full") == 0,
	    &p->chain_pem, &p->chain_len)) != 0)
		goto out;
	*out = p;
	p = NULL;
out:
	free(u.cdp);
	free(u.aia);
	free(a.fields);
	procedure_free(p);
	return rc;
}

void
procedure_free(struct procedure *p)
{
	if (p == NULL)
		return;
	free(p->name);
	free(p->ku);
	free(p->eku);
	free(p->validity);
	free(p->digest);
	free(p->chain);
	free(p->allow_keys);
	X509_free(p->ca_cert);
	sk_X509_EXTENSION_pop_free(p->exts, X509_EXTENSION_free);
	free(p->chain_pem);
	free(p);
}

struct states {
	char	ca[16];
	char	key[16];
	int64_t	policy;
	int	found;
};

static int
states_cb(void *arg, struct store_row *row)
{
	struct states *s = arg;

	snprintf(s->ca, sizeof(s->ca), "%s", store_row_text(row, 0));
	snprintf(s->key, sizeof(s->key), "%s", store_row_text(row, 1));
	s->policy = store_row_int(row, 2);
	s->found = 1;
	return 1;
}

/*
 * The procedure to issue under, kept in the context between calls:
 * procedures do not change once created, but their CA and its key may, so
 * those states are read again on every call.  Returns 0 and a procedure
 * owned by the context, or a CM_ERR_*.
 */
int
procedure_get(struct cm_ctx *ctx, const char *name, struct procedure **out)
{
	struct procedure *p = ctx->proc_cache;
	struct states s;
	int rc;

	*out = NULL;
	if (p != NULL && strcmp(p->name, name) == 0) {
		memset(&s, 0, sizeof(s));
		/*
		 * Another process may have changed the policy since (cm-awb
		 * beside cm-ra): any applied change makes it load again.
		 */
		rc = store_query(ctx, "SELECT c.state, k.state, (SELECT "
		    "coalesce(max(id), 0) FROM changes WHERE state = 'applied') "
		    "FROM cas c JOIN keys k ON k.id = c.key_id WHERE c.id = ?",
		    states_cb, &s, "i", p->ca_id);
		if (rc != 0)
			return rc;
		if (s.found && strcmp(s.ca, "active") == 0 &&
		    strcmp(s.key, "in use") == 0 && s.policy == p->policy) {
			*out = p;
			return 0;
		}
	}
	procedure_cache_clear(ctx);
	if ((rc = procedure_load(ctx, name, &p)) != 0)
		return rc;
	ctx->proc_cache = p;
	*out = p;
	return 0;
}

/* Forget the cached procedure. */
void
procedure_cache_clear(struct cm_ctx *ctx)
{
	procedure_free(ctx->proc_cache);
	ctx->proc_cache = NULL;
}
