/*
 * cert.c: finding certificates: by serial, subject prefix, CA, status and
 * expiry.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "extern.h"

#define CERT_COLS "c.id, c.serial, a.name, c.subject, p.name, CASE WHEN " \
	"c.status = 'valid' AND c.not_after < ?1 THEN 'expired' ELSE " \
	"c.status END, c.not_before, c.not_after, c.issued, r.reason, " \
	"r.revocation_time, c.der FROM certs c JOIN cas a ON a.id = c.ca_id " \
	"LEFT JOIN procedures p ON p.id = c.procedure_id LEFT JOIN " \
	"revocations r ON r.cert_id = c.id AND r.released IS NULL "

#define CERT_FILTER "(?2 IS NULL OR a.name = ?2) AND (?3 IS NULL OR " \
	"(CASE WHEN c.status = 'valid' AND c.not_after < ?1 THEN 'expired' " \
	"ELSE c.status END) = ?3) AND (?4 < 0 OR (c.status = 'valid' AND " \
	"c.not_after >= ?1 AND c.not_after < ?1 + ?4 * 86400)) "

struct cert_arg {
	cm_cert_cb	 cb;
	void		*arg;
};

static int
cert_cb(void *arg, struct store_row *row)
{
	struct cert_arg *a = arg;
	struct cm_cert_info ci;

	memset(&ci, 0, sizeof(ci));
	ci.id = store_row_int(row, 0);
	ci.serial = store_row_text(row, 1);
	ci.ca = store_row_text(row, 2);
	ci.subject = store_row_text(row, 3);
	ci.procedure = store_row_null(row, 4) ? NULL : store_row_text(row, 4);
	ci.status = store_row_text(row, 5);
	ci.not_before = (time_t)store_row_int(row, 6);
	ci.not_after = (time_t)store_row_int(row, 7);
	ci.issued = (time_t)store_row_int(row, 8);
	if (!store_row_null(row, 9)) {
		ci.reason = cm_reason_name((int)store_row_int(row, 9));
		ci.revocation_time = (time_t)store_row_int(row, 10);
	}
	ci.der = store_row_blob(row, 11, &ci.der_len);
	return a->cb(a->arg, &ci);
}

/*
 * Call cb for the certificates that pass the filter.  A subject prefix
 * search is a range scan on the subject index, in subject order; other
 * listings are in issuance order.
 */
int
cm_cert_list(struct cm_ctx *ctx, const struct cm_cert_filter *f,
    cm_cert_cb cb, void *arg)
{
	struct cert_arg a = { cb, arg };
	int64_t now = (int64_t)time(NULL), id;
	int64_t limit = f->limit > 0 ? f->limit : -1;
	int64_t after = f->after_id;
	const char *asub = f->after_subject;
	char *upper = NULL;
	int rc;

	if (f->status != NULL && strcmp(f->status, "valid") != 0 &&
	    strcmp(f->status, "hold") != 0 && strcmp(f->status, "revoked") !=
	    0 && strcmp(f->status, "expired") != 0)
		return cm_err(ctx, CM_ERR_INVAL, "status \"%s\": use valid, "
		    "hold, revoked or expired", f->status);
	if (f->ca != NULL && (rc = ca_lookup(ctx, f->ca, &id)) != 0)
		return rc;
	if (f->backward && after == 0)
		after = INT64_MAX;
	if (f->subject_prefix == NULL || *f->subject_prefix == '\0') {
		if (f->backward)
			return store_query(ctx, "SELECT " CERT_COLS "WHERE "
			    "c.id < ?6 AND " CERT_FILTER "ORDER BY c.id DESC "
			    "LIMIT ?5", cert_cb, &a, "ittiii", now, f->ca,
			    f->status, (int64_t)f->expiring_days, limit, after);
		return store_query(ctx, "SELECT " CERT_COLS "WHERE c.id > ?6 "
		    "AND " CERT_FILTER "ORDER BY c.id LIMIT ?5", cert_cb, &a,
		    "ittiii", now, f->ca, f->status, (int64_t)f->expiring_days,
		    limit, after);
	}
	/* Every string with the prefix sorts below prefix + 0xff. */
	if (cm_asprintf(&upper, "%s\xff", f->subject_prefix) != 0)
		return CM_ERR_NOMEM;
	if (asub == NULL || after == 0 || after == INT64_MAX)
		asub = f->backward ? upper : "";
	if (f->backward)
		rc = store_query(ctx, "SELECT " CERT_COLS "WHERE c.subject >= "
		    "?6 AND c.subject < ?7 AND (c.subject, c.id) < (?9, ?8) AND "
		    CERT_FILTER "ORDER BY c.subject DESC, c.id DESC LIMIT ?5",
		    cert_cb, &a, "ittiitt" "it", now, f->ca, f->status,
		    (int64_t)f->expiring_days, limit, f->subject_prefix, upper,
		    after, asub);
	else
		rc = store_query(ctx, "SELECT " CERT_COLS "WHERE c.subject >= "
		    "?6 AND c.subject < ?7 AND (c.subject, c.id) > (?9, ?8) AND "
		    CERT_FILTER "ORDER BY c.subject, c.id LIMIT ?5", cert_cb, &a,
		    "ittiitt" "it", now, f->ca, f->status,
		    (int64_t)f->expiring_days, limit, f->subject_prefix, upper,
		    after, asub);
	free(upper);
	return rc;
}

/*
 * Call cb for the certificate with this serial (in CA ca, when given).
 * Returns CM_ERR_NOTFOUND when there is none, CM_ERR_POLICY when the serial
 * is in several CAs and none was named.
 */
int
cm_cert_show(struct cm_ctx *ctx, const char *serial, const char *ca,
    cm_cert_cb cb, void *arg)
{
	struct cert_arg a = { cb, arg };
	char norm[130];
	int64_t n;
	int rc;

	if (x509_serial_norm(serial, norm, sizeof(norm)) == -1)
		return cm_err(ctx, CM_ERR_INVAL, "serial \"%s\": not a "
		    "hexadecimal serial number", serial == NULL ? "" : serial);
	rc = store_int(ctx, &n, "SELECT count(*) FROM certs c JOIN cas a ON "
	    "a.id = c.ca_id WHERE c.serial = ?1 AND (?2 IS NULL OR a.name = "
	    "?2)", "tt", norm, ca);
	if (rc != 0)
		return rc;
	if (n == 0)
		return cm_err(ctx, CM_ERR_NOTFOUND, "certificate %s not found",
		    norm);
	if (n > 1)
		return cm_err(ctx, CM_ERR_POLICY, "serial %s is in more than "
		    "one CA: name the CA with --ca", norm);
	return store_query(ctx, "SELECT " CERT_COLS "WHERE c.serial = ?2 AND "
	    "(?3 IS NULL OR a.name = ?3)", cert_cb, &a, "itt",
	    (int64_t)time(NULL), norm, ca);
}

/* Call cb for every certificate of token id, in issuance order. */
int
cm_token_certs(struct cm_ctx *ctx, int64_t id, cm_cert_cb cb, void *arg)
{
	struct cert_arg a = { cb, arg };

	return store_query(ctx, "SELECT " CERT_COLS "WHERE c.token_id = ?2 "
	    "ORDER BY c.id", cert_cb, &a, "ii", (int64_t)time(NULL), id);
}
