/*
 * ca.c: certification authorities.  A CA has a key from the Key Registry,
 * a certificate (self-signed, signed by another CA in the CMDB, or
 * imported from an external issuer), CRL settings and a state: pending
 * (waiting for an external certificate), active or revoked.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "extern.h"

struct ca_row {
	int64_t		 id;
	int64_t		 key_id;
	int64_t		 issuer_id;
	int64_t		 cert_id;
	int		 external;
	int		 pathlen;
	char		 state[16];
	char		 key_state[16];
	char		 name[160];
	char		*cdp;
	char		*aia;
	X509		*cert;
	time_t		 not_after;
	int		 found;
};

static void
ca_row_clear(struct ca_row *r)
{
	free(r->cdp);
	free(r->aia);
	X509_free(r->cert);
	memset(r, 0, sizeof(*r));
}

static int
ca_row_cb(void *arg, struct store_row *row)
{
	struct ca_row *r = arg;
	const unsigned char *p;
	size_t len;

	r->id = store_row_int(row, 0);
	r->key_id = store_row_int(row, 1);
	r->issuer_id = store_row_int(row, 2);
	r->cert_id = store_row_int(row, 3);
	r->external = (int)store_row_int(row, 4);
	r->pathlen = store_row_null(row, 5) ? -1 : (int)store_row_int(row, 5);
	snprintf(r->state, sizeof(r->state), "%s", store_row_text(row, 6));
	snprintf(r->key_state, sizeof(r->key_state), "%s",
	    store_row_text(row, 7));
	snprintf(r->name, sizeof(r->name), "%s", store_row_text(row, 8));
	if (!store_row_null(row, 9))
		r->cdp = cm_strdup(store_row_text(row, 9));
	if (!store_row_null(row, 10))
		r->aia = cm_strdup(store_row_text(row, 10));
	p = store_row_blob(row, 11, &len);
	if (p != NULL)
		r->cert = x509_from_der(p, len);
	r->not_after = (time_t)store_row_int(row, 12);
	r->found = 1;
	return 1;
}

static int
ca_row_get(struct cm_ctx *ctx, const char *name, int64_t id,
    struct ca_row *r)
{
	int rc;

	memset(r, 0, sizeof(*r));
	rc = store_query(ctx, "SELECT c.id, c.key_id, c.issuer_id, c.cert_id, "
	    "c.external, c.pathlen, c.state, k.state, c.name, c.cdp, c.aia, "
	    "c.cert, c.not_after FROM cas c JOIN keys k ON k.id = c.key_id "
	    "WHERE c.name = ? OR c.id = ?", ca_row_cb, r, "ti", name, id);
	if (rc != 0)
		return rc;
	if (!r->found)
		return cm_err(ctx, CM_ERR_NOTFOUND, "CA \"%s\" not found",
		    name != NULL ? name : "?");
	return 0;
}

/* Find a CA by name.  Returns 0 and its id, or CM_ERR_NOTFOUND. */
int
ca_lookup(struct cm_ctx *ctx, const char *name, int64_t *id)
{
	int rc;

	*id = 0;
	rc = store_int(ctx, id, "SELECT id FROM cas WHERE name = ?", "t",
	    name);
	if (rc == CM_ERR_NOTFOUND)
		return cm_err(ctx, CM_ERR_NOTFOUND, "CA \"%s\" not found",
		    name);
	return rc;
}

/*
 * Load a CA that is to sign: its certificate (caller frees), key id and
 * name.  Returns 0, or CM_ERR_POLICY when the CA is not active.
 */
int
ca_load(struct cm_ctx *ctx, int64_t id, X509 **cert, int64_t *key_id,
    char *name, size_t namelen)
{
	struct ca_row r;
	int rc;

	*cert = NULL;
	if ((rc = ca_row_get(ctx, NULL, id, &r)) != 0)
		return rc;
	if (name != NULL)
		snprintf(name, namelen, "%s", r.name);
	if (strcmp(r.state, "active") != 0 || r.cert == NULL) {
		rc = cm_err(ctx, CM_ERR_POLICY, "CA \"%s\" is %s: it cannot "
		    "sign", r.name, r.state);
		goto out;
	}
	*cert = r.cert;
	r.cert = NULL;
	*key_id = r.key_id;
out:
	ca_row_clear(&r);
	return rc;
}

static int
url_check(struct cm_ctx *ctx, const char *ca, const char *what,
    const char *url)
{
	if (url == NULL)
		return 0;
	if (strncmp(url, "http://", 7) != 0 &&
	    strncmp(url, "https://", 8) != 0 &&
	    strncmp(url, "ldap://", 7) != 0)
		return cm_err(ctx, CM_ERR_INVAL, "CA \"%s\": %s \"%s\" must be "
		    "an http, https or ldap URL", ca, what, url);
	if (strpbrk(url, ", \t\n") != NULL)
		return cm_err(ctx, CM_ERR_INVAL, "CA \"%s\": %s \"%s\" must not "
		    "contain commas or white space", ca, what, url);
	return 0;
}

/*
 * Whether CA issuer may certify a sub CA named name with path length
 * pathlen (-1: none).  Checked when the change is made and again when it
 * is applied, which may be later.  Fills *ir (clear it with ca_row_clear).
 */
static int
issuer_check(struct cm_ctx *ctx, const char *name, const char *issuer,
    int pathlen, struct ca_row *ir)
{
	if (ca_row_get(ctx, issuer, -1, ir) != 0)
		return cm_err(ctx, CM_ERR_NOTFOUND, "CA \"%s\": issuer CA "
		    "\"%s\" not found", name, issuer);
	if (strcmp(ir->state, "active") != 0 || ir->cert == NULL)
		return cm_err(ctx, CM_ERR_POLICY, "CA \"%s\": issuer CA \"%s\" "
		    "is %s", name, issuer, ir->state);
	if (strcmp(ir->key_state, "in use") != 0)
		return cm_err(ctx, CM_ERR_POLICY, "CA \"%s\": the key of issuer "
		    "CA \"%s\" is %s", name, issuer, ir->key_state);
	if (ir->pathlen == 0)
		return cm_err(ctx, CM_ERR_POLICY, "CA \"%s\": issuer CA \"%s\" "
		    "has path length 0 and cannot certify a sub CA (RFC 5280 "
		    "4.2.1.9)", name, issuer);
	if (ir->pathlen > 0 && pathlen >= ir->pathlen)
		return cm_err(ctx, CM_ERR_POLICY, "CA \"%s\": path length must "
		    "be below issuer CA \"%s\"'s %d", name, issuer, ir->pathlen);
	if (ir->not_after <= time(NULL))
		return cm_err(ctx, CM_ERR_POLICY, "CA \"%s\": issuer CA \"%s\" "
		    "has expired", name, issuer);
	return 0;
}

/* Check a request for a CA before it becomes a change.  0 or CM_ERR_*. */
static int
ca_req_check(struct cm_ctx *ctx, const struct cm_ca_req *req, int request)
{
	X509_NAME *dn = NULL;
	int64_t id;
	char state[16];
	struct ca_row ir;
	int rc;
	time_t t;
	long crl, delta;

	if (req->name == NULL || *req->name == '\0')
		return cm_err(ctx, CM_ERR_INVAL, "CA: a name is required");
	if (store_int(ctx, &id, "SELECT id FROM cas WHERE name = ?", "t",
	    req->name) == 0)
		return cm_err(ctx, CM_ERR_EXISTS, "CA \"%s\" already exists",
		    req->name);
	if (req->key == NULL)
		return cm_err(ctx, CM_ERR_INVAL, "CA \"%s\": a key is required",
		    req->name);
	if ((rc = key_lookup(ctx, req->key, &id, state, sizeof(state))) != 0)
		return rc;
	if (strcmp(state, "in use") != 0)
		return cm_err(ctx, CM_ERR_POLICY, "CA \"%s\": key \"%s\" is %s; "
		    "a new CA needs a key in use", req->name, req->key, state);
	if ((rc = dn_parse(ctx, req->subject, &dn)) != 0)
		return rc;
	X509_NAME_free(dn);
	if (!request && (rc = cm_duration_parse(ctx, "validity",
	    cm_def(req->validity, "10y"), time(NULL), &t)) != 0)
		return rc;
	crl = cm_duration_seconds(cm_def(req->crl_interval, "24h"));
	if (crl <= 0)
		return cm_err(ctx, CM_ERR_INVAL, "CA \"%s\": CRL interval \"%s\" "
		    "is not a positive duration", req->name, req->crl_interval);
	delta = cm_duration_seconds(cm_def(req->delta_interval, "0"));
	if (delta < 0)
		return cm_err(ctx, CM_ERR_INVAL, "CA \"%s\": delta interval "
		    "\"%s\" is not a duration", req->name, req->delta_interval);
	if (delta >= crl)
		return cm_err(ctx, CM_ERR_INVAL, "CA \"%s\": the delta CRL "
		    "interval must be shorter than the CRL interval",
		    req->name);
	if (req->pathlen < -1 || req->pathlen > 16)
		return cm_err(ctx, CM_ERR_INVAL, "CA \"%s\": path length %d is "
		    "out of range 0 to 16", req->name, req->pathlen);
	if ((rc = url_check(ctx, req->name, "CDP", req->cdp)) != 0 ||
	    (rc = url_check(ctx, req->name, "AIA", req->aia)) != 0)
		return rc;
	if (req->issuer != NULL && !request) {
		rc = issuer_check(ctx, req->name, req->issuer, req->pathlen,
		    &ir);
		ca_row_clear(&ir);
		return rc;
	}
	return 0;
}

static struct change *
ca_change(const char *type, const struct cm_ca_req *req)
{
	struct change *ch;

	if ((ch = change_new(type)) == NULL)
		return NULL;
	if (change_set(ch, "name", req->name) != 0 ||
	    change_set(ch, "key", req->key) != 0 ||
	    change_set(ch, "subject", req->subject) != 0 ||
	    change_set(ch, "issuer", strcmp(type, "ca.request") == 0 ?
	    "external" : cm_def(req->issuer, "self-signed")) != 0 ||
	    change_set(ch, "validity", cm_def(req->validity, "10y")) != 0 ||
	    (req->pathlen >= 0 && change_set_int(ch, "pathlen",
	    req->pathlen) != 0) ||
	    change_set(ch, "crl-interval", cm_def(req->crl_interval, "24h")) != 0 ||
	    change_set(ch, "delta-interval", cm_def(req->delta_interval, "0")) !=
	    0 || change_set(ch, "cdp", req->cdp) != 0 ||
	    change_set(ch, "aia", req->aia) != 0) {
		change_free(ch);
		return NULL;
	}
	return ch;
}

/*
 * Create a CA: self-signed, or certified by another CA in the CMDB.  A
 * policy change.  Returns 0 or a CM_ERR_* naming the CA and the rule.
 */
int
cm_ca_create(struct cm_ctx *ctx, const struct cm_ca_req *req)
{
	struct change *ch = NULL;
	struct signer *s;
	int64_t id;
	int rc;

	if ((rc = ca_req_check(ctx, req, 0)) != 0)
		goto out;
	/* Open the signing key before the write lock is taken. */
	if (req->issuer != NULL)
		rc = store_int(ctx, &id, "SELECT key_id FROM cas WHERE name = ?",
		    "t", req->issuer);
	else
		rc = key_lookup(ctx, req->key, &id, NULL, 0);
	if (rc != 0 || (rc = signer_get(ctx, id, &s)) != 0)
		goto out;
	if ((ch = ca_change("ca.create", req)) == NULL) {
		rc = CM_ERR_NOMEM;
		goto out;
	}
	rc = change_submit(ctx, ch, req->name);
	change_free(ch);
	return rc;
out:
	return audit_done(ctx, rc, "ca.create", req->name);
}

/* Build and sign a CA certificate.  Returns 0 and *out or a CM_ERR_*. */
static int
ca_certify(struct cm_ctx *ctx, const struct change *ch, int64_t key_id,
    const struct ca_row *issuer, X509 **out, char *serial)
{
	const char *name = change_get(ch, "name");
	const char *pathlen = change_get(ch, "pathlen");
	X509 *x = NULL;
	X509_NAME *dn = NULL;
	EVP_PKEY *pub = NULL;
	ASN1_INTEGER *sn = NULL;
	X509V3_CTX v3;
	struct signer *s;
	char bc[64], *aia = NULL;
	time_t now = time(NULL), end;
	int rc;

	*out = NULL;
	if ((rc = dn_parse(ctx, change_get(ch, "subject"), &dn)) != 0 ||
	    (rc = cm_duration_parse(ctx, "validity", change_get(ch,
	    "validity"), now, &end)) != 0 ||
	    (rc = key_spki(ctx, key_id, &pub)) != 0 ||
	    (rc = signer_get(ctx, issuer != NULL ? issuer->key_id : key_id,
	    &s)) != 0 ||
	    (rc = x509_serial_new(ctx, &sn, serial)) != 0)
		goto out;
	if (issuer != NULL && end > issuer->not_after)
		end = issuer->not_after;
	rc = CM_ERR_CRYPTO;
	if ((x = X509_new()) == NULL || !X509_set_version(x, X509_VERSION_3) ||
	    !X509_set_serialNumber(x, sn) || !X509_set_subject_name(x, dn) ||
	    !X509_set_issuer_name(x, issuer != NULL ?
	    X509_get_subject_name(issuer->cert) : dn) ||
	    !x509_set_time(X509_getm_notBefore(x), now) ||
	    !x509_set_time(X509_getm_notAfter(x), end) ||
	    !X509_set_pubkey(x, pub)) {
		cm_err_ssl(ctx, rc, "CA \"%s\": building the certificate", name);
		goto out;
	}
	X509V3_set_ctx(&v3, issuer != NULL ? issuer->cert : x, x, NULL, NULL,
	    0);
	if (pathlen != NULL)
		snprintf(bc, sizeof(bc), "critical,CA:TRUE,pathlen:%s", pathlen);
	else
		snprintf(bc, sizeof(bc), "critical,CA:TRUE");
	if ((rc = x509_add_ext(ctx, x, &v3, NID_basic_constraints, bc)) != 0 ||
	    (rc = x509_add_ext(ctx, x, &v3, NID_key_usage,
	    "critical,keyCertSign,cRLSign")) != 0 ||
	    (rc = x509_add_ext(ctx, x, &v3, NID_subject_key_identifier,
	    "hash")) != 0 ||
	    (rc = x509_add_ext(ctx, x, &v3, NID_authority_key_identifier,
	    "keyid:always")) != 0)
		goto out;
	if (issuer != NULL && issuer->cdp != NULL) {
		if ((rc = cm_asprintf(&aia, "URI:%s", issuer->cdp)) != 0 ||
		    (rc = x509_add_ext(ctx, x, &v3, NID_crl_distribution_points,
		    aia)) != 0)
			goto out;
		free(aia);
		aia = NULL;
	}
	if (issuer != NULL && issuer->aia != NULL) {
		if ((rc = cm_asprintf(&aia, "caIssuers;URI:%s",
		    issuer->aia)) != 0 ||
		    (rc = x509_add_ext(ctx, x, &v3, NID_info_access, aia)) != 0)
			goto out;
	}
	if ((rc = signer_sign_cert(ctx, s, x, signer_digest(s)))
	    != 0)
		goto out;
	if ((rc = lint_cert(ctx, x)) != 0) {
		cm_err_prefix(ctx, name);
		goto out;
	}
	*out = x;
	x = NULL;
out:
	free(aia);
	ASN1_INTEGER_free(sn);
	EVP_PKEY_free(pub);
	X509_NAME_free(dn);
	X509_free(x);
	return rc;
}

static int
ca_insert(struct cm_ctx *ctx, const struct change *ch, int64_t key_id,
    const struct ca_row *issuer, X509 *x, const char *serial,
    const char *state)
{
	const char *pathlen = change_get(ch, "pathlen");
	unsigned char *der = NULL;
	int len = 0, rc;
	int64_t ca_id, cert_id = 0;
	time_t nb = 0, na = 0;

	if (x != NULL) {
		if ((len = i2d_X509(x, &der)) <= 0)
			return cm_err_ssl(ctx, CM_ERR_CRYPTO, "DER encoding");
		nb = x509_time(X509_get0_notBefore(x));
		na = x509_time(X509_get0_notAfter(x));
	}
	rc = store_exec(ctx, "INSERT INTO cas (name, key_id, subject, "
	    "issuer_id, external, state, cert, serial, not_before, not_after, "
	    "pathlen, crl_interval, delta_interval, cdp, aia, created) VALUES "
	    "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
	    "tit" "jit" "bt" "ii" "tii" "tti",
	    change_get(ch, "name"), key_id, change_get(ch, "subject"),
	    issuer != NULL ? issuer->id : (int64_t)0, (int64_t)(x == NULL),
	    state, der, (size_t)len, x != NULL ? serial : NULL,
	    (int64_t)nb, (int64_t)na, pathlen,
	    (int64_t)cm_duration_seconds(change_get(ch, "crl-interval")),
	    (int64_t)cm_duration_seconds(change_get(ch, "delta-interval")),
	    change_get(ch, "cdp"), change_get(ch, "aia"), (int64_t)time(NULL));
	if (rc != 0)
		goto out;
	ca_id = store_last_id(ctx);
	if (issuer != NULL) {
		/* The issuer's record of the sub CA certificate. */
		rc = store_exec(ctx, "INSERT INTO certs (ca_id, serial, "
		    "subject, not_before, not_after, issued, status, der) "
		    "VALUES (?, ?, ?, ?, ?, ?, 'valid', ?)", "itt" "iii" "b",
		    issuer->id, serial, change_get(ch, "subject"), (int64_t)nb,
		    (int64_t)na, (int64_t)time(NULL), der, (size_t)len);
		if (rc != 0)
			goto out;
		cert_id = store_last_id(ctx);
		rc = store_exec(ctx, "UPDATE cas SET cert_id = ? WHERE id = ?",
		    "ii", cert_id, ca_id);
		/* A certificate the issuer issued: its rules publish it. */
		if (rc == 0)
			rc = dist_enqueue_cert(ctx, issuer->id, 0, cert_id,
			    serial);
	}
out:
	OPENSSL_free(der);
	return rc;
}

/*
 * Apply ca.create (and ca.request, which records a pending CA).  The issuer
 * is "self-signed", "external" or the name of a CA.
 */
int
ca_apply_create(struct cm_ctx *ctx, const struct change *ch)
{
	const char *issuer = change_get(ch, "issuer");
	struct ca_row ir;
	X509 *x = NULL;
	int64_t key_id, other;
	char state[16], serial[41];
	int rc, have_issuer = 0;

	memset(&ir, 0, sizeof(ir));
	if (change_get(ch, "name") == NULL || issuer == NULL ||
	    change_get(ch, "key") == NULL)
		return cm_err(ctx, CM_ERR_INVAL, "%s: name, key or issuer "
		    "missing", change_type(ch));
	if (ca_lookup(ctx, change_get(ch, "name"), &other) == 0) {
		rc = cm_err(ctx, CM_ERR_EXISTS, "CA \"%s\" already exists",
		    change_get(ch, "name"));
		goto out;
	}
	if ((rc = key_lookup(ctx, change_get(ch, "key"), &key_id, state,
	    sizeof(state))) != 0)
		goto out;
	if (strcmp(state, "in use") != 0) {
		rc = cm_err(ctx, CM_ERR_POLICY, "CA \"%s\": key \"%s\" is %s",
		    change_get(ch, "name"), change_get(ch, "key"), state);
		goto out;
	}
	if (strcmp(issuer, "external") == 0) {
		rc = ca_insert(ctx, ch, key_id, NULL, NULL, NULL, "pending");
		goto out;
	}
	if (strcmp(issuer, "self-signed") != 0) {
		have_issuer = 1;
		if ((rc = issuer_check(ctx, change_get(ch, "name"), issuer,
		    change_get(ch, "pathlen") != NULL ?
		    atoi(change_get(ch, "pathlen")) : -1, &ir)) != 0)
			goto out;
	}
	if ((rc = ca_certify(ctx, ch, key_id, have_issuer ? &ir : NULL, &x,
	    serial)) != 0)
		goto out;
	rc = ca_insert(ctx, ch, key_id, have_issuer ? &ir : NULL, x, serial,
	    "active");
out:
	X509_free(x);
	ca_row_clear(&ir);
	return rc;
}

/*
 * Make a PKCS#10 request for a CA whose issuer is outside the CMDB; the CA
 * is recorded as pending.  Returns 0 and the request as PEM in *out
 * (caller frees with cm_free) or a CM_ERR_*.
 */
int
cm_ca_request(struct cm_ctx *ctx, const struct cm_ca_req *req,
    unsigned char **out, size_t *outlen)
{
	struct change *ch = NULL;
	X509_REQ *xr = NULL;
	X509_NAME *dn = NULL;
	EVP_PKEY *pub = NULL;
	struct signer *s;
	unsigned char *der = NULL;
	int64_t id;
	int len, rc;

	*out = NULL;
	*outlen = 0;
	if ((rc = ca_req_check(ctx, req, 1)) != 0 ||
	    (rc = key_lookup(ctx, req->key, &id, NULL, 0)) != 0 ||
	    (rc = signer_get(ctx, id, &s)) != 0)
		goto fail;
	/* The request is made first: a pending CA always has one. */
	if ((rc = dn_parse(ctx, req->subject, &dn)) != 0 ||
	    (rc = key_spki(ctx, id, &pub)) != 0)
		goto fail;
	rc = CM_ERR_CRYPTO;
	if ((xr = X509_REQ_new()) == NULL ||
	    !X509_REQ_set_version(xr, X509_REQ_VERSION_1) ||
	    !X509_REQ_set_subject_name(xr, dn) ||
	    !X509_REQ_set_pubkey(xr, pub)) {
		cm_err_ssl(ctx, rc, "CA \"%s\": building the request",
		    req->name);
		goto fail;
	}
	if ((rc = signer_sign_req(ctx, s, xr, signer_digest(s))) != 0)
		goto fail;
	if ((len = i2d_X509_REQ(xr, &der)) <= 0) {
		rc = cm_err_ssl(ctx, CM_ERR_CRYPTO, "DER encoding");
		goto fail;
	}
	if ((rc = cm_pem_encode(ctx, "CERTIFICATE REQUEST", der, (size_t)len,
	    out, outlen)) != 0)
		goto fail;
	if ((ch = ca_change("ca.request", req)) == NULL) {
		rc = CM_ERR_NOMEM;
		goto fail;
	}
	rc = change_submit(ctx, ch, req->name);
	if (rc != 0) {
		free(*out);
		*out = NULL;
		*outlen = 0;
	}
	OPENSSL_free(der);
	X509_REQ_free(xr);
	EVP_PKEY_free(pub);
	X509_NAME_free(dn);
	change_free(ch);
	return rc;
fail:
	free(*out);
	*out = NULL;
	*outlen = 0;
	OPENSSL_free(der);
	X509_REQ_free(xr);
	EVP_PKEY_free(pub);
	X509_NAME_free(dn);
	change_free(ch);
	return audit_done(ctx, rc, "ca.request", req->name);
}

static int
pem_certs(struct cm_ctx *ctx, const char *what, const unsigned char *buf,
    size_t len, STACK_OF(X509) **out)
{
	STACK_OF(X509) *sk;
	BIO *b;
	X509 *x;

	*out = NULL;
	if ((sk = sk_X509_new_null()) == NULL)
		return CM_ERR_NOMEM;
	if ((b = BIO_new_mem_buf(buf, (int)len)) == NULL) {
		sk_X509_free(sk);
		return CM_ERR_NOMEM;
	}
	while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL)
		if (!sk_X509_push(sk, x)) {
			X509_free(x);
			break;
		}
	ERR_clear_error();
	BIO_free(b);
	if (sk_X509_num(sk) == 0) {
		sk_X509_free(sk);
		return cm_err(ctx, CM_ERR_INVAL, "%s: no PEM certificate in it",
		    what);
	}
	*out = sk;
	return 0;
}

/*
 * Install the certificate an external issuer returned for a pending CA.
 * buf is PEM: the CA certificate, then optionally its issuer chain.
 */
int
cm_ca_import(struct cm_ctx *ctx, const char *name, const unsigned char *buf,
    size_t len)
{
	struct change *ch = NULL;
	STACK_OF(X509) *sk = NULL;
	unsigned char *pem = NULL;
	size_t pemlen = 0;
	int i, rc;

	/* The change carries the certificates as clean PEM. */
	if ((rc = pem_certs(ctx, name, buf, len, &sk)) != 0) {
		cm_err(ctx, rc, "CA \"%s\": the file holds no PEM certificate",
		    name);
		goto out;
	}
	for (i = 0; i < sk_X509_num(sk); i++)
		if ((rc = x509_pem(ctx, sk_X509_value(sk, i), &pem, &pemlen)) !=
		    0)
			goto out;
	if ((ch = change_new("ca.import")) == NULL ||
	    change_set(ch, "name", name) != 0 ||
	    change_set(ch, "certificate", (const char *)pem) != 0) {
		rc = CM_ERR_NOMEM;
		goto out;
	}
	rc = change_submit(ctx, ch, name);
	change_free(ch);
	free(pem);
	sk_X509_pop_free(sk, X509_free);
	return rc;
out:
	change_free(ch);
	free(pem);
	sk_X509_pop_free(sk, X509_free);
	return audit_done(ctx, rc, "ca.import", name);
}

/* Apply ca.import. */
int
ca_apply_import(struct cm_ctx *ctx, const struct change *ch)
{
	const char *name = change_get(ch, "name");
	const char *pem = change_get(ch, "certificate");
	STACK_OF(X509) *sk = NULL;
	struct ca_row r;
	EVP_PKEY *pub = NULL;
	X509 *x;
	unsigned char *der = NULL, *chain = NULL;
	size_t chainlen = 0;
	char serial[64], *subject = NULL;
	int len, i, rc;

	memset(&r, 0, sizeof(r));
	if (name == NULL || pem == NULL)
		return cm_err(ctx, CM_ERR_INVAL, "ca.import: name or "
		    "certificate missing");
	if ((rc = ca_row_get(ctx, name, -1, &r)) != 0)
		goto out;
	if (strcmp(r.state, "pending") != 0) {
		rc = cm_err(ctx, CM_ERR_POLICY, "CA \"%s\" is %s; only a "
		    "pending CA takes an imported certificate", name, r.state);
		goto out;
	}
	if ((rc = pem_certs(ctx, name, (const unsigned char *)pem, strlen(pem),
	    &sk)) != 0 || (rc = key_spki(ctx, r.key_id, &pub)) != 0)
		goto out;
	x = sk_X509_value(sk, 0);
	if (EVP_PKEY_eq(X509_get0_pubkey(x), pub) != 1) {
		rc = cm_err(ctx, CM_ERR_POLICY, "CA \"%s\": the certificate is "
		    "not for the CA's key", name);
		goto out;
	}
	if (X509_check_ca(x) != 1 ||
	    !(X509_get_key_usage(x) & KU_KEY_CERT_SIGN)) {
		rc = cm_err(ctx, CM_ERR_POLICY, "CA \"%s\": the certificate is "
		    "not a CA certificate (basicConstraints cA and keyUsage "
		    "keyCertSign are required, RFC 5280 4.2.1.9)", name);
		goto out;
	}
	if (X509_cmp_time(X509_get0_notAfter(x), NULL) <= 0 ||
	    X509_cmp_time(X509_get0_notBefore(x), NULL) > 0) {
		rc = cm_err(ctx, CM_ERR_POLICY, "CA \"%s\": the certificate is "
		    "not valid now (RFC 5280 4.1.2.5)", name);
		goto out;
	}
	for (i = 1; i < sk_X509_num(sk); i++) {
		/* Each further certificate must be the issuer of the one before. */
		if (X509_check_issued(sk_X509_value(sk, i),
		    sk_X509_value(sk, i - 1)) != X509_V_OK ||
		    X509_verify(sk_X509_value(sk, i - 1),
		    X509_get0_pubkey(sk_X509_value(sk, i))) != 1) {
			ERR_clear_error();
			rc = cm_err(ctx, CM_ERR_POLICY, "CA \"%s\": certificate "
			    "%d of the file did not issue certificate %d: the "
			    "chain must run from the CA up to its root", name,
			    i + 1, i);
			goto out;
		}
		if ((rc = x509_pem(ctx, sk_X509_value(sk, i), &chain,
		    &chainlen)) != 0)
			goto out;
	}
	if ((len = i2d_X509(x, &der)) <= 0 ||
	    (subject = dn_format(X509_get_subject_name(x))) == NULL) {
		rc = cm_err_ssl(ctx, CM_ERR_CRYPTO, "DER encoding");
		goto out;
	}
	x509_serial_hex(X509_get0_serialNumber(x), serial, sizeof(serial));
	rc = store_exec(ctx, "UPDATE cas SET state = 'active', external = 1, "
	    "cert = ?, chain = ?, serial = ?, subject = ?, not_before = ?, "
	    "not_after = ?, pathlen = ? WHERE id = ?", "bbtt" "iiii", der,
	    (size_t)len, chain, chainlen, serial, subject,
	    (int64_t)x509_time(X509_get0_notBefore(x)),
	    (int64_t)x509_time(X509_get0_notAfter(x)),
	    (int64_t)X509_get_pathlen(x), r.id);
	if (rc == 0 && X509_get_pathlen(x) < 0)
		rc = store_exec(ctx, "UPDATE cas SET pathlen = NULL WHERE id = ?",
		    "i", r.id);
	/* Rules attached to the pending CA publish its certificate now. */
	if (rc == 0)
		rc = dist_enqueue_ca_cert(ctx, 0, r.id, name);
out:
	free(subject);
	free(chain);
	OPENSSL_free(der);
	EVP_PKEY_free(pub);
	sk_X509_pop_free(sk, X509_free);
	ca_row_clear(&r);
	return rc;
}

/*
 * Revoke a CA: its certificate goes on its issuer's CRL (when the issuer is
 * in the CMDB), it signs nothing more, and its key is retired unless
 * another active CA uses it.  A policy change.
 */
int
cm_ca_revoke(struct cm_ctx *ctx, const char *name, const char *reason)
{
	struct change *ch = NULL;
	int64_t id;
	int rc, r;

	if ((rc = ca_lookup(ctx, name, &id)) != 0)
		goto out;
	if ((r = cm_reason_parse(reason)) < 0 ||
	    r == CM_REASON_CERTIFICATE_HOLD) {
		rc = cm_err(ctx, CM_ERR_INVAL, "CA \"%s\": revocation reason "
		    "\"%s\" is not one a CA can be revoked for", name,
		    reason == NULL ? "" : reason);
		goto out;
	}
	if ((ch = change_new("ca.revoke")) == NULL ||
	    change_set(ch, "name", name) != 0 ||
	    change_set(ch, "reason", cm_reason_name(r)) != 0) {
		change_free(ch);
		rc = CM_ERR_NOMEM;
		goto out;
	}
	rc = change_submit(ctx, ch, name);
	change_free(ch);
	return rc;
out:
	return audit_done(ctx, rc, "ca.revoke", name);
}

/* Apply ca.revoke. */
int
ca_apply_revoke(struct cm_ctx *ctx, const struct change *ch)
{
	const char *name = change_get(ch, "name");
	struct ca_row r;
	int64_t other, four_eye;
	int rc;

	if ((rc = ca_row_get(ctx, name, -1, &r)) != 0)
		return rc;
	if (strcmp(r.state, "revoked") == 0) {
		rc = cm_err(ctx, CM_ERR_POLICY, "CA \"%s\" is already revoked",
		    name);
		goto out;
	}
	if (r.cert_id != 0 && (rc = revoke_cert_row(ctx, r.cert_id,
	    cm_reason_parse(change_get(ch, "reason")), time(NULL))) != 0)
		goto out;
	if ((rc = officer_enforced(ctx, &four_eye)) != 0)
		goto out;
	if ((rc = store_exec(ctx, "UPDATE cas SET state = 'revoked' WHERE "
	    "id = ?", "i", r.id)) != 0)
		goto out;
	/*
	 * Officers whose certificates chain to this CA can never log in
	 * again: they are disabled with it.  Four-eye control must survive.
	 */
	if ((rc = store_exec(ctx, "WITH RECURSIVE sub(id) AS (SELECT ? UNION "
	    "SELECT c.id FROM cas c JOIN sub ON c.issuer_id = sub.id) UPDATE "
	    "officers SET state = 'disabled' WHERE state = 'active' AND ca_id IN "
	    "(SELECT id FROM sub)", "i", r.id)) != 0)
		goto out;
	if (four_eye && (rc = officer_enforced(ctx, &four_eye)) == 0 &&
	    !four_eye) {
		rc = cm_err(ctx, CM_ERR_POLICY, "CA \"%s\": revoking it would "
		    "disable officers and leave fewer than two who may "
		    "administer policy, and four-eye control needs two", name);
		goto out;
	}
	if (rc != 0)
		goto out;
	rc = store_int(ctx, &other, "SELECT id FROM cas WHERE key_id = ? AND "
	    "state = 'active'", "i", r.key_id);
	if (rc == CM_ERR_NOTFOUND)
		rc = store_exec(ctx, "UPDATE keys SET state = 'retired' WHERE "
		    "id = ? AND state = 'in use'", "i", r.key_id);
out:
	ca_row_clear(&r);
	return rc;
}

struct ca_list_arg {
	cm_ca_cb	 cb;
	void		*arg;
};

static int
ca_list_cb(void *arg, struct store_row *row)
{
	struct ca_list_arg *a = arg;
	struct cm_ca_info ci;

	memset(&ci, 0, sizeof(ci));
	ci.id = store_row_int(row, 0);
	ci.name = store_row_text(row, 1);
	ci.key = store_row_text(row, 2);
	ci.key_identifier = store_row_text(row, 3);
	ci.subject = store_row_text(row, 4);
	ci.issuer = store_row_text(row, 5);
	ci.state = store_row_text(row, 6);
	ci.serial = store_row_text(row, 7);
	ci.not_before = (time_t)store_row_int(row, 8);
	ci.not_after = (time_t)store_row_int(row, 9);
	ci.crl_interval = (long)store_row_int(row, 10);
	ci.delta_interval = (long)store_row_int(row, 11);
	ci.cdp = store_row_null(row, 12) ? NULL : store_row_text(row, 12);
	ci.aia = store_row_null(row, 13) ? NULL : store_row_text(row, 13);
	ci.pathlen = store_row_null(row, 14) ? -1 : (int)store_row_int(row, 14);
	ci.next_crl_number = store_row_int(row, 15);
	ci.cert = store_row_blob(row, 16, &ci.cert_len);
	ci.revoke_delta = (int)store_row_int(row, 17);
	return a->cb(a->arg, &ci);
}

/*
 * Call cb for every CA, or the one named.  Returns 0 or a CM_ERR_*; an
 * unknown name is CM_ERR_NOTFOUND.
 */
int
cm_ca_list(struct cm_ctx *ctx, const char *name, cm_ca_cb cb, void *arg)
{
	struct ca_list_arg a = { cb, arg };
	int64_t id;
	int rc;

	if (name != NULL && (rc = ca_lookup(ctx, name, &id)) != 0)
		return rc;
	return store_query(ctx, "SELECT c.id, c.name, k.name, k.identifier, "
	    "c.subject, CASE WHEN c.issuer_id IS NOT NULL THEN i.name WHEN "
	    "c.external THEN 'external' ELSE 'self-signed' END, c.state, "
	    "c.serial, c.not_before, c.not_after, c.crl_interval, "
	    "c.delta_interval, c.cdp, c.aia, c.pathlen, "
	    "coalesce((SELECT value FROM counters WHERE name = 'crl ' || c.id), "
	    "0) + 1, c.cert, c.revoke_delta FROM cas c JOIN keys k ON k.id = "
	    "c.key_id LEFT JOIN cas i ON i.id = c.issuer_id WHERE ?1 IS NULL "
	    "OR c.name = ?1 ORDER BY c.id", ca_list_cb, &a, "t", name);
}

struct chain_arg {
	struct cm_ctx	*ctx;
	unsigned char	*buf;
	size_t		 len;
	int64_t		 next;
	int		 rc;
};

static int
chain_cb(void *arg, struct store_row *row)
{
	struct chain_arg *a = arg;
	const unsigned char *p;
	size_t len;
	X509 *x;

	a->next = store_row_int(row, 0);
	p = store_row_blob(row, 1, &len);
	if (p == NULL) {
		a->rc = cm_err(a->ctx, CM_ERR_POLICY, "CA \"%s\" has no "
		    "certificate yet (pending)", store_row_text(row, 3));
		return 1;
	}
	if ((x = x509_from_der(p, len)) == NULL) {
		a->rc = cm_err(a->ctx, CM_ERR_DB, "CA \"%s\": damaged "
		    "certificate", store_row_text(row, 3));
		return 1;
	}
	a->rc = x509_pem(a->ctx, x, &a->buf, &a->len);
	X509_free(x);
	p = store_row_blob(row, 2, &len);
	if (a->rc == 0 && p != NULL)	/* an external issuer's chain */
		a->rc = x509_append(&a->buf, &a->len, p, len);
	return 1;
}

/*
 * The PEM certificates from CA id up to its root (with full) or of that CA
 * only, appended to *buf.  Returns 0 or a CM_ERR_*.
 */
int
ca_chain_pem(struct cm_ctx *ctx, int64_t id, int full, unsigned char **buf,
    size_t *len)
{
	struct chain_arg a;
	int rc, depth;

	memset(&a, 0, sizeof(a));
	a.ctx = ctx;
	a.buf = *buf;
	a.len = *len;
	for (depth = 0; id != 0 && depth < 32; depth++) {
		a.next = 0;
		rc = store_query(ctx, "SELECT coalesce(issuer_id, 0), cert, "
		    "chain, name FROM cas WHERE id = ?", chain_cb, &a, "i", id);
		if (rc == 0)
			rc = a.rc;
		if (rc != 0) {
			*buf = a.buf;
			*len = a.len;
			return rc;
		}
		if (!full)
			break;
		id = a.next;
	}
	*buf = a.buf;
	*len = a.len;
	return 0;
}

/*
 * Push the certificates of CA id (and its issuers up to the root, with
 * full) onto sk, which owns them.  Returns 0 or a CM_ERR_*.
 */
int
ca_chain_x509(struct cm_ctx *ctx, int64_t id, int full, STACK_OF(X509) *sk)
{
	STACK_OF(X509) *got = NULL;
	unsigned char *pem = NULL;
	size_t len = 0;
	X509 *x;
	int rc;

	if ((rc = ca_chain_pem(ctx, id, full, &pem, &len)) != 0 ||
	    (rc = pem_certs(ctx, "CA chain", pem, len, &got)) != 0)
		goto out;
	while ((x = sk_X509_shift(got)) != NULL)
		if (!sk_X509_push(sk, x)) {
			X509_free(x);
			rc = CM_ERR_NOMEM;
			goto out;
		}
out:
	sk_X509_pop_free(got, X509_free);
	free(pem);
	return rc;
}

/*
 * A CA certificate as PEM, with its issuers up to the root when chain is
 * set.  Returns 0 and *out (caller frees with cm_free) or a CM_ERR_*.
 */
int
cm_ca_export(struct cm_ctx *ctx, const char *name, int chain,
    unsigned char **out, size_t *outlen)
{
	int64_t id;
	int rc;

	*out = NULL;
	*outlen = 0;
	if ((rc = ca_lookup(ctx, name, &id)) != 0)
		return rc;
	if ((rc = ca_chain_pem(ctx, id, chain, out, outlen)) != 0) {
		free(*out);
		*out = NULL;
		*outlen = 0;
	}
	return rc;
}

/* The CRL settings of a CA, checked as ca create checks them. */
static int
ca_settings_check(struct cm_ctx *ctx, const char *name, const char *crl_s,
    const char *delta_s, const char *cdp, const char *aia)
{
	long crl, delta;
	int rc;

	crl = cm_duration_seconds(crl_s);
	if (crl <= 0)
		return cm_err(ctx, CM_ERR_INVAL, "CA \"%s\": CRL interval \"%s\" "
		    "is not a positive duration", name, crl_s);
	delta = strcmp(delta_s, "0") == 0 ? 0 : cm_duration_seconds(delta_s);
	if (delta < 0)
		return cm_err(ctx, CM_ERR_INVAL, "CA \"%s\": delta interval "
		    "\"%s\" is not a duration", name, delta_s);
	if (delta >= crl)
		return cm_err(ctx, CM_ERR_INVAL, "CA \"%s\": the delta CRL "
		    "interval must be shorter than the CRL interval", name);
	if ((rc = url_check(ctx, name, "CDP", *cdp != '\0' ? cdp : NULL)) !=
	    0 || (rc = url_check(ctx, name, "AIA", *aia != '\0' ? aia : NULL))
	    != 0)
		return rc;
	return 0;
}

struct ca_now {
	long	 crl;
	long	 delta;
	char	*cdp;
	char	*aia;
	char	 state[16];
	int	 found;
	int	 revoke_delta;
};

static int
ca_now_cb(void *arg, const struct cm_ca_info *ci)
{
	struct ca_now *n = arg;

	n->found = 1;
	n->crl = ci->crl_interval;
	n->delta = ci->delta_interval;
	n->revoke_delta = ci->revoke_delta;
	snprintf(n->state, sizeof(n->state), "%s", ci->state);
	if ((n->cdp = cm_strdup(ci->cdp != NULL ? ci->cdp : "")) == NULL ||
	    (n->aia = cm_strdup(ci->aia != NULL ? ci->aia : "")) == NULL)
		return CM_ERR_NOMEM;
	return 0;
}

/* A delta CRL on every revocation needs delta CRLs. */
static int
revoke_delta_check(struct cm_ctx *ctx, const char *name, const char *rd,
    const char *delta)
{
	if (strcmp(rd, "yes") == 0 && (strcmp(delta, "0") == 0 ||
	    cm_duration_seconds(delta) <= 0))
		return cm_err(ctx, CM_ERR_POLICY, "CA \"%s\": a delta CRL on "
		    "every revocation needs delta CRLs (a delta interval)",
		    name);
	return 0;
}

/*
 * Change the CRL settings of a CA: CRL and delta CRL intervals, CDP and
 * AIA (what req leaves NULL is kept; an empty CDP or AIA removes it), as a
 * policy change.  Certificates and CRLs already issued do not change.  A
 * revoked CA is not changed.
 */
int
cm_ca_modify(struct cm_ctx *ctx, const struct cm_ca_req *req)
{
	struct ca_now n;
	struct change *ch = NULL;
	char crl[32], delta[32];
	const char *name = req->name != NULL ? req->name : "", *rd;
	int rc;

	memset(&n, 0, sizeof(n));
	if ((rc = cm_ca_list(ctx, name, ca_now_cb, &n)) != 0)
		goto out;
	if (strcmp(n.state, "revoked") == 0) {
		rc = cm_err(ctx, CM_ERR_POLICY, "CA \"%s\" is revoked: its "
		    "settings do not change", name);
		goto out;
	}
	snprintf(crl, sizeof(crl), "%lds", n.crl);
	snprintf(delta, sizeof(delta), "%lds", n.delta);
	if (n.delta == 0)
		snprintf(delta, sizeof(delta), "0");
	if ((rc = ca_settings_check(ctx, name, cm_def(req->crl_interval, crl),
	    cm_def(req->delta_interval, delta), req->cdp != NULL ? req->cdp :
	    n.cdp, req->aia != NULL ? req->aia : n.aia)) != 0)
		goto out;
	if (req->revoke_delta != NULL && strcmp(req->revoke_delta, "yes") !=
	    0 && strcmp(req->revoke_delta, "no") != 0) {
		rc = cm_err(ctx, CM_ERR_INVAL, "CA \"%s\": delta CRL on "
		    "revocation \"%s\" (yes or no)", name, req->revoke_delta);
		goto out;
	}
	rd = req->revoke_delta != NULL ? req->revoke_delta :
	    n.revoke_delta ? "yes" : "no";
	if ((rc = revoke_delta_check(ctx, name, rd, cm_def(req->delta_interval,
	    delta))) != 0)
		goto out;
	if ((ch = change_new("ca.modify")) == NULL ||
	    change_set(ch, "name", name) != 0 ||
	    change_set(ch, "revoke-delta", rd) != 0 ||
	    change_set(ch, "crl-interval", cm_def(req->crl_interval, crl)) !=
	    0 || change_set(ch, "delta-interval", cm_def(req->delta_interval,
	    delta)) != 0 || change_set(ch, "cdp", req->cdp != NULL ? req->cdp :
	    n.cdp) != 0 || change_set(ch, "aia", req->aia != NULL ? req->aia :
	    n.aia) != 0) {
		rc = CM_ERR_NOMEM;
		goto out;
	}
	rc = change_submit(ctx, ch, name);
	change_free(ch);
	free(n.cdp);
	free(n.aia);
	return rc;
out:
	change_free(ch);
	free(n.cdp);
	free(n.aia);
	return audit_done(ctx, rc, "ca.modify", name);
}

/* Apply ca.modify: the checks again, then the new settings. */
int
ca_apply_modify(struct cm_ctx *ctx, const struct change *ch)
{
	const char *name = cm_def(change_get(ch, "name"), "");
	const char *crl = cm_def(change_get(ch, "crl-interval"), "");
	const char *delta = cm_def(change_get(ch, "delta-interval"), "");
	const char *cdp = cm_def(change_get(ch, "cdp"), "");
	const char *aia = cm_def(change_get(ch, "aia"), "");
	const char *rd = cm_def(change_get(ch, "revoke-delta"), "no");
	int rc;

	if ((rc = ca_settings_check(ctx, name, crl, delta, cdp, aia)) != 0 ||
	    (rc = revoke_delta_check(ctx, name, rd, delta)) != 0)
		return rc;
	rc = store_exec(ctx, "UPDATE cas SET crl_interval = ?, delta_interval "
	    "= ?, cdp = NULLIF(?, ''), aia = NULLIF(?, ''), revoke_delta = ? "
	    "WHERE name = ? AND state != 'revoked'", "iitti" "t",
	    (int64_t)cm_duration_seconds(crl), (int64_t)(strcmp(delta, "0") ==
	    0 ? 0 : cm_duration_seconds(delta)), cdp, aia,
	    (int64_t)(strcmp(rd, "yes") == 0), name);
	if (rc == 0 && store_changes(ctx) != 1)
		rc = cm_err(ctx, CM_ERR_POLICY, "CA \"%s\" is revoked or gone: "
		    "its settings do not change", name);
	return rc;
}
