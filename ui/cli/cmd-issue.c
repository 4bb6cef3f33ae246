/*
 * cmd-issue.c: cmctl issue, one request or a directory of them.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

enum { O_CSR = 256, O_SAN, O_DER, O_CSRDIR, O_OUTDIR, O_DRYRUN };

static int
is_request(const char *name)
{
	const char *dot = strrchr(name, '.');

	return name[0] != '.' && dot != NULL && (strcmp(dot, ".csr") == 0 ||
	    strcmp(dot, ".pem") == 0 || strcmp(dot, ".der") == 0);
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Compare request file names without their extensions. */
static int
stem_cmp(const void *a, const void *b)
{
	const char *x = *(char *const *)a, *y = *(char *const *)b;
	size_t lx = (size_t)(strrchr(x, '.') - x), ly = (size_t)(strrchr(y, '.') -
	    y);
	int c = strncmp(x, y, lx < ly ? lx : ly);

	return c != 0 ? c : (lx > ly) - (lx < ly);
}

/* Two requests that would be written to one output file (a.csr, a.pem). */
static int
stem_clash(char **names, size_t n, const char **a, const char **b)
{
	char **v;
	size_t i;
	int clash = 0;

	if ((v = calloc(n, sizeof(*v))) == NULL)
		return -1;
	memcpy(v, names, n * sizeof(*v));
	qsort(v, n, sizeof(*v), stem_cmp);
	for (i = 1; i < n && !clash; i++)
		if (stem_cmp(&v[i - 1], &v[i]) == 0) {
			*a = v[i - 1];
			*b = v[i];
			clash = 1;
		}
	free(v);
	return clash;
}

static int
issue_batch(struct cli *cli, const char *proc, const char *dir,
    const char *outdir, int der)
{
	DIR *d;
	struct dirent *de;
	char **names = NULL, **nn, *path = NULL, *dot;
	struct cm_issue_req *reqs = NULL;
	struct cm_issued *out = NULL;
	struct cli_out *files = NULL;
	unsigned char **bufs = NULL;
	size_t n = 0, i, opened = 0;
	int rc, status = 1;

	if ((d = opendir(dir)) == NULL) {
		fprintf(stderr, "cmctl: %s: %s\n", dir, strerror(errno));
		return 3;
	}
	while ((de = readdir(d)) != NULL) {
		if (!is_request(de->d_name))
			continue;
		if ((nn = reallocarray(names, n + 1, sizeof(*names))) == NULL)
			goto nomem;
		names = nn;
		if ((names[n] = strdup(de->d_name)) == NULL)
			goto nomem;
		n++;
	}
	if (n == 0) {
		fprintf(stderr, "cmctl: %s: no *.csr, *.pem or *.der requests\n",
		    dir);
		status = 3;
		goto out;
	}
	qsort(names, n, sizeof(*names), name_cmp);
	{
		const char *a, *b;

		if ((rc = stem_clash(names, n, &a, &b)) != 0) {
			if (rc == 1)
				fprintf(stderr, "cmctl: %s and %s would both be "
				    "written to one file in %s: rename one\n", a,
				    b, outdir);
			status = rc == 1 ? 3 : 1;
			goto out;
		}
	}
	if ((reqs = calloc(n, sizeof(*reqs))) == NULL ||
	    (out = calloc(n, sizeof(*out))) == NULL ||
	    (files = calloc(n, sizeof(*files))) == NULL ||
	    (bufs = calloc(n, sizeof(*bufs))) == NULL)
		goto nomem;
	for (i = 0; i < n; i++) {
		free(path);
		if (asprintf(&path, "%s/%s", dir, names[i]) == -1) {
			path = NULL;
			goto nomem;
		}
		reqs[i].procedure = proc;
		reqs[i].csr_name = names[i];
		reqs[i].der = der;
		if ((rc = cm_file_read(cli->ctx, path, &bufs[i],
		    &reqs[i].csr_len)) != 0) {
			status = cli_fail(cli, rc);
			goto out;
		}
		reqs[i].csr = bufs[i];
	}
	/* Reserve every output file before anything is issued. */
	for (i = 0; i < n; i++) {
		free(path);
		dot = strrchr(names[i], '.');
		if (asprintf(&path, "%s/%.*s.%s", outdir,
		    (int)(dot - names[i]), names[i], der ? "der" : "pem") == -1) {
			path = NULL;
			goto nomem;
		}
		if (cli_out_open(cli, path, &files[i]) == -1)
			goto out;
		opened++;
	}
	if ((rc = cm_cert_issue_batch(cli->ctx, reqs, n, out)) != 0) {
		status = cli_fail(cli, rc);
		goto out;
	}
	status = 0;
	for (i = 0; i < n; i++) {
		char *target = strdup(files[i].path);

		if (cli_out_commit(cli, &files[i], out[i].data, out[i].len) ==
		    -1)
			status = 1;
		else
			printf("%s\t%s\n", out[i].serial, target);
		free(target);
	}
	if (status != 0)
		fprintf(stderr, "cmctl: the certificates are issued and "
		    "recorded; use cmctl cert export to fetch them\n");
	goto out;
nomem:
	fprintf(stderr, "cmctl: out of memory\n");
	status = 1;
out:
	for (i = 0; i < opened; i++)
		cli_out_abort(&files[i]);
	for (i = 0; i < n; i++) {
		if (out != NULL)
			cm_issued_clear(&out[i]);
		if (bufs != NULL)
			cm_free(bufs[i]);
		free(names[i]);
	}
	free(path);
	free(names);
	free(reqs);
	free(out);
	free(files);
	free(bufs);
	closedir(d);
	return status;
}

int
cmd_issue(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "procedure",	required_argument, NULL, 'p' },
		{ "csr",	required_argument, NULL, O_CSR },
		{ "subject",	required_argument, NULL, 's' },
		{ "san",	required_argument, NULL, O_SAN },
		{ "output",	required_argument, NULL, 'o' },
		{ "der",	no_argument,	   NULL, O_DER },
		{ "csr-dir",	required_argument, NULL, O_CSRDIR },
		{ "out-dir",	required_argument, NULL, O_OUTDIR },
		{ "dry-run",	no_argument,	   NULL, O_DRYRUN },
		{ NULL, 0, NULL, 0 }
	};
	struct cm_issue_req req;
	char *subject = NULL, *san = NULL;
	int dry = 0;
	struct cm_issued is;
	struct cli_out o;
	const char *csr = NULL, *out = NULL, *dir = NULL, *outdir = NULL;
	unsigned char *buf = NULL;
	int ch, rc;

	memset(&req, 0, sizeof(req));
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "p:s:o:", opts, NULL)) != -1) {
		switch (ch) {
		case 'p': req.procedure = optarg; break;
		case 's': req.subject = optarg; break;
		case 'o': out = optarg; break;
		case O_CSR: csr = optarg; break;
		case O_SAN: req.san = optarg; break;
		case O_DER: req.der = 1; break;
		case O_CSRDIR: dir = optarg; break;
		case O_OUTDIR: outdir = optarg; break;
		case O_DRYRUN: dry = 1; break;
		default:
			return cli_usage_error("issue: unknown option or missing "
			    "argument \"%s\"", argv[optind - 1]);
		}
	}
	if (optind != argc || req.procedure == NULL)
		return cli_usage_error("issue -p PROCEDURE --csr FILE");
	if (dir != NULL || outdir != NULL) {
		if (dir == NULL || outdir == NULL || csr != NULL || out != NULL ||
		    req.subject != NULL || req.san != NULL || dry)
			return cli_usage_error("issue: a batch takes --csr-dir "
			    "and --out-dir, and no --csr, -o, -s, --san or "
			    "--dry-run");
		return issue_batch(cli, req.procedure, dir, outdir, req.der);
	}
	if (csr == NULL)
		return cli_usage_error("issue: --csr FILE or --csr-dir DIR is "
		    "required");
	if ((rc = cm_file_read(cli->ctx, csr, &buf, &req.csr_len)) != 0)
		return cli_fail(cli, rc);
	req.csr = buf;
	req.csr_name = csr;
	if (dry) {
		/* What would be issued, for review; nothing is signed. */
		rc = cm_cert_preview(cli->ctx, &req, &subject, &san);
		cm_free(buf);
		if (rc != 0)
			return cli_fail(cli, rc);
		printf("Subject: %s\nSAN: %s\n", subject, san != NULL ? san :
		    "");
		cm_free(subject);
		cm_free(san);
		return 0;
	}
	if (out != NULL && cli_out_open(cli, out, &o) == -1) {
		cm_free(buf);
		return 1;
	}
	rc = cm_cert_issue(cli->ctx, &req, &is);
	cm_free(buf);
	if (rc != 0) {
		if (out != NULL)
			cli_out_abort(&o);
		return cli_fail(cli, rc);
	}
	return cli_issued_out(cli, &o, out != NULL, &is);
}
