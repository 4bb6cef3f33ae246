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
#include <openssl/cms.h>
#include <openssl/err.h>
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
	{ "ca.modify",			ca_apply_modify },
	{ "cert-procedure.create",	procedure_apply_create },
	{ "cert-procedure.modify",	procedure_apply_create },
	{ "token-procedure.create",	token_procedure_apply_create },
	{ "token-procedure.modify",	token_procedure_apply_create },
	{ "officer-profile.create",	officer_profile_apply_create },
	{ "officer-profile.modify",	officer_profile_apply_create },
	{ "officer.create",		officer_apply_create },
	{ "officer.disable",		officer_apply_disable },
	{ "officer.modify",		officer_apply_modify },
	{ "policy.import",		policy_apply_import },
	{ "dist-rule.create",		dist_rule_apply_create },
	{ "dist-rule.attach",		dist_rule_apply_attach },
	{ "dist-rule.detach",		dist_rule_apply_detach },
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

/* The tables of policy_sql[] before distribution rules. */
#define POLICY_SQL_V1	7

/*
 * The policy, one line a row in a fixed order, for policy_digest().  What
 * only operations change (CRL numbers, certificates) is not policy.
 */
static const char *const policy_sql[] = {
	"SELECT quote(id) || ',' || quote(name) || ',' || quote(identifier) || "
	    "',' || quote(algorithm) || ',' || quote(device) || ',' || "
	    "quote(state) || ',' || quote(spki) FROM keys ORDER BY id",
	"SELECT quote(id) || ',' || quote(name) || ',' || quote(key_id) || ',' "
	    "|| quote(subject) || ',' || quote(issuer_id) || ',' || "
	    "quote(external) || ',' || quote(state) || ',' || quote(cert) || "
	    "',' || quote(pathlen) || ',' || quote(crl_interval) || ',' || "
	    "quote(delta_interval) || ',' || quote(cdp) || ',' || quote(aia) "
	    "|| ',' || quote(cert_id) || ',' || quote(chain) || ',' || "
	    "quote(serial) || ',' || quote(not_before) || ',' || "
	    "quote(not_after) || CASE WHEN revoke_delta = 0 THEN '' ELSE "
	    "',' || quote(revoke_delta) END FROM cas ORDER BY id",
	"SELECT quote(id) || ',' || quote(name) || ',' || quote(ca_id) || ',' "
	    "|| quote(format) || ',' || quote(key_usage) || ',' || quote(eku) "
	    "|| ',' || quote(validity) || ',' || quote(digest) || ',' || "
	    "quote(chain) || ',' || quote(allow_keys) || ',' || quote(fields) "
	    "FROM procedures ORDER BY id",
	"SELECT quote(id) || ',' || quote(name) || ',' || quote(storage) || ',' "
	    "|| quote(card_serial) || ',' || quote(serial_range) || ',' || "
	    "quote(pin_procedure) || ',' || quote(issuer_certs) || ',' || "
	    "quote(key_type) || CASE WHEN serial_ranges IS NULL THEN '' ELSE "
	    "',' || quote(serial_ranges) END FROM token_procedures ORDER BY id",
	"SELECT quote(token_procedure_id) || ',' || quote(position) || ',' || "
	    "quote(procedure_id) FROM token_procedure_keys ORDER BY "
	    "token_procedure_id, position",
	"SELECT quote(id) || ',' || quote(name) || ',' || quote(permissions) "
	    "FROM officer_profiles ORDER BY id",
	"SELECT quote(id) || ',' || quote(name) || ',' || quote(profile_id) || "
	    "',' || quote(cert_sha256) || ',' || quote(state) || ',' || "
	    "quote(two_step) || ',' || quote(ca_id) || ',' || quote(serial) "
	    "FROM officers ORDER BY id",
	/* From here on, empty tables add nothing (policy_digest()). */
	"SELECT quote(id) || ',' || quote(name) || ',' || quote(url) || ',' "
	    "|| quote(method) || ',' || quote(content) || ',' || quote(format) "
	    "|| ',' || quote(server_ca) || ',' || quote(client) || ',' || "
	    "quote(basic_user) || ',' || quote(basic_password) || CASE WHEN "
	    "client_secret IS NULL THEN '' ELSE ',' || quote(client_secret) "
	    "END FROM dist_rules "
	    "ORDER BY id",
	"SELECT quote(rule_id) || ',' || quote(ca_id) || ',' || "
	    "quote(procedure_id) FROM dist_attach ORDER BY rule_id, ca_id, "
	    "procedure_id",
	NULL
};

struct policy_md {
	EVP_MD_CTX	*md;
	long		 rows;
};

static int
policy_line_cb(void *arg, struct store_row *row)
{
	struct policy_md *p = arg;
	const char *line = store_row_text(row, 0);

	p->rows++;
	if (!EVP_DigestUpdate(p->md, line, strlen(line)) ||
	    !EVP_DigestUpdate(p->md, "\n", 1))
		return CM_ERR_CRYPTO;
	return 0;
}

/* The SHA-256 of the whole policy in the CMDB, as hex. */
static int
policy_digest(struct cm_ctx *ctx, char *hex)
{
	EVP_MD_CTX *md;
	unsigned char out[EVP_MAX_MD_SIZE];
	unsigned int len;
	size_t i;
	int rc = 0;

	if ((md = EVP_MD_CTX_new()) == NULL)
		return CM_ERR_NOMEM;
	if (!EVP_DigestInit_ex(md, EVP_sha256(), NULL))
		rc = cm_err_ssl(ctx, CM_ERR_CRYPTO, "policy digest");
	for (i = 0; rc == 0 && policy_sql[i] != NULL; i++) {
		struct policy_md p = { md, 0 };

		rc = store_query(ctx, policy_sql[i], policy_line_cb, &p, NULL);
		/*
		 * Tables added later count only once they hold a row, so a
		 * CMDB from before them keeps its recorded digests.
		 */
		if (rc == 0 && (i < POLICY_SQL_V1 || p.rows > 0) &&
		    !EVP_DigestUpdate(md, "--\n", 3))
			rc = CM_ERR_CRYPTO;
	}
	if (rc == 0 && !EVP_DigestFinal_ex(md, out, &len))
		rc = cm_err_ssl(ctx, CM_ERR_CRYPTO, "policy digest");
	if (rc == 0)
		cm_hex(out, len, hex);
	EVP_MD_CTX_free(md);
	return rc;
}

/*
 * After a change was applied: record the digest of the policy it left, in
 * the change and in its audit record.
 */
static int
policy_record(struct cm_ctx *ctx, int64_t id, char *hex)
{
	int rc;

	if ((rc = policy_digest(ctx, hex)) != 0)
		return rc;
	return store_exec(ctx, "UPDATE changes SET policy_digest = ? WHERE id = "
	    "?", "ti", hex, id);
}

/* Sign a change document as an officer: detached CMS over its bytes. */
static int
change_cms_sign(struct cm_ctx *ctx, const struct officer_session *os,
    const char *doc, size_t len, unsigned char **der, int *derlen)
{
	CMS_ContentInfo *cms = NULL;
	BIO *in;
	int rc = 0;

	*der = NULL;
	if ((in = BIO_new_mem_buf(doc, (int)len)) == NULL)
		return CM_ERR_NOMEM;
	cms = CMS_sign(os->cert, os->key, NULL, in, CMS_DETACHED | CMS_BINARY |
	    CMS_NOSMIMECAP);
	if (cms == NULL || (*derlen = i2d_CMS_ContentInfo(cms, der)) <= 0) {
		*der = NULL;
		rc = cm_err_ssl(ctx, CM_ERR_CRYPTO, "officer \"%s\": signing the "
		    "change", os->name);
	}
	CMS_ContentInfo_free(cms);
	BIO_free(in);
	return rc;
}

/*
 * Whether cms is a valid detached signature over doc by the key of cert.
 * Returns 1 or 0.
 */
static int
change_cms_verify(X509 *cert, const unsigned char *der, size_t derlen,
    const char *doc, size_t len)
{
	CMS_ContentInfo *cms;
	STACK_OF(X509) *certs = NULL;
	BIO *in = NULL;
	const unsigned char *p = der;
	int ok = 0;

	if ((cms = d2i_CMS_ContentInfo(NULL, &p, (long)derlen)) == NULL)
		goto out;
	if ((certs = sk_X509_new_null()) == NULL || !sk_X509_push(certs, cert) ||
	    (in = BIO_new_mem_buf(doc, (int)len)) == NULL)
		goto out;
	ok = CMS_verify(cms, certs, NULL, in, NULL, CMS_BINARY | CMS_NOINTERN |
	    CMS_NO_SIGNER_CERT_VERIFY) == 1;
out:
	ERR_clear_error();
	BIO_free(in);
	sk_X509_free(certs);	/* cert stays the caller's */
	CMS_ContentInfo_free(cms);
	return ok;
}

static int
digest_hex(struct cm_ctx *ctx, const void *doc, size_t len, char *hex)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen;

	if (!EVP_Digest(doc, len, md, &mdlen, EVP_sha256(), NULL))
		return cm_err_ssl(ctx, CM_ERR_CRYPTO, "change: SHA-256");
	cm_hex(md, mdlen, hex);
	return 0;
}

static const struct change_handler *
handler_find(const char *type)
{
	const struct change_handler *h;

	for (h = handlers; h->type != NULL; h++)
		if (strcmp(h->type, type) == 0)
			return h;
	return NULL;
}

/* Sign as every logged-in policy officer not in skip, and store it. */
static int
change_sign_store(struct cm_ctx *ctx, int64_t id, const char *doc,
    size_t len, const int64_t *skip, size_t nskip, size_t *nsigned,
    char *names, size_t nameslen)
{
	unsigned char *der = NULL;
	size_t i, j;
	int derlen = 0, rc = 0;

	*nsigned = 0;
	for (i = 0; i < ctx->nofficers && rc == 0; i++) {
		if (!(ctx->officers[i].perms & PERM_POLICY))
			continue;
		for (j = 0; j < nskip; j++)
			if (skip[j] == ctx->officers[i].id)
				break;
		if (j < nskip)
			continue;
		if ((rc = change_cms_sign(ctx, &ctx->officers[i], doc, len, &der,
		    &derlen)) != 0)
			break;
		rc = store_exec(ctx, "INSERT INTO change_signatures (change_id, "
		    "officer_id, cms, signed) VALUES (?, ?, ?, ?)", "iibi", id,
		    ctx->officers[i].id, der, (size_t)derlen,
		    (int64_t)time(NULL));
		OPENSSL_free(der);
		der = NULL;
		if (rc == 0) {
			(*nsigned)++;
			snprintf(names + strlen(names), nameslen - strlen(names),
			    "%s\"%s\"", names[0] != '\0' ? ", " : "",
			    ctx->officers[i].name);
		}
	}
	return rc;
}

/* The policy officers logged in, and whether one of them signs alone. */
static size_t
policy_signers(struct cm_ctx *ctx, const struct officer_session **one)
{
	size_t i, n = 0;

	*one = NULL;
	for (i = 0; i < ctx->nofficers; i++)
		if (ctx->officers[i].perms & PERM_POLICY) {
			if (n++ == 0)
				*one = &ctx->officers[i];
		}
	return n;
}

/*
 * Apply a policy change: store its canonical document, apply what the
 * stored document says, and commit both with the audit record.  Once four-
 * eye control is on (two officers who may administer policy exist), the
 * logged-in policy officers sign the document: with two signatures the
 * change is applied, with one it waits for a second officer (cm_change_sign).
 * object names what the change is about.  A refusal is recorded in the
 * audit log.  Returns 0 or a CM_ERR_*.
 */
int
change_submit(struct cm_ctx *ctx, struct change *ch, const char *object)
{
	const struct change_handler *h;
	const struct officer_session *one;
	struct change *parsed = NULL;
	xmlChar *doc = NULL;
	char hex[2 * EVP_MAX_MD_SIZE + 1], detail[640], names[400] = "";
	char policy[2 * EVP_MAX_MD_SIZE + 1] = "";
	int doclen, rc, pending = 0;
	int64_t id = 0, enforced, base = 0, now;
	size_t nsig = 0, nsigners;

	ctx->pending_change = 0;
	if ((rc = officer_require(ctx, PERM_POLICY, ch->type)) != 0 ||
	    (rc = officer_enforced(ctx, &enforced)) != 0)
		goto out;
	if ((h = handler_find(ch->type)) == NULL) {
		rc = cm_err(ctx, CM_ERR_INTERNAL, "change: unknown type %s",
		    ch->type);
		goto out;
	}
	nsigners = enforced ? policy_signers(ctx, &one) : 0;
	if (enforced && nsigners == 1) {
		if (!one->two_step) {
			rc = cm_err(ctx, CM_ERR_POLICY, "%s: officer \"%s\" does "
			    "not sign in two steps (a bootstrap officer): two "
			    "officers sign together", ch->type, one->name);
			goto out;
		}
		pending = 1;
	}
	if ((rc = change_c14n(ctx, ch, &doc, &doclen)) != 0 ||
	    (rc = digest_hex(ctx, doc, (size_t)doclen, hex)) != 0 ||
	    (rc = change_parse(ctx, doc, doclen, &parsed)) != 0)
		goto out;
	procedure_cache_clear(ctx);	/* policy is about to change */
	if ((rc = txn_begin(ctx)) != 0)
		goto out;
	/*
	 * Again under the lock: another process may have changed officers,
	 * profiles or four-eye control since the checks above.
	 */
	if ((rc = officer_require(ctx, PERM_POLICY, ch->type)) != 0 ||
	    (rc = officer_enforced(ctx, &now)) != 0)
		goto end;
	if (now != enforced || (enforced && policy_signers(ctx, &one) !=
	    nsigners)) {
		rc = cm_err(ctx, CM_ERR_BUSY, "%s: the officers or four-eye "
		    "control changed meanwhile; make the change again",
		    ch->type);
		goto end;
	}
	if (pending && (rc = change_latest(ctx, &base)) != 0)
		goto end;
	rc = store_exec(ctx, "INSERT INTO changes (type, document, digest, "
	    "state, created, applied, object, base) VALUES (?, ?, ?, ?, ?, ?, "
	    "?, ?)", "tttti" "jtj", ch->type, (const char *)doc, hex,
	    pending ? "pending" : "applied", (int64_t)time(NULL),
	    pending ? (int64_t)0 : (int64_t)time(NULL), object, base);
	if (rc != 0)
		goto end;
	id = store_last_id(ctx);
	if (enforced && (rc = change_sign_store(ctx, id, (const char *)doc,
	    (size_t)doclen, NULL, 0, &nsig, names, sizeof(names))) != 0)
		goto end;
	if (!pending && (rc = h->apply(ctx, parsed)) == 0)
		rc = policy_record(ctx, id, policy);
end:
	if (pending)
		snprintf(detail, sizeof(detail), "change %lld sha256:%s signed "
		    "by %s, waiting for a second officer", (long long)id, hex,
		    names);
	else
		snprintf(detail, sizeof(detail), "change %lld sha256:%s%s%s%s, "
		    "policy sha256:%s", (long long)id, hex, nsig > 0 ?
		    " signed by " : "", names, enforced ? ", " CHANGE_FOUR_EYE :
		    "", policy);
	rc = txn_end(ctx, rc, pending ? "change.pending" : ch->type, object,
	    detail);
	if (rc == 0 && pending)
		ctx->pending_change = id;
out:
	change_free(parsed);
	xmlFree(doc);
	return audit_done(ctx, rc, ch->type, object);
}

/* The id of the last applied policy change, 0 before the first. */
int
change_latest(struct cm_ctx *ctx, int64_t *id)
{
	return store_int(ctx, id, "SELECT coalesce(max(id), 0) FROM changes "
	    "WHERE state = 'applied'", NULL);
}

/*
 * Whether a create (modify 0) or a modify of the object what "name" may go
 * on, lookup being what looking it up returned: 0 (found), CM_ERR_NOTFOUND
 * or another error.  Returns 0, or a CM_ERR_* with a message.
 */
int
change_target(struct cm_ctx *ctx, int lookup, int modify, const char *what,
    const char *name)
{
	if (lookup == 0 && !modify)
		return cm_err(ctx, CM_ERR_EXISTS, "%s \"%s\" already exists",
		    what, name);
	if (lookup == CM_ERR_NOTFOUND)
		return modify ? cm_err(ctx, CM_ERR_NOTFOUND, "%s \"%s\" not "
		    "found", what, name) : 0;
	return lookup;
}

/* The id of the change the last policy call left pending, or 0. */
int64_t
cm_change_pending(const struct cm_ctx *ctx)
{
	return ctx->pending_change;
}

struct crow {
	char		*type;
	char		*document;
	char		 digest[2 * EVP_MAX_MD_SIZE + 1];
	char		 state[16];
	char		*object;
	int64_t		 base;
	int		 found;
};

static int
crow_cb(void *arg, struct store_row *row)
{
	struct crow *c = arg;

	c->type = cm_strdup(store_row_text(row, 0));
	c->document = cm_strdup(store_row_text(row, 1));
	snprintf(c->digest, sizeof(c->digest), "%s", store_row_text(row, 2));
	snprintf(c->state, sizeof(c->state), "%s", store_row_text(row, 3));
	c->object = cm_strdup(store_row_text(row, 4));
	c->base = store_row_int(row, 5);
	c->found = 1;
	return 1;
}

static void
crow_clear(struct crow *c)
{
	free(c->type);
	free(c->document);
	free(c->object);
	memset(c, 0, sizeof(*c));
}

/* Load change id, which must be pending to be signed or rejected. */
static int
pending_load(struct cm_ctx *ctx, int64_t id, const char *verb,
    struct crow *c)
{
	int rc;

	rc = store_query(ctx, "SELECT type, document, digest, state, "
	    "coalesce(object, ''), coalesce(base, 0) FROM changes WHERE id = ?",
	    crow_cb, c, "i", id);
	if (rc != 0)
		return rc;
	if (!c->found)
		return cm_err(ctx, CM_ERR_NOTFOUND, "change %lld not found",
		    (long long)id);
	if (strcmp(c->state, "pending") != 0)
		return cm_err(ctx, CM_ERR_POLICY, "change %lld is %s: only a "
		    "pending change is %s", (long long)id, c->state, verb);
	return 0;
}

struct sigcheck {
	struct cm_ctx	*ctx;
	const char	*doc;
	int64_t		 ids[16];
	size_t		 n;
	int64_t		 change;
	int		 strict;	/* the signers must still be able to sign */
	int		 rc;
};

static int
sigcheck_cb(void *arg, struct store_row *row)
{
	struct sigcheck *s = arg;
	const unsigned char *cms, *cert;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen;
	char hex[2 * EVP_MAX_MD_SIZE + 1];
	size_t cmslen, certlen;
	X509 *x;
	int ok;

	cms = store_row_blob(row, 1, &cmslen);
	cert = store_row_blob(row, 2, &certlen);
	x = cert != NULL ? x509_from_der(cert, certlen) : NULL;
	/* The certificate must be the one the officer was created with. */
	ok = x != NULL && cms != NULL && X509_digest(x, EVP_sha256(), md,
	    &mdlen) && (cm_hex(md, mdlen, hex), strcmp(hex,
	    store_row_text(row, 4)) == 0) && change_cms_verify(x, cms, cmslen,
	    s->doc, strlen(s->doc));
	X509_free(x);
	if (!ok) {
		s->rc = cm_err(s->ctx, CM_ERR_AUDIT, "change %lld: the signature "
		    "of officer \"%s\" does not verify over the stored document: "
		    "the change was altered or forged", (long long)s->change,
		    store_row_text(row, 3));
		return s->rc;
	}
	if (s->strict && (strcmp(store_row_text(row, 5), "active") != 0 ||
	    strcmp(store_row_text(row, 6), "valid") != 0 ||
	    strcmp(store_row_text(row, 7), "active") != 0 ||
	    !cm_list_has(store_row_text(row, 8), "policy"))) {
		s->rc = cm_err(s->ctx, CM_ERR_POLICY, "change %lld: officer "
		    "\"%s\", who signed it, can no longer sign (disabled, "
		    "certificate or CA revoked, or no policy permission): reject "
		    "it and submit it again", (long long)s->change,
		    store_row_text(row, 3));
		return s->rc;
	}
	if (s->n < 16)
		s->ids[s->n++] = store_row_int(row, 0);
	return 0;
}

/*
 * Verify every stored signature of change id over its document; with
 * strict, the signers must also still be able to sign.
 */
static int
change_sigs(struct cm_ctx *ctx, int64_t id, const char *doc, int strict,
    struct sigcheck *s)
{
	int rc;

	memset(s, 0, sizeof(*s));
	s->ctx = ctx;
	s->doc = doc;
	s->change = id;
	s->strict = strict;
	rc = store_query(ctx, "SELECT s.officer_id, s.cms, o.cert, o.name, "
	    "o.cert_sha256, o.state, coalesce((SELECT status FROM certs c WHERE "
	    "c.ca_id = o.ca_id AND c.serial = o.serial), ''), coalesce((SELECT "
	    "state FROM cas a WHERE a.id = o.ca_id), ''), p.permissions FROM "
	    "change_signatures s JOIN officers o ON o.id = s.officer_id JOIN "
	    "officer_profiles p ON p.id = o.profile_id WHERE s.change_id = ? "
	    "ORDER BY s.id", sigcheck_cb, s, "i", id);
	return rc != 0 ? rc : s->rc;
}

/*
 * Sign a pending change as the second officer, and apply it.  The stored
 * document must still match its first signature, and no other change may
 * have been applied since it was signed.  Returns 0 or a CM_ERR_*.
 */
int
cm_change_sign(struct cm_ctx *ctx, int64_t id)
{
	const struct change_handler *h;
	struct change *parsed = NULL;
	struct crow c;
	struct sigcheck s;
	char hex[2 * EVP_MAX_MD_SIZE + 1] = "", object[32], detail[640];
	char names[400] = "", policy[2 * EVP_MAX_MD_SIZE + 1] = "";
	int64_t latest;
	size_t nsig = 0;
	int rc;

	memset(&c, 0, sizeof(c));
	snprintf(object, sizeof(object), "change %lld", (long long)id);
	if ((rc = officer_require(ctx, PERM_POLICY, "change sign")) != 0)
		goto out;
	procedure_cache_clear(ctx);
	/* Every check is made under the write lock, where it holds. */
	if ((rc = txn_begin(ctx)) != 0)
		goto out;
	if ((rc = officer_require(ctx, PERM_POLICY, "change sign")) != 0 ||
	    (rc = pending_load(ctx, id, "signed", &c)) != 0)
		goto end;
	if (c.type == NULL || c.document == NULL) {
		rc = CM_ERR_NOMEM;
		goto end;
	}
	if ((rc = digest_hex(ctx, c.document, strlen(c.document), hex)) != 0)
		goto end;
	if (strcmp(hex, c.digest) != 0) {
		rc = cm_err(ctx, CM_ERR_POLICY, "change %lld: the stored document "
		    "no longer matches its digest: it was altered after it was "
		    "signed", (long long)id);
		goto end;
	}
	if ((rc = change_sigs(ctx, id, c.document, 1, &s)) != 0) {
		if (rc == CM_ERR_AUDIT)
			rc = CM_ERR_POLICY;
		goto end;
	}
	if (s.n == 0) {
		rc = cm_err(ctx, CM_ERR_POLICY, "change %lld carries no valid "
		    "officer signature: it was altered; reject it", (long long)id);
		goto end;
	}
	if ((rc = change_latest(ctx, &latest)) != 0)
		goto end;
	if (latest > c.base) {
		rc = cm_err(ctx, CM_ERR_POLICY, "change %lld: policy changed "
		    "since it was signed (change %lld was applied): reject it "
		    "and submit it again", (long long)id, (long long)latest);
		goto end;
	}
	if ((h = handler_find(c.type)) == NULL) {
		rc = cm_err(ctx, CM_ERR_DB, "change %lld: unknown type %s",
		    (long long)id, c.type);
		goto end;
	}
	if ((rc = change_parse(ctx, (const xmlChar *)c.document,
	    (int)strlen(c.document), &parsed)) != 0)
		goto end;
	rc = change_sign_store(ctx, id, c.document, strlen(c.document), s.ids,
	    s.n, &nsig, names, sizeof(names));
	if (rc == 0 && nsig == 0)
		rc = cm_err(ctx, CM_ERR_DENIED, "change %lld: the officers "
		    "logged in have signed it already: a second officer must "
		    "sign", (long long)id);
	if (rc == 0)
		rc = store_exec(ctx, "UPDATE changes SET state = 'applied', "
		    "applied = ? WHERE id = ? AND state = 'pending'", "ii",
		    (int64_t)time(NULL), id);
	if (rc == 0 && store_changes(ctx) != 1)
		rc = cm_err(ctx, CM_ERR_POLICY, "change %lld is no longer "
		    "pending", (long long)id);
	if (rc == 0 && (rc = h->apply(ctx, parsed)) == 0)
		rc = policy_record(ctx, id, policy);
end:
	snprintf(detail, sizeof(detail), "change %lld sha256:%s signed by %s "
	    "and applied, " CHANGE_FOUR_EYE ", policy sha256:%s",
	    (long long)id, hex, names, policy);
	rc = txn_end(ctx, rc, c.type != NULL ? c.type : "change.sign",
	    c.object != NULL ? c.object : object, detail);
out:
	change_free(parsed);
	crow_clear(&c);
	return audit_done(ctx, rc, "change.sign", object);
}

/* Reject a pending change; it is kept, with the reason.  0 or CM_ERR_*. */
int
cm_change_reject(struct cm_ctx *ctx, int64_t id, const char *reason)
{
	struct crow c;
	char object[32], detail[300];
	int rc;

	memset(&c, 0, sizeof(c));
	snprintf(object, sizeof(object), "change %lld", (long long)id);
	if ((rc = officer_require(ctx, PERM_POLICY, "change reject")) != 0 ||
	    (rc = txn_begin(ctx)) != 0)
		goto out;
	if ((rc = pending_load(ctx, id, "rejected", &c)) == 0)
		rc = store_exec(ctx, "UPDATE changes SET state = 'rejected', "
		    "reason = ? WHERE id = ? AND state = 'pending'", "ti",
		    reason != NULL ? reason : "", id);
	snprintf(detail, sizeof(detail), "%s rejected%s%s",
	    c.type != NULL ? c.type : "change",
	    reason != NULL ? ": " : "", reason != NULL ? reason : "");
	rc = txn_end(ctx, rc, "change.reject", object, detail);
out:
	crow_clear(&c);
	return audit_done(ctx, rc, "change.reject", object);
}

struct clist_arg {
	cm_change_cb	 cb;
	void		*arg;
	int		 found;
};

static int
clist_cb(void *arg, struct store_row *row)
{
	struct clist_arg *a = arg;
	struct cm_change_info ci;

	ci.id = store_row_int(row, 0);
	ci.type = store_row_text(row, 1);
	ci.object = store_row_text(row, 2);
	ci.state = store_row_text(row, 3);
	ci.created = (time_t)store_row_int(row, 4);
	ci.applied = (time_t)store_row_int(row, 5);
	ci.signers = store_row_text(row, 6);
	ci.document = store_row_text(row, 7);
	ci.digest = store_row_text(row, 8);
	ci.reason = store_row_null(row, 9) ? NULL : store_row_text(row, 9);
	a->found = 1;
	return a->cb(a->arg, &ci);
}

/*
 * Call cb for policy changes: the one with id (when not 0), or those in a
 * state (pending, applied, rejected; NULL: all).
 */
int
cm_change_list(struct cm_ctx *ctx, int64_t id, const char *state,
    cm_change_cb cb, void *arg)
{
	struct clist_arg a = { cb, arg, 0 };
	int rc;

	if (state != NULL && strcmp(state, "pending") != 0 &&
	    strcmp(state, "applied") != 0 && strcmp(state, "rejected") != 0)
		return cm_err(ctx, CM_ERR_INVAL, "change state \"%s\": use "
		    "pending, applied or rejected", state);
	rc = store_query(ctx, "SELECT c.id, c.type, coalesce(c.object, ''), "
	    "c.state, c.created, coalesce(c.applied, 0), coalesce((SELECT "
	    "group_concat(o.name, ', ') FROM change_signatures s JOIN officers o "
	    "ON o.id = s.officer_id WHERE s.change_id = c.id), ''), c.document, "
	    "c.digest, c.reason FROM changes c WHERE (?1 = 0 OR c.id = ?1) AND "
	    "(?2 IS NULL OR c.state = ?2) ORDER BY c.id", clist_cb, &a, "it", id,
	    state);
	if (rc == 0 && id != 0 && !a.found)
		rc = cm_err(ctx, CM_ERR_NOTFOUND, "change %lld not found",
		    (long long)id);
	return rc;
}

struct cverify {
	const struct change_audit *log;
	size_t		 nlog;
	struct cm_ctx	*ctx;
	int		 four_eye;	/* seen a change with two signatures */
	int64_t		 bad;
	int		 rc;
};

static int
cverify_cb(void *arg, struct store_row *row)
{
	struct cverify *v = arg;
	struct sigcheck s;
	char hex[2 * EVP_MAX_MD_SIZE + 1];
	int64_t id = store_row_int(row, 0);
	const char *doc = store_row_text(row, 1);
	char *copy;
	size_t i;
	int rc;

	if ((rc = digest_hex(v->ctx, doc, strlen(doc), hex)) != 0)
		return rc;
	if (strcmp(hex, store_row_text(row, 2)) != 0) {
		v->bad = id;
		return cm_err(v->ctx, CM_ERR_AUDIT, "change %lld: the document "
		    "does not match its digest: the change was edited in the "
		    "CMDB", (long long)id);
	}
	/* The hash-chained log must tell of the change as it is. */
	for (i = 0; i < v->nlog; i++)
		if (v->log[i].id == id)
			break;
	if (i == v->nlog || strcmp(v->log[i].digest, hex) != 0 ||
	    strcmp(v->log[i].policy, store_row_text(row, 4)) != 0) {
		v->bad = id;
		return cm_err(v->ctx, CM_ERR_AUDIT, "change %lld: the audit log "
		    "%s: the change was forged or edited in the CMDB",
		    (long long)id, i == v->nlog ? "has no record of it" :
		    "records another document or policy");
	}
	/* The row is valid only until the next query: keep a copy. */
	if ((copy = cm_strdup(doc)) == NULL)
		return CM_ERR_NOMEM;
	rc = change_sigs(v->ctx, id, copy, 0, &s);
	free(copy);
	if (rc != 0) {
		v->bad = id;
		return rc;
	}
	if (s.n >= 2)
		v->four_eye = 1;
	else if (v->four_eye || v->log[i].four_eye) {
		v->bad = id;
		return cm_err(v->ctx, CM_ERR_AUDIT, "change %lld (%s) was applied "
		    "with %zu officer signature%s after four-eye control began: "
		    "forged or edited in the CMDB", (long long)id,
		    store_row_text(row, 3), s.n, s.n == 1 ? "" : "s");
	}
	return 0;
}

struct last_policy {
	int64_t	id;
	char	digest[2 * EVP_MAX_MD_SIZE + 1];
	int	found;
};

static int
last_policy_cb(void *arg, struct store_row *row)
{
	struct last_policy *l = arg;

	l->id = store_row_int(row, 0);
	snprintf(l->digest, sizeof(l->digest), "%s", store_row_text(row, 1));
	l->found = 1;
	return 1;
}

/* The policy in the CMDB must be the one the last applied change left. */
static int
policy_verify(struct cm_ctx *ctx, int64_t *bad)
{
	struct last_policy l;
	char now[2 * EVP_MAX_MD_SIZE + 1];
	int rc;

	memset(&l, 0, sizeof(l));
	rc = store_query(ctx, "SELECT id, coalesce(policy_digest, '') FROM "
	    "changes WHERE state = 'applied' ORDER BY id DESC LIMIT 1",
	    last_policy_cb, &l, NULL);
	if (rc != 0 || !l.found)
		return rc;
	if ((rc = policy_digest(ctx, now)) != 0)
		return rc;
	if (strcmp(now, l.digest) != 0) {
		*bad = l.id;
		return cm_err(ctx, CM_ERR_AUDIT, "the policy in the CMDB is not "
		    "what change %lld left (policy sha256:%s, now %s): it was "
		    "edited outside opencm", (long long)l.id, l.digest, now);
	}
	return 0;
}

/*
 * Verify every applied policy change: its document against its digest, and
 * every officer signature over it.  Every change applied after the one
 * that made the second officer who may administer policy, and after any
 * change with two signatures, must carry two.  Returns 0, or CM_ERR_AUDIT
 * naming the first bad change (its id in *bad).
 */
int
change_verify_all(struct cm_ctx *ctx, const struct change_audit *log,
    size_t nlog, int64_t *bad)
{
	struct cverify v;
	int rc;

	memset(&v, 0, sizeof(v));
	v.ctx = ctx;
	v.log = log;
	v.nlog = nlog;
	*bad = 0;
	/*
	 * Whether a change needed two signatures is in its hash-chained audit
	 * record (CHANGE_FOUR_EYE), and once one change carried two, every
	 * later one must.
	 */
	rc = store_query(ctx, "SELECT id, document, digest, type, "
	    "coalesce(policy_digest, '') FROM changes WHERE state = 'applied' "
	    "ORDER BY id", cverify_cb, &v, NULL);
	*bad = v.bad;
	if (rc != 0)
		return rc;
	return policy_verify(ctx, bad);
}
