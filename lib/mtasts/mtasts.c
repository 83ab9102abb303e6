/* mtasts.c: the MTA-STS lookup of the SMTP client (see mtasts.h): the
 * TXT query on the loop, the cache and the fetch in a worker thread,
 * the decision back on the loop. */
#include "mtasts/mtasts.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <sys/socket.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/bgjob.h"
#include "base/log.h"
#include "base/mem.h"
#include "config/config.h"
#include "mtasts/mtasts_cache.h"
#include "mtasts/mtasts_fetch.h"

/* Fetches at once per process; more lookups wait in the pool's queue. */
#define MTASTS_WORKERS 2

struct mtasts_client {
    struct event_loop *loop;
    struct dns_client *dns;
    struct mtasts_settings settings;
    struct bgjob_pool *pool;
    struct mtasts_lookup *lookups; /* started, not reported */
    size_t pending;
};

struct mtasts_lookup {
    struct mtasts_client *client;
    struct mtasts_lookup *prev, *next;
    char domain[DNS_NAME_MAX + 1];
    mtasts_cb cb;
    void *ctx;
    struct dns_query *query; /* while the TXT query runs */
    /* After a valid TXT record: the A and AAAA queries of
     * mta-sts.DOMAIN, whose answers go to libcurl (CURLOPT_RESOLVE). */
    struct dns_query *addr_query[2];
    int addr_looked_up;      /* resolve is meaningful */
    struct strlist resolve;  /* the addresses found, numeric text */
    char resolve_why[192];   /* why there is none */
    int cancelled;           /* while in the worker */
    int txt_valid;           /* exactly one valid STSv1 record */
    char txt_id[MTASTS_ID_MAX + 1];
    char txt_why[128];
    struct mtasts_decision decision;
};

void mtasts_settings_init(struct mtasts_settings *settings)
{
    memset(settings, 0, sizeof(*settings));
    settings->enabled = 1;
    settings->data_directory = xstrdup("/var/lib/postern");
    settings->ca_file = xstrdup("");
    strlist_init(&settings->connect_to);
    settings->connect_timeout_s = 10;
    settings->fetch_timeout_s = 30;
}

void mtasts_settings_from_config(struct mtasts_settings *settings)
{
    mtasts_settings_free(settings);
    mtasts_settings_init(settings);
    settings->enabled = cfg_bool("postern_mta_sts_enable");
    free(settings->data_directory);
    settings->data_directory = xstrdup(cfg_str("data_directory"));
    free(settings->ca_file);
    settings->ca_file = xstrdup(cfg_str("postern_mta_sts_ca_file"));
    cfg_list("postern_mta_sts_connect_to", &settings->connect_to);
    settings->connect_timeout_s = cfg_time("postern_mta_sts_connect_timeout");
    settings->fetch_timeout_s = cfg_time("postern_mta_sts_fetch_timeout");
}

void mtasts_settings_free(struct mtasts_settings *settings)
{
    free(settings->data_directory);
    free(settings->ca_file);
    strlist_free(&settings->connect_to);
    settings->data_directory = settings->ca_file = NULL;
}

static void settings_copy(struct mtasts_settings *dst,
                          const struct mtasts_settings *src)
{
    *dst = *src;
    dst->data_directory = xstrdup(src->data_directory);
    dst->ca_file = xstrdup(src->ca_file ? src->ca_file : "");
    strlist_init(&dst->connect_to);
    for (size_t i = 0; i < src->connect_to.count; i++)
        strlist_add(&dst->connect_to, src->connect_to.items[i]);
}

const char *mtasts_result_name(enum mtasts_result result)
{
    switch (result) {
    case MTASTS_ENFORCE:
        return "enforce";
    case MTASTS_TESTING:
        return "testing";
    case MTASTS_NO_POLICY:
        break;
    }
    return "none";
}

const char *mtasts_mx_verdict_name(enum mtasts_mx_verdict verdict)
{
    switch (verdict) {
    case MTASTS_MX_VERIFY:
        return "verify";
    case MTASTS_MX_SKIP:
        return "skip";
    case MTASTS_MX_TESTING_OK:
        return "testing-ok";
    case MTASTS_MX_TESTING_MISMATCH:
        return "testing-mismatch";
    case MTASTS_MX_ANY:
        break;
    }
    return "any";
}

enum mtasts_mx_verdict mtasts_check_mx(const struct mtasts_decision *decision,
                                       const char *mx_host)
{
    int match;
    switch (decision->result) {
    case MTASTS_ENFORCE:
        match = mtasts_policy_mx_allowed(&decision->policy, mx_host);
        return match ? MTASTS_MX_VERIFY : MTASTS_MX_SKIP;
    case MTASTS_TESTING:
        match = mtasts_policy_mx_allowed(&decision->policy, mx_host);
        return match ? MTASTS_MX_TESTING_OK : MTASTS_MX_TESTING_MISMATCH;
    case MTASTS_NO_POLICY:
        break;
    }
    return MTASTS_MX_ANY;
}

/* ---- the worker's part: cache, fetch, decide (touches only lookup) ---- */

static void use_policy(struct mtasts_decision *d,
                       const struct mtasts_policy *policy, const char *id,
                       const char *source)
{
    d->policy = *policy;
    snprintf(d->id, sizeof(d->id), "%s", id);
    d->source = source;
    d->result = policy->mode == MTASTS_MODE_ENFORCE   ? MTASTS_ENFORCE
                : policy->mode == MTASTS_MODE_TESTING ? MTASTS_TESTING
                                                      : MTASTS_NO_POLICY;
}

static void appendf(struct mtasts_decision *d, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void appendf(struct mtasts_decision *d, const char *fmt, ...)
{
    size_t used = strlen(d->why);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->why + used, sizeof(d->why) - used, fmt, ap);
    va_end(ap);
}

static void decide(struct mtasts_lookup *lookup)
{
    const struct mtasts_settings *s = &lookup->client->settings;
    struct mtasts_decision *d = &lookup->decision;
    struct mtasts_cache_entry *cached = xmalloc(sizeof(*cached));
    struct buf err = BUF_INIT, body = BUF_INIT;
    time_t now = time(NULL);

    int have_cache = mtasts_cache_read(s->data_directory, lookup->domain,
                                       cached, &err);
    if (have_cache < 0)
        appendf(d, "cache: %s; ", buf_cstr(&err));
    int fresh = have_cache == 1 && mtasts_cache_fresh(cached, now);

    if (!lookup->txt_valid) {
        appendf(d, "no valid _mta-sts TXT record (%s)", lookup->txt_why);
        if (fresh) {
            use_policy(d, &cached->policy, cached->id, "cache");
            appendf(d, "; using cached policy id %s", cached->id);
        }
        goto done;
    }
    if (fresh && strcmp(cached->id, lookup->txt_id) == 0) {
        use_policy(d, &cached->policy, cached->id, "cache");
        appendf(d, "cached policy id %s is current", cached->id);
        goto done;
    }
    struct mtasts_fetch_settings fs = {
        .ca_file = s->ca_file,
        .connect_to = &s->connect_to,
        .connect_timeout_s = s->connect_timeout_s,
        .total_timeout_s = s->fetch_timeout_s,
        .resolve = lookup->addr_looked_up ? &lookup->resolve : NULL,
        .resolve_why = lookup->resolve_why,
    };
    struct mtasts_policy *fetched = xmalloc(sizeof(*fetched));
    int ok = mtasts_fetch(lookup->domain, &fs, &body, &err) == 0 &&
             mtasts_policy_parse(body.data, body.len, fetched, &err) == 0;
    if (ok) {
        use_policy(d, fetched, lookup->txt_id, "fetched");
        appendf(d, "fetched policy id %s", lookup->txt_id);
        struct buf werr = BUF_INIT;
        if (mtasts_cache_write(s->data_directory, lookup->domain,
                               lookup->txt_id, now, body.data, body.len,
                               &werr) != 0)
            log_warn("MTA-STS policy of %s not cached: %s", lookup->domain,
                     buf_cstr(&werr));
        buf_free(&werr);
    } else {
        appendf(d, "policy fetch failed: %s", buf_cstr(&err));
        if (fresh) {
            use_policy(d, &cached->policy, cached->id, "cache");
            appendf(d, "; using cached policy id %s", cached->id);
        }
    }
    free(fetched);
done:
    free(cached);
    buf_free(&err);
    buf_free(&body);
}

static void lookup_work(void *ctx)
{
    struct mtasts_lookup *lookup = ctx;
    if (lookup->client->settings.enabled)
        decide(lookup);
    else
        snprintf(lookup->decision.why, sizeof(lookup->decision.why),
                 "postern_mta_sts_enable = no");
}

/* ---- the loop's part ---- */

static void lookup_unlink_free(struct mtasts_lookup *lookup)
{
    struct mtasts_client *client = lookup->client;
    strlist_free(&lookup->resolve);
    if (lookup->prev)
        lookup->prev->next = lookup->next;
    else
        client->lookups = lookup->next;
    if (lookup->next)
        lookup->next->prev = lookup->prev;
    client->pending--;
    free(lookup);
}

static void lookup_done(void *ctx)
{
    struct mtasts_lookup *lookup = ctx;
    if (!lookup->cancelled)
        lookup->cb(&lookup->decision, lookup->ctx);
    lookup_unlink_free(lookup);
}

/* ---- the policy host's addresses, on the loop ---- */

static void on_addr(struct dns_result *result, void *ctx);

/* Asks for the A and AAAA records of mta-sts.DOMAIN; the fetch waits
 * for both. */
static void addr_start(struct mtasts_lookup *lookup)
{
    char name[DNS_NAME_MAX + 16];
    snprintf(name, sizeof(name), "mta-sts.%s", lookup->domain);
    lookup->addr_looked_up = 1;
    lookup->addr_query[0] = dns_query_start(lookup->client->dns, name,
                                            DNS_TYPE_A, on_addr, lookup);
    lookup->addr_query[1] = dns_query_start(lookup->client->dns, name,
                                            DNS_TYPE_AAAA, on_addr, lookup);
}

static void on_addr(struct dns_result *result, void *ctx)
{
    struct mtasts_lookup *lookup = ctx;
    int slot = result->type == DNS_TYPE_A ? 0 : 1;
    lookup->addr_query[slot] = NULL;
    char text[INET6_ADDRSTRLEN];
    for (size_t i = 0; result->status == DNS_FOUND && i < result->count; i++) {
        const struct dns_record *r = &result->records[i];
        if (inet_ntop(r->type == DNS_TYPE_A ? AF_INET : AF_INET6,
                      r->type == DNS_TYPE_A ? (const void *)r->u.a
                                            : (const void *)r->u.aaaa,
                      text, sizeof(text)))
            strlist_add(&lookup->resolve, text);
    }
    /* The reason kept for "no address": a temporary failure says more
     * than "not found". */
    if (result->status == DNS_TEMPFAIL || lookup->resolve_why[0] == '\0')
        snprintf(lookup->resolve_why, sizeof(lookup->resolve_why),
                 "address lookup failed: %s",
                 result->status == DNS_TEMPFAIL ? result->why
                 : result->nxdomain             ? "Host or domain name not found"
                                                : "no A or AAAA record");
    if (lookup->addr_query[0] || lookup->addr_query[1])
        return;
    bgjob_submit(lookup->client->pool, lookup_work, lookup_done, lookup);
}

/* Cancels the DNS queries still running; 1 when there were some (the
 * lookup has not reached the worker). */
static int queries_cancel(struct mtasts_lookup *lookup)
{
    int any = 0;
    if (lookup->query) {
        dns_query_cancel(lookup->query);
        lookup->query = NULL;
        any = 1;
    }
    for (int i = 0; i < 2; i++)
        if (lookup->addr_query[i]) {
            dns_query_cancel(lookup->addr_query[i]);
            lookup->addr_query[i] = NULL;
            any = 1;
        }
    return any;
}

static void on_txt(struct dns_result *result, void *ctx)
{
    struct mtasts_lookup *lookup = ctx;
    lookup->query = NULL;
    if (result->status == DNS_FOUND) {
        const char **texts = xcalloc(result->count, sizeof(*texts));
        size_t *lens = xcalloc(result->count, sizeof(*lens));
        for (size_t i = 0; i < result->count; i++) {
            texts[i] = result->records[i].u.txt.data;
            lens[i] = result->records[i].u.txt.len;
        }
        lookup->txt_valid = mtasts_txt_select(texts, lens, result->count,
                                              lookup->txt_id);
        if (!lookup->txt_valid)
            snprintf(lookup->txt_why, sizeof(lookup->txt_why),
                     "none or several STSv1 records, or a malformed one");
        free(texts);
        free(lens);
    } else {
        snprintf(lookup->txt_why, sizeof(lookup->txt_why), "%s",
                 result->status == DNS_TEMPFAIL ? result->why : "not found");
    }
    if (lookup->txt_valid)
        addr_start(lookup);
    else
        bgjob_submit(lookup->client->pool, lookup_work, lookup_done, lookup);
}

struct mtasts_client *mtasts_client_new(struct event_loop *loop,
                                        struct dns_client *dns,
                                        const struct mtasts_settings *settings)
{
    mtasts_fetch_global_init();
    struct mtasts_client *client = xcalloc(1, sizeof(*client));
    client->loop = loop;
    client->dns = dns;
    settings_copy(&client->settings, settings);
    client->pool = bgjob_pool_new(loop, MTASTS_WORKERS);
    return client;
}

void mtasts_client_free(struct mtasts_client *client)
{
    if (client == NULL)
        return;
    struct mtasts_lookup *lookup = client->lookups, *next;
    for (; lookup; lookup = next) {
        next = lookup->next;
        if (queries_cancel(lookup)) {
            lookup_unlink_free(lookup);
        } else {
            lookup->cancelled = 1;
        }
    }
    bgjob_pool_free(client->pool); /* reports (and frees) the rest */
    mtasts_settings_free(&client->settings);
    free(client);
}

struct mtasts_lookup *mtasts_lookup_start(struct mtasts_client *client,
                                          const char *domain, mtasts_cb cb,
                                          void *ctx)
{
    struct mtasts_lookup *lookup = xcalloc(1, sizeof(*lookup));
    lookup->client = client;
    size_t len = strlen(domain);
    if (len > 0 && domain[len - 1] == '.')
        len--;
    if (len > DNS_NAME_MAX)
        len = DNS_NAME_MAX;
    for (size_t i = 0; i < len; i++)
        lookup->domain[i] = (char)tolower((unsigned char)domain[i]);
    lookup->cb = cb;
    lookup->ctx = ctx;
    strlist_init(&lookup->resolve);
    lookup->decision.domain = lookup->domain;
    lookup->decision.result = MTASTS_NO_POLICY;
    lookup->decision.source = "none";
    lookup->next = client->lookups;
    if (client->lookups)
        client->lookups->prev = lookup;
    client->lookups = lookup;
    client->pending++;
    if (!client->settings.enabled || client->dns == NULL) {
        bgjob_submit(client->pool, lookup_work, lookup_done, lookup);
        return lookup;
    }
    char name[DNS_NAME_MAX + 16];
    snprintf(name, sizeof(name), "_mta-sts.%s", lookup->domain);
    lookup->query = dns_query_start(client->dns, name, DNS_TYPE_TXT, on_txt,
                                    lookup);
    return lookup;
}

void mtasts_lookup_cancel(struct mtasts_lookup *lookup)
{
    if (queries_cancel(lookup)) {
        lookup_unlink_free(lookup);
    } else {
        lookup->cancelled = 1;
    }
}

size_t mtasts_client_pending(const struct mtasts_client *client)
{
    return client->pending;
}
