/* fuzz_defer_log.c: fuzz target for the recipient status log reader
 * (lib/queue/defer_log), a parser of files in defer/ and bounce/.
 *
 * Beyond "no crash, no sanitizer report", it checks a round trip: a log
 * the reader accepts, written out again entry by entry with the writer's
 * encoder, parses to the same entries. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "queue/defer_log.h"

static int same(const char *a, const char *b)
{
    if (a == NULL || b == NULL)
        return a == b;
    return strcmp(a, b) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct defer_log log, again;
    struct buf err = BUF_INIT, text = BUF_INIT;
    enum defer_log_result result =
        defer_log_parse((const char *)data, size, &log, &err);
    if (result != DEFER_LOG_OK && result != DEFER_LOG_CORRUPT)
        abort();
    if (result == DEFER_LOG_CORRUPT && err.len == 0)
        abort(); /* damage is always explained */
    if (result == DEFER_LOG_OK) {
        for (size_t i = 0; i < log.count; i++)
            if (defer_log_encode(&log.entries[i], &text, &err) != 0)
                abort(); /* what we read, we can write */
        if (defer_log_parse(text.data ? text.data : "", text.len, &again,
                            &err) != DEFER_LOG_OK ||
            again.count != log.count)
            abort();
        for (size_t i = 0; i < log.count; i++) {
            const struct defer_log_entry *a = &log.entries[i],
                                         *b = &again.entries[i];
            if (!same(a->recipient, b->recipient) ||
                !same(a->orig_rcpt, b->orig_rcpt) || a->offset != b->offset ||
                a->log_time != b->log_time ||
                !same(a->dsn.status, b->dsn.status) ||
                a->dsn.action != b->dsn.action ||
                !same(a->dsn.reason, b->dsn.reason) ||
                !same(a->dsn.mta_type, b->dsn.mta_type) ||
                !same(a->dsn.mta_name, b->dsn.mta_name) ||
                !same(a->dsn.diag_type, b->dsn.diag_type) ||
                !same(a->dsn.diag_text, b->dsn.diag_text))
                abort();
        }
        defer_log_free(&again);
    }
    defer_log_free(&log);
    buf_free(&err);
    buf_free(&text);
    return 0;
}
