/* trigger_parse.c: the reader of qmgr's trigger bytes (see
 * trigger_parse.h). */
#include "queue/trigger_parse.h"

#include <string.h>

#include "queue/qmgr_trigger.h"

static int arg_ok(const char *arg, size_t len)
{
    if (len == 0 || len > QMGR_TRIGGER_MAX_ARG)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (arg[i] <= ' ' || arg[i] > '~')
            return 0;
    return 1;
}

size_t trigger_parse(const char *data, size_t len, trigger_request_fn fn,
                     void *ctx)
{
    size_t count = 0;
    for (size_t i = 0; i < len; i++) {
        char c = data[i];
        if (c != QMGR_TRIGGER_SITE && c != QMGR_TRIGGER_MESSAGE) {
            fn(ctx, c, NULL);
            count++;
            continue;
        }
        const char *arg = data + i + 1;
        const char *end = memchr(arg, QMGR_TRIGGER_END, len - i - 1);
        if (!end)
            break; /* cut short: the rest is one unfinished request */
        size_t arg_len = (size_t)(end - arg);
        if (arg_ok(arg, arg_len)) {
            char text[QMGR_TRIGGER_MAX_ARG + 1];
            memcpy(text, arg, arg_len);
            text[arg_len] = 0;
            fn(ctx, c, text);
            count++;
        }
        i += arg_len + 1; /* the loop's i++ steps over the LF */
    }
    return count;
}
