/*
 * card.c: smart cards at the card station, through PKCS#11.  A card is
 * initialized (its SO PIN random, sealed under the key store, and a
 * transport PIN), then personalized under a token procedure: a new random
 * user PIN, keys made on the card, a certificate per key written beside
 * it, and the card recorded with its token.  Unblock, revoke and replace
 * follow the card through its life.  Any PKCS#11 module works (OpenSC's by
 * default); the card serial number is the token's.
 */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "extern.h"
#include "p11.h"

struct card {
	struct p11_tok	*tok;
	int64_t		 id;		/* cards row */
	int64_t		 replaces;	/* cards row of the card replaced */
	int64_t		 old_token;	/* its token */
	int		 reason;	/* why it is replaced */
	char		 state[16];
	unsigned char	*so_sealed;
	size_t		 so_len;
	char		*pin;		/* the new user PIN */
	char		 label[33];
	int		 record_serial;	/* the token records it */
};

#define USER_PIN_LEN	8
#define SO_PIN_LEN	16

/* ------------------------------------------------------------ ranges */

/* Whether c is a character of a card serial number in a range. */
static int
serial_char(int c)
{
	return isalnum(c) || c == '.' || c == '_' || c == ':';
}

static int
range_split(const char *r, size_t len, char *from, char *to)
{
	const char *dash = memchr(r, '-', len);
	size_t fl, tl, i;

	if (dash == NULL)
		return -1;
	fl = (size_t)(dash - r);
	tl = len - fl - 1;
	if (fl == 0 || fl > 32 || fl != tl)
		return -1;
	for (i = 0; i < fl; i++) {
		if (!serial_char((unsigned char)r[i]) ||
		    !serial_char((unsigned char)dash[1 + i]))
			return -1;
		from[i] = (char)toupper((unsigned char)r[i]);
		to[i] = (char)toupper((unsigned char)dash[1 + i]);
	}
	from[fl] = to[fl] = '\0';
	return strcmp(from, to) <= 0 ? 0 : -1;
}

/*
 * Check a list of card serial number ranges, "FROM-TO,FROM-TO": FROM and
 * TO of one length, FROM not after TO.  NULL and "" are no ranges.
 */
int
card_ranges_check(struct cm_ctx *ctx, const char *name, const char *ranges)
{
	char from[33], to[33];
	const char *p, *e;

	if (ranges == NULL || *ranges == '\0' || strcmp(ranges, "none") == 0)
		return 0;
	for (p = ranges; *p != '\0'; p = *e == ',' ? e + 1 : e) {
		e = p + strcspn(p, ",");
		if (range_split(p, (size_t)(e - p), from, to) != 0)
			return cm_err(ctx, CM_ERR_INVAL, "token procedure \"%s\": "
			    "serial number range \"%.*s\": FROM-TO, both of "
			    "one length (letters, digits, '.', '_', ':'), FROM "
			    "not after TO", cm_def(name, ""), (int)(e - p), p);
	}
	return 0;
}

/* Whether serial lies in one of the ranges (case-insensitively). */
static int
in_ranges(const char *ranges, const char *serial)
{
	char from[33], to[33], s[33];
	const char *p, *e;
	size_t i, n = strlen(serial);

	if (n == 0 || n > 32)
		return 0;
	for (i = 0; i <= n; i++)
		s[i] = (char)toupper((unsigned char)serial[i]);
	for (p = ranges; *p != '\0'; p = *e == ',' ? e + 1 : e) {
		e = p + strcspn(p, ",");
		if (range_split(p, (size_t)(e - p), from, to) == 0 &&
		    strlen(from) == n && strcmp(from, s) <= 0 &&
		    strcmp(s, to) <= 0)
			return 1;
	}
	return 0;
}

/* ------------------------------------------------------------ PINs */

/* A random PIN of digits, len long within the token's limits. */
static int
pin_digits(struct cm_ctx *ctx, const struct p11_tok *t, size_t len,
    char **out)
{
	CK_TOKEN_INFO ti;
	unsigned char r;
	char *pin;
	size_t i = 0;

	*out = NULL;
	if (t->mod->f->C_GetTokenInfo(t->slot, &ti) == CKR_OK) {
		if (ti.ulMaxPinLen > 0 && len > ti.ulMaxPinLen)
			len = ti.ulMaxPinLen;
		if (len < ti.ulMinPinLen)
			len = ti.ulMinPinLen;
	}
	if (len > 64)
		len = 64;
	if ((pin = calloc(1, len + 1)) == NULL)
		return CM_ERR_NOMEM;
	while (i < len) {
		if (RAND_bytes(&r, 1) != 1) {
			cm_secret_free(pin);
			return cm_err_ssl(ctx, CM_ERR_CRYPTO, "random PIN");
		}
		if (r >= 250)		/* no modulo bias */
			continue;
		pin[i++] = (char)('0' + r % 10);
	}
	*out = pin;
	return 0;
}

/* ------------------------------------------------------------ cards */

struct blank_arg {
	struct p11_module	*mod;
	unsigned long		 slot;
	int			 n;
	int			 any;
};

static int
blank_cb(void *arg, struct p11_module *m, unsigned long slot, const void *p)
{
	struct blank_arg *a = arg;
	const CK_TOKEN_INFO *ti = p;

	a->any++;
	if (!(ti->flags & CKF_TOKEN_INITIALIZED) && a->n++ == 0) {
		a->mod = m;
		a->slot = slot;
	}
	return 0;
}

/*
 * The card: the token uri names, or with uri NULL the one blank
 * (uninitialized) card present.  A read/write session is opened.
 */
static int
card_find(struct cm_ctx *ctx, const char *uri, struct card *c)
{
	struct p11_uri u;
	struct blank_arg a;
	int rc;

	memset(&u, 0, sizeof(u));
	if (uri != NULL) {
		if ((rc = p11_uri_parse(ctx, uri, &u)) != 0)
			return rc;
	} else {
		memset(&a, 0, sizeof(a));
		if ((rc = p11_each_token(ctx, NULL, blank_cb, &a)) != 0)
			return rc;
		if (a.n == 0)
			return cm_err(ctx, CM_ERR_TOKEN, "no blank card is "
			    "present (%d card%s, none uninitialized): insert "
			    "one, or name the card", a.any, a.any == 1 ? "" :
			    "s");
		if (a.n > 1)
			return cm_err(ctx, CM_ERR_TOKEN, "%d blank cards are "
			    "present: name the one to use", a.n);
		snprintf(u.module, sizeof(u.module), "%s", a.mod->path);
		u.slot = a.slot;
		u.slot_set = 1;
	}
	return p11_open(ctx, &u, 1, &c->tok);
}

/* Read the token's information again (after C_InitToken). */
static void
card_refresh(struct p11_tok *t)
{
	CK_TOKEN_INFO ti;

	if (t->mod->f->C_GetTokenInfo(t->slot, &ti) == CKR_OK)
		p11_tok_set(t, &ti);
}

struct card_row {
	struct card	*c;
	int		 found;
};

static int
card_row_cb(void *arg, struct store_row *row)
{
	struct card_row *r = arg;
	const unsigned char *p;
	size_t len;

	r->c->id = store_row_int(row, 0);
	snprintf(r->c->state, sizeof(r->c->state), "%s",
	    store_row_text(row, 1));
	p = store_row_blob(row, 2, &len);
	free(r->c->so_sealed);
	r->c->so_sealed = NULL;
	r->c->so_len = 0;
	if (p != NULL && (r->c->so_sealed = malloc(len)) != NULL) {
		memcpy(r->c->so_sealed, p, len);
		r->c->so_len = len;
	}
	r->found = 1;
	return 1;
}

/* The card's row in the CMDB, by manufacturer, model and serial. */
static int
card_load(struct cm_ctx *ctx, struct card *c, int *found)
{
	struct card_row r = { c, 0 };
	int rc;

	rc = store_query(ctx, "SELECT id, state, so_pin FROM cards WHERE "
	    "manufacturer = ? AND model = ? AND serial = ?", card_row_cb, &r,
	    "ttt", c->tok->manufacturer, c->tok->model, c->tok->serial);
	*found = r.found;
	return rc;
}

static void
card_clear(struct cm_ctx *ctx, struct card *c)
{
	if (c->tok != NULL)
		p11_close(ctx, c->tok);
	free(c->so_sealed);
	cm_secret_free(c->pin);
	memset(c, 0, sizeof(*c));
}

/*
 * Initialize the card: C_InitToken with a random SO PIN (or, for a card
 * opencm initialized before, its sealed one), the label, and the user PIN
 * set to the transport PIN.  The card and its sealed SO PIN are recorded
 * in a transaction of their own.  transport: the PIN to set, or NULL for a
 * random one, handed out in *pin_out when asked.
 */
static int
card_init(struct cm_ctx *ctx, struct card *c, const char *label,
    const char *transport, char **pin_out)
{
	struct p11_tok *t = c->tok;
	unsigned char lab[32];
	char *so = NULL, *user = NULL, detail[160];
	int known = 0, inited = 0, rc;
	int64_t id;
	size_t n;
	CK_RV rv;

	if (pin_out != NULL)
		*pin_out = NULL;
	if (t->flags & CKF_TOKEN_INITIALIZED) {
		if ((rc = card_load(ctx, c, &known)) != 0)
			return rc;
		if (!known)
			return cm_err(ctx, CM_ERR_POLICY, "card %s: it was not "
			    "initialized by opencm, and its SO PIN is not "
			    "known", t->serial);
		if (strcmp(c->state, "revoked") != 0)
			return cm_err(ctx, CM_ERR_POLICY, "card %s is %s: only "
			    "a blank or a revoked card is initialized",
			    t->serial, c->state);
		if ((rc = keystore_unseal(ctx, c->so_sealed, c->so_len,
		    &so)) != 0)
			goto out;
	} else if ((rc = pin_digits(ctx, t, SO_PIN_LEN, &so)) != 0)
		goto out;
	if (transport != NULL)
		user = cm_strdup(transport);
	else if ((rc = pin_digits(ctx, t, USER_PIN_LEN, &user)) != 0)
		goto out;
	if (user == NULL) {
		rc = CM_ERR_NOMEM;
		goto out;
	}
	memset(lab, ' ', sizeof(lab));
	n = strlen(label);
	memcpy(lab, label, n > sizeof(lab) ? sizeof(lab) : n);
	/*
	 * The SO PIN is sealed, and the CMDB locked, before the card is
	 * touched: what C_InitToken sets must reach the CMDB.
	 */
	free(c->so_sealed);
	c->so_sealed = NULL;
	if ((rc = keystore_seal(ctx, so, &c->so_sealed, &c->so_len)) != 0 ||
	    (rc = txn_begin(ctx)) != 0)
		goto out;
	inited = 1;
	/* C_InitToken wants no session of ours open on the token. */
	(void)t->mod->f->C_CloseAllSessions(t->slot);
	t->login = 0;
	t->session = CK_INVALID_HANDLE;
	rv = t->mod->f->C_InitToken(t->slot, (CK_UTF8CHAR_PTR)so, strlen(so),
	    lab);
	if (rv != CKR_OK) {
		rc = p11_fail_rv(ctx, t->label[0] != '\0' ? t->label : label,
		    "C_InitToken", rv);
		inited = 0;
		goto end;
	}
	rv = t->mod->f->C_OpenSession(t->slot, CKF_SERIAL_SESSION |
	    CKF_RW_SESSION, NULL, NULL, &t->session);
	if (rv != CKR_OK) {
		rc = p11_fail_rv(ctx, label, "C_OpenSession", rv);
		goto end;
	}
	card_refresh(t);
	if ((rc = p11_login(ctx, t, 1, so)) != 0)
		goto end;
	rv = t->mod->f->C_InitPIN(t->session, (CK_UTF8CHAR_PTR)user,
	    strlen(user));
	p11_logout(t);
	if (rv != CKR_OK) {
		rc = p11_fail_rv(ctx, t->label, "C_InitPIN", rv);
		goto end;
	}
	card_refresh(t);
	if (t->serial[0] == '\0') {
		rc = cm_err(ctx, CM_ERR_TOKEN, "card \"%s\": it has no serial "
		    "number", t->label);
		goto end;
	}
	/* The card's row: its id only (the sealed SO PIN is the new one). */
	rc = store_int(ctx, &id, "SELECT id FROM cards WHERE manufacturer = ? "
	    "AND model = ? AND serial = ?", "ttt", t->manufacturer, t->model,
	    t->serial);
	if (rc == 0) {
		c->id = id;
		rc = store_exec(ctx, "UPDATE cards SET label = ?, so_pin = ?, "
		    "state = 'initialized', token_id = NULL, created = ? WHERE "
		    "id = ?", "tbii", t->label, c->so_sealed, c->so_len,
		    (int64_t)time(NULL), c->id);
	} else if (rc == CM_ERR_NOTFOUND) {
		rc = store_exec(ctx, "INSERT INTO cards (serial, model, "
		    "manufacturer, label, so_pin, state, created) VALUES "
		    "(?, ?, ?, ?, ?, 'initialized', ?)", "ttttbi", t->serial, t->model,
		    t->manufacturer, t->label, c->so_sealed, c->so_len,
		    (int64_t)time(NULL));
		if (rc == 0)
			c->id = store_last_id(ctx);
	}
	snprintf(c->state, sizeof(c->state), "initialized");
end:
	snprintf(detail, sizeof(detail), "%s %s, label \"%s\"",
	    t->manufacturer, t->model, t->label);
	rc = txn_end(ctx, rc, "card.init", t->serial[0] != '\0' ? t->serial :
	    label, detail);
	if (rc != 0 && inited)
		cm_err_suffix(ctx, "; the card was initialized but its new SO "
		    "PIN is not recorded: initialize it again with its "
		    "maker's tools");
	/* A transport PIN made here is handed out; one given is known. */
	if (rc == 0 && pin_out != NULL && transport == NULL) {
		*pin_out = user;
		user = NULL;
	}
out:
	cm_secret_free(so);
	cm_secret_free(user);
	return rc;
}

/* Destroy every object the user sees on the card: it starts afresh. */
static int
card_wipe(struct cm_ctx *ctx, struct card *c)
{
	struct p11_tok *t = c->tok;
	CK_OBJECT_HANDLE h[32];
	CK_ULONG n = 0, i;
	CK_RV rv;

	for (;;) {
		rv = t->mod->f->C_FindObjectsInit(t->session, NULL, 0);
		if (rv == CKR_OK)
			rv = t->mod->f->C_FindObjects(t->session, h, 32, &n);
		(void)t->mod->f->C_FindObjectsFinal(t->session);
		if (rv != CKR_OK)
			return p11_fail_rv(ctx, t->label, "C_FindObjects", rv);
		if (n == 0)
			return 0;
		for (i = 0; i < n; i++)
			if ((rv = t->mod->f->C_DestroyObject(t->session,
			    h[i])) != CKR_OK)
				return p11_fail_rv(ctx, t->label,
				    "C_DestroyObject", rv);
	}
}

/* The card's serial number must lie in the procedure's ranges. */
static int
card_in_range(struct cm_ctx *ctx, const struct p11_tok *t,
    const struct cm_token_procedure_info *tp)
{
	if (strcmp(tp->serial_range, "none") != 0 &&
	    tp->serial_ranges != NULL && !in_ranges(tp->serial_ranges,
	    t->serial))
		return cm_err(ctx, CM_ERR_POLICY, "card %s: its serial number "
		    "is in no range of token procedure \"%s\" (%s)", t->serial,
		    tp->name, tp->serial_ranges);
	return 0;
}

/*
 * Make the card ready for its keys: known to opencm (initializing a blank
 * card first), in no token, its serial number in the procedure's ranges;
 * a new random user PIN set with the SO PIN; logged in with it; emptied.
 */
static int
card_ready(struct cm_ctx *ctx, struct card *c, const char *label,
    const struct cm_token_procedure_info *tp)
{
	struct p11_tok *t = c->tok;
	char *so = NULL;
	int found, rc;
	CK_RV rv;

	/* Before a blank card is touched, where its serial is known. */
	if (strcmp(tp->serial_range, "mandatory") == 0 &&
	    tp->serial_ranges == NULL)
		return cm_err(ctx, CM_ERR_POLICY, "token procedure \"%s\" wants "
		    "the card serial number in a registered range, and has none "
		    "(token-procedure modify --serial-ranges)", tp->name);
	if (t->serial[0] != '\0' && (rc = card_in_range(ctx, t, tp)) != 0)
		return rc;
	if (!(t->flags & CKF_TOKEN_INITIALIZED) &&
	    (rc = card_init(ctx, c, label, NULL, NULL)) != 0)
		return rc;
	if ((rc = card_load(ctx, c, &found)) != 0)
		return rc;
	if (!found)
		return cm_err(ctx, CM_ERR_POLICY, "card %s (\"%s\"): it was not "
		    "initialized by opencm: its SO PIN is not known (cmctl card "
		    "init on a blank card)", t->serial, t->label);
	if (strcmp(c->state, "personalized") == 0)
		return cm_err(ctx, CM_ERR_POLICY, "card %s is personalized "
		    "already: revoke it (cmctl card revoke) before it is used "
		    "again", t->serial);
	if ((rc = card_in_range(ctx, t, tp)) != 0)
		return rc;
	if ((rc = keystore_unseal(ctx, c->so_sealed, c->so_len, &so)) != 0)
		return rc;
	if ((rc = p11_reset(ctx, t)) != 0 ||
	    (rc = p11_login(ctx, t, 1, so)) != 0 ||
	    (rc = pin_digits(ctx, t, USER_PIN_LEN, &c->pin)) != 0)
		goto out;
	rv = t->mod->f->C_InitPIN(t->session, (CK_UTF8CHAR_PTR)c->pin,
	    strlen(c->pin));
	p11_logout(t);
	if (rv != CKR_OK) {
		rc = p11_fail_rv(ctx, t->label, "C_InitPIN", rv);
		goto out;
	}
	if ((rc = p11_login(ctx, t, 0, c->pin)) != 0 ||
	    (rc = card_wipe(ctx, c)) != 0)
		goto out;
	snprintf(c->label, sizeof(c->label), "%s", t->label);
out:
	cm_secret_free(so);
	return rc;
}

/* The URI of key i on the card (for libp11, which signs with it). */
static void
card_key_uri(const struct card *c, size_t i, char *buf, size_t len)
{
	struct p11_uri u;

	memset(&u, 0, sizeof(u));
	snprintf(u.token, sizeof(u.token), "%s", c->tok->label);
	snprintf(u.serial, sizeof(u.serial), "%s", c->tok->serial);
	u.id[0] = (unsigned char)(i + 1);
	u.idlen = 1;
	snprintf(u.module, sizeof(u.module), "%s", c->tok->mod->path);
	p11_uri_format(&u, buf, len);
}

/*
 * Make key i on the card for a certificate procedure whose key usages are
 * ku, and a request for it, signed on the card, as a struct csr.
 */
int
card_key(struct cm_ctx *ctx, struct card *c, size_t i, const char *type,
    const char *ku, const char *label, const char *dn, struct csr **out)
{
	X509_REQ *xr = NULL;
	X509_NAME *subj = NULL;
	EVP_PKEY *pub = NULL, *priv = NULL;
	unsigned char id = (unsigned char)(i + 1), *der = NULL;
	char uri[600];
	const char *usage = "sign";
	int len, rc;

	*out = NULL;
	if (ku != NULL && (strstr(ku, "keyEncipherment") != NULL ||
	    strstr(ku, "dataEncipherment") != NULL))
		usage = "sign,decrypt";
	if ((rc = p11_keygen(ctx, c->tok, type, label, &id, 1, usage,
	    &pub)) != 0)
		goto out;
	card_key_uri(c, i, uri, sizeof(uri));
	if ((rc = p11_key_open(ctx, uri, CM_SECRET_TOKEN, pub, &priv)) != 0 ||
	    (rc = dn_parse(ctx, dn, &subj)) != 0)
		goto out;
	rc = CM_ERR_CRYPTO;
	if ((xr = X509_REQ_new()) == NULL ||
	    !X509_REQ_set_version(xr, X509_REQ_VERSION_1) ||
	    !X509_REQ_set_subject_name(xr, subj) ||
	    !X509_REQ_set_pubkey(xr, pub) ||
	    !X509_REQ_sign(xr, priv, EVP_sha256()) ||
	    (len = i2d_X509_REQ(xr, &der)) <= 0) {
		cm_err_ssl(ctx, CM_ERR_TOKEN, "card %s: key %zu: the request "
		    "signed on the card", c->tok->serial, i + 1);
		rc = CM_ERR_TOKEN;
		goto out;
	}
	rc = csr_load(ctx, label, der, (size_t)len, out);
out:
	OPENSSL_free(der);
	X509_REQ_free(xr);
	X509_NAME_free(subj);
	EVP_PKEY_free(pub);
	EVP_PKEY_free(priv);
	return rc;
}

/*
 * Write certificate x to the card beside key i (an issuer certificate,
 * with label NULL, gets no key's id).  Inside the issuing transaction: the
 * object is destroyed if it rolls back.
 */
int
card_store(struct cm_ctx *ctx, struct card *c, size_t i, X509 *x,
    const char *label)
{
	unsigned char id = (unsigned char)(i + 1);
	unsigned long h;
	char name[128];
	int rc;

	if (label != NULL)
		snprintf(name, sizeof(name), "%s", label);
	else if (X509_NAME_get_text_by_NID(X509_get_subject_name(x),
	    NID_commonName, name, sizeof(name)) <= 0)
		snprintf(name, sizeof(name), "issuer");
	if ((rc = p11_cert_create(ctx, c->tok, x, name, &id, label != NULL ?
	    1 : 0, &h)) != 0)
		return rc;
	return p11_undo_push(ctx, c->tok, h);
}

/*
 * Inside the issuing transaction: the card belongs to the token now; the
 * card it replaces, if any, is revoked with its token.  detail (the
 * token's audit detail) gains the card.
 */
int
card_record(struct cm_ctx *ctx, struct card *c, int64_t token_id,
    char *detail, size_t len)
{
	size_t n = 0, dl;
	int rc;

	rc = store_exec(ctx, "UPDATE cards SET state = 'personalized', "
	    "token_id = ?, label = ?, replaces = ? WHERE id = ?", "itji",
	    token_id, c->tok->label, c->replaces, c->id);
	if (rc == 0 && c->record_serial)
		rc = store_exec(ctx, "UPDATE tokens SET card_serial = ? WHERE id "
		    "= ?", "ti", c->tok->serial, token_id);
	if (rc == 0 && c->old_token != 0)
		rc = token_revoke_rows(ctx, c->old_token, c->reason, &n);
	if (rc == 0 && c->old_token != 0)
		rc = crl_revoke_deltas(ctx);
	dl = strlen(detail);
	snprintf(detail + dl, len - dl, ", card %s", c->tok->serial);
	if (rc == 0 && c->old_token != 0) {
		dl = strlen(detail);
		snprintf(detail + dl, len - dl, ", replacing token %lld (%s, "
		    "%zu certificates revoked)%s%s", (long long)c->old_token,
		    cm_reason_name(c->reason), n, ctx->warning[0] != '\0' ?
		    "; " : "", ctx->warning);
	}
	return rc;
}

char *
card_take_pin(struct card *c)
{
	char *p = c->pin;

	c->pin = NULL;
	return p;
}

/* ------------------------------------------------------------ public */

struct tp_arg {
	struct cm_token_procedure_info	 ti;
	char				*name;
	char				 storage[16];
	char				 range[16];
	char				*ranges;
	int				 card_serial;
};

static int
tp_cb(void *arg, const struct cm_token_procedure_info *ti)
{
	struct tp_arg *a = arg;

	snprintf(a->storage, sizeof(a->storage), "%s", ti->storage);
	snprintf(a->range, sizeof(a->range), "%s", ti->serial_range);
	a->card_serial = ti->card_serial;
	a->name = cm_strdup(ti->name);
	a->ranges = ti->serial_ranges != NULL ? cm_strdup(ti->serial_ranges) :
	    NULL;
	a->ti.name = a->name;
	a->ti.storage = a->storage;
	a->ti.serial_range = a->range;
	a->ti.serial_ranges = a->ranges;
	return a->name == NULL ? CM_ERR_NOMEM : 0;
}

struct old_arg {
	int64_t	id;
	int64_t	token;
	char	state[16];
	int	found;
};

static int
old_cb(void *arg, struct store_row *row)
{
	struct old_arg *o = arg;

	o->id = store_row_int(row, 0);
	o->token = store_row_null(row, 1) ? 0 : store_row_int(row, 1);
	snprintf(o->state, sizeof(o->state), "%s", store_row_text(row, 2));
	o->found++;
	return 0;
}

/* The card with a serial number (several models may share one). */
static int
card_by_serial(struct cm_ctx *ctx, const char *serial, struct old_arg *o)
{
	int rc;

	memset(o, 0, sizeof(*o));
	rc = store_query(ctx, "SELECT id, token_id, state FROM cards WHERE "
	    "serial = ?", old_cb, o, "t", serial);
	if (rc != 0)
		return rc;
	if (o->found == 0)
		return cm_err(ctx, CM_ERR_NOTFOUND, "card %s not found", serial);
	if (o->found > 1)
		return cm_err(ctx, CM_ERR_INVAL, "card %s: cards of %d models "
		    "have this serial number", serial, o->found);
	return 0;
}

struct repl {
	char	*subject;
	char	*procedure;
};

static int
dn_cb(void *arg, struct store_row *row)
{
	char **dn = arg;

	*dn = cm_strdup(store_row_text(row, 0));
	return 1;
}

static int
repl_cb(void *arg, struct store_row *row)
{
	struct repl *r = arg;

	r->subject = cm_strdup(store_row_text(row, 0));
	r->procedure = cm_strdup(store_row_text(row, 1));
	return 1;
}

/*
 * Personalize a card under a smart card token procedure for a registered
 * subject: req->card names the card (NULL: the one blank card present,
 * initialized first).  With req->replaces, the card replaces that card,
 * whose token is revoked (req->reason) in the same transaction.  On
 * success *out holds the token, its certificates (PEM) and the card's new
 * user PIN, shown once or put in a PIN letter.
 */
int
cm_card_personalize(struct cm_ctx *ctx, const struct cm_card_req *req,
    struct cm_token_issued *out)
{
	struct card c;
	struct tp_arg tp;
	struct old_arg old;
	struct repl rd;
	struct cm_token_req tr;
	char label[33];
	const char *cn, *procedure, *subject = NULL;
	char *dn = NULL;
	int64_t sid;
	int rc, issued = 0;

	memset(&c, 0, sizeof(c));
	memset(&tp, 0, sizeof(tp));
	memset(&rd, 0, sizeof(rd));
	memset(out, 0, sizeof(*out));
	if ((rc = officer_require(ctx, PERM_ISSUE, "card personalize")) != 0)
		goto out;
	if (req->replaces != NULL) {
		/* Replacing revokes the old card's certificates. */
		if ((rc = officer_require(ctx, PERM_REVOKE, "card replace")) !=
		    0 || (rc = card_by_serial(ctx, req->replaces, &old)) != 0)
			goto out;
		if (strcmp(old.state, "personalized") != 0 || old.token == 0) {
			rc = cm_err(ctx, CM_ERR_POLICY, "card %s is %s: only a "
			    "personalized card is replaced", req->replaces,
			    old.state);
			goto out;
		}
		c.replaces = old.id;
		c.old_token = old.token;
		/* The CA keys of its delta CRLs: asked now, not under lock. */
		crl_revoke_prepare(ctx, 0, old.token);
		if ((c.reason = cm_reason_parse(cm_def(req->reason,
		    "superseded"))) < 0 || c.reason ==
		    CM_REASON_CERTIFICATE_HOLD) {
			rc = cm_err(ctx, CM_ERR_INVAL, "card %s: revocation "
			    "reason \"%s\"", req->replaces, req->reason);
			goto out;
		}
		/* By default, the replaced card's subject and procedure. */
		rc = store_query(ctx, "SELECT s.dn, p.name FROM tokens t JOIN "
		    "subjects s ON s.id = t.subject_id JOIN token_procedures p "
		    "ON p.id = t.token_procedure_id WHERE t.id = ?", repl_cb,
		    &rd, "i", old.token);
		if (rc != 0)
			goto out;
	}
	procedure = req->procedure != NULL ? req->procedure : rd.procedure;
	subject = req->subject != NULL ? req->subject : rd.subject;
	if (procedure == NULL || subject == NULL) {
		rc = cm_err(ctx, CM_ERR_INVAL, "card personalize: a token "
		    "procedure and a subject are required");
		goto out;
	}
	if ((rc = cm_token_procedure_list(ctx, procedure, tp_cb, &tp)) != 0)
		goto out;
	if (strcmp(tp.storage, "smartcard") != 0) {
		rc = cm_err(ctx, CM_ERR_POLICY, "token procedure \"%s\" stores "
		    "%s tokens, not smart cards", procedure, tp.storage);
		goto out;
	}
	c.record_serial = tp.card_serial;
	/* The label of a blank card: the label given, else the CN. */
	if ((rc = subject_lookup(ctx, subject, &sid)) != 0 ||
	    (rc = store_query(ctx, "SELECT dn FROM subjects WHERE id = ?",
	    dn_cb, &dn, "i", sid)) != 0)
		goto out;
	cn = dn != NULL ? strstr(dn, "CN=") : NULL;
	snprintf(label, sizeof(label), "%s", req->label != NULL ? req->label :
	    cn != NULL ? cn + 3 : "opencm card");
	label[strcspn(label, ",")] = '\0';
	/* Asked or refused before the card is touched. */
	if ((rc = keystore_unlock(ctx)) != 0 ||
	    (rc = card_find(ctx, req->card, &c)) != 0 ||
	    (rc = card_ready(ctx, &c, label, &tp.ti)) != 0)
		goto out;
	memset(&tr, 0, sizeof(tr));
	tr.procedure = procedure;
	tr.subject = subject;
	/* token_issue records its own refusal. */
	issued = 1;
	rc = token_issue(ctx, &tr, &c, out);
	if (rc != 0)
		cm_err_suffix(ctx, "; nothing was issued");
out:
	card_clear(ctx, &c);
	free(tp.name);
	free(tp.ranges);
	if (!issued)
		rc = audit_done(ctx, rc, "card.personalize", subject != NULL ?
		    subject : "card");
	free(rd.subject);
	free(rd.procedure);
	free(dn);
	return rc;
}

/*
 * Initialize a card (pre-personalization, as a key generation station
 * does): C_InitToken with a random SO PIN, sealed in the CMDB, and the user
 * PIN set to the transport PIN given (NULL: a random one, handed out in
 * *pin).  The card is blank, or one opencm revoked.  Returns 0 with the
 * card's serial number in serial, or a CM_ERR_*.
 */
int
cm_card_init(struct cm_ctx *ctx, const char *uri, const char *label,
    const char *transport, char **pin, char *serial, size_t serlen)
{
	struct card c;
	int rc;

	memset(&c, 0, sizeof(c));
	*pin = NULL;
	if ((rc = officer_require(ctx, PERM_ISSUE, "card init")) != 0)
		goto out;
	if (label == NULL || *label == '\0' || strlen(label) > 32) {
		rc = cm_err(ctx, CM_ERR_INVAL, "card init: a label of 1 to 32 "
		    "bytes is required");
		goto out;
	}
	if (transport != NULL && strlen(transport) < 4) {
		rc = cm_err(ctx, CM_ERR_INVAL, "card init: a transport PIN has "
		    "at least 4 characters");
		goto out;
	}
	if ((rc = keystore_unlock(ctx)) != 0 ||
	    (rc = card_find(ctx, uri, &c)) != 0 ||
	    (rc = card_init(ctx, &c, label, transport, pin)) != 0)
		goto out;
	snprintf(serial, serlen, "%s", c.tok->serial);
out:
	card_clear(ctx, &c);
	return audit_done(ctx, rc, "card.init", uri != NULL ?
	    p11_uri_safe(uri) : "blank");
}

struct list_arg {
	cm_card_cb	 cb;
	void		*arg;
};

static int
list_cb(void *arg, struct store_row *row)
{
	struct list_arg *a = arg;
	struct cm_card_info ci;

	memset(&ci, 0, sizeof(ci));
	ci.id = store_row_int(row, 0);
	ci.serial = store_row_text(row, 1);
	ci.manufacturer = store_row_text(row, 2);
	ci.model = store_row_text(row, 3);
	ci.label = store_row_text(row, 4);
	ci.state = store_row_text(row, 5);
	ci.token_id = store_row_null(row, 6) ? 0 : store_row_int(row, 6);
	ci.subject = store_row_null(row, 7) ? NULL : store_row_text(row, 7);
	ci.procedure = store_row_null(row, 8) ? NULL : store_row_text(row, 8);
	ci.replaces = store_row_null(row, 9) ? NULL : store_row_text(row, 9);
	ci.created = (time_t)store_row_int(row, 10);
	return a->cb(a->arg, &ci);
}

/*
 * Call cb for every card, or for the card with a serial number (which
 * must exist), in serial number order.
 */
int
cm_card_list(struct cm_ctx *ctx, const char *serial, cm_card_cb cb,
    void *arg)
{
	struct list_arg a = { cb, arg };
	struct old_arg o;
	int rc;

	if (serial != NULL && (rc = card_by_serial(ctx, serial, &o)) != 0)
		return rc;
	return store_query(ctx, "SELECT c.id, c.serial, c.manufacturer, "
	    "c.model, c.label, c.state, c.token_id, s.dn, p.name, r.serial, "
	    "c.created FROM cards c LEFT JOIN tokens t ON t.id = c.token_id "
	    "LEFT JOIN subjects s ON s.id = t.subject_id LEFT JOIN "
	    "token_procedures p ON p.id = t.token_procedure_id LEFT JOIN cards "
	    "r ON r.id = c.replaces WHERE ?1 IS NULL OR c.serial = ?1 ORDER BY "
	    "c.serial", list_cb, &a, "t", serial);
}

/*
 * Unblock the user PIN of a personalized card (locked, or forgotten):
 * with its sealed SO PIN, a new random user PIN, handed out in *pin.  The
 * card must be present.  Returns 0, or CM_ERR_DENIED when the card refuses
 * its SO PIN (locked too).
 */
int
cm_card_unblock(struct cm_ctx *ctx, const char *serial, char **pin)
{
	struct card c;
	struct old_arg o;
	struct p11_uri u;
	char *so = NULL;
	int found, rc;
	CK_RV rv;

	memset(&c, 0, sizeof(c));
	*pin = NULL;
	if ((rc = officer_require(ctx, PERM_ISSUE, "card unblock")) != 0 ||
	    (rc = card_by_serial(ctx, serial, &o)) != 0)
		goto out;
	if (strcmp(o.state, "personalized") != 0) {
		rc = cm_err(ctx, CM_ERR_POLICY, "card %s is %s: only a "
		    "personalized card is unblocked", serial, o.state);
		goto out;
	}
	memset(&u, 0, sizeof(u));
	snprintf(u.serial, sizeof(u.serial), "%s", serial);
	if ((rc = keystore_unlock(ctx)) != 0 ||
	    (rc = p11_open(ctx, &u, 1, &c.tok)) != 0 ||
	    (rc = card_load(ctx, &c, &found)) != 0)
		goto out;
	if (!found || c.id != o.id) {
		rc = cm_err(ctx, CM_ERR_POLICY, "card %s: the card present is "
		    "not the card recorded", serial);
		goto out;
	}
	if ((rc = keystore_unseal(ctx, c.so_sealed, c.so_len, &so)) != 0 ||
	    (rc = p11_reset(ctx, c.tok)) != 0 ||
	    (rc = p11_login(ctx, c.tok, 1, so)) != 0)
		goto out;
	if ((rc = pin_digits(ctx, c.tok, USER_PIN_LEN, pin)) != 0)
		goto out;
	rv = c.tok->mod->f->C_InitPIN(c.tok->session, (CK_UTF8CHAR_PTR)*pin,
	    strlen(*pin));
	p11_logout(c.tok);
	if (rv != CKR_OK) {
		rc = p11_fail_rv(ctx, c.tok->label, "C_InitPIN", rv);
		goto out;
	}
	if ((rc = txn_begin(ctx)) == 0)
		rc = txn_end(ctx, 0, "card.unblock", serial, "a new user PIN");
out:
	if (rc != 0) {
		cm_secret_free(*pin);
		*pin = NULL;
	}
	cm_secret_free(so);
	card_clear(ctx, &c);
	return audit_done(ctx, rc, "card.unblock", serial);
}

/* Revoke a card: its token and every certificate of it.  0 or CM_ERR_*. */
int
cm_card_revoke(struct cm_ctx *ctx, const char *serial, const char *reason)
{
	struct old_arg o;
	int rc;

	if ((rc = officer_require(ctx, PERM_REVOKE, "card revoke")) != 0 ||
	    (rc = card_by_serial(ctx, serial, &o)) != 0)
		return audit_done(ctx, rc, "card.revoke", serial);
	if (strcmp(o.state, "personalized") != 0 || o.token == 0)
		return audit_done(ctx, cm_err(ctx, CM_ERR_POLICY, "card %s is "
		    "%s: only a personalized card is revoked", serial,
		    o.state), "card.revoke", serial);
	return cm_token_revoke(ctx, o.token, reason);
}
