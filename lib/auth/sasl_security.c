/* sasl_security.c: SASL security options and mechanism properties; see
 * sasl_security.h. */
#include "auth/sasl_security.h"

#include "auth/auth_client.h"
#include "base/log.h"
#include "config/config.h"

static const struct {
    const char *word;
    unsigned option;
} option_words[] = {
    {"noanonymous", SASL_SEC_NOANONYMOUS},
    {"noplaintext", SASL_SEC_NOPLAINTEXT},
    {"nodictionary", SASL_SEC_NODICTIONARY},
    {"noactive", SASL_SEC_NOACTIVE},
    {"mutual_auth", SASL_SEC_MUTUAL_AUTH},
    {"forward_secrecy", SASL_SEC_FORWARD_SECRECY},
};

int sasl_security_parse(const struct strlist *words, unsigned *options,
                        struct buf *err)
{
    unsigned result = 0;
    for (size_t i = 0; i < words->count; i++) {
        size_t w;
        for (w = 0; w < sizeof(option_words) / sizeof(option_words[0]); w++)
            if (str_equal_nocase(words->items[i], option_words[w].word))
                break;
        if (w == sizeof(option_words) / sizeof(option_words[0])) {
            buf_appendf(err, "unknown SASL security option \"%s\"",
                        words->items[i]);
            return -1;
        }
        result |= option_words[w].option;
    }
    *options = result;
    return 0;
}

unsigned sasl_security_from_param(const char *name)
{
    struct strlist words;
    struct buf err = BUF_INIT;
    unsigned options = 0;
    strlist_init(&words);
    cfg_list(name, &words);
    if (sasl_security_parse(&words, &options, &err) < 0)
        log_fatal("%s: %s", name, buf_cstr(&err));
    strlist_free(&words);
    buf_free(&err);
    return options;
}

int sasl_security_allows(unsigned options, unsigned f)
{
    if (((options & SASL_SEC_NOANONYMOUS) && (f & AUTH_MECH_ANONYMOUS)) ||
        ((options & SASL_SEC_NOPLAINTEXT) && (f & AUTH_MECH_PLAINTEXT)) ||
        ((options & SASL_SEC_NODICTIONARY) && (f & AUTH_MECH_DICTIONARY)) ||
        ((options & SASL_SEC_NOACTIVE) && (f & AUTH_MECH_ACTIVE)))
        return 0;
    if (((options & SASL_SEC_MUTUAL_AUTH) && !(f & AUTH_MECH_MUTUAL_AUTH)) ||
        ((options & SASL_SEC_FORWARD_SECRECY) &&
         !(f & AUTH_MECH_FORWARD_SECRECY)))
        return 0;
    return 1;
}

int sasl_client_mech_flags(const char *mech)
{
    /* As Cyrus SASL rates them: PLAIN and LOGIN send the password and
     * can be replayed by an active attacker; SCRAM proves the password
     * without sending it and proves the server knows it too, but a
     * captured exchange can still be attacked by dictionary. */
    if (str_equal_nocase(mech, "PLAIN") || str_equal_nocase(mech, "LOGIN"))
        return AUTH_MECH_PLAINTEXT | AUTH_MECH_DICTIONARY | AUTH_MECH_ACTIVE;
    if (str_equal_nocase(mech, "SCRAM-SHA-256"))
        return AUTH_MECH_DICTIONARY | AUTH_MECH_MUTUAL_AUTH;
    return -1;
}
