/* test_username_format.c: unit tests for auth_username_format expansion
 * (lib/auth/username_format.c): the short and long variables, the L and
 * U modifiers, literal text and %%, names without a domain, and the
 * errors a typo gives. */
#include "unit.h"

#include "auth/username_format.h"
#include "base/buf.h"

/* The expansion of format for user, or "ERROR: ..." */
static const char *expand(const char *format, const char *user)
{
    static struct buf out;
    struct buf err = BUF_INIT;
    buf_free(&out);
    buf_init(&out);
    if (username_format_expand(format, user, &out, &err) < 0) {
        buf_reset(&out);
        buf_appendf(&out, "ERROR: %s", buf_cstr(&err));
    }
    buf_free(&err);
    return buf_cstr(&out);
}

static void test_variables(void)
{
    CHECK_STR(expand("%u", "Alice@Example.Test"), "Alice@Example.Test");
    CHECK_STR(expand("%Lu", "Alice@Example.Test"), "alice@example.test");
    CHECK_STR(expand("%Uu", "Alice@Example.Test"), "ALICE@EXAMPLE.TEST");
    CHECK_STR(expand("%n", "Alice@Example.Test"), "Alice");
    CHECK_STR(expand("%Ln", "Alice@Example.Test"), "alice");
    CHECK_STR(expand("%d", "Alice@Example.Test"), "Example.Test");
    CHECK_STR(expand("%Ld", "Alice@Example.Test"), "example.test");
    CHECK_STR(expand("%Ud", "Alice@Example.Test"), "EXAMPLE.TEST");
    /* Long names, with the same modifiers. */
    CHECK_STR(expand("%{user}", "Bob@X.Org"), "Bob@X.Org");
    CHECK_STR(expand("%L{user}", "Bob@X.Org"), "bob@x.org");
    CHECK_STR(expand("%U{username}", "Bob@X.Org"), "BOB");
    CHECK_STR(expand("%L{domain}", "Bob@X.Org"), "x.org");
    /* Composed, with literal text and %%. */
    CHECK_STR(expand("%Ln@%Ld", "Bob@X.Org"), "bob@x.org");
    CHECK_STR(expand("%Ln@example.net", "Bob@X.Org"), "bob@example.net");
    CHECK_STR(expand("100%%-%n", "Bob@X.Org"), "100%-Bob");
    /* The later modifier wins. */
    CHECK_STR(expand("%ULn", "Bob@X.Org"), "bob");
    /* Without a domain: %n is the whole name, %d empty. */
    CHECK_STR(expand("%Ln|%d|", "Carol"), "carol||");
    /* The first '@' splits. */
    CHECK_STR(expand("%n|%d", "a@b@c"), "a|b@c");
    /* Bytes outside ASCII are left alone. */
    CHECK_STR(expand("%Lu", "\xc3\x89mile"), "\xc3\x89mile");
    CHECK_STR(expand("", "x"), "");
}

static void test_errors(void)
{
    struct buf err = BUF_INIT;
    CHECK_INT(username_format_check(USERNAME_FORMAT_DEFAULT, &err), 0);
    CHECK_INT(username_format_check("%Ln@%Ld", &err), 0);
    static const char *const bad[] = {"%s",  "%Ls",      "%{service}", "%{user",
                                      "%",   "%L",       "%3n",        "%Mu",
                                      "%{}", "%u%{lip}", "%{L:user}"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        buf_reset(&err);
        CHECK_INT(username_format_check(bad[i], &err), -1);
        CHECK(strstr(buf_cstr(&err), "auth_username_format: unknown "
                                     "variable") != NULL);
    }
    buf_reset(&err);
    username_format_check("x%{service}y", &err);
    CHECK(strstr(buf_cstr(&err), "\"%{service}\"") != NULL);
    buf_free(&err);
}

int main(void)
{
    UNIT_RUN(test_variables);
    UNIT_RUN(test_errors);
    return unit_summary();
}
