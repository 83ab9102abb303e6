/* tls_config.h: a TLS server's settings from main.cf, under Postfix's
 * names.
 *
 * For a service prefix P ("smtpd") the settings come from
 * P_tls_cert_file, P_tls_key_file, P_tls_chain_files, P_tls_protocols or
 * P_tls_mandatory_protocols, P_tls_ciphers or P_tls_mandatory_ciphers,
 * P_tls_loglevel and P_tls_session_cache_timeout, plus the shared
 * tls_high_cipherlist and tls_medium_cipherlist. Each must be in the
 * parameter table (lib/config/params.c). */
#ifndef POSTERN_TLS_CONFIG_H
#define POSTERN_TLS_CONFIG_H

#include "tls/tls_server.h"

/* Postfix's server-side smtpd_tls_security_level. */
enum tls_level { TLS_LEVEL_NONE, TLS_LEVEL_MAY, TLS_LEVEL_ENCRYPT };

/* Parses a security level: "" and "none", "may", "encrypt" give 0; the
 * client-side levels that ask for more than encryption ("verify",
 * "secure", "fingerprint", "dane", "dane-only") give 1 with *level
 * TLS_LEVEL_ENCRYPT, as Postfix's smtpd takes them (the caller warns);
 * anything else gives -1. Case does not matter. */
int tls_level_parse(const char *value, enum tls_level *level);

/* Fills settings from the configuration for prefix; with mandatory
 * (security level "encrypt") the mandatory protocols and ciphers apply,
 * as in Postfix. The strings live until the next config_load(). */
void tls_config_server(const char *prefix, int mandatory,
                       struct tls_server_settings *settings);

#endif
