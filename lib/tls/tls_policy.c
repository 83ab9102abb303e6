/* tls_policy.c: client TLS levels and smtp_tls_policy_maps values
 * (tls_policy.h). */
#include "tls/tls_policy.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "tables/maps.h"
#include "tls/tls_protocols.h"

static const struct {
    const char *name;
    enum tls_client_level level;
} levels[] = {
    {"none", TLS_CLIENT_NONE},       {"may", TLS_CLIENT_MAY},
    {"encrypt", TLS_CLIENT_ENCRYPT}, {"fingerprint", TLS_CLIENT_FINGERPRINT},
    {"dane", TLS_CLIENT_DANE},       {"dane-only", TLS_CLIENT_DANE_ONLY},
    {"verify", TLS_CLIENT_VERIFY},   {"secure", TLS_CLIENT_SECURE},
};
#define LEVEL_COUNT (sizeof(levels) / sizeof(levels[0]))

const char *tls_client_level_name(enum tls_client_level level)
{
    for (size_t i = 0; i < LEVEL_COUNT; i++)
        if (levels[i].level == level)
            return levels[i].name;
    return "none";
}

int tls_client_level_parse(const char *name, enum tls_client_level *level)
{
    if (*name == '\0') {
        *level = TLS_CLIENT_NONE;
        return 0;
    }
    for (size_t i = 0; i < LEVEL_COUNT; i++)
        if (str_equal_nocase(name, levels[i].name)) {
            *level = levels[i].level;
            return 0;
        }
    return -1;
}

int tls_client_level_mandatory(enum tls_client_level level)
{
    return level >= TLS_CLIENT_ENCRYPT;
}

void tls_policy_init(struct tls_policy *policy)
{
    memset(policy, 0, sizeof(*policy));
    policy->connection_reuse = -1;
    strlist_init(&policy->match);
}

void tls_policy_free(struct tls_policy *policy)
{
    free(policy->protocols);
    free(policy->ciphers);
    free(policy->exclude);
    free(policy->servername);
    strlist_free(&policy->match);
    tls_policy_init(policy);
}

/* A fingerprint as lower-case hex without colons: 0, or -1 when it is
 * not pairs of hex digits (colons optional between them, as Postfix
 * 3.6). */
static int fingerprint_normalize(const char *text, struct buf *out)
{
    buf_reset(out);
    for (const char *p = text; *p; p++) {
        if (*p == ':')
            continue;
        if (!isxdigit((unsigned char)*p))
            return -1;
        buf_append_char(out, (char)tolower((unsigned char)*p));
    }
    /* The longest digest OpenSSL offers is 512 bits. */
    return out->len >= 2 && out->len % 2 == 0 && out->len <= 128 ? 0 : -1;
}

/* A verify/secure match item: a strategy, a name or a .parent; letters,
 * digits, hyphens, underscores and dots, no empty label. */
static int match_item_ok(const char *item)
{
    if (str_equal_nocase(item, "hostname") ||
        str_equal_nocase(item, "nexthop") ||
        str_equal_nocase(item, "dot-nexthop"))
        return 1;
    const char *p = item[0] == '.' ? item + 1 : item;
    if (*p == '\0' || *p == '.' || item[strlen(item) - 1] == '.')
        return 0;
    for (; *p; p++) {
        if (*p == '.' && p[1] == '.')
            return 0;
        if (!isalnum((unsigned char)*p) && *p != '-' && *p != '.' && *p != '_')
            return 0;
    }
    return 1;
}

int tls_policy_add_match(struct tls_policy *policy, const char *list,
                         const char *separators, int fingerprint,
                         struct buf *err)
{
    struct strlist items;
    strlist_init(&items);
    str_split_chars(list, separators, &items);
    struct buf norm = BUF_INIT;
    int rc = 0;
    for (size_t i = 0; i < items.count && rc == 0; i++) {
        const char *item = items.items[i];
        if (fingerprint) {
            if (fingerprint_normalize(item, &norm) < 0) {
                buf_appendf(err, "malformed fingerprint \"%s\"", item);
                rc = -1;
            } else {
                strlist_add(&policy->match, buf_cstr(&norm));
            }
        } else if (!match_item_ok(item)) {
            buf_appendf(err, "malformed match pattern \"%s\"", item);
            rc = -1;
        } else {
            buf_set_str(&norm, item);
            strlist_add(&policy->match, str_lower(norm.data));
        }
    }
    if (rc == 0 && items.count > 0)
        policy->match_set = 1;
    buf_free(&norm);
    strlist_free(&items);
    return rc;
}

static int grade_ok(const char *grade)
{
    return str_equal_nocase(grade, "high") ||
           str_equal_nocase(grade, "medium") ||
           str_equal_nocase(grade, "low") || str_equal_nocase(grade, "export");
}

/* A single-valued attribute: set once. */
static int set_once(char **slot, const char *name, const char *value,
                    struct buf *err)
{
    if (*slot) {
        buf_appendf(err, "duplicate attribute \"%s\"", name);
        return -1;
    }
    *slot = xstrdup(value);
    return 0;
}

/* One name=value attribute at the parsed level. */
static int attribute(struct tls_policy *policy, const char *name,
                     const char *value, struct buf *err)
{
    enum tls_client_level level = policy->level;
    if (*value == '\0') {
        buf_appendf(err, "attribute \"%s\" has an empty value", name);
        return -1;
    }
    if (strcmp(name, "protocols") == 0) {
        unsigned set = 0;
        struct buf why = BUF_INIT;
        int rc = tls_protocols_parse(value, &set, &why);
        if (rc < 0)
            buf_appendf(err, "protocols: %s", buf_cstr(&why));
        buf_free(&why);
        return rc < 0 ? -1 : set_once(&policy->protocols, name, value, err);
    }
    if (strcmp(name, "ciphers") == 0) {
        if (!grade_ok(value)) {
            buf_appendf(err, "invalid cipher grade \"%s\"", value);
            return -1;
        }
        return set_once(&policy->ciphers, name, value, err);
    }
    if (strcmp(name, "exclude") == 0)
        return set_once(&policy->exclude, name, value, err);
    if (strcmp(name, "servername") == 0)
        return set_once(&policy->servername, name, value, err);
    if (strcmp(name, "connection_reuse") == 0) {
        if (policy->connection_reuse >= 0) {
            buf_appendf(err, "duplicate attribute \"%s\"", name);
            return -1;
        }
        if (str_equal_nocase(value, "yes"))
            policy->connection_reuse = 1;
        else if (str_equal_nocase(value, "no"))
            policy->connection_reuse = 0;
        else {
            buf_appendf(err, "connection_reuse must be yes or no, not \"%s\"",
                        value);
            return -1;
        }
        return 0;
    }
    if (strcmp(name, "match") == 0) {
        if (level == TLS_CLIENT_FINGERPRINT)
            return tls_policy_add_match(policy, value, "|", 1, err);
        if (level == TLS_CLIENT_VERIFY || level == TLS_CLIENT_SECURE)
            return tls_policy_add_match(policy, value, ":", 0, err);
        buf_appendf(err, "attribute \"match\" is not valid with level \"%s\"",
                    tls_client_level_name(level));
        return -1;
    }
    if (strcmp(name, "tafile") == 0) {
        buf_append_str(err, "attribute \"tafile\" is not supported");
        return -1;
    }
    buf_appendf(err, "unknown attribute \"%s\"", name);
    return -1;
}

int tls_policy_parse(const char *value, struct tls_policy *policy,
                     struct buf *err)
{
    struct strlist words;
    strlist_init(&words);
    str_split_chars(value, " \t\r\n,", &words);
    int rc = 0;
    if (words.count == 0) {
        buf_append_str(err, "empty TLS policy");
        rc = -1;
    } else if (tls_client_level_parse(words.items[0], &policy->level) < 0) {
        buf_appendf(err, "invalid TLS security level \"%s\"", words.items[0]);
        rc = -1;
    } else if (policy->level == TLS_CLIENT_NONE && words.count > 1) {
        buf_append_str(err, "level \"none\" takes no attributes");
        rc = -1;
    }
    for (size_t i = 1; i < words.count && rc == 0; i++) {
        char *word = words.items[i];
        char *eq = strchr(word, '=');
        if (eq == NULL || eq == word) {
            buf_appendf(err, "\"%s\" is not name=value", word);
            rc = -1;
            break;
        }
        *eq = '\0';
        rc = attribute(policy, word, eq + 1, err);
    }
    strlist_free(&words);
    return rc;
}

int tls_policy_lookup(struct maps *maps, const char *nexthop,
                      struct tls_policy *policy, struct buf *err)
{
    if (maps == NULL || maps_empty(maps))
        return 0;
    struct buf value = BUF_INIT, key = BUF_INIT;
    buf_set_str(&key, nexthop);
    str_lower(key.data);
    enum dict_result found = maps_find(maps, key.data, 0, &value);
    /* A bare domain also finds a policy for its parents (".example.com"),
     * as Postfix does; "[host]" and "host:port" do not. */
    if (found == DICT_NOTFOUND && key.data[0] != '[' &&
        strchr(key.data, ':') == NULL) {
        for (const char *dot = strchr(key.data, '.');
             dot && found == DICT_NOTFOUND; dot = strchr(dot + 1, '.'))
            if (dot[1] != '\0')
                found = maps_find(maps, dot, MAPS_FIXED_ONLY, &value);
    }
    int rc = 0;
    if (found == DICT_ERROR) {
        buf_appendf(err, "TLS policy lookup for %s: table lookup error",
                    nexthop);
        rc = -1;
    } else if (found == DICT_FOUND) {
        struct buf why = BUF_INIT;
        if (tls_policy_parse(value.data, policy, &why) < 0) {
            buf_appendf(err, "TLS policy lookup for %s: %s", nexthop,
                        buf_cstr(&why));
            rc = -1;
        } else {
            rc = 1;
        }
        buf_free(&why);
    }
    buf_free(&value);
    buf_free(&key);
    return rc;
}
