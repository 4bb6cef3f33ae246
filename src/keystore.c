/*
 * keystore.c: the soft key store.  Soft CA keys live in the CMDB as
 * PKCS#8 EncryptedPrivateKeyInfo (PBES2: scrypt and AES-256-CBC, RFC 8018,
 * RFC 7914) under one passphrase.  A scrypt verifier lets a wrong
 * passphrase be refused before anything is decrypted or written.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pkcs12.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "extern.h"

#define KS_N		16384
#define KS_R		8
#define KS_P		1
#define KS_SALT		16
#define KS_DK		32
#define PASS_MIN	8
#define PASS_MAX	1024

static const char verifier_label[] = "opencm key store verifier";

static int
derive_verifier(struct cm_ctx *ctx, const char *pass, const unsigned char *salt,
    size_t saltlen, uint64_t n, uint64_t r, uint64_t p, unsigned char *out)
{
	unsigned char dk[KS_DK];
	EVP_MD_CTX *md = NULL;
	int rc = CM_ERR_CRYPTO;

	if (!EVP_PBE_scrypt(pass, strlen(pass), salt, saltlen, n, r, p, 0, dk,
	    sizeof(dk))) {
		rc = cm_err_ssl(ctx, CM_ERR_CRYPTO, "key store: scrypt");
		goto out;
	}
	if ((md = EVP_MD_CTX_new()) == NULL ||
	    !EVP_DigestInit_ex(md, EVP_sha256(), NULL) ||
	    !EVP_DigestUpdate(md, verifier_label, sizeof(verifier_label)) ||
	    !EVP_DigestUpdate(md, dk, sizeof(dk)) ||
	    !EVP_DigestFinal_ex(md, out, NULL)) {
		rc = cm_err_ssl(ctx, CM_ERR_CRYPTO, "key store: SHA-256");
		goto out;
	}
	rc = 0;
out:
	OPENSSL_cleanse(dk, sizeof(dk));
	EVP_MD_CTX_free(md);
	return rc;
}

static int
ask(struct cm_ctx *ctx, const char *prompt, int confirm)
{
	char *buf;
	int rc;

	if (ctx->ui.get_secret == NULL)
		return cm_err(ctx, CM_ERR_DENIED, "key store: no passphrase "
		    "given and no way to ask for one");
	if ((buf = calloc(1, PASS_MAX)) == NULL)
		return CM_ERR_NOMEM;
	rc = ctx->ui.get_secret(ctx->ui.arg, CM_SECRET_KEYSTORE, prompt,
	    confirm, buf, PASS_MAX);
	if (rc != 0) {
		cm_secret_free(buf);
		if (ctx->errmsg[0] == '\0')
			cm_err(ctx, rc, "key store: no passphrase");
		return rc;
	}
	cm_secret_free(ctx->passphrase);
	ctx->passphrase = buf;
	ctx->ks_ok = 0;
	return 0;
}

/*
 * Ask for the passphrase of a new key store (confirmed) and check that it
 * is at least 8 characters.  Returns 0 or a CM_ERR_*.
 */
int
keystore_ask_new(struct cm_ctx *ctx)
{
	int rc;

	ctx->errmsg[0] = '\0';
	if ((rc = ask(ctx, "New key store passphrase", 1)) != 0)
		return rc;
	if (strlen(ctx->passphrase) < PASS_MIN) {
		cm_secret_free(ctx->passphrase);
		ctx->passphrase = NULL;
		return cm_err(ctx, CM_ERR_POLICY, "key store: the passphrase "
		    "is shorter than the %d characters required", PASS_MIN);
	}
	return 0;
}

/*
 * Record the key store (salt, scrypt parameters, verifier) for the
 * passphrase already in the context, inside the current transaction.
 */
int
keystore_setup(struct cm_ctx *ctx)
{
	unsigned char salt[KS_SALT], ver[32];
	int rc;

	if (ctx->passphrase == NULL)
		return cm_err(ctx, CM_ERR_INTERNAL, "key store: no passphrase");
	if (RAND_bytes(salt, sizeof(salt)) != 1)
		return cm_err_ssl(ctx, CM_ERR_CRYPTO, "key store: random salt");
	if ((rc = derive_verifier(ctx, ctx->passphrase, salt, sizeof(salt),
	    KS_N, KS_R, KS_P, ver)) != 0)
		return rc;
	ctx->ks_ok = 1;
	return store_exec(ctx, "INSERT INTO keystore (id, kdf, salt, n, r, p, "
	    "verifier) VALUES (1, 'scrypt', ?, ?, ?, ?, ?)", "biiib", salt,
	    sizeof(salt), (int64_t)KS_N, (int64_t)KS_R, (int64_t)KS_P, ver,
	    sizeof(ver));
}

struct ks_row {
	unsigned char	salt[64];
	size_t		saltlen;
	int64_t		n, r, p;
	unsigned char	ver[32];
	int		found;
};

static int
ks_cb(void *arg, struct store_row *row)
{
	struct ks_row *k = arg;
	const unsigned char *b;
	size_t len;

	b = store_row_blob(row, 0, &len);
	if (b == NULL || len > sizeof(k->salt))
		return 1;
	memcpy(k->salt, b, len);
	k->saltlen = len;
	k->n = store_row_int(row, 1);
	k->r = store_row_int(row, 2);
	k->p = store_row_int(row, 3);
	b = store_row_blob(row, 4, &len);
	if (b == NULL || len != sizeof(k->ver))
		return 1;
	memcpy(k->ver, b, len);
	k->found = 1;
	return 1;
}

/*
 * Make sure the context holds the right key store passphrase, asking for
 * it once.  Returns 0, or CM_ERR_DENIED for a wrong or missing one.
 */
int
keystore_unlock(struct cm_ctx *ctx)
{
	struct ks_row k;
	unsigned char ver[32];
	int rc;

	if (ctx->passphrase != NULL && ctx->ks_ok)
		return 0;
	memset(&k, 0, sizeof(k));
	rc = store_query(ctx, "SELECT salt, n, r, p, verifier FROM keystore "
	    "WHERE id = 1", ks_cb, &k, NULL);
	if (rc != 0)
		return rc;
	if (!k.found)
		return cm_err(ctx, CM_ERR_DB, "%s: the CMDB has no key store",
		    ctx->db_path);
	if (ctx->passphrase == NULL) {
		ctx->errmsg[0] = '\0';
		if ((rc = ask(ctx, "Key store passphrase", 0)) != 0)
			return rc;
	}
	if ((rc = derive_verifier(ctx, ctx->passphrase, k.salt, k.saltlen,
	    (uint64_t)k.n, (uint64_t)k.r, (uint64_t)k.p, ver)) != 0)
		return rc;
	if (CRYPTO_memcmp(ver, k.ver, sizeof(ver)) != 0) {
		cm_secret_free(ctx->passphrase);
		ctx->passphrase = NULL;
		return cm_err(ctx, CM_ERR_DENIED, "key store: wrong "
		    "passphrase");
	}
	ctx->ks_ok = 1;
	return 0;
}

/*
 * Encrypt pkey as PKCS#8 under the key store passphrase.  Returns 0 and a
 * DER buffer (*out, caller frees with OPENSSL_free) or a CM_ERR_*.
 */
int
keystore_encrypt(struct cm_ctx *ctx, EVP_PKEY *pkey, unsigned char **out,
    size_t *outlen)
{
	PKCS8_PRIV_KEY_INFO *inf = NULL;
	X509_ALGOR *pbe = NULL;
	X509_SIG *p8 = NULL;
	int len, rc;

	*out = NULL;
	*outlen = 0;
	if ((rc = keystore_unlock(ctx)) != 0)
		return rc;
	rc = CM_ERR_CRYPTO;
	if ((inf = EVP_PKEY2PKCS8(pkey)) == NULL) {
		cm_err_ssl(ctx, rc, "key store: PKCS#8");
		goto out;
	}
	pbe = PKCS5_pbe2_set_scrypt(EVP_aes_256_cbc(), NULL, KS_SALT, NULL,
	    KS_N, KS_R, KS_P);
	if (pbe == NULL) {
		cm_err_ssl(ctx, rc, "key store: PBES2 parameters");
		goto out;
	}
	p8 = PKCS8_set0_pbe(ctx->passphrase, (int)strlen(ctx->passphrase),
	    inf, pbe);
	if (p8 == NULL) {
		cm_err_ssl(ctx, rc, "key store: encryption");
		goto out;
	}
	pbe = NULL;	/* now owned by p8 */
	if ((len = i2d_X509_SIG(p8, out)) <= 0) {
		cm_err_ssl(ctx, rc, "key store: DER");
		goto out;
	}
	*outlen = (size_t)len;
	rc = 0;
out:
	X509_ALGOR_free(pbe);
	X509_SIG_free(p8);
	PKCS8_PRIV_KEY_INFO_free(inf);
	return rc;
}

/*
 * Decrypt a key from the store.  Returns 0 and *pkey (caller frees) or a
 * CM_ERR_*.
 */
int
keystore_decrypt(struct cm_ctx *ctx, const unsigned char *der, size_t len,
    EVP_PKEY **pkey)
{
	X509_SIG *p8 = NULL;
	PKCS8_PRIV_KEY_INFO *inf = NULL;
	const unsigned char *p = der;
	int rc;

	*pkey = NULL;
	if ((rc = keystore_unlock(ctx)) != 0)
		return rc;
	rc = CM_ERR_CRYPTO;
	if ((p8 = d2i_X509_SIG(NULL, &p, (long)len)) == NULL) {
		cm_err_ssl(ctx, rc, "key store: damaged key");
		goto out;
	}
	inf = PKCS8_decrypt(p8, ctx->passphrase, (int)strlen(ctx->passphrase));
	if (inf == NULL) {
		cm_err_ssl(ctx, CM_ERR_DENIED, "key store: the key does not "
		    "decrypt with the key store passphrase");
		rc = CM_ERR_DENIED;
		goto out;
	}
	if ((*pkey = EVP_PKCS82PKEY(inf)) == NULL) {
		cm_err_ssl(ctx, rc, "key store: PKCS#8");
		goto out;
	}
	rc = 0;
out:
	PKCS8_PRIV_KEY_INFO_free(inf);
	X509_SIG_free(p8);
	return rc;
}

/*
 * Seal a secret (a card's SO PIN) under the key store passphrase: the
 * octets encrypted with PBES2 (scrypt, AES-256-CBC) in the structure of a
 * PKCS#8 EncryptedPrivateKeyInfo.  Returns 0 and the DER (*out, caller
 * frees with OPENSSL_free) or a CM_ERR_*.
 */
int
keystore_seal(struct cm_ctx *ctx, const char *secret, unsigned char **out,
    size_t *outlen)
{
	ASN1_OCTET_STRING *plain = NULL, *enc = NULL, *d;
	X509_ALGOR *pbe = NULL, *a;
	X509_SIG *sig = NULL;
	int len, rc;

	*out = NULL;
	*outlen = 0;
	if ((rc = keystore_unlock(ctx)) != 0)
		return rc;
	rc = CM_ERR_CRYPTO;
	if ((plain = ASN1_OCTET_STRING_new()) == NULL ||
	    !ASN1_OCTET_STRING_set(plain, (const unsigned char *)secret,
	    (int)strlen(secret)) ||
	    (pbe = PKCS5_pbe2_set_scrypt(EVP_aes_256_cbc(), NULL, KS_SALT,
	    NULL, KS_N, KS_R, KS_P)) == NULL ||
	    (enc = PKCS12_item_i2d_encrypt_ex(pbe,
	    ASN1_ITEM_rptr(ASN1_OCTET_STRING), ctx->passphrase,
	    (int)strlen(ctx->passphrase), plain, 1, NULL, NULL)) == NULL ||
	    (sig = X509_SIG_new()) == NULL) {
		cm_err_ssl(ctx, rc, "key store: sealing a secret");
		goto out;
	}
	X509_SIG_getm(sig, &a, &d);
	if (!X509_ALGOR_copy(a, pbe) ||
	    !ASN1_OCTET_STRING_set(d, ASN1_STRING_get0_data(enc),
	    ASN1_STRING_length(enc)) || (len = i2d_X509_SIG(sig, out)) <= 0) {
		cm_err_ssl(ctx, rc, "key store: sealing a secret");
		goto out;
	}
	*outlen = (size_t)len;
	rc = 0;
out:
	if (plain != NULL)
		OPENSSL_cleanse(plain->data, (size_t)plain->length);
	ASN1_OCTET_STRING_free(plain);
	ASN1_OCTET_STRING_free(enc);
	X509_ALGOR_free(pbe);
	X509_SIG_free(sig);
	return rc;
}

/*
 * Unseal what keystore_seal sealed.  Returns 0 and the secret (*secret,
 * wipe and free it with cm_secret_free), or a CM_ERR_*.
 */
int
keystore_unseal(struct cm_ctx *ctx, const unsigned char *der, size_t len,
    char **secret)
{
	X509_SIG *sig = NULL;
	const X509_ALGOR *a;
	const ASN1_OCTET_STRING *d;
	ASN1_OCTET_STRING *plain = NULL;
	const unsigned char *p = der;
	int rc;

	*secret = NULL;
	if ((rc = keystore_unlock(ctx)) != 0)
		return rc;
	if ((sig = d2i_X509_SIG(NULL, &p, (long)len)) == NULL) {
		rc = cm_err_ssl(ctx, CM_ERR_CRYPTO, "key store: damaged "
		    "secret");
		goto out;
	}
	X509_SIG_get0(sig, &a, &d);
	if ((plain = PKCS12_item_decrypt_d2i_ex(a,
	    ASN1_ITEM_rptr(ASN1_OCTET_STRING), ctx->passphrase,
	    (int)strlen(ctx->passphrase), d, 1, NULL, NULL)) == NULL) {
		rc = cm_err_ssl(ctx, CM_ERR_DENIED, "key store: a sealed "
		    "secret does not open with the key store passphrase");
		goto out;
	}
	if ((*secret = calloc(1, (size_t)plain->length + 1)) == NULL) {
		rc = CM_ERR_NOMEM;
		goto out;
	}
	memcpy(*secret, plain->data, (size_t)plain->length);
	rc = 0;
out:
	if (plain != NULL)
		OPENSSL_cleanse(plain->data, (size_t)plain->length);
	ASN1_OCTET_STRING_free(plain);
	X509_SIG_free(sig);
	return rc;
}
