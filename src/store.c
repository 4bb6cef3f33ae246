/*
 * store.c: the CMDB.  The only file that calls sqlite3_*.
 *
 * Other modules pass SQL text with bound parameters described by a type
 * string: 't' text (NULL binds NULL), 'i' int64_t, 'j' int64_t that binds
 * NULL when 0, 'I' int, 'b' blob (pointer, size_t; NULL binds NULL).  Statements are prepared once and cached by the
 * address of their SQL text, which is always a string literal.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "extern.h"

#define STMT_CACHE	64

extern const char *const cm_migrations[];

struct stmt_slot {
	const char	*sql;
	sqlite3_stmt	*st;
	int		 busy;
};

struct store {
	sqlite3		*db;
	int		 in_txn;
	struct stmt_slot cache[STMT_CACHE];
	size_t		 ncache;
};

struct store_row {
	sqlite3_stmt	*st;
};

static int
db_err(struct cm_ctx *ctx, int rc)
{
	sqlite3 *db = ctx->store != NULL ? ctx->store->db : NULL;
	const char *path = ctx->db_path != NULL ? ctx->db_path : "CMDB";
	const char *msg = db != NULL ? sqlite3_errmsg(db) : sqlite3_errstr(rc);

	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return cm_err(ctx, CM_ERR_BUSY, "%s: the CMDB is locked by "
		    "another writer (waited %d ms)", path, ctx->busy_ms);
	case SQLITE_READONLY:
		return cm_err(ctx, CM_ERR_DB, "%s: the CMDB is read-only",
		    path);
	case SQLITE_NOTADB:
		return cm_err(ctx, CM_ERR_DB, "%s: not a CMDB (not an SQLite "
		    "database)", path);
	case SQLITE_CORRUPT:
		return cm_err(ctx, CM_ERR_DB, "%s: the CMDB is damaged: %s",
		    path, msg);
	case SQLITE_NOMEM:
		return cm_err(ctx, CM_ERR_NOMEM, "out of memory");
	default:
		return cm_err(ctx, CM_ERR_DB, "%s: %s", path, msg);
	}
}

static int
stmt_get(struct cm_ctx *ctx, const char *sql, sqlite3_stmt **out,
    struct stmt_slot **slotp)
{
	struct store *s = ctx->store;
	struct stmt_slot *slot = NULL;
	size_t i;
	int rc;

	*out = NULL;
	*slotp = NULL;
	if (s == NULL)
		return cm_err(ctx, CM_ERR_DB, "no CMDB is open");
	for (i = 0; i < s->ncache; i++) {
		if (s->cache[i].sql == sql) {
			if (s->cache[i].busy)
				break;
			s->cache[i].busy = 1;
			*out = s->cache[i].st;
			*slotp = &s->cache[i];
			return 0;
		}
	}
	rc = sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT,
	    out, NULL);
	if (rc != SQLITE_OK)
		return db_err(ctx, rc);
	if (i == s->ncache && s->ncache < STMT_CACHE) {
		slot = &s->cache[s->ncache++];
		slot->sql = sql;
		slot->st = *out;
		slot->busy = 1;
		*slotp = slot;
	}
	return 0;
}

static void
stmt_put(sqlite3_stmt *st, struct stmt_slot *slot)
{
	if (slot != NULL) {
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
		slot->busy = 0;
	} else
		sqlite3_finalize(st);
}

static int
bind(struct cm_ctx *ctx, sqlite3_stmt *st, const char *types, va_list ap)
{
	int i, rc = SQLITE_OK;
	const char *t;
	const void *p;
	size_t len;
	int64_t v;

	for (i = 1; types != NULL && types[i - 1] != '\0'; i++) {
		switch (types[i - 1]) {
		case 't':
			t = va_arg(ap, const char *);
			rc = t == NULL ? sqlite3_bind_null(st, i) :
			    sqlite3_bind_text(st, i, t, -1, SQLITE_STATIC);
			break;
		case 'i':
			rc = sqlite3_bind_int64(st, i, va_arg(ap, int64_t));
			break;
		case 'j':
			v = va_arg(ap, int64_t);
			rc = v == 0 ? sqlite3_bind_null(st, i) :
			    sqlite3_bind_int64(st, i, v);
			break;
		case 'I':
			rc = sqlite3_bind_int(st, i, va_arg(ap, int));
			break;
		case 'b':
			p = va_arg(ap, const void *);
			len = va_arg(ap, size_t);
			rc = p == NULL ? sqlite3_bind_null(st, i) :
			    sqlite3_bind_blob64(st, i, p, len, SQLITE_STATIC);
			break;
		default:
			return cm_err(ctx, CM_ERR_INTERNAL, "store: bad type "
			    "'%c'", types[i - 1]);
		}
		if (rc != SQLITE_OK)
			return db_err(ctx, rc);
	}
	return 0;
}

static int
run(struct cm_ctx *ctx, const char *sql, store_row_cb cb, void *arg,
    const char *types, va_list ap)
{
	sqlite3_stmt *st;
	struct stmt_slot *slot;
	struct store_row row;
	int rc, src;

	if ((rc = stmt_get(ctx, sql, &st, &slot)) != 0)
		return rc;
	if ((rc = bind(ctx, st, types, ap)) != 0)
		goto out;
	row.st = st;
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		if (cb != NULL && (rc = cb(arg, &row)) != 0) {
			if (rc > 0)	/* a callback's request to stop */
				rc = 0;
			goto out;
		}
	}
	if (src != SQLITE_DONE)
		rc = db_err(ctx, src);
out:
	stmt_put(st, slot);
	return rc;
}

/* Run a statement that returns no rows.  Returns 0 or a CM_ERR_*. */
int
store_exec(struct cm_ctx *ctx, const char *sql, const char *types, ...)
{
	va_list ap;
	int rc;

	va_start(ap, types);
	rc = run(ctx, sql, NULL, NULL, types, ap);
	va_end(ap);
	return rc;
}

/*
 * Run a query and call cb for each row.  A callback returns 0 to go on, a
 * positive value to stop quietly or a negative CM_ERR_* that is returned.
 */
int
store_query(struct cm_ctx *ctx, const char *sql, store_row_cb cb, void *arg,
    const char *types, ...)
{
	va_list ap;
	int rc;

	va_start(ap, types);
	rc = run(ctx, sql, cb, arg, types, ap);
	va_end(ap);
	return rc;
}

struct int_arg {
	int64_t	v;
	int	found;
};

static int
int_cb(void *arg, struct store_row *row)
{
	struct int_arg *a = arg;

	a->v = store_row_int(row, 0);
	a->found = 1;
	return 1;
}

/*
 * The first column of the first row as an integer.  Returns 0,
 * CM_ERR_NOTFOUND (no row; no message set) or another CM_ERR_*.
 */
int
store_int(struct cm_ctx *ctx, int64_t *out, const char *sql,
    const char *types, ...)
{
	va_list ap;
	struct int_arg a = { 0, 0 };
	int rc;

	*out = 0;
	va_start(ap, types);
	rc = run(ctx, sql, int_cb, &a, types, ap);
	va_end(ap);
	if (rc != 0)
		return rc;
	if (!a.found)
		return CM_ERR_NOTFOUND;
	*out = a.v;
	return 0;
}

int64_t
store_row_int(struct store_row *row, int col)
{
	return sqlite3_column_int64(row->st, col);
}

/* Column text, "" for NULL; valid until the next row. */
const char *
store_row_text(struct store_row *row, int col)
{
	const unsigned char *t = sqlite3_column_text(row->st, col);

	return t == NULL ? "" : (const char *)t;
}

const unsigned char *
store_row_blob(struct store_row *row, int col, size_t *len)
{
	const unsigned char *p = sqlite3_column_blob(row->st, col);

	*len = (size_t)sqlite3_column_bytes(row->st, col);
	return p;
}

int
store_row_null(struct store_row *row, int col)
{
	return sqlite3_column_type(row->st, col) == SQLITE_NULL;
}

int64_t
store_last_id(struct cm_ctx *ctx)
{
	return sqlite3_last_insert_rowid(ctx->store->db);
}

int64_t
store_changes(struct cm_ctx *ctx)
{
	return sqlite3_changes64(ctx->store->db);
}

/* BEGIN IMMEDIATE: take the write lock now, or fail with CM_ERR_BUSY. */
int
store_begin(struct cm_ctx *ctx)
{
	int rc;

	if (ctx->store == NULL)
		return cm_err(ctx, CM_ERR_DB, "no CMDB is open");
	if (ctx->readonly)
		return cm_err(ctx, CM_ERR_DB, "%s: the CMDB is read-only (no "
		    "write permission)", ctx->db_path);
	if (ctx->store->in_txn)
		return cm_err(ctx, CM_ERR_INTERNAL, "nested transaction");
	rc = sqlite3_exec(ctx->store->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		return db_err(ctx, rc);
	ctx->store->in_txn = 1;
	return 0;
}

int
store_commit(struct cm_ctx *ctx)
{
	int rc;

	rc = sqlite3_exec(ctx->store->db, "COMMIT", NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		rc = db_err(ctx, rc);
		store_rollback(ctx);
		return rc;
	}
	ctx->store->in_txn = 0;
	return 0;
}

void
store_rollback(struct cm_ctx *ctx)
{
	if (ctx->store == NULL || !ctx->store->in_txn)
		return;
	sqlite3_exec(ctx->store->db, "ROLLBACK", NULL, NULL, NULL);
	ctx->store->in_txn = 0;
}

int
store_in_txn(struct cm_ctx *ctx)
{
	return ctx->store != NULL && ctx->store->in_txn;
}

static int
pragma_int(struct cm_ctx *ctx, const char *sql, int64_t *v)
{
	sqlite3_stmt *st;
	int rc;

	*v = 0;
	rc = sqlite3_prepare_v2(ctx->store->db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return db_err(ctx, rc);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_err(ctx, rc);
	return 0;
}

static int
exec_sql(struct cm_ctx *ctx, const char *sql)
{
	int rc;

	rc = sqlite3_exec(ctx->store->db, sql, NULL, NULL, NULL);
	return rc == SQLITE_OK ? 0 : db_err(ctx, rc);
}

static int
migrate(struct cm_ctx *ctx, int64_t from, int64_t to)
{
	char sql[64];
	int rc;

	for (; from < to; from++) {
		if ((rc = exec_sql(ctx, "BEGIN IMMEDIATE")) != 0)
			return rc;
		if ((rc = exec_sql(ctx, cm_migrations[from])) != 0)
			goto fail;
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %lld",
		    (long long)from + 1);
		if ((rc = exec_sql(ctx, sql)) != 0)
			goto fail;
		if ((rc = exec_sql(ctx, "COMMIT")) != 0)
			goto fail;
	}
	return 0;
fail:
	cm_err_prefix(ctx, "schema migration");
	sqlite3_exec(ctx->store->db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

/*
 * Open the CMDB at path.  With create, the file must not exist; it is made
 * and the schema applied.  Otherwise it must be a CMDB this program knows;
 * older schemas are migrated.  Returns 0 or a CM_ERR_* naming the path.
 */
int
store_open(struct cm_ctx *ctx, const char *path, int create)
{
	struct store *s;
	struct stat st;
	int flags, rc;
	int64_t appid, version, known = 0;
	char sql[128];

	while (cm_migrations[known] != NULL)
		known++;
	if (ctx->store != NULL)
		return cm_err(ctx, CM_ERR_INTERNAL, "a CMDB is already open");
	free(ctx->db_path);
	if ((ctx->db_path = cm_strdup(path)) == NULL)
		return CM_ERR_NOMEM;
	if (create) {
		if (stat(path, &st) == 0)
			return cm_err(ctx, CM_ERR_EXISTS, "%s: a file already "
			    "exists there; a new CMDB is never written over "
			    "one", path);
		flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
	} else {
		if (stat(path, &st) == -1)
			return cm_err(ctx, CM_ERR_DB, "%s: no CMDB there (%s; "
			    "\"cmctl init\" makes one)", path,
			    strerror(errno));
		if (!S_ISREG(st.st_mode))
			return cm_err(ctx, CM_ERR_DB, "%s: not a CMDB (not a "
			    "regular file)", path);
		if (access(path, R_OK) == -1)
			return cm_err(ctx, CM_ERR_DB, "%s: cannot read the "
			    "CMDB: %s", path, strerror(errno));
		ctx->readonly = access(path, W_OK) == -1;
		flags = ctx->readonly ? SQLITE_OPEN_READONLY :
		    SQLITE_OPEN_READWRITE;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return CM_ERR_NOMEM;
	ctx->store = s;
	rc = sqlite3_open_v2(path, &s->db, flags | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		rc = db_err(ctx, rc);
		goto fail;
	}
	sqlite3_extended_result_codes(s->db, 0);
	sqlite3_busy_timeout(s->db, ctx->busy_ms);
	if ((rc = pragma_int(ctx, "PRAGMA application_id", &appid)) != 0)
		goto fail;
	if ((rc = pragma_int(ctx, "PRAGMA user_version", &version)) != 0)
		goto fail;
	if (create) {
		if ((rc = exec_sql(ctx, "PRAGMA journal_mode = WAL")) != 0)
			goto fail;
		snprintf(sql, sizeof(sql), "PRAGMA application_id = %d",
		    CM_APPLICATION_ID);
		if ((rc = exec_sql(ctx, sql)) != 0)
			goto fail;
	} else if (appid != CM_APPLICATION_ID) {
		rc = cm_err(ctx, CM_ERR_DB, "%s: not a CMDB (an SQLite "
		    "database, but not opencm's)", path);
		goto fail;
	} else if (version > known) {
		rc = cm_err(ctx, CM_ERR_DB, "%s: the CMDB has schema version "
		    "%lld, made by a newer opencm; this one knows up to %lld",
		    path, (long long)version, (long long)known);
		goto fail;
	}
	if ((rc = exec_sql(ctx, "PRAGMA foreign_keys = ON")) != 0)
		goto fail;
	/* A removed key's ciphertext is overwritten, not left in free pages. */
	if ((rc = exec_sql(ctx, "PRAGMA secure_delete = ON")) != 0)
		goto fail;
	if ((rc = exec_sql(ctx, ctx->sync_full ? "PRAGMA synchronous = FULL" :
	    "PRAGMA synchronous = NORMAL")) != 0)
		goto fail;
	if (version < known) {
		if (ctx->readonly) {
			rc = cm_err(ctx, CM_ERR_DB, "%s: the CMDB needs a "
			    "schema upgrade but is read-only", path);
			goto fail;
		}
		if ((rc = migrate(ctx, version, known)) != 0)
			goto fail;
	}
	return 0;
fail:
	store_close(ctx);
	return rc;
}

/* Close the CMDB; no-op when none is open. */
void
store_close(struct cm_ctx *ctx)
{
	struct store *s = ctx->store;
	size_t i;

	if (s == NULL)
		return;
	store_rollback(ctx);
	for (i = 0; i < s->ncache; i++)
		sqlite3_finalize(s->cache[i].st);
	sqlite3_close(s->db);
	free(s);
	ctx->store = NULL;
}

/* Open an existing CMDB.  Returns 0 or a CM_ERR_* naming the path. */
int
cm_db_open(struct cm_ctx *ctx, const char *path)
{
	return store_open(ctx, path, 0);
}

/* The path of the open CMDB, or NULL. */
const char *
cm_db_path(const struct cm_ctx *ctx)
{
	return ctx->db_path;
}

/*
 * Create a new CMDB at path and set up the soft key store with a passphrase
 * asked through the UI callbacks (before the file is made, so a refused
 * passphrase leaves nothing behind).  Returns 0 or a CM_ERR_*.
 */
int
cm_db_create(struct cm_ctx *ctx, const char *path)
{
	struct stat st;
	int rc;

	if (stat(path, &st) == 0)
		return cm_err(ctx, CM_ERR_EXISTS, "%s: a file already exists "
		    "there; a new CMDB is never written over one", path);
	if ((rc = keystore_ask_new(ctx)) != 0)
		return rc;
	if ((rc = store_open(ctx, path, 1)) != 0)
		goto fail;
	if ((rc = txn_begin(ctx)) != 0)
		goto fail;
	rc = keystore_setup(ctx);
	if ((rc = txn_end(ctx, rc, "cmdb create", path, "key store set "
	    "up")) != 0)
		goto fail;
	return 0;
fail:
	store_close(ctx);
	unlink(path);
	{
		char aux[4096];

		snprintf(aux, sizeof(aux), "%s-wal", path);
		unlink(aux);
		snprintf(aux, sizeof(aux), "%s-shm", path);
		unlink(aux);
	}
	return rc;
}

/*
 * The id of the row named name, by sql (one "?" for the name); a missing
 * one is CM_ERR_NOTFOUND with "what \"name\" not found".
 */
int
store_named(struct cm_ctx *ctx, int64_t *id, const char *sql,
    const char *what, const char *name)
{
	int rc;

	if ((rc = store_int(ctx, id, sql, "t", name)) == CM_ERR_NOTFOUND)
		return cm_err(ctx, rc, "%s \"%s\" not found", what, name);
	return rc;
}
