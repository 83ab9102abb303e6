/* dns.c: the DNS client on libunbound (dns.h).
 *
 * libunbound runs its resolver in a worker thread (ub_ctx_async) and
 * writes each answer to a pipe; ub_process() reads them and runs our
 * ub callback, which only files the answer on the client's done list.
 * The user callbacks run after ub_process() returns, from the done
 * list, so a user callback may start or cancel lookups (a domain lookup
 * cancels its sibling queries) without re-entering libunbound.
 *
 * A query is either waiting in libunbound (in_unbound) or done (on the
 * done list, waiting for dispatch); cancelling one tells libunbound to
 * drop its answer. Every query is on the client's `all` list until
 * freed, so dns_client_free() frees them all. */
#include "dns/dns.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unbound.h>
#include <unistd.h>

#include "message/address.h"
#include "config/config.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/timeconv.h"

struct dns_query {
    struct dns_client *client;
    struct dns_query *prev, *next;           /* client->all */
    struct dns_query *done_prev, *done_next; /* client->done */
    int async_id;
    int in_unbound; /* libunbound has it */
    int done;       /* on the done list */
    int type;
    dns_query_cb cb;
    void *ctx;
    struct event_timer timer; /* timeout */
    struct dns_result result;
    char name[DNS_NAME_MAX + 2];
};

struct dns_client {
    struct ub_ctx *ub;
    struct event_loop *loop;
    int fd;
    long timeout_ms;
    struct dns_query *all;
    struct dns_query *done_head, *done_tail;
    size_t pending;
    struct event_timer kick; /* dispatches answers made without a query */
};

/* ---- settings ---- */

void dns_settings_init(struct dns_settings *settings)
{
    strlist_init(&settings->servers);
    settings->resolv_conf = "/etc/resolv.conf";
    settings->timeout_ms = 10000;
    settings->trust_anchor_file = NULL;
}

void dns_settings_from_config(struct dns_settings *settings)
{
    dns_settings_init(settings);
    cfg_list("postern_dns_servers", &settings->servers);
    long seconds = cfg_time("postern_dns_timeout");
    settings->timeout_ms =
        (long)timeconv_sec_to_int_ms(seconds > 0 ? seconds : 1);
}

void dns_settings_free(struct dns_settings *settings)
{
    strlist_free(&settings->servers);
}

int dns_server_check(const char *entry, struct buf *err)
{
    const char *at = strchr(entry, '@');
    size_t iplen = at ? (size_t)(at - entry) : strlen(entry);
    char ip[INET6_ADDRSTRLEN + 1];
    unsigned char bin[16];
    if (iplen == 0 || iplen >= sizeof(ip)) {
        buf_appendf(err, "bad DNS server \"%.100s\": want ip or ip@port",
                    entry);
        return -1;
    }
    memcpy(ip, entry, iplen);
    ip[iplen] = '\0';
    if (inet_pton(AF_INET, ip, bin) != 1 && inet_pton(AF_INET6, ip, bin) != 1) {
        buf_appendf(err, "bad DNS server \"%.100s\": not an IP address", entry);
        return -1;
    }
    if (at) {
        long port;
        if (str_to_long(at + 1, &port) < 0 || port < 1 || port > 65535) {
            buf_appendf(err, "bad DNS server \"%.100s\": bad port", entry);
            return -1;
        }
    }
    return 0;
}

/* ---- the client ---- */

static void dispatch_done(struct dns_client *client);

static void on_readable(struct event_loop *loop, int fd, unsigned events,
                        void *ctx)
{
    struct dns_client *client = ctx;
    int rc = ub_process(client->ub);
    if (rc != 0) {
        /* The worker is gone (its pipe failed): stop watching rather
         * than spin; what is pending ends by its timeout. */
        log_warn("DNS: libunbound: %s; no more answers", ub_strerror(rc));
        event_fd_remove(loop, fd);
    }
    dispatch_done(client);
}

static void on_kick(struct event_loop *loop, void *ctx)
{
    dispatch_done(ctx);
}

static int set_option(struct ub_ctx *ub, const char *opt, const char *value,
                      struct buf *err)
{
    int rc = ub_ctx_set_option(ub, opt, value);
    if (rc != 0)
        buf_appendf(err, "libunbound option %s %s: %s", opt, value,
                    ub_strerror(rc));
    return rc == 0 ? 0 : -1;
}

struct dns_client *dns_client_new(struct event_loop *loop,
                                  const struct dns_settings *settings,
                                  struct buf *err)
{
    for (size_t i = 0; i < settings->servers.count; i++)
        if (dns_server_check(settings->servers.items[i], err) < 0)
            return NULL;
    struct ub_ctx *ub = ub_ctx_create();
    if (ub == NULL) {
        buf_append_str(err, "libunbound: cannot create a context");
        return NULL;
    }
    /* A worker thread, not a forked process: smtpd may run chrooted
     * and unprivileged, and a thread needs nothing from either. */
    int rc = ub_ctx_async(ub, 1);
    /* We are a stub: the resolvers we forward to decide about local
     * and private zones, and they may well live on 127.0.0.1. Small
     * caches: each smtpd process has its own. */
    if (rc != 0 || set_option(ub, "do-not-query-localhost:", "no", err) < 0 ||
        set_option(ub, "unblock-lan-zones:", "yes", err) < 0 ||
        set_option(ub, "insecure-lan-zones:", "yes", err) < 0 ||
        set_option(ub, "msg-cache-size:", "262144", err) < 0 ||
        set_option(ub, "rrset-cache-size:", "524288", err) < 0 ||
        set_option(ub, "key-cache-size:", "131072", err) < 0 ||
        set_option(ub, "neg-cache-size:", "131072", err) < 0) {
        if (rc != 0)
            buf_appendf(err, "libunbound: %s", ub_strerror(rc));
        ub_ctx_delete(ub);
        return NULL;
    }
    for (size_t i = 0; i < settings->servers.count; i++) {
        rc = ub_ctx_set_fwd(ub, settings->servers.items[i]);
        if (rc != 0) {
            buf_appendf(err, "DNS server %s: %s", settings->servers.items[i],
                        ub_strerror(rc));
            ub_ctx_delete(ub);
            return NULL;
        }
    }
    if (settings->servers.count == 0) {
        rc = ub_ctx_resolvconf(ub, settings->resolv_conf);
        if (rc != 0) {
            /* As the C library does without resolv.conf. */
            log_warn("DNS: cannot use %s (%s); asking 127.0.0.1",
                     settings->resolv_conf, ub_strerror(rc));
            rc = ub_ctx_set_fwd(ub, "127.0.0.1");
        }
        if (rc != 0) {
            buf_appendf(err, "DNS: %s", ub_strerror(rc));
            ub_ctx_delete(ub);
            return NULL;
        }
    }
    if (settings->trust_anchor_file && *settings->trust_anchor_file) {
        /* libunbound reads the file at the first lookup; say now when it
         * cannot. */
        if (access(settings->trust_anchor_file, R_OK) < 0) {
            buf_appendf(err, "DNSSEC trust anchor %s: %s",
                        settings->trust_anchor_file, strerror(errno));
            ub_ctx_delete(ub);
            return NULL;
        }
        rc = ub_ctx_add_ta_file(ub, settings->trust_anchor_file);
        if (rc != 0) {
            buf_appendf(err, "DNSSEC trust anchor %s: %s",
                        settings->trust_anchor_file, ub_strerror(rc));
            ub_ctx_delete(ub);
            return NULL;
        }
    }
    struct dns_client *client = xcalloc(1, sizeof(*client));
    client->ub = ub;
    client->loop = loop;
    client->fd = ub_fd(ub);
    client->timeout_ms = settings->timeout_ms > 0 ? settings->timeout_ms : 1;
    event_timer_init(&client->kick, on_kick, client);
    if (loop &&
        event_fd_add(loop, client->fd, EVENT_READ, on_readable, client) < 0) {
        buf_appendf(err, "DNS: watching the libunbound pipe: %s",
                    strerror(errno));
        ub_ctx_delete(ub);
        free(client);
        return NULL;
    }
    return client;
}

static void query_free(struct dns_query *q)
{
    struct dns_client *client = q->client;
    if (client->loop)
        event_timer_stop(client->loop, &q->timer);
    if (q->prev)
        q->prev->next = q->next;
    else
        client->all = q->next;
    if (q->next)
        q->next->prev = q->prev;
    dns_result_free(&q->result);
    free(q);
}

static void done_unlink(struct dns_query *q)
{
    struct dns_client *client = q->client;
    if (!q->done)
        return;
    if (q->done_prev)
        q->done_prev->done_next = q->done_next;
    else
        client->done_head = q->done_next;
    if (q->done_next)
        q->done_next->done_prev = q->done_prev;
    else
        client->done_tail = q->done_prev;
    q->done_prev = q->done_next = NULL;
    q->done = 0;
}

/* Files a query's answer for dispatch. */
static void done_append(struct dns_query *q)
{
    struct dns_client *client = q->client;
    q->done = 1;
    q->done_next = NULL;
    q->done_prev = client->done_tail;
    if (client->done_tail)
        client->done_tail->done_next = q;
    else
        client->done_head = q;
    client->done_tail = q;
}

static void dispatch_done(struct dns_client *client)
{
    struct dns_query *q;
    /* Re-read the head each time: a callback may cancel queries that
     * are on the list. */
    while ((q = client->done_head) != NULL) {
        done_unlink(q);
        client->pending--;
        if (q->cb)
            q->cb(&q->result, q->ctx);
        query_free(q);
    }
}

void dns_client_free(struct dns_client *client)
{
    if (client == NULL)
        return;
    if (client->loop) {
        event_fd_remove(client->loop, client->fd);
        event_timer_stop(client->loop, &client->kick);
    }
    /* Deleting the context drops every outstanding request without
     * callbacks; then our records of them can go. */
    ub_ctx_delete(client->ub);
    while (client->all)
        query_free(client->all);
    free(client);
}

size_t dns_client_pending(const struct dns_client *client)
{
    return client->pending;
}

struct event_loop *dns_client_loop(const struct dns_client *client)
{
    return client->loop;
}

/* ---- one query ---- */

/* Keeps the name the records belong to when libunbound followed a
 * CNAME: lower case, without the trailing dot, and only a host name. */
static void set_canonical(struct dns_result *res, const char *qname,
                          const char *canonname)
{
    res->canonical[0] = '\0';
    if (canonname == NULL)
        return;
    size_t len = strlen(canonname);
    if (len > 0 && canonname[len - 1] == '.')
        len--;
    if (len == 0 || len > DNS_NAME_MAX)
        return;
    char name[DNS_NAME_MAX + 1];
    for (size_t i = 0; i < len; i++) {
        char c = canonname[i];
        name[i] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
    }
    name[len] = '\0';
    if (strcasecmp(name, qname) == 0 || !address_valid_hostname(name, 0))
        return;
    memcpy(res->canonical, name, len + 1);
}

static void ub_answer(void *mydata, int err, struct ub_result *answer)
{
    struct dns_query *q = mydata;
    q->in_unbound = 0;
    if (err != 0 || answer == NULL) {
        dns_result_free(&q->result);
        q->result.status = DNS_TEMPFAIL;
        str_copy(q->result.why, ub_strerror(err), sizeof(q->result.why));
    } else {
        size_t n = 0;
        while (answer->data && answer->data[n] && n < 65536)
            n++;
        const unsigned char **rdata = xcalloc(n ? n : 1, sizeof(*rdata));
        size_t *rdlen = xcalloc(n ? n : 1, sizeof(*rdlen));
        for (size_t i = 0; i < n; i++) {
            rdata[i] = (const unsigned char *)answer->data[i];
            rdlen[i] = answer->len[i] > 0 ? (size_t)answer->len[i] : 0;
        }
        dns_result_from_rdata(&q->result, q->type, answer->rcode, rdata, rdlen,
                              n);
        free(rdata);
        free(rdlen);
        q->result.secure = answer->secure;
        q->result.bogus = answer->bogus;
        set_canonical(&q->result, q->name, answer->canonname);
        q->result.ttl = answer->ttl > 0 ? (unsigned)answer->ttl : 0;
        if (answer->bogus) {
            dns_result_free(&q->result);
            q->result.bogus = 1;
            q->result.status = DNS_TEMPFAIL;
            str_copy(q->result.why, "DNSSEC validation failed",
                     sizeof(q->result.why));
        }
        ub_resolve_free(answer);
    }
    if (q->client->loop)
        event_timer_stop(q->client->loop, &q->timer);
    done_append(q);
}

/* Makes libunbound forget q: no answer for it comes after this. In
 * threaded mode ub_cancel() marks the request cancelled and drops its
 * answer when it arrives; it fails only for an id it no longer knows,
 * whose answer has then been delivered already. */
static void unbound_cancel(struct dns_query *q)
{
    if (!q->in_unbound)
        return;
    int rc = ub_cancel(q->client->ub, q->async_id);
    if (rc != 0)
        log_warn("DNS: cancel %s: %s", q->name, ub_strerror(rc));
    q->in_unbound = 0;
}

static void on_query_timeout(struct event_loop *loop, void *ctx)
{
    struct dns_query *q = ctx;
    if (q->done)
        return;
    unbound_cancel(q);
    dns_result_free(&q->result);
    q->result.status = DNS_TEMPFAIL;
    str_copy(q->result.why, "timeout", sizeof(q->result.why));
    done_append(q);
    dispatch_done(q->client);
}

/* Copies name without one trailing dot; 0 when it is a host name in DNS
 * syntax (letters, digits, '-', '_'). */
static int query_name(const char *name, char *out, size_t size)
{
    size_t len = strlen(name);
    if (len > 0 && name[len - 1] == '.')
        len--;
    if (len == 0 || len > DNS_NAME_MAX || len >= size)
        return -1;
    memcpy(out, name, len);
    out[len] = '\0';
    return address_valid_hostname(out, 0) ? 0 : -1;
}

/* An answer made here, not by libunbound: dispatched from the loop. */
static void answer_now(struct dns_query *q, enum dns_status status,
                       const char *why)
{
    q->result.status = status;
    str_copy(q->result.why, why, sizeof(q->result.why));
    done_append(q);
    if (q->client->loop)
        event_timer_start(q->client->loop, &q->client->kick, 0);
}

static struct dns_query *query_new(struct dns_client *client, const char *name,
                                   int type, dns_query_cb cb, void *ctx)
{
    struct dns_query *q = xcalloc(1, sizeof(*q));
    q->client = client;
    q->type = type;
    q->cb = cb;
    q->ctx = ctx;
    dns_result_init(&q->result, type);
    event_timer_init(&q->timer, on_query_timeout, q);
    q->next = client->all;
    if (q->next)
        q->next->prev = q;
    client->all = q;
    client->pending++;
    if (query_name(name, q->name, sizeof(q->name)) < 0) {
        answer_now(q, DNS_NOTFOUND, "invalid name");
        return q;
    }
    int rc = ub_resolve_async(client->ub, q->name, type, 1 /* IN */, q,
                              ub_answer, &q->async_id);
    if (rc != 0) {
        answer_now(q, DNS_TEMPFAIL, ub_strerror(rc));
        return q;
    }
    q->in_unbound = 1;
    if (client->loop)
        event_timer_start(client->loop, &q->timer,
                          (uint64_t)client->timeout_ms);
    return q;
}

struct dns_query *dns_query_start(struct dns_client *client, const char *name,
                                  int type, dns_query_cb cb, void *ctx)
{
    if (client->loop == NULL)
        log_panic("dns_query_start: client without an event loop");
    return query_new(client, name, type, cb, ctx);
}

void dns_query_cancel(struct dns_query *q)
{
    if (q == NULL)
        return;
    q->client->pending--;
    done_unlink(q);
    unbound_cancel(q);
    query_free(q);
}

struct sync_wait {
    struct dns_result *out;
    int finished;
};

static void sync_answer(struct dns_result *result, void *ctx)
{
    struct sync_wait *w = ctx;
    dns_result_move(w->out, result);
    w->finished = 1;
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

enum dns_status dns_lookup_sync(struct dns_client *client, const char *name,
                                int type, struct dns_result *out)
{
    struct sync_wait w = {out, 0};
    dns_result_free(out);
    struct dns_query *q = query_new(client, name, type, sync_answer, &w);
    long long deadline = now_ms() + client->timeout_ms;
    while (!w.finished) {
        if (client->done_head) {
            dispatch_done(client);
            continue;
        }
        long long left = deadline - now_ms();
        if (left <= 0) {
            dns_query_cancel(q);
            dns_result_free(out);
            out->type = type;
            out->status = DNS_TEMPFAIL;
            str_copy(out->why, "timeout", sizeof(out->why));
            break;
        }
        struct pollfd pfd = {client->fd, POLLIN, 0};
        int rc = poll(&pfd, 1, (int)(left > 1000 ? 1000 : left));
        if (rc < 0 && errno != EINTR)
            log_fatal("DNS: poll: %s", strerror(errno));
        if (rc > 0)
            (void)ub_process(client->ub);
    }
    return out->status;
}

/* ---- a domain: MX, A and AAAA at once ---- */

enum { SLOT_MX, SLOT_A, SLOT_AAAA, SLOTS };

struct dns_domain_lookup {
    enum dns_domain_mode mode;
    dns_domain_cb cb;
    void *ctx;
    struct dns_query *query[SLOTS]; /* NULL once answered */
    struct dns_result result[SLOTS];
    int have[SLOTS];
    struct dns_domain_slot {
        struct dns_domain_lookup *lookup;
        int slot;
    } slots[SLOTS];
};

static void domain_free(struct dns_domain_lookup *l)
{
    for (int i = 0; i < SLOTS; i++) {
        dns_query_cancel(l->query[i]);
        dns_result_free(&l->result[i]);
    }
    free(l);
}

static void domain_answer(struct dns_result *result, void *ctx)
{
    struct dns_domain_slot *slot = ctx;
    struct dns_domain_lookup *l = slot->lookup;
    l->query[slot->slot] = NULL;
    l->have[slot->slot] = 1;
    dns_result_move(&l->result[slot->slot], result);
    enum dns_domain_status status;
    if (!dns_domain_combine(
            l->mode, l->have[SLOT_MX] ? &l->result[SLOT_MX] : NULL,
            l->have[SLOT_A] ? &l->result[SLOT_A] : NULL,
            l->have[SLOT_AAAA] ? &l->result[SLOT_AAAA] : NULL, &status))
        return;
    /* The reason worth logging: the first failure among the answers. */
    const char *why = "";
    if (status != DNS_DOMAIN_FOUND)
        for (int i = 0; i < SLOTS && !*why; i++)
            if (l->have[i] && l->result[i].status != DNS_FOUND)
                why = l->result[i].why;
    struct buf reason = BUF_INIT;
    buf_append_str(&reason, why);
    for (int i = 0; i < SLOTS; i++) {
        dns_query_cancel(l->query[i]);
        l->query[i] = NULL;
    }
    l->cb(status, buf_cstr(&reason), l->ctx);
    buf_free(&reason);
    domain_free(l);
}

struct dns_domain_lookup *dns_domain_start(struct dns_client *client,
                                           const char *name,
                                           enum dns_domain_mode mode,
                                           dns_domain_cb cb, void *ctx)
{
    static const int types[SLOTS] = {DNS_TYPE_MX, DNS_TYPE_A, DNS_TYPE_AAAA};
    struct dns_domain_lookup *l = xcalloc(1, sizeof(*l));
    l->mode = mode;
    l->cb = cb;
    l->ctx = ctx;
    for (int i = 0; i < SLOTS; i++) {
        dns_result_init(&l->result[i], types[i]);
        l->slots[i].lookup = l;
        l->slots[i].slot = i;
    }
    for (int i = 0; i < SLOTS; i++)
        l->query[i] = dns_query_start(client, name, types[i], domain_answer,
                                      &l->slots[i]);
    return l;
}

void dns_domain_cancel(struct dns_domain_lookup *lookup)
{
    if (lookup)
        domain_free(lookup);
}
