/*
 * cm.h: the public interface of libcm, the opencm engine.
 *
 * Every front end (cmctl, cm-awb, cm-ra) uses only what is declared here.
 * Calls return 0 or a negative CM_ERR_* value; the detail of a failure is
 * in cm_ctx_errmsg().  The engine never prints, prompts or exits: secrets
 * reach it through struct cm_ui_ops.
 */
#ifndef CM_H
#define CM_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define CM_OK			  0
#define CM_ERR_NOMEM		 -1
#define CM_ERR_INVAL		 -2
#define CM_ERR_CRYPTO		 -3
#define CM_ERR_DB		 -4
#define CM_ERR_TOKEN		 -5
#define CM_ERR_POLICY		 -6
#define CM_ERR_DENIED		 -7
#define CM_ERR_NOTFOUND		 -8
#define CM_ERR_EXISTS		 -9
#define CM_ERR_BUSY		-10
#define CM_ERR_AUDIT		-11
#define CM_ERR_INTERNAL		-12
#define CM_ERR_TIMEOUT		-13

/* RFC 5280 5.3.1 CRLReason values. */
enum cm_reason {
	CM_REASON_UNSPECIFIED = 0,
	CM_REASON_KEY_COMPROMISE = 1,
	CM_REASON_CA_COMPROMISE = 2,
	CM_REASON_AFFILIATION_CHANGED = 3,
	CM_REASON_SUPERSEDED = 4,
	CM_REASON_CESSATION_OF_OPERATION = 5,
	CM_REASON_CERTIFICATE_HOLD = 6,
	CM_REASON_REMOVE_FROM_CRL = 8,
	CM_REASON_PRIVILEGE_WITHDRAWN = 9,
	CM_REASON_AA_COMPROMISE = 10
};

struct cm_ctx;

/* What a secret the engine asks for opens. */
#define CM_SECRET_KEYSTORE	1	/* the soft key store's passphrase */
#define CM_SECRET_OFFICER	2	/* an officer's token (file or card) */
#define CM_SECRET_TOKEN		3	/* the user PIN of a PKCS#11 token */

/*
 * Callbacks through which the engine asks the front end for secrets.
 * get_secret() writes a NUL-terminated secret of at most len - 1 bytes
 * into buf and returns 0, or a negative CM_ERR_* (CM_ERR_DENIED when no
 * secret can be had).  kind is a CM_SECRET_*; the prompt names what the
 * secret opens.  With confirm set the front end asks twice.
 */
struct cm_ui_ops {
	int	(*get_secret)(void *arg, int kind, const char *prompt,
		    int confirm, char *buf, size_t len);
	void	*arg;
};

/* ctx.c */
int		 cm_ctx_new(struct cm_ctx **);
void		 cm_ctx_free(struct cm_ctx *);
void		 cm_ctx_set_ui(struct cm_ctx *, const struct cm_ui_ops *);
int		 cm_ctx_set_actor(struct cm_ctx *, const char *);
const char	*cm_ctx_errmsg(const struct cm_ctx *);
const char	*cm_ctx_warning(const struct cm_ctx *);
void		 cm_ctx_clear_warning(struct cm_ctx *);
const char	*cm_strerror(int);
int		 cm_config_load(struct cm_ctx *, const char *, int);
const char	*cm_config_get(const struct cm_ctx *, const char *);
int		 cm_ctx_setup(struct cm_ctx *, const char *, const char *,
		    char **);
void		 cm_free(void *);

/* store.c */
int		 cm_db_create(struct cm_ctx *, const char *);
int		 cm_db_open(struct cm_ctx *, const char *);
const char	*cm_db_path(const struct cm_ctx *);

/* util.c */
int		 cm_duration_parse(struct cm_ctx *, const char *, const char *,
		    time_t, time_t *);
int		 cm_time_parse(struct cm_ctx *, const char *, const char *,
		    time_t *);
void		 cm_time_format(time_t, char *, size_t);
char		*cm_xdg_path(const char *, const char *, const char *);
void		 cm_mkparent(const char *);
int		 cm_secret_file(struct cm_ctx *, const char *, int, char *,
		    size_t);
int		 cm_name_check(struct cm_ctx *, const char *, const char *);
int		 cm_dn_check(struct cm_ctx *, const char *);
int		 cm_san_check(struct cm_ctx *, const char *);
int		 cm_file_read(struct cm_ctx *, const char *, unsigned char **,
		    size_t *);

/* Key Registry (key.c). */
struct cm_key_req {
	const char	*name;
	const char	*type;		/* rsa:2048 ... ec:p256 ... ed25519 */
	const char	*device;	/* NULL or "soft": the key store; else
					   a PKCS#11 URI naming a token */
};

struct cm_key_info {
	int64_t		 id;
	const char	*name;
	const char	*identifier;
	const char	*algorithm;
	const char	*device;
	const char	*state;		/* "in use", "retired", "removed" */
	time_t		 created;
	const unsigned char *spki;	/* SubjectPublicKeyInfo, DER */
	size_t		 spki_len;
};

typedef int (*cm_key_cb)(void *, const struct cm_key_info *);
int	cm_key_create(struct cm_ctx *, const struct cm_key_req *);
int	cm_key_retire(struct cm_ctx *, const char *);
int	cm_key_remove(struct cm_ctx *, const char *);
int	cm_key_list(struct cm_ctx *, const char *, const char *, cm_key_cb,
	    void *);

/* CAs (ca.c). */
struct cm_ca_req {
	const char	*name;
	const char	*key;
	const char	*subject;
	const char	*issuer;	/* NULL: self-signed */
	const char	*validity;	/* default "10y" */
	int		 pathlen;	/* -1: none */
	const char	*crl_interval;	/* default "24h" */
	const char	*delta_interval; /* default "0": no delta CRLs */
	const char	*cdp;
	const char	*aia;
	const char	*revoke_delta;	/* "yes": a delta CRL on every
					   revocation; NULL: keep */
};

struct cm_ca_info {
	int64_t		 id;
	const char	*name;
	const char	*key;
	const char	*key_identifier;
	const char	*subject;
	const char	*issuer;	/* CA name, "self-signed" or "external" */
	const char	*state;		/* "active", "pending", "revoked" */
	const char	*serial;
	time_t		 not_before;
	time_t		 not_after;
	long		 crl_interval;
	long		 delta_interval;
	const char	*cdp;
	const char	*aia;
	int		 pathlen;
	int64_t		 next_crl_number;
	const unsigned char *cert;	/* DER; NULL while pending */
	size_t		 cert_len;
	int		 revoke_delta;	/* a delta CRL on every revocation */
};

typedef int (*cm_ca_cb)(void *, const struct cm_ca_info *);
int	cm_ca_create(struct cm_ctx *, const struct cm_ca_req *);
int	cm_ca_request(struct cm_ctx *, const struct cm_ca_req *,
	    unsigned char **, size_t *);
int	cm_ca_import(struct cm_ctx *, const char *, const unsigned char *,
	    size_t);
int	cm_ca_revoke(struct cm_ctx *, const char *, const char *);
int	cm_ca_modify(struct cm_ctx *, const struct cm_ca_req *);
int	cm_ca_list(struct cm_ctx *, const char *, cm_ca_cb, void *);
int	cm_ca_export(struct cm_ctx *, const char *, int, unsigned char **,
	    size_t *);

/* Certificate procedures (procedure.c, format.c). */
struct cm_cert_procedure_req {
	const char	*name;
	const char	*ca;
	const char	*format;
	const char	*key_usage;	/* comma list, NULL: the format's */
	const char	*eku;
	const char	*validity;	/* default "365d" */
	const char	*digest;	/* default "sha256" */
	const char	*chain;		/* none, ca, full; default "none" */
	const char	*allow_keys;
	const char * const *fields;	/* KEY=VALUE */
	size_t		 nfields;
};

struct cm_cert_procedure_info {
	int64_t		 id;
	const char	*name;
	const char	*ca;
	const char	*format;
	const char	*key_usage;
	const char	*eku;
	const char	*validity;
	const char	*digest;
	const char	*chain;
	const char	*allow_keys;
	const char	*fields;	/* KEY=VALUE lines */
	const char	*state;		/* "usable" or why it is not */
};

typedef int (*cm_cert_procedure_cb)(void *,
    const struct cm_cert_procedure_info *);
int	cm_cert_procedure_create(struct cm_ctx *,
	    const struct cm_cert_procedure_req *);
int	cm_cert_procedure_modify(struct cm_ctx *,
	    const struct cm_cert_procedure_req *);
int	cm_cert_procedure_list(struct cm_ctx *, const char *,
	    cm_cert_procedure_cb, void *);
const char *const *cm_formats(void);

/* Issuance (issue.c). */
struct cm_issue_req {
	const char	*procedure;
	const unsigned char *csr;	/* PEM or DER PKCS#10 */
	size_t		 csr_len;
	const char	*csr_name;	/* names the request in messages */
	const char	*subject;	/* NULL: the request's */
	const char	*san;		/* DNS:a,IP:b,email:c,URI:d */
	int		 der;		/* output DER instead of PEM */
};

struct cm_issued {
	char		 serial[41];
	unsigned char	*data;		/* PEM (with chain) or DER */
	size_t		 len;
};

int	cm_cert_issue(struct cm_ctx *, const struct cm_issue_req *,
	    struct cm_issued *);
int	cm_cert_issue_batch(struct cm_ctx *, const struct cm_issue_req *,
	    size_t, struct cm_issued *);
void	cm_issued_clear(struct cm_issued *);
int	cm_cert_renew(struct cm_ctx *, const char *, const char *, int,
	    struct cm_issued *);
int	cm_cert_preview(struct cm_ctx *, const struct cm_issue_req *, char **,
	    char **);

/* Certificates (issue.c, revoke.c). */
struct cm_cert_filter {
	const char	*ca;
	const char	*subject_prefix;
	const char	*status;	/* valid, hold, revoked, expired */
	int		 expiring_days;	/* -1: any */
	int		 limit;		/* 0: no limit */
	/*
	 * Keyset paging: the rows after (or with backward set, before, the
	 * nearest first) the row with this id and, in a subject prefix
	 * search, this subject.  0: from the start (backward: the end).
	 */
	int64_t		 after_id;
	const char	*after_subject;
	int		 backward;
};

struct cm_cert_info {
	int64_t		 id;
	const char	*serial;
	const char	*ca;
	const char	*subject;
	const char	*procedure;
	const char	*status;
	time_t		 not_before;
	time_t		 not_after;
	time_t		 issued;
	const char	*reason;	/* when revoked or on hold */
	time_t		 revocation_time;
	const unsigned char *der;
	size_t		 der_len;
};

typedef int (*cm_cert_cb)(void *, const struct cm_cert_info *);
int	cm_cert_list(struct cm_ctx *, const struct cm_cert_filter *,
	    cm_cert_cb, void *);
int	cm_cert_show(struct cm_ctx *, const char *, const char *, cm_cert_cb,
	    void *);

struct cm_revoke_req {
	const char	*serial;
	const char	*ca;		/* NULL: the only CA with that serial */
	const char	*reason;	/* RFC 5280 name */
	const char	*time;		/* NULL: now */
};

int	cm_cert_revoke(struct cm_ctx *, const struct cm_revoke_req *);
int	cm_cert_release(struct cm_ctx *, const char *, const char *);
int	cm_reason_parse(const char *);
const char *cm_reason_name(int);

/* CRLs (crl.c). */
struct cm_crl_info {
	int64_t		 number;
	const char	*ca;
	int		 delta;
	int64_t		 base_number;
	time_t		 this_update;
	time_t		 next_update;
	int64_t		 entries;
	const unsigned char *der;
	size_t		 der_len;
};

typedef int (*cm_crl_cb)(void *, const struct cm_crl_info *);
int	cm_crl_issue(struct cm_ctx *, const char *, int, int64_t *);
int	cm_crl_list(struct cm_ctx *, const char *, int64_t, cm_crl_cb, void *);

/* Certificate issuance lists (crl.c), listed as CRLs are. */
int	cm_cil_issue(struct cm_ctx *, const char *, int64_t *);
int	cm_cil_list(struct cm_ctx *, const char *, int64_t, cm_crl_cb, void *);

/* What cm_crl_schedule() issued, or failed to. */
struct cm_crl_due {
	const char	*ca;
	const char	*what;		/* "full CRL", "delta CRL", "CIL" */
	int64_t		 number;
	int		 rc;
	const char	*error;		/* when rc != 0 */
};

typedef void (*cm_crl_due_cb)(void *, const struct cm_crl_due *);
int	cm_crl_schedule(struct cm_ctx *, long, cm_crl_due_cb, void *);

/* Audit log (audit.c). */
struct cm_audit_info {
	int64_t		 seq;
	time_t		 time;
	const char	*actor;
	const char	*action;
	const char	*object;
	const char	*result;
	const char	*detail;
};

struct cm_audit_filter {
	time_t		 since;		/* 0: from the first record */
	time_t		 until;		/* 0: to the last record */
	const char	*actor;		/* records whose actor contains this */
	const char	*action;	/* records whose action starts so */
	const char	*result;	/* "ok" or "refused" */
	int		 limit;		/* 0: no limit */
	int64_t		 after_seq;	/* keyset paging, as cm_cert_filter */
	int		 backward;
};

typedef int (*cm_audit_cb)(void *, const struct cm_audit_info *);
int	cm_audit_list(struct cm_ctx *, const struct cm_audit_filter *,
	    cm_audit_cb, void *);
int	cm_audit_verify(struct cm_ctx *, int64_t *, int64_t *);
int	cm_audit_checkpoint(struct cm_ctx *, int64_t *);

/*
 * Keyset paging of a list in id order: the rows after the row with id
 * after (0: from the start) or, with backward, the rows before it (0: from
 * the end), nearest first; at most limit of them (0: all).
 */
struct cm_page {
	int64_t		 after;
	int		 backward;
	int		 limit;
};

/* Subjects (subject.c). */
struct cm_subject_req {
	const char	*dn;
	const char	*email;
	const char	*san;		/* DNS:a,IP:b,email:c,URI:d */
};

struct cm_subject_info {
	int64_t		 id;
	const char	*dn;
	const char	*email;		/* NULL when none */
	const char	*san;		/* NULL when none */
	time_t		 created;
};

typedef int (*cm_subject_cb)(void *, const struct cm_subject_info *);
int	cm_subject_register(struct cm_ctx *, const struct cm_subject_req *,
	    int64_t *);
int	cm_subject_list(struct cm_ctx *, const char *, cm_subject_cb, void *);
int	cm_subject_search(struct cm_ctx *, const char *, const struct cm_page *,
	    cm_subject_cb, void *);
int	cm_subject_modify(struct cm_ctx *, const char *,
	    const struct cm_subject_req *);

/* Token procedures and tokens (token.c). */
struct cm_token_procedure_req {
	const char	*name;
	const char	*storage;	/* smartcard, pkcs12, pkcs10 */
	const char	*card_serial;	/* yes, no; NULL: by storage */
	const char	*serial_range;	/* mandatory, optional, none */
	const char	*serial_ranges;	/* FROM-TO,...; "" none; NULL keep */
	const char	*pin_procedure;	/* show, letter */
	const char	*issuer_certs;	/* none, ca, chain */
	const char	*key_type;
	const char * const *cert_procedures;
	size_t		 ncert_procedures;
};

struct cm_token_procedure_info {
	int64_t		 id;
	const char	*name;
	const char	*storage;
	int		 card_serial;
	const char	*serial_range;
	const char	*serial_ranges;	/* NULL when none */
	const char	*pin_procedure;
	const char	*issuer_certs;
	const char	*key_type;
	const char	*cert_procedures;	/* names, one a line */
};

typedef int (*cm_token_procedure_cb)(void *,
    const struct cm_token_procedure_info *);
int	cm_token_procedure_create(struct cm_ctx *,
	    const struct cm_token_procedure_req *);
int	cm_token_procedure_modify(struct cm_ctx *,
	    const struct cm_token_procedure_req *);
int	cm_token_procedure_list(struct cm_ctx *, const char *,
	    cm_token_procedure_cb, void *);

struct cm_token_req {
	const char	*procedure;
	const char	*subject;	/* ID or DN */
	const unsigned char *csr;	/* storage pkcs10 */
	size_t		 csr_len;
	const char	*csr_name;
	int		 pkcs12_fallback; /* smart card storage as PKCS#12 */
};

struct cm_token_issued {
	int64_t		 id;
	char		*pin;		/* PKCS#12 only; wiped on clear */
	int		 pin_letter;	/* the procedure wants a PIN letter */
	unsigned char	*data;		/* PKCS#12 DER, or PEM certificates */
	size_t		 len;
	char		 (*serials)[41];
	size_t		 nserials;
	char		*subject;	/* the subject's DN */
};

struct cm_token_info {
	int64_t		 id;
	const char	*procedure;
	const char	*subject;
	const char	*storage;
	const char	*state;
	time_t		 created;
};

typedef int (*cm_token_cb)(void *, const struct cm_token_info *);
int	cm_token_issue(struct cm_ctx *, const struct cm_token_req *,
	    struct cm_token_issued *);
void	cm_token_issued_clear(struct cm_token_issued *);
int	cm_token_list(struct cm_ctx *, int64_t, const char *, cm_token_cb,
	    void *);
int	cm_token_page(struct cm_ctx *, const struct cm_page *, cm_token_cb,
	    void *);
int	cm_token_revoke(struct cm_ctx *, int64_t, const char *);
int	cm_token_certs(struct cm_ctx *, int64_t, cm_cert_cb, void *);

/* Officers (officer.c). */
struct cm_officer_profile_req {
	const char	*name;
	const char	*permissions;	/* policy,issue,revoke,recover,audit */
};

struct cm_officer_profile_info {
	int64_t		 id;
	const char	*name;
	const char	*permissions;
};

struct cm_officer_req {
	const char	*name;
	const char	*profile;
	const unsigned char *cert;	/* PEM or DER */
	size_t		 cert_len;
	int		 no_two_step;	/* signs only with a second officer */
};

struct cm_officer_info {
	int64_t		 id;
	const char	*name;
	const char	*profile;
	const char	*permissions;
	const char	*state;		/* active, disabled */
	const char	*subject;
	const char	*serial;
	const char	*ca;
	time_t		 created;
};

typedef int (*cm_officer_profile_cb)(void *,
    const struct cm_officer_profile_info *);
typedef int (*cm_officer_cb)(void *, const struct cm_officer_info *);
int	cm_officer_profile_create(struct cm_ctx *,
	    const struct cm_officer_profile_req *);
int	cm_officer_profile_modify(struct cm_ctx *,
	    const struct cm_officer_profile_req *);
int	cm_officer_profile_list(struct cm_ctx *, const char *,
	    cm_officer_profile_cb, void *);
int	cm_officer_create(struct cm_ctx *, const struct cm_officer_req *);
int	cm_officer_disable(struct cm_ctx *, const char *);
int	cm_officer_modify(struct cm_ctx *, const char *, const char *);
int	cm_officer_list(struct cm_ctx *, const char *, cm_officer_cb, void *);
int	cm_officer_login(struct cm_ctx *, const char *, const unsigned char *,
	    size_t);
void	cm_officer_logout(struct cm_ctx *, const char *);
const char *cm_officer_session(const struct cm_ctx *, size_t);
int	cm_officer_setup_mode(struct cm_ctx *, int *);

/* Policy changes (change.c). */
struct cm_change_info {
	int64_t		 id;
	const char	*type;
	const char	*object;
	const char	*state;		/* pending, applied, rejected */
	time_t		 created;
	time_t		 applied;
	const char	*signers;	/* officer names */
	const char	*document;	/* canonical XML */
	const char	*digest;	/* SHA-256, hex */
	const char	*reason;	/* why rejected, or NULL */
};

typedef int (*cm_change_cb)(void *, const struct cm_change_info *);
int	cm_change_list(struct cm_ctx *, int64_t, const char *, cm_change_cb,
	    void *);
int	cm_change_sign(struct cm_ctx *, int64_t);
int	cm_change_reject(struct cm_ctx *, int64_t, const char *);
int64_t	cm_change_pending(const struct cm_ctx *);

/* The whole policy as XML (policy.c). */
int	cm_policy_export(struct cm_ctx *, unsigned char **, size_t *);
int	cm_policy_import(struct cm_ctx *, const unsigned char *, size_t);

/* Bootstrap (bootstrap.c). */
int	cm_bootstrap(struct cm_ctx *, const char *, struct cm_token_issued *);

/* Distribution rules (dist.c). */
struct cm_dist_rule_req {
	const char	*name;
	const char	*url;		/* https://host/path */
	const char	*method;	/* PUT or POST */
	const char	*content;	/* crl,delta-crl,ca-cert,certs,cil */
	const char	*format;	/* der (default) or pem */
	const char	*server_ca;	/* PEM: the server's CA certificates */
	const char	*client;	/* PKCS#11 URI or PKCS#12 file */
	const char	*client_pass;	/* the PKCS#12 file's; sealed */
	const char	*basic_user;
	const char	*basic_password; /* sealed by the engine */
};

struct cm_dist_rule_info {
	int64_t		 id;
	const char	*name;
	const char	*url;
	const char	*method;
	const char	*content;
	const char	*format;
	const char	*server_ca;
	const char	*client;	/* NULL: none */
	const char	*basic_user;	/* NULL: none */
	int		 client_pass;	/* a sealed PKCS#12 passphrase */
	const char	*attached;	/* "CA x" / "procedure y" lines */
	time_t		 created;
};

typedef int (*cm_dist_rule_cb)(void *, const struct cm_dist_rule_info *);
int	cm_dist_rule_create(struct cm_ctx *, const struct cm_dist_rule_req *);
int	cm_dist_rule_attach(struct cm_ctx *, const char *, const char *,
	    const char *);
int	cm_dist_rule_detach(struct cm_ctx *, const char *, const char *,
	    const char *);
int	cm_dist_rule_list(struct cm_ctx *, const char *, cm_dist_rule_cb,
	    void *);

/* The publication queue (dist.c). */
struct cm_publication_info {
	int64_t		 id;
	const char	*rule;
	const char	*kind;		/* crl, delta-crl, ca-cert, cert, cil */
	const char	*ca;
	const char	*target;	/* its name under the rule's URL */
	const char	*state;		/* pending, delivered, failed,
					   superseded, withdrawn */
	int		 attempts;
	time_t		 next_try;
	const char	*last_error;	/* NULL: none */
	time_t		 created;
};

typedef int (*cm_publication_cb)(void *,
    const struct cm_publication_info *);
int	cm_publication_list(struct cm_ctx *, const char *, const char *,
	    cm_publication_cb, void *);
int	cm_publication_retry(struct cm_ctx *, int64_t, int64_t *);

/* Delivery of the queue over HTTPS, for cm-da (publish.c). */
struct cm_publish_opts {
	int		 limit;		/* items a run; 0: all that are due */
	long		 retry_base;	/* s before the 2nd attempt; 0: 30 */
	long		 retry_max;	/* longest wait, s; 0: 3600 */
	int		 max_attempts;	/* then failed; 0: never */
	long		 timeout;	/* s a transfer; 0: 30 */
	int		(*stop)(void *);	/* non-zero: stop now */
	void		(*report)(void *, const struct cm_publication_info *,
			    long);	/* each attempt, with its HTTP status */
	void		*arg;
};

struct cm_publish_stats {
	int		 delivered;
	int		 failed;	/* attempts that failed */
	int		 given_up;	/* ... and made the item failed */
	int		 superseded;
	int		 stopped;	/* opts.stop said so */
	int64_t		 next_due;	/* earliest next try; 0: none pending */
};

int	cm_publish_lock(struct cm_ctx *);
void	cm_publish_reset(struct cm_ctx *);
int	cm_publish_run(struct cm_ctx *, const struct cm_publish_opts *,
	    struct cm_publish_stats *);

/* Smart cards at the card station (card.c). */
struct cm_card_req {
	const char	*procedure;	/* a token procedure, smartcard */
	const char	*subject;	/* ID or DN of a registered subject */
	const char	*card;		/* PKCS#11 URI; NULL: the blank card */
	const char	*label;		/* a blank card's; NULL: the CN */
	const char	*replaces;	/* serial of the card replaced */
	const char	*reason;	/* its revocation; NULL: superseded */
};

struct cm_card_info {
	int64_t		 id;
	const char	*serial;
	const char	*manufacturer;
	const char	*model;
	const char	*label;
	const char	*state;		/* initialized, personalized, revoked */
	int64_t		 token_id;	/* 0: none */
	const char	*subject;
	const char	*procedure;
	const char	*replaces;	/* serial of the card replaced */
	time_t		 created;
};

typedef int (*cm_card_cb)(void *, const struct cm_card_info *);
int	cm_card_init(struct cm_ctx *, const char *, const char *,
	    const char *, char **, char *, size_t);
int	cm_card_personalize(struct cm_ctx *, const struct cm_card_req *,
	    struct cm_token_issued *);
int	cm_card_list(struct cm_ctx *, const char *, cm_card_cb, void *);
int	cm_card_unblock(struct cm_ctx *, const char *, char **);
int	cm_card_revoke(struct cm_ctx *, const char *, const char *);

/* Card readers, through PC/SC (smartcard/pcsc.c). */
struct cm_reader {
	const char	*name;
	int		 present;	/* a card is in the reader */
	int		 mute;		/* ... and does not answer */
	const unsigned char *atr;	/* its ATR, when present */
	size_t		 atr_len;
};

struct cm_card_event {
	char		 reader[128];
	int		 present;
	unsigned char	 atr[36];
	size_t		 atr_len;
};

typedef int (*cm_reader_cb)(void *, const struct cm_reader *);
int	cm_pcsc_readers(struct cm_ctx *, cm_reader_cb, void *);
int	cm_pcsc_wait(struct cm_ctx *, const char *, int, int,
	    struct cm_card_event *);

/* PKCS#11 tokens: HSM set-up, cm-hwsetup (hw.c). */
struct cm_hw_token {
	const char	*module;
	unsigned long	 slot;
	const char	*label;
	const char	*serial;
	const char	*manufacturer;
	const char	*model;
	int		 initialized;
	int		 user_pin_set;
	int		 login_required;
	int		 pin_pad;	/* protected authentication path */
	int		 pin_count_low;
	int		 pin_final_try;
	int		 pin_locked;
	int		 so_pin_locked;
};

struct cm_hw_object {
	const char	*kind;		/* private key, public key, ... */
	const char	*label;
	const char	*id;		/* hex */
	const char	*type;		/* rsa:2048, ec:prime256v1, aes-256 */
	int		 sensitive;	/* -1: not a private or secret key */
	int		 extractable;	/* -1: unknown */
	int		 never_extractable;
	const char	*subject;	/* certificates: the subject DN */
};

typedef int (*cm_hw_token_cb)(void *, const struct cm_hw_token *);
typedef int (*cm_hw_object_cb)(void *, const struct cm_hw_object *);
int	cm_hw_tokens(struct cm_ctx *, const char *, cm_hw_token_cb, void *);
int	cm_hw_objects(struct cm_ctx *, const char *, cm_hw_object_cb, void *);
int	cm_hw_keygen(struct cm_ctx *, const char *, const char *,
	    const char *);
int	cm_hw_request(struct cm_ctx *, const char *, const char *,
	    const char *, unsigned char **, size_t *);
int	cm_hw_install(struct cm_ctx *, const char *, const unsigned char *,
	    size_t);

/* Lint (lint.c): RFC 5280 checks that openssl verify does not make. */
int	cm_lint_cert_der(struct cm_ctx *, const unsigned char *, size_t);
int	cm_lint_crl_der(struct cm_ctx *, const unsigned char *, size_t);

/* PEM helpers for front ends (x509.c). */
int	cm_pem_encode(struct cm_ctx *, const char *, const unsigned char *,
	    size_t, unsigned char **, size_t *);
int	cm_cert_text(struct cm_ctx *, const unsigned char *, size_t, char **);

#endif /* CM_H */
