/* fuzz_qfile.c: fuzz target for the queue file reader (lib/queue/qfile_reader)
 * and the in-place updates (lib/queue/qfile).
 *
 * The input becomes the contents of a memory file, read through the same
 * descriptor-based code the daemons use. Beyond "no crash, no sanitizer
 * report", it checks properties: a file the reader accepts streams
 * exactly message_size bytes, and after marking every recipient done and
 * patching the flags it is still accepted, with every recipient done. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "base/buf.h"
#include "queue/qfile.h"
#include "queue/qfile_reader.h"

static int memory_file(const uint8_t *data, size_t size)
{
    static int fd = -1;
    if (fd < 0 && (fd = memfd_create("fuzz_qfile", MFD_CLOEXEC)) < 0)
        abort();
    if (ftruncate(fd, 0) < 0 ||
        (size > 0 && pwrite(fd, data, size, 0) != (ssize_t)size))
        abort();
    return fd;
}

static void check_accepted(struct qfile_reader *r, struct buf *err)
{
    struct qfile_envelope env;
    if (qfile_read_envelope(r, &env, err) != QFILE_OK) {
        qfile_envelope_free(&env);
        return;
    }
    /* Accepted: the content streams in full and nothing more. */
    struct buf chunk = BUF_INIT;
    uint64_t streamed = 0;
    while (qfile_content_read(r, &chunk, 4096, err) == QFILE_OK &&
           chunk.len > 0)
        streamed += chunk.len;
    if (streamed != env.header.message_size || env.sender == NULL ||
        env.recipient_count == 0)
        abort();
    buf_free(&chunk);

    /* In-place updates keep the file valid, whether made through the
     * reader (its cache follows) or the bare descriptor (then rewind). */
    int fd = qfile_reader_fd(r);
    for (size_t i = 0; i < env.recipient_count; i++)
        if ((i % 2 ? qfile_mark_done(fd, env.recipients[i].offset, QFILE_NOSYNC,
                                     err)
                   : qfile_reader_mark_done(r, env.recipients[i].offset,
                                            QFILE_NOSYNC, err)) != QFILE_OK)
            abort();
    if (qfile_reader_patch_flags(r, QFILE_FLAG_WARNED, QFILE_NOSYNC, err) !=
            QFILE_OK ||
        qfile_patch_warn_time(fd, 12345, QFILE_NOSYNC, err) != QFILE_OK)
        abort();
    size_t count = env.recipient_count;
    qfile_envelope_free(&env);
    qfile_reader_rewind(r);
    if (qfile_read_envelope(r, &env, err) != QFILE_OK ||
        env.recipient_count != count || env.done_count != count ||
        env.header.flags != QFILE_FLAG_WARNED || env.header.warn_time != 12345)
        abort();
    qfile_envelope_free(&env);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fd = memory_file(data, size);
    struct buf err = BUF_INIT;
    struct qfile_reader *r;
    if (qfile_reader_fdopen(fd, &r, &err) == QFILE_OK) {
        /* The raw iterator alone, then the full check. */
        struct qfile_record rec;
        for (int i = 0; i < 100000; i++)
            if (qfile_read_record(r, &rec, &err) != QFILE_OK ||
                rec.type == QFILE_REC_END)
                break;
        check_accepted(r, &err);
        qfile_reader_close(r);
    } else if (err.len == 0) {
        abort(); /* every failure must say why */
    }
    buf_free(&err);
    return 0;
}
