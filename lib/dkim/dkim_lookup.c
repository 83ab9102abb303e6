/* dkim_lookup.c: DKIM key lookups on lib/dns (see dkim_lookup.h). */
#include "dkim/dkim_lookup.h"

#include <stdlib.h>
#include <string.h>

#include "base/mem.h"

struct name_query {
    struct dkim_lookup *owner;
    const char *name;
    struct dns_query *query; /* NULL once answered */
};

struct dkim_lookup {
    struct dkim_verify *verify;
    dkim_lookup_cb cb;
    void *ctx;
    struct name_query queries[DKIM_VERIFY_MAX];
    size_t count, pending;
};

/* Gives one answer to every signature whose key has this name. */
static void give(struct dkim_verify *v, const char *name,
                 const struct dns_result *res)
{
    const char *txt[DNS_RECORDS_MAX];
    size_t len[DNS_RECORDS_MAX], n = 0;
    for (size_t i = 0; i < res->count && n < DNS_RECORDS_MAX; i++)
        if (res->records[i].type == DNS_TYPE_TXT) {
            txt[n] = res->records[i].u.txt.data;
            len[n++] = res->records[i].u.txt.len;
        }
    for (size_t i = 0; i < dkim_verify_count(v); i++) {
        const char *want = dkim_verify_key_name(v, i);
        if (want != NULL && strcmp(want, name) == 0)
            dkim_verify_key_answer(v, i, res->status, txt, len, n);
    }
}

static void on_answer(struct dns_result *res, void *ctx)
{
    struct name_query *q = ctx;
    struct dkim_lookup *l = q->owner;
    q->query = NULL;
    give(l->verify, q->name, res);
    if (--l->pending == 0) {
        l->cb(l->ctx);
        free(l);
    }
}

/* The distinct key names v needs; returns how many. */
static size_t distinct_names(struct dkim_verify *v, const char **names)
{
    size_t n = 0;
    for (size_t i = 0; i < dkim_verify_count(v); i++) {
        const char *name = dkim_verify_key_name(v, i);
        if (name == NULL)
            continue;
        size_t k = 0;
        while (k < n && strcmp(names[k], name) != 0)
            k++;
        if (k == n)
            names[n++] = name;
    }
    return n;
}

struct dkim_lookup *dkim_lookup_start(struct dns_client *client,
                                      struct dkim_verify *v, dkim_lookup_cb cb,
                                      void *ctx)
{
    const char *names[DKIM_VERIFY_MAX];
    size_t n = distinct_names(v, names);
    if (n == 0)
        return NULL;
    struct dkim_lookup *l = xcalloc(1, sizeof(*l));
    l->verify = v;
    l->cb = cb;
    l->ctx = ctx;
    l->count = l->pending = n;
    for (size_t i = 0; i < n; i++) {
        l->queries[i].owner = l;
        l->queries[i].name = names[i];
    }
    /* dns_query_start never calls back before it returns. */
    for (size_t i = 0; i < n; i++)
        l->queries[i].query = dns_query_start(client, names[i], DNS_TYPE_TXT,
                                              on_answer, &l->queries[i]);
    return l;
}

void dkim_lookup_cancel(struct dkim_lookup *lookup)
{
    if (lookup == NULL)
        return;
    for (size_t i = 0; i < lookup->count; i++)
        if (lookup->queries[i].query != NULL)
            dns_query_cancel(lookup->queries[i].query);
    free(lookup);
}

void dkim_lookup_sync(struct dns_client *client, struct dkim_verify *v)
{
    const char *names[DKIM_VERIFY_MAX];
    size_t n = distinct_names(v, names);
    for (size_t i = 0; i < n; i++) {
        struct dns_result res;
        dns_result_init(&res, DNS_TYPE_TXT);
        dns_lookup_sync(client, names[i], DNS_TYPE_TXT, &res);
        give(v, names[i], &res);
        dns_result_free(&res);
    }
}
