/* sql_expand.c: expands the query and result_format templates of SQL
 * tables and decides which keys are looked up (see sql_expand.h). The
 * same code serves pgsql: and mysql:; only the escaper differs. */
#include "tables/sql_expand.h"

#include <string.h>

#include "base/utf8.h"
#include "tables/domain_list.h"

int sql_key_split(const char *key, size_t *local_len, const char **domain)
{
    const char *at = strrchr(key, '@');
    if (at == NULL)
        return 0;
    *local_len = (size_t)(at - key);
    *domain = at + 1;
    return 1;
}

int sql_template_check(const char *what, const char *template_text,
                       struct buf *err)
{
    for (const char *p = template_text; *p; p++) {
        if (*p != '%')
            continue;
        p++;
        if (*p == 0) {
            buf_appendf(err, "%s: '%%' at the end of \"%s\"", what,
                        template_text);
            return -1;
        }
        if (strchr("%sudSUD123456789", *p) == NULL) {
            buf_appendf(err, "%s: invalid %%%c in \"%s\"", what, *p,
                        template_text);
            return -1;
        }
    }
    return 0;
}

/* The n-th label (1 = rightmost) of domain: 1 with [*start, *start +
 * *len), 0 when there are too few (or an empty one is met). */
static int sql_domain_label(const char *domain, int n, const char **start,
                            size_t *len)
{
    const char *end = domain + strlen(domain);
    for (int i = 1;; i++) {
        const char *dot = end;
        while (dot > domain && dot[-1] != '.')
            dot--;
        if (dot == end)
            return 0; /* an empty label ("a..b", trailing dot, "") */
        if (i == n) {
            *start = dot;
            *len = (size_t)(end - dot);
            return 1;
        }
        if (dot == domain)
            return 0;
        end = dot - 1;
    }
}

/* The text a part letter stands for in `input`: 1 with [*start, *len),
 * 0 when the part does not exist (the expansion is suppressed). */
static int sql_part(char letter, const char *input, const char **start,
                    size_t *len)
{
    size_t local_len;
    const char *domain;
    int has_at = sql_key_split(input, &local_len, &domain);
    switch (letter) {
    case 's':
        *start = input;
        *len = strlen(input);
        return *len > 0;
    case 'u':
        *start = input;
        *len = has_at ? local_len : strlen(input);
        return *len > 0;
    case 'd':
        if (!has_at || *domain == 0)
            return 0;
        *start = domain;
        *len = strlen(domain);
        return 1;
    default: /* '1'..'9' */
        if (!has_at)
            return 0;
        return sql_domain_label(domain, letter - '0', start, len);
    }
}

/* The shared walk. In a query both input and key are the lookup key and
 * escape is set; in a result input is the value. */
static int sql_expand(const char *template_text, const char *input,
                      const char *key, sql_escape_fn escape, void *escape_ctx,
                      struct buf *out)
{
    for (const char *p = template_text; *p; p++) {
        if (*p != '%' || p[1] == 0 ||
            strchr("%sudSUD123456789", p[1]) == NULL) {
            buf_append_char(out, *p); /* sql_template_check refused these */
            continue;
        }
        char letter = *++p;
        if (letter == '%') {
            buf_append_char(out, '%');
            continue;
        }
        const char *from = input;
        if (letter >= 'A' && letter <= 'Z') {
            letter = (char)(letter - 'A' + 'a');
            from = key;
        } else if (letter >= '1' && letter <= '9') {
            from = key;
        }
        const char *start;
        size_t len;
        if (!sql_part(letter, from, &start, &len))
            return 0;
        if (escape == NULL)
            buf_append(out, start, len);
        else if (escape(escape_ctx, start, len, out) < 0)
            return -1;
    }
    return 1;
}

int sql_expand_query(const char *template_text, const char *key,
                     sql_escape_fn escape, void *escape_ctx, struct buf *out)
{
    buf_reset(out);
    if (*key == 0)
        return 0;
    return sql_expand(template_text, key, key, escape, escape_ctx, out);
}

int sql_expand_result(const char *template_text, const char *value,
                      const char *key, struct buf *out)
{
    if (value == NULL || *value == 0)
        return 0;
    size_t old_len = out->len;
    if (old_len > 0)
        buf_append_char(out, ',');
    size_t start_len = out->len;
    if (sql_expand(template_text, value, key, NULL, NULL, out) <= 0 ||
        out->len == start_len) {
        buf_truncate(out, old_len);
        return 0;
    }
    return 1;
}

int sql_key_usable(const char *key, size_t len)
{
    return len > 0 && memchr(key, 0, len) == NULL && utf8_valid(key, len);
}

int sql_key_wanted(const char *key, struct domain_list *domains)
{
    if (!sql_key_usable(key, strlen(key)))
        return 0;
    if (domains == NULL)
        return 1;
    size_t local_len;
    const char *domain;
    if (!sql_key_split(key, &local_len, &domain) || local_len == 0 ||
        *domain == 0)
        return 0;
    int match = domain_list_match(domains, domain);
    return match < 0 ? -1 : match;
}
