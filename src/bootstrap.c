/*
 * bootstrap.c: the start of a new PKI.  On a new CMDB, make the Boot CA
 * and the two bootstrap officers, whose PKCS#12 tokens form the boot kit.
 * The bootstrap officers sign policy changes only together (two-step
 * signing is off for them); with them the real officers and CAs are made,
 * after which the Boot CA is revoked and its key removed.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "extern.h"

#define BOOT_KEY	"Boot CA key"
#define BOOT_CA		"Boot CA"
#define BOOT_CERTS	"Boot officer certificates"
#define BOOT_TOKENS	"Boot officer tokens"
#define BOOT_PROFILE	"Bootstrap officers"

static int
count(struct cm_ctx *ctx, const char *sql, int64_t *n)
{
	return store_int(ctx, n, sql, NULL);
}

/*
 * Bootstrap a new CMDB: it must hold no CA, no officer and no policy yet.
 * org is the start of the names, most significant first (as
 * "C=SE,O=Example"), or NULL.
 * On success out[0] and out[1] hold the two bootstrap officers' tokens and
 * PINs (clear them with cm_token_issued_clear).  Returns 0 or a CM_ERR_*.
 */
int
cm_bootstrap(struct cm_ctx *ctx, const char *org, struct cm_token_issued *out)
{
	struct cm_key_req kr = { BOOT_KEY, "ec:p384", NULL };
	struct cm_ca_req cr;
	struct cm_cert_procedure_req pr;
	struct cm_token_procedure_req tr;
	struct cm_officer_profile_req opr = { BOOT_PROFILE,
	    "policy,issue,revoke,recover,audit" };
	struct cm_subject_req sr;
	struct cm_token_req tk;
	struct cm_officer_req orq;
	const char *cps[] = { BOOT_CERTS };
	char dn[512], name[64], *pem = NULL;
	X509_NAME *check = NULL;
	int64_t n, sid;
	size_t i, len;
	int rc;

	memset(out, 0, 2 * sizeof(*out));
	/* Refuse a bad name before anything is written. */
	snprintf(dn, sizeof(dn), "%s%sCN=Boot CA", org != NULL ? org : "",
	    org != NULL ? "," : "");
	if ((rc = dn_parse(ctx, dn, &check)) != 0) {
		cm_err_prefix(ctx, "bootstrap");
		return rc;
	}
	X509_NAME_free(check);
	if ((rc = count(ctx, "SELECT count(*) FROM changes", &n)) != 0)
		return rc;
	if (n != 0 || (rc = count(ctx, "SELECT count(*) FROM subjects", &n)) !=
	    0 || n != 0)
		return rc != 0 ? rc : cm_err(ctx, CM_ERR_POLICY, "bootstrap: "
		    "the CMDB %s already holds policy; a bootstrap starts from "
		    "a new CMDB (cmctl init)", ctx->db_path);
	if ((rc = cm_key_create(ctx, &kr)) != 0)
		goto out;
	memset(&cr, 0, sizeof(cr));
	snprintf(dn, sizeof(dn), "%s%sCN=Boot CA", org != NULL ? org : "",
	    org != NULL ? "," : "");
	cr.name = BOOT_CA;
	cr.key = BOOT_KEY;
	cr.subject = dn;
	cr.validity = "1y";
	cr.pathlen = 0;
	if ((rc = cm_ca_create(ctx, &cr)) != 0)
		goto out;
	memset(&pr, 0, sizeof(pr));
	pr.name = BOOT_CERTS;
	pr.ca = BOOT_CA;
	pr.format = "client";
	pr.validity = "1y";
	pr.allow_keys = "ec:p256";
	if ((rc = cm_cert_procedure_create(ctx, &pr)) != 0)
		goto out;
	memset(&tr, 0, sizeof(tr));
	tr.name = BOOT_TOKENS;
	tr.storage = "pkcs12";
	tr.issuer_certs = "ca";
	tr.key_type = "ec:p256";
	tr.cert_procedures = cps;
	tr.ncert_procedures = 1;
	if ((rc = cm_token_procedure_create(ctx, &tr)) != 0 ||
	    (rc = cm_officer_profile_create(ctx, &opr)) != 0)
		goto out;
	for (i = 0; i < 2; i++) {
		snprintf(dn, sizeof(dn), "%s%sCN=Bootstrap officer %zu",
		    org != NULL ? org : "", org != NULL ? "," : "", i + 1);
		memset(&sr, 0, sizeof(sr));
		sr.dn = dn;
		if ((rc = cm_subject_register(ctx, &sr, &sid)) != 0)
			goto out;
		memset(&tk, 0, sizeof(tk));
		tk.procedure = BOOT_TOKENS;
		tk.subject = dn;
		if ((rc = cm_token_issue(ctx, &tk, &out[i])) != 0)
			goto out;
	}
	/* Both officers are made last: until then no officer is needed. */
	for (i = 0; i < 2; i++) {
		if ((rc = token_cert_pem(ctx, out[i].id, &pem, &len)) != 0)
			goto out;
		snprintf(name, sizeof(name), "Bootstrap officer %zu", i + 1);
		memset(&orq, 0, sizeof(orq));
		orq.name = name;
		orq.profile = BOOT_PROFILE;
		orq.cert = (unsigned char *)pem;
		orq.cert_len = len;
		orq.no_two_step = 1;
		rc = cm_officer_create(ctx, &orq);
		free(pem);
		pem = NULL;
		if (rc != 0)
			goto out;
	}
out:
	if (rc != 0) {
		cm_token_issued_clear(&out[0]);
		cm_token_issued_clear(&out[1]);
		cm_err_prefix(ctx, "bootstrap");
	}
	return rc;
}
