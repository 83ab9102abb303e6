/* fuzz_bounce_template.c: fuzz target for the bounce template reader
 * (lib/message/bounce_template, `postconf -t FILE`). Parses the input as a
 * template file, and when it parses, dumps it and parses the dump again:
 * the second reading must succeed and give the same dump. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "message/bounce_template.h"
#include "base/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void quiet(const char *message)
{
    (void)message;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct bounce_templates ts, again;
    memset(&ts, 0, sizeof(ts));
    memset(&again, 0, sizeof(again));
    struct buf err = BUF_INIT, dump = BUF_INIT, dump2 = BUF_INIT;
    if (bounce_templates_parse(&ts, (const char *)data, size, "fuzz", quiet,
                               &err) == 0) {
        bounce_templates_dump(&ts, &dump);
        buf_reset(&err);
        if (bounce_templates_parse(&again, dump.data ? dump.data : "",
                                   dump.len, "dump", quiet, &err) != 0)
            abort();
        bounce_templates_dump(&again, &dump2);
        if (dump.len != dump2.len ||
            (dump.len && memcmp(dump.data, dump2.data, dump.len) != 0))
            abort();
    }
    bounce_templates_free(&ts);
    bounce_templates_free(&again);
    buf_free(&err);
    buf_free(&dump);
    buf_free(&dump2);
    return 0;
}
