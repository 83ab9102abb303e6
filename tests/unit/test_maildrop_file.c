/* test_maildrop_file.c: unit tests for lib/queue/maildrop_file: the file
 * sendmail leaves in maildrop/ through postdrop, which pickup reads. */
#include "queue/maildrop_file.h"

#include "unit.h"

static int parse(const char *text, struct maildrop_msg *msg, struct buf *err)
{
    maildrop_msg_init(msg);
    buf_reset(err);
    return maildrop_parse(text, strlen(text), msg, err);
}

static void test_round_trip(void)
{
    struct strlist rcpts;
    strlist_init(&rcpts);
    strlist_add(&rcpts, "bob@example.com");
    strlist_add(&rcpts, "carol");
    struct buf data = BUF_INIT, err = BUF_INIT;
    CHECK_INT(maildrop_format_envelope(&data, "", &rcpts, &err), 0);
    buf_append_str(&data, "Subject: x\n\nbody\n");
    struct maildrop_msg msg;
    CHECK_INT(parse(data.data, &msg, &err), 0);
    CHECK_STR(buf_cstr(&msg.sender), "");
    CHECK_INT((int)msg.rcpts.count, 2);
    CHECK_STR(msg.rcpts.items[1], "carol");
    CHECK_INT((int)msg.content_len, 17);
    CHECK(memcmp(msg.content, "Subject: x\n", 11) == 0);
    maildrop_msg_free(&msg);
    strlist_free(&rcpts);
    buf_free(&data);
    buf_free(&err);
}

static void test_refusals(void)
{
    static const char *const bad[] = {
        "",
        "POSTDROP 2\nSa\nRb\nM\n",
        "POSTDROP 1\nSa\nM\n",         /* no recipient */
        "POSTDROP 1\nRb\nSa\nM\n",     /* recipient first */
        "POSTDROP 1\nSa\nSb\nRc\nM\n", /* two senders */
        "POSTDROP 1\nSa\nR\nM\n",      /* empty recipient */
        "POSTDROP 1\nSa\nRb\tc\nM\n",  /* control character */
        "POSTDROP 1\nSa\nRb\nXc\nM\n", /* unknown line */
        "POSTDROP 1\nSa\nRb\n",        /* no content marker */
        "POSTDROP 1\nSa\nRb\nMx\n",    /* bytes after M */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        struct maildrop_msg msg;
        struct buf err = BUF_INIT;
        CHECK_INT(parse(bad[i], &msg, &err), -1);
        CHECK(err.len > 0);
        maildrop_msg_free(&msg);
        buf_free(&err);
    }
}

static void test_long_line_refused(void)
{
    struct buf data = BUF_INIT, err = BUF_INIT;
    buf_append_str(&data, "POSTDROP 1\nSa\nR");
    for (int i = 0; i < 5000; i++)
        buf_append_char(&data, 'x');
    buf_append_str(&data, "\nM\n");
    struct maildrop_msg msg;
    CHECK_INT(parse(data.data, &msg, &err), -1);
    maildrop_msg_free(&msg);
    buf_free(&data);
    buf_free(&err);
}

static void test_names(void)
{
    CHECK(maildrop_file_name("pd-1234.000001.99.0"));
    CHECK(!maildrop_file_name("pd-"));
    CHECK(!maildrop_file_name(".pd-tmp.1.2"));
    CHECK(!maildrop_file_name("0TPO4ONKKUMz6IR8T"));
}

int main(void)
{
    UNIT_RUN(test_round_trip);
    UNIT_RUN(test_refusals);
    UNIT_RUN(test_long_line_refused);
    UNIT_RUN(test_names);
    return unit_summary();
}
