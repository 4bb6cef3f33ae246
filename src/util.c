/*
 * util.c: strings, lists, durations, times and files.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "extern.h"

/* v, or the default d when v is NULL. */
const char *
cm_def(const char *v, const char *d)
{
	return v != NULL ? v : d;
}

/* strdup that accepts NULL.  Returns a copy (caller frees) or NULL. */
char *
cm_strdup(const char *s)
{
	return s == NULL ? NULL : strdup(s);
}

/* asprintf returning 0 or CM_ERR_NOMEM; *out is the caller's to free. */
int
cm_asprintf(char **out, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(out, fmt, ap);
	va_end(ap);
	if (n < 0) {
		*out = NULL;
		return CM_ERR_NOMEM;
	}
	return 0;
}

/* Upper-case hex of len bytes into out, which holds 2 * len + 1. */
void
cm_hex(const unsigned char *p, size_t len, char *out)
{
	static const char digits[] = "0123456789ABCDEF";
	size_t i;

	for (i = 0; i < len; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 0xf];
	}
	out[2 * len] = '\0';
}

/*
 * Split s at sep into trimmed, non-empty items.  Returns 0 and a vector
 * the caller frees with cm_split_free, or CM_ERR_NOMEM.
 */
int
cm_split(const char *s, char sep, char ***out, size_t *n)
{
	char **v = NULL, **nv;
	size_t cnt = 0;
	const char *p = s, *e, *b, *te;

	*out = NULL;
	*n = 0;
	while (p != NULL && *p != '\0') {
		if ((e = strchr(p, sep)) == NULL)
			e = p + strlen(p);
		b = p;
		te = e;
		while (b < te && (*b == ' ' || *b == '\t'))
			b++;
		while (te > b && (te[-1] == ' ' || te[-1] == '\t'))
			te--;
		if (te > b) {
			if ((nv = reallocarray(v, cnt + 1, sizeof(*v))) == NULL)
				goto fail;
			v = nv;
			if ((v[cnt] = strndup(b, te - b)) == NULL)
				goto fail;
			cnt++;
		}
		p = (*e == '\0') ? e : e + 1;
	}
	*out = v;
	*n = cnt;
	return 0;
fail:
	cm_split_free(v, cnt);
	return CM_ERR_NOMEM;
}

void
cm_split_free(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/*
 * A comma list with the blanks around its items and empty items removed.
 * Returns 0 and *out (caller frees) or CM_ERR_NOMEM.
 */
int
cm_list_norm(const char *list, char **out)
{
	char **v = NULL, *s, *p;
	size_t n = 0, i, len = 1;
	int rc;

	*out = NULL;
	if ((rc = cm_split(list, ',', &v, &n)) != 0)
		return rc;
	for (i = 0; i < n; i++)
		len += strlen(v[i]) + 1;
	if ((s = p = malloc(len)) == NULL) {
		cm_split_free(v, n);
		return CM_ERR_NOMEM;
	}
	*p = '\0';
	for (i = 0; i < n; i++)
		p += sprintf(p, "%s%s", i > 0 ? "," : "", v[i]);
	cm_split_free(v, n);
	*out = s;
	return 0;
}

/* Whether the comma list holds item (exact match, blanks around ignored). */
int
cm_list_has(const char *list, const char *item)
{
	size_t len = strlen(item);
	const char *p = list, *e;

	while (p != NULL && *p != '\0') {
		while (*p == ' ' || *p == '\t')
			p++;
		if (strncmp(p, item, len) == 0) {
			e = p + len;
			while (*e == ' ' || *e == '\t')
				e++;
			if (*e == ',' || *e == '\0')
				return 1;
		}
		p = strchr(p, ',');
		if (p != NULL)
			p++;
	}
	return 0;
}

static int
duration_split(const char *s, long long *num, char *unit)
{
	char *end;

	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	*num = strtoll(s, &end, 10);
	if (errno != 0 || *num > 100000000)
		return -1;
	if (*end == '\0' && *num == 0) {
		*unit = 's';
		return 0;
	}
	if (strchr("smhdwy", *end) == NULL || *end == '\0' || end[1] != '\0')
		return -1;
	*unit = *end;
	return 0;
}

/*
 * Seconds in a duration such as "24h" (a year counts 365 days here), or -1
 * when s is not a duration.  "0" is zero.
 */
long
cm_duration_seconds(const char *s)
{
	long long n, mul = 1;
	char unit;

	if (duration_split(s, &n, &unit) == -1)
		return -1;
	switch (unit) {
	case 'm': mul = 60; break;
	case 'h': mul = 3600; break;
	case 'd': mul = 86400; break;
	case 'w': mul = 7 * 86400; break;
	case 'y': mul = 365 * 86400; break;
	default: break;
	}
	if (n > LONG_MAX / mul / 2)
		return -1;
	return (long)(n * mul);
}

/* base plus a duration; years are calendar years.  (time_t)-1 on error. */
time_t
cm_time_add(time_t base, const char *s)
{
	long long n;
	char unit;
	struct tm tm;
	long secs;

	if (duration_split(s, &n, &unit) == -1)
		return (time_t)-1;
	if (unit == 'y') {
		if (n > 1000 || gmtime_r(&base, &tm) == NULL)
			return (time_t)-1;
		tm.tm_year += (int)n;
		return timegm(&tm);
	}
	if ((secs = cm_duration_seconds(s)) < 0)
		return (time_t)-1;
	return base + secs;
}

/*
 * Parse a positive duration for the field "what": *end = base + duration.
 * Returns 0 or CM_ERR_INVAL with a message naming the field.
 */
int
cm_duration_parse(struct cm_ctx *ctx, const char *what, const char *s,
    time_t base, time_t *end)
{
	time_t t;

	*end = 0;
	if ((t = cm_time_add(base, s)) == (time_t)-1 || t <= base)
		return cm_err(ctx, CM_ERR_INVAL, "%s \"%s\": not a duration "
		    "(a positive number and a unit s, m, h, d, w or y, as in "
		    "365d)", what, s == NULL ? "" : s);
	*end = t;
	return 0;
}

/*
 * Parse a time: 2026-11-23, 2026-11-23T12:00:00Z or @EPOCH, all UTC.
 * Returns 0 or CM_ERR_INVAL naming the field.
 */
int
cm_time_parse(struct cm_ctx *ctx, const char *what, const char *s,
    time_t *out)
{
	struct tm tm;
	const char *end;
	char *e;
	long long v;

	*out = 0;
	memset(&tm, 0, sizeof(tm));
	if (s != NULL && s[0] == '@') {
		errno = 0;
		v = strtoll(s + 1, &e, 10);
		if (s[1] == '\0' || *e != '\0' || errno != 0 || v < 0)
			goto bad;
		*out = (time_t)v;
		return 0;
	}
	if (s == NULL || (end = strptime(s, "%Y-%m-%d", &tm)) == NULL)
		goto bad;
	if (*end == 'T' || *end == ' ') {
		end = strptime(end + 1, "%H:%M:%S", &tm);
		if (end == NULL)
			goto bad;
		if (*end == 'Z')
			end++;
	}
	if (*end != '\0')
		goto bad;
	{
		struct tm want = tm, got;

		/* strptime checks ranges only: refuse 2026-02-30. */
		*out = timegm(&tm);
		if (gmtime_r(out, &got) == NULL ||
		    got.tm_year != want.tm_year || got.tm_mon != want.tm_mon ||
		    got.tm_mday != want.tm_mday || got.tm_hour != want.tm_hour ||
		    got.tm_min != want.tm_min || got.tm_sec != want.tm_sec) {
			*out = 0;
			goto bad;
		}
	}
	return 0;
bad:
	return cm_err(ctx, CM_ERR_INVAL, "%s \"%s\": not a time (use "
	    "YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ, UTC)", what,
	    s == NULL ? "" : s);
}

/* Format t as 2026-11-23T12:00:00Z into buf (at least 21 bytes). */
void
cm_time_format(time_t t, char *buf, size_t len)
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, len, "@%lld", (long long)t);
}

/*
 * Read a whole file (at most 64 MiB).  Returns 0 with *out (caller frees
 * with cm_free) or CM_ERR_INVAL naming the file.
 */
int
cm_file_read(struct cm_ctx *ctx, const char *path, unsigned char **out,
    size_t *outlen)
{
	int fd, rc = CM_ERR_INVAL;
	struct stat st;
	unsigned char *buf = NULL;
	size_t off = 0;
	ssize_t n;

	*out = NULL;
	*outlen = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return cm_err(ctx, CM_ERR_INVAL, "%s: %s", path,
		    strerror(errno));
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		rc = cm_err(ctx, CM_ERR_INVAL, "%s: not a regular file", path);
		goto out;
	}
	if (st.st_size > 64 * 1024 * 1024) {
		rc = cm_err(ctx, CM_ERR_INVAL, "%s: larger than 64 MiB", path);
		goto out;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		rc = CM_ERR_NOMEM;
		goto out;
	}
	while (off < (size_t)st.st_size) {
		n = read(fd, buf + off, (size_t)st.st_size - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = cm_err(ctx, CM_ERR_INVAL, "%s: %s", path,
			    n == 0 ? "short read" : strerror(errno));
			goto out;
		}
		off += (size_t)n;
	}
	buf[off] = '\0';
	*out = buf;
	*outlen = off;
	buf = NULL;
	rc = 0;
out:
	free(buf);
	close(fd);
	return rc;
}

/* Wipe and free a NUL-terminated secret. */
void
cm_secret_free(char *s)
{
	if (s == NULL)
		return;
	OPENSSL_cleanse(s, strlen(s));
	free(s);
}

/*
 * The default path of an opencm file: $VAR/opencm/FILE when VAR is an
 * absolute path, else $HOME/FALLBACK/opencm/FILE (the XDG base directory
 * rules).  Returns a string to cm_free(), or NULL.
 */
char *
cm_xdg_path(const char *var, const char *fallback, const char *file)
{
	const char *base = getenv(var), *home;
	struct passwd *pw;
	char *p = NULL;

	if (base != NULL && *base == '/')
		return cm_asprintf(&p, "%s/opencm/%s", base, file) == 0 ? p :
		    NULL;
	if ((home = getenv("HOME")) == NULL || *home == '\0') {
		if ((pw = getpwuid(getuid())) == NULL)
			return NULL;
		home = pw->pw_dir;
	}
	return cm_asprintf(&p, "%s/%s/opencm/%s", home, fallback, file) == 0 ?
	    p : NULL;
}

/* Make the directories (0700) that will hold path. */
void
cm_mkparent(const char *path)
{
	char *p = strdup(path), *s;

	if (p == NULL)
		return;
	for (s = p + 1; (s = strchr(s, '/')) != NULL; s++) {
		*s = '\0';
		(void)mkdir(p, 0700);
		*s = '/';
	}
	free(p);
}

/*
 * Read a secret (a PIN or passphrase) from the first line of a file; with
 * check_mode the file must not be readable by group or others.  Returns 0
 * or CM_ERR_DENIED naming the file.  Front ends use it for PIN files.
 */
int
cm_secret_file(struct cm_ctx *ctx, const char *path, int check_mode,
    char *buf, size_t len)
{
	struct stat st;
	ssize_t n;
	size_t off = 0;
	char *nl;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		return cm_err(ctx, CM_ERR_DENIED, "%s: %s", path,
		    strerror(errno));
	}
	if (check_mode && (fstat(fd, &st) == -1 || (st.st_mode & 077))) {
		close(fd);
		return cm_err(ctx, CM_ERR_DENIED, "%s: a passphrase file named "
		    "in cm.conf must not be readable by group or others", path);
	}
	while (off < len - 1) {
		n = read(fd, buf + off, len - 1 - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	close(fd);
	buf[off] = '\0';
	/* The engine wipes up to the first NUL: wipe what lies beyond now. */
	if (strlen(buf) < off)
		explicit_bzero(buf + strlen(buf), off - strlen(buf));
	if ((nl = strchr(buf, '\n')) != NULL) {
		explicit_bzero(nl, strlen(nl));
		if (nl > buf && nl[-1] == '\r')
			nl[-1] = '\0';
	}
	return 0;
}

/* The value of a hexadecimal digit, or -1. */
int
cm_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}
