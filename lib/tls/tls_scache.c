/* tls_scache.c: the client's in-process TLS session cache
 * (tls_scache.h). A plain array searched from the start: a lookup costs
 * far less than the handshake it saves, even full. */
#include "tls/tls_scache.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"

struct scache_entry {
    char *key;
    SSL_SESSION *session;
    int trust;
    time_t expires;
    uint64_t used; /* a counter value: larger is more recent */
};

struct tls_scache {
    struct scache_entry *entries;
    size_t count, capacity;
    long timeout;
    uint64_t clock;
};

struct tls_scache *tls_scache_new(size_t capacity, long timeout)
{
    struct tls_scache *cache = xcalloc(1, sizeof(*cache));
    cache->capacity = capacity ? capacity : 1;
    cache->entries = xcalloc(cache->capacity, sizeof(*cache->entries));
    cache->timeout = timeout;
    return cache;
}

static void entry_clear(struct scache_entry *e)
{
    free(e->key);
    SSL_SESSION_free(e->session);
    memset(e, 0, sizeof(*e));
}

/* Removes entry i, moving the last one into its place. */
static void entry_remove(struct tls_scache *cache, size_t i)
{
    entry_clear(&cache->entries[i]);
    cache->count--;
    if (i != cache->count) {
        cache->entries[i] = cache->entries[cache->count];
        memset(&cache->entries[cache->count], 0, sizeof(cache->entries[0]));
    }
}

void tls_scache_free(struct tls_scache *cache)
{
    if (cache == NULL)
        return;
    while (cache->count)
        entry_remove(cache, cache->count - 1);
    free(cache->entries);
    free(cache);
}

static int entry_live(const struct scache_entry *e, time_t now)
{
    if (now >= e->expires)
        return 0;
    /* The server's own limit on the session (its ticket lifetime). */
    time_t made = (time_t)SSL_SESSION_get_time(e->session);
    long lifetime = SSL_SESSION_get_timeout(e->session);
    return lifetime <= 0 || now < made + lifetime;
}

static long find(const struct tls_scache *cache, const char *key)
{
    for (size_t i = 0; i < cache->count; i++)
        if (strcmp(cache->entries[i].key, key) == 0)
            return (long)i;
    return -1;
}

void tls_scache_put(struct tls_scache *cache, const char *key,
                    SSL_SESSION *session, int trust, time_t now)
{
    if (cache->timeout <= 0) {
        SSL_SESSION_free(session);
        return;
    }
    long at = find(cache, key);
    if (at >= 0)
        entry_remove(cache, (size_t)at);
    if (cache->count == cache->capacity) {
        size_t victim = 0;
        for (size_t i = 0; i < cache->count; i++) {
            if (!entry_live(&cache->entries[i], now)) {
                victim = i;
                break;
            }
            if (cache->entries[i].used < cache->entries[victim].used)
                victim = i;
        }
        entry_remove(cache, victim);
    }
    struct scache_entry *e = &cache->entries[cache->count++];
    e->key = xstrdup(key);
    e->session = session;
    e->trust = trust;
    e->expires = now + cache->timeout;
    e->used = ++cache->clock;
}

SSL_SESSION *tls_scache_get(struct tls_scache *cache, const char *key,
                            int *trust, time_t now)
{
    long at = find(cache, key);
    if (at < 0)
        return NULL;
    struct scache_entry *e = &cache->entries[at];
    if (!entry_live(e, now) || !SSL_SESSION_is_resumable(e->session)) {
        entry_remove(cache, (size_t)at);
        return NULL;
    }
    e->used = ++cache->clock;
    *trust = e->trust;
    return e->session;
}

size_t tls_scache_count(const struct tls_scache *cache)
{
    return cache->count;
}
