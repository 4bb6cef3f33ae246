/*
 * subject.c: registered subjects, the persons and devices that tokens and
 * certificates are issued to.
 */
#include "config.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "extern.h"

/* Check a subjectAltName list in the syntax of issue --san. */
int
subject_san_check(struct cm_ctx *ctx, const char *what, const char *san)
{
	X509_EXTENSION *ext;

	if (san == NULL || *san == '\0')
		return 0;
	ext = X509V3_EXT_nconf_nid(NULL, NULL, NID_subject_alt_name, san);
	if (ext == NULL)
		return cm_err_ssl(ctx, CM_ERR_INVAL, "%s: subject alternative "
		    "name \"%s\": use DNS:name, IP:address, email:addr or "
		    "URI:uri, separated by commas", what, san);
	X509_EXTENSION_free(ext);
	return 0;
}

/* Check a subjectAltName list for a form's inline validation. */
int
cm_san_check(struct cm_ctx *ctx, const char *san)
{
	return subject_san_check(ctx, "subjectAltName", san);
}

/*
 * Register a subject.  The DN is stored as dn_format() writes it, so it is
 * found again however it was spelled.  Returns 0 with its id or a CM_ERR_*.
 */
int
cm_subject_register(struct cm_ctx *ctx, const struct cm_subject_req *req,
    int64_t *id)
{
	X509_NAME *dn = NULL;
	char *norm = NULL, detail[64];
	int64_t other;
	int rc;

	*id = 0;
	if ((rc = officer_require(ctx, PERM_ISSUE, "subject register")) != 0 ||
	    (rc = dn_parse(ctx, req->dn, &dn)) != 0)
		goto out;
	if ((norm = dn_format(dn)) == NULL) {
		rc = CM_ERR_NOMEM;
		goto out;
	}
	if (req->email != NULL && (strchr(req->email, '@') == NULL ||
	    strpbrk(req->email, " ,\t\n") != NULL)) {
		rc = cm_err(ctx, CM_ERR_INVAL, "subject \"%s\": email \"%s\" is "
		    "not an address", norm, req->email);
		goto out;
	}
	if ((rc = subject_san_check(ctx, norm, req->san)) != 0)
		goto out;
	rc = store_int(ctx, &other, "SELECT id FROM subjects WHERE dn = ?",
	    "t", norm);
	if (rc == 0) {
		rc = cm_err(ctx, CM_ERR_EXISTS, "subject \"%s\" is already "
		    "registered (ID %lld)", norm, (long long)other);
		goto out;
	} else if (rc != CM_ERR_NOTFOUND)
		goto out;
	if ((rc = txn_begin(ctx)) != 0)
		goto out;
	rc = store_exec(ctx, "INSERT INTO subjects (dn, email, san, created) "
	    "VALUES (?, ?, ?, ?)", "ttti", norm, req->email, req->san,
	    (int64_t)time(NULL));
	if (rc == 0)
		*id = store_last_id(ctx);
	snprintf(detail, sizeof(detail), "subject ID %lld", (long long)*id);
	rc = txn_end(ctx, rc, "subject.register", norm, detail);
	if (rc != 0)
		*id = 0;
out:
	rc = audit_done(ctx, rc, "subject.register", norm != NULL ? norm :
	    req->dn);
	free(norm);
	X509_NAME_free(dn);
	return rc;
}

/*
 * Find a subject by ID (all digits) or DN.  Returns 0 with its id, or
 * CM_ERR_NOTFOUND / CM_ERR_INVAL with a message.
 */
int
subject_lookup(struct cm_ctx *ctx, const char *which, int64_t *id)
{
	X509_NAME *dn = NULL;
	char *norm = NULL;
	const char *p;
	int rc;

	*id = 0;
	if (which == NULL || *which == '\0')
		return cm_err(ctx, CM_ERR_INVAL, "a subject ID or DN is "
		    "required");
	for (p = which; isdigit((unsigned char)*p); p++)
		;
	if (*p == '\0') {
		rc = store_int(ctx, id, "SELECT id FROM subjects WHERE id = ?",
		    "i", (int64_t)strtoll(which, NULL, 10));
	} else {
		if ((rc = dn_parse(ctx, which, &dn)) != 0)
			return rc;
		if ((norm = dn_format(dn)) == NULL) {
			X509_NAME_free(dn);
			return CM_ERR_NOMEM;
		}
		rc = store_int(ctx, id, "SELECT id FROM subjects WHERE dn = ?",
		    "t", norm);
	}
	if (rc == CM_ERR_NOTFOUND)
		rc = cm_err(ctx, rc, "subject \"%s\" is not registered", which);
	free(norm);
	X509_NAME_free(dn);
	return rc;
}

struct subject_arg {
	cm_subject_cb	 cb;
	void		*arg;
};

static int
subject_cb(void *arg, struct store_row *row)
{
	struct subject_arg *a = arg;
	struct cm_subject_info si;

	si.id = store_row_int(row, 0);
	si.dn = store_row_text(row, 1);
	si.email = store_row_null(row, 2) ? NULL : store_row_text(row, 2);
	si.san = store_row_null(row, 3) ? NULL : store_row_text(row, 3);
	si.created = (time_t)store_row_int(row, 4);
	return a->cb(a->arg, &si);
}

/* Call cb for every subject, or the one given by ID or DN. */
int
cm_subject_list(struct cm_ctx *ctx, const char *which, cm_subject_cb cb,
    void *arg)
{
	struct subject_arg a = { cb, arg };
	int64_t id = 0;
	int rc;

	if (which != NULL && (rc = subject_lookup(ctx, which, &id)) != 0)
		return rc;
	return store_query(ctx, "SELECT id, dn, email, san, created FROM "
	    "subjects WHERE ?1 = 0 OR id = ?1 ORDER BY id", subject_cb, &a,
	    "i", id);
}

/*
 * Call cb for the subjects whose DN or email contains text (ASCII case
 * does not matter), a page at a time (pg NULL: all), in ID order.
 */
int
cm_subject_search(struct cm_ctx *ctx, const char *text,
    const struct cm_page *pg, cm_subject_cb cb, void *arg)
{
	struct subject_arg a = { cb, arg };
	int64_t after = pg != NULL ? pg->after : 0;
	int64_t limit = pg != NULL && pg->limit > 0 ? pg->limit : -1;

	if (text != NULL && *text == '\0')
		text = NULL;
	if (pg != NULL && pg->backward)
		return store_query(ctx, "SELECT id, dn, email, san, created FROM "
		    "subjects WHERE (?1 IS NULL OR instr(lower(dn), lower(?1)) > "
		    "0 OR instr(lower(coalesce(email, '')), lower(?1)) > 0) AND "
		    "id < ?3 ORDER BY id DESC LIMIT ?2", subject_cb, &a, "tii",
		    text, limit, after != 0 ? after : INT64_MAX);
	return store_query(ctx, "SELECT id, dn, email, san, created FROM "
	    "subjects WHERE (?1 IS NULL OR instr(lower(dn), lower(?1)) > 0 OR "
	    "instr(lower(coalesce(email, '')), lower(?1)) > 0) AND id > ?3 "
	    "ORDER BY id LIMIT ?2", subject_cb, &a, "tii", text, limit, after);
}

/*
 * Change a registered subject's email and subjectAltName (the DN is who
 * the subject is, and stays).  Empty strings clear them; NULL keeps them.
 * Certificates already issued are not changed.  Returns 0 or a CM_ERR_*.
 */
int
cm_subject_modify(struct cm_ctx *ctx, const char *which,
    const struct cm_subject_req *req)
{
	char detail[800], object[64];
	int64_t id = 0;
	int rc;

	snprintf(object, sizeof(object), "subject %s", which != NULL ? which :
	    "");
	if ((rc = officer_require(ctx, PERM_ISSUE, "subject modify")) != 0 ||
	    (rc = subject_lookup(ctx, which, &id)) != 0)
		goto out;
	snprintf(object, sizeof(object), "subject ID %lld", (long long)id);
	if (req->email != NULL && *req->email != '\0' &&
	    (strchr(req->email, '@') == NULL || strpbrk(req->email, " ,\t\n") !=
	    NULL)) {
		rc = cm_err(ctx, CM_ERR_INVAL, "%s: email \"%s\" is not an "
		    "address", object, req->email);
		goto out;
	}
	if ((rc = subject_san_check(ctx, object, req->san)) != 0)
		goto out;
	if ((rc = txn_begin(ctx)) != 0)
		goto out;
	rc = store_exec(ctx, "UPDATE subjects SET email = CASE WHEN ?2 IS NULL "
	    "THEN email WHEN ?2 = '' THEN NULL ELSE ?2 END, san = CASE WHEN ?3 "
	    "IS NULL THEN san WHEN ?3 = '' THEN NULL ELSE ?3 END WHERE id = ?1",
	    "itt", id, req->email, req->san);
	snprintf(detail, sizeof(detail), "email %s, san %s", req->email ==
	    NULL ? "kept" : *req->email ? req->email : "cleared", req->san ==
	    NULL ? "kept" : *req->san ? req->san : "cleared");
	rc = txn_end(ctx, rc, "subject.modify", object, detail);
out:
	return audit_done(ctx, rc, "subject.modify", object);
}
