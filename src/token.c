/*
 * token.c: token procedures and tokens.  A token procedure says how a
 * bearer is produced (storage profile, PIN procedure, issuer certificates
 * to store, one certificate procedure per key); a token is a bearer that
 * was issued to a subject: a PKCS#12 soft token, certificates for a
 * PKCS#10 request, or (with the card station) a smart card.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "extern.h"

#define PIN_LEN		12
#define P12_ITER	50000

static const char pin_alphabet[] =
    "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";

static int
one_of(const char *v, const char *a, const char *b, const char *c)
{
	return v != NULL && (strcmp(v, a) == 0 || strcmp(v, b) == 0 ||
	    (c != NULL && strcmp(v, c) == 0));
}

struct cp_arg {
	char	allow[512];
	int	found;
};

static int
cp_cb(void *arg, struct store_row *row)
{
	struct cp_arg *a = arg;

	snprintf(a->allow, sizeof(a->allow), "%s", store_row_text(row, 0));
	a->found = 1;
	return 1;
}

/*
 * Create a token procedure, as a policy change.  Every certificate
 * procedure must exist and allow the key type.  Returns 0 or a CM_ERR_*.
 */
static int
tproc_request(struct cm_ctx *ctx, const struct cm_token_procedure_req *req,
    const char *type)
{
	struct change *ch = NULL;
	struct cp_arg cp;
	char *procs = NULL, *np, ktype[32];
	const char *storage = req->storage, *kt = cm_def(req->key_type, "rsa:2048");
	int64_t id;
	size_t i;
	long min;
	int rc, bits;

	if (req->name == NULL || *req->name == '\0') {
		rc = cm_err(ctx, CM_ERR_INVAL, "token procedure: a name is "
		    "required");
		goto out;
	}
	rc = store_int(ctx, &id, "SELECT id FROM token_procedures WHERE name = "
	    "?", "t", req->name);
	if ((rc = change_target(ctx, rc, strcmp(type,
	    "token-procedure.modify") == 0, "token procedure", req->name)) != 0)
		goto out;
	if (!one_of(storage, "smartcard", "pkcs12", "pkcs10")) {
		rc = cm_err(ctx, CM_ERR_INVAL, "token procedure \"%s\": storage "
		    "\"%s\" (smartcard, pkcs12 or pkcs10)", req->name,
		    cm_def(storage, ""));
		goto out;
	}
	if (req->card_serial != NULL && !one_of(req->card_serial, "yes", "no",
	    NULL)) {
		rc = cm_err(ctx, CM_ERR_INVAL, "token procedure \"%s\": card "
		    "serial \"%s\" (yes or no)", req->name, req->card_serial);
		goto out;
	}
	if (req->serial_range != NULL && !one_of(req->serial_range,
	    "mandatory", "optional", "none")) {
		rc = cm_err(ctx, CM_ERR_INVAL, "token procedure \"%s\": serial "
		    "range \"%s\" (mandatory, optional or none)", req->name,
		    req->serial_range);
		goto out;
	}
	if ((rc = card_ranges_check(ctx, req->name, req->serial_ranges)) != 0)
		goto out;
	if (req->pin_procedure != NULL && !one_of(req->pin_procedure, "show",
	    "letter", NULL)) {
		rc = cm_err(ctx, CM_ERR_INVAL, "token procedure \"%s\": PIN "
		    "procedure \"%s\" (show or letter)", req->name,
		    req->pin_procedure);
		goto out;
	}
	if (req->issuer_certs != NULL && !one_of(req->issuer_certs, "none",
	    "ca", "chain")) {
		rc = cm_err(ctx, CM_ERR_INVAL, "token procedure \"%s\": issuer "
		    "certificates \"%s\" (none, ca or chain)", req->name,
		    req->issuer_certs);
		goto out;
	}
	if (!key_type_known(kt)) {
		rc = cm_err(ctx, CM_ERR_INVAL, "token procedure \"%s\": key type "
		    "\"%s\" (rsa:2048, rsa:3072, rsa:4096, ec:p256, ec:p384 or "
		    "ed25519)", req->name, kt);
		goto out;
	}
	if (req->ncert_procedures == 0) {
		rc = cm_err(ctx, CM_ERR_INVAL, "token procedure \"%s\": at least "
		    "one certificate procedure is required", req->name);
		goto out;
	}
	snprintf(ktype, sizeof(ktype), "%s", kt);
	bits = strncmp(kt, "rsa:", 4) == 0 ? atoi(kt + 4) : 0;
	for (i = 0; i < req->ncert_procedures; i++) {
		memset(&cp, 0, sizeof(cp));
		rc = store_query(ctx, "SELECT allow_keys FROM procedures WHERE "
		    "name = ?", cp_cb, &cp, "t", req->cert_procedures[i]);
		if (rc != 0)
			goto out;
		if (!cp.found) {
			rc = cm_err(ctx, CM_ERR_NOTFOUND, "token procedure "
			    "\"%s\": certificate procedure \"%s\" not found",
			    req->name, req->cert_procedures[i]);
			goto out;
		}
		if ((rc = issue_key_allowed(cp.allow, ktype, bits, &min)) < 0)
			goto out;
		if (rc == 0) {
			rc = cm_err(ctx, CM_ERR_POLICY, "token procedure \"%s\": "
			    "certificate procedure \"%s\" does not allow %s keys "
			    "(allowed: %s)", req->name, req->cert_procedures[i],
			    kt, cp.allow);
			goto out;
		}
		if (strchr(req->cert_procedures[i], '\n') != NULL) {
			rc = cm_err(ctx, CM_ERR_INVAL, "certificate procedure "
			    "names cannot hold a line break");
			goto out;
		}
		if (cm_asprintf(&np, "%s%s\n", procs != NULL ? procs : "",
		    req->cert_procedures[i]) != 0) {
			rc = CM_ERR_NOMEM;
			goto out;
		}
		free(procs);
		procs = np;
	}
	if ((ch = change_new(type)) == NULL ||
	    change_set(ch, "name", req->name) != 0 ||
	    change_set(ch, "storage", storage) != 0 ||
	    change_set(ch, "card-serial", cm_def(req->card_serial,
	    strcmp(storage, "smartcard") == 0 ? "yes" : "no")) != 0 ||
	    change_set(ch, "serial-range", cm_def(req->serial_range, "none")) != 0 ||
	    (req->serial_ranges != NULL && *req->serial_ranges != '\0' &&
	    strcmp(req->serial_ranges, "none") != 0 &&
	    change_set(ch, "serial-ranges", req->serial_ranges) != 0) ||
	    change_set(ch, "pin-procedure", cm_def(req->pin_procedure, "show")) !=
	    0 ||
	    change_set(ch, "issuer-certs", cm_def(req->issuer_certs, "none")) != 0 ||
	    change_set(ch, "key-type", kt) != 0 ||
	    change_set(ch, "cert-procedures", procs) != 0) {
		rc = CM_ERR_NOMEM;
		goto out;
	}
	rc = change_submit(ctx, ch, req->name);
	change_free(ch);
	free(procs);
	return rc;
out:
	change_free(ch);
	free(procs);
	return audit_done(ctx, rc, type, req->name);
}

/* Create a token procedure, as a policy change. */
int
cm_token_procedure_create(struct cm_ctx *ctx,
    const struct cm_token_procedure_req *req)
{
	return tproc_request(ctx, req, "token-procedure.create");
}

struct tpcur {
	char	 storage[16];
	char	 range[16];
	char	*ranges;
	char	 pin[16];
	char	 issuer[16];
	char	 key[32];
	char	*procs;
	int	 card;
};

static int
tpcur_cb(void *arg, const struct cm_token_procedure_info *ti)
{
	struct tpcur *c = arg;

	snprintf(c->storage, sizeof(c->storage), "%s", ti->storage);
	snprintf(c->range, sizeof(c->range), "%s", ti->serial_range);
	snprintf(c->pin, sizeof(c->pin), "%s", ti->pin_procedure);
	snprintf(c->issuer, sizeof(c->issuer), "%s", ti->issuer_certs);
	snprintf(c->key, sizeof(c->key), "%s", ti->key_type);
	c->card = ti->card_serial;
	if (ti->serial_ranges != NULL &&
	    (c->ranges = cm_strdup(ti->serial_ranges)) == NULL)
		return CM_ERR_NOMEM;
	return (c->procs = cm_strdup(ti->cert_procedures)) == NULL ?
	    CM_ERR_NOMEM : 0;
}

/*
 * Change a token procedure, as a policy change: what req leaves NULL (or,
 * for the certificate procedures, empty) is kept; the storage profile does
 * not change (tokens of it exist: make a new procedure).  Tokens already
 * issued do not change.
 */
int
cm_token_procedure_modify(struct cm_ctx *ctx,
    const struct cm_token_procedure_req *req)
{
	struct cm_token_procedure_req m = *req;
	struct tpcur c;
	char **v = NULL;
	size_t n = 0;
	int rc;

	memset(&c, 0, sizeof(c));
	if (req->name == NULL || *req->name == '\0')
		return cm_err(ctx, CM_ERR_INVAL, "token procedure: a name is "
		    "required");
	if ((rc = cm_token_procedure_list(ctx, req->name, tpcur_cb, &c)) != 0)
		goto refused;
	if (req->storage != NULL && strcmp(req->storage, c.storage) != 0) {
		rc = cm_err(ctx, CM_ERR_POLICY, "token procedure \"%s\": the "
		    "storage profile (%s) does not change; make a new token "
		    "procedure", req->name, c.storage);
		goto refused;
	}
	m.storage = c.storage;
	m.card_serial = cm_def(req->card_serial, c.card ? "yes" : "no");
	m.serial_range = cm_def(req->serial_range, c.range);
	m.serial_ranges = req->serial_ranges != NULL ?
	    (strcmp(req->serial_ranges, "none") == 0 ? "" :
	    req->serial_ranges) : c.ranges;
	m.pin_procedure = cm_def(req->pin_procedure, c.pin);
	m.issuer_certs = cm_def(req->issuer_certs, c.issuer);
	m.key_type = cm_def(req->key_type, c.key);
	if (req->ncert_procedures == 0) {
		if ((rc = cm_split(c.procs, '\n', &v, &n)) != 0)
			goto out;
		m.cert_procedures = (const char * const *)v;
		m.ncert_procedures = n;
	}
	rc = tproc_request(ctx, &m, "token-procedure.modify");
	goto out;
refused:
	rc = audit_done(ctx, rc, "token-procedure.modify", req->name);
out:
	cm_split_free(v, n);
	free(c.procs);
	free(c.ranges);
	return rc;
}

/* Apply token-procedure.create. */
int
token_procedure_apply_create(struct cm_ctx *ctx, const struct change *ch)
{
	char **v = NULL;
	size_t n = 0, i;
	int64_t tp, pid;
	int rc;

	if (change_get(ch, "name") == NULL || change_get(ch, "storage") ==
	    NULL || change_get(ch, "cert-procedures") == NULL)
		return cm_err(ctx, CM_ERR_INVAL, "token-procedure.create: name, "
		    "storage or certificate procedures missing");
	/* The checks of create, again: the change may come from an import. */
	if (!one_of(change_get(ch, "storage"), "smartcard", "pkcs12",
	    "pkcs10") ||
	    !one_of(cm_def(change_get(ch, "card-serial"), "no"), "yes", "no",
	    NULL) ||
	    !one_of(change_get(ch, "serial-range"), "mandatory", "optional",
	    "none") ||
	    !one_of(change_get(ch, "pin-procedure"), "show", "letter", NULL) ||
	    !one_of(change_get(ch, "issuer-certs"), "none", "ca", "chain") ||
	    !key_type_known(change_get(ch, "key-type")) ||
	    card_ranges_check(ctx, change_get(ch, "name"), change_get(ch,
	    "serial-ranges")) != 0)
		return cm_err(ctx, CM_ERR_INVAL, "token procedure \"%s\": a "
		    "storage, card serial, serial range, PIN procedure, issuer "
		    "certificates or key type that token-procedure create does "
		    "not take", change_get(ch, "name"));
	if (strcmp(change_type(ch), "token-procedure.modify") == 0) {
		/* The storage profile stays: tokens of it exist. */
		rc = store_exec(ctx, "UPDATE token_procedures SET card_serial "
		    "= ?2, serial_range = ?3, pin_procedure = ?4, issuer_certs "
		    "= ?5, key_type = ?6, serial_ranges = ?8 WHERE name = ?1 "
		    "AND storage = ?7", "tI" "tttt" "tt", change_get(ch, "name"),
		    strcmp(cm_def(change_get(ch, "card-serial"), "no"), "yes")
		    == 0, change_get(ch, "serial-range"),
		    change_get(ch, "pin-procedure"), change_get(ch,
		    "issuer-certs"), change_get(ch, "key-type"), change_get(ch,
		    "storage"), change_get(ch, "serial-ranges"));
		if (rc == 0 && store_changes(ctx) != 1)
			rc = cm_err(ctx, CM_ERR_POLICY, "token procedure \"%s\": "
			    "not found with storage %s", change_get(ch, "name"),
			    change_get(ch, "storage"));
		if (rc == 0)
			rc = store_int(ctx, &tp, "SELECT id FROM "
			    "token_procedures WHERE name = ?", "t",
			    change_get(ch, "name"));
		if (rc == 0)
			rc = store_exec(ctx, "DELETE FROM token_procedure_keys "
			    "WHERE token_procedure_id = ?", "i", tp);
	} else {
		rc = store_exec(ctx, "INSERT INTO token_procedures (name, "
		    "storage, card_serial, serial_range, pin_procedure, "
		    "issuer_certs, key_type, created, serial_ranges) VALUES "
		    "(?, ?, ?, ?, ?, ?, ?, ?, ?)", "ttI" "tttt" "it",
		    change_get(ch, "name"),
		    change_get(ch, "storage"), strcmp(cm_def(change_get(ch,
		    "card-serial"), "no"), "yes") == 0, change_get(ch,
		    "serial-range"), change_get(ch, "pin-procedure"),
		    change_get(ch, "issuer-certs"), change_get(ch, "key-type"),
		    (int64_t)time(NULL), change_get(ch, "serial-ranges"));
		tp = store_last_id(ctx);
	}
	if (rc != 0)
		return rc;
	if ((rc = cm_split(change_get(ch, "cert-procedures"), '\n', &v, &n)) !=
	    0)
		return rc;
	if (n == 0 || (n == 1 && *v[0] == '\0'))
		rc = cm_err(ctx, CM_ERR_INVAL, "token procedure \"%s\": at least "
		    "one certificate procedure is required", change_get(ch,
		    "name"));
	for (i = 0; i < n && rc == 0; i++) {
		struct cp_arg cp;
		long min;
		int ok;

		/* As create: the procedure must allow the key type. */
		memset(&cp, 0, sizeof(cp));
		if ((rc = store_query(ctx, "SELECT allow_keys FROM procedures "
		    "WHERE name = ?", cp_cb, &cp, "t", v[i])) != 0)
			break;
		if (cp.found && (ok = issue_key_allowed(cp.allow,
		    change_get(ch, "key-type"), strncmp(change_get(ch,
		    "key-type"), "rsa:", 4) == 0 ? atoi(change_get(ch,
		    "key-type") + 4) : 0, &min)) <= 0) {
			rc = ok < 0 ? ok : cm_err(ctx, CM_ERR_POLICY, "token "
			    "procedure \"%s\": certificate procedure \"%s\" does "
			    "not allow %s keys", change_get(ch, "name"), v[i],
			    change_get(ch, "key-type"));
			break;
		}
		rc = store_int(ctx, &pid, "SELECT id FROM procedures WHERE name "
		    "= ?", "t", v[i]);
		if (rc == CM_ERR_NOTFOUND)
			rc = cm_err(ctx, rc, "certificate procedure \"%s\" not "
			    "found", v[i]);
		if (rc == 0)
			rc = store_exec(ctx, "INSERT INTO token_procedure_keys "
			    "(token_procedure_id, position, procedure_id) VALUES "
			    "(?, ?, ?)", "iii", tp, (int64_t)i, pid);
	}
	cm_split_free(v, n);
	return rc;
}

struct tpl_arg {
	cm_token_procedure_cb	 cb;
	void			*arg;
};

static int
tpl_cb(void *arg, struct store_row *row)
{
	struct tpl_arg *a = arg;
	struct cm_token_procedure_info ti;

	ti.id = store_row_int(row, 0);
	ti.name = store_row_text(row, 1);
	ti.storage = store_row_text(row, 2);
	ti.card_serial = (int)store_row_int(row, 3);
	ti.serial_range = store_row_text(row, 4);
	ti.pin_procedure = store_row_text(row, 5);
	ti.issuer_certs = store_row_text(row, 6);
	ti.key_type = store_row_text(row, 7);
	ti.cert_procedures = store_row_text(row, 8);
	ti.serial_ranges = store_row_null(row, 9) ? NULL :
	    store_row_text(row, 9);
	return a->cb(a->arg, &ti);
}

/* Call cb for every token procedure, or the one named. */
int
cm_token_procedure_list(struct cm_ctx *ctx, const char *name,
    cm_token_procedure_cb cb, void *arg)
{
	struct tpl_arg a = { cb, arg };
	int64_t id;
	int rc;

	if (name != NULL && (rc = store_named(ctx, &id, "SELECT id FROM "
	    "token_procedures WHERE name = ?", "token procedure", name)) != 0)
		return rc;
	return store_query(ctx, "SELECT t.id, t.name, t.storage, "
	    "t.card_serial, t.serial_range, t.pin_procedure, t.issuer_certs, "
	    "t.key_type, (SELECT group_concat(name, char(10)) FROM (SELECT "
	    "p.name FROM token_procedure_keys k JOIN procedures p ON p.id = "
	    "k.procedure_id WHERE k.token_procedure_id = t.id ORDER BY "
	    "k.position)), t.serial_ranges FROM token_procedures t WHERE ?1 IS "
	    "NULL OR t.name = ?1 ORDER BY t.name", tpl_cb, &a, "t", name);
}

/* A token procedure as token issue needs it. */
struct tproc {
	int64_t		 id;
	char		 storage[16];
	char		 pin_procedure[16];
	char		 issuer_certs[16];
	char		 key_type[32];
	char		*procs;
	int		 found;
};

static int
tproc_cb(void *arg, struct store_row *row)
{
	struct tproc *t = arg;

	t->id = store_row_int(row, 0);
	snprintf(t->storage, sizeof(t->storage), "%s", store_row_text(row, 1));
	snprintf(t->pin_procedure, sizeof(t->pin_procedure), "%s",
	    store_row_text(row, 2));
	snprintf(t->issuer_certs, sizeof(t->issuer_certs), "%s",
	    store_row_text(row, 3));
	snprintf(t->key_type, sizeof(t->key_type), "%s",
	    store_row_text(row, 4));
	t->procs = cm_strdup(store_row_text(row, 5));
	t->found = 1;
	return 1;
}

struct subj {
	char	*dn;
	char	*email;
	char	*san;
};

static int
subj_cb(void *arg, struct store_row *row)
{
	struct subj *s = arg;

	s->dn = cm_strdup(store_row_text(row, 0));
	if (!store_row_null(row, 1))
		s->email = cm_strdup(store_row_text(row, 1));
	if (!store_row_null(row, 2))
		s->san = cm_strdup(store_row_text(row, 2));
	return 1;
}

/* A random PIN of PIN_LEN characters without look-alikes. */
static int
pin_new(struct cm_ctx *ctx, char **out)
{
	const size_t n = sizeof(pin_alphabet) - 1;
	unsigned char r;
	char *pin;
	size_t i = 0;

	*out = NULL;
	if ((pin = calloc(1, PIN_LEN + 1)) == NULL)
		return CM_ERR_NOMEM;
	while (i < PIN_LEN) {
		if (RAND_bytes(&r, 1) != 1) {
			cm_secret_free(pin);
			return cm_err_ssl(ctx, CM_ERR_CRYPTO, "random PIN");
		}
		if (r >= 256 - 256 % n)	/* no modulo bias */
			continue;
		pin[i++] = pin_alphabet[r % n];
	}
	*out = pin;
	return 0;
}

/*
 * A PKCS#12 (RFC 7292) of the keys and certificates, with the issuer
 * certificates: keys shrouded and certificates encrypted with PBES2
 * (PBKDF2, AES-256-CBC), a SHA-256 MAC, and a localKeyID (the SHA-1 of the
 * certificate) linking each key to its certificate.
 */
static int
p12_build(struct cm_ctx *ctx, const char *pin, EVP_PKEY **keys, X509 **certs,
    size_t n, STACK_OF(X509) *cas, const char *subject,
    unsigned char **out, size_t *outlen)
{
	STACK_OF(PKCS12_SAFEBAG) *certbags = NULL, *keybags = NULL;
	STACK_OF(PKCS7) *safes = NULL;
	PKCS12_SAFEBAG *bag;
	PKCS12 *p12 = NULL;
	unsigned char kid[EVP_MAX_MD_SIZE];
	unsigned int kidlen;
	char name[300];
	size_t i;
	int j, len, rc = CM_ERR_CRYPTO;

	*out = NULL;
	*outlen = 0;
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "%s (key %zu)", subject, i + 1);
		if (!X509_digest(certs[i], EVP_sha1(), kid, &kidlen) ||
		    (bag = PKCS12_add_cert(&certbags, certs[i])) == NULL ||
		    !PKCS12_add_localkeyid(bag, kid, (int)kidlen) ||
		    !PKCS12_add_friendlyname_utf8(bag, name, -1) ||
		    (bag = PKCS12_add_key_ex(&keybags, keys[i], 0, P12_ITER,
		    NID_aes_256_cbc, pin, NULL, NULL)) == NULL ||
		    !PKCS12_add_localkeyid(bag, kid, (int)kidlen) ||
		    !PKCS12_add_friendlyname_utf8(bag, name, -1))
			goto fail;
	}
	for (j = 0; j < sk_X509_num(cas); j++)
		if (PKCS12_add_cert(&certbags, sk_X509_value(cas, j)) == NULL)
			goto fail;
	if (!PKCS12_add_safe_ex(&safes, certbags, NID_aes_256_cbc, P12_ITER,
	    pin, NULL, NULL) ||
	    !PKCS12_add_safe_ex(&safes, keybags, -1, 0, NULL, NULL, NULL) ||
	    (p12 = PKCS12_add_safes_ex(safes, 0, NULL, NULL)) == NULL ||
	    !PKCS12_set_mac(p12, pin, -1, NULL, 0, P12_ITER, EVP_sha256()) ||
	    (len = i2d_PKCS12(p12, out)) <= 0)
		goto fail;
	*outlen = (size_t)len;
	rc = 0;
	goto out;
fail:
	cm_err_ssl(ctx, rc, "building the PKCS#12 token");
out:
	PKCS12_free(p12);
	sk_PKCS7_pop_free(safes, PKCS7_free);
	sk_PKCS12_SAFEBAG_pop_free(certbags, PKCS12_SAFEBAG_free);
	sk_PKCS12_SAFEBAG_pop_free(keybags, PKCS12_SAFEBAG_free);
	return rc;
}

/* A PKCS#10 request for a freshly made token key, as a struct csr. */
static int
key_csr(struct cm_ctx *ctx, EVP_PKEY *key, const char *dn, const char *name,
    struct csr **out)
{
	X509_REQ *xr = NULL;
	X509_NAME *subj = NULL;
	unsigned char *der = NULL;
	int len, rc;

	*out = NULL;
	if ((rc = dn_parse(ctx, dn, &subj)) != 0)
		return rc;
	rc = CM_ERR_CRYPTO;
	if ((xr = X509_REQ_new()) == NULL ||
	    !X509_REQ_set_version(xr, X509_REQ_VERSION_1) ||
	    !X509_REQ_set_subject_name(xr, subj) ||
	    !X509_REQ_set_pubkey(xr, key) ||
	    !X509_REQ_sign(xr, key, EVP_PKEY_is_a(key, "ED25519") ? NULL :
	    EVP_sha256()) ||
	    (len = i2d_X509_REQ(xr, &der)) <= 0) {
		cm_err_ssl(ctx, rc, "%s: making the request", name);
		goto out;
	}
	rc = csr_load(ctx, name, der, (size_t)len, out);
out:
	OPENSSL_free(der);
	X509_REQ_free(xr);
	X509_NAME_free(subj);
	return rc;
}

/* Free what a token issuance handed out; the PIN is wiped. */
void
cm_token_issued_clear(struct cm_token_issued *t)
{
	if (t == NULL)
		return;
	cm_secret_free(t->pin);
	if (t->data != NULL)
		OPENSSL_cleanse(t->data, t->len);
	free(t->data);
	free(t->serials);
	free(t->subject);
	memset(t, 0, sizeof(*t));
}

/*
 * Issue a token to a subject under a token procedure: every certificate of
 * the token in one transaction with its audit records, or none.  For
 * PKCS#12 the keys are made here, and the token file and its PIN are
 * returned; the PIN is never stored.  Returns 0 with *out filled (clear it
 * with cm_token_issued_clear) or a CM_ERR_*.
 */
int
cm_token_issue(struct cm_ctx *ctx, const struct cm_token_req *req,
    struct cm_token_issued *out)
{
	return token_issue(ctx, req, NULL, out);
}

/*
 * Issue a token, as cm_token_issue, or with card set, onto a smart card
 * (card.c): keys made on the card, certificates written to it inside the
 * transaction that issues them (so a failure leaves none of them issued,
 * and the card's new objects are destroyed), the card recorded with the
 * token.  The card's new user PIN is handed out as the token's PIN.
 */
int
token_issue(struct cm_ctx *ctx, const struct cm_token_req *req,
    struct card *card, struct cm_token_issued *out)
{
	struct tproc tp;
	struct subj sj = { NULL, NULL, NULL };
	struct procedure **procs = NULL;
	struct csr **csrs = NULL;
	struct cm_issued *iss = NULL;
	struct cm_issue_req ir;
	EVP_PKEY **keys = NULL;
	X509 **certs = NULL;
	STACK_OF(X509) *cas = NULL;
	struct signer *s;
	char **names = NULL, *san = NULL, detail[512], kname[64];
	const char *storage;
	size_t n = 0, i;
	int64_t subject_id, token_id = 0;
	int rc, pkcs12;

	memset(out, 0, sizeof(*out));
	memset(&tp, 0, sizeof(tp));
	if ((rc = officer_require(ctx, PERM_ISSUE, "token issue")) != 0)
		goto out;
	rc = store_query(ctx, "SELECT t.id, t.storage, t.pin_procedure, "
	    "t.issuer_certs, t.key_type, (SELECT group_concat(name, char(10)) "
	    "FROM (SELECT p.name FROM token_procedure_keys k JOIN procedures p "
	    "ON p.id = k.procedure_id WHERE k.token_procedure_id = t.id ORDER "
	    "BY k.position)) FROM token_procedures t WHERE t.name = ?", tproc_cb,
	    &tp, "t", req->procedure);
	if (rc != 0)
		goto out;
	if (!tp.found) {
		rc = cm_err(ctx, CM_ERR_NOTFOUND, "token procedure \"%s\" not "
		    "found", req->procedure != NULL ? req->procedure : "");
		goto out;
	}
	storage = tp.storage;
	if (card != NULL && strcmp(storage, "smartcard") != 0) {
		rc = cm_err(ctx, CM_ERR_POLICY, "token procedure \"%s\" stores "
		    "%s tokens, not smart cards", req->procedure, storage);
		goto out;
	}
	if (card == NULL && strcmp(storage, "smartcard") == 0) {
		if (!req->pkcs12_fallback) {
			rc = cm_err(ctx, CM_ERR_POLICY, "token procedure \"%s\" "
			    "stores on smart cards: personalize the card at the "
			    "card station (cmctl card personalize), or issue a "
			    "PKCS#12 with --pkcs12-fallback", req->procedure);
			goto out;
		}
		storage = "pkcs12";
	}
	pkcs12 = strcmp(storage, "pkcs12") == 0;
	if (pkcs12 && req->csr != NULL) {
		rc = cm_err(ctx, CM_ERR_INVAL, "token procedure \"%s\" makes its "
		    "own keys: a request is not used", req->procedure);
		goto out;
	}
	if (!pkcs12 && card == NULL && req->csr == NULL) {
		rc = cm_err(ctx, CM_ERR_INVAL, "token procedure \"%s\" stores "
		    "PKCS#10: a request (--csr) is required", req->procedure);
		goto out;
	}
	if ((rc = subject_lookup(ctx, req->subject, &subject_id)) != 0)
		goto out;
	if ((rc = store_query(ctx, "SELECT dn, email, san FROM subjects WHERE "
	    "id = ?", subj_cb, &sj, "i", subject_id)) != 0)
		goto out;
	if (sj.dn == NULL) {
		rc = CM_ERR_NOMEM;
		goto out;
	}
	if ((rc = cm_asprintf(&san, "%s%s%s%s", cm_def(sj.san, ""),
	    sj.san != NULL && sj.email != NULL ? "," : "",
	    sj.email != NULL ? "email:" : "", cm_def(sj.email, ""))) != 0)
		goto out;
	if ((rc = cm_split(tp.procs, '\n', &names, &n)) != 0)
		goto out;
	if (n == 0) {
		rc = cm_err(ctx, CM_ERR_DB, "token procedure \"%s\" has no "
		    "certificate procedures", req->procedure);
		goto out;
	}
	if ((procs = calloc(n, sizeof(*procs))) == NULL ||
	    (csrs = calloc(n, sizeof(*csrs))) == NULL ||
	    (iss = calloc(n, sizeof(*iss))) == NULL ||
	    (keys = calloc(n, sizeof(*keys))) == NULL ||
	    (certs = calloc(n, sizeof(*certs))) == NULL ||
	    (out->serials = calloc(n, sizeof(*out->serials))) == NULL ||
	    (cas = sk_X509_new_null()) == NULL) {
		rc = CM_ERR_NOMEM;
		goto out;
	}
	/* Everything that may ask or refuse comes before the write lock. */
	for (i = 0; i < n; i++) {
		snprintf(kname, sizeof(kname), "token key %zu", i + 1);
		if ((rc = procedure_load(ctx, names[i], &procs[i])) != 0 ||
		    (rc = signer_get(ctx, procs[i]->key_id, &s)) != 0)
			goto out;
		if (card != NULL)
			rc = card_key(ctx, card, i, tp.key_type, procs[i]->ku,
			    names[i], sj.dn, &csrs[i]);
		else if (pkcs12) {
			if ((keys[i] = key_new(tp.key_type)) == NULL) {
				rc = cm_err_ssl(ctx, CM_ERR_CRYPTO, "%s: "
				    "generating %s", kname, tp.key_type);
				goto out;
			}
			rc = key_csr(ctx, keys[i], sj.dn, kname, &csrs[i]);
		} else
			rc = csr_load(ctx, req->csr_name, req->csr,
			    req->csr_len, &csrs[i]);
		if (rc != 0 || (rc = issue_check(ctx, procs[i], csrs[i],
		    pkcs12 || card != NULL ? kname : req->csr_name)) != 0)
			goto out;
	}
	if (strcmp(tp.issuer_certs, "none") != 0 &&
	    (rc = ca_chain_x509(ctx, procs[0]->ca_id,
	    strcmp(tp.issuer_certs, "chain") == 0, cas)) != 0)
		goto out;

	if ((rc = txn_begin(ctx)) != 0)
		goto out;
	rc = store_exec(ctx, "INSERT INTO tokens (token_procedure_id, "
	    "subject_id, storage, state, created) VALUES (?, ?, ?, 'active', ?)",
	    "iiti", tp.id, subject_id, storage, (int64_t)time(NULL));
	if (rc == 0)
		token_id = store_last_id(ctx);
	snprintf(detail, sizeof(detail), "token %lld, token procedure \"%s\"",
	    (long long)token_id, req->procedure);
	for (i = 0; i < n && rc == 0; i++) {
		memset(&ir, 0, sizeof(ir));
		ir.procedure = names[i];
		ir.csr_name = pkcs12 || card != NULL ? "token key" :
		    req->csr_name;
		ir.subject = sj.dn;
		ir.san = san;
		ir.der = 1;
		if ((rc = issue_ca_usable(ctx, procs[i])) != 0 ||
		    (rc = issue_sign(ctx, procs[i], csrs[i], &ir, &iss[i])) != 0)
			break;
		rc = store_exec(ctx, "UPDATE certs SET token_id = ?, subject_id "
		    "= ? WHERE ca_id = ? AND serial = ?", "iiit", token_id,
		    subject_id, procs[i]->ca_id, iss[i].serial);
		if (rc == 0)
			rc = audit_append(ctx, "cert.issue", iss[i].serial,
			    detail);
		if (rc == 0 && (certs[i] = x509_from_der(iss[i].data,
		    iss[i].len)) == NULL)
			rc = cm_err_ssl(ctx, CM_ERR_CRYPTO, "token certificate");
		if (rc == 0)
			memcpy(out->serials[i], iss[i].serial,
			    sizeof(out->serials[i]));
	}
	if (rc == 0 && card != NULL) {
		/* On the card inside the transaction: all of it, or none. */
		for (i = 0; i < n && rc == 0; i++)
			rc = card_store(ctx, card, i, certs[i], names[i]);
		for (i = 0; rc == 0 && i < (size_t)sk_X509_num(cas); i++)
			rc = card_store(ctx, card, n + i,
			    sk_X509_value(cas, (int)i), NULL);
		if (rc == 0)
			rc = card_record(ctx, card, token_id, detail,
			    sizeof(detail));
		for (i = 0; i < n && rc == 0; i++)
			rc = x509_pem(ctx, certs[i], &out->data, &out->len);
	} else if (rc == 0 && pkcs12) {
		/* Made inside the transaction: no token, no certificates. */
		if ((rc = pin_new(ctx, &out->pin)) == 0)
			rc = p12_build(ctx, out->pin, keys, certs, n, cas, sj.dn,
			    &out->data, &out->len);
	} else if (rc == 0) {
		for (i = 0; i < n && rc == 0; i++)
			rc = x509_pem(ctx, certs[i], &out->data, &out->len);
		for (i = 0; rc == 0 && i < (size_t)sk_X509_num(cas); i++)
			rc = x509_pem(ctx, sk_X509_value(cas, (int)i),
			    &out->data, &out->len);
	}
	rc = txn_end(ctx, rc, card != NULL ? "card.personalize" :
	    "token.issue", sj.dn, detail);
	if (rc == 0 && (out->subject = cm_strdup(sj.dn)) == NULL)
		rc = CM_ERR_NOMEM;
	if (rc == 0) {
		out->id = token_id;
		out->nserials = n;
		if (card != NULL)
			out->pin = card_take_pin(card);
		out->pin_letter = (pkcs12 || card != NULL) &&
		    strcmp(tp.pin_procedure, "letter") == 0;
	}
out:
	if (rc != 0)
		cm_token_issued_clear(out);
	for (i = 0; i < n; i++) {
		if (procs != NULL)
			procedure_free(procs[i]);
		if (csrs != NULL)
			csr_free(csrs[i]);
		if (iss != NULL)
			cm_issued_clear(&iss[i]);
		if (keys != NULL)
			EVP_PKEY_free(keys[i]);
		if (certs != NULL)
			X509_free(certs[i]);
	}
	free(procs);
	free(csrs);
	free(iss);
	free(keys);
	free(certs);
	sk_X509_pop_free(cas, X509_free);
	cm_split_free(names, n);
	free(san);
	free(sj.dn);
	free(sj.email);
	free(sj.san);
	free(tp.procs);
	return audit_done(ctx, rc, card != NULL ? "card.personalize" :
	    "token.issue", req->subject);
}

struct tl_arg {
	cm_token_cb	 cb;
	void		*arg;
	int		 found;
};

static int
tl_cb(void *arg, struct store_row *row)
{
	struct tl_arg *a = arg;
	struct cm_token_info ti;

	ti.id = store_row_int(row, 0);
	ti.procedure = store_row_text(row, 1);
	ti.subject = store_row_text(row, 2);
	ti.storage = store_row_text(row, 3);
	ti.state = store_row_text(row, 4);
	ti.created = (time_t)store_row_int(row, 5);
	a->found = 1;
	return a->cb(a->arg, &ti);
}

/*
 * Call cb for tokens: the one with id (when not 0), or those of a subject
 * (ID or DN, when not NULL), or all.  An unknown token id is
 * CM_ERR_NOTFOUND.
 */
int
cm_token_list(struct cm_ctx *ctx, int64_t id, const char *subject,
    cm_token_cb cb, void *arg)
{
	struct tl_arg a = { cb, arg, 0 };
	int64_t sid = 0;
	int rc;

	if (subject != NULL && (rc = subject_lookup(ctx, subject, &sid)) != 0)
		return rc;
	rc = store_query(ctx, "SELECT t.id, p.name, s.dn, t.storage, t.state, "
	    "t.created FROM tokens t JOIN token_procedures p ON p.id = "
	    "t.token_procedure_id JOIN subjects s ON s.id = t.subject_id WHERE "
	    "(?1 = 0 OR t.id = ?1) AND (?2 = 0 OR t.subject_id = ?2) ORDER BY "
	    "t.id", tl_cb, &a, "ii", id, sid);
	if (rc == 0 && id != 0 && !a.found)
		rc = cm_err(ctx, CM_ERR_NOTFOUND, "token %lld not found",
		    (long long)id);
	return rc;
}

struct tcert {
	int64_t	*ids;
	size_t	 n;
};

static int
tcert_cb(void *arg, struct store_row *row)
{
	struct tcert *t = arg;
	int64_t *nv;

	if ((nv = reallocarray(t->ids, t->n + 1, sizeof(*nv))) == NULL)
		return CM_ERR_NOMEM;
	t->ids = nv;
	t->ids[t->n++] = store_row_int(row, 0);
	return 0;
}

/* Call cb for the tokens a page at a time, in ID order (see cm_page). */
int
cm_token_page(struct cm_ctx *ctx, const struct cm_page *pg, cm_token_cb cb,
    void *arg)
{
	struct tl_arg a = { cb, arg, 0 };
	int64_t limit = pg->limit > 0 ? pg->limit : -1;

	if (pg->backward)
		return store_query(ctx, "SELECT t.id, p.name, s.dn, t.storage, "
		    "t.state, t.created FROM tokens t JOIN token_procedures p "
		    "ON p.id = t.token_procedure_id JOIN subjects s ON s.id = "
		    "t.subject_id WHERE t.id < ?1 ORDER BY t.id DESC LIMIT ?2",
		    tl_cb, &a, "ii", pg->after != 0 ? pg->after : INT64_MAX,
		    limit);
	return store_query(ctx, "SELECT t.id, p.name, s.dn, t.storage, "
	    "t.state, t.created FROM tokens t JOIN token_procedures p ON p.id "
	    "= t.token_procedure_id JOIN subjects s ON s.id = t.subject_id "
	    "WHERE t.id > ?1 ORDER BY t.id LIMIT ?2", tl_cb, &a, "ii",
	    pg->after, limit);
}

/*
 * Revoke a token: every valid or on-hold certificate of it, and the token,
 * in one transaction.  Returns 0 or a CM_ERR_*.
 */
int
cm_token_revoke(struct cm_ctx *ctx, int64_t id, const char *reason)
{
	char object[32], detail[CM_ERRMSG_MAX];
	int64_t dummy;
	size_t n = 0;
	int r, rc;

	snprintf(object, sizeof(object), "token %lld", (long long)id);
	if ((rc = officer_require(ctx, PERM_REVOKE, "token revoke")) != 0)
		goto out;
	if ((r = cm_reason_parse(reason)) < 0 ||
	    r == CM_REASON_CERTIFICATE_HOLD) {
		rc = cm_err(ctx, CM_ERR_INVAL, "token %lld: revocation reason "
		    "\"%s\" (a token is revoked for good: unspecified, "
		    "keyCompromise, cACompromise, affiliationChanged, superseded, "
		    "cessationOfOperation or privilegeWithdrawn)", (long long)id,
		    reason == NULL ? "" : reason);
		goto out;
	}
	/* The CA keys of its delta CRLs: asked now, not under the lock. */
	crl_revoke_prepare(ctx, 0, id);
	/* The token's state is read under the write lock, where it holds. */
	if ((rc = txn_begin(ctx)) != 0)
		goto out;
	rc = store_int(ctx, &dummy, "SELECT id FROM tokens WHERE id = ?", "i",
	    id);
	if (rc == CM_ERR_NOTFOUND)
		rc = cm_err(ctx, rc, "token %lld not found", (long long)id);
	else if (rc == 0 && store_int(ctx, &dummy, "SELECT id FROM tokens "
	    "WHERE id = ? AND state = 'revoked'", "i", id) == 0)
		rc = cm_err(ctx, CM_ERR_POLICY, "token %lld is already revoked",
		    (long long)id);
	if (rc == 0)
		rc = token_revoke_rows(ctx, id, r, &n);
	if (rc == 0)
		rc = crl_revoke_deltas(ctx);
	snprintf(detail, sizeof(detail), "reason %s, %zu certificates%s%.900s",
	    cm_reason_name(r), n, ctx->warning[0] != '\0' ? "; " : "",
	    ctx->warning);
	rc = txn_end(ctx, rc, "token.revoke", object, detail);
out:
	return audit_done(ctx, rc, "token.revoke", object);
}

/*
 * Inside a transaction: revoke every valid or held certificate of token
 * id with reason, and the token, and its card if it has one.  *n receives
 * how many certificates were revoked.
 */
int
token_revoke_rows(struct cm_ctx *ctx, int64_t id, int reason, size_t *n)
{
	struct tcert tc = { NULL, 0 };
	size_t i;
	int rc;

	*n = 0;
	rc = store_query(ctx, "SELECT id FROM certs WHERE token_id = ? AND "
	    "status IN ('valid', 'hold') ORDER BY id", tcert_cb, &tc, "i", id);
	for (i = 0; rc == 0 && i < tc.n; i++)
		rc = revoke_cert_row(ctx, tc.ids[i], reason, time(NULL));
	if (rc == 0)
		rc = store_exec(ctx, "UPDATE tokens SET state = 'revoked' WHERE "
		    "id = ?", "i", id);
	if (rc == 0)
		rc = store_exec(ctx, "UPDATE cards SET state = 'revoked' WHERE "
		    "token_id = ?", "i", id);
	if (rc == 0)
		*n = tc.n;
	free(tc.ids);
	return rc;
}

static int
first_cert_cb(void *arg, struct store_row *row)
{
	X509 **x = arg;
	const unsigned char *p;
	size_t len;

	p = store_row_blob(row, 0, &len);
	if (p != NULL)
		*x = x509_from_der(p, len);
	return 1;
}

/*
 * The first certificate of token id as PEM (*pem NUL-terminated, caller
 * frees).  Returns 0 or a CM_ERR_*.
 */
int
token_cert_pem(struct cm_ctx *ctx, int64_t id, char **pem, size_t *len)
{
	unsigned char *buf = NULL;
	size_t n = 0;
	X509 *x = NULL;
	int rc;

	*pem = NULL;
	*len = 0;
	if ((rc = store_query(ctx, "SELECT der FROM certs WHERE token_id = ? "
	    "ORDER BY id LIMIT 1", first_cert_cb, &x, "i", id)) != 0)
		return rc;
	if (x == NULL)
		return cm_err(ctx, CM_ERR_NOTFOUND, "token %lld has no "
		    "certificate", (long long)id);
	rc = x509_pem(ctx, x, &buf, &n);
	X509_free(x);
	if (rc == 0) {
		*pem = (char *)buf;
		*len = n;
	}
	return rc;
}
