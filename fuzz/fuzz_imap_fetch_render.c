/* fuzz_imap_fetch_render.c: fuzz target for the FETCH renderer
 * (lib/imap/imap_fetch_render) and what it and SEARCH stand on
 * (mime_decode, imap_header_iter, rfc822_date, imap_casefold,
 * imap_search_eval). The input is a message; the FETCH items are fixed:
 * every simple item, sections with part numbers, HEADER.FIELDS[.NOT],
 * partials, BINARY and BINARY.SIZE. Invariants, each an abort:
 *  - a response is "* 1 FETCH (...)\r\n" whose literals are as long as
 *    they say, with balanced parentheses and no line end outside them;
 *  - an error leaves the output untouched;
 *  - the message with its bare LFs made CRLF answers the same bytes;
 *  - SEARCH keys on the message answer 0 or 1, never an error. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "imap/imap_fetch.h"
#include "imap/imap_fetch_render.h"
#include "imap/imap_reader.h"
#include "imap/imap_search.h"
#include "imap/imap_search_eval.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *what)
{
    fprintf(stderr, "fuzz_imap_fetch_render: %s\n", what);
    abort();
}

static const char *const item_lines[] = {
    "a FETCH 1 (UID FLAGS RFC822.SIZE ENVELOPE BODY BODYSTRUCTURE MODSEQ "
    "INTERNALDATE BODY.PEEK[] BODY.PEEK[HEADER] BODY.PEEK[TEXT]<3.50> "
    "BODY.PEEK[1] BODY.PEEK[1.MIME] BODY.PEEK[2.1.HEADER] BODY.PEEK[2.TEXT] "
    "BODY.PEEK[HEADER.FIELDS (From Subject)] "
    "BODY.PEEK[1.HEADER.FIELDS.NOT (To)] BODY.PEEK[1]<5.7> "
    "BODY.PEEK[3.2]<0.4000> RFC822.HEADER RFC822.TEXT)",
    "a FETCH 1 (BINARY.PEEK[1] BINARY.SIZE[1] BINARY.PEEK[2]<1.9>)",
    "a FETCH 1 (BINARY.PEEK[] BINARY.PEEK[2.1] BINARY.SIZE[3])",
};
#define ITEM_LINES (sizeof(item_lines) / sizeof(item_lines[0]))

static const char *const searches[] = {
    "a SEARCH TEXT \"caf\xc3\xa9\"",
    "a SEARCH OR FROM a SUBJECT \"re: x\"",
    "a SEARCH SENTBEFORE 1-Jan-2000 HEADER X-Y \"\"",
    "a SEARCH BODY \"=\"",
};
#define SEARCHES (sizeof(searches) / sizeof(searches[0]))

static struct imap_fetch fetches[ITEM_LINES];
static struct imap_search search_trees[SEARCHES];

static const struct imap_command *read_line(struct imap_reader *r,
                                            const char *line)
{
    struct imap_reader_limits limits;
    size_t used;
    struct buf in = BUF_INIT;
    enum imap_reader_event ev;
    imap_reader_limits_default(&limits);
    imap_reader_init(r, &limits);
    buf_append_str(&in, line);
    buf_append_str(&in, "\r\n");
    ev = imap_reader_feed(r, in.data, in.len, &used);
    buf_free(&in);
    return ev == IMAP_READER_COMMAND ? &r->command : NULL;
}

/* Parsed items and keys point into their command's token tree: each
 * keeps its own reader for the life of the process. */
static struct imap_reader readers[ITEM_LINES + SEARCHES];

static void setup(void)
{
    static int done;
    const char *error;
    if (done)
        return;
    done = 1;
    for (size_t i = 0; i < ITEM_LINES; i++) {
        const struct imap_command *cmd = read_line(&readers[i], item_lines[i]);
        imap_fetch_init(&fetches[i]);
        if (cmd == NULL || imap_fetch_parse(cmd->args + 1, cmd->arg_count - 1,
                                            0, &fetches[i], &error) != 0)
            fail("fixed FETCH items do not parse");
    }
    for (size_t i = 0; i < SEARCHES; i++) {
        const struct imap_command *cmd =
            read_line(&readers[ITEM_LINES + i], searches[i]);
        imap_search_init(&search_trees[i]);
        if (cmd == NULL || imap_search_parse(cmd->args, cmd->arg_count, 0,
                                             &search_trees[i], &error) != 0)
            fail("fixed SEARCH keys do not parse");
    }
}

/* Walks a response: literals, quoted strings, parentheses. */
static void check_response(const struct buf *b)
{
    size_t i = 0;
    long depth = 0;
    if (b->len < 14 || memcmp(b->data, "* 1 FETCH (", 11) != 0 ||
        memcmp(b->data + b->len - 3, ")\r\n", 3) != 0)
        fail("not a FETCH response");
    for (i = 10; i < b->len - 2; i++) {
        char c = b->data[i];
        if (c == '(') {
            depth++;
        } else if (c == ')') {
            if (--depth < 0)
                fail("unbalanced ')'");
        } else if (c == '"') {
            for (i++; i < b->len && b->data[i] != '"'; i++)
                if (b->data[i] == '\\')
                    i++;
        } else if (c == '{') {
            unsigned long long n = 0;
            size_t j = i + 1;
            while (j < b->len && b->data[j] >= '0' && b->data[j] <= '9')
                n = n * 10 + (unsigned long long)(b->data[j++] - '0');
            if (j + 2 >= b->len || b->data[j] != '}' || b->data[j + 1] != '\r' ||
                b->data[j + 2] != '\n')
                fail("bad literal header");
            if (n > b->len - (j + 3))
                fail("literal longer than the response");
            i = j + 2 + (size_t)n;
        } else if (c == '\r' || c == '\n') {
            fail("line end outside a literal");
        }
    }
    if (depth != 0)
        fail("unbalanced parentheses");
}

static int read_buf(void *context, struct imap_message *msg, const char **d,
                    size_t *len)
{
    const struct buf *b = context;
    (void)msg;
    *d = b->data;
    *len = b->len;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct buf lf = BUF_INIT, crlf = BUF_INIT, a = BUF_INIT, b = BUF_INIT;
    struct imap_message m1, m2;

    setup();
    buf_append(&lf, data, size);
    for (size_t i = 0; i < size; i++) {
        if (data[i] == '\n' && (i == 0 || data[i - 1] != '\r'))
            buf_append_char(&crlf, '\r');
        buf_append_char(&crlf, (char)data[i]);
    }
    imap_message_init(&m1);
    imap_message_init(&m2);
    m1.seq = m2.seq = 1;
    m1.uid = m2.uid = 9;
    m1.read = m2.read = read_buf;
    m1.context = &lf;
    m2.context = &crlf;
    for (size_t i = 0; i < ITEM_LINES; i++) {
        enum imap_render_result r1, r2;
        buf_set_str(&a, "");
        buf_set_str(&b, "");
        r1 = imap_fetch_render(&a, &m1, &fetches[i], IMAP_RENDER_UID);
        r2 = imap_fetch_render(&b, &m2, &fetches[i], IMAP_RENDER_UID);
        if (r1 != r2)
            fail("LF and CRLF copies fail differently");
        if (r1 != IMAP_RENDER_OK) {
            if (a.len != 0 || b.len != 0)
                fail("an error left output");
            if (r1 == IMAP_RENDER_UNREADABLE)
                fail("a readable message was unreadable");
            continue;
        }
        check_response(&a);
        if (a.len != b.len || memcmp(a.data, b.data, a.len) != 0)
            fail("LF and CRLF copies answer differently");
    }
    for (size_t i = 0; i < SEARCHES; i++) {
        struct imap_search_eval ev;
        struct imap_search_env env = {1, 9, 0, NULL};
        imap_search_eval_init(&ev, &search_trees[i], &env);
        if (imap_search_eval_match(&ev, &m1) < 0)
            fail("SEARCH failed on a readable message");
        imap_search_eval_free(&ev);
    }
    imap_message_done(&m1);
    imap_message_done(&m2);
    buf_free(&lf);
    buf_free(&crlf);
    buf_free(&a);
    buf_free(&b);
    return 0;
}
