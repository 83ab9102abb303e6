/* test_spf_eval.c: lib/spf's check_host() against zone data
 * (lib/spf/spf_zone.h): the results, the 10 DNS-mechanism and 2 void
 * lookup limits, MX and PTR name limits, include and redirect, exp=,
 * IPv4/IPv6 with dual CIDR lengths, the HELO identity and the null
 * sender, the replay over pending answers, and the header texts. The
 * RFC 7208/4408 suites run in tests/e2e/test_spf_conformance.py. */
#include "unit.h"

#include "spf/spf.h"
#include "spf/spf_header.h"
#include "spf/spf_zone.h"

static struct spf_outcome outcome;

/* Checks sender (MAIL FROM) from ip against the zone lines given, one
 * string with '\n' between lines and '\t' inside them. */
static const char *check_full(const char *zone_text, const char *ip,
                              const char *sender, const char *helo,
                              enum spf_identity identity, int delay,
                              unsigned *queries)
{
    struct spf_zone *zone = spf_zone_new();
    struct buf err = BUF_INIT;
    char *copy = strdup(zone_text), *save = NULL;
    for (char *line = strtok_r(copy, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save))
        if (spf_zone_add(zone, line, &err) < 0)
            printf("#   zone: %s\n", buf_cstr(&err));
    free(copy);
    buf_free(&err);
    spf_zone_set_delay(zone, delay);
    struct spf_request req = {
        .identity = identity, .sender = sender, .helo = helo,
        .receiver = "mx.receiver.example", .now = 1,
    };
    spf_ip_parse(ip, &req.ip);
    struct spf_dns dns;
    spf_zone_dns(zone, &dns);
    spf_outcome_free(&outcome);
    spf_outcome_init(&outcome);
    for (int runs = 0; spf_check(&req, &dns, &outcome) && runs < 100; runs++)
        ;
    if (queries)
        *queries = spf_zone_queries(zone);
    spf_zone_free(zone);
    return outcome.pending ? "pending" : spf_result_name(outcome.result);
}

static const char *check(const char *zone_text, const char *ip,
                         const char *sender)
{
    return check_full(zone_text, ip, sender, "helo.example", SPF_IDENTITY_MAILFROM,
                      0, NULL);
}

static void test_results(void)
{
    const char *zone = "a.example\tTXT\tv=spf1 ip4:192.0.2.0/24 -all\n"
                       "b.example\tTXT\tv=spf1 ?ip4:192.0.2.1 ~all\n"
                       "c.example\tTXT\tv=spf1 ip4:192.0.2.1\n"
                       "d.example\tTXT\tnot spf\n"
                       "e.example\tTXT\tv=spf1 a:x.example -all\n"
                       "x.example\tTIMEOUT\n"
                       "f.example\tTXT\tv=spf1 bogus -all\n"
                       "g.example\tTIMEOUT\n";
    CHECK_STR(check(zone, "192.0.2.9", "u@a.example"), "pass");
    CHECK_STR(outcome.mechanism.data, "ip4:192.0.2.0/24");
    CHECK_STR(check(zone, "198.51.100.1", "u@a.example"), "fail");
    CHECK_STR(outcome.mechanism.data, "-all");
    CHECK_STR(check(zone, "192.0.2.1", "u@b.example"), "neutral");
    CHECK_STR(check(zone, "192.0.2.2", "u@b.example"), "softfail");
    CHECK_STR(check(zone, "192.0.2.2", "u@c.example"), "neutral");
    CHECK_STR(outcome.mechanism.data, "default");
    CHECK_STR(check(zone, "192.0.2.2", "u@d.example"), "none");
    CHECK_STR(check(zone, "192.0.2.2", "u@nowhere.example"), "none");
    CHECK_STR(check(zone, "192.0.2.2", "u@e.example"), "temperror");
    CHECK(strstr(outcome.problem.data, "x.example") != NULL);
    CHECK_STR(check(zone, "192.0.2.2", "u@f.example"), "permerror");
    CHECK(strstr(outcome.problem.data, "bogus") != NULL);
    CHECK_STR(check(zone, "192.0.2.2", "u@g.example"), "temperror");
    /* not a domain: none without a query */
    CHECK_STR(check(zone, "192.0.2.2", "u@localhost"), "none");
    CHECK_STR(check(zone, "192.0.2.2", "u@[192.0.2.2]"), "none");
}

static void test_dns_mechanism_limit(void)
{
    struct buf zone = BUF_INIT;
    /* ten includes that each find nothing are fine, the 11th is not */
    buf_append_str(&zone, "ten.example\tTXT\tv=spf1");
    for (int i = 0; i < 10; i++)
        buf_appendf(&zone, " include:i%d.example", i);
    buf_append_str(&zone, " -all\neleven.example\tTXT\tv=spf1");
    for (int i = 0; i < 11; i++)
        buf_appendf(&zone, " include:i%d.example", i);
    buf_append_str(&zone, " -all\n");
    for (int i = 0; i < 11; i++)
        buf_appendf(&zone, "i%d.example\tTXT\tv=spf1 ip4:203.0.113.1 -all\n", i);
    buf_append_str(&zone, "loop.example\tTXT\tv=spf1 include:loop.example -all\n");
    buf_append_str(&zone, "self.example\tTXT\tv=spf1 redirect=self.example\n");
    CHECK_STR(check(zone.data, "192.0.2.1", "u@ten.example"), "fail");
    CHECK_INT(outcome.dns_mechanisms, 10);
    CHECK_STR(check(zone.data, "192.0.2.1", "u@eleven.example"), "permerror");
    CHECK_STR(check(zone.data, "203.0.113.1", "u@eleven.example"), "pass");
    CHECK_STR(check(zone.data, "192.0.2.1", "u@loop.example"), "permerror");
    CHECK_STR(check(zone.data, "192.0.2.1", "u@self.example"), "permerror");
    buf_free(&zone);
}

static void test_void_lookup_limit(void)
{
    const char *zone =
        "two.example\tTXT\tv=spf1 a:n1.example a:n2.example -all\n"
        "three.example\tTXT\tv=spf1 a:n1.example mx:n2.example exists:n3.example -all\n"
        "nodata.example\tTXT\tv=spf1 a:txt.example a:txt.example a:txt.example -all\n"
        "txt.example\tTXT\thello\n";
    CHECK_STR(check(zone, "192.0.2.1", "u@two.example"), "fail");
    CHECK_INT(outcome.void_lookups, 2);
    CHECK_STR(check(zone, "192.0.2.1", "u@three.example"), "permerror");
    CHECK_STR(check(zone, "192.0.2.1", "u@nodata.example"), "permerror");
}

static void test_mx_limit(void)
{
    struct buf zone = BUF_INIT;
    buf_append_str(&zone, "ten.example\tTXT\tv=spf1 mx -all\n"
                          "eleven.example\tTXT\tv=spf1 mx -all\n");
    for (int i = 0; i < 11; i++) {
        if (i < 10)
            buf_appendf(&zone, "ten.example\tMX\t%d mx%d.example\n", i, i);
        buf_appendf(&zone, "eleven.example\tMX\t%d mx%d.example\n", i, i);
        buf_appendf(&zone, "mx%d.example\tA\t192.0.2.%d\n", i, i + 1);
    }
    CHECK_STR(check(zone.data, "192.0.2.10", "u@ten.example"), "pass");
    CHECK_STR(check(zone.data, "192.0.2.99", "u@ten.example"), "fail");
    CHECK_STR(check(zone.data, "192.0.2.1", "u@eleven.example"), "permerror");
    buf_free(&zone);
}

static void test_ptr(void)
{
    struct buf zone = BUF_INIT;
    buf_append_str(&zone, "p.example\tTXT\tv=spf1 ptr -all\n"
                          "q.example\tTXT\tv=spf1 ptr:q.example -all\n"
                          "host.p.example\tA\t192.0.2.1\n"
                          "1.2.0.192.in-addr.arpa\tPTR\thost.p.example\n"
                          "2.2.0.192.in-addr.arpa\tPTR\tforged.p.example\n");
    /* only the first 10 PTR names are looked at */
    for (int i = 0; i < 11; i++) {
        buf_appendf(&zone, "3.2.0.192.in-addr.arpa\tPTR\tn%d.q.example\n", i);
        buf_appendf(&zone, "n%d.q.example\tA\t%s\n", i,
                    i == 10 ? "192.0.2.3" : "198.51.100.1");
    }
    CHECK_STR(check(zone.data, "192.0.2.1", "u@p.example"), "pass");
    CHECK_STR(check(zone.data, "192.0.2.1", "u@q.example"), "fail");
    CHECK_STR(check(zone.data, "192.0.2.2", "u@p.example"), "fail");
    CHECK_STR(check(zone.data, "192.0.2.3", "u@q.example"), "fail");
    buf_free(&zone);
}

static void test_include_redirect_exp(void)
{
    const char *zone =
        "top.example\tTXT\tv=spf1 include:inc.example -all exp=why.example\n"
        "inc.example\tTXT\tv=spf1 ip4:192.0.2.1 -all exp=incwhy.example\n"
        "why.example\tTXT\t%{i} may not send for %{d}: see %{c} at %{r}\n"
        "incwhy.example\tTXT\tnot this one\n"
        "red.example\tTXT\tv=spf1 redirect=inc.example exp=why.example\n"
        "redall.example\tTXT\tv=spf1 ?all redirect=inc.example\n"
        "rednone.example\tTXT\tv=spf1 redirect=nothing.example\n"
        "incnone.example\tTXT\tv=spf1 include:nothing.example\n";
    CHECK_STR(check(zone, "192.0.2.1", "u@top.example"), "pass");
    CHECK_STR(outcome.mechanism.data, "include:inc.example");
    CHECK_STR(check(zone, "192.0.2.2", "u@top.example"), "fail");
    CHECK_STR(outcome.explanation.data,
              "192.0.2.2 may not send for top.example: see 192.0.2.2 at "
              "mx.receiver.example");
    /* redirect: the target's exp=, not ours */
    CHECK_STR(check(zone, "192.0.2.2", "u@red.example"), "fail");
    CHECK_STR(outcome.explanation.data, "not this one");
    CHECK_STR(check(zone, "192.0.2.1", "u@red.example"), "pass");
    /* redirect= is ignored beside "all" */
    CHECK_STR(check(zone, "192.0.2.2", "u@redall.example"), "neutral");
    CHECK_STR(check(zone, "192.0.2.2", "u@rednone.example"), "permerror");
    CHECK_STR(check(zone, "192.0.2.2", "u@incnone.example"), "permerror");
}

static void test_ipv6_dual_cidr(void)
{
    const char *zone =
        "six.example\tTXT\tv=spf1 a/24//64 mx//48 ip6:2001:db8:1::/48 -all\n"
        "six.example\tA\t192.0.2.1\n"
        "six.example\tAAAA\t2001:db8::1\n"
        "six.example\tMX\t10 mx.six.example\n"
        "mx.six.example\tAAAA\t2001:db8:2::1\n"
        "four.example\tTXT\tv=spf1 ip4:192.0.2.0/24 -all\n";
    CHECK_STR(check(zone, "192.0.2.200", "u@six.example"), "pass");
    CHECK_STR(check(zone, "2001:db8::ffff", "u@six.example"), "pass");
    CHECK_STR(check(zone, "2001:db8:0:1::1", "u@six.example"), "fail");
    CHECK_STR(check(zone, "2001:db8:2::99", "u@six.example"), "pass");
    CHECK_STR(outcome.mechanism.data, "mx//48");
    CHECK_STR(check(zone, "2001:db8:1::5", "u@six.example"), "pass");
    /* an IPv4-mapped client is checked as IPv4 */
    CHECK_STR(check(zone, "::ffff:192.0.2.7", "u@four.example"), "pass");
    CHECK_STR(check(zone, "2001:db8::7", "u@four.example"), "fail");
}

static void test_identities(void)
{
    const char *zone = "helo.example\tTXT\tv=spf1 ip4:192.0.2.1 -all\n"
                       "mail.example\tTXT\tv=spf1 -all exp=e.example\n"
                       "e.example\tTXT\t%{l} at %{o}\n";
    /* the null sender is checked as postmaster@HELO */
    CHECK_STR(check_full(zone, "192.0.2.1", "", "helo.example",
                         SPF_IDENTITY_MAILFROM, 0, NULL),
              "pass");
    CHECK_STR(outcome.sender.data, "postmaster@helo.example");
    CHECK_STR(check_full(zone, "192.0.2.2", "u@mail.example", "helo.example",
                         SPF_IDENTITY_HELO, 0, NULL),
              "fail");
    CHECK_STR(outcome.domain.data, "helo.example");
    CHECK_STR(check(zone, "192.0.2.2", "@mail.example"), "fail");
    CHECK_STR(outcome.explanation.data, "postmaster at mail.example");
}

/* Every answer first "pending": the replay ends with the same result,
 * and "mx" asks for all its names' addresses in one run. */
static void test_replay(void)
{
    const char *zone = "r.example\tTXT\tv=spf1 mx a:%{p}.x -all exp=e.example\n"
                       "r.example\tMX\t10 m1.example\n"
                       "r.example\tMX\t20 m2.example\n"
                       "r.example\tMX\t30 m3.example\n"
                       "m3.example\tA\t192.0.2.3\n"
                       "e.example\tTXT\tno %{p}\n";
    unsigned direct, replayed;
    CHECK_STR(check_full(zone, "192.0.2.3", "u@r.example", "h.example",
                         SPF_IDENTITY_MAILFROM, 0, &direct),
              "pass");
    CHECK_STR(check_full(zone, "192.0.2.3", "u@r.example", "h.example",
                         SPF_IDENTITY_MAILFROM, 1, &replayed),
              "pass");
    CHECK_STR(check_full(zone, "192.0.2.9", "u@r.example", "h.example",
                         SPF_IDENTITY_MAILFROM, 1, NULL),
              "fail");
    CHECK_STR(outcome.explanation.data, "no unknown");
    /* TXT, MX, then the three A lookups at once, then the answer */
    CHECK(replayed <= direct * 4);
}

static void test_headers(void)
{
    const char *zone = "h.example\tTXT\tv=spf1 ip4:192.0.2.0/24 -all\n"
                       "bad.example\tTXT\tv=spf1 nonsense\n";
    struct spf_request req = {.identity = SPF_IDENTITY_MAILFROM,
                              .sender = "a(b)@h.example",
                              .helo = "client.example",
                              .receiver = "mx.receiver.example"};
    spf_ip_parse("192.0.2.5", &req.ip);
    struct buf field = BUF_INIT;
    check(zone, "192.0.2.5", "a(b)@h.example");
    spf_received_spf(&req, &outcome, &field);
    CHECK_STR(field.data,
              "pass (mx.receiver.example: domain of a\\(b\\)@h.example "
              "designates 192.0.2.5 as permitted sender) client-ip=192.0.2.5; "
              "envelope-from=\"a(b)@h.example\"; helo=client.example; "
              "receiver=mx.receiver.example; identity=mailfrom; "
              "mechanism=\"ip4:192.0.2.0/24\"");
    buf_reset(&field);
    spf_auth_results(&req, &outcome, &field);
    CHECK_STR(field.data, "spf=pass smtp.mailfrom=\"a(b)@h.example\"");
    req.sender = "u@bad.example";
    check(zone, "192.0.2.5", "u@bad.example");
    buf_reset(&field);
    spf_received_spf(&req, &outcome, &field);
    CHECK(strstr(field.data, "permerror (mx.receiver.example: permanent error "
                             "in processing domain of u@bad.example: ") ==
          field.data);
    CHECK(strstr(field.data, "; problem=\"SPF record of bad.example: ") != NULL);
    req.identity = SPF_IDENTITY_HELO;
    buf_reset(&field);
    spf_auth_results(&req, &outcome, &field);
    CHECK_STR(field.data, "spf=permerror smtp.helo=client.example");
    buf_free(&field);
}

/* Texts from the DNS are cut to fit a header line and a reply. */
static void test_texts_bounded(void)
{
    struct buf zone = BUF_INIT, label = BUF_INIT;
    /* %{h} of an empty HELO expands to nothing: a long term, a short name */
    for (int i = 0; i < 60; i++)
        buf_append_str(&label, "%{h}");
    buf_appendf(&zone, "long.example\tTXT\tv=spf1 exists:%sa.long.example -all\n",
                label.data);
    buf_append_str(&zone, "a.long.example\tA\t127.0.0.2\n");
    buf_append_str(&zone, "bad.example\tTXT\tv=spf1 ");
    for (int i = 0; i < 100; i++)
        buf_append_str(&zone, "bogus-term-");
    buf_append_str(&zone, "\nexp.example\tTXT\tv=spf1 -all exp=e.example\n"
                          "e.example\tTXT\t");
    for (int i = 0; i < 100; i++)
        buf_append_str(&zone, "%{s} ");
    buf_append_char(&zone, '\n');
    CHECK_STR(check_full(zone.data, "192.0.2.1", "u@long.example", "",
                         SPF_IDENTITY_MAILFROM, 0, NULL),
              "pass");
    CHECK_INT(outcome.mechanism.len, SPF_MECHANISM_TEXT_MAX);
    CHECK_STR(check(zone.data, "192.0.2.1", "u@bad.example"), "permerror");
    CHECK(outcome.problem.len <= SPF_PROBLEM_TEXT_MAX);
    CHECK(outcome.problem.len > 100);
    CHECK_STR(check(zone.data, "192.0.2.1", "\xc3\xa9t\xc3\xa9@exp.example"), "fail");
    CHECK(outcome.explanation.len <= SPF_EXPLANATION_TEXT_MAX);
    CHECK(outcome.explanation.len > 200);
    /* not cut inside a UTF-8 character */
    CHECK(((unsigned char)outcome.explanation.data[outcome.explanation.len - 1] & 0xc0) != 0xc0);
    buf_free(&zone);
    buf_free(&label);
}

int main(void)
{
    spf_outcome_init(&outcome);
    UNIT_RUN(test_results);
    UNIT_RUN(test_dns_mechanism_limit);
    UNIT_RUN(test_void_lookup_limit);
    UNIT_RUN(test_mx_limit);
    UNIT_RUN(test_ptr);
    UNIT_RUN(test_include_redirect_exp);
    UNIT_RUN(test_ipv6_dual_cidr);
    UNIT_RUN(test_identities);
    UNIT_RUN(test_replay);
    UNIT_RUN(test_headers);
    UNIT_RUN(test_texts_bounded);
    spf_outcome_free(&outcome);
    return unit_summary();
}
