/* fuzz_imap_sort_args.c: fuzz target for the SORT and THREAD argument
 * parsers (lib/imap/imap_sort, imap_thread) and what runs on their
 * result: the input is the text after "a SORT " (and after "a THREAD "),
 * read with the real command reader (LITERAL+ allowed); when it parses,
 * the criteria and keys run over three fixed messages. Invariants, each
 * an abort:
 *  - a failed parse leaves no criteria, and only a charset error is a NO;
 *  - SORT returns a permutation of the matching messages;
 *  - THREAD names each matching message exactly once. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "imap/imap_reader.h"
#include "imap/imap_search_eval.h"
#include "imap/imap_sort.h"
#include "imap/imap_thread.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *what)
{
    fprintf(stderr, "fuzz_imap_sort_args: %s\n", what);
    abort();
}

static const char *const messages[] = {
    "From: Ann <ann@example.org>\nSubject: Re: [x] plans\nMessage-ID: <b@x>\n"
    "In-Reply-To: <a@x>\nDate: 2 Jan 2026 10:00:00 +0100\n\nbody two\n",
    "From: bob@example.com\nTo: ann@example.org\nSubject: plans\n"
    "Message-ID: <a@x>\nDate: 1 Jan 2026 10:00:00 +0100\n\nbody one\n",
    "Subject: =?utf-8?q?caf=C3=A9?=\nReferences: <b@x> <zz@x>\n"
    "Content-Type: text/plain; charset=iso-8859-1\n"
    "Content-Transfer-Encoding: quoted-printable\n\ncaf=E9\n",
};
#define MESSAGES 3

static int read_text(void *context, struct imap_message *msg, const char **d,
                     size_t *len)
{
    (void)msg;
    *d = context;
    *len = strlen(context);
    return 0;
}

/* Reads one command; NULL unless the reader gives exactly one. */
static const struct imap_command *read_command(struct imap_reader *r,
                                               const char *verb,
                                               const uint8_t *data,
                                               size_t size)
{
    struct imap_reader_limits limits;
    struct buf in = BUF_INIT;
    size_t pos = 0, used;
    enum imap_reader_event ev = IMAP_READER_MORE;
    imap_reader_limits_default(&limits);
    limits.nonsync_max = IMAP_NONSYNC_LITERAL_PLUS;
    imap_reader_init(r, &limits);
    buf_append_str(&in, verb);
    buf_append(&in, data, size);
    buf_append_str(&in, "\r\n");
    while (pos < in.len) {
        ev = imap_reader_feed(r, in.data + pos, in.len - pos, &used);
        pos += used;
        if (ev != IMAP_READER_MORE && ev != IMAP_READER_CONTINUE)
            break;
    }
    buf_free(&in);
    return ev == IMAP_READER_COMMAND ? &r->command : NULL;
}

static size_t matching(struct imap_search *search, struct imap_message *views,
                       struct imap_message **out)
{
    struct imap_search_eval ev;
    struct imap_search_env env = {MESSAGES, MESSAGES, 1767225600, NULL};
    size_t n = 0;
    imap_search_eval_init(&ev, search, &env);
    for (size_t i = 0; i < MESSAGES; i++) {
        int r = imap_search_eval_match(&ev, &views[i]);
        if (r < 0)
            fail("SEARCH failed on a readable message");
        if (r)
            out[n++] = &views[i];
        imap_message_done(&views[i]);
    }
    imap_search_eval_free(&ev);
    return n;
}

static void init_views(struct imap_message *views)
{
    for (size_t i = 0; i < MESSAGES; i++) {
        imap_message_init(&views[i]);
        views[i].seq = views[i].uid = (uint32_t)i + 1;
        views[i].internal_date = 1767225600 + (time_t)i;
        views[i].read = read_text;
        views[i].context = (void *)messages[i];
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct imap_reader r;
    struct imap_message views[MESSAGES], *found[MESSAGES];
    const struct imap_command *cmd;
    const char *error = NULL;
    struct imap_sort_args sort;
    struct imap_thread_args thread;
    struct buf out = BUF_INIT;

    init_views(views);
    imap_sort_args_init(&sort);
    cmd = read_command(&r, "a SORT ", data, size);
    if (cmd != NULL) {
        if (imap_sort_parse(cmd->args, cmd->arg_count, 0, &sort, &error) == 0) {
            size_t n = matching(&sort.search, views, found);
            unsigned seen = 0;
            imap_sort_messages(sort.criteria, sort.count, found, n);
            for (size_t i = 0; i < n; i++)
                seen |= 1u << (found[i]->seq - 1);
            if ((size_t)__builtin_popcount(seen) != n)
                fail("SORT lost or repeated a message");
        } else if (sort.count != 0) {
            fail("a failed SORT kept criteria");
        }
    }
    imap_sort_args_free(&sort);
    imap_reader_free(&r);

    imap_thread_args_init(&thread);
    cmd = read_command(&r, "a THREAD ", data, size);
    if (cmd != NULL &&
        imap_thread_parse(cmd->args, cmd->arg_count, 0, &thread, &error) == 0) {
        size_t n = matching(&thread.search, views, found), named = 0;
        imap_thread_write(&out, thread.algorithm, found, n, 0);
        for (size_t i = 0; i < out.len; i++)
            if (out.data[i] >= '1' && out.data[i] <= '3' &&
                (i + 1 >= out.len || out.data[i + 1] < '0' ||
                 out.data[i + 1] > '9'))
                named++;
        if (named != n)
            fail("THREAD did not name each message once");
    }
    imap_thread_args_free(&thread);
    imap_reader_free(&r);
    for (size_t i = 0; i < MESSAGES; i++)
        imap_message_done(&views[i]);
    buf_free(&out);
    return 0;
}
