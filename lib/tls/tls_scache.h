/* tls_scache.h: the SMTP client's in-process TLS session cache.
 *
 * Maps a key (lib/tls/tls_client builds it from the next hop, host,
 * address, port and policy) to an OpenSSL session and the trust level
 * its full handshake reached, so a second connection to the same server
 * under the same policy resumes, with the same outcome. Bounded: at most
 * `capacity` entries, each for `timeout` seconds (and never past the
 * session's own lifetime); when full, an expired entry goes first, else
 * the one used longest ago. Holds one reference to each session. */
#ifndef POSTERN_TLS_SCACHE_H
#define POSTERN_TLS_SCACHE_H

#include <openssl/ssl.h>
#include <stddef.h>
#include <time.h>

struct tls_scache;

struct tls_scache *tls_scache_new(size_t capacity, long timeout);
void tls_scache_free(struct tls_scache *cache);

/* Stores session under key (replacing an older one), taking the
 * caller's reference. trust is kept with it. */
void tls_scache_put(struct tls_scache *cache, const char *key,
                    SSL_SESSION *session, int trust, time_t now);

/* A live, resumable session for key (borrowed: valid until the next
 * put), with its trust in *trust; NULL when there is none. An expired
 * entry is dropped. */
SSL_SESSION *tls_scache_get(struct tls_scache *cache, const char *key,
                            int *trust, time_t now);

size_t tls_scache_count(const struct tls_scache *cache);

#endif
