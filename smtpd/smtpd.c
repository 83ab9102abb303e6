/* smtpd.c: the SMTP server: settings, accepting connections, and each
 * session's input, output and timers on the event loop.
 *
 * smtpd runs in lib/ipc/server.h's event mode: one process serves many
 * sessions. A session reads what the client sent, answers each complete
 * command in order (PIPELINING), and flushes its replies when the input
 * at hand is used up, as Postfix does. It stops reading while its queue
 * file is being committed by the I/O threads (lib/queue/group_commit) and
 * while it sleeps after errors, so a client can never get ahead of a
 * reply it has not seen. It stops reading too while a command is
 * suspended (a restriction waits for DNS, smtpd_dns.c; later a hook
 * waits for a service), so one slow name server delays that session
 * alone. The commands and their phases are in smtpd_cmd.c. */
#include "smtpd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "message/address.h"
#include "base/bgjob.h"
#include "config/config.h"
#include "queue/group_commit.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/peercred.h"
#include "queue/qmgr_trigger.h"
#include "queue/queue_dirs.h"
#include "ipc/server.h"
#include "routing/user_acl.h"
#include "smtp/smtp_reply_out.h"

struct smtpd_settings smtpd_var;
struct group_commit *smtpd_group_commit;

static struct event_timer trigger_timer;
static int trigger_wanted;
static uint64_t trigger_last_ms; /* when the last trigger went out */

/* In the order of Postfix's command table, which is the order its
 * disconnect line lists them in ("ehlo=2 starttls=1 auth=1 mail=1 ..."). */
static const char *const count_names[] = {
    "helo", "ehlo", "starttls", "auth", "mail", "rcpt", "bdat", "data",
    "rset", "noop", "vrfy", "etrn", "expn", "help", "quit", "unknown"};
#define COUNT_NAMES (sizeof(count_names) / sizeof(count_names[0]))

static void session_run(struct smtpd_session *s);
static void session_destroy(struct smtpd_session *s);

/* ---- settings ---- */

static int parse_restrictions(const char *name, struct restriction_list *out)
{
    struct strlist words;
    strlist_init(&words);
    cfg_list(name, &words);
    struct buf err = BUF_INIT;
    int ok = restriction_list_parse(&words, out, &err) == 0;
    if (!ok)
        log_warn("%s: %s", name, buf_cstr(&err));
    buf_free(&err);
    strlist_free(&words);
    return ok;
}

static struct netlist *netlist_from(const char *name)
{
    struct strlist items;
    strlist_init(&items);
    cfg_list(name, &items);
    struct netlist *list = netlist_new(name, &items);
    strlist_free(&items);
    return list;
}

/* 1 for "defer", 0 for "defer_if_permit" (Postfix accepts only these). */
static int tempfail_action(const char *name)
{
    const char *value = cfg_str(name);
    if (str_equal_nocase(value, "defer"))
        return 1;
    if (!str_equal_nocase(value, "defer_if_permit"))
        log_warn("%s: unknown action \"%s\"; using defer_if_permit", name,
                 value);
    return 0;
}

static void settings_load(void)
{
    struct smtpd_settings *v = &smtpd_var;
    v->myhostname = cfg_str("myhostname");
    v->myorigin = cfg_str("myorigin");
    v->banner = cfg_str("smtpd_banner");
    v->queue_directory = cfg_str("queue_directory");
    v->mail_name = cfg_str("mail_name");
    v->timeout_ms = cfg_time("smtpd_timeout") * 1000;
    v->line_length_limit = cfg_int("line_length_limit");
    if (v->line_length_limit < 512)
        v->line_length_limit = 512;
    v->recipient_limit = cfg_int("smtpd_recipient_limit");
    v->recipient_overshoot_limit = cfg_int("smtpd_recipient_overshoot_limit");
    v->soft_error_limit = cfg_int("smtpd_soft_error_limit");
    v->hard_error_limit = cfg_int("smtpd_hard_error_limit");
    v->error_sleep_ms = cfg_time("smtpd_error_sleep_time") * 1000;
    v->junk_command_limit = cfg_int("smtpd_junk_command_limit");
    v->message_size_limit = cfg_size("message_size_limit");
    v->hopcount_limit = cfg_int("hopcount_limit");
    v->header_size_limit = cfg_int("header_size_limit");
    v->disable_vrfy = cfg_bool("disable_vrfy_command");
    v->spf_enable = cfg_bool("smtpd_spf_enable");
    v->strict_rfc821 = cfg_bool("strict_rfc821_envelopes");
    v->helo_required = cfg_bool("smtpd_helo_required");
    v->reject_unlisted_recipient = cfg_bool("smtpd_reject_unlisted_recipient");
    v->reject_unlisted_sender = cfg_bool("smtpd_reject_unlisted_sender");
    v->local_submission = cfg_bool("smtpd_local_submission");
    v->allow_untrusted_routing = cfg_bool("allow_untrusted_routing");
    v->forbid_unauth_pipelining = cfg_bool("smtpd_forbid_unauth_pipelining");
    const char *bare = cfg_str("smtpd_forbid_bare_newline");
    v->bare_newline_reject =
        str_equal_nocase(bare, "reject") || str_equal_nocase(bare, "yes");
    v->bare_newline_normalize = str_equal_nocase(bare, "normalize");
    v->bare_newline_code = cfg_int("smtpd_forbid_bare_newline_reject_code");
    v->relay_reject_code = cfg_int("relay_domains_reject_code");
    v->unknown_address_code = cfg_int("unknown_address_reject_code");
    v->unknown_hostname_code = cfg_int("unknown_hostname_reject_code");
    v->unknown_address_tempfail_defer =
        tempfail_action("unknown_address_tempfail_action");
    v->unknown_helo_tempfail_defer =
        tempfail_action("unknown_helo_hostname_tempfail_action");
    v->access_reject_code = cfg_int("access_map_reject_code");
    v->access_defer_code = cfg_int("access_map_defer_code");
    v->defer_code = cfg_int("defer_code");
    v->reject_code = cfg_int("reject_code");
    v->non_fqdn_code = cfg_int("non_fqdn_reject_code");
    v->invalid_hostname_code = cfg_int("invalid_hostname_reject_code");
    v->unknown_local_code = cfg_int("unknown_local_recipient_reject_code");
    v->unknown_virtual_code = cfg_int("unknown_virtual_mailbox_reject_code");
    v->unknown_alias_code = cfg_int("unknown_virtual_alias_reject_code");
    v->unknown_relay_code = cfg_int("unknown_relay_recipient_reject_code");
    v->null_access_key = cfg_str("smtpd_null_access_lookup_key");
    v->content_filter = cfg_str("content_filter");
    struct buf why = BUF_INIT;
    if (*v->content_filter && !access_filter_valid(v->content_filter, &why)) {
        log_warn("content_filter = %s: %s; ignored", v->content_filter,
                 buf_cstr(&why));
        v->content_filter = "";
    }
    buf_free(&why);
    v->recipient_delimiter = cfg_str("recipient_delimiter");
    strlist_init(&v->discard_ehlo);
    cfg_list("smtpd_discard_ehlo_keywords", &v->discard_ehlo);
    v->client_ok =
        parse_restrictions("smtpd_client_restrictions", &v->client_r);
    v->helo_ok = parse_restrictions("smtpd_helo_restrictions", &v->helo_r);
    v->sender_ok =
        parse_restrictions("smtpd_sender_restrictions", &v->sender_r);
    v->relay_ok = parse_restrictions("smtpd_relay_restrictions", &v->relay_r);
    v->rcpt_ok = parse_restrictions("smtpd_recipient_restrictions", &v->rcpt_r);
    v->data_ok = parse_restrictions("smtpd_data_restrictions", &v->data_r);
    v->eod_ok = parse_restrictions("smtpd_end_of_data_restrictions", &v->eod_r);
    v->mynetworks = netlist_from("mynetworks");
    v->bare_nl_exclusions =
        netlist_from("smtpd_forbid_bare_newline_exclusions");
    snprintf(v->incoming_dir, sizeof(v->incoming_dir), "%s/incoming",
             v->queue_directory);
    snprintf(v->hold_dir, sizeof(v->hold_dir), "%s/hold", v->queue_directory);
}

/* ---- replies and counters ---- */

static void reply_v(struct smtpd_session *s, const char *fmt, va_list ap)
{
    smtp_reply_write(s->stream, s->namaddr, fmt, ap);
}

void smtpd_reply(struct smtpd_session *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    reply_v(s, fmt, ap);
    va_end(ap);
}

static void on_sleep_done(struct event_loop *loop, void *ctx)
{
    (void)loop;
    struct smtpd_session *s = ctx;
    if (s->state == SMTPD_SLEEP) {
        s->state = SMTPD_CMD;
        session_run(s);
    }
}

void smtpd_error_reply(struct smtpd_session *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    reply_v(s, fmt, ap);
    va_end(ap);
    s->errors++;
    if (s->errors >= smtpd_var.hard_error_limit) {
        smtpd_reply(s, "421 4.7.0 %s Error: too many errors",
                    smtpd_var.myhostname);
        log_warn("too many errors after %s from %s",
                 s->last_verb ? s->last_verb : "CONNECT", s->namaddr);
        smtpd_close_after_reply(s);
        return;
    }
    if (s->errors >= smtpd_var.soft_error_limit &&
        smtpd_var.error_sleep_ms > 0 && s->state == SMTPD_CMD) {
        s->state = SMTPD_SLEEP;
        event_timer_start(server_loop(), &s->sleep_timer,
                          (uint64_t)smtpd_var.error_sleep_ms);
    }
}

void smtpd_close_after_reply(struct smtpd_session *s)
{
    s->state = SMTPD_CLOSING;
}

void smtpd_count(struct smtpd_session *s, const char *verb, int ok)
{
    size_t i;
    for (i = 0; i < COUNT_NAMES; i++)
        if (strcmp(count_names[i], verb) == 0)
            break;
    if (i == COUNT_NAMES)
        i = 11; /* unknown */
    s->counts[i]++;
    s->total++;
    if (!ok) {
        s->count_bad[i]++;
        s->total_bad++;
    }
}

void smtpd_count_late_failure(struct smtpd_session *s, const char *verb)
{
    for (size_t i = 0; i < COUNT_NAMES; i++)
        if (strcmp(count_names[i], verb) == 0 &&
            s->count_bad[i] < s->counts[i]) {
            s->count_bad[i]++;
            s->total_bad++;
            return;
        }
}

static void log_disconnect(struct smtpd_session *s)
{
    struct buf line = BUF_INIT;
    buf_appendf(&line, "disconnect from %s", s->namaddr);
    for (size_t i = 0; i < COUNT_NAMES; i++) {
        if (s->counts[i] == 0)
            continue;
        if (s->count_bad[i])
            buf_appendf(&line, " %s=%u/%u", count_names[i],
                        s->counts[i] - s->count_bad[i], s->counts[i]);
        else
            buf_appendf(&line, " %s=%u", count_names[i], s->counts[i]);
    }
    if (s->total_bad)
        buf_appendf(&line, " commands=%u/%u", s->total - s->total_bad,
                    s->total);
    else
        buf_appendf(&line, " commands=%u", s->total);
    log_info("%s", buf_cstr(&line));
    buf_free(&line);
}

/* ---- qmgr trigger ---- */

static void send_trigger(struct event_loop *loop, void *ctx)
{
    (void)loop;
    (void)ctx;
    if (!trigger_wanted)
        return;
    trigger_wanted = 0;
    trigger_last_ms = event_now_ms(loop);
    /* Never blocks: when qmgr's socket is busy a trigger is pending,
     * and when qmgr is down it scans incoming/ when it starts. */
    struct buf err = BUF_INIT;
    char request = QMGR_TRIGGER_NEW_MAIL;
    if (qmgr_trigger_send(smtpd_var.queue_directory, &request, 1, 0, &err) ==
        QMGR_TRIGGER_ERROR)
        log_warn("trigger qmgr: %s", buf_cstr(&err));
    buf_free(&err);
}

/* qmgr watches incoming/ and takes each file as it is renamed into place
 * (qmgr/watch.c), so the trigger is only a backstop: at most one a
 * second, and the first of a burst at once. */
#define TRIGGER_INTERVAL_MS 1000

void smtpd_trigger_qmgr(void)
{
    if (trigger_wanted)
        return;
    trigger_wanted = 1;
    struct event_loop *loop = server_loop();
    uint64_t now = event_now_ms(loop),
             due = trigger_last_ms + TRIGGER_INTERVAL_MS;
    event_timer_start(loop, &trigger_timer,
                      trigger_last_ms == 0 || now >= due ? 0 : due - now);
}

/* ---- session I/O ---- */

/* Replies held for a client that does not read them: beyond this much
 * the session stops reading its commands until they are written. */
#define SMTPD_OUTPUT_MAX 65536

static void update_interest(struct smtpd_session *s)
{
    unsigned interest = 0;
    int writing = stream_output_pending(s->stream) > 0;
    if (s->state == SMTPD_TLS_HANDSHAKE) {
        /* Flushing STARTTLS's 220, then whatever the handshake needs. */
        interest = writing ? EVENT_WRITE : smtpd_tls_interest(s, 0, 0);
        event_fd_set(server_loop(), s->fd, interest);
        return;
    }
    int reading = (s->state == SMTPD_CMD || s->state == SMTPD_DATA ||
                   s->state == SMTPD_BDAT || s->state == SMTPD_BDAT_SKIP ||
                   s->state == SMTPD_SASL) &&
                  stream_output_pending(s->stream) <= SMTPD_OUTPUT_MAX;
    if (reading)
        interest |= EVENT_READ;
    if (writing)
        interest |= EVENT_WRITE;
    /* TLS: a read may wait for the socket to take a record, and a write
     * for one to arrive (STREAM_WANT_* equal EVENT_*). */
    interest |= smtpd_tls_interest(s, reading, writing);
    event_fd_set(server_loop(), s->fd, interest);
}

static const char *lost_verb(struct smtpd_session *s)
{
    if (s->state == SMTPD_DATA)
        return "DATA";
    if (s->state == SMTPD_BDAT || s->state == SMTPD_BDAT_SKIP)
        return "BDAT";
    return s->last_verb ? s->last_verb : "CONNECT";
}

/* Handles one command line, applying the bare-newline rules first. */
static void command_line(struct smtpd_session *s)
{
    unsigned flags = stream_line_flags(s->stream);
    if ((flags & (STREAM_LINE_LF | STREAM_LINE_BARE_CR)) && s->bare_nl_reject) {
        smtpd_reply(s, "%ld 5.5.2 %s Error: bare <%s> received",
                    smtpd_var.bare_newline_code, smtpd_var.myhostname,
                    (flags & STREAM_LINE_LF) ? "LF" : "CR");
        log_info("reject: bare <%s> received after %s from %s",
                 (flags & STREAM_LINE_LF) ? "LF" : "CR",
                 s->last_verb ? s->last_verb : "CONNECT", s->namaddr);
        smtpd_close_after_reply(s);
        return;
    }
    smtpd_command(s, buf_cstr(&s->line), s->line.len);
}

static void session_run(struct smtpd_session *s)
{
    for (;;) {
        enum stream_status st = STREAM_OK;
        int need_more = 0;
        if (stream_output_pending(s->stream) > SMTPD_OUTPUT_MAX &&
            s->state != SMTPD_CLOSING) {
            /* A pipelining client that does not read its replies. */
            (void)stream_flush(s->stream);
            if (stream_output_pending(s->stream) > SMTPD_OUTPUT_MAX)
                break; /* wait until the client reads */
        }
        switch (s->state) {
        case SMTPD_CMD:
            st = stream_read_line(s->stream, &s->line,
                                  (size_t)smtpd_var.line_length_limit);
            if (st == STREAM_OK) {
                command_line(s);
                continue;
            }
            if (st == STREAM_TOO_LONG) {
                smtpd_count(s, "unknown", 0);
                smtpd_error_reply(s, "500 5.5.0 Error: line too long");
                continue;
            }
            break;
        case SMTPD_SASL:
            /* AUTH's response to a 334: SASL data, never a command. */
            st = stream_read_line(s->stream, &s->line,
                                  smtpd_sasl_response_limit());
            if (st == STREAM_OK || st == STREAM_TOO_LONG) {
                smtpd_sasl_input(s, s->line.data, s->line.len,
                                 st == STREAM_TOO_LONG);
                continue;
            }
            break;
        case SMTPD_DATA:
            need_more = smtpd_data_input(s);
            break;
        case SMTPD_BDAT:
        case SMTPD_BDAT_SKIP:
            need_more = smtpd_bdat_input(s);
            break;
        case SMTPD_COMMIT:
        case SMTPD_SLEEP:
        case SMTPD_LOOKUP:
        case SMTPD_SUSPENDED:
            st = STREAM_AGAIN;
            break;
        case SMTPD_TLS_HANDSHAKE: {
            int step = smtpd_tls_handshake(s);
            if (step > 0)
                continue; /* commands (or wrapper mode's greeting) */
            if (step < 0) {
                log_info("lost connection after %s from %s", lost_verb(s),
                         s->namaddr);
                session_destroy(s);
                return;
            }
            /* The handshake's one time limit runs from its start. */
            update_interest(s);
            return;
        }
        case SMTPD_CLOSING: {
            enum stream_status fs = stream_flush(s->stream);
            if (fs == STREAM_AGAIN) {
                update_interest(s);
                return;
            }
            session_destroy(s);
            return;
        }
        }
        if (s->state == SMTPD_DATA || s->state == SMTPD_BDAT ||
            s->state == SMTPD_BDAT_SKIP) {
            if (!need_more)
                continue;
            /* The buffer is used up: output first (e.g. the 354), then
             * one read. */
            st = stream_fill(s->stream);
            if (st == STREAM_OK)
                continue;
        }
        if (st == STREAM_AGAIN)
            break;
        if (st == STREAM_EOF || st == STREAM_ERROR || st == STREAM_TIMEOUT) {
            log_info("lost connection after %s from %s", lost_verb(s),
                     s->namaddr);
            session_destroy(s);
            return;
        }
        /* A DATA or BDAT state has ended (st is STREAM_OK): commands the
         * client pipelined behind the content may already be buffered, and
         * no read event would announce them. */
        continue;
    }
    enum stream_status fs = stream_flush(s->stream);
    if (fs == STREAM_ERROR || fs == STREAM_TIMEOUT) {
        log_info("lost connection after %s from %s", lost_verb(s), s->namaddr);
        session_destroy(s);
        return;
    }
    /* Waiting for the disk, DNS or a hook has bounds of its own. */
    if (s->state != SMTPD_COMMIT && s->state != SMTPD_LOOKUP &&
        s->state != SMTPD_SUSPENDED)
        event_timer_start(server_loop(), &s->idle_timer,
                          (uint64_t)smtpd_var.timeout_ms);
    update_interest(s);
}

void smtpd_resume(struct smtpd_session *s)
{
    session_run(s);
}

static void on_io(struct event_loop *loop, int fd, unsigned events, void *ctx)
{
    (void)loop;
    (void)fd;
    struct smtpd_session *s = ctx;
    if (events & (EVENT_READ | EVENT_ERROR))
        stream_readable(s->stream);
    session_run(s);
}

static void on_timeout(struct event_loop *loop, void *ctx)
{
    (void)loop;
    struct smtpd_session *s = ctx;
    if (s->state == SMTPD_COMMIT || s->state == SMTPD_SUSPENDED)
        return;
    log_info("timeout after %s from %s", lost_verb(s), s->namaddr);
    if (s->state == SMTPD_TLS_HANDSHAKE) {
        /* Mid-handshake a reply in either form would be garbage. */
        session_destroy(s);
        return;
    }
    smtpd_reply(s, "421 4.4.2 %s Error: timeout exceeded",
                smtpd_var.myhostname);
    (void)stream_flush(s->stream);
    session_destroy(s);
}

static void session_destroy(struct smtpd_session *s)
{
    /* A command waiting for an answer: its step forgets the request, so
     * no answer ever reaches the freed session. */
    smtpd_command_cancel(s);
    smtpd_check_cancel(s);
    smtpd_sasl_session_end(s);
    smtpd_data_abort(s);
    smtpd_reset_transaction(s);
    smtpd_dns_session_end(s);
    log_disconnect(s);
    event_timer_stop(server_loop(), &s->idle_timer);
    event_timer_stop(server_loop(), &s->sleep_timer);
    event_fd_remove(server_loop(), s->fd);
    smtpd_tls_session_end(s); /* before the stream closes the fd */
    stream_close(s->stream);
    smtp_cmd_free(&s->cmd);
    buf_free(&s->line);
    buf_free(&s->data_out);
    buf_free(&s->hdr_field);
    buf_free(&s->bdat_line);
    free(s->helo);
    free(s);
    server_session_end();
}

/* The verified name of a client: its reverse DNS name when that name
 * resolves back to the address (Postfix's rule), else "unknown". Runs in
 * a worker thread (lib/base/bgjob) and touches only its job. */
struct name_job {
    struct smtpd_session *session;
    struct sockaddr_storage peer;
    socklen_t peer_len;
    char name[NI_MAXHOST];
};

static void name_lookup(void *ctx)
{
    struct name_job *job = ctx;
    char host[NI_MAXHOST], addr[NI_MAXHOST];
    str_copy(job->name, "unknown", sizeof(job->name));
    if (getnameinfo((struct sockaddr *)&job->peer, job->peer_len, addr,
                    sizeof(addr), NULL, 0, NI_NUMERICHOST) != 0 ||
        getnameinfo((struct sockaddr *)&job->peer, job->peer_len, host,
                    sizeof(host), NULL, 0, NI_NAMEREQD) != 0)
        return;
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(host, NULL, &hints, &res) != 0)
        return;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        char num[NI_MAXHOST];
        if (getnameinfo(ai->ai_addr, ai->ai_addrlen, num, sizeof(num), NULL, 0,
                        NI_NUMERICHOST) == 0 &&
            strcmp(num, addr) == 0) {
            str_copy(job->name, host, sizeof(job->name));
            break;
        }
    }
    freeaddrinfo(res);
}

static struct bgjob_pool *name_pool;

/* authorized_submit_users, for local submission. Postfix checks it in
 * sendmail and postdrop, which are set-gid; Postern's sendmail is an
 * ordinary program, so the check is made here, on the uid the kernel
 * gave for the socket's peer. */
static struct user_acl *submit_acl;

/* 1 when the local client may submit; otherwise the refusal is the
 * greeting and the session closes after it. */
static int submit_allowed(struct smtpd_session *s)
{
    struct buf name = BUF_INIT;
    enum user_acl_result result =
        user_acl_check(submit_acl, s->peer_uid, &name);
    if (result == USER_ACL_DENIED) {
        log_info("reject: connect from %s uid=%ld: User %s(%ld) is not "
                 "allowed to submit mail",
                 s->namaddr, s->peer_uid, buf_cstr(&name), s->peer_uid);
        smtpd_reply(s, "554 5.7.1 User %s(%ld) is not allowed to submit mail",
                    buf_cstr(&name), s->peer_uid);
    } else if (result == USER_ACL_ERROR) {
        log_warn("authorized_submit_users: lookup error for user %s(%ld)",
                 buf_cstr(&name), s->peer_uid);
        smtpd_reply(s, "451 4.3.0 Temporary lookup failure");
    }
    buf_free(&name);
    if (result == USER_ACL_ALLOWED)
        return 1;
    smtpd_close_after_reply(s);
    return 0;
}

static void finish_connect(struct smtpd_session *s)
{
    snprintf(s->namaddr, sizeof(s->namaddr), "%s[%s]", s->name, s->addr);
    if (s->local) {
        s->trusted = 1;
        log_info("connect from %s uid=%ld", s->namaddr, s->peer_uid);
    } else {
        log_info("connect from %s", s->namaddr);
        s->trusted =
            netlist_match(smtpd_var.mynetworks, s->name, s->addr) == DICT_FOUND;
    }
    s->bare_nl_reject = smtpd_var.bare_newline_reject && !s->local &&
                        netlist_match(smtpd_var.bare_nl_exclusions, s->name,
                                      s->addr) != DICT_FOUND;
    s->state = SMTPD_CMD;
    /* Wrapper mode: the TLS handshake first; the connection's command
     * starts when it is done (smtpd_tls.c). */
    if (smtpd_tls_wrapper_start(s)) {
        session_run(s);
        return;
    }
    /* The connection is a command too: hooks may see it (and wait)
     * before the greeting. */
    smtpd_command_start(s, SMTP_COMMAND_CONNECT);
    session_run(s);
}

enum smtp_step smtpd_connect_proceed(struct smtpd_session *s)
{
    if (s->local && !submit_allowed(s))
        return SMTP_STEP_STOP;
    smtpd_greeting(s);
    return SMTP_STEP_NEXT;
}

static void name_done(void *ctx)
{
    struct name_job *job = ctx;
    struct smtpd_session *s = job->session;
    /* Host names from DNS go into logs and Received: headers: keep them
     * to what a host name may hold. */
    if (address_valid_hostname(job->name, 0))
        str_copy(s->name, job->name, sizeof(s->name));
    free(job);
    finish_connect(s);
}

/* Fills in the client's address (and, for local submission, its uid);
 * starts the name lookup. Returns 1 when the lookup runs (the session
 * continues in name_done), 0 when the session can go on now. */
static int identify_client(struct smtpd_session *s)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    str_copy(s->name, "unknown", sizeof(s->name));
    str_copy(s->addr, "unknown", sizeof(s->addr));
    str_copy(s->port, "unknown", sizeof(s->port));
    if (getpeername(s->fd, (struct sockaddr *)&ss, &len) < 0)
        memset(&ss, 0, sizeof(ss));
    if (ss.ss_family == AF_INET || ss.ss_family == AF_INET6) {
        char host[NI_MAXHOST], serv[NI_MAXSERV];
        if (getnameinfo((struct sockaddr *)&ss, len, host, sizeof(host), serv,
                        sizeof(serv), NI_NUMERICHOST | NI_NUMERICSERV) == 0) {
            const char *h = host;
            if (str_has_prefix(h, "::ffff:") && strchr(h, '.'))
                h += 7;
            str_copy(s->addr, h, sizeof(s->addr));
            str_copy(s->port, serv, sizeof(s->port));
        }
        if (cfg_bool("smtpd_peername_lookup")) {
            struct name_job *job = xcalloc(1, sizeof(*job));
            job->session = s;
            memcpy(&job->peer, &ss, sizeof(ss));
            job->peer_len = len;
            s->state = SMTPD_LOOKUP;
            bgjob_submit(name_pool, name_lookup, name_done, job);
            return 1;
        }
    } else if (ss.ss_family == AF_UNIX || smtpd_var.local_submission) {
        s->local = 1;
        str_copy(s->name, "localhost", sizeof(s->name));
        str_copy(s->addr, "127.0.0.1", sizeof(s->addr));
        struct peercred cred;
        s->peer_uid = peercred_get(s->fd, &cred) == 0 ? (long)cred.uid : -1;
    }
    return 0;
}

static void smtpd_accept(int fd)
{
    struct smtpd_session *s = xcalloc(1, sizeof(*s));
    s->fd = fd;
    s->stream = stream_open(fd);
    stream_set_nonblocking(s->stream, 1);
    stream_set_short_read_drains(s->stream, 1); /* on_io says when to read */
    smtp_cmd_init(&s->cmd);
    smtpd_command_session_init(s);
    buf_init(&s->line);
    buf_init(&s->data_out);
    buf_init(&s->hdr_field);
    buf_init(&s->bdat_line);
    s->hdr_held = -1;
    event_timer_init(&s->idle_timer, on_timeout, s);
    event_timer_init(&s->sleep_timer, on_sleep_done, s);
    server_session_begin();
    if (event_fd_add(server_loop(), fd, 0, on_io, s) < 0) {
        log_warn("event_fd_add: %m");
        stream_close(s->stream);
        smtp_cmd_free(&s->cmd);
        free(s);
        server_session_end();
        return;
    }
    if (identify_client(s) == 0)
        finish_connect(s);
}

static void smtpd_pre_init(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    settings_load();
    struct buf err = BUF_INIT;
    submit_acl = user_acl_open("authorized_submit_users", 0, &err);
    if (submit_acl == NULL)
        log_fatal("authorized_submit_users: %s", buf_cstr(&err));
    buf_free(&err);
    smtpd_check_init();
    smtpd_header_init();
    smtpd_dns_init();
    smtpd_tls_init();
    smtpd_sasl_init(); /* after TLS: smtpd_tls_security_level */
    smtpd_login_init();
}

static void smtpd_post_init(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    smtpd_data_init();
    smtpd_group_commit =
        group_commit_new(server_loop(), (int)cfg_int("smtpd_io_threads"));
    /* Name lookups wait on the network, not the disk: two threads keep
     * one slow resolver answer from delaying every new client. */
    name_pool = bgjob_pool_new(server_loop(), 2);
    event_timer_init(&trigger_timer, send_trigger, NULL);
    smtpd_sasl_post_init();
}

static void smtpd_pre_exit(void)
{
    group_commit_free(smtpd_group_commit);
    smtpd_group_commit = NULL;
    bgjob_pool_free(name_pool);
    name_pool = NULL;
    smtpd_dns_exit();
    smtpd_tls_exit();
    smtpd_sasl_exit();
}

int main(int argc, char **argv)
{
    static const struct server_ops ops = {
        .mode = SERVER_EVENT,
        .pre_init = smtpd_pre_init,
        .post_init = smtpd_post_init,
        .accept = smtpd_accept,
        .pre_exit = smtpd_pre_exit,
    };
    return server_main(argc, argv, &ops);
}
