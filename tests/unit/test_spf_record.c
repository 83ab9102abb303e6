/* test_spf_record.c: lib/spf's record parser and macro strings: every
 * mechanism and modifier, dual CIDR lengths, the strict syntax (a bad
 * term anywhere is a permerror), and RFC 7208 section 7.4's macro
 * examples. */
#include "unit.h"

#include <strings.h>

#include "spf/spf_macro.h"
#include "spf/spf_record.h"

static int parse(const char *text, struct spf_record *rec)
{
    struct buf err = BUF_INIT;
    int rc = spf_record_parse(text, strlen(text), rec, &err);
    if (rc < 0 && err.len == 0)
        rc = -2; /* a refusal must say why */
    buf_free(&err);
    return rc;
}

static void test_record_terms(void)
{
    struct spf_record rec;
    CHECK_INT(parse("v=spf1 +all -include:_spf.example.com ~a ?a:h.example "
                    "mx/24 mx:m.example//64 a/24//48 ptr ptr:p.example "
                    "ip4:192.0.2.0/24 ip6:2001:db8::/32 exists:%{i}.x.example "
                    "redirect=r.example exp=e.example foo=bar",
                    &rec),
              0);
    CHECK_INT(rec.term_count, 12);
    CHECK(rec.has_all);
    CHECK_STR(rec.redirect, "r.example");
    CHECK_STR(rec.exp, "e.example");
    CHECK_INT(rec.terms[0].mechanism, SPF_MECH_ALL);
    CHECK_INT(rec.terms[1].qualifier, '-');
    CHECK_STR(rec.terms[1].domain_spec, "_spf.example.com");
    CHECK_INT(rec.terms[2].qualifier, '~');
    CHECK(rec.terms[2].domain_spec == NULL);
    CHECK_STR(rec.terms[3].domain_spec, "h.example");
    CHECK_INT(rec.terms[4].cidr4, 24);
    CHECK_INT(rec.terms[4].cidr6, 128);
    CHECK_STR(rec.terms[5].domain_spec, "m.example");
    CHECK_INT(rec.terms[5].cidr4, 32);
    CHECK_INT(rec.terms[5].cidr6, 64);
    CHECK_INT(rec.terms[6].cidr4, 24);
    CHECK_INT(rec.terms[6].cidr6, 48);
    CHECK_INT(rec.terms[7].mechanism, SPF_MECH_PTR);
    CHECK_INT(rec.terms[9].ip.family, 4);
    CHECK_INT(rec.terms[9].cidr4, 24);
    CHECK_INT(rec.terms[10].ip.family, 6);
    CHECK_INT(rec.terms[10].cidr6, 32);
    CHECK_STR(rec.terms[11].text, "exists:%{i}.x.example");
    spf_record_free(&rec);
    /* a '/' inside a domain-spec is not a CIDR length */
    CHECK_INT(parse("v=spf1 a:foo:bar/baz.example.com", &rec), 0);
    CHECK_STR(rec.terms[0].domain_spec, "foo:bar/baz.example.com");
    spf_record_free(&rec);
    CHECK_INT(parse("V=SPF1 A MX -ALL", &rec), 0);
    CHECK_INT(rec.term_count, 3);
    spf_record_free(&rec);
    CHECK_INT(parse("v=spf1", &rec), 0);
    CHECK_INT(rec.term_count, 0);
    spf_record_free(&rec);
    CHECK_INT(parse("v=spf1   a   ", &rec), 0);
    spf_record_free(&rec);
}

static void test_record_errors(void)
{
    static const char *const bad[] = {
        "v=spf1 -all foo",           /* unknown mechanism */
        "v=spf1 ip4:1.2.3.4/33",     /* CIDR out of range */
        "v=spf1 ip4:1.2.3.4/032",    /* leading zero */
        "v=spf1 ip4:1.2.3",          /* short address */
        "v=spf1 ip4:01.2.3.4",
        "v=spf1 ip6:2001:db8::/129",
        "v=spf1 ip6:1.2.3.4",
        "v=spf1 a:example.com/24//129",
        "v=spf1 all:foo",
        "v=spf1 all/24",
        "v=spf1 include",
        "v=spf1 include:",
        "v=spf1 exists",
        "v=spf1 a:museum",           /* no dot before the top label */
        "v=spf1 a:foo.example.123",  /* an all-digit top label */
        "v=spf1 a:foo.-bar",
        "v=spf1 redirect=a.example redirect=b.example",
        "v=spf1 exp=a.example exp=b.example",
        "v=spf1 exists:%{q}.example.com", /* unknown macro letter */
        "v=spf1 exists:%{c}.example.com", /* c only in explanations */
        "v=spf1 exists:%{d0}.example.com",
        "v=spf1 exists:%x.example.com",
        "v=spf1 exists:%{d.example.com",
        "v=spf1 foo=%",
        "v=spf1 ip4:192.0.2.5\n include:x.example",
        "v=spf1 a:\xef\xbb\xbfgarbage.example.net",
        "v=spf1 mx:",
        "v=spf1 a/",
        "v=spf1 a//",
        "v=spf1 a/24x",
        "v=spf10 -all",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct spf_record rec;
        int rc = parse(bad[i], &rec);
        if (rc != -1)
            printf("#   accepted: %s\n", bad[i]);
        CHECK_INT(rc, -1);
        CHECK_INT(rec.term_count, 0);
        spf_record_free(&rec);
    }
}

static void test_record_selection(void)
{
    CHECK(spf_record_is_spf("v=spf1", 6));
    CHECK(spf_record_is_spf("v=spf1 -all", 11));
    CHECK(spf_record_is_spf("V=SpF1 -all", 11));
    CHECK(!spf_record_is_spf("v=spf10", 7));
    CHECK(!spf_record_is_spf("v=spf1-all", 10));
    CHECK(!spf_record_is_spf(" v=spf1", 7));
    CHECK(!spf_record_is_spf("spf2.0/pra", 10));
}

static void test_record_terms_bounded(void)
{
    struct buf text = BUF_INIT;
    buf_append_str(&text, "v=spf1");
    for (int i = 0; i <= SPF_TERMS_MAX; i++)
        buf_append_str(&text, " a");
    struct spf_record rec;
    CHECK_INT(parse(buf_cstr(&text), &rec), -1);
    spf_record_free(&rec);
    buf_free(&text);
}

static const char *expand(const char *macro, const char *ip_text,
                          enum spf_macro_context where, struct buf *out)
{
    struct spf_ip ip;
    spf_ip_parse(ip_text, &ip);
    struct spf_macro_vars vars = {
        .sender = "strong-bad@email.example.com",
        .local_part = "strong-bad",
        .sender_domain = "email.example.com",
        .domain = "email.example.com",
        .ip = &ip,
        .helo = "mx.example.org",
        .receiver = "receiver.example",
        .now = 1234,
    };
    struct buf err = BUF_INIT;
    buf_reset(out);
    if (spf_macro_check(macro, strlen(macro), where, &err) < 0 ||
        spf_macro_expand(macro, strlen(macro), where, &vars, out, &err) < 0)
        buf_set_str(out, "ERROR");
    buf_free(&err);
    return buf_cstr(out);
}

/* RFC 7208 section 7.4. */
static void test_macro_rfc_examples(void)
{
    static const char *const cases[][2] = {
        {"%{s}", "strong-bad@email.example.com"},
        {"%{o}", "email.example.com"},
        {"%{d}", "email.example.com"},
        {"%{d4}", "email.example.com"},
        {"%{d3}", "email.example.com"},
        {"%{d2}", "example.com"},
        {"%{d1}", "com"},
        {"%{dr}", "com.example.email"},
        {"%{d2r}", "example.email"},
        {"%{l}", "strong-bad"},
        {"%{l-}", "strong.bad"},
        {"%{lr}", "strong-bad"},
        {"%{lr-}", "bad.strong"},
        {"%{l1r-}", "strong"},
        {"%{ir}.%{v}._spf.%{d2}", "3.2.0.192.in-addr._spf.example.com"},
        {"%{lr-}.lp._spf.%{d2}", "bad.strong.lp._spf.example.com"},
        {"%{lr-}.lp.%{ir}.%{v}._spf.%{d2}",
         "bad.strong.lp.3.2.0.192.in-addr._spf.example.com"},
        {"%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}",
         "3.2.0.192.in-addr.strong.lp._spf.example.com"},
        {"%{d2}.trusted-domains.example.net",
         "example.com.trusted-domains.example.net"},
        {"%%%_%-", "% %20"},
        {"%{h}", "mx.example.org"},
        {"%{p}", "unknown"},
        {"%{d999}", "email.example.com"},
    };
    struct buf out = BUF_INIT;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        CHECK_STR(expand(cases[i][0], "192.0.2.3", SPF_MACRO_DOMAIN, &out),
                  cases[i][1]);
    CHECK(strcasecmp(expand("%{ir}.%{v}._spf.%{d2}", "2001:db8::cb01",
                            SPF_MACRO_DOMAIN, &out),
                     "1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0."
                     "1.0.0.2.ip6._spf.example.com") == 0);
    /* explanations: c r t, spaces, and URL escaping for upper case */
    CHECK_STR(expand("%{c} at %{t} for %{r}", "2001:db8::1",
                     SPF_MACRO_EXPLANATION, &out),
              "2001:db8::1 at 1234 for receiver.example");
    CHECK_STR(expand("%{S}", "192.0.2.3", SPF_MACRO_EXPLANATION, &out),
              "strong-bad%40email.example.com");
    CHECK_STR(expand("%{c}", "192.0.2.3", SPF_MACRO_DOMAIN, &out), "ERROR");
    CHECK_STR(expand("a b", "192.0.2.3", SPF_MACRO_DOMAIN, &out), "ERROR");
    CHECK_STR(expand("%{l+}", "192.0.2.3", SPF_MACRO_DOMAIN, &out),
              "strong-bad");
    /* an IPv4-mapped client is an IPv4 client */
    CHECK_STR(expand("%{i} %{v}", "::ffff:192.0.2.3", SPF_MACRO_EXPLANATION,
                     &out),
              "192.0.2.3 in-addr");
    buf_free(&out);
}

static void test_macro_uses(void)
{
    CHECK(spf_macro_uses("%{p}.example", 12, 'p'));
    CHECK(spf_macro_uses("x.%{P2r}.example", 16, 'p'));
    CHECK(!spf_macro_uses("%%{p}.example", 13, 'p'));
    CHECK(!spf_macro_uses("%{d}.example", 12, 'p'));
}

static void test_domain_end(void)
{
    CHECK(spf_domain_end_valid("example.com"));
    CHECK(spf_domain_end_valid("example.com."));
    CHECK(spf_domain_end_valid("foo.example-dash"));
    CHECK(spf_domain_end_valid("%{d}"));
    CHECK(spf_domain_end_valid("foo.%%"));
    CHECK(!spf_domain_end_valid("museum"));
    CHECK(!spf_domain_end_valid("foo.123"));
    CHECK(!spf_domain_end_valid("foo.example-"));
    CHECK(!spf_domain_end_valid(""));
}

int main(void)
{
    UNIT_RUN(test_record_terms);
    UNIT_RUN(test_record_errors);
    UNIT_RUN(test_record_selection);
    UNIT_RUN(test_record_terms_bounded);
    UNIT_RUN(test_macro_rfc_examples);
    UNIT_RUN(test_macro_uses);
    UNIT_RUN(test_domain_end);
    return unit_summary();
}
