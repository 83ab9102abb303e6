/* qfile_fixture.h: helpers shared by the queue file unit tests
 * (test_qfile.c, test_qfile_damage.c): temporary directories, a sample
 * message written with every field, and running the whole reader over
 * bytes in memory. */
#ifndef POSTERN_QFILE_FIXTURE_H
#define POSTERN_QFILE_FIXTURE_H

#include "base/fsync_dir.h"
#include "unit.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/mem.h"
#include "queue/qfile.h"
#include "queue/qfile_reader.h"
#include "queue/qfile_writer.h"
#include "queue/qid.h"

static const char SAMPLE_CONTENT[] =
    "Received: from client.example (client.example [192.0.2.1])\n"
    "From: Alice <alice@example.org>\n"
    "To: bob@example.com\n"
    "Subject: test\n"
    "\n"
    "Hello Bob,\n"
    "\n"
    "this is the body.\n"
    /* bytes that parse as a recipient record head ('R', length 10) */
    "R\x00\x00\x00\x0a\n";

/* A fresh empty directory for a test; removed by remove_dir. */
static inline char *make_dir(void)
{
    const char *tmp = getenv("TMPDIR");
    char *path = xasprintf("%s/test_qfile.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (mkdtemp(path) == NULL) {
        printf("#   mkdtemp %s: %s\n", path, strerror(errno));
        exit(1);
    }
    return path;
}

static inline int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *ent;
    int count = 0;
    while (d && (ent = readdir(d)) != NULL)
        if (strcmp(ent->d_name, ".") != 0 && strcmp(ent->d_name, "..") != 0)
            count++;
    if (d)
        closedir(d);
    return count;
}

static inline void remove_dir(char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *ent;
    while (d && (ent = readdir(d)) != NULL) {
        if (ent->d_name[0] == '.' &&
            (ent->d_name[1] == '\0' || strcmp(ent->d_name, "..") == 0))
            continue;
        char *path = xasprintf("%s/%s", dir, ent->d_name);
        if (unlink(path) < 0)
            rmdir(path);
        free(path);
    }
    if (d)
        closedir(d);
    rmdir(dir);
    free(dir);
}

static inline void read_whole(const char *path, struct buf *out)
{
    buf_reset(out);
    int fd = open(path, O_RDONLY);
    char chunk[4096];
    ssize_t got;
    while (fd >= 0 && (got = read(fd, chunk, sizeof(chunk))) > 0)
        buf_append(out, chunk, (size_t)got);
    if (fd >= 0)
        close(fd);
}

/* Writes a complete sample message into dir and commits it; returns the
 * path of the queue file (heap), or NULL. */
static inline char *write_sample(const char *dir, char *qid_out)
{
    struct buf err = BUF_INIT;
    struct qfile_writer *w = qfile_writer_create(dir, &err);
    if (w == NULL) {
        printf("#   create: %s\n", buf_cstr(&err));
        buf_free(&err);
        return NULL;
    }
    struct qfile_recipient r1 = {"bob@example.com",
                                 "rfc822;bob@example.com",
                                 "bobby@example.com",
                                 QFILE_NOTIFY_SUCCESS | QFILE_NOTIFY_FAILURE,
                                 0,
                                 0};
    struct qfile_recipient r2 = {"carol@example.net", NULL, NULL, 0, 0, 0};
    struct qfile_recipient r3 = {"dave@example.net", "", "",
                                 QFILE_NOTIFY_NEVER, 0,  0};
    int failed =
        qfile_writer_arrival(w, 1763860000, 123456, &err) < 0 ||
        qfile_writer_sender(w, "alice@example.org", &err) < 0 ||
        qfile_writer_attr(w, "client_name", "client.example", &err) < 0 ||
        qfile_writer_attr(w, "client_address", "192.0.2.1", &err) < 0 ||
        qfile_writer_attr(w, "verp", "+=", &err) < 0 ||
        qfile_writer_dsn_ret(w, QFILE_RET_HDRS, &err) < 0 ||
        qfile_writer_dsn_envid(w, "ENV-42", &err) < 0 ||
        qfile_writer_encoding(w, QFILE_ENC_8BITMIME | QFILE_ENC_SMTPUTF8,
                              &err) < 0 ||
        qfile_writer_recipient(w, &r1, &err) < 0 ||
        qfile_writer_recipient(w, &r2, &err) < 0 ||
        qfile_writer_content_begin(w, &err) < 0 ||
        qfile_writer_content_append(w, SAMPLE_CONTENT, 40, &err) < 0 ||
        qfile_writer_content_append(w, SAMPLE_CONTENT + 40,
                                    sizeof(SAMPLE_CONTENT) - 41, &err) < 0 ||
        qfile_writer_content_end(w, &err) < 0 ||
        /* after the content, as sendmail -t does */
        qfile_writer_recipient(w, &r3, &err) < 0 ||
        qfile_writer_warn_time(w, 1763874400, &err) < 0 ||
        qfile_writer_finish(w, &err) < 0 || qfile_writer_commit(w, &err) < 0 ||
        fsync_dir(dir, &err) < 0;
    char *path = NULL;
    if (failed)
        printf("#   writer: %s\n", buf_cstr(&err));
    else
        path = xasprintf("%s/%s", dir, qfile_writer_qid(w));
    if (qid_out)
        strcpy(qid_out, qfile_writer_qid(w));
    qfile_writer_free(w);
    buf_free(&err);
    return path;
}

/* Runs the whole reader over bytes held in a memory file. */
static inline enum qfile_result check_bytes(const void *data, size_t len,
                                            struct buf *err)
{
    int fd = memfd_create("qfile", MFD_CLOEXEC);
    if (fd < 0 || write(fd, data, len) != (ssize_t)len) {
        buf_append_str(err, "memfd");
        if (fd >= 0)
            close(fd);
        return QFILE_SYSERR;
    }
    struct qfile_reader *r;
    enum qfile_result result = qfile_reader_fdopen(fd, &r, err);
    if (result == QFILE_OK) {
        struct qfile_envelope env;
        result = qfile_read_envelope(r, &env, err);
        qfile_envelope_free(&env);
        struct buf chunk = BUF_INIT;
        while (result == QFILE_OK &&
               (result = qfile_content_read(r, &chunk, 7, err)) == QFILE_OK &&
               chunk.len > 0)
            ;
        buf_free(&chunk);
        qfile_reader_close(r);
    }
    close(fd);
    return result;
}

#endif
