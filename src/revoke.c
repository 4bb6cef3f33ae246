/*
 * revoke.c: revocation, holds and their release (RFC 5280 5.3.1).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "extern.h"

static const struct {
	const char	*name;
	int		 value;
} reasons[] = {
	{ "unspecified",		CM_REASON_UNSPECIFIED },
	{ "keyCompromise",		CM_REASON_KEY_COMPROMISE },
	{ "cACompromise",		CM_REASON_CA_COMPROMISE },
	{ "affiliationChanged",		CM_REASON_AFFILIATION_CHANGED },
	{ "superseded",			CM_REASON_SUPERSEDED },
	{ "cessationOfOperation",	CM_REASON_CESSATION_OF_OPERATION },
	{ "certificateHold",		CM_REASON_CERTIFICATE_HOLD },
	{ "removeFromCRL",		CM_REASON_REMOVE_FROM_CRL },
	{ "privilegeWithdrawn",		CM_REASON_PRIVILEGE_WITHDRAWN },
	{ "aACompromise",		CM_REASON_AA_COMPROMISE },
	{ NULL,				0 }
};

/*
 * The value of a reason name a revocation may give (not removeFromCRL nor
 * aACompromise), or -1.
 */
int
cm_reason_parse(const char *name)
{
	size_t i;

	for (i = 0; name != NULL && reasons[i].name != NULL; i++)
		if (strcmp(reasons[i].name, name) == 0 &&
		    reasons[i].value != CM_REASON_REMOVE_FROM_CRL &&
		    reasons[i].value != CM_REASON_AA_COMPROMISE)
			return reasons[i].value;
	return -1;
}

/* The RFC 5280 name of a reason value. */
const char *
cm_reason_name(int value)
{
	size_t i;

	for (i = 0; reasons[i].name != NULL; i++)
		if (reasons[i].value == value)
			return reasons[i].name;
	return "unknown";
}

struct find_arg {
	int64_t	id;
	int64_t	ca_id;
	int64_t	is_ca;
	char	status[16];
	int	count;
};

static int
find_cb(void *arg, struct store_row *row)
{
	struct find_arg *a = arg;

	a->count++;
	a->id = store_row_int(row, 0);
	a->ca_id = store_row_int(row, 1);
	snprintf(a->status, sizeof(a->status), "%s", store_row_text(row, 2));
	a->is_ca = store_row_int(row, 3);
	return 0;
}

/* Find one certificate by serial and optionally CA name. */
static int
cert_find(struct cm_ctx *ctx, const char *serial, const char *ca,
    struct find_arg *a, char *norm, size_t normlen)
{
	int64_t ca_id;
	int rc;

	memset(a, 0, sizeof(*a));
	if (x509_serial_norm(serial, norm, normlen) == -1)
		return cm_err(ctx, CM_ERR_INVAL, "serial \"%s\": not a "
		    "hexadecimal serial number", serial == NULL ? "" : serial);
	if (ca != NULL && (rc = ca_lookup(ctx, ca, &ca_id)) != 0)
		return rc;
	rc = store_query(ctx, "SELECT c.id, c.ca_id, c.status, EXISTS (SELECT "
	    "1 FROM cas WHERE cert_id = c.id) FROM certs c JOIN cas a ON a.id = "
	    "c.ca_id WHERE c.serial = ?1 AND (?2 IS NULL OR a.name = ?2)",
	    find_cb, a, "tt", norm, ca);
	if (rc != 0)
		return rc;
	if (a->count == 0)
		return cm_err(ctx, CM_ERR_NOTFOUND, "certificate %s not found%s%s"
		    "%s", norm, ca != NULL ? " in CA \"" : "", ca != NULL ? ca :
		    "", ca != NULL ? "\"" : "");
	if (a->count > 1)
		return cm_err(ctx, CM_ERR_POLICY, "serial %s is in more than "
		    "one CA: name the CA with --ca", norm);
	return 0;
}

static int
event_next(struct cm_ctx *ctx, int64_t *ev)
{
	int rc;

	if ((rc = store_exec(ctx, "UPDATE counters SET value = value + 1 "
	    "WHERE name = 'revocation event'", NULL)) != 0)
		return rc;
	return store_int(ctx, ev, "SELECT value FROM counters WHERE name = "
	    "'revocation event'", NULL);
}

static int
serial_cb(void *arg, struct store_row *row)
{
	char **out = arg;

	*out = cm_strdup(store_row_text(row, 0));
	return 1;
}

/*
 * Revoke (or put on hold) certificate row cert_id inside the current
 * transaction.  A certificate on hold takes its final reason here.
 */
int
revoke_cert_row(struct cm_ctx *ctx, int64_t cert_id, int reason, time_t when)
{
	struct find_arg a;
	int64_t ev;
	long len;
	const char *status = reason == CM_REASON_CERTIFICATE_HOLD ? "hold" :
	    "revoked";
	unsigned char *bin = NULL;
	char *hex = NULL;
	int rc;

	memset(&a, 0, sizeof(a));
	rc = store_query(ctx, "SELECT id, ca_id, status, 0 FROM certs WHERE "
	    "id = ?", find_cb, &a, "i", cert_id);
	if (rc != 0)
		return rc;
	if ((rc = event_next(ctx, &ev)) != 0)
		return rc;
	if (strcmp(a.status, "hold") == 0) {
		rc = store_exec(ctx, "UPDATE revocations SET reason = ?, event "
		    "= ?, revocation_time = ? WHERE cert_id = ? AND released IS "
		    "NULL", "Iiii", reason, ev, (int64_t)when, cert_id);
	} else {
		/* The serial as octets, so CRLs are built without parsing. */
		rc = store_query(ctx, "SELECT serial FROM certs WHERE id = ?",
		    serial_cb, &hex, "i", cert_id);
		if (rc != 0)
			return rc;
		if (hex == NULL || (bin = OPENSSL_hexstr2buf(hex, &len)) ==
		    NULL) {
			free(hex);
			return cm_err(ctx, CM_ERR_DB, "certificate %lld: bad "
			    "serial in the CMDB", (long long)cert_id);
		}
		rc = store_exec(ctx, "INSERT INTO revocations (cert_id, ca_id, "
		    "serial, reason, revocation_time, event) VALUES (?, ?, ?, "
		    "?, ?, ?)", "iibIii", cert_id, a.ca_id, bin, (size_t)len,
		    reason, (int64_t)when, ev);
		OPENSSL_free(bin);
		free(hex);
	}
	if (rc != 0)
		return rc;
	return store_exec(ctx, "UPDATE certs SET status = ? WHERE id = ?", "ti",
	    status, cert_id);
}

/*
 * Revoke a certificate or put it on hold.  Returns 0 or a CM_ERR_* naming
 * the certificate and the rule; a refusal is recorded in the audit log.
 */
int
cm_cert_revoke(struct cm_ctx *ctx, const struct cm_revoke_req *req)
{
	struct find_arg a;
	char norm[130], detail[CM_ERRMSG_MAX];
	time_t when = time(NULL);
	int reason, rc;

	if ((rc = officer_require(ctx, PERM_REVOKE, "revoke")) != 0)
		goto out;
	if ((reason = cm_reason_parse(req->reason)) < 0) {
		rc = cm_err(ctx, CM_ERR_INVAL, "revocation reason \"%s\": use "
		    "unspecified, keyCompromise, cACompromise, "
		    "affiliationChanged, superseded, cessationOfOperation, "
		    "certificateHold or privilegeWithdrawn",
		    req->reason == NULL ? "" : req->reason);
		goto out;
	}
	if (req->time != NULL && (rc = cm_time_parse(ctx, "revocation time",
	    req->time, &when)) != 0)
		goto out;
	if (when > time(NULL) + 60) {
		rc = cm_err(ctx, CM_ERR_INVAL, "revocation time %s is in the "
		    "future", req->time);
		goto out;
	}
	if ((rc = cert_find(ctx, req->serial, req->ca, &a, norm,
	    sizeof(norm))) != 0)
		goto out;
	if (a.is_ca) {
		rc = cm_err(ctx, CM_ERR_POLICY, "certificate %s is a CA "
		    "certificate: revoke the CA with \"ca revoke\"", norm);
		goto out;
	}
	if (strcmp(a.status, "revoked") == 0) {
		rc = cm_err(ctx, CM_ERR_POLICY, "certificate %s is already "
		    "revoked", norm);
		goto out;
	}
	if (strcmp(a.status, "hold") == 0 &&
	    reason == CM_REASON_CERTIFICATE_HOLD) {
		rc = cm_err(ctx, CM_ERR_POLICY, "certificate %s is already on "
		    "hold", norm);
		goto out;
	}
	/* The CA keys of its delta CRL: asked now, not under the lock. */
	crl_revoke_prepare(ctx, a.ca_id, 0);
	if ((rc = txn_begin(ctx)) != 0)
		goto out;
	rc = revoke_cert_row(ctx, a.id, reason, when);
	/* The delta CRL on revocation commits with it. */
	if (rc == 0)
		rc = crl_revoke_deltas(ctx);
	snprintf(detail, sizeof(detail), "reason %s%s%.900s",
	    cm_reason_name(reason), ctx->warning[0] != '\0' ? "; " : "",
	    ctx->warning);
	rc = txn_end(ctx, rc, reason == CM_REASON_CERTIFICATE_HOLD ?
	    "cert.hold" : "cert.revoke", norm, detail);
out:
	return audit_done(ctx, rc, "cert.revoke", req->serial);
}

/*
 * Lift a hold: the certificate is valid again and the next delta CRL lists
 * it with removeFromCRL.  Returns 0 or a CM_ERR_*.
 */
int
cm_cert_release(struct cm_ctx *ctx, const char *serial, const char *ca)
{
	struct find_arg a;
	char norm[130], detail[CM_ERRMSG_MAX];
	int64_t ev;
	int rc;

	if ((rc = officer_require(ctx, PERM_REVOKE, "release")) != 0 ||
	    (rc = cert_find(ctx, serial, ca, &a, norm, sizeof(norm))) != 0)
		goto out;
	if (strcmp(a.status, "hold") != 0) {
		rc = cm_err(ctx, CM_ERR_POLICY, "certificate %s is %s, not on "
		    "hold: only a hold can be released", norm, a.status);
		goto out;
	}
	crl_revoke_prepare(ctx, a.ca_id, 0);
	if ((rc = txn_begin(ctx)) != 0)
		goto out;
	/* Only a hold is lifted, even if a revocation committed meanwhile. */
	if ((rc = event_next(ctx, &ev)) == 0 &&
	    (rc = store_exec(ctx, "UPDATE revocations SET released = ? WHERE "
	    "cert_id = ? AND released IS NULL AND reason = ?", "iiI", ev, a.id,
	    CM_REASON_CERTIFICATE_HOLD)) == 0 && store_changes(ctx) != 1)
		rc = cm_err(ctx, CM_ERR_POLICY, "certificate %s is no longer on "
		    "hold", norm);
	if (rc == 0)
		rc = store_exec(ctx, "UPDATE certs SET status = 'valid' WHERE "
		    "id = ?", "i", a.id);
	if (rc == 0)
		rc = crl_revoke_deltas(ctx);
	snprintf(detail, sizeof(detail), "hold lifted%s%.900s",
	    ctx->warning[0] != '\0' ? "; " : "", ctx->warning);
	rc = txn_end(ctx, rc, "cert.release", norm, detail);
out:
	return audit_done(ctx, rc, "cert.release", serial);
}
