/*
 * hw.c: setting up keys on PKCS#11 tokens, for cm-hwsetup (the HSM
 * utility) and the card station: list tokens and their objects, generate
 * key pairs and secret keys, make a PKCS#10 request signed on the token,
 * and install a certificate beside its key.  Tokens are named by URIs; the
 * CMDB is not needed.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "extern.h"
#include "p11.h"

static CK_BBOOL hw_true = CK_TRUE, hw_false = CK_FALSE;

/* ------------------------------------------------------------ tokens */

struct tokens_arg {
	cm_hw_token_cb	 cb;
	void		*arg;
};

static int
tokens_cb(void *arg, struct p11_module *m, unsigned long slot, const void *p)
{
	struct tokens_arg *a = arg;
	const CK_TOKEN_INFO *ti = p;
	struct cm_hw_token t;
	struct p11_tok tk;

	p11_tok_set(&tk, ti);
	memset(&t, 0, sizeof(t));
	t.module = m->path;
	t.slot = slot;
	t.label = tk.label;
	t.serial = tk.serial;
	t.manufacturer = tk.manufacturer;
	t.model = tk.model;
	t.initialized = (ti->flags & CKF_TOKEN_INITIALIZED) != 0;
	t.user_pin_set = (ti->flags & CKF_USER_PIN_INITIALIZED) != 0;
	t.login_required = (ti->flags & CKF_LOGIN_REQUIRED) != 0;
	t.pin_pad = (ti->flags & CKF_PROTECTED_AUTHENTICATION_PATH) != 0;
	t.pin_count_low = (ti->flags & CKF_USER_PIN_COUNT_LOW) != 0;
	t.pin_final_try = (ti->flags & CKF_USER_PIN_FINAL_TRY) != 0;
	t.pin_locked = (ti->flags & CKF_USER_PIN_LOCKED) != 0;
	t.so_pin_locked = (ti->flags & CKF_SO_PIN_LOCKED) != 0;
	return a->cb(a->arg, &t) != 0 ? 1 : 0;
}

/*
 * Call cb for every token present in the modules (module, else those of
 * cm.conf).  Returns 0 or CM_ERR_TOKEN naming a module that does not load.
 */
int
cm_hw_tokens(struct cm_ctx *ctx, const char *module, cm_hw_token_cb cb,
    void *arg)
{
	struct tokens_arg a = { cb, arg };
	struct p11_uri u;

	memset(&u, 0, sizeof(u));
	if (module != NULL)
		snprintf(u.module, sizeof(u.module), "%s", module);
	return p11_each_token(ctx, &u, tokens_cb, &a);
}

/* ------------------------------------------------------------ objects */

static const char *
class_name(CK_OBJECT_CLASS c)
{
	switch (c) {
	case CKO_PRIVATE_KEY:	return "private key";
	case CKO_PUBLIC_KEY:	return "public key";
	case CKO_SECRET_KEY:	return "secret key";
	case CKO_CERTIFICATE:	return "certificate";
	case CKO_DATA:		return "data";
	default:		return "other";
	}
}

static int
attr_ulong(struct p11_tok *t, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE type,
    CK_ULONG *v)
{
	unsigned char *p;
	size_t len;

	if (p11_attr_get(t, h, type, &p, &len) != 0)
		return -1;
	if (len == sizeof(*v))
		memcpy(v, p, sizeof(*v));
	free(p);
	return len == sizeof(*v) ? 0 : -1;
}

static int
attr_bool(struct p11_tok *t, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE type)
{
	unsigned char *p;
	size_t len;
	int v;

	if (p11_attr_get(t, h, type, &p, &len) != 0)
		return -1;
	v = len == 1 ? p[0] != 0 : -1;
	free(p);
	return v;
}

/* What key an object holds, as "rsa:2048", "ec:prime256v1", "aes-256". */
static void
key_desc(struct p11_tok *t, CK_OBJECT_HANDLE h, CK_OBJECT_CLASS cls,
    char *buf, size_t len)
{
	CK_ULONG kt, n;
	EVP_PKEY *pk;
	char name[40];

	buf[0] = '\0';
	if (attr_ulong(t, h, CKA_KEY_TYPE, &kt) != 0)
		return;
	if (cls == CKO_SECRET_KEY) {
		n = 0;
		(void)attr_ulong(t, h, CKA_VALUE_LEN, &n);
		if (kt == CKK_AES)
			snprintf(buf, len, "aes-%lu", (unsigned long)n * 8);
		else if (kt == CKK_DES3)
			snprintf(buf, len, "des3");
		else
			snprintf(buf, len, "secret");
		return;
	}
	if (cls == CKO_PUBLIC_KEY && (pk = p11_pubkey(t, h)) != NULL) {
		x509_key_type(pk, buf, len);
		if (EVP_PKEY_is_a(pk, "EC") && EVP_PKEY_get_utf8_string_param(pk,
		    "group", name, sizeof(name), NULL) == 1)
			snprintf(buf, len, "ec:%s", name);
		EVP_PKEY_free(pk);
		return;
	}
	if (kt == CKK_RSA)
		snprintf(buf, len, "rsa");
	else if (kt == CKK_EC)
		snprintf(buf, len, "ec");
	ERR_clear_error();
}

/*
 * Call cb for every object on the token uri names (its private objects
 * too: the user logs in when the token wants it).  Returns 0 or a CM_ERR_*.
 */
int
cm_hw_objects(struct cm_ctx *ctx, const char *uri, cm_hw_object_cb cb,
    void *arg)
{
	struct p11_uri u;
	struct p11_tok *t;
	struct cm_hw_object o;
	CK_OBJECT_HANDLE h[64];
	CK_OBJECT_HANDLE *all = NULL, *na;
	CK_ULONG n, i, total = 0;
	CK_OBJECT_CLASS cls;
	unsigned char *label = NULL, *id = NULL, *subj = NULL;
	const unsigned char *sp;
	size_t ll, il, sl;
	char idhex[129], type[64], *dn = NULL;
	X509_NAME *xn;
	CK_RV rv;
	int rc = 0;

	if ((rc = p11_uri_parse(ctx, uri, &u)) != 0 ||
	    (rc = p11_open(ctx, &u, 0, &t)) != 0 ||
	    (rc = p11_login(ctx, t, 0, NULL)) != 0)
		return rc;
	if ((rv = t->mod->f->C_FindObjectsInit(t->session, NULL, 0)) != CKR_OK)
		return p11_fail_rv(ctx, t->label, "C_FindObjectsInit", rv);
	while ((rv = t->mod->f->C_FindObjects(t->session, h, 64, &n)) ==
	    CKR_OK && n > 0) {
		if ((na = reallocarray(all, total + n, sizeof(*all))) == NULL) {
			rc = CM_ERR_NOMEM;
			break;
		}
		all = na;
		memcpy(all + total, h, n * sizeof(*h));
		total += n;
	}
	(void)t->mod->f->C_FindObjectsFinal(t->session);
	for (i = 0; rc == 0 && i < total; i++) {
		memset(&o, 0, sizeof(o));
		if (attr_ulong(t, all[i], CKA_CLASS, &cls) != 0)
			continue;
		o.kind = class_name(cls);
		label = id = subj = NULL;
		ll = il = 0;
		(void)p11_attr_get(t, all[i], CKA_LABEL, &label, &ll);
		if (label != NULL)
			label[ll] = '\0';
		o.label = label != NULL ? (char *)label : "";
		(void)p11_attr_get(t, all[i], CKA_ID, &id, &il);
		if (il > 64)
			il = 64;
		cm_hex(id, il, idhex);
		o.id = idhex;
		key_desc(t, all[i], cls, type, sizeof(type));
		o.type = type;
		o.sensitive = cls == CKO_PRIVATE_KEY || cls == CKO_SECRET_KEY ?
		    attr_bool(t, all[i], CKA_SENSITIVE) : -1;
		o.extractable = cls == CKO_PRIVATE_KEY || cls == CKO_SECRET_KEY ?
		    attr_bool(t, all[i], CKA_EXTRACTABLE) : -1;
		o.never_extractable = o.extractable == -1 && o.sensitive == -1 ?
		    -1 : attr_bool(t, all[i], CKA_NEVER_EXTRACTABLE);
		if (cls == CKO_CERTIFICATE &&
		    p11_attr_get(t, all[i], CKA_SUBJECT, &subj, &sl) == 0) {
			sp = subj;
			if ((xn = d2i_X509_NAME(NULL, &sp, (long)sl)) != NULL) {
				dn = dn_format(xn);
				X509_NAME_free(xn);
			}
		}
		o.subject = dn;
		rc = cb(arg, &o);
		free(dn);
		dn = NULL;
		free(label);
		free(id);
		free(subj);
	}
	free(all);
	ERR_clear_error();
	if (rv != CKR_OK && rc == 0)
		rc = p11_fail_rv(ctx, t->label, "C_FindObjects", rv);
	return rc < 0 ? rc : 0;
}

/* ------------------------------------------------------------ keys */

/* The token, logged in read/write, and the id and label the URI gives. */
static int
hw_open(struct cm_ctx *ctx, const char *uri, struct p11_uri *u,
    struct p11_tok **t, int need_id)
{
	int rc;

	if ((rc = p11_uri_parse(ctx, uri, u)) != 0)
		return rc;
	if (need_id && u->idlen == 0)
		return cm_err(ctx, CM_ERR_INVAL, "%s: an id is required "
		    "(-id, or id= in the URI)", uri);
	if ((rc = p11_open(ctx, u, 1, t)) != 0 ||
	    (rc = p11_login(ctx, *t, 0, NULL)) != 0)
		return rc;
	return 0;
}

/* Refuse an id some key on the token already has. */
static int
id_free(struct cm_ctx *ctx, struct p11_tok *t, const struct p11_uri *u)
{
	static const CK_OBJECT_CLASS cls[] = { CKO_PRIVATE_KEY,
	    CKO_PUBLIC_KEY, CKO_SECRET_KEY };
	CK_OBJECT_HANDLE h;
	char hex[129];
	size_t i;
	int rc;

	for (i = 0; i < sizeof(cls) / sizeof(cls[0]); i++) {
		rc = p11_find(ctx, t, cls[i], u->id, u->idlen, &h);
		if (rc == 0) {
			cm_hex(u->id, u->idlen, hex);
			return cm_err(ctx, CM_ERR_EXISTS, "token \"%s\": a key "
			    "with id %s exists already", t->label, hex);
		}
		if (rc != CM_ERR_NOTFOUND)
			return rc;
	}
	return 0;
}

/*
 * Generate a key on the token uri names, with the id and object label of
 * the URI: a key pair (type rsa:BITS or ec:CURVE; usage "sign" or
 * "sign,decrypt") or a secret key (aes-128, aes-256 or des3, for wrapping
 * and encryption).  Private and secret keys are sensitive and never
 * extractable.  Returns 0 or a CM_ERR_*.
 */
int
cm_hw_keygen(struct cm_ctx *ctx, const char *uri, const char *type,
    const char *usage)
{
	struct p11_uri u;
	struct p11_tok *t;
	EVP_PKEY *pub = NULL;
	CK_MECHANISM mech = { CKM_AES_KEY_GEN, NULL, 0 };
	CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
	CK_KEY_TYPE kt = CKK_AES;
	CK_ULONG vlen = 32;
	CK_OBJECT_HANDLE h;
	CK_RV rv;
	int rc;

	if ((rc = hw_open(ctx, uri, &u, &t, 1)) != 0 ||
	    (rc = id_free(ctx, t, &u)) != 0)
		return rc;
	if (u.object[0] == '\0')
		snprintf(u.object, sizeof(u.object), "%s", type);
	if (strncmp(type, "rsa:", 4) == 0 || strncmp(type, "ec:", 3) == 0) {
		rc = p11_keygen(ctx, t, type, u.object, u.id, u.idlen,
		    usage != NULL ? usage : "sign", &pub);
		EVP_PKEY_free(pub);
		p11_undo_end(ctx, rc != 0);
		return rc;
	}
	if (strcmp(type, "aes-128") == 0)
		vlen = 16;
	else if (strcmp(type, "des3") == 0) {
		mech.mechanism = CKM_DES3_KEY_GEN;
		kt = CKK_DES3;
	} else if (strcmp(type, "aes-256") != 0)
		return cm_err(ctx, CM_ERR_INVAL, "key type \"%s\": use rsa:BITS, "
		    "ec:CURVE, aes-128, aes-256 or des3", type);
	{
		CK_ATTRIBUTE tmpl[] = {
			P11_ATTR(CKA_CLASS, &cls, sizeof(cls)),
			P11_ATTR(CKA_KEY_TYPE, &kt, sizeof(kt)),
			P11_ATTR(CKA_TOKEN, &hw_true, 1),
			P11_ATTR(CKA_PRIVATE, &hw_true, 1),
			P11_ATTR(CKA_SENSITIVE, &hw_true, 1),
			P11_ATTR(CKA_EXTRACTABLE, &hw_false, 1),
			P11_ATTR(CKA_ENCRYPT, &hw_true, 1),
			P11_ATTR(CKA_DECRYPT, &hw_true, 1),
			P11_ATTR(CKA_WRAP, &hw_true, 1),
			P11_ATTR(CKA_UNWRAP, &hw_true, 1),
			P11_ATTR(CKA_LABEL, u.object, strlen(u.object)),
			P11_ATTR(CKA_ID, u.id, u.idlen),
			/* Last: AES only. */
			P11_ATTR(CKA_VALUE_LEN, &vlen, sizeof(vlen)),
		};
		CK_ULONG n = sizeof(tmpl) / sizeof(tmpl[0]);

		rv = t->mod->f->C_GenerateKey(t->session, &mech, tmpl,
		    kt == CKK_AES ? n : n - 1, &h);
	}
	if (rv != CKR_OK)
		return p11_fail_rv(ctx, t->label, "C_GenerateKey", rv);
	if (attr_bool(t, h, CKA_SENSITIVE) != 1 ||
	    attr_bool(t, h, CKA_EXTRACTABLE) != 0) {
		(void)t->mod->f->C_DestroyObject(t->session, h);
		return cm_err(ctx, CM_ERR_TOKEN, "token \"%s\": the module "
		    "made the secret key readable (not sensitive, or extractable): "
		    "it is destroyed", t->label);
	}
	return 0;
}

/* The public key of the key with u's id: its public key object's. */
static int
hw_pubkey(struct cm_ctx *ctx, struct p11_tok *t, const struct p11_uri *u,
    EVP_PKEY **pub)
{
	CK_OBJECT_HANDLE h;
	char hex[129];
	int rc;

	*pub = NULL;
	cm_hex(u->id, u->idlen, hex);
	if ((rc = p11_find(ctx, t, CKO_PUBLIC_KEY, u->id, u->idlen, &h)) ==
	    CM_ERR_NOTFOUND)
		return cm_err(ctx, CM_ERR_NOTFOUND, "token \"%s\": no public "
		    "key with id %s", t->label, hex);
	if (rc != 0)
		return rc;
	if ((*pub = p11_pubkey(t, h)) == NULL)
		return cm_err_ssl(ctx, CM_ERR_TOKEN, "token \"%s\": the public "
		    "key with id %s cannot be read", t->label, hex);
	return 0;
}

/*
 * A PKCS#10 request for the key pair with the URI's id, for the subject
 * dn, asking for the key usages in key_usage (a comma list, or NULL);
 * signed on the token.  Returns 0 and the DER in *der (caller frees).
 */
int
cm_hw_request(struct cm_ctx *ctx, const char *uri, const char *dn,
    const char *key_usage, unsigned char **der, size_t *len)
{
	struct p11_uri u;
	struct p11_tok *t;
	X509_REQ *req = NULL;
	X509_NAME *name = NULL;
	EVP_PKEY *pub = NULL, *priv = NULL;
	STACK_OF(X509_EXTENSION) *exts = NULL;
	X509_EXTENSION *ext = NULL;
	const EVP_MD *md;
	char *ku = NULL, type[32];
	unsigned char *p = NULL;
	int n, rc;

	*der = NULL;
	*len = 0;
	if ((rc = dn_parse(ctx, dn, &name)) != 0 ||
	    (rc = hw_open(ctx, uri, &u, &t, 1)) != 0 ||
	    (rc = hw_pubkey(ctx, t, &u, &pub)) != 0 ||
	    (rc = p11_key_open(ctx, uri, CM_SECRET_TOKEN, pub, &priv)) != 0)
		goto out;
	if ((req = X509_REQ_new()) == NULL || !X509_REQ_set_version(req, 0) ||
	    !X509_REQ_set_subject_name(req, name) ||
	    !X509_REQ_set_pubkey(req, pub)) {
		rc = cm_err_ssl(ctx, CM_ERR_CRYPTO, "request");
		goto out;
	}
	if (key_usage != NULL && *key_usage != '\0') {
		if (cm_asprintf(&ku, "critical,%s", key_usage) == -1) {
			rc = CM_ERR_NOMEM;
			goto out;
		}
		if ((ext = X509V3_EXT_conf_nid(NULL, NULL, NID_key_usage,
		    ku)) == NULL) {
			rc = cm_err_ssl(ctx, CM_ERR_INVAL, "key usage \"%s\"",
			    key_usage);
			goto out;
		}
		if ((exts = sk_X509_EXTENSION_new_null()) == NULL ||
		    !sk_X509_EXTENSION_push(exts, ext) ||
		    !X509_REQ_add_extensions(req, exts)) {
			rc = cm_err_ssl(ctx, CM_ERR_CRYPTO, "request");
			goto out;
		}
	}
	x509_key_type(pub, type, sizeof(type));
	md = strcmp(type, "ec:p384") == 0 ? EVP_sha384() :
	    strcmp(type, "ec:p521") == 0 ? EVP_sha512() : EVP_sha256();
	if (X509_REQ_sign(req, priv, md) <= 0) {
		rc = cm_err_ssl(ctx, CM_ERR_TOKEN, "token \"%s\": signing the "
		    "request", t->label);
		goto out;
	}
	if ((n = i2d_X509_REQ(req, &p)) <= 0) {
		rc = cm_err_ssl(ctx, CM_ERR_CRYPTO, "request");
		goto out;
	}
	*der = p;
	*len = (size_t)n;
	rc = 0;
out:
	if (exts != NULL)
		sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	else
		X509_EXTENSION_free(ext);
	free(ku);
	X509_NAME_free(name);
	X509_REQ_free(req);
	EVP_PKEY_free(pub);
	EVP_PKEY_free(priv);
	return rc;
}

struct match_arg {
	EVP_PKEY	*want;
	unsigned char	 id[64];
	size_t		 idlen;
	int		 found;
};

/* The id of the key pair whose public key is want's. */
static int
id_of_key(struct cm_ctx *ctx, struct p11_tok *t, EVP_PKEY *want,
    struct p11_uri *u)
{
	CK_OBJECT_CLASS cls = CKO_PUBLIC_KEY;
	CK_ATTRIBUTE tmpl[] = { P11_ATTR(CKA_CLASS, &cls, sizeof(cls)) };
	CK_OBJECT_HANDLE h[64];
	CK_ULONG n = 0, i;
	EVP_PKEY *pk;
	unsigned char *id;
	size_t il;
	CK_RV rv;

	if ((rv = t->mod->f->C_FindObjectsInit(t->session, tmpl, 1)) != CKR_OK)
		return p11_fail_rv(ctx, t->label, "C_FindObjectsInit", rv);
	rv = t->mod->f->C_FindObjects(t->session, h, 64, &n);
	(void)t->mod->f->C_FindObjectsFinal(t->session);
	if (rv != CKR_OK)
		return p11_fail_rv(ctx, t->label, "C_FindObjects", rv);
	for (i = 0; i < n; i++) {
		if ((pk = p11_pubkey(t, h[i])) == NULL)
			continue;
		if (EVP_PKEY_eq(pk, want) == 1 &&
		    p11_attr_get(t, h[i], CKA_ID, &id, &il) == 0) {
			if (il <= sizeof(u->id)) {
				memcpy(u->id, id, il);
				u->idlen = il;
			}
			free(id);
			EVP_PKEY_free(pk);
			ERR_clear_error();
			return u->idlen > 0 ? 0 : CM_ERR_NOTFOUND;
		}
		EVP_PKEY_free(pk);
	}
	ERR_clear_error();
	return cm_err(ctx, CM_ERR_NOTFOUND, "token \"%s\": no key pair for "
	    "the certificate's public key", t->label);
}

/*
 * Store a certificate (PEM or DER) on the token beside its key: the key
 * with the URI's id, which must be the certificate's key, or without an
 * id the key pair whose public key the certificate has.  The object gets
 * CKA_SUBJECT, CKA_ISSUER and CKA_SERIAL_NUMBER, the key's id and the
 * URI's object label (else the certificate's common name).
 */
int
cm_hw_install(struct cm_ctx *ctx, const char *uri, const unsigned char *buf,
    size_t buflen)
{
	struct p11_uri u;
	struct p11_tok *t;
	X509 *x = NULL;
	EVP_PKEY *pub = NULL;
	CK_OBJECT_HANDLE h;
	unsigned long obj;
	char hex[129];
	int rc;

	if ((x = x509_decode(buf, buflen)) == NULL) {
		rc = cm_err_ssl(ctx, CM_ERR_INVAL, "not a certificate (PEM or "
		    "DER)");
		goto out;
	}
	if ((rc = hw_open(ctx, uri, &u, &t, 0)) != 0)
		goto out;
	if (u.idlen == 0) {
		if ((rc = id_of_key(ctx, t, X509_get0_pubkey(x), &u)) != 0)
			goto out;
	} else {
		if ((rc = hw_pubkey(ctx, t, &u, &pub)) != 0)
			goto out;
		if (EVP_PKEY_eq(pub, X509_get0_pubkey(x)) != 1) {
			cm_hex(u.id, u.idlen, hex);
			rc = cm_err(ctx, CM_ERR_POLICY, "token \"%s\": the "
			    "certificate is not for the key with id %s",
			    t->label, hex);
			goto out;
		}
	}
	rc = p11_find(ctx, t, CKO_CERTIFICATE, u.id, u.idlen, &h);
	if (rc == 0) {
		cm_hex(u.id, u.idlen, hex);
		rc = cm_err(ctx, CM_ERR_EXISTS, "token \"%s\": a certificate "
		    "with id %s is installed already", t->label, hex);
		goto out;
	} else if (rc != CM_ERR_NOTFOUND)
		goto out;
	if (u.object[0] == '\0' && X509_NAME_get_text_by_NID(
	    X509_get_subject_name(x), NID_commonName, u.object,
	    sizeof(u.object)) <= 0)
		snprintf(u.object, sizeof(u.object), "certificate");
	rc = p11_cert_create(ctx, t, x, u.object, u.id, u.idlen, &obj);
out:
	EVP_PKEY_free(pub);
	X509_free(x);
	return rc;
}
