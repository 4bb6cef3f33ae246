/*
 * change.c: policy changes as data.
 *
 * Every policy change (keys, CAs, procedures) is a change document: an XML
 * element <change type="..."> with named parameters, built with libxml2
 * and canonicalized (C14N 1.0).  change_submit() is the one path through
 * which such a change is applied: the canonical document is stored, parsed
 * back and applied from what it says, in one transaction with its audit
 * record.  Officer signatures (four-eye control) attach to this path.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <libxml/c14n.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <openssl/evp.h>

#include "extern.h"

#define CHANGE_NS	"urn:opencm:change:1"

struct change_param {
	char	*name;
	char	*value;
};

struct change {
	char			*type;
	struct change_param	*params;
	size_t			 nparams;
};

struct change_handler {
	const char	*type;
	int		(*apply)(struct cm_ctx *, const struct change *);
};

static const struct change_handler handlers[] = {
	{ "key.create",			key_apply_create },
	{ "key.retire",			key_apply_state },
	{ "key.remove",			key_apply_state },
	{ "ca.create",			ca_apply_create },
	{ "ca.request",			ca_apply_create },
	{ "ca.import",			ca_apply_import },
	{ "ca.revoke",			ca_apply_revoke },
	{ "cert-procedure.create",	procedure_apply_create },
	{ NULL,				NULL }
};

/* A new, empty change of the given type; NULL when out of memory. */
struct change *
change_new(const char *type)
{
	struct change *ch;

	if ((ch = calloc(1, sizeof(*ch))) == NULL)
		return NULL;
	if ((ch->type = strdup(type)) == NULL) {
		free(ch);
		return NULL;
	}
	return ch;
}

void
change_free(struct change *ch)
{
	size_t i;

	if (ch == NULL)
		return;
	for (i = 0; i < ch->nparams; i++) {
		free(ch->params[i].name);
		free(ch->params[i].value);
	}
	free(ch->params);
	free(ch->type);
	free(ch);
}

/* Add a parameter; a NULL value adds nothing.  Returns 0 or NOMEM. */
int
change_set(struct change *ch, const char *name, const char *value)
{
	struct change_param *np;

	if (value == NULL)
		return 0;
	np = reallocarray(ch->params, ch->nparams + 1, sizeof(*np));
	if (np == NULL)
		return CM_ERR_NOMEM;
	ch->params = np;
	np[ch->nparams].name = strdup(name);
	np[ch->nparams].value = strdup(value);
	if (np[ch->nparams].name == NULL || np[ch->nparams].value == NULL) {
		free(np[ch->nparams].name);
		free(np[ch->nparams].value);
		return CM_ERR_NOMEM;
	}
	ch->nparams++;
	return 0;
}

int
change_set_int(struct change *ch, const char *name, long long v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%lld", v);
	return change_set(ch, name, buf);
}

/* The value of the first parameter called name, or NULL. */
const char *
change_get(const struct change *ch, const char *name)
{
	size_t i;

	for (i = 0; i < ch->nparams; i++)
		if (strcmp(ch->params[i].name, name) == 0)
			return ch->params[i].value;
	return NULL;
}

const char *
change_type(const struct change *ch)
{
	return ch->type;
}

/*
 * The canonical XML (C14N 1.0) of a change.  Returns 0 and *out (caller
 * frees with xmlFree) or a CM_ERR_*.
 */
static int
change_c14n(struct cm_ctx *ctx, const struct change *ch, xmlChar **out,
    int *outlen)
{
	xmlDocPtr doc;
	xmlNodePtr root, p;
	size_t i;
	int rc = CM_ERR_NOMEM;

	*out = NULL;
	if ((doc = xmlNewDoc(BAD_CAST "1.0")) == NULL)
		return rc;
	if ((root = xmlNewNode(NULL, BAD_CAST "change")) == NULL)
		goto out;
	xmlDocSetRootElement(doc, root);
	if (xmlNewNs(root, BAD_CAST CHANGE_NS, NULL) == NULL ||
	    xmlNewProp(root, BAD_CAST "type", BAD_CAST ch->type) == NULL)
		goto out;
	for (i = 0; i < ch->nparams; i++) {
		p = xmlNewTextChild(root, NULL, BAD_CAST "param",
		    BAD_CAST ch->params[i].value);
		if (p == NULL || xmlNewProp(p, BAD_CAST "name",
		    BAD_CAST ch->params[i].name) == NULL)
			goto out;
	}
	*outlen = xmlC14NDocDumpMemory(doc, NULL, XML_C14N_1_0, NULL, 0, out);
	if (*outlen < 0) {
		rc = cm_err(ctx, CM_ERR_INTERNAL, "change: canonicalization "
		    "failed");
		goto out;
	}
	rc = 0;
out:
	xmlFreeDoc(doc);
	return rc;
}

/*
 * Parse a change document.  Returns 0 and *out (caller frees with
 * change_free) or CM_ERR_INVAL.
 */
static int
change_parse(struct cm_ctx *ctx, const xmlChar *buf, int len,
    struct change **out)
{
	xmlDocPtr doc;
	xmlNodePtr root, n;
	xmlChar *type = NULL, *name, *value;
	struct change *ch = NULL;
	int rc = CM_ERR_INVAL;

	*out = NULL;
	doc = xmlReadMemory((const char *)buf, len, "change.xml", NULL,
	    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (doc == NULL ||
	    (root = xmlDocGetRootElement(doc)) == NULL ||
	    xmlStrcmp(root->name, BAD_CAST "change") != 0 ||
	    root->ns == NULL ||
	    xmlStrcmp(root->ns->href, BAD_CAST CHANGE_NS) != 0 ||
	    (type = xmlGetProp(root, BAD_CAST "type")) == NULL) {
		rc = cm_err(ctx, CM_ERR_INVAL, "change: not a change document");
		goto out;
	}
	if ((ch = change_new((const char *)type)) == NULL) {
		rc = CM_ERR_NOMEM;
		goto out;
	}
	for (n = root->children; n != NULL; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (xmlStrcmp(n->name, BAD_CAST "param") != 0 ||
		    (name = xmlGetProp(n, BAD_CAST "name")) == NULL) {
			rc = cm_err(ctx, CM_ERR_INVAL, "change: unexpected "
			    "element <%s>", (const char *)n->name);
			goto out;
		}
		value = xmlNodeGetContent(n);
		rc = change_set(ch, (const char *)name,
		    value != NULL ? (const char *)value : "");
		xmlFree(name);
		xmlFree(value);
		if (rc != 0)
			goto out;
	}
	*out = ch;
	ch = NULL;
	rc = 0;
out:
	change_free(ch);
	xmlFree(type);
	xmlFreeDoc(doc);
	return rc;
}

/*
 * Apply a policy change: store its canonical document, apply what the
 * stored document says, and commit both with the audit record.  object
 * names what the change is about, for the audit log.  A refusal is
 * recorded in the audit log.  Returns 0 or a CM_ERR_*.
 */
int
change_submit(struct cm_ctx *ctx, struct change *ch, const char *object)
{
	const struct change_handler *h;
	struct change *parsed = NULL;
	xmlChar *doc = NULL;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen;
	char hex[2 * EVP_MAX_MD_SIZE + 1], detail[160];
	int doclen, rc;
	int64_t id = 0;

	for (h = handlers; h->type != NULL; h++)
		if (strcmp(h->type, ch->type) == 0)
			break;
	if (h->type == NULL) {
		rc = cm_err(ctx, CM_ERR_INTERNAL, "change: unknown type %s",
		    ch->type);
		goto out;
	}
	if ((rc = change_c14n(ctx, ch, &doc, &doclen)) != 0)
		goto out;
	if (!EVP_Digest(doc, (size_t)doclen, md, &mdlen, EVP_sha256(), NULL)) {
		rc = cm_err_ssl(ctx, CM_ERR_CRYPTO, "change: SHA-256");
		goto out;
	}
	cm_hex(md, mdlen, hex);
	if ((rc = change_parse(ctx, doc, doclen, &parsed)) != 0)
		goto out;
	procedure_cache_clear(ctx);	/* policy is about to change */
	if ((rc = txn_begin(ctx)) != 0)
		goto out;
	rc = store_exec(ctx, "INSERT INTO changes (type, document, digest, "
	    "state, created, applied) VALUES (?, ?, ?, 'applied', ?, ?)",
	    "tttii", ch->type, (const char *)doc, hex, (int64_t)time(NULL),
	    (int64_t)time(NULL));
	if (rc == 0) {
		id = store_last_id(ctx);
		rc = h->apply(ctx, parsed);
	}
	snprintf(detail, sizeof(detail), "change %lld sha256:%s",
	    (long long)id, hex);
	rc = txn_end(ctx, rc, ch->type, object, detail);
out:
	change_free(parsed);
	xmlFree(doc);
	return audit_done(ctx, rc, ch->type, object);
}
