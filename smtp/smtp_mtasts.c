/* smtp_mtasts.c: MTA-STS (RFC 8461) in the smtp client, on lib/mtasts.
 *
 * For a next hop that is a domain looked up by MX (not relayhost's
 * [host], not lmtp), smtp_dns.c starts the policy lookup beside the MX
 * lookup on the private loop and, once the MX hosts are known, waits
 * (bounded) for the decision and hands it here with the addresses it
 * added. smtp_deliver.c then asks, per request:
 *   smtp_mtasts_filter   drops the MX hosts an enforce policy does not
 *                        list; none left defers the request (4.7.5);
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
#include "config/config.h"
#include "mtasts/mtasts.h"

static struct mtasts_client *client;
static long wait_limit_ms;

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
}

void smtp_mtasts_request_begin(void)
{
    for (size_t i = 0; i < req.domain_count; i++)
        free(req.domains[i]);
    free(req.domains);
    free(req.addr_domain);
    free(req.verdict);
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
    if (client == NULL)
        return NULL;
    struct smtp_mtasts_pending *p = xcalloc(1, sizeof(*p));
    p->domain = xcalloc(1, sizeof(*p->domain));
    snprintf(p->domain->name, sizeof(p->domain->name), "%s", domain);
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
    for (size_t i = req.addr_count; i < count; i++) {
        req.addr_domain[i] = NULL;
        req.verdict[i] = MTASTS_MX_ANY;
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

int smtp_mtasts_filter(struct agent_delivery *d, struct smtp_nexthop *nh,
                       struct smtpc_result *why)
{
    if (req.domain_count == 0)
        return 0;
    addr_grow(nh->count);
    for (size_t k = 0; k < req.domain_count; k++)
        log_decision(d, req.domains[k]);
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
                 strcmp(nh->addrs[i - 1].host, nh->addrs[i].host) != 0))
                log_info("%s: MX host %s of %s is not allowed by its "
                         "MTA-STS policy (id %s, mode enforce): skipped",
                         d->req->log_ident, nh->addrs[i].host, dom->name,
                         dom->decision.id);
            continue;
        }
        nh->addrs[kept] = nh->addrs[i];
        req.addr_domain[kept] = dom;
        req.verdict[kept] = req.verdict[i];
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

const struct mtasts_decision *smtp_mtasts_decision(size_t i)
{
    return i < req.addr_count && req.addr_domain[i]
               ? &req.addr_domain[i]->decision
               : NULL;
}

int smtp_mtasts_tls(size_t i, const struct smtp_addr *a,
                    struct tls_policy *out)
{
    if (smtp_mtasts_verdict(i) != MTASTS_MX_VERIFY)
        return 0;
    /* RFC 8461 section 4.2: a certificate valid for the MX host name,
     * chaining to a trusted root: Postfix's "secure" with that name as
     * the only match (what postfix-mta-sts-resolver answers). */
    tls_policy_free(out);
    tls_policy_init(out);
    out->level = TLS_CLIENT_SECURE;
    strlist_add(&out->match, a->host);
    out->match_set = 1;
    out->servername = xstrdup("hostname");
    return 1;
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
        if (!c->tls_active || !c->tls_verified)
            log_info("%s: %s[%s]:%u: %s under the MTA-STS policy of %s (id "
                     "%s, mode testing): delivering anyway",
                     d->req->log_ident, c->addr.host, c->addr.addr,
                     c->addr.port,
                     c->tls_active ? "TLS certificate not verified"
                                   : "no TLS",
                     dec->domain, dec->id);
        break;
    default:
        break;
    }
}
