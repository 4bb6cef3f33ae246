/*
 * p11key.c: keys on PKCS#11 tokens as EVP_PKEYs, through libp11, so that
 * certificates, CRLs, requests and officer signatures are made on the
 * token by the same code that signs with soft keys.  libp11's header needs
 * OpenSSL's deprecated declarations, so this file is built apart and is the
 * only one that includes it.  The library contexts stay loaded for the
 * life of the cm_ctx: the keys they hand out refer to their slots.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include <libp11.h>

#include "extern.h"

struct p11lib {
	char		*path;
	PKCS11_CTX	*lp;
	PKCS11_SLOT	*slots;
	unsigned int	 nslots;
	int		 used;		/* keys handed out: keep the slots */
	struct p11lib	*next;
};

/*
 * A libp11 context on the module at path whose slots may be enumerated
 * again (cards come and go): one that has handed out no key, else a new
 * one.  Keys handed out refer to their context's slots, so those stay.
 */
static int
lib_get(struct cm_ctx *ctx, const char *path, struct p11lib **out)
{
	struct p11lib *l;
	int rc;

	*out = NULL;
	for (l = ctx->p11lib; l != NULL; l = l->next)
		if (strcmp(l->path, path) == 0 && !l->used) {
			*out = l;
			return 0;
		}
	/* Ours first: it says why a module does not load, quietly. */
	if ((rc = p11_module_load(ctx, path, NULL)) != 0)
		return rc;
	if ((l = calloc(1, sizeof(*l))) == NULL ||
	    (l->path = cm_strdup(path)) == NULL ||
	    (l->lp = PKCS11_CTX_new()) == NULL) {
		if (l != NULL)
			free(l->path);
		free(l);
		return CM_ERR_NOMEM;
	}
	if (PKCS11_CTX_load(l->lp, path) != 0) {
		PKCS11_CTX_free(l->lp);
		free(l->path);
		free(l);
		ERR_clear_error();
		return cm_err(ctx, CM_ERR_TOKEN, "PKCS#11 module %s cannot be "
		    "loaded", path);
	}
	l->next = ctx->p11lib;
	ctx->p11lib = l;
	*out = l;
	return 0;
}

static int
slot_match(PKCS11_SLOT *s, const struct p11_uri *u)
{
	if (s->token == NULL || !s->token->initialized)
		return 0;
	if (u->slot_set && PKCS11_get_slotid_from_slot(s) != u->slot)
		return 0;
	if (u->token[0] != '\0' && strcmp(s->token->label, u->token) != 0)
		return 0;
	if (u->serial[0] != '\0' && strcmp(s->token->serialnr, u->serial) != 0)
		return 0;
	return 1;
}

/* The one slot whose token u names, in any module.  0 or CM_ERR_TOKEN. */
static int
slot_find(struct cm_ctx *ctx, const struct p11_uri *u, struct p11lib **lib,
    PKCS11_SLOT **slot)
{
	struct p11lib *l;
	const char *path;
	char mods[600];
	size_t k, n;
	unsigned int i, found = 0;
	int rc;

	*lib = NULL;
	*slot = NULL;
	mods[0] = '\0';
	for (k = 0; ; k++) {
		path = u->module[0] != '\0' ? (k == 0 ? u->module : NULL) :
		    p11_module_path(ctx, k);
		if (path == NULL)
			break;
		n = strlen(mods);
		snprintf(mods + n, sizeof(mods) - n, "%s%s", k > 0 ? ", " : "",
		    path);
		if ((rc = lib_get(ctx, path, &l)) != 0)
			return rc;
		/* Enumerate again: a card may have been inserted since. */
		if (l->slots != NULL)
			PKCS11_release_all_slots(l->lp, l->slots, l->nslots);
		l->slots = NULL;
		l->nslots = 0;
		if (PKCS11_enumerate_slots(l->lp, &l->slots, &l->nslots) != 0) {
			ERR_clear_error();
			continue;
		}
		for (i = 0; i < l->nslots; i++)
			if (slot_match(&l->slots[i], u) && found++ == 0) {
				*lib = l;
				*slot = &l->slots[i];
			}
	}
	if (found == 0)
		return cm_err(ctx, CM_ERR_TOKEN, "token \"%s\" is not present "
		    "(PKCS#11 modules: %s)", p11_uri_token(u), mods);
	if (found > 1)
		return cm_err(ctx, CM_ERR_TOKEN, "token \"%s\": %u tokens "
		    "match: name it by its serial number too", p11_uri_token(u),
		    found);
	return 0;
}

static int
slot_login(struct cm_ctx *ctx, struct p11lib *l, PKCS11_SLOT *slot, int kind)
{
	char *pin;
	unsigned long e;
	int rc, in = 0;

	/*
	 * An officer proves the card's PIN at every login: a login this
	 * process made before (PKCS#11 logins are the application's, not a
	 * session's) must not let a second one in without it.
	 */
	if (kind == CM_SECRET_OFFICER) {
		if ((rc = p11_slot_logout(ctx, l->path,
		    PKCS11_get_slotid_from_slot(slot))) != 0) {
			cm_err_prefix(ctx, slot->token->label);
			return rc;
		}
	} else {
		if (!slot->token->loginRequired ||
		    (PKCS11_is_logged_in(slot, 0, &in) == 0 && in))
			return 0;
		/* Logged in already: the token's objects are ours to use. */
		if (p11_slot_user(ctx, l->path,
		    PKCS11_get_slotid_from_slot(slot)))
			return 0;
	}
	if ((pin = calloc(1, 256)) == NULL)
		return CM_ERR_NOMEM;
	if (!slot->token->secureLogin &&
	    (rc = p11_pin(ctx, slot->token->label, kind, pin, 256)) != 0)
		goto out;
	rc = 0;
	if (PKCS11_login(slot, 0, slot->token->secureLogin ? NULL : pin) != 0) {
		e = ERR_peek_last_error();
		ERR_clear_error();
		rc = p11_fail_rv(ctx, slot->token->label, "C_Login",
		    ERR_GET_REASON(e));
	}
out:
	cm_secret_free(pin);
	return rc;
}

static int
key_match(const PKCS11_KEY *k, const struct p11_uri *u)
{
	if (u->idlen > 0 && (k->id_len != u->idlen ||
	    memcmp(k->id, u->id, u->idlen) != 0))
		return 0;
	if (u->object[0] != '\0' && (k->label == NULL ||
	    strcmp(k->label, u->object) != 0))
		return 0;
	return 1;
}

/* Whether priv signs what pub verifies: the key is the one registered. */
static int
key_proof(EVP_PKEY *priv, EVP_PKEY *pub)
{
	unsigned char data[32], sig[1024];
	size_t siglen = sizeof(sig);
	EVP_MD_CTX *md = NULL;
	int ok = 0;

	if (RAND_bytes(data, sizeof(data)) != 1 ||
	    (md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, priv) != 1 ||
	    EVP_DigestSign(md, sig, &siglen, data, sizeof(data)) != 1)
		goto out;
	EVP_MD_CTX_free(md);
	if ((md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pub) != 1)
		goto out;
	ok = EVP_DigestVerify(md, sig, siglen, data, sizeof(data)) == 1;
out:
	EVP_MD_CTX_free(md);
	ERR_clear_error();
	return ok;
}

/*
 * The one private key uri names (by id or object label) on its token,
 * logged in with the user PIN (asked as kind).
 */
static int
key_find(struct cm_ctx *ctx, const char *uri, int kind, PKCS11_SLOT **slotp,
    PKCS11_KEY **out, struct p11lib **libp)
{
	struct p11_uri u;
	struct p11lib *l;
	PKCS11_SLOT *slot;
	PKCS11_KEY *keys = NULL, *k = NULL;
	unsigned int n = 0, i, found = 0;
	int rc;

	if ((rc = p11_uri_parse(ctx, uri, &u)) != 0 ||
	    (rc = slot_find(ctx, &u, &l, &slot)) != 0 ||
	    (rc = slot_login(ctx, l, slot, kind)) != 0)
		return rc;
	if (PKCS11_enumerate_keys(slot->token, &keys, &n) != 0) {
		ERR_clear_error();
		return cm_err(ctx, CM_ERR_TOKEN, "token \"%s\": its keys "
		    "cannot be listed", slot->token->label);
	}
	for (i = 0; i < n; i++)
		if (key_match(&keys[i], &u) && found++ == 0)
			k = &keys[i];
	if (found != 1)
		return cm_err(ctx, CM_ERR_TOKEN, "token \"%s\": %s private key "
		    "%s", slot->token->label, found == 0 ? "no" : "more than "
		    "one", u.object[0] != '\0' ? u.object : "with that id");
	*slotp = slot;
	*out = k;
	*libp = l;
	return 0;
}

/*
 * The private key uri names, as key_find().  With pub, the key must make
 * signatures pub verifies.  Returns 0 and *out (caller frees, before the
 * context), or CM_ERR_TOKEN / CM_ERR_DENIED naming the token.
 */
int
p11_key_open(struct cm_ctx *ctx, const char *uri, int kind, EVP_PKEY *pub,
    EVP_PKEY **out)
{
	PKCS11_SLOT *slot;
	PKCS11_KEY *k;
	struct p11lib *l;
	EVP_PKEY *priv;
	int rc;

	*out = NULL;
	if ((rc = key_find(ctx, uri, kind, &slot, &k, &l)) != 0)
		return rc;
	if ((priv = PKCS11_get_private_key(k)) == NULL) {
		ERR_clear_error();
		return cm_err(ctx, CM_ERR_TOKEN, "token \"%s\": the private "
		    "key cannot be used", slot->token->label);
	}
	/* A key handed out refers to its context's slots: they stay. */
	l->used = 1;
	if (pub != NULL && !key_proof(priv, pub)) {
		EVP_PKEY_free(priv);
		return cm_err(ctx, CM_ERR_TOKEN, "token \"%s\": the key found "
		    "there is not the one the Key Registry holds (its "
		    "signatures do not verify)", slot->token->label);
	}
	*out = priv;
	return 0;
}

/*
 * A TLS client credential on a token: the private key uri names and the
 * certificate beside it (the same CKA_ID, else the same label).  Returns
 * 0 with *cert and *key (caller frees), or a CM_ERR_* naming the token.
 */
int
p11_client_open(struct cm_ctx *ctx, const char *uri, X509 **cert,
    EVP_PKEY **key)
{
	PKCS11_SLOT *slot;
	PKCS11_KEY *k;
	PKCS11_CERT *certs = NULL, *c = NULL;
	struct p11lib *l;
	unsigned int n = 0, i;
	int rc;

	*cert = NULL;
	*key = NULL;
	if ((rc = key_find(ctx, uri, CM_SECRET_TOKEN, &slot, &k, &l)) != 0)
		return rc;
	if (PKCS11_enumerate_certs(slot->token, &certs, &n) != 0) {
		ERR_clear_error();
		return cm_err(ctx, CM_ERR_TOKEN, "token \"%s\": its "
		    "certificates cannot be listed", slot->token->label);
	}
	for (i = 0; i < n && c == NULL; i++)
		if (certs[i].x509 != NULL && (k->id_len > 0 ?
		    certs[i].id_len == k->id_len && memcmp(certs[i].id,
		    k->id, k->id_len) == 0 : k->label != NULL &&
		    certs[i].label != NULL && strcmp(certs[i].label,
		    k->label) == 0))
			c = &certs[i];
	if (c == NULL)
		return cm_err(ctx, CM_ERR_TOKEN, "token \"%s\": no certificate "
		    "beside the client key (the same id)", slot->token->label);
	l->used = 1;
	if ((*key = PKCS11_get_private_key(k)) == NULL ||
	    (*cert = X509_dup(c->x509)) == NULL) {
		ERR_clear_error();
		EVP_PKEY_free(*key);
		*key = NULL;
		return cm_err(ctx, CM_ERR_TOKEN, "token \"%s\": the client "
		    "key cannot be used", slot->token->label);
	}
	return 0;
}

/*
 * The certificates on the token uri names that have a private key beside
 * them, each with its key: cb(arg, cert, key) until it returns non-zero.
 * A key handed to cb is the callback's to keep (it says so by returning
 * 1) or free.  The user logs in first, with the PIN asked as kind.
 */
int
p11_cert_keys(struct cm_ctx *ctx, const char *uri, int kind,
    int (*cb)(void *, X509 *, EVP_PKEY *), void *arg, char *label,
    size_t labellen)
{
	struct p11_uri u;
	struct p11lib *l;
	PKCS11_SLOT *slot;
	PKCS11_CERT *certs = NULL;
	PKCS11_KEY *k;
	EVP_PKEY *priv;
	unsigned int n = 0, i;
	int rc;

	if ((rc = p11_uri_parse(ctx, uri, &u)) != 0 ||
	    (rc = slot_find(ctx, &u, &l, &slot)) != 0)
		return rc;
	snprintf(label, labellen, "%s", slot->token->label);
	if ((rc = slot_login(ctx, l, slot, kind)) != 0)
		return rc;
	if (PKCS11_enumerate_certs(slot->token, &certs, &n) != 0) {
		ERR_clear_error();
		return cm_err(ctx, CM_ERR_TOKEN, "token \"%s\": its "
		    "certificates cannot be listed", slot->token->label);
	}
	l->used = 1;
	for (i = 0; i < n; i++) {
		if (certs[i].x509 == NULL)
			continue;
		if (u.idlen > 0 && (certs[i].id_len != u.idlen ||
		    memcmp(certs[i].id, u.id, u.idlen) != 0))
			continue;
		if ((k = PKCS11_find_key(&certs[i])) == NULL) {
			ERR_clear_error();
			continue;
		}
		if ((priv = PKCS11_get_private_key(k)) == NULL) {
			ERR_clear_error();
			continue;
		}
		rc = cb(arg, certs[i].x509, priv);
		if (rc != 1)
			EVP_PKEY_free(priv);
		if (rc != 0)
			return rc < 0 ? rc : 0;
	}
	return CM_ERR_NOTFOUND;
}

/* Release libp11: after every key it handed out has been freed. */
void
p11_key_close_all(struct cm_ctx *ctx)
{
	struct p11lib *l, *next;

	for (l = ctx->p11lib; l != NULL; l = next) {
		next = l->next;
		if (l->slots != NULL)
			PKCS11_release_all_slots(l->lp, l->slots, l->nslots);
		PKCS11_CTX_unload(l->lp);
		PKCS11_CTX_free(l->lp);
		free(l->path);
		free(l);
	}
	ctx->p11lib = NULL;
}
