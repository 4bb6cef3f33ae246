/*
 * test-dn.c: dn_parse and dn_format.  Names keep the order in which they
 * are written, escapes and multi-valued RDNs survive a round trip, values
 * stay UTF-8, and every malformed DN is refused with CM_ERR_INVAL and a
 * message that quotes it.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include "extern.h"

static struct cm_ctx *ctx;

static X509_NAME *
parse(const char *s)
{
	X509_NAME *n = NULL;
	int rc;

	ctx->errmsg[0] = '\0';
	rc = dn_parse(ctx, s, &n);
	if (rc != 0)
		fail_msg("dn_parse(\"%s\") = %d: %s", s, rc,
		    cm_ctx_errmsg(ctx));
	assert_non_null(n);
	return n;
}

/* s parses and formats back to itself. */
static void
round_trip(const char *s)
{
	X509_NAME *n = parse(s);
	char *f;

	assert_non_null(f = dn_format(n));
	assert_string_equal(f, s);
	free(f);
	X509_NAME_free(n);
}

/* Entry i of n: its nid, its value as UTF-8 and its RDN (set). */
static void
entry_is(const X509_NAME *n, int i, int nid, const char *value, int set)
{
	const X509_NAME_ENTRY *e;
	unsigned char *u = NULL;
	int len;

	assert_non_null(e = X509_NAME_get_entry(n, i));
	assert_int_equal(OBJ_obj2nid(X509_NAME_ENTRY_get_object(e)), nid);
	assert_true((len = ASN1_STRING_to_UTF8(&u,
	    X509_NAME_ENTRY_get_data(e))) >= 0);
	assert_int_equal((size_t)len, strlen(value));
	assert_memory_equal(u, value, (size_t)len);
	OPENSSL_free(u);
	assert_int_equal(X509_NAME_ENTRY_set(e), set);
}

static void
test_order(void **state)
{
	const char *s = "C=SE,O=Example,CN=Officer and system CA";
	X509_NAME *n = parse(s), *d;
	unsigned char *der = NULL;
	const unsigned char *p;
	int len;

	(void)state;
	assert_int_equal(X509_NAME_entry_count(n), 3);
	entry_is(n, 0, NID_countryName, "SE", 0);
	entry_is(n, 1, NID_organizationName, "Example", 1);
	entry_is(n, 2, NID_commonName, "Officer and system CA", 2);
	/* The encoding, not only the structure, starts with C. */
	assert_true((len = i2d_X509_NAME(n, &der)) > 0);
	p = der;
	assert_non_null(d = d2i_X509_NAME(NULL, &p, len));
	entry_is(d, 0, NID_countryName, "SE", 0);
	entry_is(d, 2, NID_commonName, "Officer and system CA", 2);
	X509_NAME_free(d);
	OPENSSL_free(der);
	X509_NAME_free(n);
	round_trip(s);
}

static void
test_escapes(void **state)
{
	X509_NAME *n;

	(void)state;
	n = parse("CN=a\\,b");
	assert_int_equal(X509_NAME_entry_count(n), 1);
	entry_is(n, 0, NID_commonName, "a,b", 0);
	X509_NAME_free(n);
	round_trip("CN=a\\,b");

	n = parse("CN=a\\+b");
	assert_int_equal(X509_NAME_entry_count(n), 1);
	entry_is(n, 0, NID_commonName, "a+b", 0);
	X509_NAME_free(n);
	round_trip("CN=a\\+b");

	/* Hex pairs, and escaped spaces that are not trimmed. */
	n = parse("CN=\\41\\42, O = x ");
	entry_is(n, 0, NID_commonName, "AB", 0);
	entry_is(n, 1, NID_organizationName, "x", 1);
	X509_NAME_free(n);
	round_trip("CN=\\ a\\ ");
	round_trip("CN=\\#1");
	round_trip("CN=q\\\"\\\\\\<\\>\\;");
}

static void
test_multi_valued(void **state)
{
	X509_NAME *n = parse("CN=x+UID=y");

	(void)state;
	assert_int_equal(X509_NAME_entry_count(n), 2);
	entry_is(n, 0, NID_commonName, "x", 0);
	entry_is(n, 1, NID_userId, "y", 0);
	X509_NAME_free(n);
	round_trip("CN=x+UID=y");

	n = parse("C=SE,CN=x+UID=y,O=z");
	entry_is(n, 0, NID_countryName, "SE", 0);
	entry_is(n, 1, NID_commonName, "x", 1);
	entry_is(n, 2, NID_userId, "y", 1);
	entry_is(n, 3, NID_organizationName, "z", 2);
	X509_NAME_free(n);
	round_trip("C=SE,CN=x+UID=y,O=z");
}

static void
test_utf8(void **state)
{
	/* "CN=Åsa Öberg" */
	const char *s = "CN=\xc3\x85sa \xc3\x96" "berg";
	const X509_NAME_ENTRY *e;
	X509_NAME *n = parse(s);

	(void)state;
	e = X509_NAME_get_entry(n, 0);
	assert_int_equal(ASN1_STRING_type(X509_NAME_ENTRY_get_data(e)),
	    V_ASN1_UTF8STRING);
	assert_int_equal(ASN1_STRING_length(X509_NAME_ENTRY_get_data(e)), 11);
	assert_memory_equal(ASN1_STRING_get0_data(X509_NAME_ENTRY_get_data(e)),
	    s + 3, 11);
	X509_NAME_free(n);
	round_trip(s);
}

static void
test_email(void **state)
{
	X509_NAME *n = parse("CN=x,E=a@example.com");

	(void)state;
	entry_is(n, 1, NID_pkcs9_emailAddress, "a@example.com", 1);
	X509_NAME_free(n);
	round_trip("CN=x,emailAddress=a@example.com");
}

/* s is refused with CM_ERR_INVAL and a message that quotes it. */
static void
refused(const char *s)
{
	X509_NAME *n = (X509_NAME *)1;
	char quoted[256];

	ctx->errmsg[0] = '\0';
	assert_int_equal(dn_parse(ctx, s, &n), CM_ERR_INVAL);
	assert_null(n);
	snprintf(quoted, sizeof(quoted), "\"%s\"", s);
	if (strstr(cm_ctx_errmsg(ctx), quoted) == NULL)
		fail_msg("message \"%s\" does not quote %s", cm_ctx_errmsg(ctx),
		    quoted);
}

static void
test_errors(void **state)
{
	X509_NAME *n = (X509_NAME *)1;

	(void)state;
	/* Nothing to quote: the message says what is wanted instead. */
	assert_int_equal(dn_parse(ctx, "", &n), CM_ERR_INVAL);
	assert_null(n);
	assert_non_null(strstr(cm_ctx_errmsg(ctx), "distinguished name"));
	n = (X509_NAME *)1;
	assert_int_equal(dn_parse(ctx, NULL, &n), CM_ERR_INVAL);
	assert_null(n);

	refused("CN");
	refused("=x");
	refused("CN=");
	refused("XX=1");
	refused("C=SWE");
	refused("CN=a,");
	refused("CN=a+");
	refused("CN=a,,O=b");
	refused("CN=a\\q");
	refused("CN=a\\");
	refused("CN=a\\4");
	/* Hex escapes must still make UTF-8. */
	refused("CN=\\ff");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order),
		cmocka_unit_test(test_escapes),
		cmocka_unit_test(test_multi_valued),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_email),
		cmocka_unit_test(test_errors),
	};
	int rc;

	if (cm_ctx_new(&ctx) != 0)
		return 1;
	rc = cmocka_run_group_tests_name("dn", tests, NULL, NULL);
	cm_ctx_free(ctx);
	return rc;
}
