/* smtp_cache.c: connections kept open after a delivery, for the next
 * request to the same next hop in this process (Postfix's connection
 * cache, without its separate scache process: a delivery agent here
 * lives across many requests, so the process itself can keep them).
 *
 * A kept connection waits at most smtp_connection_cache_time_limit
 * (2s) for its next request; agent_serve's idle hook closes it with
 * QUIT after that. It is not reused past smtp_connection_reuse_count_limit
 * transactions or smtp_connection_reuse_time_limit of age. The cache is
 * small (SMTP_CACHE_MAX): one process serves one request at a time, so
 * more than a few next hops rarely alternate on it; the oldest goes
 * first. Whether a kept connection still works is checked when it is
 * taken (RSET, smtp_deliver.c).
 *
 * A kept connection keeps its TLS layer and state; it serves only a
 * request whose next hop and TLS demands (level, attributes: the hop's
 * signature) are those it was opened under, so a connection made under
 * a weaker policy never carries mail that asks for a stronger one. */
#include "smtp.h"

#include <string.h>

#include "base/log.h"

#define SMTP_CACHE_MAX 4

static struct smtp_conn *cached[SMTP_CACHE_MAX];
static size_t cached_count;

static void forget(size_t i)
{
    memmove(&cached[i], &cached[i + 1],
            (cached_count - i - 1) * sizeof(cached[0]));
    cached_count--;
}

/* 1 when c may carry another transaction. */
static int reusable(const struct smtp_conn *c, uint64_t now)
{
    if (!smtpc_session_usable(c->session))
        return 0;
    if (smtp_cfg.reuse_count_limit > 0 &&
        c->transactions >= (unsigned long)smtp_cfg.reuse_count_limit)
        return 0;
    if (smtp_cfg.reuse_time_limit_ms > 0 &&
        now - c->opened_ms >= smtp_cfg.reuse_time_limit_ms)
        return 0;
    return 1;
}

struct smtp_conn *smtp_cache_take(const char *key, const char *tls_signature)
{
    uint64_t now = smtp_now_ms();
    smtp_cache_expire();
    for (size_t i = 0; i < cached_count; i++) {
        if (strcmp(cached[i]->key, key) != 0 ||
            strcmp(cached[i]->tls_signature, tls_signature) != 0)
            continue;
        struct smtp_conn *c = cached[i];
        forget(i);
        if (reusable(c, now))
            return c;
        smtp_conn_close(c, 1);
        return NULL;
    }
    return NULL;
}

void smtp_cache_put(struct smtp_conn *c)
{
    uint64_t now = smtp_now_ms();
    if (!smtp_cfg.cache_on_demand || !reusable(c, now)) {
        smtp_conn_close(c, 1);
        return;
    }
    if (cached_count == SMTP_CACHE_MAX) {
        struct smtp_conn *oldest = cached[0];
        forget(0);
        smtp_conn_close(oldest, 1);
    }
    c->idle_since_ms = now;
    cached[cached_count++] = c;
}

long smtp_cache_due_ms(void)
{
    if (cached_count == 0)
        return -1;
    uint64_t now = smtp_now_ms();
    /* Entries are in the order they were kept: the first expires first. */
    uint64_t due = cached[0]->idle_since_ms + smtp_cfg.cache_time_limit_ms;
    return due > now ? (long)(due - now) : 0;
}

void smtp_cache_expire(void)
{
    uint64_t now = smtp_now_ms();
    while (cached_count > 0 &&
           now - cached[0]->idle_since_ms >= smtp_cfg.cache_time_limit_ms) {
        struct smtp_conn *c = cached[0];
        forget(0);
        log_debug("closing idle connection to %s", c->relay.data);
        smtp_conn_close(c, 1);
    }
}

void smtp_cache_close_all(void)
{
    while (cached_count > 0) {
        struct smtp_conn *c = cached[0];
        forget(0);
        smtp_conn_close(c, 1);
    }
}
