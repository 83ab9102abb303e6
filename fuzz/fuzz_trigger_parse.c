/* fuzz_trigger_parse.c: fuzz target for qmgr's trigger reader
 * (lib/queue/trigger_parse.c), whose input comes from any local user through
 * public/qmgr. Checks its promises: every argument handed out is 1 to
 * QMGR_TRIGGER_MAX_ARG printable bytes, only S and Q carry one, and no
 * more requests come out than bytes went in. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "queue/qmgr_trigger.h"
#include "queue/trigger_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(void *ctx, char request, const char *arg)
{
    size_t *count = ctx;
    (*count)++;
    int wants_arg =
        request == QMGR_TRIGGER_SITE || request == QMGR_TRIGGER_MESSAGE;
    if (wants_arg != (arg != NULL))
        abort();
    if (!arg)
        return;
    size_t len = strlen(arg);
    if (len == 0 || len > QMGR_TRIGGER_MAX_ARG)
        abort();
    for (size_t i = 0; i < len; i++)
        if (arg[i] <= ' ' || arg[i] > '~')
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t count = 0;
    size_t returned = trigger_parse((const char *)data, size, check, &count);
    if (returned != count || count > size)
        abort();
    return 0;
}
