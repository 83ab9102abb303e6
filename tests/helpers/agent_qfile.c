/* agent_qfile.c: writes one queue file with lib/queue/qfile_writer, for the
 * delivery agent tests (tests/e2e/test_virtual.py, test_local.py).
 *
 *   agent_qfile DIR SENDER RCPT... < CONTENT
 * Writes the content (stdin, taken as is) into a new queue file in DIR,
 * commits it, and prints what a deliver/1 request needs:
 *   qid QUEUEID
 *   arrival SECONDS
 *   size MESSAGE_SIZE
 *   content_offset OFFSET
 *   rcpt OFFSET ADDRESS          (one line per recipient, in order)
 * A RCPT of the form ADDRESS=ORIGINAL also sets orig_to. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/fsync_dir.h"
#include "base/buf.h"
#include "base/mem.h"
#include "queue/qfile_reader.h"
#include "queue/qfile_writer.h"

static void die(const char *what, struct buf *err)
{
    fprintf(stderr, "agent_qfile: %s: %s\n", what, buf_cstr(err));
    exit(1);
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: agent_qfile DIR SENDER RCPT... < CONTENT\n");
        return 2;
    }
    struct buf err = BUF_INIT;
    struct qfile_writer *w = qfile_writer_create(argv[1], &err);
    if (w == NULL)
        die("create", &err);
    if (qfile_writer_sender(w, argv[2], &err) < 0)
        die("sender", &err);
    for (int i = 3; i < argc; i++) {
        char *addr = xstrdup(argv[i]);
        char *eq = strchr(addr, '=');
        struct qfile_recipient rcpt;
        memset(&rcpt, 0, sizeof(rcpt));
        if (eq) {
            *eq = 0;
            rcpt.original = eq + 1;
        }
        rcpt.address = addr;
        if (qfile_writer_recipient(w, &rcpt, &err) < 0)
            die("recipient", &err);
        free(addr);
    }
    if (qfile_writer_content_begin(w, &err) < 0)
        die("content", &err);
    char chunk[8192];
    ssize_t n;
    while ((n = read(0, chunk, sizeof(chunk))) > 0)
        if (qfile_writer_content_append(w, chunk, (size_t)n, &err) < 0)
            die("content", &err);
    if (qfile_writer_content_end(w, &err) < 0 ||
        qfile_writer_finish(w, &err) < 0 || qfile_writer_commit(w, &err) < 0)
        die("commit", &err);
    char *qid = xstrdup(qfile_writer_qid(w));
    qfile_writer_free(w);
    if (fsync_dir(argv[1], &err) < 0)
        die("sync", &err);

    struct buf path = BUF_INIT;
    buf_appendf(&path, "%s/%s", argv[1], qid);
    struct qfile_reader *r;
    struct qfile_envelope env;
    memset(&env, 0, sizeof(env));
    if (qfile_reader_open(buf_cstr(&path), 0, &r, &err) != QFILE_OK ||
        qfile_read_envelope(r, &env, &err) != QFILE_OK)
        die("read back", &err);
    printf("qid %s\narrival %llu\nsize %llu\ncontent_offset %llu\n", qid,
           (unsigned long long)env.arrival_sec,
           (unsigned long long)env.header.message_size,
           (unsigned long long)env.header.content_offset);
    for (size_t i = 0; i < env.recipient_count; i++)
        printf("rcpt %llu %s\n", (unsigned long long)env.recipients[i].offset,
               env.recipients[i].address);
    qfile_envelope_free(&env);
    qfile_reader_close(r);
    buf_free(&path);
    free(qid);
    return 0;
}
