/* smtpd.h: the SMTP server's session state and the interfaces between
 * its files.
 *
 *   smtpd.c        main, settings, accept, the session's I/O and timers
 *   smtpd_cmd.c    the SMTP commands (EHLO ... QUIT), run in phases (parse,
 *                  check, hooks, proceed: lib/smtp/smtp_phase), and replies
 *   smtpd_check.c  restriction lists, address classes, recipient checks
 *   smtpd_actions.c access actions that change the message (PREPEND,
 *                  REDIRECT, BCC) and the ones that only log (WARN, INFO)
 *   smtpd_header.c header address rewriting: who is local, the glue
 *   smtpd_dns.c    DNS lookups for restrictions, without blocking others,
 *                  and the replies of the reject_unknown_* restrictions
 *   smtpd_spf.c    SPF checks of untrusted clients (lib/spf), reject_spf_*,
 *                  Received-SPF:
 *   smtpd_data.c   DATA and BDAT intake, headers, the queue file, commit
 *   smtpd_rcpt.c   the recipients, and the one way one is added
 *   smtpd_tls.c    TLS: the server context, STARTTLS and wrapper mode, the
 *                  handshake on the event loop, Received:'s TLS clause
 *   smtpd_sasl.c   SASL: AUTH (RFC 4954) through an auth server
 *                  (lib/auth/auth_client), EHLO's AUTH, MAIL's AUTH=
 *   smtpd_login.c  smtpd_sender_login_maps and the *_login_mismatch
 *                  restrictions
 *
 * One process serves many sessions on lib/ipc/server.h's event loop; a
 * session costs this struct, its stream buffers and, during a
 * transaction, the envelope. See docs/smtpd.md. */
#ifndef POSTERN_SMTPD_H
#define POSTERN_SMTPD_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "base/buf.h"
#include "tables/dict.h"
#include "dns/dns_rr.h"
#include "base/event.h"
#include "message/header.h"
#include "tables/netmatch.h"
#include "queue/qfile_writer.h"
#include "routing/restriction.h"
#include "tls/tls_config.h"

struct rewrite;
struct tls_conn;
#include "smtp/smtp_cmd.h"
#include "smtp/smtp_data.h"
#include "smtp/smtp_phase.h"
#include "base/str.h"
#include "base/stream.h"

/* Settings read once at start (main.cf and -o). */
struct smtpd_settings {
    const char *myhostname;
    const char *myorigin;
    const char *banner;
    const char *queue_directory;
    const char *mail_name;
    long timeout_ms;
    long line_length_limit;
    long recipient_limit;
    long recipient_overshoot_limit;
    long soft_error_limit;
    long hard_error_limit;
    long error_sleep_ms;
    long junk_command_limit;
    long long message_size_limit;
    long hopcount_limit;
    long header_size_limit;
    int disable_vrfy;
    int strict_rfc821;
    int helo_required;
    int reject_unlisted_recipient;
    int reject_unlisted_sender;
    int local_submission;
    int allow_untrusted_routing;
    int forbid_unauth_pipelining;
    int bare_newline_reject; /* smtpd_forbid_bare_newline = reject */
    int bare_newline_normalize;
    long bare_newline_code;
    /* reject_unknown_*: on a temporary DNS error, defer at once (1) or
     * defer_if_permit (0). */
    int unknown_address_tempfail_defer;
    int unknown_helo_tempfail_defer;
    long unknown_hostname_code;
    long relay_reject_code, unknown_address_code, access_reject_code,
        access_defer_code, defer_code, reject_code, non_fqdn_code,
        invalid_hostname_code, unknown_local_code, unknown_virtual_code,
        unknown_alias_code, unknown_relay_code;
    const char *null_access_key;
    const char *content_filter; /* "" when none, or when not valid */
    const char *recipient_delimiter;
    struct strlist discard_ehlo;
    /* Parsed restriction lists (a parse error leaves valid = 0: every
     * use then answers 451 4.3.5 Server configuration error). */
    struct restriction_list client_r, helo_r, sender_r, relay_r, rcpt_r, data_r,
        eod_r;
    int client_ok, helo_ok, sender_ok, relay_ok, rcpt_ok, data_ok, eod_ok;
    struct netlist *mynetworks;
    struct netlist *bare_nl_exclusions;
    /* TLS (smtpd_tls.c): smtpd_tls_security_level, wrapper mode (port
     * 465), the TLS clause in Received:, smtpd_tls_loglevel, and the
     * handshake's time limit. */
    enum tls_level tls_level;
    int tls_wrappermode;
    int tls_received_header;
    int spf_enable; /* smtpd_spf_enable */
    int tls_loglevel;
    long starttls_timeout_ms;
    char incoming_dir[4096];
    char hold_dir[4096];
};
extern struct smtpd_settings smtpd_var;

enum smtpd_state {
    SMTPD_LOOKUP,        /* looking up the client's name: not reading yet */
    SMTPD_CMD,           /* reading commands */
    SMTPD_DATA,          /* reading DATA content */
    SMTPD_BDAT,          /* reading a BDAT chunk */
    SMTPD_BDAT_SKIP,     /* discarding a BDAT chunk after an error */
    SMTPD_COMMIT,        /* waiting for the queue file to be durable */
    SMTPD_SLEEP,         /* error sleep: not reading */
    SMTPD_SUSPENDED,     /* a command waits (DNS, a hook): not reading */
    SMTPD_TLS_HANDSHAKE, /* flushing STARTTLS's 220, then the handshake */
    SMTPD_SASL,          /* AUTH: reading the client's response to a 334 */
    SMTPD_CLOSING,       /* flushing the last reply, then closing */
};

/* One recipient of the current transaction. */
struct smtpd_rcpt {
    char *address;  /* internal form, after canonicalisation */
    char *original; /* as given in RCPT TO */
    char *orcpt;    /* DSN ORCPT "type;addr", or NULL */
    unsigned notify;
};

struct smtpd_session {
    int fd;
    struct stream *stream;
    enum smtpd_state state;
    struct event_timer idle_timer;
    struct event_timer sleep_timer;

    /* Client. */
    char name[256]; /* verified host name or "unknown" */
    char addr[64];  /* IP address, or "127.0.0.1"-like for unix */
    char port[8];
    char namaddr[330]; /* name[addr] for logs and replies */
    int local;         /* local submission socket */
    long peer_uid;
    int trusted;        /* in mynetworks or local submission */
    int bare_nl_reject; /* reject bare newlines for this client */
    /* Set by a successful AUTH (smtpd_sasl.c), for
     * permit_sasl_authenticated (in the restriction lists and
     * local_header_rewrite_clients): the login and the mechanism, and
     * the exchange in progress (allocated at the first AUTH or EHLO that
     * waits for the auth server). */
    int sasl_authenticated;
    char *sasl_username;
    char *sasl_method;
    struct smtpd_sasl *sasl;
    /* TLS (smtpd_tls.c): the connection from STARTTLS (or the first
     * byte, in wrapper mode) on; whether its handshake is done; whether
     * the handshake came before the greeting (wrapper mode). */
    struct tls_conn *tls;
    int tls_active;
    int tls_wrapper;

    /* Protocol. */
    char *helo; /* HELO/EHLO argument, or NULL */
    int esmtp;
    struct smtp_cmd cmd;
    struct buf line;
    const char *last_verb; /* for "timeout after X" */
    int errors;
    int junk;
    /* Per-command counters for the disconnect line: name -> count. */
    unsigned counts[16];
    unsigned count_bad[16];
    unsigned total, total_bad;

    /* Transaction. */
    int in_mail;
    char *sender;     /* rewritten, as queued; "" for <> */
    char *sender_raw; /* as given in MAIL FROM (for checks, logs) */
    char *sasl_sender; /* MAIL's AUTH= from an authenticated client */
    unsigned long long declared_size;
    int body_8bit, smtputf8;
    int requiretls; /* MAIL carried REQUIRETLS (RFC 8689) */
    int dsn_ret; /* 0, QFILE_RET_FULL or QFILE_RET_HDRS */
    char *dsn_envid;
    struct smtpd_rcpt *rcpts; /* smtpd_rcpt.c */
    size_t rcpt_count, rcpt_cap;
    int rcpts_in_file;    /* written to s->writer: additions go there too */
    size_t rcpt_accepted; /* RCPT commands accepted */
    /* RCPTs refused for smtpd_recipient_limit; past
     * smtpd_recipient_overshoot_limit each counts as an error. */
    unsigned long rcpt_overshoot;
    int hold;    /* an access rule said HOLD */
    int discard; /* an access rule said DISCARD */
    char *hold_reason;
    /* PREPEND/REDIRECT/BCC recorded by access actions for this
     * transaction (smtpd_actions.c); NULL when none fired. */
    struct smtpd_actions *actions;
    /* Intake. */
    struct qfile_writer *writer;
    uint64_t data_size; /* content bytes received */
    int too_big;
    int write_error;
    int data_line_start;              /* next content byte begins a line */
    struct smtp_data_scanner scanner; /* DATA line and end detection */
    int in_header;
    /* header_size_limit: header bytes stored, whether the rest of the
     * header is being discarded, and whether a stored line is unended. */
    size_t hdr_bytes;
    int hdr_cut;
    int hdr_line_open;
    struct header_block headers;
    unsigned long long bdat_left;
    int bdat_last;
    int bdat_used;
    int bdat_failed;      /* a BDAT chunk failed; skip until RSET */
    struct buf bdat_line; /* BDAT: the start of a line not ended yet */
    struct buf data_out;  /* converted content waiting for the writer */
    /* Header rewriting (smtpd_header.c): the address field being held,
     * whether one is (-1: no, else 1 sender / 0 recipient field), the
     * rewriting context, and a table error seen (the message defers). */
    struct buf hdr_field;
    int hdr_held;
    int hdr_context;
    int hdr_error;
    char qid[32];
    time_t arrival;

    /* The command in progress, run in phases (lib/smtp/smtp_phase.h:
     * parse, check, hooks, proceed), and what its end compares to tell
     * whether it failed. See docs/smtpd.md, "Command phases". */
    struct smtp_run run;
    int cmd_parse_rc; /* smtp_cmd_parse's result for the line */
    unsigned cmd_errors_before;
    int cmd_closing_before;
    char cmd_name[16];
    /* A restriction evaluation waiting for DNS: where it stopped
     * (smtpd_check.c); allocated at the session's first wait. */
    struct smtpd_check_wait *check_wait;
    /* The DNS lookup in flight (smtpd_dns.c) and the answers of this
     * transaction. */
    struct dns_domain_lookup *dns_lookup;
    char *dns_pending_name; /* what dns_lookup asks about */
    enum dns_domain_mode dns_pending_mode;
    int dns_suspends; /* lookups started for the current command */
    struct smtpd_dns_answer *dns_answers;
    size_t dns_answer_count;
    /* This transaction's SPF check (smtpd_spf.c), or NULL. */
    struct smtpd_spf *spf;
};

/* smtpd.c */
void smtpd_reply(struct smtpd_session *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Sends the reply for a failed check/command and counts the error. */
void smtpd_error_reply(struct smtpd_session *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void smtpd_close_after_reply(struct smtpd_session *s);
void smtpd_count(struct smtpd_session *s, const char *verb, int ok);
/* A command counted as accepted turned out to fail (DATA refused at the
 * end of the message): the disconnect line shows data=0/1. */
void smtpd_count_late_failure(struct smtpd_session *s, const char *verb);
void smtpd_resume(struct smtpd_session *s);
/* The connection's proceed step: the greeting (or the refusal of a local
 * user who may not submit). */
enum smtp_step smtpd_connect_proceed(struct smtpd_session *s);
void smtpd_trigger_qmgr(void);

/* smtpd_cmd.c: the commands, each run in phases (smtp_phase.h). */
/* A new session's command state (its smtp_run). */
void smtpd_command_session_init(struct smtpd_session *s);
void smtpd_command(struct smtpd_session *s, const char *line, size_t len);
/* Runs a pseudo-command (SMTP_COMMAND_CONNECT, SMTP_COMMAND_END_OF_DATA)
 * through the phases; the session is SMTPD_SUSPENDED when it waits. */
void smtpd_command_start(struct smtpd_session *s, unsigned command);
/* The answer a suspended step waited for is in: carry the command on
 * from that step, then go on with the session's input. Call it from the
 * event loop (the answer's callback), never from inside the step. */
void smtpd_command_resume(struct smtpd_session *s);
/* The session ends: a suspended command's step is cancelled. */
void smtpd_command_cancel(struct smtpd_session *s);
/* Adds a hook (milter, policy, ...) for the commands in hook->commands,
 * at process start. 0, or -1 when the table is full. */
int smtpd_hook_add(const struct smtp_hook *hook);
void smtpd_reset_transaction(struct smtpd_session *s);
void smtpd_greeting(struct smtpd_session *s);

/* smtpd_check.c */
enum smtpd_verdict {
    SMTPD_NEXT, /* nothing decided (DUNNO) */
    SMTPD_PERMIT,
    SMTPD_REJECT,  /* a reply was sent */
    SMTPD_SUSPEND, /* a restriction waits for DNS: the command's CHECK
                      step returns SMTP_STEP_SUSPEND without a reply, and
                      calling the same check again later carries the
                      evaluation on from the restriction that waited */
};
/* Evaluates a stage's restrictions; on reject sends the reply and logs
 * the NOQUEUE line. `address` is the sender or recipient being checked
 * (NULL for client/helo/data). Each may return SMTPD_SUSPEND; the next
 * call for the session then resumes that evaluation (same arguments). */
enum smtpd_verdict smtpd_check_client(struct smtpd_session *s);
enum smtpd_verdict smtpd_check_helo(struct smtpd_session *s);
enum smtpd_verdict smtpd_check_sender(struct smtpd_session *s,
                                      const char *sender);
enum smtpd_verdict smtpd_check_rcpt(struct smtpd_session *s, const char *rcpt);
enum smtpd_verdict smtpd_check_data(struct smtpd_session *s);
/* smtpd_end_of_data_restrictions, after the whole message. */
enum smtpd_verdict smtpd_check_end_of_data(struct smtpd_session *s);
void smtpd_check_init(void);
/* Forgets a suspended evaluation (the session ends while it waits). */
void smtpd_check_cancel(struct smtpd_session *s);
/* Canonical form of an envelope address (lib/routing/rewrite step 1). */
void smtpd_canonical(const char *address, struct buf *out);
/* The envelope sender and recipients as they go into the queue file
 * (canonical maps; virtual_alias_maps expansion for recipients): 0, or
 * -1 with a temporary reason in why. */
/* The rewriting object smtpd_check_init opened (for smtpd_header.c). */
struct rewrite *smtpd_rewriter(void);
/* The tables named in restrictions and local_header_rewrite_clients,
 * opened once per process and shared: open (a failure is logged, and
 * its lookups then fail) and look up. */
void smtpd_table_open(const char *spec);
enum dict_result smtpd_table_lookup(const char *spec, const char *key,
                                    struct buf *value);
/* Logs an event in Postfix's shape: "QUEUEID: WHAT: STAGE from
 * host[addr]: TEXT; from=<sender> to=<rcpt> proto=ESMTP helo=<helo>"
 * (sender and rcpt may be NULL), as Postfix's log_whatsup does for
 * reject, hold, discard, warn, info, redirect, bcc. */
void smtpd_log_event(const struct smtpd_session *s, const char *stage,
                     const char *what, const char *sender, const char *rcpt,
                     const char *text);

/* smtpd_rcpt.c: the one way recipients are added (RCPT, REDIRECT, BCC,
 * and both at the end of data). */
enum smtpd_rcpt_dedup {
    /* RCPT: a final address given again with the same RCPT address is
     * one recipient (two RCPT addresses that expand to it are two, each
     * with its original for DSN). */
    SMTPD_RCPT_SAME_ORIGINAL,
    /* REDIRECT, BCC: an address that is a recipient already, whatever
     * its original, gets no second copy. */
    SMTPD_RCPT_SAME_ADDRESS,
};
/* What a recipient carries besides its address. */
struct smtpd_rcpt_origin {
    const char *original; /* the address given (RCPT TO, action target) */
    const char *orcpt;    /* DSN ORCPT "type;addr", or NULL */
    unsigned notify;      /* DSN NOTIFY (QFILE_NOTIFY_*), or 0 */
};
enum smtpd_rcpt_result {
    SMTPD_RCPT_OK = 0,
    SMTPD_RCPT_LOOKUP_ERROR = -1, /* rewriting failed: nothing added */
    SMTPD_RCPT_WRITE_ERROR = -2,  /* the queue file could not take it */
};
/* Rewrites address as the queue file needs it (canonical maps, virtual
 * alias expansion) and adds each final recipient that is not one
 * already; once the recipients are in the queue file, writes it there
 * too. why gets the reason of an error. */
enum smtpd_rcpt_result smtpd_rcpt_add(struct smtpd_session *s,
                                      const char *address,
                                      const struct smtpd_rcpt_origin *origin,
                                      enum smtpd_rcpt_dedup dedup,
                                      struct buf *why);
/* REDIRECT: every recipient is replaced by target's final recipients,
 * which carry what the first one carried (original, ORCPT, NOTIFY), as
 * Postfix does; in the queue file the old ones are marked done. On a
 * lookup error nothing changes. */
enum smtpd_rcpt_result smtpd_rcpt_redirect(struct smtpd_session *s,
                                           const char *target, struct buf *why);
/* Writes every recipient into s->writer (intake starts). 0 or -1. */
int smtpd_rcpt_write_all(struct smtpd_session *s, struct buf *err);
/* Forgets the recipients (end of the transaction). */
void smtpd_rcpt_reset(struct smtpd_session *s);

/* smtpd_actions.c: access actions (access(5)) that go beyond a
 * permit/reject decision. smtpd_action_apply handles a WARN, INFO,
 * PREPEND, REDIRECT, BCC or FILTER result found in `table` (value as
 * found; `subject` is "<name>: Class", e.g. "<a@b>: Sender address");
 * they never decide, so evaluation goes on. */
void smtpd_action_apply(struct smtpd_session *s, const char *stage,
                        const char *sender, const char *rcpt,
                        const struct access_result *res, const char *table,
                        const char *value, const char *subject);
/* At the start of intake, before the recipients are written: REDIRECT
 * replaces the recipients, BCC adds its own (both rewritten as RCPT
 * recipients are). 0, or -1 after a 451 reply (table error). */
int smtpd_actions_envelope(struct smtpd_session *s);
/* Before s->writer is finished: records the content filter (FILTER, or
 * content_filter), and applies REDIRECT and BCC from
 * smtpd_end_of_data_restrictions to the recipients in the file. 0, or -1
 * after a 451 reply. */
int smtpd_actions_late(struct smtpd_session *s);
/* Appends the PREPEND headers, in the order they fired, to out. */
void smtpd_actions_headers(const struct smtpd_session *s, struct buf *out);
/* Forgets the transaction's actions (RSET, end of transaction). */
void smtpd_actions_reset(struct smtpd_session *s);

/* smtpd_header.c: header address rewriting (see the file). */
void smtpd_header_init(void);
#define SMTPD_HEADER_ERROR (-2)
/* At MAIL: REWRITE_LOCAL when the client matches
 * local_header_rewrite_clients (or is local submission), else
 * REWRITE_REMOTE, or -1 when its headers are not rewritten at all
 * (remote_header_rewrite_domain empty). SMTPD_HEADER_ERROR after a
 * check_address_map table failed: "451 4.3.0 Temporary lookup error"
 * was sent and logged (sender: for the log line), as Postfix does. */
int smtpd_header_context(struct smtpd_session *s, const char *sender);
/* For the first line of a header field: 1 when it is a sender address
 * field, 0 a recipient address field, -1 not one we rewrite. */
int smtpd_header_is_address(const char *line, size_t len);
/* Rewrites the addresses of one whole field (name, colon, value, with
 * its line breaks) into out. Returns 1 when out holds a changed field,
 * 0 when the field stays as it is, -1 on a table error (reason in why). */
int smtpd_header_rewrite(const char *field, size_t len, int sender, int context,
                         unsigned flags, struct buf *out, struct buf *why);

int smtpd_rewrite_sender(const char *address, struct buf *out, struct buf *why);
int smtpd_rewrite_recipient(const char *address, struct strlist *out,
                            struct buf *why);

/* smtpd_dns.c */
/* Opens the process's DNS client (pre_init: reads resolv.conf before a
 * chroot); a failure is logged and lookups then fail temporarily. */
void smtpd_dns_init(void);
void smtpd_dns_exit(void);
/* What the DNS says about name (mode: mail domain or HELO host name).
 * Returns 1 with *status when the session has the answer (from this
 * transaction's lookups), or 0 after starting the lookup: the caller
 * returns SMTPD_SUSPEND up to the command's CHECK step; when the answer
 * comes it is remembered and smtpd_command_resume carries the command on,
 * so the same restriction asks again and finds it. */
int smtpd_dns_domain(struct smtpd_session *s, const char *name,
                     enum dns_domain_mode mode, enum dns_domain_status *status);
/* A new command (or the end of data) starts evaluating restrictions. */
void smtpd_dns_new_check(struct smtpd_session *s);
/* The replies of the reject_unknown_* restrictions, after Postfix's
 * smtpd (docs/dns.md): for a verdict about name (the domain of subject,
 * or the HELO name), PASS, or the code, enhanced code and text of a
 * reject or of a temporary error (sent at once when defer_now, else
 * only if nothing else rejects: defer_if_permit). text gets the reply
 * after the codes ("<subject>: Sender address rejected: ..."). */
enum smtpd_unknown_what { UNKNOWN_SENDER, UNKNOWN_RECIPIENT, UNKNOWN_HELO };
enum smtpd_unknown_act {
    SMTPD_UNKNOWN_PASS,
    SMTPD_UNKNOWN_REJECT,
    SMTPD_UNKNOWN_TEMPFAIL,
};
struct smtpd_unknown_reply {
    long code;
    const char *dsn;
    int defer_now;
};
enum smtpd_unknown_act
smtpd_dns_unknown_reply(enum smtpd_unknown_what what, const char *subject,
                        const char *name, enum dns_domain_status status,
                        struct smtpd_unknown_reply *reply, struct buf *text);
/* Forgets the remembered answers (end of a transaction). */
void smtpd_dns_forget(struct smtpd_session *s);
/* Cancels the lookup in flight, if any: its answer is never delivered. */
void smtpd_dns_cancel(struct smtpd_session *s);
/* Cancels a lookup in flight and forgets everything (session end). */
void smtpd_dns_session_end(struct smtpd_session *s);
/* The process's DNS client (NULL when it could not be made). */
struct dns_client *smtpd_dns_client(void);

/* smtpd_spf.c: SPF for untrusted clients (docs/spf.md). */
/* MAIL FROM was accepted: starts the check when smtpd_spf_enable. */
void smtpd_spf_start(struct smtpd_session *s);
/* 1 when a check runs and is not done: the caller suspends its command,
 * which is resumed when the check is done; else 0. */
int smtpd_spf_wait(struct smtpd_session *s);
/* ", spf=pass, spf_helo=none" for the "client=" line (nothing when no
 * check ran). */
void smtpd_spf_log_fields(const struct smtpd_session *s, struct buf *out);
/* The Received-SPF: header (folded, ending in a newline), when
 * smtpd_spf_enable and a check ran. */
void smtpd_spf_header(const struct smtpd_session *s, struct buf *out);
/* Cancels the lookups and forgets the results (end of a transaction). */
void smtpd_spf_forget(struct smtpd_session *s);

/* smtpd_tls.c */
/* Reads the TLS settings and builds the server context (pre_init: the
 * key may be readable by root alone). A context that cannot be built is
 * logged; STARTTLS then answers 454 and wrapper mode disconnects. */
void smtpd_tls_init(void);
void smtpd_tls_exit(void);
/* EHLO announces STARTTLS. */
int smtpd_tls_offered(const struct smtpd_session *s);
/* smtpd_tls_security_level = encrypt and no TLS yet: MAIL gets 530. */
int smtpd_tls_required(const struct smtpd_session *s);
/* The STARTTLS command's phases: whether it may run now (parse), and the
 * 220 reply, the discarding of what the client pipelined behind it, and
 * the start of the handshake (proceed). */
enum smtp_step smtpd_starttls_parse(struct smtpd_session *s);
enum smtp_step smtpd_starttls_proceed(struct smtpd_session *s);
/* Wrapper mode (smtpd_tls_wrappermode): at connect, the handshake comes
 * first. Returns 1 when the session now waits for it (state
 * SMTPD_TLS_HANDSHAKE, or SMTPD_CLOSING when TLS is unavailable), 0 when
 * the session goes on in plain text. */
int smtpd_tls_wrapper_start(struct smtpd_session *s);
/* One step in state SMTPD_TLS_HANDSHAKE: 1 when the handshake is done
 * (the session reads commands again, in TLS; after wrapper mode's
 * handshake the connection's command has started), 0 while it waits
 * (smtpd_tls_interest() says for what), -1 when it failed (logged; the
 * caller ends the session). */
int smtpd_tls_handshake(struct smtpd_session *s);
/* The events the session's TLS connection needs besides the session's
 * own: a read waiting for writability, a write waiting for readability;
 * during the handshake, all of them. */
unsigned smtpd_tls_interest(const struct smtpd_session *s, int reading,
                            int writing);
/* The protocol for Received: "with ...": SMTP, ESMTP, or RFC 3848's
 * ESMTPS, ESMTPA and ESMTPSA. */
const char *smtpd_received_protocol(const struct smtpd_session *s);
/* With smtpd_tls_received_header: Received:'s TLS clause ("\n\t(using
 * ...)\n\t(No client certificate requested)"); nothing without TLS. */
void smtpd_tls_received(const struct smtpd_session *s, struct buf *out);
/* The session ends: close_notify (when sound) and the connection freed. */
void smtpd_tls_session_end(struct smtpd_session *s);

/* smtpd_sasl.c: SMTP AUTH (RFC 4954) through an auth server speaking
 * Dovecot's protocol (docs/smtpd.md, "SASL authentication"). */
/* Settings (pre_init; a bad smtpd_sasl_type is fatal) and the client
 * (post_init, on the event loop); the EHLO hook that waits for the
 * auth server's mechanisms. */
void smtpd_sasl_init(void);
void smtpd_sasl_post_init(void);
void smtpd_sasl_exit(void);
/* EHLO: the mechanisms to announce ("PLAIN LOGIN"), or 0 when AUTH is
 * not announced to this session now. */
int smtpd_sasl_mechanisms(const struct smtpd_session *s, struct buf *out);
/* broken_sasl_auth_clients: announce AUTH=... too. */
int smtpd_sasl_broken_clients(void);
/* The AUTH command's phases: whether it may run now (parse); the
 * exchange, which suspends while the auth server or the client is asked
 * (proceed). */
enum smtp_step smtpd_sasl_auth_parse(struct smtpd_session *s);
enum smtp_step smtpd_sasl_auth_proceed(struct smtpd_session *s);
/* In state SMTPD_SASL: one response line from the client (too_long: it
 * exceeded smtpd_sasl_response_limit). The session is SMTPD_SUSPENDED
 * after it. */
void smtpd_sasl_input(struct smtpd_session *s, const char *line, size_t len,
                      int too_long);
/* smtpd_sasl_response_limit. */
size_t smtpd_sasl_response_limit(void);
/* MAIL's AUTH= parameter (RFC 4954 section 5). */
void smtpd_sasl_mail_param(struct smtpd_session *s);
/* ", sasl_method=PLAIN, sasl_username=alice" for the client= line. */
void smtpd_sasl_log_fields(const struct smtpd_session *s, struct buf *out);
/* smtpd_sasl_authenticated_header: Received:'s "(Authenticated sender:
 * ...)" clause. */
void smtpd_sasl_received(const struct smtpd_session *s, struct buf *out);
/* Forgets the authentication (STARTTLS, session end); a suspended
 * exchange's request is dropped by smtpd_sasl_cancel. */
void smtpd_sasl_reset(struct smtpd_session *s);
void smtpd_sasl_cancel(struct smtpd_session *s);
void smtpd_sasl_session_end(struct smtpd_session *s);

/* smtpd_login.c: smtpd_sender_login_maps (opened in pre_init). */
void smtpd_login_init(void);

/* smtpd_data.c */
/* Starts intake after DATA's 354 or the first BDAT: opens the writer. 0,
 * or -1 after replying 451. */
int smtpd_data_begin(struct smtpd_session *s);
/* Processes buffered input in DATA state. Returns 1 when it consumed
 * everything it could and more input is needed, 0 when the state changed
 * (end of data, error). */
int smtpd_data_input(struct smtpd_session *s);
int smtpd_bdat_input(struct smtpd_session *s);
/* The BDAT command's phases: the chunk's bookkeeping and whether it is
 * taken (parse), smtpd_data_restrictions before the first chunk (check),
 * and intake (proceed). */
enum smtp_step smtpd_bdat_parse(struct smtpd_session *s);
enum smtp_step smtpd_bdat_check(struct smtpd_session *s);
enum smtp_step smtpd_bdat_proceed(struct smtpd_session *s);
/* The end of data's phases (SMTP_COMMAND_END_OF_DATA): the end-of-data
 * restrictions, then discard, hold or commit. */
enum smtp_step smtpd_eod_check(struct smtpd_session *s);
enum smtp_step smtpd_eod_proceed(struct smtpd_session *s);
void smtpd_data_abort(struct smtpd_session *s);
void smtpd_data_init(void);

#endif
