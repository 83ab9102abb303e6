/* tls_config.c: a TLS server's settings from main.cf (tls_config.h). */
#include "tls/tls_config.h"

#include <stdio.h>
#include <string.h>

#include "base/str.h"
#include "config/config.h"

int tls_level_parse(const char *value, enum tls_level *level)
{
    static const char *const stronger[] = {"verify", "secure", "fingerprint",
                                           "dane", "dane-only"};
    if (*value == '\0' || str_equal_nocase(value, "none")) {
        *level = TLS_LEVEL_NONE;
        return 0;
    }
    if (str_equal_nocase(value, "may")) {
        *level = TLS_LEVEL_MAY;
        return 0;
    }
    if (str_equal_nocase(value, "encrypt")) {
        *level = TLS_LEVEL_ENCRYPT;
        return 0;
    }
    for (size_t i = 0; i < sizeof(stronger) / sizeof(stronger[0]); i++)
        if (str_equal_nocase(value, stronger[i])) {
            *level = TLS_LEVEL_ENCRYPT;
            return 1;
        }
    return -1;
}

/* The value of PREFIX_tls_SUFFIX. */
static const char *tls_param(const char *prefix, const char *suffix)
{
    char name[128];
    snprintf(name, sizeof(name), "%s_tls_%s", prefix, suffix);
    return cfg_str(name);
}

static long tls_param_time(const char *prefix, const char *suffix)
{
    char name[128];
    snprintf(name, sizeof(name), "%s_tls_%s", prefix, suffix);
    return cfg_time(name);
}

static long tls_param_int(const char *prefix, const char *suffix)
{
    char name[128];
    snprintf(name, sizeof(name), "%s_tls_%s", prefix, suffix);
    return cfg_int(name);
}

void tls_config_server(const char *prefix, int mandatory,
                       struct tls_server_settings *set)
{
    memset(set, 0, sizeof(*set));
    set->service = prefix;
    set->cert_file = tls_param(prefix, "cert_file");
    set->key_file = tls_param(prefix, "key_file");
    set->chain_files = tls_param(prefix, "chain_files");
    set->protocols =
        tls_param(prefix, mandatory ? "mandatory_protocols" : "protocols");
    set->cipher_grade =
        tls_param(prefix, mandatory ? "mandatory_ciphers" : "ciphers");
    set->high_cipherlist = cfg_str("tls_high_cipherlist");
    set->medium_cipherlist = cfg_str("tls_medium_cipherlist");
    set->loglevel = (int)tls_param_int(prefix, "loglevel");
    set->ticket_lifetime = tls_param_time(prefix, "session_cache_timeout");
}
