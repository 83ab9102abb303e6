/* fuzz_maildrop.c: fuzz target for the maildrop file parser
 * (lib/queue/maildrop_file.c), whose input is written by any local user
 * through postdrop and read by pickup. Checks its promises: on success
 * there is a sender of valid text, 1 to MAILDROP_MAX_RCPTS recipients of
 * valid non-empty text, and the content lies inside the input; and the
 * envelope it formats back parses to the same envelope. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "queue/maildrop_file.h"
#include "queue/qfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    struct maildrop_msg msg;
    struct buf err = BUF_INIT;
    maildrop_msg_init(&msg);
    if (maildrop_parse(size ? text : "", size, &msg, &err) == 0) {
        if (msg.rcpts.count == 0 || msg.rcpts.count > MAILDROP_MAX_RCPTS)
            abort();
        if (msg.sender.len && !qfile_text_ok(msg.sender.data, msg.sender.len))
            abort();
        for (size_t i = 0; i < msg.rcpts.count; i++) {
            const char *r = msg.rcpts.items[i];
            if (!*r || !qfile_text_ok(r, strlen(r)))
                abort();
        }
        if (msg.content < text || msg.content + msg.content_len != text + size)
            abort();
        struct buf again = BUF_INIT, err2 = BUF_INIT;
        if (maildrop_format_envelope(&again, buf_cstr(&msg.sender), &msg.rcpts,
                                     &err2) != 0)
            abort();
        if (again.len != (size_t)(msg.content - text) ||
            memcmp(again.data, text, again.len) != 0)
            abort();
        buf_free(&again);
        buf_free(&err2);
    } else if (err.len == 0) {
        abort(); /* a refusal always says why */
    }
    maildrop_msg_free(&msg);
    buf_free(&err);
    return 0;
}
