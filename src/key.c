/*
 * key.c: the Key Registry.  CA keys with a name, a stable Identifier (the
 * SHA-1 of the public key bit string, as in a subjectKeyIdentifier), an
 * algorithm, a device and a state: in use, retired or removed.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "extern.h"

struct key_type {
	const char	*name;
	const char	*alg;
	const char	*param;		/* curve name */
	size_t		 bits;
};

static const struct key_type key_types[] = {
	{ "rsa:2048",	"RSA",		NULL,		2048 },
	{ "rsa:3072",	"RSA",		NULL,		3072 },
	{ "rsa:4096",	"RSA",		NULL,		4096 },
	{ "ec:p256",	"EC",		"P-256",	0 },
	{ "ec:p384",	"EC",		"P-384",	0 },
	{ "ed25519",	"ED25519",	NULL,		0 },
	{ NULL,		NULL,		NULL,		0 }
};

static const struct key_type *
key_type_find(const char *name)
{
	const struct key_type *t;

	for (t = key_types; name != NULL && t->name != NULL; t++)
		if (strcmp(t->name, name) == 0)
			return t;
	return NULL;
}

static EVP_PKEY *
key_generate(const struct key_type *t)
{
	if (t->param != NULL)
		return EVP_PKEY_Q_keygen(NULL, NULL, t->alg, t->param);
	if (t->bits != 0)
		return EVP_PKEY_Q_keygen(NULL, NULL, t->alg, t->bits);
	return EVP_PKEY_Q_keygen(NULL, NULL, t->alg);
}

/* Whether type names a key type opencm generates. */
int
key_type_known(const char *type)
{
	return key_type_find(type) != NULL;
}

/* A new key of a named type; NULL when the type is unknown or on error. */
EVP_PKEY *
key_new(const char *type)
{
	const struct key_type *t = key_type_find(type);

	return t != NULL ? key_generate(t) : NULL;
}

/* The rule for the names of policy objects: 1 to 128 bytes, no controls. */
int
cm_name_check(struct cm_ctx *ctx, const char *what, const char *name)
{
	const unsigned char *p;

	if (name == NULL || *name == '\0')
		return cm_err(ctx, CM_ERR_INVAL, "%s: a name is required",
		    what);
	if (strlen(name) > 128)
		return cm_err(ctx, CM_ERR_INVAL, "%s \"%.32s...\": names are at "
		    "most 128 bytes", what, name);
	for (p = (const unsigned char *)name; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f)
			return cm_err(ctx, CM_ERR_INVAL, "%s: control "
			    "characters are not allowed in a name", what);
	return 0;
}

/*
 * The token a key is made on: the device URI given, checked, with the
 * token present and its user logged in (so the PIN is asked before the
 * CMDB is locked).  dev receives the URI the change records.
 */
static int
key_token(struct cm_ctx *ctx, const struct cm_key_req *req, char *dev,
    size_t devlen)
{
	struct p11_uri u;
	struct p11_tok *t;
	int rc;

	if (strcmp(req->type, "ed25519") == 0)
		return cm_err(ctx, CM_ERR_INVAL, "key \"%s\": ed25519 keys are "
		    "made in the soft key store only (on a token: rsa:2048, "
		    "rsa:3072, rsa:4096, ec:p256 or ec:p384)", req->name);
	if ((rc = p11_uri_parse(ctx, req->device, &u)) != 0)
		goto fail;
	if (u.idlen > 0 || u.object[0] != '\0') {
		rc = cm_err(ctx, CM_ERR_INVAL, "device \"%s\": name the token "
		    "only: opencm chooses the key's id and labels it with its "
		    "name", req->device);
		goto fail;
	}
	if ((rc = p11_open(ctx, &u, 1, &t)) != 0 ||
	    (rc = p11_login(ctx, t, 0, NULL)) != 0)
		goto fail;
	p11_uri_format(&u, dev, devlen);
	return 0;
fail:
	cm_err_prefix(ctx, "key create");
	return rc;
}

/*
 * Create a CA key in the Key Registry, as a policy change: in the soft key
 * store, or on a PKCS#11 token (generated there when the change is
 * applied).  Returns 0 or a CM_ERR_* with a message naming the key.
 */
int
cm_key_create(struct cm_ctx *ctx, const struct cm_key_req *req)
{
	struct change *ch = NULL;
	char dev[512] = "soft";
	int64_t id;
	int rc;

	if ((rc = cm_name_check(ctx, "key", req->name)) != 0)
		goto out;
	if (key_type_find(req->type) == NULL) {
		rc = cm_err(ctx, CM_ERR_INVAL, "key \"%s\": unknown type \"%s\" "
		    "(rsa:2048, rsa:3072, rsa:4096, ec:p256, ec:p384 or "
		    "ed25519)", req->name, req->type == NULL ? "" : req->type);
		goto out;
	}
	rc = key_lookup(ctx, req->name, &id, NULL, 0);
	if (rc == 0) {
		rc = cm_err(ctx, CM_ERR_EXISTS, "key \"%s\" already exists",
		    req->name);
		goto out;
	} else if (rc != CM_ERR_NOTFOUND)
		goto out;
	/* Ask for the passphrase or PIN before the write lock is taken. */
	if (req->device != NULL && strcmp(req->device, "soft") != 0) {
		if ((rc = key_token(ctx, req, dev, sizeof(dev))) != 0)
			goto out;
	} else if ((rc = keystore_unlock(ctx)) != 0)
		goto out;
	if ((ch = change_new("key.create")) == NULL ||
	    change_set(ch, "name", req->name) != 0 ||
	    change_set(ch, "type", req->type) != 0 ||
	    change_set(ch, "device", dev) != 0) {
		rc = CM_ERR_NOMEM;
		goto out;
	}
	rc = change_submit(ctx, ch, req->name);
	change_free(ch);
	return rc;
out:
	return audit_done(ctx, rc, "key.create", req->name);
}

/*
 * Generate a key on the token dev names, with a random id; *uri receives
 * the URI that finds it again (token, id and label).
 */
static int
key_token_generate(struct cm_ctx *ctx, const char *name, const char *dev,
    const struct key_type *t, EVP_PKEY **pkey, char *uri, size_t urilen)
{
	struct p11_uri u;
	struct p11_tok *tok;
	int rc;

	if ((rc = p11_uri_parse(ctx, dev, &u)) != 0 ||
	    (rc = p11_open(ctx, &u, 1, &tok)) != 0 ||
	    (rc = p11_login(ctx, tok, 0, NULL)) != 0)
		goto fail;
	/* The key is on this token: record its label and serial number. */
	snprintf(u.token, sizeof(u.token), "%s", p11_tok_label(tok));
	snprintf(u.serial, sizeof(u.serial), "%s", p11_tok_serial(tok));
	u.idlen = 16;
	if (RAND_bytes(u.id, (int)u.idlen) != 1) {
		rc = cm_err_ssl(ctx, CM_ERR_CRYPTO, "random key id");
		goto fail;
	}
	snprintf(u.object, sizeof(u.object), "%s", name);
	if ((rc = p11_keygen(ctx, tok, t->name, name, u.id, u.idlen, "sign",
	    pkey)) != 0)
		goto fail;
	p11_uri_format(&u, uri, urilen);
	return 0;
fail:
	snprintf(uri, urilen, "key \"%s\"", name);
	cm_err_prefix(ctx, uri);
	return rc;
}

/*
 * Apply a key.create change: generate the key, in the key store (where it
 * is encrypted) or on its token, and record it.
 */
int
key_apply_create(struct cm_ctx *ctx, const struct change *ch)
{
	const char *name = change_get(ch, "name");
	const struct key_type *t = key_type_find(change_get(ch, "type"));
	const char *dev = change_get(ch, "device");
	EVP_PKEY *pkey = NULL;
	X509_PUBKEY *xpk = NULL;
	unsigned char *priv = NULL, *spki = NULL, kid[20];
	char ident[41], uri[512];
	size_t privlen = 0;
	int spkilen, rc;
	int64_t dummy;

	if (name == NULL || t == NULL)
		return cm_err(ctx, CM_ERR_INVAL, "key.create: name or type "
		    "missing");
	if (dev == NULL)
		dev = "soft";
	if (key_lookup(ctx, name, &dummy, NULL, 0) == 0)
		return cm_err(ctx, CM_ERR_EXISTS, "key \"%s\" already exists",
		    name);
	if (strcmp(dev, "soft") != 0) {
		if ((rc = key_token_generate(ctx, name, dev, t, &pkey, uri,
		    sizeof(uri))) != 0)
			goto out;
		dev = uri;
	} else if ((pkey = key_generate(t)) == NULL) {
		rc = cm_err_ssl(ctx, CM_ERR_CRYPTO, "key \"%s\": generating "
		    "%s", name, t->name);
		goto out;
	} else if ((rc = keystore_encrypt(ctx, pkey, &priv, &privlen)) != 0)
		goto out;
	if ((spkilen = i2d_PUBKEY(pkey, &spki)) <= 0 ||
	    !X509_PUBKEY_set(&xpk, pkey)) {
		rc = cm_err_ssl(ctx, CM_ERR_CRYPTO, "key \"%s\": public key",
		    name);
		goto out;
	}
	if ((rc = x509_keyid(xpk, kid, ident)) != 0) {
		rc = cm_err_ssl(ctx, CM_ERR_CRYPTO, "key \"%s\": identifier",
		    name);
		goto out;
	}
	rc = store_exec(ctx, "INSERT INTO keys (name, identifier, algorithm, "
	    "device, state, spki, private, created) VALUES (?, ?, ?, ?, "
	    "'in use', ?, ?, ?)", "ttttbbi", name, ident, t->name, dev, spki,
	    (size_t)spkilen, priv, privlen, (int64_t)time(NULL));
out:
	OPENSSL_clear_free(priv, privlen);
	OPENSSL_free(spki);
	X509_PUBKEY_free(xpk);
	EVP_PKEY_free(pkey);
	return rc;
}

static int
key_state_change(struct cm_ctx *ctx, const char *type, const char *name)
{
	struct change *ch = NULL;
	int64_t id;
	int rc;

	if ((rc = cm_name_check(ctx, "key", name)) != 0)
		goto out;
	if ((rc = key_lookup(ctx, name, &id, NULL, 0)) != 0)
		goto out;
	if ((ch = change_new(type)) == NULL ||
	    change_set(ch, "name", name) != 0) {
		rc = CM_ERR_NOMEM;
		goto out;
	}
	rc = change_submit(ctx, ch, name);
	change_free(ch);
	return rc;
out:
	return audit_done(ctx, rc, type, name);
}

/* Retire a key: it signs no new certificates; CRLs still.  0 or CM_ERR_*. */
int
cm_key_retire(struct cm_ctx *ctx, const char *name)
{
	return key_state_change(ctx, "key.retire", name);
}

/* Remove a key: the private key is destroyed.  0 or CM_ERR_*. */
int
cm_key_remove(struct cm_ctx *ctx, const char *name)
{
	return key_state_change(ctx, "key.remove", name);
}

/* Apply key.retire or key.remove. */
int
key_apply_state(struct cm_ctx *ctx, const struct change *ch)
{
	const char *name = change_get(ch, "name");
	int remove = strcmp(change_type(ch), "key.remove") == 0;
	char state[16];
	int64_t id, ca;
	int rc;

	if (name == NULL)
		return cm_err(ctx, CM_ERR_INVAL, "%s: name missing",
		    change_type(ch));
	if ((rc = key_lookup(ctx, name, &id, state, sizeof(state))) != 0)
		return rc;
	if (strcmp(state, "removed") == 0)
		return cm_err(ctx, CM_ERR_POLICY, "key \"%s\" is already "
		    "removed", name);
	if (!remove && strcmp(state, "retired") == 0)
		return cm_err(ctx, CM_ERR_POLICY, "key \"%s\" is already "
		    "retired", name);
	if (remove && strcmp(state, "in use") == 0) {
		rc = store_int(ctx, &ca, "SELECT id FROM cas WHERE key_id = ? "
		    "AND state = 'active'", "i", id);
		if (rc == 0)
			return cm_err(ctx, CM_ERR_POLICY, "key \"%s\" is in use "
			    "by an active CA: retire it or revoke the CA before "
			    "removing it", name);
		if (rc != CM_ERR_NOTFOUND)
			return rc;
	}
	if (remove) {
		signer_free_all(ctx);
		return store_exec(ctx, "UPDATE keys SET state = 'removed', "
		    "private = NULL WHERE id = ?", "i", id);
	}
	return store_exec(ctx, "UPDATE keys SET state = 'retired' WHERE id = ?",
	    "i", id);
}

struct lookup_arg {
	int64_t	 id;
	char	*state;
	size_t	 statelen;
	int	 found;
};

static int
lookup_cb(void *arg, struct store_row *row)
{
	struct lookup_arg *a = arg;

	a->id = store_row_int(row, 0);
	if (a->state != NULL)
		snprintf(a->state, a->statelen, "%s", store_row_text(row, 1));
	a->found = 1;
	return 1;
}

/*
 * Find a key by name or Identifier.  Returns 0 with its id (and state, when
 * asked), or CM_ERR_NOTFOUND with a message.
 */
int
key_lookup(struct cm_ctx *ctx, const char *name, int64_t *id, char *state,
    size_t statelen)
{
	struct lookup_arg a = { 0, state, statelen, 0 };
	int rc;

	*id = 0;
	rc = store_query(ctx, "SELECT id, state FROM keys WHERE name = ? OR "
	    "identifier = upper(?) ORDER BY name = ? DESC LIMIT 1", lookup_cb,
	    &a, "ttt", name, name, name);
	if (rc != 0)
		return rc;
	if (!a.found)
		return cm_err(ctx, CM_ERR_NOTFOUND, "key \"%s\" not found",
		    name);
	*id = a.id;
	return 0;
}

struct spki_arg {
	EVP_PKEY	*pkey;
};

static int
spki_cb(void *arg, struct store_row *row)
{
	struct spki_arg *a = arg;
	const unsigned char *p;
	size_t len;

	p = store_row_blob(row, 0, &len);
	if (p != NULL)
		a->pkey = d2i_PUBKEY(NULL, &p, (long)len);
	return 1;
}

/* The public key of key id.  Returns 0 and *pkey (caller frees). */
int
key_spki(struct cm_ctx *ctx, int64_t id, EVP_PKEY **pkey)
{
	struct spki_arg a = { NULL };
	int rc;

	*pkey = NULL;
	rc = store_query(ctx, "SELECT spki FROM keys WHERE id = ?", spki_cb,
	    &a, "i", id);
	if (rc != 0)
		return rc;
	if (a.pkey == NULL)
		return cm_err_ssl(ctx, CM_ERR_DB, "key %lld: no public key",
		    (long long)id);
	*pkey = a.pkey;
	return 0;
}

struct list_arg {
	cm_key_cb	 cb;
	void		*arg;
};

static int
list_cb(void *arg, struct store_row *row)
{
	struct list_arg *a = arg;
	struct cm_key_info ki;

	ki.id = store_row_int(row, 0);
	ki.name = store_row_text(row, 1);
	ki.identifier = store_row_text(row, 2);
	ki.algorithm = store_row_text(row, 3);
	ki.device = store_row_text(row, 4);
	ki.state = store_row_text(row, 5);
	ki.created = (time_t)store_row_int(row, 6);
	ki.spki = store_row_blob(row, 7, &ki.spki_len);
	return a->cb(a->arg, &ki);
}

/*
 * Call cb for keys, optionally only those in a state ("in-use", "retired",
 * "removed") or of one name.  Returns 0 or a CM_ERR_*; an unknown name is
 * CM_ERR_NOTFOUND.
 */
int
cm_key_list(struct cm_ctx *ctx, const char *state, const char *name,
    cm_key_cb cb, void *arg)
{
	struct list_arg a = { cb, arg };
	int64_t id;
	int rc;

	if (state != NULL) {
		if (strcmp(state, "in-use") == 0 || strcmp(state, "in use") == 0)
			state = "in use";
		else if (strcmp(state, "retired") != 0 &&
		    strcmp(state, "removed") != 0)
			return cm_err(ctx, CM_ERR_INVAL, "key state \"%s\": "
			    "use in-use, retired or removed", state);
	}
	if (name != NULL) {
		if ((rc = key_lookup(ctx, name, &id, NULL, 0)) != 0)
			return rc;
		return store_query(ctx, "SELECT id, name, identifier, "
		    "algorithm, device, state, created, spki FROM keys WHERE "
		    "id = ?", list_cb, &a, "i", id);
	}
	return store_query(ctx, "SELECT id, name, identifier, algorithm, "
	    "device, state, created, spki FROM keys WHERE ?1 IS NULL OR "
	    "state = ?1 ORDER BY name", list_cb, &a, "t", state);
}
