/* smtp_dns.c: names in next hops, looked up through lib/dns/targets on the
 * process's private event loop: an MX lookup for a domain (smtp, not
 * bracketed), the host's A/AAAA records for [host] and lmtp hosts. It
 * plugs into smtp_nexthop.c through smtp_nexthop_lookup, so the parser
 * stays free of DNS state (its unit test and fuzz target include it
 * alone). Postfix's ordering, limits, loop detection and failure texts
 * are the targets lookup's (docs/dns.md, "Delivery targets"). */
#include "smtp.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "config/config.h"
#include "dns/dns.h"
#include "dns/nexthop.h"
#include "dns/targets.h"
#include "routing/local_domain.h"

static struct dns_client *client;
static struct targets_settings settings;
static struct local_domain *own;

struct lookup_wait {
    int done;
    struct targets result;
};

static void lookup_done(struct targets *result, void *ctx)
{
    struct lookup_wait *w = ctx;
    targets_move(&w->result, result);
    w->done = 1;
}

/* One target as the address smtp_connect() takes. */
static int target_addr(const struct targets *all, const struct target *t,
                       int mx, struct smtp_addr *a)
{
    memset(a, 0, sizeof(*a));
    if (t->family == AF_INET) {
        struct sockaddr_in *sin = (struct sockaddr_in *)&a->sa;
        sin->sin_family = AF_INET;
        sin->sin_port = htons((uint16_t)t->port);
        memcpy(&sin->sin_addr, t->addr, 4);
        a->salen = sizeof(*sin);
    } else if (t->family == AF_INET6) {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&a->sa;
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons((uint16_t)t->port);
        memcpy(&sin6->sin6_addr, t->addr, 16);
        a->salen = sizeof(*sin6);
    } else {
        return -1;
    }
    a->family = t->family;
    snprintf(a->host, sizeof(a->host), "%s", t->host);
    snprintf(a->addr, sizeof(a->addr), "%s", t->addr_text);
    a->port = t->port;
    /* RFC 7672 section 2.2: an MX host name is trusted only from a
     * validated MX answer (for an implicit MX, the validated denial of
     * MX records); a [host] name is the site's own. TLSA records
     * are asked for only when the address records were validated too. */
    a->host_dnssec = !mx || all->mx_secure;
    a->tlsa_allowed = a->host_dnssec && t->secure;
    a->mx_insecure = mx && !all->mx_secure && t->secure;
    /* The whole CNAME chain was validated when the address answer was
     * (libunbound's secure flag covers every record of the chain). */
    if ((a->tlsa_allowed || a->mx_insecure) && *t->canonical &&
        strcmp(t->canonical, t->host))
        snprintf(a->canonical, sizeof(a->canonical), "%s", t->canonical);
    return 0;
}

static enum smtp_nexthop_result lookup(const char *host, int mx,
                                       unsigned port, struct smtp_nexthop *out,
                                       struct buf *reason, char *dsn)
{
    struct buf text = BUF_INIT, err = BUF_INIT;
    buf_appendf(&text, mx ? "%s:%u" : "[%s]:%u", host, port);
    struct nexthop hop;
    if (nexthop_parse_smtp(buf_cstr(&text), port, &hop, &err) < 0) {
        buf_set_str(reason, buf_cstr(&err));
        snprintf(dsn, 10, "5.3.5");
        buf_free(&text);
        buf_free(&err);
        return SMTP_NEXTHOP_BOUNCE;
    }
    buf_free(&text);
    buf_free(&err);
    struct lookup_wait w;
    memset(&w, 0, sizeof(w));
    targets_init(&w.result);
    /* MTA-STS applies to a domain reached by MX: its policy lookup runs
     * beside the MX lookup (smtp_mtasts.c). */
    struct smtp_mtasts_pending *sts =
        mx && !smtp_cfg.lmtp ? smtp_mtasts_start(host) : NULL;
    size_t first = out->count;
    targets_start(client, &settings, &hop, lookup_done, &w);
    smtp_loop_run_until(&w.done);
    enum smtp_nexthop_result rc = SMTP_NEXTHOP_OK;
    if (w.result.found_myself)
        out->found_myself = 1;
    if (w.result.status != TARGETS_OK) {
        smtp_mtasts_cancel(sts);
        buf_set_str(reason, w.result.reason);
        snprintf(dsn, 10, "%.9s", w.result.dsn);
        rc = w.result.status == TARGETS_BOUNCE ? SMTP_NEXTHOP_BOUNCE
                                               : SMTP_NEXTHOP_DEFER;
    } else {
        for (size_t i = 0; i < w.result.count; i++) {
            struct smtp_addr a;
            if (target_addr(&w.result, &w.result.list[i], mx, &a) == 0)
                smtp_nexthop_add(out, &a);
        }
        smtp_mtasts_finish(sts, out, first);
    }
    targets_free(&w.result);
    return rc;
}

struct tlsa_wait {
    int done;
    struct dns_result *out;
};

static void tlsa_done(struct dns_result *result, void *ctx)
{
    struct tlsa_wait *w = ctx;
    dns_result_move(w->out, result);
    w->done = 1;
}

void smtp_dns_tlsa(const char *host, unsigned port, struct dns_result *out)
{
    dns_result_init(out, DNS_TYPE_TLSA);
    struct tlsa_wait w = {0, out};
    targets_tlsa_start(client, host, port, tlsa_done, &w);
    smtp_loop_run_until(&w.done);
}

void smtp_dns_init(void)
{
    struct buf err = BUF_INIT;
    targets_settings_init(&settings);
    if (targets_settings_from_config(&settings, smtp_cfg.name, &err) < 0)
        log_fatal("%s", buf_cstr(&err));
    buf_reset(&err);
    own = local_domain_open(cfg_str("mydestination"), cfg_str("inet_interfaces"),
                            cfg_str("proxy_interfaces"), &err);
    if (own == NULL)
        log_warn("%s; mail loops back to this host are not detected",
                 buf_cstr(&err));
    else {
        settings.is_own_address = local_domain_is_own_address;
        settings.own_ctx = own;
    }
    settings.lmtp = smtp_cfg.lmtp;
    struct dns_settings dns;
    dns_settings_from_config(&dns);
    targets_dns_settings(&settings, &dns);
    buf_reset(&err);
    client = dns_client_new(smtp_loop(), &dns, &err);
    dns_settings_free(&dns);
    if (client == NULL)
        log_fatal("DNS client: %s", buf_cstr(&err));
    buf_free(&err);
    smtp_nexthop_lookup = lookup;
    if (!smtp_cfg.lmtp) {
        smtp_mtasts_init(client);
        smtp_tlsrpt_init();
    }
}
