/* requeue_fixture.h: shared by test_recleanup.c and test_requeue.c:
 * writing a queue file from a short description (recipients with their
 * original addresses and done marks, attributes, content), reading one
 * back, and a rewriting object for a small site whose tables the test
 * writes (lib/routing/rewrite through addr_fixture.h). */
#ifndef POSTERN_REQUEUE_FIXTURE_H
#define POSTERN_REQUEUE_FIXTURE_H

#include "unit.h"

#include <fcntl.h>
#include <unistd.h>

#include "addr_fixture.h"
#include "base/buf.h"
#include "base/log.h"
#include "base/mem.h"
#include "queue/qfile.h"
#include "queue/qfile_reader.h"
#include "queue/qfile_writer.h"
#include "queue/qid.h"

struct fx_rcpt {
    const char *address;
    const char *original; /* NULL: none */
    const char *orcpt;    /* NULL: none */
    unsigned notify;
    int done;
};

#define FX_MAX 8

struct fx_message {
    const char *sender;
    struct fx_rcpt rcpts[FX_MAX]; /* ends at the first NULL address */
    const char *attrs[FX_MAX];    /* "name=value", ends at NULL */
    const char *content;          /* NULL: a small default */
    size_t content_len;           /* 0: strlen(content) */
    uint32_t flags;
    uint64_t warn_time;
    uint32_t encoding;
    char dsn_ret;
    const char *envid;
    int self_orig_id; /* add orig_id=<the file's own id> */
};

/* Writes m into dir and commits it; the id goes to qid (QID_BUF_SIZE).
 * Returns 0, or -1 after printing why. */
static inline int fx_write(const char *dir, const struct fx_message *m,
                           char *qid)
{
    struct buf err = BUF_INIT;
    struct qfile_writer *w = qfile_writer_create(dir, &err);
    int rc = w ? 0 : -1;
    const char *content = m->content ? m->content
                                     : "From: alice@example.com\n"
                                       "To: bob@example.com\n"
                                       "Subject: fixture\n\nbody\n";
    size_t content_len = m->content_len ? m->content_len : strlen(content);
    if (rc == 0)
        rc = qfile_writer_arrival(w, 1700000000, 250000, &err);
    if (rc == 0)
        rc = qfile_writer_sender(w, m->sender ? m->sender : "", &err);
    for (int i = 0; i < FX_MAX && m->rcpts[i].address && rc == 0; i++) {
        struct qfile_recipient r;
        memset(&r, 0, sizeof(r));
        r.address = (char *)m->rcpts[i].address;
        r.original = (char *)m->rcpts[i].original;
        r.orcpt = (char *)m->rcpts[i].orcpt;
        r.notify = m->rcpts[i].notify;
        r.done = m->rcpts[i].done;
        rc = qfile_writer_recipient(w, &r, &err);
    }
    for (int i = 0; i < FX_MAX && m->attrs[i] && rc == 0; i++) {
        char *copy = xstrdup(m->attrs[i]);
        char *eq = strchr(copy, '=');
        *eq = 0;
        rc = qfile_writer_attr(w, copy, eq + 1, &err);
        free(copy);
    }
    if (rc == 0 && m->self_orig_id)
        rc = qfile_writer_attr(w, "orig_id", qfile_writer_qid(w), &err);
    if (rc == 0 && m->flags)
        rc = qfile_writer_flags(w, m->flags, &err);
    if (rc == 0 && m->warn_time)
        rc = qfile_writer_warn_time(w, m->warn_time, &err);
    if (rc == 0 && m->encoding)
        rc = qfile_writer_encoding(w, m->encoding, &err);
    if (rc == 0 && m->dsn_ret)
        rc = qfile_writer_dsn_ret(w, m->dsn_ret, &err);
    if (rc == 0 && m->envid)
        rc = qfile_writer_dsn_envid(w, m->envid, &err);
    if (rc == 0)
        rc = qfile_writer_content_begin(w, &err) < 0 ||
                     qfile_writer_content_append(w, content, content_len,
                                                 &err) < 0 ||
                     qfile_writer_content_end(w, &err) < 0 ||
                     qfile_writer_finish(w, &err) < 0 ||
                     qfile_writer_commit(w, &err) < 0
                 ? -1
                 : 0;
    if (rc == 0)
        snprintf(qid, QID_BUF_SIZE, "%s", qfile_writer_qid(w));
    else
        printf("#   writing the fixture: %s\n", buf_cstr(&err));
    qfile_writer_free(w);
    buf_free(&err);
    return rc;
}

/* Reads path's envelope into env and its content into content. */
static inline int fx_read(const char *path, struct qfile_envelope *env,
                          struct buf *content)
{
    struct buf err = BUF_INIT, chunk = BUF_INIT;
    struct qfile_reader *r = NULL;
    memset(env, 0, sizeof(*env));
    buf_reset(content);
    enum qfile_result rr = qfile_reader_open(path, 0, &r, &err);
    if (rr == QFILE_OK)
        rr = qfile_read_envelope(r, env, &err);
    while (rr == QFILE_OK &&
           (rr = qfile_content_read(r, &chunk, 4096, &err)) == QFILE_OK &&
           chunk.len > 0)
        buf_append(content, chunk.data, chunk.len);
    if (rr != QFILE_OK)
        printf("#   reading %s: %s\n", path, buf_cstr(&err));
    qfile_reader_close(r);
    buf_free(&err);
    buf_free(&chunk);
    return rr == QFILE_OK ? 0 : -1;
}

/* The whole file at path into out. */
static inline void fx_read_whole(const char *path, struct buf *out)
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

/* The recipients of env as "A address<-original" / "D address<-original"
 * joined with ", " (static storage). */
static inline const char *fx_rcpts(const struct qfile_envelope *env)
{
    static char text[2048];
    struct buf out = BUF_INIT;
    for (size_t i = 0; i < env->recipient_count; i++) {
        const struct qfile_recipient *r = &env->recipients[i];
        buf_appendf(&out, "%s%c %s<-%s", i ? ", " : "", r->done ? 'D' : 'R',
                    r->address, r->original);
    }
    snprintf(text, sizeof(text), "%s", buf_cstr(&out));
    buf_free(&out);
    return text;
}

/* A rewriting object for addr_fixture's site with the given tables
 * ("" for none). */
static inline struct rewrite *fx_rewrite(const char *virtual_alias_maps,
                                         const char *sender_canonical_maps,
                                         const char *canonical_maps)
{
    struct rewrite_settings s;
    fixture_rewrite_settings(&s);
    s.virtual_alias_maps = virtual_alias_maps;
    s.sender_canonical_maps = sender_canonical_maps;
    s.canonical_maps = canonical_maps;
    return fixture_rewrite(&s);
}

#endif
