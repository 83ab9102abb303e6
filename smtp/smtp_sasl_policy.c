/* smtp_sasl_policy.c: credentials and mechanism for SASL to a smarthost;
 * see smtp_sasl_policy.h. */
#include "smtp_sasl_policy.h"

#include <stdlib.h>
#include <string.h>

#include "auth/sasl_security.h"
#include "base/mem.h"
#include "delivery/agent.h"

/* One key of the lookup; the first found ends the search. */
static enum dict_result find_key(struct maps *m, const char *key,
                                 struct buf *value, struct buf *matched)
{
    char *lower = str_lower(xstrdup(key));
    enum dict_result r = maps_find(m, lower, 0, value);
    if (r == DICT_FOUND)
        buf_set_str(matched, lower);
    free(lower);
    return r;
}

/* dest without its ":port", or NULL when it has none. */
static char *without_port(const char *dest)
{
    const char *colon;
    if (dest[0] == '[') {
        const char *close = strchr(dest, ']');
        if (close == NULL || close[1] != ':')
            return NULL;
        colon = close + 1;
    } else {
        colon = strchr(dest, ':');
        if (colon == NULL || strchr(colon + 1, ':') != NULL)
            return NULL; /* none, or a bare IPv6 address */
    }
    return xstrndup(dest, (size_t)(colon - dest));
}

enum dict_result smtp_sasl_find(struct maps *passwords, const char *sender,
                                const char *host, const char *dest,
                                struct buf *user, struct buf *password,
                                struct buf *key)
{
    struct buf value = BUF_INIT;
    enum dict_result r = DICT_NOTFOUND;
    if (sender && *sender) {
        r = agent_maps_find_address(passwords, sender, &value);
        if (r == DICT_FOUND)
            buf_set_str(key, sender);
    }
    if (r == DICT_NOTFOUND && host && *host)
        r = find_key(passwords, host, &value, key);
    if (r == DICT_NOTFOUND && dest && *dest)
        r = find_key(passwords, dest, &value, key);
    if (r == DICT_NOTFOUND && dest && *dest) {
        char *bare = without_port(dest);
        if (bare)
            r = find_key(passwords, bare, &value, key);
        free(bare);
    }
    if (r == DICT_FOUND) {
        const char *text = buf_cstr(&value);
        const char *colon = strchr(text, ':');
        if (colon) {
            buf_set(user, text, (size_t)(colon - text));
            buf_set_str(password, colon + 1);
        } else {
            buf_set_str(user, text);
            buf_set_str(password, "");
        }
    }
    if (value.data)
        memset(value.data, 0, value.len);
    buf_free(&value);
    return r;
}

/* The mechanisms this client speaks, strongest first. */
static const char *const spoken[] = {"SCRAM-SHA-256", "PLAIN", "LOGIN"};

enum smtp_sasl_pick_result smtp_sasl_pick(const struct strlist *offered,
                                          struct domain_list *filter,
                                          unsigned options, const char **mech)
{
    size_t kept = 0;
    int kept_ours[sizeof(spoken) / sizeof(spoken[0])] = {0};
    for (size_t i = 0; i < offered->count; i++) {
        if (filter && !domain_list_empty(filter)) {
            char *lower = str_lower(xstrdup(offered->items[i]));
            int m = domain_list_match(filter, lower);
            free(lower);
            if (m < 0)
                return SMTP_SASL_FILTER_ERROR;
            if (m == 0)
                continue;
        }
        kept++;
        for (size_t s = 0; s < sizeof(spoken) / sizeof(spoken[0]); s++)
            if (str_equal_nocase(offered->items[i], spoken[s]))
                kept_ours[s] = 1;
    }
    if (kept == 0)
        return SMTP_SASL_NONE_OFFERED;
    for (size_t s = 0; s < sizeof(spoken) / sizeof(spoken[0]); s++)
        if (kept_ours[s] &&
            sasl_security_allows(options,
                                 (unsigned)sasl_client_mech_flags(spoken[s]))) {
            *mech = spoken[s];
            return SMTP_SASL_PICKED;
        }
    return SMTP_SASL_NONE_ALLOWED;
}
