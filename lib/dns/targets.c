/* targets.c: the delivery target lookup on the event loop (targets.h),
 * and its settings from main.cf.
 *
 * A domain's MX query goes out first; when it names exchanges, the A and
 * AAAA queries of every exchange go out at once (at most DNS_RECORDS_MAX
 * exchanges, two queries each), and the list is built when the last
 * answer is in (targets_list.c). Without MX records the domain's own A
 * and AAAA queries follow. Each query is bounded by postern_dns_timeout,
 * so a lookup takes at most two of them. An address next hop is answered
 * from the loop's next turn, never from targets_start(). */
#include "dns/targets.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/log.h"
#include "base/mem.h"
#include "base/str.h"
#include "config/config.h"
#include "dns/idna.h"

/* ---- settings ---- */

void targets_settings_init(struct targets_settings *s)
{
    memset(s, 0, sizeof(*s));
    s->ipv4 = s->ipv6 = 1;
    s->prefer = TARGETS_PREFER_ANY;
    s->address_limit = 5;
    s->randomize = 1;
    s->balance = 1;
}

static const char *param(const char *prefix, const char *name, char *out,
                         size_t size)
{
    snprintf(out, size, "%s_%s", prefix, name);
    return out;
}

int targets_settings_from_config(struct targets_settings *s, const char *prefix,
                                 struct buf *err)
{
    char name[80];
    targets_settings_init(s);
    s->lmtp = strcmp(prefix, "lmtp") == 0;
    struct strlist items;
    strlist_init(&items);
    cfg_list("inet_protocols", &items);
    s->ipv4 = s->ipv6 = 0;
    int bad = 0;
    for (size_t i = 0; i < items.count; i++) {
        if (str_equal_nocase(items.items[i], "all"))
            s->ipv4 = s->ipv6 = 1;
        else if (str_equal_nocase(items.items[i], "ipv4"))
            s->ipv4 = 1;
        else if (str_equal_nocase(items.items[i], "ipv6"))
            s->ipv6 = 1;
        else if (!bad) {
            buf_appendf(err, "inet_protocols: unknown protocol \"%.40s\"",
                        items.items[i]);
            bad = 1;
        }
    }
    strlist_free(&items);
    if (bad)
        return -1;
    if (!s->ipv4 && !s->ipv6) {
        buf_append_str(err, "inet_protocols: no protocol enabled");
        return -1;
    }
    const char *prefer =
        cfg_str(param(prefix, "address_preference", name, sizeof(name)));
    if (str_equal_nocase(prefer, "any"))
        s->prefer = TARGETS_PREFER_ANY;
    else if (str_equal_nocase(prefer, "ipv4"))
        s->prefer = TARGETS_PREFER_IPV4;
    else if (str_equal_nocase(prefer, "ipv6"))
        s->prefer = TARGETS_PREFER_IPV6;
    else {
        buf_appendf(err, "%s: want any, ipv4 or ipv6, not \"%.40s\"", name,
                    prefer);
        return -1;
    }
    s->address_limit = (unsigned)cfg_int(
        param(prefix, "mx_address_limit", name, sizeof(name)));
    s->randomize =
        cfg_bool(param(prefix, "randomize_addresses", name, sizeof(name)));
    s->balance =
        cfg_bool(param(prefix, "balance_inet_protocols", name, sizeof(name)));
    s->defer_if_no_mx_address = cfg_bool(
        param(prefix, "defer_if_no_mx_address_found", name, sizeof(name)));
    const char *level =
        cfg_str(param(prefix, "dns_support_level", name, sizeof(name)));
    if (*level == '\0' || str_equal_nocase(level, "enabled")) {
        s->dnssec = 0;
    } else if (str_equal_nocase(level, "dnssec")) {
        s->dnssec = 1;
    } else if (str_equal_nocase(level, "disabled")) {
        buf_appendf(err,
                    "%s = disabled is not supported: Postern routes "
                    "mail by DNS",
                    name);
        return -1;
    } else {
        buf_appendf(err,
                    "%s: want enabled, dnssec or disabled, not "
                    "\"%.40s\"",
                    name, level);
        return -1;
    }
    strlist_init(&items);
    cfg_list(param(prefix, "host_lookup", name, sizeof(name)), &items);
    int dns = 0;
    for (size_t i = 0; i < items.count && !bad; i++) {
        if (str_equal_nocase(items.items[i], "dns"))
            dns = 1;
        else if (!str_equal_nocase(items.items[i], "native")) {
            buf_appendf(err, "%s: want dns and/or native, not \"%.40s\"", name,
                        items.items[i]);
            bad = 1;
        }
    }
    strlist_free(&items);
    if (bad)
        return -1;
    if (!dns) {
        /* The C library's resolver blocks; our lookups never do. */
        buf_appendf(err,
                    "%s must include dns (native lookups alone are not "
                    "supported)",
                    name);
        return -1;
    }
    return 0;
}

void targets_dns_settings(const struct targets_settings *s,
                          struct dns_settings *dns)
{
    if (!s->dnssec)
        return;
    const char *anchor = cfg_str("postern_dns_trust_anchor_file");
    if (*anchor == '\0') {
        log_warn("DNSSEC: postern_dns_trust_anchor_file is empty; no answer "
                 "will be validated");
        return;
    }
    if (access(anchor, R_OK) < 0) {
        log_warn("DNSSEC: cannot read trust anchor %s: %m; no answer will "
                 "be validated (Debian: install dns-root-data)",
                 anchor);
        return;
    }
    dns->trust_anchor_file = anchor;
}

/* ---- the lookup ---- */

enum { ADDR_A, ADDR_AAAA, ADDR_TYPES };

struct host_lookup {
    struct targets_lookup *parent;
    char name[DNS_NAME_MAX + 1];
    unsigned preference;
    struct dns_query *query[ADDR_TYPES]; /* NULL once answered */
    struct dns_result result[ADDR_TYPES];
    int asked[ADDR_TYPES];
    struct host_slot {
        struct host_lookup *host;
        int type;
    } slot[ADDR_TYPES];
};

struct targets_lookup {
    struct dns_client *client;
    struct targets_settings settings;
    struct nexthop hop;
    targets_cb cb;
    void *ctx;
    struct dns_query *mx_query;
    struct dns_result mx;
    struct host_lookup *hosts;
    size_t host_count;
    size_t pending; /* address queries not answered yet */
    struct event_timer kick;
    struct targets result;
};

static void lookup_free(struct targets_lookup *l)
{
    struct event_loop *loop = dns_client_loop(l->client);
    if (loop)
        event_timer_stop(loop, &l->kick);
    dns_query_cancel(l->mx_query);
    dns_result_free(&l->mx);
    for (size_t i = 0; i < l->host_count; i++)
        for (int t = 0; t < ADDR_TYPES; t++) {
            dns_query_cancel(l->hosts[i].query[t]);
            dns_result_free(&l->hosts[i].result[t]);
        }
    free(l->hosts);
    targets_free(&l->result);
    free(l);
}

static void finish(struct targets_lookup *l)
{
    l->cb(&l->result, l->ctx);
    lookup_free(l);
}

static void on_kick(struct event_loop *loop, void *ctx)
{
    finish(ctx);
}

/* Answers from the loop's next turn: the caller's start has returned. */
static void finish_soon(struct targets_lookup *l)
{
    event_timer_start(dns_client_loop(l->client), &l->kick, 0);
}

static int loop_detect(const struct targets_lookup *l)
{
    /* As Postfix: only smtp to port 25 can loop back to us. */
    return !l->settings.lmtp && l->hop.port == 25;
}

static void assemble(struct targets_lookup *l)
{
    struct targets_host *hosts =
        xcalloc(l->host_count ? l->host_count : 1, sizeof(*hosts));
    for (size_t i = 0; i < l->host_count; i++) {
        struct host_lookup *h = &l->hosts[i];
        hosts[i].name = h->name;
        hosts[i].preference = h->preference;
        hosts[i].a = h->asked[ADDR_A] ? &h->result[ADDR_A] : NULL;
        hosts[i].aaaa = h->asked[ADDR_AAAA] ? &h->result[ADDR_AAAA] : NULL;
    }
    targets_assemble(&l->settings, loop_detect(l), l->hop.port, hosts,
                     l->host_count, &l->result);
    free(hosts);
    if (l->result.status == TARGETS_OK || !l->result.from_mx)
        return;
    for (size_t i = 0; i < l->host_count; i++)
        for (int t = 0; t < ADDR_TYPES; t++)
            if (l->hosts[i].result[t].status == DNS_FOUND)
                return; /* addresses there were: a loop, not this */
    log_warn("no MX host for %s has a valid address record", l->result.name);
}

static void on_address(struct dns_result *result, void *ctx)
{
    struct host_slot *slot = ctx;
    struct host_lookup *h = slot->host;
    struct targets_lookup *l = h->parent;
    h->query[slot->type] = NULL;
    dns_result_move(&h->result[slot->type], result);
    if (--l->pending > 0)
        return;
    assemble(l);
    finish(l);
}

/* Starts the address queries of every host in l->hosts. */
static void ask_addresses(struct targets_lookup *l)
{
    static const int types[ADDR_TYPES] = {DNS_TYPE_A, DNS_TYPE_AAAA};
    int wanted[ADDR_TYPES] = {l->settings.ipv4, l->settings.ipv6};
    /* Count first: an answer may not come before all are started, but
     * pending must be right before any callback can run. Callbacks only
     * run from the loop, after this returns. */
    for (size_t i = 0; i < l->host_count; i++)
        for (int t = 0; t < ADDR_TYPES; t++)
            if (wanted[t])
                l->pending++;
    for (size_t i = 0; i < l->host_count; i++) {
        struct host_lookup *h = &l->hosts[i];
        h->parent = l;
        for (int t = 0; t < ADDR_TYPES; t++) {
            dns_result_init(&h->result[t], types[t]);
            h->slot[t].host = h;
            h->slot[t].type = t;
            if (!wanted[t])
                continue;
            h->asked[t] = 1;
            h->query[t] = dns_query_start(l->client, h->name, types[t],
                                          on_address, &h->slot[t]);
        }
    }
}

static int compare_mx(const void *x, const void *y)
{
    const struct dns_record *a = x, *b = y;
    if (a->u.mx.preference != b->u.mx.preference)
        return a->u.mx.preference < b->u.mx.preference ? -1 : 1;
    return strcmp(a->u.mx.host, b->u.mx.host);
}

static void on_mx(struct dns_result *result, void *ctx)
{
    struct targets_lookup *l = ctx;
    l->mx_query = NULL;
    dns_result_move(&l->mx, result);
    int step = targets_mx_step(&l->mx, l->result.name, &l->result);
    if (step < 0) {
        finish(l);
        return;
    }
    if (step == 0) {
        /* No MX: the domain itself, preference 0. */
        l->hosts = xcalloc(1, sizeof(*l->hosts));
        l->host_count = 1;
        str_copy(l->hosts[0].name, l->result.name, sizeof(l->hosts[0].name));
        ask_addresses(l);
        return;
    }
    l->result.from_mx = 1;
    l->result.mx_secure = l->settings.dnssec && l->mx.secure;
    str_copy(l->result.mx_canonical, l->mx.canonical,
             sizeof(l->result.mx_canonical));
    qsort(l->mx.records, l->mx.count, sizeof(*l->mx.records), compare_mx);
    l->result.best_preference = l->mx.records[0].u.mx.preference;
    l->hosts = xcalloc(l->mx.count, sizeof(*l->hosts));
    for (size_t i = 0; i < l->mx.count; i++) {
        const struct dns_mx *mx = &l->mx.records[i].u.mx;
        /* The same exchange twice: once, at its best preference. */
        int seen = 0;
        for (size_t j = 0; j < l->host_count && !seen; j++)
            seen = strcmp(l->hosts[j].name, mx->host) == 0;
        if (seen)
            continue;
        struct host_lookup *h = &l->hosts[l->host_count++];
        str_copy(h->name, mx->host, sizeof(h->name));
        h->preference = mx->preference;
    }
    ask_addresses(l);
}

struct targets_lookup *targets_start(struct dns_client *client,
                                     const struct targets_settings *settings,
                                     const struct nexthop *hop, targets_cb cb,
                                     void *ctx)
{
    if (dns_client_loop(client) == NULL)
        log_panic("targets_start: DNS client without an event loop");
    if (hop->kind == NEXTHOP_UNIX)
        log_panic("targets_start: a unix-domain next hop has no targets");
    struct targets_lookup *l = xcalloc(1, sizeof(*l));
    l->client = client;
    l->settings = *settings;
    l->hop = *hop;
    l->cb = cb;
    l->ctx = ctx;
    event_timer_init(&l->kick, on_kick, l);
    dns_result_init(&l->mx, DNS_TYPE_MX);
    targets_init(&l->result);
    /* The DNS knows names in A-labels (Postfix asks the same way). */
    struct buf ascii = BUF_INIT;
    if (hop->kind != NEXTHOP_ADDRESS && idna_is_utf8(hop->host) &&
        idna_to_ascii(hop->host, &ascii) == 0)
        str_copy(l->result.name, buf_cstr(&ascii), sizeof(l->result.name));
    else
        str_copy(l->result.name, hop->host, sizeof(l->result.name));
    buf_free(&ascii);
    switch (hop->kind) {
    case NEXTHOP_DOMAIN:
        l->mx_query =
            dns_query_start(client, l->result.name, DNS_TYPE_MX, on_mx, l);
        break;
    case NEXTHOP_HOST:
        l->hosts = xcalloc(1, sizeof(*l->hosts));
        l->host_count = 1;
        str_copy(l->hosts[0].name, l->result.name, sizeof(l->hosts[0].name));
        ask_addresses(l);
        break;
    case NEXTHOP_ADDRESS:
    default:
        if ((hop->family == AF_INET && !settings->ipv4) ||
            (hop->family == AF_INET6 && !settings->ipv6)) {
            char why[320];
            snprintf(why, sizeof(why),
                     "next hop %s: its address family is disabled by "
                     "inet_protocols",
                     hop->host);
            l->result.status = TARGETS_DEFER;
            str_copy(l->result.dsn, "4.4.4", sizeof(l->result.dsn));
            str_copy(l->result.reason, why, sizeof(l->result.reason));
        } else {
            /* One address, as an answer of one record. */
            struct dns_record rec;
            memset(&rec, 0, sizeof(rec));
            rec.type = hop->family == AF_INET ? DNS_TYPE_A : DNS_TYPE_AAAA;
            memcpy(hop->family == AF_INET ? rec.u.a : rec.u.aaaa, hop->addr,
                   hop->family == AF_INET ? 4 : 16);
            struct dns_result answer;
            dns_result_init(&answer, rec.type);
            answer.status = DNS_FOUND;
            answer.count = 1;
            answer.records = &rec;
            struct targets_host host = {
                hop->host, 0, hop->family == AF_INET ? &answer : NULL,
                hop->family == AF_INET6 ? &answer : NULL};
            targets_assemble(&l->settings, loop_detect(l), hop->port, &host, 1,
                             &l->result);
        }
        finish_soon(l);
        break;
    }
    return l;
}

void targets_cancel(struct targets_lookup *lookup)
{
    if (lookup)
        lookup_free(lookup);
}

struct dns_query *targets_tlsa_start(struct dns_client *client,
                                     const char *host, unsigned port,
                                     dns_query_cb cb, void *ctx)
{
    char name[DNS_NAME_MAX + 16];
    snprintf(name, sizeof(name), "_%u._tcp.%s", port, host);
    return dns_query_start(client, name, DNS_TYPE_TLSA, cb, ctx);
}
