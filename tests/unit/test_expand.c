/* test_expand.c: unit tests for lib/base/expand, the one $name walk:
 * literal text and "$$", $name, ${...} and $(...) with nested brackets,
 * an unclosed bracket, a lone '$', the digit syntax of pattern tables,
 * stopping, and the list of names a text refers to. */
#include "unit.h"

#include "base/buf.h"
#include "base/expand.h"

/* Writes each reference as <name|inner|closed> so the tests see what
 * the walk found; "stop" ends the walk. */
static enum expand_step show_ref(void *ctx, const struct expand_ref *ref,
                                 struct buf *out)
{
    (void)ctx;
    buf_append_char(out, '<');
    buf_append(out, ref->name, ref->name_len);
    if (ref->bracket) {
        buf_appendf(out, "|%c", ref->bracket);
        buf_append(out, ref->inner, ref->inner_len);
        buf_append_str(out, ref->closed ? "|closed" : "|open");
    } else if (ref->name_len == 0) {
        buf_appendf(out, "|next=%c", ref->next ? ref->next : '0');
    }
    buf_append_char(out, '>');
    if (ref->name_len == 4 && memcmp(ref->name, "stop", 4) == 0)
        return EXPAND_STOP;
    return EXPAND_CONTINUE;
}

static const char *walk(const struct expand_syntax *syntax, const char *text,
                        struct buf *out)
{
    buf_reset(out);
    expand_walk(text, strlen(text), syntax, show_ref, NULL, out);
    return buf_cstr(out);
}

static void test_names(void)
{
    struct buf out = BUF_INIT;
    const struct expand_syntax *s = &expand_syntax_names;
    CHECK_STR(walk(s, "plain text", &out), "plain text");
    CHECK_STR(walk(s, "a$$b", &out), "a$b");
    CHECK_STR(walk(s, "$home/.forward", &out), "<home>/.forward");
    CHECK_STR(walk(s, "x${a_1}y$(b)z", &out), "x<a_1|{a_1|closed>y<b|(b|closed>z");
    CHECK_STR(walk(s, "${a?{${b}}:c}!", &out), "<a|{a?{${b}}:c|closed>!");
    CHECK_STR(walk(s, "${{x} == {y}?z}", &out),
              "<|{{x} == {y}?z|closed>");
    CHECK_STR(walk(s, "a${b", &out), "a<b|{b|open>");
    CHECK_STR(walk(s, "a$ b$", &out), "a<|next= > b<|next=0>");
    CHECK_STR(walk(s, "$1x$-", &out), "<1x><|next=->-");
    CHECK_STR(walk(s, "$a$stop$b", &out), "<a><stop>");
    buf_free(&out);
}

static void test_groups(void)
{
    struct buf out = BUF_INIT;
    const struct expand_syntax *s = &expand_syntax_groups;
    CHECK_STR(walk(s, "$1abc", &out), "<1>abc");
    CHECK_STR(walk(s, "${12}x$(3)", &out), "<12|{12|closed>x<3|(3|closed>");
    CHECK_STR(walk(s, "$abc $$", &out), "<|next=a>abc $");
    buf_free(&out);
}

static void collect(void *ctx, const char *name, size_t len)
{
    struct buf *names = ctx;
    buf_append(names, name, len);
    buf_append_char(names, ',');
}

static void test_list_names(void)
{
    struct buf names = BUF_INIT;
    const char *text = "$a ${b?$c} $(d:${e}) $$f ${{$g} == {h}?$i}";
    expand_list_names(text, strlen(text), &expand_syntax_names, collect,
                      &names);
    CHECK_STR(buf_cstr(&names), "a,b,c,d,e,g,i,");
    buf_free(&names);
}

static void test_matching_close(void)
{
    CHECK_INT(expand_matching_close("{a{b}c}d", 8), 6);
    CHECK_INT(expand_matching_close("(a)", 3), 2);
    CHECK_INT(expand_matching_close("{a{b}", 5), 5);
}

int main(void)
{
    UNIT_RUN(test_names);
    UNIT_RUN(test_groups);
    UNIT_RUN(test_list_names);
    UNIT_RUN(test_matching_close);
    return unit_summary();
}
