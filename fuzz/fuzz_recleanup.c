/* fuzz_recleanup.c: fuzz target for the content pass of lib/queue/recleanup
 * (the requeue step's header rewriting over message bytes that came
 * from the network).
 *
 * The input is the content of a queued message. Properties beyond "no
 * crash, no sanitizer report":
 *   - in the remote context without remote_header_rewrite_domain no
 *     header address changes, so the new content equals the input byte
 *     for byte, however the lines are cut or folded;
 *   - in the local context, with canonical maps that match, the result
 *     is a queue file the reader accepts, and the body (where
 *     lib/message/header finds it) comes out unchanged. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "message/header.h"
#include "queue/qfile_reader.h"
#include "queue/qfile_writer.h"
#include "queue/qid.h"
#include "queue/recleanup.h"
#include "routing/rewrite.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[256];
static struct rewrite *rw;

static void setup(void)
{
    const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    snprintf(dir, sizeof(dir), "%s/fuzz_recleanup.XXXXXX", base);
    if (mkdtemp(dir) == NULL)
        abort();
    struct rewrite_settings s;
    memset(&s, 0, sizeof(s));
    s.myhostname = "mail.example.com";
    s.myorigin = s.mydomain = "example.com";
    s.mydestination = "example.com";
    s.inet_interfaces = "127.0.0.1";
    s.proxy_interfaces = "";
    s.append_at_myorigin = s.swap_bangpath = s.allow_percent_hack = 1;
    s.recipient_delimiter = "+";
    s.propagate_unmatched_extensions = "canonical, virtual";
    s.canonical_maps = "inline:{a@example.com=b@example.org, "
                       "root@example.com=admin@example.org}";
    s.sender_canonical_maps = "";
    s.recipient_canonical_maps = "";
    s.canonical_classes = "envelope_sender, envelope_recipient, "
                          "header_sender, header_recipient";
    s.sender_canonical_classes = "envelope_sender, header_sender";
    s.recipient_canonical_classes = "envelope_recipient, header_recipient";
    s.virtual_alias_maps = "";
    s.virtual_alias_recursion_limit = 1000;
    s.virtual_alias_expansion_limit = 1000;
    s.virtual_alias_address_length_limit = 1000;
    s.remote_header_rewrite_domain = "";
    struct buf err = BUF_INIT;
    rw = rewrite_open(&s, &err);
    if (rw == NULL)
        abort();
    buf_free(&err);
}

static void cleanup(void)
{
    rmdir(dir);
}

/* Writes a queue file with the input as content in the given context;
 * returns its path (heap) or NULL. */
static char *old_file(const uint8_t *data, size_t size, const char *context)
{
    struct buf err = BUF_INIT;
    struct qfile_writer *w = qfile_writer_create(dir, &err);
    struct qfile_recipient r;
    memset(&r, 0, sizeof(r));
    r.address = (char *)"a@example.com";
    char *path = NULL;
    if (w && qfile_writer_sender(w, "a@example.com", &err) == 0 &&
        qfile_writer_recipient(w, &r, &err) == 0 &&
        qfile_writer_attr(w, "rewrite_context", context, &err) == 0 &&
        qfile_writer_content_begin(w, &err) == 0 &&
        qfile_writer_content_append(w, data, size, &err) == 0 &&
        qfile_writer_content_end(w, &err) == 0 &&
        qfile_writer_finish(w, &err) == 0 &&
        qfile_writer_commit(w, &err) == 0) {
        path = malloc(strlen(dir) + QID_BUF_SIZE + 2);
        sprintf(path, "%s/%s", dir, qfile_writer_qid(w));
    }
    qfile_writer_free(w);
    buf_free(&err);
    return path;
}

/* Runs recleanup_message over path; the new content goes to out.
 * Returns the result. */
static enum recleanup_result run(const char *path, struct buf *out)
{
    struct buf err = BUF_INIT, chunk = BUF_INIT;
    struct qfile_reader *r = NULL, *nr = NULL;
    struct qfile_envelope env, new_env;
    memset(&env, 0, sizeof(env));
    memset(&new_env, 0, sizeof(new_env));
    struct recleanup_info info;
    recleanup_info_init(&info);
    enum recleanup_result result = RECLEANUP_ERROR;
    struct qfile_writer *w = qfile_writer_create(dir, &err);
    if (w && qfile_reader_open(path, 0, &r, &err) == QFILE_OK &&
        qfile_read_envelope(r, &env, &err) == QFILE_OK)
        result = recleanup_message(rw, r, &env, "OLDID", w, &info, &err);
    if (result == RECLEANUP_OK) {
        if (qfile_writer_finish(w, &err) < 0 ||
            qfile_writer_commit(w, &err) < 0)
            abort();
        char *new_path = malloc(strlen(dir) + QID_BUF_SIZE + 2);
        sprintf(new_path, "%s/%s", dir, qfile_writer_qid(w));
        if (qfile_reader_open(new_path, 0, &nr, &err) != QFILE_OK ||
            qfile_read_envelope(nr, &new_env, &err) != QFILE_OK)
            abort(); /* the writer made a file the reader refuses */
        buf_reset(out);
        enum qfile_result cr;
        while ((cr = qfile_content_read(nr, &chunk, 65536, &err)) == QFILE_OK &&
               chunk.len > 0)
            buf_append(out, chunk.data, chunk.len);
        if (cr != QFILE_OK || out->len != new_env.header.message_size)
            abort();
        unlink(new_path);
        free(new_path);
    }
    qfile_envelope_free(&env);
    qfile_envelope_free(&new_env);
    qfile_reader_close(r);
    qfile_reader_close(nr);
    qfile_writer_free(w);
    recleanup_info_free(&info);
    buf_free(&err);
    buf_free(&chunk);
    return result;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (rw == NULL) {
        setup();
        atexit(cleanup);
    }
    struct buf out = BUF_INIT;
    char *path = old_file(data, size, "remote");
    if (path) {
        if (run(path, &out) != RECLEANUP_OK || out.len != size ||
            (size && memcmp(out.data, data, size) != 0))
            abort(); /* remote headers must come out untouched */
        unlink(path);
        free(path);
    }
    path = old_file(data, size, "local");
    if (path) {
        struct header_block hb;
        header_block_init(&hb, 0, 0, 0);
        header_parse(&hb, (const char *)data, size);
        size_t body = hb.body_offset;
        header_block_free(&hb);
        /* Header addresses may change; the body never does. */
        size_t tail = size - body;
        if (run(path, &out) == RECLEANUP_OK &&
            (out.len < tail ||
             (tail && memcmp(out.data + out.len - tail, data + body, tail))))
            abort();
        unlink(path);
        free(path);
    }
    buf_free(&out);
    return 0;
}
