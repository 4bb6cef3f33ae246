/*
 * signer.c: the one signing interface.  A signer holds a CA key, a soft
 * key decrypted from the key store or a key on a PKCS#11 token (p11key.c),
 * as an EVP_PKEY; certificates, CRLs and requests are signed through it.
 * Signers stay open for the life of the context, so a batch decrypts each
 * key once.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/params.h>
#include <openssl/x509.h>

#include "extern.h"

struct signer {
	int64_t		 key_id;
	EVP_PKEY	*pkey;
	struct signer	*next;
};

struct signer_row {
	char		 name[160];
	char		 state[16];
	char		 device[512];
	unsigned char	*priv;
	size_t		 privlen;
	EVP_PKEY	*pub;
	int		 found;
};

static int
signer_cb(void *arg, struct store_row *row)
{
	struct signer_row *r = arg;
	const unsigned char *p;
	size_t len;

	r->found = 1;
	snprintf(r->name, sizeof(r->name), "%s", store_row_text(row, 0));
	snprintf(r->state, sizeof(r->state), "%s", store_row_text(row, 1));
	snprintf(r->device, sizeof(r->device), "%s", store_row_text(row, 2));
	p = store_row_blob(row, 3, &len);
	if (p != NULL && len > 0 && (r->priv = malloc(len)) != NULL) {
		memcpy(r->priv, p, len);
		r->privlen = len;
	}
	if ((p = store_row_blob(row, 4, &len)) != NULL)
		r->pub = d2i_PUBKEY(NULL, &p, (long)len);
	return 1;
}

/* The signer for key id if it is open already: 0, or CM_ERR_NOTFOUND. */
int
signer_open(struct cm_ctx *ctx, int64_t key_id, struct signer **out)
{
	struct signer *s;

	for (s = ctx->signers; s != NULL; s = s->next)
		if (s->key_id == key_id) {
			*out = s;
			return 0;
		}
	*out = NULL;
	return CM_ERR_NOTFOUND;
}

/*
 * The signer for key id, opened on first use: a soft key is decrypted
 * from the key store; a token key is found on its token (the user PIN is
 * asked) and must sign what the registered public key verifies.  Returns
 * 0 and a signer owned by the context, or a CM_ERR_* naming the key.
 */
int
signer_get(struct cm_ctx *ctx, int64_t key_id, struct signer **out)
{
	struct signer *s;
	struct signer_row r;
	EVP_PKEY *pkey = NULL;
	char pfx[180];
	int rc;

	if (signer_open(ctx, key_id, out) == 0)
		return 0;
	memset(&r, 0, sizeof(r));
	rc = store_query(ctx, "SELECT name, state, device, private, spki FROM "
	    "keys WHERE id = ?", signer_cb, &r, "i", key_id);
	if (rc != 0)
		goto fail;
	if (!r.found) {
		rc = cm_err(ctx, CM_ERR_NOTFOUND, "key %lld not found",
		    (long long)key_id);
		goto fail;
	}
	if (strcmp(r.state, "removed") == 0) {
		rc = cm_err(ctx, CM_ERR_POLICY, "key \"%s\" is removed: nothing "
		    "can be signed with it", r.name);
		goto fail;
	}
	if (strcmp(r.device, "soft") == 0) {
		/* The passphrase is asked, if it must be, outside the query. */
		if (r.priv == NULL) {
			rc = cm_err(ctx, CM_ERR_TOKEN, "key \"%s\": no private "
			    "key in the key store", r.name);
			goto fail;
		}
		if ((rc = keystore_unlock(ctx)) != 0 ||
		    (rc = keystore_decrypt(ctx, r.priv, r.privlen,
		    &pkey)) != 0) {
			cm_err_prefix(ctx, r.name);
			goto fail;
		}
	} else if (r.pub == NULL) {
		rc = cm_err(ctx, CM_ERR_DB, "key \"%s\": the Key Registry has "
		    "no public key for it, so the key on its token cannot be "
		    "checked", r.name);
		goto fail;
	} else if ((rc = p11_key_open(ctx, r.device, CM_SECRET_TOKEN, r.pub,
	    &pkey)) != 0) {
		snprintf(pfx, sizeof(pfx), "key \"%s\"", r.name);
		cm_err_prefix(ctx, pfx);
		goto fail;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		rc = CM_ERR_NOMEM;
		goto fail;
	}
	s->key_id = key_id;
	s->pkey = pkey;
	s->next = ctx->signers;
	ctx->signers = s;
	*out = s;
	pkey = NULL;
	rc = 0;
fail:
	EVP_PKEY_free(pkey);
	EVP_PKEY_free(r.pub);
	OPENSSL_clear_free(r.priv, r.privlen);
	return rc;
}

/* Close every signer; private keys are freed (and so wiped). */
void
signer_free_all(struct cm_ctx *ctx)
{
	struct signer *s, *next;

	for (s = ctx->signers; s != NULL; s = next) {
		next = s->next;
		EVP_PKEY_free(s->pkey);
		free(s);
	}
	ctx->signers = NULL;
}

/*
 * The digest a CA key signs its own certificates, requests and CRLs with:
 * one of the strength of the key (SHA-384 for P-384, SHA-512 for P-521).
 */
const char *
signer_digest(struct signer *s)
{
	char buf[32];

	x509_key_type(s->pkey, buf, sizeof(buf));
	if (strcmp(buf, "ec:p384") == 0)
		return "sha384";
	if (strcmp(buf, "ec:p521") == 0)
		return "sha512";
	return "sha256";
}

/* The digest for a signature by pkey: none for EdDSA. */
static int
signer_md(struct cm_ctx *ctx, EVP_PKEY *pkey, const char *digest,
    const EVP_MD **md)
{
	*md = NULL;
	if (EVP_PKEY_is_a(pkey, "ED25519") || EVP_PKEY_is_a(pkey, "ED448"))
		return 0;
	if (digest == NULL)
		digest = "sha256";
	if (strcmp(digest, "sha256") != 0 && strcmp(digest, "sha384") != 0 &&
	    strcmp(digest, "sha512") != 0)
		return cm_err(ctx, CM_ERR_INVAL, "digest \"%s\": use sha256, "
		    "sha384 or sha512", digest);
	if ((*md = EVP_get_digestbyname(digest)) == NULL)
		return cm_err_ssl(ctx, CM_ERR_CRYPTO, "digest %s", digest);
	return 0;
}

/* Sign a certificate.  Returns 0 or CM_ERR_CRYPTO. */
int
signer_sign_cert(struct cm_ctx *ctx, struct signer *s, X509 *x,
    const char *digest)
{
	const EVP_MD *md;
	int rc;

	if ((rc = signer_md(ctx, s->pkey, digest, &md)) != 0)
		return rc;
	if (X509_sign(x, s->pkey, md) <= 0)
		return cm_err_ssl(ctx, CM_ERR_CRYPTO, "signing a certificate");
	return 0;
}

/*
 * Start signing data: *md_ctx is ready for EVP_DigestSign() and *alg (caller
 * frees) is the AlgorithmIdentifier of the signature, to be put into the
 * data before it is signed.  Returns 0 or CM_ERR_CRYPTO.
 */
int
signer_sign_init(struct cm_ctx *ctx, struct signer *s, const char *digest,
    EVP_MD_CTX **md_ctx, X509_ALGOR **alg)
{
	const EVP_MD *md;
	EVP_PKEY_CTX *pctx = NULL;
	OSSL_PARAM params[2];
	unsigned char aid[128];
	const unsigned char *p = aid;
	int rc, signid;

	*md_ctx = NULL;
	*alg = NULL;
	if ((rc = signer_md(ctx, s->pkey, digest, &md)) != 0)
		return rc;
	if ((*md_ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestSignInit(*md_ctx, &pctx, md, NULL, s->pkey) != 1) {
		rc = cm_err_ssl(ctx, CM_ERR_CRYPTO, "signature setup");
		goto fail;
	}
	params[0] = OSSL_PARAM_construct_octet_string(
	    OSSL_SIGNATURE_PARAM_ALGORITHM_ID, aid, sizeof(aid));
	params[1] = OSSL_PARAM_construct_end();
	if (EVP_PKEY_CTX_get_params(pctx, params) == 1 &&
	    OSSL_PARAM_modified(&params[0]) &&
	    (*alg = d2i_X509_ALGOR(NULL, &p, (long)params[0].return_size)) !=
	    NULL)
		return 0;
	/* A key without a provider (a token's, through libp11). */
	ERR_clear_error();
	if (!OBJ_find_sigid_by_algs(&signid, md != NULL ? EVP_MD_get_type(md) :
	    NID_undef, EVP_PKEY_get_base_id(s->pkey)) ||
	    (*alg = X509_ALGOR_new()) == NULL ||
	    !X509_ALGOR_set0(*alg, OBJ_nid2obj(signid),
	    EVP_PKEY_get_base_id(s->pkey) == EVP_PKEY_RSA ? V_ASN1_NULL :
	    V_ASN1_UNDEF, NULL)) {
		rc = cm_err_ssl(ctx, CM_ERR_CRYPTO, "signature algorithm");
		goto fail;
	}
	return 0;
fail:
	X509_ALGOR_free(*alg);
	*alg = NULL;
	EVP_MD_CTX_free(*md_ctx);
	*md_ctx = NULL;
	return rc;
}

/* Sign a PKCS#10 request.  Returns 0 or CM_ERR_CRYPTO. */
int
signer_sign_req(struct cm_ctx *ctx, struct signer *s, X509_REQ *req,
    const char *digest)
{
	const EVP_MD *md;
	int rc;

	if ((rc = signer_md(ctx, s->pkey, digest, &md)) != 0)
		return rc;
	if (X509_REQ_sign(req, s->pkey, md) <= 0)
		return cm_err_ssl(ctx, CM_ERR_CRYPTO, "signing a request");
	return 0;
}
