/* qfile_make.c: writes one queue file with lib/queue/qfile_writer, for the
 * queue tool tests, and prints its queue id.
 *
 *   qfile_make DIR [-s sender] [-t arrival_seconds] [-a name=value]...
 *              [-r rcpt [-O orig] [-N notify_bits] [-D]]... [-R ret]
 *              [-E envid] [-w warn_time] [-F flags]
 *              [-m content | -f content_file]
 *
 * The file is committed into DIR (e.g. QUEUE/deferred) under the id the
 * writer chose. -O, -N and -D apply to the recipient named just before
 * them; -D marks it done after the commit. Exit 0, or 1 with the
 * writer's reason on stderr. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/mem.h"
#include "queue/qfile.h"
#include "queue/qfile_reader.h"
#include "queue/qfile_writer.h"

#define MAX_RCPTS 64

static void fail(const char *what, const struct buf *err)
{
    fprintf(stderr, "qfile_make: %s: %s\n", what, buf_cstr(err));
    exit(1);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: qfile_make DIR [options]\n");
        return 2;
    }
    const char *dir = argv[1];
    const char *sender = "sender@example.com";
    struct qfile_recipient rcpts[MAX_RCPTS];
    int done[MAX_RCPTS];
    size_t nrcpt = 0;
    struct buf content = BUF_INIT, err = BUF_INIT;
    buf_append_str(&content, "From: sender@example.com\nTo: rcpt@example.org\n"
                             "Subject: test\n\nbody line\n");
    struct qfile_writer *w = qfile_writer_create(dir, &err);
    if (w == NULL)
        fail("create", &err);
    for (int i = 2; i < argc; i++) {
        const char *opt = argv[i];
        if (i + 1 >= argc && strcmp(opt, "-D") != 0) {
            fprintf(stderr, "qfile_make: %s needs a value\n", opt);
            return 2;
        }
        if (strcmp(opt, "-s") == 0) {
            sender = argv[++i];
        } else if (strcmp(opt, "-t") == 0) {
            if (qfile_writer_arrival(w, strtoull(argv[++i], NULL, 10), 0,
                                     &err) < 0)
                fail("arrival", &err);
        } else if (strcmp(opt, "-a") == 0) {
            char *copy = xstrdup(argv[++i]), *eq = strchr(copy, '=');
            if (eq == NULL)
                return 2;
            *eq = 0;
            if (qfile_writer_attr(w, copy, eq + 1, &err) < 0)
                fail("attr", &err);
            free(copy);
        } else if (strcmp(opt, "-r") == 0) {
            if (nrcpt == MAX_RCPTS)
                return 2;
            memset(&rcpts[nrcpt], 0, sizeof(rcpts[nrcpt]));
            rcpts[nrcpt].address = argv[++i];
            rcpts[nrcpt].orcpt = (char *)"";
            rcpts[nrcpt].original = (char *)"";
            done[nrcpt] = 0;
            nrcpt++;
        } else if (strcmp(opt, "-O") == 0 && nrcpt > 0) {
            rcpts[nrcpt - 1].original = argv[++i];
        } else if (strcmp(opt, "-N") == 0 && nrcpt > 0) {
            rcpts[nrcpt - 1].notify = (unsigned)atoi(argv[++i]);
        } else if (strcmp(opt, "-D") == 0 && nrcpt > 0) {
            done[nrcpt - 1] = 1;
        } else if (strcmp(opt, "-R") == 0) {
            if (qfile_writer_dsn_ret(w, argv[++i][0], &err) < 0)
                fail("ret", &err);
        } else if (strcmp(opt, "-E") == 0) {
            if (qfile_writer_dsn_envid(w, argv[++i], &err) < 0)
                fail("envid", &err);
        } else if (strcmp(opt, "-w") == 0) {
            if (qfile_writer_warn_time(w, strtoull(argv[++i], NULL, 10), &err) <
                0)
                fail("warn_time", &err);
        } else if (strcmp(opt, "-F") == 0) {
            if (qfile_writer_flags(w, (uint32_t)atoi(argv[++i]), &err) < 0)
                fail("flags", &err);
        } else if (strcmp(opt, "-m") == 0) {
            buf_set_str(&content, argv[++i]);
        } else if (strcmp(opt, "-f") == 0) {
            FILE *fp = fopen(argv[++i], "rb");
            if (fp == NULL) {
                perror(argv[i]);
                return 1;
            }
            buf_reset(&content);
            char chunk[4096];
            size_t got;
            while ((got = fread(chunk, 1, sizeof(chunk), fp)) > 0)
                buf_append(&content, chunk, got);
            fclose(fp);
        } else {
            fprintf(stderr, "qfile_make: unknown option %s\n", opt);
            return 2;
        }
    }
    if (nrcpt == 0) {
        rcpts[0].address = (char *)"rcpt@example.org";
        rcpts[0].orcpt = rcpts[0].original = (char *)"";
        rcpts[0].notify = 0;
        done[0] = 0;
        nrcpt = 1;
    }
    if (qfile_writer_sender(w, sender, &err) < 0)
        fail("sender", &err);
    for (size_t i = 0; i < nrcpt; i++)
        if (qfile_writer_recipient(w, &rcpts[i], &err) < 0)
            fail("recipient", &err);
    if (qfile_writer_content_begin(w, &err) < 0 ||
        qfile_writer_content_append(w, content.data, content.len, &err) < 0 ||
        qfile_writer_content_end(w, &err) < 0)
        fail("content", &err);
    if (qfile_writer_finish(w, &err) < 0 || qfile_writer_commit(w, &err) < 0)
        fail("commit", &err);
    char *qid = xstrdup(qfile_writer_qid(w));
    qfile_writer_free(w);

    int any_done = 0;
    for (size_t i = 0; i < nrcpt; i++)
        any_done |= done[i];
    if (any_done) {
        char *path = xasprintf("%s/%s", dir, qid);
        struct qfile_reader *r;
        struct qfile_envelope env;
        if (qfile_reader_open(path, 1, &r, &err) != QFILE_OK)
            fail("reopen", &err);
        if (qfile_read_envelope(r, &env, &err) != QFILE_OK)
            fail("envelope", &err);
        for (size_t i = 0; i < nrcpt && i < env.recipient_count; i++)
            if (done[i] &&
                qfile_reader_mark_done(r, env.recipients[i].offset,
                                       QFILE_NOSYNC, &err) != QFILE_OK)
                fail("mark done", &err);
        qfile_envelope_free(&env);
        qfile_reader_close(r);
        free(path);
    }
    printf("%s\n", qid);
    free(qid);
    buf_free(&content);
    buf_free(&err);
    return 0;
}
