/* test_qfile.c: unit tests for the queue file writer, reader and
 * in-place updates (lib/qfile*.c): round trips, streaming, and every way
 * a damaged file must fail cleanly. */
#include "unit.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "mem.h"
#include "qfile.h"
#include "qfile_reader.h"
#include "qfile_writer.h"
#include "qid.h"

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
static char *make_dir(void)
{
    const char *tmp = getenv("TMPDIR");
    char *path = xasprintf("%s/test_qfile.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (mkdtemp(path) == NULL) {
        printf("#   mkdtemp %s: %s\n", path, strerror(errno));
        exit(1);
    }
    return path;
}

static int count_entries(const char *dir)
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

static void remove_dir(char *dir)
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

static void read_whole(const char *path, struct buf *out)
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
static char *write_sample(const char *dir, char *qid_out)
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
        qfile_sync_dir(dir, &err) < 0;
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
static enum qfile_result check_bytes(const void *data, size_t len,
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

static void test_qfile_truncated_everywhere(void)
{
    char *dir = make_dir();
    char *path = write_sample(dir, NULL);
    CHECK(path != NULL);
    struct buf file = BUF_INIT, err = BUF_INIT;
    if (path)
        read_whole(path, &file);
    CHECK(file.len > 200);
    CHECK_INT(check_bytes(file.data, file.len, &err), QFILE_OK);
    int bad = 0;
    for (size_t len = 0; len < file.len; len++) {
        buf_reset(&err);
        enum qfile_result result = check_bytes(file.data, len, &err);
        if (result != QFILE_CORRUPT || err.len == 0) {
            if (!bad)
                printf("#   truncated to %zu: result %d\n", len, result);
            bad++;
        }
    }
    CHECK_INT(bad, 0);
    /* Extended by garbage: also corrupt. */
    buf_append_str(&file, "X");
    buf_reset(&err);
    CHECK_INT(check_bytes(file.data, file.len, &err), QFILE_CORRUPT);
    CHECK(strstr(buf_cstr(&err), "file size") != NULL);
    buf_free(&file);
    buf_free(&err);
    free(path);
    remove_dir(dir);
}

/* Offsets of every record head in a valid file image. */
static size_t record_offsets(const struct buf *file, uint64_t *offsets,
                             size_t max)
{
    size_t count = 0;
    uint64_t pos = QFILE_MAGIC_LEN;
    while (pos + QFILE_REC_HDR_LEN <= file->len && count < max) {
        offsets[count++] = pos;
        pos += QFILE_REC_HDR_LEN +
               qfile_get_u32((const unsigned char *)file->data + pos + 1);
    }
    return count;
}

static void test_qfile_corrupt_lengths(void)
{
    char *dir = make_dir();
    char *path = write_sample(dir, NULL);
    struct buf file = BUF_INIT, copy = BUF_INIT, err = BUF_INIT;
    if (path)
        read_whole(path, &file);
    uint64_t offsets[64];
    size_t count = record_offsets(&file, offsets, 64);
    CHECK_INT(count, 14); /* H T S A A A P I X R R M R E */
    uint32_t deltas[] = {1, 0xffffffffu, 0x7fffffffu, 0x10000u};
    int bad = 0;
    for (size_t i = 0; i < count; i++) {
        for (size_t k = 0; k < 5; k++) {
            buf_set(&copy, file.data, file.len);
            unsigned char *len_field =
                (unsigned char *)copy.data + offsets[i] + 1;
            uint32_t len = qfile_get_u32(len_field);
            if (k < 4)
                qfile_put_u32(len_field, len + deltas[k]);
            else if (len > 0)
                qfile_put_u32(len_field, len - 1);
            else
                continue;
            buf_reset(&err);
            enum qfile_result result = check_bytes(copy.data, copy.len, &err);
            if (result != QFILE_CORRUPT) {
                printf("#   record at %llu, change %zu: result %d\n",
                       (unsigned long long)offsets[i], k, result);
                bad++;
            }
        }
    }
    CHECK_INT(bad, 0);

    /* The error names the record and the bound. */
    buf_set(&copy, file.data, file.len);
    qfile_put_u32((unsigned char *)copy.data + offsets[2] + 1, 70000);
    buf_reset(&err);
    CHECK_INT(check_bytes(copy.data, copy.len, &err), QFILE_CORRUPT);
    char expect[100];
    snprintf(expect, sizeof(expect),
             "offset %llu: record 'S' length 70000 exceeds 16384",
             (unsigned long long)offsets[2]);
    CHECK_STR(buf_cstr(&err), expect);

    /* Any single byte changed anywhere: never a crash, never a syserr. */
    int odd = 0;
    for (size_t pos = 0; pos < file.len; pos++) {
        int odd_before = odd;
        buf_set(&copy, file.data, file.len);
        copy.data[pos] ^= 0x5a;
        buf_reset(&err);
        enum qfile_result result = check_bytes(copy.data, copy.len, &err);
        if (result == QFILE_SYSERR || (result == QFILE_CORRUPT && !err.len))
            odd++;
        /* Damage to framing (record heads, header) is always caught. */
        for (size_t i = 0; i < count; i++)
            if (pos >= offsets[i] && pos < offsets[i] + QFILE_REC_HDR_LEN &&
                result != QFILE_CORRUPT)
                odd++;
        /* So is damage to the header, except to the two fields no other
         * record can vouch for: the body offset within the content and
         * the warning time. */
        int unchecked_field =
            (pos >= QFILE_OFF_BODY && pos < QFILE_OFF_BODY + 8) ||
            (pos >= QFILE_OFF_WARN_TIME && pos < QFILE_OFF_WARN_TIME + 8);
        if (pos < QFILE_FIRST_RECORD && !unchecked_field &&
            result != QFILE_CORRUPT)
            odd++;
        if (odd != odd_before)
            printf("#   byte %zu changed: result %d (%s)\n", pos, result,
                   buf_cstr(&err));
    }
    CHECK_INT(odd, 0);
    buf_free(&file);
    buf_free(&copy);
    buf_free(&err);
    free(path);
    remove_dir(dir);
}

static void test_qfile_bad_files(void)
{
    struct buf err = BUF_INIT, file = BUF_INIT;
    CHECK_INT(check_bytes("", 0, &err), QFILE_CORRUPT);
    CHECK_STR(buf_cstr(&err), "not a queue file (bad magic)");
    buf_reset(&err);
    CHECK_INT(check_bytes("From alice Mon Nov 23\n", 22, &err), QFILE_CORRUPT);
    CHECK_STR(buf_cstr(&err), "not a queue file (bad magic)");

    char *dir = make_dir();
    char *path = write_sample(dir, NULL);
    if (path)
        read_whole(path, &file);
    CHECK(file.len > QFILE_FIRST_RECORD);
    if (file.len > QFILE_FIRST_RECORD) {
        qfile_put_u32((unsigned char *)file.data + QFILE_OFF_VERSION, 2);
        buf_reset(&err);
        CHECK_INT(check_bytes(file.data, file.len, &err), QFILE_CORRUPT);
        CHECK_STR(buf_cstr(&err), "unsupported queue file version 2");
    }

    /* Not a regular file, a symlink, a missing file. */
    struct qfile_reader *r = NULL;
    buf_reset(&err);
    CHECK_INT(qfile_reader_open(dir, 0, &r, &err), QFILE_CORRUPT);
    char *link_path = xasprintf("%s/LINK", dir);
    CHECK_INT(symlink(path ? path : "/", link_path), 0);
    buf_reset(&err);
    CHECK_INT(qfile_reader_open(link_path, 0, &r, &err), QFILE_CORRUPT);
    char *missing = xasprintf("%s/MISSING", dir);
    buf_reset(&err);
    CHECK_INT(qfile_reader_open(missing, 0, &r, &err), QFILE_SYSERR);
    CHECK(strstr(buf_cstr(&err), "No such file") != NULL);
    CHECK(r == NULL);
    free(missing);
    free(link_path);
    free(path);
    buf_free(&file);
    buf_free(&err);
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
    CHECK_INT(qfile_sync_dir(missing, &err), -1);
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

/* The seeds in fuzz/corpus/qfile/ come from fuzz/gen_qfile_seeds.py, an
 * encoder written from docs/queue-format.md alone: the reader must agree
 * with the document. */
static void test_qfile_reads_documented_format(void)
{
    const char *names[] = {"valid-minimal", "valid-full", "valid-empty-content",
                           "bad-truncated", "bad-magic",  "bad-length"};
    struct buf file = BUF_INIT, err = BUF_INIT;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        char *path = xasprintf("fuzz/corpus/qfile/%s", names[i]);
        if (access(path, R_OK) != 0) {
            free(path);
            buf_free(&file);
            buf_free(&err);
            SKIP("fuzz/corpus/qfile not found (run from the source tree)");
        }
        read_whole(path, &file);
        buf_reset(&err);
        enum qfile_result result = check_bytes(file.data, file.len, &err);
        int want_ok = strncmp(names[i], "valid-", 6) == 0;
        if ((result == QFILE_OK) != want_ok) {
            printf("#   %s: result %d (%s)\n", names[i], result,
                   buf_cstr(&err));
            CHECK(0);
        }
        free(path);
    }
    /* One decoded in full, to pin the field encodings. */
    int fd = open("fuzz/corpus/qfile/valid-full", O_RDONLY);
    struct qfile_reader *r;
    if (fd >= 0 && qfile_reader_fdopen(fd, &r, &err) == QFILE_OK) {
        struct qfile_envelope env;
        CHECK_INT(qfile_read_envelope(r, &env, &err), QFILE_OK);
        CHECK_STR(env.sender, "");
        CHECK_INT(env.recipient_count, 3);
        CHECK_INT(env.done_count, 1);
        CHECK_INT(env.header.flags, QFILE_FLAG_NOTIFICATION);
        CHECK_INT(env.header.warn_time, 1763870000);
        CHECK_INT(env.dsn_ret, 'H');
        CHECK_STR(env.envid, "ENV-1");
        CHECK_INT(env.encoding, QFILE_ENC_8BITMIME | QFILE_ENC_SMTPUTF8);
        CHECK_STR(qfile_envelope_attr(&env, "client_name"), "mx.example");
        if (env.recipient_count == 3) {
            CHECK_STR(env.recipients[0].original, "bb@example.com");
            CHECK_INT(env.recipients[0].notify,
                      QFILE_NOTIFY_SUCCESS | QFILE_NOTIFY_FAILURE);
            CHECK(env.recipients[1].done);
            CHECK_STR(env.recipients[2].address, "d@example.com");
        }
        qfile_envelope_free(&env);
        qfile_reader_close(r);
    }
    if (fd >= 0)
        close(fd);
    buf_free(&file);
    buf_free(&err);
}

int main(void)
{
    UNIT_RUN(test_qfile_round_trip);
    UNIT_RUN(test_qfile_streaming_large);
    UNIT_RUN(test_qfile_truncated_everywhere);
    UNIT_RUN(test_qfile_corrupt_lengths);
    UNIT_RUN(test_qfile_bad_files);
    UNIT_RUN(test_qfile_mark_done);
    UNIT_RUN(test_qfile_patch);
    UNIT_RUN(test_qfile_writer_rules);
    UNIT_RUN(test_qfile_abort_leaves_nothing);
    UNIT_RUN(test_qfile_body_offset_crlf);
    UNIT_RUN(test_qfile_reads_documented_format);
    return unit_summary();
}
