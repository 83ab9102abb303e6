/* test_restriction.c: unit tests for lib/routing/restriction (restriction lists
 * and access(5) results) and lib/tables/netmatch (host/network lists). */
#include <string.h>

#include "tables/netmatch.h"
#include "routing/restriction.h"
#include "base/str.h"
#include "unit.h"

static int parse(const char *text, struct restriction_list *out,
                 struct buf *err)
{
    struct strlist words;
    strlist_init(&words);
    str_split_list(text, &words);
    int rc = restriction_list_parse(&words, out, err);
    strlist_free(&words);
    return rc;
}

static void test_list_parse(void)
{
    struct restriction_list list;
    struct buf err = BUF_INIT;
    CHECK_INT(parse("permit_mynetworks, permit_sasl_authenticated "
                    "defer_unauth_destination,check_sender_access "
                    "hash:/etc/access, reject_invalid_hostname",
                    &list, &err),
              0);
    CHECK_INT(list.count, 5);
    CHECK_INT(list.items[0].kind, RESTR_PERMIT_MYNETWORKS);
    CHECK_INT(list.items[2].kind, RESTR_DEFER_UNAUTH_DESTINATION);
    CHECK_INT(list.items[3].kind, RESTR_CHECK_SENDER_ACCESS);
    CHECK_STR(list.items[3].table, "hash:/etc/access");
    /* Old name, new meaning. */
    CHECK_INT(list.items[4].kind, RESTR_REJECT_INVALID_HELO_HOSTNAME);
    CHECK(list.items[0].table == NULL);
    restriction_list_free(&list);

    CHECK_INT(parse("reject_unknown_helo_hostname reject_unknown_hostname "
                    "reject_unknown_sender_domain",
                    &list, &err),
              0);
    CHECK_INT(list.count, 3);
    CHECK_INT(list.items[0].kind, RESTR_REJECT_UNKNOWN_HELO_HOSTNAME);
    CHECK_INT(list.items[1].kind, RESTR_REJECT_UNKNOWN_HELO_HOSTNAME);
    CHECK_INT(list.items[2].kind, RESTR_REJECT_UNKNOWN_SENDER_DOMAIN);
    CHECK_STR(restriction_name(RESTR_REJECT_UNKNOWN_HELO_HOSTNAME),
              "reject_unknown_helo_hostname");
    restriction_list_free(&list);

    /* smtpd_sender_login_maps' restrictions. */
    CHECK_INT(parse("reject_sender_login_mismatch "
                    "reject_known_sender_login_mismatch "
                    "reject_authenticated_sender_login_mismatch "
                    "reject_unauthenticated_sender_login_mismatch",
                    &list, &err),
              0);
    CHECK_INT(list.count, 4);
    CHECK_INT(list.items[0].kind, RESTR_REJECT_SENDER_LOGIN_MISMATCH);
    CHECK_INT(list.items[1].kind, RESTR_REJECT_KNOWN_SENDER_LOGIN_MISMATCH);
    CHECK_INT(list.items[2].kind,
              RESTR_REJECT_AUTHENTICATED_SENDER_LOGIN_MISMATCH);
    CHECK_INT(list.items[3].kind,
              RESTR_REJECT_UNAUTHENTICATED_SENDER_LOGIN_MISMATCH);
    CHECK_STR(restriction_name(RESTR_REJECT_KNOWN_SENDER_LOGIN_MISMATCH),
              "reject_known_sender_login_mismatch");
    restriction_list_free(&list);

    CHECK_INT(parse("permit, frobnicate", &list, &err), -1);
    CHECK(strstr(err.data, "frobnicate") != NULL);
    CHECK_INT(list.count, 0);
    buf_reset(&err);
    CHECK_INT(parse("check_client_access", &list, &err), -1);
    CHECK(strstr(err.data, "type:table") != NULL);
    buf_reset(&err);
    CHECK_INT(parse("check_client_access reject", &list, &err), -1);
    buf_reset(&err);
    CHECK_INT(parse("", &list, &err), 0);
    CHECK_INT(list.count, 0);
    restriction_list_free(&list);
    buf_free(&err);
}

static void test_access_results(void)
{
    struct access_result r;
    access_parse("OK", &r);
    CHECK_INT(r.action, ACCESS_OK);
    access_parse("  ok  ", &r);
    CHECK_INT(r.action, ACCESS_OK);
    access_parse("12345", &r);
    CHECK_INT(r.action, ACCESS_OK);
    access_parse("DUNNO", &r);
    CHECK_INT(r.action, ACCESS_DUNNO);
    access_parse("REJECT", &r);
    CHECK_INT(r.action, ACCESS_REJECT);
    CHECK_STR(r.text, "");
    access_parse("REJECT 5.7.3 go away now", &r);
    CHECK_INT(r.action, ACCESS_REJECT);
    CHECK_STR(r.dsn, "5.7.3");
    CHECK_STR(r.text, "go away now");
    access_parse("reject 4.7.1 wrong class", &r);
    CHECK_STR(r.dsn, "");
    CHECK_STR(r.text, "4.7.1 wrong class");
    access_parse("DEFER 4.3.2 later", &r);
    CHECK_INT(r.action, ACCESS_DEFER);
    CHECK_STR(r.dsn, "4.3.2");
    access_parse("550 5.1.1 no such user", &r);
    CHECK_INT(r.action, ACCESS_CODE);
    CHECK_INT(r.code, 550);
    CHECK_STR(r.dsn, "5.1.1");
    CHECK_STR(r.text, "no such user");
    access_parse("450 busy", &r);
    CHECK_INT(r.code, 450);
    CHECK_STR(r.dsn, "");
    CHECK_STR(r.text, "busy");
    access_parse("421", &r);
    CHECK_INT(r.action, ACCESS_CODE);
    access_parse("250 fine", &r);
    CHECK_INT(r.action, ACCESS_BAD);
    access_parse("HOLD suspicious", &r);
    CHECK_INT(r.action, ACCESS_HOLD);
    CHECK_STR(r.text, "suspicious");
    access_parse("DISCARD", &r);
    CHECK_INT(r.action, ACCESS_DISCARD);
    access_parse("WARN look", &r);
    CHECK_INT(r.action, ACCESS_WARN);
    CHECK_STR(r.text, "look");
    access_parse("warn", &r);
    CHECK_INT(r.action, ACCESS_WARN);
    CHECK_STR(r.text, "");
    access_parse("INFO  noted here", &r);
    CHECK_INT(r.action, ACCESS_INFO);
    CHECK_STR(r.text, "noted here");
    access_parse("PREPEND X-Seen: yes, really", &r);
    CHECK_INT(r.action, ACCESS_PREPEND);
    CHECK_STR(r.text, "X-Seen: yes, really");
    access_parse("REDIRECT spam@example.com", &r);
    CHECK_INT(r.action, ACCESS_REDIRECT);
    CHECK_STR(r.text, "spam@example.com");
    access_parse("BCC archive@example.com", &r);
    CHECK_INT(r.action, ACCESS_BCC);
    access_parse("FILTER smtp:[127.0.0.1]:10025", &r);
    CHECK_INT(r.action, ACCESS_FILTER);
    CHECK_STR(r.text, "smtp:[127.0.0.1]:10025");
    access_parse("DEFER_IF_PERMIT later", &r);
    CHECK_INT(r.action, ACCESS_DEFER_IF_PERMIT);
    CHECK_STR(r.text, "later");
    access_parse("DEFER_IF_REJECT", &r);
    CHECK_INT(r.action, ACCESS_DEFER_IF_REJECT);
    CHECK_STR(r.text, "");
    /* Defer actions take an enhanced status code, as in access(5). */
    access_parse("DEFER_IF_PERMIT 4.7.26 try later", &r);
    CHECK_INT(r.action, ACCESS_DEFER_IF_PERMIT);
    CHECK_STR(r.dsn, "4.7.26");
    CHECK_STR(r.text, "try later");
    access_parse("DEFER_IF_REJECT 4.1.8 no such domain", &r);
    CHECK_INT(r.action, ACCESS_DEFER_IF_REJECT);
    CHECK_STR(r.dsn, "4.1.8");
    CHECK_STR(r.text, "no such domain");
    access_parse("DEFER_IF_PERMIT 5.7.1 not a defer code", &r);
    CHECK_STR(r.dsn, "");
    CHECK_STR(r.text, "5.7.1 not a defer code");
    access_parse("PREPENDX: y", &r); /* not the word PREPEND */
    CHECK_INT(r.action, ACCESS_RESTRICTIONS);
    access_parse("permit_mynetworks, reject", &r);
    CHECK_INT(r.action, ACCESS_RESTRICTIONS);
    CHECK_STR(r.text, "permit_mynetworks, reject");
    access_parse("REJECTED", &r); /* not the word REJECT */
    CHECK_INT(r.action, ACCESS_RESTRICTIONS);
    access_parse("", &r);
    CHECK_INT(r.action, ACCESS_BAD);
    access_parse("!?", &r);
    CHECK_INT(r.action, ACCESS_BAD);
}

static void test_prepend_and_targets(void)
{
    struct buf why = BUF_INIT, addr = BUF_INIT;
    CHECK(access_prepend_valid("X-Seen: yes", &why));
    CHECK(access_prepend_valid("X-Empty:", &why));
    CHECK(access_prepend_valid("X-Tab:\tvalue", &why));
    CHECK(access_prepend_valid("X-Space : odd but a header", &why));
    CHECK(!access_prepend_valid("", &why));
    CHECK_STR(why.data, "requires header: text");
    CHECK(!access_prepend_valid("no colon here", &why));
    CHECK_STR(why.data, "requires header: text");
    CHECK(!access_prepend_valid(": no name", &why));
    CHECK(!access_prepend_valid("Two words: x", &why));
    CHECK(!access_prepend_valid("X-Bad: a\rb", &why));
    CHECK_STR(why.data, "control character in header text");
    struct buf big = BUF_INIT;
    buf_append_str(&big, "X-Big: ");
    while (big.len < ACCESS_PREPEND_MAX)
        buf_append_char(&big, 'a');
    CHECK(access_prepend_valid(big.data, NULL));
    buf_append_char(&big, 'a');
    CHECK(!access_prepend_valid(big.data, &why));
    CHECK_STR(why.data, "header text too long");
    buf_free(&big);

    CHECK(access_target_parse("spam@example.com", &addr, &why));
    CHECK_STR(addr.data, "spam@example.com");
    CHECK(access_target_parse("<\"john doe\"@example.com>  ", &addr, &why));
    CHECK_STR(addr.data, "john doe@example.com");
    CHECK(!access_target_parse("postmaster", &addr, &why));
    CHECK_STR(why.data, "requires user@domain target");
    CHECK(!access_target_parse("a b@example.com", &addr, &why));
    CHECK(strncmp(why.data, "invalid user@domain target", 26) == 0);
    CHECK(!access_target_parse("", &addr, NULL));

    /* FILTER transport:destination */
    CHECK(access_filter_valid("smtp:[127.0.0.1]:10025", &why));
    CHECK(access_filter_valid("discard:", &why));
    CHECK(access_filter_valid("scan-1.x_y:example.com", &why));
    CHECK(!access_filter_valid("no-colon-here", &why));
    CHECK_STR(why.data, "requires transport:destination");
    CHECK(!access_filter_valid(":dest", NULL));
    CHECK(!access_filter_valid("sm tp:dest", NULL));
    CHECK(!access_filter_valid("smtp:a b", NULL));
    CHECK(!access_filter_valid("smtp:a\tb", NULL));
    buf_free(&why);
    buf_free(&addr);
}

static void test_rewrite_clients(void)
{
    struct strlist words;
    struct restriction_client_list list;
    struct buf err = BUF_INIT;
    strlist_init(&words);
    str_split_list("permit_inet_interfaces, PERMIT_MYNETWORKS "
                   "permit_sasl_authenticated check_address_map "
                   "hash:/etc/pop, static:all, permit_tls_clientcerts",
                   &words);
    CHECK_INT(restriction_client_list_parse(&words, &list, &err), 0);
    CHECK_STR(buf_cstr(&err), "");
    CHECK_INT(list.count, 6);
    if (list.count == 6) {
        CHECK_INT(list.items[0].kind, RESTR_CLIENT_INET_INTERFACES);
        CHECK_INT(list.items[1].kind, RESTR_CLIENT_MYNETWORKS);
        CHECK_INT(list.items[2].kind, RESTR_CLIENT_SASL_AUTHENTICATED);
        CHECK_INT(list.items[3].kind, RESTR_CLIENT_ADDRESS_MAP);
        CHECK_STR(list.items[3].table, "hash:/etc/pop");
        /* A bare table is check_address_map, as in Postfix. */
        CHECK_INT(list.items[4].kind, RESTR_CLIENT_ADDRESS_MAP);
        CHECK_STR(list.items[4].table, "static:all");
        CHECK_INT(list.items[5].kind, RESTR_CLIENT_TLS_CLIENTCERTS);
        CHECK(list.items[0].table == NULL);
    }
    restriction_client_list_free(&list);
    strlist_free(&words);

    strlist_init(&words);
    str_split_list("permit_mynetworks bogus reject check_address_map", &words);
    CHECK_INT(restriction_client_list_parse(&words, &list, &err), 3);
    CHECK_STR(buf_cstr(&err),
              "unknown entry \"bogus\" ignored; unknown entry \"reject\" "
              "ignored; check_address_map needs a type:table argument; "
              "ignored");
    CHECK_INT(list.count, 1);
    restriction_client_list_free(&list);
    strlist_free(&words);
    buf_free(&err);
}

static void test_dsn_prefix(void)
{
    size_t len;
    CHECK(access_dsn_prefix("5.7.1 x", "5", &len));
    CHECK_INT(len, 5);
    CHECK(access_dsn_prefix("4.123.456", "45", &len));
    CHECK_INT(len, 9);
    CHECK(!access_dsn_prefix("5.7.1x", "5", &len));
    CHECK(!access_dsn_prefix("5.1234.1", "5", &len));
    CHECK(!access_dsn_prefix("2.0.0", "45", &len));
    CHECK(!access_dsn_prefix("5..1", "5", &len));
}

static struct netlist *netlist_of(const char *text)
{
    struct strlist items;
    strlist_init(&items);
    str_split_list(text, &items);
    struct netlist *l = netlist_new("test", &items);
    strlist_free(&items);
    return l;
}

static void test_netlist(void)
{
    struct netlist *l = netlist_of("127.0.0.0/8 [::1]/128 192.0.2.7 "
                                   "[2001:db8::]/32 !10.1.0.0/16 10.0.0.0/8 "
                                   "example.com .sub.example.net bad/99");
    CHECK_INT(netlist_match(l, "unknown", "127.1.2.3"), DICT_FOUND);
    CHECK_INT(netlist_match(l, "unknown", "128.0.0.1"), DICT_NOTFOUND);
    CHECK_INT(netlist_match(l, "unknown", "::1"), DICT_FOUND);
    CHECK_INT(netlist_match(l, "unknown", "::2"), DICT_NOTFOUND);
    CHECK_INT(netlist_match(l, "unknown", "192.0.2.7"), DICT_FOUND);
    CHECK_INT(netlist_match(l, "unknown", "192.0.2.8"), DICT_NOTFOUND);
    CHECK_INT(netlist_match(l, "unknown", "2001:db8:1::5"), DICT_FOUND);
    CHECK_INT(netlist_match(l, "unknown", "10.2.0.1"), DICT_FOUND);
    CHECK_INT(netlist_match(l, "unknown", "10.1.0.1"), DICT_NOTFOUND);
    CHECK_INT(netlist_match(l, "unknown", "::ffff:127.0.0.1"), DICT_FOUND);
    CHECK_INT(netlist_match(l, "mx.example.com", "203.0.113.1"), DICT_FOUND);
    CHECK_INT(netlist_match(l, "EXAMPLE.com", "203.0.113.1"), DICT_FOUND);
    CHECK_INT(netlist_match(l, "badexample.com", "203.0.113.1"), DICT_NOTFOUND);
    CHECK_INT(netlist_match(l, "sub.example.net", "203.0.113.1"),
              DICT_NOTFOUND);
    CHECK_INT(netlist_match(l, "a.sub.example.net", "203.0.113.1"), DICT_FOUND);
    /* "unknown" never matches a name pattern. */
    CHECK_INT(netlist_match(l, "unknown", "203.0.113.1"), DICT_NOTFOUND);
    netlist_free(l);

    l = netlist_of("inline:{192.0.2.9=ok} fail:broken");
    CHECK_INT(netlist_match(l, "unknown", "192.0.2.9"), DICT_FOUND);
    CHECK_INT(netlist_match(l, "unknown", "192.0.2.10"), DICT_ERROR);
    netlist_free(l);

    int family;
    unsigned char addr[16];
    unsigned prefix;
    CHECK_INT(netmatch_parse_cidr("10.0.0.0/8", &family, addr, &prefix), 0);
    CHECK_INT(prefix, 8);
    CHECK_INT(netmatch_parse_cidr("10.0.0.0/33", &family, addr, &prefix), -1);
    CHECK_INT(netmatch_parse_cidr("10.0.0.0/-1", &family, addr, &prefix), -1);
    CHECK_INT(netmatch_parse_cidr("[::1]", &family, addr, &prefix), 0);
    CHECK_INT(prefix, 128);
    CHECK_INT(netmatch_parse_cidr("host.example", &family, addr, &prefix), -1);
}

int main(void)
{
    UNIT_RUN(test_list_parse);
    UNIT_RUN(test_access_results);
    UNIT_RUN(test_prepend_and_targets);
    UNIT_RUN(test_rewrite_clients);
    UNIT_RUN(test_dsn_prefix);
    UNIT_RUN(test_netlist);
    return unit_summary();
}
