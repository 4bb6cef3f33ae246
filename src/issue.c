/*
 * issue.c: issuing certificates under a certificate procedure, one request
 * at a time or a batch in one transaction.
 */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "extern.h"

static const char *const ku_names[] = {
	"digitalSignature", "nonRepudiation", "keyEncipherment",
	"dataEncipherment", "keyAgreement", "keyCertSign", "cRLSign", NULL
};

/*
 * Whether a comma list of allowed key types (rsa:MIN, ec:p256, ...) allows
 * a key of type (with bits for RSA).  *min is set to the smallest RSA size
 * the list asks for when it refuses an RSA key.  Returns 1, 0 or NOMEM.
 */
int
issue_key_allowed(const char *list, const char *type, int bits, long *min)
{
	char **v = NULL;
	size_t n = 0, i;
	long need;
	int ok = 0;

	*min = 0;
	if (cm_split(list, ',', &v, &n) != 0)
		return CM_ERR_NOMEM;
	for (i = 0; i < n && !ok; i++) {
		if (strncmp(v[i], "rsa:", 4) == 0 && strncmp(type, "rsa:", 4)
		    == 0) {
			need = strtol(v[i] + 4, NULL, 10);
			if (bits >= need)
				ok = 1;
			else if (*min == 0 || need < *min)
				*min = need;
		} else if (strcmp(v[i], type) == 0)
			ok = 1;
	}
	cm_split_free(v, n);
	return ok;
}

/*
 * Check that the request's key is one the procedure allows and that it
 * carries no challengePassword unless the procedure allows one.
 */
int
issue_check(struct cm_ctx *ctx, const struct procedure *p,
    const struct csr *c, const char *name)
{
	EVP_PKEY *pkey = csr_get0_pkey(c);
	const char *type = csr_key_type(c);
	long min = 0;
	int ok;

	if ((ok = issue_key_allowed(p->allow_keys, type,
	    EVP_PKEY_get_bits(pkey), &min)) < 0)
		return ok;
	if (!ok && min != 0)
		return cm_err(ctx, CM_ERR_POLICY, "%s: RSA key of %d bits is "
		    "below the %ld that certificate procedure \"%s\" requires",
		    name, EVP_PKEY_get_bits(pkey), min, p->name);
	if (!ok)
		return cm_err(ctx, CM_ERR_POLICY, "%s: %s key is not allowed by "
		    "certificate procedure \"%s\" (allowed: %s)", name, type,
		    p->name, p->allow_keys);
	if (X509at_get_attr_by_NID(csr_get0_attributes(c),
	    NID_pkcs9_challengePassword, -1) >= 0 && !p->challenge_ok)
		return cm_err(ctx, CM_ERR_POLICY, "%s: the request carries a "
		    "challengePassword attribute, which certificate procedure "
		    "\"%s\" does not allow", name, p->name);
	return 0;
}

/*
 * Whether the procedure's CA may sign now.  The CA and its key were checked
 * before the write lock was taken, and a revocation may have committed
 * since: callers ask again inside the transaction, before issue_sign().
 */
int
issue_ca_usable(struct cm_ctx *ctx, const struct procedure *p)
{
	int64_t ok;
	int rc;

	rc = store_int(ctx, &ok, "SELECT c.id FROM cas c JOIN keys k ON k.id = "
	    "c.key_id WHERE c.id = ? AND c.state = 'active' AND k.state = "
	    "'in use' AND c.not_after > ?", "ii", p->ca_id,
	    (int64_t)time(NULL));
	if (rc == CM_ERR_NOTFOUND)
		return cm_err(ctx, CM_ERR_POLICY, "certificate procedure \"%s\" "
		    "cannot be used: CA \"%s\" is no longer active, its key is "
		    "not in use, or it has expired", p->name, p->ca_name);
	if (rc != 0)
		return rc;
	/* Another process may have changed the policy since p was read. */
	if ((rc = change_latest(ctx, &ok)) != 0)
		return rc;
	if (ok != p->policy)	/* procedure_get() reads it again */
		return cm_err(ctx, CM_ERR_BUSY, "certificate procedure \"%s\": "
		    "the policy changed while the request was checked; issue "
		    "again", p->name);
	return 0;
}

/* Whether s is a host name (RFC 1123 labels, '*' as a whole first label). */
static int
hostname_valid(const char *s, size_t len)
{
	size_t i, label = 0;

	if (len == 0 || len > 253)
		return 0;
	for (i = 0; i < len; i++) {
		if (s[i] == '.') {
			/* No empty label, none ending in a hyphen. */
			if (label == 0 || s[i - 1] == '-')
				return 0;
			label = 0;
			continue;
		}
		if (s[i] == '*') {
			if (i != 0 || len < 3 || s[1] != '.')
				return 0;
		} else if (!isalnum((unsigned char)s[i]) &&
		    (s[i] != '-' || label == 0))
			return 0;
		if (++label > 63)
			return 0;
	}
	return label > 0 && s[len - 1] != '-';
}

/* Untrusted bytes for a message: anything not printable ASCII as \xNN. */
static void
printable(char *buf, size_t size, const unsigned char *p, int len)
{
	size_t o = 0;
	int i;

	for (i = 0; i < len && o + 5 < size; i++) {
		if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\')
			buf[o++] = (char)p[i];
		else
			o += (size_t)snprintf(buf + o, size - o, "\\x%02X", p[i]);
	}
	buf[o] = '\0';
}

static int
gens_add(GENERAL_NAMES *gens, int type, const char *value)
{
	GENERAL_NAME *gen;
	ASN1_IA5STRING *ia5;
	ASN1_OCTET_STRING *ip;

	if ((gen = GENERAL_NAME_new()) == NULL)
		return CM_ERR_NOMEM;
	if (type == GEN_IPADD) {
		if ((ip = a2i_IPADDRESS(value)) == NULL) {
			GENERAL_NAME_free(gen);
			return CM_ERR_INVAL;
		}
		GENERAL_NAME_set0_value(gen, GEN_IPADD, ip);
	} else {
		if ((ia5 = ASN1_IA5STRING_new()) == NULL ||
		    !ASN1_STRING_set(ia5, value, -1)) {
			ASN1_IA5STRING_free(ia5);
			GENERAL_NAME_free(gen);
			return CM_ERR_NOMEM;
		}
		GENERAL_NAME_set0_value(gen, type, ia5);
	}
	if (!sk_GENERAL_NAME_push(gens, gen)) {
		GENERAL_NAME_free(gen);
		return CM_ERR_NOMEM;
	}
	return 0;
}

static int
gens_has(const GENERAL_NAMES *gens, int type)
{
	int i;

	for (i = 0; i < sk_GENERAL_NAME_num(gens); i++)
		if (sk_GENERAL_NAME_value(gens, i)->type == type)
			return 1;
	return 0;
}

/* Add a host name or address from a subject attribute, when it is one. */
static int
gens_add_host(GENERAL_NAMES *gens, const ASN1_STRING *s, int want_ip)
{
	unsigned char *u = NULL;
	ASN1_OCTET_STRING *ip;
	int len, rc = 0;

	if ((len = ASN1_STRING_to_UTF8(&u, s)) < 0)
		return 0;
	if ((size_t)len != strlen((char *)u))
		goto out;
	if ((ip = a2i_IPADDRESS((char *)u)) != NULL) {
		ASN1_OCTET_STRING_free(ip);
		rc = gens_add(gens, GEN_IPADD, (char *)u);
	} else if (!want_ip && hostname_valid((char *)u, (size_t)len))
		rc = gens_add(gens, GEN_DNS, (char *)u);
out:
	OPENSSL_free(u);
	return rc;
}

static int
attr_hosts(const struct csr *c, X509_NAME *subj, GENERAL_NAMES *gens, int nid,
    int want_ip)
{
	const STACK_OF(X509_ATTRIBUTE) *attrs = csr_get0_attributes(c);
	X509_ATTRIBUTE *attr;
	ASN1_TYPE *t;
	int i, j, rc;

	for (i = -1; (i = X509_NAME_get_index_by_NID(subj, nid, i)) >= 0;)
		if ((rc = gens_add_host(gens, X509_NAME_ENTRY_get_data(
		    X509_NAME_get_entry(subj, i)), want_ip)) != 0)
			return rc;
	if ((i = X509at_get_attr_by_NID(attrs, nid, -1)) < 0)
		return 0;
	attr = X509at_get_attr(attrs, i);
	for (j = 0; j < X509_ATTRIBUTE_count(attr); j++) {
		t = X509_ATTRIBUTE_get0_type(attr, j);
		if (t != NULL && (t->type == V_ASN1_PRINTABLESTRING ||
		    t->type == V_ASN1_IA5STRING || t->type == V_ASN1_UTF8STRING)
		    && (rc = gens_add_host(gens, t->value.asn1_string,
		    want_ip)) != 0)
			return rc;
	}
	return 0;
}

/*
 * The subjectAltName of the new certificate: the request's, the ones given
 * with --san, and what the format's rules copy from the subject.  May add a
 * commonName to subj.  Returns 0 and *out (caller frees) or a CM_ERR_*.
 */
static int
san_build(struct cm_ctx *ctx, const struct procedure *p, const struct csr *c,
    const struct cm_issue_req *req, X509_NAME *subj, GENERAL_NAMES **out)
{
	STACK_OF(X509_EXTENSION) *exts = NULL;
	GENERAL_NAMES *gens = NULL, *extra = NULL;
	GENERAL_NAME *gen;
	X509_EXTENSION *ext = NULL;
	const char *name = req->csr_name;
	int i, rc = 0, rule = format_san_rule(p->fmt);
	char buf[300];

	*out = NULL;
	exts = csr_extensions(c);
	gens = X509V3_get_d2i(exts, NID_subject_alt_name, NULL, NULL);
	if (gens == NULL && (gens = GENERAL_NAMES_new()) == NULL) {
		rc = CM_ERR_NOMEM;
		goto out;
	}
	if (req->san != NULL && *req->san != '\0') {
		ext = X509V3_EXT_nconf_nid(NULL, NULL, NID_subject_alt_name,
		    req->san);
		if (ext == NULL || (extra = X509V3_EXT_d2i(ext)) == NULL) {
			rc = cm_err_ssl(ctx, CM_ERR_INVAL, "subject alternative "
			    "name \"%s\": use DNS:name, IP:address, email:addr "
			    "or URI:uri, separated by commas", req->san);
			goto out;
		}
		while ((gen = sk_GENERAL_NAME_shift(extra)) != NULL)
			if (!sk_GENERAL_NAME_push(gens, gen)) {
				GENERAL_NAME_free(gen);
				rc = CM_ERR_NOMEM;
				goto out;
			}
	}
	for (i = 0; i < sk_GENERAL_NAME_num(gens); i++) {
		gen = sk_GENERAL_NAME_value(gens, i);
		if (gen->type == GEN_DNS &&
		    !hostname_valid((const char *)ASN1_STRING_get0_data(
		    gen->d.dNSName), (size_t)ASN1_STRING_length(
		    gen->d.dNSName))) {
			printable(buf, sizeof(buf),
			    ASN1_STRING_get0_data(gen->d.dNSName),
			    ASN1_STRING_length(gen->d.dNSName));
			rc = cm_err(ctx, CM_ERR_POLICY, "%s: dNSName \"%s\" is "
			    "not a host name (RFC 5280 4.2.1.6)", name, buf);
			goto out;
		}
		if (gen->type != GEN_DNS && gen->type != GEN_IPADD &&
		    gen->type != GEN_EMAIL && gen->type != GEN_URI) {
			rc = cm_err(ctx, CM_ERR_POLICY, "%s: only DNS, IP, email "
			    "and URI subject alternative names are issued",
			    name);
			goto out;
		}
	}
	if (rule == SAN_RULE_HOST && !gens_has(gens, GEN_DNS) &&
	    !gens_has(gens, GEN_IPADD)) {
		if ((rc = attr_hosts(c, subj, gens, NID_commonName, 0)) != 0 ||
		    (rc = attr_hosts(c, subj, gens,
		    NID_pkcs9_unstructuredName, 0)) != 0 ||
		    (rc = attr_hosts(c, subj, gens,
		    NID_pkcs9_unstructuredAddress, 1)) != 0)
			goto out;
		if (!gens_has(gens, GEN_DNS) && !gens_has(gens, GEN_IPADD)) {
			rc = cm_err(ctx, CM_ERR_POLICY, "%s: certificate "
			    "procedure \"%s\" (format %s) needs a dNSName or "
			    "iPAddress, and the request has none, nor a host "
			    "name in its commonName", name, p->name,
			    p->fmt == format_find("server") ? "server" :
			    "estenroll");
			goto out;
		}
	}
	if (rule == SAN_RULE_HOST &&
	    X509_NAME_get_index_by_NID(subj, NID_commonName, -1) < 0) {
		for (i = 0; i < sk_GENERAL_NAME_num(gens); i++) {
			gen = sk_GENERAL_NAME_value(gens, i);
			if (gen->type != GEN_DNS)
				continue;
			if (!X509_NAME_add_entry_by_NID(subj, NID_commonName,
			    MBSTRING_ASC, (unsigned char *)ASN1_STRING_get0_data(
			    gen->d.dNSName), ASN1_STRING_length(gen->d.dNSName),
			    -1, 0)) {
				rc = cm_err_ssl(ctx, CM_ERR_INVAL, "%s: "
				    "commonName from dNSName", name);
				goto out;
			}
			break;
		}
	}
	if (rule == SAN_RULE_EMAIL && !gens_has(gens, GEN_EMAIL)) {
		for (i = -1; (i = X509_NAME_get_index_by_NID(subj,
		    NID_pkcs9_emailAddress, i)) >= 0;) {
			const ASN1_STRING *e = X509_NAME_ENTRY_get_data(
			    X509_NAME_get_entry(subj, i));

			snprintf(buf, sizeof(buf), "%.*s", ASN1_STRING_length(e),
			    ASN1_STRING_get0_data(e));
			if ((rc = gens_add(gens, GEN_EMAIL, buf)) != 0)
				goto out;
		}
		if (!gens_has(gens, GEN_EMAIL)) {
			rc = cm_err(ctx, CM_ERR_POLICY, "%s: certificate "
			    "procedure \"%s\" (format email) needs an rfc822Name "
			    "(--san email:ADDRESS or an emailAddress in the "
			    "subject)", name, p->name);
			goto out;
		}
	}
	*out = gens;
	gens = NULL;
out:
	ERR_clear_error();
	X509_EXTENSION_free(ext);
	GENERAL_NAMES_free(extra);
	GENERAL_NAMES_free(gens);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	return rc;
}

/* The keyUsage bits of the procedure that fit the subject key's type. */
static int
ku_add(struct cm_ctx *ctx, const struct procedure *p, X509 *x,
    const struct csr *c, const char *name)
{
	EVP_PKEY *pkey = csr_get0_pkey(c);
	ASN1_BIT_STRING *bs;
	int i, n = 0, rsa, ed, ok;

	if (*p->ku == '\0')
		return 0;
	rsa = EVP_PKEY_is_a(pkey, "RSA");
	ed = EVP_PKEY_is_a(pkey, "ED25519") || EVP_PKEY_is_a(pkey, "ED448");
	if ((bs = ASN1_BIT_STRING_new()) == NULL)
		return CM_ERR_NOMEM;
	for (i = 0; ku_names[i] != NULL; i++) {
		if (!cm_list_has(p->ku, ku_names[i]))
			continue;
		/* RFC 5480 3, RFC 8410 5: what EC and EdDSA keys cannot do. */
		if (!rsa && (i == 2 || i == 3))
			continue;
		if ((rsa || ed) && i == 4)
			continue;
		if (!ASN1_BIT_STRING_set_bit(bs, i, 1)) {
			ASN1_BIT_STRING_free(bs);
			return CM_ERR_NOMEM;
		}
		n++;
	}
	if (n == 0) {
		ASN1_BIT_STRING_free(bs);
		return cm_err(ctx, CM_ERR_POLICY, "%s: none of the key usages of "
		    "certificate procedure \"%s\" (%s) fits the request's key "
		    "type", name, p->name, p->ku);
	}
	ok = X509_add1_ext_i2d(x, NID_key_usage, bs, 1, X509V3_ADD_DEFAULT);
	ASN1_BIT_STRING_free(bs);
	return ok == 1 ? 0 : cm_err_ssl(ctx, CM_ERR_CRYPTO, "keyUsage");
}

static int
ski_add(struct cm_ctx *ctx, X509 *x)
{
	ASN1_OCTET_STRING *os;
	unsigned char id[20];
	int ok;

	if (x509_keyid(X509_get_X509_PUBKEY(x), id, NULL) != 0)
		return cm_err_ssl(ctx, CM_ERR_CRYPTO, "subjectKeyIdentifier");
	if ((os = ASN1_OCTET_STRING_new()) == NULL ||
	    !ASN1_OCTET_STRING_set(os, id, sizeof(id))) {
		ASN1_OCTET_STRING_free(os);
		return CM_ERR_NOMEM;
	}
	ok = X509_add1_ext_i2d(x, NID_subject_key_identifier, os, 0,
	    X509V3_ADD_DEFAULT);
	ASN1_OCTET_STRING_free(os);
	return ok == 1 ? 0 : cm_err_ssl(ctx, CM_ERR_CRYPTO,
	    "subjectKeyIdentifier");
}

/*
 * Build, sign, lint and record one certificate inside the current
 * transaction.  On success out holds the serial and the encoded
 * certificate (PEM with the procedure's chain, or DER).
 */
int
issue_sign(struct cm_ctx *ctx, struct procedure *p, struct csr *c,
    const struct cm_issue_req *req, struct cm_issued *out)
{
	X509 *x = NULL;
	X509_NAME *subj = NULL;
	GENERAL_NAMES *gens = NULL;
	ASN1_INTEGER *sn = NULL;
	unsigned char *der = NULL, *pem = NULL;
	size_t pemlen = 0;
	char serial[41], *subject = NULL;
	time_t now = time(NULL), end;
	int i, len, rc;

	memset(out, 0, sizeof(*out));
	if (req->subject != NULL) {
		if ((rc = dn_parse(ctx, req->subject, &subj)) != 0)
			goto out;
	} else if ((subj = X509_NAME_dup(csr_get0_subject(c))) == NULL) {
		rc = CM_ERR_NOMEM;
		goto out;
	}
	if ((rc = san_build(ctx, p, c, req, subj, &gens)) != 0)
		goto out;
	if (X509_NAME_entry_count(subj) == 0 && sk_GENERAL_NAME_num(gens) ==
	    0) {
		rc = cm_err(ctx, CM_ERR_POLICY, "%s: the subject is empty and "
		    "there is no subject alternative name (RFC 5280 4.1.2.6)",
		    req->csr_name);
		goto out;
	}
	if ((rc = cm_duration_parse(ctx, "validity", p->validity, now, &end))
	    != 0)
		goto out;
	if (end > p->ca_not_after)
		end = p->ca_not_after;
	if ((rc = x509_serial_new(ctx, &sn, serial)) != 0)
		goto out;
	rc = CM_ERR_CRYPTO;
	if ((x = X509_new()) == NULL || !X509_set_version(x, X509_VERSION_3) ||
	    !X509_set_serialNumber(x, sn) || !X509_set_subject_name(x, subj) ||
	    !X509_set_issuer_name(x, X509_get_subject_name(p->ca_cert)) ||
	    !x509_set_time(X509_getm_notBefore(x), now) ||
	    !x509_set_time(X509_getm_notAfter(x), end) ||
	    !csr_copy_pubkey(c, x)) {
		cm_err_ssl(ctx, rc, "%s: building the certificate",
		    req->csr_name);
		goto out;
	}
	if ((rc = ku_add(ctx, p, x, c, req->csr_name)) != 0 ||
	    (rc = ski_add(ctx, x)) != 0)
		goto out;
	for (i = 0; i < sk_X509_EXTENSION_num(p->exts); i++)
		if (!X509_add_ext(x, sk_X509_EXTENSION_value(p->exts, i), -1)) {
			rc = cm_err_ssl(ctx, CM_ERR_CRYPTO, "extensions");
			goto out;
		}
	if (sk_GENERAL_NAME_num(gens) > 0 &&
	    X509_add1_ext_i2d(x, NID_subject_alt_name, gens,
	    X509_NAME_entry_count(subj) == 0, X509V3_ADD_DEFAULT) != 1) {
		rc = cm_err_ssl(ctx, CM_ERR_CRYPTO, "subjectAltName");
		goto out;
	}
	{
		struct signer *s;

		if ((rc = signer_get(ctx, p->key_id, &s)) != 0 ||
		    (rc = signer_sign_cert(ctx, s, x, p->digest)) != 0)
			goto out;
	}
	if ((rc = lint_cert(ctx, x)) != 0) {
		cm_err_prefix(ctx, req->csr_name);
		goto out;
	}
	if ((len = i2d_X509(x, &der)) <= 0 ||
	    (subject = dn_format(subj)) == NULL) {
		rc = cm_err_ssl(ctx, CM_ERR_CRYPTO, "DER encoding");
		goto out;
	}
	rc = store_exec(ctx, "INSERT INTO certs (ca_id, serial, subject, "
	    "procedure_id, not_before, not_after, issued, status, der) VALUES "
	    "(?, ?, ?, ?, ?, ?, ?, 'valid', ?)", "itt" "iii" "i" "b", p->ca_id,
	    serial, subject, p->id, (int64_t)now, (int64_t)end, (int64_t)now,
	    der, (size_t)len);
	/* Its publications commit with it. */
	if (rc != 0 || (rc = dist_enqueue_cert(ctx, p->ca_id, p->id,
	    store_last_id(ctx), serial)) != 0)
		goto out;
	if (req->der) {
		if ((rc = x509_append(&out->data, &out->len, der, (size_t)len))
		    != 0)
			goto out;
	} else {
		if ((rc = cm_pem_encode(ctx, "CERTIFICATE", der, (size_t)len,
		    &pem, &pemlen)) != 0 ||
		    (rc = x509_append(&out->data, &out->len, pem, pemlen)) != 0 ||
		    (p->chain_pem != NULL && (rc = x509_append(&out->data,
		    &out->len, p->chain_pem, p->chain_len)) != 0))
			goto out;
	}
	snprintf(out->serial, sizeof(out->serial), "%s", serial);
out:
	if (rc != 0)
		cm_issued_clear(out);
	free(pem);
	free(subject);
	OPENSSL_free(der);
	ASN1_INTEGER_free(sn);
	GENERAL_NAMES_free(gens);
	X509_NAME_free(subj);
	X509_free(x);
	return rc;
}

/* Free what an issuance handed out and clear it. */
void
cm_issued_clear(struct cm_issued *is)
{
	if (is == NULL)
		return;
	free(is->data);
	memset(is, 0, sizeof(*is));
}

static int
issue_prepare(struct cm_ctx *ctx, const char *procedure,
    struct procedure **p)
{
	struct signer *s;
	int rc;

	if (procedure == NULL)
		return cm_err(ctx, CM_ERR_INVAL, "a certificate procedure is "
		    "required");
	if ((rc = procedure_get(ctx, procedure, p)) != 0)
		return rc;
	/* Ask for the passphrase before the write lock is taken. */
	return signer_get(ctx, (*p)->key_id, &s);
}

/*
 * Issue one certificate.  Returns 0 with *out filled (clear it with
 * cm_issued_clear) or a CM_ERR_* naming the request and the rule; a refusal
 * is recorded in the audit log.
 */
int
cm_cert_issue(struct cm_ctx *ctx, const struct cm_issue_req *req,
    struct cm_issued *out)
{
	struct procedure *p = NULL;
	struct csr *c = NULL;
	char detail[512];
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = officer_require(ctx, PERM_ISSUE, "issue")) != 0 ||
	    (rc = issue_prepare(ctx, req->procedure, &p)) != 0 ||
	    (rc = csr_load(ctx, req->csr_name, req->csr, req->csr_len, &c))
	    != 0 ||
	    (rc = issue_check(ctx, p, c, req->csr_name)) != 0)
		goto out;
	if ((rc = txn_begin(ctx)) != 0)
		goto out;
	if ((rc = issue_ca_usable(ctx, p)) == 0)
		rc = issue_sign(ctx, p, c, req, out);
	snprintf(detail, sizeof(detail), "procedure \"%s\", CA \"%s\"",
	    p->name, p->ca_name);
	rc = txn_end(ctx, rc, "cert.issue", out->serial, detail);
	if (rc != 0)
		cm_issued_clear(out);
out:
	csr_free(c);
	return audit_done(ctx, rc, "cert.issue", req->csr_name);
}

/*
 * Issue n certificates in one transaction: every request is checked first,
 * and either all are issued or none.  out has n elements.
 */
int
cm_cert_issue_batch(struct cm_ctx *ctx, const struct cm_issue_req *reqs,
    size_t n, struct cm_issued *out)
{
	struct procedure *p = NULL;
	struct csr **xr = NULL;
	char detail[512];
	const char *object = n > 0 ? reqs[0].procedure : "";
	size_t i;
	int rc;

	for (i = 0; i < n; i++)
		memset(&out[i], 0, sizeof(out[i]));
	if (n == 0)
		return cm_err(ctx, CM_ERR_INVAL, "no requests to issue");
	if ((xr = calloc(n, sizeof(*xr))) == NULL)
		return CM_ERR_NOMEM;
	if ((rc = officer_require(ctx, PERM_ISSUE, "issue")) != 0 ||
	    (rc = issue_prepare(ctx, reqs[0].procedure, &p)) != 0)
		goto out;
	for (i = 0; i < n; i++) {
		if (reqs[i].procedure == NULL ||
		    strcmp(reqs[i].procedure, reqs[0].procedure) != 0) {
			rc = cm_err(ctx, CM_ERR_INVAL, "a batch is issued under "
			    "one certificate procedure");
			goto out;
		}
		if ((rc = csr_load(ctx, reqs[i].csr_name, reqs[i].csr,
		    reqs[i].csr_len, &xr[i])) != 0 ||
		    (rc = issue_check(ctx, p, xr[i], reqs[i].csr_name)) != 0)
			goto out;
	}
	if ((rc = txn_begin(ctx)) != 0)
		goto out;
	snprintf(detail, sizeof(detail), "procedure \"%s\", CA \"%s\"",
	    p->name, p->ca_name);
	rc = issue_ca_usable(ctx, p);	/* once: the lock is held throughout */
	for (i = 0; i < n && rc == 0; i++) {
		rc = issue_sign(ctx, p, xr[i], &reqs[i], &out[i]);
		if (rc == 0)
			rc = audit_append(ctx, "cert.issue", out[i].serial,
			    detail);
	}
	snprintf(detail, sizeof(detail), "%zu certificates under procedure "
	    "\"%s\"", n, p->name);
	rc = txn_end(ctx, rc, "cert.issue-batch", p->name, detail);
	if (rc != 0)
		for (i = 0; i < n; i++)
			cm_issued_clear(&out[i]);
out:
	if (xr != NULL)
		for (i = 0; i < n; i++)
			csr_free(xr[i]);
	free(xr);
	return audit_done(ctx, rc, "cert.issue-batch", object);
}

struct renew_arg {
	int64_t		 id;
	unsigned char	*der;
	size_t		 len;
	char		 procedure[160];
	char		 status[16];
	char		 ca[160];
};

static int
renew_cb(void *arg, const struct cm_cert_info *ci)
{
	struct renew_arg *a = arg;

	if ((a->der = malloc(ci->der_len)) == NULL)
		return CM_ERR_NOMEM;
	a->id = ci->id;
	memcpy(a->der, ci->der, ci->der_len);
	a->len = ci->der_len;
	snprintf(a->procedure, sizeof(a->procedure), "%s", ci->procedure !=
	    NULL ? ci->procedure : "");
	snprintf(a->status, sizeof(a->status), "%s", ci->status);
	snprintf(a->ca, sizeof(a->ca), "%s", ci->ca);
	return 0;
}

/*
 * Renew a certificate with the same key: a new certificate under the same
 * certificate procedure, for the same subject, subjectAltName and public
 * key, with a new serial and validity.  A revoked or held certificate is
 * not renewed.  Returns 0 with *out filled or a CM_ERR_*.
 */
int
cm_cert_renew(struct cm_ctx *ctx, const char *serial, const char *ca,
    int der, struct cm_issued *out)
{
	struct renew_arg a;
	struct procedure *p = NULL;
	struct cm_issue_req req;
	struct csr *c = NULL;
	const unsigned char *q;
	X509 *x = NULL;
	char name[200], detail[512];
	int rc;

	memset(out, 0, sizeof(*out));
	memset(&a, 0, sizeof(a));
	snprintf(name, sizeof(name), "certificate %s", serial != NULL ? serial :
	    "");
	if ((rc = officer_require(ctx, PERM_ISSUE, "renew")) != 0 ||
	    (rc = cm_cert_show(ctx, serial, ca, renew_cb, &a)) != 0)
		goto out;
	if (strcmp(a.status, "valid") != 0 && strcmp(a.status, "expired") !=
	    0) {
		rc = cm_err(ctx, CM_ERR_POLICY, "%s is %s: only a valid or "
		    "expired certificate is renewed", name, a.status);
		goto out;
	}
	if (a.procedure[0] == '\0') {
		rc = cm_err(ctx, CM_ERR_POLICY, "%s was not issued under a "
		    "certificate procedure (a CA or bootstrap certificate): it "
		    "is not renewed", name);
		goto out;
	}
	q = a.der;
	if ((x = d2i_X509(NULL, &q, (long)a.len)) == NULL) {
		rc = cm_err_ssl(ctx, CM_ERR_CRYPTO, "%s: damaged in the CMDB",
		    name);
		goto out;
	}
	memset(&req, 0, sizeof(req));
	req.procedure = a.procedure;
	req.csr_name = name;
	req.der = der;
	if ((rc = issue_prepare(ctx, a.procedure, &p)) != 0 ||
	    (rc = csr_from_cert(ctx, name, x, &c)) != 0 ||
	    (rc = issue_check(ctx, p, c, name)) != 0)
		goto out;
	if ((rc = txn_begin(ctx)) != 0)
		goto out;
	if ((rc = issue_ca_usable(ctx, p)) == 0)
		rc = issue_sign(ctx, p, c, &req, out);
	/* The renewed certificate belongs to the same token and subject. */
	if (rc == 0)
		rc = store_exec(ctx, "UPDATE certs SET token_id = (SELECT "
		    "token_id FROM certs WHERE id = ?1), subject_id = (SELECT "
		    "subject_id FROM certs WHERE id = ?1) WHERE ca_id = ?2 AND "
		    "serial = ?3", "iit", a.id, p->ca_id, out->serial);
	snprintf(detail, sizeof(detail), "renews %s of CA \"%s\" with the same "
	    "key, procedure \"%s\"", serial, a.ca, p->name);
	rc = txn_end(ctx, rc, "cert.renew", out->serial, detail);
	if (rc != 0)
		cm_issued_clear(out);
out:
	X509_free(x);
	free(a.der);
	csr_free(c);
	return audit_done(ctx, rc, "cert.renew", name);
}

/*
 * What issuing this request would put in the certificate: the subject and
 * the subjectAltName, after the procedure's rules, for an RA officer to
 * review.  Nothing is signed or stored.  Returns 0 with *subject and *san
 * (cm_free; *san NULL when none) or the CM_ERR_* issuing would return.
 */
int
cm_cert_preview(struct cm_ctx *ctx, const struct cm_issue_req *req,
    char **subject, char **san)
{
	STACK_OF(CONF_VALUE) *vals = NULL;
	GENERAL_NAMES *gens = NULL;
	struct procedure *p = NULL;
	X509_NAME *subj = NULL;
	CONF_VALUE *v;
	struct csr *c = NULL;
	char *s = NULL, *n;
	size_t len = 0;
	int i, rc;

	*subject = *san = NULL;
	if (req->procedure == NULL)
		return cm_err(ctx, CM_ERR_INVAL, "a certificate procedure is "
		    "required");
	if ((rc = procedure_get(ctx, req->procedure, &p)) != 0 ||
	    (rc = csr_load(ctx, req->csr_name, req->csr, req->csr_len, &c)) !=
	    0 || (rc = issue_check(ctx, p, c, req->csr_name)) != 0)
		goto out;
	if (req->subject != NULL) {
		if ((rc = dn_parse(ctx, req->subject, &subj)) != 0)
			goto out;
	} else if ((subj = X509_NAME_dup(csr_get0_subject(c))) == NULL) {
		rc = CM_ERR_NOMEM;
		goto out;
	}
	if ((rc = san_build(ctx, p, c, req, subj, &gens)) != 0)
		goto out;
	if ((*subject = dn_format(subj)) == NULL) {
		rc = CM_ERR_NOMEM;
		goto out;
	}
	if (sk_GENERAL_NAME_num(gens) > 0 &&
	    (vals = i2v_GENERAL_NAMES(NULL, gens, NULL)) != NULL) {
		for (i = 0; i < sk_CONF_VALUE_num(vals); i++) {
			v = sk_CONF_VALUE_value(vals, i);
			if ((n = realloc(s, len + strlen(v->name) +
			    strlen(v->value) + 4)) == NULL) {
				rc = CM_ERR_NOMEM;
				goto out;
			}
			s = n;
			/* In the syntax of --san: IP, not "IP Address". */
			len += (size_t)sprintf(s + len, "%s%s:%s", len > 0 ?
			    "," : "", strcmp(v->name, "IP Address") == 0 ?
			    "IP" : v->name, v->value);
		}
		*san = s;
		s = NULL;
	}
out:
	if (rc != 0) {
		free(*subject);
		*subject = NULL;
	}
	free(s);
	sk_CONF_VALUE_pop_free(vals, X509V3_conf_free);
	GENERAL_NAMES_free(gens);
	X509_NAME_free(subj);
	csr_free(c);
	return rc;
}
