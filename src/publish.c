/*
 * publish.c: delivery of the publication queue over HTTPS, for cm-da.
 *
 * Each due item is read with what it publishes (a CRL, a CIL, a CA
 * certificate or a certificate) and sent by its rule: PUT to the rule's
 * URL and the item's target name, or POST to the URL, with libcurl (TLS
 * 1.2 or later, the server's certificate verified against the rule's
 * server CA certificates only, its host name checked, and the rule's TLS
 * client credential, a PKCS#12 file or a key on a PKCS#11 token).  Every
 * attempt commits its outcome with its audit record, so a delivery agent
 * killed at any point loses nothing: an item sent whose outcome did not
 * commit goes again, to the same target with the same bytes and the same
 * Idempotency-Key, which the server may use to see the repeat.  A failed
 * attempt waits longer each time (exponential backoff) and the item is
 * failed after the configured number of attempts; a newer CRL or CIL for
 * the same rule and target supersedes an older one that has not gone.
 */
#include "config.h"

#include <sys/file.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pkcs12.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "extern.h"

/* A rule as delivery needs it, kept for the context's life. */
struct pub_rule {
	int64_t		 id;
	char		*name;
	char		*url;
	int		 post;
	int		 pem;
	char		*server_ca;
	char		*client;
	char		*basic_user;
	char		*basic_pass;	/* unsealed; wiped on free */
	X509		*cert;		/* the TLS client credential */
	EVP_PKEY	*key;
	STACK_OF(X509)	*chain;
	CURL		*curl;		/* kept: its connection is reused */
	char		 broken[CM_ERRMSG_MAX];	/* why it cannot deliver */
	int		 broken_rc;
	struct pub_rule	*next;
};

struct pub_item {
	int64_t		 id;
	int64_t		 rule_id;
	char		 kind[16];
	int64_t		 ca_id;
	int64_t		 number;
	int64_t		 cert_id;
	char		 target[200];
	int		 attempts;
	char		 ca[160];
};

struct pub_xfer {
	const unsigned char	*body;
	size_t			 len;
	size_t			 off;
	char			 reply[256];	/* the start of the answer */
	size_t			 rlen;
	const struct cm_publish_opts *opts;
	int			 stopped;
};

/*
 * The credential in a PKCS#12 file, opened with pass (NULL: none).
 * Returns 0 with *cert and *key (and the CA certificates in *chain when
 * chain is not NULL; callers free), or a CM_ERR_* naming the file.
 */
int
dist_p12_load(struct cm_ctx *ctx, const char *file, const char *pass,
    X509 **cert, EVP_PKEY **key, STACK_OF(X509) **chain)
{
	PKCS12 *p12 = NULL;
	STACK_OF(X509) *ca = NULL;
	unsigned char *buf = NULL;
	const unsigned char *p;
	size_t len = 0;
	int rc;

	*cert = NULL;
	*key = NULL;
	if (chain != NULL)
		*chain = NULL;
	if ((rc = cm_file_read(ctx, file, &buf, &len)) != 0)
		return rc;
	p = buf;
	if ((p12 = d2i_PKCS12(NULL, &p, (long)len)) == NULL) {
		rc = cm_err(ctx, CM_ERR_INVAL, "client credential %s: not a "
		    "PKCS#12 file", file);
		goto out;
	}
	if (!PKCS12_parse(p12, pass != NULL ? pass : "", key, cert, &ca) ||
	    *key == NULL || *cert == NULL) {
		X509_free(*cert);
		EVP_PKEY_free(*key);
		*cert = NULL;
		*key = NULL;
		rc = cm_err(ctx, CM_ERR_DENIED, "client credential %s: the "
		    "passphrase does not open it, or it holds no key and "
		    "certificate", file);
		goto out;
	}
	if (chain != NULL) {
		*chain = ca;
		ca = NULL;
	}
out:
	ERR_clear_error();
	sk_X509_pop_free(ca, X509_free);
	PKCS12_free(p12);
	OPENSSL_clear_free(buf, len);
	return rc;
}

static void
rule_free(struct pub_rule *r)
{
	free(r->name);
	free(r->url);
	free(r->server_ca);
	free(r->client);
	free(r->basic_user);
	cm_secret_free(r->basic_pass);
	X509_free(r->cert);
	EVP_PKEY_free(r->key);
	sk_X509_pop_free(r->chain, X509_free);
	if (r->curl != NULL)
		curl_easy_cleanup(r->curl);
	free(r);
}

/*
 * Rules that could not be opened are opened again on the next run (the
 * token may be back), unless a PIN or passphrase was wrong.
 */
static void
rules_drop_broken(struct cm_ctx *ctx)
{
	struct pub_rule **rp = &ctx->pub_rules, *r;

	while ((r = *rp) != NULL) {
		if (r->broken[0] != '\0' && r->broken_rc != CM_ERR_DENIED) {
			*rp = r->next;
			rule_free(r);
		} else
			rp = &r->next;
	}
}

static void
rules_free(struct cm_ctx *ctx)
{
	struct pub_rule *r, *next;

	for (r = ctx->pub_rules; r != NULL; r = next) {
		next = r->next;
		rule_free(r);
	}
	ctx->pub_rules = NULL;
}

/*
 * Forget what delivery and the schedule keep (the rules opened, a PIN or
 * passphrase found wrong, the waits of CRLs that failed): the next run
 * opens and tries everything again.  For cm-da's SIGHUP.
 */
void
cm_publish_reset(struct cm_ctx *ctx)
{
	rules_free(ctx);
	crl_sched_free(ctx);
}

/* Free the rules delivery kept: before the token keys go. */
void
publish_free_all(struct cm_ctx *ctx)
{
	rules_free(ctx);
	if (ctx->da_lock > 0)
		close(ctx->da_lock - 1);
	ctx->da_lock = 0;
}

struct rule_load {
	struct pub_rule	*r;
	unsigned char	*basic;
	size_t		 basiclen;
	unsigned char	*cpass;
	size_t		 cpasslen;
	int		 rc;
};

static int
rule_cb(void *arg, struct store_row *row)
{
	struct rule_load *l = arg;
	struct pub_rule *r = l->r;
	const unsigned char *p;
	size_t n;

	if ((r->name = cm_strdup(store_row_text(row, 0))) == NULL ||
	    (r->url = cm_strdup(store_row_text(row, 1))) == NULL ||
	    (r->server_ca = cm_strdup(store_row_text(row, 4))) == NULL ||
	    (!store_row_null(row, 5) && (r->client =
	    cm_strdup(store_row_text(row, 5))) == NULL) ||
	    (!store_row_null(row, 6) && (r->basic_user =
	    cm_strdup(store_row_text(row, 6))) == NULL))
		return CM_ERR_NOMEM;
	r->post = strcmp(store_row_text(row, 2), "POST") == 0;
	r->pem = strcmp(store_row_text(row, 3), "pem") == 0;
	if ((p = store_row_blob(row, 7, &n)) != NULL && n > 0) {
		if ((l->basic = malloc(n)) == NULL)
			return CM_ERR_NOMEM;
		memcpy(l->basic, p, n);
		l->basiclen = n;
	}
	if ((p = store_row_blob(row, 8, &n)) != NULL && n > 0) {
		if ((l->cpass = malloc(n)) == NULL)
			return CM_ERR_NOMEM;
		memcpy(l->cpass, p, n);
		l->cpasslen = n;
	}
	return 1;
}

/*
 * Open what a rule needs to deliver: its sealed secrets and its client
 * credential.  What cannot be opened marks the rule broken (its items
 * fail with the reason) rather than stopping the others.
 */
static int
rule_open(struct cm_ctx *ctx, struct pub_rule *r, struct rule_load *l)
{
	char *pass = NULL;
	int rc = 0;

	if (l->basic != NULL)
		rc = keystore_unseal(ctx, l->basic, l->basiclen,
		    &r->basic_pass);
	if (rc == 0 && l->cpass != NULL)
		rc = keystore_unseal(ctx, l->cpass, l->cpasslen, &pass);
	if (rc == 0 && r->client != NULL) {
		if (strncmp(r->client, "pkcs11:", 7) == 0)
			rc = p11_client_open(ctx, r->client, &r->cert,
			    &r->key);
		else
			rc = dist_p12_load(ctx, r->client, pass, &r->cert,
			    &r->key, &r->chain);
	}
	cm_secret_free(pass);
	if (rc == CM_ERR_NOMEM)
		return rc;
	/*
	 * A wrong PIN or passphrase is not tried again by this process: a
	 * token counts wrong PINs and locks.
	 */
	if (rc != 0)
		snprintf(r->broken, sizeof(r->broken), "%.900s%s",
		    ctx->errmsg, rc == CM_ERR_DENIED ? " (not tried again "
		    "until cm-da restarts)" : "");
	r->broken_rc = rc;
	return 0;
}

static int
rule_get(struct cm_ctx *ctx, int64_t id, struct pub_rule **out)
{
	struct pub_rule *r;
	struct rule_load l;
	int rc;

	for (r = ctx->pub_rules; r != NULL; r = r->next)
		if (r->id == id) {
			*out = r;
			return 0;
		}
	memset(&l, 0, sizeof(l));
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return CM_ERR_NOMEM;
	r->id = id;
	l.r = r;
	rc = store_query(ctx, "SELECT name, url, method, format, server_ca, "
	    "client, basic_user, basic_password, client_secret FROM dist_rules "
	    "WHERE id = ?", rule_cb, &l, "i", id);
	if (rc == 0 && r->name == NULL)
		rc = cm_err(ctx, CM_ERR_NOTFOUND, "distribution rule %lld not "
		    "found", (long long)id);
	if (rc == 0)
		rc = rule_open(ctx, r, &l);
	free(l.basic);
	free(l.cpass);
	if (rc != 0) {
		rule_free(r);
		return rc;
	}
	r->next = ctx->pub_rules;
	ctx->pub_rules = r;
	*out = r;
	return 0;
}

/* ------------------------------------------------------------ libcurl */

static CURLcode
ssl_ctx_cb(CURL *curl, void *sslctx, void *arg)
{
	struct pub_rule *r = arg;
	SSL_CTX *sc = sslctx;
	int i;

	(void)curl;
	if (r->cert == NULL)
		return CURLE_OK;
	if (SSL_CTX_use_certificate(sc, r->cert) != 1 ||
	    SSL_CTX_use_PrivateKey(sc, r->key) != 1) {
		ERR_clear_error();
		return CURLE_SSL_CERTPROBLEM;
	}
	for (i = 0; i < sk_X509_num(r->chain); i++)
		if (SSL_CTX_add1_chain_cert(sc, sk_X509_value(r->chain, i)) !=
		    1) {
			ERR_clear_error();
			return CURLE_SSL_CERTPROBLEM;
		}
	return CURLE_OK;
}

static size_t
read_cb(char *buf, size_t size, size_t n, void *arg)
{
	struct pub_xfer *x = arg;
	size_t want = size * n;

	if (want > x->len - x->off)
		want = x->len - x->off;
	memcpy(buf, x->body + x->off, want);
	x->off += want;
	return want;
}

static size_t
write_cb(char *buf, size_t size, size_t n, void *arg)
{
	struct pub_xfer *x = arg;
	size_t got = size * n, room = sizeof(x->reply) - 1 - x->rlen;

	if (room > got)
		room = got;
	memcpy(x->reply + x->rlen, buf, room);
	x->rlen += room;
	x->reply[x->rlen] = '\0';
	return got;
}

static int
progress_cb(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut,
    curl_off_t un)
{
	struct pub_xfer *x = arg;

	(void)dt;
	(void)dn;
	(void)ut;
	(void)un;
	if (x->opts->stop != NULL && x->opts->stop(x->opts->arg)) {
		x->stopped = 1;
		return 1;
	}
	return 0;
}

/* What the server said, in a line: an HTML page's title, else its text. */
static void
reply_line(const char *reply, char *out, size_t len)
{
	const char *p = strstr(reply, "<title>"), *e;
	size_t n = 0;

	if (p != NULL && (e = strstr(p, "</title>")) != NULL)
		p += 7;
	else {
		p = reply;
		e = reply + strlen(reply);
	}
	while (p < e && isspace((unsigned char)*p))
		p++;
	for (; p < e && n + 1 < len && n < 120; p++)
		out[n++] = isprint((unsigned char)*p) ? *p : ' ';
	while (n > 0 && out[n - 1] == ' ')
		n--;
	out[n] = '\0';
}

static const char *
content_type(const char *kind, int pem)
{
	if (pem)
		return "application/x-pem-file";
	if (strcmp(kind, "crl") == 0 || strcmp(kind, "delta-crl") == 0)
		return "application/pkix-crl";
	if (strcmp(kind, "cil") == 0)
		return "application/octet-stream";
	return "application/pkix-cert";
}

/* Append a formatted header to *h: 0, or -1 out of memory (*h kept). */
static int
hdr_add(struct curl_slist **, const char *, ...)
    __attribute__((format(printf, 2, 3)));

static int
hdr_add(struct curl_slist **h, const char *fmt, ...)
{
	struct curl_slist *t;
	char line[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if ((t = curl_slist_append(*h, line)) == NULL)
		return -1;
	*h = t;
	return 0;
}

/*
 * Send one item.  Returns 0 (delivered, *status the HTTP status), 1
 * (stopped), or -1 with the reason in err.
 */
static int
deliver(struct cm_ctx *ctx, struct pub_rule *r, const struct pub_item *it,
    const unsigned char *body, size_t len, const struct cm_publish_opts *o,
    long *status, char *err, size_t errlen)
{
	struct curl_slist *h = NULL;
	struct curl_blob ca;
	struct pub_xfer x;
	unsigned char md[32];
	char ebuf[CURL_ERROR_SIZE], b64[48], hex[65], line[128];
	char *url = NULL;
	CURLcode cc;
	CURL *c;
	int rc = -1;

	*status = 0;
	err[0] = ebuf[0] = '\0';
	if (r->curl == NULL && (r->curl = curl_easy_init()) == NULL) {
		snprintf(err, errlen, "libcurl cannot start");
		return -1;
	}
	c = r->curl;
	curl_easy_reset(c);
	memset(&x, 0, sizeof(x));
	x.body = body;
	x.len = len;
	x.opts = o;
	if (r->post)
		url = cm_strdup(r->url);
	else
		(void)cm_asprintf(&url, "%s%s%s", r->url,
		    r->url[strlen(r->url) - 1] == '/' ? "" : "/", it->target);
	(void)EVP_Digest(body, len, md, NULL, EVP_sha256(), NULL);
	EVP_EncodeBlock((unsigned char *)b64, md, sizeof(md));
	cm_hex(md, 16, hex);
	if (url == NULL ||
	    hdr_add(&h, "Content-Type: %s", content_type(it->kind,
	    r->pem)) != 0 ||
	    hdr_add(&h, "Content-Digest: sha-256=:%s:", b64) != 0 ||
	    hdr_add(&h, "Idempotency-Key: \"%s-%s\"", it->target, hex) != 0 ||
	    hdr_add(&h, "Content-Disposition: attachment; filename=\"%s\"",
	    it->target) != 0 || hdr_add(&h, "Expect:") != 0) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	ca.data = r->server_ca;
	ca.len = strlen(r->server_ca);
	ca.flags = CURL_BLOB_COPY;
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, ebuf);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "opencm-cm-da/" VERSION);
	curl_easy_setopt(c, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	/* The rule's server CA certificates, and nothing else. */
	curl_easy_setopt(c, CURLOPT_CAINFO, NULL);
	curl_easy_setopt(c, CURLOPT_CAPATH, NULL);
	curl_easy_setopt(c, CURLOPT_CAINFO_BLOB, &ca);
	/* Straight to the server: no proxy from the environment. */
	curl_easy_setopt(c, CURLOPT_PROXY, "");
	curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(c, CURLOPT_SSL_CTX_DATA, r);
	/* Without it the client credential would silently not be sent. */
	if (curl_easy_setopt(c, CURLOPT_SSL_CTX_FUNCTION, ssl_ctx_cb) !=
	    CURLE_OK) {
		snprintf(err, errlen, "libcurl is not built with OpenSSL: the "
		    "TLS client credential cannot be used");
		goto out;
	}
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, o->timeout > 0 ?
	    o->timeout : 30L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, o->timeout > 0 ? o->timeout :
	    30L);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &x);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, progress_cb);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, &x);
	if (r->basic_user != NULL && r->basic_pass != NULL) {
		curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(c, CURLOPT_USERNAME, r->basic_user);
		curl_easy_setopt(c, CURLOPT_PASSWORD, r->basic_pass);
	}
	if (r->post) {
		curl_easy_setopt(c, CURLOPT_POST, 1L);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)len);
	} else {
		curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(c, CURLOPT_READFUNCTION, read_cb);
		curl_easy_setopt(c, CURLOPT_READDATA, &x);
		curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
	}
	cc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
	/* Stopped in flight, unless the server had already said yes. */
	if (x.stopped && (*status < 200 || *status > 299)) {
		rc = 1;
		goto out;
	}
	if (x.stopped)
		cc = CURLE_OK;
	if (cc != CURLE_OK) {
		const char *why = ebuf[0] != '\0' ? ebuf :
		    curl_easy_strerror(cc);

		if (cc == CURLE_PEER_FAILED_VERIFICATION)
			snprintf(err, errlen, "the server's certificate is not "
			    "trusted (the rule's server CA certificates): %s",
			    why);
		else if (cc == CURLE_OPERATION_TIMEDOUT)
			snprintf(err, errlen, "no answer in %ld s: %s",
			    o->timeout > 0 ? o->timeout : 30L, why);
		else if (cc == CURLE_SSL_CERTPROBLEM)
			snprintf(err, errlen, "the TLS client credential "
			    "cannot be used: %s", why);
		else
			snprintf(err, errlen, "%s (curl %d)", why, (int)cc);
		goto out;
	}
	if (*status < 200 || *status > 299) {
		reply_line(x.reply, line, sizeof(line));
		snprintf(err, errlen, "HTTP %ld%s%s", *status,
		    line[0] != '\0' ? ": " : "", line);
		goto out;
	}
	rc = 0;
out:
	(void)ctx;
	/* No callback may outlive this call's frame. */
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, NULL);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(h);
	free(url);
	return rc;
}

/* ------------------------------------------------------------ queue */

static int
blob_cb(void *arg, struct store_row *row)
{
	struct pub_xfer *x = arg;
	const unsigned char *p;
	unsigned char *b;
	size_t n;

	if ((p = store_row_blob(row, 0, &n)) == NULL || n == 0)
		return 1;
	if ((b = malloc(n)) == NULL)
		return CM_ERR_NOMEM;
	memcpy(b, p, n);
	x->body = b;
	x->len = n;
	return 1;
}

/* What an item publishes, in its rule's format.  Caller frees *out. */
static int
item_body(struct cm_ctx *ctx, const struct pub_rule *r,
    const struct pub_item *it, unsigned char **out, size_t *outlen)
{
	struct pub_xfer x;
	const char *label = "CERTIFICATE";
	int rc;

	*out = NULL;
	*outlen = 0;
	memset(&x, 0, sizeof(x));
	if (strcmp(it->kind, "crl") == 0 || strcmp(it->kind, "delta-crl") ==
	    0) {
		label = "X509 CRL";
		rc = store_query(ctx, "SELECT der FROM crls WHERE ca_id = ? "
		    "AND number = ?", blob_cb, &x, "ii", it->ca_id,
		    it->number);
	} else if (strcmp(it->kind, "cil") == 0) {
		label = "CERTIFICATE ISSUANCE LIST";
		rc = store_query(ctx, "SELECT der FROM cils WHERE ca_id = ? "
		    "AND number = ?", blob_cb, &x, "ii", it->ca_id,
		    it->number);
	} else if (strcmp(it->kind, "cert") == 0 || it->cert_id != 0)
		rc = store_query(ctx, "SELECT der FROM certs WHERE id = ?",
		    blob_cb, &x, "i", it->cert_id);
	else
		rc = store_query(ctx, "SELECT cert FROM cas WHERE id = ?",
		    blob_cb, &x, "i", it->ca_id);
	if (rc != 0)
		return rc;
	if (x.body == NULL)
		return cm_err(ctx, CM_ERR_NOTFOUND, "publication %lld: what it "
		    "publishes is not in the CMDB", (long long)it->id);
	if (!r->pem) {
		*out = (unsigned char *)x.body;
		*outlen = x.len;
		return 0;
	}
	rc = cm_pem_encode(ctx, label, x.body, x.len, out, outlen);
	free((void *)x.body);
	return rc;
}

struct items {
	struct pub_item	*v;
	size_t		 n;
};

static int
item_cb(void *arg, struct store_row *row)
{
	struct items *a = arg;
	struct pub_item *v, *it;

	if ((v = realloc(a->v, (a->n + 1) * sizeof(*v))) == NULL)
		return CM_ERR_NOMEM;
	a->v = v;
	it = &v[a->n++];
	memset(it, 0, sizeof(*it));
	it->id = store_row_int(row, 0);
	it->rule_id = store_row_int(row, 1);
	snprintf(it->kind, sizeof(it->kind), "%s", store_row_text(row, 2));
	it->ca_id = store_row_int(row, 3);
	it->number = store_row_int(row, 4);
	it->cert_id = store_row_int(row, 5);
	snprintf(it->target, sizeof(it->target), "%s", store_row_text(row, 6));
	it->attempts = (int)store_row_int(row, 7);
	snprintf(it->ca, sizeof(it->ca), "%s", store_row_text(row, 8));
	return 0;
}

/*
 * Hold the delivery lock of this CMDB: one agent delivers its queue at a
 * time.  Held until the context is freed.  CM_ERR_BUSY when another has
 * it.
 */
int
cm_publish_lock(struct cm_ctx *ctx)
{
	char *path = NULL;
	int fd;

	if (ctx->da_lock > 0)
		return 0;
	if (ctx->db_path == NULL)
		return cm_err(ctx, CM_ERR_INVAL, "no CMDB is open");
	if (cm_asprintf(&path, "%s.da-lock", ctx->db_path) == -1)
		return CM_ERR_NOMEM;
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) == -1) {
		cm_err(ctx, CM_ERR_DB, "%s: %s", path, strerror(errno));
		free(path);
		return CM_ERR_DB;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		close(fd);
		cm_err(ctx, CM_ERR_BUSY, "another delivery agent delivers the "
		    "queue of this CMDB (it holds %s)", path);
		free(path);
		return CM_ERR_BUSY;
	}
	free(path);
	ctx->da_lock = fd + 1;
	return 0;
}

/*
 * A newer item of the same rule and target takes an older one's place.
 * (The store caches statements by their text's address: literal SQL.)
 */
#define OLDER	"state IN ('pending', 'failed') AND kind != 'cert' AND " \
	"EXISTS (SELECT 1 FROM publications n WHERE n.rule_id = " \
	"publications.rule_id AND n.target = publications.target AND " \
	"n.kind = publications.kind AND n.ca_id = publications.ca_id AND " \
	"n.id > publications.id)"

static int
supersede(struct cm_ctx *ctx, struct cm_publish_stats *st)
{
	char detail[64];
	int64_t n = 0;
	int rc;

	if ((rc = store_int(ctx, &n, "SELECT count(*) FROM publications WHERE "
	    OLDER, NULL)) != 0 || n == 0)
		return rc;
	if ((rc = txn_begin(ctx)) != 0)
		return rc;
	rc = store_exec(ctx, "UPDATE publications SET state = 'superseded' "
	    "WHERE " OLDER, NULL);
	n = store_changes(ctx);
	snprintf(detail, sizeof(detail), "%lld superseded by newer items",
	    (long long)n);
	if ((rc = txn_end(ctx, rc, "publish.supersede", "publications",
	    detail)) == 0)
		st->superseded += (int)n;
	return rc;
}

/* The wait before attempt n + 1, after n failed: base * 2^(n-1), capped. */
static long
backoff(const struct cm_publish_opts *o, int n)
{
	long base = o->retry_base > 0 ? o->retry_base : 30;
	long max = o->retry_max > 0 ? o->retry_max : 3600;
	long d = base;

	while (--n > 0 && d < max)
		d *= 2;
	return d < max ? d : max;
}

/* Commit one attempt's outcome with its audit record. */
static int
record(struct cm_ctx *ctx, const struct pub_rule *r,
    const struct pub_item *it, const struct cm_publish_opts *o, long status,
    const char *err, int *given_up)
{
	char object[48], detail[CM_ERRMSG_MAX];
	time_t now = time(NULL);
	int n = it->attempts + 1, rc;

	*given_up = 0;
	snprintf(object, sizeof(object), "publication %lld",
	    (long long)it->id);
	if ((rc = txn_begin(ctx)) != 0)
		return rc;
	if (err == NULL) {
		rc = store_exec(ctx, "UPDATE publications SET state = "
		    "'delivered', attempts = ?, delivered = ?, last_error = "
		    "NULL WHERE id = ? AND state = 'pending'", "iii",
		    (int64_t)n, (int64_t)now, it->id);
		snprintf(detail, sizeof(detail), "rule %s, %s %s: HTTP %ld%s",
		    r->name, r->post ? "POST" : "PUT", it->target, status,
		    rc == 0 && store_changes(ctx) == 0 ? " (the item had left "
		    "the queue meanwhile)" : "");
		return txn_end(ctx, rc, "publish.deliver", object, detail);
	}
	*given_up = o->max_attempts > 0 && n >= o->max_attempts;
	rc = store_exec(ctx, "UPDATE publications SET state = ?, attempts = ?, "
	    "next_try = ?, last_error = ? WHERE id = ? AND state = 'pending'",
	    "tiiti", *given_up ? "failed" : "pending", (int64_t)n,
	    (int64_t)(now + backoff(o, n)), err, it->id);
	if (*given_up)
		snprintf(detail, sizeof(detail), "rule %s, %s, attempt %d, "
		    "failed for good: %s", r->name, it->target, n, err);
	else
		snprintf(detail, sizeof(detail), "rule %s, %s, attempt %d: %s; "
		    "next in %ld s", r->name, it->target, n, err,
		    backoff(o, n));
	return txn_end(ctx, rc, "publish.fail", object, detail);
}

/*
 * Deliver the due items of the queue, oldest first (at most opts->limit,
 * 0: all due), until opts->stop says so.  Each attempt commits its outcome
 * and audit record.  Returns 0 (failed deliveries are in *st and in the
 * queue), or a CM_ERR_* when the queue itself cannot be worked.
 */
int
cm_publish_run(struct cm_ctx *ctx, const struct cm_publish_opts *o,
    struct cm_publish_stats *st)
{
	static int curl_ready;
	struct items a = { NULL, 0 };
	struct pub_rule *r;
	struct cm_publication_info pi;
	unsigned char *body = NULL;
	size_t len, i;
	long status;
	char err[CM_ERRMSG_MAX];
	int given_up, rc, d;

	memset(st, 0, sizeof(*st));
	if ((rc = cm_publish_lock(ctx)) != 0)
		return rc;
	if (!curl_ready) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			return cm_err(ctx, CM_ERR_INTERNAL, "libcurl cannot "
			    "start");
		curl_ready = 1;
	}
	rules_drop_broken(ctx);
	if ((rc = supersede(ctx, st)) != 0)
		return rc;
	if ((rc = store_query(ctx, "SELECT p.id, p.rule_id, p.kind, p.ca_id, "
	    "coalesce(p.number, 0), coalesce(p.cert_id, 0), p.target, "
	    "p.attempts, c.name FROM publications p JOIN cas c ON c.id = "
	    "p.ca_id WHERE p.state = 'pending' AND p.next_try <= ? ORDER BY "
	    "p.id LIMIT ?", item_cb, &a, "ii", (int64_t)time(NULL),
	    (int64_t)(o->limit > 0 ? o->limit : -1))) != 0)
		goto out;
	for (i = 0; i < a.n; i++) {
		struct pub_item *it = &a.v[i];

		if (o->stop != NULL && o->stop(o->arg)) {
			st->stopped = 1;
			break;
		}
		if ((rc = rule_get(ctx, it->rule_id, &r)) != 0)
			goto out;
		status = 0;
		if (r->broken[0] != '\0') {
			snprintf(err, sizeof(err), "%s", r->broken);
			d = -1;
		} else if ((rc = item_body(ctx, r, it, &body, &len)) != 0) {
			snprintf(err, sizeof(err), "%s", ctx->errmsg);
			d = -1;
		} else
			d = deliver(ctx, r, it, body, len, o, &status, err,
			    sizeof(err));
		free(body);
		body = NULL;
		if (d == 1) {
			/* Stopped in flight: not an attempt; it goes again. */
			st->stopped = 1;
			break;
		}
		if ((rc = record(ctx, r, it, o, status, d == 0 ? NULL : err,
		    &given_up)) != 0)
			goto out;
		if (d == 0)
			st->delivered++;
		else
			st->failed++;
		st->given_up += given_up;
		if (o->report != NULL) {
			memset(&pi, 0, sizeof(pi));
			pi.id = it->id;
			pi.rule = r->name;
			pi.kind = it->kind;
			pi.ca = it->ca;
			pi.target = it->target;
			pi.state = d == 0 ? "delivered" : given_up ? "failed" :
			    "pending";
			pi.attempts = it->attempts + 1;
			pi.last_error = d == 0 ? NULL : err;
			o->report(o->arg, &pi, status);
		}
	}
	rc = 0;
out:
	free(a.v);
	if (rc == 0)
		rc = store_int(ctx, &st->next_due, "SELECT "
		    "coalesce(min(next_try), 0) FROM publications WHERE state "
		    "= 'pending'", NULL);
	return rc;
}
