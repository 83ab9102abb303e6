/* test_tls_client.c: the SMTP client side of lib/tls (tls_client.h)
 * against lib/tls's own server, and against a bare OpenSSL server where
 * the test must see what the client sent (SNI, a client certificate),
 * over TCP on 127.0.0.1. A test CA, certificates with names and keys
 * are made at start with the OpenSSL API. Cases: may with an untrusted
 * and a trusted certificate; verify with the right name, a wrong name
 * and an unknown CA; secure and its match rules; DANE-EE(3 1 1) with
 * the right and a wrong key, DANE-TA(2 0 1) with the right and a wrong
 * name, at a CNAME-expanded base domain, and Trusted for an insecure
 * MX; and how dane falls back; the fingerprint level; the protocol
 * floor; SNI; a client certificate; session resumption; the log lines. */
#include "unit.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/file_read.h"
#include "base/log.h"
#include "base/stream.h"
#include "config/config.h"
#include "tables/maps.h"
#include "tls/tls_client.h"
#include "tls/tls_conn.h"
#include "tls/tls_server.h"

static char dir[64];
static char ca_path[128], chain_path[128], key_path[128], self_path[128],
    self_key_path[128], client_path[128], log_path[128];
/* DER digests for TLSA records and fingerprints. */
static unsigned char leaf_spki_sha256[32], other_spki_sha256[32],
    ca_cert_sha256[32], leaf_cert_sha256[32];
static EVP_PKEY *leaf_key, *self_key;
static X509 *leaf_cert, *self_cert;

/* ---- certificates ---- */

static void add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    if (ext == NULL)
        abort();
    X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
}

/* A certificate for key named cn (and san), signed by issuer (itself
 * when NULL). */
static X509 *make_cert(EVP_PKEY *key, const char *cn, const char *san,
                       X509 *issuer, EVP_PKEY *issuer_key, int ca, long serial)
{
    X509 *x = X509_new();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 86400);
    X509_set_pubkey(x, key);
    X509_NAME *name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name);
    add_ext(x, issuer ? issuer : x, NID_basic_constraints,
            ca ? "critical,CA:TRUE" : "CA:FALSE");
    if (ca)
        add_ext(x, x, NID_key_usage, "critical,keyCertSign,cRLSign");
    if (san)
        add_ext(x, issuer ? issuer : x, NID_subject_alt_name, san);
    X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256());
    return x;
}

static void write_pem(const char *path, EVP_PKEY *key, X509 *a, X509 *b)
{
    FILE *f = fopen(path, "w");
    if (f == NULL)
        abort();
    if (key)
        PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
    if (a)
        PEM_write_X509(f, a);
    if (b)
        PEM_write_X509(f, b);
    fclose(f);
}

static void spki_sha256(X509 *cert, unsigned char out[32])
{
    unsigned char *der = NULL;
    int len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &der);
    unsigned out_len = 0;
    EVP_Digest(der, (size_t)len, out, &out_len, EVP_sha256(), NULL);
    OPENSSL_free(der);
}

static void cert_sha256(X509 *cert, unsigned char out[32])
{
    unsigned out_len = 0;
    X509_digest(cert, EVP_sha256(), out, &out_len);
}

/* The CA; mx.example.test issued by it (chain file: leaf then CA); a
 * self-signed mx.example.test; a client certificate. */
static void make_files(void)
{
    snprintf(dir, sizeof(dir), "/tmp/tlsclient-XXXXXX");
    if (mkdtemp(dir) == NULL)
        abort();
    snprintf(ca_path, sizeof(ca_path), "%s/ca.pem", dir);
    snprintf(chain_path, sizeof(chain_path), "%s/chain.pem", dir);
    snprintf(key_path, sizeof(key_path), "%s/key.pem", dir);
    snprintf(self_path, sizeof(self_path), "%s/self.pem", dir);
    snprintf(self_key_path, sizeof(self_key_path), "%s/selfkey.pem", dir);
    snprintf(client_path, sizeof(client_path), "%s/client.pem", dir);
    snprintf(log_path, sizeof(log_path), "%s/maillog", dir);
    EVP_PKEY *ca_key = EVP_EC_gen("P-256"), *client_key = EVP_EC_gen("P-256");
    leaf_key = EVP_EC_gen("P-256");
    self_key = EVP_EC_gen("P-256");
    X509 *ca = make_cert(ca_key, "Postern Test CA", NULL, NULL, NULL, 1, 1);
    leaf_cert = make_cert(leaf_key, "mx.example.test",
                          "DNS:mx.example.test,DNS:mail.example.test", ca,
                          ca_key, 0, 2);
    self_cert = make_cert(self_key, "mx.example.test", "DNS:mx.example.test",
                          NULL, NULL, 0, 3);
    X509 *client = make_cert(client_key, "client.example.test",
                             "DNS:client.example.test", ca, ca_key, 0, 4);
    write_pem(ca_path, NULL, ca, NULL);
    write_pem(chain_path, NULL, leaf_cert, ca);
    write_pem(key_path, leaf_key, NULL, NULL);
    write_pem(self_path, NULL, self_cert, NULL);
    write_pem(self_key_path, self_key, NULL, NULL);
    write_pem(client_path, client_key, client, NULL);
    spki_sha256(leaf_cert, leaf_spki_sha256);
    spki_sha256(self_cert, other_spki_sha256);
    cert_sha256(ca, ca_cert_sha256);
    cert_sha256(leaf_cert, leaf_cert_sha256);
    X509_free(ca);
    X509_free(client);
    EVP_PKEY_free(ca_key);
    EVP_PKEY_free(client_key);
}

static void remove_files(void)
{
    const char *paths[] = {ca_path,       chain_path,  key_path, self_path,
                           self_key_path, client_path, log_path};
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
        unlink(paths[i]);
    rmdir(dir);
    X509_free(leaf_cert);
    X509_free(self_cert);
    EVP_PKEY_free(leaf_key);
    EVP_PKEY_free(self_key);
}

/* ---- configuration and the log ---- */

/* Loads main.cf text (plus the log file) and builds the smtp client. */
static struct tls_client *client_from(const char *main_cf)
{
    struct buf text = BUF_INIT, err = BUF_INIT;
    buf_appendf(&text, "%s\n", main_cf);
    if (config_load_string(text.data, text.len, dir, "main.cf", &err) < 0) {
        printf("#   main.cf: %s\n", err.data);
        abort();
    }
    buf_reset(&err);
    struct tls_client *client = tls_client_new("smtp", &err);
    if (client == NULL)
        printf("#   tls_client_new: %s\n", err.data);
    buf_free(&text);
    buf_free(&err);
    return client;
}

static void log_reset(void)
{
    log_close();
    unlink(log_path);
    log_open(log_path, NULL);
}

/* 1 when the log has a line containing text. */
static int log_has(const char *text)
{
    struct buf content = BUF_INIT;
    int found = 0;
    FILE *f = fopen(log_path, "r");
    if (f) {
        char chunk[4096];
        size_t got;
        while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0)
            buf_append(&content, chunk, got);
        fclose(f);
        found = strstr(buf_cstr(&content), text) != NULL;
    }
    if (!found)
        printf("#   log lacks \"%s\":\n%s", text, buf_cstr(&content));
    buf_free(&content);
    return found;
}

/* ---- a TCP connection on 127.0.0.1 and the two ends ---- */

static void nonblocking(int fd)
{
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

static unsigned tcp_pair(int *client_fd, int *server_fd)
{
    int listener = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET};
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(sin);
    if (bind(listener, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
        listen(listener, 1) < 0 ||
        getsockname(listener, (struct sockaddr *)&sin, &len) < 0)
        abort();
    *client_fd = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(*client_fd, (struct sockaddr *)&sin, sizeof(sin)) < 0)
        abort();
    *server_fd = accept(listener, NULL, NULL);
    if (*server_fd < 0)
        abort();
    close(listener);
    nonblocking(*client_fd);
    nonblocking(*server_fd);
    return ntohs(sin.sin_port);
}

/* The server end: lib/tls's server, or a bare OpenSSL one. */
struct server_end {
    struct tls_server *server;
    struct tls_conn *conn;
    SSL_CTX *raw_ctx;
    SSL *raw;
};

static void server_lib(struct server_end *s, const char *cert, const char *key,
                       const char *protocols, int fd)
{
    memset(s, 0, sizeof(*s));
    struct tls_server_settings set = {
        .service = "test",
        .cert_file = cert,
        .key_file = key,
        .chain_files = "",
        .protocols = protocols,
        .cipher_grade = "medium",
        .high_cipherlist = "aNULL:-aNULL:HIGH:@STRENGTH",
        .medium_cipherlist = "aNULL:-aNULL:HIGH:MEDIUM:+RC4:@STRENGTH",
        .ticket_lifetime = 3600,
    };
    struct buf err = BUF_INIT;
    s->server = tls_server_new(&set, &err);
    if (s->server == NULL) {
        printf("#   tls_server_new: %s\n", err.data);
        abort();
    }
    s->conn = tls_conn_server_new(s->server, fd, &err);
    buf_free(&err);
}

static int accept_any(int ok, X509_STORE_CTX *store)
{
    return 1;
}

/* A bare OpenSSL server that asks for a client certificate; with
 * max_version, limited to it (and at security level 0, which old
 * protocols need). */
static void server_raw(struct server_end *s, int fd, int max_version)
{
    memset(s, 0, sizeof(*s));
    s->raw_ctx = SSL_CTX_new(TLS_server_method());
    if (max_version) {
        SSL_CTX_set_security_level(s->raw_ctx, 0);
        SSL_CTX_set_cipher_list(s->raw_ctx, "DEFAULT:@SECLEVEL=0");
        SSL_CTX_set_min_proto_version(s->raw_ctx, TLS1_VERSION);
        SSL_CTX_set_max_proto_version(s->raw_ctx, max_version);
    }
    SSL_CTX_use_certificate_chain_file(s->raw_ctx, chain_path);
    SSL_CTX_use_PrivateKey_file(s->raw_ctx, key_path, SSL_FILETYPE_PEM);
    SSL_CTX_set_verify(s->raw_ctx, SSL_VERIFY_PEER, accept_any);
    s->raw = SSL_new(s->raw_ctx);
    SSL_set_fd(s->raw, fd);
    SSL_set_accept_state(s->raw);
}

/* 1 done, 0 again, -1 failed. */
static int server_step(struct server_end *s)
{
    if (s->conn) {
        struct buf why = BUF_INIT;
        enum tls_result r = tls_conn_handshake(s->conn, &why);
        buf_free(&why);
        return r == TLS_DONE ? 1 : r == TLS_AGAIN ? 0 : -1;
    }
    int rc = SSL_do_handshake(s->raw);
    if (rc == 1)
        return 1;
    int e = SSL_get_error(s->raw, rc);
    return e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE ? 0 : -1;
}

static void server_end_free(struct server_end *s)
{
    tls_conn_free(s->conn);
    tls_server_free(s->server);
    SSL_free(s->raw);
    SSL_CTX_free(s->raw_ctx);
}

/* Steps both ends, as two event loops would, until the client's
 * handshake ends one way or the other (bounded in rounds and time). */
static enum tls_result drive(struct tls_conn *client, struct server_end *server,
                             int client_fd, int server_fd, struct buf *why)
{
    enum tls_result c = TLS_AGAIN;
    int s = 0;
    for (int round = 0; round < 400; round++) {
        if (c == TLS_AGAIN)
            c = tls_client_handshake(client, why);
        if (s == 0)
            s = server_step(server);
        if (c != TLS_AGAIN && (s != 0 || c == TLS_FAILED))
            break;
        struct pollfd fds[2] = {{client_fd, POLLIN, 0}, {server_fd, POLLIN, 0}};
        (void)poll(fds, 2, 10);
    }
    return c;
}

/* One connection from the client's point of view. */
struct run {
    struct tls_conn *conn;
    struct server_end server;
    int client_fd, server_fd;
    unsigned port;
    enum tls_result result;
    struct buf why;
};

/* Connects to a server with cert (lib/tls's, or raw when cert is NULL,
 * server_protocols then an OpenSSL version number or NULL) under policy
 * for peer (host given; addr and port filled in). */
static void run_open(struct run *r, struct tls_client *client,
                     const struct tls_policy *policy,
                     struct tls_client_peer *peer, const char *cert,
                     const char *key, const char *server_protocols)
{
    memset(r, 0, sizeof(*r));
    buf_init(&r->why);
    r->port = tcp_pair(&r->client_fd, &r->server_fd);
    if (cert)
        server_lib(&r->server, cert, key, server_protocols, r->server_fd);
    else
        server_raw(&r->server, r->server_fd,
                   server_protocols ? atoi(server_protocols) : 0);
    peer->addr = "127.0.0.1";
    if (peer->port == 0) /* a test may name the port the cache keys on */
        peer->port = r->port;
    r->conn = tls_client_conn_new(client, policy, peer, r->client_fd, &r->why);
    r->result = r->conn ? drive(r->conn, &r->server, r->client_fd, r->server_fd,
                                &r->why)
                        : TLS_FAILED;
}

/* A line from server to client through the streams, so the client also
 * reads what follows the handshake (TLSv1.3 session tickets). */
static void run_exchange(struct run *r)
{
    struct stream *cs = stream_open(r->client_fd),
                  *ss = stream_open(r->server_fd);
    stream_set_nonblocking(cs, 1);
    stream_set_nonblocking(ss, 1);
    tls_conn_attach(r->conn, cs);
    tls_conn_attach(r->server.conn, ss);
    stream_puts(ss, "250 ok\r\n");
    CHECK_INT(stream_flush(ss), STREAM_OK);
    struct buf line = BUF_INIT;
    enum stream_status status = STREAM_AGAIN;
    for (int i = 0; i < 200 && status == STREAM_AGAIN; i++) {
        status = stream_read_line(cs, &line, 100);
        if (status == STREAM_AGAIN) {
            struct pollfd fd = {r->client_fd, POLLIN, 0};
            (void)poll(&fd, 1, 10);
        }
    }
    CHECK_INT(status, STREAM_OK);
    CHECK_STR(buf_cstr(&line), "250 ok");
    buf_free(&line);
    stream_release(cs);
    stream_release(ss);
}

static void run_close(struct run *r)
{
    tls_conn_free(r->conn);
    server_end_free(&r->server);
    close(r->client_fd);
    close(r->server_fd);
    buf_free(&r->why);
}

static struct tls_client_peer peer_for(const char *nexthop, const char *host)
{
    struct tls_client_peer peer = {.nexthop = nexthop, .host = host};
    return peer;
}

static void policy_level(struct tls_policy *p, enum tls_client_level level)
{
    tls_policy_init(p);
    p->level = level;
}

/* ---- the cases ---- */

static void test_may_untrusted(void)
{
    struct tls_client *client = client_from("smtp_tls_loglevel = 1");
    struct tls_policy p;
    policy_level(&p, TLS_CLIENT_MAY);
    struct tls_client_peer peer = peer_for("example.test", "mx.example.test");
    log_reset();
    struct run r;
    run_open(&r, client, &p, &peer, self_path, self_key_path, ">=TLSv1.2");
    CHECK_INT(r.result, TLS_DONE);
    CHECK_INT(tls_client_trust(r.conn), TLS_TRUST_UNTRUSTED);
    CHECK_STR(tls_trust_name(tls_client_trust(r.conn)), "Untrusted");
    char line[160];
    snprintf(line, sizeof(line),
             "Untrusted TLS connection established to "
             "mx.example.test[127.0.0.1]:%u: TLSv1.3 with cipher TLS_",
             r.port);
    CHECK(log_has(line));
    CHECK(log_has(" bits) key-exchange "));
    CHECK(log_has(" server-signature ECDSA (256 bits) server-digest SHA256"));
    run_close(&r);
    tls_policy_free(&p);
    tls_client_free(client);
}

static void test_may_trusted(void)
{
    char cf[256];
    snprintf(cf, sizeof(cf), "smtp_tls_CAfile = %s", ca_path);
    struct tls_client *client = client_from(cf);
    struct tls_policy p;
    policy_level(&p, TLS_CLIENT_MAY);
    struct tls_client_peer peer = peer_for("example.test", "mx.example.test");
    struct run r;
    run_open(&r, client, &p, &peer, chain_path, key_path, ">=TLSv1.2");
    CHECK_INT(r.result, TLS_DONE);
    /* may checks no name: the chain is all it can vouch for. */
    CHECK_INT(tls_client_trust(r.conn), TLS_TRUST_TRUSTED);
    run_close(&r);
    /* A caller that knows no names: still a connection, no crash. */
    peer = peer_for(NULL, NULL);
    p.level = TLS_CLIENT_VERIFY;
    run_open(&r, client, &p, &peer, chain_path, key_path, ">=TLSv1.2");
    CHECK_INT(r.result, TLS_FAILED);
    CHECK_STR(buf_cstr(&r.why), "Server certificate not verified");
    run_close(&r);
    struct tls_tlsa ta = {2, 0, 1, ca_cert_sha256, 32};
    peer.tlsa = &ta;
    peer.tlsa_count = 1;
    p.level = TLS_CLIENT_DANE;
    run_open(&r, client, &p, &peer, chain_path, key_path, ">=TLSv1.2");
    CHECK(r.conn == NULL);
    CHECK_STR(buf_cstr(&r.why), "DANE needs the server's host name");
    run_close(&r);
    tls_policy_free(&p);
    tls_client_free(client);
}

static void test_verify(void)
{
    char cf[256];
    snprintf(cf, sizeof(cf),
             "smtp_tls_CAfile = %s\nsmtp_tls_loglevel = 1\n"
             "smtp_tls_security_level = verify",
             ca_path);
    struct tls_client *client = client_from(cf);
    struct tls_policy p;
    tls_policy_init(&p);
    struct buf err = BUF_INIT;
    CHECK_INT(tls_client_policy_default(client, &p, &err), 0);
    CHECK_INT(p.level, TLS_CLIENT_VERIFY);

    /* The MX host name (smtp_tls_verify_cert_match = hostname). */
    struct tls_client_peer peer = peer_for("example.test", "mx.example.test");
    log_reset();
    struct run r;
    run_open(&r, client, &p, &peer, chain_path, key_path, ">=TLSv1.2");
    CHECK_INT(r.result, TLS_DONE);
    CHECK_INT(tls_client_trust(r.conn), TLS_TRUST_VERIFIED);
    char line[160];
    snprintf(line, sizeof(line),
             "Verified TLS connection established to "
             "mx.example.test[127.0.0.1]:%u: TLSv1.3 with cipher",
             r.port);
    CHECK(log_has(line));
    run_close(&r);

    /* A name the certificate does not have. */
    peer = peer_for("example.test", "other.example.test");
    log_reset();
    run_open(&r, client, &p, &peer, chain_path, key_path, ">=TLSv1.2");
    CHECK_INT(r.result, TLS_FAILED);
    CHECK_STR(buf_cstr(&r.why), "Server certificate not verified");
    CHECK_INT(tls_client_trust(r.conn), TLS_TRUST_TRUSTED);
    snprintf(line, sizeof(line),
             "server certificate verification failed for "
             "other.example.test[127.0.0.1]:%u: num=62:hostname mismatch",
             r.port);
    CHECK(log_has(line));
    run_close(&r);

    /* A certificate from no CA we know. */
    peer = peer_for("example.test", "mx.example.test");
    log_reset();
    run_open(&r, client, &p, &peer, self_path, self_key_path, ">=TLSv1.2");
    CHECK_INT(r.result, TLS_FAILED);
    CHECK_STR(buf_cstr(&r.why), "Server certificate not trusted");
    CHECK_INT(tls_client_trust(r.conn), TLS_TRUST_UNTRUSTED);
    CHECK(log_has("certificate verification failed for mx.example.test"
                  "[127.0.0.1]:"));
    CHECK(log_has("untrusted issuer /CN=mx.example.test"));
    run_close(&r);

    /* A policy table's match= instead of main.cf's. */
    tls_policy_free(&p);
    CHECK_INT(tls_policy_parse("verify match=mail.example.test", &p, &err), 0);
    peer = peer_for("example.test", "unrelated.test");
    run_open(&r, client, &p, &peer, chain_path, key_path, ">=TLSv1.2");
    CHECK_INT(r.result, TLS_DONE);
    CHECK_INT(tls_client_trust(r.conn), TLS_TRUST_VERIFIED);
    run_close(&r);
    buf_free(&err);
    tls_policy_free(&p);
    tls_client_free(client);
}

/* secure: the next-hop names (nexthop, dot-nexthop by default); the MX
 * host name only when DNSSEC vouched for it. */
static void test_secure(void)
{
    char cf[256];
    snprintf(cf, sizeof(cf), "smtp_tls_CAfile = %s", ca_path);
    struct tls_client *client = client_from(cf);
    struct tls_policy p;
    policy_level(&p, TLS_CLIENT_SECURE);
    struct run r;

    struct tls_client_peer peer = peer_for("example.test", "mx.example.test");
    run_open(&r, client, &p, &peer, chain_path, key_path, ">=TLSv1.2");
    CHECK_INT(r.result, TLS_DONE);
    CHECK_INT(tls_client_trust(r.conn), TLS_TRUST_VERIFIED);
    run_close(&r);

    /* Mail for other.test sent to mx.example.test: its name is no
     * proof without DNSSEC... */
    peer = peer_for("other.test", "mx.example.test");
    run_open(&r, client, &p, &peer, chain_path, key_path, ">=TLSv1.2");
    CHECK_INT(r.result, TLS_FAILED);
    CHECK_STR(buf_cstr(&r.why), "Server certificate not verified");
    run_close(&r);
    /* ...and is with it. */
    peer.host_dnssec = 1;
    run_open(&r, client, &p, &peer, chain_path, key_path, ">=TLSv1.2");
    CHECK_INT(r.result, TLS_DONE);
    CHECK_INT(tls_client_trust(r.conn), TLS_TRUST_VERIFIED);
    run_close(&r);

    /* match= from the table: a pattern for the shared server. */
    struct buf err = BUF_INIT;
    tls_policy_free(&p);
    CHECK_INT(tls_policy_parse("secure match=.example.test", &p, &err), 0);
    peer = peer_for("other.test", "mx.example.test");
    run_open(&r, client, &p, &peer, chain_path, key_path, ">=TLSv1.2");
    CHECK_INT(r.result, TLS_DONE);
    run_close(&r);
    tls_policy_free(&p);
    CHECK_INT(tls_policy_parse("secure match=nexthop", &p, &err), 0);
    peer = peer_for("example.test", "mx.example.test");
    run_open(&r, client, &p, &peer, chain_path, key_path, ">=TLSv1.2");
    CHECK_INT(r.result, TLS_FAILED); /* example.test itself is not named */
    run_close(&r);
    buf_free(&err);
    tls_policy_free(&p);
    tls_client_free(client);
}

/* DANE-EE(3 1 1): the key itself, no CA and no name needed. */
static void test_dane_ee(void)
{
    struct tls_client *client = client_from("smtp_tls_loglevel = 1");
    struct tls_policy p;
    policy_level(&p, TLS_CLIENT_DANE);
    struct tls_tlsa right = {3, 1, 1, leaf_spki_sha256, 32};
    struct tls_tlsa wrong = {3, 1, 1, other_spki_sha256, 32};
    struct tls_client_peer peer = peer_for("example.test", "dane.example.test");
    peer.tlsa = &right;
    peer.tlsa_count = 1;
    log_reset();
    struct run r;
    run_open(&r, client, &p, &peer, chain_path, key_path, ">=TLSv1.2");
    CHECK_INT(r.result, TLS_DONE);
    CHECK_INT(tls_client_trust(r.conn), TLS_TRUST_VERIFIED);
    CHECK_INT(tls_client_conn_level(r.conn), TLS_CLIENT_DANE);
    CHECK(log_has("Verified TLS connection established to "
                  "dane.example.test[127.0.0.1]:"));
    run_close(&r);

    peer.tlsa = &wrong;
    run_open(&r, client, &p, &peer, chain_path, key_path, ">=TLSv1.2");
    CHECK_INT(r.result, TLS_FAILED);
    CHECK_STR(buf_cstr(&r.why), "Server certificate not verified");
    run_close(&r);
    tls_policy_free(&p);
    tls_client_free(client);
}

/* DANE-TA(2 0 1): the CA in the server's chain, and the TLSA base
 * domain must be a name of the certificate (RFC 7672 3.2.2). */
static void test_dane_ta(void)
{
    struct tls_client *client = client_from("");
    struct tls_policy p;
    policy_level(&p, TLS_CLIENT_DANE_ONLY);
    struct tls_tlsa ta = {2, 0, 1, ca_cert_sha256, 32};
    struct tls_client_peer peer = peer_for("example.test", "mx.example.test");
    peer.tlsa = &ta;
    peer.tlsa_count = 1;
    struct run r;
    run_open(&r, client, &p, &peer, chain_path, key_path, ">=TLSv1.2");
    CHECK_INT(r.result, TLS_DONE);
    CHECK_INT(tls_client_trust(r.conn), TLS_TRUST_VERIFIED);
    run_close(&r);

    peer.host = "wrong.example.test";
    run_open(&r, client, &p, &peer, chain_path, key_path, ">=TLSv1.2");
    CHECK_INT(r.result, TLS_FAILED);
    CHECK_STR(buf_cstr(&r.why), "Server certificate not verified");
    run_close(&r);

    /* The self-signed server is not under that CA. */
    peer.host = "mx.example.test";
    run_open(&r, client, &p, &peer, self_path, self_key_path, ">=TLSv1.2");
    CHECK_INT(r.result, TLS_FAILED);
    run_close(&r);

    /* Records found at the CNAME-expanded name (RFC 7672 section 2.2.2):
     * that name is checked, and the host name is accepted too. */
    peer.host = "alias.example.test";
    peer.tlsa_base = "mx.example.test";
    run_open(&r, client, &p, &peer, chain_path, key_path, ">=TLSv1.2");
    CHECK_INT(r.result, TLS_DONE);
    CHECK_INT(tls_client_trust(r.conn), TLS_TRUST_VERIFIED);
    run_close(&r);
    peer.host = "mx.example.test";
    peer.tlsa_base = "target.example.test";
    run_open(&r, client, &p, &peer, chain_path, key_path, ">=TLSv1.2");
    CHECK_INT(r.result, TLS_DONE);
    CHECK_INT(tls_client_trust(r.conn), TLS_TRUST_VERIFIED);
    run_close(&r);
    peer.tlsa_base = NULL;

    /* An insecure MX (smtp_tls_dane_insecure_mx_policy = dane): a match
     * is Trusted and passes; a name mismatch still fails. */
    peer.dane_trusted_only = 1;
    run_open(&r, client, &p, &peer, chain_path, key_path, ">=TLSv1.2");
    CHECK_INT(r.result, TLS_DONE);
    CHECK_INT(tls_client_trust(r.conn), TLS_TRUST_TRUSTED);
    run_close(&r);
    peer.host = "wrong.example.test";
    run_open(&r, client, &p, &peer, chain_path, key_path, ">=TLSv1.2");
    CHECK_INT(r.result, TLS_FAILED);
    CHECK_STR(buf_cstr(&r.why), "Server certificate not verified");
    run_close(&r);
    tls_policy_free(&p);
    tls_client_free(client);
}

/* dane without usable records falls back as Postfix does. */
static void test_dane_fallback(void)
{
    struct tls_policy p;
    policy_level(&p, TLS_CLIENT_DANE);
    struct tls_tlsa pkix[2] = {{0, 0, 1, ca_cert_sha256, 32},
                               {3, 1, 1, leaf_spki_sha256, 31}};
    struct tls_client_peer peer = peer_for("example.test", "mx.example.test");
    peer.addr = "192.0.2.1";
    enum tls_client_level level;
    struct buf why = BUF_INIT;
    CHECK_INT(tls_client_effective_level(&p, &peer, &level, &why), 0);
    CHECK_INT(level, TLS_CLIENT_MAY);
    peer.tlsa = pkix;
    peer.tlsa_count = 2; /* usage 0; a digest of the wrong length */
    CHECK_INT(tls_client_effective_level(&p, &peer, &level, &why), 0);
    CHECK_INT(level, TLS_CLIENT_ENCRYPT);
    p.level = TLS_CLIENT_DANE_ONLY;
    CHECK_INT(tls_client_effective_level(&p, &peer, &level, &why), -1);
    CHECK_STR(buf_cstr(&why), "TLS is required, but host "
                              "mx.example.test[192.0.2.1] has no usable "
                              "DNSSEC-validated TLSA records");
    buf_reset(&why);
    tls_client_reason_not_offered(&peer, &why);
    CHECK_STR(buf_cstr(&why), "TLS is required, but was not offered by host "
                              "mx.example.test[192.0.2.1]");
    p.level = TLS_CLIENT_VERIFY;
    CHECK_INT(tls_client_effective_level(&p, &peer, &level, &why), 0);
    CHECK_INT(level, TLS_CLIENT_VERIFY);
    buf_free(&why);
    tls_policy_free(&p);
}

static void test_fingerprint(void)
{
    struct tls_client *client = client_from("");
    struct tls_policy p;
    tls_policy_init(&p);
    struct buf value = BUF_INIT, err = BUF_INIT;
    buf_append_str(&value, "fingerprint match=00:11|");
    for (int i = 0; i < 32; i++)
        buf_appendf(&value, "%s%02X", i ? ":" : "", leaf_cert_sha256[i]);
    CHECK_INT(tls_policy_parse(value.data, &p, &err), 0);
    struct tls_client_peer peer = peer_for("example.test", "mx.example.test");
    struct run r;
    run_open(&r, client, &p, &peer, chain_path, key_path, ">=TLSv1.2");
    CHECK_INT(r.result, TLS_DONE);
    CHECK_INT(tls_client_trust(r.conn), TLS_TRUST_VERIFIED);
    run_close(&r);
    run_open(&r, client, &p, &peer, self_path, self_key_path, ">=TLSv1.2");
    CHECK_INT(r.result, TLS_FAILED);
    CHECK_STR(buf_cstr(&r.why), "Server certificate not verified");
    run_close(&r);
    buf_free(&value);
    buf_free(&err);
    tls_policy_free(&p);
    tls_client_free(client);
}

/* The mandatory floor applies from encrypt up, the other list below. */
static void test_protocol_floor(void)
{
    struct tls_client *client =
        client_from("smtp_tls_mandatory_protocols = >=TLSv1.3\n"
                    "smtp_tls_protocols = >=TLSv1.2");
    struct tls_policy p;
    policy_level(&p, TLS_CLIENT_ENCRYPT);
    struct tls_client_peer peer = peer_for("example.test", "mx.example.test");
    struct run r;
    run_open(&r, client, &p, &peer, chain_path, key_path, "TLSv1.2");
    CHECK_INT(r.result, TLS_FAILED);
    CHECK_STR(buf_cstr(&r.why), "Cannot start TLS: handshake failure");
    run_close(&r);
    p.level = TLS_CLIENT_MAY;
    run_open(&r, client, &p, &peer, chain_path, key_path, "TLSv1.2");
    CHECK_INT(r.result, TLS_DONE);
    run_close(&r);
    /* A server that stops at TLSv1.1, against the default floor. */
    tls_client_free(client);
    client = client_from("");
    char old_version[16];
    snprintf(old_version, sizeof(old_version), "%d", TLS1_1_VERSION);
    p.level = TLS_CLIENT_ENCRYPT;
    run_open(&r, client, &p, &peer, NULL, NULL, old_version);
    CHECK_INT(r.result, TLS_FAILED);
    CHECK_STR(buf_cstr(&r.why), "Cannot start TLS: handshake failure");
    run_close(&r);
    /* The table's protocols= wins over main.cf. */
    tls_client_free(client);
    client = client_from("smtp_tls_mandatory_protocols = >=TLSv1.3");
    p.level = TLS_CLIENT_ENCRYPT;
    p.protocols = strdup(">=TLSv1.2");
    run_open(&r, client, &p, &peer, chain_path, key_path, "TLSv1.2");
    CHECK_INT(r.result, TLS_DONE);
    run_close(&r);
    tls_policy_free(&p);
    tls_client_free(client);
}

/* Cipher exclusions (TLSv1.2: TLSv1.3 suites are not cipher-list
 * ciphers): main.cf's mandatory list from encrypt up, the opportunistic
 * one below, a table's exclude= over both. */
static void test_exclude_ciphers(void)
{
    struct tls_client *client =
        client_from("smtp_tls_mandatory_exclude_ciphers = AESGCM, CHACHA20\n"
                    "smtp_tls_exclude_ciphers = AES256");
    struct tls_policy p;
    policy_level(&p, TLS_CLIENT_ENCRYPT);
    struct tls_client_peer peer = peer_for("example.test", "mx.example.test");
    struct run r;
    struct buf text = BUF_INIT;
    run_open(&r, client, &p, &peer, chain_path, key_path, "TLSv1.2");
    CHECK_INT(r.result, TLS_DONE);
    if (r.result == TLS_DONE)
        tls_conn_summary(r.conn, &text);
    CHECK(strncmp(text.data ? text.data : "", "TLSv1.2 with cipher ", 20) == 0);
    CHECK(strstr(buf_cstr(&text), "GCM") == NULL);
    CHECK(strstr(buf_cstr(&text), "CHACHA") == NULL);
    run_close(&r);

    p.level = TLS_CLIENT_MAY;
    buf_reset(&text);
    run_open(&r, client, &p, &peer, chain_path, key_path, "TLSv1.2");
    if (r.result == TLS_DONE)
        tls_conn_summary(r.conn, &text);
    CHECK(strstr(buf_cstr(&text), "TLSv1.2 with cipher ") != NULL);
    CHECK(strstr(buf_cstr(&text), "AES256") == NULL);
    run_close(&r);

    p.level = TLS_CLIENT_ENCRYPT;
    p.exclude = strdup("AES:CHACHA20");
    buf_reset(&text);
    run_open(&r, client, &p, &peer, chain_path, key_path, "TLSv1.2");
    if (r.result == TLS_DONE)
        tls_conn_summary(r.conn, &text);
    CHECK(strstr(buf_cstr(&text), "AES") == NULL);
    run_close(&r);
    buf_free(&text);
    tls_policy_free(&p);
    tls_client_free(client);
}

/* SNI: none by default, the TLSA base domain with DANE, what
 * smtp_tls_servername says otherwise; and a client certificate. */
static void test_sni_and_client_cert(void)
{
    char cf[512];
    snprintf(cf, sizeof(cf), "smtp_tls_cert_file = %s\nsmtp_tls_loglevel = 1",
             client_path);
    struct tls_client *client = client_from(cf);
    struct tls_policy p;
    policy_level(&p, TLS_CLIENT_MAY);
    struct tls_client_peer peer = peer_for("example.test", "mx.example.test");
    log_reset();
    struct run r;
    run_open(&r, client, &p, &peer, NULL, NULL, NULL);
    CHECK_INT(r.result, TLS_DONE);
    CHECK(SSL_get_servername(r.server.raw, TLSEXT_NAMETYPE_host_name) == NULL);
    X509 *sent = SSL_get0_peer_certificate(r.server.raw);
    CHECK(sent != NULL);
    if (sent) {
        char name[128];
        X509_NAME_oneline(X509_get_subject_name(sent), name, sizeof(name));
        CHECK_STR(name, "/CN=client.example.test");
    }
    CHECK(log_has(" client-signature ECDSA (256 bits) client-digest SHA256"));
    run_close(&r);

    struct tls_tlsa right = {3, 1, 1, leaf_spki_sha256, 32};
    peer.tlsa = &right;
    peer.tlsa_count = 1;
    p.level = TLS_CLIENT_DANE;
    run_open(&r, client, &p, &peer, NULL, NULL, NULL);
    CHECK_INT(r.result, TLS_DONE);
    CHECK_STR(SSL_get_servername(r.server.raw, TLSEXT_NAMETYPE_host_name),
              "mx.example.test");
    run_close(&r);
    /* Records at a CNAME-expanded name: SNI is that name (the TLSA base
     * domain). */
    peer.tlsa_base = "target.example.test";
    run_open(&r, client, &p, &peer, NULL, NULL, NULL);
    CHECK_STR(SSL_get_servername(r.server.raw, TLSEXT_NAMETYPE_host_name),
              "target.example.test");
    run_close(&r);
    peer.tlsa_base = NULL;

    peer.tlsa_count = 0;
    p.level = TLS_CLIENT_MAY;
    p.servername = strdup("nexthop");
    run_open(&r, client, &p, &peer, NULL, NULL, NULL);
    CHECK_STR(SSL_get_servername(r.server.raw, TLSEXT_NAMETYPE_host_name),
              "example.test");
    run_close(&r);
    /* An address is never sent; a bad literal name is an error. */
    free(p.servername);
    p.servername = strdup("hostname");
    peer.host = "192.0.2.7";
    run_open(&r, client, &p, &peer, NULL, NULL, NULL);
    CHECK_INT(r.result, TLS_DONE);
    CHECK(SSL_get_servername(r.server.raw, TLSEXT_NAMETYPE_host_name) == NULL);
    run_close(&r);
    free(p.servername);
    p.servername = strdup("bad_name!");
    run_open(&r, client, &p, &peer, NULL, NULL, NULL);
    CHECK(r.conn == NULL);
    CHECK_STR(buf_cstr(&r.why), "invalid smtp_tls_servername \"bad_name!\"");
    run_close(&r);
    tls_policy_free(&p);
    tls_client_free(client);
}

/* A second connection to the same host under the same policy resumes,
 * Verified as the first; another policy does not share the session. */
static void test_resumption(void)
{
    char cf[256];
    snprintf(cf, sizeof(cf), "smtp_tls_CAfile = %s\nsmtp_tls_loglevel = 2",
             ca_path);
    struct tls_client *client = client_from(cf);
    struct tls_policy p;
    policy_level(&p, TLS_CLIENT_VERIFY);
    struct tls_client_peer peer = peer_for("example.test", "mx.example.test");
    peer.port = 25; /* the listener's port changes between the two */
    /* One server context for both connections: its ticket keys. */
    int cfd, sfd;
    struct run r;
    log_reset();
    run_open(&r, client, &p, &peer, chain_path, key_path, ">=TLSv1.2");
    CHECK_INT(r.result, TLS_DONE);
    CHECK(!tls_conn_resumed(r.conn));
    run_exchange(&r);
    CHECK_INT(tls_client_cache_count(client), 1);
    CHECK(log_has("save session smtp&example.test&mx.example.test&127.0.0.1&"));

    /* The second connection: same server context, new socket. */
    struct tls_server *server = r.server.server;
    r.server.server = NULL;
    run_close(&r);
    memset(&r, 0, sizeof(r));
    buf_init(&r.why);
    r.port = tcp_pair(&cfd, &sfd);
    r.client_fd = cfd;
    r.server_fd = sfd;
    r.server.server = server;
    struct buf err = BUF_INIT;
    r.server.conn = tls_conn_server_new(server, sfd, &err);
    r.conn = tls_client_conn_new(client, &p, &peer, cfd, &r.why);
    CHECK(r.conn != NULL);
    if (r.conn) {
        r.result = drive(r.conn, &r.server, cfd, sfd, &r.why);
        CHECK_INT(r.result, TLS_DONE);
        CHECK(tls_conn_resumed(r.conn));
        CHECK_INT(tls_client_trust(r.conn), TLS_TRUST_VERIFIED);
    }
    CHECK(log_has("mx.example.test[127.0.0.1]:25: looking for session "
                  "smtp&example.test&mx.example.test&127.0.0.1&25&"));
    CHECK(log_has("mx.example.test[127.0.0.1]:25: Reusing old session"));
    run_close(&r);

    /* may is another policy: a full handshake. */
    tls_policy_free(&p);
    policy_level(&p, TLS_CLIENT_MAY);
    run_open(&r, client, &p, &peer, chain_path, key_path, ">=TLSv1.2");
    CHECK_INT(r.result, TLS_DONE);
    CHECK(!tls_conn_resumed(r.conn));
    run_close(&r);
    buf_free(&err);
    tls_policy_free(&p);
    tls_client_free(client);

    /* smtp_tls_session_cache_timeout = 0: nothing kept. */
    client = client_from("smtp_tls_session_cache_timeout = 0");
    policy_level(&p, TLS_CLIENT_MAY);
    run_open(&r, client, &p, &peer, chain_path, key_path, ">=TLSv1.2");
    run_exchange(&r);
    CHECK_INT(tls_client_cache_count(client), 0);
    run_close(&r);
    tls_policy_free(&p);
    tls_client_free(client);
}

/* The policy for a next hop: the table's entry, else main.cf's. */
static void test_policy_for_nexthop(void)
{
    char path[160];
    snprintf(path, sizeof(path), "%s/tls_policy", dir);
    FILE *f = fopen(path, "w");
    fputs("example.test secure match=.example.test\n"
          "broken.test secure tafile=/x\n",
          f);
    fclose(f);
    struct tls_client *client = client_from("smtp_tls_security_level = may");
    char spec[200];
    snprintf(spec, sizeof(spec), "texthash:%s", path);
    struct maps *maps = maps_open("smtp_tls_policy_maps", spec, 0);
    struct tls_policy p;
    tls_policy_init(&p);
    struct buf err = BUF_INIT;
    CHECK_INT(tls_client_policy(client, maps, "example.test", &p, &err), 0);
    CHECK_INT(p.level, TLS_CLIENT_SECURE);
    CHECK_INT(p.match.count, 1);
    tls_policy_free(&p);
    CHECK_INT(tls_client_policy(client, maps, "elsewhere.test", &p, &err), 0);
    CHECK_INT(p.level, TLS_CLIENT_MAY);
    CHECK_INT(p.match.count, 0);
    tls_policy_free(&p);
    CHECK_INT(tls_client_policy(client, NULL, "example.test", &p, &err), 0);
    CHECK_INT(p.level, TLS_CLIENT_MAY);
    tls_policy_free(&p);
    CHECK_INT(tls_client_policy(client, maps, "broken.test", &p, &err), -1);
    CHECK_STR(buf_cstr(&err), "TLS policy lookup for broken.test: attribute "
                              "\"tafile\" is not supported");
    tls_policy_free(&p);
    buf_free(&err);
    maps_close(maps);
    unlink(path);
    tls_client_free(client);
}

static void test_context_errors(void)
{
    struct buf err = BUF_INIT;
    config_load_string("smtp_tls_CAfile = /nonexistent/ca.pem\n", 38, dir,
                       "main.cf", &err);
    CHECK(tls_client_new("smtp", &err) == NULL);
    CHECK(strstr(buf_cstr(&err), "cannot load CA certificates from "
                                 "/nonexistent/ca.pem") != NULL);
    buf_reset(&err);
    const char *bad = "smtp_tls_security_level = paranoid\n";
    config_load_string(bad, strlen(bad), dir, "main.cf", &err);
    CHECK(tls_client_new("smtp", &err) == NULL);
    CHECK_STR(buf_cstr(&err), "invalid smtp_tls_security_level \"paranoid\"");
    buf_reset(&err);
    /* lmtp has its own parameters. */
    const char *lmtp = "lmtp_tls_security_level = encrypt\n";
    config_load_string(lmtp, strlen(lmtp), dir, "main.cf", &err);
    struct tls_client *client = tls_client_new("lmtp", &err);
    CHECK(client != NULL);
    struct tls_policy p;
    tls_policy_init(&p);
    if (client)
        CHECK_INT(tls_client_policy_default(client, &p, &err), 0);
    CHECK_INT(p.level, TLS_CLIENT_ENCRYPT);
    tls_client_free(client);
    buf_free(&err);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    make_files();
    log_set_program("smtp");
    UNIT_RUN(test_may_untrusted);
    UNIT_RUN(test_may_trusted);
    UNIT_RUN(test_verify);
    UNIT_RUN(test_secure);
    UNIT_RUN(test_dane_ee);
    UNIT_RUN(test_dane_ta);
    UNIT_RUN(test_dane_fallback);
    UNIT_RUN(test_fingerprint);
    UNIT_RUN(test_protocol_floor);
    UNIT_RUN(test_exclude_ciphers);
    UNIT_RUN(test_sni_and_client_cert);
    UNIT_RUN(test_resumption);
    UNIT_RUN(test_policy_for_nexthop);
    UNIT_RUN(test_context_errors);
    log_close();
    remove_files();
    return unit_summary();
}
