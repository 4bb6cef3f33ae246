/*
 * cli-util.c: secrets from files or the terminal, atomic output files.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "cli.h"

/* The program's name, in front of its messages. */
const char *cli_prog = "cmctl";

/* Print a usage error; returns the usage exit status. */
int
cli_usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", cli_prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (%s --help lists the commands)\n", cli_prog);
	return EXIT_USAGE;
}

/* The exit status documented in cmctl(8) for an engine error. */
int
cli_exit_status(int rc)
{
	switch (rc) {
	case CM_OK:		return 0;
	case CM_ERR_INVAL:	return 3;
	case CM_ERR_POLICY:	return 4;
	case CM_ERR_NOTFOUND:	return 5;
	case CM_ERR_EXISTS:	return 6;
	case CM_ERR_DB:		return 7;
	case CM_ERR_BUSY:	return 8;
	case CM_ERR_DENIED:	return 9;
	case CM_ERR_TOKEN:	return 10;
	case CM_ERR_CRYPTO:	return 11;
	case CM_ERR_AUDIT:	return 12;
	case CM_ERR_TIMEOUT:	return 13;
	default:		return 1;
	}
}

/* Report an engine error on one line and return its exit status. */
int
cli_fail(struct cli *cli, int rc)
{
	const char *msg = cm_ctx_errmsg(cli->ctx);

	if (cli->secret_err[0] != '\0')
		msg = cli->secret_err;
	if (msg == NULL || *msg == '\0')
		msg = cm_strerror(rc);
	fprintf(stderr, "%s: %s\n", cli_prog, msg);
	return cli_exit_status(rc);
}

static void
wipe(void *p, size_t n)
{
	explicit_bzero(p, n);
}

static int
secret_from_file(struct cli *cli, const char *path, int check_mode, char *buf,
    size_t len)
{
	int rc;

	if ((rc = cm_secret_file(cli->ctx, path, check_mode, buf, len)) != 0)
		snprintf(cli->secret_err, sizeof(cli->secret_err), "%s",
		    cm_ctx_errmsg(cli->ctx));
	return rc;
}

static int
read_tty(int fd, const char *prompt, char *buf, size_t len)
{
	struct termios old, noecho;
	size_t off = 0;
	ssize_t n;
	char c;
	int restore = 0;

	if (write(fd, prompt, strlen(prompt)) < 0)
		return -1;
	if (tcgetattr(fd, &old) == 0) {
		noecho = old;
		noecho.c_lflag &= ~(tcflag_t)ECHO;
		if (tcsetattr(fd, TCSAFLUSH, &noecho) == 0)
			restore = 1;
	}
	while ((n = read(fd, &c, 1)) == 1 && c != '\n' && c != '\r')
		if (off < len - 1)
			buf[off++] = c;
	buf[off] = '\0';
	c = 0;
	if (restore)
		tcsetattr(fd, TCSAFLUSH, &old);
	if (write(fd, "\n", 1) < 0)
		return -1;
	return n < 0 ? -1 : 0;
}

/*
 * The engine's secret callback.  The key store's passphrase: --pin-file,
 * else keystore.pin-file from cm.conf; an officer's PIN: the matching
 * --officer-pin-file; a token's PIN: --token-pin-file (the engine has
 * looked in cm.conf first); else, each time, the terminal.  Never echoes;
 * the caller wipes buf.
 */
int
cli_get_secret(void *arg, int kind, const char *prompt, int confirm,
    char *buf, size_t len)
{
	struct cli *cli = arg;
	const char *conf_file;
	char p[256], *again;
	int fd, rc = 0;

	if (kind == CM_SECRET_OFFICER) {
		if (cli->officer_pin != NULL)
			return secret_from_file(cli, cli->officer_pin, 0, buf,
			    len);
		goto tty;
	}
	if (kind == CM_SECRET_TOKEN) {
		if (cli->token_pin_file != NULL)
			return secret_from_file(cli, cli->token_pin_file, 0,
			    buf, len);
		goto tty;
	}
	if (cli->pin_file != NULL)
		return secret_from_file(cli, cli->pin_file, 0, buf, len);
	conf_file = cm_config_get(cli->ctx, "keystore.pin-file");
	if (conf_file != NULL)
		return secret_from_file(cli, conf_file, 1, buf, len);
tty:
	if ((fd = open("/dev/tty", O_RDWR | O_CLOEXEC)) == -1) {
		snprintf(cli->secret_err, sizeof(cli->secret_err), "%s: no "
		    "--pin-file given and no terminal to ask on", prompt);
		return CM_ERR_DENIED;
	}
	snprintf(p, sizeof(p), "%s: ", prompt);
	if (read_tty(fd, p, buf, len) == -1) {
		rc = CM_ERR_DENIED;
		goto out;
	}
	if (confirm) {
		if ((again = malloc(len)) == NULL) {
			rc = CM_ERR_NOMEM;
			goto out;
		}
		snprintf(p, sizeof(p), "%s again: ", prompt);
		if (read_tty(fd, p, again, len) == -1 ||
		    strcmp(again, buf) != 0) {
			snprintf(cli->secret_err, sizeof(cli->secret_err),
			    "%s: the two entries differ", prompt);
			rc = CM_ERR_DENIED;
		}
		wipe(again, len);
		free(again);
	}
out:
	close(fd);
	if (rc != 0)
		wipe(buf, len);
	return rc;
}

/*
 * Reserve an output file: a temporary file beside path, so nothing at path
 * changes until cli_out_commit renames it.  Returns 0 or -1 (reported).
 */
int
cli_out_open(struct cli *cli, const char *path, struct cli_out *o)
{
	struct stat st;

	(void)cli;
	memset(o, 0, sizeof(*o));
	o->fd = -1;
	/*
	 * Not a file (/dev/null, a pipe, a terminal): written as it is, never
	 * replaced by a rename.
	 */
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		if ((o->path = strdup(path)) == NULL ||
		    (o->fd = open(path, O_WRONLY | O_CLOEXEC)) == -1) {
			fprintf(stderr, "%s: %s: %s\n", cli_prog, path,
			    o->path == NULL ? "out of memory" :
			    strerror(errno));
			free(o->path);
			o->path = NULL;
			return -1;
		}
		return 0;
	}
	if ((o->path = strdup(path)) == NULL ||
	    asprintf(&o->tmp, "%s.tmpXXXXXX", path) == -1) {
		free(o->path);
		o->tmp = NULL;
		fprintf(stderr, "%s: out of memory\n", cli_prog);
		return -1;
	}
	if ((o->fd = mkstemp(o->tmp)) == -1) {
		fprintf(stderr, "%s: %s: %s\n", cli_prog, path,
		    strerror(errno));
		free(o->tmp);
		free(o->path);
		o->tmp = o->path = NULL;
		return -1;
	}
	fchmod(o->fd, 0644);
	return 0;
}

/* Keep a reserved file private (mode 0600): a token, a key. */
void
cli_out_private(struct cli_out *o)
{
	if (o->fd != -1 && o->tmp != NULL)
		fchmod(o->fd, 0600);
}

/* Write data to the reserved file and rename it into place. */
int
cli_out_commit(struct cli *cli, struct cli_out *o, const void *data,
    size_t len)
{
	const char *p = data;
	ssize_t n;
	size_t off = 0;

	(void)cli;
	while (off < len) {
		n = write(o->fd, p + off, len - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			goto fail;
		off += (size_t)n;
	}
	if ((o->tmp != NULL && fsync(o->fd) == -1) || close(o->fd) == -1) {
		o->fd = -1;
		goto fail;
	}
	o->fd = -1;
	if (o->tmp != NULL && rename(o->tmp, o->path) == -1)
		goto fail;
	free(o->tmp);
	free(o->path);
	o->tmp = o->path = NULL;
	return 0;
fail:
	fprintf(stderr, "%s: %s: %s\n", cli_prog, o->path, strerror(errno));
	cli_out_abort(o);
	return -1;
}

/* Drop a reserved output file; path is left as it was. */
void
cli_out_abort(struct cli_out *o)
{
	if (o->fd != -1)
		close(o->fd);
	if (o->tmp != NULL)
		unlink(o->tmp);
	free(o->tmp);
	free(o->path);
	memset(o, 0, sizeof(*o));
	o->fd = -1;
}

int
cli_write_stdout(const void *data, size_t len)
{
	if (fwrite(data, 1, len, stdout) != len || fflush(stdout) != 0) {
		fprintf(stderr, "%s: standard output: %s\n", cli_prog,
		    strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * For a command that takes no options and exactly nargs arguments: 0, or
 * a usage error with the one-line usage given.
 */
int
cli_args(const char *usage, int argc, char **argv, int nargs)
{
	opterr = 0;
	if (getopt_long(argc, argv, "", NULL, NULL) != -1 ||
	    optind != argc - nargs)
		return cli_usage_error("%s", usage);
	return 0;
}

/* Parse an integer option in [min, max]; prints a usage error. */
int
cli_parse_int(const char *opt, const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0 || v < min || v > max) {
		cli_usage_error("%s \"%s\": a number from %ld to %ld is "
		    "required", opt, s, min, max);
		return -1;
	}
	*out = v;
	return 0;
}

const char *
cli_time(time_t t, char *buf, size_t len)
{
	cm_time_format(t, buf, len);
	return buf;
}

/*
 * Write DER data, or its PEM form with label, to path or standard output.
 * Returns an exit status.
 */
int
cli_der_or_pem(struct cli *cli, const char *path, const unsigned char *der,
    size_t len, int as_der, const char *label)
{
	struct cli_out o;
	unsigned char *pem = NULL;
	size_t pemlen = 0;
	const void *data = der;
	size_t dlen = len;
	int rc;

	if (!as_der) {
		if ((rc = cm_pem_encode(cli->ctx, label, der, len, &pem,
		    &pemlen)) != 0)
			return cli_fail(cli, rc);
		data = pem;
		dlen = pemlen;
	}
	if (path == NULL)
		rc = cli_write_stdout(data, dlen) == 0 ? 0 : 1;
	else if (cli_out_open(cli, path, &o) == -1)
		rc = 1;
	else
		rc = cli_out_commit(cli, &o, data, dlen) == 0 ? 0 : 1;
	cm_free(pem);
	return rc;
}

/*
 * Hand out an issued certificate: into the reserved output file (and its
 * serial on stdout), or to stdout.  Clears is.  Returns the exit status.
 */
int
cli_issued_out(struct cli *cli, struct cli_out *o, int to_file,
    struct cm_issued *is)
{
	int status;

	if (to_file) {
		status = cli_out_commit(cli, o, is->data, is->len) == 0 ? 0 : 1;
		if (status == 0)
			printf("%s\n", is->serial);
		else
			fprintf(stderr, "%s: certificate %s is issued and "
			    "recorded; use cmctl cert export to fetch it\n",
			    cli_prog, is->serial);
	} else
		status = cli_write_stdout(is->data, is->len) == 0 ? 0 : 1;
	cm_issued_clear(is);
	return status;
}

/*
 * The one option of a list command: --state STATE, and no arguments.
 * Returns 0 with *state (NULL: not given), or a usage error's status.
 */
int
cli_state_opt(int argc, char **argv, const char *cmd, const char *usage,
    const char **state)
{
	static const struct option opts[] = {
		{ "state", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 }
	};
	int ch;

	*state = NULL;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch != 's')
			return cli_usage_error("%s: unknown option or missing "
			    "argument \"%s\"", cmd, argv[optind - 1]);
		*state = optarg;
	}
	if (optind != argc)
		return cli_usage_error("%s", usage);
	return 0;
}
