/*
 * policy.c: the whole policy as one XML document.  policy export writes the
 * Key Registry (public parts), CAs, certificate and token procedures,
 * officer profiles and officers; policy import applies such a document as
 * one policy change: what is missing is created, what exists must match,
 * and keys and CAs, which carry key material, must already be there.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <libxml/c14n.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "extern.h"

#define POLICY_NS	"urn:opencm:policy:1"

struct exp {
	struct cm_ctx	*ctx;
	xmlNodePtr	 root;
	int		 rc;
};

static xmlNodePtr
elem(struct exp *e, const char *name)
{
	xmlNodePtr n;

	if ((n = xmlNewChild(e->root, NULL, BAD_CAST name, NULL)) == NULL)
		e->rc = CM_ERR_NOMEM;
	return n;
}

static xmlNodePtr
elem_in(struct exp *e, xmlNodePtr parent, const char *name)
{
	xmlNodePtr n = NULL;

	if (parent != NULL &&
	    (n = xmlNewChild(parent, NULL, BAD_CAST name, NULL)) == NULL)
		e->rc = CM_ERR_NOMEM;
	return n;
}

static void
attr(struct exp *e, xmlNodePtr n, const char *name, const char *value)
{
	if (n != NULL && value != NULL &&
	    xmlNewProp(n, BAD_CAST name, BAD_CAST value) == NULL)
		e->rc = CM_ERR_NOMEM;
}

static void
child(struct exp *e, xmlNodePtr n, const char *name, const char *text)
{
	if (n != NULL && text != NULL &&
	    xmlNewTextChild(n, NULL, BAD_CAST name, BAD_CAST text) == NULL)
		e->rc = CM_ERR_NOMEM;
}

static void
child_pem(struct exp *e, xmlNodePtr n, const char *name, const char *label,
    const unsigned char *der, size_t len)
{
	unsigned char *pem = NULL;
	size_t plen;

	if (der == NULL || len == 0)
		return;
	if (cm_pem_encode(e->ctx, label, der, len, &pem, &plen) != 0) {
		e->rc = CM_ERR_NOMEM;
		return;
	}
	child(e, n, name, (char *)pem);
	free(pem);
}

static int
key_cb(void *arg, const struct cm_key_info *ki)
{
	struct exp *e = arg;
	xmlNodePtr n = elem(e, "key");

	attr(e, n, "name", ki->name);
	attr(e, n, "identifier", ki->identifier);
	attr(e, n, "algorithm", ki->algorithm);
	attr(e, n, "device", ki->device);
	attr(e, n, "state", ki->state);
	child_pem(e, n, "public-key", "PUBLIC KEY", ki->spki, ki->spki_len);
	return e->rc;
}

static int
ca_cb(void *arg, const struct cm_ca_info *ci)
{
	struct exp *e = arg;
	xmlNodePtr n = elem(e, "ca");
	char buf[32];

	attr(e, n, "name", ci->name);
	attr(e, n, "key", ci->key);
	attr(e, n, "issuer", ci->issuer);
	attr(e, n, "state", ci->state);
	if (ci->pathlen >= 0) {
		snprintf(buf, sizeof(buf), "%d", ci->pathlen);
		attr(e, n, "pathlen", buf);
	}
	snprintf(buf, sizeof(buf), "%lds", ci->crl_interval);
	attr(e, n, "crl-interval", buf);
	snprintf(buf, sizeof(buf), "%lds", ci->delta_interval);
	attr(e, n, "delta-interval", buf);
	if (ci->revoke_delta)
		attr(e, n, "revoke-delta", "yes");
	attr(e, n, "cdp", ci->cdp);
	attr(e, n, "aia", ci->aia);
	child(e, n, "subject", ci->subject);
	child_pem(e, n, "certificate", "CERTIFICATE", ci->cert, ci->cert_len);
	return e->rc;
}

static int
cp_cb(void *arg, const struct cm_cert_procedure_info *pi)
{
	struct exp *e = arg;
	xmlNodePtr n = elem(e, "cert-procedure");
	char **v = NULL;
	size_t cnt = 0, i;

	attr(e, n, "name", pi->name);
	attr(e, n, "ca", pi->ca);
	attr(e, n, "format", pi->format);
	attr(e, n, "key-usage", pi->key_usage);
	attr(e, n, "eku", pi->eku);
	attr(e, n, "validity", pi->validity);
	attr(e, n, "digest", pi->digest);
	attr(e, n, "chain", pi->chain);
	attr(e, n, "allow-keys", pi->allow_keys);
	if (cm_split(pi->fields, '\n', &v, &cnt) != 0)
		return CM_ERR_NOMEM;
	for (i = 0; i < cnt; i++)
		child(e, n, "field", v[i]);
	cm_split_free(v, cnt);
	return e->rc;
}

static int
tp_cb(void *arg, const struct cm_token_procedure_info *ti)
{
	struct exp *e = arg;
	xmlNodePtr n = elem(e, "token-procedure");
	char **v = NULL;
	size_t cnt = 0, i;

	attr(e, n, "name", ti->name);
	attr(e, n, "storage", ti->storage);
	attr(e, n, "card-serial", ti->card_serial ? "yes" : "no");
	attr(e, n, "serial-range", ti->serial_range);
	if (ti->serial_ranges != NULL)
		attr(e, n, "serial-ranges", ti->serial_ranges);
	attr(e, n, "pin-procedure", ti->pin_procedure);
	attr(e, n, "issuer-certs", ti->issuer_certs);
	attr(e, n, "key-type", ti->key_type);
	if (cm_split(ti->cert_procedures, '\n', &v, &cnt) != 0)
		return CM_ERR_NOMEM;
	for (i = 0; i < cnt; i++)
		child(e, n, "cert-procedure", v[i]);
	cm_split_free(v, cnt);
	return e->rc;
}

static int
op_cb(void *arg, const struct cm_officer_profile_info *pi)
{
	struct exp *e = arg;
	xmlNodePtr n = elem(e, "officer-profile");

	attr(e, n, "name", pi->name);
	attr(e, n, "permissions", pi->permissions);
	return e->rc;
}

struct officer_cert {
	struct exp	*e;
	xmlNodePtr	 n;
};

static int
officer_cert_cb(void *arg, struct store_row *row)
{
	struct officer_cert *o = arg;
	const unsigned char *p;
	size_t len;

	p = store_row_blob(row, 0, &len);
	attr(o->e, o->n, "two-step", store_row_int(row, 1) ? "on" : "off");
	child_pem(o->e, o->n, "certificate", "CERTIFICATE", p, len);
	return 1;
}

static int
officer_cb(void *arg, const struct cm_officer_info *oi)
{
	struct exp *e = arg;
	struct officer_cert o = { e, elem(e, "officer") };
	int rc;

	attr(e, o.n, "name", oi->name);
	attr(e, o.n, "profile", oi->profile);
	attr(e, o.n, "state", oi->state);
	if ((rc = store_query(e->ctx, "SELECT cert, two_step FROM officers "
	    "WHERE id = ?", officer_cert_cb, &o, "i", oi->id)) != 0)
		return rc;
	return e->rc;
}

struct dist_exp {
	struct exp	*e;
	xmlNodePtr	 n;
};

static int
dist_sealed_cb(void *arg, struct store_row *row)
{
	static const char *const names[] = {
		"basic-password-sealed", "client-pass-sealed"
	};
	struct dist_exp *d = arg;
	const unsigned char *p;
	char *b64;
	size_t len;
	int i;

	for (i = 0; i < 2; i++) {
		if ((p = store_row_blob(row, i, &len)) == NULL || len == 0)
			continue;
		if ((b64 = b64_encode(p, len)) == NULL)
			return CM_ERR_NOMEM;
		child(d->e, d->n, names[i], b64);
		free(b64);
	}
	return 1;
}

static int
dist_cb(void *arg, const struct cm_dist_rule_info *ri)
{
	struct exp *e = arg;
	struct dist_exp d = { e, elem(e, "dist-rule") };
	const char *p, *nl;
	char what[200];
	int rc;

	attr(e, d.n, "name", ri->name);
	attr(e, d.n, "url", ri->url);
	attr(e, d.n, "method", ri->method);
	attr(e, d.n, "content", ri->content);
	attr(e, d.n, "format", ri->format);
	attr(e, d.n, "client", ri->client);
	attr(e, d.n, "basic-user", ri->basic_user);
	child(e, d.n, "server-ca", ri->server_ca);
	/* Sealed under this CMDB's key store: it opens with its passphrase. */
	if ((rc = store_query(e->ctx, "SELECT basic_password, client_secret "
	    "FROM dist_rules "
	    "WHERE id = ?", dist_sealed_cb, &d, "i", ri->id)) != 0)
		return rc;
	for (p = ri->attached; *p != '\0'; p = *nl != '\0' ? nl + 1 : nl) {
		nl = p + strcspn(p, "\n");
		snprintf(what, sizeof(what), "%.*s", (int)(nl - p), p);
		if (strncmp(what, "CA ", 3) == 0)
			attr(e, elem_in(e, d.n, "attach"), "ca", what + 3);
		else if (strncmp(what, "procedure ", 10) == 0)
			attr(e, elem_in(e, d.n, "attach"), "procedure",
			    what + 10);
	}
	return e->rc;
}

/*
 * The whole policy as a canonical XML document.  Returns 0 and *out
 * (NUL-terminated, caller frees with cm_free) or a CM_ERR_*.
 */
int
cm_policy_export(struct cm_ctx *ctx, unsigned char **out, size_t *outlen)
{
	struct exp e;
	xmlDocPtr doc;
	xmlChar *c14n = NULL;
	int len, rc;

	*out = NULL;
	*outlen = 0;
	memset(&e, 0, sizeof(e));
	e.ctx = ctx;
	if ((doc = xmlNewDoc(BAD_CAST "1.0")) == NULL ||
	    (e.root = xmlNewNode(NULL, BAD_CAST "policy")) == NULL) {
		xmlFreeDoc(doc);
		return CM_ERR_NOMEM;
	}
	xmlDocSetRootElement(doc, e.root);
	if (xmlNewNs(e.root, BAD_CAST POLICY_NS, NULL) == NULL) {
		rc = CM_ERR_NOMEM;
		goto out;
	}
	if ((rc = cm_key_list(ctx, NULL, NULL, key_cb, &e)) != 0 ||
	    (rc = cm_ca_list(ctx, NULL, ca_cb, &e)) != 0 ||
	    (rc = cm_cert_procedure_list(ctx, NULL, cp_cb, &e)) != 0 ||
	    (rc = cm_token_procedure_list(ctx, NULL, tp_cb, &e)) != 0 ||
	    (rc = cm_officer_profile_list(ctx, NULL, op_cb, &e)) != 0 ||
	    (rc = cm_officer_list(ctx, NULL, officer_cb, &e)) != 0 ||
	    (rc = cm_dist_rule_list(ctx, NULL, dist_cb, &e)) != 0)
		goto out;
	if ((len = xmlC14NDocDumpMemory(doc, NULL, XML_C14N_1_0, NULL, 0,
	    &c14n)) < 0) {
		rc = cm_err(ctx, CM_ERR_INTERNAL, "policy: canonicalization "
		    "failed");
		goto out;
	}
	if ((rc = x509_append(out, outlen, c14n, (size_t)len)) == 0)
		rc = x509_append(out, outlen, (const unsigned char *)"\n", 1);
out:
	xmlFree(c14n);
	xmlFreeDoc(doc);
	return rc;
}

/* Import as one policy change: the document is its one parameter. */
int
cm_policy_import(struct cm_ctx *ctx, const unsigned char *buf, size_t len)
{
	struct change *ch = NULL;
	xmlDocPtr doc = NULL;
	xmlNodePtr root;
	char *text = NULL;
	int rc;

	doc = xmlReadMemory((const char *)buf, (int)len, "policy.xml", NULL,
	    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (doc == NULL || (root = xmlDocGetRootElement(doc)) == NULL ||
	    xmlStrcmp(root->name, BAD_CAST "policy") != 0 || root->ns == NULL ||
	    xmlStrcmp(root->ns->href, BAD_CAST POLICY_NS) != 0) {
		rc = cm_err(ctx, CM_ERR_INVAL, "policy import: not a policy "
		    "document (opencm policy export writes one)");
		goto fail;
	}
	if ((text = strndup((const char *)buf, len)) == NULL ||
	    (ch = change_new("policy.import")) == NULL ||
	    change_set(ch, "policy", text) != 0) {
		rc = CM_ERR_NOMEM;
		goto fail;
	}
	rc = change_submit(ctx, ch, "policy");
	change_free(ch);
	free(text);
	xmlFreeDoc(doc);
	return rc;
fail:
	change_free(ch);
	free(text);
	xmlFreeDoc(doc);
	return audit_done(ctx, rc, "policy.import", "policy");
}

static char *
prop(xmlNodePtr n, const char *name)
{
	xmlChar *v = xmlGetProp(n, BAD_CAST name);
	char *s = v != NULL ? strdup((char *)v) : NULL;

	xmlFree(v);
	return s;
}

/* A change holding an element's attributes, for the apply functions. */
static struct change *
elem_change(xmlNodePtr n, const char *type)
{
	struct change *ch;
	xmlAttrPtr a;
	xmlChar *v;
	int rc = 0;

	if ((ch = change_new(type)) == NULL)
		return NULL;
	for (a = n->properties; a != NULL && rc == 0; a = a->next) {
		v = xmlNodeGetContent((xmlNodePtr)a);
		rc = change_set(ch, (const char *)a->name, (const char *)v);
		xmlFree(v);
	}
	if (rc != 0) {
		change_free(ch);
		return NULL;
	}
	return ch;
}

/* The text of n's children called name, joined by '\n'. */
static char *
children_text(xmlNodePtr n, const char *name)
{
	xmlNodePtr c;
	xmlChar *v;
	char *s = NULL, *ns;

	for (c = n->children; c != NULL; c = c->next) {
		if (c->type != XML_ELEMENT_NODE ||
		    xmlStrcmp(c->name, BAD_CAST name) != 0)
			continue;
		v = xmlNodeGetContent(c);
		if (cm_asprintf(&ns, "%s%s\n", s != NULL ? s : "",
		    v != NULL ? (char *)v : "") != 0) {
			xmlFree(v);
			free(s);
			return NULL;
		}
		xmlFree(v);
		free(s);
		s = ns;
	}
	return s != NULL ? s : strdup("");
}

static int
exists(struct cm_ctx *ctx, const char *sql, const char *name)
{
	int64_t id;

	return store_int(ctx, &id, sql, "t", name) == 0;
}

/* A distribution rule of an imported policy, and its attachments. */
static int
import_dist(struct cm_ctx *ctx, xmlNodePtr n, const char *name)
{
	struct change *ch = NULL, *at;
	xmlNodePtr c;
	char *ca_text = NULL, *pw = NULL, *cpw = NULL, *v;
	int rc;

	if ((ch = elem_change(n, "dist-rule.create")) == NULL ||
	    (ca_text = children_text(n, "server-ca")) == NULL ||
	    (pw = children_text(n, "basic-password-sealed")) == NULL ||
	    (cpw = children_text(n, "client-pass-sealed")) == NULL ||
	    change_set(ch, "server-ca", ca_text) != 0 ||
	    (*pw != '\0' && change_set(ch, "basic-password-sealed", pw) !=
	    0) ||
	    (*cpw != '\0' && change_set(ch, "client-pass-sealed", cpw) != 0)) {
		rc = CM_ERR_NOMEM;
		goto out;
	}
	if ((rc = dist_rule_apply_create(ctx, ch)) != 0)
		goto out;
	for (c = n->children; c != NULL && rc == 0; c = c->next) {
		if (c->type != XML_ELEMENT_NODE ||
		    strcmp((const char *)c->name, "attach") != 0)
			continue;
		if ((at = change_new("dist-rule.attach")) == NULL ||
		    change_set(at, "name", name) != 0) {
			change_free(at);
			rc = CM_ERR_NOMEM;
			break;
		}
		if ((v = prop(c, "ca")) != NULL) {
			rc = change_set(at, "ca", v);
			free(v);
		}
		if (rc == 0 && (v = prop(c, "procedure")) != NULL) {
			rc = change_set(at, "procedure", v);
			free(v);
		}
		if (rc == 0)
			rc = dist_rule_apply_attach(ctx, at);
		change_free(at);
	}
out:
	change_free(ch);
	free(ca_text);
	free(pw);
	free(cpw);
	return rc;
}

/* Apply one element of an imported policy. */
static int
import_elem(struct cm_ctx *ctx, xmlNodePtr n)
{
	struct change *ch = NULL;
	char *name = prop(n, "name"), *text = NULL;
	const char *kind = (const char *)n->name;
	int rc = 0;

	if (name == NULL)
		return cm_err(ctx, CM_ERR_INVAL, "policy import: <%s> without a "
		    "name", kind);
	if (strcmp(kind, "key") == 0) {
		char *ident = prop(n, "identifier");

		if (ident == NULL || !exists(ctx, "SELECT id FROM keys WHERE "
		    "identifier = ?", ident))
			rc = cm_err(ctx, CM_ERR_POLICY, "policy import: key \"%s\" "
			    "(%s) is not in the Key Registry; keys carry key "
			    "material and are not imported", name,
			    ident != NULL ? ident : "?");
		free(ident);
	} else if (strcmp(kind, "ca") == 0) {
		if (!exists(ctx, "SELECT id FROM cas WHERE name = ?", name))
			rc = cm_err(ctx, CM_ERR_POLICY, "policy import: CA \"%s\" "
			    "is not in the CMDB; CAs are not imported", name);
	} else if (strcmp(kind, "cert-procedure") == 0) {
		if (exists(ctx, "SELECT id FROM procedures WHERE name = ?", name))
			goto out;
		if ((ch = elem_change(n, "cert-procedure.create")) == NULL ||
		    (text = children_text(n, "field")) == NULL ||
		    change_set(ch, "fields", text) != 0)
			rc = CM_ERR_NOMEM;
		else
			rc = procedure_apply_create(ctx, ch);
	} else if (strcmp(kind, "token-procedure") == 0) {
		if (exists(ctx, "SELECT id FROM token_procedures WHERE name = ?",
		    name))
			goto out;
		if ((ch = elem_change(n, "token-procedure.create")) == NULL ||
		    (text = children_text(n, "cert-procedure")) == NULL ||
		    change_set(ch, "cert-procedures", text) != 0)
			rc = CM_ERR_NOMEM;
		else
			rc = token_procedure_apply_create(ctx, ch);
	} else if (strcmp(kind, "officer-profile") == 0) {
		if (exists(ctx, "SELECT id FROM officer_profiles WHERE name = ?",
		    name))
			goto out;
		if ((ch = elem_change(n, "officer-profile.create")) == NULL)
			rc = CM_ERR_NOMEM;
		else
			rc = officer_profile_apply_create(ctx, ch);
	} else if (strcmp(kind, "officer") == 0) {
		if (exists(ctx, "SELECT id FROM officers WHERE name = ?", name))
			goto out;
		if ((ch = elem_change(n, "officer.create")) == NULL ||
		    (text = children_text(n, "certificate")) == NULL ||
		    change_set(ch, "certificate", text) != 0)
			rc = CM_ERR_NOMEM;
		else
			rc = officer_apply_create(ctx, ch);
		/* A disabled officer comes in disabled, never active. */
		if (rc == 0 && change_get(ch, "state") != NULL &&
		    strcmp(change_get(ch, "state"), "active") != 0)
			rc = store_exec(ctx, "UPDATE officers SET state = "
			    "'disabled' WHERE name = ?", "t", name);
	} else if (strcmp(kind, "dist-rule") == 0) {
		if (exists(ctx, "SELECT id FROM dist_rules WHERE name = ?",
		    name))
			goto out;
		rc = import_dist(ctx, n, name);
	} else
		rc = cm_err(ctx, CM_ERR_INVAL, "policy import: unknown element "
		    "<%s>", kind);
out:
	free(text);
	free(name);
	change_free(ch);
	return rc;
}

/* Apply policy.import. */
int
policy_apply_import(struct cm_ctx *ctx, const struct change *ch)
{
	const char *text = change_get(ch, "policy");
	xmlDocPtr doc;
	xmlNodePtr n;
	int rc = 0;

	if (text == NULL)
		return cm_err(ctx, CM_ERR_INVAL, "policy.import: no policy");
	doc = xmlReadMemory(text, (int)strlen(text), "policy.xml", NULL,
	    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (doc == NULL || xmlDocGetRootElement(doc) == NULL) {
		xmlFreeDoc(doc);
		return cm_err(ctx, CM_ERR_INVAL, "policy import: not a policy "
		    "document");
	}
	for (n = xmlDocGetRootElement(doc)->children; n != NULL && rc == 0;
	    n = n->next)
		if (n->type == XML_ELEMENT_NODE)
			rc = import_elem(ctx, n);
	xmlFreeDoc(doc);
	return rc;
}
