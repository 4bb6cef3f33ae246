/*
 * test-util.c: durations, times, lists (util.c) and serial numbers and
 * times of certificates (x509.c).
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/asn1.h>

#include "extern.h"

static struct cm_ctx *ctx;

/* A UTC calendar time, computed rather than written as a number. */
static time_t
utc(int y, int mon, int d, int h, int min, int s)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mon - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = min;
	tm.tm_sec = s;
	return timegm(&tm);
}

static void
test_duration_seconds(void **state)
{
	(void)state;
	assert_int_equal(cm_duration_seconds("24h"), 86400);
	assert_int_equal(cm_duration_seconds("0"), 0);
	assert_int_equal(cm_duration_seconds("90s"), 90);
	assert_int_equal(cm_duration_seconds("5m"), 300);
	assert_int_equal(cm_duration_seconds("1w"), 7 * 86400);
	assert_int_equal(cm_duration_seconds("365d"), 365L * 86400);
	assert_int_equal(cm_duration_seconds("1y"), 365L * 86400);
	assert_int_equal(cm_duration_seconds("5x"), -1);
	assert_int_equal(cm_duration_seconds(""), -1);
	assert_int_equal(cm_duration_seconds("h"), -1);
	assert_int_equal(cm_duration_seconds("-1d"), -1);
	assert_int_equal(cm_duration_seconds("10"), -1);
	assert_int_equal(cm_duration_seconds("1d2"), -1);
	assert_int_equal(cm_duration_seconds("1dd"), -1);
	assert_int_equal(cm_duration_seconds(" 1d"), -1);
	assert_int_equal(cm_duration_seconds("999999999999d"), -1);
	assert_int_equal(cm_duration_seconds(NULL), -1);
}

static void
test_time_add(void **state)
{
	time_t t = utc(2024, 2, 29, 12, 0, 0);

	(void)state;
	/* Calendar years: 2025-02-29 does not exist and rolls over. */
	assert_int_equal(cm_time_add(t, "1y"), utc(2025, 3, 1, 12, 0, 0));
	assert_int_equal(cm_time_add(t, "4y"), utc(2028, 2, 29, 12, 0, 0));
	/* A calendar year across a leap day has 366 days. */
	assert_int_equal(cm_time_add(utc(2023, 6, 1, 0, 0, 0), "1y"),
	    utc(2024, 6, 1, 0, 0, 0));
	assert_int_equal(cm_time_add(t, "1d"), utc(2024, 3, 1, 12, 0, 0));
	assert_int_equal(cm_time_add(t, "0"), t);
	assert_int_equal(cm_time_add(t, "1x"), (time_t)-1);
	assert_int_equal(cm_time_add(t, "1001y"), (time_t)-1);
}

static void
test_duration_parse(void **state)
{
	time_t t;

	(void)state;
	assert_int_equal(cm_duration_parse(ctx, "validity", "2d", 1000, &t),
	    0);
	assert_int_equal(t, 1000 + 2 * 86400);
	assert_int_equal(cm_duration_parse(ctx, "validity", "0", 1000, &t),
	    CM_ERR_INVAL);
	assert_int_equal(t, 0);
	assert_non_null(strstr(cm_ctx_errmsg(ctx), "validity \"0\""));
	assert_int_equal(cm_duration_parse(ctx, "validity", "soon", 1000, &t),
	    CM_ERR_INVAL);
}

static void
test_time_parse(void **state)
{
	time_t t;

	(void)state;
	assert_int_equal(cm_time_parse(ctx, "date", "2026-11-23", &t), 0);
	assert_int_equal(t, utc(2026, 11, 23, 0, 0, 0));
	assert_int_equal(cm_time_parse(ctx, "date", "2026-11-23T12:00:00Z",
	    &t), 0);
	assert_int_equal(t, utc(2026, 11, 23, 12, 0, 0));
	assert_int_equal(cm_time_parse(ctx, "date", "2026-11-23T12:00:01",
	    &t), 0);
	assert_int_equal(t, utc(2026, 11, 23, 12, 0, 1));
	assert_int_equal(cm_time_parse(ctx, "date", "@0", &t), 0);
	assert_int_equal(t, 0);
	assert_int_equal(cm_time_parse(ctx, "date", "@1795392000", &t), 0);
	assert_int_equal(t, 1795392000);

	t = 1;
	assert_int_equal(cm_time_parse(ctx, "date", "2026-13-01", &t),
	    CM_ERR_INVAL);
	assert_int_equal(t, 0);
	assert_non_null(strstr(cm_ctx_errmsg(ctx), "date \"2026-13-01\""));
	assert_int_equal(cm_time_parse(ctx, "date", "yesterday", &t),
	    CM_ERR_INVAL);
	assert_non_null(strstr(cm_ctx_errmsg(ctx), "\"yesterday\""));
	assert_int_equal(cm_time_parse(ctx, "date", "2026-11-23T25:00:00Z",
	    &t), CM_ERR_INVAL);
	assert_int_equal(cm_time_parse(ctx, "date", "2026-11-23Zx", &t),
	    CM_ERR_INVAL);
	assert_int_equal(cm_time_parse(ctx, "date", "@", &t), CM_ERR_INVAL);
	assert_int_equal(cm_time_parse(ctx, "date", "@-1", &t), CM_ERR_INVAL);
	assert_int_equal(cm_time_parse(ctx, "date", "@1x", &t), CM_ERR_INVAL);
	assert_int_equal(cm_time_parse(ctx, "date", "", &t), CM_ERR_INVAL);
	assert_int_equal(cm_time_parse(ctx, "date", NULL, &t), CM_ERR_INVAL);
}

static void
test_time_format(void **state)
{
	char buf[32];
	time_t t;

	(void)state;
	cm_time_format(0, buf, sizeof(buf));
	assert_string_equal(buf, "1970-01-01T00:00:00Z");
	cm_time_format(utc(2026, 11, 23, 12, 34, 56), buf, sizeof(buf));
	assert_string_equal(buf, "2026-11-23T12:34:56Z");
	/* What it formats, cm_time_parse reads back. */
	assert_int_equal(cm_time_parse(ctx, "date", buf, &t), 0);
	assert_int_equal(t, utc(2026, 11, 23, 12, 34, 56));
	cm_time_format(utc(2050, 1, 1, 0, 0, 0), buf, sizeof(buf));
	assert_string_equal(buf, "2050-01-01T00:00:00Z");
}

static void
norm_is(const char *in, const char *want)
{
	char out[130];

	memset(out, 'z', sizeof(out));
	if (x509_serial_norm(in, out, sizeof(out)) != 0)
		fail_msg("x509_serial_norm(\"%s\") refused it", in);
	assert_string_equal(out, want);
}

static void
test_serial_norm(void **state)
{
	char out[130];

	(void)state;
	norm_is("00:AB:CD", "ABCD");
	norm_is("abc", "0ABC");
	norm_is("0x7f", "7F");
	norm_is("0X7F", "7F");
	norm_is("ab cd ef", "ABCDEF");
	norm_is("0001", "01");
	norm_is("00001", "01");
	norm_is("00:80", "80");
	norm_is("0", "00");
	norm_is("000", "00");
	norm_is("4F0102030405060708090A0B0C0D0EFF",
	    "4F0102030405060708090A0B0C0D0EFF");
	assert_int_equal(x509_serial_norm("xyz", out, sizeof(out)), -1);
	assert_int_equal(x509_serial_norm("", out, sizeof(out)), -1);
	assert_int_equal(x509_serial_norm("0x", out, sizeof(out)), -1);
	assert_int_equal(x509_serial_norm("12-34", out, sizeof(out)), -1);
	assert_int_equal(x509_serial_norm(NULL, out, sizeof(out)), -1);
	/* Too long for the buffer is refused, not cut. */
	assert_int_equal(x509_serial_norm("ABCDEF", out, 4), -1);
}

static void
test_split(void **state)
{
	char **v;
	size_t n;

	(void)state;
	assert_int_equal(cm_split("a, b,,c", ',', &v, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(v[0], "a");
	assert_string_equal(v[1], "b");
	assert_string_equal(v[2], "c");
	cm_split_free(v, n);

	assert_int_equal(cm_split("\t one two \n", '\n', &v, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(v[0], "one two");
	cm_split_free(v, n);

	assert_int_equal(cm_split(" , ,", ',', &v, &n), 0);
	assert_int_equal(n, 0);
	cm_split_free(v, n);
	assert_int_equal(cm_split(NULL, ',', &v, &n), 0);
	assert_int_equal(n, 0);
	assert_null(v);
}

static void
test_list_has(void **state)
{
	(void)state;
	assert_true(cm_list_has("digitalSignature,keyCertSign",
	    "keyCertSign"));
	assert_true(cm_list_has("digitalSignature,keyCertSign",
	    "digitalSignature"));
	assert_true(cm_list_has("a", "a"));
	assert_false(cm_list_has("digitalSignature,keyCertSign", "key"));
	assert_false(cm_list_has("digitalSignature,keyCertSign", "Sign"));
	assert_false(cm_list_has("ab,c", "a"));
	assert_false(cm_list_has("", "a"));
	assert_false(cm_list_has(NULL, "a"));
}

static int
hexcmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

static void
test_serial_new(void **state)
{
	ASN1_INTEGER *ai;
	char (*hex)[33];
	char h[33];
	const unsigned char *d;
	int i, j;

	(void)state;
	assert_non_null(hex = calloc(1000, sizeof(*hex)));
	for (i = 0; i < 1000; i++) {
		assert_int_equal(x509_serial_new(ctx, &ai, hex[i]), 0);
		assert_int_equal(ASN1_STRING_type(ai), V_ASN1_INTEGER);
		assert_int_equal(ASN1_STRING_length(ai), 16);
		d = ASN1_STRING_get0_data(ai);
		assert_in_range(d[0], 0x01, 0x7f);
		assert_int_equal(strlen(hex[i]), 32);
		/* The hex is the serial's, as x509_serial_hex reads it. */
		x509_serial_hex(ai, h, sizeof(h));
		assert_string_equal(h, hex[i]);
		ASN1_INTEGER_free(ai);
	}
	qsort(hex, 1000, sizeof(*hex), hexcmp);
	for (j = 1; j < 1000; j++)
		assert_string_not_equal(hex[j - 1], hex[j]);
	free(hex);
}

static void
test_x509_time(void **state)
{
	ASN1_TIME *t;
	time_t v;

	(void)state;
	assert_non_null(t = ASN1_TIME_new());
	/* RFC 5280 4.1.2.5: UTCTime through 2049, then GeneralizedTime. */
	v = utc(2049, 12, 31, 23, 59, 59);
	assert_int_equal(x509_set_time(t, v), 1);
	assert_int_equal(ASN1_STRING_type(t), V_ASN1_UTCTIME);
	assert_int_equal(x509_time(t), v);
	v = utc(2050, 1, 1, 0, 0, 0);
	assert_int_equal(x509_set_time(t, v), 1);
	assert_int_equal(ASN1_STRING_type(t), V_ASN1_GENERALIZEDTIME);
	assert_int_equal(x509_time(t), v);
	assert_int_equal(x509_time(NULL), 0);
	ASN1_TIME_free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_duration_seconds),
		cmocka_unit_test(test_time_add),
		cmocka_unit_test(test_duration_parse),
		cmocka_unit_test(test_time_parse),
		cmocka_unit_test(test_time_format),
		cmocka_unit_test(test_serial_norm),
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_list_has),
		cmocka_unit_test(test_serial_new),
		cmocka_unit_test(test_x509_time),
	};
	int rc;

	if (cm_ctx_new(&ctx) != 0)
		return 1;
	rc = cmocka_run_group_tests_name("util", tests, NULL, NULL);
	cm_ctx_free(ctx);
	return rc;
}
