/*
 * audit.c: the hash-chained audit log, and the transaction frame that
 * commits every state change together with its audit record.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "extern.h"

#define HASH_LEN	32

static void
put_be(unsigned char *p, uint64_t v, int n)
{
	int i;

	for (i = n - 1; i >= 0; i--) {
		p[i] = v & 0xff;
		v >>= 8;
	}
}

static int
hash_str(EVP_MD_CTX *md, const char *s)
{
	unsigned char len[4];
	size_t n = strlen(s);

	put_be(len, n, 4);
	return EVP_DigestUpdate(md, len, 4) && EVP_DigestUpdate(md, s, n);
}

/*
 * The hash of one record: SHA-256 over the previous hash, the sequence
 * number and time (64-bit big-endian) and the five text fields, each
 * prefixed by its 32-bit length.
 */
static int
record_hash(const unsigned char *prev, int64_t seq, int64_t t,
    const char *actor, const char *action, const char *object,
    const char *result, const char *detail, unsigned char *out)
{
	EVP_MD_CTX *md;
	unsigned char num[16];
	int ok;

	if ((md = EVP_MD_CTX_new()) == NULL)
		return 0;
	put_be(num, (uint64_t)seq, 8);
	put_be(num + 8, (uint64_t)t, 8);
	ok = EVP_DigestInit_ex(md, EVP_sha256(), NULL) &&
	    EVP_DigestUpdate(md, prev, HASH_LEN) &&
	    EVP_DigestUpdate(md, num, sizeof(num)) &&
	    hash_str(md, actor) && hash_str(md, action) &&
	    hash_str(md, object) && hash_str(md, result) &&
	    hash_str(md, detail) && EVP_DigestFinal_ex(md, out, NULL);
	EVP_MD_CTX_free(md);
	return ok;
}

struct last {
	int64_t		seq;
	unsigned char	hash[HASH_LEN];
};

static int
last_cb(void *arg, struct store_row *row)
{
	struct last *l = arg;
	const unsigned char *h;
	size_t len;

	l->seq = store_row_int(row, 0);
	h = store_row_blob(row, 1, &len);
	if (h != NULL && len == HASH_LEN)
		memcpy(l->hash, h, HASH_LEN);
	return 1;
}

/*
 * Append an audit record inside the current transaction.  Returns 0 or a
 * CM_ERR_*.
 */
static int
append(struct cm_ctx *ctx, const char *action, const char *object,
    const char *result, const char *detail)
{
	struct last l;
	unsigned char hash[HASH_LEN];
	const char *actor = ctx->actor != NULL ? ctx->actor : "unknown";
	int64_t now = (int64_t)time(NULL);
	int rc;

	memset(&l, 0, sizeof(l));
	rc = store_query(ctx, "SELECT seq, hash FROM audit ORDER BY seq DESC "
	    "LIMIT 1", last_cb, &l, NULL);
	if (rc != 0)
		return rc;
	if (object == NULL)
		object = "";
	if (detail == NULL)
		detail = "";
	if (!record_hash(l.hash, l.seq + 1, now, actor, action, object,
	    result, detail, hash))
		return cm_err_ssl(ctx, CM_ERR_CRYPTO, "audit: SHA-256");
	rc = store_exec(ctx, "INSERT INTO audit (seq, time, actor, action, "
	    "object, result, detail, prev, hash) VALUES (?, ?, ?, ?, ?, ?, ?, "
	    "?, ?)", "iittttt" "bb", l.seq + 1, now, actor, action, object,
	    result, detail, l.hash, (size_t)HASH_LEN, hash, (size_t)HASH_LEN);
	if (rc != 0)
		return rc;
	return store_exec(ctx, "INSERT INTO counters (name, value) VALUES "
	    "('audit head', ?) ON CONFLICT (name) DO UPDATE SET value = "
	    "excluded.value", "i", l.seq + 1);
}

/* Append a record of a successful action to the current transaction. */
int
audit_append(struct cm_ctx *ctx, const char *action, const char *object,
    const char *detail)
{
	return append(ctx, action, object, "ok", detail);
}

/*
 * Finish a state change that failed with rc: record the refusal with the
 * error message in a transaction of its own, when the CMDB can take it.
 * The message in the context is kept.  Returns rc.
 */
int
audit_done(struct cm_ctx *ctx, int rc, const char *action, const char *object)
{
	char msg[CM_ERRMSG_MAX];

	if (rc == 0 || ctx->store == NULL || ctx->readonly ||
	    rc == CM_ERR_BUSY || rc == CM_ERR_NOMEM || rc == CM_ERR_DB)
		return rc;
	memcpy(msg, ctx->errmsg, sizeof(msg));
	store_rollback(ctx);
	if (store_begin(ctx) == 0) {
		if (append(ctx, action, object, "refused", msg) == 0)
			store_commit(ctx);
		else
			store_rollback(ctx);
	}
	memcpy(ctx->errmsg, msg, sizeof(msg));
	return rc;
}

/* Start a state change: BEGIN IMMEDIATE. */
int
txn_begin(struct cm_ctx *ctx)
{
	return store_begin(ctx);
}

/*
 * End a state change: with rc 0, append the audit record and commit; else
 * (or when that fails) roll back.  Returns 0 or the CM_ERR_*.
 */
int
txn_end(struct cm_ctx *ctx, int rc, const char *action, const char *object,
    const char *detail)
{
	if (rc == 0)
		rc = append(ctx, action, object, "ok", detail);
	if (rc == 0)
		rc = store_commit(ctx);
	if (rc != 0)
		store_rollback(ctx);
	return rc;
}

struct list_arg {
	cm_audit_cb	 cb;
	void		*arg;
};

static int
list_cb(void *arg, struct store_row *row)
{
	struct list_arg *a = arg;
	struct cm_audit_info ai;

	ai.seq = store_row_int(row, 0);
	ai.time = (time_t)store_row_int(row, 1);
	ai.actor = store_row_text(row, 2);
	ai.action = store_row_text(row, 3);
	ai.object = store_row_text(row, 4);
	ai.result = store_row_text(row, 5);
	ai.detail = store_row_text(row, 6);
	return a->cb(a->arg, &ai);
}

/* Call cb for audit records at or after since, oldest first. */
int
cm_audit_list(struct cm_ctx *ctx, time_t since, int limit, cm_audit_cb cb,
    void *arg)
{
	struct list_arg a = { cb, arg };

	return store_query(ctx, "SELECT seq, time, actor, action, object, "
	    "result, detail FROM audit WHERE time >= ? ORDER BY seq LIMIT ?",
	    list_cb, &a, "ii", (int64_t)since,
	    (int64_t)(limit > 0 ? limit : -1));
}

struct verify_arg {
	struct cm_ctx	*ctx;
	int64_t		 expect;
	unsigned char	 prev[HASH_LEN];
	int64_t		 bad;
};

static int
verify_cb(void *arg, struct store_row *row)
{
	struct verify_arg *v = arg;
	unsigned char h[HASH_LEN];
	const unsigned char *prev, *hash;
	size_t plen, hlen;
	int64_t seq = store_row_int(row, 0);

	if (seq != v->expect) {
		v->bad = v->expect;
		return cm_err(v->ctx, CM_ERR_AUDIT, "audit record %lld is "
		    "missing (the next one is %lld): records were deleted",
		    (long long)v->expect, (long long)seq);
	}
	prev = store_row_blob(row, 7, &plen);
	hash = store_row_blob(row, 8, &hlen);
	if (prev == NULL || plen != HASH_LEN ||
	    CRYPTO_memcmp(prev, v->prev, HASH_LEN) != 0) {
		v->bad = seq;
		return cm_err(v->ctx, CM_ERR_AUDIT, "audit record %lld does "
		    "not chain to record %lld: the log was altered",
		    (long long)seq, (long long)seq - 1);
	}
	if (!record_hash(v->prev, seq, store_row_int(row, 1),
	    store_row_text(row, 2), store_row_text(row, 3),
	    store_row_text(row, 4), store_row_text(row, 5),
	    store_row_text(row, 6), h))
		return cm_err_ssl(v->ctx, CM_ERR_CRYPTO, "audit: SHA-256");
	if (hash == NULL || hlen != HASH_LEN ||
	    CRYPTO_memcmp(hash, h, HASH_LEN) != 0) {
		v->bad = seq;
		return cm_err(v->ctx, CM_ERR_AUDIT, "audit record %lld: the "
		    "hash does not match its contents: the record was edited",
		    (long long)seq);
	}
	memcpy(v->prev, h, HASH_LEN);
	v->expect++;
	return 0;
}

/*
 * Verify the whole hash chain, then every applied policy change and its
 * officer signatures.  Returns 0 with *count records checked, or
 * CM_ERR_AUDIT with *bad the number of the first broken record (or
 * change).
 */
int
cm_audit_verify(struct cm_ctx *ctx, int64_t *count, int64_t *bad)
{
	struct verify_arg v;
	int64_t head;
	int rc;

	*count = 0;
	*bad = 0;
	memset(&v, 0, sizeof(v));
	v.ctx = ctx;
	v.expect = 1;
	rc = store_query(ctx, "SELECT seq, time, actor, action, object, "
	    "result, detail, prev, hash FROM audit ORDER BY seq", verify_cb,
	    &v, NULL);
	if (rc != 0) {
		*bad = v.bad;
		return rc;
	}
	rc = store_int(ctx, &head, "SELECT value FROM counters WHERE name = "
	    "'audit head'", NULL);
	if (rc == CM_ERR_NOTFOUND)
		head = 0;
	else if (rc != 0)
		return rc;
	if (head != v.expect - 1) {
		*bad = v.expect;
		return cm_err(ctx, CM_ERR_AUDIT, "audit log ends at record "
		    "%lld, but the CMDB counted %lld: records were deleted "
		    "from the end", (long long)v.expect - 1, (long long)head);
	}
	*count = v.expect - 1;
	/* Policy in the CMDB must be what signed changes made it. */
	return change_verify_all(ctx, bad);
}
