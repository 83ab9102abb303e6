/* test_imap_search.c: unit tests for lib/imap/imap_search: every key of
 * RFC 3501/9051 and the extensions, nesting with NOT/OR/parentheses,
 * CHARSET, RETURN, and hostile criteria (deep nesting, too many keys,
 * bad sets, dates and strings). */
#include <string.h>

#include "base/buf.h"
#include "imap/imap_search.h"
#include "imap_fixture.h"
#include "unit.h"

static void render(const struct imap_search_key *key, struct buf *out);

static void render_children(const struct imap_search_key *key, struct buf *out)
{
    for (size_t i = 0; i < key->child_count; i++) {
        buf_append_char(out, ' ');
        render(&key->children[i], out);
    }
}

/* A compact rendering: op number, then its argument, children in (). */
static void render(const struct imap_search_key *key, struct buf *out)
{
    buf_appendf(out, "%d", key->op);
    if (key->field)
        buf_appendf(out, ":%.*s", (int)key->field_len, key->field);
    if (key->str)
        buf_appendf(out, "=%.*s", (int)key->len, key->str);
    if (key->op >= IMAP_SEARCH_BEFORE && key->op <= IMAP_SEARCH_SENTSINCE)
        buf_appendf(out, "@%04d%02d%02d", key->date.year, key->date.month,
                    key->date.day);
    if (key->op >= IMAP_SEARCH_LARGER && key->op <= IMAP_SEARCH_MODSEQ)
        buf_appendf(out, "#%llu", (unsigned long long)key->number);
    if (key->entry_flag)
        buf_appendf(out, "/%.*s/%d", (int)key->entry_flag_len,
                    key->entry_flag, key->entry_type);
    if (key->op == IMAP_SEARCH_UID || key->op == IMAP_SEARCH_SEQSET) {
        buf_append_char(out, '{');
        imap_seqset_format(&key->set, out);
        buf_append_char(out, '}');
    }
    if (key->child_count) {
        buf_append_char(out, '(');
        render_children(key, out);
        buf_append_str(out, " )");
    }
}

static const char *search(const char *criteria, unsigned flags,
                          struct buf *out, struct imap_search *s)
{
    static struct imap_reader r;
    static int ready;
    struct buf line = BUF_INIT;
    const char *error = NULL;
    if (!ready) {
        imap_reader_init(&r, NULL);
        ready = 1;
    }
    buf_reset(out);
    buf_appendf(&line, "a SEARCH %s", criteria);
    const struct imap_command *cmd = imap_fixture_read(&r, line.data);
    buf_free(&line);
    if (cmd == NULL)
        return "(reader error)";
    if (imap_search_parse(cmd->args, cmd->arg_count, flags, s, &error) != 0) {
        buf_appendf(out, "(%s: %s)", s->error_no ? "NO" : "BAD", error);
        return out->data;
    }
    render_children(&s->root, out);
    return out->data + 1;
}

#define SEARCH(criteria, expected)                                           \
    do {                                                                     \
        struct imap_search s_;                                               \
        imap_search_init(&s_);                                               \
        CHECK_STR(search(criteria, IMAP_SEARCH_PARSE_RETURN, &out, &s_),     \
                  expected);                                                 \
        imap_search_free(&s_);                                               \
    } while (0)

static void test_simple_keys(void)
{
    struct buf out = BUF_INIT;
    SEARCH("ALL", "0");
    SEARCH("answered deleted DRAFT FLAGGED NEW OLD RECENT SEEN",
           "1 2 3 4 5 6 7 8");
    SEARCH("UNANSWERED UNDELETED UNDRAFT UNFLAGGED UNSEEN", "9 10 11 12 13");
    SEARCH("KEYWORD $Junk UNKEYWORD NonJunk", "14=$Junk 15=NonJunk");
    SEARCH("BCC a BODY b CC c FROM \"d e\" SUBJECT {3+}\r\nf g TEXT h TO i",
           "16=a 17=b 18=c 19=d e 20=f g 21=h 22=i");
    SEARCH("HEADER Message-ID <x@y> HEADER X-Spam \"\"",
           "23:Message-ID=<x@y> 23:X-Spam=");
    SEARCH("BEFORE 1-Feb-1994 ON \"02-Mar-2000\" SINCE 3-apr-2001",
           "24@19940201 25@20000302 26@20010403");
    SEARCH("SENTBEFORE 1-Feb-1994 SENTON 1-Feb-1994 SENTSINCE 1-Feb-1994",
           "27@19940201 28@19940201 29@19940201");
    SEARCH("LARGER 100 SMALLER 0 OLDER 60 YOUNGER 3600",
           "30#100 31#0 32#60 33#3600");
    SEARCH("UID 1:*,7 1:3 $ UID $", "35{1:*,7} 36{1:3} 36{$} 35{$}");
    SEARCH("FROM \"caf\xc3\xa9\"", "19=caf\xc3\xa9");
    buf_free(&out);
}

static void test_modseq(void)
{
    struct buf out = BUF_INIT;
    struct imap_search s;
    imap_search_init(&s);
    CHECK_STR(search("MODSEQ 620162338", IMAP_SEARCH_PARSE_RETURN, &out, &s),
              "34#620162338");
    CHECK(s.uses_modseq);
    SEARCH("MODSEQ \"/flags/\\\\draft\" all 620162338",
           "34#620162338/\\draft/3");
    SEARCH("MODSEQ \"/flags/$Junk\" priv 5", "34#5/$Junk/1");
    SEARCH("MODSEQ \"/flags/\" all 5", "(BAD: Invalid MODSEQ entry name)");
    SEARCH("MODSEQ \"/flags/\\\\Seen\" mine 5", "(BAD: Invalid MODSEQ entry type)");
    SEARCH("MODSEQ x", "(BAD: Invalid MODSEQ value)");
    imap_search_free(&s);
    buf_free(&out);
}

static void test_nesting(void)
{
    struct buf out = BUF_INIT;
    SEARCH("NOT SEEN", "37( 8 )");
    SEARCH("OR SEEN FLAGGED", "38( 8 4 )");
    SEARCH("OR (SEEN FROM x) NOT (DELETED)", "38( 39( 8 19=x ) 37( 39( 2 ) ) )");
    SEARCH("OR OR SEEN DRAFT NOT 1:5", "38( 38( 8 3 ) 37( 36{1:5} ) )");
    SEARCH("()", "(BAD: Empty parenthesized search key)");
    SEARCH("OR SEEN", "(BAD: Missing search key)");
    SEARCH("NOT", "(BAD: Missing search key)");
    buf_free(&out);
}

static void test_charset_and_return(void)
{
    struct buf out = BUF_INIT;
    struct imap_search s;
    imap_search_init(&s);
    SEARCH("CHARSET UTF-8 TEXT x", "21=x");
    SEARCH("CHARSET us-ascii ALL", "0");
    SEARCH("CHARSET ISO-8859-1 TEXT x",
           "(NO: [BADCHARSET (US-ASCII UTF-8)] Unsupported charset)");
    SEARCH("CHARSET", "(BAD: Missing charset)");
    SEARCH("CHARSET UTF-8", "(BAD: Missing search criteria)");
    CHECK_STR(search("RETURN (MIN MAX COUNT SAVE) CHARSET UTF-8 ALL",
                     IMAP_SEARCH_PARSE_RETURN, &out, &s),
              "0");
    CHECK(s.has_return);
    CHECK_INT(s.return_opts, IMAP_SEARCH_RETURN_MIN | IMAP_SEARCH_RETURN_MAX |
                                 IMAP_SEARCH_RETURN_COUNT |
                                 IMAP_SEARCH_RETURN_SAVE);
    CHECK_STR(search("RETURN () ALL", IMAP_SEARCH_PARSE_RETURN, &out, &s), "0");
    CHECK_INT(s.return_opts, IMAP_SEARCH_RETURN_ALL);
    CHECK_STR(search("RETURN (ALL) ALL", 0, &out, &s),
              "(BAD: Invalid RETURN options)");
    SEARCH("RETURN (FOO) ALL", "(BAD: Unknown RETURN option)");
    SEARCH("RETURN MIN ALL", "(BAD: Invalid RETURN options)");
    imap_search_free(&s);
    buf_free(&out);
}

static void test_bad_criteria(void)
{
    struct buf out = BUF_INIT;
    SEARCH("", "(BAD: Missing search criteria)");
    SEARCH("FOO", "(BAD: Unknown search key)");
    SEARCH("\"ALL\"", "(BAD: Invalid search key)");
    SEARCH("0", "(BAD: Invalid sequence set: 0 is not a message number)");
    SEARCH("1:0", "(BAD: Invalid sequence set: 0 is not a message number)");
    SEARCH("1,,2", "(BAD: Invalid sequence set)");
    SEARCH("UID 1:x", "(BAD: Invalid sequence set)");
    SEARCH("1:x", "(BAD: Unknown search key)");
    SEARCH("UID FOO", "(BAD: Invalid sequence set)");
    SEARCH("UID (1)", "(BAD: Invalid sequence set)");
    SEARCH("BEFORE 31-Feb-2000", "(BAD: Invalid search date)");
    SEARCH("BEFORE {10+}\r\n1-Feb-1994", "(BAD: Invalid search date)");
    SEARCH("LARGER -1", "(BAD: Invalid search number)");
    SEARCH("LARGER 99999999999999999999", "(BAD: Invalid search number)");
    SEARCH("OLDER 0", "(BAD: Invalid search number)");
    SEARCH("KEYWORD \\Seen", "(BAD: Invalid keyword)");
    SEARCH("HEADER \"a b\" x", "(BAD: Invalid header field name)");
    SEARCH("HEADER Subject", "(BAD: Missing search key argument)");
    SEARCH("FROM {1+}\r\n\xff", "(BAD: Invalid UTF-8 in search string)");
    SEARCH("FROM (x)", "(BAD: Invalid search string)");
    SEARCH("SUBJECT", "(BAD: Missing search key argument)");
    buf_free(&out);
}

/* NOT NOT NOT ... deeper than the bound is refused, not recursed into. */
static void test_hostile_depth_and_count(void)
{
    struct buf out = BUF_INIT, criteria = BUF_INIT;
    for (int i = 0; i < 15000; i++) /* within line_max */
        buf_append_str(&criteria, "NOT ");
    buf_append_str(&criteria, "ALL");
    SEARCH(criteria.data, "(BAD: Search criteria nested too deeply)");
    buf_reset(&criteria);
    for (int i = 0; i < IMAP_SEARCH_DEPTH_MAX - 1; i++)
        buf_append_str(&criteria, "NOT ");
    buf_append_str(&criteria, "ALL");
    {
        struct imap_search s;
        imap_search_init(&s);
        CHECK(strncmp(search(criteria.data, 0, &out, &s), "37( 37(", 7) == 0);
        imap_search_free(&s);
    }
    buf_reset(&criteria);
    for (int i = 0; i < 2000; i++)
        buf_append_str(&criteria, "OR ");
    buf_append_str(&criteria, "ALL");
    SEARCH(criteria.data, "(BAD: Search criteria nested too deeply)");
    buf_reset(&criteria);
    for (int i = 0; i <= IMAP_SEARCH_KEYS_MAX; i++)
        buf_append_str(&criteria, "SEEN ");
    buf_append_str(&criteria, "ALL");
    SEARCH(criteria.data, "(BAD: Too many search keys)");
    buf_free(&criteria);
    buf_free(&out);
}

int main(void)
{
    UNIT_RUN(test_simple_keys);
    UNIT_RUN(test_modseq);
    UNIT_RUN(test_nesting);
    UNIT_RUN(test_charset_and_return);
    UNIT_RUN(test_bad_criteria);
    UNIT_RUN(test_hostile_depth_and_count);
    return unit_summary();
}
