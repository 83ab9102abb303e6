/* targets_list.c: the pure steps of the delivery target lookup
 * (targets.h): what an MX answer means, and the target list built from
 * the exchanges' address answers (loop detection, shuffle, family
 * preference, balance, limit) with Postfix's error texts. No network:
 * tests/unit/test_targets.c drives it with made-up answers. */
#include "dns/targets.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "base/mem.h"
#include "base/str.h"

void targets_init(struct targets *t)
{
    memset(t, 0, sizeof(*t));
}

void targets_free(struct targets *t)
{
    free(t->list);
    targets_init(t);
}

void targets_move(struct targets *dst, struct targets *src)
{
    targets_free(dst);
    *dst = *src;
    targets_init(src);
}

static void set_error(struct targets *out, enum targets_status status,
                      const char *dsn, const char *reason)
{
    out->status = status;
    str_copy(out->dsn, dsn, sizeof(out->dsn));
    str_copy(out->reason, reason, sizeof(out->reason));
    free(out->list);
    out->list = NULL;
    out->count = 0;
}

int targets_mx_step(const struct dns_result *mx, const char *domain,
                    struct targets *out)
{
    char text[sizeof(out->reason)];
    if (mx->status == DNS_TEMPFAIL) {
        snprintf(text, sizeof(text),
                 "Host or domain name not found. Name service error for "
                 "name=%s type=MX: Host not found, try again",
                 domain);
        set_error(out, TARGETS_DEFER, "4.4.3", text);
        return -1;
    }
    if (mx->status == DNS_FOUND && mx->null_mx) {
        snprintf(text, sizeof(text), "Domain %s does not accept mail (nullMX)",
                 domain);
        set_error(out, TARGETS_BOUNCE, "5.1.0", text);
        return -1;
    }
    if (mx->status == DNS_FOUND)
        return 1;
    if (mx->malformed > 0) {
        snprintf(text, sizeof(text),
                 "Name service error for name=%s type=MX: Malformed or "
                 "unexpected name server reply",
                 domain);
        set_error(out, TARGETS_BOUNCE, "5.4.4", text);
        return -1;
    }
    return 0; /* NXDOMAIN or NODATA: the domain's own addresses */
}

/* Why one host gave no address: soft (try again) or not, and Postfix's
 * text for the answer that decides. */
static int host_failure(const struct targets_host *h, char *text, size_t size)
{
    const struct dns_result *asked[2] = {h->a, h->aaaa};
    const char *type_names[2] = {"A", "AAAA"};
    /* A failed lookup dominates: it may yet find an address. */
    for (int i = 0; i < 2; i++)
        if (asked[i] && asked[i]->status == DNS_TEMPFAIL) {
            snprintf(text, size,
                     "Host or domain name not found. Name service error for "
                     "name=%s type=%s: Host not found, try again",
                     h->name, type_names[i]);
            return 1;
        }
    /* Otherwise the last type asked speaks, as Postfix's does. */
    for (int i = 1; i >= 0; i--) {
        const struct dns_result *r = asked[i];
        if (r == NULL)
            continue;
        if (r->malformed > 0)
            snprintf(text, size,
                     "Name service error for name=%s type=%s: Malformed or "
                     "unexpected name server reply",
                     h->name, type_names[i]);
        else
            snprintf(text, size,
                     "Host or domain name not found. Name service error for "
                     "name=%s type=%s: %s",
                     h->name, type_names[i],
                     r->nxdomain ? "Host not found"
                                 : "Host found but no data record of "
                                   "requested type");
        return 0;
    }
    snprintf(text, size, "%s: no address family enabled by inet_protocols",
             h->name);
    return 1;
}

struct entry {
    struct target target;
    size_t order; /* position before sorting: keeps the sort stable */
    int rank;     /* family rank under smtp_address_preference */
};

static int compare_entries(const void *x, const void *y)
{
    const struct entry *a = x, *b = y;
    if (a->target.preference != b->target.preference)
        return a->target.preference < b->target.preference ? -1 : 1;
    if (a->rank != b->rank)
        return a->rank < b->rank ? -1 : 1;
    return a->order < b->order ? -1 : a->order > b->order;
}

static unsigned random_below(const struct targets_settings *s, unsigned bound)
{
    return s->random_below ? s->random_below(bound) % bound
                           : arc4random_uniform(bound);
}

static int family_rank(const struct targets_settings *s, int family)
{
    if (s->prefer == TARGETS_PREFER_IPV4)
        return family == AF_INET ? 0 : 1;
    if (s->prefer == TARGETS_PREFER_IPV6)
        return family == AF_INET6 ? 0 : 1;
    return 0;
}

static void add_records(const struct targets_settings *s,
                        const struct targets_host *h,
                        const struct dns_result *r, unsigned port,
                        struct entry **entries, size_t *count, size_t *cap)
{
    if (r == NULL || r->status != DNS_FOUND)
        return;
    for (size_t i = 0; i < r->count; i++) {
        const struct dns_record *rec = &r->records[i];
        int family = rec->type == DNS_TYPE_A ? AF_INET : AF_INET6;
        if ((family == AF_INET && !s->ipv4) || (family == AF_INET6 && !s->ipv6))
            continue;
        const unsigned char *bytes = family == AF_INET ? rec->u.a : rec->u.aaaa;
        size_t len = family == AF_INET ? 4 : 16;
        /* An address listed under two exchanges is tried once, at the
         * better preference (the hosts come in preference order). */
        int seen = 0;
        for (size_t j = 0; j < *count && !seen; j++)
            seen = (*entries)[j].target.family == family &&
                   memcmp((*entries)[j].target.addr, bytes, len) == 0;
        if (seen)
            continue;
        if (*count == *cap) {
            *cap = *cap ? *cap * 2 : 16;
            *entries = xreallocarray(*entries, *cap, sizeof(**entries));
        }
        struct entry *e = &(*entries)[(*count)++];
        memset(e, 0, sizeof(*e));
        str_copy(e->target.host, h->name, sizeof(e->target.host));
        str_copy(e->target.canonical, r->canonical,
                 sizeof(e->target.canonical));
        e->target.preference = h->preference;
        e->target.port = port;
        e->target.family = family;
        memcpy(e->target.addr, bytes, len);
        inet_ntop(family, bytes, e->target.addr_text,
                  sizeof(e->target.addr_text));
        e->target.secure = s->dnssec && r->secure;
        e->rank = family_rank(s, family);
    }
}

/* smtp_balance_inet_protocols: when both families are present and the
 * list is longer than the limit, keep enough of each family that one
 * cannot crowd the other out (half each, or all of the scarcer family). */
static size_t balance(struct entry *entries, size_t count, unsigned limit)
{
    size_t v4 = 0, v6 = 0;
    for (size_t i = 0; i < count; i++) {
        if (entries[i].target.family == AF_INET)
            v4++;
        else
            v6++;
    }
    if (v4 == 0 || v6 == 0 || count <= limit)
        return count;
    size_t keep_v4, keep_v6;
    if (v6 <= limit / 2) {
        keep_v6 = v6;
        keep_v4 = limit - v6;
    } else if (v4 <= limit / 2) {
        keep_v4 = v4;
        keep_v6 = limit - v4;
    } else {
        /* Both plentiful: the family of the first address gets the odd
         * one. */
        keep_v4 = (limit + (entries[0].target.family == AF_INET)) / 2;
        keep_v6 = limit - keep_v4;
    }
    size_t out = 0;
    for (size_t i = 0; i < count; i++) {
        size_t *left =
            entries[i].target.family == AF_INET ? &keep_v4 : &keep_v6;
        if (*left == 0)
            continue;
        (*left)--;
        entries[out++] = entries[i];
    }
    return out;
}

void targets_assemble(const struct targets_settings *s, int loop_detect,
                      unsigned port, const struct targets_host *hosts,
                      size_t host_count, struct targets *out)
{
    struct entry *entries = NULL;
    size_t count = 0, cap = 0;
    int soft = 0;
    char text[sizeof(out->reason)] = "";
    for (size_t h = 0; h < host_count; h++) {
        size_t before = count;
        add_records(s, &hosts[h], hosts[h].a, port, &entries, &count, &cap);
        add_records(s, &hosts[h], hosts[h].aaaa, port, &entries, &count, &cap);
        int found = (hosts[h].a && hosts[h].a->status == DNS_FOUND) ||
                    (hosts[h].aaaa && hosts[h].aaaa->status == DNS_FOUND);
        if (found || count > before)
            continue;
        /* The first temporary failure's text stays; otherwise the last
         * host's text is the one reported. */
        char why[sizeof(out->reason)];
        int this_soft = host_failure(&hosts[h], why, sizeof(why));
        if (!soft)
            str_copy(text, why, sizeof(text));
        soft |= this_soft;
    }
    if (count == 0) {
        if (soft)
            set_error(out, TARGETS_DEFER, "4.4.3", text);
        else if (out->from_mx && s->defer_if_no_mx_address)
            set_error(out, TARGETS_DEFER, "4.4.4", text);
        else
            set_error(out, TARGETS_BOUNCE, "5.4.4", text);
        free(entries);
        return;
    }
    if (loop_detect && s->is_own_address) {
        unsigned best_found = entries[0].target.preference;
        for (size_t i = 0; i < count; i++) {
            if (!s->is_own_address(entries[i].target.family,
                                   entries[i].target.addr, s->own_ctx))
                continue;
            /* We are an exchange: only better ones may be tried. */
            unsigned self = entries[i].target.preference;
            size_t kept = 0;
            for (size_t j = 0; j < count; j++)
                if (entries[j].target.preference < self)
                    entries[kept++] = entries[j];
            count = kept;
            out->found_myself = out->from_mx;
            if (count == 0) {
                char why[sizeof(out->reason)];
                if (out->from_mx && out->best_preference != best_found) {
                    snprintf(why, sizeof(why),
                             "unable to find primary relay for %s", out->name);
                    set_error(out, TARGETS_DEFER, "4.4.4", why);
                } else {
                    snprintf(why, sizeof(why),
                             "mail for %s loops back to myself", out->name);
                    set_error(out, TARGETS_BOUNCE, "5.4.6", why);
                }
                free(entries);
                return;
            }
            break;
        }
    }
    if (s->randomize)
        for (size_t i = count; i > 1; i--) {
            size_t j = random_below(s, (unsigned)i);
            struct entry swap = entries[i - 1];
            entries[i - 1] = entries[j];
            entries[j] = swap;
        }
    for (size_t i = 0; i < count; i++)
        entries[i].order = i;
    qsort(entries, count, sizeof(*entries), compare_entries);
    if (s->address_limit > 0 && s->balance)
        count = balance(entries, count, s->address_limit);
    if (s->address_limit > 0 && count > s->address_limit)
        count = s->address_limit;
    free(out->list);
    out->list = xcalloc(count, sizeof(*out->list));
    for (size_t i = 0; i < count; i++)
        out->list[i] = entries[i].target;
    out->count = count;
    out->status = TARGETS_OK;
    out->dsn[0] = '\0';
    out->reason[0] = '\0';
    free(entries);
}
