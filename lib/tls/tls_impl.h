/* tls_impl.h: what lib/tls's files share and nobody else sees: the
 * server context's contents. */
#ifndef POSTERN_TLS_IMPL_H
#define POSTERN_TLS_IMPL_H

#include <openssl/ssl.h>

struct tls_server {
    SSL_CTX *ctx;
    unsigned protocols; /* TLS_PROTO_* */
    int loglevel;
};

#endif
