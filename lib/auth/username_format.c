/* username_format.c: auth_username_format expansion; see
 * username_format.h. */
#include "auth/username_format.h"

#include <string.h>

enum { CASE_KEEP, CASE_LOWER, CASE_UPPER };

/* Appends text[0..len) to out in the case asked for. */
static void append_cased(struct buf *out, const char *text, size_t len,
                         int casing)
{
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (casing == CASE_LOWER && c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        else if (casing == CASE_UPPER && c >= 'a' && c <= 'z')
            c = (char)(c - 'a' + 'A');
        buf_append_char(out, c);
    }
}

/* The variable's value as a slice of user: 'u', 'n' or 'd'. */
static void variable_value(char name, const char *user, const char **value,
                           size_t *len)
{
    const char *at = strchr(user, '@');
    *value = user;
    *len = strlen(user);
    if (name == 'n' && at) {
        *len = (size_t)(at - user);
    } else if (name == 'd') {
        *value = at ? at + 1 : "";
        *len = strlen(*value);
    }
}

/* The short name of a long variable name[0..len), or 0. */
static char long_name(const char *name, size_t len)
{
    static const struct {
        const char *name;
        char letter;
    } names[] = {{"user", 'u'}, {"username", 'n'}, {"domain", 'd'}};
    for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++)
        if (strlen(names[i].name) == len &&
            memcmp(names[i].name, name, len) == 0)
            return names[i].letter;
    return 0;
}

int username_format_expand(const char *format, const char *user,
                           struct buf *out, struct buf *err)
{
    for (const char *p = format; *p; p++) {
        if (*p != '%') {
            buf_append_char(out, *p);
            continue;
        }
        const char *start = p++;
        int casing = CASE_KEEP;
        for (; *p == 'L' || *p == 'U'; p++)
            casing = *p == 'L' ? CASE_LOWER : CASE_UPPER;
        char name = 0;
        if (*p == '%' && p == start + 1) {
            buf_append_char(out, '%');
            continue;
        } else if (*p == '{') {
            const char *end = strchr(p, '}');
            if (end)
                name = long_name(p + 1, (size_t)(end - p - 1));
            if (name)
                p = end;
        } else if (*p == 'u' || *p == 'n' || *p == 'd') {
            name = *p;
        }
        if (name == 0) {
            const char *end = *p == '{' ? strchr(p, '}') : NULL;
            size_t shown = end ? (size_t)(end - start + 1)
                               : (size_t)(p - start) + (*p ? 1 : 0);
            buf_reset(err);
            buf_appendf(err,
                        "auth_username_format: unknown variable \"%.*s\" "
                        "(known: %%u %%n %%d, %%{user} %%{username} "
                        "%%{domain}, with the modifiers L and U)",
                        (int)shown, start);
            return -1;
        }
        const char *value;
        size_t len;
        variable_value(name, user, &value, &len);
        append_cased(out, value, len, casing);
    }
    return 0;
}

int username_format_check(const char *format, struct buf *err)
{
    struct buf out = BUF_INIT;
    int rc = username_format_expand(format, "user@domain", &out, err);
    buf_free(&out);
    return rc;
}
