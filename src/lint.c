/*
 * lint.c: RFC 5280 checks on certificates and CRLs that openssl verify
 * does not make.  The engine runs them on everything it signs before it
 * is stored, so they must be cheap: nothing is formatted unless a check
 * fails, public keys are read as X509_PUBKEY and never decoded, and a CRL
 * entry costs a few comparisons and no allocation.  A failure is
 * CM_ERR_POLICY with a message that names the rule and cites the section.
 */
#include "config.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "extern.h"

#define MAX_SERIAL_OCTETS	20
#define KU_BIT_KEY_CERT_SIGN	5

/*
 * What is wrong with an INTEGER that must be positive (or, with zero_ok,
 * non-negative) and at most 20 octets in DER (RFC 5280 4.1.2.2, 5.2.3), or
 * NULL when nothing is.
 */
static const char *
integer_fault(const ASN1_INTEGER *ai, int zero_ok)
{
	const unsigned char *d;
	int i, len;

	if (ai == NULL)
		return "is missing";
	if (ASN1_STRING_type(ai) == V_ASN1_NEG_INTEGER)
		return "is negative";
	d = ASN1_STRING_get0_data(ai);
	len = ASN1_STRING_length(ai);
	for (i = 0; i < len && d[i] == 0; i++)
		continue;
	if (i == len)
		return zero_ok ? NULL : "is zero";
	/* A magnitude with its top bit set takes a leading zero octet. */
	if (len - i + ((d[i] & 0x80) ? 1 : 0) > MAX_SERIAL_OCTETS)
		return "is longer than 20 octets";
	return NULL;
}

static int
digits(const unsigned char *d, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (d[i] < '0' || d[i] > '9')
			return 0;
	return 1;
}

/*
 * What is wrong with the encoding of a time, or NULL: UTCTime
 * YYMMDDHHMMSSZ through 2049, GeneralizedTime YYYYMMDDHHMMSSZ from 2050
 * (RFC 5280 4.1.2.5, 5.1.2.4).
 */
static const char *
time_fault(const ASN1_TIME *t)
{
	const unsigned char *d;
	int len, year;

	if (t == NULL)
		return "is missing";
	d = ASN1_STRING_get0_data(t);
	len = ASN1_STRING_length(t);
	switch (ASN1_STRING_type(t)) {
	case V_ASN1_UTCTIME:
		if (len != 13 || !digits(d, 12) || d[12] != 'Z')
			return "is not a UTCTime YYMMDDHHMMSSZ";
		break;
	case V_ASN1_GENERALIZEDTIME:
		if (len != 15 || !digits(d, 14) || d[14] != 'Z')
			return "is not a GeneralizedTime YYYYMMDDHHMMSSZ";
		year = (d[0] - '0') * 1000 + (d[1] - '0') * 100 +
		    (d[2] - '0') * 10 + (d[3] - '0');
		if (year < 2050)
			return "is a GeneralizedTime before 2050, where "
			    "UTCTime is required";
		break;
	default:
		return "is neither UTCTime nor GeneralizedTime";
	}
	if (!ASN1_TIME_check(t))
		return "is not a valid date";
	return NULL;
}

/*
 * The index of the first extension whose type appeared before it, or -1.
 * Certificates and CRLs carry a handful, so the quadratic scan is cheap.
 */
static int
ext_dup(const STACK_OF(X509_EXTENSION) *exts)
{
	const ASN1_OBJECT *oi;
	int i, j, n;

	n = sk_X509_EXTENSION_num(exts);
	for (i = 1; i < n; i++) {
		oi = X509_EXTENSION_get_object(
		    sk_X509_EXTENSION_value(exts, i));
		for (j = 0; j < i; j++)
			if (OBJ_cmp(oi, X509_EXTENSION_get_object(
			    sk_X509_EXTENSION_value(exts, j))) == 0)
				return i;
	}
	return -1;
}

static int
ext_dup_err(struct cm_ctx *ctx, const char *what, const char *section,
    const STACK_OF(X509_EXTENSION) *exts, int i)
{
	char oid[80];

	OBJ_obj2txt(oid, sizeof(oid), X509_EXTENSION_get_object(
	    sk_X509_EXTENSION_value(exts, i)), 0);
	return cm_err(ctx, CM_ERR_POLICY, "%s: extension %s appears more "
	    "than once (RFC 5280 %s)", what, oid, section);
}

/* Whether the extension nid is present (0 or 1) and critical (*crit). */
static int
ext_find(const STACK_OF(X509_EXTENSION) *exts, int nid, int *crit)
{
	int i;

	*crit = 0;
	if ((i = X509v3_get_ext_by_NID(exts, nid, -1)) < 0)
		return 0;
	*crit = X509_EXTENSION_get_critical(X509v3_get_ext(exts, i)) > 0;
	return 1;
}

/* The fields of the TBSCertificate other than extensions. */
static int
cert_fields(struct cm_ctx *ctx, X509 *x)
{
	const ASN1_BIT_STRING *sig;
	const X509_ALGOR *alg;
	const void *pval;
	ASN1_OBJECT *ppkalg;
	X509_ALGOR *pa;
	const char *f;
	long version;
	int ptype;

	version = X509_get_version(x);
	if (version < X509_VERSION_1 || version > X509_VERSION_3)
		return cm_err(ctx, CM_ERR_POLICY, "certificate: unknown "
		    "version %ld (RFC 5280 4.1.2.1)", version + 1);
	if (version != X509_VERSION_3 &&
	    sk_X509_EXTENSION_num(X509_get0_extensions(x)) > 0)
		return cm_err(ctx, CM_ERR_POLICY, "certificate: extensions in "
		    "a v%ld certificate, which must be v3 (RFC 5280 4.1.2.1)",
		    version + 1);
	if ((f = integer_fault(X509_get0_serialNumber(x), 0)) != NULL)
		return cm_err(ctx, CM_ERR_POLICY, "certificate: serial number "
		    "%s (RFC 5280 4.1.2.2)", f);
	X509_get0_signature(&sig, &alg, x);
	if (alg == NULL || X509_ALGOR_cmp(alg, X509_get0_tbs_sigalg(x)) != 0)
		return cm_err(ctx, CM_ERR_POLICY, "certificate: "
		    "signatureAlgorithm differs from the signature field of "
		    "the TBSCertificate (RFC 5280 4.1.1.2)");
	if (X509_NAME_entry_count(X509_get_issuer_name(x)) == 0)
		return cm_err(ctx, CM_ERR_POLICY, "certificate: issuer is an "
		    "empty name (RFC 5280 4.1.2.4)");
	if ((f = time_fault(X509_get0_notBefore(x))) != NULL)
		return cm_err(ctx, CM_ERR_POLICY, "certificate: notBefore %s "
		    "(RFC 5280 4.1.2.5)", f);
	if ((f = time_fault(X509_get0_notAfter(x))) != NULL)
		return cm_err(ctx, CM_ERR_POLICY, "certificate: notAfter %s "
		    "(RFC 5280 4.1.2.5)", f);
	if (ASN1_TIME_compare(X509_get0_notBefore(x),
	    X509_get0_notAfter(x)) != -1)
		return cm_err(ctx, CM_ERR_POLICY, "certificate: notAfter is "
		    "not later than notBefore (RFC 5280 4.1.2.5)");
	/* The X509_PUBKEY as it was encoded; decoding the key is slow. */
	if (!X509_PUBKEY_get0_param(&ppkalg, NULL, NULL, &pa,
	    X509_get_X509_PUBKEY(x)))
		return cm_err(ctx, CM_ERR_POLICY, "certificate: "
		    "subjectPublicKeyInfo cannot be read (RFC 5280 4.1.2.7)");
	if (OBJ_obj2nid(ppkalg) == NID_X9_62_id_ecPublicKey) {
		X509_ALGOR_get0(NULL, &ptype, &pval, pa);
		if (ptype != V_ASN1_OBJECT)
			return cm_err(ctx, CM_ERR_POLICY, "certificate: EC "
			    "public key without a named curve (RFC 5280 "
			    "4.1.2.7, RFC 5480 2.1.1)");
	}
	return 0;
}

/* The extensions of a certificate. */
static int
cert_exts(struct cm_ctx *ctx, X509 *x)
{
	const STACK_OF(X509_EXTENSION) *exts;
	AUTHORITY_KEYID *aki = NULL;
	BASIC_CONSTRAINTS *bc = NULL;
	ASN1_BIT_STRING *ku = NULL;
	int rc = CM_ERR_POLICY, i, crit, is_ca = 0, any;

	exts = X509_get0_extensions(x);
	if ((i = ext_dup(exts)) >= 0) {
		rc = ext_dup_err(ctx, "certificate", "4.2", exts, i);
		goto out;
	}

	if (!ext_find(exts, NID_subject_key_identifier, &crit)) {
		rc = cm_err(ctx, CM_ERR_POLICY, "certificate: no "
		    "subjectKeyIdentifier (RFC 5280 4.2.1.2)");
		goto out;
	}
	if (crit) {
		rc = cm_err(ctx, CM_ERR_POLICY, "certificate: "
		    "subjectKeyIdentifier is critical (RFC 5280 4.2.1.2)");
		goto out;
	}

	aki = X509_get_ext_d2i(x, NID_authority_key_identifier, &crit, NULL);
	if (aki == NULL && crit >= 0) {
		rc = cm_err(ctx, CM_ERR_POLICY, "certificate: "
		    "authorityKeyIdentifier cannot be decoded (RFC 5280 "
		    "4.2.1.1)");
		goto out;
	}
	/*
	 * A self-signed certificate may omit it (4.2.1.1); the name
	 * comparison is made only then, so the common path stays cheap.
	 */
	if (aki == NULL && X509_NAME_cmp(X509_get_subject_name(x),
	    X509_get_issuer_name(x)) != 0) {
		rc = cm_err(ctx, CM_ERR_POLICY, "certificate: no "
		    "authorityKeyIdentifier (RFC 5280 4.2.1.1)");
		goto out;
	}
	if (aki != NULL && crit) {
		rc = cm_err(ctx, CM_ERR_POLICY, "certificate: "
		    "authorityKeyIdentifier is critical (RFC 5280 4.2.1.1)");
		goto out;
	}
	if (aki != NULL && (aki->keyid == NULL ||
	    ASN1_STRING_length(aki->keyid) == 0)) {
		rc = cm_err(ctx, CM_ERR_POLICY, "certificate: "
		    "authorityKeyIdentifier has no keyIdentifier (RFC 5280 "
		    "4.2.1.1)");
		goto out;
	}

	if (X509_NAME_entry_count(X509_get_subject_name(x)) == 0) {
		if (!ext_find(exts, NID_subject_alt_name, &crit)) {
			rc = cm_err(ctx, CM_ERR_POLICY, "certificate: empty "
			    "subject and no subjectAltName (RFC 5280 "
			    "4.1.2.6)");
			goto out;
		}
		if (!crit) {
			rc = cm_err(ctx, CM_ERR_POLICY, "certificate: empty "
			    "subject and a non-critical subjectAltName (RFC "
			    "5280 4.2.1.6)");
			goto out;
		}
	}

	bc = X509_get_ext_d2i(x, NID_basic_constraints, &crit, NULL);
	if (bc == NULL && crit >= 0) {
		rc = cm_err(ctx, CM_ERR_POLICY, "certificate: "
		    "basicConstraints cannot be decoded (RFC 5280 4.2.1.9)");
		goto out;
	}
	if (bc != NULL) {
		is_ca = bc->ca != 0;
		if (is_ca && !crit) {
			rc = cm_err(ctx, CM_ERR_POLICY, "certificate: CA "
			    "with a non-critical basicConstraints (RFC 5280 "
			    "4.2.1.9)");
			goto out;
		}
		if (!is_ca && bc->pathlen != NULL) {
			rc = cm_err(ctx, CM_ERR_POLICY, "certificate: "
			    "pathLenConstraint without cA (RFC 5280 4.2.1.9)");
			goto out;
		}
		if (bc->pathlen != NULL &&
		    ASN1_STRING_type(bc->pathlen) == V_ASN1_NEG_INTEGER) {
			rc = cm_err(ctx, CM_ERR_POLICY, "certificate: "
			    "pathLenConstraint is negative (RFC 5280 4.2.1.9)");
			goto out;
		}
	}

	ku = X509_get_ext_d2i(x, NID_key_usage, &crit, NULL);
	if (ku == NULL && crit >= 0) {
		rc = cm_err(ctx, CM_ERR_POLICY, "certificate: keyUsage "
		    "cannot be decoded (RFC 5280 4.2.1.3)");
		goto out;
	}
	if (ku == NULL && is_ca) {
		rc = cm_err(ctx, CM_ERR_POLICY, "certificate: CA without "
		    "keyUsage (RFC 5280 4.2.1.3)");
		goto out;
	}
	if (ku != NULL) {
		any = 0;
		for (i = 0; i < ASN1_STRING_length(ku); i++)
			any |= ASN1_STRING_get0_data(ku)[i];
		if (!any) {
			rc = cm_err(ctx, CM_ERR_POLICY, "certificate: "
			    "keyUsage has no bits set (RFC 5280 4.2.1.3)");
			goto out;
		}
		if (is_ca && !ASN1_BIT_STRING_get_bit(ku,
		    KU_BIT_KEY_CERT_SIGN)) {
			rc = cm_err(ctx, CM_ERR_POLICY, "certificate: CA "
			    "without keyCertSign in keyUsage (RFC 5280 "
			    "4.2.1.3)");
			goto out;
		}
		if (!is_ca && ASN1_BIT_STRING_get_bit(ku,
		    KU_BIT_KEY_CERT_SIGN)) {
			rc = cm_err(ctx, CM_ERR_POLICY, "certificate: "
			    "keyCertSign without basicConstraints cA (RFC "
			    "5280 4.2.1.3)");
			goto out;
		}
	}
	rc = 0;
out:
	ASN1_BIT_STRING_free(ku);
	BASIC_CONSTRAINTS_free(bc);
	AUTHORITY_KEYID_free(aki);
	return rc;
}

/*
 * Check a certificate against the profile of RFC 5280 section 4.  The
 * engine calls this on every certificate it signs, before storing it.
 * Returns 0, or CM_ERR_POLICY with a message naming the first rule broken.
 * Borrows x.
 */
int
lint_cert(struct cm_ctx *ctx, X509 *x)
{
	int rc;

	if ((rc = cert_fields(ctx, x)) != 0)
		return rc;
	return cert_exts(ctx, x);
}

/* The fields of the TBSCertList other than extensions and entries. */
static int
crl_fields(struct cm_ctx *ctx, const struct lint_crl_view *v)
{
	const ASN1_TIME *tu = v->this_update, *nu = v->next_update;
	const char *f;

	if (v->version != X509_CRL_VERSION_2)
		return cm_err(ctx, CM_ERR_POLICY, "CRL: version is v%ld, not "
		    "v2 (RFC 5280 5.1.2.1)", v->version + 1);
	if (X509_NAME_entry_count(v->issuer) == 0)
		return cm_err(ctx, CM_ERR_POLICY, "CRL: issuer is an empty "
		    "name (RFC 5280 5.1.2.3)");
	if ((f = time_fault(tu)) != NULL)
		return cm_err(ctx, CM_ERR_POLICY, "CRL: thisUpdate %s (RFC "
		    "5280 5.1.2.4)", f);
	if (nu == NULL)
		return cm_err(ctx, CM_ERR_POLICY, "CRL: no nextUpdate (RFC "
		    "5280 5.1.2.5)");
	if ((f = time_fault(nu)) != NULL)
		return cm_err(ctx, CM_ERR_POLICY, "CRL: nextUpdate %s (RFC "
		    "5280 5.1.2.5)", f);
	if (ASN1_TIME_compare(tu, nu) != -1)
		return cm_err(ctx, CM_ERR_POLICY, "CRL: nextUpdate is not "
		    "later than thisUpdate (RFC 5280 5.1.2.5)");
	return 0;
}

/* The extensions of a CRL. */
static int
crl_exts(struct cm_ctx *ctx, const struct lint_crl_view *v)
{
	const STACK_OF(X509_EXTENSION) *exts = v->exts;
	AUTHORITY_KEYID *aki = NULL;
	ASN1_INTEGER *num = NULL, *base = NULL;
	const char *f;
	int rc = CM_ERR_POLICY, i, crit;

	if ((i = ext_dup(exts)) >= 0) {
		rc = ext_dup_err(ctx, "CRL", "5.2", exts, i);
		goto out;
	}

	aki = X509V3_get_d2i(exts, NID_authority_key_identifier, &crit, NULL);
	if (aki == NULL) {
		rc = cm_err(ctx, CM_ERR_POLICY, "CRL: %s (RFC 5280 5.2.1)",
		    crit >= 0 ? "authorityKeyIdentifier cannot be decoded" :
		    "no authorityKeyIdentifier");
		goto out;
	}
	if (aki->keyid == NULL || ASN1_STRING_length(aki->keyid) == 0) {
		rc = cm_err(ctx, CM_ERR_POLICY, "CRL: authorityKeyIdentifier "
		    "has no keyIdentifier (RFC 5280 5.2.1)");
		goto out;
	}

	num = X509V3_get_d2i(exts, NID_crl_number, &crit, NULL);
	if (num == NULL) {
		rc = cm_err(ctx, CM_ERR_POLICY, "CRL: %s (RFC 5280 5.2.3)",
		    crit >= 0 ? "cRLNumber cannot be decoded" :
		    "no cRLNumber");
		goto out;
	}
	if (crit) {
		rc = cm_err(ctx, CM_ERR_POLICY, "CRL: cRLNumber is critical "
		    "(RFC 5280 5.2.3)");
		goto out;
	}
	if ((f = integer_fault(num, 1)) != NULL) {
		rc = cm_err(ctx, CM_ERR_POLICY, "CRL: cRLNumber %s (RFC 5280 "
		    "5.2.3)", f);
		goto out;
	}

	base = X509V3_get_d2i(exts, NID_delta_crl, &crit, NULL);
	if (base == NULL && crit >= 0) {
		rc = cm_err(ctx, CM_ERR_POLICY, "CRL: deltaCRLIndicator "
		    "cannot be decoded (RFC 5280 5.2.4)");
		goto out;
	}
	if (base != NULL && !crit) {
		rc = cm_err(ctx, CM_ERR_POLICY, "CRL: deltaCRLIndicator is "
		    "not critical (RFC 5280 5.2.4)");
		goto out;
	}
	if (base != NULL && (f = integer_fault(base, 1)) != NULL) {
		rc = cm_err(ctx, CM_ERR_POLICY, "CRL: BaseCRLNumber %s (RFC "
		    "5280 5.2.4)", f);
		goto out;
	}

	if (ext_find(exts, NID_issuing_distribution_point, &crit) && !crit) {
		rc = cm_err(ctx, CM_ERR_POLICY, "CRL: "
		    "issuingDistributionPoint is not critical (RFC 5280 "
		    "5.2.5)");
		goto out;
	}
	rc = 0;
out:
	ASN1_INTEGER_free(base);
	ASN1_INTEGER_free(num);
	AUTHORITY_KEYID_free(aki);
	return rc;
}

/* The revoked certificates: a plain loop, as a CRL may list millions. */
static int
crl_entries(struct cm_ctx *ctx, const struct lint_crl_view *v)
{
	const ASN1_INTEGER *sn;
	const ASN1_TIME *date;
	const char *f;
	char hex[2 * MAX_SERIAL_OCTETS + 3];
	int i;

	for (i = 0; i < v->nentries; i++) {
		v->entry(v->arg, i, &sn, &date);
		if ((f = integer_fault(sn, 0)) != NULL)
			return cm_err(ctx, CM_ERR_POLICY, "CRL: entry %d: "
			    "serial number %s (RFC 5280 5.1.2.6)", i + 1, f);
		if ((f = time_fault(date)) != NULL) {
			x509_serial_hex(sn, hex, sizeof(hex));
			return cm_err(ctx, CM_ERR_POLICY, "CRL: entry %d "
			    "(serial %s): revocationDate %s (RFC 5280 "
			    "5.1.2.6)", i + 1, hex, f);
		}
	}
	return 0;
}

/*
 * Check the parts of a CRL against the profile of RFC 5280 section 5; the
 * engine calls this on every CRL it signs, before storing it.  Returns 0,
 * or CM_ERR_POLICY with a message naming the first rule broken.
 */
int
lint_crl_view(struct cm_ctx *ctx, const struct lint_crl_view *v)
{
	int rc;

	if ((rc = crl_fields(ctx, v)) != 0)
		return rc;
	if ((rc = crl_exts(ctx, v)) != 0)
		return rc;
	return crl_entries(ctx, v);
}

static void
x509_crl_entry(void *arg, int i, const ASN1_INTEGER **sn,
    const ASN1_TIME **date)
{
	const X509_REVOKED *r;

	r = sk_X509_REVOKED_value(X509_CRL_get_REVOKED(arg), i);
	*sn = X509_REVOKED_get0_serialNumber(r);
	*date = X509_REVOKED_get0_revocationDate(r);
}

/*
 * Check an X509_CRL as lint_crl_view().  OpenSSL 3.0 has no getter for the
 * signature field of the TBSCertList, so it is not compared with
 * signatureAlgorithm.  Borrows crl.
 */
int
lint_crl(struct cm_ctx *ctx, X509_CRL *crl)
{
	struct lint_crl_view v;

	v.version = X509_CRL_get_version(crl);
	v.issuer = X509_CRL_get_issuer(crl);
	v.this_update = X509_CRL_get0_lastUpdate(crl);
	v.next_update = X509_CRL_get0_nextUpdate(crl);
	v.exts = X509_CRL_get0_extensions(crl);
	v.nentries = sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl));
	v.entry = x509_crl_entry;
	v.arg = crl;
	return lint_crl_view(ctx, &v);
}

/*
 * Decode a DER certificate and lint it.  Returns 0, CM_ERR_INVAL when der
 * is not exactly one certificate, or CM_ERR_POLICY as lint_cert().  der
 * stays the caller's.
 */
int
cm_lint_cert_der(struct cm_ctx *ctx, const unsigned char *der, size_t len)
{
	const unsigned char *p = der;
	X509 *x = NULL;
	int rc;

	if (der == NULL || len == 0 || len > LONG_MAX ||
	    (x = d2i_X509(NULL, &p, (long)len)) == NULL) {
		rc = cm_err_ssl(ctx, CM_ERR_INVAL, "not a DER certificate");
		goto out;
	}
	if (p != der + len) {
		rc = cm_err(ctx, CM_ERR_INVAL, "not a DER certificate: %zu "
		    "bytes after its end", (size_t)(der + len - p));
		goto out;
	}
	rc = lint_cert(ctx, x);
out:
	X509_free(x);
	return rc;
}

/*
 * Decode a DER CRL and lint it.  Returns 0, CM_ERR_INVAL when der is not
 * exactly one CRL, or CM_ERR_POLICY as lint_crl().  der stays the caller's.
 */
int
cm_lint_crl_der(struct cm_ctx *ctx, const unsigned char *der, size_t len)
{
	const unsigned char *p = der;
	X509_CRL *crl = NULL;
	int rc;

	if (der == NULL || len == 0 || len > LONG_MAX ||
	    (crl = d2i_X509_CRL(NULL, &p, (long)len)) == NULL) {
		rc = cm_err_ssl(ctx, CM_ERR_INVAL, "not a DER CRL");
		goto out;
	}
	if (p != der + len) {
		rc = cm_err(ctx, CM_ERR_INVAL, "not a DER CRL: %zu bytes "
		    "after its end", (size_t)(der + len - p));
		goto out;
	}
	rc = lint_crl(ctx, crl);
out:
	X509_CRL_free(crl);
	return rc;
}
