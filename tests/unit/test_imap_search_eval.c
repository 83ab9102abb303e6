/* test_imap_search_eval.c: SEARCH matching (lib/imap/imap_search_eval)
 * against Dovecot 2.3's answers for 100 searches over 15 messages
 * (tests/unit/data/imap/dovecot-search.jsonl, recorded by
 * gen_dovecot_search.py): every key, RFC 2047 headers, transfer and
 * charset decoding, Unicode case folding; then the keys Dovecot's run
 * could not show (RECENT, NEW, OLD, MODSEQ, "$"), lazy reading, and a
 * SEARCH TEXT micro benchmark over 10,000 messages of 4.5 KiB. */
#include "unit.h"

#include <time.h>

#include "imap/imap_casefold.h"
#include "imap/imap_search.h"
#include "imap/imap_search_eval.h"
#include "imap_fixture.h"
#include "imap_mailbox_fixture.h"

static struct imap_reader reader;

static int parse_search(const char *args, struct imap_search *search)
{
    struct buf line = BUF_INIT;
    const char *error = NULL;
    const struct imap_command *cmd;
    buf_appendf(&line, "a SEARCH %s", args);
    cmd = imap_fixture_read(&reader, line.data);
    buf_free(&line);
    imap_search_init(search);
    if (cmd == NULL || imap_search_parse(cmd->args, cmd->arg_count, 0, search,
                                         &error) != 0) {
        printf("#   cannot parse %s: %s\n", args, error ? error : "reader");
        return -1;
    }
    return 0;
}

/* The sequence numbers of the views matching args, "1 2 3". */
static void search_views(struct imap_message **views, size_t count,
                         const char *args, const struct imap_seqset *saved,
                         struct buf *out)
{
    struct imap_search search;
    struct imap_search_eval ev;
    struct imap_search_env env = {(uint32_t)count, (uint32_t)count,
                                  time(NULL), saved};
    buf_reset(out);
    if (parse_search(args, &search) < 0) {
        buf_set_str(out, "(parse error)");
        return;
    }
    imap_search_eval_init(&ev, &search, &env);
    for (size_t i = 0; i < count; i++) {
        int r = imap_search_eval_match(&ev, views[i]);
        if (r < 0)
            buf_appendf(out, "%s(error %u)", out->len ? " " : "", views[i]->seq);
        else if (r)
            buf_appendf(out, "%s%u", out->len ? " " : "", views[i]->seq);
        imap_message_done(views[i]);
    }
    imap_search_eval_free(&ev);
    imap_search_free(&search);
}

static void dovecot_answers(void)
{
    struct test_mailbox mb;
    struct buf cmd = BUF_INIT, args = BUF_INIT, want = BUF_INIT,
               got = BUF_INIT;
    size_t compared = 0;
    if (test_mailbox_load(&mb, "dovecot-search.jsonl") < 0) {
        CHECK(0);
        return;
    }
    CHECK_INT(mb.count, 15);
    for (size_t i = 0; i < mb.line_count; i++) {
        json_get(mb.lines[i], "command", &cmd);
        if (strcmp(cmd.data, "SEARCH") != 0)
            continue;
        json_get(mb.lines[i], "args", &args);
        json_get(mb.lines[i], "result", &want);
        search_views(mb.views, mb.count, args.data, NULL, &got);
        compared++;
        if (strcmp(got.data, want.data) != 0) {
            printf("#   SEARCH %s\n#     ours:    %s\n#     dovecot: %s\n",
                   args.data, got.data, want.data);
            unit_case_failed = 1;
        }
    }
    printf("#   %zu searches compared with Dovecot's answers\n", compared);
    CHECK(compared >= 100);
    test_mailbox_free(&mb);
    buf_free(&cmd);
    buf_free(&args);
    buf_free(&want);
    buf_free(&got);
}

/* Keys Dovecot's recorded run does not show, and "$". */
static void session_keys(void)
{
    struct test_message m[4];
    struct imap_message *views[4];
    struct imap_seqset saved;
    const char *error;
    struct buf got = BUF_INIT;
    static const unsigned flags[4] = {
        IMAP_FLAG_RECENT, IMAP_FLAG_RECENT | IMAP_FLAG_SEEN, IMAP_FLAG_SEEN, 0};
    for (int i = 0; i < 4; i++) {
        test_message_init(&m[i], "Subject: x\n\nbody\n", 17);
        m[i].view.seq = (uint32_t)i + 1;
        m[i].view.uid = (uint32_t)(10 * (i + 1));
        m[i].view.flags = flags[i];
        m[i].view.modseq = (uint64_t)(100 + i);
        m[i].view.internal_date = time(NULL) - 100 * i;
        views[i] = &m[i].view;
    }
    search_views(views, 4, "RECENT", NULL, &got);
    CHECK_STR(got.data, "1 2");
    search_views(views, 4, "NEW", NULL, &got);
    CHECK_STR(got.data, "1");
    search_views(views, 4, "OLD", NULL, &got);
    CHECK_STR(got.data, "3 4");
    search_views(views, 4, "MODSEQ 102", NULL, &got);
    CHECK_STR(got.data, "3 4");
    search_views(views, 4, "MODSEQ \"/flags/\\\\Seen\" all 101", NULL, &got);
    CHECK_STR(got.data, "2 3 4");
    search_views(views, 4, "YOUNGER 150", NULL, &got);
    CHECK_STR(got.data, "1 2");
    search_views(views, 4, "OLDER 150", NULL, &got);
    CHECK_STR(got.data, "3 4");
    imap_seqset_init(&saved);
    CHECK(imap_seqset_parse("20,40", 5, 10, &saved, &error) == 0);
    imap_seqset_resolve(&saved, 40);
    search_views(views, 4, "$", &saved, &got);
    CHECK_STR(got.data, "2 4");
    search_views(views, 4, "UID $", &saved, &got);
    CHECK_STR(got.data, "2 4");
    search_views(views, 4, "NOT $", NULL, &got);
    CHECK_STR(got.data, "1 2 3 4");
    search_views(views, 4, "UID 15:35", NULL, &got);
    CHECK_STR(got.data, "2 3");
    imap_seqset_free(&saved);
    for (int i = 0; i < 4; i++) {
        CHECK_INT(m[i].reads, 0); /* no key above needed the message */
        test_message_free(&m[i]);
    }
    buf_free(&got);
}

/* The message is read only when a key needs it and cheaper keys have
 * not decided; an unreadable message is an error only then. */
static void reads_only_when_needed(void)
{
    struct test_message m;
    struct imap_message *view = &m.view;
    struct buf got = BUF_INIT;
    test_message_init(&m, "From: a@b\nSubject: hello\n\nworld\n", 32);
    search_views(&view, 1, "SEEN BODY world", NULL, &got);
    CHECK_STR(got.data, "");
    CHECK_INT(m.reads, 0);
    search_views(&view, 1, "OR UNSEEN BODY world", NULL, &got);
    CHECK_STR(got.data, "1");
    CHECK_INT(m.reads, 0);
    search_views(&view, 1, "BODY world SUBJECT hello", NULL, &got);
    CHECK_STR(got.data, "1");
    CHECK_INT(m.reads, 1); /* once for both keys */
    m.view.read = NULL;
    search_views(&view, 1, "BODY world", NULL, &got);
    CHECK_STR(got.data, "(error 1)");
    test_message_free(&m);
    buf_free(&got);
}

static void folding(void)
{
    struct buf a = BUF_INIT;
    imap_casefold_append(&a, "Caf\xc3\xa9 \xc3\x9f \xce\xb1 x\xff", 14);
    CHECK_STR(a.data, "CAFE\xcc\x81 \xc3\x9f \xce\x91 X\xff");
    buf_reset(&a);
    imap_casefold_append(&a, "\xef\xac\x81 \xef\xbc\xa1", 7); /* fi ligature, fullwidth A */
    CHECK_STR(a.data, "FI A");
    buf_free(&a);
}

/* SEARCH TEXT for a word no message holds, over 10,000 messages of about
 * 4.5 KiB held in memory (the benchmark without the file
 * reads). The time is printed, not asserted: the machine is shared. */
static void text_search_benchmark(void)
{
    enum { COUNT = 10000 };
    struct test_message *msgs = calloc(COUNT, sizeof(*msgs));
    struct imap_search search;
    struct imap_search_eval ev;
    struct imap_search_env env = {COUNT, COUNT, 0, NULL};
    struct buf body = BUF_INIT;
    struct timespec t0, t1;
    size_t matches = 0, bytes = 0;

    for (int i = 0; i < COUNT; i++) {
        buf_reset(&body);
        buf_appendf(&body,
                    "From: Sender %d <sender%d@example.com>\n"
                    "To: anna@example.org\nSubject: Report number %d\n"
                    "Date: Mon, 2 Mar 2026 09:15:00 +0100\n"
                    "Message-ID: <%d@example.com>\nMIME-Version: 1.0\n"
                    "Content-Type: text/plain; charset=utf-8\n\n",
                    i, i, i, i);
        while (body.len < 4500)
            buf_appendf(&body, "Lorem ipsum dolor sit amet, consectetur "
                               "adipiscing elit %d, sed do eiusmod.\n", i);
        test_message_init(&msgs[i], body.data, body.len);
        msgs[i].view.seq = msgs[i].view.uid = (uint32_t)i + 1;
        bytes += body.len;
    }
    CHECK(parse_search("TEXT zyxwvutsrq", &search) == 0);
    imap_search_eval_init(&ev, &search, &env);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < COUNT; i++) {
        matches += (size_t)imap_search_eval_match(&ev, &msgs[i].view);
        imap_message_done(&msgs[i].view);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    CHECK_INT(matches, 0);
    printf("#   SEARCH TEXT over %d messages (%.1f MB): %.3f s\n", COUNT,
           (double)bytes / 1e6,
           (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    imap_search_eval_free(&ev);
    imap_search_free(&search);
    for (int i = 0; i < COUNT; i++)
        test_message_free(&msgs[i]);
    free(msgs);
    buf_free(&body);
}

int main(void)
{
    imap_reader_init(&reader, NULL);
    UNIT_RUN(dovecot_answers);
    UNIT_RUN(session_keys);
    UNIT_RUN(reads_only_when_needed);
    UNIT_RUN(folding);
    UNIT_RUN(text_search_benchmark);
    imap_reader_free(&reader);
    return unit_summary();
}
