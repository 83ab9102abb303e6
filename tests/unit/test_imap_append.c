/* test_imap_append.c: unit tests for lib/imap/imap_append: flags,
 * date-time, literal and literal8, MULTIAPPEND, and malformed APPENDs. */
#include <string.h>

#include "imap/imap_append.h"
#include "imap_fixture.h"
#include "unit.h"

static int append(struct imap_reader *r, const char *line,
                  struct imap_append *out, const char **error)
{
    const struct imap_command *cmd = imap_fixture_read(r, line);
    if (cmd == NULL)
        return -2;
    return imap_append_parse(cmd->args, cmd->arg_count, out, error);
}

static void test_append(void)
{
    struct imap_reader r;
    struct imap_append a;
    const char *error = NULL;
    imap_reader_init(&r, NULL);
    imap_append_init(&a);

    CHECK(append(&r, "a APPEND INBOX {5+}\r\nhello", &a, &error) == 0);
    CHECK_INT(a.count, 1);
    CHECK(a.count == 1 && a.messages[0].len == 5 &&
          memcmp(a.messages[0].data, "hello", 5) == 0 &&
          !a.messages[0].has_date && !a.messages[0].binary);

    CHECK(append(&r,
                 "a APPEND Sent (\\Seen $Junk) \"17-Jul-1996 02:44:25 -0700\" "
                 "{2+}\r\nhi (\\Draft) ~{3+}\r\naxb \" 1-Jan-2000 00:00:00 +0000\" {1+}\r\nz",
                 &a, &error) == 0);
    CHECK_INT(a.count, 3);
    if (a.count == 3) {
        CHECK_INT(a.messages[0].flags.system, IMAP_FLAG_SEEN);
        CHECK_INT(a.messages[0].flags.keyword_count, 1);
        CHECK(a.messages[0].has_date);
        CHECK_INT(a.messages[0].date, 837596665);
        CHECK_INT(a.messages[0].zone_minutes, -420);
        CHECK_INT(a.messages[1].flags.system, IMAP_FLAG_DRAFT);
        CHECK(a.messages[1].binary);
        CHECK(!a.messages[1].has_date);
        CHECK(a.messages[2].has_date);
        CHECK_INT(a.messages[2].date, 946684800);
    }

    CHECK(append(&r, "a APPEND INBOX", &a, &error) == -1);
    CHECK_STR(error, "Missing APPEND arguments");
    CHECK(append(&r, "a APPEND INBOX (\\Seen)", &a, &error) == -1);
    CHECK_STR(error, "Missing message literal");
    CHECK(append(&r, "a APPEND INBOX \"hello\"", &a, &error) == -1);
    CHECK_STR(error, "Invalid date-time");
    CHECK(append(&r, "a APPEND INBOX hello", &a, &error) == -1);
    CHECK_STR(error, "Missing message literal");
    CHECK(append(&r, "a APPEND INBOX (\\Recent) {1+}\r\nx", &a, &error) == -1);
    CHECK_STR(error, "Invalid system flag");
    CHECK(append(&r, "a APPEND INBOX {1+}\r\nx (\\Seen)", &a, &error) == -1);
    CHECK(append(&r, "a APPEND INBOX \"17-Jul-1996 02:44:25 -0700\" (\\Seen) {1+}\r\nx",
                 &a, &error) == -1);
    CHECK(a.messages == NULL && a.count == 0);

    imap_append_free(&a);
    imap_reader_free(&r);
}

int main(void)
{
    UNIT_RUN(test_append);
    return unit_summary();
}
