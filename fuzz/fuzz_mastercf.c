/* fuzz_mastercf.c: fuzz target for the master.cf reader. Parses the
 * input, prints each entry in postconf -M form and parses that again:
 * the printed form must always read back, as must the folded form that
 * postconf -Fe/-Pe/-PX write after changing -o parameters. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "config/mastercf.h"

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
            /* The folded form postconf -Fe/-Pe writes reads back as the
             * same entry, also after -o edits. */
            mastercf_set_override(&entries[i], "syslog_name", "a { b } c");
            mastercf_set_override(&entries[i], "fuzz_added", "x");
            (void)mastercf_remove_override(&entries[i], "fuzz_added");
            struct buf flat = BUF_INIT, folded = BUF_INIT, back = BUF_INIT;
            mastercf_format(&entries[i], &flat);
            mastercf_format_folded(&entries[i], &folded);
            if (mastercf_parse(folded.data, folded.len, "folded", &again,
                               &again_count, &err) != 0 ||
                again_count != 1)
                abort();
            mastercf_format(&again[0], &back);
            if (strcmp(buf_cstr(&back), buf_cstr(&flat)) != 0)
                abort();
            mastercf_free(again, again_count);
            buf_free(&flat);
            buf_free(&folded);
            buf_free(&back);
        }
    }
    mastercf_free(entries, count);
    buf_free(&err);
    buf_free(&line);
    return 0;
}
