/*
 * cli.h: cmctl, the batch front end.  It fills the engine's request
 * structs from options and prints what the engine returns; it never
 * touches OpenSSL or SQLite itself.
 */
#ifndef CLI_H
#define CLI_H

#include <getopt.h>
#include <stdio.h>

#include "cm.h"

#define EXIT_USAGE	2

struct cli {
	struct cm_ctx	*ctx;
	const char	*db_path;
	const char	*pin_file;
	const char	*token_pin_file;
	int		 quiet;
	int		 verbose;
	char		 secret_err[512];	/* why no secret was had */
	const char	*officers[4];		/* --officer FILE */
	const char	*officer_pins[4];	/* --officer-pin-file FILE */
	size_t		 nofficers;
	size_t		 nofficer_pins;
	const char	*officer_pin;		/* ... from this file */
};

struct cli_out {
	char	*path;
	char	*tmp;
	int	 fd;
};

struct cli_cmd {
	const char	*noun;
	const char	*verb;
	int		(*fn)(struct cli *, int, char **);
	const char	*usage;
	int		 needs_db;
};

extern const struct cli_cmd cli_cmds[];

/* cmctl.c */
void	cli_info(struct cli *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));

/* cli-util.c: shared by cmctl and cm-hwsetup */
extern const char *cli_prog;
int	cli_usage_error(const char *, ...)
	    __attribute__((format(printf, 1, 2)));
int	cli_fail(struct cli *, int);
int	cli_exit_status(int);
int	cli_get_secret(void *, int, const char *, int, char *, size_t);
int	cli_out_open(struct cli *, const char *, struct cli_out *);
int	cli_out_commit(struct cli *, struct cli_out *, const void *, size_t);
void	cli_out_abort(struct cli_out *);
void	cli_out_private(struct cli_out *);
int	cli_write_stdout(const void *, size_t);
int	cli_issued_out(struct cli *, struct cli_out *, int,
	    struct cm_issued *);
int	cli_args(const char *, int, char **, int);
int	cli_parse_int(const char *, const char *, long, long, long *);
int	cli_state_opt(int, char **, const char *, const char *,
	    const char **);
const char *cli_time(time_t, char *, size_t);
int	cli_der_or_pem(struct cli *, const char *, const unsigned char *,
	    size_t, int, const char *);

/* cmd-*.c */
int	cmd_init(struct cli *, int, char **);
int	cmd_bootstrap(struct cli *, int, char **);
int	cmd_key_create(struct cli *, int, char **);
int	cmd_key_list(struct cli *, int, char **);
int	cmd_key_show(struct cli *, int, char **);
int	cmd_key_retire(struct cli *, int, char **);
int	cmd_key_remove(struct cli *, int, char **);
int	cmd_ca_create(struct cli *, int, char **);
int	cmd_ca_request(struct cli *, int, char **);
int	cmd_ca_import(struct cli *, int, char **);
int	cmd_ca_list(struct cli *, int, char **);
int	cmd_ca_show(struct cli *, int, char **);
int	cmd_ca_export(struct cli *, int, char **);
int	cmd_ca_revoke(struct cli *, int, char **);
int	cmd_ca_modify(struct cli *, int, char **);
int	cmd_procedure_create(struct cli *, int, char **);
int	cmd_procedure_list(struct cli *, int, char **);
int	cmd_procedure_show(struct cli *, int, char **);
int	cmd_issue(struct cli *, int, char **);
int	cmd_cert_list(struct cli *, int, char **);
int	cmd_cert_show(struct cli *, int, char **);
int	cmd_cert_export(struct cli *, int, char **);
int	cmd_revoke(struct cli *, int, char **);
int	cmd_release(struct cli *, int, char **);
int	cmd_crl_issue(struct cli *, int, char **);
int	cmd_crl_list(struct cli *, int, char **);
int	cmd_crl_export(struct cli *, int, char **);
int	cmd_cil_issue(struct cli *, int, char **);
int	cmd_cil_list(struct cli *, int, char **);
int	cmd_cil_export(struct cli *, int, char **);
int	cmd_audit_list(struct cli *, int, char **);
int	cmd_subject_register(struct cli *, int, char **);
int	cmd_officer_profile_create(struct cli *, int, char **);
int	cmd_officer_profile_list(struct cli *, int, char **);
int	cmd_officer_profile_show(struct cli *, int, char **);
int	cmd_officer_create(struct cli *, int, char **);
int	cmd_officer_list(struct cli *, int, char **);
int	cmd_officer_show(struct cli *, int, char **);
int	cmd_officer_disable(struct cli *, int, char **);
int	cmd_officer_modify(struct cli *, int, char **);
int	cmd_change_list(struct cli *, int, char **);
int	cmd_policy_export(struct cli *, int, char **);
int	cmd_policy_import(struct cli *, int, char **);
int	cmd_change_show(struct cli *, int, char **);
int	cmd_change_sign(struct cli *, int, char **);
int	cmd_change_reject(struct cli *, int, char **);
int	cmd_subject_list(struct cli *, int, char **);
int	cmd_subject_modify(struct cli *, int, char **);
int	cmd_cert_renew(struct cli *, int, char **);
int	cmd_subject_show(struct cli *, int, char **);
int	cmd_token_procedure_create(struct cli *, int, char **);
int	cmd_token_procedure_list(struct cli *, int, char **);
int	cmd_token_procedure_show(struct cli *, int, char **);
int	cmd_token_issue(struct cli *, int, char **);
int	cmd_token_list(struct cli *, int, char **);
int	cmd_token_show(struct cli *, int, char **);
int	cmd_token_revoke(struct cli *, int, char **);
int	cli_pin_letter(int, const char *, const struct cm_token_issued *);
int	cmd_dist_rule_create(struct cli *, int, char **);
int	cmd_dist_rule_list(struct cli *, int, char **);
int	cmd_dist_rule_show(struct cli *, int, char **);
int	cmd_dist_rule_attach(struct cli *, int, char **);
int	cmd_dist_rule_detach(struct cli *, int, char **);
int	cmd_publish_list(struct cli *, int, char **);
int	cmd_publish_status(struct cli *, int, char **);
int	cmd_publish_retry(struct cli *, int, char **);
int	cmd_card_init(struct cli *, int, char **);
int	cmd_card_personalize(struct cli *, int, char **);
int	cmd_card_replace(struct cli *, int, char **);
int	cmd_card_list(struct cli *, int, char **);
int	cmd_card_show(struct cli *, int, char **);
int	cmd_card_unblock(struct cli *, int, char **);
int	cmd_card_revoke(struct cli *, int, char **);
int	cmd_card_readers(struct cli *, int, char **);
int	cmd_card_wait(struct cli *, int, char **);
int	cmd_audit_verify(struct cli *, int, char **);
int	cmd_audit_checkpoint(struct cli *, int, char **);

#endif /* CLI_H */
