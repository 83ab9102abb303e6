/* test_header.c: unit tests for lib/message/header (header section splitting,
 * folding, the header/body boundary, limits and lookups). */
#include "unit.h"

#include "base/buf.h"
#include "message/header.h"

static void parse(struct header_block *hb, const char *text)
{
    header_block_init(hb, 0, 0, 0);
    header_parse(hb, text, strlen(text));
}

static void test_basic_fields(void)
{
    struct header_block hb;
    struct buf v = BUF_INIT;
    const char *msg = "From: Alice <alice@example.com>\r\n"
                      "To: bob@example.org,\r\n"
                      "\tcarol@example.org\r\n"
                      "Subject:   hello  \r\n"
                      "Message-ID: <abc.123@example.com>\r\n"
                      "\r\n"
                      "Body line\r\n";
    parse(&hb, msg);
    CHECK_INT(hb.count, 4);
    CHECK(hb.ended);
    CHECK(hb.blank_line);
    CHECK_STR(msg + hb.body_offset, "Body line\r\n");
    CHECK_STR(hb.fields[0].name, "From");
    CHECK_STR(hb.fields[0].value.data, "Alice <alice@example.com>");
    CHECK_STR(hb.fields[1].raw.data, "To: bob@example.org,\n\tcarol@example.org");
    CHECK_STR(hb.fields[1].value.data, "bob@example.org,\tcarol@example.org");
    CHECK_STR(hb.fields[2].value.data, "hello  ");
    CHECK_INT(header_get(&hb, "subject", &v), 1);
    CHECK_STR(v.data, "hello");
    CHECK_INT(header_get(&hb, "MESSAGE-ID", &v), 1);
    CHECK_STR(v.data, "<abc.123@example.com>");
    CHECK_INT(header_get(&hb, "Date", &v), 0);
    CHECK_STR(v.data, "");
    CHECK(header_find(&hb, "to") == &hb.fields[1]);
    CHECK(header_find(&hb, "cc") == NULL);
    header_block_free(&hb);
    buf_free(&v);
}

static void test_lf_endings_and_no_body(void)
{
    struct header_block hb;
    const char *msg = "Subject: x\nX-Empty:\nX-Spaced :  y\n";
    parse(&hb, msg);
    CHECK_INT(hb.count, 3);
    CHECK(!hb.ended);
    CHECK_INT(hb.body_offset, strlen(msg));
    CHECK_STR(hb.fields[1].name, "X-Empty");
    CHECK_STR(hb.fields[1].value.data, "");
    CHECK_STR(hb.fields[2].name, "X-Spaced");
    CHECK_STR(hb.fields[2].value.data, "y");
    header_block_free(&hb);

    /* A last line without newline is still a field. */
    parse(&hb, "A: 1\nB: 2");
    CHECK_INT(hb.count, 2);
    CHECK_STR(hb.fields[1].value.data, "2");
    header_block_free(&hb);

    /* Empty message. */
    parse(&hb, "");
    CHECK_INT(hb.count, 0);
    CHECK_INT(hb.body_offset, 0);
    header_block_free(&hb);

    /* Only a blank line: no headers, body after it. */
    parse(&hb, "\r\nbody");
    CHECK_INT(hb.count, 0);
    CHECK(hb.blank_line);
    CHECK_INT(hb.body_offset, 2);
    header_block_free(&hb);
}

static void test_body_boundary_without_blank_line(void)
{
    struct header_block hb;
    /* As in Postfix, a non-header line starts the body. */
    const char *msg = "Subject: x\nthis is not a header\nFrom: late@x\n";
    parse(&hb, msg);
    CHECK_INT(hb.count, 1);
    CHECK(hb.ended);
    CHECK(!hb.blank_line);
    CHECK_STR(msg + hb.body_offset, "this is not a header\nFrom: late@x\n");
    header_block_free(&hb);

    /* An mbox "From " line is not a header either. */
    msg = "From alice@example.com Mon Jan  1 00:00:00 2024\nSubject: x\n";
    parse(&hb, msg);
    CHECK_INT(hb.count, 0);
    CHECK_INT(hb.body_offset, 0);
    header_block_free(&hb);

    /* A continuation line with nothing to continue is body. */
    msg = " indented\nSubject: x\n";
    parse(&hb, msg);
    CHECK_INT(hb.count, 0);
    CHECK_INT(hb.body_offset, 0);
    header_block_free(&hb);

    /* Non-ASCII or control bytes in a name: not a header. */
    parse(&hb, "Sub\xc3\xa9ject: x\n");
    CHECK_INT(hb.count, 0);
    header_block_free(&hb);
    parse(&hb, ": no name\n");
    CHECK_INT(hb.count, 0);
    header_block_free(&hb);
}

static void test_name_length(void)
{
    CHECK_INT(header_name_length("Subject: x", 10), 7);
    CHECK_INT(header_name_length("Subject : x", 11), 7);
    CHECK_INT(header_name_length("Subject", 7), 0);
    CHECK_INT(header_name_length("Sub ject: x", 11), 0);
    CHECK_INT(header_name_length(":x", 2), 0);
    CHECK_INT(header_name_length("X-A:", 4), 3);
    char long_name[HEADER_NAME_MAX + 3];
    memset(long_name, 'N', sizeof(long_name));
    long_name[HEADER_NAME_MAX] = ':';
    CHECK_INT(header_name_length(long_name, HEADER_NAME_MAX + 1), HEADER_NAME_MAX);
    long_name[HEADER_NAME_MAX] = 'N';
    long_name[HEADER_NAME_MAX + 1] = ':';
    CHECK_INT(header_name_length(long_name, HEADER_NAME_MAX + 2), 0);
    /* The length is honoured: the colon beyond it does not count. */
    CHECK_INT(header_name_length("Subject: x", 7), 0);
}

static void test_incremental_lines(void)
{
    struct header_block hb;
    header_block_init(&hb, 0, 0, 0);
    CHECK_INT(header_block_line(&hb, "Received: from a", 16), HEADER_LINE_FIELD);
    CHECK_INT(header_block_line(&hb, "\tby b", 5), HEADER_LINE_FIELD);
    CHECK_INT(header_block_line(&hb, "Received: from c", 16), HEADER_LINE_FIELD);
    CHECK_INT(header_block_line(&hb, "", 0), HEADER_LINE_END_BLANK);
    CHECK_INT(header_block_line(&hb, "Received: late", 14), HEADER_LINE_END_BODY);
    CHECK_INT(hb.count, 2);
    CHECK_INT(header_hop_count(&hb), 2);
    CHECK_INT(header_count(&hb, "received"), 2);
    CHECK_STR(hb.fields[0].value.data, "from a\tby b");
    header_block_free(&hb);
}

static void test_size_limit_truncates(void)
{
    struct header_block hb;
    struct buf msg = BUF_INIT;
    /* One field of about 300 KB in folded lines, then a normal one. */
    buf_append_str(&msg, "X-Big: start\r\n");
    for (int i = 0; i < 4000; i++)
        buf_append_str(&msg, "\tcontinuation line with some text to fill it up..........\r\n");
    buf_append_str(&msg, "Subject: after\r\n\r\nbody");
    header_block_init(&hb, 0, 0, 0);
    header_parse(&hb, msg.data, msg.len);
    CHECK_INT(hb.count, 2);
    CHECK(hb.truncated);
    CHECK(hb.fields[0].truncated);
    CHECK(hb.fields[0].raw.len <= HEADER_SIZE_LIMIT);
    CHECK(hb.fields[0].value.len <= HEADER_SIZE_LIMIT);
    CHECK(hb.fields[0].raw.len > HEADER_SIZE_LIMIT - 100);
    CHECK(!hb.fields[1].truncated);
    CHECK_STR(hb.fields[1].value.data, "after");
    CHECK_STR(msg.data + hb.body_offset, "body");
    header_block_free(&hb);

    /* One physical line longer than the limit. */
    buf_set_str(&msg, "X-Long: ");
    for (int i = 0; i < 200000; i++)
        buf_append_char(&msg, 'x');
    buf_append_str(&msg, "\nSubject: s\n\n");
    header_block_init(&hb, 1000, 0, 0);
    header_parse(&hb, msg.data, msg.len);
    CHECK_INT(hb.count, 2);
    CHECK_INT(hb.fields[0].raw.len, 1000);
    CHECK(hb.fields[0].truncated);
    CHECK(hb.ended);
    header_block_free(&hb);
    buf_free(&msg);
}

static void test_count_limit_and_hops(void)
{
    struct header_block hb;
    struct buf msg = BUF_INIT;
    for (int i = 0; i < 60; i++)
        buf_appendf(&msg, "Received: from hop%d\n\tby x\n", i);
    buf_append_str(&msg, "Subject: s\n\nbody\n");
    header_block_init(&hb, 0, 10, 0);
    header_parse(&hb, msg.data, msg.len);
    CHECK_INT(hb.count, 10);
    CHECK_INT(hb.dropped, 51);
    /* Hops are counted even for fields that were not kept. */
    CHECK_INT(header_hop_count(&hb), 60);
    CHECK(header_hop_count(&hb) > HEADER_HOPCOUNT_LIMIT);
    CHECK(header_find(&hb, "Subject") == NULL);
    CHECK_STR(msg.data + hb.body_offset, "body\n");
    /* Continuations of dropped fields are not glued to kept ones. */
    CHECK_STR(hb.fields[9].value.data, "from hop9\tby x");
    header_block_free(&hb);

    /* The total limit drops fields too. */
    header_block_init(&hb, 0, 0, 200);
    header_parse(&hb, msg.data, msg.len);
    CHECK(hb.count < 10);
    CHECK(hb.dropped > 0);
    CHECK(hb.stored <= 200);
    CHECK_INT(header_hop_count(&hb), 60);
    header_block_free(&hb);

    /* Names count against the total limit too (found by fuzz_header). */
    buf_reset(&msg);
    for (int i = 0; i < 5; i++)
        buf_append_str(&msg, "X-A-Header-Name-Of-Sixty-Bytes-Which-Is-Longer-Than-The-Limit: "
                             "value\n");
    header_block_init(&hb, 10, 0, 100);
    header_parse(&hb, msg.data, msg.len);
    CHECK(hb.stored <= 100);
    CHECK_INT(hb.count + hb.dropped, 5);
    header_block_free(&hb);
    buf_free(&msg);
}

static void test_delivered_to_and_find_next(void)
{
    struct header_block hb;
    parse(&hb, "Delivered-To: other@example.com\n"
               "delivered-to:  User@Example.COM \n"
               "Subject: x\n\n");
    CHECK(header_has_delivered_to(&hb, "user@example.com"));
    CHECK(header_has_delivered_to(&hb, "other@example.com"));
    CHECK(!header_has_delivered_to(&hb, "nobody@example.com"));
    const struct header_field *f = header_find(&hb, "Delivered-To");
    CHECK(f == &hb.fields[0]);
    f = header_find_next(&hb, "Delivered-To", f);
    CHECK(f == &hb.fields[1]);
    CHECK(header_find_next(&hb, "Delivered-To", f) == NULL);
    CHECK_INT(header_count(&hb, "DELIVERED-TO"), 2);
    header_block_free(&hb);
}

static void test_binary_safety(void)
{
    struct header_block hb;
    const char msg[] = "X-Nul: a\0b\nSubject: s\n\n";
    header_block_init(&hb, 0, 0, 0);
    header_parse(&hb, msg, sizeof(msg) - 1);
    CHECK_INT(hb.count, 2);
    CHECK_INT(hb.fields[0].value.len, 3);
    /* A bare CR stays data; CRLF before LF is the line ending. */
    header_block_free(&hb);
    parse(&hb, "X-Cr: a\rb\r\n\r\n");
    CHECK_STR(hb.fields[0].value.data, "a\rb");
    header_block_free(&hb);
}

int main(void)
{
    UNIT_RUN(test_basic_fields);
    UNIT_RUN(test_lf_endings_and_no_body);
    UNIT_RUN(test_body_boundary_without_blank_line);
    UNIT_RUN(test_name_length);
    UNIT_RUN(test_incremental_lines);
    UNIT_RUN(test_size_limit_truncates);
    UNIT_RUN(test_count_limit_and_hops);
    UNIT_RUN(test_delivered_to_and_find_next);
    UNIT_RUN(test_binary_safety);
    return unit_summary();
}
