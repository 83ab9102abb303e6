/* test_qfile.c: unit tests for the queue file writer, reader and
 * in-place updates (lib/queue/qfile*.c): round trips, streaming, the writer's
 * rules, done marking and header patches. Damaged files:
 * test_qfile_damage.c. */
#include "base/fsync_dir.h"
#include "unit.h"

#include "qfile_fixture.h"

static void test_qfile_round_trip(void)
{
    char *dir = make_dir();
    char qid[QID_BUF_SIZE] = "";
    char *path = write_sample(dir, qid);
    CHECK(path != NULL);
    if (path == NULL) {
        remove_dir(dir);
        return;
    }
    CHECK(qid_valid(qid));
    CHECK_INT(count_entries(dir), 1); /* no temporary file left */

    struct buf err = BUF_INIT;
    struct qfile_reader *r;
    CHECK_INT(qfile_reader_open(path, 0, &r, &err), QFILE_OK);
    struct qfile_envelope env;
    CHECK_INT(qfile_read_envelope(r, &env, &err), QFILE_OK);
    CHECK_STR(buf_cstr(&err), "");
    CHECK_INT(env.arrival_sec, 1763860000);
    CHECK_INT(env.arrival_usec, 123456);
    CHECK_STR(env.sender, "alice@example.org");
    CHECK_INT(env.dsn_ret, QFILE_RET_HDRS);
    CHECK_STR(env.envid, "ENV-42");
    CHECK_INT(env.encoding, QFILE_ENC_8BITMIME | QFILE_ENC_SMTPUTF8);
    CHECK_STR(qfile_envelope_attr(&env, "client_name"), "client.example");
    CHECK_STR(qfile_envelope_attr(&env, "verp"), "+=");
    CHECK(qfile_envelope_attr(&env, "helo_name") == NULL);
    CHECK_INT(env.recipient_count, 3);
    CHECK_INT(env.done_count, 0);
    if (env.recipient_count == 3) {
        CHECK_STR(env.recipients[0].address, "bob@example.com");
        CHECK_STR(env.recipients[0].orcpt, "rfc822;bob@example.com");
        CHECK_STR(env.recipients[0].original, "bobby@example.com");
        CHECK_INT(env.recipients[0].notify,
                  QFILE_NOTIFY_SUCCESS | QFILE_NOTIFY_FAILURE);
        CHECK_STR(env.recipients[1].address, "carol@example.net");
        CHECK_STR(env.recipients[1].orcpt, "");
        CHECK_INT(env.recipients[1].notify, 0);
        CHECK_STR(env.recipients[2].address, "dave@example.net");
        CHECK_INT(env.recipients[2].notify, QFILE_NOTIFY_NEVER);
        CHECK(env.recipients[2].offset > env.header.content_offset);
    }
    const struct qfile_header *h = qfile_reader_header(r);
    CHECK_INT(h->message_size, sizeof(SAMPLE_CONTENT) - 1);
    CHECK_INT(h->recipient_count, 3);
    CHECK_INT(h->warn_time, 1763874400);
    CHECK_INT(h->flags, 0);
    const char *body = strstr(SAMPLE_CONTENT, "\n\n") + 2;
    CHECK_INT(h->body_offset, body - SAMPLE_CONTENT);

    struct buf chunk = BUF_INIT, all = BUF_INIT;
    do {
        CHECK_INT(qfile_content_read(r, &chunk, 10, &err), QFILE_OK);
        CHECK(chunk.len <= 10);
        buf_append(&all, chunk.data, chunk.len);
    } while (chunk.len > 0 && all.len < 100000);
    CHECK(all.len == sizeof(SAMPLE_CONTENT) - 1 &&
          memcmp(all.data, SAMPLE_CONTENT, all.len) == 0); /* NULs too */
    CHECK_INT(qfile_content_seek(r, h->body_offset), 0);
    CHECK_INT(qfile_content_read(r, &chunk, 1000, &err), QFILE_OK);
    CHECK_INT(chunk.len, SAMPLE_CONTENT + sizeof(SAMPLE_CONTENT) - 1 - body);
    CHECK(memcmp(chunk.data, body, chunk.len) == 0);
    CHECK_INT(qfile_content_seek(r, h->message_size + 1), -1);

    /* The record iterator shows the layout in file order. */
    qfile_reader_rewind(r);
    struct qfile_record rec;
    struct buf types = BUF_INIT;
    while (qfile_read_record(r, &rec, &err) == QFILE_OK &&
           rec.type != QFILE_REC_END && types.len < 100)
        buf_append_char(&types, rec.type);
    CHECK_STR(buf_cstr(&types), "TSAAAPIXRRMR");
    CHECK_INT(qfile_read_record(r, &rec, &err), QFILE_OK);
    CHECK_INT(rec.type, QFILE_REC_END); /* again, at the end */

    buf_free(&types);
    buf_free(&chunk);
    buf_free(&all);
    qfile_envelope_free(&env);
    qfile_reader_close(r);
    buf_free(&err);
    free(path);
    remove_dir(dir);
}

/* Deterministic content bytes, so large messages need no copy in memory. */
static unsigned char pattern_byte(uint64_t i)
{
    return (unsigned char)((i * 2654435761u >> 13) ^ (i % 251));
}

static void test_qfile_streaming_large(void)
{
    const uint64_t total = 6 * 1024 * 1024 + 12345;
    char *dir = make_dir();
    struct buf err = BUF_INIT;
    struct qfile_writer *w = qfile_writer_create(dir, &err);
    CHECK(w != NULL);
    if (w == NULL) {
        remove_dir(dir);
        return;
    }
    struct qfile_recipient rcpt = {"big@example.com", NULL, NULL, 0, 0, 0};
    CHECK_INT(qfile_writer_sender(w, "", &err), 0); /* null sender */
    CHECK_INT(qfile_writer_recipient(w, &rcpt, &err), 0);
    CHECK_INT(qfile_writer_content_begin(w, &err), 0);
    unsigned char piece[200000];
    uint64_t written = 0;
    /* Odd sizes: small appends that gather, and large ones that bypass
     * the buffer. */
    size_t sizes[] = {1, 7919, 65536, 150001, 3, 99999};
    for (int i = 0; written < total; i++) {
        size_t len = sizes[i % 6];
        if (len > total - written)
            len = (size_t)(total - written);
        for (size_t j = 0; j < len; j++)
            piece[j] = pattern_byte(written + j);
        CHECK_INT(qfile_writer_content_append(w, piece, len, &err), 0);
        written += len;
    }
    CHECK_INT(qfile_writer_content_size(w), total);
    CHECK_INT(qfile_writer_content_end(w, &err), 0);
    CHECK_INT(qfile_writer_finish(w, &err), 0);
    CHECK_INT(qfile_writer_commit(w, &err), 0);
    CHECK_STR(buf_cstr(&err), "");
    char *path = xasprintf("%s/%s", dir, qfile_writer_qid(w));
    qfile_writer_free(w);

    struct qfile_reader *r;
    struct qfile_envelope env;
    CHECK_INT(qfile_reader_open(path, 0, &r, &err), QFILE_OK);
    if (r != NULL) {
        CHECK_INT(qfile_read_envelope(r, &env, &err), QFILE_OK);
        CHECK_STR(env.sender, "");
        CHECK_INT(env.header.message_size, total);
        CHECK_INT(env.header.body_offset, total); /* no empty line */
        struct buf chunk = BUF_INIT;
        uint64_t seen = 0, mismatches = 0;
        for (;;) {
            if (qfile_content_read(r, &chunk, 65536, &err) != QFILE_OK)
                break;
            if (chunk.len == 0)
                break;
            CHECK(chunk.len <= 65536);
            for (size_t j = 0; j < chunk.len; j++)
                mismatches +=
                    (unsigned char)chunk.data[j] != pattern_byte(seen + j);
            seen += chunk.len;
        }
        CHECK_INT(seen, total);
        CHECK_INT(mismatches, 0);
        buf_free(&chunk);
        qfile_envelope_free(&env);
        qfile_reader_close(r);
    }
    buf_free(&err);
    free(path);
    remove_dir(dir);
}

static void test_qfile_mark_done(void)
{
    char *dir = make_dir();
    char *path = write_sample(dir, NULL);
    struct buf err = BUF_INIT, before = BUF_INIT, after = BUF_INIT;
    struct qfile_reader *r = NULL;
    struct qfile_envelope env;
    CHECK(path != NULL);
    if (path == NULL || qfile_reader_open(path, 1, &r, &err) != QFILE_OK ||
        qfile_read_envelope(r, &env, &err) != QFILE_OK) {
        CHECK(0);
        remove_dir(dir);
        return;
    }
    int fd = qfile_reader_fd(r);
    read_whole(path, &before);
    CHECK_INT(
        qfile_reader_mark_done(r, env.recipients[1].offset, QFILE_SYNC, &err),
        QFILE_OK);
    read_whole(path, &after);
    /* Exactly one byte changed, R to D. */
    size_t changed = 0;
    for (size_t i = 0; i < before.len && i < after.len; i++)
        changed += before.data[i] != after.data[i];
    CHECK_INT(after.len, before.len);
    CHECK_INT(changed, 1);
    CHECK_INT(after.data[env.recipients[1].offset], 'D');
    /* Idempotent. */
    CHECK_INT(qfile_mark_done(fd, env.recipients[1].offset, QFILE_NOSYNC, &err),
              QFILE_OK);
    /* The reader sees its own update without re-reading. */
    uint64_t rcpt0 = env.recipients[0].offset;
    uint64_t rcpt2 = env.recipients[2].offset;
    uint64_t content = env.header.content_offset;
    qfile_envelope_free(&env);
    CHECK_INT(qfile_read_envelope(r, &env, &err), QFILE_OK);
    CHECK_INT(env.done_count, 1);
    CHECK(env.recipients[1].done);
    qfile_envelope_free(&env);
    /* A change through the bare descriptor is seen after a rewind. */
    CHECK_INT(qfile_mark_done(fd, rcpt2, QFILE_NOSYNC, &err), QFILE_OK);
    CHECK_INT(fdatasync(fd), 0);
    qfile_reader_rewind(r);
    CHECK_INT(qfile_read_envelope(r, &env, &err), QFILE_OK);
    CHECK_INT(env.done_count, 2);
    CHECK(!env.recipients[0].done);
    CHECK(env.recipients[1].done);
    CHECK(env.recipients[2].done);
    const struct qfile_recipient *found =
        qfile_envelope_recipient_at(&env, rcpt2);
    CHECK(found != NULL && strcmp(found->address, "dave@example.net") == 0);
    CHECK(qfile_envelope_recipient_at(&env, rcpt2 + 1) == NULL);
    qfile_envelope_free(&env);
    /* And by a fresh reader. */
    struct qfile_reader *fresh;
    CHECK_INT(qfile_reader_open(path, 0, &fresh, &err), QFILE_OK);
    if (fresh) {
        CHECK_INT(qfile_read_envelope(fresh, &env, &err), QFILE_OK);
        CHECK_INT(env.done_count, 2);
        qfile_envelope_free(&env);
        /* Read-only readers cannot write. */
        CHECK_INT(qfile_reader_mark_done(fresh, rcpt0, QFILE_NOSYNC, &err),
                  QFILE_SYSERR);
        qfile_reader_close(fresh);
    }

    /* Offsets that are not recipient records are refused untouched. */
    read_whole(path, &before);
    /* The content holds a line that looks like a recipient record. */
    const char *fake = memmem(SAMPLE_CONTENT, sizeof(SAMPLE_CONTENT) - 1,
                              "R\x00\x00\x00\x0a", 5);
    CHECK(fake != NULL);
    uint64_t fake_offset = content + (uint64_t)(fake - SAMPLE_CONTENT);
    uint64_t bad_offsets[] = {0,
                              8,
                              QFILE_FIRST_RECORD,
                              rcpt0 + 1,
                              content - 5,
                              content - 2,
                              content,
                              fake_offset,
                              before.len - 5,
                              before.len,
                              before.len + 100};
    for (size_t i = 0; i < sizeof(bad_offsets) / sizeof(bad_offsets[0]); i++) {
        buf_reset(&err);
        CHECK_INT(qfile_mark_done(fd, bad_offsets[i], QFILE_NOSYNC, &err),
                  QFILE_CORRUPT);
        CHECK(err.len > 0);
        /* The reader's variant checks from memory; the same answers. */
        CHECK_INT(qfile_reader_mark_done(r, bad_offsets[i], QFILE_NOSYNC, &err),
                  QFILE_CORRUPT);
    }
    read_whole(path, &after);
    CHECK(before.len == after.len &&
          memcmp(before.data, after.data, before.len) == 0);
    /* A file that is not a queue file is never written. */
    int other = memfd_create("other", MFD_CLOEXEC);
    CHECK_INT(write(other,
                    "RRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRR"
                    "RRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRR",
                    92),
              92);
    CHECK_INT(qfile_mark_done(other, 80, QFILE_NOSYNC, &err), QFILE_CORRUPT);
    close(other);

    qfile_reader_close(r);
    buf_free(&before);
    buf_free(&after);
    buf_free(&err);
    free(path);
    remove_dir(dir);
}

static void test_qfile_patch(void)
{
    char *dir = make_dir();
    char *path = write_sample(dir, NULL);
    struct buf err = BUF_INIT;
    int fd = path ? open(path, O_RDWR) : -1;
    CHECK(fd >= 0);
    if (fd < 0) {
        remove_dir(dir);
        return;
    }
    CHECK_INT(qfile_patch_flags(fd, QFILE_FLAG_WARNED, QFILE_SYNC, &err),
              QFILE_OK);
    CHECK_INT(qfile_patch_warn_time(fd, 0, QFILE_SYNC, &err), QFILE_OK);
    CHECK_INT(qfile_patch_flags(fd, 0x80, QFILE_SYNC, &err), QFILE_CORRUPT);
    struct qfile_reader *r;
    CHECK_INT(qfile_reader_open(path, 0, &r, &err), QFILE_OK);
    if (r) {
        CHECK_INT(qfile_reader_header(r)->flags, QFILE_FLAG_WARNED);
        CHECK_INT(qfile_reader_header(r)->warn_time, 0);
        struct qfile_envelope env;
        CHECK_INT(qfile_read_envelope(r, &env, &err), QFILE_OK);
        qfile_envelope_free(&env);
        qfile_reader_close(r);
    }
    /* Through a writable reader: its header follows. */
    CHECK_INT(qfile_reader_open(path, 1, &r, &err), QFILE_OK);
    if (r) {
        CHECK_INT(qfile_reader_patch_flags(r, 0, QFILE_NOSYNC, &err), QFILE_OK);
        CHECK_INT(qfile_reader_patch_warn_time(r, 99, QFILE_SYNC, &err),
                  QFILE_OK);
        CHECK_INT(qfile_reader_header(r)->flags, 0);
        CHECK_INT(qfile_reader_header(r)->warn_time, 99);
        struct qfile_envelope env;
        CHECK_INT(qfile_read_envelope(r, &env, &err), QFILE_OK);
        CHECK_INT(env.header.warn_time, 99);
        qfile_envelope_free(&env);
        qfile_reader_close(r);
    }
    struct buf bytes = BUF_INIT;
    read_whole(path, &bytes);
    CHECK(bytes.len > QFILE_FIRST_RECORD &&
          qfile_get_u64((unsigned char *)bytes.data + QFILE_OFF_WARN_TIME) ==
              99);
    buf_free(&bytes);
    /* A patched header field that disagrees with the records fails. */
    unsigned char count[8];
    qfile_put_u64(count, 2);
    CHECK_INT(pwrite(fd, count, 8, QFILE_OFF_RCPT_COUNT), 8);
    buf_reset(&err);
    CHECK_INT(qfile_reader_open(path, 0, &r, &err), QFILE_OK);
    if (r) {
        struct qfile_envelope env;
        CHECK_INT(qfile_read_envelope(r, &env, &err), QFILE_CORRUPT);
        CHECK(strstr(buf_cstr(&err), "recipient count") != NULL);
        qfile_envelope_free(&env);
        qfile_reader_close(r);
    }
    close(fd);
    /* Not a queue file: no patch. */
    int other = memfd_create("other", MFD_CLOEXEC);
    CHECK_INT(write(other, "hello world, this is not a queue file at all", 44),
              44);
    CHECK_INT(qfile_patch_warn_time(other, 5, QFILE_NOSYNC, &err),
              QFILE_CORRUPT);
    close(other);
    buf_free(&err);
    free(path);
    remove_dir(dir);
}

static void test_qfile_writer_rules(void)
{
    char *dir = make_dir();
    struct buf err = BUF_INIT;
    struct qfile_writer *w = qfile_writer_create(dir, &err);
    CHECK(w != NULL);
    if (w == NULL) {
        remove_dir(dir);
        return;
    }
    /* The temporary name is not a queue id, so scanners skip it. */
    DIR *d = opendir(dir);
    struct dirent *ent;
    int temps = 0;
    while (d && (ent = readdir(d)) != NULL)
        if (ent->d_name[0] == '.' && ent->d_name[1] == 't') {
            temps++;
            CHECK(!qid_valid(ent->d_name));
        }
    if (d)
        closedir(d);
    CHECK_INT(temps, 1);

    struct qfile_recipient ok = {"a@b.example", NULL, NULL, 0, 0, 0};
    struct qfile_recipient bad_notify = {
        "a@b.example",
        NULL,
        NULL,
        QFILE_NOTIFY_NEVER | QFILE_NOTIFY_SUCCESS,
        0,
        0};
    struct qfile_recipient crlf = {
        "a@b.example\r\nBcc: x", NULL, NULL, 0, 0, 0};
    struct qfile_recipient empty = {"", NULL, NULL, 0, 0, 0};
    CHECK_INT(qfile_writer_finish(w, &err), -1); /* nothing yet */
    CHECK_INT(qfile_writer_recipient(w, &bad_notify, &err), -1);
    CHECK_INT(qfile_writer_recipient(w, &crlf, &err), -1);
    CHECK_INT(qfile_writer_recipient(w, &empty, &err), -1);
    CHECK_INT(qfile_writer_sender(w, "x\ty@z", &err), -1);
    CHECK_INT(qfile_writer_attr(w, "Client", "x", &err), -1);
    CHECK_INT(qfile_writer_attr(w, "a=b", "x", &err), -1);
    CHECK_INT(qfile_writer_dsn_ret(w, 'X', &err), -1);
    CHECK_INT(qfile_writer_encoding(w, 0x100, &err), -1);
    CHECK_INT(qfile_writer_flags(w, 0x100, &err), -1);
    CHECK_INT(qfile_writer_arrival(w, 1, 1000000, &err), -1);
    char *long_text = xmalloc(QFILE_MAX_TEXT + 2);
    memset(long_text, 'x', QFILE_MAX_TEXT + 1);
    long_text[QFILE_MAX_TEXT + 1] = '\0';
    CHECK_INT(qfile_writer_dsn_envid(w, long_text, &err), -1);
    long_text[QFILE_MAX_TEXT] = '\0'; /* exactly the bound is fine */
    CHECK_INT(qfile_writer_attr(w, "long", long_text, &err), 0);
    free(long_text);
    CHECK_INT(qfile_writer_attr(w, "long", "again", &err), -1);

    CHECK_INT(qfile_writer_sender(w, "s@example.org", &err), 0);
    CHECK_INT(qfile_writer_sender(w, "s@example.org", &err), -1);
    CHECK_INT(qfile_writer_content_append(w, "x", 1, &err), -1);
    CHECK_INT(qfile_writer_content_begin(w, &err), 0);
    CHECK_INT(qfile_writer_recipient(w, &ok, &err), -1); /* content open */
    CHECK_INT(qfile_writer_content_append(w, "\nbody only\n", 11, &err), 0);
    CHECK_INT(qfile_writer_finish(w, &err), -1); /* content not ended */
    CHECK_INT(qfile_writer_content_end(w, &err), 0);
    CHECK_INT(qfile_writer_content_begin(w, &err), -1);
    CHECK_INT(qfile_writer_commit(w, &err), -1); /* not finished */
    buf_reset(&err);
    CHECK_INT(qfile_writer_finish(w, &err), -1);
    CHECK_STR(buf_cstr(&err), "queue file has no recipients");
    CHECK_INT(qfile_writer_recipient(w, &ok, &err), 0);
    buf_reset(&err);
    CHECK_INT(qfile_writer_finish(w, &err), 0);
    CHECK_STR(buf_cstr(&err), "");
    CHECK_INT(qfile_writer_recipient(w, &ok, &err), -1); /* finished */

    /* The final name is taken: commit refuses to replace it. */
    char *final_path = xasprintf("%s/%s", dir, qfile_writer_qid(w));
    int fd = open(final_path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    CHECK(fd >= 0);
    if (fd >= 0) {
        CHECK_INT(write(fd, "precious", 8), 8);
        close(fd);
    }
    CHECK_INT(qfile_writer_commit(w, &err), -1);
    struct buf kept = BUF_INIT;
    read_whole(final_path, &kept);
    CHECK_STR(buf_cstr(&kept), "precious");
    unlink(final_path);
    CHECK_INT(qfile_writer_commit(w, &err), 0);

    struct qfile_reader *r;
    CHECK_INT(qfile_reader_open(final_path, 0, &r, &err), QFILE_OK);
    if (r) {
        struct qfile_envelope env;
        CHECK_INT(qfile_read_envelope(r, &env, &err), QFILE_OK);
        CHECK_INT(env.header.body_offset, 1); /* empty header section */
        CHECK(env.arrival_sec > 1700000000);  /* defaulted to now */
        CHECK_STR(qfile_envelope_attr(&env, "long") ? "set" : NULL, "set");
        qfile_envelope_free(&env);
        qfile_reader_close(r);
    }
    qfile_writer_free(w);
    CHECK_INT(count_entries(dir), 1);
    buf_free(&kept);
    buf_free(&err);
    free(final_path);
    remove_dir(dir);
}

static void test_qfile_abort_leaves_nothing(void)
{
    char *dir = make_dir();
    struct buf err = BUF_INIT;
    struct qfile_writer *w = qfile_writer_create(dir, &err);
    CHECK(w != NULL);
    if (w) {
        CHECK_INT(qfile_writer_sender(w, "a@b", &err), 0);
        CHECK_INT(qfile_writer_content_begin(w, &err), 0);
        CHECK_INT(count_entries(dir), 1);
        qfile_writer_free(w); /* e.g. the client disconnected mid-DATA */
    }
    CHECK_INT(count_entries(dir), 0);
    /* A directory that does not exist: a clean error. */
    char *missing = xasprintf("%s/nonexistent", dir);
    buf_reset(&err);
    CHECK(qfile_writer_create(missing, &err) == NULL);
    CHECK(strstr(buf_cstr(&err), "No such file") != NULL);
    buf_reset(&err);
    CHECK_INT(fsync_dir(missing, &err), -1);
    free(missing);
    buf_free(&err);
    remove_dir(dir);
}

static void test_qfile_body_offset_crlf(void)
{
    char *dir = make_dir();
    struct buf err = BUF_INIT;
    struct qfile_writer *w = qfile_writer_create(dir, &err);
    struct qfile_recipient ok = {"a@b.example", NULL, NULL, 0, 0, 0};
    const char *content = "Subject: x\r\n\r\nbody\r\n";
    CHECK(w != NULL);
    if (w == NULL) {
        remove_dir(dir);
        return;
    }
    CHECK_INT(qfile_writer_sender(w, "a@b", &err), 0);
    CHECK_INT(qfile_writer_recipient(w, &ok, &err), 0);
    CHECK_INT(qfile_writer_content_begin(w, &err), 0);
    /* One byte at a time: the scan carries state across appends. */
    for (size_t i = 0; content[i]; i++)
        CHECK_INT(qfile_writer_content_append(w, content + i, 1, &err), 0);
    CHECK_INT(qfile_writer_content_end(w, &err), 0);
    CHECK_INT(qfile_writer_flags(w, QFILE_FLAG_NOTIFICATION, &err), 0);
    CHECK_INT(qfile_writer_finish(w, &err), 0);
    CHECK_INT(qfile_writer_commit(w, &err), 0);
    char *path = xasprintf("%s/%s", dir, qfile_writer_qid(w));
    qfile_writer_free(w);
    struct qfile_reader *r;
    CHECK_INT(qfile_reader_open(path, 0, &r, &err), QFILE_OK);
    if (r) {
        CHECK_INT(qfile_reader_header(r)->body_offset, 14);
        CHECK_INT(qfile_reader_header(r)->flags, QFILE_FLAG_NOTIFICATION);
        qfile_reader_close(r);
    }
    free(path);
    buf_free(&err);
    remove_dir(dir);
}

/* recipients_drop marks what was written done, flushed or not, and the
 * recipients added after it stay pending (end-of-data REDIRECT). */
static void test_qfile_recipients_drop(void)
{
    char *dir = make_dir();
    struct buf err = BUF_INIT;
    struct qfile_writer *w = qfile_writer_create(dir, &err);
    CHECK(w != NULL);
    if (w == NULL) {
        remove_dir(dir);
        return;
    }
    struct qfile_recipient a = {"a@b.example", NULL, NULL, 0, 0, 0};
    struct qfile_recipient b = {"b@b.example", NULL, NULL, 0, 0, 0};
    struct qfile_recipient c = {"c@b.example", NULL, NULL, 0, 0, 0};
    CHECK_INT(qfile_writer_sender(w, "s@b", &err), 0);
    CHECK_INT(qfile_writer_recipient(w, &a, &err), 0);
    CHECK_INT(qfile_writer_recipient(w, &b, &err), 0);
    CHECK_INT(qfile_writer_content_begin(w, &err), 0);
    /* big enough that the recipients are on disk before the patch */
    char line[1000];
    memset(line, 'x', sizeof(line) - 1);
    line[sizeof(line) - 1] = '\n';
    CHECK_INT(qfile_writer_content_append(w, "Subject: x\n\n", 12, &err), 0);
    for (int i = 0; i < 100; i++)
        CHECK_INT(qfile_writer_content_append(w, line, sizeof(line), &err), 0);
    CHECK_INT(qfile_writer_content_end(w, &err), 0);
    CHECK_INT(qfile_writer_recipients_drop(w, &err), 0);
    CHECK_INT(qfile_writer_recipient(w, &c, &err), 0);
    CHECK_INT(qfile_writer_finish(w, &err), 0);
    CHECK_INT(qfile_writer_commit(w, &err), 0);
    char *path = xasprintf("%s/%s", dir, qfile_writer_qid(w));
    qfile_writer_free(w);
    struct qfile_reader *r;
    struct qfile_envelope env;
    CHECK_INT(qfile_reader_open(path, 0, &r, &err), QFILE_OK);
    CHECK_INT(qfile_read_envelope(r, &env, &err), QFILE_OK);
    CHECK_INT(env.recipient_count, 3);
    CHECK_INT(env.done_count, 2);
    if (env.recipient_count == 3) {
        CHECK_INT(env.recipients[0].done, 1);
        CHECK_INT(env.recipients[1].done, 1);
        CHECK_STR(env.recipients[2].address, "c@b.example");
        CHECK_INT(env.recipients[2].done, 0);
    }
    qfile_envelope_free(&env);
    qfile_reader_close(r);
    free(path);
    buf_free(&err);
    remove_dir(dir);
}

int main(void)
{
    UNIT_RUN(test_qfile_round_trip);
    UNIT_RUN(test_qfile_streaming_large);
    UNIT_RUN(test_qfile_mark_done);
    UNIT_RUN(test_qfile_patch);
    UNIT_RUN(test_qfile_writer_rules);
    UNIT_RUN(test_qfile_abort_leaves_nothing);
    UNIT_RUN(test_qfile_body_offset_crlf);
    UNIT_RUN(test_qfile_recipients_drop);
    return unit_summary();
}
