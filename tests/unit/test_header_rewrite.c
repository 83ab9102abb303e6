/* test_header_rewrite.c: unit tests for lib/message/header_rewrite (header
 * address fields rewritten in place) and the address spans lib/message/addrlist
 * reports for it.
 *
 * The callback stands in for smtpd's canonical maps: a small table, a
 * bare local part completed with @example.test, and addresses that make
 * it fail or return what must not go into a header. */
#include <string.h>

#include "message/address.h"
#include "message/addrlist.h"
#include "message/header_rewrite.h"
#include "unit.h"

static int calls;

static const char *const map[][2] = {
    {"old@example.test", "new@example.test"},
    {"someone@far.example", "Renamed@far.example"},
    {"a,b@example.test", "c d@example.test"},
    {"user@[192.0.2.1]", "user@literal.example"},
    {"short@x.example", "a-much-longer-replacement-address@x.example"},
    {"j\xc3\xb6rg@b\xc3\xbc.example", "joerg@bu.example"},
    {"ascii@example.test", "\xc3\xa9t\xc3\xa9@example.test"},
    {"ctl@example.test", "bad\nHeader: injected@example.test"},
    {"empty@example.test", ""},
};

static int fake_rewrite(void *ctx, const char *address, struct buf *out,
                        struct buf *why)
{
    (void)ctx;
    calls++;
    if (strcmp(address, "fail@example.test") == 0) {
        buf_set_str(why, "4.3.0 table lookup failed");
        return -1;
    }
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (strcmp(address, map[i][0]) == 0) {
            buf_set_str(out, map[i][1]);
            return 0;
        }
    buf_set_str(out, address);
    if (strchr(address, '@') == NULL)
        buf_append_str(out, "@example.test");
    return 0;
}

/* Runs one field; returns the result code and puts the field as it
 * would be written (changed or not) in got. */
static int run(const char *field, unsigned flags, size_t limit, struct buf *got,
               struct buf *why)
{
    struct buf out = BUF_INIT;
    int rc = header_rewrite_field(field, strlen(field), flags, limit,
                                  fake_rewrite, NULL, &out, why);
    buf_set_str(got, rc == 1 ? buf_cstr(&out) : field);
    buf_free(&out);
    return rc;
}

struct field_case {
    const char *in;
    int rc;
    const char *out; /* NULL: same as in */
};

static const struct field_case cases[] = {
    /* Plain addresses, display names, and the bare local part. */
    {"To: old@example.test\n", 1, "To: new@example.test\n"},
    {"From: \"Old, Name\" <old@example.test>\n", 1,
     "From: \"Old, Name\" <new@example.test>\n"},
    {"From: Joe Local <joe>\n", 1, "From: Joe Local <joe@example.test>\n"},
    {"To: alice@virt.test, bob\n", 1,
     "To: alice@virt.test, bob@example.test\n"},
    {"To: alice@virt.test\n", 0, NULL},
    /* Folding, comments (nested), and odd spacing are kept. */
    {"To: first@far.example,\n\told@example.test (the (old) one),\n"
     "  \"Some, One\" <someone@far.example>\n",
     1,
     "To: first@far.example,\n\tnew@example.test (the (old) one),\n"
     "  \"Some, One\" <Renamed@far.example>\n"},
    {"Cc: (comment (nested (deep)) here) old@example.test (trail (x))\n", 1,
     "Cc: (comment (nested (deep)) here) new@example.test (trail (x))\n"},
    {"To:   Alice   <  old@example.test  >   (hi),\n\t far@far.example\n", 1,
     "To:   Alice   <  new@example.test  >   (hi),\n\t far@far.example\n"},
    {"To: old@example.test,\r\n old@example.test\r\n", 1,
     "To: new@example.test,\r\n new@example.test\r\n"},
    {"tO : old@example.test\n", 1, "tO : new@example.test\n"},
    /* The address inside a display name or a comment is not touched. */
    {"To: \"old@example.test\" <old@example.test>\n", 1,
     "To: \"old@example.test\" <new@example.test>\n"},
    {"To: (old@example.test) old@example.test\n", 1,
     "To: (old@example.test) new@example.test\n"},
    /* Groups. */
    {"To: team: old@example.test, Someone <someone@far.example>;, "
     "old@example.test\n",
     1,
     "To: team: new@example.test, Someone <Renamed@far.example>;, "
     "new@example.test\n"},
    {"To: undisclosed-recipients:;\n", 0, NULL},
    {"Bcc: empty-group: ; , \"quoted name\": old@example.test;\n", 1,
     "Bcc: empty-group: ; , \"quoted name\": new@example.test;\n"},
    /* Quoted local parts: commas inside quotes are not separators, and
     * a result that needs quoting gets it. */
    {"To: \"a,b\"@example.test, old@example.test\n", 1,
     "To: \"c d\"@example.test, new@example.test\n"},
    {"To: \"joe\"@example.test\n", 0, NULL},
    /* Encoded words in display names stay as they are. */
    {"From: =?UTF-8?Q?J=C3=B6rg_Old?= <old@example.test>\n", 1,
     "From: =?UTF-8?Q?J=C3=B6rg_Old?= <new@example.test>\n"},
    {"From: =?iso-8859-1?B?SvZyZw==?= <old@example.test> (=?utf-8?q?x?=)\n", 1,
     "From: =?iso-8859-1?B?SvZyZw==?= <new@example.test> (=?utf-8?q?x?=)\n"},
    /* Source routes are dropped with the rest of a changed address;
     * domain literals are replaced whole. */
    {"To: <@relay.example,@b.example:old@example.test>\n", 1,
     "To: <new@example.test>\n"},
    {"To: user@[192.0.2.1]\n", 1, "To: user@literal.example\n"},
    /* Malformed: left exactly as received, nothing looked up. */
    {"To: <old@example.test\n", 0, NULL},
    {"To: old@example.test new@example.test\n", 0, NULL},
    {"To: \"unterminated@example.test\n", 0, NULL},
    {"To: old@@example.test\n", 0, NULL},
    {"To: (unbalanced old@example.test\n", 0, NULL},
    {"To: old@example.test)\n", 0, NULL},
    {"To: <>\n", 0, NULL},
    {"To: old@exa mple.test\n", 0, NULL},
    {"To: J\xc3\xb6rg <old@example.test>\n", 0, NULL}, /* 8-bit, no UTF8 */
    {"No colon here\n", 0, NULL},
    {": old@example.test\n", 0, NULL},
    {"To:\n", 0, NULL},
    /* Results that must not go into a header are not used. */
    {"To: ctl@example.test, old@example.test\n", 1,
     "To: ctl@example.test, new@example.test\n"},
    {"To: empty@example.test\n", 0, NULL},
    {"To: ascii@example.test\n", 0, NULL}, /* UTF-8 result, no SMTPUTF8 */
};

static void test_field_table(void)
{
    struct buf got = BUF_INIT, why = BUF_INIT;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct field_case *c = &cases[i];
        int rc = run(c->in, 0, 0, &got, &why);
        if (rc != c->rc || strcmp(got.data, c->out ? c->out : c->in) != 0)
            printf("#   case %zu: rc %d: %s", i, rc, got.data);
        CHECK_INT(rc, c->rc);
        CHECK_STR(got.data, c->out ? c->out : c->in);
        CHECK_STR(buf_cstr(&why), "");
    }
    buf_free(&got);
    buf_free(&why);
}

static void test_malformed_is_not_looked_up(void)
{
    struct buf got = BUF_INIT;
    calls = 0;
    CHECK_INT(run("To: fail@example.test, <broken\n", 0, 0, &got, NULL), 0);
    CHECK_INT(calls, 0);
    buf_free(&got);
}

static void test_callback_error(void)
{
    struct buf got = BUF_INIT, why = BUF_INIT;
    CHECK_INT(
        run("To: old@example.test, fail@example.test\n", 0, 0, &got, &why), -1);
    CHECK_STR(why.data, "4.3.0 table lookup failed");
    buf_free(&got);
    buf_free(&why);
}

static void test_utf8_fields(void)
{
    struct buf got = BUF_INIT, why = BUF_INIT;
    const char *in = "To: J\xc3\xb6rg <j\xc3\xb6rg@b\xc3\xbc.example>, "
                     "ascii@example.test\n";
    CHECK_INT(run(in, ADDRESS_FLAG_UTF8, 0, &got, &why), 1);
    CHECK_STR(got.data, "To: J\xc3\xb6rg <joerg@bu.example>, "
                        "\xc3\xa9t\xc3\xa9@example.test\n");
    buf_free(&got);
    buf_free(&why);
}

static void test_over_long_result_kept(void)
{
    struct buf field = BUF_INIT, got = BUF_INIT, why = BUF_INIT;
    buf_append_str(&field, "To: short@x.example");
    for (int i = 0; i < 20; i++)
        buf_append_str(&field, ",\n short@x.example");
    buf_append_char(&field, '\n');
    /* Each of the 21 addresses grows by the same number of bytes. */
    size_t growth =
        21 * (strlen("a-much-longer-replacement-address@x.example") -
              strlen("short@x.example"));
    CHECK_INT(run(field.data, 0, field.len + 100, &got, &why), 0);
    CHECK_STR(got.data, field.data);
    CHECK(strstr(buf_cstr(&why), "kept as received") != NULL);
    CHECK_INT(run(field.data, 0, field.len + growth, &got, &why), 1);
    CHECK_INT(got.len, field.len + growth);
    CHECK_STR(buf_cstr(&why), "");
    buf_free(&field);
    buf_free(&got);
    buf_free(&why);
}

/* Longest line of text, line ends not counted. */
static size_t longest_line(const char *text)
{
    size_t best = 0, cur = 0;
    for (const char *p = text; *p; p++) {
        if (*p == '\n' || *p == '\r') {
            cur = 0;
            continue;
        }
        if (++cur > best)
            best = cur;
    }
    return best;
}

static void test_long_lines_are_folded(void)
{
    struct buf field = BUF_INIT, got = BUF_INIT, expect = BUF_INIT;
    /* One line of addresses just under the limit; growing the last one
     * would pass 998 bytes, so it moves to a continuation line. */
    buf_append_str(&field, "To: ");
    while (field.len < 960)
        buf_append_str(&field, "aa@x.example, ");
    buf_append_str(&field, "Short <short@x.example>\n");
    CHECK(longest_line(field.data) <= HEADER_REWRITE_LINE_MAX);
    CHECK_INT(run(field.data, 0, 0, &got, NULL), 1);
    CHECK(longest_line(got.data) <= HEADER_REWRITE_LINE_MAX);
    buf_append(&expect, field.data, field.len - strlen("<short@x.example>\n"));
    buf_append_str(&expect,
                   "\n\t<a-much-longer-replacement-address@x.example>\n");
    CHECK_STR(got.data, expect.data);
    /* Without a display name the fold goes right before the address,
     * and CRLF fields get CRLF folds. */
    buf_reset(&field);
    buf_append_str(&field, "Cc: ");
    while (field.len < 960)
        buf_append_str(&field, "aa@x.example, ");
    buf_append_str(&field, "short@x.example\r\n");
    CHECK_INT(run(field.data, 0, 0, &got, NULL), 1);
    CHECK(longest_line(got.data) <= HEADER_REWRITE_LINE_MAX);
    CHECK(strstr(got.data, ", \r\n\ta-much-longer-replacement-address@x.example"
                           "\r\n") != NULL);
    buf_free(&field);
    buf_free(&got);
    buf_free(&expect);
}

static void test_spans(void)
{
    const char *text = " Name <  a@b.example >, \"q,x\"@c.example (c),\n"
                       "\tg: d@[10.0.0.1];, bare";
    struct addrlist list;
    addrlist_init(&list);
    CHECK_INT(addrlist_parse(text, strlen(text), 0, &list, NULL), 0);
    CHECK_INT(list.count, 4);
    static const char *const want[] = {"a@b.example", "\"q,x\"@c.example",
                                       "d@[10.0.0.1]", "bare"};
    for (size_t i = 0; i < list.count && i < 4; i++) {
        CHECK(list.items[i].offset + list.items[i].length <= strlen(text));
        CHECK_INT(list.items[i].length, strlen(want[i]));
        CHECK(strncmp(text + list.items[i].offset, want[i],
                      list.items[i].length) == 0);
    }
    addrlist_free(&list);
}

static void test_classes(void)
{
    CHECK_INT(header_rewrite_class("From: x", 7), HEADER_REWRITE_SENDER);
    CHECK_INT(header_rewrite_class("reply-to: x", 11), HEADER_REWRITE_SENDER);
    CHECK_INT(header_rewrite_class("Mail-Followup-To: x", 19),
              HEADER_REWRITE_SENDER);
    CHECK_INT(header_rewrite_class("to: x", 5), HEADER_REWRITE_RECIPIENT);
    CHECK_INT(header_rewrite_class("Resent-Reply-To: x", 18),
              HEADER_REWRITE_RECIPIENT);
    CHECK_INT(header_rewrite_class("Cc : x", 6), HEADER_REWRITE_RECIPIENT);
    CHECK_INT(header_rewrite_class("Subject: From: x", 16), -1);
    CHECK_INT(header_rewrite_class("X-To: x", 7), -1);
    CHECK_INT(header_rewrite_class("\tTo: x", 6), -1);
    CHECK_INT(header_rewrite_class("To", 2), -1);
}

int main(void)
{
    UNIT_RUN(test_field_table);
    UNIT_RUN(test_malformed_is_not_looked_up);
    UNIT_RUN(test_callback_error);
    UNIT_RUN(test_utf8_fields);
    UNIT_RUN(test_over_long_result_kept);
    UNIT_RUN(test_long_lines_are_folded);
    UNIT_RUN(test_spans);
    UNIT_RUN(test_classes);
    return unit_summary();
}
