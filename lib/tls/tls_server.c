/* tls_server.c: the TLS server context from Postfix-named settings
 * (tls_server.h). */
#include "tls/tls_server.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/mem.h"
#include "base/str.h"
#include "tls/tls_error.h"
#include "tls/tls_impl.h"
#include "tls/tls_protocols.h"

/* TLS_PROTO_* bits in ascending order, with OpenSSL's names for them. */
static const struct {
    unsigned bit;
    int version;
    uint64_t no_option;
} versions[] = {
    {TLS_PROTO_TLSV1, TLS1_VERSION, SSL_OP_NO_TLSv1},
    {TLS_PROTO_TLSV1_1, TLS1_1_VERSION, SSL_OP_NO_TLSv1_1},
    {TLS_PROTO_TLSV1_2, TLS1_2_VERSION, SSL_OP_NO_TLSv1_2},
    {TLS_PROTO_TLSV1_3, TLS1_3_VERSION, SSL_OP_NO_TLSv1_3},
};
#define VERSION_COUNT (sizeof(versions) / sizeof(versions[0]))

/* The lowest and highest enabled versions bound the handshake; a
 * protocol left out between them ("TLSv1.1 TLSv1.3") is switched off on
 * its own. */
int tls_set_protocols(SSL_CTX *ctx, SSL *ssl, unsigned enabled, struct buf *err)
{
    int low = -1, high = -1;
    for (size_t i = 0; i < VERSION_COUNT; i++)
        if (enabled & versions[i].bit) {
            if (low < 0)
                low = (int)i;
            high = (int)i;
        }
    if (low < 0) {
        buf_append_str(err, "no TLS protocol enabled");
        return -1;
    }
    int ok =
        ctx ? SSL_CTX_set_min_proto_version(ctx, versions[low].version) &&
                  SSL_CTX_set_max_proto_version(ctx, versions[high].version)
            : SSL_set_min_proto_version(ssl, versions[low].version) &&
                  SSL_set_max_proto_version(ssl, versions[high].version);
    if (!ok) {
        tls_error_text(err, "cannot set the TLS protocol range");
        return -1;
    }
    for (int i = low + 1; i < high; i++)
        if (!(enabled & versions[i].bit)) {
            if (ctx)
                SSL_CTX_set_options(ctx, versions[i].no_option);
            else
                SSL_set_options(ssl, versions[i].no_option);
        }
    return 0;
}

const char *tls_cipher_list(const char *grade, const char *high_list,
                            const char *medium_list, const char *service,
                            struct buf *err)
{
    if (grade == NULL || *grade == '\0')
        grade = "medium";
    const char *list;
    if (str_equal_nocase(grade, "high")) {
        list = high_list;
    } else if (str_equal_nocase(grade, "medium")) {
        list = medium_list;
    } else if (str_equal_nocase(grade, "low") ||
               str_equal_nocase(grade, "export")) {
        /* Grades OpenSSL 3 no longer has ciphers for: the next one up
         * keeps an old main.cf working, and is no weaker than asked. */
        log_warn("%s: cipher grade \"%s\" is obsolete; using \"medium\"",
                 service ? service : "tls", grade);
        list = medium_list;
    } else {
        buf_appendf(err, "unsupported cipher grade \"%s\"", grade);
        return NULL;
    }
    if (list == NULL || *list == '\0') {
        buf_appendf(err, "empty %s cipher list", grade);
        return NULL;
    }
    return list;
}

static int set_ciphers(SSL_CTX *ctx, const struct tls_server_settings *set,
                       struct buf *err)
{
    const char *list =
        tls_cipher_list(set->cipher_grade, set->high_cipherlist,
                        set->medium_cipherlist, set->service, err);
    if (list == NULL)
        return -1;
    if (SSL_CTX_set_cipher_list(ctx, list) != 1) {
        buf_appendf(err, "invalid cipher list \"%s\": ", list);
        tls_error_text(err, "no usable cipher");
        return -1;
    }
    return 0;
}

/* ---- certificates and keys ---- */

/* One key and its chain, while a chain file is read. */
struct chain_entry {
    EVP_PKEY *key;
    X509 *leaf;
    STACK_OF(X509) * chain;
};

static void chain_entry_clear(struct chain_entry *e)
{
    EVP_PKEY_free(e->key);
    X509_free(e->leaf);
    sk_X509_pop_free(e->chain, X509_free);
    memset(e, 0, sizeof(*e));
}

/* Installs the key read last with its chain. */
static int chain_entry_use(SSL_CTX *ctx, struct chain_entry *e,
                           const char *path, struct buf *err)
{
    if (e->key == NULL)
        return 0;
    int rc = 0;
    if (e->leaf == NULL) {
        buf_appendf(err, "%s: a private key without its certificate", path);
        rc = -1;
    } else if (X509_check_private_key(e->leaf, e->key) != 1) {
        buf_appendf(err, "%s: key and certificate do not match: ", path);
        tls_error_text(err, "mismatch");
        rc = -1;
    } else if (SSL_CTX_use_cert_and_key(ctx, e->leaf, e->key, e->chain, 1) !=
               1) {
        buf_appendf(err, "%s: key and certificate refused: ", path);
        tls_error_text(err, "rejected");
        rc = -1;
    }
    chain_entry_clear(e);
    return rc;
}

static int pem_is_key(const char *name)
{
    return strcmp(name, "PRIVATE KEY") == 0 ||
           strcmp(name, "RSA PRIVATE KEY") == 0 ||
           strcmp(name, "EC PRIVATE KEY") == 0;
}

/* One PEM object of a chain file; 0, or -1 with err set. */
static int chain_object(struct chain_entry *e, const char *path,
                        const char *name, const unsigned char *data, long len,
                        SSL_CTX *ctx, struct buf *err)
{
    const unsigned char *p = data;
    if (pem_is_key(name)) {
        if (chain_entry_use(ctx, e, path, err) < 0)
            return -1;
        e->key = d2i_AutoPrivateKey(NULL, &p, len);
        if (e->key == NULL) {
            buf_appendf(err, "%s: unreadable private key: ", path);
            tls_error_text(err, "bad key");
            return -1;
        }
        return 0;
    }
    if (strcmp(name, "ENCRYPTED PRIVATE KEY") == 0) {
        buf_appendf(err, "%s: encrypted private keys are not supported", path);
        return -1;
    }
    if (strcmp(name, "CERTIFICATE") != 0)
        return 0; /* parameters and the like: not ours to use */
    if (e->key == NULL) {
        buf_appendf(err, "%s: a certificate before any private key", path);
        return -1;
    }
    X509 *cert = d2i_X509(NULL, &p, len);
    if (cert == NULL) {
        buf_appendf(err, "%s: unreadable certificate: ", path);
        tls_error_text(err, "bad certificate");
        return -1;
    }
    if (e->leaf == NULL) {
        e->leaf = cert;
        return 0;
    }
    if (e->chain == NULL)
        e->chain = sk_X509_new_null();
    if (e->chain == NULL || !sk_X509_push(e->chain, cert)) {
        X509_free(cert);
        buf_appendf(err, "%s: out of memory", path);
        return -1;
    }
    return 0;
}

/* Postfix's smtpd_tls_chain_files: the files are one sequence of PEM
 * objects, each key followed by its chain. Returns the number of keys
 * installed, or -1. */
int tls_load_chain_files(SSL_CTX *ctx, const char *files, struct buf *err)
{
    struct strlist paths;
    strlist_init(&paths);
    str_split_list(files, &paths);
    struct chain_entry entry;
    memset(&entry, 0, sizeof(entry));
    int keys = 0, rc = 0;
    const char *last = "";
    for (size_t i = 0; i < paths.count && rc == 0; i++) {
        const char *path = last = paths.items[i];
        BIO *bio = BIO_new_file(path, "r");
        if (bio == NULL) {
            buf_appendf(err, "cannot open %s: ", path);
            tls_error_text(err, "unreadable");
            rc = -1;
            break;
        }
        for (;;) {
            char *name = NULL, *header = NULL;
            unsigned char *data = NULL;
            long len = 0;
            tls_error_clear();
            if (!PEM_read_bio(bio, &name, &header, &data, &len)) {
                unsigned long e = ERR_peek_last_error();
                if (ERR_GET_LIB(e) == ERR_LIB_PEM &&
                    ERR_GET_REASON(e) == PEM_R_NO_START_LINE) {
                    tls_error_clear(); /* the end of the file */
                } else {
                    buf_appendf(err, "%s: ", path);
                    tls_error_text(err, "bad PEM data");
                    rc = -1;
                }
                break;
            }
            int had_key = entry.key != NULL;
            rc = chain_object(&entry, path, name, data, len, ctx, err);
            if (rc == 0 && pem_is_key(name) && had_key)
                keys++;
            OPENSSL_free(name);
            OPENSSL_free(header);
            OPENSSL_free(data);
            if (rc < 0)
                break;
        }
        BIO_free(bio);
    }
    if (rc == 0 && entry.key) {
        rc = chain_entry_use(ctx, &entry, last, err);
        if (rc == 0)
            keys++;
    }
    chain_entry_clear(&entry);
    strlist_free(&paths);
    if (rc == 0 && keys == 0) {
        buf_appendf(err, "no private key in \"%s\"", files);
        rc = -1;
    }
    return rc < 0 ? -1 : keys;
}

/* Postfix's legacy pair: the certificate file holds the full chain, leaf
 * first; the key may be in it too. */
int tls_load_cert_and_key(SSL_CTX *ctx, const char *cert_file,
                          const char *key_file, struct buf *err)
{
    if (key_file == NULL || *key_file == '\0')
        key_file = cert_file;
    tls_error_clear();
    if (SSL_CTX_use_certificate_chain_file(ctx, cert_file) != 1) {
        buf_appendf(err, "cannot load certificate chain from %s: ", cert_file);
        tls_error_text(err, "unreadable");
        return -1;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, key_file, SSL_FILETYPE_PEM) != 1) {
        buf_appendf(err, "cannot load private key from %s: ", key_file);
        tls_error_text(err, "unreadable");
        return -1;
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
        buf_appendf(err,
                    "private key %s does not match certificate %s: ", key_file,
                    cert_file);
        tls_error_text(err, "mismatch");
        return -1;
    }
    return 0;
}

/* smtpd_tls_loglevel 2 and up: the handshake's steps and alerts. */
static void info_callback(const SSL *ssl, int where, int ret)
{
    if (where & SSL_CB_LOOP)
        log_info("SSL_accept:%s", SSL_state_string_long(ssl));
    else if (where & SSL_CB_ALERT)
        log_info(
            "SSL3 alert %s:%s:%s", (where & SSL_CB_READ) ? "read" : "write",
            SSL_alert_type_string_long(ret), SSL_alert_desc_string_long(ret));
}

struct tls_server *tls_server_new(const struct tls_server_settings *set,
                                  struct buf *err)
{
    unsigned protocols = 0;
    if (tls_protocols_parse(set->protocols ? set->protocols : "", &protocols,
                            err) < 0)
        return NULL;
    tls_error_clear();
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (ctx == NULL) {
        tls_error_text(err, "cannot create a TLS context");
        return NULL;
    }
    int ok = tls_set_protocols(ctx, NULL, protocols, err) == 0 &&
             set_ciphers(ctx, set, err) == 0;
    if (ok && set->chain_files && *set->chain_files)
        ok = tls_load_chain_files(ctx, set->chain_files, err) > 0;
    else if (ok && set->cert_file && *set->cert_file)
        ok =
            tls_load_cert_and_key(ctx, set->cert_file, set->key_file, err) == 0;
    else if (ok) {
        buf_append_str(err, "no certificate configured");
        ok = 0;
    }
    if (!ok) {
        SSL_CTX_free(ctx);
        return NULL;
    }
    /* No renegotiation (a client could make us work for nothing); a peer
     * that closes without close_notify is an ordinary end of file. */
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION |
                                 SSL_OP_IGNORE_UNEXPECTED_EOF |
                                 SSL_OP_NO_COMPRESSION);
    /* The stream retries a write from a buffer that may have moved and
     * grown; an idle connection gives its record buffers back. */
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
                              SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                              SSL_MODE_RELEASE_BUFFERS);
    /* Stateless tickets only: nothing kept per session in the process. */
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    const char *service = set->service ? set->service : "tls";
    size_t id_len = strlen(service);
    if (id_len > SSL_MAX_SID_CTX_LENGTH)
        id_len = SSL_MAX_SID_CTX_LENGTH;
    SSL_CTX_set_session_id_context(ctx, (const unsigned char *)service,
                                   (unsigned)id_len);
    if (set->ticket_lifetime > 0) {
        SSL_CTX_set_timeout(ctx, set->ticket_lifetime);
        SSL_CTX_set_num_tickets(ctx, 1);
    } else {
        SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
        SSL_CTX_set_num_tickets(ctx, 0);
    }
    if (set->loglevel >= 2)
        SSL_CTX_set_info_callback(ctx, info_callback);
    struct tls_server *server = xcalloc(1, sizeof(*server));
    server->ctx = ctx;
    server->protocols = protocols;
    server->loglevel = set->loglevel;
    return server;
}

void tls_server_free(struct tls_server *server)
{
    if (server == NULL)
        return;
    SSL_CTX_free(server->ctx);
    free(server);
}

unsigned tls_server_protocols(const struct tls_server *server)
{
    return server->protocols;
}

int tls_server_loglevel(const struct tls_server *server)
{
    return server->loglevel;
}
