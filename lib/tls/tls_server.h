/* tls_server.h: a TLS server context, as Postfix's smtpd_tls_*
 * parameters describe it: certificates and keys, protocols, ciphers and
 * session tickets.
 *
 * A daemon builds one at start, before it drops privileges or chroots
 * (a key file is often readable by root alone), and starts every TLS
 * connection from it (lib/tls/tls_conn.h). It is not shared between
 * threads. Session resumption uses stateless tickets (RFC 5077 and TLS
 * 1.3's), with keys each process makes at start: no session cache to
 * grow, and a client that resumes with another process of the same
 * service simply makes a full handshake. */
#ifndef POSTERN_TLS_SERVER_H
#define POSTERN_TLS_SERVER_H

#include "base/buf.h"

struct tls_server_settings {
    /* Who is using it ("smtpd"): the session id context, and logs. */
    const char *service;
    /* Postfix's legacy pair: a PEM file with the certificate and then
     * its chain (the full chain), and the key (in cert_file when the
     * same path or empty). Ignored when chain_files is set. */
    const char *cert_file;
    const char *key_file;
    /* Postfix list of PEM files read as one sequence: each private key
     * followed by its certificate chain, leaf first (one file per key
     * type, or several keys in one file). */
    const char *chain_files;
    /* A Postfix protocol list (lib/tls/tls_protocols.h). */
    const char *protocols;
    /* Cipher grade: "high" or "medium" (TLSv1.2 and older; TLSv1.3
     * suites are always OpenSSL's defaults), and the OpenSSL cipher
     * lists the grades stand for. */
    const char *cipher_grade;
    const char *high_cipherlist;
    const char *medium_cipherlist;
    /* Postfix's smtpd_tls_loglevel: 0 failures only, 1 a summary line
     * per handshake, 2 and more the handshake's steps too. */
    int loglevel;
    /* Lifetime of session tickets in seconds; 0: no tickets. */
    long ticket_lifetime;
};

struct tls_server;

/* Builds a context: NULL with the reason in err when a file cannot be
 * read, a key does not match its certificate, or a setting is invalid.
 * Loads OpenSSL's configuration on first use. */
struct tls_server *tls_server_new(const struct tls_server_settings *settings,
                                  struct buf *err);
void tls_server_free(struct tls_server *server);

/* The protocols it allows (TLS_PROTO_* bits, tls_protocols.h). */
unsigned tls_server_protocols(const struct tls_server *server);
int tls_server_loglevel(const struct tls_server *server);

#endif
