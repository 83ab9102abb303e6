/* imap_fixture.h: for the lib/imap unit tests: reads one command line
 * (CRLF added) with the real reader, so a sub-parser is tested on the
 * token tree imapd will give it. LITERAL+ is on so tests can inline
 * literals as {n+}. */
#ifndef POSTERN_TEST_IMAP_FIXTURE_H
#define POSTERN_TEST_IMAP_FIXTURE_H

#include <string.h>

#include "base/buf.h"
#include "imap/imap_reader.h"

/* Returns the command, or NULL when the reader did not produce exactly
 * one. The command lives in *r until the next call. */
static inline const struct imap_command *
imap_fixture_read(struct imap_reader *r, const char *line)
{
    struct imap_reader_limits limits;
    struct buf input = BUF_INIT;
    size_t pos = 0, used;
    enum imap_reader_event ev = IMAP_READER_MORE;

    imap_reader_free(r);
    imap_reader_limits_default(&limits);
    limits.nonsync_max = IMAP_NONSYNC_LITERAL_PLUS;
    imap_reader_init(r, &limits);
    buf_append_str(&input, line);
    buf_append_str(&input, "\r\n");
    while (pos < input.len) {
        ev = imap_reader_feed(r, input.data + pos, input.len - pos, &used);
        pos += used;
        if (ev != IMAP_READER_MORE && ev != IMAP_READER_CONTINUE)
            break;
    }
    buf_free(&input);
    return ev == IMAP_READER_COMMAND ? &r->command : NULL;
}

#endif
