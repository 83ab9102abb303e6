/* dsched.c: per-transport and per-destination concurrency scheduling
 * (see sched.h). */
#include "queue/dsched.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"

struct dsched_transport;

struct dsched_dest {
    char *name;
    struct dsched_transport *transport;
    int running;
    size_t queued;
    struct dsched_job *head, *tail;
    struct dsched_dest *hash_next;
    /* ready ring: destinations with queued jobs below their limit */
    struct dsched_dest *ready_next, *ready_prev;
    int in_ready;
};

struct dsched_transport {
    char *name;
    int limit, dest_limit;
    int running;
    int suspended;
    struct dsched_dest *ready; /* the ring's current head, or NULL */
    struct dsched_dest **buckets;
    size_t bucket_count, dest_count;
};

struct dsched {
    dsched_limits_fn limits;
    void *ctx;
    struct dsched_transport **transports;
    size_t transport_count;
    size_t cursor; /* round robin over transports */
    size_t queued;
};

static uint64_t hash_name(const char *name)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
        h ^= *p;
        h *= 1099511628211ULL;
    }
    return h;
}

struct dsched *dsched_new(dsched_limits_fn limits, void *ctx)
{
    struct dsched *s = xcalloc(1, sizeof(*s));
    s->limits = limits;
    s->ctx = ctx;
    return s;
}

static void dest_free(struct dsched_dest *d)
{
    free(d->name);
    free(d);
}

void dsched_free(struct dsched *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->transport_count; i++) {
        struct dsched_transport *t = s->transports[i];
        for (size_t b = 0; b < t->bucket_count; b++) {
            struct dsched_dest *d = t->buckets[b], *next;
            for (; d; d = next) {
                next = d->hash_next;
                dest_free(d);
            }
        }
        free(t->buckets);
        free(t->name);
        free(t);
    }
    free(s->transports);
    free(s);
}

static struct dsched_transport *transport_get(struct dsched *s,
                                              const char *name, int create)
{
    for (size_t i = 0; i < s->transport_count; i++)
        if (strcmp(s->transports[i]->name, name) == 0)
            return s->transports[i];
    if (!create)
        return NULL;
    struct dsched_transport *t = xcalloc(1, sizeof(*t));
    t->name = xstrdup(name);
    t->limit = t->dest_limit = 1;
    if (s->limits)
        s->limits(s->ctx, name, &t->limit, &t->dest_limit);
    if (t->limit < 1)
        t->limit = 1;
    if (t->dest_limit < 1)
        t->dest_limit = 1;
    t->bucket_count = 64;
    t->buckets = xcalloc(t->bucket_count, sizeof(*t->buckets));
    s->transports = xreallocarray(s->transports, s->transport_count + 1,
                                  sizeof(*s->transports));
    s->transports[s->transport_count++] = t;
    return t;
}

static void rehash(struct dsched_transport *t)
{
    size_t count = t->bucket_count * 4;
    struct dsched_dest **buckets = xcalloc(count, sizeof(*buckets));
    for (size_t b = 0; b < t->bucket_count; b++) {
        struct dsched_dest *d = t->buckets[b], *next;
        for (; d; d = next) {
            next = d->hash_next;
            size_t i = hash_name(d->name) % count;
            d->hash_next = buckets[i];
            buckets[i] = d;
        }
    }
    free(t->buckets);
    t->buckets = buckets;
    t->bucket_count = count;
}

static struct dsched_dest *dest_get(struct dsched_transport *t,
                                    const char *name)
{
    size_t i = hash_name(name) % t->bucket_count;
    for (struct dsched_dest *d = t->buckets[i]; d; d = d->hash_next)
        if (strcmp(d->name, name) == 0)
            return d;
    if (t->dest_count >= t->bucket_count * 2) {
        rehash(t);
        i = hash_name(name) % t->bucket_count;
    }
    struct dsched_dest *d = xcalloc(1, sizeof(*d));
    d->name = xstrdup(name);
    d->transport = t;
    d->hash_next = t->buckets[i];
    t->buckets[i] = d;
    t->dest_count++;
    return d;
}

/* Drops a destination that has nothing queued and nothing running, so
 * one-recipient destinations do not pile up. */
static void dest_release_if_idle(struct dsched_dest *d)
{
    if (d->queued || d->running || d->in_ready)
        return;
    struct dsched_transport *t = d->transport;
    size_t i = hash_name(d->name) % t->bucket_count;
    struct dsched_dest **pp = &t->buckets[i];
    while (*pp && *pp != d)
        pp = &(*pp)->hash_next;
    if (*pp)
        *pp = d->hash_next;
    t->dest_count--;
    dest_free(d);
}

static void ready_add(struct dsched_transport *t, struct dsched_dest *d)
{
    if (d->in_ready)
        return;
    d->in_ready = 1;
    if (!t->ready) {
        d->ready_next = d->ready_prev = d;
        t->ready = d;
        return;
    }
    /* insert before the head: the tail of the round */
    struct dsched_dest *head = t->ready;
    d->ready_next = head;
    d->ready_prev = head->ready_prev;
    head->ready_prev->ready_next = d;
    head->ready_prev = d;
}

static void ready_remove(struct dsched_transport *t, struct dsched_dest *d)
{
    if (!d->in_ready)
        return;
    d->in_ready = 0;
    if (d->ready_next == d) {
        t->ready = NULL;
    } else {
        d->ready_prev->ready_next = d->ready_next;
        d->ready_next->ready_prev = d->ready_prev;
        if (t->ready == d)
            t->ready = d->ready_next;
    }
    d->ready_next = d->ready_prev = NULL;
}

void dsched_enqueue(struct dsched *s, const char *transport, const char *dest,
                    struct dsched_job *job)
{
    struct dsched_transport *t = transport_get(s, transport, 1);
    struct dsched_dest *d = dest_get(t, dest);
    job->next = NULL;
    job->dest = d;
    if (d->tail)
        d->tail->next = job;
    else
        d->head = job;
    d->tail = job;
    d->queued++;
    s->queued++;
    if (d->running < t->dest_limit)
        ready_add(t, d);
}

struct dsched_job *dsched_next(struct dsched *s)
{
    for (size_t k = 0; k < s->transport_count; k++) {
        size_t index = (s->cursor + k) % s->transport_count;
        struct dsched_transport *t = s->transports[index];
        if (t->suspended || t->running >= t->limit || !t->ready)
            continue;
        struct dsched_dest *d = t->ready;
        struct dsched_job *job = d->head;
        d->head = job->next;
        if (!d->head)
            d->tail = NULL;
        job->next = NULL;
        d->queued--;
        s->queued--;
        d->running++;
        t->running++;
        if (d->queued == 0 || d->running >= t->dest_limit)
            ready_remove(t, d);
        else
            t->ready = d->ready_next; /* next destination's turn */
        s->cursor = (index + 1) % s->transport_count;
        return job;
    }
    return NULL;
}

void dsched_done(struct dsched *s, struct dsched_job *job)
{
    (void)s;
    struct dsched_dest *d = job->dest;
    struct dsched_transport *t = d->transport;
    job->dest = NULL;
    d->running--;
    t->running--;
    if (d->queued && d->running < t->dest_limit)
        ready_add(t, d);
    dest_release_if_idle(d);
}

const char *dsched_job_transport(const struct dsched_job *job)
{
    return job->dest ? job->dest->transport->name : NULL;
}

const char *dsched_job_dest(const struct dsched_job *job)
{
    return job->dest ? job->dest->name : NULL;
}

void dsched_suspend(struct dsched *s, const char *transport, int suspended)
{
    transport_get(s, transport, 1)->suspended = suspended;
}

struct dsched_job *dsched_take_all(struct dsched *s, const char *transport)
{
    struct dsched_transport *t = transport_get(s, transport, 0);
    struct dsched_job *list = NULL;
    if (!t)
        return NULL;
    for (size_t b = 0; b < t->bucket_count; b++) {
        struct dsched_dest *d = t->buckets[b], *next;
        for (; d; d = next) {
            next = d->hash_next;
            while (d->head) {
                struct dsched_job *job = d->head;
                d->head = job->next;
                job->next = list;
                list = job;
                d->queued--;
                s->queued--;
            }
            d->tail = NULL;
            ready_remove(t, d);
            dest_release_if_idle(d);
        }
    }
    return list;
}

size_t dsched_queued(const struct dsched *s)
{
    return s->queued;
}

int dsched_running(const struct dsched *s, const char *transport,
                   const char *dest)
{
    for (size_t i = 0; i < s->transport_count; i++) {
        struct dsched_transport *t = s->transports[i];
        if (strcmp(t->name, transport) != 0)
            continue;
        if (!dest)
            return t->running;
        size_t b = hash_name(dest) % t->bucket_count;
        for (struct dsched_dest *d = t->buckets[b]; d; d = d->hash_next)
            if (strcmp(d->name, dest) == 0)
                return d->running;
        return 0;
    }
    return 0;
}
