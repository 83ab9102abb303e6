/* tls_conn.c: a TLS connection under a stream (tls_conn.h). */
#include "tls/tls_conn.h"

#include <errno.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/ssl.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "tls/tls_error.h"
#include "tls/tls_impl.h"

struct tls_conn *tls_conn_server_new(const struct tls_server *server, int fd,
                                     struct buf *err)
{
    tls_error_clear();
    SSL *ssl = SSL_new(server->ctx);
    if (ssl == NULL || SSL_set_fd(ssl, fd) != 1) {
        tls_error_text(err, "cannot create a TLS connection");
        SSL_free(ssl);
        return NULL;
    }
    SSL_set_accept_state(ssl);
    struct tls_conn *conn = xcalloc(1, sizeof(*conn));
    conn->ssl = ssl;
    return conn;
}

/* The outcome of an operation that did not succeed, as the stream wants
 * it: -1 with errno EAGAIN (and *wants set), 0 for the end of the
 * connection (reads), or -1 with errno for an error. */
static ssize_t op_failed(struct tls_conn *conn, int rc, int reading,
                         unsigned *wants)
{
    int saved_errno = errno;
    switch (SSL_get_error(conn->ssl, rc)) {
    case SSL_ERROR_WANT_READ:
        *wants = conn->wants = STREAM_WANT_READ;
        errno = EAGAIN;
        return -1;
    case SSL_ERROR_WANT_WRITE:
        *wants = conn->wants = STREAM_WANT_WRITE;
        errno = EAGAIN;
        return -1;
    case SSL_ERROR_ZERO_RETURN: /* close_notify, or a plain end of file */
        if (reading)
            return 0;
        errno = EPIPE;
        return -1;
    case SSL_ERROR_SYSCALL:
        conn->failed = 1;
        tls_error_log();
        if (saved_errno == 0) {
            if (reading)
                return 0;
            saved_errno = EPIPE;
        }
        errno = saved_errno;
        return -1;
    default:
        conn->failed = 1;
        tls_error_log();
        errno = EPROTO;
        return -1;
    }
}

static ssize_t conn_read(void *ctx, void *data, size_t len)
{
    struct tls_conn *conn = ctx;
    if (conn->failed) {
        errno = EPROTO;
        return -1;
    }
    size_t got = 0;
    tls_error_clear();
    errno = 0;
    int rc = SSL_read_ex(conn->ssl, data, len, &got);
    if (rc == 1) {
        conn->read_wants = 0;
        return (ssize_t)got;
    }
    return op_failed(conn, rc, 1, &conn->read_wants);
}

static ssize_t conn_write(void *ctx, const void *data, size_t len)
{
    struct tls_conn *conn = ctx;
    if (conn->failed) {
        errno = EPROTO;
        return -1;
    }
    size_t put = 0;
    tls_error_clear();
    errno = 0;
    int rc = SSL_write_ex(conn->ssl, data, len, &put);
    if (rc == 1) {
        conn->write_wants = 0;
        return (ssize_t)put;
    }
    return op_failed(conn, rc, 0, &conn->write_wants);
}

static unsigned conn_wants(void *ctx)
{
    return ((struct tls_conn *)ctx)->wants;
}

static size_t conn_pending(void *ctx)
{
    struct tls_conn *conn = ctx;
    int pending = SSL_pending(conn->ssl);
    return pending > 0 ? (size_t)pending : 0;
}

static const struct stream_io tls_stream_io = {
    .read = conn_read,
    .write = conn_write,
    .wants = conn_wants,
    .pending = conn_pending,
};

enum tls_result tls_conn_handshake(struct tls_conn *conn, struct buf *why)
{
    tls_error_clear();
    errno = 0;
    int rc = SSL_do_handshake(conn->ssl);
    if (rc == 1) {
        conn->established = 1;
        conn->wants = 0;
        return TLS_DONE;
    }
    int saved_errno = errno;
    switch (SSL_get_error(conn->ssl, rc)) {
    case SSL_ERROR_WANT_READ:
        conn->wants = STREAM_WANT_READ;
        return TLS_AGAIN;
    case SSL_ERROR_WANT_WRITE:
        conn->wants = STREAM_WANT_WRITE;
        return TLS_AGAIN;
    case SSL_ERROR_ZERO_RETURN:
        conn->failed = 1;
        buf_append_str(why, "lost connection");
        return TLS_FAILED;
    case SSL_ERROR_SYSCALL:
        conn->failed = 1;
        if (ERR_peek_error() == 0) {
            buf_append_str(why, saved_errno ? strerror(saved_errno)
                                            : "lost connection");
            return TLS_FAILED;
        }
        tls_error_text(why, "handshake failed");
        return TLS_FAILED;
    default:
        conn->failed = 1;
        tls_error_text(why, "handshake failed");
        return TLS_FAILED;
    }
}

unsigned tls_conn_wants(const struct tls_conn *conn)
{
    return conn->wants;
}

unsigned tls_conn_read_wants(const struct tls_conn *conn)
{
    return conn->read_wants;
}

unsigned tls_conn_write_wants(const struct tls_conn *conn)
{
    return conn->write_wants;
}

void tls_conn_attach(struct tls_conn *conn, struct stream *stream)
{
    stream_set_io(stream, &tls_stream_io, conn);
}

void tls_conn_summary(const struct tls_conn *conn, struct buf *out)
{
    const SSL_CIPHER *cipher = SSL_get_current_cipher(conn->ssl);
    int alg_bits = 0;
    int bits = cipher ? SSL_CIPHER_get_bits(cipher, &alg_bits) : 0;
    buf_appendf(
        out, "%s with cipher %s (%d/%d bits)", SSL_get_version(conn->ssl),
        cipher ? SSL_CIPHER_get_name(cipher) : "(none)", bits, alg_bits);
}

/* The signature algorithm a key makes, in Postfix's words. TLS 1.3
 * signs with RSA-PSS whenever the key is RSA. */
static const char *signature_name(const SSL *ssl, const EVP_PKEY *key)
{
    switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_RSA:
        return SSL_version(ssl) >= TLS1_3_VERSION ? "RSA-PSS" : "RSA";
    case EVP_PKEY_RSA_PSS:
        return "RSA-PSS";
    case EVP_PKEY_EC:
        return "ECDSA";
    case EVP_PKEY_ED25519:
        return "ED25519";
    case EVP_PKEY_ED448:
        return "ED448";
    default:
        return NULL;
    }
}

void tls_conn_key_summary(const struct tls_conn *conn, struct buf *out)
{
    SSL *ssl = conn->ssl;
    const char *sep = "";
    /* A NID for groups OpenSSL knows by number ("X25519", as Postfix
     * logs it), else the provider's name for it. */
    int group = (int)SSL_get_negotiated_group(ssl);
    const char *group_name = NULL;
    if (group > 0 && !(group & TLSEXT_nid_unknown))
        group_name = OBJ_nid2sn(group);
    if (group_name == NULL && group > 0)
        group_name = SSL_group_to_name(ssl, group);
    if (group_name) {
        buf_appendf(out, "key-exchange %s", group_name);
        sep = " ";
    }
    /* The server's signature: our own key on the server side, the
     * peer's on the client side. */
    int server_side = SSL_is_server(ssl);
    X509 *peer = server_side ? NULL : SSL_get0_peer_certificate(ssl);
    EVP_PKEY *key = server_side ? SSL_get_privatekey(ssl)
                                : (peer ? X509_get0_pubkey(peer) : NULL);
    const char *sig = key ? signature_name(ssl, key) : NULL;
    if (sig) {
        buf_appendf(out, "%sserver-signature %s (%d bits)", sep, sig,
                    EVP_PKEY_get_bits(key));
        int digest = NID_undef;
        int have = server_side ? SSL_get_signature_nid(ssl, &digest)
                               : SSL_get_peer_signature_nid(ssl, &digest);
        if (have == 1 && digest != NID_undef && OBJ_nid2sn(digest))
            buf_appendf(out, " server-digest %s", OBJ_nid2sn(digest));
        sep = " ";
    }
    /* A client that signed with its certificate says so too. */
    int client_digest = NID_undef;
    EVP_PKEY *client_key = server_side ? NULL : SSL_get_privatekey(ssl);
    const char *client_sig =
        client_key ? signature_name(ssl, client_key) : NULL;
    if (client_sig && SSL_get_signature_nid(ssl, &client_digest) == 1 &&
        client_digest != NID_undef && OBJ_nid2sn(client_digest))
        buf_appendf(out, "%sclient-signature %s (%d bits) client-digest %s",
                    sep, client_sig, EVP_PKEY_get_bits(client_key),
                    OBJ_nid2sn(client_digest));
}

const char *tls_conn_protocol(const struct tls_conn *conn)
{
    return SSL_get_version(conn->ssl);
}

int tls_conn_resumed(const struct tls_conn *conn)
{
    return SSL_session_reused(conn->ssl) == 1;
}

void tls_conn_free(struct tls_conn *conn)
{
    if (conn == NULL)
        return;
    if (conn->established && !conn->failed) {
        tls_error_clear();
        (void)SSL_shutdown(conn->ssl); /* best effort, never waits */
    }
    tls_error_clear();
    SSL_free(conn->ssl);
    tls_client_state_free(conn->client);
    free(conn);
}
