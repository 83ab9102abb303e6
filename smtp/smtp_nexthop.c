/* smtp_nexthop.c: next-hop syntax and the literal addresses the smtp
 * and lmtp client can reach without DNS (smtp_nexthop.h).
 *
 * TEMPORARY: names that need a lookup are deferred here. The DNS
 * resolver (MX in preference order, A/AAAA, inet_protocols) replaces
 * the one marked branch in smtp_nexthop_resolve; everything else stays. */
#include "smtp_nexthop.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "base/mem.h"
#include "base/servport.h"
#include "base/str.h"

#define SMTP_DEFAULT_PORT 25
#define LMTP_DEFAULT_PORT 24

/* Parses a port: a decimal number in 1..65535 or a service name. */
static int parse_port(const char *text)
{
    if (*text == '\0')
        return -1;
    if (strspn(text, "0123456789") == strlen(text)) {
        if (strlen(text) > 5)
            return -1;
        long port = strtol(text, NULL, 10);
        return port >= 1 && port <= 65535 ? (int)port : -1;
    }
    return servport_lookup(text);
}

/* Fills a with a numeric host, or returns -1 when host is not one. */
static int literal_addr(const char *host, unsigned port, struct smtp_addr *a)
{
    memset(a, 0, sizeof(*a));
    struct sockaddr_in *sin = (struct sockaddr_in *)&a->sa;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&a->sa;
    if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
        sin->sin_family = AF_INET;
        sin->sin_port = htons((uint16_t)port);
        a->salen = sizeof(*sin);
        a->family = AF_INET;
    } else if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons((uint16_t)port);
        a->salen = sizeof(*sin6);
        a->family = AF_INET6;
    } else {
        return -1;
    }
    /* The canonical text, so relay= always reads the same. */
    inet_ntop(a->family,
              a->family == AF_INET ? (const void *)&sin->sin_addr
                                   : (const void *)&sin6->sin6_addr,
              a->addr, sizeof(a->addr));
    snprintf(a->host, sizeof(a->host), "%s", a->addr);
    a->port = port;
    return 0;
}

smtp_nexthop_lookup_fn smtp_nexthop_lookup;

void smtp_nexthop_add(struct smtp_nexthop *nh, const struct smtp_addr *a)
{
    nh->addrs = xrealloc(nh->addrs, (nh->count + 1) * sizeof(*nh->addrs));
    nh->addrs[nh->count++] = *a;
}

static enum smtp_nexthop_result fail(struct buf *reason, char *dsn,
                                     enum smtp_nexthop_result result,
                                     const char *code, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static enum smtp_nexthop_result fail(struct buf *reason, char *dsn,
                                     enum smtp_nexthop_result result,
                                     const char *code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    buf_reset(reason);
    buf_vappendf(reason, fmt, ap);
    va_end(ap);
    snprintf(dsn, 10, "%s", code);
    return result;
}

/* unix:PATH (lmtp). */
static enum smtp_nexthop_result unix_nexthop(const char *path,
                                             const char *queue_dir,
                                             const char *myhostname,
                                             struct smtp_nexthop *out,
                                             struct buf *reason, char *dsn)
{
    struct smtp_addr a;
    memset(&a, 0, sizeof(a));
    struct sockaddr_un *sun = (struct sockaddr_un *)&a.sa;
    struct buf full = BUF_INIT;
    if (path[0] == '/')
        buf_append_str(&full, path);
    else
        buf_appendf(&full, "%s/%s", queue_dir, path);
    if (path[0] == '\0' || full.len >= sizeof(sun->sun_path) ||
        strlen(path) > SMTP_HOST_MAX) {
        buf_free(&full);
        return fail(reason, dsn, SMTP_NEXTHOP_BOUNCE, "5.3.5",
                    "bad unix socket path in next hop \"%s\"", path);
    }
    sun->sun_family = AF_UNIX;
    memcpy(sun->sun_path, full.data, full.len + 1);
    a.salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + full.len + 1);
    a.family = AF_UNIX;
    snprintf(a.host, sizeof(a.host), "%s", myhostname);
    snprintf(a.addr, sizeof(a.addr), "%s", path);
    smtp_nexthop_add(out, &a);
    buf_free(&full);
    return SMTP_NEXTHOP_OK;
}

/* One destination of the list. */
static enum smtp_nexthop_result resolve_one(const char *nexthop, int lmtp,
                                            const char *queue_dir,
                                            const char *myhostname,
                                            struct smtp_nexthop *out,
                                            struct buf *reason, char *dsn)
{
    const char *rest = nexthop;
    if (lmtp && strncasecmp(rest, "unix:", 5) == 0)
        return unix_nexthop(rest + 5, queue_dir, myhostname, out, reason, dsn);
    if (strncasecmp(rest, "inet:", 5) == 0)
        rest += 5;
    if (*rest == '\0' || strlen(rest) > SMTP_HOST_MAX)
        return fail(reason, dsn, SMTP_NEXTHOP_BOUNCE, "5.3.5",
                    "bad next-hop destination \"%s\"", nexthop);

    /* Split host and port: [host]:port, host:port, host, and an IPv6
     * address without brackets (more than one colon) as a host alone. */
    char *copy = xstrdup(rest);
    char *host = copy, *port_text = NULL;
    int bracketed = 0;
    if (*host == '[') {
        char *close = strchr(host, ']');
        if (close == NULL || (close[1] != '\0' && close[1] != ':')) {
            free(copy);
            return fail(reason, dsn, SMTP_NEXTHOP_BOUNCE, "5.3.5",
                        "bad next-hop destination \"%s\"", nexthop);
        }
        if (close[1] == ':')
            port_text = close + 2;
        *close = '\0';
        host++;
        bracketed = 1;
        if (strncasecmp(host, "ipv6:", 5) == 0)
            host += 5;
    } else {
        char *colon = strchr(host, ':');
        if (colon && strchr(colon + 1, ':') == NULL) {
            *colon = '\0';
            port_text = colon + 1;
        }
    }
    int port = lmtp ? LMTP_DEFAULT_PORT : SMTP_DEFAULT_PORT;
    if (port_text && (port = parse_port(port_text)) < 0) {
        enum smtp_nexthop_result r =
            fail(reason, dsn, SMTP_NEXTHOP_BOUNCE, "5.3.5",
                 "bad port in next-hop destination \"%s\"", nexthop);
        free(copy);
        return r;
    }
    if (*host == '\0') {
        free(copy);
        return fail(reason, dsn, SMTP_NEXTHOP_BOUNCE, "5.3.5",
                    "bad next-hop destination \"%s\"", nexthop);
    }
    struct smtp_addr a;
    if (literal_addr(host, (unsigned)port, &a) == 0) {
        smtp_nexthop_add(out, &a);
        free(copy);
        return SMTP_NEXTHOP_OK;
    }
    /* A name: MX lookup (smtp, not bracketed) or A/AAAA (bracketed, or
     * lmtp), through the daemon's DNS client (smtp_dns.c). */
    enum smtp_nexthop_result r;
    if (smtp_nexthop_lookup)
        r = smtp_nexthop_lookup(host, !bracketed && !lmtp, (unsigned)port,
                                out, reason, dsn);
    else
        r = fail(reason, dsn, SMTP_NEXTHOP_DEFER, "4.4.3",
                 (bracketed || lmtp) ? "Host lookup of %s not built yet"
                                     : "MX lookup of %s not built yet",
                 host);
    free(copy);
    return r;
}

enum smtp_nexthop_result smtp_nexthop_resolve(const char *nexthop, int lmtp,
                                              const char *queue_dir,
                                              const char *myhostname,
                                              struct smtp_nexthop *out,
                                              struct buf *reason, char *dsn)
{
    memset(out, 0, sizeof(*out));
    /* A list of destinations, tried in order (Postfix 3.5): each one's
     * addresses follow the previous one's. One that cannot be used is
     * skipped while another can; with none, the first failure counts,
     * a temporary one before a permanent one. */
    char *list = xstrdup(nexthop);
    enum smtp_nexthop_result first = SMTP_NEXTHOP_OK;
    struct buf item_reason = BUF_INIT;
    char item_dsn[10];
    size_t items = 0;
    for (char *save = NULL, *item = strtok_r(list, ", \t", &save); item;
         item = strtok_r(NULL, ", \t", &save)) {
        items++;
        buf_reset(&item_reason);
        size_t before = out->count;
        enum smtp_nexthop_result r = resolve_one(item, lmtp, queue_dir,
                                                 myhostname, out, &item_reason,
                                                 item_dsn);
        for (size_t i = before; i < out->count; i++)
            snprintf(out->addrs[i].dest, sizeof(out->addrs[i].dest), "%s",
                     item);
        if (r == SMTP_NEXTHOP_OK)
            continue;
        if (first == SMTP_NEXTHOP_OK ||
            (first == SMTP_NEXTHOP_BOUNCE && r == SMTP_NEXTHOP_DEFER)) {
            first = r;
            buf_set_str(reason, buf_cstr(&item_reason));
            snprintf(dsn, 10, "%s", item_dsn);
        }
    }
    free(list);
    buf_free(&item_reason);
    if (items == 0)
        return fail(reason, dsn, SMTP_NEXTHOP_BOUNCE, "5.3.5",
                    "bad next-hop destination \"%s\"", nexthop);
    return out->count > 0 ? SMTP_NEXTHOP_OK : first;
}

void smtp_nexthop_free(struct smtp_nexthop *nh)
{
    free(nh->addrs);
    nh->addrs = NULL;
    nh->count = 0;
}

void smtp_addr_format(const struct smtp_addr *a, struct buf *out)
{
    if (a->family == AF_UNIX)
        buf_appendf(out, "%s[%s]", a->host, a->addr);
    else
        buf_appendf(out, "%s[%s]:%u", a->host, a->addr, a->port);
}
