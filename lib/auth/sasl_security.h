/* sasl_security.h: Postfix's SASL security options
 * (smtpd_sasl_security_options, smtp_sasl_security_options and their
 * _tls_ forms) and the test of a mechanism against them, shared by the
 * server side (smtpd, which offers mechanisms) and the client side (the
 * smtp daemon, which picks one to log in to a smarthost).
 *
 * The words are Cyrus SASL's, as Postfix documents them: noanonymous,
 * noplaintext, nodictionary, noactive, mutual_auth, forward_secrecy. A
 * mechanism's properties are Dovecot's MECH flags (AUTH_MECH_* in
 * auth_client.h): the server learns them from the auth service, the
 * client from sasl_client_mech_flags() for the mechanisms it speaks. */
#ifndef POSTERN_SASL_SECURITY_H
#define POSTERN_SASL_SECURITY_H

#include "base/buf.h"
#include "base/str.h"

#define SASL_SEC_NOANONYMOUS 0x01
#define SASL_SEC_NOPLAINTEXT 0x02
#define SASL_SEC_NODICTIONARY 0x04
#define SASL_SEC_NOACTIVE 0x08
#define SASL_SEC_MUTUAL_AUTH 0x10
#define SASL_SEC_FORWARD_SECRECY 0x20

/* The options in words (a parameter's list, case-insensitive). Returns
 * 0 with *options set, or -1 with err naming the unknown word. */
int sasl_security_parse(const struct strlist *words, unsigned *options,
                        struct buf *err);

/* The options in main.cf parameter name; an unknown word is a fatal
 * configuration error ("NAME: unknown SASL security option ..."), as in
 * Postfix. For daemons, at start. */
unsigned sasl_security_from_param(const char *name);

/* 1 when a mechanism with AUTH_MECH_* flags mech_flags may be used under
 * options, 0 when the options exclude it. */
int sasl_security_allows(unsigned options, unsigned mech_flags);

/* The AUTH_MECH_* properties of a mechanism this client speaks (PLAIN,
 * LOGIN: plaintext, dictionary, active; SCRAM-SHA-256: dictionary,
 * mutual-auth), by name, case-insensitive; -1 for one it does not. */
int sasl_client_mech_flags(const char *mech);

#endif
