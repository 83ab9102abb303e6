/* test_tls_conn.c: lib/tls's server context and connections, against an
 * OpenSSL client over a non-blocking socketpair in one thread: the
 * handshake stepped as an event loop would, lines and replies through
 * the stream, a reply too big for the socket (partial writes, the
 * write buffer moving), the protocol floor, session tickets, chain
 * files, and a key that does not match its certificate. */
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <signal.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/stream.h"
#include "tls/tls_conn.h"
#include "tls/tls_server.h"

static char dir[64];
static char cert_path[128], key_path[128], chain_path[128], other_key_path[128],
    mismatch_path[128];

static X509 *make_cert(EVP_PKEY *key, const char *cn)
{
    X509 *x = X509_new();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 86400);
    X509_set_pubkey(x, key);
    X509_NAME *name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(x, name);
    X509_sign(x, key, EVP_sha256());
    return x;
}

static void write_pem(const char *path, EVP_PKEY *key, X509 *cert)
{
    FILE *f = fopen(path, "w");
    if (f == NULL)
        abort();
    if (key)
        PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
    if (cert)
        PEM_write_X509(f, cert);
    fclose(f);
}

/* A self-signed certificate and its key, in separate files and as one
 * chain file (key first); and a key of another pair. */
static void make_files(void)
{
    snprintf(dir, sizeof(dir), "/tmp/tlsunit-XXXXXX");
    if (mkdtemp(dir) == NULL)
        abort();
    snprintf(cert_path, sizeof(cert_path), "%s/cert.pem", dir);
    snprintf(key_path, sizeof(key_path), "%s/key.pem", dir);
    snprintf(chain_path, sizeof(chain_path), "%s/chain.pem", dir);
    snprintf(other_key_path, sizeof(other_key_path), "%s/other.pem", dir);
    snprintf(mismatch_path, sizeof(mismatch_path), "%s/mismatch.pem", dir);
    EVP_PKEY *key = EVP_EC_gen("P-256"), *other = EVP_EC_gen("P-256");
    X509 *cert = make_cert(key, "mx.example.test");
    write_pem(cert_path, NULL, cert);
    write_pem(key_path, key, NULL);
    write_pem(chain_path, key, cert);
    write_pem(other_key_path, other, NULL);
    write_pem(mismatch_path, other, cert);
    X509_free(cert);
    EVP_PKEY_free(key);
    EVP_PKEY_free(other);
}

static void remove_files(void)
{
    unlink(cert_path);
    unlink(key_path);
    unlink(chain_path);
    unlink(other_key_path);
    unlink(mismatch_path);
    rmdir(dir);
}

static struct tls_server_settings settings(const char *protocols)
{
    struct tls_server_settings set = {
        .service = "test",
        .cert_file = cert_path,
        .key_file = key_path,
        .chain_files = "",
        .protocols = protocols,
        .cipher_grade = "medium",
        .high_cipherlist = "aNULL:-aNULL:HIGH:@STRENGTH",
        .medium_cipherlist = "aNULL:-aNULL:HIGH:MEDIUM:+RC4:@STRENGTH",
        .loglevel = 0,
        .ticket_lifetime = 3600,
    };
    return set;
}

static void nonblocking(int fd)
{
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

/* A client end; max_version 0 for the library's highest. */
static SSL *client_new(int fd, int max_version, SSL_SESSION *session)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    if (max_version)
        SSL_CTX_set_max_proto_version(ctx, max_version);
    SSL *ssl = SSL_new(ctx);
    SSL_CTX_free(ctx); /* the SSL keeps its reference */
    SSL_set_fd(ssl, fd);
    SSL_set_connect_state(ssl);
    if (session)
        SSL_set_session(ssl, session);
    return ssl;
}

/* Steps both ends, as two event loops would, until the server's
 * handshake ends one way or the other. */
static enum tls_result handshake(struct tls_conn *server, SSL *client)
{
    for (int round = 0; round < 200; round++) {
        (void)SSL_do_handshake(client);
        struct buf why = BUF_INIT;
        enum tls_result result = tls_conn_handshake(server, &why);
        buf_free(&why);
        if (result != TLS_AGAIN) {
            (void)SSL_do_handshake(client);
            return result;
        }
        CHECK(tls_conn_wants(server) == STREAM_WANT_READ ||
              tls_conn_wants(server) == STREAM_WANT_WRITE);
    }
    return TLS_AGAIN;
}

/* Reads what the client can get now into out. */
static void client_drain(SSL *client, struct buf *out)
{
    char chunk[4096];
    size_t got;
    while (SSL_read_ex(client, chunk, sizeof(chunk), &got) == 1)
        buf_append(out, chunk, got);
}

static void client_send(SSL *client, const char *text)
{
    size_t put;
    CHECK(SSL_write_ex(client, text, strlen(text), &put) == 1);
}

struct pair {
    int server_fd, client_fd;
    struct tls_server *server;
    struct tls_conn *conn;
    SSL *client;
};

static int pair_open(struct pair *p, const char *protocols, int client_max,
                     SSL_SESSION *session)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
        abort();
    nonblocking(sv[0]);
    nonblocking(sv[1]);
    p->server_fd = sv[0];
    p->client_fd = sv[1];
    struct tls_server_settings set = settings(protocols);
    struct buf err = BUF_INIT;
    p->server = tls_server_new(&set, &err);
    CHECK(p->server != NULL);
    if (p->server == NULL)
        printf("#   %s\n", buf_cstr(&err));
    buf_free(&err);
    if (p->server == NULL)
        return -1;
    struct buf why = BUF_INIT;
    p->conn = tls_conn_server_new(p->server, p->server_fd, &why);
    buf_free(&why);
    p->client = client_new(p->client_fd, client_max, session);
    return p->conn ? 0 : -1;
}

static void pair_close(struct pair *p)
{
    tls_conn_free(p->conn);
    tls_server_free(p->server);
    SSL_free(p->client);
    close(p->server_fd);
    close(p->client_fd);
}

static void test_handshake_and_lines(void)
{
    struct pair p;
    if (pair_open(&p, ">=TLSv1.2", 0, NULL) < 0)
        return;
    CHECK_INT(handshake(p.conn, p.client), TLS_DONE);
    CHECK_STR(tls_conn_protocol(p.conn), "TLSv1.3");
    struct buf text = BUF_INIT;
    tls_conn_summary(p.conn, &text);
    CHECK(strncmp(text.data, "TLSv1.3 with cipher TLS_", 24) == 0);
    CHECK(strstr(text.data, " bits)") != NULL);
    buf_reset(&text);
    tls_conn_key_summary(p.conn, &text);
    CHECK(strstr(text.data, "server-signature ECDSA (256 bits)") != NULL);

    /* Lines in, a reply out, through the stream. */
    struct stream *s = stream_open(p.server_fd);
    stream_set_nonblocking(s, 1);
    tls_conn_attach(p.conn, s);
    client_send(p.client, "EHLO client.test\r\nNOOP\r\n");
    struct buf line = BUF_INIT;
    CHECK_INT(stream_read_line(s, &line, 100), STREAM_OK);
    CHECK_STR(buf_cstr(&line), "EHLO client.test");
    CHECK_INT(stream_read_line(s, &line, 100), STREAM_OK);
    CHECK_STR(buf_cstr(&line), "NOOP");
    CHECK_INT(stream_read_line(s, &line, 100), STREAM_AGAIN);
    CHECK_INT(stream_wants(s), STREAM_WANT_READ);
    CHECK_INT(tls_conn_read_wants(p.conn), STREAM_WANT_READ);
    stream_puts(s, "250 ok\r\n");
    CHECK_INT(stream_flush(s), STREAM_OK);
    buf_reset(&text);
    client_drain(p.client, &text);
    CHECK_STR(buf_cstr(&text), "250 ok\r\n");

    /* The client closes: the end of file, not an error. */
    (void)SSL_shutdown(p.client);
    shutdown(p.client_fd, SHUT_WR);
    CHECK_INT(stream_read_line(s, &line, 100), STREAM_EOF);
    buf_free(&line);
    buf_free(&text);
    stream_release(s); /* the pair closes the fd */
    pair_close(&p);
}

/* A reply larger than the socket holds: the stream's flush returns AGAIN
 * waiting for writability and resumes from a buffer that has moved and
 * grown in between. */
static void test_large_write(void)
{
    struct pair p;
    if (pair_open(&p, ">=TLSv1.2", 0, NULL) < 0)
        return;
    CHECK_INT(handshake(p.conn, p.client), TLS_DONE);
    struct stream *s = stream_open(p.server_fd);
    stream_set_nonblocking(s, 1);
    tls_conn_attach(p.conn, s);
    struct buf sent = BUF_INIT, got = BUF_INIT;
    for (int i = 0; i < 20000; i++)
        buf_appendf(&sent, "250-line %05d of a long reply\r\n", i);
    stream_write(s, sent.data, sent.len / 2);
    int again = 0;
    size_t second_half = sent.len / 2;
    for (int round = 0; round < 10000; round++) {
        enum stream_status st = stream_flush(s);
        if (st == STREAM_OK && second_half == sent.len)
            break;
        if (st == STREAM_AGAIN) {
            again++;
            CHECK_INT(stream_wants(s), STREAM_WANT_WRITE);
        } else {
            CHECK_INT(st, STREAM_OK);
        }
        if (second_half < sent.len) {
            /* More output while some waits: the buffer grows, moves. */
            stream_write(s, sent.data + second_half, sent.len - second_half);
            second_half = sent.len;
        }
        client_drain(p.client, &got);
    }
    client_drain(p.client, &got);
    CHECK(again > 0);
    CHECK_INT(got.len, sent.len);
    CHECK(got.len == sent.len && memcmp(got.data, sent.data, got.len) == 0);
    buf_free(&sent);
    buf_free(&got);
    stream_release(s);
    pair_close(&p);
}

static void test_protocol_floor(void)
{
    struct pair p;
    if (pair_open(&p, ">=TLSv1.3", TLS1_2_VERSION, NULL) < 0)
        return;
    CHECK_INT(handshake(p.conn, p.client), TLS_FAILED);
    pair_close(&p);
    /* The same client is welcome where TLSv1.2 is allowed. */
    if (pair_open(&p, "!SSLv2, !SSLv3, !TLSv1, !TLSv1.1", TLS1_2_VERSION,
                  NULL) < 0)
        return;
    CHECK_INT(handshake(p.conn, p.client), TLS_DONE);
    CHECK_STR(tls_conn_protocol(p.conn), "TLSv1.2");
    pair_close(&p);
}

/* A client that kept the ticket of its first session resumes it. */
static void test_ticket_resumption(void)
{
    struct pair p;
    if (pair_open(&p, ">=TLSv1.2", 0, NULL) < 0)
        return;
    CHECK_INT(handshake(p.conn, p.client), TLS_DONE);
    CHECK(!tls_conn_resumed(p.conn));
    /* TLS 1.3 tickets come after the handshake: read them. */
    struct buf got = BUF_INIT;
    client_drain(p.client, &got);
    SSL_SESSION *session = SSL_get1_session(p.client);
    CHECK(session != NULL && SSL_SESSION_is_resumable(session));
    /* A second connection to the same context. */
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
        abort();
    nonblocking(sv[0]);
    nonblocking(sv[1]);
    struct buf why = BUF_INIT;
    struct tls_conn *again = tls_conn_server_new(p.server, sv[0], &why);
    SSL *client = client_new(sv[1], 0, session);
    CHECK_INT(handshake(again, client), TLS_DONE);
    CHECK(tls_conn_resumed(again));
    tls_conn_free(again);
    SSL_free(client);
    SSL_SESSION_free(session);
    close(sv[0]);
    close(sv[1]);
    buf_free(&why);
    buf_free(&got);
    pair_close(&p);
}

static struct tls_server *server_with(const char *cert, const char *key,
                                      const char *chain, struct buf *err)
{
    struct tls_server_settings set = settings(">=TLSv1.2");
    set.cert_file = cert;
    set.key_file = key;
    set.chain_files = chain;
    return tls_server_new(&set, err);
}

static void test_certificate_files(void)
{
    struct buf err = BUF_INIT;
    /* smtpd_tls_chain_files: key, then its certificate. */
    struct tls_server *server = server_with("", "", chain_path, &err);
    CHECK(server != NULL);
    CHECK_INT(tls_server_protocols(server) != 0, 1);
    tls_server_free(server);
    /* The legacy pair with the key in the certificate file. */
    server = server_with(chain_path, "", "", &err);
    CHECK(server != NULL);
    tls_server_free(server);
    /* A key that is not the certificate's, in either form. */
    buf_reset(&err);
    CHECK(server_with(cert_path, other_key_path, "", &err) == NULL);
    CHECK(strstr(buf_cstr(&err), other_key_path) != NULL);
    CHECK(strstr(buf_cstr(&err), "mismatch") != NULL);
    buf_reset(&err);
    CHECK(server_with("", "", mismatch_path, &err) == NULL);
    CHECK(strstr(buf_cstr(&err), "do not match") != NULL);
    /* A chain file whose certificate comes before any key. */
    buf_reset(&err);
    char list[300];
    snprintf(list, sizeof(list), "%s %s", cert_path, key_path);
    CHECK(server_with("", "", list, &err) == NULL);
    CHECK(strstr(buf_cstr(&err), "before any private key") != NULL);
    /* Key file, then certificate file: one chain, as Postfix reads it. */
    buf_reset(&err);
    snprintf(list, sizeof(list), "%s, %s", key_path, cert_path);
    server = server_with("", "", list, &err);
    CHECK(server != NULL);
    tls_server_free(server);
    /* Nothing configured, a missing file. */
    buf_reset(&err);
    CHECK(server_with("", "", "", &err) == NULL);
    CHECK_STR(buf_cstr(&err), "no certificate configured");
    buf_reset(&err);
    CHECK(server_with("/nonexistent/cert.pem", "", "", &err) == NULL);
    CHECK(strstr(buf_cstr(&err), "/nonexistent/cert.pem") != NULL);
    buf_free(&err);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    make_files();
    UNIT_RUN(test_handshake_and_lines);
    UNIT_RUN(test_large_write);
    UNIT_RUN(test_protocol_floor);
    UNIT_RUN(test_ticket_resumption);
    UNIT_RUN(test_certificate_files);
    remove_files();
    return unit_summary();
}
