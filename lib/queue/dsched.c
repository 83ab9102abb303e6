/* dsched.c: per-transport and per-destination concurrency scheduling
 * (see sched.h). */
#include "queue/dsched.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
    /* waiting list: destinations with queued jobs held back by a delay */
    struct dsched_dest *wait_next;
    int in_wait;
    /* flow control (dsched.h) */
    double window, success, failure, fail_cohorts;
    uint64_t next_start;   /* no job starts before this (ms) */
    uint64_t backoff_ms;   /* rate-limit back-off in force; 0: none */
    uint64_t last_backoff; /* the last news under back-off */
    char *dead_reason;     /* non-NULL: dead until dead_until */
    uint64_t dead_until;
};

struct dsched_transport {
    char *name;
    int limit, dest_limit;
    struct dsched_flow flow;
    int running;
    int suspended;
    struct dsched_dest *ready; /* the ring's current head, or NULL */
    struct dsched_dest **buckets;
    size_t bucket_count, dest_count;
};

struct dsched {
    dsched_limits_fn limits;
    void *ctx;
    dsched_flow_fn flow;
    void *flow_ctx;
    uint64_t (*now_ms)(void *ctx);
    void *clock_ctx;
    struct dsched_dest *waiting; /* list through wait_next */
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

static uint64_t monotonic_ms(void *ctx)
{
    (void)ctx;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t now_of(const struct dsched *s)
{
    return s->now_ms(s->clock_ctx);
}

void dsched_set_flow(struct dsched *s, dsched_flow_fn fn, void *ctx)
{
    s->flow = fn;
    s->flow_ctx = ctx;
}

void dsched_set_clock(struct dsched *s, uint64_t (*now_ms)(void *ctx),
                      void *ctx)
{
    s->now_ms = now_ms ? now_ms : monotonic_ms;
    s->clock_ctx = ctx;
}

struct dsched *dsched_new(dsched_limits_fn limits, void *ctx)
{
    struct dsched *s = xcalloc(1, sizeof(*s));
    s->limits = limits;
    s->ctx = ctx;
    s->now_ms = monotonic_ms;
    return s;
}

static void dest_free(struct dsched_dest *d)
{
    free(d->dead_reason);
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
    t->flow.initial = t->dest_limit;
    t->flow.positive = t->flow.negative = 0;
    if (s->flow)
        s->flow(s->flow_ctx, name, &t->flow);
    if (t->flow.initial < 1)
        t->flow.initial = 1;
    if (t->flow.initial > t->dest_limit)
        t->flow.initial = t->dest_limit;
    if (t->flow.backoff_max_ms < t->flow.backoff_initial_ms)
        t->flow.backoff_max_ms = t->flow.backoff_initial_ms;
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
    d->window = t->flow.initial;
    d->hash_next = t->buckets[i];
    t->buckets[i] = d;
    t->dest_count++;
    return d;
}

/* Drops a destination that has nothing queued and nothing running, so
 * one-recipient destinations do not pile up. */
static void dest_release_if_idle(struct dsched_dest *d)
{
    if (d->queued || d->running || d->in_ready || d->in_wait ||
        d->backoff_ms || d->dead_reason)
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

static void wait_add(struct dsched *s, struct dsched_dest *d)
{
    if (d->in_wait)
        return;
    d->in_wait = 1;
    d->wait_next = s->waiting;
    s->waiting = d;
}

static void wait_remove(struct dsched *s, struct dsched_dest *d)
{
    if (!d->in_wait)
        return;
    struct dsched_dest **pp = &s->waiting;
    while (*pp && *pp != d)
        pp = &(*pp)->wait_next;
    if (*pp)
        *pp = d->wait_next;
    d->in_wait = 0;
    d->wait_next = NULL;
}

/* The delay between job starts now in force: the larger of the
 * configured rate delay and the back-off. */
static uint64_t dest_delay(const struct dsched_dest *d)
{
    uint64_t delay = d->transport->flow.rate_delay_ms;
    return d->backoff_ms > delay ? d->backoff_ms : delay;
}

/* How many jobs the destination may run at once now. */
static int dest_limit_now(const struct dsched_dest *d)
{
    const struct dsched_transport *t = d->transport;
    if (dest_delay(d))
        return 1;
    int window = (int)d->window;
    if (window < 1)
        window = 1;
    return window < t->dest_limit ? window : t->dest_limit;
}

/* Puts a destination on the ready ring, the waiting list or neither,
 * after anything that changed its queue, its running count or its flow
 * state. */
static void dest_update(struct dsched *s, struct dsched_dest *d, uint64_t now)
{
    struct dsched_transport *t = d->transport;
    if (d->dead_reason && d->dead_until <= now) {
        free(d->dead_reason);
        d->dead_reason = NULL;
    }
    if (!d->queued || d->running >= dest_limit_now(d) || d->dead_reason) {
        ready_remove(t, d);
        wait_remove(s, d);
        return;
    }
    if (d->next_start > now) {
        ready_remove(t, d);
        wait_add(s, d);
        return;
    }
    wait_remove(s, d);
    ready_add(t, d);
}

/* Moves waiting destinations whose time has come to their ready rings. */
static void wake_waiting(struct dsched *s, uint64_t now)
{
    struct dsched_dest *d = s->waiting, *next;
    for (; d; d = next) {
        next = d->wait_next;
        if (d->next_start <= now)
            dest_update(s, d, now);
    }
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
    dest_update(s, d, now_of(s));
}

struct dsched_job *dsched_next(struct dsched *s)
{
    uint64_t now = now_of(s);
    if (s->waiting)
        wake_waiting(s, now);
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
        uint64_t delay = dest_delay(d);
        if (delay)
            d->next_start = now + delay;
        struct dsched_dest *after = d->ready_next;
        dest_update(s, d, now);
        if (d->in_ready)
            t->ready = after; /* next destination's turn */
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
    dest_update(s, d, now_of(s));
    dest_release_if_idle(d);
}

static double feedback_value(double value, double window)
{
    return value < 0 ? -value / (window < 1 ? 1 : window) : value;
}

int dsched_feedback(struct dsched *s, struct dsched_job *job,
                    enum dsched_outcome outcome)
{
    struct dsched_dest *d = job->dest;
    if (!d)
        return 0;
    const struct dsched_flow *f = &d->transport->flow;
    uint64_t now = now_of(s);
    int dead = 0;
    /* a back-off without news for long is forgotten */
    if (d->backoff_ms && now > d->last_backoff + 4 * f->backoff_max_ms)
        d->backoff_ms = 0;
    switch (outcome) {
    case DSCHED_OK:
        d->failure = d->fail_cohorts = 0;
        if (d->backoff_ms) {
            d->last_backoff = now;
            d->backoff_ms -= d->backoff_ms / 8;
            if (d->backoff_ms < 1000) {
                d->backoff_ms = 0;
                d->window = 1;
                d->success = 0;
            }
        } else if (d->window < d->transport->dest_limit) {
            d->success += feedback_value(f->positive, d->window);
            if (d->success >= 1) {
                d->window += 1;
                d->success = 0;
            }
        }
        break;
    case DSCHED_FAILED:
        d->success = 0;
        if (f->failed_cohort_limit > 0) {
            d->fail_cohorts += 1.0 / (d->window < 1 ? 1 : d->window);
            if (d->fail_cohorts >= f->failed_cohort_limit - 1e-9)
                dead = 1;
        }
        d->failure += feedback_value(f->negative, d->window);
        if (d->failure >= 1 - 1e-9) {
            d->window = d->window - 1 < 1 ? 1 : d->window - 1;
            d->failure = 0;
        }
        break;
    case DSCHED_THROTTLED:
        d->success = d->failure = 0;
        d->window = 1;
        if (f->backoff_initial_ms) {
            uint64_t next = d->backoff_ms ? d->backoff_ms * 2
                                          : f->backoff_initial_ms;
            d->backoff_ms = next > f->backoff_max_ms ? f->backoff_max_ms : next;
            d->last_backoff = now;
            if (d->next_start < now + d->backoff_ms)
                d->next_start = now + d->backoff_ms;
        }
        break;
    }
    if (dead) {
        d->fail_cohorts = d->failure = 0;
        d->window = d->transport->flow.initial;
    }
    dest_update(s, d, now);
    return dead;
}

static struct dsched_dest *dest_find(const struct dsched *s,
                                     const char *transport, const char *dest)
{
    for (size_t i = 0; i < s->transport_count; i++) {
        struct dsched_transport *t = s->transports[i];
        if (strcmp(t->name, transport) != 0)
            continue;
        size_t b = hash_name(dest) % t->bucket_count;
        for (struct dsched_dest *d = t->buckets[b]; d; d = d->hash_next)
            if (strcmp(d->name, dest) == 0)
                return d;
        return NULL;
    }
    return NULL;
}

struct dsched_job *dsched_take_dest(struct dsched *s, const char *transport,
                                    const char *dest)
{
    struct dsched_dest *d = dest_find(s, transport, dest);
    struct dsched_job *list = NULL;
    if (!d)
        return NULL;
    while (d->head) {
        struct dsched_job *job = d->head;
        d->head = job->next;
        job->next = list;
        list = job;
        d->queued--;
        s->queued--;
    }
    d->tail = NULL;
    ready_remove(d->transport, d);
    wait_remove(s, d);
    dest_release_if_idle(d);
    return list;
}

void dsched_set_dead(struct dsched *s, const char *transport,
                     const char *dest, uint64_t until_ms, const char *reason)
{
    struct dsched_dest *d = dest_get(transport_get(s, transport, 1), dest);
    free(d->dead_reason);
    d->dead_reason = xstrdup(reason);
    d->dead_until = until_ms;
    dest_update(s, d, now_of(s));
}

const char *dsched_dead(struct dsched *s, const char *transport,
                        const char *dest)
{
    struct dsched_dest *d = dest_find(s, transport, dest);
    if (!d || !d->dead_reason)
        return NULL;
    if (d->dead_until > now_of(s))
        return d->dead_reason;
    free(d->dead_reason);
    d->dead_reason = NULL;
    dest_update(s, d, now_of(s));
    dest_release_if_idle(d);
    return NULL;
}

void dsched_forget_dead(struct dsched *s)
{
    uint64_t now = now_of(s);
    for (size_t i = 0; i < s->transport_count; i++) {
        struct dsched_transport *t = s->transports[i];
        for (size_t b = 0; b < t->bucket_count; b++) {
            struct dsched_dest *d = t->buckets[b], *next;
            for (; d; d = next) {
                next = d->hash_next;
                if (!d->dead_reason)
                    continue;
                free(d->dead_reason);
                d->dead_reason = NULL;
                dest_update(s, d, now);
                dest_release_if_idle(d);
            }
        }
    }
}

uint64_t dsched_now_ms(const struct dsched *s)
{
    return now_of(s);
}

uint64_t dsched_wakeup_ms(struct dsched *s)
{
    uint64_t now = now_of(s), best = UINT64_MAX;
    for (struct dsched_dest *d = s->waiting; d; d = d->wait_next) {
        uint64_t left = d->next_start > now ? d->next_start - now : 0;
        if (left < best)
            best = left;
    }
    return best;
}

int dsched_dest_state(struct dsched *s, const char *transport,
                      const char *dest, struct dsched_dest_state *out)
{
    const struct dsched_dest *d = dest_find(s, transport, dest);
    if (!d)
        return -1;
    out->window = d->window;
    out->delay_ms = dest_delay(d);
    out->running = d->running;
    out->queued = d->queued;
    return 0;
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
            wait_remove(s, d);
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
