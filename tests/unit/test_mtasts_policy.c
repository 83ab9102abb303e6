/* test_mtasts_policy.c: unit tests for lib/mtasts/mtasts_policy: the
 * policy file (required fields, CRLF and LF, unknown keys, bounds), the
 * _mta-sts TXT record (one STSv1 record exactly), and MX pattern
 * matching with wildcards (RFC 8461 sections 3.1, 3.2 and 4.1). */
#include <string.h>

#include "base/mem.h"
#include "mtasts/mtasts_policy.h"
#include "unit.h"

static int parse(const char *text, struct mtasts_policy *p, struct buf *err)
{
    return mtasts_policy_parse(text, strlen(text), p, err);
}

static void test_policy_good(void)
{
    struct mtasts_policy p;
    struct buf err = BUF_INIT;
    CHECK_INT(parse("version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\n"
                    "mx: *.Example.NET.\r\nmax_age: 604800\r\n",
                    &p, &err),
              0);
    CHECK_INT(p.mode, MTASTS_MODE_ENFORCE);
    CHECK_INT(p.max_age, 604800);
    CHECK_INT(p.mx_count, 2);
    CHECK_STR(p.mx[0], "mail.example.com");
    CHECK_STR(p.mx[1], "*.example.net");
    /* LF, blanks after the colon and at the end, unknown keys, no final
     * newline, fields in any order. */
    CHECK_INT(parse("mode:testing  \nfoo: bar baz\nmx:\tmx.example\n"
                    "max_age: 31557600\nversion: STSv1",
                    &p, &err),
              0);
    CHECK_INT(p.mode, MTASTS_MODE_TESTING);
    CHECK_INT(p.max_age, 31557600);
    /* mode none needs no mx. */
    CHECK_INT(parse("version: STSv1\nmode: none\nmax_age: 0\n", &p, &err), 0);
    CHECK_INT(p.mode, MTASTS_MODE_NONE);
    buf_free(&err);
}

static void test_policy_bad(void)
{
    struct mtasts_policy p;
    struct buf err = BUF_INIT;
    static const char *const bad[] = {
        "mode: enforce\nmx: a.example\nmax_age: 1\n",                   /* no version */
        "version: STSv2\nmode: enforce\nmx: a.example\nmax_age: 1\n",   /* version */
        "version: STSv1\nmx: a.example\nmax_age: 1\n",                  /* no mode */
        "version: STSv1\nmode: Enforce\nmx: a.example\nmax_age: 1\n",   /* case */
        "version: STSv1\nmode: enforce\nmx: a.example\n",               /* no max_age */
        "version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 31557601\n",
        "version: STSv1\nmode: enforce\nmx: a.example\nmax_age: -1\n",
        "version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 12345678901\n",
        "version: STSv1\nmode: enforce\nmax_age: 1\n",                  /* no mx */
        "version: STSv1\nmode: enforce\nmx: a..example\nmax_age: 1\n",
        "version: STSv1\nmode: enforce\nmx: *a.example\nmax_age: 1\n",
        "version: STSv1\nmode: enforce\nmx: a.*.example\nmax_age: 1\n",
        "version: STSv1\nmode: enforce\nmx: -a.example\nmax_age: 1\n",
        "version: STSv1\nmode: enforce\nmode: testing\nmx: a.example\nmax_age: 1\n",
        "version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 1\ngarbage\n",
        "version: STSv1\rmode: enforce\nmx: a.example\nmax_age: 1\n",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        if (parse(bad[i], &p, &err) != -1) {
            printf("# accepted: %s\n", bad[i]);
            CHECK(0);
        }
        CHECK(err.len > 0);
    }
    /* The size bound, and a NUL byte. */
    struct buf big = BUF_INIT;
    buf_append_str(&big, "version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 1\n");
    while (big.len <= MTASTS_POLICY_MAX)
        buf_append_str(&big, "x-pad: 0123456789abcdef0123456789abcdef\n");
    CHECK_INT(mtasts_policy_parse(big.data, big.len, &p, &err), -1);
    CHECK_INT(mtasts_policy_parse("version: STSv1\0", 15, &p, &err), -1);
    /* MTASTS_MX_MAX patterns, and one more. */
    buf_set_str(&big, "version: STSv1\nmode: enforce\nmax_age: 1\n");
    for (int i = 0; i < MTASTS_MX_MAX; i++)
        buf_appendf(&big, "mx: m%d.example\n", i);
    CHECK_INT(mtasts_policy_parse(big.data, big.len, &p, &err), 0);
    buf_append_str(&big, "mx: one-more.example\n");
    CHECK_INT(mtasts_policy_parse(big.data, big.len, &p, &err), -1);
    buf_free(&big);
    buf_free(&err);
}

static int txt(const char *text, char *id)
{
    return mtasts_txt_parse(text, strlen(text), id);
}

static void test_txt(void)
{
    char id[MTASTS_ID_MAX + 1];
    CHECK_INT(txt("v=STSv1; id=20160831085700Z;", id), 1);
    CHECK_STR(id, "20160831085700Z");
    CHECK_INT(txt("v=STSv1;id=abc", id), 1);
    CHECK_STR(id, "abc");
    CHECK_INT(txt("v=STSv1 ; ext-1=x; id=A1 ;  ", id), 1);
    CHECK_STR(id, "A1");
    CHECK_INT(txt("v=spf1 -all", id), 0);
    CHECK_INT(txt("v=STSv10; id=1", id), 0);
    CHECK_INT(txt("v=STSv1", id), 0);
    CHECK_INT(txt("v=STSv1;", id), -1);                 /* no id */
    CHECK_INT(txt("v=STSv1; id=", id), -1);
    CHECK_INT(txt("v=STSv1; id=a-b", id), -1);          /* id charset */
    CHECK_INT(txt("v=STSv1; id=1; id=2", id), -1);
    CHECK_INT(txt("v=STSv1; id=012345678901234567890123456789012", id), -1);
    CHECK_INT(txt("v=STSv1; id=1; ext=a;b", id), -1);

    const char *texts[3] = {"v=spf1 -all", "v=STSv1; id=one;", "v=STSv1; id=two"};
    size_t lens[3] = {strlen(texts[0]), strlen(texts[1]), strlen(texts[2])};
    CHECK_INT(mtasts_txt_select(texts, lens, 2, id), 1);
    CHECK_STR(id, "one");
    CHECK_INT(mtasts_txt_select(texts + 1, lens + 1, 2, id), 0); /* two */
    CHECK_INT(mtasts_txt_select(texts, lens, 1, id), 0);         /* none */
    const char *broken[2] = {"v=spf1", "v=STSv1; id=!"};
    size_t blens[2] = {6, strlen(broken[1])};
    CHECK_INT(mtasts_txt_select(broken, blens, 2, id), 0);
}

static void test_mx_match(void)
{
    CHECK_INT(mtasts_mx_match("mail.example.com", "mail.example.com"), 1);
    CHECK_INT(mtasts_mx_match("mail.example.com", "MAIL.Example.com."), 1);
    CHECK_INT(mtasts_mx_match("mail.example.com", "mail2.example.com"), 0);
    CHECK_INT(mtasts_mx_match("*.example.com", "mx1.example.com"), 1);
    CHECK_INT(mtasts_mx_match("*.example.com", "MX1.EXAMPLE.COM."), 1);
    CHECK_INT(mtasts_mx_match("*.example.com", "example.com"), 0);
    CHECK_INT(mtasts_mx_match("*.example.com", "a.b.example.com"), 0);
    CHECK_INT(mtasts_mx_match("*.example.com", ".example.com"), 0);
    CHECK_INT(mtasts_mx_match("*.example.com", "mx1.badexample.com"), 0);
    CHECK_INT(mtasts_mx_match("*.example.com", ""), 0);

    struct mtasts_policy p;
    struct buf err = BUF_INIT;
    CHECK_INT(parse("version: STSv1\nmode: enforce\nmx: a.example\n"
                    "mx: *.mx.example\nmax_age: 86400\n",
                    &p, &err),
              0);
    CHECK_INT(mtasts_policy_mx_allowed(&p, "a.example"), 1);
    CHECK_INT(mtasts_policy_mx_allowed(&p, "mail.mx.example"), 1);
    CHECK_INT(mtasts_policy_mx_allowed(&p, "b.example"), 0);
    CHECK_INT(mtasts_policy_mx_allowed(&p, "x.mail.mx.example"), 0);
    buf_free(&err);
}

int main(void)
{
    UNIT_RUN(test_policy_good);
    UNIT_RUN(test_policy_bad);
    UNIT_RUN(test_txt);
    UNIT_RUN(test_mx_match);
    return unit_summary();
}
