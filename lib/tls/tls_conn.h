/* tls_conn.h: one TLS connection on a socket, under a stream.
 *
 * The server side of a connection (the client side is made by
 * lib/tls/tls_client.h and shares everything below): the handshake,
 * driven step by step on a non-blocking socket (an event loop with many
 * sessions calls tls_conn_handshake again whenever the socket is ready
 * for what tls_conn_wants() says), then the stream's I/O layer
 * (base/stream.h's struct stream_io), so the protocol code reads lines
 * and writes replies as before. OpenSSL's WANT_READ and WANT_WRITE come
 * out as the stream's STREAM_AGAIN with stream_wants(): a read may wait
 * for the socket to be writable and a write for it to be readable.
 *
 * Memory: the context sets SSL_MODE_RELEASE_BUFFERS, so an idle
 * connection holds no record buffers, only its keys and state (a few
 * KiB). */
#ifndef POSTERN_TLS_CONN_H
#define POSTERN_TLS_CONN_H

#include "base/buf.h"
#include "base/stream.h"
#include "tls/tls_server.h"

struct tls_conn;

enum tls_result {
    TLS_DONE,   /* the handshake is complete */
    TLS_AGAIN,  /* wait for tls_conn_wants(), then call again */
    TLS_FAILED, /* the connection is unusable; why says why */
};

/* The server side of a TLS connection on fd (not owned: the stream
 * closes it). NULL with the reason in err. */
struct tls_conn *tls_conn_server_new(const struct tls_server *server, int fd,
                                     struct buf *err);

/* One step of the handshake. On TLS_FAILED, why gets the reason ("lost
 * connection", or OpenSSL's first error; the others are logged as
 * "TLS library problem" warnings). */
enum tls_result tls_conn_handshake(struct tls_conn *conn, struct buf *why);

/* After TLS_AGAIN (or a stream's STREAM_AGAIN): STREAM_WANT_READ or
 * STREAM_WANT_WRITE, what the last operation that could not finish waits
 * for. tls_conn_read_wants() and tls_conn_write_wants() say it for the
 * last read and the last write alone (0 once one went through), for an
 * event loop that must know a read is waiting for writability. */
unsigned tls_conn_wants(const struct tls_conn *conn);
unsigned tls_conn_read_wants(const struct tls_conn *conn);
unsigned tls_conn_write_wants(const struct tls_conn *conn);

/* After TLS_DONE: the stream reads and writes through the connection
 * from now on. Its buffers must be empty (a server discards what the
 * client sent before the handshake: RFC 3207, section 4.2). */
void tls_conn_attach(struct tls_conn *conn, struct stream *stream);

/* "TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)", as in
 * Postfix's log lines and Received: headers. */
void tls_conn_summary(const struct tls_conn *conn, struct buf *out);
/* "key-exchange X25519 server-signature RSA-PSS (2048 bits)
 * server-digest SHA256": what Postfix adds after the summary (parts the
 * library does not know are left out; may append nothing). On the
 * client side the server's signature is the peer's, and "client-signature
 * ECDSA (256 bits) client-digest SHA256" follows when we signed with a
 * client certificate. */
void tls_conn_key_summary(const struct tls_conn *conn, struct buf *out);
/* "TLSv1.3". */
const char *tls_conn_protocol(const struct tls_conn *conn);
/* 1 when the session was resumed from a ticket. */
int tls_conn_resumed(const struct tls_conn *conn);

/* Sends close_notify when the connection is sound (without waiting)
 * and frees it. The fd stays open. NULL is ignored. */
void tls_conn_free(struct tls_conn *conn);

#endif
