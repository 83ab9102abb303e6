/* test_qfile_damage.c: unit tests that every damaged queue file fails
 * cleanly, with a precise reason: truncation at every byte, damaged
 * lengths, single-byte damage anywhere, files that are not queue files,
 * and agreement with an encoder written from the format document. */
#include "unit.h"

#include "qfile_fixture.h"

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
    UNIT_RUN(test_qfile_truncated_everywhere);
    UNIT_RUN(test_qfile_corrupt_lengths);
    UNIT_RUN(test_qfile_bad_files);
    UNIT_RUN(test_qfile_reads_documented_format);
    return unit_summary();
}
