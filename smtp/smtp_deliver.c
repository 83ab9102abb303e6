/* smtp_deliver.c: one deliver/1 request, whole: all its recipients go in
 * one transaction to one next hop (smtp.h).
 *
 *   1. The next hop's addresses (smtp_nexthop.c); a failure there is
 *      every recipient's outcome.
 *   2. A connection kept from an earlier request to the same next hop is
 *      checked with RSET and used first. If it turns out broken before
 *      any recipient got an answer (lost, timed out, 421), the recipients
 *      are sent again once on a fresh connection.
 *   3. Otherwise the addresses in order, up to smtp_mx_address_limit; a
 *      refused connection or a failed greeting/EHLO moves on to the next
 *      one, and so does a recipient deferred by one server while another
 *      may take it, up to smtp_mx_session_limit sessions that got past
 *      the handshake (Postfix's rule).
 *   4. Each recipient's outcome as the engine reports it: done (250 to
 *      the end of data, per recipient in LMTP), bounced (5xx), deferred
 *      (4xx or trouble) with the reason worded as Postfix does; the
 *      connection is kept for the next request when it is still usable.
 * A recipient is marked done in the queue file only after its 250. */
#include "smtp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "base/log.h"
#include "base/mem.h"
#include "message/address.h"
#include "message/dsn.h"
#include "queue/qfile.h"
#include "smtp/smtp_ratelimit.h"

/* The request's recipients that still need an outcome, as the engine
 * takes them. */
struct rcpt_list {
    struct smtpc_rcpt *rcpts;     /* pending recipients, engine form */
    size_t *index;                /* rcpts[k] is d->req->rcpts[index[k]] */
    struct buf *address;          /* external forms (rcpts[k].address) */
    struct smtpc_result *last;    /* each one's last deferral, kept for
                                     the final outcome */
    size_t count;
};

static unsigned notify_bits(unsigned qfile_notify)
{
    unsigned bits = 0;
    if (qfile_notify & QFILE_NOTIFY_NEVER)
        bits |= DSN_NOTIFY_NEVER;
    if (qfile_notify & QFILE_NOTIFY_SUCCESS)
        bits |= DSN_NOTIFY_SUCCESS;
    if (qfile_notify & QFILE_NOTIFY_FAILURE)
        bits |= DSN_NOTIFY_FAILURE;
    if (qfile_notify & QFILE_NOTIFY_DELAY)
        bits |= DSN_NOTIFY_DELAY;
    return bits;
}

static void rcpt_list_build(struct agent_delivery *d, struct rcpt_list *l)
{
    size_t n = d->req->rcpt_count;
    memset(l, 0, sizeof(*l));
    l->rcpts = xcalloc(n, sizeof(*l->rcpts));
    l->index = xcalloc(n, sizeof(*l->index));
    l->address = xcalloc(n, sizeof(*l->address));
    l->last = xcalloc(n, sizeof(*l->last));
    for (size_t i = 0; i < n; i++) {
        if (!agent_pending(d, i))
            continue;
        const struct deliver_rcpt *r = &d->req->rcpts[i];
        size_t k = l->count++;
        l->index[k] = i;
        address_externalize(r->address, &l->address[k]);
        l->rcpts[k].notify = notify_bits(r->notify);
        l->rcpts[k].orcpt = r->orcpt[0] ? r->orcpt : NULL;
    }
}

static void rcpt_list_free(struct rcpt_list *l)
{
    size_t n = l->count;
    for (size_t k = 0; k < n; k++) {
        smtpc_result_free(&l->rcpts[k].result);
        smtpc_result_free(&l->last[k]);
        buf_free(&l->address[k]);
    }
    free(l->rcpts);
    free(l->index);
    free(l->address);
    free(l->last);
}

/* ---- outcomes ---- */

/* A peer's reply that says it is rate-limiting us makes the request's
 * hop status "throttled" (qmgr slows the destination down). */
static void note_rate_limit(struct agent_delivery *d,
                            const struct smtpc_result *r)
{
    if (r->from_peer && r->reply.code / 100 == 4 &&
        smtp_reply_is_rate_limit(r->reply.code,
                                 r->reply.status_given ? r->reply.status
                                                       : NULL,
                                 buf_cstr(&r->reply.text)))
        d->hop = DELIVER_HOP_THROTTLED;
}

static void record(struct agent_delivery *d, size_t i,
                   const struct smtpc_result *r)
{
    note_rate_limit(d, r);
    const char *reason = r->reason.len ? r->reason.data : "unknown error";
    /* The notice's Remote-MTA: and Diagnostic-Code: when a peer's
     * reply decided it (the peer's name is in d->remote_mta). */
    d->remote_reply = r->from_peer && r->reply.text.len ? r->reply.text.data
                                                        : NULL;
    switch (r->outcome) {
    case SMTPC_SENT:
        agent_sent(d, i, r->status, "%s", reason);
        break;
    case SMTPC_BOUNCED:
        agent_bounce(d, i, r->status, "%s", reason);
        break;
    default:
        /* A 4xx status keeps its code; anything else (a reply class that
         * does not fit) defers with a generic one. */
        agent_defer(d, i, r->status[0] == '4' ? r->status : "4.4.2", "%s",
                    reason);
        break;
    }
    d->remote_reply = NULL;
}

/* Gives every pending recipient the same outcome (next-hop trouble, a
 * session that never came up). */
static void record_all(struct agent_delivery *d, struct rcpt_list *l,
                       const struct smtpc_result *r)
{
    for (size_t k = 0; k < l->count; k++)
        if (agent_pending(d, l->index[k]))
            record(d, l->index[k], r);
}

/* The remaining recipients get their own last deferral, or r. */
static void defer_rest(struct agent_delivery *d, struct rcpt_list *l,
                       const struct smtpc_result *r)
{
    for (size_t k = 0; k < l->count; k++) {
        size_t i = l->index[k];
        if (!agent_pending(d, i))
            continue;
        if (l->last[k].outcome != SMTPC_PENDING)
            record(d, i, &l->last[k]);
        else
            record(d, i, r);
    }
}

static size_t pending_count(struct agent_delivery *d, struct rcpt_list *l)
{
    size_t n = 0;
    for (size_t k = 0; k < l->count; k++)
        n += agent_pending(d, l->index[k]);
    return n;
}

/* RFC 8689 governs the message's way between hosts: LMTP over a unix
 * socket hands it to a mail store on this host, where REQUIRETLS has
 * nothing to protect (and Dovecot's LMTP does not offer it). */
static int requiretls_applies(const struct agent_delivery *d)
{
    if (!d->req->requiretls)
        return 0;
    const char *nexthop = d->req->nexthop;
    while (*nexthop == ' ' || *nexthop == '\t')
        nexthop++;
    return !(smtp_cfg.lmtp && strncmp(nexthop, "unix:", 5) == 0);
}

/* ---- one transaction ---- */

struct send_wait {
    int done;
    struct smtpc_result result;
};

static void send_done(struct smtpc_session *session,
                      const struct smtpc_result *result, void *ctx)
{
    struct send_wait *w = ctx;
    smtpc_result_copy(&w->result, result);
    w->done = 1;
}

/* What one transaction did. */
enum attempt_result {
    ATTEMPT_DONE,      /* outcomes recorded (some may stay pending) */
    ATTEMPT_BROKEN,    /* a kept connection failed before any recipient
                          got an answer: nothing recorded, try afresh */
};

static int nothing_answered(const struct smtpc_message *m,
                            const struct smtpc_result *tr)
{
    /* The RSET in front of a reused connection's transaction: whatever
     * its failure, nothing after it was answered. */
    if (tr->command == SMTPC_CMD_RSET)
        return 1;
    if (tr->failure != SMTPC_FAIL_LOST && tr->failure != SMTPC_FAIL_TIMEOUT &&
        tr->failure != SMTPC_FAIL_PROTOCOL && tr->reply.code != 421)
        return 0;
    /* Past DATA's 354 the content may have arrived: never send twice. */
    if (tr->command != SMTPC_CMD_MAIL && tr->command != SMTPC_CMD_RCPT &&
        tr->command != SMTPC_CMD_DATA && tr->command != SMTPC_CMD_RSET)
        return 0;
    for (size_t k = 0; k < m->rcpt_count; k++)
        if (m->rcpts[k].result.from_peer &&
            m->rcpts[k].result.command == SMTPC_CMD_RCPT &&
            m->rcpts[k].result.reply.code != 421)
            return 0;
    return 1;
}

/* Sends the pending recipients over c. final: no other server will be
 * tried, so deferrals are recorded now. */
static enum attempt_result attempt(struct agent_delivery *d,
                                   struct rcpt_list *l, struct smtp_conn *c,
                                   int reused, int final)
{
    struct smtpc_message m;
    memset(&m, 0, sizeof(m));
    struct smtpc_rcpt *rcpts = xcalloc(l->count, sizeof(*rcpts));
    size_t *which = xcalloc(l->count, sizeof(*which));
    for (size_t k = 0; k < l->count; k++) {
        if (!agent_pending(d, l->index[k]))
            continue;
        rcpts[m.rcpt_count] = l->rcpts[k];
        memset(&rcpts[m.rcpt_count].result, 0, sizeof(rcpts[0].result));
        rcpts[m.rcpt_count].address = l->address[k].data;
        which[m.rcpt_count++] = k;
    }
    struct buf sender = BUF_INIT;
    address_externalize(d->req->sender, &sender);
    m.sender = buf_cstr(&sender);
    m.size = d->req->message_size;
    m.body = strcmp(d->req->encoding, "8bitmime") == 0 ? SMTPC_BODY_8BITMIME
                                                       : SMTPC_BODY_NONE;
    m.smtputf8 = d->req->smtputf8;
    m.requiretls = requiretls_applies(d);
    m.envid = d->req->dsn_envid[0] ? d->req->dsn_envid : NULL;
    int ret = dsn_ret_parse(d->req->dsn_ret);
    m.ret = ret < 0 ? SMTPC_RET_NONE : ret;
    m.rcpts = rcpts;
    smtp_content_prepare(&m, d, c->session);

    struct timeval ready;
    gettimeofday(&ready, NULL);
    struct send_wait w;
    memset(&w, 0, sizeof(w));
    smtpc_send(c->session, &m, send_done, &w);
    smtp_loop_run_until(&w.done);
    smtp_content_done();

    enum attempt_result outcome = ATTEMPT_DONE;
    if (reused && w.result.outcome != SMTPC_SENT && nothing_answered(&m, &w.result)) {
        if (w.result.command == SMTPC_CMD_RSET)
            log_info("%s: cached connection to %s is gone (%s); trying a new "
                     "connection",
                     d->req->log_ident, c->relay.data, w.result.reason.data);
        else
            log_info("%s: cached connection to %s failed (%s); trying a new "
                     "connection",
                     d->req->log_ident, c->relay.data, w.result.reason.data);
        outcome = ATTEMPT_BROKEN;
    } else {
        c->transactions++;
        d->conn_setup = ready;
        d->conn_reuse_count = reused ? (int)c->transactions - 1 : 0;
        d->relay = c->relay.data;
        d->remote_mta = c->addr.host;
        for (size_t j = 0; j < m.rcpt_count; j++) {
            size_t k = which[j];
            struct smtpc_result *r = &rcpts[j].result;
            if (r->outcome == SMTPC_PENDING) /* never: the engine decides */
                smtpc_result_copy(r, &w.result);
            if (r->outcome == SMTPC_DEFERRED && !final) {
                smtpc_result_free(&l->last[k]);
                smtpc_result_copy(&l->last[k], r);
                continue;
            }
            record(d, l->index[k], r);
        }
        d->relay = "none";
        d->remote_mta = NULL;
        d->conn_reuse_count = 0;
        memset(&d->conn_setup, 0, sizeof(d->conn_setup));
    }
    for (size_t j = 0; j < m.rcpt_count; j++)
        smtpc_result_free(&rcpts[j].result);
    smtpc_result_free(&w.result);
    buf_free(&sender);
    free(rcpts);
    free(which);
    return outcome;
}

/* ---- a kept connection ---- */

/* Tries the kept connection for key, if any. Returns 1 when it carried
 * the transaction (outcomes recorded, connection kept or closed), 0
 * when there was none or it was broken (the caller connects anew). The
 * RSET that checks it goes in front of the transaction, in the same
 * pipeline as MAIL (smtpc_rset_before_next), not as a round trip of its
 * own: an RSET that fails ends the transaction before any recipient got
 * an answer, which attempt() reports as ATTEMPT_BROKEN. */
static int try_cached(struct agent_delivery *d, struct rcpt_list *l,
                      const struct smtp_nexthop *nh, const char *key,
                      const struct smtp_tls_hop *tls, int final)
{
    struct smtp_conn *c = smtp_cache_take(key, buf_cstr(&tls->signature));
    if (c == NULL)
        return 0;
    if (!smtp_mtasts_conn_allowed(nh, c)) {
        /* Kept from before the domain's MTA-STS policy changed. */
        smtp_conn_close(c, 1);
        return 0;
    }
    smtpc_rset_before_next(c->session);
    if (attempt(d, l, c, 1, final) == ATTEMPT_BROKEN) {
        smtp_conn_drop(c);
        return 0;
    }
    smtp_cache_put(c);
    return 1;
}

/* ---- the servers of one destination ---- */

/* How many of nh's addresses to try (smtp_mx_address_limit). */
static size_t limited_count(const struct smtp_nexthop *nh)
{
    size_t count = nh->count;
    if (smtp_cfg.mx_address_limit > 0 &&
        count > (size_t)smtp_cfg.mx_address_limit)
        count = (size_t)smtp_cfg.mx_address_limit;
    return count;
}

/* What the tries of one request learn, across the next hop's servers
 * and the fallback relays. */
struct tries {
    long sessions;           /* sessions that reached a transaction */
    struct buf failed_relay; /* the last server that failed after the
                                connect, for relay= */
    struct smtpc_result tls_why; /* the last TLS failure */
    struct buf tls_relay;    /* and its server */
};

/* Tries nh's addresses in order, up to the address and session limits,
 * for the pending recipients; connections are kept under key. tls is
 * the site's TLS for them; sts_tls (NULL: none), the TLS an MTA-STS
 * policy demands of the MX hosts it lists. mx_hop: nh is the request's
 * own next hop (MTA-STS verdicts and TLS report records apply), not a
 * fallback relay. last_hop: no other destination follows (no fallback
 * relay), so the last server's deferrals are final. why holds the last
 * failure. Returns -1 when every recipient got a final answer that ends
 * the request (HELO refused for good, a 5xx to AUTH without soft
 * bounce), else 0. */
static int try_servers(struct agent_delivery *d, struct rcpt_list *l,
                       struct smtp_nexthop *nh, const char *key,
                       const struct smtp_tls_hop *tls,
                       const struct smtp_tls_hop *sts_tls, int mx_hop,
                       int last_hop, struct tries *t, struct smtpc_result *why)
{
    size_t addr_count = limited_count(nh);
    long here = 0; /* sessions of this destination */
    for (size_t a = 0; a < addr_count && pending_count(d, l) > 0; a++) {
        const struct smtp_tls_hop *hop_tls =
            mx_hop && sts_tls && smtp_mtasts_verdict(a) == MTASTS_MX_VERIFY
                ? sts_tls
                : tls;
        struct smtp_conn *c = smtp_conn_open(&nh->addrs[a], key, hop_tls, why);
        if (mx_hop)
            smtp_tlsrpt_session(a, &nh->addrs[a], hop_tls, c, why);
        if (c == NULL) {
            /* As Postfix: a server that failed after the connect (its
             * greeting, EHLO, TLS) is named in relay=; a failed connect
             * is relay=none. */
            buf_reset(&t->failed_relay);
            if (why->command != SMTPC_CMD_NONE ||
                why->failure == SMTPC_FAIL_TLS)
                smtp_addr_format(&nh->addrs[a], &t->failed_relay);
            if (why->failure == SMTPC_FAIL_TLS) {
                smtpc_result_free(&t->tls_why);
                smtpc_result_copy(&t->tls_why, why);
                buf_set_str(&t->tls_relay, buf_cstr(&t->failed_relay));
            }
            note_rate_limit(d, why);
            if (why->outcome == SMTPC_BOUNCED &&
                why->command != SMTPC_CMD_GREETING &&
                why->failure == SMTPC_FAIL_NONE) {
                /* HELO refused for good: no server will take it. */
                record_all(d, l, why);
                return -1;
            }
            continue;
        }
        if (smtp_sasl_login(c, d->req->sender, why) < 0) {
            /* As Postfix: the session carries no mail and is not kept
             * (the server is named in relay=); a 5xx without
             * smtp_sasl_auth_soft_bounce bounces. */
            buf_reset(&t->failed_relay);
            smtp_addr_format(&nh->addrs[a], &t->failed_relay);
            smtp_conn_close(c, 1);
            if (why->outcome == SMTPC_BOUNCED) {
                d->relay = buf_cstr(&t->failed_relay);
                record_all(d, l, why);
                d->relay = "none";
                return -1;
            }
            continue;
        }
        t->sessions++;
        here++;
        buf_reset(&t->failed_relay);
        if (mx_hop)
            smtp_mtasts_connected(d, a, c);
        int last_here = a + 1 == addr_count ||
                        (smtp_cfg.mx_session_limit > 0 &&
                         here >= smtp_cfg.mx_session_limit);
        attempt(d, l, c, 0, last_hop && last_here);
        smtp_cache_put(c);
        if (last_here)
            break;
    }
    return 0;
}

/* Whether a next hop whose lookup failed with dsn may go to
 * smtp_fallback_relay: a name not found or a failed lookup may (Postfix:
 * "destinations that can't be found or that are unreachable"); a domain
 * that accepts no mail (null MX, RFC 7505) or mail that loops back to us
 * may not. */
static int may_fall_back(const char *dsn)
{
    return strcmp(dsn, "5.1.0") != 0 && strcmp(dsn, "5.4.6") != 0 &&
           strcmp(dsn, "5.3.5") != 0;
}

/* The pending recipients to smtp_fallback_relay's servers, after the
 * next hop's own could not take them. A fallback relay that cannot be
 * resolved or refuses us for good is a configuration problem: the mail
 * defers (4.3.5), as in Postfix. */
static void try_fallback(struct agent_delivery *d, struct rcpt_list *l,
                         int requiretls, struct tries *t,
                         struct smtpc_result *why)
{
    const char *relays = smtp_cfg.fallback_relay;
    struct smtp_tls_hop tls;
    if (smtp_tls_hop_init(&tls, relays, requiretls, why) < 0)
        return;
    struct smtp_nexthop nh;
    memset(&nh, 0, sizeof(nh));
    struct buf reason = BUF_INIT;
    char dsn[10];
    enum smtp_nexthop_result nr =
        smtp_nexthop_resolve(relays, 0, smtp_cfg.queue_dir,
                             smtp_cfg.myhostname, &nh, &reason, dsn);
    if (nr == SMTP_NEXTHOP_OK) {
        try_servers(d, l, &nh, relays, &tls, NULL, 0, 1, t, why);
    } else {
        smtpc_result_free(why);
        memset(why, 0, sizeof(*why));
        why->outcome = SMTPC_DEFERRED;
        snprintf(why->status, sizeof(why->status), "%s",
                 nr == SMTP_NEXTHOP_BOUNCE ? "4.3.5" : dsn);
        buf_set_str(&why->reason, buf_cstr(&reason));
        if (nr == SMTP_NEXTHOP_BOUNCE)
            log_warn("%s: smtp_fallback_relay configuration problem: %s",
                     d->req->log_ident, buf_cstr(&reason));
    }
    buf_free(&reason);
    smtp_nexthop_free(&nh);
    smtp_tls_hop_free(&tls);
}

/* ---- the request ---- */

void smtp_deliver(struct agent_delivery *d)
{
    struct rcpt_list l;
    rcpt_list_build(d, &l);
    d->relay = "none";
    struct smtp_nexthop nh;
    memset(&nh, 0, sizeof(nh));
    struct smtp_tls_hop tls, sts_tls;
    int have_sts_tls = 0;
    struct buf reason = BUF_INIT;
    struct tries t;
    memset(&t, 0, sizeof(t));
    t.failed_relay = (struct buf)BUF_INIT;
    t.tls_relay = (struct buf)BUF_INIT;
    char dsn[10];
    struct smtpc_result why;
    memset(&why, 0, sizeof(why));
    /* The TLS policy first: a table error defers without a lookup. */
    int requiretls = requiretls_applies(d);
    if (smtp_tls_hop_init(&tls, d->req->nexthop, requiretls, &why) < 0) {
        record_all(d, &l, &why);
        goto done;
    }
    if (!d->req->requiretls && tls.policy.level > TLS_CLIENT_MAY &&
        smtp_content_tls_required_no(d) && smtp_tls_hop_waive(&tls))
        log_info("%s: TLS-Required: No: the TLS policy of %s is not "
                 "enforced for this message",
                 d->req->log_ident, d->req->nexthop);
    smtp_mtasts_request_begin();
    enum smtp_nexthop_result nr =
        smtp_nexthop_resolve(d->req->nexthop, smtp_cfg.lmtp, smtp_cfg.queue_dir,
                             smtp_cfg.myhostname, &nh, &reason, dsn);
    if (nr != SMTP_NEXTHOP_OK) {
        if (nr != SMTP_NEXTHOP_BOUNCE)
            d->hop = DELIVER_HOP_FAILED; /* as Postfix: a site failure */
        why.outcome = nr == SMTP_NEXTHOP_BOUNCE ? SMTPC_BOUNCED : SMTPC_DEFERRED;
        snprintf(why.status, sizeof(why.status), "%s", dsn);
        buf_set_str(&why.reason, buf_cstr(&reason));
        if (!*smtp_cfg.fallback_relay || nh.found_myself ||
            !may_fall_back(dsn)) {
            record_all(d, &l, &why);
            goto done;
        }
    }
    const char *key = d->req->nexthop;
    /* smtp_fallback_relay, unless mail for this domain would come back
     * to us (Postfix's rule). */
    int fallback = *smtp_cfg.fallback_relay && !nh.found_myself;
    int reached = 0;
    if (nr == SMTP_NEXTHOP_OK) {
        /* "TLS-Required: No" (RFC 8689 section 5) waives the recipient
         * domain's MTA-STS policy as it waives the site's TLS policy
         * above (the header is read only when a policy demands
         * something). */
        if (!d->req->requiretls && smtp_mtasts_demands() &&
            smtp_content_tls_required_no(d)) {
            smtp_mtasts_waive();
            log_info("%s: TLS-Required: No: the MTA-STS policy of %s is "
                     "not enforced for this message",
                     d->req->log_ident, d->req->nexthop);
        }
        /* MX hosts an MTA-STS policy in enforce mode does not list are
         * never tried; with none left the mail waits (smtp_mtasts.c). */
        if (smtp_mtasts_filter(d, &nh, &tls, &why) < 0) {
            record_all(d, &l, &why);
            goto done;
        }
        size_t addr_count = limited_count(&nh);
        /* The TLS an MTA-STS policy in enforce mode demands of the MX
         * hosts it lists (smtp_mtasts.c), else the site's. */
        have_sts_tls = smtp_mtasts_tls_hop(d, &tls, &sts_tls);
        reached = try_cached(d, &l, &nh, key,
                             have_sts_tls ? &sts_tls : &tls,
                             !fallback && addr_count <= 1);
        if (reached && pending_count(d, &l) == 0)
            goto done;
        if (try_servers(d, &l, &nh, key, &tls,
                        have_sts_tls ? &sts_tls : NULL, 1, !fallback, &t,
                        &why) < 0)
            goto done;
    }
    if (fallback && pending_count(d, &l) > 0)
        try_fallback(d, &l, requiretls, &t, &why);
    if (why.outcome == SMTPC_PENDING) {
        why.outcome = SMTPC_DEFERRED;
        snprintf(why.status, sizeof(why.status), "4.4.1");
        buf_set_str(&why.reason, "no server of the next hop could be reached");
    }
    if (why.outcome == SMTPC_BOUNCED) {
        /* A 5xx greeting moves on to the next server, as Postfix's
         * smtp_skip_5xx_greeting; when none is left it defers. */
        why.outcome = SMTPC_DEFERRED;
        why.status[0] = '4';
    }
    /* No server of the destination got as far as a transaction: a
     * failed hop for qmgr's concurrency feedback (unless it told us to
     * slow down, which says more). */
    if (!reached && t.sessions == 0 && d->hop == DELIVER_HOP_OK)
        d->hop = DELIVER_HOP_FAILED;
    if (requiretls && t.tls_why.outcome != SMTPC_PENDING) {
        /* RFC 8689 section 4.2.1: no server could take the message over
         * a verified TLS connection that offers REQUIRETLS: it is
         * returned with 5.7.30 ("REQUIRETLS support required"). */
        smtpc_result_free(&why);
        smtpc_result_copy(&why, &t.tls_why);
        why.outcome = SMTPC_BOUNCED;
        snprintf(why.status, sizeof(why.status), "5.7.30");
        buf_set_str(&t.failed_relay, buf_cstr(&t.tls_relay));
    }
    if (t.failed_relay.len)
        d->relay = buf_cstr(&t.failed_relay);
    defer_rest(d, &l, &why);
done:
    buf_free(&t.failed_relay);
    buf_free(&t.tls_relay);
    smtpc_result_free(&t.tls_why);
    smtp_tls_hop_free(&tls);
    if (have_sts_tls)
        smtp_tls_hop_free(&sts_tls);
    smtp_nexthop_free(&nh);
    smtpc_result_free(&why);
    buf_free(&reason);
    rcpt_list_free(&l);
    d->relay = "none";
}
