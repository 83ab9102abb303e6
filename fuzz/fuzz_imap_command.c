/* fuzz_imap_command.c: fuzz target for lib/imap: the command reader and
 * the parsers on top of it (sequence sets, FETCH items, STORE, SEARCH,
 * APPEND, flags, mailbox names, dates) and the quoting writers.
 *
 * The first input byte picks the reader's limits (small ones reach the
 * limit paths); the rest is the client's byte stream. Invariants: the
 * events do not depend on how the stream is split into reads; every
 * error response is one printable line starting with a tag or "*" and
 * saying BAD or NO; every argument written back with the quoting
 * writers reads back as the same bytes. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "imap/imap_append.h"
#include "imap/imap_date.h"
#include "imap/imap_fetch.h"
#include "imap/imap_flags.h"
#include "imap/imap_quote.h"
#include "imap/imap_reader.h"
#include "imap/imap_search.h"
#include "imap/imap_seqset.h"
#include "imap/imap_utf7.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void pick_limits(uint8_t selector, struct imap_reader_limits *limits)
{
    static const size_t nonsync[] = {0, IMAP_NONSYNC_LITERAL_MINUS,
                                     IMAP_NONSYNC_LITERAL_PLUS, 8};
    imap_reader_limits_default(limits);
    limits->nonsync_max = nonsync[selector & 3];
    if (selector & 4) {
        limits->line_max = 64;
        limits->literal_max = 32;
        limits->command_max = 256;
        limits->append_max = 100;
        limits->depth_max = 4;
        limits->discard_max = 50;
    }
}

static void check_error(const struct buf *response)
{
    if (response->len < 6)
        abort();
    for (size_t i = 0; i < response->len; i++)
        if ((unsigned char)response->data[i] < 0x20 ||
            (unsigned char)response->data[i] > 0x7e)
            abort();
    if (!strstr(response->data, " BAD ") && !strstr(response->data, " NO "))
        abort();
}

/* Writes arg back with the quoting writers and reads it again. */
static void check_requote(const struct imap_arg *arg)
{
    const char *str;
    size_t len;
    if (imap_arg_astring(arg, &str, &len) != 0 || memchr(str, '\0', len))
        return;
    struct buf line = BUF_INIT;
    struct imap_reader r;
    struct imap_reader_limits limits;
    imap_reader_limits_default(&limits);
    limits.nonsync_max = IMAP_NONSYNC_LITERAL_PLUS;
    imap_reader_init(&r, &limits);
    buf_append_str(&line, "t X ");
    imap_write_astring(&line, str, len, IMAP_QUOTE_UTF8);
    buf_append_str(&line, "\r\n");
    size_t pos = 0, used;
    enum imap_reader_event ev = IMAP_READER_MORE;
    while (pos < line.len) {
        ev = imap_reader_feed(&r, line.data + pos, line.len - pos, &used);
        pos += used;
        if (ev != IMAP_READER_MORE && ev != IMAP_READER_CONTINUE)
            break;
    }
    const char *back;
    size_t back_len;
    if (ev != IMAP_READER_COMMAND || r.command.arg_count != 1 ||
        imap_arg_astring(&r.command.args[0], &back, &back_len) != 0 ||
        back_len != len || (len && memcmp(back, str, len) != 0)) {
        fprintf(stderr, "requote failed for %zu bytes\n", len);
        abort();
    }
    imap_reader_free(&r);
    buf_free(&line);
}

static void exercise(const struct imap_command *cmd)
{
    const struct imap_arg *args = cmd->args;
    size_t count = cmd->arg_count;
    struct buf name = BUF_INIT;
    const char *error;

    if (count > 0 && args[0].type == IMAP_ARG_ATOM) {
        struct imap_seqset set;
        imap_seqset_init(&set);
        if (imap_seqset_parse(args[0].str, args[0].len, 100, &set, &error) == 0 &&
            !set.searchres) {
            imap_seqset_resolve(&set, 1000);
            for (size_t i = 1; i < set.count; i++)
                if (set.ranges[i].first <= set.ranges[i - 1].last)
                    abort();
            (void)imap_seqset_contains(&set, 500);
        }
        imap_seqset_free(&set);
    }
    if (count > 0) {
        struct imap_fetch fetch;
        struct imap_store store;
        imap_fetch_init(&fetch);
        imap_store_init(&store);
        (void)imap_fetch_parse(args + 1, count - 1, IMAP_FETCH_PARSE_UID,
                               &fetch, &error);
        (void)imap_store_parse(args + 1, count - 1, &store, &error);
        imap_fetch_free(&fetch);
        imap_store_free(&store);
        (void)imap_mailbox_name(&args[0], 0, &name, &error);
        (void)imap_mailbox_name(&args[0], 1, &name, &error);
    }
    struct imap_append append;
    imap_append_init(&append);
    if (imap_append_parse(args, count, &append, &error) == 0)
        for (size_t i = 0; i < append.count; i++)
            if (append.messages[i].len > 0 && append.messages[i].data == NULL)
                abort();
    imap_append_free(&append);
    struct imap_search search;
    imap_search_init(&search);
    (void)imap_search_parse(args, count, IMAP_SEARCH_PARSE_RETURN, &search,
                            &error);
    imap_search_free(&search);
    for (size_t i = 0; i < count; i++) {
        if (args[i].type == IMAP_ARG_LIST) {
            struct imap_flag_list flags;
            imap_flag_list_init(&flags);
            (void)imap_flag_list_parse(&args[i], 0, &flags, &error);
            imap_flag_list_free(&flags);
        } else {
            time_t when;
            int zone;
            struct imap_date date;
            (void)imap_date_time_parse(args[i].str, args[i].len, &when, &zone);
            (void)imap_date_parse(args[i].str, args[i].len, &date);
            if (i < 4)
                check_requote(&args[i]);
        }
    }
    buf_free(&name);
}

/* Feeds the stream in reads of `step` bytes (0: whole) and records the
 * events; exercises the parsers when `deep`. */
static void run(const struct imap_reader_limits *limits, const char *input,
                size_t len, size_t step, int deep, struct buf *transcript)
{
    struct imap_reader r;
    size_t pos = 0;
    imap_reader_init(&r, limits);
    while (pos < len) {
        size_t end = step && len - pos > step ? pos + step : len;
        int stop = 0;
        while (pos < end && !stop) {
            size_t used;
            enum imap_reader_event ev =
                imap_reader_feed(&r, input + pos, end - pos, &used);
            pos += used;
            switch (ev) {
            case IMAP_READER_MORE:
                if (used == 0 && pos < end)
                    abort(); /* MORE must use all input */
                break;
            case IMAP_READER_CONTINUE:
                buf_append_str(transcript, "+\n");
                break;
            case IMAP_READER_COMMAND:
                buf_appendf(transcript, "C %s %s ", r.command.tag,
                            r.command.name);
                imap_args_describe(r.command.args, r.command.arg_count,
                                   transcript);
                buf_append_char(transcript, '\n');
                if (deep)
                    exercise(&r.command);
                if (pos % 3 == 0)
                    imap_reader_trim(&r);
                break;
            case IMAP_READER_ERROR:
                check_error(&r.error.response);
                buf_appendf(transcript, "E %s %d\n", r.error.response.data,
                            r.error.close);
                stop = r.error.close;
                break;
            case IMAP_READER_LINE:
                buf_appendf(transcript, "L %zu\n", r.line.len);
                break;
            }
            if (ev == IMAP_READER_COMMAND && r.command.arg_count > 0 &&
                imap_arg_atom_is(&r.command.args[0], "LINE"))
                imap_reader_expect_line(&r);
        }
        if (stop)
            break;
    }
    imap_reader_free(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct imap_reader_limits limits;
    struct buf whole = BUF_INIT, split = BUF_INIT;
    if (size < 1)
        return 0;
    pick_limits(data[0], &limits);
    const char *input = (const char *)data + 1;
    size_t len = size - 1;

    run(&limits, input, len, 0, 1, &whole);
    size_t steps[] = {1, 2 + data[0] % 13};
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        buf_reset(&split);
        run(&limits, input, len, steps[i], 0, &split);
        if (split.len != whole.len ||
            (whole.len && memcmp(split.data, whole.data, whole.len) != 0)) {
            fprintf(stderr, "split %zu changed the events:\n%s---\n%s",
                    steps[i], whole.data, split.data);
            abort();
        }
    }
    buf_free(&whole);
    buf_free(&split);
    return 0;
}
