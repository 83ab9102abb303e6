/* auth_penalty.c: failure counters with a lock-out window; see
 * auth_penalty.h. An open-addressing hash table would be faster; a
 * chained one keeps deletion simple and the sizes here are small. */
#include "auth/auth_penalty.h"

#include <stdlib.h>
#include <string.h>

#include "base/mem.h"

#define PENALTY_BUCKETS 4096

struct penalty_entry {
    struct penalty_entry *next;
    uint64_t window_start_ms;
    unsigned failures;
    char key[]; /* NUL-terminated */
};

struct auth_penalty {
    unsigned threshold;
    uint64_t window_ms;
    size_t count;
    struct penalty_entry *buckets[PENALTY_BUCKETS];
};

static size_t bucket_of(const char *key)
{
    uint64_t hash = 1469598103934665603ULL; /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)key; *p; p++)
        hash = (hash ^ *p) * 1099511628211ULL;
    return (size_t)(hash % PENALTY_BUCKETS);
}

struct auth_penalty *auth_penalty_new(unsigned threshold, uint64_t window_ms)
{
    struct auth_penalty *p = xcalloc(1, sizeof(*p));
    p->threshold = threshold;
    p->window_ms = window_ms;
    return p;
}

static void drop(struct auth_penalty *p, struct penalty_entry **link)
{
    struct penalty_entry *e = *link;
    *link = e->next;
    free(e);
    p->count--;
}

void auth_penalty_free(struct auth_penalty *p)
{
    if (p == NULL)
        return;
    for (size_t b = 0; b < PENALTY_BUCKETS; b++)
        while (p->buckets[b])
            drop(p, &p->buckets[b]);
    free(p);
}

static int expired(const struct auth_penalty *p, const struct penalty_entry *e,
                   uint64_t now_ms)
{
    return now_ms - e->window_start_ms >= p->window_ms;
}

static struct penalty_entry **find(struct auth_penalty *p, const char *key)
{
    struct penalty_entry **link = &p->buckets[bucket_of(key)];
    while (*link && strcmp((*link)->key, key) != 0)
        link = &(*link)->next;
    return link;
}

/* Makes room when the table is full: expired windows first, else the
 * oldest window. */
static void make_room(struct auth_penalty *p, uint64_t now_ms)
{
    struct penalty_entry **oldest = NULL;
    for (size_t b = 0; b < PENALTY_BUCKETS; b++) {
        struct penalty_entry **link = &p->buckets[b];
        while (*link) {
            if (expired(p, *link, now_ms)) {
                drop(p, link);
                continue;
            }
            if (oldest == NULL ||
                (*link)->window_start_ms < (*oldest)->window_start_ms)
                oldest = link;
            link = &(*link)->next;
        }
    }
    if (p->count >= AUTH_PENALTY_MAX_KEYS && oldest)
        drop(p, oldest);
}

int auth_penalty_locked(struct auth_penalty *p, const char *key,
                        uint64_t now_ms)
{
    if (p->threshold == 0)
        return 0;
    struct penalty_entry *e = *find(p, key);
    return e && !expired(p, e, now_ms) && e->failures >= p->threshold;
}

unsigned auth_penalty_fail(struct auth_penalty *p, const char *key,
                           uint64_t now_ms)
{
    struct penalty_entry **link = find(p, key);
    struct penalty_entry *e = *link;
    if (e && expired(p, e, now_ms)) {
        e->window_start_ms = now_ms;
        e->failures = 0;
    }
    if (e == NULL) {
        if (p->count >= AUTH_PENALTY_MAX_KEYS) {
            make_room(p, now_ms);
            link = find(p, key);
        }
        size_t len = strlen(key);
        e = xmalloc(sizeof(*e) + len + 1);
        memcpy(e->key, key, len + 1);
        e->window_start_ms = now_ms;
        e->failures = 0;
        e->next = NULL;
        *link = e;
        p->count++;
    }
    if (e->failures < UINT32_MAX)
        e->failures++;
    return e->failures;
}

void auth_penalty_clear(struct auth_penalty *p, const char *key)
{
    struct penalty_entry **link = find(p, key);
    if (*link)
        drop(p, link);
}

size_t auth_penalty_count(const struct auth_penalty *p)
{
    return p->count;
}
