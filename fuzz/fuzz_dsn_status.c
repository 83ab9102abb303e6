/* fuzz_dsn_status.c: fuzz target for the parsing of remote SMTP/LMTP
 * replies into enhanced status codes (lib/message/dsn.c), for the log fragment
 * built from what a remote server said, and for the DSN parameters a
 * client sends (NOTIFY, ORCPT, ENVID xtext). Checks the parser's
 * promises: a parsed reply always carries a valid status whose class
 * matches the reply code, and the text offset stays inside the input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "message/dsn.h"
#include "base/mem.h"
#include "base/xtext.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct dsn_reply reply;
    const char *text = (const char *)data;

    if (dsn_parse_reply(text, size, &reply) == 0) {
        if (!dsn_status_valid(reply.status))
            abort();
        int cls = reply.code / 100 == 3 ? 2 : reply.code / 100;
        if (reply.status[0] != (char)('0' + cls))
            abort();
        if (reply.text_offset > size)
            abort();

        /* The rest of the line becomes the reason in the log line. */
        char *reason =
            xstrndup(text + reply.text_offset, size - reply.text_offset);
        struct dsn d;
        if (dsn_set(&d, reply.status, -1, reason, "dns", "mx.example", "smtp",
                    reason) != 0)
            abort();
        struct dsn_stamps stamps;
        memset(&stamps, 0, sizeof(stamps));
        stamps.arrival.tv_sec = 1;
        struct timeval now = {2, 0};
        struct buf line = BUF_INIT;
        dsn_format_log(&line, reason, reason, "mx.example", &stamps, &now, 2,
                       &d, NULL);
        /* Control characters from the reply never reach the log. */
        for (size_t i = 0; i < line.len; i++)
            if ((unsigned char)line.data[i] < 0x20)
                abort();
        buf_free(&line);
        dsn_free(&d);
        free(reason);
    }

    /* The validator on a NUL-terminated copy of arbitrary bytes. */
    char *copy = xstrndup(text, size < 32 ? size : 32);
    if (dsn_status_valid(copy) && dsn_status_class(copy) == DSN_CLASS_INVALID)
        abort();
    free(copy);

    /* ENVID/ORCPT/NOTIFY parameters from MAIL FROM and RCPT TO: decoding
     * what was encoded gives it back, and no control character gets
     * through. */
    struct buf decoded = BUF_INIT, encoded = BUF_INIT, again = BUF_INIT;
    if (xtext_decode(text, size, &decoded, XTEXT_REFUSE_CONTROL) == 0) {
        for (size_t i = 0; i < decoded.len; i++)
            if ((unsigned char)decoded.data[i] < 0x20)
                abort();
        xtext_encode(decoded.data, decoded.len, &encoded);
        if (xtext_decode(encoded.data, encoded.len, &again, XTEXT_REFUSE_CONTROL) != 0 ||
            again.len != decoded.len ||
            (decoded.len > 0 &&
             memcmp(again.data, decoded.data, decoded.len) != 0))
            abort();
    }
    char *value = xstrndup(text, size);
    int mask = dsn_notify_parse(value);
    if (mask != -1 && (mask <= 0 || mask > 8 ||
                       ((mask & DSN_NOTIFY_NEVER) && mask != DSN_NOTIFY_NEVER)))
        abort();
    buf_reset(&decoded);
    if (dsn_orcpt_parse(value, &decoded) == 0 && !strchr(decoded.data, ';'))
        abort();
    free(value);
    buf_free(&decoded);
    buf_free(&encoded);
    buf_free(&again);
    return 0;
}
