/* test_imap_fetch.c: unit tests for lib/imap/imap_fetch: macros, every
 * simple item, body sections with parts, header lists and partials,
 * BINARY, CONDSTORE/QRESYNC modifiers, and malformed items. */
#include <string.h>

#include "base/buf.h"
#include "imap/imap_fetch.h"
#include "imap_fixture.h"
#include "unit.h"

/* Parses "a FETCH 1 <items>" and renders the result: one word per item
 * (type number, then [section] and <start.count> when present) plus
 * flags; "(error: text)" on failure. */
static const char *fetch(const char *items, unsigned flags, struct buf *out)
{
    static struct imap_reader r;
    static int ready;
    struct buf line = BUF_INIT;
    struct imap_fetch f;
    const char *error = NULL;
    if (!ready) {
        imap_reader_init(&r, NULL);
        ready = 1;
    }
    buf_reset(out);
    buf_appendf(&line, "a FETCH 1 %s", items);
    const struct imap_command *cmd = imap_fixture_read(&r, line.data);
    buf_free(&line);
    if (cmd == NULL)
        return "(reader error)";
    imap_fetch_init(&f);
    if (imap_fetch_parse(cmd->args + 1, cmd->arg_count - 1, flags, &f,
                         &error) != 0) {
        buf_appendf(out, "(error: %s)", error);
        return out->data;
    }
    for (size_t i = 0; i < f.count; i++) {
        const struct imap_fetch_item *it = &f.items[i];
        buf_appendf(out, "%s%d", i ? " " : "", it->type);
        if (it->peek)
            buf_append_str(out, "p");
        if (it->section)
            buf_appendf(out, "[%s]", it->section);
        if (it->has_partial)
            buf_appendf(out, "<%llu.%llu>",
                        (unsigned long long)it->partial_start,
                        (unsigned long long)it->partial_count);
    }
    if (f.sets_seen)
        buf_append_str(out, " seen");
    if (f.has_changedsince)
        buf_appendf(out, " changedsince=%llu",
                    (unsigned long long)f.changedsince);
    if (f.vanished)
        buf_append_str(out, " vanished");
    imap_fetch_free(&f);
    return out->data;
}

static void test_macros_and_simple(void)
{
    struct buf out = BUF_INIT;
    CHECK_STR(fetch("ALL", 0, &out), "0 1 2 3");
    CHECK_STR(fetch("fast", 0, &out), "0 1 2");
    CHECK_STR(fetch("FULL", 0, &out), "0 1 2 3 4");
    CHECK_STR(fetch("(FLAGS INTERNALDATE RFC822.SIZE ENVELOPE BODY "
                    "BODYSTRUCTURE UID MODSEQ RFC822 RFC822.HEADER RFC822.TEXT)",
                    0, &out),
              "0 1 2 3 4 5 6 7 8 9 10 seen");
    CHECK_STR(fetch("uid", 0, &out), "6");
    CHECK_STR(fetch("(ALL)", 0, &out), "(error: Invalid fetch item)");
    CHECK_STR(fetch("()", 0, &out), "(error: Missing fetch items)");
    CHECK_STR(fetch("FOO", 0, &out), "(error: Invalid fetch item)");
    CHECK_STR(fetch("\"FLAGS\"", 0, &out), "(error: Invalid fetch item)");
    buf_free(&out);
}

static void test_sections(void)
{
    struct buf out = BUF_INIT;
    CHECK_STR(fetch("BODY[]", 0, &out), "11[] seen");
    CHECK_STR(fetch("BODY.PEEK[]<0.1024>", 0, &out), "11p[]<0.1024>");
    CHECK_STR(fetch("body.peek[1.2.mime]", 0, &out), "11p[1.2.MIME]");
    CHECK_STR(fetch("BODY[3.TEXT]", 0, &out), "11[3.TEXT] seen");
    CHECK_STR(fetch("BODY[HEADER]", 0, &out), "11[HEADER] seen");
    CHECK_STR(fetch("(UID BODY.PEEK[HEADER.FIELDS (From To \"Message-ID\")])",
                    0, &out),
              "6 11p[HEADER.FIELDS (From To Message-ID)]");
    CHECK_STR(fetch("BODY.PEEK[1.HEADER.FIELDS.NOT (Received)]<10.20>", 0, &out),
              "11p[1.HEADER.FIELDS.NOT (Received)]<10.20>");
    CHECK_STR(fetch("BINARY[1.2]", 0, &out), "12[1.2] seen");
    CHECK_STR(fetch("BINARY.PEEK[]<5.5>", 0, &out), "12p[]<5.5>");
    CHECK_STR(fetch("BINARY.SIZE[1]", 0, &out), "13[1]");
    buf_free(&out);
}

static void test_bad_sections(void)
{
    struct buf out = BUF_INIT;
    const char *bad[] = {
        "BODY[",          "BODY[0]",          "BODY[1.]",
        "BODY[.1]",       "BODY[MIME]",       "BODY[FOO]",
        "BODY[1]x",       "BODY[]<>",         "BODY[]<1>",
        "BODY[]<1.0>",    "BODY[]<a.b>",      "BODY[]<1.2",
        "BODY[HEADER.FIELDS]", "BODY[HEADER.FIELDS ()]",
        "BODY[HEADER.FIELDS (a:b)]", "BODY[HEADER.FIELDS (From)",
        "BINARY[HEADER]", "BINARY.SIZE[1]<0.1>",
        "BODY[4294967296]", "(BODY[HEADER.FIELDS (From)]x)",
        "BODY[TEXT (From)]",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const char *got = fetch(bad[i], 0, &out);
        if (strncmp(got, "(error", 6) != 0) {
            printf("#   \"%s\" parsed as \"%s\"\n", bad[i], got);
            unit_case_failed = 1;
        }
    }
    /* The reader cannot tell "(From) ]" from "(From)]": both are taken. */
    CHECK_STR(fetch("BODY.PEEK[HEADER.FIELDS (From) ]", 0, &out),
              "11p[HEADER.FIELDS (From)]");
    /* Part numbers nested deeper than the bound. */
    struct buf deep = BUF_INIT;
    buf_append_str(&deep, "BODY[");
    for (int i = 0; i <= IMAP_SECTION_PARTS_MAX; i++)
        buf_append_str(&deep, i ? ".1" : "1");
    buf_append_str(&deep, "]");
    CHECK_STR(fetch(deep.data, 0, &out), "(error: Section part number too deep)");
    buf_free(&deep);
    buf_free(&out);
}

static void test_modifiers(void)
{
    struct buf out = BUF_INIT;
    CHECK_STR(fetch("(FLAGS) (CHANGEDSINCE 12345)", 0, &out),
              "0 7 changedsince=12345");
    CHECK_STR(fetch("(FLAGS MODSEQ) (CHANGEDSINCE 1 VANISHED)",
                    IMAP_FETCH_PARSE_UID, &out),
              "0 7 changedsince=1 vanished");
    CHECK_STR(fetch("(FLAGS) (CHANGEDSINCE 1 VANISHED)", 0, &out),
              "(error: VANISHED needs UID FETCH and CHANGEDSINCE)");
    CHECK_STR(fetch("(FLAGS) (VANISHED)", IMAP_FETCH_PARSE_UID, &out),
              "(error: VANISHED needs UID FETCH and CHANGEDSINCE)");
    CHECK_STR(fetch("(FLAGS) (CHANGEDSINCE 0)", 0, &out),
              "(error: Invalid fetch modifier)");
    CHECK_STR(fetch("(FLAGS) (CHANGEDSINCE)", 0, &out),
              "(error: Invalid fetch modifier)");
    CHECK_STR(fetch("(FLAGS) (FOO 1)", 0, &out),
              "(error: Invalid fetch modifier)");
    CHECK_STR(fetch("(FLAGS) (CHANGEDSINCE 1) x", 0, &out),
              "(error: Unexpected arguments after fetch items)");
    buf_free(&out);
}

int main(void)
{
    UNIT_RUN(test_macros_and_simple);
    UNIT_RUN(test_sections);
    UNIT_RUN(test_bad_sections);
    UNIT_RUN(test_modifiers);
    return unit_summary();
}
