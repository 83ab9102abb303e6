/* dict_pattern.c: parser and evaluator of the rule syntax regexp: and
 * pcre: tables share (see dict_pattern.h). A malformed rule fails the
 * whole table with "file, line N: why", so lookups defer instead of
 * silently skipping a rule an administrator relies on. */
#include "tables/dict_pattern.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/log.h"
#include "base/mem.h"
#include "base/expand.h"
#include "base/file_read.h"

enum dict_rule_kind { RULE_MATCH, RULE_IF, RULE_ENDIF };

struct dict_rule {
    enum dict_rule_kind kind;
    int negate;
    void *compiled;
    int groups;
    char *result;      /* RULE_MATCH: result template */
    size_t endif;      /* RULE_IF: index of the matching endif */
    int line;
};

struct dict_pattern {
    const struct dict_pattern_engine *engine;
    struct dict_rule *rules;
    size_t count, cap;
    int max_groups;
    size_t *ovector; /* 2 * (max_groups + 1) */
};

static void dict_pattern_free(struct dict_pattern *p)
{
    if (p == NULL)
        return;
    for (size_t i = 0; i < p->count; i++) {
        if (p->rules[i].compiled)
            p->engine->free(p->rules[i].compiled);
        free(p->rules[i].result);
    }
    free(p->rules);
    free(p->ovector);
    free(p);
}

static struct dict_rule *dict_pattern_add(struct dict_pattern *p)
{
    if (p->count == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 16;
        p->rules = xreallocarray(p->rules, p->cap, sizeof(*p->rules));
    }
    struct dict_rule *rule = &p->rules[p->count++];
    memset(rule, 0, sizeof(*rule));
    return rule;
}

struct result_check {
    const struct dict *d;
    const struct dict_rule *rule;
    const char *result;
    int lineno;
    struct buf *err;
};

/* One $N of a result template, checked at load (base/expand.h's walk). */
static enum expand_step check_group_ref(void *arg, const struct expand_ref *ref,
                                        struct buf *scratch)
{
    (void)scratch;
    const struct result_check *c = arg;
    const struct dict *d = c->d;
    if (ref->bracket &&
        (!ref->closed || ref->name_len == 0 || ref->name_len != ref->inner_len)) {
        buf_appendf(c->err, "%s, line %d: bad substitution in \"%s\": "
                            "expected ${number}",
                    d->name, c->lineno, c->result);
        return EXPAND_STOP;
    }
    if (ref->name_len == 0) {
        if (isalpha((unsigned char)ref->next) || ref->next == '_') {
            buf_appendf(c->err, "%s, line %d: non-numeric substitution "
                                "\"$%c...\" in \"%s\"",
                        d->name, c->lineno, ref->next, c->result);
            return EXPAND_STOP;
        }
        return EXPAND_CONTINUE; /* a lone '$' is literal */
    }
    if (d->flags & DICT_FLAG_NO_REGSUB) {
        buf_appendf(c->err, "%s, line %d: $number substitution is not "
                            "allowed in this table (its result may become "
                            "a path or a command)",
                    d->name, c->lineno);
        return EXPAND_STOP;
    }
    if (c->rule->negate) {
        buf_appendf(c->err, "%s, line %d: $number substitution in the "
                            "result of a negated pattern",
                    d->name, c->lineno);
        return EXPAND_STOP;
    }
    long index = ref->name_len > 6 ? 1000000 : strtol(ref->name, NULL, 10);
    if (index > c->rule->groups) {
        buf_appendf(c->err, "%s, line %d: substitution $%ld is out of "
                            "range (the pattern has %d group%s)",
                    d->name, c->lineno, index, c->rule->groups,
                    c->rule->groups == 1 ? "" : "s");
        return EXPAND_STOP;
    }
    return EXPAND_CONTINUE;
}

/* Checks a result template: $N within the pattern's groups, no $N in
 * negated rules or where substitution is refused. */
static int dict_pattern_check_result(const struct dict *d,
                                     const struct dict_rule *rule,
                                     const char *result, int lineno,
                                     struct buf *err)
{
    struct result_check check = {d, rule, result, lineno, err};
    struct buf scratch = BUF_INIT;
    enum expand_step step = expand_walk(result, strlen(result),
                                        &expand_syntax_groups,
                                        check_group_ref, &check, &scratch);
    buf_free(&scratch);
    return step == EXPAND_STOP ? -1 : 0;
}

/* Parses "!/pattern/flags" at *pos; compiles it into rule. */
static int dict_pattern_parse_pattern(struct dict *d, struct dict_pattern *p,
                                      struct dict_rule *rule, char **pos,
                                      int lineno, struct buf *err)
{
    char *s = *pos;
    while (*s == '!') {
        rule->negate = !rule->negate;
        s++;
        while (isspace((unsigned char)*s))
            s++;
    }
    char delim = *s;
    if (delim == 0 || isalnum((unsigned char)delim) ||
        isspace((unsigned char)delim) || delim == '\\') {
        buf_appendf(err, "%s, line %d: expected /pattern/ but found \"%s\"",
                    d->name, lineno, s);
        return -1;
    }
    char *start = ++s;
    while (*s && *s != delim) {
        if (*s == '\\' && s[1])
            s++;
        s++;
    }
    if (*s != delim) {
        buf_appendf(err, "%s, line %d: missing closing '%c' after pattern",
                    d->name, lineno, delim);
        return -1;
    }
    *s++ = 0;
    char *flags = s;
    while (*s && !isspace((unsigned char)*s))
        s++;
    char saved = *s;
    *s = 0;
    for (const char *f = flags; *f; f++)
        if (strchr(p->engine->flags, *f) == NULL) {
            buf_appendf(err, "%s, line %d: unknown %s flag '%c' (valid: %s)",
                        d->name, lineno, p->engine->type, *f,
                        p->engine->flags);
            return -1;
        }
    struct buf why = BUF_INIT;
    rule->compiled = p->engine->compile(start, flags, &rule->groups, &why);
    if (rule->compiled == NULL) {
        buf_appendf(err, "%s, line %d: bad pattern /%s/: %s", d->name, lineno,
                    start, buf_cstr(&why));
        buf_free(&why);
        return -1;
    }
    buf_free(&why);
    if (rule->groups > p->max_groups)
        p->max_groups = rule->groups;
    *s = saved;
    while (isspace((unsigned char)*s))
        s++;
    *pos = s;
    return 0;
}

static int dict_pattern_keyword(const char *s, const char *word)
{
    size_t len = strlen(word);
    return strncasecmp(s, word, len) == 0 &&
           (s[len] == 0 || isspace((unsigned char)s[len]) ||
            (s[len] == '!' && len == 2) ||
            (!isalnum((unsigned char)s[len]) && len == 2));
}

int dict_pattern_load_text(struct dict *d,
                           const struct dict_pattern_engine *engine,
                           const char *text, size_t len, struct buf *err)
{
    struct dict_pattern *p = xcalloc(1, sizeof(*p));
    p->engine = engine;
    struct dict_text_reader reader;
    struct buf line = BUF_INIT;
    struct dict_if_stack ifs = {0};
    int lineno, status;
    dict_text_init(&reader, text, len);
    while ((status = dict_text_next(&reader, &line, &lineno)) > 0) {
        char *s = line.data;
        while (isspace((unsigned char)*s))
            s++;
        if (dict_pattern_keyword(s, "endif")) {
            long opened = dict_if_endif(&ifs, d->name, s + 5, lineno, err);
            if (opened < 0) {
                status = -1;
                break;
            }
            struct dict_rule *rule = dict_pattern_add(p);
            rule->kind = RULE_ENDIF;
            rule->line = lineno;
            p->rules[opened].endif = p->count - 1;
            continue;
        }
        struct dict_rule *rule = dict_pattern_add(p);
        rule->line = lineno;
        if (dict_pattern_keyword(s, "if")) {
            rule->kind = RULE_IF;
            s += 2;
            while (isspace((unsigned char)*s))
                s++;
            if (dict_pattern_parse_pattern(d, p, rule, &s, lineno, err) < 0) {
                status = -1;
                break;
            }
            if (*s) {
                /* Usually an indented rule: indentation continues the
                 * line before, so rules inside if..endif start at the
                 * left margin, as in Postfix. */
                buf_appendf(err, "%s, line %d: text after if /pattern/ (an "
                                 "indented line continues the line before)",
                            d->name, lineno);
                status = -1;
                break;
            }
            dict_if_push(&ifs, p->count - 1, lineno);
            continue;
        }
        rule->kind = RULE_MATCH;
        if (dict_pattern_parse_pattern(d, p, rule, &s, lineno, err) < 0) {
            status = -1;
            break;
        }
        size_t result_len = strlen(s);
        while (result_len > 0 && isspace((unsigned char)s[result_len - 1]))
            s[--result_len] = 0;
        if (result_len == 0)
            log_warn("%s, line %d: no result after the pattern: using an "
                     "empty result",
                     d->name, lineno);
        if (dict_pattern_check_result(d, rule, s, lineno, err) < 0) {
            status = -1;
            break;
        }
        rule->result = xstrdup(s);
    }
    if (status < 0 && err->len == 0)
        buf_appendf(err, "%s, line %d: NUL byte in text", d->name, lineno);
    if (status == 0 && dict_if_unclosed(&ifs, d->name, err))
        status = -1;
    dict_if_free(&ifs);
    buf_free(&line);
    if (status < 0) {
        dict_pattern_free(p);
        return -1;
    }
    p->ovector = xcalloc(2 * ((size_t)p->max_groups + 1), sizeof(size_t));
    d->impl = p;
    return 0;
}

int dict_pattern_load(struct dict *d, const struct dict_pattern_engine *engine,
                      struct buf *err)
{
    struct buf text = BUF_INIT;
    int status = file_read(d->path, DICT_SOURCE_MAX_SIZE, &text, err);
    if (status == 0)
        status = dict_pattern_load_text(d, engine, text.data, text.len, err);
    buf_free(&text);
    return status;
}

void dict_pattern_release(struct dict *d)
{
    dict_pattern_free(d->impl);
    d->impl = NULL;
}

struct group_values {
    const char *subject;
    const size_t *ovector;
    int groups;
};

/* One $N of a checked result template: the text group N captured. */
static enum expand_step put_group(void *arg, const struct expand_ref *ref,
                                  struct buf *value)
{
    const struct group_values *g = arg;
    if (ref->name_len == 0) {
        buf_append_char(value, '$'); /* a lone '$' is literal */
        return EXPAND_CONTINUE;
    }
    long index = strtol(ref->name, NULL, 10); /* checked at load */
    if (index <= g->groups && g->ovector[2 * index] != DICT_PATTERN_UNSET &&
        g->ovector[2 * index + 1] >= g->ovector[2 * index])
        buf_append(value, g->subject + g->ovector[2 * index],
                   g->ovector[2 * index + 1] - g->ovector[2 * index]);
    return EXPAND_CONTINUE;
}

/* Expands a checked result template with the captures of subject. */
static void dict_pattern_expand(const char *result, const char *subject,
                                const size_t *ovector, int groups,
                                struct buf *value)
{
    struct group_values g = {subject, ovector, groups};
    buf_reset(value);
    expand_walk(result, strlen(result), &expand_syntax_groups, put_group, &g,
                value);
}

enum dict_result dict_pattern_lookup(struct dict *d, const char *key,
                                     size_t key_len, struct buf *value)
{
    struct dict_pattern *p = d->impl;
    size_t i = 0;
    while (i < p->count) {
        struct dict_rule *rule = &p->rules[i];
        if (rule->kind == RULE_ENDIF) {
            i++;
            continue;
        }
        buf_reset(&d->error);
        int pairs = rule->groups + 1;
        for (int g = 0; g < 2 * pairs; g++)
            p->ovector[g] = DICT_PATTERN_UNSET;
        int matched = p->engine->match(rule->compiled, key, key_len,
                                       p->ovector, pairs, &d->error);
        if (matched < 0) {
            struct buf why = BUF_INIT;
            buf_appendf(&why, "%s, line %d: %s", d->name, rule->line,
                        buf_cstr(&d->error));
            buf_set(&d->error, why.data, why.len);
            buf_free(&why);
            return DICT_ERROR;
        }
        if (rule->negate)
            matched = !matched;
        if (rule->kind == RULE_IF) {
            i = matched ? i + 1 : rule->endif + 1;
            continue;
        }
        if (matched) {
            dict_pattern_expand(rule->result, key, p->ovector, rule->groups,
                                value);
            return DICT_FOUND;
        }
        i++;
    }
    return DICT_NOTFOUND;
}
