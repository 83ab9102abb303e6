/* dict_regexp.c: regexp: tables, POSIX extended regular expressions in
 * Postfix's regexp_table(5) syntax (parsed by dict_pattern.c). Flags
 * toggle: i case sensitivity (matching is case-insensitive by default),
 * x extended syntax (on by default), m multi-line mode (off). */
#include <ctype.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "tables/dict_pattern.h"
#include "base/mem.h"

struct dict_regexp {
    regex_t re;
};

/* True when the pattern stacks more than two repetition operators
 * ("a+++", "a*{2}?{3}"). POSIX leaves stacked operators undefined, and
 * glibc's regcomp takes exponential time and memory on long runs of
 * them, so such a pattern is refused rather than stalling a daemon. */
static int dict_regexp_stacked(const char *p)
{
    int run = 0;
    while (*p) {
        if (*p == '\\' && p[1]) {
            p += 2;
            run = 0;
            continue;
        }
        if (*p == '[') { /* bracket expression: its characters are literal */
            p++;
            if (*p == '^')
                p++;
            if (*p == ']')
                p++;
            while (*p && *p != ']') {
                if (*p == '[' && (p[1] == ':' || p[1] == '.' || p[1] == '=')) {
                    char kind = p[1];
                    p += 2;
                    while (*p && !(*p == kind && p[1] == ']'))
                        p++;
                    if (*p)
                        p += 2;
                    continue;
                }
                p++;
            }
            if (*p)
                p++;
            run = 0;
            continue;
        }
        if (*p == '*' || *p == '+' || *p == '?') {
            if (++run > 2)
                return 1;
            p++;
            continue;
        }
        if (*p == '{') {
            const char *q = p + 1;
            while (isdigit((unsigned char)*q) || *q == ',')
                q++;
            if (*q == '}' && q > p + 1) {
                if (++run > 2)
                    return 1;
                p = q + 1;
                continue;
            }
        }
        run = 0;
        p++;
    }
    return 0;
}

static void *dict_regexp_compile(const char *pattern, const char *flags,
                                 int *groups, struct buf *err)
{
    int icase = 1, extended = 1, multiline = 0;
    for (const char *f = flags; *f; f++) {
        if (*f == 'i')
            icase = !icase;
        else if (*f == 'x')
            extended = !extended;
        else if (*f == 'm')
            multiline = !multiline;
    }
    int cflags = (icase ? REG_ICASE : 0) | (extended ? REG_EXTENDED : 0) |
                 (multiline ? REG_NEWLINE : 0);
    if (dict_regexp_stacked(pattern)) {
        buf_append_str(err, "more than two repetition operators in a row");
        return NULL;
    }
    struct dict_regexp *compiled = xmalloc(sizeof(*compiled));
    int status = regcomp(&compiled->re, pattern, cflags);
    if (status != 0) {
        char message[256];
        regerror(status, &compiled->re, message, sizeof(message));
        buf_append_str(err, message);
        free(compiled);
        return NULL;
    }
    *groups = compiled->re.re_nsub > 99 ? 99 : (int)compiled->re.re_nsub;
    return compiled;
}

static int dict_regexp_match(void *compiled, const char *subject,
                             size_t subject_len, size_t *ovector, int pairs,
                             struct buf *err)
{
    struct dict_regexp *r = compiled;
    regmatch_t matches[100];
    if (pairs > 100)
        pairs = 100;
    int status = regexec(&r->re, subject, (size_t)pairs, matches, 0);
    if (status == REG_NOMATCH)
        return 0;
    if (status != 0) {
        char message[256];
        regerror(status, &r->re, message, sizeof(message));
        buf_append_str(err, message);
        return -1;
    }
    for (int i = 0; i < pairs; i++) {
        if (matches[i].rm_so < 0) {
            ovector[2 * i] = ovector[2 * i + 1] = DICT_PATTERN_UNSET;
        } else {
            ovector[2 * i] = (size_t)matches[i].rm_so;
            ovector[2 * i + 1] = (size_t)matches[i].rm_eo;
        }
    }
    return 1;
}

static void dict_regexp_free(void *compiled)
{
    struct dict_regexp *r = compiled;
    regfree(&r->re);
    free(r);
}

static const struct dict_pattern_engine dict_regexp_engine = {
    .type = "regexp", .flags = "imx",
    .compile = dict_regexp_compile, .match = dict_regexp_match,
    .free = dict_regexp_free,
};

static int dict_regexp_load(struct dict *d, struct buf *err)
{
    return dict_pattern_load(d, &dict_regexp_engine, err);
}

static int dict_regexp_load_text(struct dict *d, const char *text, size_t len,
                                 struct buf *err)
{
    return dict_pattern_load_text(d, &dict_regexp_engine, text, len, err);
}

const struct dict_type dict_type_regexp = {
    .name = "regexp", .suffix = "",
    .load = dict_regexp_load, .load_text = dict_regexp_load_text,
    .release = dict_pattern_release, .lookup = dict_pattern_lookup,
};
