/*
 * extern.h: libcm's private interface, prototypes listed by file.
 */
#ifndef CM_EXTERN_H
#define CM_EXTERN_H

#include <stdarg.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "cm.h"

#define CM_APPLICATION_ID	0x4f434d44	/* "OCMD" */
#define CM_ERRMSG_MAX		1024

struct store;
struct store_row;
struct signer;
struct p11_module;
struct p11_tok;
struct p11_undo;
struct p11lib;
struct pub_rule;
struct sched_fail;

#define PERM_POLICY	0x01
#define PERM_ISSUE	0x02
#define PERM_REVOKE	0x04
#define PERM_RECOVER	0x08
#define PERM_AUDIT	0x10

/* An officer who logged in: a proven key and a checked certificate. */
struct officer_session {
	int64_t		 id;
	char		 name[160];
	unsigned	 perms;
	int		 two_step;
	X509		*cert;
	EVP_PKEY	*key;
};

#define MAX_OFFICERS	4

struct cm_conf_entry {
	char	*key;
	char	*value;
};

struct cm_ctx {
	struct store		*store;
	char			*db_path;
	int			 readonly;
	int			 busy_ms;
	int			 sync_full;
	char			 errmsg[CM_ERRMSG_MAX];
	char			 warning[CM_ERRMSG_MAX]; /* of a success */
	struct cm_ui_ops	 ui;
	char			*actor;
	struct cm_conf_entry	*conf;
	size_t			 nconf;
	char			*conf_path;
	char			*passphrase;	/* key store */
	int			 ks_ok;		/* passphrase verified */
	struct signer		*signers;	/* open signers, by key id */
	struct procedure	*proc_cache;	/* the last one issued under */
	struct officer_session	 officers[MAX_OFFICERS];
	size_t			 nofficers;
	char			*os_actor;	/* the actor before a login */
	int64_t			 pending_change; /* left by the last submit */
	struct p11_module	*p11;		/* loaded PKCS#11 modules */
	struct p11_tok		*p11_toks;	/* open token sessions */
	struct p11_undo		*p11_undo;	/* token objects of the txn */
	struct p11lib		*p11lib;	/* libp11, for token keys */
	struct pub_rule		*pub_rules;	/* rules delivery opened */
	int			 da_lock;	/* delivery lock fd + 1 */
	struct sched_fail	*sched_fails;	/* CRLs the schedule missed */
};

/* ctx.c */
int		 cm_err(struct cm_ctx *, int, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
int		 cm_err_ssl(struct cm_ctx *, int, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
void		 cm_err_prefix(struct cm_ctx *, const char *);
void		 cm_err_suffix(struct cm_ctx *, const char *);

/* util.c */
const char	*cm_def(const char *, const char *);
char		*cm_strdup(const char *);
int		 cm_asprintf(char **, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
void		 cm_hex(const unsigned char *, size_t, char *);
int		 cm_hexval(int);
int		 cm_split(const char *, char, char ***, size_t *);
void		 cm_split_free(char **, size_t);
int		 cm_list_has(const char *, const char *);
int		 cm_list_norm(const char *, char **);
long		 cm_duration_seconds(const char *);
time_t		 cm_time_add(time_t, const char *);
void		 cm_secret_free(char *);

/* store.c: the only file that calls sqlite3_*. */
typedef int (*store_row_cb)(void *, struct store_row *);
int		 store_open(struct cm_ctx *, const char *, int);
void		 store_close(struct cm_ctx *);
int		 store_begin(struct cm_ctx *);
int		 store_commit(struct cm_ctx *);
void		 store_rollback(struct cm_ctx *);
int		 store_in_txn(struct cm_ctx *);
int		 store_exec(struct cm_ctx *, const char *, const char *, ...);
int		 store_query(struct cm_ctx *, const char *, store_row_cb, void *,
		    const char *, ...);
int		 store_int(struct cm_ctx *, int64_t *, const char *,
		    const char *, ...);
int		 store_named(struct cm_ctx *, int64_t *, const char *,
		    const char *, const char *);
int64_t		 store_last_id(struct cm_ctx *);
int64_t		 store_changes(struct cm_ctx *);
int64_t		 store_row_int(struct store_row *, int);
const char	*store_row_text(struct store_row *, int);
const unsigned char *store_row_blob(struct store_row *, int, size_t *);
int		 store_row_null(struct store_row *, int);

/* audit.c */
int		 audit_append(struct cm_ctx *, const char *, const char *,
		    const char *);
int		 audit_done(struct cm_ctx *, int, const char *, const char *);
void		 audit_auto_checkpoint(struct cm_ctx *);
int		 txn_begin(struct cm_ctx *);
int		 txn_end(struct cm_ctx *, int, const char *, const char *,
		    const char *);

/* change.c */
struct change;
struct change	*change_new(const char *);
void		 change_free(struct change *);
int		 change_set(struct change *, const char *, const char *);
int		 change_set_int(struct change *, const char *, long long);
const char	*change_get(const struct change *, const char *);
const char	*change_type(const struct change *);
int		 change_latest(struct cm_ctx *, int64_t *);
int		 change_target(struct cm_ctx *, int, int, const char *,
		    const char *);
int		 change_submit(struct cm_ctx *, struct change *, const char *);
/* What the hash-chained audit log says an applied change was and left. */
/* In the audit record of a change applied under four-eye control. */
#define CHANGE_FOUR_EYE	"under four-eye control"

struct change_audit {
	int64_t	id;
	char	digest[65];
	char	policy[65];
	int	four_eye;	/* applied under four-eye control */
};
int		 change_verify_all(struct cm_ctx *, const struct change_audit *,
		    size_t, int64_t *);

/* keystore.c */
int		 keystore_ask_new(struct cm_ctx *);
int		 keystore_setup(struct cm_ctx *);
int		 keystore_unlock(struct cm_ctx *);
int		 keystore_encrypt(struct cm_ctx *, EVP_PKEY *, unsigned char **,
		    size_t *);
int		 keystore_decrypt(struct cm_ctx *, const unsigned char *, size_t,
		    EVP_PKEY **);
int		 keystore_seal(struct cm_ctx *, const char *, unsigned char **,
		    size_t *);
int		 keystore_unseal(struct cm_ctx *, const unsigned char *, size_t,
		    char **);

/* key.c */
int		 key_apply_create(struct cm_ctx *, const struct change *);
int		 key_apply_state(struct cm_ctx *, const struct change *);
int		 key_lookup(struct cm_ctx *, const char *, int64_t *, char *,
		    size_t);
int		 key_spki(struct cm_ctx *, int64_t, EVP_PKEY **);
int		 key_type_known(const char *);
EVP_PKEY	*key_new(const char *);

/* signer.c */
int		 signer_get(struct cm_ctx *, int64_t, struct signer **);
int		 signer_open(struct cm_ctx *, int64_t, struct signer **);
void		 signer_free_all(struct cm_ctx *);
int		 signer_sign_cert(struct cm_ctx *, struct signer *, X509 *,
		    const char *);
int		 signer_sign_init(struct cm_ctx *, struct signer *,
		    const char *, EVP_MD_CTX **, X509_ALGOR **);
int		 signer_sign_req(struct cm_ctx *, struct signer *, X509_REQ *,
		    const char *);
const char	*signer_digest(struct signer *);

/* p11.c: PKCS#11 tokens.  A URI as RFC 7512 has it. */
struct p11_uri {
	char		 token[33];
	char		 serial[17];
	char		 manufacturer[33];
	char		 model[17];
	char		 object[128];
	char		 type[16];
	char		 module[256];
	unsigned char	 id[64];
	size_t		 idlen;
	unsigned long	 slot;		/* slot-id: cm-hwsetup -slot only */
	int		 slot_set;
};
int		 p11_uri_parse(struct cm_ctx *, const char *, struct p11_uri *);
void		 p11_uri_format(const struct p11_uri *, char *, size_t);
const char	*p11_uri_token(const struct p11_uri *);
const char	*p11_uri_safe(const char *);
const char	*p11_module_path(const struct cm_ctx *, size_t);
int		 p11_module_load(struct cm_ctx *, const char *,
		    struct p11_module **);
int		 p11_fail_rv(struct cm_ctx *, const char *, const char *,
		    unsigned long);
int		 p11_each_token(struct cm_ctx *, const struct p11_uri *,
		    int (*)(void *, struct p11_module *, unsigned long,
		    const void *), void *);
int		 p11_open(struct cm_ctx *, const struct p11_uri *, int,
		    struct p11_tok **);
const char	*p11_tok_label(const struct p11_tok *);
const char	*p11_tok_serial(const struct p11_tok *);
int		 p11_pin(struct cm_ctx *, const char *, int, char *, size_t);
int		 p11_login(struct cm_ctx *, struct p11_tok *, int,
		    const char *);
void		 p11_logout(struct p11_tok *);
int		 p11_reset(struct cm_ctx *, struct p11_tok *);
int		 p11_slot_user(struct cm_ctx *, const char *, unsigned long);
int		 p11_slot_logout(struct cm_ctx *, const char *, unsigned long);
int		 p11_keygen(struct cm_ctx *, struct p11_tok *, const char *,
		    const char *, const unsigned char *, size_t, const char *,
		    EVP_PKEY **);
int		 p11_undo_push(struct cm_ctx *, struct p11_tok *,
		    unsigned long);
void		 p11_undo_end(struct cm_ctx *, int);
void		 p11_close(struct cm_ctx *, struct p11_tok *);
void		 p11_close_all(struct cm_ctx *);

/* p11key.c: token keys through libp11. */
int		 p11_key_open(struct cm_ctx *, const char *, int, EVP_PKEY *,
		    EVP_PKEY **);
int		 p11_client_open(struct cm_ctx *, const char *, X509 **,
		    EVP_PKEY **);
int		 p11_cert_keys(struct cm_ctx *, const char *, int,
		    int (*)(void *, X509 *, EVP_PKEY *), void *, char *,
		    size_t);
void		 p11_key_close_all(struct cm_ctx *);

/* dn.c */
int		 dn_parse(struct cm_ctx *, const char *, X509_NAME **);
char		*dn_format(const X509_NAME *);

/* x509.c */
char		*b64_encode(const unsigned char *, size_t);
int		 x509_serial_new(struct cm_ctx *, ASN1_INTEGER **, char *);
void		 x509_serial_hex(const ASN1_INTEGER *, char *, size_t);
int		 x509_serial_norm(const char *, char *, size_t);
int		 x509_keyid(const X509_PUBKEY *, unsigned char *, char *);
time_t		 x509_time(const ASN1_TIME *);
int		 x509_set_time(ASN1_TIME *, time_t);
ASN1_TIME	*x509_time_new(time_t);
int		 x509_add_ext(struct cm_ctx *, X509 *, X509V3_CTX *, int,
		    const char *);
int		 x509_pem(struct cm_ctx *, X509 *, unsigned char **, size_t *);
X509		*x509_from_der(const unsigned char *, size_t);
X509		*x509_decode(const unsigned char *, size_t);
const char	*x509_key_type(EVP_PKEY *, char *, size_t);
int		 x509_append(unsigned char **, size_t *, const unsigned char *,
		    size_t);

/* ca.c */
int		 ca_apply_create(struct cm_ctx *, const struct change *);
int		 ca_apply_import(struct cm_ctx *, const struct change *);
int		 ca_apply_revoke(struct cm_ctx *, const struct change *);
int		 ca_apply_modify(struct cm_ctx *, const struct change *);
int		 ca_lookup(struct cm_ctx *, const char *, int64_t *);
int		 ca_load(struct cm_ctx *, int64_t, X509 **, int64_t *, char *,
		    size_t);
int		 ca_chain_pem(struct cm_ctx *, int64_t, int, unsigned char **,
		    size_t *);
int		 ca_chain_x509(struct cm_ctx *, int64_t, int, STACK_OF(X509) *);

/* format.c */
struct format;
const struct format *format_find(const char *);
int		 format_check(struct cm_ctx *, const struct format *,
		    const char *, const char *, const char *);
int		 format_is_ca(const struct format *);
int		 format_san_rule(const struct format *);
int		 format_ocsp_nocheck(const struct format *);
const char	*format_ku(const struct format *);
const char	*format_eku(const struct format *);
#define SAN_RULE_NONE	0
#define SAN_RULE_HOST	1	/* needs dNSName or iPAddress, copies CN */
#define SAN_RULE_EMAIL	2	/* needs rfc822Name */

/* procedure.c */
struct procedure {
	int64_t			 id;
	int64_t			 policy;	/* last applied change seen */
	char			*name;
	int64_t			 ca_id;
	char			 ca_name[160];
	const struct format	*fmt;
	char			*ku;
	char			*eku;
	char			*validity;
	char			*digest;
	char			*chain;
	char			*allow_keys;
	int			 challenge_ok;
	X509			*ca_cert;
	int64_t			 key_id;
	time_t			 ca_not_after;
	STACK_OF(X509_EXTENSION) *exts;	/* the same in every certificate */
	unsigned char		*chain_pem;
	size_t			 chain_len;
};
int		 procedure_apply_create(struct cm_ctx *, const struct change *);
int		 procedure_load(struct cm_ctx *, const char *,
		    struct procedure **);
void		 procedure_free(struct procedure *);
int		 procedure_get(struct cm_ctx *, const char *,
		    struct procedure **);
void		 procedure_cache_clear(struct cm_ctx *);

/* csr.c */
struct csr;
int		 csr_load(struct cm_ctx *, const char *, const unsigned char *,
		    size_t, struct csr **);
void		 csr_free(struct csr *);
X509_NAME	*csr_get0_subject(const struct csr *);
const STACK_OF(X509_ATTRIBUTE) *csr_get0_attributes(const struct csr *);
EVP_PKEY	*csr_get0_pkey(const struct csr *);
const char	*csr_key_type(const struct csr *);
STACK_OF(X509_EXTENSION) *csr_extensions(const struct csr *);
int		 csr_copy_pubkey(const struct csr *, X509 *);
int		 csr_from_cert(struct cm_ctx *, const char *, X509 *,
		    struct csr **);

/* issue.c */
int		 issue_key_allowed(const char *, const char *, int, long *);
int		 issue_ca_usable(struct cm_ctx *, const struct procedure *);
int		 issue_check(struct cm_ctx *, const struct procedure *,
		    const struct csr *, const char *);
int		 issue_sign(struct cm_ctx *, struct procedure *, struct csr *,
		    const struct cm_issue_req *, struct cm_issued *);

/* revoke.c */
int		 revoke_cert_row(struct cm_ctx *, int64_t, int, time_t);

/* subject.c */
int		 subject_san_check(struct cm_ctx *, const char *, const char *);
int		 subject_lookup(struct cm_ctx *, const char *, int64_t *);

/* token.c */
struct card;
int		 token_issue(struct cm_ctx *, const struct cm_token_req *,
		    struct card *, struct cm_token_issued *);
int		 token_revoke_rows(struct cm_ctx *, int64_t, int, size_t *);
int		 token_cert_pem(struct cm_ctx *, int64_t, char **, size_t *);
int		 token_procedure_apply_create(struct cm_ctx *,
		    const struct change *);

/* card.c: smart cards at the card station. */
int		 card_ranges_check(struct cm_ctx *, const char *, const char *);
int		 card_key(struct cm_ctx *, struct card *, size_t, const char *,
		    const char *, const char *, const char *, struct csr **);
int		 card_store(struct cm_ctx *, struct card *, size_t, X509 *,
		    const char *);
int		 card_record(struct cm_ctx *, struct card *, int64_t, char *,
		    size_t);
char		*card_take_pin(struct card *);

/* officer.c */
int		 officer_require(struct cm_ctx *, unsigned, const char *);
int		 officer_enforced(struct cm_ctx *, int64_t *);
void		 officer_logout_all(struct cm_ctx *);
int		 officer_profile_apply_create(struct cm_ctx *,
		    const struct change *);
int		 officer_apply_create(struct cm_ctx *, const struct change *);
int		 officer_apply_disable(struct cm_ctx *, const struct change *);
int		 officer_apply_modify(struct cm_ctx *, const struct change *);

/* crl.c */
void		 crl_revoke_prepare(struct cm_ctx *, int64_t, int64_t);
int		 crl_revoke_deltas(struct cm_ctx *);
void		 crl_sched_free(struct cm_ctx *);

/* dist.c */
int		 dist_rule_apply_create(struct cm_ctx *, const struct change *);
int		 dist_rule_apply_attach(struct cm_ctx *, const struct change *);
int		 dist_rule_apply_detach(struct cm_ctx *, const struct change *);
int		 dist_enqueue_crl(struct cm_ctx *, int64_t, const char *, int,
		    int64_t);
int		 dist_enqueue_cert(struct cm_ctx *, int64_t, int64_t, int64_t,
		    const char *);
int		 dist_enqueue_ca_cert(struct cm_ctx *, int64_t, int64_t,
		    const char *);
int		 dist_enqueue_cil(struct cm_ctx *, int64_t, const char *,
		    int64_t);
int		 dist_p12_load(struct cm_ctx *, const char *, const char *,
		    X509 **, EVP_PKEY **, STACK_OF(X509) **);

/* publish.c */
void		 publish_free_all(struct cm_ctx *);

/* policy.c */
int		 policy_apply_import(struct cm_ctx *, const struct change *);

/* lint.c */
struct lint_crl_view {
	long			 version;	/* 1 for v2 */
	const X509_NAME		*issuer;
	const ASN1_TIME		*this_update;
	const ASN1_TIME		*next_update;
	const STACK_OF(X509_EXTENSION) *exts;
	int			 nentries;
	void			(*entry)(void *, int, const ASN1_INTEGER **,
				    const ASN1_TIME **);
	void			*arg;
};
int		 lint_cert(struct cm_ctx *, X509 *);
int		 lint_crl(struct cm_ctx *, X509_CRL *);
int		 lint_crl_view(struct cm_ctx *, const struct lint_crl_view *);

#endif /* CM_EXTERN_H */
