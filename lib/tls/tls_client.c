/* tls_client.c: the SMTP/LMTP client side of TLS (tls_client.h): the
 * context from PREFIX_tls_* parameters, a connection set up for its
 * policy (protocols, ciphers, SNI, the names or TLSA records to verify,
 * an offered session), and after the handshake the verdict, the log
 * line and the session cache.
 *
 * Verification runs inside OpenSSL (chain, names through
 * SSL_set1_host, DANE through SSL_dane_enable) with a callback that
 * records each error and lets the handshake go on; the verdict is ours,
 * taken when the handshake is complete, so a failure is reported in
 * Postfix's words instead of as a TLS alert. */
#include "tls/tls_client.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
#include "base/mem.h"
#include "base/str.h"
#include "config/config.h"
#include "tls/tls_error.h"
#include "tls/tls_impl.h"
#include "tls/tls_protocols.h"
#include "tls/tls_scache.h"

struct tls_client {
    char *prefix;
    SSL_CTX *ctx;
    int loglevel;
    /* main.cf values, copied: they outlive a config reload. */
    char *level;
    char *protocols, *mandatory_protocols;
    char *ciphers, *mandatory_ciphers;
    char *exclude, *mandatory_exclude;
    char *high_list, *medium_list;
    char *verify_match, *secure_match, *fingerprint_match;
    char *fingerprint_digest;
    char *servername;
    struct tls_scache *cache;
};

struct tls_client_state {
    struct tls_client *client;
    enum tls_client_level level; /* effective */
    char *namaddr;               /* "host[addr]:port" for logs */
    char *cache_key;
    struct strlist fingerprints; /* at the fingerprint level */
    int names_set;               /* names given to OpenSSL to match */
    int dane_records;            /* TLSA records OpenSSL took */
    int dane_trusted_only;       /* peer.dane_trusted_only */
    int dane_matched;            /* a record matched, names included */
    /* What the verify callback saw. */
    int chain_error; /* first error other than a name mismatch */
    int chain_error_depth;
    char *chain_error_issuer;
    int name_mismatch;
    /* A session offered from the cache, and the trust it had. */
    int offered;
    int offered_trust;
    enum tls_trust trust;
    int policy_ok;
    SSL_SESSION *pending; /* a new session before the verdict */
};

static char *param_copy(const char *prefix, const char *suffix)
{
    char name[128];
    snprintf(name, sizeof(name), "%s_tls_%s", prefix, suffix);
    return xstrdup(cfg_str(name));
}

static long param_number(const char *prefix, const char *suffix, int time)
{
    char name[128];
    snprintf(name, sizeof(name), "%s_tls_%s", prefix, suffix);
    return time ? cfg_time(name) : cfg_int(name);
}

/* ---- the verify callback and the session callback ---- */

static struct tls_conn *conn_of(const SSL *ssl)
{
    return ssl ? SSL_get_app_data(ssl) : NULL;
}

/* Records what failed and lets verification go on: the verdict is taken
 * after the handshake, from everything seen. */
static int verify_callback(int ok, X509_STORE_CTX *store)
{
    SSL *ssl =
        X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx());
    struct tls_conn *conn = conn_of(ssl);
    if (ok || conn == NULL || conn->client == NULL)
        return 1;
    struct tls_client_state *st = conn->client;
    int error = X509_STORE_CTX_get_error(store);
    if (error == X509_V_ERR_HOSTNAME_MISMATCH) {
        st->name_mismatch = 1;
    } else if (st->chain_error == 0) {
        st->chain_error = error;
        st->chain_error_depth = X509_STORE_CTX_get_error_depth(store);
        X509 *cert = X509_STORE_CTX_get_current_cert(store);
        if (cert) {
            char issuer[256];
            X509_NAME_oneline(X509_get_issuer_name(cert), issuer,
                              sizeof(issuer));
            st->chain_error_issuer = xstrdup(issuer);
        }
    }
    return 1;
}

/* A new session from the server (TLSv1.2 at the end of the handshake,
 * TLSv1.3 with the first read after it): cached once the connection
 * passed its policy, kept aside until then. */
static int new_session_callback(SSL *ssl, SSL_SESSION *session)
{
    struct tls_conn *conn = conn_of(ssl);
    if (conn == NULL || conn->client == NULL)
        return 0;
    struct tls_client_state *st = conn->client;
    if (!st->policy_ok) {
        SSL_SESSION_free(st->pending);
        st->pending = session;
        return 1;
    }
    if (st->client->loglevel >= 2)
        log_info("%s: save session %s to %s cache", st->namaddr, st->cache_key,
                 st->client->prefix);
    tls_scache_put(st->client->cache, st->cache_key, session, (int)st->trust,
                   time(NULL));
    return 1;
}

/* PREFIX_tls_loglevel 2 and up: the handshake's steps and alerts. */
static void info_callback(const SSL *ssl, int where, int ret)
{
    if (where & SSL_CB_LOOP)
        log_info("SSL_connect:%s", SSL_state_string_long(ssl));
    else if (where & SSL_CB_ALERT)
        log_info(
            "SSL3 alert %s:%s:%s", (where & SSL_CB_READ) ? "read" : "write",
            SSL_alert_type_string_long(ret), SSL_alert_desc_string_long(ret));
}

/* ---- the context ---- */

void tls_client_free(struct tls_client *client)
{
    if (client == NULL)
        return;
    SSL_CTX_free(client->ctx);
    tls_scache_free(client->cache);
    free(client->prefix);
    free(client->level);
    free(client->protocols);
    free(client->mandatory_protocols);
    free(client->ciphers);
    free(client->mandatory_ciphers);
    free(client->exclude);
    free(client->mandatory_exclude);
    free(client->high_list);
    free(client->medium_list);
    free(client->verify_match);
    free(client->secure_match);
    free(client->fingerprint_match);
    free(client->fingerprint_digest);
    free(client->servername);
    free(client);
}

/* The trust store and the client certificate. */
static int load_files(struct tls_client *c, struct buf *err)
{
    char *cafile = param_copy(c->prefix, "CAfile");
    char *capath = param_copy(c->prefix, "CApath");
    char *chain = param_copy(c->prefix, "chain_files");
    char *cert = param_copy(c->prefix, "cert_file");
    char *key = param_copy(c->prefix, "key_file");
    int rc = 0;
    tls_error_clear();
    if ((*cafile || *capath) &&
        SSL_CTX_load_verify_locations(c->ctx, *cafile ? cafile : NULL,
                                      *capath ? capath : NULL) != 1) {
        buf_appendf(err, "cannot load CA certificates from %s: ",
                    *cafile ? cafile : capath);
        tls_error_text(err, "unreadable");
        rc = -1;
    }
    if (rc == 0 && *chain)
        rc = tls_load_chain_files(c->ctx, chain, err) > 0 ? 0 : -1;
    else if (rc == 0 && *cert)
        rc = tls_load_cert_and_key(c->ctx, cert, key, err);
    free(cafile);
    free(capath);
    free(chain);
    free(cert);
    free(key);
    return rc;
}

struct tls_client *tls_client_new(const char *prefix, struct buf *err)
{
    struct tls_client *c = xcalloc(1, sizeof(*c));
    c->prefix = xstrdup(prefix);
    c->level = param_copy(prefix, "security_level");
    c->protocols = param_copy(prefix, "protocols");
    c->mandatory_protocols = param_copy(prefix, "mandatory_protocols");
    c->ciphers = param_copy(prefix, "ciphers");
    c->mandatory_ciphers = param_copy(prefix, "mandatory_ciphers");
    c->exclude = param_copy(prefix, "exclude_ciphers");
    c->mandatory_exclude = param_copy(prefix, "mandatory_exclude_ciphers");
    c->high_list = xstrdup(cfg_str("tls_high_cipherlist"));
    c->medium_list = xstrdup(cfg_str("tls_medium_cipherlist"));
    c->verify_match = param_copy(prefix, "verify_cert_match");
    c->secure_match = param_copy(prefix, "secure_cert_match");
    c->fingerprint_match = param_copy(prefix, "fingerprint_cert_match");
    c->fingerprint_digest = param_copy(prefix, "fingerprint_digest");
    c->servername = param_copy(prefix, "servername");
    c->loglevel = (int)param_number(prefix, "loglevel", 0);
    long timeout = param_number(prefix, "session_cache_timeout", 1);
    c->cache = tls_scache_new(TLS_CLIENT_CACHE_MAX, timeout);

    unsigned set = 0;
    enum tls_client_level level;
    int ok = 1;
    if (tls_client_level_parse(c->level, &level) < 0) {
        buf_appendf(err, "invalid %s_tls_security_level \"%s\"", prefix,
                    c->level);
        ok = 0;
    } else if (tls_protocols_parse(c->protocols, &set, err) < 0 ||
               tls_protocols_parse(c->mandatory_protocols, &set, err) < 0) {
        ok = 0;
    } else if (EVP_get_digestbyname(c->fingerprint_digest) == NULL) {
        buf_appendf(err, "unknown %s_tls_fingerprint_digest \"%s\"", prefix,
                    c->fingerprint_digest);
        ok = 0;
    }
    if (ok) {
        tls_error_clear();
        c->ctx = SSL_CTX_new(TLS_client_method());
        if (c->ctx == NULL) {
            tls_error_text(err, "cannot create a TLS context");
            ok = 0;
        }
    }
    if (ok && SSL_CTX_dane_enable(c->ctx) <= 0) {
        tls_error_text(err, "cannot enable DANE");
        ok = 0;
    }
    if (ok)
        ok = load_files(c, err) == 0;
    if (!ok) {
        tls_client_free(c);
        return NULL;
    }
    /* RFC 7672 section 3.1.1: DANE-EE(3) authenticates the key itself,
     * with no name checks. */
    SSL_CTX_dane_set_flags(c->ctx, DANE_FLAG_NO_DANE_EE_NAMECHECKS);
    SSL_CTX_set_options(c->ctx, SSL_OP_NO_RENEGOTIATION |
                                    SSL_OP_IGNORE_UNEXPECTED_EOF |
                                    SSL_OP_NO_COMPRESSION);
    SSL_CTX_set_mode(c->ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
                                 SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                                 SSL_MODE_RELEASE_BUFFERS);
    /* The verdict is ours, after the handshake (verify_callback). */
    SSL_CTX_set_verify(c->ctx, SSL_VERIFY_NONE, verify_callback);
    SSL_CTX_set_session_cache_mode(
        c->ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    SSL_CTX_sess_set_new_cb(c->ctx, new_session_callback);
    if (c->loglevel >= 2)
        SSL_CTX_set_info_callback(c->ctx, info_callback);
    return c;
}

int tls_client_policy_default(const struct tls_client *client,
                              struct tls_policy *policy, struct buf *err)
{
    if (tls_client_level_parse(client->level, &policy->level) < 0) {
        buf_appendf(err, "invalid %s_tls_security_level \"%s\"", client->prefix,
                    client->level);
        return -1;
    }
    return 0;
}

int tls_client_policy(const struct tls_client *client, struct maps *maps,
                      const char *nexthop, struct tls_policy *policy,
                      struct buf *err)
{
    int found = tls_policy_lookup(maps, nexthop, policy, err);
    if (found < 0)
        return -1;
    if (found > 0)
        return 0;
    tls_policy_free(policy);
    return tls_client_policy_default(client, policy, err);
}

size_t tls_client_cache_count(const struct tls_client *client)
{
    return tls_scache_count(client->cache);
}

/* ---- the level for a peer ---- */

/* A record RFC 7672 lets an SMTP client use, well formed. */
static int tlsa_usable(const struct tls_tlsa *r)
{
    if (r->usage != 2 && r->usage != 3)
        return 0; /* PKIX-TA(0), PKIX-EE(1): section 3.1.3 */
    if (r->selector > 1)
        return 0;
    switch (r->mtype) {
    case 0:
        return r->len > 0;
    case 1:
        return r->len == 32;
    case 2:
        return r->len == 64;
    default:
        return 0;
    }
}

static size_t tlsa_usable_count(const struct tls_client_peer *peer)
{
    size_t usable = 0;
    for (size_t i = 0; i < peer->tlsa_count; i++)
        usable += tlsa_usable(&peer->tlsa[i]);
    return usable;
}

int tls_client_effective_level(const struct tls_policy *policy,
                               const struct tls_client_peer *peer,
                               enum tls_client_level *level, struct buf *why)
{
    *level = policy->level;
    if (policy->level != TLS_CLIENT_DANE &&
        policy->level != TLS_CLIENT_DANE_ONLY)
        return 0;
    size_t usable = tlsa_usable_count(peer);
    if (usable > 0)
        return 0;
    if (policy->level == TLS_CLIENT_DANE_ONLY) {
        buf_appendf(why,
                    "TLS is required, but host %s[%s] has no usable "
                    "DNSSEC-validated TLSA records",
                    peer->host, peer->addr);
        return -1;
    }
    *level = peer->tlsa_count ? TLS_CLIENT_ENCRYPT : TLS_CLIENT_MAY;
    return 0;
}

void tls_client_reason_not_offered(const struct tls_client_peer *peer,
                                   struct buf *out)
{
    buf_appendf(out, "TLS is required, but was not offered by host %s[%s]",
                peer->host, peer->addr);
}

/* ---- a connection ---- */

void tls_client_state_free(struct tls_client_state *st)
{
    if (st == NULL)
        return;
    free(st->namaddr);
    free(st->cache_key);
    free(st->chain_error_issuer);
    strlist_free(&st->fingerprints);
    SSL_SESSION_free(st->pending);
    free(st);
}

/* A name SNI may carry: letters, digits and hyphens in dot-separated
 * labels; not an address. */
static int sni_name_ok(const char *name)
{
    unsigned char addr[16];
    size_t len = strlen(name);
    if (len == 0 || len > 253 || inet_pton(AF_INET, name, addr) == 1 ||
        inet_pton(AF_INET6, name, addr) == 1)
        return 0;
    size_t label = 0;
    for (const char *p = name; *p; p++) {
        if (*p == '.') {
            if (label == 0)
                return 0;
            label = 0;
        } else if (isalnum((unsigned char)*p) || *p == '-') {
            if (++label > 63)
                return 0;
        } else {
            return 0;
        }
    }
    return label > 0;
}

/* The SNI name, or NULL for none: with DANE the TLSA base domain (RFC
 * 7672 requires it), otherwise PREFIX_tls_servername or the policy's
 * servername ("hostname", "nexthop" or a name). -1 for a literal name
 * that is not a DNS name (a configuration error: defer). */
static int sni_choose(const struct tls_client *c, const struct tls_policy *p,
                      const struct tls_client_peer *peer, int dane,
                      const char **sni, struct buf *why)
{
    *sni = NULL;
    const char *setting = p->servername ? p->servername : c->servername;
    const char *name = NULL;
    int literal = 0;
    if (dane)
        name = peer->tlsa_base && *peer->tlsa_base ? peer->tlsa_base
                                                   : peer->host;
    else if (setting == NULL || *setting == '\0')
        return 0;
    else if (str_equal_nocase(setting, "hostname"))
        name = peer->host;
    else if (str_equal_nocase(setting, "nexthop"))
        name = peer->nexthop;
    else
        name = setting, literal = 1;
    if (name && sni_name_ok(name)) {
        *sni = name;
        return 0;
    }
    if (literal) {
        buf_appendf(why, "invalid %s_tls_servername \"%s\"", c->prefix,
                    setting);
        return -1;
    }
    return 0; /* an address or an odd host name: no SNI */
}

/* The names to match at verify and secure, from the match list: the
 * strategies become the peer's names. At secure the host name counts
 * only when DNSSEC vouched for it. */
static void names_expand(const struct strlist *match,
                         const struct tls_client_peer *peer,
                         enum tls_client_level level, struct strlist *names)
{
    /* An empty name must never reach OpenSSL: SSL_set1_host(ssl, "")
     * clears the names, and ".", made from an empty next hop, would
     * match every name. */
    for (size_t i = 0; i < match->count; i++) {
        const char *item = match->items[i];
        if (str_equal_nocase(item, "hostname")) {
            if (*peer->host)
                strlist_add(names, peer->host);
        } else if (str_equal_nocase(item, "nexthop")) {
            if (*peer->nexthop)
                strlist_add(names, peer->nexthop);
        } else if (str_equal_nocase(item, "dot-nexthop")) {
            if (*peer->nexthop) {
                struct buf dot = BUF_INIT;
                buf_appendf(&dot, ".%s", peer->nexthop);
                strlist_add(names, dot.data);
                buf_free(&dot);
            }
        } else if (*item) {
            strlist_add(names, item);
        }
    }
    if (level == TLS_CLIENT_SECURE && peer->host_dnssec && *peer->host)
        strlist_add(names, peer->host);
}

static int names_apply(SSL *ssl, const struct strlist *names)
{
    SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    for (size_t i = 0; i < names->count; i++) {
        int rc = i == 0 ? SSL_set1_host(ssl, names->items[i])
                        : SSL_add1_host(ssl, names->items[i]);
        if (rc != 1)
            return -1;
    }
    return 0;
}

/* The protocols and ciphers: the mandatory ones from encrypt up, the
 * policy's attributes over main.cf's. Authenticated levels never take
 * an anonymous cipher. What was applied is appended to applied (for the
 * session cache key). */
static int crypto_apply(const struct tls_client *c, const struct tls_policy *p,
                        enum tls_client_level level, SSL *ssl, struct buf *why,
                        struct buf *applied)
{
    int mandatory = tls_client_level_mandatory(level);
    const char *protocols =
        p->protocols ? p->protocols
                     : (mandatory ? c->mandatory_protocols : c->protocols);
    unsigned set = 0;
    if (tls_protocols_parse(protocols, &set, why) < 0 ||
        tls_set_protocols(NULL, ssl, set, why) < 0)
        return -1;
    const char *grade = p->ciphers
                            ? p->ciphers
                            : (mandatory ? c->mandatory_ciphers : c->ciphers);
    const char *list =
        tls_cipher_list(grade, c->high_list, c->medium_list, c->prefix, why);
    if (list == NULL)
        return -1;
    struct buf full = BUF_INIT;
    buf_append_str(&full, list);
    if (level >= TLS_CLIENT_FINGERPRINT)
        buf_append_str(&full, ":!aNULL");
    const char *exclude = p->exclude
                              ? p->exclude
                              : (mandatory ? c->mandatory_exclude : c->exclude);
    struct strlist items;
    strlist_init(&items);
    str_split_chars(exclude, " \t\r\n,:", &items);
    for (size_t i = 0; i < items.count; i++)
        buf_appendf(&full, ":!%s", items.items[i]);
    strlist_free(&items);
    buf_appendf(applied, "%x|%s", set, full.data);
    int rc = SSL_set_cipher_list(ssl, full.data) == 1 ? 0 : -1;
    if (rc < 0) {
        buf_appendf(why, "invalid cipher list \"%s\": ", full.data);
        tls_error_text(why, "no usable cipher");
    }
    buf_free(&full);
    return rc;
}

/* Adds the usable TLSA records; returns how many OpenSSL took. */
static int dane_apply(SSL *ssl, const struct tls_client_peer *peer,
                      struct buf *why)
{
    /* Without a base domain OpenSSL would check no name at all for
     * DANE-TA(2). */
    if (*peer->host == '\0') {
        buf_append_str(why, "DANE needs the server's host name");
        return -1;
    }
    /* RFC 7672 section 3.2.2: the TLSA base domain is the name the
     * records were found at; with records at a CNAME-expanded name the
     * original host name is accepted too. */
    int expanded = peer->tlsa_base && *peer->tlsa_base &&
                   strcmp(peer->tlsa_base, peer->host) != 0;
    if (SSL_dane_enable(ssl, expanded ? peer->tlsa_base : peer->host) <= 0) {
        tls_error_text(why, "cannot enable DANE");
        return -1;
    }
    if (expanded)
        SSL_add1_host(ssl, peer->host);
    int taken = 0;
    for (size_t i = 0; i < peer->tlsa_count; i++) {
        const struct tls_tlsa *r = &peer->tlsa[i];
        if (!tlsa_usable(r))
            continue;
        if (SSL_dane_tlsa_add(ssl, r->usage, r->selector, r->mtype, r->data,
                              r->len) > 0)
            taken++;
        tls_error_clear(); /* a refused record is only unusable */
    }
    /* RFC 7672 section 3.2.2: with a secure MX the next-hop domain is
     * a reference identifier too (it matters for DANE-TA(2)). */
    if (peer->host_dnssec && peer->nexthop && *peer->nexthop)
        SSL_add1_host(ssl, peer->nexthop);
    return taken;
}

/* The session cache key: who, and a digest of everything the policy
 * decides, so a session verified under one policy never serves
 * another. */
static char *cache_key(const struct tls_client *c, enum tls_client_level level,
                       const struct tls_policy *p,
                       const struct tls_client_peer *peer,
                       const struct strlist *names, const char *sni,
                       const char *crypto)
{
    struct buf text = BUF_INIT;
    buf_appendf(&text, "%d|%s|%s", (int)level, crypto, sni ? sni : "");
    for (size_t i = 0; i < names->count; i++)
        buf_appendf(&text, "|n=%s", names->items[i]);
    for (size_t i = 0; i < p->match.count; i++)
        buf_appendf(&text, "|m=%s", p->match.items[i]);
    for (size_t i = 0; i < peer->tlsa_count; i++) {
        const struct tls_tlsa *r = &peer->tlsa[i];
        buf_appendf(&text, "|t=%u %u %u ", r->usage, r->selector, r->mtype);
        for (size_t j = 0; j < r->len; j++)
            buf_appendf(&text, "%02x", r->data[j]);
    }
    if (peer->tlsa_base && *peer->tlsa_base)
        buf_appendf(&text, "|b=%s", peer->tlsa_base);
    if (peer->dane_trusted_only)
        buf_append_str(&text, "|trusted-only");
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned digest_len = 0;
    EVP_Digest(text.data, text.len, digest, &digest_len, EVP_sha256(), NULL);
    buf_reset(&text);
    buf_appendf(&text, "%s&%s&%s&%s&%u&", c->prefix, peer->nexthop, peer->host,
                peer->addr, peer->port);
    for (unsigned i = 0; i < digest_len && i < 12; i++)
        buf_appendf(&text, "%02X", digest[i]);
    return buf_detach(&text);
}

struct tls_conn *tls_client_conn_new(struct tls_client *c,
                                     const struct tls_policy *p,
                                     const struct tls_client_peer *peer, int fd,
                                     struct buf *why)
{
    /* A caller that left a name out gets empty strings, not a crash. */
    struct tls_client_peer whom = *peer;
    whom.nexthop = whom.nexthop ? whom.nexthop : "";
    whom.host = whom.host ? whom.host : "";
    whom.addr = whom.addr ? whom.addr : "";
    peer = &whom;
    enum tls_client_level level;
    if (tls_client_effective_level(p, peer, &level, why) < 0)
        return NULL;
    if (level == TLS_CLIENT_NONE) {
        buf_append_str(why, "TLS is not enabled for this destination");
        return NULL;
    }
    int dane = level == TLS_CLIENT_DANE || level == TLS_CLIENT_DANE_ONLY;
    const char *sni = NULL;
    if (sni_choose(c, p, peer, dane, &sni, why) < 0)
        return NULL;
    tls_error_clear();
    SSL *ssl = SSL_new(c->ctx);
    if (ssl == NULL || SSL_set_fd(ssl, fd) != 1) {
        tls_error_text(why, "cannot create a TLS connection");
        SSL_free(ssl);
        return NULL;
    }
    SSL_set_connect_state(ssl);
    struct tls_conn *conn = xcalloc(1, sizeof(*conn));
    conn->ssl = ssl;
    struct tls_client_state *st = xcalloc(1, sizeof(*st));
    conn->client = st;
    st->client = c;
    st->level = level;
    st->dane_trusted_only = peer->dane_trusted_only;
    strlist_init(&st->fingerprints);
    struct buf namaddr = BUF_INIT;
    buf_appendf(&namaddr, "%s[%s]:%u", peer->host, peer->addr, peer->port);
    st->namaddr = buf_detach(&namaddr);
    SSL_set_app_data(ssl, conn);

    struct strlist names;
    strlist_init(&names);
    struct buf crypto = BUF_INIT;
    int ok = crypto_apply(c, p, level, ssl, why, &crypto) == 0;
    if (ok && sni && SSL_set_tlsext_host_name(ssl, sni) != 1) {
        tls_error_text(why, "cannot set the TLS server name");
        ok = 0;
    }
    if (ok && dane) {
        st->dane_records = dane_apply(ssl, peer, why);
        ok = st->dane_records > 0;
        if (st->dane_records == 0) /* none OpenSSL could use */
            buf_appendf(why, "no TLSA record for %s was usable", peer->host);
    }
    if (ok && (level == TLS_CLIENT_VERIFY || level == TLS_CLIENT_SECURE)) {
        struct tls_policy fallback;
        tls_policy_init(&fallback);
        const struct strlist *match = &p->match;
        if (!p->match_set) {
            const char *list =
                level == TLS_CLIENT_VERIFY ? c->verify_match : c->secure_match;
            ok =
                tls_policy_add_match(&fallback, list, " \t\r\n,:", 0, why) == 0;
            match = &fallback.match;
        }
        if (ok)
            names_expand(match, peer, level, &names);
        tls_policy_free(&fallback);
        st->names_set = names.count > 0;
        if (ok && names_apply(ssl, &names) < 0) {
            tls_error_text(why, "cannot set the names to verify");
            ok = 0;
        }
    }
    if (ok && level == TLS_CLIENT_FINGERPRINT) {
        struct tls_policy fallback;
        tls_policy_init(&fallback);
        if (p->match_set)
            for (size_t i = 0; i < p->match.count; i++)
                strlist_add(&st->fingerprints, p->match.items[i]);
        else if (tls_policy_add_match(&fallback, c->fingerprint_match,
                                      " \t\r\n,|", 1, why) == 0)
            for (size_t i = 0; i < fallback.match.count; i++)
                strlist_add(&st->fingerprints, fallback.match.items[i]);
        else
            ok = 0;
        tls_policy_free(&fallback);
    }
    if (ok) {
        st->cache_key = cache_key(c, level, p, peer, &names, sni, crypto.data);
        int trust = 0;
        SSL_SESSION *session =
            tls_scache_get(c->cache, st->cache_key, &trust, time(NULL));
        if (session && SSL_set_session(ssl, session) == 1) {
            st->offered = 1;
            st->offered_trust = trust;
            if (c->loglevel >= 2)
                log_info("%s: looking for session %s in %s cache", st->namaddr,
                         st->cache_key, c->prefix);
        }
        tls_error_clear();
    }
    strlist_free(&names);
    buf_free(&crypto);
    if (!ok) {
        tls_conn_free(conn);
        return NULL;
    }
    return conn;
}

/* ---- after the handshake ---- */

const char *tls_trust_name(enum tls_trust trust)
{
    switch (trust) {
    case TLS_TRUST_ANONYMOUS:
        return "Anonymous";
    case TLS_TRUST_UNTRUSTED:
        return "Untrusted";
    case TLS_TRUST_TRUSTED:
        return "Trusted";
    case TLS_TRUST_VERIFIED:
        return "Verified";
    }
    return "Untrusted";
}

enum tls_trust tls_client_trust(const struct tls_conn *conn)
{
    return conn->client ? conn->client->trust : TLS_TRUST_ANONYMOUS;
}

enum tls_client_level tls_client_conn_level(const struct tls_conn *conn)
{
    return conn->client ? conn->client->level : TLS_CLIENT_NONE;
}

static void hex_of(const unsigned char *data, unsigned len, struct buf *out)
{
    buf_reset(out);
    for (unsigned i = 0; i < len; i++)
        buf_appendf(out, "%02x", data[i]);
}

/* The certificate's or its public key's digest is one of ours. */
static int fingerprint_matches(const struct tls_client_state *st, X509 *cert)
{
    const EVP_MD *md = EVP_get_digestbyname(st->client->fingerprint_digest);
    if (md == NULL)
        return 0;
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    struct buf cert_hex = BUF_INIT, key_hex = BUF_INIT;
    if (X509_digest(cert, md, digest, &len) == 1)
        hex_of(digest, len, &cert_hex);
    if (X509_pubkey_digest(cert, md, digest, &len) == 1)
        hex_of(digest, len, &key_hex);
    int found = 0;
    for (size_t i = 0; i < st->fingerprints.count && !found; i++) {
        const char *want = st->fingerprints.items[i];
        found = (cert_hex.len && strcmp(want, cert_hex.data) == 0) ||
                (key_hex.len && strcmp(want, key_hex.data) == 0);
    }
    buf_free(&cert_hex);
    buf_free(&key_hex);
    return found;
}

/* The trust a full handshake reached. */
static enum tls_trust trust_of(struct tls_conn *conn)
{
    struct tls_client_state *st = conn->client;
    X509 *cert = SSL_get0_peer_certificate(conn->ssl);
    if (cert == NULL)
        return TLS_TRUST_ANONYMOUS;
    if (st->level == TLS_CLIENT_FINGERPRINT && fingerprint_matches(st, cert))
        return TLS_TRUST_VERIFIED;
    if (st->chain_error)
        return TLS_TRUST_UNTRUSTED;
    if (st->name_mismatch)
        return TLS_TRUST_TRUSTED;
    if (st->dane_records > 0) {
        st->dane_matched = SSL_get0_dane_authority(conn->ssl, NULL, NULL) >= 0;
        /* With a host name DNSSEC did not vouch for (an insecure MX), a
         * match is only "Trusted", as in Postfix. */
        return !st->dane_matched       ? TLS_TRUST_UNTRUSTED
               : st->dane_trusted_only ? TLS_TRUST_TRUSTED
                                       : TLS_TRUST_VERIFIED;
    }
    return st->names_set ? TLS_TRUST_VERIFIED : TLS_TRUST_TRUSTED;
}

/* A chain error about the certificate's dates: "certificate has
 * expired", "certificate not yet valid" (Postfix's words); else NULL. */
static const char *chain_date_problem(int e)
{
    if (e == X509_V_ERR_CERT_HAS_EXPIRED ||
        e == X509_V_ERR_ERROR_IN_CERT_NOT_AFTER_FIELD)
        return "certificate has expired";
    if (e == X509_V_ERR_CERT_NOT_YET_VALID ||
        e == X509_V_ERR_ERROR_IN_CERT_NOT_BEFORE_FIELD)
        return "certificate not yet valid";
    return NULL;
}

/* What the chain check found, for the log, worded as Postfix's
 * tls_verify.c words it: the dates name whose certificate failed
 * ("server", or "CA" above the leaf). */
static void log_chain_failure(const struct tls_client_state *st)
{
    int e = st->chain_error;
    const char *dates = chain_date_problem(e);
    if (e == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY ||
        e == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT ||
        e == X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN ||
        e == X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT)
        log_info("certificate verification failed for %s: untrusted issuer %s",
                 st->namaddr,
                 st->chain_error_issuer ? st->chain_error_issuer : "");
    else if (dates)
        log_info("%s certificate verification failed for %s: %s",
                 st->chain_error_depth > 0 ? "CA" : "server", st->namaddr,
                 dates);
    else
        log_info("certificate verification failed for %s: num=%d:%s",
                 st->namaddr, e, X509_verify_cert_error_string(e));
}

/* The policy's verdict: 0, or -1 with the reason for the deferral. */
static int policy_check(struct tls_conn *conn, struct buf *why)
{
    struct tls_client_state *st = conn->client;
    enum tls_client_level level = st->level;
    int loud = level >= TLS_CLIENT_FINGERPRINT || st->client->loglevel >= 2;
    if (loud && st->trust != TLS_TRUST_VERIFIED) {
        if (st->chain_error && level != TLS_CLIENT_FINGERPRINT)
            log_chain_failure(st);
        if (st->name_mismatch)
            log_info(
                "server certificate verification failed for %s: "
                "num=%d:%s",
                st->namaddr, X509_V_ERR_HOSTNAME_MISMATCH,
                X509_verify_cert_error_string(X509_V_ERR_HOSTNAME_MISMATCH));
        if (level == TLS_CLIENT_FINGERPRINT)
            log_info("%s: certificate and public key fingerprints do not "
                     "match",
                     st->namaddr);
    }
    if (level < TLS_CLIENT_FINGERPRINT || st->trust == TLS_TRUST_VERIFIED)
        return 0;
    if (st->dane_trusted_only && st->dane_matched && !st->name_mismatch &&
        st->trust == TLS_TRUST_TRUSTED)
        return 0; /* DANE under smtp_tls_dane_insecure_mx_policy = dane */
    if ((level == TLS_CLIENT_VERIFY || level == TLS_CLIENT_SECURE) &&
        st->trust < TLS_TRUST_TRUSTED) {
        /* Postfix's reason, and for a chain whose only fault (the first
         * OpenSSL reported) is its dates, that fault in brackets: an
         * expired certificate is the common case an operator must tell
         * from a wrong CA. */
        buf_append_str(why, "Server certificate not trusted");
        const char *dates = chain_date_problem(st->chain_error);
        if (dates)
            buf_appendf(why, " (%s%s)",
                        st->chain_error_depth > 0 ? "CA " : "", dates);
    } else
        buf_append_str(why, "Server certificate not verified");
    return -1;
}

static void log_established(struct tls_conn *conn)
{
    struct tls_client_state *st = conn->client;
    if (st->client->loglevel >= 2 && SSL_session_reused(conn->ssl) == 1)
        log_info("%s: Reusing old session", st->namaddr);
    if (st->client->loglevel < 1)
        return;
    struct buf text = BUF_INIT, keys = BUF_INIT;
    tls_conn_summary(conn, &text);
    tls_conn_key_summary(conn, &keys);
    log_info("%s TLS connection established to %s: %s%s%s",
             tls_trust_name(st->trust), st->namaddr, text.data,
             keys.len ? " " : "", keys.data ? keys.data : "");
    buf_free(&text);
    buf_free(&keys);
}

enum tls_result tls_client_handshake(struct tls_conn *conn, struct buf *why)
{
    struct tls_client_state *st = conn->client;
    struct buf reason = BUF_INIT;
    enum tls_result result = tls_conn_handshake(conn, &reason);
    if (result == TLS_AGAIN) {
        buf_free(&reason);
        return result;
    }
    if (result == TLS_FAILED) {
        log_info("SSL_connect error to %s: %s", st->namaddr, reason.data);
        buf_append_str(why, "Cannot start TLS: handshake failure");
        buf_free(&reason);
        return result;
    }
    buf_free(&reason);
    if (st->offered && SSL_session_reused(conn->ssl) == 1) {
        st->trust = (enum tls_trust)st->offered_trust;
        /* Cached only after its policy passed, under a key that holds
         * the records and this flag: the match held then. */
        st->dane_matched = st->dane_trusted_only;
    }
    else
        st->trust = trust_of(conn);
    if (policy_check(conn, why) < 0)
        return TLS_FAILED; /* the caller closes; close_notify is sent */
    st->policy_ok = 1;
    log_established(conn);
    if (st->pending) {
        SSL_SESSION *session = st->pending;
        st->pending = NULL;
        (void)new_session_callback(conn->ssl, session);
    }
    return TLS_DONE;
}
