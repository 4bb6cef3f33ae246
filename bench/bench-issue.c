/*
 * bench-issue.c: issuance and lookup figures for bench/issue.
 *
 *	bench-issue csrs DIR N
 *	bench-issue issue CMDB PINFILE PROCEDURE DIR batch|txn [CONF]
 *	bench-issue lookup CMDB PINFILE CA
 *
 * csrs writes N distinct P-256 requests.  issue reads every request of DIR
 * into memory, then times their issuance through the engine, either as one
 * cm_cert_issue_batch (one transaction) or one cm_cert_issue per request
 * (one transaction each), after one untimed warm-up issuance.  lookup
 * times cm_cert_show on random serials and subject-prefix pages of 50
 * through cm_cert_list, the prefixes cut from the subjects of random
 * certificates ("CN=host-0123").
 *
 * A benchmark prints figures; it never passes or fails on a time.  The exit
 * status is 0, 1 when the engine or a file fails, 2 on a usage error.
 */
#include "config.h"

#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "cm.h"

#define LOOKUPS		1000
#define PAGE		50
#define RA_PAGE		20	/* the rows of a Search tab screen */

struct csr_set {
	char		**names;
	unsigned char	**data;
	size_t		 *len;
	size_t		  n;
};

struct clock_pair {
	struct timespec	wall;
	double		user;
	double		sys;
};

static void
usage(void)
{
	fprintf(stderr, "usage: bench-issue csrs DIR N\n"
	    "       bench-issue issue CMDB PINFILE PROCEDURE DIR batch|txn "
	    "[CONF]\n"
	    "       bench-issue lookup CMDB PINFILE CA\n");
	exit(2);
}

static void
cpu_now(double *user, double *sys)
{
	struct rusage ru;

	*user = *sys = 0;
	if (getrusage(RUSAGE_SELF, &ru) == -1)
		return;
	*user = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6;
	*sys = (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static void
clock_start(struct clock_pair *c)
{
	clock_gettime(CLOCK_MONOTONIC, &c->wall);
	cpu_now(&c->user, &c->sys);
}

/*
 * Seconds of wall time since c.  The CPU seconds (user + system) go to
 * *cpu and the system part to *sys, when asked.
 */
static double
clock_stop(const struct clock_pair *c, double *cpu, double *sys)
{
	struct timespec t;
	double u, s;

	clock_gettime(CLOCK_MONOTONIC, &t);
	cpu_now(&u, &s);
	if (cpu != NULL)
		*cpu = (u - c->user) + (s - c->sys);
	if (sys != NULL)
		*sys = s - c->sys;
	return (double)(t.tv_sec - c->wall.tv_sec) +
	    (t.tv_nsec - c->wall.tv_nsec) / 1e9;
}

static int
engine_fail(struct cm_ctx *ctx, const char *what, int rc)
{
	fprintf(stderr, "bench-issue: %s: %s: %s\n", what, cm_strerror(rc),
	    ctx == NULL ? "" : cm_ctx_errmsg(ctx));
	return 1;
}

/* get_secret: the first line of the PIN file, without its newline. */
static int
pin_from_file(void *arg, int kind, const char *prompt, int confirm,
    char *buf, size_t len)
{
	const char *path = arg;
	FILE *f;
	size_t n;

	if ((f = fopen(path, "r")) == NULL)
		return CM_ERR_DENIED;
	if (fgets(buf, (int)len, f) == NULL) {
		fclose(f);
		OPENSSL_cleanse(buf, len);
		return CM_ERR_DENIED;
	}
	fclose(f);
	n = strcspn(buf, "\r\n");
	buf[n] = '\0';
	return 0;
}

/* A context on cmdb, with the configuration conf when it is not NULL. */
static int
open_cmdb(const char *cmdb, const char *pinfile, const char *conf,
    struct cm_ctx **out)
{
	struct cm_ui_ops ui;
	struct cm_ctx *ctx = NULL;
	int rc;

	*out = NULL;
	if ((rc = cm_ctx_new(&ctx)) != 0)
		return engine_fail(NULL, "cm_ctx_new", rc);
	memset(&ui, 0, sizeof(ui));
	ui.get_secret = pin_from_file;
	ui.arg = (void *)pinfile;
	cm_ctx_set_ui(ctx, &ui);
	if (conf != NULL && (rc = cm_config_load(ctx, conf, 1)) != 0) {
		engine_fail(ctx, conf, rc);
		cm_ctx_free(ctx);
		return 1;
	}
	if ((rc = cm_db_open(ctx, cmdb)) != 0) {
		engine_fail(ctx, cmdb, rc);
		cm_ctx_free(ctx);
		return 1;
	}
	*out = ctx;
	return 0;
}

static int
cmd_csrs(const char *dir, const char *count)
{
	EVP_PKEY *pk = NULL;
	X509_REQ *xr = NULL;
	X509_NAME *nm = NULL;
	FILE *f = NULL;
	struct clock_pair c;
	char path[4096], cn[64];
	char *end;
	long n, i;
	double wall;
	int ret = 1;

	n = strtol(count, &end, 10);
	if (*count == '\0' || *end != '\0' || n <= 0 || n > 9999999)
		usage();
	if (mkdir(dir, 0755) == -1 && errno != EEXIST) {
		fprintf(stderr, "bench-issue: %s: %s\n", dir, strerror(errno));
		return 1;
	}
	clock_start(&c);
	for (i = 0; i < n; i++) {
		snprintf(cn, sizeof(cn), "host-%06ld.bench.example", i);
		snprintf(path, sizeof(path), "%s/req-%06ld.csr", dir, i);
		if ((pk = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256")) ==
		    NULL || (xr = X509_REQ_new()) == NULL ||
		    (nm = X509_NAME_new()) == NULL ||
		    !X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_UTF8,
		    (const unsigned char *)cn, -1, -1, 0) ||
		    !X509_REQ_set_version(xr, X509_REQ_VERSION_1) ||
		    !X509_REQ_set_subject_name(xr, nm) ||
		    !X509_REQ_set_pubkey(xr, pk) ||
		    X509_REQ_sign(xr, pk, EVP_sha256()) <= 0) {
			fprintf(stderr, "bench-issue: %s: building the "
			    "request failed\n", path);
			ERR_print_errors_fp(stderr);
			goto out;
		}
		if ((f = fopen(path, "w")) == NULL ||
		    !PEM_write_X509_REQ(f, xr) || fclose(f) != 0) {
			f = NULL;
			fprintf(stderr, "bench-issue: %s: cannot write\n",
			    path);
			goto out;
		}
		f = NULL;
		X509_NAME_free(nm);
		X509_REQ_free(xr);
		EVP_PKEY_free(pk);
		nm = NULL;
		xr = NULL;
		pk = NULL;
	}
	wall = clock_stop(&c, NULL, NULL);
	printf("csrs: %ld P-256 requests in %.2f s\n", n, wall);
	ret = 0;
out:
	if (f != NULL)
		fclose(f);
	X509_NAME_free(nm);
	X509_REQ_free(xr);
	EVP_PKEY_free(pk);
	return ret;
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
csr_set_free(struct csr_set *s)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		free(s->names[i]);
		if (s->data != NULL)
			free(s->data[i]);
	}
	free(s->names);
	free(s->data);
	free(s->len);
	memset(s, 0, sizeof(*s));
}

/* Read every *.csr of dir into memory, in name order. */
static int
csr_set_read(const char *dir, struct csr_set *s)
{
	DIR *d;
	struct dirent *de;
	FILE *f;
	char path[4096], **nn;
	size_t cap = 0, nl, i;
	long sz;

	memset(s, 0, sizeof(*s));
	if ((d = opendir(dir)) == NULL) {
		fprintf(stderr, "bench-issue: %s: %s\n", dir, strerror(errno));
		return 1;
	}
	while ((de = readdir(d)) != NULL) {
		nl = strlen(de->d_name);
		if (nl < 5 || strcmp(de->d_name + nl - 4, ".csr") != 0)
			continue;
		if (s->n == cap) {
			cap = cap ? 2 * cap : 1024;
			if ((nn = reallocarray(s->names, cap, sizeof(*nn))) ==
			    NULL)
				goto nomem;
			s->names = nn;
		}
		if ((s->names[s->n] = strdup(de->d_name)) == NULL)
			goto nomem;
		s->n++;
	}
	closedir(d);
	d = NULL;
	if (s->n == 0) {
		fprintf(stderr, "bench-issue: %s: no *.csr files\n", dir);
		goto fail;
	}
	qsort(s->names, s->n, sizeof(*s->names), name_cmp);
	if ((s->data = calloc(s->n, sizeof(*s->data))) == NULL ||
	    (s->len = calloc(s->n, sizeof(*s->len))) == NULL)
		goto nomem;
	for (i = 0; i < s->n; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, s->names[i]);
		if ((f = fopen(path, "rb")) == NULL ||
		    fseek(f, 0, SEEK_END) != 0 || (sz = ftell(f)) <= 0 ||
		    fseek(f, 0, SEEK_SET) != 0 ||
		    (s->data[i] = malloc((size_t)sz)) == NULL ||
		    fread(s->data[i], 1, (size_t)sz, f) != (size_t)sz) {
			fprintf(stderr, "bench-issue: %s: cannot read\n", path);
			if (f != NULL)
				fclose(f);
			goto fail;
		}
		fclose(f);
		s->len[i] = (size_t)sz;
	}
	return 0;
nomem:
	fprintf(stderr, "bench-issue: out of memory\n");
fail:
	if (d != NULL)
		closedir(d);
	csr_set_free(s);
	return 1;
}

static int
cmd_issue(const char *cmdb, const char *pinfile, const char *procedure,
    const char *dir, const char *mode, const char *conf)
{
	struct cm_ctx *ctx = NULL;
	struct cm_issue_req *reqs = NULL;
	struct cm_issued *out = NULL;
	struct csr_set s;
	struct clock_pair c;
	const char *sync;
	double wall, cpu, sys;
	size_t i, bytes = 0;
	int batch, rc, ret = 1;

	if (strcmp(mode, "batch") == 0)
		batch = 1;
	else if (strcmp(mode, "txn") == 0)
		batch = 0;
	else
		usage();
	if (csr_set_read(dir, &s) != 0)
		return 1;
	if ((reqs = calloc(s.n, sizeof(*reqs))) == NULL ||
	    (out = calloc(s.n, sizeof(*out))) == NULL) {
		fprintf(stderr, "bench-issue: out of memory\n");
		goto out;
	}
	for (i = 0; i < s.n; i++) {
		reqs[i].procedure = procedure;
		reqs[i].csr = s.data[i];
		reqs[i].csr_len = s.len[i];
		reqs[i].csr_name = s.names[i];
		reqs[i].subject = NULL;
		reqs[i].san = NULL;
		reqs[i].der = 0;
	}
	if (open_cmdb(cmdb, pinfile, conf, &ctx) != 0)
		goto out;
	sync = cm_config_get(ctx, "db.synchronous");
	if (sync == NULL)
		sync = "full";

	/*
	 * One untimed issuance first, so that the figures are the steady
	 * rate: it loads the procedure and unlocks the CA key (an scrypt
	 * derivation), a fixed cost per process that is printed apart.
	 */
	clock_start(&c);
	if ((rc = cm_cert_issue(ctx, &reqs[0], &out[0])) != 0) {
		engine_fail(ctx, "cm_cert_issue (warm-up)", rc);
		goto out;
	}
	wall = clock_stop(&c, &cpu, NULL);
	cm_issued_clear(&out[0]);
	printf("%s: warm-up issuance (key unlock included) %.3f s, cpu "
	    "%.3f s\n", mode, wall, cpu);

	clock_start(&c);
	if (batch) {
		if ((rc = cm_cert_issue_batch(ctx, reqs, s.n, out)) != 0) {
			engine_fail(ctx, "cm_cert_issue_batch", rc);
			goto out;
		}
	} else {
		for (i = 0; i < s.n; i++)
			if ((rc = cm_cert_issue(ctx, &reqs[i], &out[i])) != 0) {
				engine_fail(ctx, "cm_cert_issue", rc);
				goto out;
			}
	}
	wall = clock_stop(&c, &cpu, &sys);

	for (i = 0; i < s.n; i++) {
		if (out[i].len == 0 || out[i].serial[0] == '\0') {
			fprintf(stderr, "bench-issue: %s: no certificate came "
			    "back\n", s.names[i]);
			goto out;
		}
		bytes += out[i].len;
	}
	printf("%s: %zu certificates in %.3f s = %.0f certs/s\n", mode, s.n,
	    wall, (double)s.n / wall);
	printf("%s: cpu %.3f s (sys %.3f s) = %.0f certs per cpu second, "
	    "synchronous=%s, %zu bytes of PEM\n", mode, cpu, sys,
	    cpu > 0 ? (double)s.n / cpu : 0.0, sync, bytes);
	ret = 0;
out:
	if (out != NULL)
		for (i = 0; i < s.n; i++)
			cm_issued_clear(&out[i]);
	free(out);
	free(reqs);
	cm_ctx_free(ctx);
	csr_set_free(&s);
	return ret;
}

/* A small deterministic generator, so that runs pick comparable samples. */
static uint64_t
rnd(uint64_t *st)
{
	uint64_t x = *st;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*st = x;
	return x;
}

#define PREFIX_LEN	12	/* "CN=host-0123" */

struct sample {
	char		serials[LOOKUPS][41];
	char		prefixes[LOOKUPS][PREFIX_LEN + 1];
	size_t		n;	/* kept */
	uint64_t	seen;
	uint64_t	rng;
};

/*
 * Reservoir sampling of LOOKUPS certificates over the whole listing: their
 * serials, and the first PREFIX_LEN characters of their subjects as the
 * prefixes to page through, so that every prefix matches something.
 */
static int
sample_cb(void *arg, const struct cm_cert_info *ci)
{
	struct sample *s = arg;
	uint64_t j;

	s->seen++;
	if (s->n < LOOKUPS)
		j = s->n++;
	else if ((j = rnd(&s->rng) % s->seen) >= LOOKUPS)
		return 0;
	snprintf(s->serials[j], sizeof(s->serials[0]), "%s", ci->serial);
	snprintf(s->prefixes[j], sizeof(s->prefixes[0]), "%s", ci->subject);
	return 0;
}

struct found {
	int	rows;
	int	bad;
	char	want[41];
};

static int
show_cb(void *arg, const struct cm_cert_info *ci)
{
	struct found *f = arg;

	f->rows++;
	if (strcmp(ci->serial, f->want) != 0)
		f->bad++;
	return 0;
}

static int
page_cb(void *arg, const struct cm_cert_info *ci)
{
	struct found *f = arg;

	f->rows++;
	if (strncmp(ci->subject, f->want, strlen(f->want)) != 0)
		f->bad++;
	return 0;
}

/* The last row of a page: where the next page starts (keyset paging). */
struct keyset {
	int	rows;
	int64_t	id;
	int64_t	prev;
	int	order_bad;
	char	subject[256];
};

static int
keyset_cb(void *arg, const struct cm_cert_info *ci)
{
	struct keyset *k = arg;

	if (k->rows > 0 && ci->id <= k->prev)
		k->order_bad++;
	k->prev = ci->id;
	k->rows++;
	k->id = ci->id;
	snprintf(k->subject, sizeof(k->subject), "%s", ci->subject);
	return 0;
}

/*
 * What cm-ra's Search tab does: open the CMDB and show the first page (the
 * rows of two screens), page on with keyset paging, and jump to the end.
 */
static int
ra_pages(const char *cmdb, const char *pinfile)
{
	struct cm_ctx *ctx = NULL;
	struct cm_cert_filter flt;
	struct keyset k;
	struct clock_pair c;
	double t, sum = 0, max = 0;
	int i, rc, n = 0;

	for (i = 0; i < 20; i++) {
		clock_start(&c);
		if (open_cmdb(cmdb, pinfile, NULL, &ctx) != 0)
			return 1;
		memset(&flt, 0, sizeof(flt));
		memset(&k, 0, sizeof(k));
		flt.expiring_days = -1;
		flt.limit = RA_PAGE * 2;
		rc = cm_cert_list(ctx, &flt, keyset_cb, &k);
		t = clock_stop(&c, NULL, NULL) * 1e3;
		cm_ctx_free(ctx);
		ctx = NULL;
		if (rc != 0 || k.rows != RA_PAGE * 2) {
			fprintf(stderr, "bench-issue: first page: %d rows\n",
			    k.rows);
			return 1;
		}
		sum += t;
		if (t > max)
			max = t;
	}
	printf("ra first page of %d rows, CMDB opened each time: 20 runs, "
	    "mean %.3f ms, max %.3f ms\n", RA_PAGE * 2, sum / 20, max);
	if (open_cmdb(cmdb, pinfile, NULL, &ctx) != 0)
		return 1;
	memset(&k, 0, sizeof(k));
	sum = max = 0;
	for (i = 0; i < 2000; i++) {
		memset(&flt, 0, sizeof(flt));
		flt.expiring_days = -1;
		flt.limit = RA_PAGE;
		flt.after_id = k.id;
		k.rows = 0;
		clock_start(&c);
		rc = cm_cert_list(ctx, &flt, keyset_cb, &k);
		t = clock_stop(&c, NULL, NULL) * 1e3;
		if (rc != 0 || k.order_bad) {
			fprintf(stderr, "bench-issue: page %d: %d rows\n", i,
			    k.rows);
			cm_ctx_free(ctx);
			return 1;
		}
		n += k.rows;
		if (k.rows < RA_PAGE) {		/* the end of a small CMDB */
			sum += t;
			i++;
			break;
		}
		sum += t;
		if (t > max)
			max = t;
	}
	printf("ra next page of %d (keyset): %d pages, %d rows, mean %.3f "
	    "ms, max %.3f ms\n", RA_PAGE, i, n, sum / (i > 0 ? i : 1), max);
	memset(&flt, 0, sizeof(flt));
	memset(&k, 0, sizeof(k));
	flt.expiring_days = -1;
	flt.limit = RA_PAGE * 2;
	flt.backward = 1;
	clock_start(&c);
	rc = cm_cert_list(ctx, &flt, keyset_cb, &k);
	t = clock_stop(&c, NULL, NULL) * 1e3;
	printf("ra last page (End) of %d rows: %.3f ms\n", k.rows, t);
	cm_ctx_free(ctx);
	return rc != 0;
}

static int
cmd_lookup(const char *cmdb, const char *pinfile, const char *ca)
{
	struct cm_ctx *ctx = NULL;
	struct cm_cert_filter flt;
	struct sample *s = NULL;
	struct found fd;
	struct clock_pair c;
	double t, sum, max, wall;
	long rows = 0;
	int i, rc, ret = 1;

	if ((s = calloc(1, sizeof(*s))) == NULL) {
		fprintf(stderr, "bench-issue: out of memory\n");
		return 1;
	}
	s->rng = 0x9e3779b97f4a7c15ULL;
	if (open_cmdb(cmdb, pinfile, NULL, &ctx) != 0)
		goto out;

	/* Pick the serials from a full listing (not part of the figures). */
	memset(&flt, 0, sizeof(flt));
	flt.ca = ca;
	flt.expiring_days = -1;
	flt.limit = 0;
	clock_start(&c);
	if ((rc = cm_cert_list(ctx, &flt, sample_cb, s)) != 0) {
		engine_fail(ctx, "cm_cert_list", rc);
		goto out;
	}
	wall = clock_stop(&c, NULL, NULL);
	printf("lookup: listed %llu certificates of CA \"%s\" in %.2f s to "
	    "pick %zu serials\n", (unsigned long long)s->seen, ca, wall, s->n);
	if (s->n == 0) {
		fprintf(stderr, "bench-issue: CA \"%s\" has no certificates\n",
		    ca);
		goto out;
	}

	sum = max = 0;
	for (i = 0; i < LOOKUPS; i++) {
		memset(&fd, 0, sizeof(fd));
		snprintf(fd.want, sizeof(fd.want), "%s",
		    s->serials[rnd(&s->rng) % s->n]);
		clock_start(&c);
		rc = cm_cert_show(ctx, fd.want, NULL, show_cb, &fd);
		t = clock_stop(&c, NULL, NULL) * 1e3;
		if (rc != 0) {
			engine_fail(ctx, "cm_cert_show", rc);
			goto out;
		}
		if (fd.rows != 1 || fd.bad != 0) {
			fprintf(stderr, "bench-issue: serial %s: %d rows, %d "
			    "wrong\n", fd.want, fd.rows, fd.bad);
			goto out;
		}
		sum += t;
		if (t > max)
			max = t;
	}
	printf("lookup by serial: %d lookups, mean %.3f ms, max %.3f ms\n",
	    LOOKUPS, sum / LOOKUPS, max);

	sum = max = 0;
	for (i = 0; i < LOOKUPS; i++) {
		memset(&fd, 0, sizeof(fd));
		snprintf(fd.want, sizeof(fd.want), "%s",
		    s->prefixes[rnd(&s->rng) % s->n]);
		memset(&flt, 0, sizeof(flt));
		flt.subject_prefix = fd.want;
		flt.expiring_days = -1;
		flt.limit = PAGE;
		clock_start(&c);
		rc = cm_cert_list(ctx, &flt, page_cb, &fd);
		t = clock_stop(&c, NULL, NULL) * 1e3;
		if (rc != 0) {
			engine_fail(ctx, "cm_cert_list", rc);
			goto out;
		}
		if (fd.bad != 0 || fd.rows > PAGE) {
			fprintf(stderr, "bench-issue: prefix %s: %d rows, %d "
			    "not matching\n", fd.want, fd.rows, fd.bad);
			goto out;
		}
		rows += fd.rows;
		sum += t;
		if (t > max)
			max = t;
	}
	printf("subject prefix page of %d: %d pages, mean %.3f ms, max %.3f "
	    "ms, mean %.1f rows per page\n", PAGE, LOOKUPS, sum / LOOKUPS, max,
	    (double)rows / LOOKUPS);
	cm_ctx_free(ctx);
	ctx = NULL;
	ret = ra_pages(cmdb, pinfile);
out:
	cm_ctx_free(ctx);
	free(s);
	return ret;
}

int
main(int argc, char *argv[])
{
	if (argc < 2)
		usage();
	if (strcmp(argv[1], "csrs") == 0 && argc == 4)
		return cmd_csrs(argv[2], argv[3]);
	if (strcmp(argv[1], "issue") == 0 && (argc == 7 || argc == 8))
		return cmd_issue(argv[2], argv[3], argv[4], argv[5], argv[6],
		    argc == 8 ? argv[7] : NULL);
	if (strcmp(argv[1], "lookup") == 0 && argc == 5)
		return cmd_lookup(argv[2], argv[3], argv[4]);
	usage();
	return 2;
}
