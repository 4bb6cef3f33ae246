/*
 * format.c: certificate formats, as one declarative table.  A format
 * sets the key usage and extended key usage a certificate procedure starts
 * from and may narrow, and the rules for subjectAltName.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/objects.h>

#include "extern.h"

#define KU_ALL	"digitalSignature,nonRepudiation,keyEncipherment," \
		"dataEncipherment,keyAgreement,keyCertSign,cRLSign"

struct format {
	const char	*name;
	const char	*ku;		/* default key usage */
	const char	*ku_allowed;
	const char	*eku;		/* default extended key usage */
	const char	*eku_allowed;	/* NULL: any */
	int		 is_ca;
	int		 san_rule;
	int		 ocsp_nocheck;
};

static const struct format formats[] = {
	{ "rfc5280", "", KU_ALL, "", NULL, 0, SAN_RULE_NONE, 0 },
	{ "server", "digitalSignature,keyEncipherment",
	    "digitalSignature,keyEncipherment,keyAgreement",
	    "serverAuth", "serverAuth,clientAuth", 0, SAN_RULE_HOST, 0 },
	{ "client", "digitalSignature",
	    "digitalSignature,nonRepudiation,keyEncipherment,keyAgreement",
	    "clientAuth", "clientAuth,emailProtection", 0, SAN_RULE_NONE, 0 },
	{ "email", "digitalSignature,keyEncipherment",
	    "digitalSignature,nonRepudiation,keyEncipherment,"
	    "dataEncipherment,keyAgreement",
	    "emailProtection", "emailProtection,clientAuth", 0,
	    SAN_RULE_EMAIL, 0 },
	{ "ca", "keyCertSign,cRLSign", "digitalSignature,keyCertSign,cRLSign",
	    "", NULL, 1, SAN_RULE_NONE, 0 },
	{ "ocsp-signing", "digitalSignature",
	    "digitalSignature,nonRepudiation", "OCSPSigning", "OCSPSigning",
	    0, SAN_RULE_NONE, 1 },
	{ "code-signing", "digitalSignature",
	    "digitalSignature,nonRepudiation", "codeSigning", "codeSigning",
	    0, SAN_RULE_NONE, 0 },
	{ "estenroll", "digitalSignature,keyEncipherment",
	    "digitalSignature,keyEncipherment,keyAgreement",
	    "clientAuth,serverAuth", "clientAuth,serverAuth", 0,
	    SAN_RULE_HOST, 0 },
	{ NULL, NULL, NULL, NULL, NULL, 0, 0, 0 }
};

static const char *const eku_names[] = {
	"serverAuth", "clientAuth", "emailProtection", "codeSigning",
	"timeStamping", "OCSPSigning", NULL
};

/* The names of all formats, NULL-terminated. */
const char *const *
cm_formats(void)
{
	static const char *names[sizeof(formats) / sizeof(formats[0])];
	size_t i;

	for (i = 0; formats[i].name != NULL; i++)
		names[i] = formats[i].name;
	names[i] = NULL;
	return names;
}

const struct format *
format_find(const char *name)
{
	const struct format *f;

	for (f = formats; name != NULL && f->name != NULL; f++)
		if (strcmp(f->name, name) == 0)
			return f;
	return NULL;
}

int
format_is_ca(const struct format *f)
{
	return f->is_ca;
}

int
format_san_rule(const struct format *f)
{
	return f->san_rule;
}

int
format_ocsp_nocheck(const struct format *f)
{
	return f->ocsp_nocheck;
}

const char *
format_ku(const struct format *f)
{
	return f->ku;
}

const char *
format_eku(const struct format *f)
{
	return f->eku;
}

static int
eku_valid(const char *e)
{
	size_t i;
	ASN1_OBJECT *o;

	for (i = 0; eku_names[i] != NULL; i++)
		if (strcmp(eku_names[i], e) == 0)
			return 1;
	/* A dotted OID. */
	if (strspn(e, "0123456789.") != strlen(e))
		return 0;
	if ((o = OBJ_txt2obj(e, 1)) == NULL)
		return 0;
	ASN1_OBJECT_free(o);
	return 1;
}

/*
 * Check that a procedure's key usage and extended key usage (comma lists)
 * are names this program knows and narrow what format f allows.  Returns 0
 * or CM_ERR_POLICY/CM_ERR_INVAL naming the procedure and the item.
 */
int
format_check(struct cm_ctx *ctx, const struct format *f, const char *proc,
    const char *ku, const char *eku)
{
	char **v = NULL;
	size_t n = 0, i;
	int rc = 0;

	if ((rc = cm_split(ku, ',', &v, &n)) != 0)
		return rc;
	for (i = 0; i < n; i++) {
		if (!cm_list_has(KU_ALL, v[i])) {
			rc = cm_err(ctx, CM_ERR_INVAL, "certificate procedure "
			    "\"%s\": unknown key usage \"%s\" (%s)", proc, v[i],
			    KU_ALL);
			goto out;
		}
		if (!cm_list_has(f->ku_allowed, v[i])) {
			rc = cm_err(ctx, CM_ERR_POLICY, "certificate procedure "
			    "\"%s\": key usage %s is not allowed by format %s "
			    "(allowed: %s)", proc, v[i], f->name,
			    f->ku_allowed);
			goto out;
		}
	}
	cm_split_free(v, n);
	v = NULL;
	if ((rc = cm_split(eku, ',', &v, &n)) != 0)
		return rc;
	for (i = 0; i < n; i++) {
		if (!eku_valid(v[i])) {
			rc = cm_err(ctx, CM_ERR_INVAL, "certificate procedure "
			    "\"%s\": unknown extended key usage \"%s\"", proc,
			    v[i]);
			goto out;
		}
		if (f->eku_allowed != NULL &&
		    !cm_list_has(f->eku_allowed, v[i])) {
			rc = cm_err(ctx, CM_ERR_POLICY, "certificate procedure "
			    "\"%s\": extended key usage %s is not allowed by "
			    "format %s (allowed: %s)", proc, v[i], f->name,
			    f->eku_allowed);
			goto out;
		}
	}
out:
	cm_split_free(v, n);
	return rc;
}
