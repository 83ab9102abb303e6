/* tls_impl.h: what lib/tls's files share and nobody else sees: the
 * server context's and a connection's contents, and the OpenSSL
 * settings the server and client contexts make the same way. */
#ifndef POSTERN_TLS_IMPL_H
#define POSTERN_TLS_IMPL_H

#include <openssl/ssl.h>

#include "base/buf.h"

struct tls_server {
    SSL_CTX *ctx;
    unsigned protocols; /* TLS_PROTO_* */
    int loglevel;
};

struct tls_client_state; /* tls_client.c: the client side's own state */

struct tls_conn {
    SSL *ssl;
    unsigned wants;       /* of the last operation that said "again" */
    unsigned read_wants;  /* of the last read; 0 after one succeeded */
    unsigned write_wants; /* of the last write; 0 after one succeeded */
    int established;
    int failed;                      /* a fatal error: no close_notify */
    struct tls_client_state *client; /* NULL on the server side */
};

/* Bounds the protocols of ctx, or of ssl when ctx is NULL, to the set
 * (TLS_PROTO_* bits). 0, or -1 with the reason in err. */
int tls_set_protocols(SSL_CTX *ctx, SSL *ssl, unsigned enabled,
                      struct buf *err);

/* The OpenSSL cipher list of a Postfix grade ("high", "medium"; "low"
 * and "export" are taken as "medium" with a warning naming service), or
 * NULL with the reason in err. */
const char *tls_cipher_list(const char *grade, const char *high_list,
                            const char *medium_list, const char *service,
                            struct buf *err);

/* Postfix's *_tls_chain_files (returns the number of keys, or -1) and
 * the *_tls_cert_file / *_tls_key_file pair (0 or -1), into ctx. */
int tls_load_chain_files(SSL_CTX *ctx, const char *files, struct buf *err);
int tls_load_cert_and_key(SSL_CTX *ctx, const char *cert_file,
                          const char *key_file, struct buf *err);

/* The client side's part of tls_conn_free (tls_client.c). */
void tls_client_state_free(struct tls_client_state *state);

#endif
