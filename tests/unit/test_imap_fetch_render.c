/* test_imap_fetch_render.c: FETCH responses (lib/imap/imap_fetch_render)
 * against Dovecot 2.3's own answers for the messages in
 * tests/unit/data/imap (recorded by gen_dovecot_fetch.py there), the
 * same answers whether a file holds LF or CRLF line ends (over the
 * conformance corpus too), partials as slices of the whole, cached items
 * that never open the file, \Seen, and the BINARY errors. */
#include "unit.h"

#include <stdint.h>

#include "imap/imap_fetch.h"
#include "imap/imap_fetch_render.h"
#include "imap_fixture.h"
#include "imap_message_fixture.h"
#include "json_fixture.h"

/* Differences from Dovecot's answers kept on purpose (docs/imap-fetch-
 * search.md): Dovecot 2.3.19 computes BINARY.SIZE over the whole message
 * and fails it when any part is in an unknown or broken encoding; we
 * answer for the part asked. A listed case that matches fails. */
static const struct {
    const char *file, *items;
} exceptions[] = {
    {"multipart.eml", "BINARY.SIZE[1]"},
    {"multipart.eml", "BINARY.SIZE[2]"},
    {"encodings.eml", "BINARY.SIZE[1]"},
    {"encodings.eml", "BINARY.SIZE[4]"},
    {"encodings.eml", "BINARY.SIZE[6]"},
    {NULL, NULL},
};

static struct imap_reader reader;

/* Parses FETCH items; 0 or -1. */
static int parse_items(const char *items, unsigned parse_flags,
                       struct imap_fetch *fetch)
{
    struct buf line = BUF_INIT;
    const char *error = NULL;
    const struct imap_command *cmd;
    buf_appendf(&line, "a FETCH 1 (%s)", items);
    cmd = imap_fixture_read(&reader, line.data);
    buf_free(&line);
    imap_fetch_init(fetch);
    if (cmd == NULL ||
        imap_fetch_parse(cmd->args + 1, cmd->arg_count - 1, parse_flags,
                         fetch, &error) != 0) {
        printf("#   cannot parse %s: %s\n", items, error ? error : "reader");
        return -1;
    }
    return 0;
}

/* Renders items for the view; the response, or "NO <text>" on error. */
static enum imap_render_result render(struct imap_message *view,
                                      const char *items, unsigned flags,
                                      struct buf *out)
{
    struct imap_fetch fetch;
    enum imap_render_result res;
    buf_reset(out);
    if (parse_items(items, 0, &fetch) < 0) {
        buf_set_str(out, "(parse error)");
        return IMAP_RENDER_UNREADABLE;
    }
    res = imap_fetch_render(out, view, &fetch, flags);
    if (res != IMAP_RENDER_OK)
        buf_appendf(out, "NO %s", imap_render_error_text(res));
    imap_fetch_free(&fetch);
    return res;
}

static int is_exception(const char *file, const char *items)
{
    for (size_t i = 0; exceptions[i].file; i++)
        if (strcmp(exceptions[i].file, file) == 0 &&
            strcmp(exceptions[i].items, items) == 0)
            return 1;
    return 0;
}

static void show(const char *label, const struct buf *b)
{
    printf("#     %s: ", label);
    for (size_t i = 0; i < b->len && i < 400; i++) {
        unsigned char c = (unsigned char)b->data[i];
        if (c == '\r')
            printf("\\r");
        else if (c == '\n')
            printf("\\n");
        else if (c < 32 || c >= 127)
            printf("\\x%02x", c);
        else
            putchar(c);
    }
    printf("\n");
}

static void dovecot_answers(void)
{
    char path[4096];
    FILE *fp;
    char *line = NULL;
    size_t cap = 0, cases = 0, excepted = 0;
    struct buf file = BUF_INIT, items = BUF_INIT, want = BUF_INIT,
               got = BUF_INIT, data = BUF_INIT, crlf = BUF_INIT,
               got_crlf = BUF_INIT;

    snprintf(path, sizeof(path), "%s/dovecot-fetch.jsonl", IMAP_TEST_DATA);
    fp = fopen(path, "r");
    CHECK(fp != NULL);
    if (fp == NULL)
        return;
    while (getline(&line, &cap, fp) > 0) {
        struct test_message msg, msg_crlf;
        int same, listed;
        CHECK(json_get(line, "file", &file) == 0);
        CHECK(json_get(line, "items", &items) == 0);
        if (json_get_value(line, "response", &want, 1) < 0) {
            json_get(line, "error", &want);
        }
        if (test_message_file(file.data, &data) < 0) {
            CHECK(0);
            continue;
        }
        cases++;
        test_message_init(&msg, data.data, data.len);
        render(&msg.view, items.data, 0, &got);
        same = got.len == want.len && memcmp(got.data, want.data, got.len) == 0;
        listed = is_exception(file.data, items.data);
        if (same == listed) {
            printf("#   %s %s: %s\n", file.data, items.data,
                   listed ? "matches but is listed as an exception"
                          : "differs from Dovecot");
            show("ours", &got);
            show("dovecot", &want);
            unit_case_failed = 1;
        }
        if (listed)
            excepted++;
        /* the same file with CRLF line ends answers the same */
        test_to_crlf(data.data, data.len, &crlf);
        test_message_init(&msg_crlf, crlf.data, crlf.len);
        render(&msg_crlf.view, items.data, 0, &got_crlf);
        if (got_crlf.len != got.len ||
            memcmp(got_crlf.data, got.data, got.len) != 0) {
            printf("#   %s %s: CRLF copy answers differently\n", file.data,
                   items.data);
            show("LF", &got);
            show("CRLF", &got_crlf);
            unit_case_failed = 1;
        }
        test_message_free(&msg);
        test_message_free(&msg_crlf);
    }
    printf("#   %zu FETCH answers compared with Dovecot's, %zu listed "
           "differences\n", cases, excepted);
    CHECK(cases > 300);
    free(line);
    fclose(fp);
    buf_free(&file);
    buf_free(&items);
    buf_free(&want);
    buf_free(&got);
    buf_free(&data);
    buf_free(&crlf);
    buf_free(&got_crlf);
}


/* Every message of the conformance corpus answers the same with LF and
 * with CRLF line ends, and BODY[]'s literal is RFC822.SIZE long. */
static void corpus_lf_crlf(void)
{
    char path[4096];
    FILE *fp;
    char *line = NULL;
    size_t cap = 0, messages = 0, unknown_cte = 0;
    struct buf file = BUF_INIT, data = BUF_INIT, crlf = BUF_INIT,
               a = BUF_INIT, b = BUF_INIT;
    static const char items[] =
        "RFC822.SIZE BODY.PEEK[] BODY.PEEK[1] BODY.PEEK[TEXT]<7.100> "
        "BODY.PEEK[1.MIME] BODY.PEEK[2]<0.64> BINARY.PEEK[1] BODYSTRUCTURE "
        "BODY.PEEK[HEADER.FIELDS (From To Subject Content-Type)]";

    snprintf(path, sizeof(path), "%s/mime/dovecot-2.3.19-reference.jsonl",
             conformance_dir());
    fp = fopen(path, "r");
    if (fp == NULL)
        SKIP("../shared/conformance/mime is not present beside the source "
             "tree (set POSTERN_CONFORMANCE_DIR)");
    while (getline(&line, &cap, fp) > 0) {
        struct test_message m1, m2;
        char msgpath[4096];
        uint64_t size;
        const char *lit;
        if (json_get(line, "file", &file) < 0)
            continue;
        snprintf(msgpath, sizeof(msgpath), "%s/mime/%s", conformance_dir(),
                 file.data);
        if (test_message_file(msgpath, &data) < 0)
            continue;
        messages++;
        test_to_crlf(data.data, data.len, &crlf);
        test_message_init(&m1, data.data, data.len);
        test_message_init(&m2, crlf.data, crlf.len);
        render(&m1.view, items, 0, &a);
        render(&m2.view, items, 0, &b);
        if (a.len != b.len || memcmp(a.data, b.data, a.len) != 0) {
            printf("#   %s: LF and CRLF copies answer differently\n",
                   file.data);
            unit_case_failed = 1;
        }
        /* "RFC822.SIZE n BODY[] {n}" */
        if (strncmp(a.data, "NO [UNKNOWN-CTE]", 16) == 0) {
            /* x-gzip64 and the like: the error, and no output */
            unknown_cte++;
            test_message_free(&m1);
            test_message_free(&m2);
            continue;
        }
        if (sscanf(a.data, "* 1 FETCH (RFC822.SIZE %llu",
                   (unsigned long long *)&size) != 1) {
            printf("#   %s: %s\n", file.data, a.data);
            unit_case_failed = 1;
        }
        lit = strstr(a.data, "BODY[] {");
        CHECK(lit != NULL && strtoull(lit + 8, NULL, 10) == size);
        CHECK(size == crlf.len);
        test_message_free(&m1);
        test_message_free(&m2);
    }
    printf("#   %zu corpus messages, %zu with a part in an unknown "
           "encoding\n", messages, unknown_cte);
    CHECK(messages > 100);
    free(line);
    fclose(fp);
    buf_free(&file);
    buf_free(&data);
    buf_free(&crlf);
    buf_free(&a);
    buf_free(&b);
}

/* BODY[]<start.count> is the slice of BODY[] for every start and a few
 * counts, across line ends converted from LF. */
static void partial_slices(void)
{
    struct buf data = BUF_INIT, whole = BUF_INIT, got = BUF_INIT,
               items = BUF_INIT;
    struct test_message m;
    static const unsigned counts[] = {1, 2, 3, 7, 100000};
    CHECK(test_message_file("multipart.eml", &data) == 0);
    test_to_crlf(data.data, data.len, &whole);
    test_message_init(&m, data.data, data.len);
    for (size_t start = 0; start <= whole.len + 2; start++)
        for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
            size_t want = start < whole.len ? whole.len - start : 0;
            char head[64];
            const char *body;
            if (want > counts[i])
                want = counts[i];
            buf_reset(&items);
            buf_appendf(&items, "BODY.PEEK[]<%zu.%u>", start, counts[i]);
            render(&m.view, items.data, 0, &got);
            snprintf(head, sizeof(head), "* 1 FETCH (BODY[]<%zu> {%zu}\r\n",
                     start, want);
            body = got.data + strlen(head);
            if (strncmp(got.data, head, strlen(head)) != 0 ||
                got.len != strlen(head) + want + 3 ||
                memcmp(body, whole.data + (start < whole.len ? start : 0),
                       want) != 0) {
                printf("#   %s wrong\n", items.data);
                unit_case_failed = 1;
                start = whole.len + 3;
                break;
            }
        }
    CHECK(m.reads == 1);
    test_message_free(&m);
    buf_free(&data);
    buf_free(&whole);
    buf_free(&got);
    buf_free(&items);
}

/* With ENVELOPE, BODYSTRUCTURE and the size cached, these items never
 * open the message. */
static void cached_items_do_not_read(void)
{
    struct test_message m;
    struct buf out = BUF_INIT;
    static const char *const keywords[] = {"$Forwarded", "NonJunk"};
    test_message_init(&m, "From: a@b\n\nx\n", 13);
    m.view.seq = 7;
    m.view.uid = 42;
    m.view.flags = IMAP_FLAG_SEEN | IMAP_FLAG_ANSWERED | IMAP_FLAG_RECENT;
    m.view.keywords = keywords;
    m.view.keyword_count = 2;
    m.view.modseq = 12345;
    m.view.internal_date = 1700000000;
    m.view.internal_zone = 60;
    m.view.rfc822_size = 15;
    m.view.envelope = "NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL";
    m.view.envelope_len = strlen(m.view.envelope);
    m.view.bodystructure = "\"text\" \"plain\" NIL NIL NIL \"7bit\" 2 1 NIL NIL NIL NIL";
    m.view.bodystructure_len = strlen(m.view.bodystructure);
    m.view.body = "\"text\" \"plain\" NIL NIL NIL \"7bit\" 2 1";
    m.view.body_len = strlen(m.view.body);
    CHECK_INT(render(&m.view,
                     "ENVELOPE FLAGS BODYSTRUCTURE RFC822.SIZE BODY UID "
                     "INTERNALDATE MODSEQ FLAGS",
                     IMAP_RENDER_UID, &out),
              IMAP_RENDER_OK);
    CHECK_STR(out.data,
              "* 7 FETCH (UID 42 FLAGS (\\Answered \\Seen \\Recent $Forwarded "
              "NonJunk) RFC822.SIZE 15 INTERNALDATE \"14-Nov-2023 23:13:20 "
              "+0100\" MODSEQ (12345) ENVELOPE (NIL NIL NIL NIL NIL NIL NIL "
              "NIL NIL NIL) BODYSTRUCTURE (\"text\" \"plain\" NIL NIL NIL "
              "\"7bit\" 2 1 NIL NIL NIL NIL) BODY (\"text\" \"plain\" NIL NIL "
              "NIL \"7bit\" 2 1))\r\n");
    CHECK_INT(m.reads, 0);
    /* without the cache the message is read once for all of them */
    m.view.envelope = m.view.body = m.view.bodystructure = NULL;
    m.view.rfc822_size = IMAP_MESSAGE_SIZE_UNKNOWN;
    CHECK_INT(render(&m.view, "ENVELOPE BODY RFC822.SIZE BODY.PEEK[]", 0,
                     &out),
              IMAP_RENDER_OK);
    CHECK_INT(m.reads, 1);
    CHECK(strstr(out.data, "RFC822.SIZE 16 ") != NULL);
    test_message_free(&m);
    buf_free(&out);
}

/* \Seen: reported for a non-PEEK body fetch of an unseen message in a
 * read-write mailbox; FLAGS comes first when imapd says it changed. */
static void seen_is_reported(void)
{
    struct test_message m;
    struct imap_fetch f;
    struct buf out = BUF_INIT;
    test_message_init(&m, "Subject: x\n\nbody\n", 17);
    CHECK(parse_items("BODY[TEXT] UID", 0, &f) == 0);
    CHECK(imap_fetch_render_sets_seen(&f, &m.view, 0));
    CHECK(!imap_fetch_render_sets_seen(&f, &m.view, IMAP_RENDER_READ_ONLY));
    m.view.flags = IMAP_FLAG_SEEN;
    CHECK(!imap_fetch_render_sets_seen(&f, &m.view, 0));
    CHECK_INT(imap_fetch_render(&out, &m.view, &f, IMAP_RENDER_SEND_FLAGS),
              IMAP_RENDER_OK);
    CHECK_STR(out.data,
              "* 1 FETCH (FLAGS (\\Seen) UID 1 BODY[TEXT] {6}\r\nbody\r\n)\r\n");
    imap_fetch_free(&f);
    m.view.flags = 0;
    CHECK(parse_items("BODY.PEEK[TEXT] RFC822.HEADER BINARY.PEEK[1]", 0,
                      &f) == 0);
    CHECK(!imap_fetch_render_sets_seen(&f, &m.view, 0));
    imap_fetch_free(&f);
    CHECK(parse_items("RFC822.TEXT", 0, &f) == 0);
    CHECK(imap_fetch_render_sets_seen(&f, &m.view, 0));
    imap_fetch_free(&f);
    test_message_free(&m);
    buf_free(&out);
}

static int failing_read(void *context, struct imap_message *msg,
                        const char **data, size_t *len)
{
    (void)context;
    (void)msg;
    (void)data;
    (void)len;
    return -1;
}

/* Errors leave the output as it was and say which NO to send. */
static void errors_leave_no_output(void)
{
    struct test_message m;
    struct buf data = BUF_INIT, out = BUF_INIT;
    struct imap_fetch f;
    CHECK(test_message_file("multipart.eml", &data) == 0);
    test_message_init(&m, data.data, data.len);
    CHECK(parse_items("UID BINARY.PEEK[4]", 0, &f) == 0);
    buf_set_str(&out, "before");
    CHECK_INT(imap_fetch_render(&out, &m.view, &f, 0),
              IMAP_RENDER_UNKNOWN_CTE);
    CHECK_STR(out.data, "before");
    CHECK_STR(imap_render_error_text(IMAP_RENDER_UNKNOWN_CTE),
              "[UNKNOWN-CTE] Unknown Content-Transfer-Encoding");
    imap_fetch_free(&f);
    test_message_free(&m);

    test_message_init(&m, data.data, data.len);
    m.view.read = failing_read;
    CHECK(parse_items("FLAGS BODY.PEEK[1]", 0, &f) == 0);
    CHECK_INT(imap_fetch_render(&out, &m.view, &f, 0),
              IMAP_RENDER_UNREADABLE);
    CHECK_STR(out.data, "before");
    imap_fetch_free(&f);
    CHECK(parse_items("FLAGS UID", 0, &f) == 0);
    CHECK_INT(imap_fetch_render(&out, &m.view, &f, 0), IMAP_RENDER_OK);
    imap_fetch_free(&f);
    test_message_free(&m);
    buf_free(&data);
    buf_free(&out);
}

/* The LF-to-CRLF copy and its size, byte by byte. */
static void crlf_conversion(void)
{
    struct buf out = BUF_INIT;
    static const char text[] = "a\nb\r\n\nc\rd\n";
    static const char want[] = "a\r\nb\r\n\r\nc\rd\r\n";
    size_t tlen = sizeof(text) - 1, wlen = sizeof(want) - 1;
    CHECK_INT(imap_crlf_size(text, tlen), wlen);
    for (size_t skip = 0; skip <= wlen + 1; skip++)
        for (size_t count = 0; count <= wlen + 1; count++) {
            size_t expect = skip < wlen ? wlen - skip : 0;
            if (expect > count)
                expect = count;
            buf_reset(&out);
            CHECK_INT(imap_crlf_append(&out, text, tlen, skip, count), expect);
            CHECK(out.len == expect &&
                  memcmp(out.data, want + (skip < wlen ? skip : 0), expect) ==
                      0);
        }
    buf_free(&out);
}

int main(void)
{
    imap_reader_init(&reader, NULL);
    UNIT_RUN(dovecot_answers);
    UNIT_RUN(corpus_lf_crlf);
    UNIT_RUN(partial_slices);
    UNIT_RUN(cached_items_do_not_read);
    UNIT_RUN(seen_is_reported);
    UNIT_RUN(errors_leave_no_output);
    UNIT_RUN(crlf_conversion);
    imap_reader_free(&reader);
    return unit_summary();
}
