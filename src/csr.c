/*
 * csr.c: PKCS#10 certification requests (RFC 2986) as they arrive: PEM or
 * DER, checked for a valid self-signature before anything else is done.
 */
#include "config.h"

#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "extern.h"

/*
 * Decode a request (PEM or DER) and verify its self-signature.  name
 * names the request in messages.  Returns 0 and *out (caller frees) or
 * CM_ERR_INVAL.
 */
int
csr_load(struct cm_ctx *ctx, const char *name, const unsigned char *buf,
    size_t len, X509_REQ **out)
{
	X509_REQ *xr = NULL;
	EVP_PKEY *pkey;
	BIO *b = NULL;
	const unsigned char *p = buf;
	int rc = CM_ERR_INVAL;

	*out = NULL;
	if (len > 0 && memmem(buf, len, "-----BEGIN", 10) != NULL) {
		if ((b = BIO_new_mem_buf(buf, (int)len)) == NULL)
			return CM_ERR_NOMEM;
		xr = PEM_read_bio_X509_REQ(b, NULL, NULL, NULL);
		if (xr == NULL) {
			cm_err(ctx, rc, "%s: not a PKCS#10 request (damaged or "
			    "truncated PEM)", name);
			goto out;
		}
	} else {
		xr = d2i_X509_REQ(NULL, &p, (long)len);
		if (xr == NULL) {
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
	if ((pkey = X509_REQ_get0_pubkey(xr)) == NULL) {
		cm_err(ctx, rc, "%s: the public key in the request cannot be "
		    "read", name);
		goto out;
	}
	if (X509_REQ_verify(xr, pkey) != 1) {
		cm_err(ctx, rc, "%s: the request's signature does not verify "
		    "with its public key (RFC 2986 section 3)", name);
		goto out;
	}
	*out = xr;
	xr = NULL;
	rc = 0;
out:
	ERR_clear_error();
	BIO_free(b);
	X509_REQ_free(xr);
	return rc;
}
