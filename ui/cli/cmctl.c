/*
 * cmctl: every engine operation as a batch command,
 * cmctl [global options] NOUN VERB [options].
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <pwd.h>

#include "cli.h"

const struct cli_cmd cli_cmds[] = {
	{ "init", NULL, cmd_init, "init", 0 },
	{ "bootstrap", NULL, cmd_bootstrap, "bootstrap --kit DIR [--org DN]",
	    1 },
	{ "key", "create", cmd_key_create, "key create -n NAME -t "
	    "rsa:2048|rsa:3072|rsa:4096|ec:p256|ec:p384|ed25519\n"
	    "             [--device soft|pkcs11:token=LABEL]", 1 },
	{ "key", "list", cmd_key_list, "key list [--state "
	    "in-use|retired|removed]", 1 },
	{ "key", "show", cmd_key_show, "key show NAME", 1 },
	{ "key", "retire", cmd_key_retire, "key retire NAME", 1 },
	{ "key", "remove", cmd_key_remove, "key remove NAME", 1 },
	{ "ca", "create", cmd_ca_create, "ca create -n NAME -k KEY -s DN "
	    "(--self-signed | -i ISSUER_CA) [--validity 10y] [--pathlen N] "
	    "[--crl-interval 24h] [--delta-interval 1h] [--cdp URL] "
	    "[--aia URL]", 1 },
	{ "ca", "request", cmd_ca_request, "ca request -n NAME -k KEY -s DN "
	    "-o FILE [--crl-interval 24h] [--delta-interval 1h] [--cdp URL] "
	    "[--aia URL]", 1 },
	{ "ca", "import", cmd_ca_import, "ca import -n NAME --cert FILE", 1 },
	{ "ca", "list", cmd_ca_list, "ca list", 1 },
	{ "ca", "show", cmd_ca_show, "ca show NAME", 1 },
	{ "ca", "export", cmd_ca_export, "ca export NAME [--chain] [-o FILE]",
	    1 },
	{ "ca", "revoke", cmd_ca_revoke, "ca revoke NAME -r REASON", 1 },
	{ "ca", "modify", cmd_ca_modify, "ca modify NAME [--crl-interval 24h] "
	    "[--delta-interval 1h] [--cdp URL] [--aia URL] "
	    "[--revoke-delta yes|no]", 1 },
	{ "cert-procedure", "create", cmd_procedure_create, "cert-procedure "
	    "create -n NAME --ca CA --format FORMAT [--key-usage LIST] "
	    "[--eku LIST] [--validity 365d] [--digest sha256|sha384|sha512] "
	    "[--chain none|ca|full] [--allow-keys LIST] [--field KEY=VALUE]...",
	    1 },
	{ "cert-procedure", "modify", cmd_procedure_create, "cert-procedure "
	    "modify -n NAME [--ca CA] [--format FORMAT] [--key-usage LIST] "
	    "[--eku LIST] [--validity 365d] [--digest sha256|sha384|sha512] "
	    "[--chain none|ca|full] [--allow-keys LIST] [--field KEY=VALUE... | "
	    "--no-fields]", 1 },
	{ "cert-procedure", "list", cmd_procedure_list, "cert-procedure list",
	    1 },
	{ "cert-procedure", "show", cmd_procedure_show, "cert-procedure show "
	    "NAME", 1 },
	{ "token-procedure", "create", cmd_token_procedure_create,
	    "token-procedure create -n NAME --storage smartcard|pkcs12|pkcs10 "
	    "[--card-serial yes|no] [--serial-range mandatory|optional|none] "
	    "[--serial-ranges FROM-TO,...] [--pin-procedure show|letter] "
	    "[--issuer-certs none|ca|chain] --cert-procedure P "
	    "[--cert-procedure P2 ...] [--key-type TYPE]", 1 },
	{ "token-procedure", "modify", cmd_token_procedure_create,
	    "token-procedure modify -n NAME [--card-serial yes|no] "
	    "[--serial-range mandatory|optional|none] [--serial-ranges "
	    "FROM-TO,...|none] [--pin-procedure show|letter] [--issuer-certs "
	    "none|ca|chain] [--cert-procedure P ...] [--key-type TYPE]", 1 },
	{ "token-procedure", "list", cmd_token_procedure_list,
	    "token-procedure list", 1 },
	{ "token-procedure", "show", cmd_token_procedure_show,
	    "token-procedure show NAME", 1 },
	{ "subject", "register", cmd_subject_register, "subject register -s DN "
	    "[--email ADDRESS] [--san LIST]", 1 },
	{ "subject", "list", cmd_subject_list, "subject list [--search TEXT]",
	    1 },
	{ "subject", "modify", cmd_subject_modify, "subject modify ID|DN "
	    "[--email ADDRESS] [--san LIST]", 1 },
	{ "subject", "show", cmd_subject_show, "subject show ID|DN", 1 },
	{ "token", "issue", cmd_token_issue, "token issue -P TOKEN_PROCEDURE "
	    "--subject ID|DN -o FILE [--pin-letter FILE] [--csr FILE] "
	    "[--pkcs12-fallback]", 1 },
	{ "token", "list", cmd_token_list, "token list [--subject ID|DN]", 1 },
	{ "token", "show", cmd_token_show, "token show ID", 1 },
	{ "token", "revoke", cmd_token_revoke, "token revoke ID -r REASON", 1 },
	{ "dist-rule", "create", cmd_dist_rule_create, "dist-rule create -n NAME "
	    "--url URL --method PUT|POST --publish LIST\n"
	    "             --server-ca FILE [--format der|pem] "
	    "[--client URI|FILE [--client-pass-file FILE]]\n"
	    "             [--basic-user USER --basic-password-file FILE]", 1 },
	{ "dist-rule", "list", cmd_dist_rule_list, "dist-rule list", 1 },
	{ "dist-rule", "show", cmd_dist_rule_show, "dist-rule show NAME", 1 },
	{ "dist-rule", "attach", cmd_dist_rule_attach, "dist-rule attach NAME "
	    "(--ca CA | --procedure PROCEDURE)", 1 },
	{ "dist-rule", "detach", cmd_dist_rule_detach, "dist-rule detach NAME "
	    "(--ca CA | --procedure PROCEDURE)", 1 },
	{ "publish", "list", cmd_publish_list, "publish list [--state "
	    "pending|delivered|failed|superseded|withdrawn] [--rule RULE]",
	    1 },
	{ "publish", "status", cmd_publish_status, "publish status", 1 },
	{ "publish", "retry", cmd_publish_retry, "publish retry [ID]", 1 },
	{ "card", "init", cmd_card_init, "card init --label LABEL [--card URI] "
	    "[--transport-pin-file FILE]", 1 },
	{ "card", "personalize", cmd_card_personalize, "card personalize -P "
	    "TOKEN_PROCEDURE --subject ID|DN [--card URI]\n"
	    "             [--label LABEL] [--pin-letter FILE] [-o FILE]", 1 },
	{ "card", "replace", cmd_card_replace, "card replace SERIAL "
	    "[--card URI] [-r REASON] [--pin-letter FILE] [-o FILE]", 1 },
	{ "card", "list", cmd_card_list, "card list [--state "
	    "initialized|personalized|revoked]", 1 },
	{ "card", "show", cmd_card_show, "card show SERIAL", 1 },
	{ "card", "unblock", cmd_card_unblock, "card unblock SERIAL", 1 },
	{ "card", "revoke", cmd_card_revoke, "card revoke SERIAL -r REASON", 1 },
	{ "card", "readers", cmd_card_readers, "card readers", 0 },
	{ "card", "wait", cmd_card_wait, "card wait [--reader NAME] [--removed] "
	    "[--timeout SECONDS]", 0 },
	{ "officer-profile", "create", cmd_officer_profile_create,
	    "officer-profile create -n NAME --permissions LIST", 1 },
	{ "officer-profile", "modify", cmd_officer_profile_create,
	    "officer-profile modify -n NAME --permissions LIST", 1 },
	{ "officer-profile", "list", cmd_officer_profile_list,
	    "officer-profile list", 1 },
	{ "officer-profile", "show", cmd_officer_profile_show,
	    "officer-profile show NAME", 1 },
	{ "officer", "create", cmd_officer_create, "officer create -n NAME "
	    "--cert FILE --profile PROFILE", 1 },
	{ "officer", "list", cmd_officer_list, "officer list", 1 },
	{ "officer", "show", cmd_officer_show, "officer show NAME", 1 },
	{ "officer", "disable", cmd_officer_disable, "officer disable NAME", 1 },
	{ "officer", "modify", cmd_officer_modify, "officer modify NAME "
	    "--profile PROFILE", 1 },
	{ "change", "list", cmd_change_list, "change list [--state "
	    "pending|applied|rejected]", 1 },
	{ "change", "show", cmd_change_show, "change show ID", 1 },
	{ "change", "sign", cmd_change_sign, "change sign ID", 1 },
	{ "change", "reject", cmd_change_reject, "change reject ID "
	    "[-r REASON]", 1 },
	{ "policy", "export", cmd_policy_export, "policy export [-o FILE]", 1 },
	{ "policy", "import", cmd_policy_import, "policy import FILE", 1 },
	{ "issue", NULL, cmd_issue, "issue -p PROCEDURE (--csr FILE [-s DN] "
	    "[--san LIST] [-o FILE] [--dry-run] | --csr-dir DIR --out-dir DIR) "
	    "[--der]", 1 },
	{ "cert", "list", cmd_cert_list, "cert list [--ca CA] [--subject "
	    "PREFIX] [--status valid|hold|revoked|expired] [--expiring DAYS] "
	    "[--limit N]", 1 },
	{ "cert", "show", cmd_cert_show, "cert show SERIAL [--ca CA]", 1 },
	{ "cert", "export", cmd_cert_export, "cert export SERIAL [--ca CA] "
	    "[-o FILE] [--der]", 1 },
	{ "cert", "renew", cmd_cert_renew, "cert renew SERIAL [--ca CA] "
	    "[-o FILE] [--der]", 1 },
	{ "revoke", NULL, cmd_revoke, "revoke SERIAL -r REASON [--ca CA] "
	    "[--time T]", 1 },
	{ "release", NULL, cmd_release, "release SERIAL [--ca CA]", 1 },
	{ "crl", "issue", cmd_crl_issue, "crl issue --ca CA [--delta] "
	    "[-o FILE] [--der]", 1 },
	{ "crl", "list", cmd_crl_list, "crl list --ca CA", 1 },
	{ "crl", "export", cmd_crl_export, "crl export --ca CA [--number N] "
	    "[-o FILE] [--der]", 1 },
	{ "cil", "issue", cmd_cil_issue, "cil issue --ca CA [-o FILE] [--der]",
	    1 },
	{ "cil", "list", cmd_cil_list, "cil list --ca CA", 1 },
	{ "cil", "export", cmd_cil_export, "cil export --ca CA [--number N] "
	    "[-o FILE] [--der]", 1 },
	{ "audit", "list", cmd_audit_list, "audit list [--since T] [--until T] "
	    "[--actor TEXT] [--action PREFIX] [--result ok|refused] "
	    "[--limit N]", 1 },
	{ "audit", "verify", cmd_audit_verify, "audit verify", 1 },
	{ "audit", "checkpoint", cmd_audit_checkpoint, "audit checkpoint", 1 },
	{ NULL, NULL, NULL, NULL, 0 }
};

static void
usage(FILE *f)
{
	const struct cli_cmd *c;

	fprintf(f, "usage: cmctl [-q | -v] [-d CMDB] [-c cm.conf] "
	    "[--pin-file FILE]\n"
	    "             [--token-pin-file FILE] [--officer FILE|URI "
	    "[--officer-pin-file FILE]]...\n"
	    "             NOUN VERB [options]\n"
	    "       cmctl -h | --help | -V | --version\n");
	for (c = cli_cmds; c->noun != NULL; c++)
		fprintf(f, "       cmctl %s\n", c->usage);
}

/* A message for the user on stderr, unless -q. */
void
cli_info(struct cli *cli, const char *fmt, ...)
{
	va_list ap;
	int64_t pending;

	if ((pending = cm_change_pending(cli->ctx)) != 0) {
		/* Not done yet: say so even with -q. */
		printf("change %lld is pending: a second officer signs it "
		    "with \"cmctl change sign %lld\"\n", (long long)pending,
		    (long long)pending);
		return;
	}
	if (cli->quiet)
		return;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Log in every --officer; the n-th --officer-pin-file is the n-th's PIN. */
static int
login(struct cli *cli)
{
	unsigned char *buf = NULL;
	size_t i, len;
	int rc;

	for (i = 0; i < cli->nofficers; i++) {
		buf = NULL;
		len = 0;
		/* A smart card (a PKCS#11 URI) or a PKCS#12 file. */
		if (strncmp(cli->officers[i], "pkcs11:", 7) != 0 &&
		    (rc = cm_file_read(cli->ctx, cli->officers[i], &buf,
		    &len)) != 0)
			return cli_fail(cli, rc);
		cli->officer_pin = i < cli->nofficer_pins ?
		    cli->officer_pins[i] : NULL;
		rc = cm_officer_login(cli->ctx, cli->officers[i], buf, len);
		cli->officer_pin = NULL;
		cm_free(buf);
		if (rc != 0)
			return cli_fail(cli, rc);
	}
	return 0;
}

int
main(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "pin-file",	required_argument,	NULL, 'P' },
		{ "officer",	required_argument,	NULL, 'O' },
		{ "officer-pin-file", required_argument, NULL, 'N' },
		{ "token-pin-file", required_argument,	NULL, 'T' },
		{ "help",	no_argument,		NULL, 'h' },
		{ "version",	no_argument,		NULL, 'V' },
		{ NULL,		0,			NULL, 0 }
	};
	struct cli cli;
	const struct cli_cmd *c, *found = NULL;
	struct cm_ui_ops ui;
	const char *conf = NULL, *noun, *verb;
	char *db_default = NULL, *actor = NULL;
	struct passwd *pw;
	int ch, rc, status, shift;

	memset(&cli, 0, sizeof(cli));
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "+c:d:hqvV", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			conf = optarg;
			break;
		case 'd':
			cli.db_path = optarg;
			break;
		case 'P':
			cli.pin_file = optarg;
			break;
		case 'O':
			if (cli.nofficers == 4)
				return cli_usage_error("at most 4 --officer");
			cli.officers[cli.nofficers++] = optarg;
			break;
		case 'N':
			if (cli.nofficer_pins == 4)
				return cli_usage_error("at most 4 "
				    "--officer-pin-file");
			cli.officer_pins[cli.nofficer_pins++] = optarg;
			break;
		case 'T':
			cli.token_pin_file = optarg;
			break;
		case 'q':
			cli.quiet = 1;
			break;
		case 'v':
			cli.verbose = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("cmctl (opencm) %s\n", PACKAGE_VERSION);
			return 0;
		default:
			return cli_usage_error("unknown option or missing "
			    "argument \"%s\"", argv[optind - 1]);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		return cli_usage_error("a command is required");
	noun = argv[0];
	verb = argc > 1 ? argv[1] : NULL;
	for (c = cli_cmds; c->noun != NULL; c++) {
		if (strcmp(c->noun, noun) != 0)
			continue;
		if (c->verb == NULL || (verb != NULL &&
		    strcmp(c->verb, verb) == 0)) {
			found = c;
			break;
		}
	}
	if (found == NULL) {
		for (c = cli_cmds; c->noun != NULL; c++)
			if (strcmp(c->noun, noun) == 0)
				return cli_usage_error("%s: unknown verb \"%s\"",
				    noun, verb != NULL ? verb : "");
		return cli_usage_error("unknown command \"%s\"", noun);
	}
	shift = found->verb == NULL ? 0 : 1;

	if (cm_ctx_new(&cli.ctx) != 0) {
		fprintf(stderr, "cmctl: out of memory\n");
		return 1;
	}
	ui.get_secret = cli_get_secret;
	ui.arg = &cli;
	cm_ctx_set_ui(cli.ctx, &ui);
	pw = getpwuid(getuid());
	if (asprintf(&actor, "cmctl:%s", pw != NULL ? pw->pw_name : "?") == -1 ||
	    cm_ctx_set_actor(cli.ctx, actor) != 0) {
		status = 1;
		goto out;
	}
	if ((rc = cm_ctx_setup(cli.ctx, conf, cli.db_path, &db_default)) !=
	    0) {
		status = cli_fail(&cli, rc);
		goto out;
	}
	if (found->fn == cmd_init && cli.db_path == NULL && getenv("CM_DB") ==
	    NULL && cm_config_get(cli.ctx, "db.path") == NULL)
		cm_mkparent(db_default);
	cli.db_path = db_default;
	if (cli.verbose)
		fprintf(stderr, "cmctl: CMDB %s%s%s\n", cli.db_path,
		    conf != NULL ? ", configuration " : "",
		    conf != NULL ? conf : "");
	if (found->needs_db && (rc = cm_db_open(cli.ctx, cli.db_path)) != 0) {
		status = cli_fail(&cli, rc);
		goto out;
	}
	if (cli.nofficer_pins > cli.nofficers) {
		status = cli_usage_error("more --officer-pin-file than "
		    "--officer");
		goto out;
	}
	if (found->needs_db && (status = login(&cli)) != 0)
		goto out;
	optind = 0;
	status = found->fn(&cli, argc - shift, argv + shift);
	/* What went wrong beside a success (a CRL not issued on revocation). */
	if (status == 0 && cm_ctx_warning(cli.ctx) != NULL)
		fprintf(stderr, "cmctl: warning: %s\n",
		    cm_ctx_warning(cli.ctx));
out:
	free(actor);
	cm_free(db_default);
	cm_ctx_free(cli.ctx);
	return status;
}
