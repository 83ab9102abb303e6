/* test_imap_flags.c: unit tests for lib/imap/imap_flags: system flags
 * and keywords, what may not be stored (\Recent, unknown \words, bad
 * atoms, too-long keywords), and STORE's arguments with .SILENT and
 * UNCHANGEDSINCE. */
#include <string.h>

#include "imap/imap_flags.h"
#include "imap_fixture.h"
#include "unit.h"

static void test_classify(void)
{
    unsigned bit;
    CHECK_INT(imap_flag_classify("\\Seen", 5, 0, &bit), 1);
    CHECK_INT(bit, IMAP_FLAG_SEEN);
    CHECK_INT(imap_flag_classify("\\DELETED", 8, 0, &bit), 1);
    CHECK_INT(bit, IMAP_FLAG_DELETED);
    CHECK_INT(imap_flag_classify("\\Recent", 7, 0, &bit), -1);
    CHECK_INT(imap_flag_classify("\\Recent", 7, 1, &bit), 1);
    CHECK_INT(imap_flag_classify("\\Foo", 4, 0, &bit), -1);
    CHECK_INT(imap_flag_classify("$Junk", 5, 0, &bit), 0);
    CHECK_INT(imap_flag_classify("a]b", 3, 0, &bit), -1);
    CHECK_INT(imap_flag_classify("a*", 2, 0, &bit), -1);
    CHECK_INT(imap_flag_classify("", 0, 0, &bit), -1);
    char longest[IMAP_KEYWORD_MAX + 1];
    memset(longest, 'k', sizeof(longest));
    CHECK_INT(imap_flag_classify(longest, IMAP_KEYWORD_MAX, 0, &bit), 0);
    CHECK_INT(imap_flag_classify(longest, IMAP_KEYWORD_MAX + 1, 0, &bit), -1);
    CHECK_STR(imap_flag_name(IMAP_FLAG_DRAFT), "\\Draft");
}

static int store(struct imap_reader *r, const char *line,
                 struct imap_store *out, const char **error)
{
    const struct imap_command *cmd = imap_fixture_read(r, line);
    if (cmd == NULL || cmd->arg_count < 1)
        return -2;
    return imap_store_parse(cmd->args + 1, cmd->arg_count - 1, out, error);
}

static void test_store(void)
{
    struct imap_reader r;
    struct imap_store s;
    const char *error = NULL;
    imap_reader_init(&r, NULL);
    imap_store_init(&s);

    CHECK(store(&r, "a STORE 1:* +FLAGS.SILENT (\\Seen $Junk \\seen $junk)",
                &s, &error) == 0);
    CHECK_INT(s.op, IMAP_STORE_ADD);
    CHECK(s.silent);
    CHECK_INT(s.flags.system, IMAP_FLAG_SEEN);
    CHECK_INT(s.flags.keyword_count, 1);
    CHECK(s.flags.keyword_count == 1 &&
          strncmp(s.flags.keywords[0].name, "$Junk", 5) == 0);
    CHECK(!s.has_unchangedsince);

    CHECK(store(&r, "a STORE 2 -flags \\Deleted \\Draft", &s, &error) == 0);
    CHECK_INT(s.op, IMAP_STORE_REMOVE);
    CHECK(!s.silent);
    CHECK_INT(s.flags.system, IMAP_FLAG_DELETED | IMAP_FLAG_DRAFT);

    CHECK(store(&r, "a STORE 3 FLAGS ()", &s, &error) == 0);
    CHECK_INT(s.op, IMAP_STORE_REPLACE);
    CHECK_INT(s.flags.system, 0);
    CHECK_INT(s.flags.keyword_count, 0);

    CHECK(store(&r, "a STORE 1 (UNCHANGEDSINCE 12345) +FLAGS (\\Flagged)", &s,
                &error) == 0);
    CHECK(s.has_unchangedsince);
    CHECK_INT(s.unchangedsince, 12345);
    CHECK(store(&r, "a STORE 1 (UNCHANGEDSINCE 0) FLAGS ()", &s, &error) == 0);
    CHECK_INT(s.unchangedsince, 0);

    CHECK(store(&r, "a STORE 1 +FLAGS (\\Recent)", &s, &error) == -1);
    CHECK_STR(error, "Invalid system flag");
    CHECK(store(&r, "a STORE 1 +FLAGS (\\Foo)", &s, &error) == -1);
    CHECK(store(&r, "a STORE 1 +FLAGS (a*b)", &s, &error) == -1);
    CHECK_STR(error, "Invalid keyword");
    CHECK(store(&r, "a STORE 1 +FLAGS (\"x\")", &s, &error) == -1);
    CHECK(store(&r, "a STORE 1 FLAGZ (\\Seen)", &s, &error) == -1);
    CHECK_STR(error, "Invalid STORE data item");
    CHECK(store(&r, "a STORE 1 +FLAGS", &s, &error) == -1);
    CHECK_STR(error, "Missing flags");
    CHECK(store(&r, "a STORE 1 +FLAGS (\\Seen) x", &s, &error) == -1);
    CHECK(store(&r, "a STORE 1 (UNCHANGEDSINCE) +FLAGS (\\Seen)", &s, &error) == -1);
    CHECK(store(&r, "a STORE 1 (UNCHANGEDSINCE -1) +FLAGS (\\Seen)", &s, &error) == -1);
    CHECK(store(&r, "a STORE 1 (UNCHANGEDSINCE 1 UNCHANGEDSINCE 2) FLAGS ()", &s,
                &error) == -1);
    CHECK(store(&r, "a STORE 1 (FOO 1) FLAGS ()", &s, &error) == -1);
    CHECK(s.flags.keywords == NULL);

    /* More keywords than a command may carry. */
    struct buf line = BUF_INIT;
    buf_append_str(&line, "a STORE 1 +FLAGS (");
    for (int i = 0; i <= IMAP_KEYWORDS_PER_COMMAND_MAX; i++)
        buf_appendf(&line, "%sk%d", i ? " " : "", i);
    buf_append_char(&line, ')');
    CHECK(store(&r, line.data, &s, &error) == -1);
    CHECK_STR(error, "Too many keywords");
    buf_free(&line);

    imap_store_free(&s);
    imap_reader_free(&r);
}

static void test_flag_list(void)
{
    struct imap_reader r;
    struct imap_flag_list flags;
    const char *error;
    imap_reader_init(&r, NULL);
    imap_flag_list_init(&flags);
    const struct imap_command *cmd =
        imap_fixture_read(&r, "a APPEND INBOX (\\Seen \\Answered NonJunk) {1+}\r\nx");
    CHECK(cmd != NULL);
    if (cmd) {
        CHECK(imap_flag_list_parse(&cmd->args[1], 0, &flags, &error) == 0);
        CHECK_INT(flags.system, IMAP_FLAG_SEEN | IMAP_FLAG_ANSWERED);
        CHECK_INT(flags.keyword_count, 1);
        CHECK(imap_flag_list_parse(&cmd->args[0], 0, &flags, &error) == -1);
    }
    imap_flag_list_free(&flags);
    imap_reader_free(&r);
}

int main(void)
{
    UNIT_RUN(test_classify);
    UNIT_RUN(test_store);
    UNIT_RUN(test_flag_list);
    return unit_summary();
}
