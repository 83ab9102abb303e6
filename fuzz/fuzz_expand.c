/* fuzz_expand.c: fuzz target for lib/base/expand, the $name walk under
 * main.cf values, pattern-table results and local's command and file
 * names. Walks the input with both syntaxes and checks that every
 * reference lies inside the text, starts with '$', that its name and
 * inner text lie inside it, and that text outside references is copied
 * as it is (so the output is never longer than the input). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/expand.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct bounds {
    const char *start;
    size_t len;
};

static int inside(const struct bounds *b, const char *p, size_t len)
{
    return p >= b->start && len <= b->len &&
           (size_t)(p - b->start) <= b->len - len;
}

static enum expand_step check_ref(void *ctx, const struct expand_ref *ref,
                                  struct buf *out)
{
    const struct bounds *b = ctx;
    if (!inside(b, ref->text, ref->text_len) || ref->text_len == 0 ||
        ref->text[0] != '$' || !inside(b, ref->name, ref->name_len))
        abort();
    if (ref->bracket && (!inside(b, ref->inner, ref->inner_len) ||
                         ref->name != ref->inner ||
                         ref->name_len > ref->inner_len))
        abort();
    /* Writes nothing: the output is the literal text and "$$" alone. */
    (void)out;
    return EXPAND_CONTINUE;
}

static void ignore_name(void *ctx, const char *name, size_t len)
{
    const struct bounds *b = ctx;
    if (len == 0 || !inside(b, name, len))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    struct bounds b = {text, size};
    const struct expand_syntax *syntaxes[] = {&expand_syntax_names,
                                              &expand_syntax_groups};
    for (size_t k = 0; k < 2; k++) {
        struct buf out = BUF_INIT;
        expand_walk(text, size, syntaxes[k], check_ref, &b, &out);
        if (out.len > size)
            abort();
        buf_free(&out);
        expand_list_names(text, size, syntaxes[k], ignore_name, &b);
    }
    return 0;
}
