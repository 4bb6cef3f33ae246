/*
 * officer.c: officer profiles, officers, and their login.
 *
 * An officer is a person bound to one certificate.  To act, the officer's
 * token logs in: the engine asks for its PIN, proves that the token holds
 * the private key of the certificate (a signature over a fresh challenge),
 * and checks that the certificate chains to an active CA in the CMDB, that
 * neither it nor its CA is revoked or expired, that the officer is active,
 * and, for every operation, that the profile allows it.
 *
 * A CMDB without officers is in setup mode: nothing needs an officer until
 * the first ones exist (cmctl bootstrap makes them).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include "extern.h"

static const struct {
	const char	*name;
	unsigned	 bit;
	const char	*words;
} perms[] = {
	{ "policy",	PERM_POLICY,	"administer policy" },
	{ "issue",	PERM_ISSUE,	"register and issue" },
	{ "revoke",	PERM_REVOKE,	"revoke" },
	{ "recover",	PERM_RECOVER,	"recover keys" },
	{ "audit",	PERM_AUDIT,	"read the audit log" },
	{ NULL,		0,		NULL }
};

struct issued_arg {
	int64_t	ca_id;
	char	status[16];
	int	found;
};

static int	officer_check(struct cm_ctx *, const char *, const char *, X509 *,
		    int64_t *, struct issued_arg *, char *, size_t, char *);
static int	disable_check(struct cm_ctx *, const char *, int64_t *);

static unsigned
perm_bits(const char *list)
{
	unsigned bits = 0;
	size_t i;

	for (i = 0; perms[i].name != NULL; i++)
		if (cm_list_has(list, perms[i].name))
			bits |= perms[i].bit;
	return bits;
}

static const char *
perm_words(unsigned bit)
{
	size_t i;

	for (i = 0; perms[i].name != NULL; i++)
		if (perms[i].bit == bit)
			return perms[i].words;
	return "?";
}

/*
 * Whether officers are required: once the CMDB has two active officers who
 * may administer policy, four-eye control is possible and always applies.
 * Before that (setup mode) nothing needs an officer.
 */
int
officer_enforced(struct cm_ctx *ctx, int64_t *on)
{
	int64_t n;
	int rc;

	*on = 0;
	rc = store_int(ctx, &n, "SELECT count(*) FROM officers o JOIN "
	    "officer_profiles p ON p.id = o.profile_id WHERE o.state = "
	    "'active' AND ',' || p.permissions || ',' GLOB '*,policy,*'", NULL);
	if (rc == 0)
		*on = n >= 2;
	return rc;
}

static int
perms_cb(void *arg, struct store_row *row)
{
	snprintf(arg, 200, "%s", store_row_text(row, 0));
	return 1;
}

/*
 * Inside a policy change that altered officers or profiles: refuse it when
 * four-eye control was on before (before) and is off now.  Four-eye
 * control, once on, never falls back to setup mode.
 */
static int
four_eye_kept(struct cm_ctx *ctx, int64_t before, const char *what,
    const char *name)
{
	int64_t after;
	int rc;

	if (!before)
		return 0;
	if ((rc = officer_enforced(ctx, &after)) != 0 || after)
		return rc;
	return cm_err(ctx, CM_ERR_POLICY, "%s \"%s\": the change leaves fewer "
	    "than two officers who may administer policy, and four-eye "
	    "control needs two", what, name);
}

/*
 * Check that an officer who may do what is logged in, unless the CMDB is
 * in setup mode.  The audit log then names that officer.  Returns 0 or
 * CM_ERR_DENIED naming the operation and the permission.
 */
int
officer_require(struct cm_ctx *ctx, unsigned perm, const char *what)
{
	int64_t n;
	size_t i;
	char *actor;
	int rc;

	if ((rc = officer_enforced(ctx, &n)) != 0)
		return rc;
	if (!n)
		return 0;
	/*
	 * A session may be old (cm-awb stays open): what the officer may do
	 * is read again, and a disabled officer may do nothing.
	 */
	for (i = 0; i < ctx->nofficers; i++) {
		char now[200] = "";

		rc = store_query(ctx, "SELECT CASE WHEN o.state = 'active' "
		    "THEN p.permissions ELSE '' END FROM officers o JOIN "
		    "officer_profiles p ON p.id = o.profile_id WHERE o.id = ?",
		    perms_cb, now, "i", ctx->officers[i].id);
		if (rc != 0)
			return rc;
		ctx->officers[i].perms = perm_bits(now);
	}
	for (i = 0; i < ctx->nofficers; i++) {
		if (!(ctx->officers[i].perms & perm))
			continue;
		if (cm_asprintf(&actor, "officer:%s (%s)",
		    ctx->officers[i].name, ctx->os_actor != NULL ?
		    ctx->os_actor : "?") != 0)
			return CM_ERR_NOMEM;
		free(ctx->actor);
		ctx->actor = actor;
		return 0;
	}
	if (ctx->nofficers == 0)
		return cm_err(ctx, CM_ERR_DENIED, "%s: an officer who may %s "
		    "must log in (--officer)", what, perm_words(perm));
	return cm_err(ctx, CM_ERR_DENIED, "%s: officer \"%s\" may not %s "
	    "(officer profile)", what, ctx->officers[0].name,
	    perm_words(perm));
}

/* Forget every logged-in officer; their keys are freed (and wiped). */
void
officer_logout_all(struct cm_ctx *ctx)
{
	size_t i;

	for (i = 0; i < ctx->nofficers; i++) {
		X509_free(ctx->officers[i].cert);
		EVP_PKEY_free(ctx->officers[i].key);
	}
	memset(ctx->officers, 0, sizeof(ctx->officers));
	ctx->nofficers = 0;
}

/*
 * Log out one officer (name) or, with NULL, every officer; their keys are
 * freed.  A front end logs out the second officer after a co-signature.
 */
void
cm_officer_logout(struct cm_ctx *ctx, const char *name)
{
	size_t i;

	if (name == NULL) {
		officer_logout_all(ctx);
		return;
	}
	for (i = 0; i < ctx->nofficers; i++) {
		if (strcmp(ctx->officers[i].name, name) != 0)
			continue;
		X509_free(ctx->officers[i].cert);
		EVP_PKEY_free(ctx->officers[i].key);
		memmove(&ctx->officers[i], &ctx->officers[i + 1],
		    (ctx->nofficers - i - 1) * sizeof(ctx->officers[0]));
		ctx->nofficers--;
		memset(&ctx->officers[ctx->nofficers], 0,
		    sizeof(ctx->officers[0]));
		return;
	}
}

/* The name of the i-th logged-in officer, or NULL past the last. */
const char *
cm_officer_session(const struct cm_ctx *ctx, size_t i)
{
	return i < ctx->nofficers ? ctx->officers[i].name : NULL;
}

/*
 * Set *setup when the CMDB is in setup mode: fewer than two active
 * officers may administer policy, so nothing needs an officer yet.
 */
int
cm_officer_setup_mode(struct cm_ctx *ctx, int *setup)
{
	int64_t on;
	int rc;

	*setup = 0;
	if ((rc = officer_enforced(ctx, &on)) != 0)
		return rc;
	*setup = !on;
	return 0;
}

static int
perm_list_check(struct cm_ctx *ctx, const char *profile, const char *list,
    char **norm)
{
	char **v = NULL;
	size_t n = 0, i, j;
	int rc;

	*norm = NULL;
	if ((rc = cm_split(list, ',', &v, &n)) != 0)
		return rc;
	for (i = 0; i < n; i++) {
		for (j = 0; perms[j].name != NULL; j++)
			if (strcmp(perms[j].name, v[i]) == 0)
				break;
		if (perms[j].name == NULL) {
			rc = cm_err(ctx, CM_ERR_INVAL, "officer profile \"%s\": "
			    "unknown permission \"%s\" (policy, issue, revoke, "
			    "recover, audit)", profile, v[i]);
			goto out;
		}
	}
	if (n == 0) {
		rc = cm_err(ctx, CM_ERR_INVAL, "officer profile \"%s\": at least "
		    "one permission is required", profile);
		goto out;
	}
	rc = cm_list_norm(list, norm);
out:
	cm_split_free(v, n);
	return rc;
}

/* Create an officer profile, as a policy change. */
static int
profile_request(struct cm_ctx *ctx, const struct cm_officer_profile_req *req,
    const char *type)
{
	struct change *ch = NULL;
	char *norm = NULL;
	int64_t id;
	int rc, modify = strcmp(type, "officer-profile.modify") == 0;

	if (req->name == NULL || *req->name == '\0') {
		rc = cm_err(ctx, CM_ERR_INVAL, "officer profile: a name is "
		    "required");
		goto out;
	}
	rc = store_int(ctx, &id, "SELECT id FROM officer_profiles WHERE name = "
	    "?", "t", req->name);
	if ((rc = change_target(ctx, rc, modify, "officer profile",
	    req->name)) != 0)
		goto out;
	if ((rc = perm_list_check(ctx, req->name, req->permissions, &norm)) !=
	    0)
		goto out;
	if ((ch = change_new(type)) == NULL ||
	    change_set(ch, "name", req->name) != 0 ||
	    change_set(ch, "permissions", norm) != 0) {
		rc = CM_ERR_NOMEM;
		goto out;
	}
	rc = change_submit(ctx, ch, req->name);
	change_free(ch);
	free(norm);
	return rc;
out:
	change_free(ch);
	free(norm);
	return audit_done(ctx, rc, type, req->name);
}

/* Create an officer profile, as a policy change. */
int
cm_officer_profile_create(struct cm_ctx *ctx,
    const struct cm_officer_profile_req *req)
{
	return profile_request(ctx, req, "officer-profile.create");
}

/*
 * Change the permissions of an officer profile, as a policy change.  The
 * change is refused when it would leave fewer than two officers who may
 * administer policy: four-eye control, once on, stays on.
 */
int
cm_officer_profile_modify(struct cm_ctx *ctx,
    const struct cm_officer_profile_req *req)
{
	return profile_request(ctx, req, "officer-profile.modify");
}

/* Apply officer-profile.create (also from an imported policy). */
int
officer_profile_apply_create(struct cm_ctx *ctx, const struct change *ch)
{
	char *norm = NULL;
	int rc;

	if (change_get(ch, "name") == NULL ||
	    change_get(ch, "permissions") == NULL)
		return cm_err(ctx, CM_ERR_INVAL, "officer-profile.create: name "
		    "or permissions missing");
	if ((rc = perm_list_check(ctx, change_get(ch, "name"),
	    change_get(ch, "permissions"), &norm)) != 0)
		return rc;
	if (strcmp(change_type(ch), "officer-profile.modify") == 0) {
		int64_t before;

		if ((rc = officer_enforced(ctx, &before)) == 0 &&
		    (rc = store_exec(ctx, "UPDATE officer_profiles SET "
		    "permissions = ? WHERE name = ?", "tt", norm,
		    change_get(ch, "name"))) == 0 && store_changes(ctx) != 1)
			rc = cm_err(ctx, CM_ERR_NOTFOUND, "officer profile "
			    "\"%s\" not found", change_get(ch, "name"));
		if (rc == 0)
			rc = four_eye_kept(ctx, before, "officer profile",
			    change_get(ch, "name"));
		free(norm);
		return rc;
	}
	rc = store_exec(ctx, "INSERT INTO officer_profiles (name, "
	    "permissions, created) VALUES (?, ?, ?)", "tti",
	    change_get(ch, "name"), norm, (int64_t)time(NULL));
	free(norm);
	return rc;
}

static int
cert_sha256(X509 *x, char *hex)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len;

	if (!X509_digest(x, EVP_sha256(), md, &len))
		return CM_ERR_CRYPTO;
	cm_hex(md, len, hex);
	return 0;
}

/*
 * Create an officer bound to a certificate that a CA in the CMDB issued, as
 * a policy change.
 */
int
cm_officer_create(struct cm_ctx *ctx, const struct cm_officer_req *req)
{
	struct change *ch = NULL;
	struct issued_arg ia;
	X509 *x = NULL;
	unsigned char *pem = NULL, *der = NULL;
	char fp[2 * EVP_MAX_MD_SIZE + 1], serial[64];
	size_t pemlen = 0;
	int64_t id;
	int len, rc;

	if (req->name == NULL || *req->name == '\0') {
		rc = cm_err(ctx, CM_ERR_INVAL, "officer: a name is required");
		goto out;
	}
	if ((x = x509_decode(req->cert, req->cert_len)) == NULL) {
		rc = cm_err(ctx, CM_ERR_INVAL, "officer \"%s\": not a "
		    "certificate (PEM or DER)", req->name);
		goto out;
	}
	if ((rc = officer_check(ctx, req->name, req->profile, x, &id, &ia,
	    serial, sizeof(serial), fp)) != 0)
		goto out;
	if ((len = i2d_X509(x, &der)) <= 0 ||
	    (rc = cm_pem_encode(ctx, "CERTIFICATE", der, (size_t)len, &pem,
	    &pemlen)) != 0) {
		rc = cm_err_ssl(ctx, CM_ERR_CRYPTO, "officer \"%s\"", req->name);
		goto out;
	}
	if ((ch = change_new("officer.create")) == NULL ||
	    change_set(ch, "name", req->name) != 0 ||
	    change_set(ch, "profile", req->profile) != 0 ||
	    change_set(ch, "certificate", (char *)pem) != 0 ||
	    (req->no_two_step && change_set(ch, "two-step", "off") != 0)) {
		rc = CM_ERR_NOMEM;
		goto out;
	}
	rc = change_submit(ctx, ch, req->name);
	change_free(ch);
	free(pem);
	OPENSSL_free(der);
	X509_free(x);
	return rc;
out:
	change_free(ch);
	free(pem);
	OPENSSL_free(der);
	X509_free(x);
	return audit_done(ctx, rc, "officer.create", req->name);
}

static int
issued_cb(void *arg, struct store_row *row)
{
	struct issued_arg *a = arg;

	a->ca_id = store_row_int(row, 0);
	snprintf(a->status, sizeof(a->status), "%s", store_row_text(row, 1));
	a->found = 1;
	return 1;
}

/* The CMDB's record of a certificate it issued, found by its DER. */
static int
cert_record(struct cm_ctx *ctx, X509 *x, struct issued_arg *a, char *serial,
    size_t len)
{
	unsigned char *der = NULL;
	int dlen, rc;

	memset(a, 0, sizeof(*a));
	x509_serial_hex(X509_get0_serialNumber(x), serial, len);
	if ((dlen = i2d_X509(x, &der)) <= 0)
		return cm_err_ssl(ctx, CM_ERR_CRYPTO, "DER encoding");
	rc = store_query(ctx, "SELECT ca_id, status FROM certs WHERE serial = ? "
	    "AND der = ?", issued_cb, a, "tb", serial, der, (size_t)dlen);
	OPENSSL_free(der);
	return rc;
}

/* Whether a key is already an officer's: names the officer in clash. */
struct key_clash {
	EVP_PKEY	*key;
	char		 clash[160];
};

static int
key_clash_cb(void *arg, struct store_row *row)
{
	struct key_clash *k = arg;
	const unsigned char *p;
	size_t len;
	X509 *x;

	p = store_row_blob(row, 0, &len);
	if (p == NULL || (x = x509_from_der(p, len)) == NULL)
		return 0;
	if (k->key != NULL && EVP_PKEY_eq(X509_get0_pubkey(x), k->key) == 1)
		snprintf(k->clash, sizeof(k->clash), "%s",
		    store_row_text(row, 1));
	X509_free(x);
	ERR_clear_error();
	return k->clash[0] != '\0';
}

/*
 * The rules for a new officer: the profile exists, the certificate was
 * issued by a CA in this CMDB and is valid, and it is no other officer's.
 * Checked when the change is made and again when it is applied.
 */
static int
officer_check(struct cm_ctx *ctx, const char *name, const char *profile_name,
    X509 *x, int64_t *profile, struct issued_arg *ia, char *serial,
    size_t serial_len, char *fp)
{
	struct key_clash kc;
	int64_t other;
	int rc;

	if (store_int(ctx, &other, "SELECT id FROM officers WHERE name = ?",
	    "t", name) == 0)
		return cm_err(ctx, CM_ERR_EXISTS, "officer \"%s\" already exists",
		    name);
	rc = store_int(ctx, profile, "SELECT id FROM officer_profiles WHERE "
	    "name = ?", "t", profile_name);
	if (rc == CM_ERR_NOTFOUND)
		return cm_err(ctx, rc, "officer \"%s\": officer profile \"%s\" "
		    "not found", name, profile_name);
	if (rc != 0)
		return rc;
	if ((rc = cert_record(ctx, x, ia, serial, serial_len)) != 0)
		return rc;
	if (!ia->found)
		return cm_err(ctx, CM_ERR_POLICY, "officer \"%s\": certificate %s "
		    "was not issued by a CA in this CMDB", name, serial);
	if (strcmp(ia->status, "valid") != 0)
		return cm_err(ctx, CM_ERR_POLICY, "officer \"%s\": certificate %s "
		    "is %s", name, serial, ia->status);
	if (cert_sha256(x, fp) != 0)
		return cm_err_ssl(ctx, CM_ERR_CRYPTO, "officer \"%s\"", name);
	/* One key is one person: no second officer with the same key. */
	memset(&kc, 0, sizeof(kc));
	kc.key = X509_get0_pubkey(x);
	if ((rc = store_query(ctx, "SELECT cert, name FROM officers",
	    key_clash_cb, &kc, NULL)) != 0)
		return rc;
	if (kc.clash[0] != '\0')
		return cm_err(ctx, CM_ERR_EXISTS, "officer \"%s\": the key of "
		    "certificate %s belongs to officer \"%s\" already", name,
		    serial, kc.clash);
	if (store_int(ctx, &other, "SELECT id FROM officers WHERE cert_sha256 "
	    "= ?", "t", fp) == 0)
		return cm_err(ctx, CM_ERR_EXISTS, "officer \"%s\": certificate %s "
		    "already belongs to an officer", name, serial);
	return 0;
}

/* Apply officer.create. */
int
officer_apply_create(struct cm_ctx *ctx, const struct change *ch)
{
	const char *name = change_get(ch, "name");
	const char *pem = change_get(ch, "certificate");
	const char *two_step = change_get(ch, "two-step");
	struct issued_arg ia;
	X509 *x = NULL;
	unsigned char *der = NULL;
	char fp[2 * EVP_MAX_MD_SIZE + 1], serial[64];
	int64_t profile;
	int len, rc;

	if (name == NULL || pem == NULL || change_get(ch, "profile") == NULL)
		return cm_err(ctx, CM_ERR_INVAL, "officer.create: name, profile "
		    "or certificate missing");
	if ((x = x509_decode((const unsigned char *)pem, strlen(pem))) == NULL)
		return cm_err(ctx, CM_ERR_INVAL, "officer \"%s\": not a "
		    "certificate", name);
	if ((rc = officer_check(ctx, name, change_get(ch, "profile"), x,
	    &profile, &ia, serial, sizeof(serial), fp)) != 0)
		goto out;
	if ((len = i2d_X509(x, &der)) <= 0) {
		rc = cm_err_ssl(ctx, CM_ERR_CRYPTO, "DER encoding");
		goto out;
	}
	rc = store_exec(ctx, "INSERT INTO officers (name, profile_id, cert, "
	    "cert_sha256, ca_id, serial, state, two_step, created) VALUES (?, "
	    "?, ?, ?, ?, ?, 'active', ?, ?)", "tibtitIi", name, profile, der,
	    (size_t)len, fp, ia.ca_id, serial, two_step != NULL &&
	    strcmp(two_step, "off") == 0 ? 0 : 1, (int64_t)time(NULL));
out:
	OPENSSL_free(der);
	X509_free(x);
	return rc;
}

/* Disable an officer, as a policy change. */
int
cm_officer_disable(struct cm_ctx *ctx, const char *name)
{
	struct change *ch = NULL;
	int64_t id;
	int rc;

	rc = store_int(ctx, &id, "SELECT id FROM officers WHERE name = ?", "t",
	    name);
	if (rc == CM_ERR_NOTFOUND)
		rc = cm_err(ctx, rc, "officer \"%s\" not found", name);
	if (rc != 0 || (rc = disable_check(ctx, name, &id)) != 0)
		goto out;
	if ((ch = change_new("officer.disable")) == NULL ||
	    change_set(ch, "name", name) != 0) {
		change_free(ch);
		rc = CM_ERR_NOMEM;
		goto out;
	}
	rc = change_submit(ctx, ch, name);
	change_free(ch);
	return rc;
out:
	return audit_done(ctx, rc, "officer.disable", name);
}

/*
 * Whether officer name may be disabled: it is active, and four-eye control,
 * once on, keeps two officers who may administer policy.
 */
static int
disable_check(struct cm_ctx *ctx, const char *name, int64_t *id)
{
	int64_t left;
	int rc;

	rc = store_int(ctx, id, "SELECT id FROM officers WHERE name = ? AND "
	    "state = 'active'", "t", name);
	if (rc == CM_ERR_NOTFOUND)
		return cm_err(ctx, CM_ERR_POLICY, "officer \"%s\" is not active",
		    name);
	if (rc != 0)
		return rc;
	/* Four-eye control, once on, never falls back to setup mode. */
	if ((rc = officer_enforced(ctx, &left)) != 0)
		return rc;
	if (left) {
		rc = store_int(ctx, &left, "SELECT count(*) FROM officers o JOIN "
		    "officer_profiles p ON p.id = o.profile_id WHERE o.state = "
		    "'active' AND o.id != ? AND ',' || p.permissions || ',' GLOB "
		    "'*,policy,*'", "i", *id);
		if (rc != 0)
			return rc;
		if (left < 2)
			return cm_err(ctx, CM_ERR_POLICY, "officer \"%s\": "
			    "disabling would leave fewer than two officers who "
			    "may administer policy, and four-eye control needs "
			    "two", name);
	}
	return 0;
}

/* Apply officer.disable. */
int
officer_apply_disable(struct cm_ctx *ctx, const struct change *ch)
{
	int64_t id;
	int rc;

	if ((rc = disable_check(ctx, change_get(ch, "name"), &id)) != 0)
		return rc;
	return store_exec(ctx, "UPDATE officers SET state = 'disabled' WHERE "
	    "id = ?", "i", id);
}

struct anchors {
	X509_STORE	*store;
	int		 rc;
};

static int
anchor_cb(void *arg, struct store_row *row)
{
	struct anchors *a = arg;
	const unsigned char *p;
	size_t len;
	X509 *x;

	p = store_row_blob(row, 0, &len);
	if (p == NULL || (x = x509_from_der(p, len)) == NULL)
		return 0;
	if (!X509_STORE_add_cert(a->store, x))
		a->rc = CM_ERR_NOMEM;
	X509_free(x);
	return 0;
}

/* Verify the officer certificate up to an active CA of the CMDB. */
static int
officer_chain(struct cm_ctx *ctx, const char *token, X509 *cert)
{
	struct anchors a = { NULL, 0 };
	X509_STORE_CTX *vctx = NULL;
	int rc;

	if ((a.store = X509_STORE_new()) == NULL)
		return CM_ERR_NOMEM;
	if ((rc = store_query(ctx, "SELECT cert FROM cas WHERE state = "
	    "'active' AND cert IS NOT NULL", anchor_cb, &a, NULL)) != 0 ||
	    (rc = a.rc) != 0)
		goto out;
	X509_STORE_set_flags(a.store, X509_V_FLAG_X509_STRICT |
	    X509_V_FLAG_PARTIAL_CHAIN);
	if ((vctx = X509_STORE_CTX_new()) == NULL ||
	    !X509_STORE_CTX_init(vctx, a.store, cert, NULL)) {
		rc = CM_ERR_NOMEM;
		goto out;
	}
	if (X509_verify_cert(vctx) != 1) {
		rc = cm_err(ctx, CM_ERR_DENIED, "officer token %s: the "
		    "certificate does not chain to an active CA in the CMDB "
		    "(%s)", token, X509_verify_cert_error_string(
		    X509_STORE_CTX_get_error(vctx)));
		goto out;
	}
	rc = 0;
out:
	ERR_clear_error();
	X509_STORE_CTX_free(vctx);
	X509_STORE_free(a.store);
	return rc;
}

/* Prove that key is the private key of cert: sign a fresh challenge. */
static int
officer_possession(struct cm_ctx *ctx, const char *token, EVP_PKEY *key,
    X509 *cert)
{
	unsigned char challenge[32], sig[1024];
	size_t siglen = sizeof(sig);
	EVP_MD_CTX *md = NULL;
	const EVP_MD *dg;
	int rc = CM_ERR_DENIED;

	dg = EVP_PKEY_is_a(key, "ED25519") ? NULL : EVP_sha256();
	if (RAND_bytes(challenge, sizeof(challenge)) != 1)
		return cm_err_ssl(ctx, CM_ERR_CRYPTO, "challenge");
	if ((md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestSignInit(md, NULL, dg, NULL, key) != 1 ||
	    EVP_DigestSign(md, sig, &siglen, challenge, sizeof(challenge)) != 1 ||
	    EVP_MD_CTX_reset(md) != 1 ||
	    EVP_DigestVerifyInit(md, NULL, dg, NULL,
	    X509_get0_pubkey(cert)) != 1 ||
	    EVP_DigestVerify(md, sig, siglen, challenge, sizeof(challenge)) !=
	    1) {
		cm_err(ctx, rc, "officer token %s: the key does not prove "
		    "possession of the certificate's key", token);
		goto out;
	}
	rc = 0;
out:
	ERR_clear_error();
	EVP_MD_CTX_free(md);
	return rc;
}

struct login_row {
	int64_t	id;
	char	name[160];
	char	state[16];
	char	perms[128];
	int64_t	ca_id;
	char	serial[64];
	int	two_step;
	int	found;
};

static int
login_cb(void *arg, struct store_row *row)
{
	struct login_row *l = arg;

	l->id = store_row_int(row, 0);
	snprintf(l->name, sizeof(l->name), "%s", store_row_text(row, 1));
	snprintf(l->state, sizeof(l->state), "%s", store_row_text(row, 2));
	snprintf(l->perms, sizeof(l->perms), "%s", store_row_text(row, 3));
	l->ca_id = store_row_int(row, 4);
	snprintf(l->serial, sizeof(l->serial), "%s", store_row_text(row, 5));
	l->two_step = (int)store_row_int(row, 6);
	l->found = 1;
	return 1;
}

/* Which officer a certificate belongs to: l->found when one does. */
static int
officer_by_cert(struct cm_ctx *ctx, const char *token, X509 *cert,
    struct login_row *l)
{
	char fp[2 * EVP_MAX_MD_SIZE + 1];
	int rc;

	memset(l, 0, sizeof(*l));
	if ((rc = cert_sha256(cert, fp)) != 0)
		return cm_err_ssl(ctx, rc, "officer token %s", token);
	return store_query(ctx, "SELECT o.id, o.name, o.state, p.permissions, "
	    "o.ca_id, o.serial, o.two_step FROM officers o JOIN "
	    "officer_profiles p ON p.id = o.profile_id WHERE o.cert_sha256 = ?",
	    login_cb, l, "t", fp);
}

struct card_arg {
	struct cm_ctx	*ctx;
	const char	*token;
	EVP_PKEY	*key;
	X509		*cert;
	int		 rc;
};

/* p11_cert_keys: keep the first certificate that is an officer's. */
static int
card_cb(void *arg, X509 *cert, EVP_PKEY *key)
{
	struct card_arg *a = arg;
	struct login_row l;

	if ((a->rc = officer_by_cert(a->ctx, a->token, cert, &l)) != 0)
		return a->rc;
	if (!l.found)
		return 0;
	if (X509_up_ref(cert) != 1)
		return CM_ERR_NOMEM;
	a->cert = cert;
	a->key = key;
	return 1;
}

/* The key and certificate of an officer's smart card (a PKCS#11 URI). */
static int
officer_card(struct cm_ctx *ctx, const char *token, EVP_PKEY **key,
    X509 **cert)
{
	struct card_arg a = { ctx, token, NULL, NULL, 0 };
	char label[64] = "";
	int rc;

	rc = p11_cert_keys(ctx, token, CM_SECRET_OFFICER, card_cb, &a, label,
	    sizeof(label));
	if (rc == CM_ERR_NOTFOUND)
		return cm_err(ctx, CM_ERR_DENIED, "officer token %s: the card "
		    "\"%s\" holds no certificate of an officer with its key",
		    token, label);
	if (rc != 0) {
		if (rc != CM_ERR_NOMEM)
			cm_err_prefix(ctx, "officer login");
		return rc;
	}
	*key = a.key;
	*cert = a.cert;
	return 0;
}

/* The key and certificate of a PKCS#12 file, opened with its PIN. */
static int
officer_p12(struct cm_ctx *ctx, const char *token, const unsigned char *buf,
    size_t len, EVP_PKEY **key, X509 **cert)
{
	PKCS12 *p12 = NULL;
	const unsigned char *p = buf;
	char *pin = NULL, prompt[300];
	int rc;

	if ((p12 = d2i_PKCS12(NULL, &p, (long)len)) == NULL) {
		rc = cm_err(ctx, CM_ERR_INVAL, "officer token %s: not a PKCS#12 "
		    "file", token);
		goto out;
	}
	if (ctx->ui.get_secret == NULL) {
		rc = cm_err(ctx, CM_ERR_DENIED, "officer token %s: no way to "
		    "ask for its PIN", token);
		goto out;
	}
	if ((pin = calloc(1, 1024)) == NULL) {
		rc = CM_ERR_NOMEM;
		goto out;
	}
	snprintf(prompt, sizeof(prompt), "PIN of officer token %s", token);
	ctx->errmsg[0] = '\0';
	if ((rc = ctx->ui.get_secret(ctx->ui.arg, CM_SECRET_OFFICER, prompt,
	    0, pin, 1024)) != 0) {
		if (ctx->errmsg[0] == '\0')
			cm_err(ctx, rc, "officer token %s: no PIN", token);
		goto out;
	}
	if (PKCS12_verify_mac(p12, pin, -1) != 1 ||
	    PKCS12_parse(p12, pin, key, cert, NULL) != 1 || *key == NULL ||
	    *cert == NULL) {
		rc = cm_err(ctx, CM_ERR_DENIED, "officer token %s: wrong PIN, or "
		    "the token holds no key and certificate", token);
		goto out;
	}
	rc = 0;
out:
	cm_secret_free(pin);
	PKCS12_free(p12);
	return rc;
}

/*
 * Log an officer in with a PKCS#12 soft token (buf, len) or a smart card
 * (token is a PKCS#11 URI, buf NULL); its PIN is asked through the UI
 * callbacks.  token names it in messages.  Returns 0, or CM_ERR_DENIED
 * (CM_ERR_TOKEN for a card that is not there) naming the token and the
 * check that failed.
 */
int
cm_officer_login(struct cm_ctx *ctx, const char *token,
    const unsigned char *buf, size_t len)
{
	struct officer_session *os;
	struct login_row l;
	struct issued_arg ia;
	EVP_PKEY *key = NULL;
	X509 *cert = NULL;
	char serial[64];
	size_t i;
	int rc;

	if (ctx->os_actor == NULL &&
	    (ctx->os_actor = cm_strdup(ctx->actor != NULL ? ctx->actor :
	    "unknown")) == NULL)
		return CM_ERR_NOMEM;
	if (ctx->nofficers == MAX_OFFICERS)
		return cm_err(ctx, CM_ERR_INVAL, "at most %d officers log in at "
		    "once", MAX_OFFICERS);
	if (strncmp(token, "pkcs11:", 7) == 0)
		rc = officer_card(ctx, token, &key, &cert);
	else
		rc = officer_p12(ctx, token, buf, len, &key, &cert);
	if (rc != 0)
		goto out;
	if ((rc = officer_by_cert(ctx, token, cert, &l)) != 0)
		goto out;
	if (!l.found) {
		rc = cm_err(ctx, CM_ERR_DENIED, "officer token %s: its "
		    "certificate belongs to no officer", token);
		goto out;
	}
	for (i = 0; i < ctx->nofficers; i++)
		if (ctx->officers[i].id == l.id ||
		    EVP_PKEY_eq(ctx->officers[i].key, key) == 1) {
			rc = cm_err(ctx, CM_ERR_DENIED, "officer token %s: "
			    "officer \"%s\" is already logged in: two officers "
			    "are two people", token, l.name);
			goto out;
		}
	if (strcmp(l.state, "active") != 0) {
		rc = cm_err(ctx, CM_ERR_DENIED, "officer token %s: officer "
		    "\"%s\" is %s", token, l.name, l.state);
		goto out;
	}
	if ((rc = officer_possession(ctx, token, key, cert)) != 0 ||
	    (rc = officer_chain(ctx, token, cert)) != 0 ||
	    (rc = cert_record(ctx, cert, &ia, serial, sizeof(serial))) != 0)
		goto out;
	if (!ia.found || strcmp(ia.status, "valid") != 0) {
		rc = cm_err(ctx, CM_ERR_DENIED, "officer token %s: the "
		    "certificate %s of officer \"%s\" is %s", token, serial,
		    l.name, ia.found ? ia.status : "not in the CMDB");
		goto out;
	}
	os = &ctx->officers[ctx->nofficers++];
	os->id = l.id;
	snprintf(os->name, sizeof(os->name), "%s", l.name);
	os->perms = perm_bits(l.perms);
	os->two_step = l.two_step;
	os->cert = cert;
	os->key = key;
	cert = NULL;
	key = NULL;
	rc = 0;
out:
	EVP_PKEY_free(key);
	X509_free(cert);
	ERR_clear_error();
	if (rc != 0 && ctx->store != NULL && !ctx->readonly)
		rc = audit_done(ctx, rc, "officer.login", p11_uri_safe(token));
	return rc;
}

struct opl_arg {
	cm_officer_profile_cb	 cb;
	void			*arg;
};

static int
opl_cb(void *arg, struct store_row *row)
{
	struct opl_arg *a = arg;
	struct cm_officer_profile_info pi;

	pi.id = store_row_int(row, 0);
	pi.name = store_row_text(row, 1);
	pi.permissions = store_row_text(row, 2);
	return a->cb(a->arg, &pi);
}

/* Call cb for every officer profile, or the one named. */
int
cm_officer_profile_list(struct cm_ctx *ctx, const char *name,
    cm_officer_profile_cb cb, void *arg)
{
	struct opl_arg a = { cb, arg };
	int64_t id;
	int rc;

	if (name != NULL && (rc = store_named(ctx, &id, "SELECT id FROM "
	    "officer_profiles WHERE name = ?", "officer profile", name)) != 0)
		return rc;
	return store_query(ctx, "SELECT id, name, permissions FROM "
	    "officer_profiles WHERE ?1 IS NULL OR name = ?1 ORDER BY name",
	    opl_cb, &a, "t", name);
}

struct ol_arg {
	cm_officer_cb	 cb;
	void		*arg;
};

static int
ol_cb(void *arg, struct store_row *row)
{
	struct ol_arg *a = arg;
	struct cm_officer_info oi;
	const unsigned char *p;
	size_t len;
	X509 *x;
	char *subject = NULL;
	int rc;

	oi.id = store_row_int(row, 0);
	oi.name = store_row_text(row, 1);
	oi.profile = store_row_text(row, 2);
	oi.permissions = store_row_text(row, 3);
	oi.state = store_row_text(row, 4);
	oi.serial = store_row_text(row, 5);
	oi.ca = store_row_text(row, 6);
	oi.created = (time_t)store_row_int(row, 7);
	p = store_row_blob(row, 8, &len);
	if ((x = x509_from_der(p, len)) != NULL)
		subject = dn_format(X509_get_subject_name(x));
	X509_free(x);
	oi.subject = subject != NULL ? subject : "";
	rc = a->cb(a->arg, &oi);
	free(subject);
	return rc;
}

/* Call cb for every officer, or the one named. */
int
cm_officer_list(struct cm_ctx *ctx, const char *name, cm_officer_cb cb,
    void *arg)
{
	struct ol_arg a = { cb, arg };
	int64_t id;
	int rc;

	if (name != NULL) {
		rc = store_int(ctx, &id, "SELECT id FROM officers WHERE name = "
		    "?", "t", name);
		if (rc == CM_ERR_NOTFOUND)
			return cm_err(ctx, rc, "officer \"%s\" not found", name);
		if (rc != 0)
			return rc;
	}
	return store_query(ctx, "SELECT o.id, o.name, p.name, p.permissions, "
	    "o.state, o.serial, c.name, o.created, o.cert FROM officers o JOIN "
	    "officer_profiles p ON p.id = o.profile_id JOIN cas c ON c.id = "
	    "o.ca_id WHERE ?1 IS NULL OR o.name = ?1 ORDER BY o.name", ol_cb,
	    &a, "t", name);
}

/*
 * Give an active officer another officer profile, as a policy change.
 * Refused when it would leave fewer than two officers who may administer
 * policy: four-eye control, once on, stays on.
 */
int
cm_officer_modify(struct cm_ctx *ctx, const char *name, const char *profile)
{
	struct change *ch = NULL;
	int64_t id;
	int rc;

	if (name == NULL || *name == '\0' || profile == NULL ||
	    *profile == '\0') {
		rc = cm_err(ctx, CM_ERR_INVAL, "officer modify: a name and a "
		    "profile are required");
		goto out;
	}
	if ((rc = store_int(ctx, &id, "SELECT id FROM officers WHERE name = ? "
	    "AND state = 'active'", "t", name)) != 0) {
		if (rc == CM_ERR_NOTFOUND)
			rc = cm_err(ctx, rc, "officer \"%s\" not found, or "
			    "disabled", name);
		goto out;
	}
	if ((rc = store_int(ctx, &id, "SELECT id FROM officer_profiles WHERE "
	    "name = ?", "t", profile)) != 0) {
		if (rc == CM_ERR_NOTFOUND)
			rc = cm_err(ctx, rc, "officer \"%s\": officer profile "
			    "\"%s\" not found", name, profile);
		goto out;
	}
	if ((ch = change_new("officer.modify")) == NULL ||
	    change_set(ch, "name", name) != 0 ||
	    change_set(ch, "profile", profile) != 0) {
		rc = CM_ERR_NOMEM;
		goto out;
	}
	rc = change_submit(ctx, ch, name);
	change_free(ch);
	return rc;
out:
	change_free(ch);
	return audit_done(ctx, rc, "officer.modify", name != NULL ? name : "");
}

/* Apply officer.modify: the new profile, if four-eye control survives. */
int
officer_apply_modify(struct cm_ctx *ctx, const struct change *ch)
{
	const char *name = cm_def(change_get(ch, "name"), "");
	int64_t before, profile;
	int rc;

	if ((rc = store_int(ctx, &profile, "SELECT id FROM officer_profiles "
	    "WHERE name = ?", "t", cm_def(change_get(ch, "profile"), ""))) !=
	    0)
		return rc == CM_ERR_NOTFOUND ? cm_err(ctx, rc, "officer \"%s\": "
		    "officer profile \"%s\" not found", name, cm_def(
		    change_get(ch, "profile"), "")) : rc;
	if ((rc = officer_enforced(ctx, &before)) != 0 ||
	    (rc = store_exec(ctx, "UPDATE officers SET profile_id = ? WHERE "
	    "name = ? AND state = 'active'", "it", profile, name)) != 0)
		return rc;
	if (store_changes(ctx) != 1)
		return cm_err(ctx, CM_ERR_NOTFOUND, "officer \"%s\" not found, "
		    "or disabled", name);
	return four_eye_kept(ctx, before, "officer", name);
}
