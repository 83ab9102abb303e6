/* qinject.c: puts a message into a queue the way smtpd does (lib/queue/qfile
 * writer: temporary file, fdatasync, rename, directory fsync) and prints
 * its queue id, so qmgr tests need no smtpd.
 *
 *   qinject [-a SECONDS_AGO] [-r full|hdrs] [-e ENVID] QUEUE_DIR SENDER
 *           RCPT[/NOTIFY][/ORCPT]... < message
 * SENDER "" is the null sender. NOTIFY is a number (QFILE_NOTIFY_* bits:
 * 1 NEVER, 2 SUCCESS, 4 FAILURE, 8 DELAY). -a back-dates the arrival
 * time (expiry and delay warning tests). The message goes to incoming/. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/fsync_dir.h"
#include "base/buf.h"
#include "queue/qfile_writer.h"

int main(int argc, char **argv)
{
    long ago = 0;
    const char *ret = NULL, *envid = NULL;
    int opt;
    while ((opt = getopt(argc, argv, "a:r:e:")) != -1) {
        if (opt == 'a')
            ago = atol(optarg);
        else if (opt == 'r')
            ret = optarg;
        else if (opt == 'e')
            envid = optarg;
        else
            return 2;
    }
    if (argc - optind < 3) {
        fprintf(stderr, "usage: qinject [-a ago] QUEUE_DIR SENDER RCPT...\n");
        return 2;
    }
    struct buf err = BUF_INIT, dir = BUF_INIT;
    buf_appendf(&dir, "%s/incoming", argv[optind]);
    struct qfile_writer *w = qfile_writer_create(dir.data, &err);
    if (!w)
        goto fail;
    if (ago &&
        qfile_writer_arrival(w, (uint64_t)(time(NULL) - ago), 0, &err) < 0)
        goto fail;
    if (qfile_writer_sender(w, argv[optind + 1], &err) < 0)
        goto fail;
    if (ret && qfile_writer_dsn_ret(w,
                                    strcmp(ret, "hdrs") == 0 ? QFILE_RET_HDRS
                                                             : QFILE_RET_FULL,
                                    &err) < 0)
        goto fail;
    if (envid && qfile_writer_dsn_envid(w, envid, &err) < 0)
        goto fail;
    if (qfile_writer_attr(w, "client_name", "localhost", &err) < 0 ||
        qfile_writer_attr(w, "client_address", "127.0.0.1", &err) < 0)
        goto fail;
    for (int i = optind + 2; i < argc; i++) {
        char *spec = strdup(argv[i]);
        struct qfile_recipient rc;
        memset(&rc, 0, sizeof(rc));
        rc.address = spec;
        char *slash = strchr(spec, '/');
        if (slash) {
            *slash++ = 0;
            rc.notify = (unsigned)strtoul(slash, &slash, 10);
            if (*slash == '/')
                rc.orcpt = slash + 1;
        }
        int bad = qfile_writer_recipient(w, &rc, &err) < 0;
        free(spec);
        if (bad)
            goto fail;
    }
    if (qfile_writer_content_begin(w, &err) < 0)
        goto fail;
    char data[65536];
    size_t got;
    while ((got = fread(data, 1, sizeof(data), stdin)) > 0)
        if (qfile_writer_content_append(w, data, got, &err) < 0)
            goto fail;
    if (qfile_writer_content_end(w, &err) < 0 ||
        qfile_writer_finish(w, &err) < 0 || qfile_writer_commit(w, &err) < 0 ||
        fsync_dir(dir.data, &err) < 0)
        goto fail;
    printf("%s\n", qfile_writer_qid(w));
    qfile_writer_free(w);
    buf_free(&dir);
    buf_free(&err);
    return 0;
fail:
    fprintf(stderr, "qinject: %s\n", err.data);
    qfile_writer_free(w);
    buf_free(&dir);
    buf_free(&err);
    return 1;
}
