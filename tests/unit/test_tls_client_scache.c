/* test_tls_client_scache.c: the client's session cache
 * (lib/tls/tls_scache): keys, the trust kept with a session, the
 * timeout, the session's own lifetime, the bound and which entry goes
 * when it is reached, and timeout 0. */
#include "unit.h"

#include <openssl/ssl.h>
#include <stdio.h>

#include "tls/tls_scache.h"

/* A session OpenSSL would offer: it has an id. */
static SSL_SESSION *session_new(long lifetime, time_t made)
{
    SSL_SESSION *s = SSL_SESSION_new();
    static unsigned char id_byte;
    unsigned char id[8] = {++id_byte, 1, 2, 3, 4, 5, 6, 7};
    SSL_SESSION_set1_id(s, id, sizeof(id));
    SSL_SESSION_set_protocol_version(s, TLS1_2_VERSION);
    SSL_SESSION_set_time(s, made);
    SSL_SESSION_set_timeout(s, lifetime);
    return s;
}

static void test_put_get(void)
{
    time_t now = 1000000;
    struct tls_scache *c = tls_scache_new(4, 3600);
    SSL_SESSION *a = session_new(7200, now);
    tls_scache_put(c, "smtp&a", a, 3, now);
    int trust = -1;
    CHECK(tls_scache_get(c, "smtp&a", &trust, now + 10) == a);
    CHECK_INT(trust, 3);
    CHECK(tls_scache_get(c, "smtp&b", &trust, now) == NULL);
    /* A newer session for the same key replaces the old one. */
    SSL_SESSION *a2 = session_new(7200, now);
    tls_scache_put(c, "smtp&a", a2, 2, now);
    CHECK_INT(tls_scache_count(c), 1);
    CHECK(tls_scache_get(c, "smtp&a", &trust, now) == a2);
    CHECK_INT(trust, 2);
    tls_scache_free(c);
}

static void test_expiry(void)
{
    time_t now = 1000000;
    struct tls_scache *c = tls_scache_new(4, 3600);
    tls_scache_put(c, "ours", session_new(7200, now), 1, now);
    /* The server allowed less than our timeout. */
    tls_scache_put(c, "theirs", session_new(60, now), 1, now);
    int trust;
    CHECK(tls_scache_get(c, "ours", &trust, now + 3599) != NULL);
    CHECK(tls_scache_get(c, "ours", &trust, now + 3600) == NULL);
    CHECK(tls_scache_get(c, "theirs", &trust, now + 59) != NULL);
    CHECK(tls_scache_get(c, "theirs", &trust, now + 61) == NULL);
    CHECK_INT(tls_scache_count(c), 0); /* dropped when found expired */
    tls_scache_free(c);
}

static void test_bound(void)
{
    time_t now = 1000000;
    struct tls_scache *c = tls_scache_new(3, 3600);
    tls_scache_put(c, "k1", session_new(7200, now), 1, now);
    tls_scache_put(c, "k2", session_new(7200, now), 1, now);
    tls_scache_put(c, "k3", session_new(7200, now), 1, now);
    int trust;
    CHECK(tls_scache_get(c, "k1", &trust, now) != NULL); /* k2 is oldest */
    tls_scache_put(c, "k4", session_new(7200, now), 1, now);
    CHECK_INT(tls_scache_count(c), 3);
    CHECK(tls_scache_get(c, "k2", &trust, now) == NULL);
    CHECK(tls_scache_get(c, "k1", &trust, now) != NULL);
    CHECK(tls_scache_get(c, "k4", &trust, now) != NULL);
    tls_scache_put(c, "short", session_new(1, now), 1, now);
    CHECK(tls_scache_get(c, "k3", &trust, now) == NULL);
    /* An expired entry goes before live ones used longer ago. */
    tls_scache_put(c, "k5", session_new(7200, now), 1, now + 5);
    CHECK(tls_scache_get(c, "k1", &trust, now + 5) != NULL);
    CHECK(tls_scache_get(c, "k4", &trust, now + 5) != NULL);
    CHECK(tls_scache_get(c, "k5", &trust, now + 5) != NULL);
    tls_scache_free(c);
}

static void test_disabled(void)
{
    struct tls_scache *c = tls_scache_new(3, 0);
    tls_scache_put(c, "k", session_new(7200, 1000), 1, 1000);
    CHECK_INT(tls_scache_count(c), 0);
    tls_scache_free(c);
}

int main(void)
{
    UNIT_RUN(test_put_get);
    UNIT_RUN(test_expiry);
    UNIT_RUN(test_bound);
    UNIT_RUN(test_disabled);
    return unit_summary();
}
