/*
 * ctx.c: the engine context, error messages and cm.conf.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/crypto.h>
#include <openssl/err.h>

#include "extern.h"

/* Keys cm.conf may hold, besides pkcs11.<n> and token.<label>.pin-file. */
static const char *const conf_keys[] = {
	"db.path", "db.busy-timeout", "db.synchronous", "keystore.pin-file",
	"logsignkey", "da.poll", "da.crl-margin", "da.retry-base",
	"da.retry-max", "da.max-attempts", "da.timeout", "da.crls", NULL
};

/*
 * Allocate a context.  Returns 0 and sets *out (owned by the caller, freed
 * with cm_ctx_free), or CM_ERR_NOMEM.
 */
int
cm_ctx_new(struct cm_ctx **out)
{
	struct cm_ctx *ctx;

	*out = NULL;
	if ((ctx = calloc(1, sizeof(*ctx))) == NULL)
		return CM_ERR_NOMEM;
	ctx->busy_ms = 5000;
	ctx->sync_full = 1;
	*out = ctx;
	return 0;
}

/* Free a context: closes the CMDB, wipes the key store passphrase. */
void
cm_ctx_free(struct cm_ctx *ctx)
{
	size_t i;

	if (ctx == NULL)
		return;
	officer_logout_all(ctx);
	procedure_cache_clear(ctx);
	signer_free_all(ctx);
	publish_free_all(ctx);
	crl_sched_free(ctx);
	/* Token keys first, then the libraries and modules behind them. */
	p11_key_close_all(ctx);
	p11_close_all(ctx);
	store_close(ctx);
	cm_secret_free(ctx->passphrase);
	for (i = 0; i < ctx->nconf; i++) {
		free(ctx->conf[i].key);
		free(ctx->conf[i].value);
	}
	free(ctx->conf);
	free(ctx->conf_path);
	free(ctx->db_path);
	free(ctx->actor);
	free(ctx->os_actor);
	free(ctx);
}

/* Set the callbacks through which the engine asks for secrets. */
void
cm_ctx_set_ui(struct cm_ctx *ctx, const struct cm_ui_ops *ui)
{
	ctx->ui = *ui;
}

/* Name who acts, for the audit log.  Returns 0 or CM_ERR_NOMEM. */
int
cm_ctx_set_actor(struct cm_ctx *ctx, const char *actor)
{
	char *s;

	if ((s = cm_strdup(actor)) == NULL)
		return CM_ERR_NOMEM;
	free(ctx->actor);
	ctx->actor = s;
	return 0;
}

/* The message of the last failure; never NULL. */
const char *
cm_ctx_errmsg(const struct cm_ctx *ctx)
{
	return ctx->errmsg;
}

/* What went wrong beside an operation that succeeded, or NULL. */
const char *
cm_ctx_warning(const struct cm_ctx *ctx)
{
	return ctx->warning[0] != '\0' ? ctx->warning : NULL;
}

/* The warning was shown. */
void
cm_ctx_clear_warning(struct cm_ctx *ctx)
{
	ctx->warning[0] = '\0';
}

/* The class of an error code, as words. */
const char *
cm_strerror(int rc)
{
	switch (rc) {
	case CM_OK:		return "success";
	case CM_ERR_NOMEM:	return "out of memory";
	case CM_ERR_INVAL:	return "invalid input";
	case CM_ERR_CRYPTO:	return "cryptographic error";
	case CM_ERR_DB:		return "database error";
	case CM_ERR_TOKEN:	return "token error";
	case CM_ERR_POLICY:	return "refused by policy";
	case CM_ERR_DENIED:	return "access denied";
	case CM_ERR_NOTFOUND:	return "not found";
	case CM_ERR_EXISTS:	return "already exists";
	case CM_ERR_BUSY:	return "busy";
	case CM_ERR_AUDIT:	return "audit log verification failed";
	case CM_ERR_TIMEOUT:	return "timed out";
	default:		return "internal error";
	}
}

/*
 * Record a message in the context and return rc, so a failure reads
 * "return cm_err(ctx, CM_ERR_INVAL, ...)".
 */
int
cm_err(struct cm_ctx *ctx, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ctx->errmsg, sizeof(ctx->errmsg), fmt, ap);
	va_end(ap);
	ERR_clear_error();	/* nothing stale for a later cm_err_ssl() */
	return rc;
}

/*
 * As cm_err(), and append the reason of the oldest error in OpenSSL's queue,
 * which it drains.
 */
int
cm_err_ssl(struct cm_ctx *ctx, int rc, const char *fmt, ...)
{
	va_list ap;
	unsigned long e;
	size_t n;
	const char *reason;

	va_start(ap, fmt);
	vsnprintf(ctx->errmsg, sizeof(ctx->errmsg), fmt, ap);
	va_end(ap);
	e = ERR_peek_error();
	if (e != 0) {
		reason = ERR_reason_error_string(e);
		n = strlen(ctx->errmsg);
		snprintf(ctx->errmsg + n, sizeof(ctx->errmsg) - n, ": %s",
		    reason != NULL ? reason : "unknown OpenSSL error");
	}
	ERR_clear_error();
	return rc;
}

/* Add text to the end of the current message. */
void
cm_err_suffix(struct cm_ctx *ctx, const char *text)
{
	size_t n = strlen(ctx->errmsg);

	snprintf(ctx->errmsg + n, sizeof(ctx->errmsg) - n, "%s", text);
}

/* Put "prefix: " in front of the current message. */
void
cm_err_prefix(struct cm_ctx *ctx, const char *prefix)
{
	char buf[CM_ERRMSG_MAX];
	size_t n;

	n = strlen(prefix);
	if (n + 2 >= sizeof(buf))
		return;
	memcpy(buf, prefix, n);
	memcpy(buf + n, ": ", 2);
	memcpy(buf + n + 2, ctx->errmsg, sizeof(buf) - n - 2);
	buf[sizeof(buf) - 1] = '\0';
	memcpy(ctx->errmsg, buf, sizeof(buf));
}

static int
conf_known(const char *key)
{
	size_t i, n = strlen(key);

	for (i = 0; conf_keys[i] != NULL; i++)
		if (strcmp(conf_keys[i], key) == 0)
			return 1;
	/* pkcs11.<n>: a PKCS#11 module. */
	if (strncmp(key, "pkcs11.", 7) == 0 && n > 7 &&
	    strspn(key + 7, "0123456789") == n - 7)
		return 1;
	/* token.<label>.pin-file: the user PIN of a token. */
	if (strncmp(key, "token.", 6) == 0 && n > 15 &&
	    strcmp(key + n - 9, ".pin-file") == 0)
		return 1;
	return 0;
}

static char *
trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' ||
	    e[-1] == '\r'))
		*--e = '\0';
	return s;
}

/*
 * Read cm.conf: "key = value" lines, '#' comments.  A missing file is an
 * error only when must_exist is set.  Every fault names file, line and key.
 */
int
cm_config_load(struct cm_ctx *ctx, const char *path, int must_exist)
{
	FILE *f;
	char line[4096], *k, *v, *eq;
	struct cm_conf_entry *ne;
	int lineno = 0, rc = 0;
	long n;
	char *end;

	if ((f = fopen(path, "r")) == NULL) {
		if (!must_exist && (errno == ENOENT || errno == ENOTDIR ||
		    errno == EACCES))
			return 0;
		return cm_err(ctx, CM_ERR_INVAL, "%s: %s", path,
		    strerror(errno));
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		k = trim(line);
		if (*k == '\0' || *k == '#')
			continue;
		if ((eq = strchr(k, '=')) == NULL) {
			rc = cm_err(ctx, CM_ERR_INVAL, "%s:%d: expected "
			    "\"key = value\"", path, lineno);
			goto out;
		}
		*eq = '\0';
		v = trim(eq + 1);
		k = trim(k);
		if (!conf_known(k)) {
			rc = cm_err(ctx, CM_ERR_INVAL, "%s:%d: unknown key "
			    "\"%s\"", path, lineno, k);
			goto out;
		}
		if (strcmp(k, "db.busy-timeout") == 0) {
			n = strtol(v, &end, 10);
			if (*v == '\0' || *end != '\0' || n < 0 ||
			    n > 600000) {
				rc = cm_err(ctx, CM_ERR_INVAL, "%s:%d: "
				    "db.busy-timeout must be milliseconds "
				    "from 0 to 600000", path, lineno);
				goto out;
			}
			ctx->busy_ms = (int)n;
		} else if (strcmp(k, "db.synchronous") == 0) {
			if (strcmp(v, "full") == 0)
				ctx->sync_full = 1;
			else if (strcmp(v, "normal") == 0)
				ctx->sync_full = 0;
			else {
				rc = cm_err(ctx, CM_ERR_INVAL, "%s:%d: "
				    "db.synchronous must be full or normal",
				    path, lineno);
				goto out;
			}
		}
		ne = reallocarray(ctx->conf, ctx->nconf + 1, sizeof(*ne));
		if (ne == NULL) {
			rc = CM_ERR_NOMEM;
			goto out;
		}
		ctx->conf = ne;
		ne[ctx->nconf].key = cm_strdup(k);
		ne[ctx->nconf].value = cm_strdup(v);
		if (ne[ctx->nconf].key == NULL ||
		    ne[ctx->nconf].value == NULL) {
			free(ne[ctx->nconf].key);
			free(ne[ctx->nconf].value);
			rc = CM_ERR_NOMEM;
			goto out;
		}
		ctx->nconf++;
	}
	free(ctx->conf_path);
	ctx->conf_path = cm_strdup(path);
out:
	fclose(f);
	return rc;
}

/* The last value of key in cm.conf, or NULL. */
const char *
cm_config_get(const struct cm_ctx *ctx, const char *key)
{
	size_t i;

	for (i = ctx->nconf; i > 0; i--)
		if (strcmp(ctx->conf[i - 1].key, key) == 0)
			return ctx->conf[i - 1].value;
	return NULL;
}

/* Free memory the engine handed over. */
void
cm_free(void *p)
{
	free(p);
}

/*
 * What every front end does first: read cm.conf (conf, else $CM_CONF,
 * both of which must exist, else $XDG_CONFIG_HOME/opencm/cm.conf if it
 * does) and find the CMDB: db, else $CM_DB, else db.path in cm.conf, else
 * $XDG_DATA_HOME/opencm/cm.db.  Returns 0 and *path (cm_free) or a
 * CM_ERR_*.
 */
int
cm_ctx_setup(struct cm_ctx *ctx, const char *conf, const char *db,
    char **path)
{
	char *conf_default = NULL;
	int rc;

	*path = NULL;
	if (conf == NULL)
		conf = getenv("CM_CONF");
	if (conf != NULL)
		rc = cm_config_load(ctx, conf, 1);
	else if ((conf_default = cm_xdg_path("XDG_CONFIG_HOME", ".config",
	    "cm.conf")) != NULL)
		rc = cm_config_load(ctx, conf_default, 0);
	else
		rc = 0;
	free(conf_default);
	if (rc != 0)
		return rc;
	if (db == NULL)
		db = getenv("CM_DB");
	if (db == NULL)
		db = cm_config_get(ctx, "db.path");
	if (db != NULL)
		*path = strdup(db);
	else
		*path = cm_xdg_path("XDG_DATA_HOME", ".local/share", "cm.db");
	if (*path == NULL)
		return cm_err(ctx, CM_ERR_INVAL, "no CMDB path: use -d or set "
		    "HOME");
	return 0;
}
