/* config_expand.c: lazy $name expansion, computed defaults, typed
 * values and checks for main.cf parameters (see config.h).
 *
 * Expansion walks the text once; each reference looks the name up
 * (override, main.cf, table default) and expands that text in turn. A
 * stack of the names being expanded catches loops; depth, output size
 * and the number of references are bounded, so no main.cf can make a
 * daemon spin or run out of memory here. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "config/config_internal.h"
#include "base/expand.h"
#include "base/log.h"
#include "base/mem.h"

#define EXPAND_MAX_DEPTH 100
#define EXPAND_MAX_OUTPUT (1024 * 1024)
#define EXPAND_MAX_STEPS 100000

struct expand_ctx {
    int defaults_only;
    const char *stack[EXPAND_MAX_DEPTH];
    int depth;
    long steps;
    size_t start_len; /* out->len when the top-level expansion began */
    struct buf *err;  /* first problem only */
    int failed;
};

static void expand_fail(struct expand_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void expand_fail(struct expand_ctx *ctx, const char *fmt, ...)
{
    if (!ctx->failed && ctx->err) {
        va_list ap;
        va_start(ap, fmt);
        buf_vappendf(ctx->err, fmt, ap);
        va_end(ap);
    }
    ctx->failed = 1;
}

static void expand_text(struct expand_ctx *ctx, const char *text, size_t len,
                        struct buf *out);

/* The raw text of name in this context (NULL: expands to nothing).
 * Computed defaults that depend on other parameters are worked out here,
 * inside the same context, so a loop through them is still caught. */
static const char *raw_value(struct expand_ctx *ctx, const char *name,
                             struct buf *scratch)
{
    if (!ctx->defaults_only) {
        const struct cfg_var *var = config_find_var(name, NULL);
        if (var && var->override)
            return var->override;
        if (var && var->file_value)
            return var->file_value;
        if (strcmp(name, "config_directory") == 0 && cfg_state.dir)
            return cfg_state.dir;
    }
    const struct param_def *def = param_find(name);
    if (def == NULL)
        return NULL;
    if (strcmp(name, "mydomain") == 0) {
        struct buf host = BUF_INIT;
        expand_text(ctx, "$myhostname", 11, &host);
        const char *dot = strchr(buf_cstr(&host), '.');
        buf_set_str(scratch, dot && dot[1] ? dot + 1 : "localdomain");
        buf_free(&host);
        return buf_cstr(scratch);
    }
    if (strcmp(name, "mynetworks") == 0) {
        struct buf style = BUF_INIT;
        expand_text(ctx, "$mynetworks_style", 17, &style);
        char *nets = config_networks_for_style(buf_cstr(&style));
        buf_set_str(scratch, nets);
        free(nets);
        buf_free(&style);
        return buf_cstr(scratch);
    }
    return param_default(def);
}

static void expand_name(struct expand_ctx *ctx, const char *name,
                        struct buf *out)
{
    if (++ctx->steps > EXPAND_MAX_STEPS) {
        expand_fail(ctx, "too many parameter references");
        return;
    }
    for (int i = 0; i < ctx->depth; i++) {
        if (strcmp(ctx->stack[i], name) == 0) {
            expand_fail(ctx, "parameter %s refers to itself through $%s",
                        ctx->stack[0], name);
            return;
        }
    }
    if (ctx->depth >= EXPAND_MAX_DEPTH) {
        expand_fail(ctx, "parameter %s: expansion nests too deep",
                    ctx->stack[0]);
        return;
    }
    /* In normal mode a name already expanded is reused: this keeps
     * a=$b$b$b.. chains linear. */
    const struct cfg_var *var =
        ctx->defaults_only ? NULL : config_find_var(name, NULL);
    if (var && var->expanded && !var->failed) {
        buf_append_str(out, var->expanded);
        return;
    }
    struct buf scratch = BUF_INIT;
    const char *raw = raw_value(ctx, name, &scratch);
    if (raw) {
        ctx->stack[ctx->depth++] = name;
        expand_text(ctx, raw, strlen(raw), out);
        ctx->depth--;
    }
    buf_free(&scratch);
}

static size_t skip_space(const char *text, size_t len, size_t pos)
{
    while (pos < len && isspace((unsigned char)text[pos]))
        pos++;
    return pos;
}

/* Reads a "{value}" group at text[*pos]: sets its inside and moves *pos
 * past the '}'. 0, or -1 when there is no complete group there. */
static int brace_group(const char *text, size_t len, size_t *pos,
                       const char **inside, size_t *inside_len)
{
    if (*pos >= len || text[*pos] != '{')
        return -1;
    size_t close = expand_matching_close(text + *pos, len - *pos);
    if (close >= len - *pos)
        return -1;
    *inside = text + *pos + 1;
    *inside_len = close - 1;
    *pos += close + 1;
    return 0;
}

/* Expands the part after the condition of ${cond?...} or ${cond:...}
 * (`rest`, after the '?' or ':'). The forms: ?text, ?{text},
 * ?{text1}:{text2}, ?{text1}:text2, :text, :{text}; whitespace around a
 * {text} is ignored. `what` names the condition in messages. */
static void expand_choice(struct expand_ctx *ctx, int condition, char op,
                          const char *rest, size_t rest_len, const char *what,
                          struct buf *out)
{
    const char *first = rest, *second = NULL;
    size_t first_len = rest_len, second_len = 0;
    size_t pos = skip_space(rest, rest_len, 0);
    if (pos < rest_len && rest[pos] == '{') {
        if (brace_group(rest, rest_len, &pos, &first, &first_len) != 0) {
            expand_fail(ctx, "missing '}' in ${%s%c{...}", what, op);
            return;
        }
        pos = skip_space(rest, rest_len, pos);
        if (pos < rest_len) {
            /* Only ?{text1} may be followed, by :text2 or :{text2}. */
            if (op != '?' || rest[pos] != ':') {
                expand_fail(ctx, "bad text after ${%s%c{...}", what, op);
                return;
            }
            pos = skip_space(rest, rest_len, pos + 1);
            second = rest + pos;
            second_len = rest_len - pos;
            if (pos < rest_len && rest[pos] == '{') {
                if (brace_group(rest, rest_len, &pos, &second, &second_len) != 0 ||
                    skip_space(rest, rest_len, pos) != rest_len) {
                    expand_fail(ctx, "bad text after ${%s?{...}:", what);
                    return;
                }
            }
        }
    }
    if (op == ':') {
        /* ${cond:text} is text when the condition is empty (false). */
        second = first;
        second_len = first_len;
        first = NULL;
    }
    if (condition && first)
        expand_text(ctx, first, first_len, out);
    else if (!condition && second)
        expand_text(ctx, second, second_len, out);
}

/* True for a non-empty string of decimal digits. */
static int all_digits(const char *text)
{
    if (*text == 0)
        return 0;
    for (; *text; text++)
        if (!isdigit((unsigned char)*text))
            return 0;
    return 1;
}

/* Postfix's rule: numbers when both sides are all digits (of any
 * length, so no overflow), else byte-wise text order. */
static int compare_values(const char *left, const char *right)
{
    if (all_digits(left) && all_digits(right)) {
        while (left[0] == '0' && left[1])
            left++;
        while (right[0] == '0' && right[1])
            right++;
        size_t left_len = strlen(left), right_len = strlen(right);
        if (left_len != right_len)
            return left_len < right_len ? -1 : 1;
    }
    int cmp = strcmp(left, right);
    return cmp < 0 ? -1 : cmp > 0;
}

/* ${{value1} OP {value2}?...}: the relational form of Postfix 3.0, with
 * OP one of == != < <= > >=. Both values are expanded first. */
static void expand_relation(struct expand_ctx *ctx, const char *inner,
                            size_t len, struct buf *out)
{
    static const char *const ops[] = {"==", "!=", "<=", ">=", "<", ">"};
    const char *left, *right;
    size_t left_len, right_len, pos = skip_space(inner, len, 0);
    if (brace_group(inner, len, &pos, &left, &left_len) != 0) {
        expand_fail(ctx, "missing '}' in ${{...}");
        return;
    }
    pos = skip_space(inner, len, pos);
    size_t op = 0;
    while (op < sizeof(ops) / sizeof(*ops) &&
           (len - pos < strlen(ops[op]) ||
            memcmp(inner + pos, ops[op], strlen(ops[op])) != 0))
        op++;
    if (op == sizeof(ops) / sizeof(*ops)) {
        expand_fail(ctx, "expected == != < <= > or >= after ${{...}");
        return;
    }
    pos = skip_space(inner, len, pos + strlen(ops[op]));
    if (brace_group(inner, len, &pos, &right, &right_len) != 0) {
        expand_fail(ctx, "expected {value} after ${{...} %s", ops[op]);
        return;
    }
    pos = skip_space(inner, len, pos);
    if (pos >= len || (inner[pos] != '?' && inner[pos] != ':')) {
        expand_fail(ctx, "expected ? or : after ${{...} %s {...}", ops[op]);
        return;
    }
    struct buf left_value = BUF_INIT, right_value = BUF_INIT;
    expand_text(ctx, left, left_len, &left_value);
    expand_text(ctx, right, right_len, &right_value);
    int cmp = compare_values(buf_cstr(&left_value), buf_cstr(&right_value));
    buf_free(&left_value);
    buf_free(&right_value);
    int truth = 0;
    switch (op) {
    case 0:
        truth = cmp == 0;
        break;
    case 1:
        truth = cmp != 0;
        break;
    case 2:
        truth = cmp <= 0;
        break;
    case 3:
        truth = cmp >= 0;
        break;
    case 4:
        truth = cmp < 0;
        break;
    default:
        truth = cmp > 0;
        break;
    }
    char *what = xasprintf("{...} %s {...}", ops[op]);
    expand_choice(ctx, truth, inner[pos], inner + pos + 1, len - pos - 1,
                  what, out);
    free(what);
}

/* Handles the inside of ${...} or $(...): name, name?text, name:text,
 * name?{a}:{b}, and the relational {a} OP {b}?... forms. */
static void expand_braced(struct expand_ctx *ctx, const char *inner,
                          size_t len, struct buf *out)
{
    size_t start = skip_space(inner, len, 0);
    if (start < len && inner[start] == '{') {
        expand_relation(ctx, inner, len, out);
        return;
    }
    size_t name_len = 0;
    while (name_len < len && expand_name_char((unsigned char)inner[name_len]))
        name_len++;
    if (name_len == 0) {
        expand_fail(ctx, "missing parameter name after ${");
        return;
    }
    char *name = xstrndup(inner, name_len);
    if (name_len == len) {
        expand_name(ctx, name, out);
        free(name);
        return;
    }
    char op = inner[name_len];
    if (op != '?' && op != ':') {
        expand_fail(ctx, "unexpected '%c' after ${%s", op, name);
        free(name);
        return;
    }
    struct buf value = BUF_INIT;
    expand_name(ctx, name, &value);
    int non_empty = value.len > 0;
    buf_free(&value);
    expand_choice(ctx, non_empty, op, inner + name_len + 1, len - name_len - 1,
                  name, out);
    free(name);
}

/* One reference in a main.cf value (base/expand.h's walk). */
static enum expand_step expand_ref(void *arg, const struct expand_ref *ref,
                                   struct buf *out)
{
    struct expand_ctx *ctx = arg;
    if (out->len - ctx->start_len > EXPAND_MAX_OUTPUT) {
        expand_fail(ctx, "expansion longer than %d bytes", EXPAND_MAX_OUTPUT);
        return EXPAND_STOP;
    }
    if (ref->bracket && !ref->closed) {
        expand_fail(ctx, "missing '%c' after \"$%c\"",
                    ref->bracket == '{' ? '}' : ')', ref->bracket);
        buf_append(out, ref->text, ref->text_len);
        return EXPAND_STOP;
    }
    if (ref->bracket) {
        expand_braced(ctx, ref->inner, ref->inner_len, out);
    } else if (ref->name_len > 0) {
        char *name = xstrndup(ref->name, ref->name_len);
        expand_name(ctx, name, out);
        free(name);
    } else if (ref->next == 0) {
        expand_fail(ctx, "'$' at end of text");
        buf_append_char(out, '$');
        return EXPAND_STOP;
    } else {
        expand_fail(ctx, "missing parameter name after '$'");
        buf_append_char(out, '$');
    }
    return EXPAND_CONTINUE;
}

static void expand_text(struct expand_ctx *ctx, const char *text, size_t len,
                        struct buf *out)
{
    expand_walk(text, len, &expand_syntax_names, expand_ref, ctx, out);
}

int config_expand(const char *text, int defaults_only, struct buf *out,
                  struct buf *err)
{
    struct expand_ctx ctx;
    memset(&ctx, 0, sizeof(ctx));
    ctx.defaults_only = defaults_only;
    ctx.err = err;
    ctx.start_len = out->len;
    buf_append(out, "", 0);
    expand_text(&ctx, text, strlen(text), out);
    return ctx.failed ? -1 : 0;
}

/* ---- looking values up ---- */

static const char *where_set(const char *name, struct buf *where)
{
    enum config_source source = config_source_of(name);
    buf_reset(where);
    if (source == CONFIG_MAIN_CF)
        buf_appendf(where, "%s, line %d", cfg_state.path ? cfg_state.path
                                                         : "main.cf",
                    config_line(name));
    else if (source == CONFIG_OVERRIDE)
        buf_appendf(where, "-o %s", name);
    else
        buf_appendf(where, "default");
    return buf_cstr(where);
}

const char *cfg_str(const char *name)
{
    struct cfg_var *var = config_find_var(name, NULL);
    if (var && var->expanded)
        return var->expanded;
    struct buf out = BUF_INIT, err = BUF_INIT;
    struct expand_ctx ctx;
    memset(&ctx, 0, sizeof(ctx));
    ctx.err = &err;
    buf_append(&out, "", 0);
    expand_name(&ctx, name, &out);
    /* Cache per variable; names that are only defaults get a variable
     * too (without value), so each is expanded once per load. */
    var = config_find_var(name, NULL);
    if (var == NULL) {
        if (param_find(name) == NULL) {
            buf_free(&out);
            buf_free(&err);
            return "";
        }
        var = config_get_var(name);
    }
    if (ctx.failed && !var->warned) {
        struct buf where = BUF_INIT;
        const char *why = buf_cstr(&err);
        if (str_has_prefix(why, "parameter "))
            config_warn("%s: %s", where_set(name, &where), why);
        else
            config_warn("%s: parameter %s: %s", where_set(name, &where), name,
                        why);
        buf_free(&where);
        var->warned = 1;
    }
    buf_free(&err);
    var->failed = ctx.failed;
    var->expanded = buf_detach(&out);
    return var->expanded;
}
