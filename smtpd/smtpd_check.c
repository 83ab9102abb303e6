/* smtpd_check.c: SMTP access restrictions, evaluated as Postfix does.
 *
 * With smtpd_delay_reject = yes (the only mode implemented) the client,
 * HELO and sender restrictions are evaluated at RCPT time, followed by
 * smtpd_relay_restrictions and smtpd_recipient_restrictions; then the
 * recipient must be known (smtpd_reject_unlisted_recipient). Each list
 * ends in "no decision", which permits. A reject replies and logs
 * Postfix's "NOQUEUE: reject: RCPT from ..." line.
 *
 * Address classes, relay authorisation and the unknown-recipient
 * decision come from lib/routing/rewrite, lib/routing/resolve and
 * lib/routing/recipient_check, shared with qmgr, so smtpd accepts exactly what
 * qmgr can route.
 *
 * The reject_unknown_* restrictions ask the DNS through smtpd_dns.c: an
 * answer the session does not have yet suspends the evaluation
 * (SMTPD_SUSPEND travels up to the command's CHECK step). On the way up
 * each list records where it stopped, and the context is kept in
 * s->check_wait (struct smtpd_check_wait); when the command is resumed
 * the same check function carries the evaluation on from the restriction
 * that waited, so nothing before it runs twice. A temporary DNS error follows
 * Postfix's *_tempfail_action: "defer" replies 450 at once,
 * "defer_if_permit" (the default) remembers the 450 in the check context
 * and sends it only if the evaluation would otherwise accept.
 */
#include "smtpd_check_ctx.h"

#include <ctype.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "message/address.h"
#include "config/config.h"
#include "dns/idna.h"
#include "base/log.h"
#include "base/mem.h"
#include "routing/recipient_check.h"
#include "routing/resolve.h"
#include "routing/rewrite.h"

/* ---- tables ---- */

struct table_slot {
    char *spec;
    struct dict *dict;
};
static struct table_slot *tables;
static size_t table_count;

static struct dict *table_get(const char *spec)
{
    for (size_t i = 0; i < table_count; i++)
        if (strcmp(tables[i].spec, spec) == 0)
            return tables[i].dict;
    struct buf err = BUF_INIT;
    struct dict *d = dict_open(spec, 0, &err);
    if (d == NULL)
        log_warn("table %s: %s", spec, buf_cstr(&err));
    buf_free(&err);
    tables = xreallocarray(tables, table_count + 1, sizeof(*tables));
    tables[table_count].spec = xstrdup(spec);
    tables[table_count].dict = d;
    table_count++;
    return d;
}

static enum dict_result table_lookup(const char *spec, const char *key,
                                     struct buf *value)
{
    struct dict *d = table_get(spec);
    if (d == NULL)
        return DICT_ERROR;
    return dict_lookup(d, key, value);
}

void smtpd_table_open(const char *spec)
{
    (void)table_get(spec);
}

enum dict_result smtpd_table_lookup(const char *spec, const char *key,
                                    struct buf *value)
{
    return table_lookup(spec, key, value);
}

static struct rewrite *smtpd_rewrite;
static struct resolver *smtpd_resolver;
static struct recipient_check *smtpd_rcheck;

void smtpd_check_init(void)
{
    struct buf err = BUF_INIT;
    struct rewrite_settings rws;
    rewrite_settings_from_config(&rws);
    smtpd_rewrite = rewrite_open(&rws, &err);
    if (smtpd_rewrite == NULL)
        log_fatal("address rewriting: %s", buf_cstr(&err));
    struct resolve_settings rss;
    resolve_settings_from_config(&rss);
    smtpd_resolver = resolve_open(&rss, smtpd_rewrite, &err);
    if (smtpd_resolver == NULL)
        log_fatal("address resolution: %s", buf_cstr(&err));
    struct recipient_check_settings rcs;
    recipient_check_settings_from_config(&rcs);
    smtpd_rcheck = recipient_check_open(&rcs, smtpd_rewrite, smtpd_resolver);
    buf_free(&err);
}

struct rewrite *smtpd_rewriter(void)
{
    return smtpd_rewrite;
}

void smtpd_canonical(const char *address, struct buf *out)
{
    rewrite_canonical_form(smtpd_rewrite, address, REWRITE_LOCAL, out);
}

int smtpd_rewrite_sender(const char *address, struct buf *out, struct buf *why)
{
    return rewrite_envelope_sender(smtpd_rewrite, address, out, why);
}

int smtpd_rewrite_recipient(const char *address, struct strlist *out,
                            struct buf *why)
{
    return rewrite_envelope_recipient(smtpd_rewrite, address, out, why);
}

/* ---- replies (struct check_ctx: smtpd_check_ctx.h) ---- */

void smtpd_log_event(const struct smtpd_session *s, const char *stage,
                     const char *what, const char *sender, const char *rcpt,
                     const char *text)
{
    struct buf line = BUF_INIT;
    buf_appendf(&line, "%s: %s: %s from %s: %s;",
                s->qid[0] ? s->qid : "NOQUEUE", what, stage, s->namaddr, text);
    if (sender)
        buf_appendf(&line, " from=<%s>", sender);
    if (rcpt)
        buf_appendf(&line, " to=<%s>", rcpt);
    buf_appendf(&line, " proto=%s", s->esmtp ? "ESMTP" : "SMTP");
    if (s->helo)
        buf_appendf(&line, " helo=<%s>", s->helo);
    log_info("%s", buf_cstr(&line));
    buf_free(&line);
}

void check_log(struct smtpd_session *s, const struct check_ctx *c,
               const char *what, const char *reply)
{
    smtpd_log_event(s, c->stage, what, c->sender, c->rcpt, reply);
}

enum smtpd_verdict check_reject(struct smtpd_session *s,
                                const struct check_ctx *c, long code,
                                const char *dsn, const char *fmt, ...)
{
    if (c->dir_active && code >= 500) {
        /* An earlier DEFER_IF_REJECT turns this reject into its 4xx. */
        const struct check_ctx plain = {
            .stage = c->stage, .sender = c->sender, .rcpt = c->rcpt};
        return check_reject(s, &plain, c->dir_code, c->dir_dsn, "%s",
                            buf_cstr(&c->dir_text));
    }
    struct buf text = BUF_INIT;
    char fixed[12];
    /* The enhanced code's class follows the reply's (4xx vs 5xx). */
    str_copy(fixed, dsn, sizeof(fixed));
    fixed[0] = (char)('0' + code / 100);
    buf_appendf(&text, "%ld %s ", code, fixed);
    va_list ap;
    va_start(ap, fmt);
    buf_vappendf(&text, fmt, ap);
    va_end(ap);
    check_log(s, c, "reject", text.data);
    smtpd_error_reply(s, "%s", text.data);
    buf_free(&text);
    return SMTPD_REJECT;
}

/* "<x@y>: Recipient address" and friends (Postfix's reply_name and
 * reply_class): a reject adds " rejected", other actions " triggers". */
void check_reply_subject(struct smtpd_session *s, enum restriction_kind kind,
                         const struct check_ctx *c, struct buf *out)
{
    switch (kind) {
    case RESTR_CHECK_CLIENT_ACCESS:
        buf_appendf(out, "<%s>: Client host", s->namaddr);
        break;
    case RESTR_CHECK_HELO_ACCESS:
        buf_appendf(out, "<%s>: Helo command", s->helo ? s->helo : "");
        break;
    case RESTR_CHECK_SENDER_ACCESS:
        buf_appendf(out, "<%s>: Sender address", c->sender ? c->sender : "");
        break;
    default:
        if (c->rcpt)
            buf_appendf(out, "<%s>: Recipient address", c->rcpt);
        else if (strcmp(c->stage, "END-OF-MESSAGE") == 0)
            buf_appendf(out, "<END-OF-MESSAGE>: End-of-data");
        else
            buf_appendf(out, "<%s>: Data command", c->stage);
        break;
    }
}

/* Ours (local, virtual or relay domain): known without asking the DNS. */
static int smtpd_domain_is_ours(const char *address)
{
    struct buf canon = BUF_INIT;
    struct resolve_result res;
    resolve_result_init(&res);
    smtpd_canonical(address, &canon);
    int ours = resolve_address(smtpd_resolver, buf_cstr(&canon), &res) == 0 &&
               res.addr_class != RESOLVE_CLASS_DEFAULT;
    resolve_result_free(&res);
    buf_free(&canon);
    return ours;
}

/* Remembers a temporary failure for defer_if_permit, or defers now. */
enum smtpd_verdict check_defer_if_permit(struct smtpd_session *s,
                                         struct check_ctx *c, int defer_now,
                                         long code, const char *dsn,
                                         const char *fmt, ...)
{
    struct buf text = BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    buf_vappendf(&text, fmt, ap);
    va_end(ap);
    enum smtpd_verdict v = SMTPD_NEXT;
    if (defer_now) {
        v = check_reject(s, c, code, dsn, "%s", text.data);
    } else if (!c->defer_active) {
        c->defer_active = 1;
        c->defer_code = code;
        str_copy(c->defer_dsn, dsn, sizeof(c->defer_dsn));
        buf_set_str(&c->defer_text, text.data);
    }
    buf_free(&text);
    return v;
}

/* The end of an evaluation: a remembered deferral replaces an accept. */
static enum smtpd_verdict check_done(struct smtpd_session *s,
                                     struct check_ctx *c, enum smtpd_verdict v)
{
    if (c->defer_active && v != SMTPD_REJECT && v != SMTPD_SUSPEND)
        v = check_reject(s, c, c->defer_code, c->defer_dsn, "%s",
                         buf_cstr(&c->defer_text));
    buf_free(&c->defer_text);
    c->defer_active = 0;
    return v;
}

/* The end of a command's checks: DEFER_IF_REJECT lasts until here, so it
 * covers the implicit unlisted-address checks too, as in Postfix. */
static enum smtpd_verdict check_end(struct check_ctx *c, enum smtpd_verdict v)
{
    buf_free(&c->dir_text);
    c->dir_active = 0;
    return v;
}

/* reject_unknown_sender_domain, reject_unknown_recipient_domain and
 * reject_unknown_helo_hostname: which name to ask about (none for the
 * null sender, our own domains and address literals); the replies are
 * smtpd_dns_unknown_reply's. */
static enum smtpd_verdict check_unknown(struct smtpd_session *s,
                                        struct check_ctx *c,
                                        enum smtpd_unknown_what what)
{
    const char *name, *subject;
    enum dns_domain_mode mode = DNS_DOMAIN_MAIL;
    if (what == UNKNOWN_HELO) {
        /* An address literal names no host to look up. */
        if (!s->helo || s->helo[0] == '[')
            return SMTPD_NEXT;
        name = subject = s->helo;
        mode = DNS_DOMAIN_HOST;
    } else {
        subject = what == UNKNOWN_SENDER ? c->sender : c->rcpt;
        if (!subject || !*subject)
            return SMTPD_NEXT; /* the null sender, or no recipient here */
        name = address_domain(subject);
        if (!name || *name == '[' || smtpd_domain_is_ours(subject))
            return SMTPD_NEXT;
    }
    enum dns_domain_status status;
    /* A UTF-8 name is asked for in its A-label form, as Postfix does; one
     * that IDNA refuses cannot exist in the DNS (docs/dns.md). */
    struct buf ascii = BUF_INIT;
    int bad_idn = idna_to_ascii(name, &ascii) < 0;
    if (!bad_idn)
        name = buf_cstr(&ascii);
    size_t len = strlen(name);
    /* RFC 6761: names under .invalid never exist; do not ask. */
    if (bad_idn || str_equal_nocase(name, "invalid") ||
        (len > 8 && str_equal_nocase(name + len - 8, ".invalid")))
        status = DNS_DOMAIN_NOTFOUND;
    else if (!smtpd_dns_domain(s, name, mode, &status)) {
        buf_free(&ascii);
        return SMTPD_SUSPEND;
    }
    struct buf text = BUF_INIT;
    struct smtpd_unknown_reply reply;
    enum smtpd_verdict v = SMTPD_NEXT;
    switch (
        smtpd_dns_unknown_reply(what, subject, name, status, &reply, &text)) {
    case SMTPD_UNKNOWN_PASS:
        break;
    case SMTPD_UNKNOWN_REJECT:
        v = check_reject(s, c, reply.code, reply.dsn, "%s", text.data);
        break;
    case SMTPD_UNKNOWN_TEMPFAIL:
        v = check_defer_if_permit(s, c, reply.defer_now, reply.code, reply.dsn,
                                  "%s", text.data);
        break;
    }
    buf_free(&text);
    buf_free(&ascii);
    return v;
}

/* Sends a recipient_check reply. */
static enum smtpd_verdict rcheck_reply(struct smtpd_session *s,
                                       const struct check_ctx *c,
                                       const struct recipient_reply *reply)
{
    if (c->dir_active && reply->code >= 500)
        return check_reject(s, c, reply->code, reply->dsn, "%s",
                            buf_cstr(&reply->text)); /* becomes the deferral */
    struct buf line = BUF_INIT;
    recipient_reply_format(reply, &line);
    check_log(s, c, "reject", line.data);
    smtpd_error_reply(s, "%s", line.data);
    buf_free(&line);
    return SMTPD_REJECT;
}

/* reject_unlisted_recipient. */
static enum smtpd_verdict check_rcpt_known(struct smtpd_session *s,
                                           struct check_ctx *c)
{
    struct recipient_reply reply;
    recipient_reply_init(&reply);
    enum smtpd_verdict v = SMTPD_NEXT;
    if (recipient_check_unlisted(smtpd_rcheck, c->rcpt, &reply) != RECIPIENT_OK)
        v = rcheck_reply(s, c, &reply);
    recipient_reply_free(&reply);
    return v;
}

/* reject_unlisted_sender: a sender in one of our domains must be a user
 * we would accept mail for (Postfix: 550 5.1.0 ... Sender address
 * rejected: User unknown in ... table). The null sender passes. */
static enum smtpd_verdict check_sender_known(struct smtpd_session *s,
                                             struct check_ctx *c)
{
    if (!c->sender || !*c->sender)
        return SMTPD_NEXT;
    struct recipient_reply reply;
    recipient_reply_init(&reply);
    enum smtpd_verdict v = SMTPD_NEXT;
    enum recipient_status st =
        recipient_check_unlisted(smtpd_rcheck, c->sender, &reply);
    if (st != RECIPIENT_OK) {
        const char *text = buf_cstr(&reply.text);
        const char *what = strstr(text, "Recipient address rejected");
        struct buf fixed = BUF_INIT;
        if (what) {
            buf_append(&fixed, text, (size_t)(what - text));
            buf_append_str(&fixed, "Sender address rejected");
            buf_append_str(&fixed, what + strlen("Recipient address rejected"));
        } else {
            buf_append_str(&fixed, text);
        }
        const char *dsn =
            st == RECIPIENT_REJECT && strcmp(reply.dsn, "5.1.1") == 0
                ? "5.1.0"
                : reply.dsn;
        v = check_reject(s, c, reply.code, dsn, "%s", fixed.data);
        buf_free(&fixed);
    }
    recipient_reply_free(&reply);
    return v;
}

static enum smtpd_verdict eval_one(struct smtpd_session *s,
                                   const struct restriction *r,
                                   struct check_ctx *c)
{
    switch (r->kind) {
    case RESTR_PERMIT:
        return SMTPD_PERMIT;
    case RESTR_REJECT:
    case RESTR_DEFER: {
        struct buf subject = BUF_INIT;
        check_reply_subject(s, RESTR_CHECK_RECIPIENT_ACCESS, c, &subject);
        int rej = r->kind == RESTR_REJECT;
        enum smtpd_verdict v = check_reject(
            s, c, rej ? smtpd_var.reject_code : smtpd_var.defer_code,
            rej ? "5.7.1" : "4.7.1", "%s rejected: Access denied",
            subject.data);
        buf_free(&subject);
        return v;
    }
    case RESTR_PERMIT_MYNETWORKS:
        return s->trusted ? SMTPD_PERMIT : SMTPD_NEXT;
    case RESTR_PERMIT_SASL_AUTHENTICATED:
        /* Set by a successful AUTH (smtpd_sasl.c). */
        return s->sasl_authenticated ? SMTPD_PERMIT : SMTPD_NEXT;
    case RESTR_REJECT_SENDER_LOGIN_MISMATCH:
    case RESTR_REJECT_KNOWN_SENDER_LOGIN_MISMATCH:
    case RESTR_REJECT_AUTHENTICATED_SENDER_LOGIN_MISMATCH:
    case RESTR_REJECT_UNAUTHENTICATED_SENDER_LOGIN_MISMATCH:
        return check_login_mismatch(s, r->kind, c);
    case RESTR_REJECT_UNAUTH_DESTINATION:
    case RESTR_DEFER_UNAUTH_DESTINATION: {
        if (!c->rcpt)
            return SMTPD_NEXT;
        struct recipient_reply reply;
        recipient_reply_init(&reply);
        enum smtpd_verdict v = SMTPD_NEXT;
        if (recipient_check_unauth_destination(
                smtpd_rcheck, c->rcpt,
                r->kind == RESTR_DEFER_UNAUTH_DESTINATION,
                &reply) != RECIPIENT_OK)
            v = rcheck_reply(s, c, &reply);
        recipient_reply_free(&reply);
        return v;
    }
    case RESTR_PERMIT_AUTH_DESTINATION: {
        if (!c->rcpt)
            return SMTPD_NEXT;
        struct recipient_reply reply;
        recipient_reply_init(&reply);
        int ours = recipient_check_is_ours(smtpd_rcheck, c->rcpt, &reply);
        enum smtpd_verdict v = ours > 0 ? SMTPD_PERMIT : SMTPD_NEXT;
        if (ours < 0)
            v = rcheck_reply(s, c, &reply);
        recipient_reply_free(&reply);
        return v;
    }
    case RESTR_REJECT_UNLISTED_RECIPIENT:
        return c->rcpt ? check_rcpt_known(s, c) : SMTPD_NEXT;
    case RESTR_REJECT_UNLISTED_SENDER:
        return check_sender_known(s, c);
    case RESTR_REJECT_UNKNOWN_RECIPIENT_DOMAIN:
        return check_unknown(s, c, UNKNOWN_RECIPIENT);
    case RESTR_REJECT_UNKNOWN_SENDER_DOMAIN:
        return check_unknown(s, c, UNKNOWN_SENDER);
    case RESTR_REJECT_UNKNOWN_HELO_HOSTNAME:
        return check_unknown(s, c, UNKNOWN_HELO);
    case RESTR_REJECT_NON_FQDN_SENDER:
        if (c->sender && *c->sender) {
            const char *d = address_domain(c->sender);
            if (!d || !address_domain_is_fqdn(d))
                return check_reject(s, c, smtpd_var.non_fqdn_code, "5.5.2",
                                    "<%s>: Sender address rejected: need "
                                    "fully-qualified address",
                                    c->sender);
        }
        return SMTPD_NEXT;
    case RESTR_REJECT_NON_FQDN_RECIPIENT:
        if (c->rcpt) {
            const char *d = address_domain(c->rcpt);
            if (!d || !address_domain_is_fqdn(d))
                return check_reject(s, c, smtpd_var.non_fqdn_code, "5.5.2",
                                    "<%s>: Recipient address rejected: need "
                                    "fully-qualified address",
                                    c->rcpt);
        }
        return SMTPD_NEXT;
    case RESTR_REJECT_NON_FQDN_HELO_HOSTNAME:
        if (s->helo && !address_helo_is_fqdn(s->helo))
            return check_reject(s, c, smtpd_var.non_fqdn_code, "5.5.2",
                                "<%s>: Helo command rejected: need "
                                "fully-qualified hostname",
                                s->helo);
        return SMTPD_NEXT;
    case RESTR_REJECT_INVALID_HELO_HOSTNAME:
        if (s->helo && !address_helo_valid(s->helo))
            return check_reject(s, c, smtpd_var.invalid_hostname_code, "5.5.2",
                                "<%s>: Helo command rejected: Invalid name",
                                s->helo);
        return SMTPD_NEXT;
    case RESTR_CHECK_CLIENT_ACCESS:
    case RESTR_CHECK_HELO_ACCESS:
    case RESTR_CHECK_SENDER_ACCESS:
    case RESTR_CHECK_RECIPIENT_ACCESS:
        return check_access_table(s, r, c);
    case RESTR_REJECT_SPF_FAIL:
    case RESTR_REJECT_SPF_SOFTFAIL:
    case RESTR_REJECT_SPF_PERMERROR:
    case RESTR_DEFER_SPF_TEMPERROR:
    case RESTR_REJECT_SPF_HELO_FAIL:
        return check_spf(s, r->kind, c);
    }
    return SMTPD_NEXT;
}

/* ---- suspended evaluations (struct smtpd_check_wait) ---- */

static struct smtpd_check_wait *check_wait_of(struct smtpd_session *s)
{
    if (s->check_wait == NULL)
        s->check_wait = xcalloc(1, sizeof(*s->check_wait));
    return s->check_wait;
}

static void frame_release(struct check_frame *f)
{
    if (f->has_owned)
        restriction_list_free(&f->owned);
    f->has_owned = 0;
    f->list = NULL;
}

static void frames_release(struct smtpd_check_wait *w)
{
    for (size_t d = 0; d < CHECK_FRAMES_MAX; d++)
        frame_release(&w->frame[d]);
    w->frames = 0;
}

void check_keep_class(struct smtpd_session *s, int depth,
                      struct restriction_list *list)
{
    struct check_frame *f = &check_wait_of(s)->frame[depth];
    if (f->has_owned)
        restriction_list_free(&f->owned);
    f->owned = *list;
    f->has_owned = 1;
    f->list = &f->owned;
}

/* The innermost list records itself first on the way up. */
static void record_frame(struct smtpd_session *s, const struct check_ctx *c,
                         const struct restriction_list *list, size_t item)
{
    struct smtpd_check_wait *w = check_wait_of(s);
    size_t d = (size_t)c->depth;
    if (d >= CHECK_FRAMES_MAX)
        log_panic("restriction evaluation nested too deep to suspend");
    if (!w->recorded) {
        w->recorded = 1;
        w->frames = d + 1;
    }
    w->frame[d].list = list;
    w->frame[d].item = item;
}

/* Starts an evaluation, or takes back the one that waited. Returns the
 * index of the list to start with. */
static size_t check_begin(struct smtpd_session *s, struct check_ctx *c,
                          const char *stage, const char *sender,
                          const char *rcpt)
{
    struct smtpd_check_wait *w = s->check_wait;
    if (w && w->active) {
        *c = w->ctx; /* its buffers move back */
        memset(&w->ctx, 0, sizeof(w->ctx));
        w->active = 0;
        w->recorded = 0;
        c->resuming = 1;
        return w->stage;
    }
    memset(c, 0, sizeof(*c));
    c->stage = stage;
    c->sender = sender;
    c->rcpt = rcpt;
    if (w)
        w->recorded = 0;
    return 0;
}

/* The evaluation waits at list number `stage`: keep its context. */
static enum smtpd_verdict check_suspend(struct smtpd_session *s,
                                        struct check_ctx *c, size_t stage)
{
    struct smtpd_check_wait *w = check_wait_of(s);
    w->ctx = *c; /* the buffers move with it */
    w->ctx.resuming = 0;
    w->stage = stage;
    w->active = 1;
    return SMTPD_SUSPEND;
}

void smtpd_check_cancel(struct smtpd_session *s)
{
    struct smtpd_check_wait *w = s->check_wait;
    if (w == NULL)
        return;
    buf_free(&w->ctx.defer_text);
    buf_free(&w->ctx.dir_text);
    frames_release(w);
    free(w);
    s->check_wait = NULL;
}

enum smtpd_verdict check_eval_list(struct smtpd_session *s,
                                   const struct restriction_list *list,
                                   struct check_ctx *c)
{
    enum smtpd_verdict v = SMTPD_NEXT;
    size_t i = 0;
    if (c->resuming) {
        struct smtpd_check_wait *w = s->check_wait;
        size_t d = (size_t)c->depth;
        i = w->frame[d].item;
        if (d + 1 < w->frames) {
            /* That restriction's access result opened a restriction
             * class, which waits: carry it on, and take its verdict as
             * the restriction's. */
            c->depth++;
            v = check_eval_list(s, w->frame[d + 1].list, c);
            c->depth--;
            if (v != SMTPD_SUSPEND)
                frame_release(&w->frame[d + 1]);
            if (v == SMTPD_NEXT)
                i++;
        } else {
            /* The restriction that waited: evaluated again below. */
            c->resuming = 0;
        }
    }
    for (; v == SMTPD_NEXT && i < list->count; i++) {
        v = eval_one(s, &list->items[i], c);
        if (v != SMTPD_NEXT)
            break;
    }
    if (v == SMTPD_SUSPEND)
        record_frame(s, c, list, i);
    return v;
}

static enum smtpd_verdict eval_stage(struct smtpd_session *s,
                                     const struct restriction_list *list,
                                     int ok, struct check_ctx *c)
{
    if (!ok) {
        log_warn("restriction list is invalid; see earlier warning");
        return check_reject(s, c, 451, "4.3.5", "Server configuration error");
    }
    enum smtpd_verdict v = check_eval_list(s, list, c);
    return v == SMTPD_REJECT || v == SMTPD_SUSPEND ? v : SMTPD_PERMIT;
}

/* One list (every stage but RCPT's), started or carried on. */
static enum smtpd_verdict check_one_stage(struct smtpd_session *s,
                                          const char *stage, const char *sender,
                                          const struct restriction_list *list,
                                          int ok)
{
    struct check_ctx c;
    (void)check_begin(s, &c, stage, sender, NULL);
    enum smtpd_verdict v = eval_stage(s, list, ok, &c);
    if (v == SMTPD_SUSPEND)
        return check_suspend(s, &c, 0);
    return check_end(&c, check_done(s, &c, v));
}

enum smtpd_verdict smtpd_check_client(struct smtpd_session *s)
{
    return check_one_stage(s, "CONNECT", NULL, &smtpd_var.client_r,
                           smtpd_var.client_ok);
}

enum smtpd_verdict smtpd_check_helo(struct smtpd_session *s)
{
    return check_one_stage(s, "HELO", NULL, &smtpd_var.helo_r,
                           smtpd_var.helo_ok);
}

enum smtpd_verdict smtpd_check_sender(struct smtpd_session *s,
                                      const char *sender)
{
    return check_one_stage(s, "MAIL", sender, &smtpd_var.sender_r,
                           smtpd_var.sender_ok);
}

enum smtpd_verdict smtpd_check_rcpt(struct smtpd_session *s, const char *rcpt)
{
    /* smtpd_delay_reject: every earlier stage is evaluated here. */
    struct check_ctx c;
    size_t first = check_begin(s, &c, "RCPT", s->sender_raw, rcpt);
    /* Local submission is trusted as Postfix trusts pickup: its mail
     * passes no restriction list and no recipient validation. */
    if (!s->local) {
        const struct {
            const struct restriction_list *list;
            int ok;
        } stages[] = {
            {&smtpd_var.client_r, smtpd_var.client_ok},
            {&smtpd_var.helo_r, smtpd_var.helo_ok},
            {&smtpd_var.sender_r, smtpd_var.sender_ok},
            {&smtpd_var.relay_r, smtpd_var.relay_ok},
            {&smtpd_var.rcpt_r, smtpd_var.rcpt_ok},
        };
        enum smtpd_verdict v = SMTPD_PERMIT;
        for (size_t i = first; i < sizeof(stages) / sizeof(*stages); i++) {
            v = eval_stage(s, stages[i].list, stages[i].ok, &c);
            if (v == SMTPD_SUSPEND)
                return check_suspend(s, &c, i);
            if (v != SMTPD_PERMIT)
                break;
        }
        if (check_done(s, &c, v) != SMTPD_PERMIT)
            return check_end(&c, SMTPD_REJECT);
    }
    if (smtpd_var.reject_unlisted_sender && !s->local &&
        check_sender_known(s, &c) == SMTPD_REJECT)
        return check_end(&c, SMTPD_REJECT);
    /* Local submission never refuses an unknown recipient: as with
     * Postfix's pickup, the message is queued and the sender gets a
     * bounce, so a cron job's mail is not lost to an exit status nobody
     * reads (docs/sendmail.md). */
    if (smtpd_var.reject_unlisted_recipient && !s->local &&
        check_rcpt_known(s, &c) == SMTPD_REJECT)
        return check_end(&c, SMTPD_REJECT);
    return check_end(&c, SMTPD_PERMIT);
}

enum smtpd_verdict smtpd_check_data(struct smtpd_session *s)
{
    if (s->local)
        return SMTPD_PERMIT;
    /* Received-SPF: goes in with our Received: once DATA is accepted;
     * nothing is evaluated yet, so the wait starts nothing twice. */
    if (smtpd_spf_wait(s))
        return SMTPD_SUSPEND;
    return check_one_stage(s, "DATA", s->sender_raw, &smtpd_var.data_r,
                           smtpd_var.data_ok);
}

enum smtpd_verdict smtpd_check_end_of_data(struct smtpd_session *s)
{
    if (s->local)
        return SMTPD_PERMIT;
    return check_one_stage(s, "END-OF-MESSAGE", s->sender_raw, &smtpd_var.eod_r,
                           smtpd_var.eod_ok);
}
