/*
 * p11.c: PKCS#11 tokens, through the modules cm.conf names (pkcs11.<n>).
 * Tokens are found by label or serial number, never by slot number, which
 * modules may change between runs.  Token objects are made here with the
 * module's own functions (C_GenerateKeyPair, C_CreateObject, C_InitToken,
 * C_InitPIN, C_SetPIN); signing with a token key is in p11key.c, through
 * libp11.  A module is loaded once per context and finalized with it.
 */
#include "config.h"

#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include <p11-kit/pkcs11.h>

#include "extern.h"
#include "p11.h"

/* Objects made inside the current transaction: destroyed if it fails. */
struct p11_undo {
	struct p11_tok		*tok;
	CK_OBJECT_HANDLE	 obj;
	struct p11_undo		*next;
};

static const struct {
	CK_RV		 rv;
	const char	*name;
} ckr_names[] = {
	{ CKR_GENERAL_ERROR,		"CKR_GENERAL_ERROR" },
	{ CKR_FUNCTION_FAILED,		"CKR_FUNCTION_FAILED" },
	{ CKR_ARGUMENTS_BAD,		"CKR_ARGUMENTS_BAD" },
	{ CKR_ATTRIBUTE_VALUE_INVALID,	"CKR_ATTRIBUTE_VALUE_INVALID" },
	{ CKR_DEVICE_ERROR,		"CKR_DEVICE_ERROR" },
	{ CKR_DEVICE_MEMORY,		"CKR_DEVICE_MEMORY" },
	{ CKR_DEVICE_REMOVED,		"CKR_DEVICE_REMOVED" },
	{ CKR_MECHANISM_INVALID,	"CKR_MECHANISM_INVALID" },
	{ CKR_PIN_INCORRECT,		"CKR_PIN_INCORRECT" },
	{ CKR_PIN_INVALID,		"CKR_PIN_INVALID" },
	{ CKR_PIN_LEN_RANGE,		"CKR_PIN_LEN_RANGE" },
	{ CKR_PIN_LOCKED,		"CKR_PIN_LOCKED" },
	{ CKR_SESSION_READ_ONLY,	"CKR_SESSION_READ_ONLY" },
	{ CKR_TEMPLATE_INCOMPLETE,	"CKR_TEMPLATE_INCOMPLETE" },
	{ CKR_TEMPLATE_INCONSISTENT,	"CKR_TEMPLATE_INCONSISTENT" },
	{ CKR_TOKEN_NOT_PRESENT,	"CKR_TOKEN_NOT_PRESENT" },
	{ CKR_TOKEN_NOT_RECOGNIZED,	"CKR_TOKEN_NOT_RECOGNIZED" },
	{ CKR_TOKEN_WRITE_PROTECTED,	"CKR_TOKEN_WRITE_PROTECTED" },
	{ CKR_USER_NOT_LOGGED_IN,	"CKR_USER_NOT_LOGGED_IN" },
	{ CKR_USER_PIN_NOT_INITIALIZED,	"CKR_USER_PIN_NOT_INITIALIZED" },
	{ CKR_USER_TYPE_INVALID,	"CKR_USER_TYPE_INVALID" },
	{ CKR_USER_ANOTHER_ALREADY_LOGGED_IN,
	    "CKR_USER_ANOTHER_ALREADY_LOGGED_IN" },
	{ CKR_SESSION_EXISTS,		"CKR_SESSION_EXISTS" },
	{ CKR_KEY_SIZE_RANGE,		"CKR_KEY_SIZE_RANGE" },
	{ CKR_DOMAIN_PARAMS_INVALID,	"CKR_DOMAIN_PARAMS_INVALID" },
	{ CKR_CURVE_NOT_SUPPORTED,	"CKR_CURVE_NOT_SUPPORTED" },
	{ CKR_FUNCTION_NOT_SUPPORTED,	"CKR_FUNCTION_NOT_SUPPORTED" },
	{ 0,				NULL }
};

static const char *
ckr_name(CK_RV rv)
{
	static char buf[32];
	size_t i;

	for (i = 0; ckr_names[i].name != NULL; i++)
		if (ckr_names[i].rv == rv)
			return ckr_names[i].name;
	snprintf(buf, sizeof(buf), "CKR 0x%lx", (unsigned long)rv);
	return buf;
}

/* A fixed-width, blank-padded PKCS#11 string as a C string. */
void
p11_str(char *dst, size_t dstlen, const unsigned char *src, size_t len)
{
	while (len > 0 && (src[len - 1] == ' ' || src[len - 1] == '\0'))
		len--;
	if (len >= dstlen)
		len = dstlen - 1;
	memcpy(dst, src, len);
	dst[len] = '\0';
}

/* A module error naming the token and the call; CM_ERR_TOKEN or _DENIED. */
int
p11_fail_rv(struct cm_ctx *ctx, const char *label, const char *call,
    unsigned long rv)
{
	switch (rv) {
	case CKR_PIN_INCORRECT:
		return cm_err(ctx, CM_ERR_DENIED, "token \"%s\": wrong PIN",
		    label);
	case CKR_PIN_LOCKED:
		return cm_err(ctx, CM_ERR_DENIED, "token \"%s\": the PIN is "
		    "locked: unblock it with the SO PIN", label);
	case CKR_PIN_LEN_RANGE:
	case CKR_PIN_INVALID:
		return cm_err(ctx, CM_ERR_INVAL, "token \"%s\": the token "
		    "refuses this PIN (%s)", label, ckr_name(rv));
	case CKR_TOKEN_NOT_PRESENT:
	case CKR_DEVICE_REMOVED:
		return cm_err(ctx, CM_ERR_TOKEN, "token \"%s\" was removed",
		    label);
	default:
		return cm_err(ctx, CM_ERR_TOKEN, "token \"%s\": %s failed: %s",
		    label, call, ckr_name(rv));
	}
}

/* ------------------------------------------------------------ URIs */

/* Percent-decode [s, e) into dst (at most cap bytes).  -1 when bad. */
static long
pct_decode(const char *s, const char *e, unsigned char *dst, size_t cap)
{
	size_t n = 0;
	int hi, lo;

	while (s < e) {
		if (n == cap)
			return -1;
		if (*s == '%') {
			if (e - s < 3 || (hi = cm_hexval(s[1])) < 0 ||
			    (lo = cm_hexval(s[2])) < 0)
				return -1;
			dst[n++] = (unsigned char)(hi << 4 | lo);
			s += 3;
		} else
			dst[n++] = (unsigned char)*s++;
	}
	return (long)n;
}

/*
 * A URI as messages and audit records may show it: never one that carries
 * a PIN (pin-value, pin-source), which is refused anyway.
 */
const char *
p11_uri_safe(const char *uri)
{
	const char *p;

	if (uri == NULL)
		return "";
	for (p = uri; (p = strchr(p, 'p')) != NULL; p++)
		if (strncasecmp(p, "pin-", 4) == 0)
			return "pkcs11:(a URI with a PIN, not shown)";
	return uri;
}

/*
 * Parse a PKCS#11 URI (RFC 7512): the path attributes token, serial,
 * manufacturer, model, object, id and type, and the query attribute
 * module-path.  A token must be named, by label or serial.  Returns 0 or
 * CM_ERR_INVAL naming the URI.
 */
int
p11_uri_parse(struct cm_ctx *ctx, const char *uri, struct p11_uri *u)
{
	static const struct {
		const char	*name;
		size_t		 off;
		size_t		 cap;
	} attrs[] = {
		{ "token", offsetof(struct p11_uri, token), 32 },
		{ "serial", offsetof(struct p11_uri, serial), 16 },
		{ "manufacturer", offsetof(struct p11_uri, manufacturer), 32 },
		{ "model", offsetof(struct p11_uri, model), 16 },
		{ "object", offsetof(struct p11_uri, object), 127 },
		{ "type", offsetof(struct p11_uri, type), 15 },
		{ "module-path", offsetof(struct p11_uri, module), 255 },
		{ NULL, 0, 0 }
	};
	const char *p, *e, *eq;
	unsigned seen = 0;
	long n;
	size_t i;

	memset(u, 0, sizeof(*u));
	if (uri == NULL || strncmp(uri, "pkcs11:", 7) != 0)
		return cm_err(ctx, CM_ERR_INVAL, "device \"%s\": a PKCS#11 URI "
		    "starts with \"pkcs11:\"", p11_uri_safe(uri));
	for (p = uri + 7; *p != '\0'; p = *e != '\0' ? e + 1 : e) {
		e = p + strcspn(p, ";?&");
		if (e == p)
			continue;
		if ((eq = memchr(p, '=', (size_t)(e - p))) == NULL)
			goto bad;
		if ((size_t)(eq - p) == 7 && strncmp(p, "slot-id", 7) == 0) {
			u->slot = strtoul(eq + 1, NULL, 10);
			u->slot_set = 1;
			continue;
		}
		if ((size_t)(eq - p) == 2 && strncmp(p, "id", 2) == 0) {
			if (u->idlen > 0)
				goto twice;
			n = pct_decode(eq + 1, e, u->id, sizeof(u->id));
			if (n <= 0)
				goto bad;
			u->idlen = (size_t)n;
			continue;
		}
		for (i = 0; attrs[i].name != NULL; i++)
			if (strlen(attrs[i].name) == (size_t)(eq - p) &&
			    strncmp(attrs[i].name, p, (size_t)(eq - p)) == 0)
				break;
		if (attrs[i].name == NULL) {
			/* RFC 7512: unknown attributes are ignored. */
			if (strncmp(p, "pin-value", 9) == 0)
				return cm_err(ctx, CM_ERR_INVAL, "device: a "
				    "PIN is never written in a PKCS#11 URI: "
				    "give it in a PIN file or when asked");
			continue;
		}
		if (seen & (1u << i))
			goto twice;
		seen |= 1u << i;
		n = pct_decode(eq + 1, e, (unsigned char *)u + attrs[i].off,
		    attrs[i].cap);
		if (n < 0 || memchr((char *)u + attrs[i].off, '\0',
		    (size_t)n) != NULL)
			goto bad;
	}
	if (u->token[0] == '\0' && u->serial[0] == '\0' && !u->slot_set)
		return cm_err(ctx, CM_ERR_INVAL, "device \"%s\": name the "
		    "token by label (token=) or serial number (serial=)",
		    p11_uri_safe(uri));
	return 0;
bad:
	return cm_err(ctx, CM_ERR_INVAL, "device \"%s\": not a PKCS#11 URI "
	    "(RFC 7512)", p11_uri_safe(uri));
twice:
	return cm_err(ctx, CM_ERR_INVAL, "device \"%s\": an attribute is given "
	    "twice (RFC 7512)", p11_uri_safe(uri));
}

static void
pct_encode(char *dst, size_t cap, const unsigned char *s, size_t len,
    int all)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = 0, i;

	for (i = 0; i < len && n + 4 < cap; i++) {
		if (!all && ((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' &&
		    s[i] <= '9') || strchr("-._~:[]@!$'()*+,=&", s[i]) != NULL))
			dst[n++] = (char)s[i];
		else {
			dst[n++] = '%';
			dst[n++] = hex[s[i] >> 4];
			dst[n++] = hex[s[i] & 15];
		}
	}
	dst[n] = '\0';
}

/* The URI of u, as opencm records it: token, serial, id, object. */
void
p11_uri_format(const struct p11_uri *u, char *buf, size_t len)
{
	char v[400];
	size_t n;

	snprintf(buf, len, "pkcs11:");
	if (u->token[0] != '\0') {
		pct_encode(v, sizeof(v), (const unsigned char *)u->token,
		    strlen(u->token), 0);
		n = strlen(buf);
		snprintf(buf + n, len - n, "token=%s;", v);
	}
	if (u->serial[0] != '\0') {
		pct_encode(v, sizeof(v), (const unsigned char *)u->serial,
		    strlen(u->serial), 0);
		n = strlen(buf);
		snprintf(buf + n, len - n, "serial=%s;", v);
	}
	if (u->idlen > 0) {
		pct_encode(v, sizeof(v), u->id, u->idlen, 1);
		n = strlen(buf);
		snprintf(buf + n, len - n, "id=%s;", v);
	}
	if (u->object[0] != '\0') {
		pct_encode(v, sizeof(v), (const unsigned char *)u->object,
		    strlen(u->object), 0);
		n = strlen(buf);
		snprintf(buf + n, len - n, "object=%s;", v);
	}
	n = strlen(buf);
	if (n > 0 && buf[n - 1] == ';')
		buf[--n] = '\0';
	if (u->module[0] != '\0') {
		pct_encode(v, sizeof(v), (const unsigned char *)u->module,
		    strlen(u->module), 0);
		snprintf(buf + n, len - n, "?module-path=%s", v);
	}
}

/* How a URI names its token, for messages: its label, else its serial. */
const char *
p11_uri_token(const struct p11_uri *u)
{
	if (u->token[0] != '\0')
		return u->token;
	return u->serial[0] != '\0' ? u->serial : "in the slot given";
}

/* ------------------------------------------------------------ modules */

/*
 * Load and initialize a module, once per context.  Returns 0 and the
 * module (out may be NULL), or CM_ERR_TOKEN naming the module.
 */
int
p11_module_load(struct cm_ctx *ctx, const char *path, struct p11_module **out)
{
	struct p11_module *m;
	CK_C_GetFunctionList gfl;
	CK_C_INITIALIZE_ARGS args;
	CK_RV rv;

	if (out != NULL)
		*out = NULL;
	for (m = ctx->p11; m != NULL; m = m->next)
		if (strcmp(m->path, path) == 0) {
			if (out != NULL)
				*out = m;
			return 0;
		}
	if ((m = calloc(1, sizeof(*m))) == NULL ||
	    (m->path = cm_strdup(path)) == NULL) {
		free(m);
		return CM_ERR_NOMEM;
	}
	if ((m->dl = dlopen(path, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		cm_err(ctx, CM_ERR_TOKEN, "PKCS#11 module %s: %s", path,
		    dlerror());
		goto fail;
	}
	*(void **)&gfl = dlsym(m->dl, "C_GetFunctionList");
	if (gfl == NULL || gfl(&m->f) != CKR_OK || m->f == NULL) {
		cm_err(ctx, CM_ERR_TOKEN, "PKCS#11 module %s: no "
		    "C_GetFunctionList", path);
		goto fail;
	}
	memset(&args, 0, sizeof(args));
	args.flags = CKF_OS_LOCKING_OK;
	rv = m->f->C_Initialize(&args);
	if (rv != CKR_OK && rv != CKR_CRYPTOKI_ALREADY_INITIALIZED) {
		cm_err(ctx, CM_ERR_TOKEN, "PKCS#11 module %s: C_Initialize "
		    "failed: %s", path, ckr_name(rv));
		goto fail;
	}
	m->initialized = rv == CKR_OK;
	m->next = ctx->p11;
	ctx->p11 = m;
	if (out != NULL)
		*out = m;
	return 0;
fail:
	if (m->dl != NULL)
		dlclose(m->dl);
	free(m->path);
	free(m);
	return CM_ERR_TOKEN;
}

/*
 * The i-th module to look in: the pkcs11.<n> keys of cm.conf in the order
 * they are written, else the OpenSC module.  NULL after the last.
 */
const char *
p11_module_path(const struct cm_ctx *ctx, size_t i)
{
	size_t k, n = 0;
	const char *key;

	for (k = 0; k < ctx->nconf; k++) {
		key = ctx->conf[k].key;
		if (strncmp(key, "pkcs11.", 7) == 0 && n++ == i)
			return ctx->conf[k].value;
	}
	if (i == 0 && n == 0)
		return CM_PKCS11_DEFAULT;
	return NULL;
}

/* The module paths searched, for a message. */
static void
module_list(const struct cm_ctx *ctx, const struct p11_uri *u, char *buf,
    size_t len)
{
	const char *p;
	size_t i, n;

	if (u != NULL && u->module[0] != '\0') {
		snprintf(buf, len, "%s", u->module);
		return;
	}
	buf[0] = '\0';
	for (i = 0; (p = p11_module_path(ctx, i)) != NULL; i++) {
		n = strlen(buf);
		snprintf(buf + n, len - n, "%s%s", i > 0 ? ", " : "", p);
	}
}

/* ------------------------------------------------------------ tokens */

static int
token_match(const struct p11_uri *u, unsigned long slot,
    const CK_TOKEN_INFO *ti)
{
	char s[33];

	if (u->slot_set && slot != u->slot)
		return 0;
	p11_str(s, sizeof(s), ti->label, sizeof(ti->label));
	if (u->token[0] != '\0' && strcmp(s, u->token) != 0)
		return 0;
	p11_str(s, sizeof(s), ti->serialNumber, sizeof(ti->serialNumber));
	if (u->serial[0] != '\0' && strcmp(s, u->serial) != 0)
		return 0;
	p11_str(s, sizeof(s), ti->manufacturerID, sizeof(ti->manufacturerID));
	if (u->manufacturer[0] != '\0' && strcmp(s, u->manufacturer) != 0)
		return 0;
	p11_str(s, sizeof(s), ti->model, sizeof(ti->model));
	if (u->model[0] != '\0' && strcmp(s, u->model) != 0)
		return 0;
	return 1;
}

/*
 * Call fn for every token present in the modules (those of u, when u
 * names a module), with its module, slot and token information.  fn
 * returns 0 to go on, 1 to stop, or a CM_ERR_*.
 */
int
p11_each_token(struct cm_ctx *ctx, const struct p11_uri *u,
    int (*fn)(void *, struct p11_module *, unsigned long, const void *),
    void *arg)
{
	struct p11_module *m;
	CK_SLOT_ID *slots = NULL;
	CK_ULONG n = 0, i;
	CK_TOKEN_INFO ti;
	const char *path;
	size_t k;
	int rc = 0;

	for (k = 0; rc == 0; k++) {
		if (u != NULL && u->module[0] != '\0')
			path = k == 0 ? u->module : NULL;
		else
			path = p11_module_path(ctx, k);
		if (path == NULL)
			break;
		if ((rc = p11_module_load(ctx, path, &m)) != 0)
			return rc;
		if (m->f->C_GetSlotList(CK_TRUE, NULL, &n) != CKR_OK)
			continue;
		free(slots);
		if ((slots = calloc(n + 1, sizeof(*slots))) == NULL)
			return CM_ERR_NOMEM;
		if (m->f->C_GetSlotList(CK_TRUE, slots, &n) != CKR_OK)
			continue;
		for (i = 0; i < n && rc == 0; i++) {
			if (m->f->C_GetTokenInfo(slots[i], &ti) != CKR_OK)
				continue;
			rc = fn(arg, m, slots[i], &ti);
		}
	}
	free(slots);
	return rc < 0 ? rc : 0;
}

struct find_arg {
	const struct p11_uri	*u;
	struct p11_module	*mod;
	CK_SLOT_ID		 slot;
	CK_TOKEN_INFO		 ti;
	int			 found;
	int			 inited;	/* how many initialized */
};

static int
find_cb(void *arg, struct p11_module *m, unsigned long slot, const void *tip)
{
	struct find_arg *a = arg;
	const CK_TOKEN_INFO *ti = tip;

	if (!token_match(a->u, slot, ti))
		return 0;
	a->found++;
	/* An initialized token goes before a blank one of the same name. */
	if ((ti->flags & CKF_TOKEN_INITIALIZED) ? a->inited++ == 0 :
	    a->found == 1) {
		a->mod = m;
		a->slot = slot;
		a->ti = *ti;
	}
	return 0;
}

/*
 * Open a session on the token u names; rw for a read/write session.  The
 * token must be present and the only one that matches.  Returns 0 and a
 * token kept by the context (p11_close_all closes it), or CM_ERR_TOKEN
 * naming the token and the modules searched.
 */
int
p11_open(struct cm_ctx *ctx, const struct p11_uri *u, int rw,
    struct p11_tok **out)
{
	struct find_arg a;
	struct p11_tok *t;
	char mods[600];
	CK_RV rv;
	int rc;

	*out = NULL;
	for (t = ctx->p11_toks; t != NULL; t = t->next) {
		if (!u->slot_set &&
		    (u->token[0] == '\0' || strcmp(t->label, u->token) == 0) &&
		    (u->serial[0] == '\0' || strcmp(t->serial, u->serial) ==
		    0) && (!rw || t->rw) && (u->module[0] == '\0' ||
		    strcmp(u->module, t->mod->path) == 0)) {
			*out = t;
			return 0;
		}
	}
	memset(&a, 0, sizeof(a));
	a.u = u;
	if ((rc = p11_each_token(ctx, u, find_cb, &a)) != 0)
		return rc;
	if (a.found == 0) {
		module_list(ctx, u, mods, sizeof(mods));
		return cm_err(ctx, CM_ERR_TOKEN, "token \"%s\" is not present "
		    "(PKCS#11 modules: %s)", p11_uri_token(u), mods);
	}
	if (a.found > 1 && a.inited != 1)
		return cm_err(ctx, CM_ERR_TOKEN, "token \"%s\": %d tokens "
		    "match: name it by its serial number too", p11_uri_token(u),
		    a.found);
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return CM_ERR_NOMEM;
	t->mod = a.mod;
	t->slot = a.slot;
	t->rw = rw;
	p11_tok_set(t, &a.ti);
	/* A blank token takes no session until C_InitToken. */
	rv = !(t->flags & CKF_TOKEN_INITIALIZED) ? CKR_OK :
	    t->mod->f->C_OpenSession(t->slot, CKF_SERIAL_SESSION |
	    (rw ? CKF_RW_SESSION : 0), NULL, NULL, &t->session);
	if (rv != CKR_OK) {
		rc = p11_fail_rv(ctx, t->label, "C_OpenSession", rv);
		free(t);
		return rc;
	}
	t->next = ctx->p11_toks;
	ctx->p11_toks = t;
	*out = t;
	return 0;
}

/* What a token says of itself: its flags, label, serial, model, maker. */
void
p11_tok_set(struct p11_tok *t, const CK_TOKEN_INFO *ti)
{
	t->flags = ti->flags;
	p11_str(t->label, sizeof(t->label), ti->label, sizeof(ti->label));
	p11_str(t->serial, sizeof(t->serial), ti->serialNumber,
	    sizeof(ti->serialNumber));
	p11_str(t->model, sizeof(t->model), ti->model, sizeof(ti->model));
	p11_str(t->manufacturer, sizeof(t->manufacturer), ti->manufacturerID,
	    sizeof(ti->manufacturerID));
}

const char *
p11_tok_label(const struct p11_tok *t)
{
	return t->label;
}

const char *
p11_tok_serial(const struct p11_tok *t)
{
	return t->serial;
}

/*
 * The user PIN of a token: cm.conf token.<label>.pin-file, else the front
 * end's answer.  buf holds at least 256 bytes; the caller wipes it.
 */
int
p11_pin(struct cm_ctx *ctx, const char *label, int kind, char *buf,
    size_t len)
{
	char key[80], prompt[120];
	const char *file;
	int rc;

	snprintf(key, sizeof(key), "token.%s.pin-file", label);
	if (kind == CM_SECRET_TOKEN &&
	    (file = cm_config_get(ctx, key)) != NULL)
		return cm_secret_file(ctx, file, 1, buf, len);
	if (ctx->ui.get_secret == NULL)
		return cm_err(ctx, CM_ERR_DENIED, "token \"%s\": no way to ask "
		    "for its PIN", label);
	snprintf(prompt, sizeof(prompt), "PIN of %stoken %s",
	    kind == CM_SECRET_OFFICER ? "officer " : "", label);
	ctx->errmsg[0] = '\0';
	rc = ctx->ui.get_secret(ctx->ui.arg, kind, prompt, 0, buf, len);
	if (rc != 0 && ctx->errmsg[0] == '\0')
		cm_err(ctx, rc, "token \"%s\": no PIN", label);
	return rc;
}

/*
 * Log in to a token as its user (so: as its security officer, with the SO
 * PIN in pin), asking for the PIN when pin is NULL and the token has no
 * PIN pad.  Returns 0, CM_ERR_DENIED for a wrong or locked PIN.
 */
int
p11_login(struct cm_ctx *ctx, struct p11_tok *t, int so, const char *pin)
{
	char *buf = NULL;
	CK_RV rv;
	int rc;

	if (t->login == (so ? 2 : 1))
		return 0;
	if (!so && !(t->flags & CKF_LOGIN_REQUIRED) && pin == NULL)
		return 0;
	if (pin == NULL && !(t->flags & CKF_PROTECTED_AUTHENTICATION_PATH)) {
		if ((buf = calloc(1, 256)) == NULL)
			return CM_ERR_NOMEM;
		if ((rc = p11_pin(ctx, t->label, CM_SECRET_TOKEN, buf,
		    256)) != 0)
			goto out;
		pin = buf;
	}
	rv = t->mod->f->C_Login(t->session, so ? CKU_SO : CKU_USER,
	    (CK_UTF8CHAR_PTR)pin, pin != NULL ? strlen(pin) : 0);
	if (so && (rv == CKR_PIN_INCORRECT || rv == CKR_PIN_LOCKED)) {
		rc = cm_err(ctx, CM_ERR_DENIED, "token \"%s\": %s", t->label,
		    rv == CKR_PIN_LOCKED ? "the SO PIN is locked" :
		    "wrong SO PIN");
		goto out;
	}
	if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN) {
		rc = p11_fail_rv(ctx, t->label, "C_Login", rv);
		goto out;
	}
	t->login = so ? 2 : 1;
	rc = 0;
out:
	cm_secret_free(buf);
	return rc;
}

/*
 * Whether this process is logged in to the token in slot of the module at
 * path as its user: a session's state says so.
 */
int
p11_slot_user(struct cm_ctx *ctx, const char *path, unsigned long slot)
{
	struct p11_module *m;
	CK_SESSION_HANDLE h;
	CK_SESSION_INFO si;
	int in = 0;

	if (p11_module_load(ctx, path, &m) != 0)
		return 0;
	if (m->f->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &h) !=
	    CKR_OK)
		return 0;
	if (m->f->C_GetSessionInfo(h, &si) == CKR_OK)
		in = si.state == CKS_RO_USER_FUNCTIONS ||
		    si.state == CKS_RW_USER_FUNCTIONS;
	(void)m->f->C_CloseSession(h);
	return in;
}

/*
 * Log this process out of the token in slot of the module at path.
 * Returns 0 when it is logged out, or CM_ERR_TOKEN.
 */
int
p11_slot_logout(struct cm_ctx *ctx, const char *path, unsigned long slot)
{
	struct p11_module *m;
	struct p11_tok *t;
	CK_SESSION_HANDLE h;
	CK_SESSION_INFO si;
	CK_RV rv;
	int rc;

	if ((rc = p11_module_load(ctx, path, &m)) != 0)
		return rc;
	if ((rv = m->f->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL,
	    &h)) != CKR_OK)
		return p11_fail_rv(ctx, "", "C_OpenSession", rv);
	(void)m->f->C_Logout(h);
	rv = m->f->C_GetSessionInfo(h, &si);
	(void)m->f->C_CloseSession(h);
	for (t = ctx->p11_toks; t != NULL; t = t->next)
		if (t->mod == m && t->slot == slot)
			t->login = 0;
	if (rv != CKR_OK || si.state == CKS_RO_USER_FUNCTIONS ||
	    si.state == CKS_RW_USER_FUNCTIONS)
		return cm_err(ctx, CM_ERR_TOKEN, "the token cannot be logged "
		    "out of, so its PIN cannot be checked");
	return 0;
}

/*
 * Close every session of this process on the token (libp11's too, left
 * from signing with a card's key: the SO cannot log in beside a
 * read-only session) and open a fresh read/write one.
 */
int
p11_reset(struct cm_ctx *ctx, struct p11_tok *t)
{
	CK_RV rv;

	(void)t->mod->f->C_CloseAllSessions(t->slot);
	t->login = 0;
	t->session = CK_INVALID_HANDLE;
	rv = t->mod->f->C_OpenSession(t->slot, CKF_SERIAL_SESSION |
	    CKF_RW_SESSION, NULL, NULL, &t->session);
	if (rv != CKR_OK)
		return p11_fail_rv(ctx, t->label, "C_OpenSession", rv);
	t->rw = 1;
	return 0;
}

/* Log out of a token (closing nothing): the next operation logs in. */
void
p11_logout(struct p11_tok *t)
{
	if (t->login != 0)
		(void)t->mod->f->C_Logout(t->session);
	t->login = 0;
}

/* ------------------------------------------------------------ keys */

static CK_BBOOL ck_true = CK_TRUE, ck_false = CK_FALSE;

/* The DER of a named curve's OID, for CKA_EC_PARAMS (caller frees). */
static int
ec_params(const char *curve, unsigned char **der, int *len)
{
	ASN1_OBJECT *obj;
	int nid;

	*der = NULL;
	if ((nid = EC_curve_nist2nid(curve)) == NID_undef)
		nid = OBJ_txt2nid(curve);
	if (nid == NID_undef || (obj = OBJ_nid2obj(nid)) == NULL)
		return -1;
	*len = i2d_ASN1_OBJECT(obj, der);
	return *len > 0 ? 0 : -1;
}

/* An attribute's value (caller frees).  0, or -1 when it has none. */
int
p11_attr_get(struct p11_tok *t, CK_OBJECT_HANDLE obj, CK_ATTRIBUTE_TYPE type,
    unsigned char **val, size_t *len)
{
	CK_ATTRIBUTE a = P11_ATTR(type, NULL, 0);

	*val = NULL;
	*len = 0;
	if (t->mod->f->C_GetAttributeValue(t->session, obj, &a, 1) != CKR_OK ||
	    a.ulValueLen == CK_UNAVAILABLE_INFORMATION)
		return -1;
	if ((a.pValue = malloc(a.ulValueLen + 1)) == NULL)
		return -1;
	if (t->mod->f->C_GetAttributeValue(t->session, obj, &a, 1) != CKR_OK) {
		free(a.pValue);
		return -1;
	}
	*val = a.pValue;
	*len = a.ulValueLen;
	return 0;
}

/* The public key of a public key object as an EVP_PKEY (caller frees). */
static EVP_PKEY *
pubkey_read(struct p11_tok *t, CK_OBJECT_HANDLE obj, const char *curve)
{
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	EVP_PKEY *pkey = NULL;
	ASN1_OCTET_STRING *os = NULL;
	BIGNUM *n = NULL, *e = NULL;
	unsigned char *v1 = NULL, *v2 = NULL;
	const unsigned char *p;
	size_t l1, l2;

	if ((bld = OSSL_PARAM_BLD_new()) == NULL)
		goto out;
	if (curve == NULL) {
		if (p11_attr_get(t, obj, CKA_MODULUS, &v1, &l1) != 0 ||
		    p11_attr_get(t, obj, CKA_PUBLIC_EXPONENT, &v2, &l2) != 0 ||
		    (n = BN_bin2bn(v1, (int)l1, NULL)) == NULL ||
		    (e = BN_bin2bn(v2, (int)l2, NULL)) == NULL ||
		    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) ||
		    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e))
			goto out;
		pctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	} else {
		if (p11_attr_get(t, obj, CKA_EC_POINT, &v1, &l1) != 0)
			goto out;
		/* An OCTET STRING holding the point, or (some) the point. */
		p = v1;
		os = d2i_ASN1_OCTET_STRING(NULL, &p, (long)l1);
		if (os != NULL && p == v1 + l1) {
			if (!OSSL_PARAM_BLD_push_octet_string(bld,
			    OSSL_PKEY_PARAM_PUB_KEY, ASN1_STRING_get0_data(os),
			    (size_t)ASN1_STRING_length(os)))
				goto out;
		} else if (!OSSL_PARAM_BLD_push_octet_string(bld,
		    OSSL_PKEY_PARAM_PUB_KEY, v1, l1))
			goto out;
		if (!OSSL_PARAM_BLD_push_utf8_string(bld,
		    OSSL_PKEY_PARAM_GROUP_NAME, curve, 0))
			goto out;
		pctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	}
	if (pctx == NULL || (params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
	    EVP_PKEY_fromdata_init(pctx) != 1 ||
	    EVP_PKEY_fromdata(pctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
		pkey = NULL;
out:
	ASN1_OCTET_STRING_free(os);
	BN_free(n);
	BN_free(e);
	free(v1);
	free(v2);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	EVP_PKEY_CTX_free(pctx);
	return pkey;
}

/*
 * The public key of a public key object (or of a certificate's key, from
 * a private key object where the module keeps the public parts there).
 */
EVP_PKEY *
p11_pubkey(struct p11_tok *t, CK_OBJECT_HANDLE obj)
{
	unsigned char *v = NULL;
	const unsigned char *p;
	size_t len;
	ASN1_OBJECT *oid = NULL;
	CK_KEY_TYPE kt;
	EVP_PKEY *pkey = NULL;
	char curve[64];

	if (p11_attr_get(t, obj, CKA_KEY_TYPE, &v, &len) != 0 ||
	    len != sizeof(kt))
		goto out;
	memcpy(&kt, v, sizeof(kt));
	free(v);
	v = NULL;
	if (kt == CKK_RSA)
		pkey = pubkey_read(t, obj, NULL);
	else if (kt == CKK_EC) {
		if (p11_attr_get(t, obj, CKA_EC_PARAMS, &v, &len) != 0)
			goto out;
		p = v;
		if ((oid = d2i_ASN1_OBJECT(NULL, &p, (long)len)) == NULL ||
		    OBJ_obj2nid(oid) == NID_undef)
			goto out;
		snprintf(curve, sizeof(curve), "%s",
		    OBJ_nid2sn(OBJ_obj2nid(oid)));
		pkey = pubkey_read(t, obj, curve);
	}
out:
	ASN1_OBJECT_free(oid);
	free(v);
	return pkey;
}

/*
 * The one object of a class with an id (idlen 0: of any id) on a token.
 * Returns 0 and its handle, CM_ERR_NOTFOUND, or CM_ERR_TOKEN.
 */
int
p11_find(struct cm_ctx *ctx, struct p11_tok *t, CK_OBJECT_CLASS cls,
    const unsigned char *id, size_t idlen, CK_OBJECT_HANDLE *out)
{
	CK_ATTRIBUTE tmpl[] = {
		P11_ATTR(CKA_CLASS, &cls, sizeof(cls)),
		P11_ATTR(CKA_ID, id, idlen),
	};
	CK_OBJECT_HANDLE h[2];
	CK_ULONG n = 0;
	CK_RV rv;

	*out = CK_INVALID_HANDLE;
	rv = t->mod->f->C_FindObjectsInit(t->session, tmpl, idlen > 0 ? 2 : 1);
	if (rv != CKR_OK)
		return p11_fail_rv(ctx, t->label, "C_FindObjectsInit", rv);
	rv = t->mod->f->C_FindObjects(t->session, h, 2, &n);
	(void)t->mod->f->C_FindObjectsFinal(t->session);
	if (rv != CKR_OK)
		return p11_fail_rv(ctx, t->label, "C_FindObjects", rv);
	if (n == 0)
		return CM_ERR_NOTFOUND;
	if (n > 1)
		return cm_err(ctx, CM_ERR_TOKEN, "token \"%s\": more than one "
		    "object with that id", t->label);
	*out = h[0];
	return 0;
}

/* Set one boolean attribute; whether the module took it. */
static int
attr_set(struct p11_tok *t, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE type,
    CK_BBOOL v)
{
	CK_ATTRIBUTE a = P11_ATTR(type, &v, 1);

	return t->mod->f->C_SetAttributeValue(t->session, h, &a, 1) == CKR_OK;
}

static int
attr_is(struct p11_tok *t, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE type,
    CK_BBOOL want)
{
	CK_BBOOL v = !want;
	CK_ATTRIBUTE a = P11_ATTR(type, &v, 1);

	return t->mod->f->C_GetAttributeValue(t->session, h, &a, 1) ==
	    CKR_OK && a.ulValueLen == 1 && (v != 0) == (want != 0);
}

/*
 * A new key pair's usages: signing, and decryption when dec is set; the
 * others taken away where the module lets them be.  The private key must
 * be sensitive and never extractable, or the key is refused.
 */
static int
key_usages(struct cm_ctx *ctx, struct p11_tok *t, CK_OBJECT_HANDLE hpub,
    CK_OBJECT_HANDLE hpriv, CK_BBOOL dec)
{
	if (!attr_is(t, hpriv, CKA_SIGN, CK_TRUE))
		(void)attr_set(t, hpriv, CKA_SIGN, CK_TRUE);
	if (!attr_is(t, hpub, CKA_VERIFY, CK_TRUE))
		(void)attr_set(t, hpub, CKA_VERIFY, CK_TRUE);
	if (!dec) {
		if (!attr_is(t, hpriv, CKA_DECRYPT, CK_FALSE))
			(void)attr_set(t, hpriv, CKA_DECRYPT, CK_FALSE);
		if (!attr_is(t, hpub, CKA_ENCRYPT, CK_FALSE))
			(void)attr_set(t, hpub, CKA_ENCRYPT, CK_FALSE);
	} else if (!attr_is(t, hpriv, CKA_DECRYPT, CK_TRUE))
		(void)attr_set(t, hpriv, CKA_DECRYPT, CK_TRUE);
	if (!attr_is(t, hpriv, CKA_UNWRAP, CK_FALSE))
		(void)attr_set(t, hpriv, CKA_UNWRAP, CK_FALSE);
	if (!attr_is(t, hpub, CKA_WRAP, CK_FALSE))
		(void)attr_set(t, hpub, CKA_WRAP, CK_FALSE);
	if (!attr_is(t, hpriv, CKA_DERIVE, CK_FALSE))
		(void)attr_set(t, hpriv, CKA_DERIVE, CK_FALSE);
	if (!attr_is(t, hpriv, CKA_SIGN, CK_TRUE))
		return cm_err(ctx, CM_ERR_TOKEN, "token \"%s\": the new key "
		    "cannot sign", t->label);
	if (!attr_is(t, hpriv, CKA_SENSITIVE, CK_TRUE) ||
	    !attr_is(t, hpriv, CKA_EXTRACTABLE, CK_FALSE))
		return cm_err(ctx, CM_ERR_TOKEN, "token \"%s\": the module "
		    "made the new private key readable (not sensitive, or "
		    "extractable): it is destroyed", t->label);
	return 0;
}

/*
 * Generate a key pair on the token: the private key private, sensitive and
 * never extractable, both objects with the label and id given.  type is
 * an opencm key type (rsa:N, ec:p256, ec:p384); usage the key usages the
 * private key gets ("sign", "sign,decrypt").  Returns 0 and the public key
 * (caller frees); the objects are destroyed if the transaction that made
 * them rolls back.
 */
int
p11_keygen(struct cm_ctx *ctx, struct p11_tok *t, const char *type,
    const char *label, const unsigned char *id, size_t idlen,
    const char *usage, EVP_PKEY **pub)
{
	CK_MECHANISM mech = { CKM_RSA_PKCS_KEY_PAIR_GEN, NULL, 0 };
	CK_OBJECT_CLASS pubc = CKO_PUBLIC_KEY, privc = CKO_PRIVATE_KEY;
	CK_KEY_TYPE kt = CKK_RSA;
	CK_ULONG bits = 0;
	CK_BYTE exp[] = { 1, 0, 1 };
	CK_BBOOL dec = cm_list_has(usage, "decrypt") ? CK_TRUE : CK_FALSE;
	CK_OBJECT_HANDLE hpub = CK_INVALID_HANDLE, hpriv = CK_INVALID_HANDLE;
	const char *curve = NULL;
	unsigned char *ecp = NULL;
	int eclen = 0, rc;
	CK_RV rv;

	*pub = NULL;
	if (strncmp(type, "rsa:", 4) == 0)
		bits = strtoul(type + 4, NULL, 10);
	else if (strcmp(type, "ec:p256") == 0)
		curve = "P-256";
	else if (strcmp(type, "ec:p384") == 0)
		curve = "P-384";
	else if (strcmp(type, "ec:p521") == 0)
		curve = "P-521";
	else if (strncmp(type, "ec:", 3) == 0)
		curve = type + 3;	/* a curve by name: prime256v1 ... */
	else
		return cm_err(ctx, CM_ERR_INVAL, "token \"%s\": keys of type "
		    "\"%s\" are not made on tokens (rsa:2048, rsa:3072, "
		    "rsa:4096, ec:p256 or ec:p384)", t->label, type);
	if (curve != NULL) {
		mech.mechanism = CKM_EC_KEY_PAIR_GEN;
		kt = CKK_EC;
		dec = CK_FALSE;		/* EC keys do not decrypt */
		if (ec_params(curve, &ecp, &eclen) != 0)
			return cm_err(ctx, CM_ERR_INVAL, "curve \"%s\": "
			    "unknown (P-256, P-384, P-521 or an OpenSSL curve "
			    "name)", curve);
	}
	/*
	 * The template sets what the key must be (private, sensitive, never
	 * extractable) but leaves the usages to the module: some decide them
	 * (tpm2-pkcs11 refuses any usage that differs from the TPM key's, and
	 * its EC keys also decrypt and derive).  Usages the key must not have
	 * are taken away after, where the module lets them be.
	 */
	{
		CK_ATTRIBUTE pubt[10], privt[10];
		CK_ULONG np = 0, nv = 0;

		pubt[np++] = (CK_ATTRIBUTE)P11_ATTR(CKA_CLASS, &pubc,
		    sizeof(pubc));
		pubt[np++] = (CK_ATTRIBUTE)P11_ATTR(CKA_KEY_TYPE, &kt,
		    sizeof(kt));
		pubt[np++] = (CK_ATTRIBUTE)P11_ATTR(CKA_TOKEN, &ck_true, 1);
		pubt[np++] = (CK_ATTRIBUTE)P11_ATTR(CKA_PRIVATE, &ck_false, 1);
		pubt[np++] = (CK_ATTRIBUTE)P11_ATTR(CKA_LABEL, label,
		    strlen(label));
		pubt[np++] = (CK_ATTRIBUTE)P11_ATTR(CKA_ID, id, idlen);
		if (curve != NULL)
			pubt[np++] = (CK_ATTRIBUTE)P11_ATTR(CKA_EC_PARAMS, ecp,
			    eclen);
		else {
			pubt[np++] = (CK_ATTRIBUTE)P11_ATTR(CKA_MODULUS_BITS,
			    &bits, sizeof(bits));
			pubt[np++] = (CK_ATTRIBUTE)P11_ATTR(
			    CKA_PUBLIC_EXPONENT, exp, sizeof(exp));
		}
		privt[nv++] = (CK_ATTRIBUTE)P11_ATTR(CKA_CLASS, &privc,
		    sizeof(privc));
		privt[nv++] = (CK_ATTRIBUTE)P11_ATTR(CKA_KEY_TYPE, &kt,
		    sizeof(kt));
		privt[nv++] = (CK_ATTRIBUTE)P11_ATTR(CKA_TOKEN, &ck_true, 1);
		privt[nv++] = (CK_ATTRIBUTE)P11_ATTR(CKA_PRIVATE, &ck_true, 1);
		privt[nv++] = (CK_ATTRIBUTE)P11_ATTR(CKA_SENSITIVE, &ck_true,
		    1);
		privt[nv++] = (CK_ATTRIBUTE)P11_ATTR(CKA_EXTRACTABLE,
		    &ck_false, 1);
		privt[nv++] = (CK_ATTRIBUTE)P11_ATTR(CKA_LABEL, label,
		    strlen(label));
		privt[nv++] = (CK_ATTRIBUTE)P11_ATTR(CKA_ID, id, idlen);
		rv = t->mod->f->C_GenerateKeyPair(t->session, &mech, pubt, np,
		    privt, nv, &hpub, &hpriv);
	}
	OPENSSL_free(ecp);
	if (rv != CKR_OK)
		return p11_fail_rv(ctx, t->label, "C_GenerateKeyPair", rv);
	if ((rc = p11_undo_push(ctx, t, hpriv)) != 0) {
		(void)t->mod->f->C_DestroyObject(t->session, hpriv);
		(void)t->mod->f->C_DestroyObject(t->session, hpub);
		return rc;
	}
	if ((rc = p11_undo_push(ctx, t, hpub)) != 0) {
		/* hpriv goes with the transaction; hpub now. */
		(void)t->mod->f->C_DestroyObject(t->session, hpub);
		return rc;
	}
	if ((rc = key_usages(ctx, t, hpub, hpriv, dec)) != 0)
		return rc;
	if ((*pub = pubkey_read(t, hpub, curve)) == NULL)
		return cm_err_ssl(ctx, CM_ERR_TOKEN, "token \"%s\": the public "
		    "key of \"%s\" cannot be read", t->label, label);
	return 0;
}

/*
 * Store certificate x on the token: CKA_SUBJECT, CKA_ISSUER and
 * CKA_SERIAL_NUMBER from it, the label, and the id (none: idlen 0).
 * Returns 0 and the object, or CM_ERR_TOKEN naming the token.
 */
int
p11_cert_create(struct cm_ctx *ctx, struct p11_tok *t, X509 *x,
    const char *label, const unsigned char *id, size_t idlen,
    unsigned long *out)
{
	unsigned char *der = NULL, *subj = NULL, *iss = NULL, *ser = NULL;
	CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
	CK_CERTIFICATE_TYPE ct = CKC_X_509;
	CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
	int dl, sl, il, nl, rc = 0;
	CK_RV rv;

	if ((dl = i2d_X509(x, &der)) <= 0 ||
	    (sl = i2d_X509_NAME(X509_get_subject_name(x), &subj)) <= 0 ||
	    (il = i2d_X509_NAME(X509_get_issuer_name(x), &iss)) <= 0 ||
	    (nl = i2d_ASN1_INTEGER(X509_get_serialNumber(x), &ser)) <= 0) {
		rc = cm_err_ssl(ctx, CM_ERR_CRYPTO, "certificate");
		goto out;
	}
	{
		CK_ATTRIBUTE tmpl[] = {
			P11_ATTR(CKA_CLASS, &cls, sizeof(cls)),
			P11_ATTR(CKA_CERTIFICATE_TYPE, &ct, sizeof(ct)),
			P11_ATTR(CKA_TOKEN, &ck_true, 1),
			P11_ATTR(CKA_PRIVATE, &ck_false, 1),
			P11_ATTR(CKA_LABEL, label, strlen(label)),
			P11_ATTR(CKA_SUBJECT, subj, sl),
			P11_ATTR(CKA_ISSUER, iss, il),
			P11_ATTR(CKA_SERIAL_NUMBER, ser, nl),
			P11_ATTR(CKA_VALUE, der, dl),
			/* Last: a key's certificate only. */
			P11_ATTR(CKA_ID, id, idlen),
		};
		CK_ULONG n = sizeof(tmpl) / sizeof(tmpl[0]);

		rv = t->mod->f->C_CreateObject(t->session, tmpl,
		    idlen > 0 ? n : n - 1, &h);
	}
	if (rv != CKR_OK)
		rc = p11_fail_rv(ctx, t->label, "writing a certificate "
		    "(C_CreateObject)", rv);
	*out = h;
out:
	OPENSSL_free(der);
	OPENSSL_free(subj);
	OPENSSL_free(iss);
	OPENSSL_free(ser);
	return rc;
}

/* ------------------------------------------------------------ undo */

/* Remember an object made in the current transaction. */
int
p11_undo_push(struct cm_ctx *ctx, struct p11_tok *t, unsigned long obj)
{
	struct p11_undo *u;

	if ((u = calloc(1, sizeof(*u))) == NULL)
		return CM_ERR_NOMEM;
	u->tok = t;
	u->obj = obj;
	u->next = ctx->p11_undo;
	ctx->p11_undo = u;
	return 0;
}

/*
 * The transaction ended: with rollback set, destroy the objects it made
 * on tokens (nothing stays on a token for a change the CMDB does not
 * hold); else keep them.
 */
void
p11_undo_end(struct cm_ctx *ctx, int rollback)
{
	struct p11_undo *u, *next;
	char label[33] = "", msg[160];
	int left = 0;

	for (u = ctx->p11_undo; u != NULL; u = next) {
		next = u->next;
		if (rollback && u->tok->mod->f->C_DestroyObject(u->tok->session,
		    u->obj) != CKR_OK) {
			left++;
			snprintf(label, sizeof(label), "%s", u->tok->label);
		}
		free(u);
	}
	ctx->p11_undo = NULL;
	if (left > 0) {
		snprintf(msg, sizeof(msg), "; token \"%s\" still holds %d "
		    "object%s of the failed change: delete %s there", label,
		    left, left == 1 ? "" : "s", left == 1 ? "it" : "them");
		cm_err_suffix(ctx, msg);
	}
}

/* Close one token's session (logging out of it) and forget it. */
void
p11_close(struct cm_ctx *ctx, struct p11_tok *t)
{
	struct p11_tok **pp;
	struct p11_undo *u;

	for (u = ctx->p11_undo; u != NULL; u = u->next)
		if (u->tok == t)
			return;		/* still needed by the transaction */
	for (pp = &ctx->p11_toks; *pp != NULL; pp = &(*pp)->next)
		if (*pp == t) {
			*pp = t->next;
			p11_logout(t);
			if (t->session != CK_INVALID_HANDLE)
				(void)t->mod->f->C_CloseSession(t->session);
			free(t);
			return;
		}
}

/* Close every token session and finalize every module we initialized. */
void
p11_close_all(struct cm_ctx *ctx)
{
	struct p11_tok *t, *tn;
	struct p11_module *m, *mn;

	p11_undo_end(ctx, 0);
	for (t = ctx->p11_toks; t != NULL; t = tn) {
		tn = t->next;
		if (t->session != CK_INVALID_HANDLE)
			(void)t->mod->f->C_CloseSession(t->session);
		free(t);
	}
	ctx->p11_toks = NULL;
	for (m = ctx->p11; m != NULL; m = mn) {
		mn = m->next;
		if (m->initialized)
			(void)m->f->C_Finalize(NULL);
		dlclose(m->dl);
		free(m->path);
		free(m);
	}
	ctx->p11 = NULL;
}
