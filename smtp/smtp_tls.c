/* smtp_tls.c: TLS in the smtp and lmtp client daemon, as Postfix's
 * smtp(8) does it, on lib/tls's client (tls_client.h):
 *
 *   - the policy of a next hop: PREFIX_tls_security_level, overridden by
 *     PREFIX_tls_policy_maps (keyed by the next hop as Postfix keys it:
 *     "[host]:port", "domain", then parent domains);
 *   - STARTTLS on a connection after EHLO: a mandatory level (encrypt and
 *     up) without STARTTLS offered, refused, or with a failed handshake
 *     or verification fails the connection in Postfix's words (the
 *     caller tries the next server); may goes on in plain text when
 *     STARTTLS is not offered or refused, and after a failed handshake
 *     asks the caller to try the same server again without TLS.
 *
 * The handshake runs on the private loop (bounded by
 * PREFIX_starttls_timeout) inside the engine's STARTTLS step
 * (smtpc_starttls's tls_fn); the log lines ("Verified TLS connection
 * established to ...", "SSL_connect error to ...", verification
 * failures) are written by lib/tls. */
#include "smtp.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/mem.h"
#include "config/config.h"
#include "tables/maps.h"
#include "tls/tls_client.h"

/* NULL when no level asks for TLS, or when the context could not be made
 * (then a mandatory level defers: "our TLS engine is unavailable"). */
static struct tls_client *client;
static struct maps *policy_maps;
/* smtp_tls_dane_insecure_mx_policy: may, encrypt or dane (smtp only). */
static enum tls_client_level insecure_mx_policy = TLS_CLIENT_MAY;

static const char *param(const char *suffix)
{
    static char name[128];
    snprintf(name, sizeof(name), "%s_tls_%s", smtp_cfg.name, suffix);
    return name;
}

void smtp_tls_init(void)
{
    if (!smtp_cfg.lmtp) {
        /* Postfix's default: dane at level dane, else may. */
        const char *text = cfg_str("smtp_tls_dane_insecure_mx_policy");
        if (tls_client_level_parse(text, &insecure_mx_policy) < 0 ||
            (insecure_mx_policy != TLS_CLIENT_MAY &&
             insecure_mx_policy != TLS_CLIENT_ENCRYPT &&
             insecure_mx_policy != TLS_CLIENT_DANE)) {
            log_warn("invalid smtp_tls_dane_insecure_mx_policy \"%s\": "
                     "using may", text);
            insecure_mx_policy = TLS_CLIENT_MAY;
        }
    }
    const char *maps = cfg_str(param("policy_maps"));
    if (*maps)
        policy_maps = maps_open(smtp_cfg.lmtp ? "lmtp_tls_policy_maps"
                                              : "smtp_tls_policy_maps",
                                maps, 0);
    /* Always, at start (before any chroot): even at level none a
     * REQUIRETLS message needs TLS, and a message's demands are only
     * known per request. Postfix makes none at level none; the cost
     * here is one context. */
    struct buf err = BUF_INIT;
    client = tls_client_new(smtp_cfg.name, &err);
    if (client == NULL)
        log_warn("cannot make the %s TLS client: %s; mail that requires "
                 "TLS is deferred, the rest goes in plain text",
                 smtp_cfg.name, buf_cstr(&err));
    buf_free(&err);
}

int smtp_tls_policy_for(const char *nexthop_domain, const char *nexthop_key,
                        struct tls_policy *out, struct buf *err)
{
    (void)nexthop_domain; /* the key carries it; kept for callers that
                             look up per domain (MTA-STS, DANE) */
    if (client != NULL)
        return tls_client_policy(client, policy_maps, nexthop_key, out, err);
    /* No context: main.cf's level still decides whether mail may go in
     * plain text; a policy table is still consulted so that a mandatory
     * entry defers instead of sending in the clear. */
    if (policy_maps != NULL) {
        int found = tls_policy_lookup(policy_maps, nexthop_key, out, err);
        if (found != 0)
            return found < 0 ? -1 : 0;
        tls_policy_free(out);
        tls_policy_init(out);
    }
    if (tls_client_level_parse(smtp_cfg.tls_security_level, &out->level) < 0) {
        buf_appendf(err, "invalid %s \"%s\"", param("security_level"),
                    smtp_cfg.tls_security_level);
        return -1;
    }
    return 0;
}

/* The policy key and domain of a request's next hop: "inet:" dropped
 * (lmtp), the key otherwise verbatim; the domain without brackets and
 * port. */
static void hop_names(const char *nexthop, struct buf *key, char *domain,
                      size_t domain_size)
{
    while (*nexthop == ' ' || *nexthop == '\t')
        nexthop++;
    if (smtp_cfg.lmtp && strncmp(nexthop, "inet:", 5) == 0)
        nexthop += 5;
    buf_set_str(key, nexthop);
    while (key->len > 0 && (key->data[key->len - 1] == ' ' ||
                            key->data[key->len - 1] == '\t'))
        buf_truncate(key, key->len - 1);
    const char *start = buf_cstr(key);
    size_t len;
    if (*start == '[') {
        start++;
        const char *close = strchr(start, ']');
        len = close ? (size_t)(close - start) : strlen(start);
    } else {
        const char *colon = strrchr(start, ':');
        /* An unbracketed IPv6 address has several colons: no port. */
        len = colon && strchr(start, ':') == colon ? (size_t)(colon - start)
                                                   : strlen(start);
    }
    snprintf(domain, domain_size, "%.*s", (int)len, start);
}

static void hop_signature(const struct tls_policy *p, struct buf *out)
{
    buf_reset(out);
    buf_appendf(out, "%s|%s|%s|%s|%s|%d", tls_client_level_name(p->level),
                p->protocols ? p->protocols : "", p->ciphers ? p->ciphers : "",
                p->exclude ? p->exclude : "",
                p->servername ? p->servername : "", p->connection_reuse);
    for (size_t i = 0; i < p->match.count; i++)
        buf_appendf(out, "|%s", p->match.items[i]);
}

static void defer_local(struct smtpc_result *why, const char *status,
                        const char *reason)
{
    smtpc_result_free(why);
    memset(why, 0, sizeof(*why));
    why->outcome = SMTPC_DEFERRED;
    snprintf(why->status, sizeof(why->status), "%s", status);
    why->failure = SMTPC_FAIL_TLS;
    buf_set_str(&why->reason, reason);
}

int smtp_tls_hop_init(struct smtp_tls_hop *hop, const char *nexthop,
                      int requiretls, struct smtpc_result *why)
{
    memset(hop, 0, sizeof(*hop));
    tls_policy_init(&hop->policy);
    tls_policy_init(&hop->verify_policy);
    struct buf key = BUF_INIT, err = BUF_INIT;
    hop_names(nexthop, &key, hop->domain, sizeof(hop->domain));
    int rc = smtp_tls_policy_for(hop->domain, buf_cstr(&key), &hop->policy,
                                 &err);
    if (rc < 0) {
        struct buf reason = BUF_INIT;
        buf_appendf(&reason, "TLS policy lookup for %s: %s", buf_cstr(&key),
                    buf_cstr(&err));
        defer_local(why, "4.3.0", buf_cstr(&reason));
        buf_free(&reason);
        /* Never weaker than asked: a broken policy sends nothing. */
        hop->policy.level = TLS_CLIENT_SECURE;
    }
    if (requiretls) {
        hop->requiretls = 1;
        struct buf err2 = BUF_INIT;
        hop->verify_policy.level = TLS_CLIENT_VERIFY;
        /* RFC 8689 section 4.2.1: the MX host name (the domain itself
         * without MX) must match the certificate. */
        tls_policy_add_match(&hop->verify_policy, "hostname", " ", 0, &err2);
        hop->verify_policy.match_set = 1;
        buf_free(&err2);
    }
    hop_signature(&hop->policy, &hop->signature);
    if (hop->requiretls)
        buf_append_str(&hop->signature, "|requiretls");
    buf_free(&key);
    buf_free(&err);
    return rc;
}

int smtp_tls_hop_waive(struct smtp_tls_hop *hop)
{
    if (hop->requiretls || hop->policy.level <= TLS_CLIENT_MAY)
        return 0;
    /* RFC 8689 section 5: the sender asked that the recipient side's
     * TLS requirements be ignored for this message: TLS when offered,
     * nothing verified, plain text otherwise. */
    hop->policy.level = TLS_CLIENT_MAY;
    hop->policy_waived = 1;
    hop_signature(&hop->policy, &hop->signature);
    buf_append_str(&hop->signature, "|waived");
    return 1;
}

void smtp_tls_hop_free(struct smtp_tls_hop *hop)
{
    tls_policy_free(&hop->policy);
    tls_policy_free(&hop->verify_policy);
    buf_free(&hop->signature);
}

/* ---- the handshake, inside the engine's STARTTLS step ---- */

struct handshake {
    struct smtp_conn *c;
    const struct tls_policy *policy;
    const struct tls_client_peer *peer;
    struct tls_conn *tls;
    int fd;
    int registered;
    struct event_timer timer;
    int ended;          /* the engine was told */
    int ok;
    struct buf why;     /* the reason in Postfix's words */
    int handshake_failed; /* the TLS layer failed (not the policy) */
};

static void handshake_end(struct handshake *h, int ok)
{
    struct event_loop *loop = smtp_loop();
    if (h->registered)
        event_fd_remove(loop, h->fd);
    h->registered = 0;
    event_timer_stop(loop, &h->timer);
    h->ended = 1;
    h->ok = ok;
    if (ok) {
        tls_conn_attach(h->tls, h->c->stream);
        int verified = tls_client_trust(h->tls) == TLS_TRUST_VERIFIED;
        smtpc_starttls_finish(h->c->session, 1, verified, NULL);
    } else {
        smtpc_starttls_finish(h->c->session, 0, 0, buf_cstr(&h->why));
    }
}

static void handshake_step(struct handshake *h)
{
    buf_reset(&h->why);
    enum tls_result r = tls_client_handshake(h->tls, &h->why);
    if (r == TLS_AGAIN) {
        unsigned wants = tls_conn_wants(h->tls);
        unsigned interest = (wants & STREAM_WANT_READ ? EVENT_READ : 0) |
                            (wants & STREAM_WANT_WRITE ? EVENT_WRITE : 0);
        if (event_fd_set(smtp_loop(), h->fd, interest ? interest : EVENT_READ) <
            0) {
            buf_set_str(&h->why, "Cannot start TLS: handshake failure");
            h->handshake_failed = 1;
            handshake_end(h, 0);
        }
        return;
    }
    if (r == TLS_FAILED) {
        /* lib/tls words a failed handshake so; anything else is the
         * policy's verdict on a completed one. */
        h->handshake_failed =
            strcmp(buf_cstr(&h->why), "Cannot start TLS: handshake failure") ==
            0;
        handshake_end(h, 0);
        return;
    }
    handshake_end(h, 1);
}

static void handshake_ready(struct event_loop *loop, int fd, unsigned events,
                            void *ctx)
{
    handshake_step(ctx);
}

static void handshake_timeout(struct event_loop *loop, void *ctx)
{
    struct handshake *h = ctx;
    log_info("SSL_connect error to %s: timed out", h->c->relay.data);
    buf_set_str(&h->why, "Cannot start TLS: handshake failure");
    h->handshake_failed = 1;
    handshake_end(h, 0);
}

/* The STARTTLS step's context: the engine passes it to tls_fn and to
 * the done callback alike. */
struct starttls_wait {
    struct handshake *h;
    int done;
    struct smtpc_result result;
};

static void tls_begin(struct smtpc_session *session, struct stream *stream,
                      void *ctx)
{
    struct handshake *h = ((struct starttls_wait *)ctx)->h;
    h->fd = stream_fd(stream);
    h->tls = tls_client_conn_new(client, h->policy, h->peer, h->fd, &h->why);
    if (h->tls == NULL) {
        log_warn("cannot start TLS to %s: %s", h->c->relay.data,
                 buf_cstr(&h->why));
        buf_set_str(&h->why, "Cannot start TLS: handshake failure");
        h->handshake_failed = 1;
        handshake_end(h, 0);
        return;
    }
    if (event_fd_rebind(smtp_loop(), h->fd, EVENT_WRITE, handshake_ready, h) <
        0)
        log_fatal("event_fd_rebind: %s", strerror(errno));
    h->registered = 1;
    if (smtp_cfg.engine.starttls_timeout_ms > 0)
        event_timer_start(smtp_loop(), &h->timer,
                          (uint64_t)smtp_cfg.engine.starttls_timeout_ms);
    handshake_step(h);
}

static void starttls_done(struct smtpc_session *session,
                          const struct smtpc_result *result, void *ctx)
{
    struct starttls_wait *w = ctx;
    smtpc_result_copy(&w->result, result);
    w->done = 1;
}

/* The TLSA records of _PORT._tcp.NAME into answer: 1 when a validated
 * RRset was found, 0 when there is none to use (no records, or an
 * insecure answer), -1 with why set when the lookup failed or was
 * bogus. */
static int tlsa_at(const char *name, unsigned port, struct dns_result *answer,
                   struct smtpc_result *why)
{
    smtp_dns_tlsa(name, port, answer);
    if (answer->status == DNS_TEMPFAIL) {
        struct buf reason = BUF_INIT;
        buf_appendf(&reason, "TLSA lookup error for %s:%u", name, port);
        defer_local(why, "4.7.5", buf_cstr(&reason));
        buf_free(&reason);
        return -1;
    }
    return answer->status == DNS_FOUND && answer->secure;
}

/* DANE's TLSA records for the server (levels dane and dane-only), when
 * its name and addresses were validated (smtp_addr.tlsa_allowed): only
 * a validated answer is used; none (no records, an insecure answer, or
 * names DNSSEC did not vouch for) leaves *records NULL, and the level
 * falls back as Postfix's (dane: may; dane-only: defer). A failed or
 * bogus lookup fails this server (RFC 7672 section 2.2: it might hide
 * records an attacker stripped). For a host name that is a validated
 * CNAME the expanded name is asked first, then the host name when the
 * expanded name has none (RFC 7672 section 2.2.2); *base is the name
 * the records were found at. At level dane the records of a host from
 * an insecure MX lookup (its addresses validated) are asked for too,
 * unless smtp_tls_dane_insecure_mx_policy is may (RFC 7672 section
 * 2.2.1; Postfix's default); smtp_tls_start decides what they are worth.
 * 0, or -1 with why set. */
static int tlsa_lookup(const struct smtp_tls_hop *hop,
                       const struct smtp_addr *a, struct dns_result *answer,
                       struct tls_tlsa **records, size_t *count,
                       const char **base, struct smtpc_result *why)
{
    *records = NULL;
    *count = 0;
    *base = a->host;
    if ((hop->policy.level != TLS_CLIENT_DANE &&
         hop->policy.level != TLS_CLIENT_DANE_ONLY) ||
        !(a->tlsa_allowed ||
          (a->mx_insecure && hop->policy.level == TLS_CLIENT_DANE &&
           insecure_mx_policy != TLS_CLIENT_MAY)))
        return 0;
    int found = 0;
    if (*a->canonical) {
        found = tlsa_at(a->canonical, a->port, answer, why);
        if (found < 0)
            return -1;
        if (found)
            *base = a->canonical;
        else
            dns_result_free(answer);
    }
    if (!found) {
        found = tlsa_at(a->host, a->port, answer, why);
        if (found < 0)
            return -1;
    }
    if (!found)
        return 0;
    *records = xcalloc(answer->count, sizeof(**records));
    for (size_t i = 0; i < answer->count; i++) {
        const struct dns_record *r = &answer->records[i];
        if (r->type != DNS_TYPE_TLSA)
            continue;
        struct tls_tlsa *t = &(*records)[(*count)++];
        t->usage = r->u.tlsa.usage;
        t->selector = r->u.tlsa.selector;
        t->mtype = r->u.tlsa.mtype;
        t->data = r->u.tlsa.data;
        t->len = r->u.tlsa.len;
    }
    return 0;
}

enum smtp_dane_state smtp_tls_dane_state(const struct smtp_tls_hop *hop,
                                         const struct smtp_addr *a)
{
    struct dns_result answer;
    dns_result_init(&answer, DNS_TYPE_TLSA);
    struct tls_tlsa *records = NULL;
    struct tls_client_peer peer;
    memset(&peer, 0, sizeof(peer));
    struct smtpc_result why;
    memset(&why, 0, sizeof(why));
    enum smtp_dane_state state = SMTP_DANE_NONE;
    /* Only DANE on validated names outranks MTA-STS: with an insecure MX
     * the policy's check of the MX names is worth more. */
    if (!a->tlsa_allowed)
        return SMTP_DANE_NONE;
    if (tlsa_lookup(hop, a, &answer, &records, &peer.tlsa_count,
                    &peer.tlsa_base, &why) < 0) {
        /* RFC 7672 section 2.2: the server fails under DANE; RFC 8461
         * section 2: MTA-STS must not make it usable again. */
        state = SMTP_DANE_LOOKUP_FAILED;
    } else if (peer.tlsa_count > 0) {
        peer.nexthop = hop->domain;
        peer.host = a->host;
        peer.addr = a->addr;
        peer.port = a->port;
        peer.tlsa = records;
        enum tls_client_level level = TLS_CLIENT_NONE;
        struct buf reason = BUF_INIT;
        if (tls_client_effective_level(&hop->policy, &peer, &level,
                                       &reason) == 0 &&
            (level == TLS_CLIENT_DANE || level == TLS_CLIENT_DANE_ONLY))
            state = SMTP_DANE_USABLE;
        buf_free(&reason);
    }
    smtpc_result_free(&why);
    free(records);
    dns_result_free(&answer);
    return state;
}

/* Moves src into why (src is left empty). */
static void take_result(struct smtpc_result *why, struct smtpc_result *src)
{
    smtpc_result_free(why);
    *why = *src;
    memset(src, 0, sizeof(*src));
}

int smtp_tls_start(struct smtp_conn *c, const struct smtp_tls_hop *hop,
                   int plain, struct smtpc_result *why, int *retry_plain)
{
    *retry_plain = 0;
    const struct smtp_addr *a = &c->addr;
    struct tls_client_peer peer;
    memset(&peer, 0, sizeof(peer));
    peer.nexthop = hop->domain;
    peer.host = a->host;
    peer.addr = a->addr;
    peer.port = a->port;
    peer.host_dnssec = a->host_dnssec;
    enum tls_client_level level = TLS_CLIENT_NONE;
    struct buf reason = BUF_INIT;
    struct dns_result tlsa_answer;
    dns_result_init(&tlsa_answer, DNS_TYPE_TLSA);
    struct tls_tlsa *tlsa = NULL;
    int rc = 0;
    if (!plain && tlsa_lookup(hop, a, &tlsa_answer, &tlsa, &peer.tlsa_count,
                              &peer.tlsa_base, why) < 0) {
        dns_result_free(&tlsa_answer);
        return -1;
    }
    peer.tlsa = tlsa;
    /* Records of a host from an insecure MX lookup (tlsa_lookup): under
     * smtp_tls_dane_insecure_mx_policy = dane they authenticate the
     * server, logged "Trusted" (the MX name could be forged); under
     * encrypt, or for a REQUIRETLS message (which needs a verified
     * server), they only ask for TLS. */
    struct tls_policy encrypt_policy;
    const struct tls_policy *dane_policy = &hop->policy;
    if (!plain && peer.tlsa_count > 0 && !a->tlsa_allowed) {
        if (insecure_mx_policy == TLS_CLIENT_DANE && !hop->requiretls) {
            peer.dane_trusted_only = 1;
        } else {
            encrypt_policy = hop->policy; /* shallow: read only */
            encrypt_policy.level = TLS_CLIENT_ENCRYPT;
            dane_policy = &encrypt_policy;
            peer.tlsa_count = 0;
        }
    }
    if (!plain &&
        tls_client_effective_level(dane_policy, &peer, &level, &reason) < 0) {
        defer_local(why, "4.7.5", buf_cstr(&reason));
        buf_free(&reason);
        free(tlsa);
        dns_result_free(&tlsa_answer);
        return -1;
    }
    const struct tls_policy *policy = dane_policy;
    if (hop->requiretls && level != TLS_CLIENT_VERIFY &&
        level != TLS_CLIENT_SECURE && level != TLS_CLIENT_FINGERPRINT &&
        level != TLS_CLIENT_DANE && level != TLS_CLIENT_DANE_ONLY) {
        /* REQUIRETLS: a level that does not authenticate the server
         * (none, may, encrypt, dane without usable records) is raised to
         * verify against the host name. */
        policy = &hop->verify_policy;
        level = TLS_CLIENT_VERIFY;
    }
    int mandatory = tls_client_level_mandatory(level);
    const struct smtpc_caps *caps = smtpc_session_caps(c->session);
    if (level == TLS_CLIENT_NONE) {
        rc = 0;
    } else if (!(caps->flags & SMTPC_CAP_STARTTLS)) {
        if (mandatory) {
            tls_client_reason_not_offered(&peer, &reason);
            defer_local(why, "4.7.4", buf_cstr(&reason));
            rc = -1;
        }
    } else if (client == NULL) {
        if (mandatory) {
            defer_local(why, "4.7.5",
                        "TLS is required, but our TLS engine is unavailable");
            rc = -1;
        }
    } else {
        struct handshake h;
        memset(&h, 0, sizeof(h));
        h.c = c;
        h.policy = policy;
        h.peer = &peer;
        h.fd = -1;
        event_timer_init(&h.timer, handshake_timeout, &h);
        struct starttls_wait w;
        memset(&w, 0, sizeof(w));
        w.h = &h;
        smtpc_starttls(c->session, tls_begin, starttls_done, &w);
        smtp_loop_run_until(&w.done);
        if (h.ended && h.ok) {
            /* From here the stream reads through the TLS layer: the
             * connection owns it, whatever EHLO says next. */
            c->tls = h.tls;
            c->tls_active = 1;
            c->tls_verified = tls_client_trust(h.tls) == TLS_TRUST_VERIFIED;
            h.tls = NULL;
        }
        if (w.result.outcome == SMTPC_SENT) {
            rc = 0;
            if (hop->requiretls && !(smtpc_session_caps(c->session)->flags &
                                     SMTPC_CAP_REQUIRETLS)) {
                /* RFC 8689 section 4.2.1, step 5: the EHLO after TLS must
                 * offer REQUIRETLS; another server may. */
                buf_reset(&reason);
                buf_appendf(&reason,
                            "REQUIRETLS is required, but was not offered by "
                            "host %s",
                            smtpc_session_peer(c->session));
                defer_local(why, "4.7.30", buf_cstr(&reason));
                rc = -1;
            }
        } else if (h.ended && !h.ok) {
            /* The handshake or the policy check failed: the session is
             * dead (the engine says "Cannot start TLS"; ours says
             * which). */
            take_result(why, &w.result);
            why->outcome = SMTPC_DEFERRED;
            snprintf(why->status, sizeof(why->status), "4.7.5");
            why->failure = SMTPC_FAIL_TLS;
            if (h.why.len)
                buf_set_str(&why->reason, buf_cstr(&h.why));
            *retry_plain = level == TLS_CLIENT_MAY && h.handshake_failed;
            rc = -1;
        } else if (!h.ended && w.result.from_peer &&
                   w.result.failure == SMTPC_FAIL_NONE &&
                   smtpc_session_usable(c->session)) {
            /* STARTTLS refused by a reply: plain text goes on unless TLS
             * is required. */
            if (mandatory) {
                take_result(why, &w.result);
                why->outcome = SMTPC_DEFERRED;
                why->status[0] = '4';
                why->failure = SMTPC_FAIL_TLS;
                buf_reset(&why->reason);
                buf_appendf(&why->reason,
                            "TLS is required, but host %s refused to start "
                            "TLS: %s",
                            smtpc_session_peer(c->session),
                            buf_cstr(&why->reply.text));
                rc = -1;
            }
        } else {
            /* Lost connection, timeout, a malformed reply, EHLO after
             * the handshake refused. */
            take_result(why, &w.result);
            rc = -1;
        }
        tls_conn_free(h.tls);
        buf_free(&h.why);
        smtpc_result_free(&w.result);
    }
    buf_free(&reason);
    free(tlsa);
    dns_result_free(&tlsa_answer);
    return rc;
}
