/*
 * x509.c: helpers for certificates: serials, key identifiers, times,
 * extensions and PEM.
 */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "extern.h"

#define SERIAL_LEN	16

/*
 * A new serial: 16 random octets, the first in 0x01..0x7f so that the
 * INTEGER is positive and exactly 16 octets (RFC 5280 4.1.2.2).  Returns 0
 * with *out (caller frees) and its hex in hex (33 bytes), or a CM_ERR_*.
 */
int
x509_serial_new(struct cm_ctx *ctx, ASN1_INTEGER **out, char *hex)
{
	unsigned char b[SERIAL_LEN];
	ASN1_INTEGER *ai;

	*out = NULL;
	if (RAND_bytes(b, sizeof(b)) != 1)
		return cm_err_ssl(ctx, CM_ERR_CRYPTO, "random serial");
	b[0] &= 0x7f;
	if (b[0] == 0)
		b[0] = 1;
	if ((ai = ASN1_INTEGER_new()) == NULL ||
	    !ASN1_STRING_set(ai, b, sizeof(b))) {
		ASN1_INTEGER_free(ai);
		return CM_ERR_NOMEM;
	}
	cm_hex(b, sizeof(b), hex);
	*out = ai;
	return 0;
}

/* The serial as upper-case hex without leading zero octets. */
void
x509_serial_hex(const ASN1_INTEGER *ai, char *buf, size_t len)
{
	const unsigned char *p = ASN1_STRING_get0_data(ai);
	size_t n = (size_t)ASN1_STRING_length(ai);

	while (n > 1 && *p == 0) {
		p++;
		n--;
	}
	if (2 * n + 1 > len)
		n = (len - 1) / 2;
	cm_hex(p, n, buf);
}

/*
 * Normalize a serial typed by a user: hex digits, colons and spaces allowed,
 * any case, an optional 0x.  Returns 0 or -1 when it is not a serial.
 */
int
x509_serial_norm(const char *in, char *out, size_t len)
{
	size_t n = 0, i = 0, odd;
	char tmp[128];

	if (in == NULL)
		return -1;
	if (in[0] == '0' && (in[1] == 'x' || in[1] == 'X'))
		in += 2;
	for (; *in != '\0'; in++) {
		if (*in == ':' || *in == ' ')
			continue;
		if (!isxdigit((unsigned char)*in) || n + 2 >= sizeof(tmp))
			return -1;
		tmp[n++] = (char)toupper((unsigned char)*in);
	}
	if (n == 0)
		return -1;
	tmp[n] = '\0';
	odd = n % 2;
	/* Drop leading zero octets, as the DER magnitude has none. */
	while (n - i > 2 && ((odd && tmp[i] == '0') ||
	    (!odd && tmp[i] == '0' && tmp[i + 1] == '0'))) {
		i += odd ? 1 : 2;
		odd = 0;
	}
	if (n - i + (n - i) % 2 + 1 > len)
		return -1;
	if ((n - i) % 2)
		snprintf(out, len, "0%s", tmp + i);
	else
		snprintf(out, len, "%s", tmp + i);
	return 0;
}

/*
 * The key identifier of a public key: SHA-1 of the subjectPublicKey bit
 * string (RFC 5280 4.2.1.2, method 1) into id (20 bytes) and its hex into
 * hex (41 bytes), either may be NULL.  Returns 0 or CM_ERR_CRYPTO.
 */
int
x509_keyid(const X509_PUBKEY *xpk, unsigned char *id, char *hex)
{
	const unsigned char *pk;
	unsigned char md[20];
	int pklen;

	if (!X509_PUBKEY_get0_param(NULL, &pk, &pklen, NULL, xpk) ||
	    !EVP_Digest(pk, (size_t)pklen, md, NULL, EVP_sha1(), NULL))
		return CM_ERR_CRYPTO;
	if (id != NULL)
		memcpy(id, md, sizeof(md));
	if (hex != NULL)
		cm_hex(md, sizeof(md), hex);
	return 0;
}

/* An ASN1_TIME as time_t; 0 when it cannot be read. */
time_t
x509_time(const ASN1_TIME *t)
{
	struct tm tm;

	if (t == NULL || !ASN1_TIME_to_tm(t, &tm))
		return 0;
	return timegm(&tm);
}

/*
 * Set t: UTCTime through 2049, GeneralizedTime from 2050 (RFC 5280
 * 4.1.2.5).  Returns 1 or 0.
 */
int
x509_set_time(ASN1_TIME *t, time_t v)
{
	return ASN1_TIME_set(t, v) != NULL;
}

/*
 * A new time for t: UTCTime through 2049, GeneralizedTime from 2050.  Made
 * without OpenSSL's formatted printing, as a CRL sets a million of them.
 * Returns the time (caller frees) or NULL.
 */
ASN1_TIME *
x509_time_new(time_t v)
{
	ASN1_TIME *t;
	struct tm tm;
	char buf[16], *p = buf;
	int year, utc, i;
	int f[5];

	if (gmtime_r(&v, &tm) == NULL)
		return NULL;
	year = tm.tm_year + 1900;
	if (year < 1950 || year > 9999)
		return NULL;
	utc = year < 2050;
	if (!utc) {
		*p++ = (char)('0' + year / 1000);
		*p++ = (char)('0' + year / 100 % 10);
	}
	*p++ = (char)('0' + year / 10 % 10);
	*p++ = (char)('0' + year % 10);
	f[0] = tm.tm_mon + 1;
	f[1] = tm.tm_mday;
	f[2] = tm.tm_hour;
	f[3] = tm.tm_min;
	f[4] = tm.tm_sec;
	for (i = 0; i < 5; i++) {
		*p++ = (char)('0' + f[i] / 10);
		*p++ = (char)('0' + f[i] % 10);
	}
	*p++ = 'Z';
	if ((t = ASN1_STRING_type_new(utc ? V_ASN1_UTCTIME :
	    V_ASN1_GENERALIZEDTIME)) == NULL)
		return NULL;
	if (!ASN1_STRING_set(t, buf, (int)(p - buf))) {
		ASN1_STRING_free(t);
		return NULL;
	}
	return t;
}

/*
 * Add an extension given in OpenSSL's configuration syntax.  Returns 0 or
 * CM_ERR_INVAL naming the extension and value.
 */
int
x509_add_ext(struct cm_ctx *ctx, X509 *x, X509V3_CTX *v3, int nid,
    const char *value)
{
	X509_EXTENSION *ext;
	int ok;

	ext = X509V3_EXT_nconf_nid(NULL, v3, nid, value);
	if (ext == NULL)
		return cm_err_ssl(ctx, CM_ERR_INVAL, "extension %s \"%s\"",
		    OBJ_nid2sn(nid), value);
	ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	if (!ok)
		return cm_err_ssl(ctx, CM_ERR_CRYPTO, "adding extension %s",
		    OBJ_nid2sn(nid));
	return 0;
}

/* Append n bytes to a malloc'd buffer.  Returns 0 or CM_ERR_NOMEM. */
int
x509_append(unsigned char **buf, size_t *len, const unsigned char *p,
    size_t n)
{
	unsigned char *nb;

	if ((nb = realloc(*buf, *len + n + 1)) == NULL)
		return CM_ERR_NOMEM;
	memcpy(nb + *len, p, n);
	*len += n;
	nb[*len] = '\0';
	*buf = nb;
	return 0;
}

/* len bytes as one line of base64, NUL-terminated (caller frees). */
char *
b64_encode(const unsigned char *p, size_t len)
{
	char *b64;

	if ((b64 = calloc(1, 4 * ((len + 2) / 3) + 1)) != NULL)
		EVP_EncodeBlock((unsigned char *)b64, p, (int)len);
	return b64;
}

/*
 * PEM-encode DER data with the given label ("CERTIFICATE", ...).  Returns
 * 0 and *out (NUL-terminated, caller frees with cm_free) or a CM_ERR_*.
 */
int
cm_pem_encode(struct cm_ctx *ctx, const char *label, const unsigned char *der,
    size_t len, unsigned char **out, size_t *outlen)
{
	BIO *b;
	char *p;
	long n;
	int rc = 0;

	*out = NULL;
	*outlen = 0;
	if ((b = BIO_new(BIO_s_mem())) == NULL)
		return CM_ERR_NOMEM;
	if (PEM_write_bio(b, label, "", der, (long)len) <= 0) {
		rc = cm_err_ssl(ctx, CM_ERR_CRYPTO, "PEM encoding");
		goto out;
	}
	n = BIO_get_mem_data(b, &p);
	rc = x509_append(out, outlen, (const unsigned char *)p, (size_t)n);
out:
	BIO_free(b);
	return rc;
}

/* A certificate as PEM appended to *buf.  Returns 0 or a CM_ERR_*. */
int
x509_pem(struct cm_ctx *ctx, X509 *x, unsigned char **buf, size_t *len)
{
	unsigned char *der = NULL, *pem = NULL;
	size_t pemlen;
	int dlen, rc;

	if ((dlen = i2d_X509(x, &der)) <= 0)
		return cm_err_ssl(ctx, CM_ERR_CRYPTO, "DER encoding");
	rc = cm_pem_encode(ctx, "CERTIFICATE", der, (size_t)dlen, &pem,
	    &pemlen);
	if (rc == 0)
		rc = x509_append(buf, len, pem, pemlen);
	free(pem);
	OPENSSL_free(der);
	return rc;
}

/* Decode a DER certificate; NULL when it is not one. */
X509 *
x509_from_der(const unsigned char *der, size_t len)
{
	return d2i_X509(NULL, &der, (long)len);
}

/*
 * Describe a key as the procedures name key types: "rsa:3072", "ec:p256",
 * "ed25519".  Returns buf.
 */
const char *
x509_key_type(EVP_PKEY *pkey, char *buf, size_t len)
{
	char group[64];
	size_t glen;

	if (EVP_PKEY_is_a(pkey, "RSA"))
		snprintf(buf, len, "rsa:%d", EVP_PKEY_get_bits(pkey));
	else if (EVP_PKEY_is_a(pkey, "ED25519"))
		snprintf(buf, len, "ed25519");
	else if (EVP_PKEY_is_a(pkey, "ED448"))
		snprintf(buf, len, "ed448");
	else if (EVP_PKEY_is_a(pkey, "EC") &&
	    EVP_PKEY_get_utf8_string_param(pkey, "group", group,
	    sizeof(group), &glen)) {
		if (strcmp(group, "prime256v1") == 0)
			snprintf(buf, len, "ec:p256");
		else if (strcmp(group, "secp384r1") == 0)
			snprintf(buf, len, "ec:p384");
		else if (strcmp(group, "secp521r1") == 0)
			snprintf(buf, len, "ec:p521");
		else
			snprintf(buf, len, "ec:%s", group);
	} else
		snprintf(buf, len, "%s", EVP_PKEY_get0_type_name(pkey) != NULL ?
		    EVP_PKEY_get0_type_name(pkey) : "unknown");
	return buf;
}

/*
 * A DER certificate as text, the way openssl x509 -text prints it, for a
 * front end's detail view.  Returns 0 and *out (NUL-terminated, caller
 * frees with cm_free) or a CM_ERR_*.
 */
int
cm_cert_text(struct cm_ctx *ctx, const unsigned char *der, size_t len,
    char **out)
{
	const unsigned char *p = der;
	X509 *x;
	BIO *b = NULL;
	char *s;
	long n;
	int rc = 0;

	*out = NULL;
	if ((x = d2i_X509(NULL, &p, (long)len)) == NULL)
		return cm_err_ssl(ctx, CM_ERR_CRYPTO, "certificate: not DER");
	if ((b = BIO_new(BIO_s_mem())) == NULL) {
		rc = CM_ERR_NOMEM;
		goto out;
	}
	if (X509_print_ex(b, x, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB,
	    X509_FLAG_NO_SIGDUMP | X509_FLAG_NO_PUBKEY) <= 0) {
		rc = cm_err_ssl(ctx, CM_ERR_CRYPTO, "certificate: printing");
		goto out;
	}
	n = BIO_get_mem_data(b, &s);
	if ((*out = malloc((size_t)n + 1)) == NULL) {
		rc = CM_ERR_NOMEM;
		goto out;
	}
	memcpy(*out, s, (size_t)n);
	(*out)[n] = '\0';
out:
	BIO_free(b);
	X509_free(x);
	return rc;
}

/* A certificate, PEM (the first) or DER; NULL when it is neither. */
X509 *
x509_decode(const unsigned char *buf, size_t len)
{
	const unsigned char *p = buf;
	X509 *x;
	BIO *b;

	if (len > 10 && memmem(buf, len, "-----BEGIN", 10) != NULL) {
		if ((b = BIO_new_mem_buf(buf, (int)len)) == NULL)
			return NULL;
		x = PEM_read_bio_X509(b, NULL, NULL, NULL);
		BIO_free(b);
		return x;
	}
	return d2i_X509(NULL, &p, (long)len);
}
