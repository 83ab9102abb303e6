/* fuzz_tls_handshake.c: fuzz target for the server side of a TLS
 * handshake (lib/tls/tls_conn.c) on a non-blocking socket, fed what a
 * client sends in pieces, the way it reaches smtpd after STARTTLS or on
 * port 465: record boundaries fall anywhere. The first input byte sets
 * the piece size (1 to 256 bytes), the rest is the client's bytes.
 * Checks our promises: every step ends in DONE, AGAIN or FAILED, a
 * failure says why, and nothing loops. The server's certificate is made
 * once per process (an EC key, self-signed). */
#include <fcntl.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/log.h"
#include "tls/tls_conn.h"
#include "tls/tls_server.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct tls_server *server;

static void make_server(void)
{
    signal(SIGPIPE, SIG_IGN);
    log_open("/dev/null", NULL); /* OpenSSL's complaints, once per input */
    char dir[] = "/tmp/fuzz-tls-XXXXXX";
    if (mkdtemp(dir) == NULL)
        abort();
    char path[64];
    snprintf(path, sizeof(path), "%s/chain.pem", dir);
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *cert = X509_new();
    X509_set_version(cert, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert), 0);
    X509_gmtime_adj(X509_getm_notAfter(cert), 86400);
    X509_set_pubkey(cert, key);
    X509_NAME *name = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               (const unsigned char *)"fuzz.example", -1, -1,
                               0);
    X509_set_issuer_name(cert, name);
    X509_sign(cert, key, EVP_sha256());
    FILE *f = fopen(path, "w");
    if (f == NULL)
        abort();
    PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
    PEM_write_X509(f, cert);
    fclose(f);
    X509_free(cert);
    EVP_PKEY_free(key);
    struct tls_server_settings set = {
        .service = "fuzz",
        .cert_file = "",
        .key_file = "",
        .chain_files = path,
        .protocols = ">=TLSv1.2",
        .cipher_grade = "medium",
        .high_cipherlist = "aNULL:-aNULL:HIGH:@STRENGTH",
        .medium_cipherlist = "aNULL:-aNULL:HIGH:MEDIUM:+RC4:@STRENGTH",
        .loglevel = 0,
        .ticket_lifetime = 3600,
    };
    struct buf err = BUF_INIT;
    server = tls_server_new(&set, &err);
    unlink(path);
    rmdir(dir);
    if (server == NULL)
        abort();
    buf_free(&err);
}

/* Reads and drops what the server wrote to the client. */
static void drain(int fd)
{
    char sink[4096];
    while (read(fd, sink, sizeof(sink)) > 0)
        ;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (server == NULL)
        make_server();
    if (size < 1)
        return 0;
    size_t piece = 1 + (size_t)data[0];
    data++;
    size--;
    if (size > 65536)
        size = 65536;
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
        abort();
    fcntl(sv[0], F_SETFL, O_NONBLOCK);
    fcntl(sv[1], F_SETFL, O_NONBLOCK);
    struct buf why = BUF_INIT;
    struct tls_conn *conn = tls_conn_server_new(server, sv[0], &why);
    if (conn == NULL)
        abort();
    size_t sent = 0;
    enum tls_result result = TLS_AGAIN;
    /* Each round sends at least one byte or ends: no endless loop. */
    for (;;) {
        if (sent < size) {
            size_t len = size - sent < piece ? size - sent : piece;
            ssize_t n = write(sv[1], data + sent, len);
            if (n > 0)
                sent += (size_t)n;
        }
        buf_reset(&why);
        result = tls_conn_handshake(conn, &why);
        drain(sv[1]);
        if (result == TLS_FAILED && why.len == 0)
            abort(); /* a failure must say why */
        if (result != TLS_AGAIN) {
            if (result != TLS_DONE && result != TLS_FAILED)
                abort();
            break;
        }
        if (tls_conn_wants(conn) != STREAM_WANT_READ &&
            tls_conn_wants(conn) != STREAM_WANT_WRITE)
            abort();
        if (sent >= size)
            break; /* the client has nothing more to say */
    }
    buf_free(&why);
    tls_conn_free(conn);
    close(sv[0]);
    close(sv[1]);
    return 0;
}
