/* test_imap_list.c: unit tests for lib/imap/imap_list: LIST/LSUB
 * arguments (basic, LIST-EXTENDED selection and return options, several
 * patterns, LIST-STATUS, the BADs Dovecot answers), the `*`/`%` matcher
 * with case-insensitive INBOX, and the response lines. */
#include "unit.h"

#include "imap/imap_list.h"
#include "imap_fixture.h"

static struct imap_reader reader;

/* Parses "LIST ..." or "LSUB ..." (without the tag); NULL on success,
 * else the error text. */
static const char *parse(const char *line, char sep, int utf8,
                         struct imap_list_args *out)
{
    char full[4096];
    snprintf(full, sizeof(full), "t %s", line);
    const struct imap_command *cmd = imap_fixture_read(&reader, full);
    if (!cmd)
        return "reader failed";
    const char *error = NULL;
    int lsub = strcmp(cmd->name, "LSUB") == 0;
    if (imap_list_args_parse(cmd->args, cmd->arg_count, lsub, sep, utf8, out,
                             &error) < 0)
        return error;
    return NULL;
}

static void test_basic(void)
{
    struct imap_list_args a;
    CHECK(parse("LIST \"\" *", '/', 0, &a) == NULL);
    CHECK(!a.extended && !a.lsub && !a.separator_request);
    CHECK_INT(a.pattern_count, 1);
    CHECK_STR(a.patterns[0], "*");
    imap_list_args_free(&a);

    CHECK(parse("LIST \"a/\" %", '/', 0, &a) == NULL);
    CHECK_STR(a.reference, "a/");
    CHECK_STR(a.patterns[0], "a/%");
    imap_list_args_free(&a);

    CHECK(parse("LIST \"a/b\" \"\"", '/', 0, &a) == NULL);
    CHECK(a.separator_request);
    imap_list_args_free(&a);

    CHECK(parse("LSUB \"\" inbox/%", '/', 0, &a) == NULL);
    CHECK(a.lsub);
    CHECK_STR(a.patterns[0], "INBOX/%");
    imap_list_args_free(&a);
    CHECK(parse("LIST \"\" inboxes", '/', 0, &a) == NULL);
    CHECK_STR(a.patterns[0], "inboxes");
    imap_list_args_free(&a);

    /* Modified UTF-7 is decoded; invalid text is kept as sent. */
    CHECK(parse("LIST \"\" &AMQ-*", '/', 0, &a) == NULL);
    CHECK_STR(a.patterns[0], "\xc3\x84*");
    imap_list_args_free(&a);
    CHECK(parse("LIST \"\" &Jjo", '/', 0, &a) == NULL);
    CHECK_STR(a.patterns[0], "&Jjo");
    imap_list_args_free(&a);
    CHECK(parse("LIST \"\" \"\xc3\x84*\"", '/', 1, &a) == NULL);
    CHECK_STR(a.patterns[0], "\xc3\x84*");
    imap_list_args_free(&a);

    CHECK_STR(parse("LIST \"\"", '/', 0, &a), "Missing arguments");
    CHECK_STR(parse("LIST \"\" * extra", '/', 0, &a), "Unexpected arguments");
    CHECK_STR(parse("LSUB \"\" (a b)", '/', 0, &a), "Invalid pattern");
    CHECK_STR(parse("LSUB \"\" * RETURN (CHILDREN)", '/', 0, &a),
              "Unexpected arguments");
}

static void test_extended(void)
{
    struct imap_list_args a;
    CHECK(parse("LIST (SUBSCRIBED RECURSIVEMATCH) \"\" % RETURN (CHILDREN)",
                '/', 0, &a) == NULL);
    CHECK(a.extended);
    CHECK_INT(a.select,
              IMAP_LIST_SELECT_SUBSCRIBED | IMAP_LIST_SELECT_RECURSIVEMATCH);
    CHECK_INT(a.ret, IMAP_LIST_RETURN_CHILDREN | IMAP_LIST_RETURN_SUBSCRIBED);
    imap_list_args_free(&a);

    CHECK(parse("LIST (special-use) \"\" *", '/', 0, &a) == NULL);
    CHECK_INT(a.select, IMAP_LIST_SELECT_SPECIAL_USE);
    CHECK_INT(a.ret, IMAP_LIST_RETURN_SPECIAL_USE);
    imap_list_args_free(&a);

    CHECK(parse("LIST () \"\" \"\"", '/', 0, &a) == NULL);
    CHECK(a.extended && !a.separator_request);
    imap_list_args_free(&a);

    CHECK(parse("LIST \"\" (INBOX Sent a/% \"a\") RETURN ()", '/', 0, &a) ==
          NULL);
    CHECK(a.extended);
    CHECK_INT(a.pattern_count, 4);
    CHECK_STR(a.patterns[2], "a/%");
    CHECK_INT(a.ret, 0);
    imap_list_args_free(&a);
    CHECK(parse("LIST \"\" ()", '/', 0, &a) == NULL);
    CHECK_INT(a.pattern_count, 0);
    imap_list_args_free(&a);

    CHECK(parse("LIST \"\" % RETURN (STATUS (MESSAGES UIDNEXT) SUBSCRIBED "
                "STATUS (UNSEEN highestmodseq) SPECIAL-USE)",
                '/', 0, &a) == NULL);
    CHECK_INT(a.ret, IMAP_LIST_RETURN_STATUS | IMAP_LIST_RETURN_SUBSCRIBED |
                         IMAP_LIST_RETURN_SPECIAL_USE);
    CHECK_INT(a.status_items, IMAP_STATUS_UNSEEN | IMAP_STATUS_HIGHESTMODSEQ);
    imap_list_args_free(&a);

    CHECK_STR(parse("LIST (REMOTE RECURSIVEMATCH) \"\" %", '/', 0, &a),
              "RECURSIVEMATCH must not be the only selection");
    CHECK_STR(parse("LIST (RECURSIVEMATCH) \"\" %", '/', 0, &a),
              "RECURSIVEMATCH must not be the only selection");
    CHECK_STR(parse("LIST (FOO) \"\" %", '/', 0, &a),
              "Unknown select options");
    CHECK_STR(parse("LIST \"\" % RETURN (FOO)", '/', 0, &a),
              "Unknown return options");
    CHECK_STR(parse("LIST \"\" % RETURN (STATUS ())", '/', 0, &a),
              "Empty status list");
    CHECK_STR(parse("LIST \"\" % RETURN (STATUS (FOO))", '/', 0, &a),
              "Invalid status item");
    CHECK_STR(parse("LIST \"\" % RETURN (STATUS)", '/', 0, &a),
              "STATUS needs its status items");
    CHECK_STR(parse("LIST \"\" % RETURN CHILDREN", '/', 0, &a),
              "RETURN needs a list of options");
    CHECK_STR(parse("LIST ((x)) \"\" %", '/', 0, &a),
              "Unknown select options");
}

static void test_limits(void)
{
    struct imap_list_args a;
    struct buf line = BUF_INIT;
    buf_append_str(&line, "LIST \"\" (");
    for (int i = 0; i < IMAP_LIST_PATTERNS_MAX + 1; i++)
        buf_appendf(&line, "%sp%d", i ? " " : "", i);
    buf_append_str(&line, ")");
    CHECK_STR(parse(line.data, '/', 0, &a), "Too many or too long patterns");
    buf_free(&line);
}

static void test_match(void)
{
    CHECK(imap_list_match("*", "INBOX", '/'));
    CHECK(imap_list_match("*", "a/b/c", '/'));
    CHECK(imap_list_match("%", "a", '/'));
    CHECK(!imap_list_match("%", "a/b", '/'));
    CHECK(imap_list_match("a/%", "a/b", '/'));
    CHECK(!imap_list_match("a/%", "a/b/c", '/'));
    CHECK(imap_list_match("a/*", "a/b/c", '/'));
    CHECK(!imap_list_match("a/*", "a", '/'));
    CHECK(imap_list_match("a*", "a", '/'));
    CHECK(imap_list_match("a*c", "a/b/c", '/'));
    CHECK(!imap_list_match("a%c", "a/b/c", '/'));
    CHECK(imap_list_match("%/%/c", "a/b/c", '/'));
    CHECK(imap_list_match("%.%", "a.b", '.'));
    CHECK(imap_list_match("%/%", "a.b/c", '/'));
    CHECK(!imap_list_match("", "a", '/'));
    CHECK(!imap_list_match("a", "", '/'));
    CHECK(imap_list_match("", "", '/'));
    CHECK(!imap_list_match("Sent", "sent", '/'));
    /* INBOX in any case, only as the first level. */
    CHECK(imap_list_match("inbox", "INBOX", '/'));
    CHECK(imap_list_match("InBoX/%", "INBOX/sub", '/'));
    CHECK(imap_list_match("inb*", "INBOX", '/'));
    CHECK(imap_list_match("inb%", "INBOX", '/'));
    CHECK(!imap_list_match("inbox", "INBOXES", '/'));
    CHECK(!imap_list_match("a/inbox", "a/INBOX", '/'));
    CHECK(imap_list_match("\xc3\x84*", "\xc3\x84rger", '/'));

    /* A pattern that would make a backtracking matcher take forever. */
    char pattern[2100], name[300];
    size_t p = 0;
    for (int i = 0; i < 1000; i++) {
        pattern[p++] = '*';
        pattern[p++] = 'a';
    }
    pattern[p++] = 'b';
    pattern[p] = '\0';
    memset(name, 'a', 299);
    name[299] = '\0';
    CHECK(!imap_list_match(pattern, name, '/'));
}

static void test_write(void)
{
    struct buf out = BUF_INIT;
    imap_list_write(&out, 0,
                    IMAP_LIST_ATTR_HASNOCHILDREN | IMAP_LIST_ATTR_SENT, '/',
                    "Sent", 0, 0);
    CHECK_STR(out.data, "* LIST (\\HasNoChildren \\Sent) \"/\" Sent\r\n");

    buf_reset(&out);
    imap_list_write(&out, 0,
                    IMAP_LIST_ATTR_HASCHILDREN | IMAP_LIST_ATTR_HASNOCHILDREN |
                        IMAP_LIST_ATTR_SUBSCRIBED | IMAP_LIST_ATTR_NONEXISTENT,
                    '/', "a", 0, 1);
    CHECK_STR(out.data, "* LIST (\\Subscribed \\NonExistent \\HasChildren) "
                        "\"/\" a (CHILDINFO (\"SUBSCRIBED\"))\r\n");

    buf_reset(&out);
    imap_list_write(&out, 1, 0, '.', "INBOX.sub", 0, 0);
    CHECK_STR(out.data, "* LSUB () \".\" INBOX.sub\r\n");

    buf_reset(&out);
    imap_list_write(&out, 0, IMAP_LIST_ATTR_NOSELECT, '/', "", 0, 0);
    CHECK_STR(out.data, "* LIST (\\Noselect) \"/\" \"\"\r\n");

    /* Names: modified UTF-7 or UTF-8, quoted when no atom. */
    buf_reset(&out);
    imap_list_write_mailbox(&out, "\xc3\x84rger", 0);
    buf_append_char(&out, ' ');
    imap_list_write_mailbox(&out, "\xc3\x84rger", 1);
    buf_append_char(&out, ' ');
    imap_list_write_mailbox(&out, "a%b", 0);
    buf_append_char(&out, ' ');
    imap_list_write_mailbox(&out, "t\"q", 0);
    buf_append_char(&out, ' ');
    imap_list_write_mailbox(&out, "sp ace", 0);
    buf_append_char(&out, ' ');
    imap_list_write_mailbox(&out, "NIL", 0);
    buf_append_char(&out, ' ');
    imap_list_write_mailbox(&out, "a&b", 0);
    CHECK_STR(out.data, "&AMQ-rger \"\xc3\x84rger\" \"a%b\" \"t\\\"q\" "
                        "\"sp ace\" \"NIL\" a&-b");
    buf_free(&out);
}

static void test_status_items(void)
{
    CHECK_STR(imap_status_item_name(IMAP_STATUS_UIDVALIDITY), "UIDVALIDITY");
    CHECK_STR(imap_status_item_name(IMAP_STATUS_APPENDLIMIT), "APPENDLIMIT");
    CHECK(imap_status_item_name(0) == NULL);
}

int main(void)
{
    UNIT_RUN(test_basic);
    UNIT_RUN(test_extended);
    UNIT_RUN(test_limits);
    UNIT_RUN(test_match);
    UNIT_RUN(test_write);
    UNIT_RUN(test_status_items);
    imap_reader_free(&reader);
    return unit_summary();
}
