/*
 * da.c: cm-da, the Distribution Agent.  It delivers the publication queue
 * of a CMDB over HTTPS (the engine's cm_publish_run()) and, as a daemon,
 * issues CRLs and CILs on schedule before their nextUpdate.  With --once
 * it works the queue once and exits, for cron.  SIGTERM and SIGINT stop
 * it cleanly: a transfer in flight is abandoned (the item stays in the
 * queue and goes again) and nothing else is left half done.  SIGHUP makes
 * it open the rules again and try PINs and CRLs it had given up on.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

static volatile sig_atomic_t stopping;
static volatile sig_atomic_t reloading;

struct da {
	struct cli		 cli;
	const char		*conf;
	int			 once;
	int			 no_crls;
	long			 limit;
	long			 poll;
	long			 margin;
	struct cm_publish_opts	 opts;
};

static void
usage(FILE *f)
{
	fprintf(f, "usage: cm-da [-c FILE] [-d CMDB] [--once] [--no-crls] "
	    "[--limit N]\n"
	    "             [--pin-file FILE] [--token-pin-file FILE] [-q]\n");
}

static void
on_signal(int sig)
{
	if (sig == SIGHUP)
		reloading = 1;
	else
		stopping = 1;
}

static int
stop_cb(void *arg)
{
	(void)arg;
	return stopping;
}

static void
logf_(struct da *da, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* One line a event on standard output, with the time (UTC). */
static void
logf_(struct da *da, const char *fmt, ...)
{
	char t[32];
	time_t now = time(NULL);
	struct tm tm;
	va_list ap;

	if (da->cli.quiet)
		return;
	gmtime_r(&now, &tm);
	strftime(t, sizeof(t), "%Y-%m-%dT%H:%M:%SZ", &tm);
	printf("%s cm-da: ", t);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static void
report_cb(void *arg, const struct cm_publication_info *pi, long status)
{
	struct da *da = arg;

	if (pi->last_error == NULL)
		logf_(da, "publication %lld delivered: rule %s, %s (HTTP %ld)",
		    (long long)pi->id, pi->rule, pi->target, status);
	else
		logf_(da, "publication %lld %s: rule %s, %s, attempt %d: %s",
		    (long long)pi->id, strcmp(pi->state, "failed") == 0 ?
		    "failed for good" : "not delivered", pi->rule, pi->target,
		    pi->attempts, pi->last_error);
}

static void
due_cb(void *arg, const struct cm_crl_due *d)
{
	struct da *da = arg;

	if (d->rc == 0)
		logf_(da, "CA \"%s\": %s %lld issued", d->ca, d->what,
		    (long long)d->number);
	else
		logf_(da, "CA \"%s\": the %s that is due was not issued: %s",
		    d->ca, d->what, d->error);
}

/* A duration from cm.conf (key), or def; -1 (reported) when malformed. */
static long
conf_duration(struct da *da, const char *key, long def, long min)
{
	const char *v = cm_config_get(da->cli.ctx, key);
	time_t t;

	if (v == NULL)
		return def;
	if (min == 0 && strcmp(v, "0") == 0)
		return 0;
	if (cm_duration_parse(da->cli.ctx, key, v, 0, &t) != 0 || t < min) {
		fprintf(stderr, "cm-da: cm.conf: %s \"%s\" is not a duration "
		    "of %lds or more\n", key, v, min);
		return -1;
	}
	return (long)t;
}

static int
configure(struct da *da)
{
	const char *v;
	long n;

	if ((da->poll = conf_duration(da, "da.poll", 30, 1)) < 0 ||
	    (da->margin = conf_duration(da, "da.crl-margin", 3600, 0)) < 0 ||
	    (da->opts.retry_base = conf_duration(da, "da.retry-base", 30,
	    1)) < 0 ||
	    (da->opts.retry_max = conf_duration(da, "da.retry-max", 3600,
	    1)) < 0 ||
	    (da->opts.timeout = conf_duration(da, "da.timeout", 30, 1)) < 0)
		return 3;
	da->opts.max_attempts = 10;
	if ((v = cm_config_get(da->cli.ctx, "da.max-attempts")) != NULL) {
		if (cli_parse_int("da.max-attempts", v, 0, 1000, &n) != 0)
			return 3;
		da->opts.max_attempts = (int)n;
	}
	if (!da->no_crls && (v = cm_config_get(da->cli.ctx, "da.crls")) !=
	    NULL) {
		if (strcmp(v, "no") != 0 && strcmp(v, "yes") != 0) {
			fprintf(stderr, "cm-da: cm.conf: da.crls \"%s\": yes "
			    "or no\n", v);
			return 3;
		}
		da->no_crls = strcmp(v, "no") == 0;
	}
	return 0;
}

static int
parse(struct da *da, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config",	    required_argument, NULL, 'c' },
		{ "db",		    required_argument, NULL, 'd' },
		{ "once",	    no_argument,       NULL, '1' },
		{ "no-crls",	    no_argument,       NULL, 'n' },
		{ "limit",	    required_argument, NULL, 'l' },
		{ "pin-file",	    required_argument, NULL, 'P' },
		{ "token-pin-file", required_argument, NULL, 'T' },
		{ "quiet",	    no_argument,       NULL, 'q' },
		{ NULL, 0, NULL, 0 }
	};
	int ch;

	opterr = 0;
	while ((ch = getopt_long(argc, argv, "c:d:q", opts, NULL)) != -1) {
		switch (ch) {
		case 'c': da->conf = optarg; break;
		case 'd': da->cli.db_path = optarg; break;
		case '1': da->once = 1; break;
		case 'n': da->no_crls = 1; break;
		case 'l':
			if (cli_parse_int("--limit", optarg, 1, 1000000,
			    &da->limit) != 0)
				return EXIT_USAGE;
			break;
		case 'P': da->cli.pin_file = optarg; break;
		case 'T': da->cli.token_pin_file = optarg; break;
		case 'q': da->cli.quiet = 1; break;
		default:
			usage(stderr);
			return cli_usage_error("unknown option or missing "
			    "argument \"%s\"", argv[optind - 1]);
		}
	}
	if (optind != argc) {
		usage(stderr);
		return cli_usage_error("unexpected argument \"%s\"",
		    argv[optind]);
	}
	return 0;
}

/*
 * Sleep up to secs, or until a signal says stop: in short naps, so that a
 * signal between the test and the sleep is seen within 0.2 s.
 */
static void
nap(long secs)
{
	struct timespec ts;
	long left = secs * 5;

	while (!stopping && !reloading && left-- > 0) {
		ts.tv_sec = 0;
		ts.tv_nsec = 200000000L;
		while (!stopping && nanosleep(&ts, &ts) == -1 &&
		    errno == EINTR)
			;
	}
}

static int
run(struct da *da)
{
	struct cm_publish_stats st;
	long wait;
	int rc;

	if ((rc = cm_publish_lock(da->cli.ctx)) != 0)
		return cli_fail(&da->cli, rc);
	da->opts.limit = (int)da->limit;
	da->opts.stop = stop_cb;
	da->opts.report = report_cb;
	da->opts.arg = da;
	if (!da->once)
		logf_(da, "started: CMDB %s, every %lds%s", da->cli.db_path,
		    da->poll, da->no_crls ? ", no CRLs" : "");
	for (;;) {
		if (reloading) {
			reloading = 0;
			cm_publish_reset(da->cli.ctx);
			logf_(da, "SIGHUP: rules and PINs are opened again");
		}
		if (!da->no_crls && !da->once && !stopping)
			(void)cm_crl_schedule(da->cli.ctx, da->margin, due_cb,
			    da);
		rc = cm_publish_run(da->cli.ctx, &da->opts, &st);
		/* A daemon waits out a CMDB that is busy or cannot be read. */
		if (rc != 0 && !da->once && (rc == CM_ERR_BUSY ||
		    rc == CM_ERR_DB)) {
			logf_(da, "the queue was not worked: %s",
			    cm_ctx_errmsg(da->cli.ctx));
			memset(&st, 0, sizeof(st));
		} else if (rc != 0)
			return cli_fail(&da->cli, rc);
		if (da->once || stopping)
			break;
		wait = da->poll;
		if (st.next_due > 0 && st.next_due - time(NULL) < wait)
			wait = st.next_due - time(NULL);
		nap(wait > 0 ? wait : 1);
		if (stopping)
			break;
	}
	if (!da->once)
		logf_(da, "stopped");
	/* Cron hears of what is left: failures, or a stop before the end. */
	if (da->once && (st.failed > 0 || st.stopped))
		return 1;
	return 0;
}

int
main(int argc, char *argv[])
{
	struct da da;
	struct cm_ui_ops ui;
	struct sigaction sa;
	struct passwd *pw;
	char *db = NULL, *actor = NULL;
	int i, rc, status;

	cli_prog = "cm-da";
	memset(&da, 0, sizeof(da));
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") ==
		    0) {
			usage(stdout);
			return 0;
		}
		if (strcmp(argv[i], "-V") == 0 || strcmp(argv[i],
		    "--version") == 0) {
			printf("cm-da (opencm) %s\n", PACKAGE_VERSION);
			return 0;
		}
	}
	if ((status = parse(&da, argc, argv)) != 0)
		return status;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;	/* no SA_RESTART: naps end at once */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if ((rc = cm_ctx_new(&da.cli.ctx)) != 0) {
		fprintf(stderr, "cm-da: %s\n", cm_strerror(rc));
		return 1;
	}
	ui.get_secret = cli_get_secret;
	ui.arg = &da.cli;
	cm_ctx_set_ui(da.cli.ctx, &ui);
	pw = getpwuid(getuid());
	if (asprintf(&actor, "cm-da:%s", pw != NULL ? pw->pw_name : "?") ==
	    -1 || cm_ctx_set_actor(da.cli.ctx, actor) != 0)
		status = 1;
	else if ((rc = cm_ctx_setup(da.cli.ctx, da.conf, da.cli.db_path,
	    &db)) != 0)
		status = cli_fail(&da.cli, rc);
	else if ((status = configure(&da)) == 0) {
		da.cli.db_path = db;
		if ((rc = cm_db_open(da.cli.ctx, db)) != 0)
			status = cli_fail(&da.cli, rc);
		else
			status = run(&da);
	}
	free(actor);
	cm_free(db);
	cm_ctx_free(da.cli.ctx);
	return status;
}
