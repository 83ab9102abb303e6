/* smtpc_caps.c: the EHLO/LHLO extensions (see smtpc_caps.h). */
#include "smtpc/smtpc_caps.h"

#include <ctype.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/mem.h"

void smtpc_caps_init(struct smtpc_caps *caps)
{
    memset(caps, 0, sizeof(*caps));
    strlist_init(&caps->auth_mechs);
}

void smtpc_caps_clear(struct smtpc_caps *caps)
{
    caps->flags = 0;
    caps->size_limit = 0;
    for (size_t i = 0; i < caps->auth_mechs.count; i++)
        free(caps->auth_mechs.items[i]);
    caps->auth_mechs.count = 0;
    free(caps->server_name);
    caps->server_name = NULL;
}

void smtpc_caps_free(struct smtpc_caps *caps)
{
    smtpc_caps_clear(caps);
    strlist_free(&caps->auth_mechs);
}

int smtpc_caps_has_auth(const struct smtpc_caps *caps, const char *mech)
{
    for (size_t i = 0; i < caps->auth_mechs.count; i++)
        if (str_equal_nocase(caps->auth_mechs.items[i], mech))
            return 1;
    return 0;
}

/* Adds the space-separated mechanisms in params (upper-cased, no
 * duplicates). */
static void add_mechs(struct smtpc_caps *caps, const char *params)
{
    struct strlist words;
    strlist_init(&words);
    str_split_chars(params, " \t", &words);
    for (size_t i = 0; i < words.count; i++) {
        char *mech = words.items[i];
        for (char *p = mech; *p; p++)
            *p = (char)toupper((unsigned char)*p);
        if (!smtpc_caps_has_auth(caps, mech))
            strlist_add(&caps->auth_mechs, mech);
    }
    strlist_free(&words);
}

/* 1 when line starts with keyword followed by the end, a space or (for
 * the old "AUTH=" form) '='; *params points past the separator. */
static int keyword_is(const char *line, const char *keyword, char separator,
                      const char **params)
{
    size_t len = strlen(keyword);
    if (strncasecmp(line, keyword, len) != 0)
        return 0;
    if (line[len] == 0) {
        *params = line + len;
        return 1;
    }
    if (line[len] != separator)
        return 0;
    *params = line + len + 1;
    return 1;
}

void smtpc_caps_parse(struct smtpc_caps *caps, const struct smtpc_reply *reply)
{
    smtpc_caps_clear(caps);
    if (reply->lines.count == 0)
        return;
    /* The first line: "name greeting text". */
    const char *first = reply->lines.items[0];
    size_t name_len = strcspn(first, " ");
    if (name_len > 0)
        caps->server_name = xstrndup(first, name_len);

    for (size_t i = 1; i < reply->lines.count; i++) {
        const char *line = reply->lines.items[i];
        const char *params;
        if (keyword_is(line, "PIPELINING", ' ', &params))
            caps->flags |= SMTPC_CAP_PIPELINING;
        else if (keyword_is(line, "SIZE", ' ', &params)) {
            caps->flags |= SMTPC_CAP_SIZE;
            long long limit = 0;
            const char *p = params;
            while (*p == ' ')
                p++;
            /* Only a whole decimal number counts; anything else is "no
             * limit given". Overflow saturates. */
            if (*p) {
                const char *digit = p;
                while (*digit >= '0' && *digit <= '9') {
                    if (limit > (LLONG_MAX - 9) / 10)
                        limit = LLONG_MAX;
                    else
                        limit = limit * 10 + (*digit - '0');
                    digit++;
                }
                if (digit == p || (*digit != 0 && *digit != ' '))
                    limit = 0;
            }
            caps->size_limit = limit;
        } else if (keyword_is(line, "8BITMIME", ' ', &params))
            caps->flags |= SMTPC_CAP_8BITMIME;
        else if (keyword_is(line, "SMTPUTF8", ' ', &params))
            caps->flags |= SMTPC_CAP_SMTPUTF8;
        else if (keyword_is(line, "DSN", ' ', &params))
            caps->flags |= SMTPC_CAP_DSN;
        else if (keyword_is(line, "CHUNKING", ' ', &params))
            caps->flags |= SMTPC_CAP_CHUNKING;
        else if (keyword_is(line, "STARTTLS", ' ', &params))
            caps->flags |= SMTPC_CAP_STARTTLS;
        else if (keyword_is(line, "ENHANCEDSTATUSCODES", ' ', &params))
            caps->flags |= SMTPC_CAP_ENHANCEDSTATUSCODES;
        else if (keyword_is(line, "REQUIRETLS", ' ', &params))
            caps->flags |= SMTPC_CAP_REQUIRETLS;
        else if (keyword_is(line, "AUTH", ' ', &params) ||
                 keyword_is(line, "AUTH", '=', &params)) {
            caps->flags |= SMTPC_CAP_AUTH;
            add_mechs(caps, params);
        }
    }
}

unsigned smtpc_caps_bit(const char *keyword)
{
    static const struct {
        const char *name;
        unsigned bit;
    } names[] = {
        {"PIPELINING", SMTPC_CAP_PIPELINING},
        {"SIZE", SMTPC_CAP_SIZE},
        {"8BITMIME", SMTPC_CAP_8BITMIME},
        {"SMTPUTF8", SMTPC_CAP_SMTPUTF8},
        {"DSN", SMTPC_CAP_DSN},
        {"CHUNKING", SMTPC_CAP_CHUNKING},
        {"STARTTLS", SMTPC_CAP_STARTTLS},
        {"AUTH", SMTPC_CAP_AUTH},
        {"ENHANCEDSTATUSCODES", SMTPC_CAP_ENHANCEDSTATUSCODES},
        {"REQUIRETLS", SMTPC_CAP_REQUIRETLS},
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (str_equal_nocase(keyword, names[i].name))
            return names[i].bit;
    return 0;
}
