/* fuzz_mastercf.c: fuzz target for the master.cf reader. Parses the
 * input, prints each entry in postconf -M form and parses that again:
 * the printed form must always read back. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "buf.h"
#include "mastercf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct buf err = BUF_INIT, line = BUF_INIT;
    struct master_entry *entries = NULL;
    size_t count = 0;
    if (mastercf_parse((const char *)data, size, "master.cf", &entries,
                       &count, &err) == 0) {
        for (size_t i = 0; i < count; i++) {
            struct master_entry *again = NULL;
            size_t again_count = 0;
            buf_reset(&line);
            mastercf_format(&entries[i], &line);
            buf_reset(&err);
            if (mastercf_parse(line.data, line.len, "printed", &again,
                               &again_count, &err) != 0 ||
                again_count != 1)
                abort(); /* postconf -M output that master cannot read */
            mastercf_free(again, again_count);
            (void)mastercf_override(&entries[i], "syslog_name");
        }
    }
    mastercf_free(entries, count);
    buf_free(&err);
    buf_free(&line);
    return 0;
}
