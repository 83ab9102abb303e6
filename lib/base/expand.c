/* expand.c: the $name reference walk (expand.h). */
#include "base/expand.h"

#include <ctype.h>
#include <string.h>

int expand_name_char(int c)
{
    return isalnum(c) || c == '_';
}

static int digit_char(int c)
{
    return isdigit(c);
}

const struct expand_syntax expand_syntax_names = {expand_name_char, "{("};
const struct expand_syntax expand_syntax_groups = {digit_char, "{("};

size_t expand_matching_close(const char *text, size_t len)
{
    char open = text[0], close = open == '{' ? '}' : ')';
    int depth = 0;
    for (size_t i = 0; i < len; i++) {
        if (text[i] == open)
            depth++;
        else if (text[i] == close && --depth == 0)
            return i;
    }
    return len;
}

static size_t name_length(const struct expand_syntax *syntax, const char *text,
                          size_t len)
{
    size_t n = 0;
    while (n < len && syntax->name_char((unsigned char)text[n]))
        n++;
    return n;
}

enum expand_step expand_walk(const char *text, size_t len,
                             const struct expand_syntax *syntax,
                             expand_ref_fn ref_fn, void *ctx,
                             struct buf *out)
{
    size_t i = 0;
    while (i < len) {
        const char *dollar = memchr(text + i, '$', len - i);
        if (dollar == NULL) {
            buf_append(out, text + i, len - i);
            return EXPAND_CONTINUE;
        }
        buf_append(out, text + i, (size_t)(dollar - (text + i)));
        i = (size_t)(dollar - text) + 1;
        if (i < len && text[i] == '$') {
            buf_append_char(out, '$');
            i++;
            continue;
        }
        struct expand_ref ref;
        memset(&ref, 0, sizeof(ref));
        ref.text = dollar;
        if (i < len && text[i] != 0 && strchr(syntax->brackets, text[i])) {
            size_t close = expand_matching_close(text + i, len - i);
            ref.bracket = text[i];
            ref.closed = close < len - i;
            ref.inner = text + i + 1;
            ref.inner_len = ref.closed ? close - 1 : len - i - 1;
            ref.name = ref.inner;
            ref.name_len = name_length(syntax, ref.inner, ref.inner_len);
            i = ref.closed ? i + close + 1 : len;
        } else {
            ref.name = text + i;
            ref.name_len = name_length(syntax, text + i, len - i);
            i += ref.name_len;
            ref.next = i < len ? text[i] : 0;
        }
        ref.text_len = (size_t)(text + i - dollar);
        if (ref_fn(ctx, &ref, out) == EXPAND_STOP)
            return EXPAND_STOP;
    }
    return EXPAND_CONTINUE;
}

struct list_ctx {
    const struct expand_syntax *syntax;
    void (*name_fn)(void *ctx, const char *name, size_t name_len);
    void *ctx;
};

static enum expand_step list_ref(void *arg, const struct expand_ref *ref,
                                 struct buf *scratch)
{
    struct list_ctx *lc = arg;
    if (ref->name_len > 0)
        lc->name_fn(lc->ctx, ref->name, ref->name_len);
    if (ref->bracket)
        expand_walk(ref->inner + ref->name_len,
                    ref->inner_len - ref->name_len, lc->syntax, list_ref, lc,
                    scratch);
    return EXPAND_CONTINUE;
}

void expand_list_names(const char *text, size_t len,
                       const struct expand_syntax *syntax,
                       void (*name_fn)(void *ctx, const char *name,
                                       size_t name_len),
                       void *ctx)
{
    struct list_ctx lc = {syntax, name_fn, ctx};
    struct buf scratch = BUF_INIT;
    expand_walk(text, len, syntax, list_ref, &lc, &scratch);
    buf_free(&scratch);
}
