/*
 * test-lint.c: lint_cert and lint_crl on vectors built here with OpenSSL:
 * a good CA, leaf and CRL that pass, then one vector per rule that must be
 * refused with CM_ERR_POLICY and a message citing the RFC 5280 section.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "extern.h"

static struct cm_ctx *ctx;
static EVP_PKEY *ca_key, *leaf_key;
static X509 *ca_cert;

static void
set_serial(X509 *x, const unsigned char *b, int len)
{
	ASN1_INTEGER *ai;

	assert_non_null(ai = ASN1_INTEGER_new());
	assert_int_equal(ASN1_STRING_set(ai, b, len), 1);
	assert_int_equal(X509_set_serialNumber(x, ai), 1);
	ASN1_INTEGER_free(ai);
}

static X509_NAME *
name(const char *cn)
{
	X509_NAME *n;

	assert_non_null(n = X509_NAME_new());
	assert_int_equal(X509_NAME_add_entry_by_txt(n, "C", MBSTRING_UTF8,
	    (const unsigned char *)"SE", -1, -1, 0), 1);
	assert_int_equal(X509_NAME_add_entry_by_txt(n, "O", MBSTRING_UTF8,
	    (const unsigned char *)"Example", -1, -1, 0), 1);
	assert_int_equal(X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8,
	    (const unsigned char *)cn, -1, -1, 0), 1);
	return n;
}

/* Replace extension nid of x by value (OpenSSL config syntax), or drop it. */
static void
set_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX v3;
	X509_EXTENSION *ext;
	int i;

	while ((i = X509_get_ext_by_NID(x, nid, -1)) >= 0)
		X509_EXTENSION_free(X509_delete_ext(x, i));
	if (value == NULL)
		return;
	X509V3_set_ctx(&v3, issuer != NULL ? issuer : x, x, NULL, NULL, 0);
	ext = X509V3_EXT_nconf_nid(NULL, &v3, nid, value);
	assert_non_null(ext);
	assert_int_equal(X509_add_ext(x, ext, -1), 1);
	X509_EXTENSION_free(ext);
}

static void
sign(X509 *x, EVP_PKEY *key)
{
	assert_true(X509_sign(x, key, EVP_sha256()) > 0);
}

/*
 * A certificate as the engine makes it: v3, a 16-octet serial, SKI, AKI,
 * basicConstraints and keyUsage; a CA when issuer is NULL (self-signed).
 */
static X509 *
make_cert(const char *cn, EVP_PKEY *key, X509 *issuer)
{
	static const unsigned char sn[16] = { 0x4f, 0x01, 0x02, 0x03, 0x04,
	    0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0xff };
	X509 *x;
	X509_NAME *n;

	assert_non_null(x = X509_new());
	assert_int_equal(X509_set_version(x, X509_VERSION_3), 1);
	set_serial(x, sn, sizeof(sn));
	n = name(cn);
	assert_int_equal(X509_set_subject_name(x, n), 1);
	assert_int_equal(X509_set_issuer_name(x, issuer != NULL ?
	    X509_get_subject_name(issuer) : n), 1);
	X509_NAME_free(n);
	assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), 0));
	assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x),
	    365L * 86400));
	assert_int_equal(X509_set_pubkey(x, key), 1);
	set_ext(x, issuer, NID_subject_key_identifier, "hash");
	set_ext(x, issuer, NID_authority_key_identifier, "keyid:always");
	if (issuer == NULL) {
		set_ext(x, issuer, NID_basic_constraints, "critical,CA:TRUE");
		set_ext(x, issuer, NID_key_usage,
		    "critical,keyCertSign,cRLSign");
	} else {
		set_ext(x, issuer, NID_basic_constraints, "CA:FALSE");
		set_ext(x, issuer, NID_key_usage,
		    "critical,digitalSignature");
		set_ext(x, issuer, NID_subject_alt_name, "DNS:www.example.com");
	}
	sign(x, issuer != NULL ? ca_key : key);
	return x;
}

static X509 *
ca(void)
{
	return make_cert("Example CA", ca_key, NULL);
}

/* The issuing CA, made by the first test that needs it. */
static void
need_ca(void)
{
	if (ca_cert == NULL)
		ca_cert = ca();
}

static X509 *
leaf(void)
{
	need_ca();
	return make_cert("www.example.com", leaf_key, ca_cert);
}

static int
lint(X509 *x)
{
	ctx->errmsg[0] = '\0';
	return lint_cert(ctx, x);
}

/*
 * rc must be a refusal whose message holds word and cites section exactly:
 * "RFC 5280 4.2" followed by ")" or ",", so that 4.2.1.1 does not match.
 */
static void
refused(int rc, const char *word, const char *section)
{
	char cite[64];
	const char *m = cm_ctx_errmsg(ctx), *p;
	size_t n;
	int found = 0;

	n = (size_t)snprintf(cite, sizeof(cite), "RFC 5280 %s", section);
	for (p = m; (p = strstr(p, cite)) != NULL; p += n)
		if (p[n] == ')' || p[n] == ',')
			found = 1;
	assert_int_equal(rc, CM_ERR_POLICY);
	if (strstr(m, word) == NULL || !found)
		fail_msg("message \"%s\" lacks \"%s\" or \"%s\"", m, word,
		    cite);
}

static void
passes(int rc)
{
	if (rc != 0)
		fail_msg("refused: %s", cm_ctx_errmsg(ctx));
}

static void
test_good_ca(void **state)
{
	(void)state;
	need_ca();
	passes(lint(ca_cert));
}

static void
test_good_leaf(void **state)
{
	X509 *x = leaf();

	(void)state;
	passes(lint(x));
	X509_free(x);
}

static void
test_good_der(void **state)
{
	X509 *x = leaf();
	unsigned char *der = NULL, *two;
	int len;

	(void)state;
	assert_true((len = i2d_X509(x, &der)) > 0);
	passes(cm_lint_cert_der(ctx, der, (size_t)len));
	assert_int_equal(cm_lint_cert_der(ctx, der, (size_t)len - 1),
	    CM_ERR_INVAL);
	assert_non_null(strstr(cm_ctx_errmsg(ctx), "not a DER certificate"));
	assert_non_null(two = malloc((size_t)len + 1));
	memcpy(two, der, (size_t)len);
	two[len] = 0;
	assert_int_equal(cm_lint_cert_der(ctx, two, (size_t)len + 1),
	    CM_ERR_INVAL);
	assert_int_equal(cm_lint_cert_der(ctx, (const unsigned char *)"xyz",
	    3), CM_ERR_INVAL);
	free(two);
	OPENSSL_free(der);
	X509_free(x);
}

static void
test_serial_negative(void **state)
{
	X509 *x = leaf();

	(void)state;
	assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(x), -5), 1);
	sign(x, ca_key);
	refused(lint(x), "negative", "4.1.2.2");
	X509_free(x);
}

static void
test_serial_zero(void **state)
{
	X509 *x = leaf();

	(void)state;
	assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(x), 0), 1);
	sign(x, ca_key);
	refused(lint(x), "zero", "4.1.2.2");
	X509_free(x);
}

static void
test_serial_long(void **state)
{
	unsigned char b[21];
	X509 *x = leaf();

	(void)state;
	/* 20 octets pass, as long as the top bit is clear. */
	memset(b, 0x7f, sizeof(b));
	set_serial(x, b, 20);
	sign(x, ca_key);
	passes(lint(x));
	/* A set top bit takes a 21st octet in DER. */
	b[0] = 0x80;
	set_serial(x, b, 20);
	sign(x, ca_key);
	refused(lint(x), "20 octets", "4.1.2.2");
	b[0] = 0x01;
	set_serial(x, b, 21);
	sign(x, ca_key);
	refused(lint(x), "20 octets", "4.1.2.2");
	X509_free(x);
}

static void
test_no_aki(void **state)
{
	X509 *x = leaf();

	(void)state;
	set_ext(x, ca_cert, NID_authority_key_identifier, NULL);
	sign(x, ca_key);
	refused(lint(x), "authorityKeyIdentifier", "4.2.1.1");
	X509_free(x);
}

static void
test_self_signed_no_aki(void **state)
{
	X509 *x = ca();

	(void)state;
	/* A self-signed certificate MAY omit it (RFC 5280 4.2.1.1). */
	set_ext(x, NULL, NID_authority_key_identifier, NULL);
	sign(x, ca_key);
	passes(lint(x));
	X509_free(x);
}

static void
test_aki_critical(void **state)
{
	X509 *x = leaf();

	(void)state;
	set_ext(x, ca_cert, NID_authority_key_identifier,
	    "critical,keyid:always");
	sign(x, ca_key);
	refused(lint(x), "authorityKeyIdentifier is critical", "4.2.1.1");
	X509_free(x);
}

static void
test_aki_no_keyid(void **state)
{
	AUTHORITY_KEYID *aki;
	X509 *x = leaf();

	(void)state;
	set_ext(x, ca_cert, NID_authority_key_identifier, NULL);
	assert_non_null(aki = AUTHORITY_KEYID_new());
	assert_non_null(aki->serial = ASN1_INTEGER_new());
	assert_int_equal(ASN1_INTEGER_set(aki->serial, 1), 1);
	assert_int_equal(X509_add1_ext_i2d(x, NID_authority_key_identifier,
	    aki, 0, 0), 1);
	AUTHORITY_KEYID_free(aki);
	sign(x, ca_key);
	refused(lint(x), "keyIdentifier", "4.2.1.1");
	X509_free(x);
}

static void
test_no_ski(void **state)
{
	X509 *x = leaf();

	(void)state;
	set_ext(x, ca_cert, NID_subject_key_identifier, NULL);
	sign(x, ca_key);
	refused(lint(x), "subjectKeyIdentifier", "4.2.1.2");
	X509_free(x);
}

static void
test_ski_critical(void **state)
{
	X509 *x = leaf();

	(void)state;
	set_ext(x, ca_cert, NID_subject_key_identifier, "critical,hash");
	sign(x, ca_key);
	refused(lint(x), "subjectKeyIdentifier is critical", "4.2.1.2");
	X509_free(x);
}

static void
test_ca_bc_not_critical(void **state)
{
	X509 *x = ca();

	(void)state;
	set_ext(x, NULL, NID_basic_constraints, "CA:TRUE");
	sign(x, ca_key);
	refused(lint(x), "basicConstraints", "4.2.1.9");
	X509_free(x);
}

static void
test_ca_no_keycertsign(void **state)
{
	X509 *x = ca();

	(void)state;
	set_ext(x, NULL, NID_key_usage, "critical,cRLSign,digitalSignature");
	sign(x, ca_key);
	refused(lint(x), "keyCertSign", "4.2.1.3");
	X509_free(x);
}

static void
test_ca_no_ku(void **state)
{
	X509 *x = ca();

	(void)state;
	set_ext(x, NULL, NID_key_usage, NULL);
	sign(x, ca_key);
	refused(lint(x), "keyUsage", "4.2.1.3");
	X509_free(x);
}

static void
test_leaf_keycertsign(void **state)
{
	X509 *x = leaf();

	(void)state;
	set_ext(x, ca_cert, NID_key_usage, "critical,keyCertSign");
	sign(x, ca_key);
	refused(lint(x), "keyCertSign without", "4.2.1.3");
	X509_free(x);
}

static void
test_leaf_pathlen(void **state)
{
	BASIC_CONSTRAINTS *bc;
	X509 *x = leaf();

	(void)state;
	set_ext(x, ca_cert, NID_basic_constraints, NULL);
	assert_non_null(bc = BASIC_CONSTRAINTS_new());
	bc->ca = 0;
	assert_non_null(bc->pathlen = ASN1_INTEGER_new());
	assert_int_equal(ASN1_INTEGER_set(bc->pathlen, 0), 1);
	assert_int_equal(X509_add1_ext_i2d(x, NID_basic_constraints, bc, 1,
	    0), 1);
	BASIC_CONSTRAINTS_free(bc);
	sign(x, ca_key);
	refused(lint(x), "pathLenConstraint", "4.2.1.9");
	X509_free(x);
}

static void
test_ku_empty(void **state)
{
	ASN1_BIT_STRING *ku;
	X509 *x = leaf();

	(void)state;
	set_ext(x, ca_cert, NID_key_usage, NULL);
	assert_non_null(ku = ASN1_BIT_STRING_new());
	assert_int_equal(X509_add1_ext_i2d(x, NID_key_usage, ku, 1, 0), 1);
	ASN1_BIT_STRING_free(ku);
	sign(x, ca_key);
	refused(lint(x), "no bits", "4.2.1.3");
	X509_free(x);
}

static void
test_v1_with_extensions(void **state)
{
	X509 *x = leaf();

	(void)state;
	/* X509_sign would make it v3 again, so change it after signing. */
	assert_int_equal(X509_set_version(x, X509_VERSION_1), 1);
	assert_int_equal(X509_get_version(x), X509_VERSION_1);
	refused(lint(x), "v1", "4.1.2.1");
	X509_free(x);
}

static void
test_empty_subject_no_san(void **state)
{
	X509_NAME *n;
	X509 *x = leaf();

	(void)state;
	assert_non_null(n = X509_NAME_new());
	assert_int_equal(X509_set_subject_name(x, n), 1);
	X509_NAME_free(n);
	set_ext(x, ca_cert, NID_subject_alt_name, NULL);
	sign(x, ca_key);
	refused(lint(x), "subjectAltName", "4.1.2.6");
	X509_free(x);
}

static void
test_empty_subject_san(void **state)
{
	X509_NAME *n;
	X509 *x = leaf();

	(void)state;
	assert_non_null(n = X509_NAME_new());
	assert_int_equal(X509_set_subject_name(x, n), 1);
	X509_NAME_free(n);
	set_ext(x, ca_cert, NID_subject_alt_name, "DNS:www.example.com");
	sign(x, ca_key);
	refused(lint(x), "non-critical subjectAltName", "4.2.1.6");
	set_ext(x, ca_cert, NID_subject_alt_name,
	    "critical,DNS:www.example.com");
	sign(x, ca_key);
	passes(lint(x));
	X509_free(x);
}

static void
test_not_after_before(void **state)
{
	X509 *x = leaf();

	(void)state;
	assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x), -86400));
	sign(x, ca_key);
	refused(lint(x), "notAfter", "4.1.2.5");
	X509_free(x);
}

static void
test_generalized_before_2050(void **state)
{
	ASN1_TIME *t;
	X509 *x = leaf();

	(void)state;
	assert_non_null(t = ASN1_TIME_new());
	assert_int_equal(ASN1_GENERALIZEDTIME_set_string(t,
	    "20400101000000Z"), 1);
	assert_int_equal(X509_set1_notAfter(x, t), 1);
	sign(x, ca_key);
	refused(lint(x), "GeneralizedTime", "4.1.2.5");
	/* From 2050 GeneralizedTime is right. */
	assert_int_equal(ASN1_GENERALIZEDTIME_set_string(t,
	    "20500101000000Z"), 1);
	assert_int_equal(X509_set1_notAfter(x, t), 1);
	sign(x, ca_key);
	passes(lint(x));
	ASN1_TIME_free(t);
	X509_free(x);
}

static void
test_duplicate_extension(void **state)
{
	X509V3_CTX v3;
	X509_EXTENSION *ext;
	X509 *x = leaf();

	(void)state;
	X509V3_set_ctx(&v3, ca_cert, x, NULL, NULL, 0);
	assert_non_null(ext = X509V3_EXT_nconf_nid(NULL, &v3,
	    NID_subject_alt_name, "DNS:other.example.com"));
	assert_int_equal(X509_add_ext(x, ext, -1), 1);
	X509_EXTENSION_free(ext);
	sign(x, ca_key);
	refused(lint(x), "more than once", "4.2");
	X509_free(x);
}

static void
test_sigalg_mismatch(void **state)
{
	X509_ALGOR *alg;
	X509 *x = leaf();

	(void)state;
	/* Change the TBS copy only, as a broken signer might. */
	alg = (X509_ALGOR *)X509_get0_tbs_sigalg(x);
	assert_int_equal(X509_ALGOR_set0(alg,
	    OBJ_nid2obj(NID_ecdsa_with_SHA384), V_ASN1_UNDEF, NULL), 1);
	refused(lint(x), "signatureAlgorithm", "4.1.1.2");
	X509_free(x);
}

static void
test_ec_explicit(void **state)
{
	EVP_PKEY *k;
	X509 *x = leaf();

	(void)state;
	assert_non_null(k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256"));
	assert_int_equal(EVP_PKEY_set_utf8_string_param(k,
	    OSSL_PKEY_PARAM_EC_ENCODING, OSSL_PKEY_EC_ENCODING_EXPLICIT), 1);
	assert_int_equal(X509_set_pubkey(x, k), 1);
	set_ext(x, ca_cert, NID_subject_key_identifier, "hash");
	sign(x, ca_key);
	refused(lint(x), "named curve", "4.1.2.7");
	EVP_PKEY_free(k);
	X509_free(x);
}

static void
test_unknown_version(void **state)
{
	X509 *x = leaf();

	(void)state;
	/* After signing, as X509_sign would set v3 again. */
	assert_int_equal(X509_set_version(x, 3), 1);
	refused(lint(x), "unknown version", "4.1.2.1");
	X509_free(x);
}

static void
test_issuer_empty(void **state)
{
	X509_NAME *n;
	X509 *x = leaf();

	(void)state;
	assert_non_null(n = X509_NAME_new());
	assert_int_equal(X509_set_issuer_name(x, n), 1);
	X509_NAME_free(n);
	sign(x, ca_key);
	refused(lint(x), "issuer", "4.1.2.4");
	X509_free(x);
}

static void
test_not_before_generalized(void **state)
{
	ASN1_TIME *t;
	X509 *x = leaf();

	(void)state;
	assert_non_null(t = ASN1_TIME_new());
	assert_int_equal(ASN1_GENERALIZEDTIME_set_string(t,
	    "20200101000000Z"), 1);
	assert_int_equal(X509_set1_notBefore(x, t), 1);
	ASN1_TIME_free(t);
	sign(x, ca_key);
	refused(lint(x), "notBefore", "4.1.2.5");
	X509_free(x);
}

/* Extensions whose value is an ASN.1 NULL, which none of them is. */
static void
test_undecodable(void **state)
{
	static const struct {
		int		 nid;
		const char	*section;
	} t[] = {
		{ NID_authority_key_identifier, "4.2.1.1" },
		{ NID_basic_constraints, "4.2.1.9" },
		{ NID_key_usage, "4.2.1.3" },
	};
	ASN1_OCTET_STRING *os;
	X509_EXTENSION *ext;
	X509 *x;
	size_t i;

	(void)state;
	assert_non_null(os = ASN1_OCTET_STRING_new());
	assert_int_equal(ASN1_OCTET_STRING_set(os,
	    (const unsigned char *)"\x05\x00", 2), 1);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		x = leaf();
		set_ext(x, ca_cert, t[i].nid, NULL);
		assert_non_null(ext = X509_EXTENSION_create_by_NID(NULL,
		    t[i].nid, 0, os));
		assert_int_equal(X509_add_ext(x, ext, -1), 1);
		X509_EXTENSION_free(ext);
		sign(x, ca_key);
		refused(lint(x), "cannot be decoded", t[i].section);
		X509_free(x);
	}
	ASN1_OCTET_STRING_free(os);
}

static void
test_pathlen_negative(void **state)
{
	BASIC_CONSTRAINTS *bc;
	X509 *x = ca();

	(void)state;
	set_ext(x, NULL, NID_basic_constraints, NULL);
	assert_non_null(bc = BASIC_CONSTRAINTS_new());
	bc->ca = 0xff;
	assert_non_null(bc->pathlen = ASN1_INTEGER_new());
	assert_int_equal(ASN1_INTEGER_set(bc->pathlen, -1), 1);
	assert_int_equal(X509_add1_ext_i2d(x, NID_basic_constraints, bc, 1,
	    0), 1);
	BASIC_CONSTRAINTS_free(bc);
	sign(x, ca_key);
	refused(lint(x), "negative", "4.2.1.9");
	X509_free(x);
}

/* CRLs. */

static void
crl_ext_int(X509_CRL *crl, int nid, long v, int crit)
{
	ASN1_INTEGER *ai;

	assert_non_null(ai = ASN1_INTEGER_new());
	assert_int_equal(ASN1_INTEGER_set(ai, v), 1);
	assert_int_equal(X509_CRL_add1_ext_i2d(crl, nid, ai, crit, 0), 1);
	ASN1_INTEGER_free(ai);
}

static void
crl_revoke(X509_CRL *crl, const unsigned char *sn, int len, long v)
{
	X509_REVOKED *r;
	ASN1_INTEGER *ai;
	ASN1_TIME *t;

	assert_non_null(r = X509_REVOKED_new());
	assert_non_null(ai = ASN1_INTEGER_new());
	if (sn != NULL)
		assert_int_equal(ASN1_STRING_set(ai, sn, len), 1);
	else
		assert_int_equal(ASN1_INTEGER_set(ai, v), 1);
	assert_int_equal(X509_REVOKED_set_serialNumber(r, ai), 1);
	ASN1_INTEGER_free(ai);
	assert_non_null(t = X509_gmtime_adj(NULL, -3600));
	assert_int_equal(X509_REVOKED_set_revocationDate(r, t), 1);
	ASN1_TIME_free(t);
	assert_int_equal(X509_CRL_add0_revoked(crl, r), 1);
}

#define CRL_NO_AKI	0x01
#define CRL_NO_NUMBER	0x02
#define CRL_NO_NEXT	0x04
#define CRL_V1		0x08

/* A CRL as the engine makes it, less what flags leave out; unsigned. */
static X509_CRL *
make_crl(int flags)
{
	static const unsigned char sn[16] = { 0x11, 0x22, 0x33, 0x44, 0x55,
	    0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x01 };
	X509V3_CTX v3;
	X509_EXTENSION *ext;
	X509_CRL *crl;
	ASN1_TIME *t;

	need_ca();
	assert_non_null(crl = X509_CRL_new());
	assert_int_equal(X509_CRL_set_version(crl, (flags & CRL_V1) ?
	    X509_CRL_VERSION_1 : X509_CRL_VERSION_2), 1);
	assert_int_equal(X509_CRL_set_issuer_name(crl,
	    X509_get_subject_name(ca_cert)), 1);
	assert_non_null(t = X509_gmtime_adj(NULL, 0));
	assert_int_equal(X509_CRL_set1_lastUpdate(crl, t), 1);
	if (!(flags & CRL_NO_NEXT)) {
		assert_non_null(X509_gmtime_adj(t, 86400));
		assert_int_equal(X509_CRL_set1_nextUpdate(crl, t), 1);
	}
	ASN1_TIME_free(t);
	crl_revoke(crl, sn, sizeof(sn), 0);
	crl_revoke(crl, NULL, 0, 7);
	if (!(flags & CRL_V1) && !(flags & CRL_NO_AKI)) {
		X509V3_set_ctx(&v3, ca_cert, NULL, NULL, crl, 0);
		assert_non_null(ext = X509V3_EXT_nconf_nid(NULL, &v3,
		    NID_authority_key_identifier, "keyid:always"));
		assert_int_equal(X509_CRL_add_ext(crl, ext, -1), 1);
		X509_EXTENSION_free(ext);
	}
	if (!(flags & CRL_V1) && !(flags & CRL_NO_NUMBER))
		crl_ext_int(crl, NID_crl_number, 42, 0);
	return crl;
}

static int
lint_c(X509_CRL *crl)
{
	assert_true(X509_CRL_sign(crl, ca_key, EVP_sha256()) > 0);
	ctx->errmsg[0] = '\0';
	return lint_crl(ctx, crl);
}

static void
test_crl_good(void **state)
{
	X509_CRL *crl = make_crl(0);
	unsigned char *der = NULL;
	int len;

	(void)state;
	passes(lint_c(crl));
	assert_true((len = i2d_X509_CRL(crl, &der)) > 0);
	passes(cm_lint_crl_der(ctx, der, (size_t)len));
	assert_int_equal(cm_lint_crl_der(ctx, der, (size_t)len - 1),
	    CM_ERR_INVAL);
	OPENSSL_free(der);
	X509_CRL_free(crl);
}

static void
test_crl_v1(void **state)
{
	X509_CRL *crl = make_crl(CRL_V1);

	(void)state;
	assert_int_equal(X509_CRL_get_version(crl), X509_CRL_VERSION_1);
	refused(lint_c(crl), "v1", "5.1.2.1");
	X509_CRL_free(crl);
}

static void
test_crl_no_number(void **state)
{
	X509_CRL *crl = make_crl(CRL_NO_NUMBER);

	(void)state;
	refused(lint_c(crl), "cRLNumber", "5.2.3");
	X509_CRL_free(crl);
}

static void
test_crl_number_negative(void **state)
{
	X509_CRL *crl = make_crl(CRL_NO_NUMBER);

	(void)state;
	crl_ext_int(crl, NID_crl_number, -1, 0);
	refused(lint_c(crl), "negative", "5.2.3");
	X509_CRL_free(crl);
}

static void
test_crl_number_critical(void **state)
{
	X509_CRL *crl = make_crl(CRL_NO_NUMBER);

	(void)state;
	crl_ext_int(crl, NID_crl_number, 1, 1);
	refused(lint_c(crl), "critical", "5.2.3");
	X509_CRL_free(crl);
}

static void
test_crl_no_aki(void **state)
{
	X509_CRL *crl = make_crl(CRL_NO_AKI);

	(void)state;
	refused(lint_c(crl), "authorityKeyIdentifier", "5.2.1");
	X509_CRL_free(crl);
}

static void
test_crl_no_next(void **state)
{
	X509_CRL *crl = make_crl(CRL_NO_NEXT);

	(void)state;
	assert_null(X509_CRL_get0_nextUpdate(crl));
	refused(lint_c(crl), "nextUpdate", "5.1.2.5");
	X509_CRL_free(crl);
}

static void
test_crl_next_before_this(void **state)
{
	X509_CRL *crl = make_crl(0);
	ASN1_TIME *t;

	(void)state;
	assert_non_null(t = X509_gmtime_adj(NULL, -86400));
	assert_int_equal(X509_CRL_set1_nextUpdate(crl, t), 1);
	ASN1_TIME_free(t);
	refused(lint_c(crl), "nextUpdate", "5.1.2.5");
	X509_CRL_free(crl);
}

static void
test_crl_delta(void **state)
{
	X509_CRL *crl = make_crl(0), *good = make_crl(0);

	(void)state;
	crl_ext_int(good, NID_delta_crl, 41, 1);
	passes(lint_c(good));
	crl_ext_int(crl, NID_delta_crl, 41, 0);
	refused(lint_c(crl), "deltaCRLIndicator", "5.2.4");
	X509_CRL_free(good);
	X509_CRL_free(crl);
}

static void
test_crl_entry_serial(void **state)
{
	X509_CRL *crl = make_crl(0), *zero = make_crl(0);

	(void)state;
	crl_revoke(crl, NULL, 0, -3);
	refused(lint_c(crl), "negative", "5.1.2.6");
	crl_revoke(zero, NULL, 0, 0);
	refused(lint_c(zero), "zero", "5.1.2.6");
	X509_CRL_free(zero);
	X509_CRL_free(crl);
}

static void
test_crl_issuer_empty(void **state)
{
	X509_NAME *n;
	X509_CRL *crl = make_crl(0);

	(void)state;
	assert_non_null(n = X509_NAME_new());
	assert_int_equal(X509_CRL_set_issuer_name(crl, n), 1);
	X509_NAME_free(n);
	refused(lint_c(crl), "issuer", "5.1.2.3");
	X509_CRL_free(crl);
}

static void
test_crl_time_encoding(void **state)
{
	ASN1_TIME *t;
	X509_CRL *crl = make_crl(0), *next = make_crl(0);

	(void)state;
	assert_non_null(t = ASN1_TIME_new());
	assert_int_equal(ASN1_GENERALIZEDTIME_set_string(t,
	    "20400101000000Z"), 1);
	assert_int_equal(X509_CRL_set1_lastUpdate(crl, t), 1);
	refused(lint_c(crl), "thisUpdate", "5.1.2.4");
	assert_int_equal(X509_CRL_set1_nextUpdate(next, t), 1);
	refused(lint_c(next), "nextUpdate", "5.1.2.5");
	ASN1_TIME_free(t);
	X509_CRL_free(next);
	X509_CRL_free(crl);
}

static void
test_crl_aki_no_keyid(void **state)
{
	AUTHORITY_KEYID *aki;
	X509_CRL *crl = make_crl(CRL_NO_AKI);

	(void)state;
	assert_non_null(aki = AUTHORITY_KEYID_new());
	assert_non_null(aki->serial = ASN1_INTEGER_new());
	assert_int_equal(ASN1_INTEGER_set(aki->serial, 1), 1);
	assert_int_equal(X509_CRL_add1_ext_i2d(crl,
	    NID_authority_key_identifier, aki, 0, 0), 1);
	AUTHORITY_KEYID_free(aki);
	refused(lint_c(crl), "keyIdentifier", "5.2.1");
	X509_CRL_free(crl);
}

static void
test_crl_delta_bad(void **state)
{
	ASN1_OCTET_STRING *os;
	X509_EXTENSION *ext;
	X509_CRL *crl = make_crl(0), *neg = make_crl(0);

	(void)state;
	assert_non_null(os = ASN1_OCTET_STRING_new());
	assert_int_equal(ASN1_OCTET_STRING_set(os,
	    (const unsigned char *)"\x05\x00", 2), 1);
	assert_non_null(ext = X509_EXTENSION_create_by_NID(NULL,
	    NID_delta_crl, 1, os));
	assert_int_equal(X509_CRL_add_ext(crl, ext, -1), 1);
	X509_EXTENSION_free(ext);
	ASN1_OCTET_STRING_free(os);
	refused(lint_c(crl), "deltaCRLIndicator", "5.2.4");
	crl_ext_int(neg, NID_delta_crl, -2, 1);
	refused(lint_c(neg), "BaseCRLNumber is negative", "5.2.4");
	X509_CRL_free(neg);
	X509_CRL_free(crl);
}

static void
test_crl_idp(void **state)
{
	ISSUING_DIST_POINT *idp;
	X509_CRL *crl = make_crl(0), *good = make_crl(0);

	(void)state;
	assert_non_null(idp = ISSUING_DIST_POINT_new());
	idp->onlyuser = 0xff;
	assert_int_equal(X509_CRL_add1_ext_i2d(good,
	    NID_issuing_distribution_point, idp, 1, 0), 1);
	passes(lint_c(good));
	assert_int_equal(X509_CRL_add1_ext_i2d(crl,
	    NID_issuing_distribution_point, idp, 0, 0), 1);
	refused(lint_c(crl), "issuingDistributionPoint", "5.2.5");
	ISSUING_DIST_POINT_free(idp);
	X509_CRL_free(good);
	X509_CRL_free(crl);
}

static void
test_crl_entry_date(void **state)
{
	static const unsigned char sn[] = { 0x12, 0x34 };
	X509_REVOKED *r;
	ASN1_INTEGER *ai;
	ASN1_TIME *t;
	X509_CRL *crl = make_crl(0);

	(void)state;
	assert_non_null(r = X509_REVOKED_new());
	assert_non_null(ai = ASN1_INTEGER_new());
	assert_int_equal(ASN1_STRING_set(ai, sn, sizeof(sn)), 1);
	assert_int_equal(X509_REVOKED_set_serialNumber(r, ai), 1);
	ASN1_INTEGER_free(ai);
	assert_non_null(t = ASN1_TIME_new());
	assert_int_equal(ASN1_GENERALIZEDTIME_set_string(t,
	    "20200101000000Z"), 1);
	assert_int_equal(X509_REVOKED_set_revocationDate(r, t), 1);
	ASN1_TIME_free(t);
	assert_int_equal(X509_CRL_add0_revoked(crl, r), 1);
	refused(lint_c(crl), "serial 1234", "5.1.2.6");
	X509_CRL_free(crl);
}

static void
test_crl_many_entries(void **state)
{
	unsigned char sn[21];
	X509_CRL *crl = make_crl(0);
	int i;

	(void)state;
	/* Every entry is looked at: the bad one sorts last. */
	sn[0] = 0x01;
	for (i = 0; i < 5000; i++) {
		sn[1] = (unsigned char)(i >> 8);
		sn[2] = (unsigned char)i;
		crl_revoke(crl, sn, 3, 0);
	}
	passes(lint_c(crl));
	memset(sn, 0x7f, sizeof(sn));
	crl_revoke(crl, sn, sizeof(sn), 0);
	refused(lint_c(crl), "20 octets", "5.1.2.6");
	X509_CRL_free(crl);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_ca),
		cmocka_unit_test(test_good_leaf),
		cmocka_unit_test(test_good_der),
		cmocka_unit_test(test_serial_negative),
		cmocka_unit_test(test_serial_zero),
		cmocka_unit_test(test_serial_long),
		cmocka_unit_test(test_no_aki),
		cmocka_unit_test(test_self_signed_no_aki),
		cmocka_unit_test(test_aki_critical),
		cmocka_unit_test(test_aki_no_keyid),
		cmocka_unit_test(test_no_ski),
		cmocka_unit_test(test_ski_critical),
		cmocka_unit_test(test_ca_bc_not_critical),
		cmocka_unit_test(test_ca_no_keycertsign),
		cmocka_unit_test(test_ca_no_ku),
		cmocka_unit_test(test_leaf_keycertsign),
		cmocka_unit_test(test_leaf_pathlen),
		cmocka_unit_test(test_ku_empty),
		cmocka_unit_test(test_v1_with_extensions),
		cmocka_unit_test(test_empty_subject_no_san),
		cmocka_unit_test(test_empty_subject_san),
		cmocka_unit_test(test_not_after_before),
		cmocka_unit_test(test_generalized_before_2050),
		cmocka_unit_test(test_duplicate_extension),
		cmocka_unit_test(test_sigalg_mismatch),
		cmocka_unit_test(test_ec_explicit),
		cmocka_unit_test(test_unknown_version),
		cmocka_unit_test(test_issuer_empty),
		cmocka_unit_test(test_not_before_generalized),
		cmocka_unit_test(test_undecodable),
		cmocka_unit_test(test_pathlen_negative),
		cmocka_unit_test(test_crl_good),
		cmocka_unit_test(test_crl_v1),
		cmocka_unit_test(test_crl_no_number),
		cmocka_unit_test(test_crl_number_negative),
		cmocka_unit_test(test_crl_number_critical),
		cmocka_unit_test(test_crl_no_aki),
		cmocka_unit_test(test_crl_no_next),
		cmocka_unit_test(test_crl_next_before_this),
		cmocka_unit_test(test_crl_delta),
		cmocka_unit_test(test_crl_entry_serial),
		cmocka_unit_test(test_crl_issuer_empty),
		cmocka_unit_test(test_crl_time_encoding),
		cmocka_unit_test(test_crl_aki_no_keyid),
		cmocka_unit_test(test_crl_delta_bad),
		cmocka_unit_test(test_crl_idp),
		cmocka_unit_test(test_crl_entry_date),
		cmocka_unit_test(test_crl_many_entries),
	};
	int rc;

	if (cm_ctx_new(&ctx) != 0 ||
	    (ca_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256")) == NULL ||
	    (leaf_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256")) == NULL)
		return 1;
	rc = cmocka_run_group_tests_name("lint", tests, NULL, NULL);
	X509_free(ca_cert);
	EVP_PKEY_free(leaf_key);
	EVP_PKEY_free(ca_key);
	cm_ctx_free(ctx);
	return rc;
}
