/*
 * dist.c: distribution rules, the policy of publication: where CRLs, CA
 * certificates, certificates and certificate issuance lists go (an HTTPS
 * URL, PUT or POST, DER or PEM), whom the server must be (its CA
 * certificates), who opencm is to it (a TLS client credential), and
 * optional HTTP basic credentials, the password sealed under the key
 * store.  Rules are attached to CAs and certificate procedures.  Both are
 * policy changes signed by two officers.
 */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "extern.h"


static void	file_name(const char *, const char *, char *, size_t);

static const char *const contents[] = {
	"crl", "delta-crl", "ca-cert", "certs", "cil", NULL
};

/* An https URL with a host: "https://host[:port][/path]". */
static int
url_check(struct cm_ctx *ctx, const char *name, const char *url)
{
	const char *h, *e;

	if (url == NULL || strncmp(url, "https://", 8) != 0)
		return cm_err(ctx, CM_ERR_INVAL, "distribution rule \"%s\": "
		    "publication is over HTTPS only (https://host/path)", name);
	h = url + 8;
	e = h + strcspn(h, "/?#");
	if (memchr(h, '@', (size_t)(e - h)) != NULL)
		return cm_err(ctx, CM_ERR_INVAL, "distribution rule \"%s\": "
		    "the URL holds credentials: give them with --basic-user "
		    "and --basic-password-file", name);
	if (e == h || *h == ':')
		return cm_err(ctx, CM_ERR_INVAL, "distribution rule \"%s\": "
		    "URL \"%s\": a host is required", name, url);
	for (; *url != '\0'; url++)
		if (isspace((unsigned char)*url) ||
		    iscntrl((unsigned char)*url))
			return cm_err(ctx, CM_ERR_INVAL, "distribution rule "
			    "\"%s\": the URL has a blank or a control "
			    "character", name);
	return 0;
}

/* What a rule publishes: a comma list of contents, normalized. */
static int
content_check(struct cm_ctx *ctx, const char *name, const char *list,
    char **norm)
{
	char **v = NULL;
	size_t n = 0, i, j;
	int rc;

	*norm = NULL;
	if (list == NULL || *list == '\0')
		return cm_err(ctx, CM_ERR_INVAL, "distribution rule \"%s\": "
		    "what it publishes is required (crl, delta-crl, ca-cert, "
		    "certs, cil)", name);
	if ((rc = cm_split(list, ',', &v, &n)) != 0)
		return rc;
	for (i = 0; i < n; i++) {
		for (j = 0; contents[j] != NULL; j++)
			if (strcmp(v[i], contents[j]) == 0)
				break;
		if (contents[j] == NULL) {
			rc = cm_err(ctx, CM_ERR_INVAL, "distribution rule "
			    "\"%s\": \"%s\" is not published (crl, delta-crl, "
			    "ca-cert, certs, cil)", name, v[i]);
			goto out;
		}
	}
	rc = cm_list_norm(list, norm);
out:
	cm_split_free(v, n);
	return rc;
}

/*
 * The server's CA certificates: a PEM bundle of at least one, and nothing
 * else (a private key in it would be kept in clear).
 */
static int
bundle_check(struct cm_ctx *ctx, const char *name, const char *pem)
{
	const char *p;
	BIO *b;
	X509 *x;
	int n = 0, blocks = 0;

	if (pem == NULL || (b = BIO_new_mem_buf(pem, -1)) == NULL)
		return cm_err(ctx, CM_ERR_INVAL, "distribution rule \"%s\": "
		    "the server's CA certificates are required (PEM)", name);
	for (p = pem; (p = strstr(p, "-----BEGIN ")) != NULL; p++)
		blocks++;
	while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
		X509_free(x);
		n++;
	}
	BIO_free(b);
	ERR_clear_error();
	if (n == 0)
		return cm_err(ctx, CM_ERR_INVAL, "distribution rule \"%s\": "
		    "the server CA file holds no PEM certificate", name);
	if (blocks != n)
		return cm_err(ctx, CM_ERR_INVAL, "distribution rule \"%s\": "
		    "the server CA file holds more than certificates (a key?): "
		    "give the CA certificates only", name);
	return 0;
}

/*
 * Check a rule's fields; *norm receives what it publishes, normalized
 * (caller frees).
 */
static int
rule_fields_check(struct cm_ctx *ctx, const char *name, const char *url,
    const char *method, const char *format, const char *bundle,
    const char *client, const char *content, char **norm)
{
	int rc;

	if ((rc = cm_name_check(ctx, "distribution rule", name)) != 0 ||
	    (rc = url_check(ctx, name, url)) != 0)
		return rc;
	if (method == NULL || (strcmp(method, "PUT") != 0 &&
	    strcmp(method, "POST") != 0))
		return cm_err(ctx, CM_ERR_INVAL, "distribution rule \"%s\": "
		    "method \"%s\" (PUT or POST)", name, cm_def(method, ""));
	if (format == NULL || (strcmp(format, "der") != 0 &&
	    strcmp(format, "pem") != 0))
		return cm_err(ctx, CM_ERR_INVAL, "distribution rule \"%s\": "
		    "format \"%s\" (der or pem)", name, cm_def(format, ""));
	if (client != NULL && *client != '\0' &&
	    strncmp(client, "pkcs11:", 7) == 0) {
		struct p11_uri u;

		if ((rc = p11_uri_parse(ctx, client, &u)) != 0)
			return rc;
	}
	if ((rc = bundle_check(ctx, name, bundle)) != 0)
		return rc;
	return content_check(ctx, name, content, norm);
}

/* A secret sealed under the key store, as base64 (caller frees). */
static int
seal_b64(struct cm_ctx *ctx, const char *secret, char **b64)
{
	unsigned char *sealed = NULL;
	size_t len = 0;
	int rc;

	*b64 = NULL;
	if ((rc = keystore_seal(ctx, secret, &sealed, &len)) != 0)
		return rc;
	if ((*b64 = b64_encode(sealed, len)) == NULL)
		rc = CM_ERR_NOMEM;
	OPENSSL_free(sealed);
	return rc;
}

/* A sealed secret of a change document, from base64 (caller frees). */
static int
unseal_b64(struct cm_ctx *ctx, const char *name, const char *b64,
    unsigned char **out, size_t *outlen)
{
	size_t bl;
	int len;

	*out = NULL;
	*outlen = 0;
	/* Blanks around it (from a document) are not base64. */
	while (isspace((unsigned char)*b64))
		b64++;
	bl = strlen(b64);
	while (bl > 0 && isspace((unsigned char)b64[bl - 1]))
		bl--;
	if ((*out = malloc(bl + 1)) == NULL)
		return CM_ERR_NOMEM;
	if (bl == 0 || (len = EVP_DecodeBlock(*out,
	    (const unsigned char *)b64, (int)bl)) <= 0) {
		free(*out);
		*out = NULL;
		return cm_err(ctx, CM_ERR_INVAL, "distribution rule \"%s\": a "
		    "sealed secret is not base64", name);
	}
	/* EVP_DecodeBlock counts the padding as data. */
	len -= (int)(b64[bl - 1] == '=') + (int)(bl > 1 && b64[bl - 2] == '=');
	*outlen = (size_t)len;
	return 0;
}

/* A PKCS#12 client credential: readable, and pass opens its key. */
static int
p12_check(struct cm_ctx *ctx, const char *name, const char *file,
    const char *pass)
{
	X509 *cert = NULL;
	EVP_PKEY *key = NULL;
	int rc;

	rc = dist_p12_load(ctx, file, pass, &cert, &key, NULL);
	X509_free(cert);
	EVP_PKEY_free(key);
	if (rc != 0)
		cm_err_prefix(ctx, name);
	return rc;
}

/*
 * Create a distribution rule, as a policy change.  The basic password, if
 * any, is sealed under the key store before it goes into the change.
 * Returns 0 or a CM_ERR_* naming the rule and the rule it breaks.
 */
int
cm_dist_rule_create(struct cm_ctx *ctx, const struct cm_dist_rule_req *req)
{
	struct change *ch = NULL;
	char *content = NULL, *b64 = NULL, *cb64 = NULL;
	const char *format = cm_def(req->format, "der");
	int64_t id;
	int rc;

	if ((rc = rule_fields_check(ctx, req->name, req->url, req->method,
	    format, req->server_ca, req->client, req->content,
	    &content)) != 0)
		goto out;
	if ((req->basic_user == NULL) != (req->basic_password == NULL)) {
		rc = cm_err(ctx, CM_ERR_INVAL, "distribution rule \"%s\": HTTP "
		    "basic credentials are a user and a password, both",
		    req->name);
		goto out;
	}
	if (req->client_pass != NULL && (req->client == NULL ||
	    strncmp(req->client, "pkcs11:", 7) == 0)) {
		rc = cm_err(ctx, CM_ERR_INVAL, "distribution rule \"%s\": a "
		    "client passphrase opens a PKCS#12 file (a token's PIN "
		    "comes from token.LABEL.pin-file in cm.conf)", req->name);
		goto out;
	}
	if (req->client != NULL && strncmp(req->client, "pkcs11:", 7) != 0 &&
	    (rc = p12_check(ctx, req->name, req->client,
	    req->client_pass)) != 0)
		goto out;
	rc = store_int(ctx, &id, "SELECT id FROM dist_rules WHERE name = ?",
	    "t", req->name);
	if ((rc = change_target(ctx, rc, 0, "distribution rule",
	    req->name)) != 0)
		goto out;
	if ((req->basic_password != NULL && (rc = seal_b64(ctx,
	    req->basic_password, &b64)) != 0) ||
	    (req->client_pass != NULL && (rc = seal_b64(ctx, req->client_pass,
	    &cb64)) != 0))
		goto out;
	if ((ch = change_new("dist-rule.create")) == NULL ||
	    change_set(ch, "name", req->name) != 0 ||
	    change_set(ch, "url", req->url) != 0 ||
	    change_set(ch, "method", req->method) != 0 ||
	    change_set(ch, "content", content) != 0 ||
	    change_set(ch, "format", format) != 0 ||
	    change_set(ch, "server-ca", req->server_ca) != 0 ||
	    (req->client != NULL && change_set(ch, "client", req->client) !=
	    0) ||
	    (cb64 != NULL && change_set(ch, "client-pass-sealed", cb64) !=
	    0) ||
	    (req->basic_user != NULL && (change_set(ch, "basic-user",
	    req->basic_user) != 0 || change_set(ch, "basic-password-sealed",
	    b64) != 0))) {
		rc = CM_ERR_NOMEM;
		goto out;
	}
	rc = change_submit(ctx, ch, req->name);
	change_free(ch);
	free(content);
	free(b64);
	free(cb64);
	return rc;
out:
	change_free(ch);
	free(content);
	free(b64);
	free(cb64);
	return audit_done(ctx, rc, "dist-rule.create", req->name);
}

/* Apply dist-rule.create (also from an imported policy). */
int
dist_rule_apply_create(struct cm_ctx *ctx, const struct change *ch)
{
	const char *name = change_get(ch, "name"), *b64;
	char *content = NULL;
	unsigned char *sealed = NULL, *csealed = NULL;
	size_t len = 0, clen = 0;
	int rc;

	if (name == NULL)
		return cm_err(ctx, CM_ERR_INVAL, "dist-rule.create: name "
		    "missing");
	/* The checks of create, again: the change may come from an import. */
	if ((rc = rule_fields_check(ctx, name, change_get(ch, "url"),
	    change_get(ch, "method"), change_get(ch, "format"),
	    change_get(ch, "server-ca"), change_get(ch, "client"),
	    change_get(ch, "content"), &content)) != 0)
		goto out;
	if ((b64 = change_get(ch, "basic-password-sealed")) != NULL &&
	    (rc = unseal_b64(ctx, name, b64, &sealed, &len)) != 0)
		goto out;
	if ((b64 = change_get(ch, "client-pass-sealed")) != NULL &&
	    (rc = unseal_b64(ctx, name, b64, &csealed, &clen)) != 0)
		goto out;
	rc = store_exec(ctx, "INSERT INTO dist_rules (name, url, method, "
	    "content, format, server_ca, client, basic_user, basic_password, "
	    "created, client_secret) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
	    "tttttttt" "bib", name, change_get(ch, "url"), change_get(ch,
	    "method"), content, change_get(ch, "format"), change_get(ch,
	    "server-ca"), change_get(ch, "client"), change_get(ch,
	    "basic-user"), sealed, len, (int64_t)time(NULL), csealed, clen);
out:
	free(content);
	free(sealed);
	free(csealed);
	return rc;
}

/*
 * Attach a distribution rule to a CA or to a certificate procedure (one
 * of the two), as a policy change.
 */
/*
 * The rule and the CA or certificate procedure (one of the two) of an
 * attach or a detach (verb), by name.  Returns 0 with their rows' ids, or
 * a CM_ERR_* naming what is missing.
 */
static int
link_ids(struct cm_ctx *ctx, const char *verb, const char *rule,
    const char *ca, const char *proc, int64_t *rid, int64_t *oid)
{
	int rc;

	if (rule == NULL || (ca == NULL) == (proc == NULL))
		return cm_err(ctx, CM_ERR_INVAL, "distribution rule \"%s\": "
		    "%s it %s a CA or %s a certificate procedure",
		    cm_def(rule, ""), verb, strcmp(verb, "attach") == 0 ?
		    "to" : "from", strcmp(verb, "attach") == 0 ? "to" : "from");
	if ((rc = store_named(ctx, rid, "SELECT id FROM dist_rules WHERE "
	    "name = ?", "distribution rule", rule)) != 0)
		return rc;
	return ca != NULL ? ca_lookup(ctx, ca, oid) : store_named(ctx, oid,
	    "SELECT id FROM procedures WHERE name = ?", "certificate procedure",
	    proc);
}

/* link_ids() of an attach or detach change. */
static int
change_link(struct cm_ctx *ctx, const struct change *ch, const char *verb,
    const char **name, const char **ca, const char **proc, int64_t *rid,
    int64_t *oid)
{
	*name = change_get(ch, "name");
	*ca = change_get(ch, "ca");
	*proc = change_get(ch, "procedure");
	return link_ids(ctx, verb, *name, *ca, *proc, rid, oid);
}

/* Whether the rule is attached to the CA or procedure: 0 or NOTFOUND. */
static int
link_exists(struct cm_ctx *ctx, int64_t rid, int64_t oid, int is_ca)
{
	int64_t dummy;

	return store_int(ctx, &dummy, "SELECT rule_id FROM dist_attach WHERE "
	    "rule_id = ?1 AND ca_id IS ?2 AND procedure_id IS ?3", "ijj", rid,
	    is_ca ? oid : 0, is_ca ? 0 : oid);
}

static int
not_linked(struct cm_ctx *ctx, const char *rule, const char *ca,
    const char *proc)
{
	return cm_err(ctx, CM_ERR_NOTFOUND, "distribution rule \"%s\" is not "
	    "attached to %s \"%s\"", rule, ca != NULL ? "CA" :
	    "certificate procedure", ca != NULL ? ca : proc);
}

/* An attach or a detach (type), as a policy change. */
static int
rule_link(struct cm_ctx *ctx, const char *type, const char *rule,
    const char *ca, const char *proc)
{
	struct change *ch = NULL;
	int64_t rid, oid;
	int rc;

	if ((rc = link_ids(ctx, type + 10, rule, ca, proc, &rid, &oid)) != 0)
		goto out;
	if (strcmp(type, "dist-rule.detach") == 0 &&
	    (rc = link_exists(ctx, rid, oid, ca != NULL)) != 0) {
		if (rc == CM_ERR_NOTFOUND)
			rc = not_linked(ctx, rule, ca, proc);
		goto out;
	}
	if ((ch = change_new(type)) == NULL ||
	    change_set(ch, "name", rule) != 0 ||
	    (ca != NULL && change_set(ch, "ca", ca) != 0) ||
	    (proc != NULL && change_set(ch, "procedure", proc) != 0)) {
		rc = CM_ERR_NOMEM;
		goto out;
	}
	rc = change_submit(ctx, ch, rule);
	change_free(ch);
	return rc;
out:
	change_free(ch);
	return audit_done(ctx, rc, type, cm_def(rule, ""));
}

int
cm_dist_rule_attach(struct cm_ctx *ctx, const char *rule, const char *ca,
    const char *procedure)
{
	return rule_link(ctx, "dist-rule.attach", rule, ca, procedure);
}

/*
 * A rule attached to a CA publishes what is current now, not only what
 * comes: the latest full CRL, the latest delta CRL on it, the latest CIL
 * (rules attached before already have them: the queue takes an item
 * once).
 */
static int
enqueue_latest(struct cm_ctx *ctx, int64_t ca_id, const char *ca)
{
	int64_t full = 0, delta = 0, cil = 0;
	int rc;

	if ((rc = store_int(ctx, &full, "SELECT coalesce(max(number), 0) FROM "
	    "crls WHERE ca_id = ? AND delta = 0", "i", ca_id)) != 0 ||
	    (rc = store_int(ctx, &delta, "SELECT coalesce(max(number), 0) "
	    "FROM crls WHERE ca_id = ? AND delta = 1 AND base_number = ?",
	    "ii", ca_id, full)) != 0 ||
	    (rc = store_int(ctx, &cil, "SELECT coalesce(max(number), 0) FROM "
	    "cils WHERE ca_id = ?", "i", ca_id)) != 0)
		return rc;
	if (full > 0 && (rc = dist_enqueue_crl(ctx, ca_id, ca, 0, full)) != 0)
		return rc;
	if (delta > 0 && (rc = dist_enqueue_crl(ctx, ca_id, ca, 1,
	    delta)) != 0)
		return rc;
	if (cil > 0)
		rc = dist_enqueue_cil(ctx, ca_id, ca, cil);
	return rc;
}

struct clash_arg {
	const char	*ca;
	char		 mine[200];
	char		 other[200];
};

/* Whether two CAs' target names under one rule would be the same. */
static int
clash_cb(void *arg, struct store_row *row)
{
	struct clash_arg *a = arg;
	char theirs[200], d1[210], d2[210];

	file_name(store_row_text(row, 0), "", theirs, sizeof(theirs));
	snprintf(d1, sizeof(d1), "%s-delta", a->mine);
	snprintf(d2, sizeof(d2), "%s-delta", theirs);
	if (strcmp(a->mine, theirs) == 0 || strcmp(d1, theirs) == 0 ||
	    strcmp(d2, a->mine) == 0) {
		snprintf(a->other, sizeof(a->other), "%s",
		    store_row_text(row, 0));
		return 1;
	}
	return 0;
}

/* Apply dist-rule.attach. */
int
dist_rule_apply_attach(struct cm_ctx *ctx, const struct change *ch)
{
	const char *name, *ca, *proc;
	int64_t rid, oid;
	int rc;

	if ((rc = change_link(ctx, ch, "attach", &name, &ca, &proc, &rid,
	    &oid)) != 0)
		return rc;
	rc = link_exists(ctx, rid, oid, ca != NULL);
	if (rc == 0)
		return cm_err(ctx, CM_ERR_EXISTS, "distribution rule \"%s\" is "
		    "attached to %s \"%s\" already", name, ca != NULL ? "CA" :
		    "certificate procedure", ca != NULL ? ca : proc);
	if (rc != CM_ERR_NOTFOUND)
		return rc;
	if (ca != NULL) {
		struct clash_arg c;

		memset(&c, 0, sizeof(c));
		file_name(ca, "", c.mine, sizeof(c.mine));
		if ((rc = store_query(ctx, "SELECT c.name FROM dist_attach a "
		    "JOIN cas c ON c.id = a.ca_id WHERE a.rule_id = ?",
		    clash_cb, &c, "i", rid)) != 0)
			return rc;
		if (c.other[0] != '\0')
			return cm_err(ctx, CM_ERR_POLICY, "distribution rule "
			    "\"%s\": CA \"%s\" would publish under the names "
			    "of CA \"%s\", attached already (%s.crl, "
			    "%s-delta.crl): use another rule", name, ca,
			    c.other, c.mine, c.mine);
	}
	rc = store_exec(ctx, "INSERT INTO dist_attach (rule_id, ca_id, "
	    "procedure_id) VALUES (?, ?, ?)", "ijj", rid, ca != NULL ? oid : 0,
	    proc != NULL ? oid : 0);
	/* Attached again: what a detach withdrew goes after all. */
	if (rc == 0)
		rc = store_exec(ctx, "UPDATE publications SET state = "
		    "'pending', attempts = 0, next_try = ?3, last_error = "
		    "NULL WHERE rule_id = ?1 AND state = 'withdrawn' AND "
		    "(ca_id = ?2 OR (kind = 'cert' AND cert_id IN (SELECT id "
		    "FROM certs WHERE procedure_id = ?4)))", "ijij", rid,
		    ca != NULL ? oid : 0, (int64_t)time(NULL), proc != NULL ?
		    oid : 0);
	if (rc == 0 && ca != NULL)
		rc = dist_enqueue_ca_cert(ctx, rid, oid, ca);
	if (rc == 0 && ca != NULL)
		rc = enqueue_latest(ctx, oid, ca);
	return rc;
}

/*
 * Detach a distribution rule from a CA or a certificate procedure, as a
 * policy change.  What the rule had not delivered and no other attachment
 * of it covers is withdrawn from the queue.
 */
int
cm_dist_rule_detach(struct cm_ctx *ctx, const char *rule, const char *ca,
    const char *procedure)
{
	return rule_link(ctx, "dist-rule.detach", rule, ca, procedure);
}

/* Apply dist-rule.detach. */
int
dist_rule_apply_detach(struct cm_ctx *ctx, const struct change *ch)
{
	const char *name, *ca, *proc;
	int64_t rid, oid;
	int rc;

	if ((rc = change_link(ctx, ch, "detach", &name, &ca, &proc, &rid,
	    &oid)) != 0)
		return rc;
	if ((rc = store_exec(ctx, "DELETE FROM dist_attach WHERE rule_id = ?1 "
	    "AND ca_id IS ?2 AND procedure_id IS ?3", "ijj", rid, ca != NULL ?
	    oid : 0, proc != NULL ? oid : 0)) != 0)
		return rc;
	if (store_changes(ctx) != 1)
		return not_linked(ctx, name, ca, proc);
	/* What no attachment of the rule covers any more does not go. */
	return store_exec(ctx, "UPDATE publications SET state = 'withdrawn' "
	    "WHERE rule_id = ?1 AND state IN ('pending', 'failed') AND NOT "
	    "EXISTS (SELECT 1 FROM dist_attach a WHERE a.rule_id = ?1 AND "
	    "a.ca_id = publications.ca_id) AND NOT (kind = 'cert' AND EXISTS "
	    "(SELECT 1 FROM dist_attach a JOIN certs c ON c.procedure_id = "
	    "a.procedure_id WHERE a.rule_id = ?1 AND c.id = "
	    "publications.cert_id))", "i", rid);
}

struct list_arg {
	cm_dist_rule_cb	 cb;
	void		*arg;
};

static int
list_cb(void *arg, struct store_row *row)
{
	struct list_arg *a = arg;
	struct cm_dist_rule_info ri;

	memset(&ri, 0, sizeof(ri));
	ri.id = store_row_int(row, 0);
	ri.name = store_row_text(row, 1);
	ri.url = store_row_text(row, 2);
	ri.method = store_row_text(row, 3);
	ri.content = store_row_text(row, 4);
	ri.format = store_row_text(row, 5);
	ri.server_ca = store_row_text(row, 6);
	ri.client = store_row_null(row, 7) ? NULL : store_row_text(row, 7);
	ri.basic_user = store_row_null(row, 8) ? NULL : store_row_text(row, 8);
	ri.attached = store_row_null(row, 9) ? "" : store_row_text(row, 9);
	ri.created = (time_t)store_row_int(row, 10);
	ri.client_pass = (int)store_row_int(row, 11);
	return a->cb(a->arg, &ri);
}

/*
 * Call cb for every distribution rule, or the one named (which must
 * exist), with what it is attached to ("CA X" and "procedure Y" lines).
 * The basic password is never handed out.
 */
int
cm_dist_rule_list(struct cm_ctx *ctx, const char *name, cm_dist_rule_cb cb,
    void *arg)
{
	struct list_arg a = { cb, arg };
	int64_t id;
	int rc;

	if (name != NULL && (rc = store_named(ctx, &id, "SELECT id FROM "
	    "dist_rules WHERE name = ?", "distribution rule", name)) != 0)
		return rc;
	return store_query(ctx, "SELECT r.id, r.name, r.url, r.method, "
	    "r.content, r.format, r.server_ca, r.client, r.basic_user, "
	    "(SELECT group_concat(w, char(10)) FROM (SELECT CASE WHEN "
	    "a.ca_id IS NOT NULL THEN 'CA ' || c.name ELSE 'procedure ' || "
	    "p.name END AS w FROM dist_attach a LEFT JOIN cas c ON c.id = "
	    "a.ca_id LEFT JOIN procedures p ON p.id = a.procedure_id WHERE "
	    "a.rule_id = r.id ORDER BY w)), r.created, r.client_secret IS NOT "
	    "NULL FROM dist_rules r WHERE "
	    "?1 IS NULL OR r.name = ?1 ORDER BY r.name", list_cb, &a, "t",
	    name);
}

/* ------------------------------------------------------------ queue */

/* A CA's name as a file name under a URL: letters, digits, . _ - only. */
static void
file_name(const char *name, const char *suffix, char *buf, size_t len)
{
	size_t i, n = 0;

	for (i = 0; name[i] != '\0' && n + 1 < len; i++)
		buf[n++] = isalnum((unsigned char)name[i]) || name[i] == '.' ||
		    name[i] == '_' || name[i] == '-' ? name[i] : '_';
	buf[n] = '\0';
	snprintf(buf + n, len - n, "%s", suffix);
}

/*
 * Inside the transaction of a CRL or CIL: enqueue it for every rule
 * attached to its CA that publishes that kind, as the CA's file name.
 */
static int
enqueue_numbered(struct cm_ctx *ctx, int64_t ca_id, const char *ca_name,
    const char *kind, const char *suffix, int64_t number)
{
	char target[200];
	time_t now = time(NULL);

	file_name(ca_name, suffix, target, sizeof(target));
	return store_exec(ctx, "INSERT OR IGNORE INTO publications (rule_id, "
	    "kind, ca_id, number, target, state, next_try, created) "
	    "SELECT a.rule_id, ?1, ?2, ?3, ?4, 'pending', ?5, ?5 FROM "
	    "dist_attach a JOIN dist_rules r ON r.id = a.rule_id WHERE "
	    "a.ca_id = ?2 AND instr(',' || r.content || ',', ',' || ?1 || "
	    "',') > 0", "tiiti", kind, ca_id, number, target, (int64_t)now);
}

int
dist_enqueue_crl(struct cm_ctx *ctx, int64_t ca_id, const char *ca_name,
    int delta, int64_t number)
{
	return enqueue_numbered(ctx, ca_id, ca_name, delta ? "delta-crl" :
	    "crl", delta ? "-delta.crl" : ".crl", number);
}

int
dist_enqueue_cil(struct cm_ctx *ctx, int64_t ca_id, const char *ca_name,
    int64_t number)
{
	return enqueue_numbered(ctx, ca_id, ca_name, "cil", ".cil", number);
}

/*
 * Inside the transaction of an issuance: enqueue the certificate for
 * every rule, attached to its CA or to its procedure, that publishes
 * certificates.  The target is its serial, .cer (DER) or .pem.
 */
int
dist_enqueue_cert(struct cm_ctx *ctx, int64_t ca_id, int64_t procedure_id,
    int64_t cert_id, const char *serial)
{
	return store_exec(ctx, "INSERT OR IGNORE INTO publications (rule_id, "
	    "kind, ca_id, cert_id, target, state, next_try, created) SELECT "
	    "DISTINCT a.rule_id, 'cert', ?1, ?5, ?3 || CASE r.format WHEN "
	    "'pem' THEN '.pem' ELSE '.cer' END, 'pending', ?4, ?4 FROM "
	    "dist_attach a JOIN dist_rules r ON r.id = a.rule_id WHERE "
	    "(a.ca_id = ?1 OR a.procedure_id = ?2) AND instr(',' || r.content "
	    "|| ',', ',certs,') > 0", "iitii", ca_id, procedure_id, serial,
	    (int64_t)time(NULL), cert_id);
}

/*
 * A CA certificate to publish: in an attach, for that rule (rule_id), or
 * when the CA gets a certificate, for every rule attached to the CA
 * (rule_id 0) that publishes CA certificates.  The item names the
 * certificate's row: a new CA certificate is a new item.
 */
int
dist_enqueue_ca_cert(struct cm_ctx *ctx, int64_t rule_id, int64_t ca_id,
    const char *ca_name)
{
	char target[200];

	file_name(ca_name, ".crt", target, sizeof(target));
	return store_exec(ctx, "INSERT OR IGNORE INTO publications (rule_id, "
	    "kind, ca_id, cert_id, target, state, next_try, created) SELECT "
	    "r.id, 'ca-cert', c.id, c.cert_id, ?3, 'pending', ?4, ?4 FROM "
	    "dist_rules r JOIN cas c ON c.id = ?2 WHERE (r.id = ?1 OR (?1 = 0 "
	    "AND r.id IN (SELECT rule_id FROM dist_attach WHERE ca_id = ?2))) "
	    "AND instr(',' || r.content || ',', ',ca-cert,') > 0 AND c.cert IS "
	    "NOT NULL", "iiti", rule_id, ca_id, target, (int64_t)time(NULL));
}

struct pub_arg {
	cm_publication_cb	 cb;
	void			*arg;
};

static int
pub_cb(void *arg, struct store_row *row)
{
	struct pub_arg *a = arg;
	struct cm_publication_info pi;

	memset(&pi, 0, sizeof(pi));
	pi.id = store_row_int(row, 0);
	pi.rule = store_row_text(row, 1);
	pi.kind = store_row_text(row, 2);
	pi.ca = store_row_text(row, 3);
	pi.target = store_row_text(row, 4);
	pi.state = store_row_text(row, 5);
	pi.attempts = (int)store_row_int(row, 6);
	pi.next_try = (time_t)store_row_int(row, 7);
	pi.last_error = store_row_null(row, 8) ? NULL : store_row_text(row, 8);
	pi.created = (time_t)store_row_int(row, 9);
	return a->cb(a->arg, &pi);
}

/*
 * Call cb for the queued publications, oldest first: all, or those in a
 * state (pending, delivered, failed) or of one rule.
 */
int
cm_publication_list(struct cm_ctx *ctx, const char *state, const char *rule,
    cm_publication_cb cb, void *arg)
{
	struct pub_arg a = { cb, arg };
	int64_t id;
	int rc;

	if (state != NULL && strcmp(state, "pending") != 0 &&
	    strcmp(state, "delivered") != 0 && strcmp(state, "failed") != 0 &&
	    strcmp(state, "superseded") != 0 &&
	    strcmp(state, "withdrawn") != 0)
		return cm_err(ctx, CM_ERR_INVAL, "publication state \"%s\": "
		    "pending, delivered, failed, superseded or withdrawn",
		    state);
	if (rule != NULL && (rc = store_named(ctx, &id, "SELECT id FROM "
	    "dist_rules WHERE name = ?", "distribution rule", rule)) != 0)
		return rc;
	return store_query(ctx, "SELECT p.id, r.name, p.kind, c.name, "
	    "p.target, p.state, p.attempts, p.next_try, p.last_error, "
	    "p.created FROM publications p JOIN dist_rules r ON r.id = "
	    "p.rule_id JOIN cas c ON c.id = p.ca_id WHERE (?1 IS NULL OR "
	    "p.state = ?1) AND (?2 IS NULL OR r.name = ?2) ORDER BY p.id",
	    pub_cb, &a, "tt", state, rule);
}

/*
 * Put failed publications back in the queue: the one with id, or with id
 * 0 every failed one.  *n receives how many.  Returns 0 or a CM_ERR_*.
 */
int
cm_publication_retry(struct cm_ctx *ctx, int64_t id, int64_t *n)
{
	char object[40], detail[64];
	int rc;

	*n = 0;
	snprintf(object, sizeof(object), id != 0 ? "publication %lld" :
	    "failed publications", (long long)id);
	if ((rc = officer_require(ctx, PERM_POLICY, "publish retry")) != 0)
		goto out;
	if ((rc = txn_begin(ctx)) != 0)
		goto out;
	rc = store_exec(ctx, "UPDATE publications SET state = 'pending', "
	    "attempts = 0, next_try = ?2 WHERE state = 'failed' AND (?1 = 0 "
	    "OR id = ?1)",
	    "ii", id, (int64_t)time(NULL));
	if (rc == 0)
		*n = store_changes(ctx);
	if (rc == 0 && id != 0 && *n == 0)
		rc = cm_err(ctx, CM_ERR_NOTFOUND, "publication %lld is not "
		    "failed (or does not exist)", (long long)id);
	snprintf(detail, sizeof(detail), "%lld put back in the queue",
	    (long long)*n);
	rc = txn_end(ctx, rc, "publish.retry", object, detail);
out:
	return audit_done(ctx, rc, "publish.retry", object);
}
