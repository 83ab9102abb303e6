/* test_address.c: unit tests for lib/message/address (RFC 5321 mailboxes,
 * quoting, routing tricks, delimiters, domains) and lib/message/addrlist (RFC
 * 5322 header address lists). */
#include "unit.h"

#include "message/addrlist.h"
#include "message/address.h"
#include "base/buf.h"

struct mailbox_case {
    const char *input;
    unsigned flags;
    const char *internal; /* NULL: must be rejected */
    unsigned info;
};

static const struct mailbox_case mailbox_cases[] = {
    {"user@example.com", 0, "user@example.com", ADDRESS_INFO_DOMAIN},
    {"First.Last@Example.COM", 0, "First.Last@Example.COM", ADDRESS_INFO_DOMAIN},
    {"a!#$%&'*+-/=?^_`{|}~z@x.org", 0, "a!#$%&'*+-/=?^_`{|}~z@x.org",
     ADDRESS_INFO_DOMAIN},
    {"\"john doe\"@example.com", 0, "john doe@example.com",
     ADDRESS_INFO_DOMAIN | ADDRESS_INFO_QUOTED},
    {"\"a\\\"b\\\\c\"@x.org", 0, "a\"b\\c@x.org",
     ADDRESS_INFO_DOMAIN | ADDRESS_INFO_QUOTED},
    {"\"\"@x.org", 0, "@x.org", ADDRESS_INFO_DOMAIN | ADDRESS_INFO_QUOTED},
    {"\"user@other\"@ours.example", 0, "user@other@ours.example",
     ADDRESS_INFO_DOMAIN | ADDRESS_INFO_QUOTED},
    {"user@[192.0.2.1]", 0, "user@[192.0.2.1]",
     ADDRESS_INFO_DOMAIN | ADDRESS_INFO_LITERAL},
    {"user@[IPv6:2001:db8::1]", 0, "user@[IPv6:2001:db8::1]",
     ADDRESS_INFO_DOMAIN | ADDRESS_INFO_LITERAL},
    {"user@[ipv6:::1]", 0, "user@[ipv6:::1]",
     ADDRESS_INFO_DOMAIN | ADDRESS_INFO_LITERAL},
    {"user%other@ours.example", 0, "user%other@ours.example", ADDRESS_INFO_DOMAIN},
    {"other!user@ours.example", 0, "other!user@ours.example", ADDRESS_INFO_DOMAIN},
    {"user@host_name.example", 0, "user@host_name.example", ADDRESS_INFO_DOMAIN},
    {"user@1.2.3.4", 0, "user@1.2.3.4", ADDRESS_INFO_DOMAIN},
    {"postmaster", ADDRESS_FLAG_BARE, "postmaster", 0},
    {"user@other@ours.example", ADDRESS_FLAG_MULTI_AT, "user@other@ours.example",
     ADDRESS_INFO_DOMAIN},
    {"a@b@c@d.example", ADDRESS_FLAG_MULTI_AT, "a@b@c@d.example",
     ADDRESS_INFO_DOMAIN},
    {"j\xc3\xb6rg@b\xc3\xbc" "cher.example", ADDRESS_FLAG_UTF8,
     "j\xc3\xb6rg@b\xc3\xbc" "cher.example", ADDRESS_INFO_DOMAIN | ADDRESS_INFO_UTF8},
    {"\"j\xc3\xb6 rg\"@x.example", ADDRESS_FLAG_UTF8, "j\xc3\xb6 rg@x.example",
     ADDRESS_INFO_DOMAIN | ADDRESS_INFO_UTF8 | ADDRESS_INFO_QUOTED},
    /* rejected */
    {"", 0, NULL, 0},
    {"\"\"", ADDRESS_FLAG_BARE, NULL, 0},
    {"\"a@b c\"", ADDRESS_FLAG_BARE, NULL, 0},
    {"user", 0, NULL, 0},
    {"user@", 0, NULL, 0},
    {"@example.com", 0, NULL, 0},
    {".user@x.org", 0, NULL, 0},
    {"user.@x.org", 0, NULL, 0},
    {"us..er@x.org", 0, NULL, 0},
    {"us er@x.org", 0, NULL, 0},
    {"us(er@x.org", 0, NULL, 0},
    {"user@other@ours.example", 0, NULL, 0},
    {"user@-x.org", 0, NULL, 0},
    {"user@x-.org", 0, NULL, 0},
    {"user@x..org", 0, NULL, 0},
    {"user@.x.org", 0, NULL, 0},
    {"user@x.org.", 0, NULL, 0},
    {"user@x org", 0, NULL, 0},
    {"user@[300.1.1.1]", 0, NULL, 0},
    {"user@[1.2.3]", 0, NULL, 0},
    {"user@[IPv6:2001:db8::g]", 0, NULL, 0},
    {"user@[tag:content]", 0, NULL, 0},
    {"user@[1.2.3.4", 0, NULL, 0},
    {"\"unterminated@x.org", 0, NULL, 0},
    {"\"a\"b@x.org", 0, NULL, 0},
    {"\"a\\\"@x.org", 0, NULL, 0},
    {"\"tab\there\"@x.org", 0, NULL, 0},
    {"j\xc3\xb6rg@x.example", 0, NULL, 0},
    {"user@b\xc3\xbc.example", 0, NULL, 0},
    {"bad\xc3@x.example", ADDRESS_FLAG_UTF8, NULL, 0},
    {"overlong\xc0\xaf@x.example", ADDRESS_FLAG_UTF8, NULL, 0},
    {"surrogate\xed\xa0\x80@x.example", ADDRESS_FLAG_UTF8, NULL, 0},
    {"user@aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.org", 0,
     NULL, 0}, /* 64-byte label */
};

static void test_parse_mailbox_table(void)
{
    struct buf out = BUF_INIT, why = BUF_INIT;
    for (size_t i = 0; i < sizeof(mailbox_cases) / sizeof(mailbox_cases[0]); i++) {
        const struct mailbox_case *c = &mailbox_cases[i];
        unsigned info = 0xffff;
        buf_reset(&why);
        int rc = address_parse_mailbox(c->input, strlen(c->input), c->flags,
                                       &out, &info, &why);
        if (c->internal) {
            if (rc != 0)
                printf("#   case %zu \"%s\": %s\n", i, c->input, why.data);
            CHECK_INT(rc, 0);
            CHECK_STR(out.data, c->internal);
            CHECK_INT(info, c->info);
        } else {
            if (rc == 0)
                printf("#   case %zu \"%s\" accepted as \"%s\"\n", i, c->input,
                       out.data);
            CHECK_INT(rc, -1);
            CHECK(why.len > 0);
        }
    }
    buf_free(&out);
    buf_free(&why);
}

static void test_parse_mailbox_bounds(void)
{
    struct buf in = BUF_INIT, out = BUF_INIT, why = BUF_INIT;
    /* A 255-byte local part is accepted, 256 is not. */
    for (int i = 0; i < ADDRESS_LOCAL_MAX; i++)
        buf_append_char(&in, 'a');
    buf_append_str(&in, "@x.org");
    CHECK_INT(address_parse_mailbox(in.data, in.len, 0, &out, NULL, &why), 0);
    buf_set_str(&in, "a");
    for (int i = 0; i < ADDRESS_LOCAL_MAX; i++)
        buf_append_char(&in, 'a');
    buf_append_str(&in, "@x.org");
    CHECK_INT(address_parse_mailbox(in.data, in.len, 0, &out, NULL, &why), -1);
    CHECK_STR(why.data, "local part too long");
    /* The same for a quoted local part. */
    buf_set_str(&in, "\"");
    for (int i = 0; i < ADDRESS_LOCAL_MAX + 1; i++)
        buf_append_char(&in, ' ');
    buf_append_str(&in, "\"@x.org");
    CHECK_INT(address_parse_mailbox(in.data, in.len, 0, &out, NULL, &why), -1);
    /* A domain over 255 bytes. */
    buf_set_str(&in, "u@");
    for (int i = 0; i < 64; i++)
        buf_append_str(&in, "abc.");
    buf_append_str(&in, "org");
    CHECK_INT(address_parse_mailbox(in.data, in.len, 0, &out, NULL, &why), -1);
    /* Input is not NUL-terminated: the length is honoured. */
    CHECK_INT(address_parse_mailbox("u@x.orgJUNK", 7, 0, &out, NULL, &why), 0);
    CHECK_STR(out.data, "u@x.org");
    /* Embedded NUL is refused. */
    CHECK_INT(address_parse_mailbox("u\0@x.org", 8, 0, &out, NULL, &why), -1);
    CHECK_INT(address_parse_mailbox("u@x\0.org", 8, 0, &out, NULL, &why), -1);
    buf_free(&in);
    buf_free(&out);
    buf_free(&why);
}

static void test_split_and_domain(void)
{
    struct buf local = BUF_INIT, domain = BUF_INIT;
    CHECK_INT(address_split("user@other@ours", &local, &domain), 1);
    CHECK_STR(local.data, "user@other");
    CHECK_STR(domain.data, "ours");
    CHECK_INT(address_split("root", &local, &domain), 0);
    CHECK_STR(local.data, "root");
    CHECK_STR(domain.data, "");
    CHECK_STR(address_domain("a@b.c"), "b.c");
    CHECK(address_domain("abc") == NULL);
    buf_free(&local);
    buf_free(&domain);
}

static void test_quoting(void)
{
    static const char *const pairs[][2] = {
        {"user@x.org", "user@x.org"},
        {"john doe@x.org", "\"john doe\"@x.org"},
        {"a\"b\\c@x.org", "\"a\\\"b\\\\c\"@x.org"},
        {"user@other@ours", "\"user@other\"@ours"},
        {"@x.org", "\"\"@x.org"},
        {".lead@x", "\".lead\"@x"},
        {"trail.@x", "\"trail.\"@x"},
        {"do..t@x", "\"do..t\"@x"},
        {"a.b.c@x", "a.b.c@x"},
        {"user%other@ours", "user%other@ours"},
        {"j\xc3\xb6rg@x", "j\xc3\xb6rg@x"},
        {"root", "root"},
        {"two words", "\"two words\""},
        {"", ""},
    };
    struct buf out = BUF_INIT, back = BUF_INIT;
    for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
        address_externalize(pairs[i][0], &out);
        CHECK_STR(out.data, pairs[i][1]);
        /* Round trip: the external form parses back to the internal one. */
        if (pairs[i][0][0] && strchr(pairs[i][0], '@')) {
            CHECK_INT(address_parse_mailbox(out.data, out.len,
                                            ADDRESS_FLAG_UTF8, &back, NULL,
                                            NULL),
                      0);
            CHECK_STR(back.data, pairs[i][0]);
        }
    }
    buf_free(&out);
    buf_free(&back);
}

static void test_routing_tricks(void)
{
    CHECK_INT(address_routing("user@ours.example"), 0);
    CHECK_INT(address_routing("first.last+tag@ours.example"), 0);
    CHECK_INT(address_routing("user%other@ours.example"), ADDRESS_ROUTE_PERCENT);
    CHECK_INT(address_routing("user@other@ours.example"), ADDRESS_ROUTE_AT);
    CHECK_INT(address_routing("other!user@ours.example"), ADDRESS_ROUTE_BANG);
    CHECK_INT(address_routing("@ours:user@other"),
              ADDRESS_ROUTE_SOURCE | ADDRESS_ROUTE_AT);
    CHECK_INT(address_routing("a%b!c@d@ours"),
              ADDRESS_ROUTE_PERCENT | ADDRESS_ROUTE_BANG | ADDRESS_ROUTE_AT);
    CHECK_INT(address_routing("other!user"), ADDRESS_ROUTE_BANG);
    CHECK_INT(address_routing(""), 0);
    /* The domain is never inspected: a '%' there is not routing. */
    CHECK_INT(address_routing("user@ours%x"), 0);

    /* Each trick, parsed as smtpd would, is flagged. */
    struct buf out = BUF_INIT;
    static const char *const tricks[] = {
        "user%other@ours.example", "\"user@other\"@ours.example",
        "other!user@ours.example", "\"user%other\"@ours.example"};
    for (size_t i = 0; i < sizeof(tricks) / sizeof(tricks[0]); i++) {
        CHECK_INT(address_parse_mailbox(tricks[i], strlen(tricks[i]), 0, &out,
                                        NULL, NULL),
                  0);
        CHECK(address_routing(out.data) != 0);
        CHECK_STR(address_domain(out.data), "ours.example");
    }
    CHECK_INT(address_parse_mailbox("user@other@ours.example", 23,
                                    ADDRESS_FLAG_MULTI_AT, &out, NULL, NULL),
              0);
    CHECK_INT(address_routing(out.data), ADDRESS_ROUTE_AT);
    CHECK_STR(address_domain(out.data), "ours.example");
    buf_free(&out);
}

static void test_delimiter(void)
{
    struct buf base = BUF_INIT, ext = BUF_INIT;
    char delim = 0;
    CHECK_INT(address_split_delimiter("user+tag", "+", &base, &ext, &delim), 1);
    CHECK_STR(base.data, "user");
    CHECK_STR(ext.data, "tag");
    CHECK_INT(delim, '+');
    CHECK_INT(address_split_delimiter("user-tag+x", "+-", &base, &ext, &delim), 1);
    CHECK_STR(base.data, "user");
    CHECK_STR(ext.data, "tag+x");
    CHECK_INT(delim, '-');
    CHECK_INT(address_split_delimiter("user+", "+", &base, &ext, NULL), 1);
    CHECK_STR(base.data, "user");
    CHECK_STR(ext.data, "");
    CHECK_INT(address_split_delimiter("+tag", "+", &base, &ext, NULL), 0);
    CHECK_STR(base.data, "+tag");
    CHECK_INT(address_split_delimiter("user", "+", &base, &ext, NULL), 0);
    CHECK_STR(base.data, "user");
    CHECK_STR(ext.data, "");
    CHECK_INT(address_split_delimiter("user+tag", "", &base, &ext, NULL), 0);
    CHECK_INT(address_split_delimiter("owner-list", "-", &base, &ext, NULL), 0);
    CHECK_INT(address_split_delimiter("list-request", "-", &base, &ext, NULL), 0);
    CHECK_INT(address_split_delimiter("owner-list", "+", &base, &ext, NULL), 0);
    CHECK_INT(address_split_delimiter("owner+x", "+", &base, &ext, NULL), 1);
    CHECK_INT(address_split_delimiter("MAILER-DAEMON", "-", &base, &ext, NULL), 0);
    CHECK_INT(address_split_delimiter("double-bounce", "-", &base, &ext, NULL), 0);
    CHECK_INT(address_split_delimiter("Post+Master", "+", &base, &ext, NULL), 1);
    CHECK_STR(base.data, "Post");
    buf_free(&base);
    buf_free(&ext);
}

static void test_domains(void)
{
    CHECK(address_valid_hostname("mail.example.com", 0));
    CHECK(address_valid_hostname("localhost", 0));
    CHECK(address_valid_hostname("a-b.c_d.example", 0));
    CHECK(address_valid_hostname("123abc.example", 0));
    CHECK(!address_valid_hostname("1.2.3.4", 0));
    CHECK(!address_valid_hostname("", 0));
    CHECK(!address_valid_hostname("-a.example", 0));
    CHECK(!address_valid_hostname("a-.example", 0));
    CHECK(!address_valid_hostname("a..example", 0));
    CHECK(!address_valid_hostname("example.", 0));
    CHECK(!address_valid_hostname(".example", 0));
    CHECK(!address_valid_hostname("exa mple", 0));
    CHECK(!address_valid_hostname("b\xc3\xbc.example", 0));
    CHECK(address_valid_hostname("b\xc3\xbc.example", ADDRESS_FLAG_UTF8));
    CHECK(address_valid_literal("[10.0.0.1]"));
    CHECK(address_valid_literal("[IPv6:::1]"));
    CHECK(!address_valid_literal("[IPv6:10.0.0.1]"));
    CHECK(!address_valid_literal("[::1]"));
    CHECK(!address_valid_literal("[010.0.0.1x]"));
    CHECK(!address_valid_literal("10.0.0.1"));
    CHECK(address_valid_ip("10.0.0.1"));
    CHECK(address_valid_ip("2001:db8::1"));
    CHECK(!address_valid_ip("example.com"));
    CHECK(address_domain_is_fqdn("example.com"));
    CHECK(address_domain_is_fqdn("[192.0.2.1]"));
    CHECK(!address_domain_is_fqdn("localhost"));
    CHECK(!address_domain_is_fqdn("1.2.3.4"));
    CHECK(!address_domain_is_fqdn(""));
    CHECK(!address_domain_is_fqdn(NULL));

    /* reject_invalid_helo_hostname / reject_non_fqdn_helo_hostname */
    CHECK(address_helo_valid("mail.example.com"));
    CHECK(address_helo_valid("mail.example.com."));
    CHECK(address_helo_valid("localhost"));
    CHECK(address_helo_valid("[192.0.2.1]"));
    CHECK(address_helo_valid("[IPv6:2001:db8::1]"));
    CHECK(address_helo_valid("192.0.2.1"));
    CHECK(!address_helo_valid("[192.0.2.1"));
    CHECK(!address_helo_valid("bad_name!"));
    CHECK(!address_helo_valid("a..b"));
    CHECK(!address_helo_valid("."));
    CHECK(!address_helo_valid(""));
    CHECK(address_helo_is_fqdn("mail.example.com"));
    CHECK(address_helo_is_fqdn("mail.example.com."));
    CHECK(address_helo_is_fqdn("[192.0.2.1]"));
    CHECK(!address_helo_is_fqdn("localhost"));
    CHECK(!address_helo_is_fqdn("localhost."));
    CHECK(!address_helo_is_fqdn("192.0.2.1"));
}

/* --- RFC 5322 address lists --- */

struct list_case {
    const char *input;
    const char *expect; /* "addr|display|group;..." or NULL: error */
};

static const struct list_case list_cases[] = {
    {"user@example.com", "user@example.com||;"},
    {"a@x.org, b@y.org", "a@x.org||;b@y.org||;"},
    {"John Doe <jd@x.org>", "jd@x.org|John Doe|;"},
    {"\"Doe, John\" <jd@x.org>, x@y.org", "jd@x.org|Doe, John|;x@y.org||;"},
    {"John Q. Public <jqp@x.org>", "jqp@x.org|John Q. Public|;"},
    {"jd@x.org (John Doe)", "jd@x.org||;"},
    {"(c1) jd (c2) @ (c3) x.org (c4 (nested))", "jd@x.org||;"},
    {"\"john doe\"@x.org", "john doe@x.org||;"},
    {"<\"a\\\"b\"@x.org>", "a\"b@x.org||;"},
    {"undisclosed-recipients:;", ""},
    {"team: a@x.org, B <b@y.org>;, c@z.org",
     "a@x.org||team;b@y.org|B|team;c@z.org||;"},
    {"<@relay1.example,@relay2.example:user@final.example>",
     "user@final.example||;"},
    {"root", "root||;"},
    {"Admin <root>", "root|Admin|;"},
    {"a@x.org,, ,b@y.org,", "a@x.org||;b@y.org||;"},
    {"first\r\n second <fs@x.org>", "fs@x.org|first second|;"},
    {"user@[192.0.2.7]", "user@[192.0.2.7]||;"},
    {"", ""},
    {"  (only a comment)  ", ""},
    /* errors */
    {"John Doe", NULL},
    {"<jd@x.org", NULL},
    {"jd@x.org>", NULL},
    {"\"open@x.org", NULL},
    {"(open comment a@x.org", NULL},
    {"a@x.org)", NULL},
    {"a@", NULL},
    {"a@x..org", NULL},
    {"<>", NULL},
    {"team: a@x.org", NULL},
    {"outer: inner: a@x.org;;", NULL},
    {"a@x.org b@y.org", NULL},
    {"a@[300.0.0.1]", NULL},
    {"j\xc3\xb6rg@x.org", NULL},
    {"<@relay:>", NULL},
    {"a\x01@x.org", NULL},
};

static void render(const struct addrlist *list, struct buf *out)
{
    buf_reset(out);
    for (size_t i = 0; i < list->count; i++)
        buf_appendf(out, "%s|%s|%s;", list->items[i].address,
                    list->items[i].display,
                    list->items[i].group ? list->items[i].group : "");
}

static void test_addrlist_table(void)
{
    struct buf why = BUF_INIT, got = BUF_INIT;
    for (size_t i = 0; i < sizeof(list_cases) / sizeof(list_cases[0]); i++) {
        const struct list_case *c = &list_cases[i];
        struct addrlist list;
        addrlist_init(&list);
        int rc = addrlist_parse(c->input, strlen(c->input), 0, &list, &why);
        render(&list, &got);
        if (c->expect) {
            if (rc != 0)
                printf("#   list case %zu: %s\n", i, why.data);
            CHECK_INT(rc, 0);
            CHECK_STR(got.data, c->expect);
        } else {
            if (rc == 0)
                printf("#   list case %zu accepted: %s\n", i, got.data);
            CHECK_INT(rc, -1);
            CHECK_INT(list.count, 0);
            CHECK(why.len > 0);
        }
        addrlist_free(&list);
    }
    buf_free(&why);
    buf_free(&got);
}

static void test_addrlist_info_and_utf8(void)
{
    struct addrlist list;
    addrlist_init(&list);
    const char *text = "J\xc3\xb6rg <j\xc3\xb6rg@b\xc3\xbc.example>, root, a@[10.0.0.1]";
    CHECK_INT(addrlist_parse(text, strlen(text), ADDRESS_FLAG_UTF8, &list, NULL), 0);
    CHECK_INT(list.count, 3);
    if (list.count == 3) {
        CHECK_STR(list.items[0].display, "J\xc3\xb6rg");
        CHECK_INT(list.items[0].info, ADDRESS_INFO_DOMAIN | ADDRESS_INFO_UTF8);
        CHECK_INT(list.items[1].info, 0);
        CHECK_INT(list.items[2].info, ADDRESS_INFO_DOMAIN | ADDRESS_INFO_LITERAL);
    }
    /* A failed parse appends nothing and keeps earlier entries. */
    CHECK_INT(addrlist_parse("x@y.org, <broken", 16, 0, &list, NULL), -1);
    CHECK_INT(list.count, 3);
    addrlist_free(&list);
}

static void test_addrlist_bounds(void)
{
    struct buf in = BUF_INIT;
    struct addrlist list;
    addrlist_init(&list);
    for (int i = 0; i < ADDRLIST_ENTRIES_MAX + 1; i++)
        buf_append_str(&in, "a@b.c,");
    CHECK_INT(addrlist_parse(in.data, in.len, 0, &list, NULL), -1);
    CHECK_INT(list.count, 0);
    buf_reset(&in);
    for (int i = 0; i < ADDRLIST_COMMENT_DEPTH + 1; i++)
        buf_append_char(&in, '(');
    for (int i = 0; i < ADDRLIST_COMMENT_DEPTH + 1; i++)
        buf_append_char(&in, ')');
    buf_append_str(&in, "a@b.c");
    CHECK_INT(addrlist_parse(in.data, in.len, 0, &list, NULL), -1);
    /* Token flood: many empty items cost tokens, not addresses. */
    buf_reset(&in);
    for (int i = 0; i < ADDRLIST_TOKENS_MAX + 1; i++)
        buf_append_char(&in, ',');
    struct buf why = BUF_INIT;
    CHECK_INT(addrlist_parse(in.data, in.len, 0, &list, &why), -1);
    CHECK_STR(why.data, "address list too long");
    buf_truncate(&in, ADDRLIST_TOKENS_MAX);
    CHECK_INT(addrlist_parse(in.data, in.len, 0, &list, &why), 0);
    buf_free(&why);
    /* Embedded NUL is an error, not a terminator. */
    CHECK_INT(addrlist_parse("a@b.c\0,d@e.f", 12, 0, &list, NULL), -1);
    addrlist_free(&list);
    buf_free(&in);
}

int main(void)
{
    UNIT_RUN(test_parse_mailbox_table);
    UNIT_RUN(test_parse_mailbox_bounds);
    UNIT_RUN(test_split_and_domain);
    UNIT_RUN(test_quoting);
    UNIT_RUN(test_routing_tricks);
    UNIT_RUN(test_delimiter);
    UNIT_RUN(test_domains);
    UNIT_RUN(test_addrlist_table);
    UNIT_RUN(test_addrlist_info_and_utf8);
    UNIT_RUN(test_addrlist_bounds);
    return unit_summary();
}
