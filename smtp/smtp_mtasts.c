/* smtp_mtasts.c: MTA-STS (RFC 8461) in the smtp client, on lib/mtasts.
 *
 * For a next hop that is a domain looked up by MX (not relayhost's
 * [host], not lmtp), smtp_dns.c starts the policy lookup beside the MX
 * lookup on the private loop and, once the MX hosts are known, waits
 * (bounded) for the decision and hands it here with the addresses it
 * added. smtp_deliver.c then asks, per request:
 *   smtp_mtasts_filter   gives DANE the MX hosts it decides for (RFC
 *                        8461 section 2: usable DNSSEC-validated TLSA
 *                        records at level dane or dane-only), then drops
 *                        the MX hosts an enforce policy does not list;
 *                        none left defers the request (4.7.5);
 *   smtp_mtasts_tls      the TLS a listed host must give under enforce:
 *                        level secure, the certificate matched against
 *                        the MX host name, as postfix-mta-sts-resolver
 *                        answers Postfix's smtp_tls_policy_maps;
 *   smtp_mtasts_connected  logs what testing mode would have refused.
 * The state is the current request's (a process serves one request at
 * a time): smtp_mtasts_request_begin clears it. See docs/smtp.md,
 * "MTA-STS". */
#include "smtp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/mem.h"
#include "base/str.h"
#include "config/config.h"
#include "mtasts/mtasts.h"
#include "tables/maps.h"
#include "tls/tls_client.h"

static struct mtasts_client *client;
static long wait_limit_ms;
static struct maps *policy_maps; /* PREFIX_tls_policy_maps, for precedence */

/* One domain's decision in the current request. */
struct sts_domain {
    char name[SMTP_HOST_MAX + 1];
    struct mtasts_decision decision; /* decision.domain points to name */
    int unfinished;                  /* the lookup did not end in time */
};

/* The current request: the domains, and per address of the next hop
 * (parallel to smtp_nexthop.addrs) the domain it came from and its
 * verdict. */
static struct {
    struct sts_domain **domains;
    size_t domain_count;
    struct sts_domain **addr_domain; /* NULL: no MTA-STS for it */
    enum mtasts_mx_verdict *verdict;
    int *dane; /* 1: DANE decides for it, not the policy */
    size_t addr_count;
} req;

struct smtp_mtasts_pending {
    struct mtasts_lookup *lookup;
    int done;
    struct sts_domain *domain;
};

void smtp_mtasts_init(struct dns_client *dns)
{
    struct mtasts_settings settings;
    mtasts_settings_init(&settings);
    mtasts_settings_from_config(&settings);
    if (settings.enabled) {
        client = mtasts_client_new(smtp_loop(), dns, &settings);
        /* The lookup bounds itself (the TXT and address queries, then
         * the fetch); this only guards against a worker that never
         * reports. */
        wait_limit_ms = (2 * cfg_time("postern_dns_timeout") +
                         settings.fetch_timeout_s + 5) * 1000;
    }
    mtasts_settings_free(&settings);
    const char *maps = cfg_str("smtp_tls_policy_maps");
    if (client && *maps)
        policy_maps = maps_open("smtp_tls_policy_maps", maps, 0);
}

void smtp_mtasts_request_begin(void)
{
    for (size_t i = 0; i < req.domain_count; i++)
        free(req.domains[i]);
    free(req.domains);
    free(req.addr_domain);
    free(req.verdict);
    free(req.dane);
    memset(&req, 0, sizeof(req));
}

static void on_decision(const struct mtasts_decision *decision, void *ctx)
{
    struct smtp_mtasts_pending *p = ctx;
    p->lookup = NULL;
    p->domain->decision = *decision;
    p->domain->decision.domain = p->domain->name;
    p->done = 1;
}

struct smtp_mtasts_pending *smtp_mtasts_start(const char *domain)
{
    struct smtp_mtasts_pending *p = xcalloc(1, sizeof(*p));
    p->domain = xcalloc(1, sizeof(*p->domain));
    snprintf(p->domain->name, sizeof(p->domain->name), "%s", domain);
    if (client == NULL) {
        /* Off: no policy, but the addresses still carry their domain
         * (the TLS report records, smtp_tlsrpt.c). */
        struct mtasts_decision *dec = &p->domain->decision;
        dec->domain = p->domain->name;
        dec->result = MTASTS_NO_POLICY;
        dec->source = "none";
        snprintf(dec->why, sizeof(dec->why), "postern_mta_sts_enable = no");
        p->done = 1;
        return p;
    }
    p->lookup = mtasts_lookup_start(client, domain, on_decision, p);
    return p;
}

void smtp_mtasts_cancel(struct smtp_mtasts_pending *p)
{
    if (p == NULL)
        return;
    if (p->lookup)
        mtasts_lookup_cancel(p->lookup);
    free(p->domain);
    free(p);
}

static void wait_expired(struct event_loop *loop, void *ctx)
{
    struct smtp_mtasts_pending *p = ctx;
    p->done = 1;
}

/* Makes room for the addresses up to count. */
static void addr_grow(size_t count)
{
    if (count <= req.addr_count)
        return;
    req.addr_domain = xrealloc(req.addr_domain,
                               count * sizeof(*req.addr_domain));
    req.verdict = xrealloc(req.verdict, count * sizeof(*req.verdict));
    req.dane = xrealloc(req.dane, count * sizeof(*req.dane));
    for (size_t i = req.addr_count; i < count; i++) {
        req.addr_domain[i] = NULL;
        req.verdict[i] = MTASTS_MX_ANY;
        req.dane[i] = 0;
    }
    req.addr_count = count;
}

void smtp_mtasts_finish(struct smtp_mtasts_pending *p,
                        const struct smtp_nexthop *nh, size_t first)
{
    if (p == NULL)
        return;
    if (!p->done) {
        struct event_timer timer;
        event_timer_init(&timer, wait_expired, p);
        event_timer_start(smtp_loop(), &timer, (uint64_t)wait_limit_ms);
        smtp_loop_run_until(&p->done);
        event_timer_stop(smtp_loop(), &timer);
    }
    struct sts_domain *dom = p->domain;
    if (p->lookup) { /* the timer ended the wait */
        mtasts_lookup_cancel(p->lookup);
        dom->unfinished = 1;
        dom->decision.domain = dom->name;
        dom->decision.source = "none";
    }
    free(p);
    req.domains = xrealloc(req.domains,
                           (req.domain_count + 1) * sizeof(*req.domains));
    req.domains[req.domain_count++] = dom;
    addr_grow(nh->count);
    for (size_t i = first; i < nh->count; i++) {
        req.addr_domain[i] = dom;
        req.verdict[i] = dom->unfinished
                             ? MTASTS_MX_SKIP
                             : mtasts_check_mx(&dom->decision,
                                               nh->addrs[i].host);
    }
}

/* "mx1.example.com, mx2.example.com": the hosts of dom among the
 * addresses, each once. */
static void hosts_of(const struct smtp_nexthop *nh,
                     const struct sts_domain *dom, struct buf *out)
{
    for (size_t i = 0; i < nh->count && i < req.addr_count; i++) {
        if (req.addr_domain[i] != dom)
            continue;
        int seen = 0;
        for (size_t j = 0; j < i && !seen; j++)
            seen = req.addr_domain[j] == dom &&
                   strcmp(nh->addrs[j].host, nh->addrs[i].host) == 0;
        if (!seen)
            buf_appendf(out, "%s%s", out->len ? ", " : "", nh->addrs[i].host);
    }
}

static void log_decision(const struct agent_delivery *d,
                         const struct sts_domain *dom)
{
    const struct mtasts_decision *dec = &dom->decision;
    if (dom->unfinished) {
        log_warn("%s: MTA-STS policy lookup for %s did not finish in time",
                 d->req->log_ident, dom->name);
        return;
    }
    /* Quiet for the common cases: no policy published, or a cached one
     * still current. A fetch, and any trouble, is logged. */
    if (dec->result == MTASTS_NO_POLICY && strstr(dec->why, "fetch") == NULL &&
        strstr(dec->why, "cache:") == NULL)
        return;
    if (dec->result != MTASTS_NO_POLICY && strcmp(dec->source, "cache") == 0 &&
        strstr(dec->why, "failed") == NULL && strstr(dec->why, "no valid") == NULL)
        return;
    log_info("%s: MTA-STS policy of %s: %s%s%s (%s)", d->req->log_ident,
             dom->name, mtasts_result_name(dec->result),
             dec->id[0] ? ", id " : "", dec->id, dec->why);
}

int smtp_mtasts_demands(void)
{
    for (size_t i = 0; i < req.addr_count; i++)
        if (req.verdict[i] == MTASTS_MX_SKIP ||
            req.verdict[i] == MTASTS_MX_VERIFY)
            return 1;
    return 0;
}

void smtp_mtasts_waive(void)
{
    /* RFC 8689 section 5: with "TLS-Required: No" the recipient domain's
     * policies (MTA-STS, DANE) are not applied to this message: every MX
     * host may be tried, over TLS when offered. */
    for (size_t i = 0; i < req.addr_count; i++)
        if (req.verdict[i] == MTASTS_MX_SKIP ||
            req.verdict[i] == MTASTS_MX_VERIFY)
            req.verdict[i] = MTASTS_MX_ANY;
}

/* RFC 8461 section 2: a sender that validates DANE must not let
 * MTA-STS override DANE. Where the site's level is dane or dane-only
 * and an MX host under a policy has usable DNSSEC-validated TLSA
 * records, DANE decides for that host (verified by its records, or
 * failed): the policy neither skips it nor demands PKIX of it. A TLSA
 * lookup that fails gives the host to DANE too, which then fails it.
 * Without usable records the policy applies as before. */
static void dane_precedence(struct agent_delivery *d,
                            const struct smtp_nexthop *nh,
                            const struct smtp_tls_hop *site)
{
    if (site->policy.level != TLS_CLIENT_DANE &&
        site->policy.level != TLS_CLIENT_DANE_ONLY)
        return;
    for (size_t i = 0; i < nh->count; i++) {
        const struct sts_domain *dom = req.addr_domain[i];
        if (dom == NULL || req.verdict[i] == MTASTS_MX_ANY ||
            !nh->addrs[i].tlsa_allowed)
            continue;
        /* Once per host and port: its other addresses share the answer. */
        size_t same = 0;
        while (same < i && (strcmp(nh->addrs[same].host, nh->addrs[i].host) ||
                            nh->addrs[same].port != nh->addrs[i].port))
            same++;
        enum smtp_dane_state state;
        if (same < i) {
            state = req.dane[same];
        } else {
            state = smtp_tls_dane_state(site, &nh->addrs[i]);
            if (state != SMTP_DANE_NONE)
                log_info("%s: MX host %s of %s: %s: DANE applies instead of "
                         "its MTA-STS policy (id %s, mode %s)",
                         d->req->log_ident, nh->addrs[i].host, dom->name,
                         state == SMTP_DANE_USABLE
                             ? "DNSSEC-validated TLSA records"
                             : "TLSA lookup failed",
                         dom->unfinished ? "-" : dom->decision.id,
                         dom->unfinished
                             ? "unknown"
                             : mtasts_mode_name(dom->decision.policy.mode));
        }
        req.dane[i] = (int)state;
        if (state != SMTP_DANE_NONE)
            req.verdict[i] = MTASTS_MX_ANY;
    }
}

int smtp_mtasts_filter(struct agent_delivery *d, struct smtp_nexthop *nh,
                       const struct smtp_tls_hop *site,
                       struct smtpc_result *why)
{
    if (req.domain_count == 0)
        return 0;
    addr_grow(nh->count);
    for (size_t k = 0; k < req.domain_count; k++) {
        log_decision(d, req.domains[k]);
        if (!req.domains[k]->unfinished)
            smtp_tlsrpt_policy(&req.domains[k]->decision);
    }
    dane_precedence(d, nh, site);
    struct buf refused = BUF_INIT;
    const struct sts_domain *first_refusing = NULL;
    size_t kept = 0;
    for (size_t i = 0; i < nh->count; i++) {
        struct sts_domain *dom = req.addr_domain[i];
        if (req.verdict[i] == MTASTS_MX_SKIP) {
            if (first_refusing == NULL) {
                first_refusing = dom;
                hosts_of(nh, dom, &refused);
            }
            if (!dom->unfinished &&
                (i == 0 || req.addr_domain[i - 1] != dom ||
                 strcmp(nh->addrs[i - 1].host, nh->addrs[i].host) != 0)) {
                log_info("%s: MX host %s of %s is not allowed by its "
                         "MTA-STS policy (id %s, mode enforce): skipped",
                         d->req->log_ident, nh->addrs[i].host, dom->name,
                         dom->decision.id);
                smtp_tlsrpt_skipped(&dom->decision, &nh->addrs[i]);
            }
            continue;
        }
        nh->addrs[kept] = nh->addrs[i];
        req.addr_domain[kept] = dom;
        req.verdict[kept] = req.verdict[i];
        req.dane[kept] = req.dane[i];
        kept++;
    }
    nh->count = kept;
    int rc = 0;
    if (kept == 0 && first_refusing) {
        smtpc_result_free(why);
        memset(why, 0, sizeof(*why));
        why->outcome = SMTPC_DEFERRED;
        snprintf(why->status, sizeof(why->status), "4.7.5");
        why->failure = SMTPC_FAIL_TLS;
        if (first_refusing->unfinished)
            buf_appendf(&why->reason,
                        "MTA-STS policy lookup for %s did not finish in time",
                        first_refusing->name);
        else
            buf_appendf(&why->reason,
                        "MTA-STS policy of %s (id %s, mode enforce) allows "
                        "none of its MX hosts: %s",
                        first_refusing->name, first_refusing->decision.id,
                        buf_cstr(&refused));
        rc = -1;
    }
    buf_free(&refused);
    return rc;
}

enum mtasts_mx_verdict smtp_mtasts_verdict(size_t i)
{
    return i < req.addr_count ? req.verdict[i] : MTASTS_MX_ANY;
}

int smtp_mtasts_dane(size_t i)
{
    return i < req.addr_count && req.dane[i] != SMTP_DANE_NONE;
}

const struct mtasts_decision *smtp_mtasts_decision(size_t i)
{
    return i < req.addr_count && req.addr_domain[i]
               ? &req.addr_domain[i]->decision
               : NULL;
}

/* 1 when PREFIX_tls_policy_maps has an entry for the next hop: the
 * site's explicit word, which wins over MTA-STS. */
static int table_entry(const char *nexthop)
{
    if (policy_maps == NULL)
        return 0;
    struct tls_policy p;
    tls_policy_init(&p);
    struct buf err = BUF_INIT;
    char *key = xstrdup(nexthop);
    int found = tls_policy_lookup(policy_maps, str_trim(key), &p, &err);
    tls_policy_free(&p);
    buf_free(&err);
    free(key);
    return found != 0; /* a broken entry too: smtp_tls.c defers on it */
}

int smtp_mtasts_tls_hop(struct agent_delivery *d, const struct smtp_tls_hop *site,
                        struct smtp_tls_hop *out)
{
    int needed = 0;
    for (size_t i = 0; i < req.addr_count; i++)
        needed |= req.verdict[i] == MTASTS_MX_VERIFY;
    if (!needed)
        return 0;
    if (table_entry(d->req->nexthop)) {
        log_info("%s: %s_tls_policy_maps has an entry for %s: it applies "
                 "instead of the MTA-STS policy", d->req->log_ident,
                 smtp_cfg.name, d->req->nexthop);
        return 0;
    }
    /* RFC 8461 section 4.2: a certificate valid for the MX host name,
     * chaining to a trusted root: Postfix's "secure" with the MX host
     * name as the match (what postfix-mta-sts-resolver answers Postfix),
     * SNI the host name. The same for every MX host of the domain, so a
     * kept connection serves the next request too. */
    memset(out, 0, sizeof(*out));
    tls_policy_init(&out->policy);
    out->policy.level = TLS_CLIENT_SECURE;
    strlist_add(&out->policy.match, "hostname");
    out->policy.match_set = 1;
    out->policy.servername = xstrdup("hostname");
    if (site->policy.protocols)
        out->policy.protocols = xstrdup(site->policy.protocols);
    if (site->policy.ciphers)
        out->policy.ciphers = xstrdup(site->policy.ciphers);
    snprintf(out->domain, sizeof(out->domain), "%s", site->domain);
    buf_appendf(&out->signature, "mta-sts|secure|hostname|%s|%s",
                out->policy.protocols ? out->policy.protocols : "",
                out->policy.ciphers ? out->policy.ciphers : "");
    return 1;
}

int smtp_mtasts_conn_allowed(const struct smtp_nexthop *nh,
                             const struct smtp_conn *c)
{
    int enforced = 0;
    for (size_t k = 0; k < req.domain_count; k++)
        enforced |= req.domains[k]->decision.result == MTASTS_ENFORCE ||
                    req.domains[k]->unfinished;
    if (!enforced)
        return 1;
    for (size_t i = 0; i < nh->count; i++)
        if (strcmp(nh->addrs[i].host, c->addr.host) == 0)
            return 1;
    return 0;
}

void smtp_mtasts_connected(struct agent_delivery *d, size_t i,
                           const struct smtp_conn *c)
{
    const struct mtasts_decision *dec = smtp_mtasts_decision(i);
    switch (smtp_mtasts_verdict(i)) {
    case MTASTS_MX_TESTING_MISMATCH:
        log_info("%s: MX host %s of %s is not allowed by its MTA-STS "
                 "policy (id %s, mode testing): delivering anyway",
                 d->req->log_ident, c->addr.host, dec->domain, dec->id);
        break;
    case MTASTS_MX_TESTING_OK:
        /* The site's level applies in testing mode: the session is not
         * failed, and below verify the client checks the chain but not
         * the name, so the chain is what is reported on. */
        if (!c->tls_active || (c->tls && tls_client_trust(c->tls) <
                                             TLS_TRUST_TRUSTED))
            log_info("%s: %s[%s]:%u: %s under the MTA-STS policy of %s (id "
                     "%s, mode testing): delivering anyway",
                     d->req->log_ident, c->addr.host, c->addr.addr,
                     c->addr.port,
                     c->tls_active ? "TLS certificate not trusted" : "no TLS",
                     dec->domain, dec->id);
        break;
    default:
        break;
    }
}
