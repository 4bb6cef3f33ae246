/*
 * audit.c: the hash-chained audit log, and the transaction frame that
 * commits every state change together with its audit record.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

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

static int
text_cb(void *arg, struct store_row *row)
{
	snprintf(arg, 41, "%s", store_row_text(row, 0));
	return 1;
}

static int	checkpoints_verify(struct cm_ctx *, int64_t *);

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

	if (rc == 0 && strcmp(action, "audit.checkpoint") != 0)
		audit_auto_checkpoint(ctx);
	/* What a failed operation made on tokens goes with it. */
	if (rc != 0)
		p11_undo_end(ctx, 1);
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
	if (rc != 0) {
		store_rollback(ctx);
		/* What went wrong beside it went with it. */
		ctx->warning[0] = '\0';
	}
	/* Objects made on tokens stay only with the change that made them. */
	p11_undo_end(ctx, rc != 0);
	return rc;
}

#define AUDIT_FILTER "time >= ?1 AND (?2 = 0 OR time <= ?2) AND (?3 IS " \
	"NULL OR instr(actor, ?3) > 0) AND (?4 IS NULL OR substr(action, 1, " \
	"length(?4)) = ?4) AND (?5 IS NULL OR (?5 = 'ok') = (result = 'ok')) "

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

/*
 * Call cb for the audit records that pass the filter, oldest first (with
 * backward, newest first).  The actor is matched as a substring, the
 * action as a prefix.
 */
int
cm_audit_list(struct cm_ctx *ctx, const struct cm_audit_filter *f,
    cm_audit_cb cb, void *arg)
{
	struct list_arg a = { cb, arg };
	int64_t after = f->after_seq;

	if (f->result != NULL && strcmp(f->result, "ok") != 0 &&
	    strcmp(f->result, "refused") != 0)
		return cm_err(ctx, CM_ERR_INVAL, "result \"%s\": use ok or "
		    "refused", f->result);
	if (f->backward && after == 0)
		after = INT64_MAX;
	return store_query(ctx, f->backward ? "SELECT seq, time, actor, "
	    "action, object, result, detail FROM audit WHERE seq < ?6 AND "
	    AUDIT_FILTER "ORDER BY seq DESC LIMIT ?7" : "SELECT seq, time, "
	    "actor, action, object, result, detail FROM audit WHERE seq > ?6 "
	    "AND " AUDIT_FILTER "ORDER BY seq LIMIT ?7", list_cb, &a,
	    "iittt" "ii", (int64_t)f->since, (int64_t)f->until, f->actor,
	    f->action, f->result, after, (int64_t)(f->limit > 0 ? f->limit :
	    -1));
}

struct verify_arg {
	struct cm_ctx		*ctx;
	int64_t			 expect;
	unsigned char		 prev[HASH_LEN];
	int64_t			 bad;
	struct change_audit	*changes;	/* applied, from the log */
	size_t			 nchanges;
	int64_t			 checkpoints;	/* audit.checkpoint records */
};

/*
 * Note what an audit record says of an applied change: "change N
 * sha256:DOC ... policy sha256:POLICY".
 */
static int
note_change(struct verify_arg *v, const char *action, const char *result,
    const char *detail)
{
	struct change_audit *nc, ca;
	const char *p;
	long long id;

	if (strcmp(result, "ok") != 0)
		return 0;
	if (strcmp(action, "audit.checkpoint") == 0)
		v->checkpoints++;
	if ((p = strstr(detail, "policy sha256:")) == NULL ||
	    sscanf(detail, "change %lld sha256:%64[0-9A-F]", &id, ca.digest) !=
	    2 || sscanf(p, "policy sha256:%64[0-9A-F]", ca.policy) != 1)
		return 0;
	ca.id = id;
	ca.four_eye = strstr(detail, CHANGE_FOUR_EYE) != NULL;
	if ((nc = reallocarray(v->changes, v->nchanges + 1, sizeof(*nc))) ==
	    NULL)
		return CM_ERR_NOMEM;
	v->changes = nc;
	v->changes[v->nchanges++] = ca;
	return 0;
}

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
	return note_change(v, store_row_text(row, 3), store_row_text(row, 5),
	    store_row_text(row, 6));
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
	int64_t head, n;
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
		goto out;
	}
	rc = store_int(ctx, &head, "SELECT value FROM counters WHERE name = "
	    "'audit head'", NULL);
	if (rc == CM_ERR_NOTFOUND)
		head = 0;
	else if (rc != 0)
		goto out;
	if (head != v.expect - 1) {
		*bad = v.expect;
		rc = cm_err(ctx, CM_ERR_AUDIT, "audit log ends at record %lld, "
		    "but the CMDB counted %lld: records were deleted from the "
		    "end", (long long)v.expect - 1, (long long)head);
		goto out;
	}
	*count = v.expect - 1;
	if ((rc = checkpoints_verify(ctx, bad)) != 0)
		goto out;
	/* Every checkpoint the log tells of must still be there. */
	if ((rc = store_int(ctx, &n, "SELECT count(*) FROM audit_checkpoints",
	    NULL)) != 0)
		goto out;
	if (n != v.checkpoints) {
		rc = cm_err(ctx, CM_ERR_AUDIT, "the audit log records %lld "
		    "checkpoints, but %lld are stored: checkpoints were deleted "
		    "or forged", (long long)v.checkpoints, (long long)n);
		goto out;
	}
	if (cm_config_get(ctx, "logsignkey") != NULL && n == 0 && *count > 0) {
		rc = cm_err(ctx, CM_ERR_AUDIT, "logsignkey is set, but the audit "
		    "log has no checkpoint: run cmctl audit checkpoint");
		goto out;
	}
	/* Policy in the CMDB must be what signed changes made it. */
	rc = change_verify_all(ctx, v.changes, v.nchanges, bad);
out:
	free(v.changes);
	return rc;
}

/* The bytes a checkpoint signs. */
static int
checkpoint_msg(char *buf, size_t len, int64_t seq, const unsigned char *hash,
    int64_t t)
{
	char hex[2 * HASH_LEN + 1];

	cm_hex(hash, HASH_LEN, hex);
	return snprintf(buf, len, "opencm audit checkpoint\nrecord %lld\n"
	    "sha256 %s\ntime %lld\n", (long long)seq, hex, (long long)t);
}

/*
 * Sign the newest audit record with the log signing key (logsignkey in
 * cm.conf, a key Identifier or name), in a transaction with its own audit
 * record.  With ask unset, the key store passphrase is not asked for: the
 * checkpoint is made only when the key store is already open.  Returns 0
 * with the record number signed in *seq, or a CM_ERR_*.
 */
static int
checkpoint(struct cm_ctx *ctx, int ask, int64_t *seq)
{
	const char *ident = cm_config_get(ctx, "logsignkey");
	struct signer *s;
	struct last l;
	EVP_MD_CTX *md = NULL;
	X509_ALGOR *alg = NULL;
	unsigned char *sig = NULL;
	char msg[256], keyid[41], state[16], detail[128];
	int64_t key_id, now = (int64_t)time(NULL);
	size_t siglen;
	int rc, mlen;

	*seq = 0;
	if (ident == NULL)
		return cm_err(ctx, CM_ERR_INVAL, "audit checkpoint: cm.conf names "
		    "no logsignkey");
	if ((rc = key_lookup(ctx, ident, &key_id, state, sizeof(state))) != 0)
		return rc;
	if (strcmp(state, "removed") == 0)
		return cm_err(ctx, CM_ERR_POLICY, "audit checkpoint: logsignkey "
		    "%s is removed", ident);
	if (!ask && !ctx->ks_ok)
		return 0;
	if ((rc = signer_get(ctx, key_id, &s)) != 0)
		return rc;
	if ((rc = txn_begin(ctx)) != 0)
		return rc;
	memset(&l, 0, sizeof(l));
	if ((rc = store_query(ctx, "SELECT seq, hash FROM audit ORDER BY seq "
	    "DESC LIMIT 1", last_cb, &l, NULL)) != 0)
		goto end;
	mlen = checkpoint_msg(msg, sizeof(msg), l.seq, l.hash, now);
	if ((rc = signer_sign_init(ctx, s, "sha256", &md, &alg)) != 0)
		goto end;
	if (EVP_DigestSign(md, NULL, &siglen, (unsigned char *)msg,
	    (size_t)mlen) != 1 || (sig = OPENSSL_malloc(siglen)) == NULL ||
	    EVP_DigestSign(md, sig, &siglen, (unsigned char *)msg,
	    (size_t)mlen) != 1) {
		rc = cm_err_ssl(ctx, CM_ERR_CRYPTO, "audit checkpoint: signing");
		goto end;
	}
	rc = store_query(ctx, "SELECT identifier FROM keys WHERE id = ?",
	    text_cb, keyid, "i", key_id);
	if (rc == 0)
		rc = store_exec(ctx, "INSERT INTO audit_checkpoints (seq, hash, "
		    "time, key_identifier, signature) VALUES (?, ?, ?, ?, ?)",
		    "ibitb", l.seq, l.hash, (size_t)HASH_LEN, now, keyid, sig,
		    siglen);
end:
	snprintf(detail, sizeof(detail), "records 1 to %lld signed by key %s",
	    (long long)l.seq, ident);
	rc = txn_end(ctx, rc, "audit.checkpoint", "audit log", detail);
	if (rc == 0)
		*seq = l.seq;
	OPENSSL_free(sig);
	X509_ALGOR_free(alg);
	EVP_MD_CTX_free(md);
	return rc;
}

/* Sign an audit checkpoint now.  Returns 0 and the record signed. */
int
cm_audit_checkpoint(struct cm_ctx *ctx, int64_t *seq)
{
	int rc;

	if ((rc = checkpoint(ctx, 1, seq)) != 0)
		return audit_done(ctx, rc, "audit.checkpoint", "audit log");
	return 0;
}

/*
 * After a state change: with a logsignkey and the key store open, sign a
 * checkpoint too, so the log is signed from the bootstrap on.  A failure
 * is recorded as a refusal and does not undo the change.
 */
void
audit_auto_checkpoint(struct cm_ctx *ctx)
{
	char msg[CM_ERRMSG_MAX];
	int64_t seq;
	int rc;

	if (cm_config_get(ctx, "logsignkey") == NULL || !ctx->ks_ok ||
	    ctx->store == NULL || store_in_txn(ctx))
		return;
	memcpy(msg, ctx->errmsg, sizeof(msg));
	if ((rc = checkpoint(ctx, 0, &seq)) != 0)
		audit_done(ctx, rc, "audit.checkpoint", "audit log");
	memcpy(ctx->errmsg, msg, sizeof(msg));
}

struct cp_verify {
	struct cm_ctx	*ctx;
	int64_t		 n;
	char		 logsignkey[41];	/* its Identifier, when set */
	char		 logsigname[41];
	int		 rc;
};

static int
cp_verify_cb(void *arg, struct store_row *row)
{
	struct cp_verify *v = arg;
	const unsigned char *hash, *sig, *spki, *rhash;
	size_t hlen, slen, klen, rlen;
	int64_t id = store_row_int(row, 0), seq = store_row_int(row, 1);
	EVP_PKEY *pkey = NULL;
	EVP_MD_CTX *md = NULL;
	char msg[256];
	int mlen, ok;

	hash = store_row_blob(row, 2, &hlen);
	sig = store_row_blob(row, 5, &slen);
	spki = store_row_blob(row, 6, &klen);
	rhash = store_row_blob(row, 7, &rlen);
	v->n++;
	if (hash == NULL || hlen != HASH_LEN || rhash == NULL ||
	    rlen != HASH_LEN || CRYPTO_memcmp(hash, rhash, HASH_LEN) != 0)
		return v->rc = cm_err(v->ctx, CM_ERR_AUDIT, "audit checkpoint "
		    "%lld signed record %lld, which the log no longer has as "
		    "signed: the log was cut short or rewritten", (long long)id,
		    (long long)seq);
	mlen = checkpoint_msg(msg, sizeof(msg), seq, hash, store_row_int(row,
	    3));
	if (spki != NULL)
		pkey = d2i_PUBKEY(NULL, &spki, (long)klen);
	ok = pkey != NULL && (md = EVP_MD_CTX_new()) != NULL &&
	    EVP_DigestVerifyInit(md, NULL, EVP_PKEY_is_a(pkey, "ED25519") ?
	    NULL : EVP_sha256(), NULL, pkey) == 1 &&
	    EVP_DigestVerify(md, sig, slen, (unsigned char *)msg, (size_t)mlen)
	    == 1;
	ERR_clear_error();
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(pkey);
	if (!ok)
		return v->rc = cm_err(v->ctx, CM_ERR_AUDIT, "audit checkpoint "
		    "%lld: the signature of key %s does not verify: the "
		    "checkpoint was forged or edited", (long long)id,
		    store_row_text(row, 4));
	if (v->logsignkey[0] != '\0' && strcmp(v->logsignkey,
	    store_row_text(row, 4)) != 0 && strcmp(v->logsigname,
	    store_row_text(row, 4)) != 0)
		return v->rc = cm_err(v->ctx, CM_ERR_AUDIT, "audit checkpoint "
		    "%lld is signed by key %s, not by logsignkey %s",
		    (long long)id, store_row_text(row, 4), v->logsignkey);
	return 0;
}

/* Verify every audit checkpoint against the log and its key. */
static int
checkpoints_verify(struct cm_ctx *ctx, int64_t *bad)
{
	struct cp_verify v;
	const char *ls = cm_config_get(ctx, "logsignkey");
	int rc;

	memset(&v, 0, sizeof(v));
	v.ctx = ctx;
	if (ls != NULL) {
		snprintf(v.logsigname, sizeof(v.logsigname), "%s", ls);
		/* logsignkey may be a name: compare Identifiers. */
		if (store_query(ctx, "SELECT identifier FROM keys WHERE name = ? "
		    "OR identifier = upper(?)", text_cb, v.logsignkey, "tt", ls,
		    ls) != 0 || v.logsignkey[0] == '\0')
			snprintf(v.logsignkey, sizeof(v.logsignkey), "%s", ls);
	}
	rc = store_query(ctx, "SELECT c.id, c.seq, c.hash, c.time, "
	    "c.key_identifier, c.signature, k.spki, a.hash FROM "
	    "audit_checkpoints c LEFT JOIN keys k ON k.identifier = "
	    "c.key_identifier LEFT JOIN audit a ON a.seq = c.seq ORDER BY c.id",
	    cp_verify_cb, &v, NULL);
	if (rc != 0)
		*bad = 0;
	return rc;
}
