/*
 * dn.c: distinguished names as strings.  "C=SE,O=Example,CN=Officer CA"
 * lists the RDNs in the order they are encoded (most significant first),
 * with the escapes of RFC 4514 section 2.4 and '+' joining the attributes
 * of a multi-valued RDN.  Values are UTF-8.
 */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include "extern.h"

/* An attribute type, its short name in any case (RFC 4514 2.3). */
static int
attr_nid(const char *type)
{
	char up[16];
	size_t i;
	int nid;

	if (strcasecmp(type, "E") == 0 || strcasecmp(type, "email") == 0)
		return NID_pkcs9_emailAddress;
	if (strcasecmp(type, "S") == 0)
		return NID_stateOrProvinceName;
	if ((nid = OBJ_txt2nid(type)) != NID_undef || strlen(type) >= sizeof(up))
		return nid;
	for (i = 0; type[i] != '\0'; i++)
		up[i] = (char)toupper((unsigned char)type[i]);
	up[i] = '\0';
	return OBJ_txt2nid(up);
}

/*
 * Parse a DN string.  Returns 0 and *out (caller frees with X509_NAME_free)
 * or CM_ERR_INVAL with a message that quotes the DN and names the fault.
 */
int
dn_parse(struct cm_ctx *ctx, const char *s, X509_NAME **out)
{
	X509_NAME *name = NULL;
	char *type = NULL, *value = NULL;
	size_t tl, vl, len;
	const char *p;
	int nid, set = 0, hi, lo, rc = CM_ERR_INVAL, in_value, esc_end;

	*out = NULL;
	if (s == NULL || *s == '\0')
		return cm_err(ctx, CM_ERR_INVAL, "subject: a distinguished name "
		    "is required, as in C=SE,O=Example,CN=Name");
	len = strlen(s);
	if ((name = X509_NAME_new()) == NULL || (type = malloc(len + 1)) ==
	    NULL || (value = malloc(len + 1)) == NULL) {
		rc = CM_ERR_NOMEM;
		goto out;
	}
	p = s;
	while (*p != '\0') {
		tl = vl = 0;
		in_value = 0;
		esc_end = 0;
		while (*p == ' ')
			p++;
		for (; *p != '\0'; p++) {
			if (!in_value) {
				if (*p == '=') {
					in_value = 1;
					while (p[1] == ' ')
						p++;
					continue;
				}
				if (*p == ',' || *p == '+')
					break;
				type[tl++] = *p;
				continue;
			}
			if (*p == ',' || *p == '+')
				break;
			if (*p == '\\') {
				p++;
				if (*p == '\0')
					goto bad_escape;
				if ((hi = cm_hexval(p[0])) >= 0 &&
				    (lo = cm_hexval(p[1])) >= 0) {
					value[vl++] = (char)(hi << 4 | lo);
					p++;
				} else if (strchr(",+=\\\"<>;# ", *p) != NULL)
					value[vl++] = *p;
				else
					goto bad_escape;
				esc_end = (int)vl;
				continue;
			}
			value[vl++] = *p;
		}
		while (tl > 0 && type[tl - 1] == ' ')
			tl--;
		while (vl > (size_t)esc_end && value[vl - 1] == ' ')
			vl--;
		type[tl] = '\0';
		value[vl] = '\0';
		if (!in_value || tl == 0) {
			rc = cm_err(ctx, CM_ERR_INVAL, "subject \"%s\": expected "
			    "TYPE=value, as in CN=Name", s);
			goto out;
		}
		if (vl == 0) {
			rc = cm_err(ctx, CM_ERR_INVAL, "subject \"%s\": %s has "
			    "an empty value", s, type);
			goto out;
		}
		if ((nid = attr_nid(type)) == NID_undef) {
			rc = cm_err(ctx, CM_ERR_INVAL, "subject \"%s\": unknown "
			    "attribute type \"%s\"", s, type);
			goto out;
		}
		if (!X509_NAME_add_entry_by_NID(name, nid, MBSTRING_UTF8,
		    (unsigned char *)value, (int)vl, -1, set)) {
			rc = cm_err_ssl(ctx, CM_ERR_INVAL, "subject \"%s\": "
			    "value of %s not allowed", s, type);
			goto out;
		}
		set = 0;
		if (*p == '+')
			set = -1;
		if (*p != '\0') {
			p++;
			if (*p == '\0') {
				rc = cm_err(ctx, CM_ERR_INVAL, "subject \"%s\": "
				    "ends with a separator", s);
				goto out;
			}
		}
	}
	*out = name;
	name = NULL;
	rc = 0;
	goto out;
bad_escape:
	rc = cm_err(ctx, CM_ERR_INVAL, "subject \"%s\": bad escape after "
	    "a backslash (RFC 4514 section 2.4)", s);
out:
	free(type);
	free(value);
	X509_NAME_free(name);
	return rc;
}

static int
append(char **buf, size_t *len, size_t *cap, const char *s, size_t n)
{
	char *nb;

	if (*len + n + 1 > *cap) {
		*cap = (*len + n + 1) * 2;
		if ((nb = realloc(*buf, *cap)) == NULL)
			return -1;
		*buf = nb;
	}
	memcpy(*buf + *len, s, n);
	*len += n;
	(*buf)[*len] = '\0';
	return 0;
}

/*
 * Format a name as a DN string in encoding order.  Returns a string the
 * caller frees, or NULL when out of memory.
 */
char *
dn_format(const X509_NAME *name)
{
	const X509_NAME_ENTRY *e;
	const ASN1_OBJECT *obj;
	unsigned char *u = NULL;
	char *buf = NULL, oid[80], hex[4];
	const char *sn;
	size_t len = 0, cap = 0, j;
	int i, n, ulen, prevset = -1, nid;

	if (append(&buf, &len, &cap, "", 0) == -1)
		return NULL;
	n = X509_NAME_entry_count(name);
	for (i = 0; i < n; i++) {
		e = X509_NAME_get_entry(name, i);
		if (i > 0 && append(&buf, &len, &cap,
		    X509_NAME_ENTRY_set(e) == prevset ? "+" : ",", 1) == -1)
			goto fail;
		prevset = X509_NAME_ENTRY_set(e);
		obj = X509_NAME_ENTRY_get_object(e);
		nid = OBJ_obj2nid(obj);
		sn = nid != NID_undef ? OBJ_nid2sn(nid) : NULL;
		if (nid == NID_pkcs9_emailAddress)
			sn = "emailAddress";
		if (sn == NULL) {
			OBJ_obj2txt(oid, sizeof(oid), obj, 1);
			sn = oid;
		}
		if (append(&buf, &len, &cap, sn, strlen(sn)) == -1 ||
		    append(&buf, &len, &cap, "=", 1) == -1)
			goto fail;
		ulen = ASN1_STRING_to_UTF8(&u,
		    X509_NAME_ENTRY_get_data(e));
		if (ulen < 0)
			goto fail;
		for (j = 0; j < (size_t)ulen; j++) {
			if (u[j] < 0x20 || u[j] == 0x7f) {
				snprintf(hex, sizeof(hex), "\\%02X", u[j]);
				if (append(&buf, &len, &cap, hex, 3) == -1)
					goto fail;
				continue;
			}
			if (strchr(",+=\\\"<>;", u[j]) != NULL ||
			    (j == 0 && (u[j] == '#' || u[j] == ' ')) ||
			    (j == (size_t)ulen - 1 && u[j] == ' '))
				if (append(&buf, &len, &cap, "\\", 1) == -1)
					goto fail;
			if (append(&buf, &len, &cap, (char *)&u[j], 1) == -1)
				goto fail;
		}
		OPENSSL_free(u);
		u = NULL;
	}
	return buf;
fail:
	OPENSSL_free(u);
	free(buf);
	return NULL;
}

/* Check a DN for a form's inline validation: 0 or CM_ERR_INVAL. */
int
cm_dn_check(struct cm_ctx *ctx, const char *s)
{
	X509_NAME *name;
	int rc;

	if ((rc = dn_parse(ctx, s, &name)) == 0)
		X509_NAME_free(name);
	return rc;
}
