/* fuzz_showq.c: fuzz target for the showq/1 reply reader (lib/queue/showq), the
 * client half postqueue and mailq run on what comes from public/showq.
 *
 * The input is the whole reply, read from a memory file through a
 * stream as from the socket, and printed in both formats. The reader
 * must end every input with a result, print nothing it did not check,
 * and say why whenever it refuses. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "base/buf.h"
#include "queue/queue_list.h"
#include "queue/showq.h"
#include "base/stream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static FILE *sink;
    if (sink == NULL && (sink = fopen("/dev/null", "w")) == NULL)
        abort();
    for (int format = 0; format < 2; format++) {
        int fd = memfd_create("showq", MFD_CLOEXEC);
        if (fd < 0)
            return 0;
        if (size > 0 && write(fd, data, size) != (ssize_t)size) {
            close(fd);
            return 0;
        }
        lseek(fd, 0, SEEK_SET);
        struct stream *s = stream_open(fd);
        struct queue_list_printer printer;
        queue_list_printer_init(&printer,
                                format ? QUEUE_LIST_JSON : QUEUE_LIST_TEXT,
                                "MAILER-DAEMON", sink);
        struct showq_refusal refusal = {BUF_INIT, -1};
        struct buf err = BUF_INIT;
        enum showq_result result =
            showq_read_listing(s, &printer, &refusal, &err);
        if ((result == SHOWQ_ERROR || result == SHOWQ_INCOMPLETE) &&
            err.len == 0)
            abort(); /* every failure must say why */
        if (result == SHOWQ_DOWN || result == SHOWQ_NOACCESS)
            abort(); /* only showq_list connects */
        queue_list_print_end(&printer);
        stream_close(s);
        buf_free(&refusal.user);
        buf_free(&err);
    }
    return 0;
}
