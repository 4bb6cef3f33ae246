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

/* RFC 5280 5.1: CertificateList, with the TBSCertList already encoded. */
ASN1_SEQUENCE(CM_CRL) = {
	ASN1_SIMPLE(CM_CRL, tbs, ASN1_ANY),
	ASN1_SIMPLE(CM_CRL, sig_alg, X509_ALGOR),
	ASN1_SIMPLE(CM_CRL, signature, ASN1_BIT_STRING)
} ASN1_SEQUENCE_END(CM_CRL)

IMPLEMENT_ASN1_FUNCTIONS(CM_CRL_ENTRY)
IMPLEMENT_ASN1_FUNCTIONS(CM_TBS_CRL)
IMPLEMENT_ASN1_FUNCTIONS(CM_CRL)

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
 * Encode the TBSCertList once, sign it and wrap it.  Returns 0 and the DER
 * CRL in *der (caller frees with OPENSSL_free) or a CM_ERR_*.
 */
static int
crl_sign(struct cm_ctx *ctx, struct signer *s, const char *digest,
    CM_TBS_CRL *tbs, unsigned char **der, int *derlen)
{
	EVP_MD_CTX *md = NULL;
	CM_CRL *crl = NULL;
	ASN1_STRING *seq = NULL;
	unsigned char *t = NULL, *sig = NULL;
	size_t siglen;
	int tlen, rc = CM_ERR_CRYPTO;

	*der = NULL;
	X509_ALGOR_free(tbs->sig_alg);
	tbs->sig_alg = NULL;
	if ((rc = signer_sign_init(ctx, s, digest, &md, &tbs->sig_alg)) != 0)
		goto out;
	rc = CM_ERR_CRYPTO;
	if ((tlen = i2d_CM_TBS_CRL(tbs, &t)) <= 0) {
		cm_err_ssl(ctx, rc, "CRL: DER encoding");
		goto out;
	}
	if (EVP_DigestSign(md, NULL, &siglen, t, (size_t)tlen) != 1 ||
	    (sig = OPENSSL_malloc(siglen)) == NULL ||
	    EVP_DigestSign(md, sig, &siglen, t, (size_t)tlen) != 1) {
		cm_err_ssl(ctx, rc, "signing the CRL");
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
	if ((crl->sig_alg = X509_ALGOR_dup(tbs->sig_alg)) == NULL) {
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
		cm_err_ssl(ctx, rc, "CRL: DER encoding");
		goto out;
	}
	rc = 0;
out:
	ASN1_STRING_free(seq);
	OPENSSL_free(sig);
	OPENSSL_free(t);
	CM_CRL_free(crl);
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

static int
crl_aki(struct cm_ctx *ctx, CM_TBS_CRL *t, X509 *ca)
{
	AUTHORITY_KEYID *akid;
	const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(ca);
	unsigned char id[20];
	int ok;

	if ((akid = AUTHORITY_KEYID_new()) == NULL)
		return CM_ERR_NOMEM;
	if (ski != NULL)
		akid->keyid = ASN1_OCTET_STRING_dup(ski);
	else if (x509_keyid(X509_get_X509_PUBKEY(ca), id, NULL) == 0 &&
	    (akid->keyid = ASN1_OCTET_STRING_new()) != NULL &&
	    !ASN1_OCTET_STRING_set(akid->keyid, id, sizeof(id))) {
		ASN1_OCTET_STRING_free(akid->keyid);
		akid->keyid = NULL;
	}
	if (akid->keyid == NULL) {
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
 * Issue a full or delta CRL for a CA and record it.  Returns 0 and the
 * CRL number in *number, or a CM_ERR_* naming the CA and the rule.
 */
int
cm_crl_issue(struct cm_ctx *ctx, const char *ca, int delta, int64_t *number)
{
	struct crl_build b;
	struct base_arg base;
	struct interval_arg iv = { 0, 0 };
	struct signer *s;
	X509 *cert = NULL;
	unsigned char *der = NULL;
	char name[160], counter[32], detail[160];
	int64_t ca_id, key_id, still, num = 0, event;
	time_t now = time(NULL);
	int len = 0, rc;

	memset(&b, 0, sizeof(b));
	memset(&base, 0, sizeof(base));
	b.ctx = ctx;
	*number = 0;
	if ((rc = ca_lookup(ctx, ca, &ca_id)) != 0 ||
	    (rc = ca_load(ctx, ca_id, &cert, &key_id, name, sizeof(name))) != 0 ||
	    (rc = signer_get(ctx, key_id, &s)) != 0)
		goto out;
	if ((rc = store_query(ctx, "SELECT crl_interval, delta_interval FROM "
	    "cas WHERE id = ?", interval_cb, &iv, "i", ca_id)) != 0)
		goto out;
	if (delta && iv.delta <= 0) {
		rc = cm_err(ctx, CM_ERR_POLICY, "CA \"%s\" issues no delta CRLs "
		    "(its delta interval is 0)", ca);
		goto out;
	}
	if ((rc = txn_begin(ctx)) != 0)
		goto out;
	if (store_int(ctx, &still, "SELECT c.id FROM cas c JOIN keys k ON "
	    "k.id = c.key_id WHERE c.id = ? AND c.state = 'active' AND k.state "
	    "!= 'removed'", "i", ca_id) != 0) {
		rc = cm_err(ctx, CM_ERR_POLICY, "CA \"%s\" is no longer active "
		    "or its key was removed", ca);
		goto end;
	}
	snprintf(counter, sizeof(counter), "crl %lld", (long long)ca_id);
	rc = store_int(ctx, &num, "SELECT value FROM counters WHERE name = ?",
	    "t", counter);
	if (rc == CM_ERR_NOTFOUND)
		rc = 0;
	num++;
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
		goto end;
	rc = CM_ERR_NOMEM;
	if ((b.tbs = CM_TBS_CRL_new()) == NULL ||
	    (b.tbs->version = ASN1_INTEGER_new()) == NULL ||
	    !ASN1_INTEGER_set(b.tbs->version, X509_CRL_VERSION_2) ||
	    !X509_NAME_set(&b.tbs->issuer, X509_get_subject_name(cert)))
		goto end;
	ASN1_TIME_free(b.tbs->this_update);
	if ((b.tbs->this_update = x509_time_new(now)) == NULL ||
	    (b.tbs->next_update = x509_time_new(now + (delta ? iv.delta :
	    iv.crl))) == NULL ||
	    (b.tbs->entries = sk_CM_CRL_ENTRY_new_null()) == NULL)
		goto end;
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
		goto end;
	if ((rc = crl_aki(ctx, b.tbs, cert)) != 0 ||
	    (rc = crl_ext_int(ctx, b.tbs, NID_crl_number, num, 0)) != 0 ||
	    (delta && (rc = crl_ext_int(ctx, b.tbs, NID_delta_crl, base.number,
	    1)) != 0))
		goto end;
	/* RFC 5280 5.1.2.6: no revoked certificates, no list at all. */
	if (sk_CM_CRL_ENTRY_num(b.tbs->entries) == 0) {
		sk_CM_CRL_ENTRY_free(b.tbs->entries);
		b.tbs->entries = NULL;
	}
	if ((rc = crl_lint(ctx, b.tbs)) != 0) {
		cm_err_prefix(ctx, name);
		goto end;
	}
	if ((rc = crl_sign(ctx, s, signer_digest(s), b.tbs,
	    &der, &len)) != 0)
		goto end;
	rc = store_exec(ctx, "INSERT INTO crls (ca_id, number, delta, "
	    "base_number, this_update, next_update, event, entries, der) "
	    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", "iiIj" "iiii" "b", ca_id, num,
	    delta, delta ? base.number : (int64_t)0, (int64_t)now,
	    (int64_t)(now + (delta ? iv.delta : iv.crl)), event, b.entries, der,
	    (size_t)len);
	if (rc == 0)
		rc = store_exec(ctx, "INSERT INTO counters (name, value) VALUES "
		    "(?, ?) ON CONFLICT (name) DO UPDATE SET value = "
		    "excluded.value", "ti", counter, num);
	/* Its publications commit with it. */
	if (rc == 0)
		rc = dist_enqueue_crl(ctx, ca_id, ca, delta, num);
end:
	snprintf(detail, sizeof(detail), "%s CRL %lld, %lld entries",
	    delta ? "delta" : "full", (long long)num, (long long)b.entries);
	rc = txn_end(ctx, rc, "crl.issue", ca, detail);
	if (rc == 0)
		*number = num;
out:
	crl_free(&b);
	OPENSSL_free(der);
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
 * Call cb for the CRLs of a CA, oldest first; with number > 0 only that
 * one, with number -1 only the latest.  An unknown number is
 * CM_ERR_NOTFOUND.
 */
int
cm_crl_list(struct cm_ctx *ctx, const char *ca, int64_t number, cm_crl_cb cb,
    void *arg)
{
	struct crl_list_arg a = { cb, arg, ca };
	int64_t ca_id, n;
	int rc;

	if ((rc = ca_lookup(ctx, ca, &ca_id)) != 0)
		return rc;
	if (number == -1) {
		rc = store_int(ctx, &number, "SELECT max(number) FROM crls "
		    "WHERE ca_id = ? HAVING count(*) > 0", "i", ca_id);
		if (rc == CM_ERR_NOTFOUND)
			return cm_err(ctx, rc, "CA \"%s\" has issued no CRL",
			    ca);
		if (rc != 0)
			return rc;
	} else if (number > 0) {
		rc = store_int(ctx, &n, "SELECT id FROM crls WHERE ca_id = ? AND "
		    "number = ?", "ii", ca_id, number);
		if (rc == CM_ERR_NOTFOUND)
			return cm_err(ctx, rc, "CA \"%s\" has no CRL number "
			    "%lld", ca, (long long)number);
		if (rc != 0)
			return rc;
	}
	return store_query(ctx, "SELECT number, delta, coalesce(base_number, "
	    "0), this_update, next_update, entries, der FROM crls WHERE "
	    "ca_id = ? AND (? = 0 OR number = ?) ORDER BY number",
	    crl_list_cb, &a, "iii", ca_id, number, number);
}
