/*
 * crl.c: certificate revocation lists (RFC 5280 section 5).  Full and
 * delta CRLs share one cRLNumber sequence per CA; a delta CRL lists what
 * changed since the latest full CRL, with removeFromCRL for released holds.
 *
 * A CRL is built with ASN.1 templates of its own rather than X509_CRL: the
 * TBSCertList is encoded once, signed, and wrapped as it was signed, and
 * entries with the same reason share one reasonCode extension.  With
 * X509_CRL every entry copied its extension and the whole list was encoded
 * twice, once to sign and once to store.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/asn1t.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "extern.h"

typedef struct {
	ASN1_INTEGER		*serial;
	ASN1_TIME		*date;
	STACK_OF(X509_EXTENSION) *exts;	/* shared: see crl_free() */
} CM_CRL_ENTRY;

DEFINE_STACK_OF(CM_CRL_ENTRY)

typedef struct {
	ASN1_INTEGER		*version;
	X509_ALGOR		*sig_alg;
	X509_NAME		*issuer;
	ASN1_TIME		*this_update;
	ASN1_TIME		*next_update;
	STACK_OF(CM_CRL_ENTRY)	*entries;
	STACK_OF(X509_EXTENSION) *exts;
} CM_TBS_CRL;

typedef struct {
	ASN1_TYPE		*tbs;		/* the TBSCertList as signed */
	X509_ALGOR		*sig_alg;
	ASN1_BIT_STRING		*signature;
} CM_CRL;

DECLARE_ASN1_FUNCTIONS(CM_CRL_ENTRY)
DECLARE_ASN1_FUNCTIONS(CM_TBS_CRL)
DECLARE_ASN1_FUNCTIONS(CM_CRL)

ASN1_SEQUENCE(CM_CRL_ENTRY) = {
	ASN1_SIMPLE(CM_CRL_ENTRY, serial, ASN1_INTEGER),
	ASN1_SIMPLE(CM_CRL_ENTRY, date, ASN1_TIME),
	ASN1_SEQUENCE_OF_OPT(CM_CRL_ENTRY, exts, X509_EXTENSION)
} ASN1_SEQUENCE_END(CM_CRL_ENTRY)

/* RFC 5280 5.1: TBSCertList. */
ASN1_SEQUENCE(CM_TBS_CRL) = {
	ASN1_OPT(CM_TBS_CRL, version, ASN1_INTEGER),
	ASN1_SIMPLE(CM_TBS_CRL, sig_alg, X509_ALGOR),
	ASN1_SIMPLE(CM_TBS_CRL, issuer, X509_NAME),
	ASN1_SIMPLE(CM_TBS_CRL, this_update, ASN1_TIME),
	ASN1_OPT(CM_TBS_CRL, next_update, ASN1_TIME),
	ASN1_SEQUENCE_OF_OPT(CM_TBS_CRL, entries, CM_CRL_ENTRY),
	ASN1_EXP_SEQUENCE_OF_OPT(CM_TBS_CRL, exts, X509_EXTENSION, 0)
} ASN1_SEQUENCE_END(CM_TBS_CRL)

/*
 * RFC 5280 5.1: CertificateList, with the TBSCertList already encoded;
 * the same SIGNED shape wraps a certificate issuance list.
 */
ASN1_SEQUENCE(CM_CRL) = {
	ASN1_SIMPLE(CM_CRL, tbs, ASN1_ANY),
	ASN1_SIMPLE(CM_CRL, sig_alg, X509_ALGOR),
	ASN1_SIMPLE(CM_CRL, signature, ASN1_BIT_STRING)
} ASN1_SEQUENCE_END(CM_CRL)

/*
 * A certificate issuance list (CIL): the serial numbers of the
 * certificates a CA issued that are still valid (not revoked, not on
 * hold, not expired), in ascending order, signed by the CA, so that an
 * OCSP responder can answer "unknown" for what the CA never issued.
 *
 *   CertificateIssuanceList ::= SEQUENCE {
 *       tbsList              TBSCertificateIssuanceList,
 *       signatureAlgorithm   AlgorithmIdentifier,
 *       signatureValue       BIT STRING }
 *
 *   TBSCertificateIssuanceList ::= SEQUENCE {
 *       version              INTEGER,             -- v1(0)
 *       signature            AlgorithmIdentifier, -- = signatureAlgorithm
 *       issuer               Name,
 *       issuerKeyIdentifier  OCTET STRING,        -- the CA's key identifier
 *       listNumber           INTEGER,
 *       thisUpdate           Time,
 *       nextUpdate           Time,
 *       serialNumbers        SEQUENCE OF CertificateSerialNumber }
 */
typedef struct {
	ASN1_INTEGER		*version;
	X509_ALGOR		*sig_alg;
	X509_NAME		*issuer;
	ASN1_OCTET_STRING	*key_id;
	ASN1_INTEGER		*number;
	ASN1_TIME		*this_update;
	ASN1_TIME		*next_update;
	STACK_OF(ASN1_INTEGER)	*serials;
} CM_TBS_CIL;

DECLARE_ASN1_FUNCTIONS(CM_TBS_CIL)

ASN1_SEQUENCE(CM_TBS_CIL) = {
	ASN1_SIMPLE(CM_TBS_CIL, version, ASN1_INTEGER),
	ASN1_SIMPLE(CM_TBS_CIL, sig_alg, X509_ALGOR),
	ASN1_SIMPLE(CM_TBS_CIL, issuer, X509_NAME),
	ASN1_SIMPLE(CM_TBS_CIL, key_id, ASN1_OCTET_STRING),
	ASN1_SIMPLE(CM_TBS_CIL, number, ASN1_INTEGER),
	ASN1_SIMPLE(CM_TBS_CIL, this_update, ASN1_TIME),
	ASN1_SIMPLE(CM_TBS_CIL, next_update, ASN1_TIME),
	ASN1_SEQUENCE_OF(CM_TBS_CIL, serials, ASN1_INTEGER)
} ASN1_SEQUENCE_END(CM_TBS_CIL)

IMPLEMENT_ASN1_FUNCTIONS(CM_CRL_ENTRY)
IMPLEMENT_ASN1_FUNCTIONS(CM_TBS_CRL)
IMPLEMENT_ASN1_FUNCTIONS(CM_CRL)
IMPLEMENT_ASN1_FUNCTIONS(CM_TBS_CIL)

struct crl_build {
	struct cm_ctx		*ctx;
	CM_TBS_CRL		*tbs;
	STACK_OF(X509_EXTENSION) *reason[11];	/* reasonCode, by value */
	int64_t			 entries;
	int			 remove;	/* entries are removeFromCRL */
	int			 rc;
};

/* Free a TBSCertList whose entries share their extension stacks. */
static void
crl_free(struct crl_build *b)
{
	CM_CRL_ENTRY *e;
	int i, n;

	if (b->tbs != NULL && b->tbs->entries != NULL) {
		n = sk_CM_CRL_ENTRY_num(b->tbs->entries);
		for (i = 0; i < n; i++) {
			e = sk_CM_CRL_ENTRY_value(b->tbs->entries, i);
			e->exts = NULL;
		}
	}
	CM_TBS_CRL_free(b->tbs);
	b->tbs = NULL;
	for (i = 0; i < 11; i++)
		sk_X509_EXTENSION_pop_free(b->reason[i], X509_EXTENSION_free);
}

static int
reason_exts(struct crl_build *b, int reason, STACK_OF(X509_EXTENSION) **out)
{
	ASN1_ENUMERATED *e;
	X509_EXTENSION *ext;

	*out = NULL;
	if (reason < 0 || reason > 10)
		return cm_err(b->ctx, CM_ERR_DB, "bad reason %d in the CMDB",
		    reason);
	if (b->reason[reason] == NULL) {
		if ((e = ASN1_ENUMERATED_new()) == NULL ||
		    !ASN1_ENUMERATED_set(e, reason)) {
			ASN1_ENUMERATED_free(e);
			return CM_ERR_NOMEM;
		}
		ext = X509V3_EXT_i2d(NID_crl_reason, 0, e);
		ASN1_ENUMERATED_free(e);
		if (ext == NULL)
			return cm_err_ssl(b->ctx, CM_ERR_CRYPTO, "reasonCode");
		if ((b->reason[reason] = sk_X509_EXTENSION_new_null()) == NULL ||
		    !sk_X509_EXTENSION_push(b->reason[reason], ext)) {
			X509_EXTENSION_free(ext);
			return CM_ERR_NOMEM;
		}
	}
	*out = b->reason[reason];
	return 0;
}

static int
entry_cb(void *arg, struct store_row *row)
{
	struct crl_build *b = arg;
	CM_CRL_ENTRY *e;
	const unsigned char *p;
	size_t len;
	int reason = b->remove ? CM_REASON_REMOVE_FROM_CRL :
	    (int)store_row_int(row, 2);

	p = store_row_blob(row, 0, &len);
	/*
	 * The blob is the magnitude; a leading zero octet would make the
	 * INTEGER encoding not minimal (X.690 8.3.2).
	 */
	while (p != NULL && len > 1 && p[0] == 0) {
		p++;
		len--;
	}
	if (p == NULL || len == 0 || len > 20 || (len == 1 && p[0] == 0)) {
		b->rc = cm_err(b->ctx, CM_ERR_DB, "a revoked serial in the CMDB "
		    "is not a positive integer of at most 20 octets");
		return b->rc;
	}
	if ((e = CM_CRL_ENTRY_new()) == NULL) {
		b->rc = CM_ERR_NOMEM;
		return b->rc;
	}
	ASN1_TIME_free(e->date);
	if (!ASN1_STRING_set(e->serial, p, (int)len) ||
	    (e->date = x509_time_new((time_t)store_row_int(row, 1))) == NULL ||
	    !sk_CM_CRL_ENTRY_push(b->tbs->entries, e)) {
		CM_CRL_ENTRY_free(e);
		b->rc = CM_ERR_NOMEM;
		return b->rc;
	}
	if (reason != CM_REASON_UNSPECIFIED &&
	    (b->rc = reason_exts(b, reason, &e->exts)) != 0)
		return b->rc;
	b->entries++;
	return 0;
}

static void
view_entry(void *arg, int i, const ASN1_INTEGER **sn, const ASN1_TIME **date)
{
	const CM_CRL_ENTRY *e = sk_CM_CRL_ENTRY_value(arg, i);

	*sn = e->serial;
	*date = e->date;
}

/* Check the TBSCertList against RFC 5280 before it is signed. */
static int
crl_lint(struct cm_ctx *ctx, const CM_TBS_CRL *t)
{
	struct lint_crl_view v;

	v.version = ASN1_INTEGER_get(t->version);
	v.issuer = t->issuer;
	v.this_update = t->this_update;
	v.next_update = t->next_update;
	v.exts = t->exts;
	v.nentries = sk_CM_CRL_ENTRY_num(t->entries);
	v.entry = view_entry;
	v.arg = t->entries;
	return lint_crl_view(ctx, &v);
}

/*
 * Sign an encoded to-be-signed list t (taken) and wrap it with alg as a
 * SIGNED sequence.  Returns 0 and the DER in *der (caller frees with
 * OPENSSL_free) or a CM_ERR_* naming what.
 */
static int
signed_wrap(struct cm_ctx *ctx, const char *what, EVP_MD_CTX *md,
    const X509_ALGOR *alg, unsigned char *t, int tlen, unsigned char **der,
    int *derlen)
{
	CM_CRL *crl = NULL;
	ASN1_STRING *seq = NULL;
	unsigned char *sig = NULL;
	size_t siglen;
	int rc = CM_ERR_CRYPTO;

	*der = NULL;
	if (EVP_DigestSign(md, NULL, &siglen, t, (size_t)tlen) != 1 ||
	    (sig = OPENSSL_malloc(siglen)) == NULL ||
	    EVP_DigestSign(md, sig, &siglen, t, (size_t)tlen) != 1) {
		cm_err_ssl(ctx, rc, "signing the %s", what);
		goto out;
	}
	if ((crl = CM_CRL_new()) == NULL || (seq = ASN1_STRING_new()) == NULL) {
		rc = CM_ERR_NOMEM;
		goto out;
	}
	ASN1_STRING_set0(seq, t, tlen);
	t = NULL;
	ASN1_TYPE_set(crl->tbs, V_ASN1_SEQUENCE, seq);
	seq = NULL;
	X509_ALGOR_free(crl->sig_alg);
	if ((crl->sig_alg = X509_ALGOR_dup(alg)) == NULL) {
		rc = CM_ERR_NOMEM;
		goto out;
	}
	ASN1_STRING_set0(crl->signature, sig, (int)siglen);
	sig = NULL;
	/* A signature is a whole number of octets: no unused bits. */
	crl->signature->flags &= ~(ASN1_STRING_FLAG_BITS_LEFT | 0x07);
	crl->signature->flags |= ASN1_STRING_FLAG_BITS_LEFT;
	if ((*derlen = i2d_CM_CRL(crl, der)) <= 0) {
		*der = NULL;
		cm_err_ssl(ctx, rc, "%s: DER encoding", what);
		goto out;
	}
	rc = 0;
out:
	ASN1_STRING_free(seq);
	OPENSSL_free(sig);
	OPENSSL_free(t);
	CM_CRL_free(crl);
	return rc;
}

/*
 * Encode the TBSCertList once, sign it and wrap it.  Returns 0 and the DER
 * CRL in *der (caller frees with OPENSSL_free) or a CM_ERR_*.
 */
static int
crl_sign(struct cm_ctx *ctx, struct signer *s, const char *digest,
    CM_TBS_CRL *tbs, unsigned char **der, int *derlen)
{
	EVP_MD_CTX *md = NULL;
	unsigned char *t = NULL;
	int tlen, rc;

	*der = NULL;
	X509_ALGOR_free(tbs->sig_alg);
	tbs->sig_alg = NULL;
	if ((rc = signer_sign_init(ctx, s, digest, &md, &tbs->sig_alg)) != 0)
		goto out;
	if ((tlen = i2d_CM_TBS_CRL(tbs, &t)) <= 0) {
		rc = cm_err_ssl(ctx, CM_ERR_CRYPTO, "CRL: DER encoding");
		goto out;
	}
	rc = signed_wrap(ctx, "CRL", md, tbs->sig_alg, t, tlen, der, derlen);
out:
	EVP_MD_CTX_free(md);
	return rc;
}

struct base_arg {
	int64_t	number;
	int64_t	event;
	int	found;
};

static int
base_cb(void *arg, struct store_row *row)
{
	struct base_arg *a = arg;

	a->number = store_row_int(row, 0);
	a->event = store_row_int(row, 1);
	a->found = 1;
	return 1;
}

static int
crl_ext_int(struct cm_ctx *ctx, CM_TBS_CRL *t, int nid, int64_t v, int crit)
{
	ASN1_INTEGER *ai;
	int ok;

	if ((ai = ASN1_INTEGER_new()) == NULL || !ASN1_INTEGER_set_int64(ai, v)) {
		ASN1_INTEGER_free(ai);
		return CM_ERR_NOMEM;
	}
	ok = X509V3_add1_i2d(&t->exts, nid, ai, crit, X509V3_ADD_DEFAULT);
	ASN1_INTEGER_free(ai);
	return ok == 1 ? 0 : cm_err_ssl(ctx, CM_ERR_CRYPTO, "CRL extension %s",
	    OBJ_nid2sn(nid));
}

/* The CA's key identifier: its SKI, else the SHA-1 of its key. */
static ASN1_OCTET_STRING *
ca_key_id(X509 *ca)
{
	const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(ca);
	ASN1_OCTET_STRING *id;
	unsigned char buf[20];

	if (ski != NULL)
		return ASN1_OCTET_STRING_dup(ski);
	if (x509_keyid(X509_get_X509_PUBKEY(ca), buf, NULL) != 0 ||
	    (id = ASN1_OCTET_STRING_new()) == NULL)
		return NULL;
	if (!ASN1_OCTET_STRING_set(id, buf, sizeof(buf))) {
		ASN1_OCTET_STRING_free(id);
		return NULL;
	}
	return id;
}

static int
crl_aki(struct cm_ctx *ctx, CM_TBS_CRL *t, X509 *ca)
{
	AUTHORITY_KEYID *akid;
	int ok;

	if ((akid = AUTHORITY_KEYID_new()) == NULL)
		return CM_ERR_NOMEM;
	if ((akid->keyid = ca_key_id(ca)) == NULL) {
		AUTHORITY_KEYID_free(akid);
		return CM_ERR_NOMEM;
	}
	ok = X509V3_add1_i2d(&t->exts, NID_authority_key_identifier, akid, 0,
	    X509V3_ADD_DEFAULT);
	AUTHORITY_KEYID_free(akid);
	return ok == 1 ? 0 : cm_err_ssl(ctx, CM_ERR_CRYPTO, "CRL AKI");
}

struct interval_arg {
	int64_t	crl;
	int64_t	delta;
};

static int
interval_cb(void *arg, struct store_row *row)
{
	struct interval_arg *a = arg;

	a->crl = store_row_int(row, 0);
	a->delta = store_row_int(row, 1);
	return 1;
}

/*
 * The CA named ca, its certificate (caller frees) and its signer: opened,
 * asking for a passphrase or PIN if need be, or with open_only only if it
 * is open already (CM_ERR_DENIED otherwise).  name receives the CA's
 * name for messages.
 */
static int
ca_signer(struct cm_ctx *ctx, const char *ca, int open_only, int64_t *ca_id,
    X509 **cert, struct signer **s, char *name, size_t namelen)
{
	int64_t key_id;
	int rc;

	*cert = NULL;
	if ((rc = ca_lookup(ctx, ca, ca_id)) != 0 ||
	    (rc = ca_load(ctx, *ca_id, cert, &key_id, name, namelen)) != 0)
		return rc;
	if (!open_only)
		return signer_get(ctx, key_id, s);
	if (signer_open(ctx, key_id, s) != 0)
		return cm_err(ctx, CM_ERR_DENIED, "the CA key was not opened "
		    "(no passphrase or PIN at hand)");
	return 0;
}

/* Under the write lock: the CA still signs (active, its key not gone). */
static int
ca_active(struct cm_ctx *ctx, int64_t ca_id, const char *ca)
{
	int64_t still;

	if (store_int(ctx, &still, "SELECT c.id FROM cas c JOIN keys k ON "
	    "k.id = c.key_id WHERE c.id = ? AND c.state = 'active' AND k.state "
	    "!= 'removed'", "i", ca_id) != 0)
		return cm_err(ctx, CM_ERR_POLICY, "CA \"%s\" is no longer "
		    "active or its key was removed", ca);
	return 0;
}

/*
 * Inside a transaction: build, sign and record a full or delta CRL of CA
 * ca_id (certificate cert, signer s) and enqueue its publications.
 * Nothing is written before the CRL is signed, so a failure short of the
 * CMDB's own leaves the transaction as it was.  *num and *entries receive
 * its number and size.
 */
static int
crl_issue_txn(struct cm_ctx *ctx, int64_t ca_id, const char *ca, X509 *cert,
    struct signer *s, const char *name, int delta, int64_t *num,
    int64_t *entries)
{
	struct crl_build b;
	struct base_arg base;
	struct interval_arg iv = { 0, 0 };
	unsigned char *der = NULL;
	char counter[32];
	int64_t event;
	time_t now = time(NULL);
	int len = 0, rc;

	memset(&b, 0, sizeof(b));
	memset(&base, 0, sizeof(base));
	b.ctx = ctx;
	*num = 0;
	*entries = 0;
	if ((rc = store_query(ctx, "SELECT crl_interval, delta_interval FROM "
	    "cas WHERE id = ?", interval_cb, &iv, "i", ca_id)) != 0)
		goto out;
	if (delta && iv.delta <= 0) {
		rc = cm_err(ctx, CM_ERR_POLICY, "CA \"%s\" issues no delta CRLs "
		    "(its delta interval is 0)", ca);
		goto out;
	}
	if ((rc = ca_active(ctx, ca_id, ca)) != 0)
		goto out;
	snprintf(counter, sizeof(counter), "crl %lld", (long long)ca_id);
	rc = store_int(ctx, num, "SELECT value FROM counters WHERE name = ?",
	    "t", counter);
	if (rc == CM_ERR_NOTFOUND)
		rc = 0;
	(*num)++;
	if (rc == 0)
		rc = store_int(ctx, &event, "SELECT value FROM counters WHERE "
		    "name = 'revocation event'", NULL);
	if (rc == 0 && delta) {
		rc = store_query(ctx, "SELECT number, event FROM crls WHERE "
		    "ca_id = ? AND delta = 0 ORDER BY number DESC LIMIT 1",
		    base_cb, &base, "i", ca_id);
		if (rc == 0 && !base.found)
			rc = cm_err(ctx, CM_ERR_POLICY, "CA \"%s\" has no full "
			    "CRL yet: a delta CRL needs one as its base", ca);
	}
	if (rc != 0)
		goto out;
	rc = CM_ERR_NOMEM;
	if ((b.tbs = CM_TBS_CRL_new()) == NULL ||
	    (b.tbs->version = ASN1_INTEGER_new()) == NULL ||
	    !ASN1_INTEGER_set(b.tbs->version, X509_CRL_VERSION_2) ||
	    !X509_NAME_set(&b.tbs->issuer, X509_get_subject_name(cert)))
		goto out;
	ASN1_TIME_free(b.tbs->this_update);
	if ((b.tbs->this_update = x509_time_new(now)) == NULL ||
	    (b.tbs->next_update = x509_time_new(now + (delta ? iv.delta :
	    iv.crl))) == NULL ||
	    (b.tbs->entries = sk_CM_CRL_ENTRY_new_null()) == NULL)
		goto out;
	if (!delta)
		rc = store_query(ctx, "SELECT serial, revocation_time, reason "
		    "FROM revocations WHERE ca_id = ? AND released IS NULL "
		    "ORDER BY id", entry_cb, &b, "i", ca_id);
	else {
		rc = store_query(ctx, "SELECT serial, revocation_time, reason "
		    "FROM revocations WHERE ca_id = ? AND released IS NULL AND "
		    "event > ? ORDER BY id", entry_cb, &b, "ii", ca_id,
		    base.event);
		b.remove = 1;
		if (rc == 0)
			rc = store_query(ctx, "SELECT serial, revocation_time, "
			    "reason FROM revocations r WHERE ca_id = ? AND "
			    "released > ? AND event <= ? AND NOT EXISTS (SELECT "
			    "1 FROM revocations a WHERE a.cert_id = r.cert_id "
			    "AND a.released IS NULL) ORDER BY id", entry_cb,
			    &b, "iii", ca_id, base.event, base.event);
	}
	if (rc != 0)
		goto out;
	if ((rc = crl_aki(ctx, b.tbs, cert)) != 0 ||
	    (rc = crl_ext_int(ctx, b.tbs, NID_crl_number, *num, 0)) != 0 ||
	    (delta && (rc = crl_ext_int(ctx, b.tbs, NID_delta_crl, base.number,
	    1)) != 0))
		goto out;
	/* RFC 5280 5.1.2.6: no revoked certificates, no list at all. */
	if (sk_CM_CRL_ENTRY_num(b.tbs->entries) == 0) {
		sk_CM_CRL_ENTRY_free(b.tbs->entries);
		b.tbs->entries = NULL;
	}
	if ((rc = crl_lint(ctx, b.tbs)) != 0) {
		cm_err_prefix(ctx, name);
		goto out;
	}
	if ((rc = crl_sign(ctx, s, signer_digest(s), b.tbs,
	    &der, &len)) != 0)
		goto out;
	/* Signed: from here on only the CMDB can fail. */
	rc = store_exec(ctx, "INSERT INTO crls (ca_id, number, delta, "
	    "base_number, this_update, next_update, event, entries, der) "
	    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", "iiIj" "iiii" "b", ca_id, *num,
	    delta, delta ? base.number : (int64_t)0, (int64_t)now,
	    (int64_t)(now + (delta ? iv.delta : iv.crl)), event, b.entries, der,
	    (size_t)len);
	if (rc == 0)
		rc = store_exec(ctx, "INSERT INTO counters (name, value) VALUES "
		    "(?, ?) ON CONFLICT (name) DO UPDATE SET value = "
		    "excluded.value", "ti", counter, *num);
	/* Its publications commit with it. */
	if (rc == 0)
		rc = dist_enqueue_crl(ctx, ca_id, ca, delta, *num);
	*entries = b.entries;
out:
	crl_free(&b);
	OPENSSL_free(der);
	return rc;
}

/*
 * Issue a full or delta CRL for a CA and record it.  Returns 0 and the
 * CRL number in *number, or a CM_ERR_* naming the CA and the rule.
 */
int
cm_crl_issue(struct cm_ctx *ctx, const char *ca, int delta, int64_t *number)
{
	struct signer *s;
	X509 *cert = NULL;
	char name[160], detail[160];
	int64_t ca_id, num = 0, entries = 0;
	int rc;

	*number = 0;
	if ((rc = ca_signer(ctx, ca, 0, &ca_id, &cert, &s, name,
	    sizeof(name))) != 0)
		goto out;
	if ((rc = txn_begin(ctx)) != 0)
		goto out;
	rc = crl_issue_txn(ctx, ca_id, ca, cert, s, name, delta, &num,
	    &entries);
	snprintf(detail, sizeof(detail), "%s CRL %lld, %lld entries",
	    delta ? "delta" : "full", (long long)num, (long long)entries);
	rc = txn_end(ctx, rc, "crl.issue", ca, detail);
	if (rc == 0)
		*number = num;
out:
	X509_free(cert);
	return audit_done(ctx, rc, "crl.issue", ca);
}

struct crl_list_arg {
	cm_crl_cb	 cb;
	void		*arg;
	const char	*ca;
};

static int
crl_list_cb(void *arg, struct store_row *row)
{
	struct crl_list_arg *a = arg;
	struct cm_crl_info ci;

	ci.number = store_row_int(row, 0);
	ci.ca = a->ca;
	ci.delta = (int)store_row_int(row, 1);
	ci.base_number = store_row_int(row, 2);
	ci.this_update = (time_t)store_row_int(row, 3);
	ci.next_update = (time_t)store_row_int(row, 4);
	ci.entries = store_row_int(row, 5);
	ci.der = store_row_blob(row, 6, &ci.der_len);
	return a->cb(a->arg, &ci);
}

/*
 * Call cb for the CRLs (or with cil, the CILs) of a CA, oldest first; with
 * number > 0 only that one, with number -1 only the latest.  An unknown
 * number is CM_ERR_NOTFOUND.  CILs come as CRLs would, full, with entries
 * counting their serials.  The store caches statements by their text's
 * address: each is a literal, one for each kind.
 */
static int
lists(struct cm_ctx *ctx, const char *ca, int cil, int64_t number,
    cm_crl_cb cb, void *arg)
{
	static const char *const latest[] = {
		"SELECT max(number) FROM crls WHERE ca_id = ? HAVING "
		"count(*) > 0",
		"SELECT max(number) FROM cils WHERE ca_id = ? HAVING "
		"count(*) > 0"
	};
	static const char *const one[] = {
		"SELECT id FROM crls WHERE ca_id = ? AND number = ?",
		"SELECT id FROM cils WHERE ca_id = ? AND number = ?"
	};
	static const char *const all[] = {
		"SELECT number, delta, coalesce(base_number, 0), "
		"this_update, next_update, entries, der FROM crls WHERE "
		"ca_id = ? AND (? = 0 OR number = ?) ORDER BY number",
		"SELECT number, 0, 0, this_update, next_update, entries, der "
		"FROM cils WHERE ca_id = ? AND (? = 0 OR number = ?) ORDER BY "
		"number"
	};
	const char *what = cil ? "CIL" : "CRL";
	struct crl_list_arg a = { cb, arg, ca };
	int64_t ca_id, n;
	int rc;

	if ((rc = ca_lookup(ctx, ca, &ca_id)) != 0)
		return rc;
	if (number == -1) {
		rc = store_int(ctx, &number, latest[cil], "i", ca_id);
		if (rc == CM_ERR_NOTFOUND)
			return cm_err(ctx, rc, "CA \"%s\" has issued no %s",
			    ca, what);
		if (rc != 0)
			return rc;
	} else if (number > 0) {
		rc = store_int(ctx, &n, one[cil], "ii", ca_id, number);
		if (rc == CM_ERR_NOTFOUND)
			return cm_err(ctx, rc, "CA \"%s\" has no %s number "
			    "%lld", ca, what, (long long)number);
		if (rc != 0)
			return rc;
	}
	return store_query(ctx, all[cil], crl_list_cb, &a, "iii", ca_id,
	    number, number);
}

int
cm_crl_list(struct cm_ctx *ctx, const char *ca, int64_t number, cm_crl_cb cb,
    void *arg)
{
	return lists(ctx, ca, 0, number, cb, arg);
}

/* ------------------------------------------------------------ CILs */

static int
cil_serial_cb(void *arg, struct store_row *row)
{
	STACK_OF(ASN1_INTEGER) *sk = arg;
	ASN1_INTEGER *ai = NULL;
	BIGNUM *bn = NULL;

	if (BN_hex2bn(&bn, store_row_text(row, 0)) == 0 ||
	    (ai = BN_to_ASN1_INTEGER(bn, NULL)) == NULL ||
	    sk_ASN1_INTEGER_push(sk, ai) <= 0) {
		ASN1_INTEGER_free(ai);
		BN_free(bn);
		return CM_ERR_NOMEM;
	}
	BN_free(bn);
	return 0;
}

static int
cil_cmp(const ASN1_INTEGER *const *a, const ASN1_INTEGER *const *b)
{
	return ASN1_INTEGER_cmp(*a, *b);
}

/*
 * Issue a certificate issuance list for a CA: the serials of its valid,
 * unexpired certificates, ascending, signed, numbered in its own sequence,
 * valid for the CA's CRL interval, and enqueued for the rules attached to
 * the CA that publish CILs.  Returns 0 and the number, or a CM_ERR_*.
 */
int
cm_cil_issue(struct cm_ctx *ctx, const char *ca, int64_t *number)
{
	CM_TBS_CIL *tbs = NULL;
	struct signer *s;
	EVP_MD_CTX *md = NULL;
	X509 *cert = NULL;
	unsigned char *t = NULL, *der = NULL;
	char name[160], detail[96];
	int64_t ca_id, num = 0, iv = 0;
	time_t now = time(NULL);
	int tlen, len = 0, n = 0, rc;

	*number = 0;
	if ((rc = ca_signer(ctx, ca, 0, &ca_id, &cert, &s, name,
	    sizeof(name))) != 0)
		goto out;
	if ((rc = txn_begin(ctx)) != 0)
		goto out;
	if ((rc = ca_active(ctx, ca_id, ca)) != 0)
		goto end;
	if ((rc = store_int(ctx, &num, "SELECT coalesce(max(number), 0) + 1 "
	    "FROM cils WHERE ca_id = ?", "i", ca_id)) != 0 ||
	    (rc = store_int(ctx, &iv, "SELECT crl_interval FROM cas WHERE "
	    "id = ?", "i", ca_id)) != 0)
		goto end;
	rc = CM_ERR_NOMEM;
	if ((tbs = CM_TBS_CIL_new()) == NULL ||
	    !ASN1_INTEGER_set(tbs->version, 0) ||
	    !X509_NAME_set(&tbs->issuer, X509_get_subject_name(cert)) ||
	    !ASN1_INTEGER_set_int64(tbs->number, num))
		goto end;
	ASN1_OCTET_STRING_free(tbs->key_id);
	ASN1_TIME_free(tbs->this_update);
	ASN1_TIME_free(tbs->next_update);
	tbs->key_id = NULL;
	tbs->this_update = tbs->next_update = NULL;
	if ((tbs->key_id = ca_key_id(cert)) == NULL ||
	    (tbs->this_update = x509_time_new(now)) == NULL ||
	    (tbs->next_update = x509_time_new(now + iv)) == NULL)
		goto end;
	/* Valid: neither revoked nor on hold, and not expired. */
	if ((rc = store_query(ctx, "SELECT serial FROM certs WHERE ca_id = ? "
	    "AND status = 'valid' AND not_after > ?", cil_serial_cb,
	    tbs->serials, "ii", ca_id, (int64_t)now)) != 0)
		goto end;
	(void)sk_ASN1_INTEGER_set_cmp_func(tbs->serials, cil_cmp);
	sk_ASN1_INTEGER_sort(tbs->serials);
	n = sk_ASN1_INTEGER_num(tbs->serials);
	X509_ALGOR_free(tbs->sig_alg);
	tbs->sig_alg = NULL;
	if ((rc = signer_sign_init(ctx, s, signer_digest(s), &md,
	    &tbs->sig_alg)) != 0)
		goto end;
	if ((tlen = i2d_CM_TBS_CIL(tbs, &t)) <= 0) {
		rc = cm_err_ssl(ctx, CM_ERR_CRYPTO, "CIL: DER encoding");
		goto end;
	}
	if ((rc = signed_wrap(ctx, "CIL", md, tbs->sig_alg, t, tlen, &der,
	    &len)) != 0)
		goto end;
	rc = store_exec(ctx, "INSERT INTO cils (ca_id, number, this_update, "
	    "next_update, entries, der) VALUES (?, ?, ?, ?, ?, ?)", "iiiiib",
	    ca_id, num, (int64_t)now, (int64_t)(now + iv), (int64_t)n, der,
	    (size_t)len);
	/* Its publications commit with it. */
	if (rc == 0)
		rc = dist_enqueue_cil(ctx, ca_id, ca, num);
end:
	snprintf(detail, sizeof(detail), "CIL %lld, %d serials",
	    (long long)num, n);
	rc = txn_end(ctx, rc, "cil.issue", ca, detail);
	if (rc == 0)
		*number = num;
out:
	CM_TBS_CIL_free(tbs);
	EVP_MD_CTX_free(md);
	OPENSSL_free(der);
	X509_free(cert);
	return audit_done(ctx, rc, "cil.issue", ca);
}

/* Call cb for the CILs of a CA, as cm_crl_list() does for CRLs. */
int
cm_cil_list(struct cm_ctx *ctx, const char *ca, int64_t number, cm_crl_cb cb,
    void *arg)
{
	return lists(ctx, ca, 1, number, cb, arg);
}

/* ------------------------------------------------- issued on their own */

struct names {
	char	**v;
	size_t	  n;
};

static int
names_cb(void *arg, struct store_row *row)
{
	struct names *a = arg;
	char **v;

	if ((v = realloc(a->v, (a->n + 1) * sizeof(*v))) == NULL)
		return CM_ERR_NOMEM;
	a->v = v;
	if ((v[a->n] = cm_strdup(store_row_text(row, 0))) == NULL)
		return CM_ERR_NOMEM;
	a->n++;
	return 0;
}

static void
names_free(struct names *a)
{
	cm_split_free(a->v, a->n);
	a->v = NULL;
	a->n = 0;
}

/*
 * Before the transaction of a revocation (of the certificates of CA ca_id
 * or of token token_id; 0: any): open the signers of the CAs that will
 * issue a delta CRL on it, so that no passphrase or PIN is asked for
 * while the CMDB is locked.  What cannot be opened is left: the CRL is
 * then not issued, with a warning.
 */
void
crl_revoke_prepare(struct cm_ctx *ctx, int64_t ca_id, int64_t token_id)
{
	struct names a = { NULL, 0 };
	struct signer *s;
	X509 *cert;
	char name[160];
	int64_t id;
	size_t i;

	if (store_query(ctx, "SELECT c.name FROM cas c WHERE c.revoke_delta = "
	    "1 AND c.state = 'active' AND (?1 = 0 OR c.id = ?1) AND (?2 = 0 OR "
	    "c.id IN (SELECT ca_id FROM certs WHERE token_id = ?2)) ORDER BY "
	    "c.id", names_cb, &a, "ii", ca_id, token_id) != 0) {
		names_free(&a);
		return;
	}
	for (i = 0; i < a.n; i++) {
		(void)ca_signer(ctx, a.v[i], 0, &id, &cert, &s, name,
		    sizeof(name));
		X509_free(cert);
	}
	names_free(&a);
}

/* A CRL on revocation that was not issued: the warning says which. */
static void
revoke_warn(struct cm_ctx *ctx, const char *ca, int delta)
{
	size_t n = strlen(ctx->warning);

	snprintf(ctx->warning + n, sizeof(ctx->warning) - n, "%sthe %s CRL of "
	    "CA \"%s\" on revocation was not issued: %.300s", n > 0 ? "; " :
	    "", delta ? "delta" : "full", ca, ctx->errmsg);
}

/*
 * Inside the transaction of a revocation, a hold or a release: every CA
 * set to issue a delta CRL on revocation whose revocation status changed
 * since its latest CRL issues one now, in the same transaction (a full
 * CRL while it has none to be the base), with its publications and its
 * own audit record, each under a savepoint.  A CRL that cannot be issued
 * (its key not opened by crl_revoke_prepare(), a damaged row) does not
 * stop the revocation: its error goes into the context's warning, and
 * cm-da's schedule issues the CRL.  Returns 0, or the error of a
 * savepoint, which ends the transaction.
 */
int
crl_revoke_deltas(struct cm_ctx *ctx)
{
	struct names a = { NULL, 0 };
	struct signer *s;
	X509 *cert;
	char name[160], detail[160];
	int64_t id, num, entries, full;
	size_t i;
	int rc, r;

	ctx->warning[0] = '\0';
	if ((rc = store_query(ctx, "SELECT c.name FROM cas c WHERE "
	    "c.revoke_delta = 1 AND c.state = 'active' AND EXISTS (SELECT 1 "
	    "FROM revocations r WHERE r.ca_id = c.id AND max(r.event, "
	    "coalesce(r.released, 0)) > coalesce((SELECT max(event) FROM crls "
	    "WHERE ca_id = c.id), 0)) ORDER BY c.id", names_cb, &a,
	    NULL)) != 0) {
		names_free(&a);
		return rc;
	}
	for (i = 0; i < a.n && rc == 0; i++) {
		if ((rc = store_exec(ctx, "SAVEPOINT revoke_delta", NULL)) != 0)
			break;
		full = 0;
		/* Only a signer opened before the lock: no prompt here. */
		if ((r = store_int(ctx, &full, "SELECT count(*) FROM crls c "
		    "JOIN cas a ON a.id = c.ca_id WHERE a.name = ? AND "
		    "c.delta = 0", "t", a.v[i])) == 0)
			r = ca_signer(ctx, a.v[i], 1, &id, &cert, &s, name,
			    sizeof(name));
		if (r == 0)
			r = crl_issue_txn(ctx, id, a.v[i], cert, s, name,
			    full > 0, &num, &entries);
		X509_free(cert);
		if (r == 0) {
			snprintf(detail, sizeof(detail), "%s CRL %lld, %lld "
			    "entries, on revocation", full > 0 ? "delta" :
			    "full", (long long)num, (long long)entries);
			r = audit_append(ctx, "crl.issue", a.v[i], detail);
		}
		if (r == 0)
			rc = store_exec(ctx, "RELEASE revoke_delta", NULL);
		else {
			revoke_warn(ctx, a.v[i], full > 0);
			if ((rc = store_exec(ctx, "ROLLBACK TO revoke_delta",
			    NULL)) == 0)
				rc = store_exec(ctx, "RELEASE revoke_delta",
				    NULL);
		}
	}
	names_free(&a);
	return rc;
}

/* A CRL or CIL of the schedule that failed: when to try it again. */
struct sched_fail {
	char			 ca[160];
	int			 kind;
	time_t			 until;		/* 0: not in this process */
	long			 wait;
	struct sched_fail	*next;
};

static struct sched_fail *
sched_find(struct cm_ctx *ctx, const char *ca, int kind)
{
	struct sched_fail *f;

	for (f = ctx->sched_fails; f != NULL; f = f->next)
		if (f->kind == kind && strcmp(f->ca, ca) == 0)
			return f;
	return NULL;
}

/* After a failure: wait 1 min, doubling to 1 h; never after a bad PIN. */
static void
sched_failed(struct cm_ctx *ctx, const char *ca, int kind, int rc)
{
	struct sched_fail *f;

	if ((f = sched_find(ctx, ca, kind)) == NULL) {
		if ((f = calloc(1, sizeof(*f))) == NULL)
			return;
		snprintf(f->ca, sizeof(f->ca), "%s", ca);
		f->kind = kind;
		f->next = ctx->sched_fails;
		ctx->sched_fails = f;
	}
	f->wait = f->wait == 0 ? 60 : f->wait < 3600 ? f->wait * 2 : 3600;
	f->until = rc == CM_ERR_DENIED ? 0 : time(NULL) + f->wait;
}

static void
sched_ok(struct cm_ctx *ctx, const char *ca, int kind)
{
	struct sched_fail **fp, *f;

	for (fp = &ctx->sched_fails; (f = *fp) != NULL; fp = &f->next)
		if (f->kind == kind && strcmp(f->ca, ca) == 0) {
			*fp = f->next;
			free(f);
			return;
		}
}

void
crl_sched_free(struct cm_ctx *ctx)
{
	struct sched_fail *f, *next;

	for (f = ctx->sched_fails; f != NULL; f = next) {
		next = f->next;
		free(f);
	}
	ctx->sched_fails = NULL;
}

/*
 * The CRLs and CILs that are due, issued, for the CAs that a distribution
 * rule publishes them for (a CA without one, an offline root, is left to
 * its officers): a full CRL where the latest one reaches its nextUpdate
 * within margin (at most half the CRL interval), or where there is none;
 * a delta CRL where the CA issues them and the latest CRL of either kind
 * is older than the delta interval less the margin (at most half of it),
 * or where a CA that issues one on every revocation has a revocation no
 * CRL covers (the process that revoked could not issue it);
 * a CIL where the latest one is as due as a full CRL would be.  One that
 * fails waits (a minute, doubling to an hour) and one refused for a wrong
 * PIN or passphrase is not tried again by this context: a token locks.
 * cb hears of each, issued or not.  Returns 0, or the error of the last
 * that failed (the others are still issued).
 */
int
cm_crl_schedule(struct cm_ctx *ctx, long margin, cm_crl_due_cb cb, void *arg)
{
#define CA_LIVE	"c.state = 'active' AND c.cert IS NOT NULL AND k.state != " \
	"'removed' AND EXISTS (SELECT 1 FROM dist_attach a JOIN dist_rules r " \
	"ON r.id = a.rule_id WHERE a.ca_id = c.id AND instr(',' || " \
	"r.content || ',', ?3) > 0) "
	static const char *const due_sql[] = {
		/* Full CRLs. */
		"SELECT c.name FROM cas c JOIN keys k ON k.id = c.key_id WHERE "
		CA_LIVE "AND coalesce((SELECT max(next_update) FROM crls "
		"WHERE ca_id = c.id AND delta = 0), 0) - min(?1, "
		"c.crl_interval / 2) <= ?2 ORDER BY c.id",
		/* Delta CRLs. */
		"SELECT c.name FROM cas c JOIN keys k ON k.id = c.key_id WHERE "
		CA_LIVE "AND c.delta_interval > 0 AND EXISTS (SELECT 1 FROM "
		"crls WHERE ca_id = c.id AND delta = 0) AND ((SELECT "
		"max(this_update) FROM crls WHERE ca_id = c.id) + "
		"c.delta_interval - min(?1, c.delta_interval / 2) <= ?2 OR "
		/* A revocation the delta CRL at once did not cover. */
		"(c.revoke_delta = 1 AND EXISTS (SELECT 1 FROM revocations r "
		"WHERE r.ca_id = c.id AND max(r.event, coalesce(r.released, "
		"0)) > (SELECT max(event) FROM crls WHERE ca_id = c.id)))) "
		"ORDER BY c.id",
		/* CILs. */
		"SELECT c.name FROM cas c JOIN keys k ON k.id = c.key_id WHERE "
		CA_LIVE "AND coalesce((SELECT max(next_update) FROM cils WHERE "
		"ca_id = c.id), 0) - min(?1, c.crl_interval / 2) <= ?2 ORDER "
		"BY c.id",
	};
#undef CA_LIVE
	static const char *const what[] = { "full CRL", "delta CRL", "CIL" };
	static const char *const content[] = { ",crl,", ",delta-crl,",
	    ",cil," };
	struct names a = { NULL, 0 };
	struct sched_fail *f;
	struct cm_crl_due d;
	time_t now;
	size_t i;
	int k, rc = 0, r;

	for (k = 0; k < 3; k++) {
		if ((r = store_query(ctx, due_sql[k], names_cb, &a, "iit",
		    (int64_t)margin, (int64_t)time(NULL), content[k])) != 0) {
			names_free(&a);
			return r;
		}
		for (i = 0; i < a.n; i++) {
			now = time(NULL);
			if ((f = sched_find(ctx, a.v[i], k)) != NULL &&
			    (f->until == 0 || now < f->until))
				continue;
			memset(&d, 0, sizeof(d));
			d.ca = a.v[i];
			d.what = what[k];
			r = k < 2 ? cm_crl_issue(ctx, a.v[i], k, &d.number) :
			    cm_cil_issue(ctx, a.v[i], &d.number);
			d.rc = r;
			d.error = r != 0 ? ctx->errmsg : NULL;
			if (r != 0) {
				rc = r;
				sched_failed(ctx, a.v[i], k, r);
			} else
				sched_ok(ctx, a.v[i], k);
			if (cb != NULL)
				cb(arg, &d);
		}
		names_free(&a);
	}
	return rc;
}
