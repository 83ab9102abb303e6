/* tls_client.h: TLS in the SMTP and LMTP clients, as Postfix's smtp(8)
 * does it: security levels, server certificate verification, DANE
 * (RFC 7672), and an in-process session cache.
 *
 * How the smtp daemon uses it:
 *
 *   at start, before dropping privileges (a client key may be readable
 *   by root alone), once per prefix ("smtp" or "lmtp"):
 *       client = tls_client_new("smtp", &err);   NULL: TLS unavailable
 *   per destination, the policy: smtp_tls_policy_maps's entry for the
 *   next hop, else main.cf's (a table error defers):
 *       tls_client_policy(client, maps, nexthop, &policy, &err);
 *   per connection, before EHLO decides on STARTTLS:
 *       tls_client_effective_level(&policy, &peer, &level, &why)
 *       says what applies to this MX host (dane resolves to may, encrypt
 *       or dane; dane-only without usable TLSA records fails with why);
 *       a mandatory level (tls_client_level_mandatory) without STARTTLS
 *       defers with tls_client_reason_not_offered();
 *   after the peer's 220 to STARTTLS:
 *       conn = tls_client_conn_new(client, &policy, &peer, fd, &why);
 *       tls_client_handshake(conn, &why) whenever the socket is ready
 *       for tls_conn_wants(conn) (tls_conn.h), until TLS_DONE or
 *       TLS_FAILED; then tls_conn_attach(conn, stream) and EHLO again.
 *       TLS_FAILED's why is the deferral reason in Postfix's words
 *       ("Server certificate not trusted", "Server certificate not
 *       verified", "Cannot start TLS: handshake failure"): the handshake
 *       step checks the policy itself, so a connection that reaches
 *       TLS_DONE is as protected as the policy demands.
 *       tls_client_trust(conn) is the outcome (Untrusted, Trusted,
 *       Verified), for the delivery log and TLS reports.
 *       At a level that is not mandatory (may, and dane resolved to
 *       may), Postfix retries a destination whose handshake failed in
 *       plain text, on a new connection; the daemon decides that.
 *   tls_conn_free(conn) when the session ends.
 *   For implicit TLS (a relay on port 465) the same calls follow the
 *   connect instead of STARTTLS.
 *
 * Log lines are Postfix's and are written here: at loglevel 1 and up
 * "Verified TLS connection established to mx.example.com[192.0.2.1]:25:
 * TLSv1.3 with cipher ... key-exchange X25519 server-signature ...";
 * whatever the loglevel, a failed handshake ("SSL_connect error to
 * ...") and a failed verification the policy needed ("server
 * certificate verification failed for host[addr]:port: num=62:hostname
 * mismatch"); at 2 and up the handshake's steps, other verification
 * failures and the session cache ("Reusing old session", "save session
 * ...").
 *
 * Sessions are cached per process, keyed by the prefix, next hop, host,
 * address, port and a digest of the policy (level, protocols, ciphers,
 * names, TLSA records, SNI), so a session is only resumed under the
 * policy that verified it; a resumed session keeps the trust level its
 * full handshake reached. At most TLS_CLIENT_CACHE_MAX sessions, each
 * for PREFIX_tls_session_cache_timeout (0: no cache).
 *
 * Not thread-safe: one event loop per client context. */
#ifndef POSTERN_TLS_CLIENT_H
#define POSTERN_TLS_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "tls/tls_conn.h"
#include "tls/tls_policy.h"

#define TLS_CLIENT_CACHE_MAX 1000

struct tls_client;

/* Builds the context for prefix ("smtp", "lmtp") from main.cf:
 * PREFIX_tls_CAfile, _CApath, _cert_file, _key_file, _chain_files,
 * _loglevel, _session_cache_timeout and the settings read per
 * connection (protocols, ciphers, match lists, servername, fingerprint
 * digest). NULL with the reason in err when a file cannot be read or a
 * setting is invalid. */
struct tls_client *tls_client_new(const char *prefix, struct buf *err);
void tls_client_free(struct tls_client *client);

/* main.cf's policy: PREFIX_tls_security_level, and for verify, secure
 * and fingerprint the matching PREFIX_tls_*_cert_match list. 0, or -1
 * with the reason in err (an unknown level, a malformed list). The
 * caller frees policy with tls_policy_free. */
int tls_client_policy_default(const struct tls_client *client,
                              struct tls_policy *policy, struct buf *err);

/* The policy for a next hop: smtp_tls_policy_maps (maps, may be NULL)
 * when it has an entry (tls_policy_lookup: the whole next hop as
 * Postfix keys it, "[host]:port" or "domain", then parent domains),
 * else main.cf's. policy must be initialized (tls_policy_init); the
 * caller frees it. 0, or -1 with the reason in err (a table error, a
 * value that does not parse): the delivery should defer. */
int tls_client_policy(const struct tls_client *client, struct maps *maps,
                      const char *nexthop, struct tls_policy *policy,
                      struct buf *err);

/* One DNSSEC-validated TLSA record (RFC 6698), as data. */
struct tls_tlsa {
    uint8_t usage;    /* 2 DANE-TA, 3 DANE-EE; 0 and 1 are unusable */
    uint8_t selector; /* 0 certificate, 1 SubjectPublicKeyInfo */
    uint8_t mtype;    /* 0 full, 1 SHA2-256, 2 SHA2-512 */
    const unsigned char *data;
    size_t len;
};

/* Whom a connection goes to. The strings are not copied; they must live
 * until tls_client_conn_new returns. */
struct tls_client_peer {
    const char *nexthop; /* next-hop domain: no brackets, no port */
    const char *host;    /* the server's name (MX host, or the next hop
                            itself for [host]); the TLSA base domain */
    const char *addr;    /* printable address */
    unsigned port;
    /* The host name came from DNSSEC-validated data (a secure MX
     * lookup, or [host]): secure also accepts it as a match. */
    int host_dnssec;
    /* For dane and dane-only: the validated TLSA records of
     * _PORT._tcp.HOST, none when there are none or they were not
     * validated (then dane is may, as in Postfix). */
    const struct tls_tlsa *tlsa;
    size_t tlsa_count;
    /* The name the TLSA records were found at when it is not host (the
     * CNAME-expanded host name, RFC 7672 section 2.2.2): DANE-TA(2)
     * then checks it, and host too; NULL or "": host. */
    const char *tlsa_base;
    /* DANE for a host name that came from an insecure MX lookup
     * (smtp_tls_dane_insecure_mx_policy = dane): a matching record makes
     * the connection "Trusted", not "Verified", and that passes. */
    int dane_trusted_only;
};

/* The level that applies to this peer: for dane, may without TLSA
 * records, encrypt when none is usable (usage 0 and 1 are not, for SMTP:
 * RFC 7672 section 3.1.3), else dane; dane-only without a usable record
 * is -1 with the reason in why. Other levels are returned as they are. */
int tls_client_effective_level(const struct tls_policy *policy,
                               const struct tls_client_peer *peer,
                               enum tls_client_level *level, struct buf *why);

/* "TLS is required, but was not offered by host mx.example.com[192.0.2.1]". */
void tls_client_reason_not_offered(const struct tls_client_peer *peer,
                                   struct buf *out);

/* Starts the client side of a TLS connection on fd (not owned), after
 * the peer's 220 to STARTTLS. NULL with the reason in why when the
 * policy cannot be applied (dane-only without usable records, an
 * invalid servername, a protocol list that does not parse). */
struct tls_conn *tls_client_conn_new(struct tls_client *client,
                                     const struct tls_policy *policy,
                                     const struct tls_client_peer *peer, int fd,
                                     struct buf *why);

/* One step of the handshake (as tls_conn_handshake), and when it is
 * complete the policy check, the log line and the session cache.
 * TLS_FAILED: why holds the reason for the deferral. */
enum tls_result tls_client_handshake(struct tls_conn *conn, struct buf *why);

/* How far the server was authenticated, in Postfix's words. */
enum tls_trust {
    TLS_TRUST_ANONYMOUS, /* no certificate (an anonymous cipher) */
    TLS_TRUST_UNTRUSTED, /* a certificate not chaining to our CAs */
    TLS_TRUST_TRUSTED,   /* chains to our CAs; the name not checked or
                            not matched */
    TLS_TRUST_VERIFIED,  /* the name matched, or DANE or a fingerprint */
};
/* "Anonymous", "Untrusted", "Trusted", "Verified". */
const char *tls_trust_name(enum tls_trust trust);
/* After TLS_DONE (or a failed policy check). */
enum tls_trust tls_client_trust(const struct tls_conn *conn);
/* The level the connection was made at (dane resolved as above). */
enum tls_client_level tls_client_conn_level(const struct tls_conn *conn);

/* Sessions now in the cache (tests, and the log at loglevel 2). */
size_t tls_client_cache_count(const struct tls_client *client);

#endif
