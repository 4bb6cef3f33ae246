/*
 * crl.c: certificate revocation lists (RFC 5280 section 5).  Full and
 * delta CRLs share one cRLNumber sequence per CA; a delta CRL lists what
 * changed since the latest full CRL, with removeFromCRL for released holds.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "extern.h"

struct crl_build {
	struct cm_ctx	*ctx;
	X509_CRL	*crl;
	X509_EXTENSION	*reason_ext[11];	/* reasonCode, by value */
	int64_t		 entries;
	int		 remove;		/* entries are removeFromCRL */
	int		 rc;
};

static int
reason_ext(struct crl_build *b, int reason, X509_EXTENSION **out)
{
	ASN1_ENUMERATED *e;

	*out = NULL;
	if (reason < 0 || reason > 10)
		return cm_err(b->ctx, CM_ERR_DB, "bad reason %d in the CMDB",
		    reason);
	if (b->reason_ext[reason] == NULL) {
		if ((e = ASN1_ENUMERATED_new()) == NULL ||
		    !ASN1_ENUMERATED_set(e, reason)) {
			ASN1_ENUMERATED_free(e);
			return CM_ERR_NOMEM;
		}
		b->reason_ext[reason] = X509V3_EXT_i2d(NID_crl_reason, 0, e);
		ASN1_ENUMERATED_free(e);
		if (b->reason_ext[reason] == NULL)
			return cm_err_ssl(b->ctx, CM_ERR_CRYPTO, "reasonCode");
	}
	*out = b->reason_ext[reason];
	return 0;
}

static int
entry_cb(void *arg, struct store_row *row)
{
	struct crl_build *b = arg;
	X509_REVOKED *rev;
	ASN1_INTEGER *sn = NULL;
	ASN1_TIME *t = NULL;
	X509_EXTENSION *ext = NULL;
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
	if (p == NULL || len == 0 || (len == 1 && p[0] == 0)) {
		b->rc = cm_err(b->ctx, CM_ERR_DB, "a revoked serial in the CMDB "
		    "is not a positive integer");
		return b->rc;
	}
	if ((rev = X509_REVOKED_new()) == NULL ||
	    (sn = ASN1_INTEGER_new()) == NULL ||
	    !ASN1_STRING_set(sn, p, (int)len) ||
	    !X509_REVOKED_set_serialNumber(rev, sn) ||
	    (t = ASN1_TIME_set(NULL, (time_t)store_row_int(row, 1))) == NULL ||
	    !X509_REVOKED_set_revocationDate(rev, t)) {
		b->rc = CM_ERR_NOMEM;
		goto fail;
	}
	if (reason != CM_REASON_UNSPECIFIED) {
		if ((b->rc = reason_ext(b, reason, &ext)) != 0)
			goto fail;
		if (!X509_REVOKED_add_ext(rev, ext, -1)) {
			b->rc = CM_ERR_NOMEM;
			goto fail;
		}
	}
	if (!X509_CRL_add0_revoked(b->crl, rev)) {
		b->rc = CM_ERR_NOMEM;
		goto fail;
	}
	ASN1_INTEGER_free(sn);
	ASN1_TIME_free(t);
	b->entries++;
	return 0;
fail:
	ASN1_INTEGER_free(sn);
	ASN1_TIME_free(t);
	X509_REVOKED_free(rev);
	return b->rc;
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
crl_ext_int(struct cm_ctx *ctx, X509_CRL *crl, int nid, int64_t v, int crit)
{
	ASN1_INTEGER *ai;
	int ok;

	if ((ai = ASN1_INTEGER_new()) == NULL || !ASN1_INTEGER_set_int64(ai, v)) {
		ASN1_INTEGER_free(ai);
		return CM_ERR_NOMEM;
	}
	ok = X509_CRL_add1_ext_i2d(crl, nid, ai, crit, X509V3_ADD_DEFAULT);
	ASN1_INTEGER_free(ai);
	return ok == 1 ? 0 : cm_err_ssl(ctx, CM_ERR_CRYPTO, "CRL extension %s",
	    OBJ_nid2sn(nid));
}

static int
crl_aki(struct cm_ctx *ctx, X509_CRL *crl, X509 *ca)
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
	    (akid->keyid = ASN1_OCTET_STRING_new()) != NULL)
		ASN1_OCTET_STRING_set(akid->keyid, id, sizeof(id));
	if (akid->keyid == NULL) {
		AUTHORITY_KEYID_free(akid);
		return CM_ERR_NOMEM;
	}
	ok = X509_CRL_add1_ext_i2d(crl, NID_authority_key_identifier, akid, 0,
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

static const char *
crl_digest(EVP_PKEY *pkey)
{
	char buf[32];

	x509_key_type(pkey, buf, sizeof(buf));
	if (strcmp(buf, "ec:p384") == 0)
		return "sha384";
	if (strcmp(buf, "ec:p521") == 0)
		return "sha512";
	return "sha256";
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
	ASN1_TIME *t = NULL;
	unsigned char *der = NULL;
	char name[160], counter[32], detail[160];
	int64_t ca_id, key_id, num = 0, event;
	time_t now = time(NULL);
	int len, rc, i;

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
	rc = CM_ERR_CRYPTO;
	if ((b.crl = X509_CRL_new()) == NULL ||
	    !X509_CRL_set_version(b.crl, X509_CRL_VERSION_2) ||
	    !X509_CRL_set_issuer_name(b.crl, X509_get_subject_name(cert)) ||
	    (t = ASN1_TIME_set(NULL, now)) == NULL ||
	    !X509_CRL_set1_lastUpdate(b.crl, t) ||
	    !ASN1_TIME_set(t, now + (delta ? iv.delta : iv.crl)) ||
	    !X509_CRL_set1_nextUpdate(b.crl, t)) {
		cm_err_ssl(ctx, rc, "CA \"%s\": building the CRL", ca);
		goto end;
	}
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
			    "reason FROM revocations WHERE ca_id = ? AND "
			    "released > ? AND event <= ? ORDER BY id", entry_cb,
			    &b, "iii", ca_id, base.event, base.event);
	}
	if (rc != 0)
		goto end;
	if ((rc = crl_aki(ctx, b.crl, cert)) != 0 ||
	    (rc = crl_ext_int(ctx, b.crl, NID_crl_number, num, 0)) != 0 ||
	    (delta && (rc = crl_ext_int(ctx, b.crl, NID_delta_crl, base.number,
	    1)) != 0))
		goto end;
	if ((rc = signer_sign_crl(ctx, s, b.crl,
	    crl_digest(signer_get0_pkey(s)))) != 0)
		goto end;
	if ((rc = lint_crl(ctx, b.crl)) != 0) {
		cm_err_prefix(ctx, name);
		goto end;
	}
	if ((len = i2d_X509_CRL(b.crl, &der)) <= 0) {
		rc = cm_err_ssl(ctx, CM_ERR_CRYPTO, "DER encoding");
		goto end;
	}
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
end:
	snprintf(detail, sizeof(detail), "%s CRL %lld, %lld entries",
	    delta ? "delta" : "full", (long long)num, (long long)b.entries);
	rc = txn_end(ctx, rc, "crl.issue", ca, detail);
	if (rc == 0)
		*number = num;
out:
	for (i = 0; i < 11; i++)
		X509_EXTENSION_free(b.reason_ext[i]);
	OPENSSL_free(der);
	ASN1_TIME_free(t);
	X509_CRL_free(b.crl);
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
