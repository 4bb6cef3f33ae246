/*
 * csr.c: PKCS#10 certification requests (RFC 2986) as they arrive: PEM or
 * DER, checked for a valid self-signature before anything else is done.
 *
 * The request is decoded with an ASN.1 template of its own whose
 * SubjectPublicKeyInfo is left as algorithm and bit string: OpenSSL 3.0's
 * X509_REQ decodes the key through a decoder chain built anew for every
 * request, which cost more than the signature check.  The key is made
 * with EVP_PKEY_fromdata, and the bit string is copied into the
 * certificate as it came.
 */
#include "config.h"

#include <string.h>

#include <openssl/asn1t.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "extern.h"

typedef struct {
	X509_ALGOR		*algor;
	ASN1_BIT_STRING		*public_key;
} CM_SPKI;

typedef struct {
	ASN1_ENCODING		 enc;
	ASN1_INTEGER		*version;
	X509_NAME		*subject;
	CM_SPKI			*spki;
	STACK_OF(X509_ATTRIBUTE) *attributes;
} CM_REQ_INFO;

typedef struct {
	CM_REQ_INFO		*info;
	X509_ALGOR		*sig_alg;
	ASN1_BIT_STRING		*signature;
} CM_REQ;

typedef struct {
	ASN1_INTEGER		*n;
	ASN1_INTEGER		*e;
} CM_RSA_PUB;

DECLARE_ASN1_ITEM(CM_SPKI)
DECLARE_ASN1_ITEM(CM_REQ_INFO)
DECLARE_ASN1_FUNCTIONS(CM_REQ)
DECLARE_ASN1_FUNCTIONS(CM_RSA_PUB)

ASN1_SEQUENCE(CM_SPKI) = {
	ASN1_SIMPLE(CM_SPKI, algor, X509_ALGOR),
	ASN1_SIMPLE(CM_SPKI, public_key, ASN1_BIT_STRING)
} ASN1_SEQUENCE_END(CM_SPKI)

/* The encoding is kept: the signature is over the bytes as they came. */
ASN1_SEQUENCE_enc(CM_REQ_INFO, enc, NULL) = {
	ASN1_SIMPLE(CM_REQ_INFO, version, ASN1_INTEGER),
	ASN1_SIMPLE(CM_REQ_INFO, subject, X509_NAME),
	ASN1_SIMPLE(CM_REQ_INFO, spki, CM_SPKI),
	ASN1_IMP_SET_OF_OPT(CM_REQ_INFO, attributes, X509_ATTRIBUTE, 0)
} ASN1_SEQUENCE_END_enc(CM_REQ_INFO, CM_REQ_INFO)

ASN1_SEQUENCE(CM_REQ) = {
	ASN1_SIMPLE(CM_REQ, info, CM_REQ_INFO),
	ASN1_SIMPLE(CM_REQ, sig_alg, X509_ALGOR),
	ASN1_SIMPLE(CM_REQ, signature, ASN1_BIT_STRING)
} ASN1_SEQUENCE_END(CM_REQ)

/* RFC 8017 A.1.1 RSAPublicKey. */
ASN1_SEQUENCE(CM_RSA_PUB) = {
	ASN1_SIMPLE(CM_RSA_PUB, n, ASN1_INTEGER),
	ASN1_SIMPLE(CM_RSA_PUB, e, ASN1_INTEGER)
} ASN1_SEQUENCE_END(CM_RSA_PUB)

IMPLEMENT_ASN1_FUNCTIONS(CM_REQ)
IMPLEMENT_ASN1_FUNCTIONS(CM_RSA_PUB)

struct csr {
	CM_REQ		*req;
	EVP_PKEY	*pkey;
	char		 key_type[32];
};

static EVP_PKEY *
fromdata(const char *alg, OSSL_PARAM *params)
{
	EVP_PKEY_CTX *pctx;
	EVP_PKEY *pkey = NULL;

	if ((pctx = EVP_PKEY_CTX_new_from_name(NULL, alg, NULL)) == NULL)
		return NULL;
	if (EVP_PKEY_fromdata_init(pctx) <= 0 ||
	    EVP_PKEY_fromdata(pctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0)
		pkey = NULL;
	EVP_PKEY_CTX_free(pctx);
	return pkey;
}

static EVP_PKEY *
rsa_key(const unsigned char *p, int len)
{
	CM_RSA_PUB *rp;
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	BIGNUM *n = NULL, *e = NULL;
	EVP_PKEY *pkey = NULL;
	const unsigned char *q = p;

	if ((rp = d2i_CM_RSA_PUB(NULL, &q, len)) == NULL || q != p + len)
		goto out;
	if ((n = ASN1_INTEGER_to_BN(rp->n, NULL)) == NULL ||
	    (e = ASN1_INTEGER_to_BN(rp->e, NULL)) == NULL ||
	    BN_is_negative(n) || BN_is_negative(e) ||
	    (bld = OSSL_PARAM_BLD_new()) == NULL ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) ||
	    (params = OSSL_PARAM_BLD_to_param(bld)) == NULL)
		goto out;
	pkey = fromdata("RSA", params);
out:
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(n);
	BN_free(e);
	CM_RSA_PUB_free(rp);
	return pkey;
}

/*
 * Make the request's key from its SubjectPublicKeyInfo and name its type
 * as procedures do.  Returns 0 or CM_ERR_INVAL.
 */
static int
csr_key(struct cm_ctx *ctx, const char *name, struct csr *c)
{
	const ASN1_OBJECT *aobj;
	const void *pval;
	int ptype, nid, curve, len;
	const unsigned char *pk;
	OSSL_PARAM params[3];
	const char *group;

	X509_ALGOR_get0(&aobj, &ptype, &pval, c->req->info->spki->algor);
	pk = ASN1_STRING_get0_data(c->req->info->spki->public_key);
	len = ASN1_STRING_length(c->req->info->spki->public_key);
	switch ((nid = OBJ_obj2nid(aobj))) {
	case NID_rsaEncryption:
		if (ptype != V_ASN1_NULL && ptype != V_ASN1_UNDEF)
			return cm_err(ctx, CM_ERR_INVAL, "%s: the RSA key's "
			    "parameters must be NULL (RFC 3279 2.3.1)", name);
		c->pkey = rsa_key(pk, len);
		if (c->pkey != NULL)
			snprintf(c->key_type, sizeof(c->key_type), "rsa:%d",
			    EVP_PKEY_get_bits(c->pkey));
		break;
	case NID_X9_62_id_ecPublicKey:
		if (ptype != V_ASN1_OBJECT)
			return cm_err(ctx, CM_ERR_INVAL, "%s: the EC key does not "
			    "name its curve (RFC 5480 2.1.1)", name);
		curve = OBJ_obj2nid(pval);
		if (curve == NID_X9_62_prime256v1)
			snprintf(c->key_type, sizeof(c->key_type), "ec:p256");
		else if (curve == NID_secp384r1)
			snprintf(c->key_type, sizeof(c->key_type), "ec:p384");
		else if (curve == NID_secp521r1)
			snprintf(c->key_type, sizeof(c->key_type), "ec:p521");
		else
			return cm_err(ctx, CM_ERR_POLICY, "%s: EC curve %s is not "
			    "supported (P-256, P-384, P-521)", name,
			    curve != NID_undef ? OBJ_nid2sn(curve) : "unknown");
		group = OBJ_nid2sn(curve);
		params[0] = OSSL_PARAM_construct_utf8_string(
		    OSSL_PKEY_PARAM_GROUP_NAME, (char *)group, 0);
		params[1] = OSSL_PARAM_construct_octet_string(
		    OSSL_PKEY_PARAM_PUB_KEY, (void *)pk, (size_t)len);
		params[2] = OSSL_PARAM_construct_end();
		c->pkey = fromdata("EC", params);
		break;
	case NID_ED25519:
		if (ptype != V_ASN1_UNDEF)
			return cm_err(ctx, CM_ERR_INVAL, "%s: an Ed25519 key has no "
			    "parameters (RFC 8410 3)", name);
		snprintf(c->key_type, sizeof(c->key_type), "ed25519");
		c->pkey = EVP_PKEY_new_raw_public_key_ex(NULL, "ED25519", NULL,
		    pk, (size_t)len);
		break;
	default:
		return cm_err(ctx, CM_ERR_POLICY, "%s: public key algorithm %s "
		    "is not supported (RSA, EC, Ed25519)", name,
		    nid != NID_undef ? OBJ_nid2sn(nid) : "unknown");
	}
	if (c->pkey == NULL)
		return cm_err_ssl(ctx, CM_ERR_INVAL, "%s: the public key in the "
		    "request is damaged", name);
	return 0;
}

/*
 * Decode a request (PEM or DER) and verify its self-signature.  name
 * names the request in messages.  Returns 0 and *out (caller frees with
 * csr_free) or CM_ERR_INVAL / CM_ERR_POLICY.
 */
int
csr_load(struct cm_ctx *ctx, const char *name, const unsigned char *buf,
    size_t len, struct csr **out)
{
	struct csr *c = NULL;
	unsigned char *der = NULL;
	const unsigned char *p;
	char *pname = NULL, *header = NULL;
	long dlen;
	BIO *b = NULL;
	int rc = CM_ERR_INVAL;

	*out = NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return CM_ERR_NOMEM;
	if (len > 0 && memmem(buf, len, "-----BEGIN", 10) != NULL) {
		if ((b = BIO_new_mem_buf(buf, (int)len)) == NULL) {
			rc = CM_ERR_NOMEM;
			goto out;
		}
		if (!PEM_read_bio(b, &pname, &header, &der, &dlen) ||
		    (strcmp(pname, "CERTIFICATE REQUEST") != 0 &&
		    strcmp(pname, "NEW CERTIFICATE REQUEST") != 0)) {
			cm_err(ctx, rc, "%s: not a PKCS#10 request (damaged or "
			    "truncated PEM)", name);
			goto out;
		}
		p = der;
		c->req = d2i_CM_REQ(NULL, &p, dlen);
		if (c->req == NULL || p != der + dlen) {
			cm_err(ctx, rc, "%s: not a PKCS#10 request (the PEM "
			    "holds no valid DER request)", name);
			goto out;
		}
	} else {
		p = buf;
		c->req = d2i_CM_REQ(NULL, &p, (long)len);
		if (c->req == NULL) {
			cm_err(ctx, rc, "%s: not a PKCS#10 request (neither PEM "
			    "nor DER)", name);
			goto out;
		}
		if (p != buf + len) {
			cm_err(ctx, rc, "%s: %zu bytes of trailing data after "
			    "the request", name, len - (size_t)(p - buf));
			goto out;
		}
	}
	if (ASN1_INTEGER_get(c->req->info->version) != 0) {
		cm_err(ctx, rc, "%s: request version must be 0 (RFC 2986 4.1)",
		    name);
		goto out;
	}
	if ((rc = csr_key(ctx, name, c)) != 0)
		goto out;
	if (ASN1_item_verify_ex(ASN1_ITEM_rptr(CM_REQ_INFO), c->req->sig_alg,
	    c->req->signature, c->req->info, NULL, c->pkey, NULL, NULL) != 1) {
		rc = cm_err(ctx, CM_ERR_INVAL, "%s: the request's signature "
		    "does not verify with its public key (RFC 2986 section 3)",
		    name);
		goto out;
	}
	*out = c;
	c = NULL;
	rc = 0;
out:
	ERR_clear_error();
	OPENSSL_free(pname);
	OPENSSL_free(header);
	OPENSSL_free(der);
	BIO_free(b);
	csr_free(c);
	return rc;
}

void
csr_free(struct csr *c)
{
	if (c == NULL)
		return;
	CM_REQ_free(c->req);
	EVP_PKEY_free(c->pkey);
	free(c);
}

/* The request's subject (borrowed). */
X509_NAME *
csr_get0_subject(const struct csr *c)
{
	return c->req->info->subject;
}

/* The request's attributes (borrowed; may be NULL). */
const STACK_OF(X509_ATTRIBUTE) *
csr_get0_attributes(const struct csr *c)
{
	return c->req->info->attributes;
}

/* The request's key (borrowed) and its type, as "ec:p256". */
EVP_PKEY *
csr_get0_pkey(const struct csr *c)
{
	return c->pkey;
}

const char *
csr_key_type(const struct csr *c)
{
	return c->key_type;
}

/*
 * The extensions requested with the PKCS#9 extensionRequest attribute.
 * Returns a stack the caller frees, or NULL when there are none.
 */
STACK_OF(X509_EXTENSION) *
csr_extensions(const struct csr *c)
{
	const STACK_OF(X509_ATTRIBUTE) *attrs = c->req->info->attributes;
	X509_ATTRIBUTE *attr;
	ASN1_TYPE *t;
	const unsigned char *p;
	int i;

	if ((i = X509at_get_attr_by_NID(attrs, NID_ext_req, -1)) < 0)
		return NULL;
	attr = X509at_get_attr(attrs, i);
	t = X509_ATTRIBUTE_get0_type(attr, 0);
	if (t == NULL || t->type != V_ASN1_SEQUENCE)
		return NULL;
	p = t->value.sequence->data;
	return d2i_X509_EXTENSIONS(NULL, &p, t->value.sequence->length);
}

/*
 * Copy the request's SubjectPublicKeyInfo into x as it came, without
 * decoding and encoding the key.  Returns 1 or 0.
 */
int
csr_copy_pubkey(const struct csr *c, X509 *x)
{
	X509_PUBKEY *dst = X509_get_X509_PUBKEY(x);
	const ASN1_OBJECT *aobj;
	const void *pval;
	ASN1_OBJECT *obj = NULL;
	void *pv = NULL;
	unsigned char *penc = NULL;
	int ptype, len;

	X509_ALGOR_get0(&aobj, &ptype, &pval, c->req->info->spki->algor);
	/* csr_key() allowed only these: a named curve, NULL or nothing. */
	if (ptype == V_ASN1_OBJECT) {
		if ((pv = OBJ_dup(pval)) == NULL)
			return 0;
	} else if (ptype != V_ASN1_NULL && ptype != V_ASN1_UNDEF)
		return 0;
	len = ASN1_STRING_length(c->req->info->spki->public_key);
	if (dst == NULL || (obj = OBJ_dup(aobj)) == NULL ||
	    (penc = OPENSSL_memdup(ASN1_STRING_get0_data(
	    c->req->info->spki->public_key), (size_t)len)) == NULL ||
	    !X509_PUBKEY_set0_param(dst, obj, ptype, pv, penc, len)) {
		ASN1_OBJECT_free(obj);
		OPENSSL_free(penc);
		ASN1_OBJECT_free(pv);
		return 0;
	}
	return 1;
}

/*
 * A request made from a certificate: its subject, its public key as it
 * is, and its subjectAltName as a requested extension.  Nothing is signed:
 * a renewal with the same key proves nothing new of the key, and the
 * caller (cm_cert_renew) stands in for the signature.  Returns 0 and *out
 * or a CM_ERR_*.
 */
int
csr_from_cert(struct cm_ctx *ctx, const char *name, X509 *x,
    struct csr **out)
{
	STACK_OF(X509_EXTENSION) *exts = NULL;
	X509_EXTENSION *san;
	X509_ATTRIBUTE *attr = NULL;
	const ASN1_BIT_STRING *bits;
	const X509_ALGOR *alg;
	ASN1_STRING *seq = NULL;
	unsigned char *der = NULL;
	struct csr *c;
	int i, len, rc = CM_ERR_NOMEM;

	*out = NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL || (c->req = CM_REQ_new()) ==
	    NULL)
		goto out;
	X509_PUBKEY_get0_param(NULL, NULL, NULL, (X509_ALGOR **)&alg,
	    X509_get_X509_PUBKEY(x));
	bits = X509_get0_pubkey_bitstr(x);
	X509_ALGOR_free(c->req->info->spki->algor);
	X509_NAME_free(c->req->info->subject);
	ASN1_BIT_STRING_free(c->req->info->spki->public_key);
	c->req->info->spki->algor = NULL;
	c->req->info->subject = NULL;
	c->req->info->spki->public_key = NULL;
	if (alg == NULL || bits == NULL ||
	    (c->req->info->spki->algor = X509_ALGOR_dup(alg)) == NULL ||
	    (c->req->info->spki->public_key = ASN1_STRING_dup(bits)) == NULL ||
	    (c->req->info->subject = X509_NAME_dup(X509_get_subject_name(x)))
	    == NULL || !ASN1_INTEGER_set(c->req->info->version, 0))
		goto out;
	if ((i = X509_get_ext_by_NID(x, NID_subject_alt_name, -1)) >= 0) {
		san = X509_get_ext(x, i);
		if ((exts = sk_X509_EXTENSION_new_null()) == NULL ||
		    !sk_X509_EXTENSION_push(exts, san))
			goto out;
		if ((len = i2d_X509_EXTENSIONS(exts, &der)) <= 0 ||
		    (seq = ASN1_STRING_new()) == NULL ||
		    !ASN1_STRING_set(seq, der, len) ||
		    (attr = X509_ATTRIBUTE_create(NID_ext_req,
		    V_ASN1_SEQUENCE, seq)) == NULL)
			goto out;
		seq = NULL;	/* the attribute has it */
		if ((c->req->info->attributes = sk_X509_ATTRIBUTE_new_null()) ==
		    NULL || !sk_X509_ATTRIBUTE_push(c->req->info->attributes,
		    attr))
			goto out;
		attr = NULL;
	}
	if ((rc = csr_key(ctx, name, c)) != 0)
		goto out;
	*out = c;
	c = NULL;
out:
	sk_X509_EXTENSION_free(exts);	/* san belongs to x */
	OPENSSL_free(der);
	ASN1_STRING_free(seq);
	X509_ATTRIBUTE_free(attr);
	csr_free(c);
	return rc;
}
