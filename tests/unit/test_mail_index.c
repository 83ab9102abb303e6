/* test_mail_index.c: unit tests for lib/storage/mail_index*: a round
 * trip through every field, every kind of damage detected (the base and
 * the log truncated at every offset, every byte flipped, wrong version,
 * wrong UIDVALIDITY, a damaged cache entry), a torn log tail cut off by
 * the next writer, a crash between a compaction's renames, a writer and a reader in two processes (the reader
 * never sees half a transaction), the HIGHESTMODSEQ rule after a
 * rebuild, and the cold and warm timings of a 4.5 KiB-message Maildir
 * (printed, never asserted; POSTERN_INDEX_MESSAGES sets the count). */
#include "unit.h"

#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>

#include "base/mem.h"
#include "base/str.h"
#include "imap/imap_flags.h"
#include "message/mime_tree_blob.h"
#include "storage/crc32c.h"
#include "storage/mail_index.h"
#include "storage_util.h"

static const char *sample_message =
    "From: Anna <anna@example.com>\n"
    "To: bob@example.org\n"
    "Subject: hello\n"
    "Date: Mon, 7 Dec 2026 10:00:00 +0000\n"
    "Message-ID: <1@example.com>\n"
    "\n"
    "body line\n";

static char *path_in(const char *dir, const char *name)
{
    return xasprintf("%s/%s", dir, name);
}

static struct mail_index *open_new(const char *dir, uint32_t uidvalidity)
{
    struct mail_index *idx = mail_index_alloc(dir);
    struct buf err = BUF_INIT;
    mail_index_set_fsync(idx, 0);
    if (mail_index_create(idx, uidvalidity, 1, &err) < 0) {
        printf("# create: %s\n", buf_cstr(&err));
        exit(2);
    }
    buf_free(&err);
    return idx;
}

/* Appends messages uid first..last in one transaction, each cached. */
static int append_range(struct mail_index *idx, uint32_t first, uint32_t last)
{
    struct buf err = BUF_INIT;
    struct mail_index_parsed parsed;
    mail_index_parsed_init(&parsed);
    mail_index_parse_message(&parsed, sample_message, strlen(sample_message));
    struct mail_index_cached cached;
    mail_index_parsed_cached(&parsed, &cached);
    struct mail_index_txn *txn = mail_index_begin(idx, &err);
    int rc = txn ? 0 : -1;
    for (uint32_t uid = first; txn && uid <= last; uid++) {
        char name[64];
        snprintf(name, sizeof(name), "1700000000.M%uP1.host", uid);
        struct mail_index_new msg = {
            .uid = uid, .flags = IMAP_FLAG_SEEN, .keywords = 1u << (uid % 26),
            .internal_date = 1700000000 + uid, .rfc822_size = parsed.rfc822_size,
            .physical_size = strlen(sample_message), .name = name,
            .name_len = strlen(name)};
        if (mail_index_txn_append(txn, &msg, &cached) < 0)
            rc = -1;
    }
    if (txn && mail_index_commit(txn, NULL, &err) < 0)
        rc = -1;
    if (rc < 0)
        printf("# append: %s\n", buf_cstr(&err));
    mail_index_parsed_free(&parsed);
    buf_free(&err);
    return rc;
}

static int set_flags(struct mail_index *idx, uint32_t uid, uint8_t flags,
                     uint32_t keywords, uint64_t *modseq)
{
    struct buf err = BUF_INIT;
    struct mail_index_txn *txn = mail_index_begin(idx, &err);
    int rc = -1;
    if (txn && mail_index_txn_flags(txn, uid, flags, keywords) == 0)
        rc = mail_index_commit(txn, modseq, &err);
    else if (txn)
        mail_index_rollback(txn);
    buf_free(&err);
    return rc;
}

static int expunge(struct mail_index *idx, uint32_t uid)
{
    struct buf err = BUF_INIT;
    struct mail_index_txn *txn = mail_index_begin(idx, &err);
    int rc = -1;
    if (txn && mail_index_txn_expunge(txn, uid) == 0)
        rc = mail_index_commit(txn, NULL, &err);
    else if (txn)
        mail_index_rollback(txn);
    buf_free(&err);
    return rc;
}

static enum mail_index_result reopen(struct mail_index *idx, uint32_t uidv)
{
    struct buf err = BUF_INIT;
    enum mail_index_result r = mail_index_open(idx, uidv, &err);
    buf_free(&err);
    return r;
}

struct change_log {
    int appends, flags, expunges, resets;
};

static void count_change(void *ctx, enum mail_index_change change,
                         const struct mail_index_record *rec)
{
    struct change_log *log = ctx;
    if (change == MAIL_INDEX_CHANGE_RESET)
        log->resets++;
    else if (change == MAIL_INDEX_CHANGE_APPEND)
        log->appends++;
    else if (change == MAIL_INDEX_CHANGE_FLAGS)
        log->flags++;
    else if (change == MAIL_INDEX_CHANGE_EXPUNGE)
        log->expunges++;
    (void)rec;
}

static void test_round_trip(void)
{
    char *dir = scratch_dir();
    struct mail_index *w = open_new(dir, 777);
    CHECK_INT(append_range(w, 1, 5), 0);
    struct mail_index *r = mail_index_alloc(dir);
    CHECK_INT(reopen(r, 777), MAIL_INDEX_OK);
    CHECK_INT(mail_index_count(r), 5);
    const struct mail_index_header *hdr = mail_index_header(r);
    CHECK_INT(hdr->uidvalidity, 777);
    CHECK_INT(hdr->next_uid, 6);
    uint64_t highest = hdr->highest_modseq;
    const struct mail_index_record *rec = mail_index_lookup(r, 3);
    CHECK(rec != NULL);
    if (rec) {
        CHECK_INT(rec->flags, IMAP_FLAG_SEEN);
        CHECK_INT(rec->keywords, 1u << 3);
        CHECK_INT(rec->internal_date, 1700000003);
        CHECK_INT(rec->physical_size, strlen(sample_message));
        CHECK_INT(rec->rfc822_size, strlen(sample_message) + 7); /* 7 LFs */
        CHECK_INT(rec->modseq, highest);
        char *name = xstrndup(mail_index_name(r, rec), rec->name_len);
        CHECK_STR(name, "1700000000.M3P1.host");
        free(name);
        struct mail_index_cached cached;
        CHECK_INT(mail_index_cached(r, rec, &cached), 1);
        char *env = xstrndup(cached.envelope, cached.envelope_len);
        CHECK(strstr(env, "\"hello\"") != NULL);
        CHECK(strstr(env, "\"anna\" NIL \"anna\" \"example.com\"") == NULL);
        CHECK(strstr(env, "((\"Anna\" NIL \"anna\" \"example.com\"))") != NULL);
        free(env);
        char *bs = xstrndup(cached.bodystructure, cached.bodystructure_len);
        CHECK(strncmp(bs, "\"text\" \"plain\"", 14) == 0);
        free(bs);
        CHECK(cached.body_len > 0 && cached.body_len <= cached.bodystructure_len);
        struct mime_tree tree;
        mime_tree_init(&tree);
        CHECK_INT(mime_tree_blob_read(&tree, cached.mime_blob,
                                      cached.mime_blob_len, sample_message,
                                      strlen(sample_message)), 0);
        CHECK_INT(tree.count, 1);
        mime_tree_free(&tree);
    }
    /* changes by the writer reach the reader with the right kinds */
    uint64_t modseq = 0;
    CHECK_INT(set_flags(w, 2, IMAP_FLAG_FLAGGED | IMAP_FLAG_DELETED, 5, &modseq), 0);
    CHECK_INT(modseq, highest + 1);
    CHECK_INT(expunge(w, 4), 0);
    CHECK_INT(append_range(w, 9, 9), 0);
    CHECK(set_flags(w, 4, 0, 0, NULL) < 0); /* expunged: refused */
    struct change_log log = {0};
    struct buf err = BUF_INIT;
    CHECK_INT(mail_index_refresh(r, count_change, &log, &err), MAIL_INDEX_OK);
    CHECK_INT(log.flags, 1);
    CHECK_INT(log.expunges, 1);
    CHECK_INT(log.appends, 1);
    CHECK_INT(mail_index_count(r), 5);
    CHECK_INT(mail_index_nth(r, 3)->uid, 5);
    CHECK_INT(mail_index_nth(r, 4)->uid, 9);
    CHECK(mail_index_lookup(r, 4) == NULL);
    CHECK_INT(mail_index_lookup(r, 2)->flags, IMAP_FLAG_FLAGGED | IMAP_FLAG_DELETED);
    CHECK_INT(mail_index_lookup(r, 2)->modseq, highest + 1);
    CHECK_INT(mail_index_header(r)->highest_modseq, highest + 3);
    CHECK_INT(mail_index_header(r)->next_uid, 10);
    /* the Maildir view's sync stamps */
    struct mail_index_txn *stamp = mail_index_begin(w, &err);
    CHECK(stamp != NULL);
    if (stamp) {
        CHECK_INT(mail_index_txn_sync_stamp(stamp, 1234567890123ull, 42), 0);
        CHECK_INT(mail_index_commit(stamp, NULL, &err), 0);
    }
    CHECK_INT(mail_index_refresh(r, NULL, NULL, &err), MAIL_INDEX_OK);
    CHECK_INT(mail_index_header(r)->sync_stamp[0], 1234567890123ull);
    CHECK_INT(mail_index_header(r)->sync_stamp[1], 42);
    /* a compaction folds the log in; the reader reopens and keeps it all */
    CHECK_INT(mail_index_compact(w, 1, &err), 0);
    memset(&log, 0, sizeof(log));
    CHECK_INT(mail_index_refresh(r, count_change, &log, &err), MAIL_INDEX_OK);
    CHECK_INT(log.resets, 1);
    CHECK_INT(mail_index_count(r), 5);
    CHECK_INT(mail_index_header(r)->highest_modseq, highest + 3);
    CHECK_INT(mail_index_header(r)->sync_stamp[0], 1234567890123ull);
    rec = mail_index_lookup(r, 9);
    CHECK(rec != NULL);
    struct mail_index_cached cached;
    if (rec) {
        CHECK_INT(mail_index_cached(r, rec, &cached), 1);
        char *name = xstrndup(mail_index_name(r, rec), rec->name_len);
        CHECK_STR(name, "1700000000.M9P1.host");
        free(name);
    }
    /* a cache entry added later, for a message that had none */
    struct mail_index_txn *txn = mail_index_begin(w, &err);
    CHECK(txn != NULL);
    if (txn) {
        cached.envelope = "NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL";
        cached.envelope_len = strlen(cached.envelope);
        CHECK_INT(mail_index_txn_cache(txn, 9, &cached), 0);
        uint64_t none = 1;
        CHECK_INT(mail_index_commit(txn, &none, &err), 0);
        CHECK_INT(none, 0); /* a cache entry changes no message */
    }
    CHECK_INT(mail_index_refresh(r, NULL, NULL, &err), MAIL_INDEX_OK);
    CHECK_INT(mail_index_cached(r, mail_index_lookup(r, 9), &cached), 1);
    CHECK_INT(cached.envelope_len, 39);
    /* Dovecot's own files are never touched or named alike */
    CHECK(access(path_in(dir, "dovecot.index"), F_OK) < 0);
    buf_free(&err);
    mail_index_free(r);
    mail_index_free(w);
    scratch_remove(dir);
}

/* The whole file at path, and writing it back. */
static void slurp(const char *path, struct buf *out)
{
    if (read_whole(path, out) < 0) {
        printf("# cannot read %s\n", path);
        exit(2);
    }
}

static void spill(const char *path, const char *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || write(fd, data, len) != (ssize_t)len) {
        printf("# cannot write %s\n", path);
        exit(2);
    }
    close(fd);
}

static void test_base_damage_detected(void)
{
    char *dir = scratch_dir();
    struct mail_index *w = open_new(dir, 5);
    CHECK_INT(append_range(w, 1, 3), 0);
    struct buf err = BUF_INIT;
    CHECK_INT(mail_index_compact(w, 0, &err), 0);
    mail_index_free(w);
    char *base = path_in(dir, MAIL_INDEX_BASE_NAME);
    struct buf good = BUF_INIT;
    slurp(base, &good);
    struct mail_index *r = mail_index_alloc(dir);
    CHECK_INT(reopen(r, 5), MAIL_INDEX_OK);
    CHECK_INT(mail_index_count(r), 3);
    int bad_truncations = 0, bad_flips = 0;
    for (size_t len = 0; len < good.len; len++) {
        spill(base, good.data, len);
        if (reopen(r, 5) != MAIL_INDEX_CORRUPT)
            bad_truncations++;
    }
    CHECK_INT(bad_truncations, 0);
    for (size_t at = 0; at < good.len; at++) {
        for (int bit = 0; bit < 8; bit += 3) {
            good.data[at] ^= (char)(1 << bit);
            spill(base, good.data, good.len);
            if (reopen(r, 5) != MAIL_INDEX_CORRUPT)
                bad_flips++;
            good.data[at] ^= (char)(1 << bit);
        }
    }
    CHECK_INT(bad_flips, 0);
    /* one byte more */
    buf_append_char(&good, 0);
    spill(base, good.data, good.len);
    CHECK_INT(reopen(r, 5), MAIL_INDEX_CORRUPT);
    buf_truncate(&good, good.len - 1);
    /* another version, even with a right checksum */
    struct mail_index_header hdr;
    memcpy(&hdr, good.data, sizeof(hdr));
    hdr.version = 2;
    mail_index_header_seal(&hdr);
    memcpy(good.data, &hdr, sizeof(hdr));
    spill(base, good.data, good.len);
    CHECK_INT(reopen(r, 5), MAIL_INDEX_CORRUPT);
    hdr.version = MAIL_INDEX_VERSION;
    mail_index_header_seal(&hdr);
    memcpy(good.data, &hdr, sizeof(hdr));
    spill(base, good.data, good.len);
    CHECK_INT(reopen(r, 5), MAIL_INDEX_OK);
    /* the mailbox's UIDVALIDITY changed: stale */
    CHECK_INT(reopen(r, 6), MAIL_INDEX_STALE);
    /* no index at all, and no log beside a base */
    char *log = path_in(dir, MAIL_INDEX_LOG_NAME);
    unlink(log);
    CHECK_INT(reopen(r, 5), MAIL_INDEX_CORRUPT);
    unlink(base);
    CHECK_INT(reopen(r, 5), MAIL_INDEX_MISSING);
    free(log);
    free(base);
    buf_free(&good);
    buf_free(&err);
    mail_index_free(r);
    scratch_remove(dir);
}

/* What the reader may see after a log has been cut or damaged: either
 * CORRUPT, or the state after exactly k of the transactions. The
 * transactions: k=1 appends 1..3 with keywords, then k=2..7 set
 * message 2's keywords to 100 + k (one per transaction). */
static int state_is_prefix(struct mail_index *r)
{
    if (mail_index_count(r) != 3)
        return 0;
    const struct mail_index_record *rec = mail_index_lookup(r, 2);
    if (rec == NULL)
        return 0;
    uint32_t k = rec->keywords == (1u << 2) ? 1 : rec->keywords - 100;
    if (k < 1 || k > 7)
        return 0;
    uint64_t first = mail_index_lookup(r, 1)->modseq;
    return mail_index_header(r)->highest_modseq == first + (k - 1);
}

static void test_log_damage_detected(void)
{
    char *dir = scratch_dir();
    struct mail_index *w = open_new(dir, 9);
    CHECK_INT(append_range(w, 1, 3), 0);
    struct buf err = BUF_INIT;
    CHECK_INT(mail_index_compact(w, 0, &err), 0);
    for (uint32_t k = 2; k <= 7; k++)
        CHECK_INT(set_flags(w, 2, 0, 100 + k, NULL), 0);
    mail_index_free(w);
    char *log = path_in(dir, MAIL_INDEX_LOG_NAME);
    struct buf good = BUF_INIT;
    slurp(log, &good);
    struct mail_index *r = mail_index_alloc(dir);
    CHECK_INT(reopen(r, 9), MAIL_INDEX_OK);
    CHECK_INT(mail_index_lookup(r, 2)->keywords, 107);
    int wrong = 0, prefixes = 0;
    for (size_t len = 0; len < good.len; len++) {
        spill(log, good.data, len);
        enum mail_index_result res = reopen(r, 9);
        if (len < sizeof(struct mail_index_file_header))
            wrong += res != MAIL_INDEX_CORRUPT;
        else if (res != MAIL_INDEX_OK || !state_is_prefix(r))
            wrong++;
        else
            prefixes++;
    }
    CHECK_INT(wrong, 0);
    CHECK(prefixes > 0);
    int flips_trusted_wrongly = 0;
    for (size_t at = 0; at < good.len; at++) {
        good.data[at] ^= 0x10;
        spill(log, good.data, good.len);
        enum mail_index_result res = reopen(r, 9);
        if (res == MAIL_INDEX_OK && !state_is_prefix(r))
            flips_trusted_wrongly++;
        /* a flip before the last entry is never taken for a torn tail */
        if (res == MAIL_INDEX_OK && mail_index_lookup(r, 2)->keywords != 107 &&
            at < good.len - 40)
            flips_trusted_wrongly++;
        good.data[at] ^= 0x10;
    }
    CHECK_INT(flips_trusted_wrongly, 0);
    /* zeros a crash left after the last entry are a tail, not damage */
    spill(log, good.data, good.len);
    int fd = open(log, O_WRONLY | O_APPEND);
    static const char zeros[100];
    CHECK(write(fd, zeros, sizeof(zeros)) == (ssize_t)sizeof(zeros));
    close(fd);
    CHECK_INT(reopen(r, 9), MAIL_INDEX_OK);
    CHECK_INT(mail_index_lookup(r, 2)->keywords, 107);
    free(log);
    buf_free(&good);
    buf_free(&err);
    mail_index_free(r);
    scratch_remove(dir);
}

static void test_torn_tail_cut_by_next_writer(void)
{
    char *dir = scratch_dir();
    struct mail_index *w = open_new(dir, 3);
    CHECK_INT(append_range(w, 1, 2), 0);
    CHECK_INT(set_flags(w, 1, IMAP_FLAG_SEEN, 1, NULL), 0);
    char *log = path_in(dir, MAIL_INDEX_LOG_NAME);
    struct buf good = BUF_INIT;
    slurp(log, &good);
    CHECK_INT(set_flags(w, 1, IMAP_FLAG_ANSWERED, 2, NULL), 0);
    struct buf full = BUF_INIT;
    slurp(log, &full);
    /* half of the last entry reached the disk */
    spill(log, full.data, good.len + (full.len - good.len) / 2);
    mail_index_free(w);
    struct mail_index *r = mail_index_alloc(dir);
    CHECK_INT(reopen(r, 3), MAIL_INDEX_OK);
    CHECK_INT(mail_index_lookup(r, 1)->keywords, 1);
    w = mail_index_alloc(dir);
    mail_index_set_fsync(w, 0);
    CHECK_INT(reopen(w, 3), MAIL_INDEX_OK);
    CHECK_INT(set_flags(w, 1, IMAP_FLAG_DRAFT, 3, NULL), 0);
    struct buf err = BUF_INIT;
    CHECK_INT(mail_index_refresh(r, NULL, NULL, &err), MAIL_INDEX_OK);
    CHECK_INT(mail_index_lookup(r, 1)->keywords, 3);
    CHECK_INT(mail_index_lookup(r, 1)->flags, IMAP_FLAG_DRAFT);
    struct mail_index *fresh = mail_index_alloc(dir);
    CHECK_INT(reopen(fresh, 3), MAIL_INDEX_OK);
    CHECK_INT(mail_index_lookup(fresh, 1)->keywords, 3);
    mail_index_free(fresh);
    free(log);
    buf_free(&good);
    buf_free(&full);
    buf_free(&err);
    mail_index_free(r);
    mail_index_free(w);
    scratch_remove(dir);
}

/* A crash between a compaction's renames of the base and of the log
 * leaves the new base beside the old log, whose changes the base holds:
 * the old log is ignored, and the next writer replaces it. */
static void test_crash_between_compaction_renames(void)
{
    char *dir = scratch_dir();
    struct mail_index *w = open_new(dir, 12);
    CHECK_INT(append_range(w, 1, 3), 0);
    CHECK_INT(set_flags(w, 2, IMAP_FLAG_SEEN, 77, NULL), 0);
    char *log = path_in(dir, MAIL_INDEX_LOG_NAME);
    struct buf old_log = BUF_INIT, err = BUF_INIT;
    slurp(log, &old_log);
    CHECK_INT(mail_index_compact(w, 0, &err), 0);
    mail_index_free(w);
    spill(log, old_log.data, old_log.len); /* as if its rename never ran */
    struct mail_index *r = mail_index_alloc(dir);
    CHECK_INT(reopen(r, 12), MAIL_INDEX_OK);
    CHECK_INT(mail_index_count(r), 3);
    CHECK_INT(mail_index_lookup(r, 2)->keywords, 77);
    w = mail_index_alloc(dir);
    mail_index_set_fsync(w, 0);
    CHECK_INT(reopen(w, 12), MAIL_INDEX_OK);
    CHECK_INT(set_flags(w, 3, IMAP_FLAG_FLAGGED, 88, NULL), 0);
    CHECK_INT(mail_index_refresh(r, NULL, NULL, &err), MAIL_INDEX_OK);
    CHECK_INT(mail_index_lookup(r, 3)->keywords, 88);
    CHECK_INT(mail_index_lookup(r, 2)->keywords, 77);
    /* a log newer than its base cannot come from a crash: damage */
    struct buf new_log = BUF_INIT;
    slurp(log, &new_log);
    struct mail_index_file_header fh;
    memcpy(&fh, new_log.data, sizeof(fh));
    mail_index_file_header_fill(&fh, MAIL_INDEX_LOG_MAGIC, fh.uidvalidity, fh.id + 5);
    memcpy(new_log.data, &fh, sizeof(fh));
    spill(log, new_log.data, new_log.len);
    CHECK_INT(reopen(r, 12), MAIL_INDEX_CORRUPT);
    free(log);
    buf_free(&old_log);
    buf_free(&new_log);
    buf_free(&err);
    mail_index_free(r);
    mail_index_free(w);
    scratch_remove(dir);
}

static void test_cache_damage_detected(void)
{
    char *dir = scratch_dir();
    struct mail_index *w = open_new(dir, 4);
    CHECK_INT(append_range(w, 1, 2), 0);
    mail_index_free(w);
    char *cache = path_in(dir, MAIL_INDEX_CACHE_NAME);
    struct buf good = BUF_INIT;
    slurp(cache, &good);
    struct mail_index *r = mail_index_alloc(dir);
    int trusted_wrongly = 0;
    for (size_t at = sizeof(struct mail_index_file_header); at < good.len; at++) {
        good.data[at] ^= 0x01;
        spill(cache, good.data, good.len);
        CHECK_INT(reopen(r, 4), MAIL_INDEX_OK);
        struct mail_index_cached c;
        int hits = mail_index_cached(r, mail_index_lookup(r, 1), &c) +
                   mail_index_cached(r, mail_index_lookup(r, 2), &c);
        if (hits != 1)
            trusted_wrongly++; /* exactly the damaged entry is refused */
        good.data[at] ^= 0x01;
    }
    CHECK_INT(trusted_wrongly, 0);
    /* a cache of another index: nothing cached, and the next writer
     * starts a new cache file */
    good.data[16] ^= 1;
    spill(cache, good.data, good.len);
    CHECK_INT(reopen(r, 4), MAIL_INDEX_OK);
    struct mail_index_cached c;
    CHECK_INT(mail_index_cached(r, mail_index_lookup(r, 1), &c), 0);
    w = mail_index_alloc(dir);
    mail_index_set_fsync(w, 0);
    CHECK_INT(reopen(w, 4), MAIL_INDEX_OK);
    CHECK_INT(append_range(w, 3, 3), 0);
    CHECK_INT(reopen(r, 4), MAIL_INDEX_OK);
    CHECK_INT(mail_index_cached(r, mail_index_lookup(r, 3), &c), 1);
    CHECK_INT(mail_index_cached(r, mail_index_lookup(r, 1), &c), 0);
    mail_index_free(w);
    free(cache);
    buf_free(&good);
    mail_index_free(r);
    scratch_remove(dir);
}

static void test_modseq_after_rebuild(void)
{
    char *dir = scratch_dir();
    struct mail_index *w = open_new(dir, 11);
    CHECK_INT(append_range(w, 1, 4), 0);
    uint64_t seen = 0;
    for (int i = 0; i < 50; i++)
        CHECK_INT(set_flags(w, 2, 0, (uint32_t)i, &seen), 0);
    CHECK_INT(mail_index_header(w)->highest_modseq, seen);
    mail_index_free(w);
    /* the files are lost: the rebuilt index still starts above */
    char *base = path_in(dir, MAIL_INDEX_BASE_NAME);
    char *log = path_in(dir, MAIL_INDEX_LOG_NAME);
    unlink(base);
    unlink(log);
    w = open_new(dir, 11);
    CHECK(mail_index_header(w)->highest_modseq > seen);
    CHECK_INT(append_range(w, 1, 4), 0);
    CHECK(mail_index_lookup(w, 1)->modseq > seen);
    /* an index whose modseqs ran ahead of the clock (a clock stepped
     * back): a rebuild after damage to its records still starts above
     * its HIGHESTMODSEQ, read from the header (its own checksum holds) */
    struct buf err = BUF_INIT;
    CHECK_INT(mail_index_compact(w, 0, &err), 0);
    mail_index_free(w);
    struct buf data = BUF_INIT;
    slurp(base, &data);
    struct mail_index_header hdr;
    memcpy(&hdr, data.data, sizeof(hdr));
    uint64_t ahead = mail_index_modseq_floor() + 1000000000ull;
    hdr.highest_modseq = ahead;
    mail_index_header_seal(&hdr);
    memcpy(data.data, &hdr, sizeof(hdr));
    data.data[data.len - 1] ^= 1; /* a damaged name: body_crc fails */
    spill(base, data.data, data.len);
    struct mail_index *r = mail_index_alloc(dir);
    mail_index_set_fsync(r, 0);
    CHECK_INT(reopen(r, 11), MAIL_INDEX_CORRUPT);
    CHECK_INT(mail_index_create(r, 11, 5, &err), 0);
    CHECK(mail_index_header(r)->highest_modseq > ahead);
    mail_index_free(r);
    free(base);
    free(log);
    buf_free(&data);
    buf_free(&err);
    scratch_remove(dir);
}

/* The writer child: transaction k sets every message's keywords to
 * 1000 + k (flags k % 32) and every 25th compacts. */
static int writer_child(const char *dir, int rounds)
{
    struct mail_index *w = mail_index_alloc(dir);
    mail_index_set_fsync(w, 0);
    struct buf err = BUF_INIT;
    if (mail_index_open(w, 21, &err) != MAIL_INDEX_OK)
        return 3;
    for (int k = 1; k <= rounds; k++) {
        struct mail_index_txn *txn = mail_index_begin(w, &err);
        if (txn == NULL)
            return 4;
        for (uint32_t uid = 1; uid <= 20; uid++)
            if (mail_index_txn_flags(txn, uid, (uint8_t)(k % 32), 1000u + (uint32_t)k) < 0)
                return 5;
        if (mail_index_commit(txn, NULL, &err) < 0)
            return 6;
        if (k % 25 == 0 && mail_index_compact(w, k % 50 == 0, &err) < 0)
            return 7;
    }
    mail_index_free(w);
    buf_free(&err);
    return 0;
}

static void test_writer_and_reader_processes(void)
{
    char *dir = scratch_dir();
    struct mail_index *w = open_new(dir, 21);
    CHECK_INT(append_range(w, 1, 20), 0);
    mail_index_free(w);
    const int rounds = 300;
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0)
        _exit(writer_child(dir, rounds));
    struct mail_index *r = mail_index_alloc(dir);
    struct buf err = BUF_INIT;
    CHECK_INT(reopen(r, 21), MAIL_INDEX_OK);
    uint32_t last_seen = 0;
    int torn = 0, errors = 0, backwards = 0, reads = 0;
    uint64_t last_modseq = 0;
    time_t deadline = time(NULL) + 60;
    while (last_seen < (uint32_t)rounds && time(NULL) < deadline) {
        if (mail_index_refresh(r, NULL, NULL, &err) != MAIL_INDEX_OK) {
            errors++;
            printf("# refresh: %s\n", buf_cstr(&err));
            break;
        }
        reads++;
        /* before the first transaction keywords differ per message */
        uint32_t first = mail_index_nth(r, 0)->keywords;
        uint32_t k = first >= 1000 ? first - 1000 : 0;
        for (uint32_t i = 0; k > 0 && i < mail_index_count(r); i++)
            if (mail_index_nth(r, i)->keywords != first)
                torn++;
        if (mail_index_count(r) != 20)
            torn++;
        if (k < last_seen)
            backwards++;
        if (mail_index_header(r)->highest_modseq < last_modseq)
            backwards++;
        last_modseq = mail_index_header(r)->highest_modseq;
        last_seen = k > last_seen ? k : last_seen;
    }
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK_INT(torn, 0);
    CHECK_INT(errors, 0);
    CHECK_INT(backwards, 0);
    CHECK(reads > 1);
    CHECK_INT(mail_index_refresh(r, NULL, NULL, &err), MAIL_INDEX_OK);
    CHECK_INT(mail_index_nth(r, 19)->keywords, 1000 + rounds);
    printf("# reader refreshed %d times while the writer committed %d\n",
           reads, rounds);
    buf_free(&err);
    mail_index_free(r);
    scratch_remove(dir);
}

static void test_recreated_index_is_stale_to_open_handles(void)
{
    char *dir = scratch_dir();
    struct mail_index *w = open_new(dir, 30);
    CHECK_INT(append_range(w, 1, 2), 0);
    struct mail_index *r = mail_index_alloc(dir);
    CHECK_INT(reopen(r, 0), MAIL_INDEX_OK); /* any UIDVALIDITY */
    struct buf err = BUF_INIT;
    /* the same UIDVALIDITY rebuilt: a reset, the view goes on */
    CHECK_INT(mail_index_create(w, 30, 3, &err), 0);
    struct change_log log = {0};
    CHECK_INT(mail_index_refresh(r, count_change, &log, &err), MAIL_INDEX_OK);
    CHECK_INT(log.resets, 1);
    CHECK_INT(mail_index_count(r), 0);
    /* another UIDVALIDITY: the handle's UIDs mean nothing any more */
    CHECK_INT(mail_index_create(w, 31, 1, &err), 0);
    CHECK_INT(mail_index_refresh(r, NULL, NULL, &err), MAIL_INDEX_STALE);
    CHECK_INT(mail_index_count(r), 0);
    buf_free(&err);
    mail_index_free(r);
    mail_index_free(w);
    scratch_remove(dir);
}

static void test_lock_excludes_second_writer(void)
{
    char *dir = scratch_dir();
    struct mail_index *a = open_new(dir, 8);
    CHECK_INT(append_range(a, 1, 1), 0);
    struct buf err = BUF_INIT;
    struct mail_index_txn *txn = mail_index_begin(a, &err);
    CHECK(txn != NULL);
    /* a second handle in the same process cannot take the lock */
    struct mail_index *b = mail_index_alloc(dir);
    CHECK_INT(reopen(b, 8), MAIL_INDEX_OK);
    char *lock = path_in(dir, MAIL_INDEX_LOCK_NAME);
    int fd = open(lock, O_RDWR);
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    CHECK(fcntl(fd, F_OFD_SETLK, &fl) < 0);
    mail_index_rollback(txn);
    CHECK(fcntl(fd, F_OFD_SETLK, &fl) == 0);
    close(fd);
    free(lock);
    buf_free(&err);
    mail_index_free(a);
    mail_index_free(b);
    scratch_remove(dir);
}

/* A 4.5 KiB message, varied by n: every other one multipart. */
static void make_message(struct buf *out, unsigned n)
{
    buf_reset(out);
    buf_appendf(out,
                "Return-Path: <sender%u@example.net>\n"
                "Delivered-To: user@example.com\n"
                "Received: from mx.example.net (mx.example.net [192.0.2.%u])\n"
                "\tby mail.example.com (Postern) with ESMTPS id 4Q%uX\n"
                "\tfor <user@example.com>; Mon, 7 Dec 2026 10:%02u:00 +0000\n"
                "From: \"Sender %u\" <sender%u@example.net>\n"
                "To: User <user@example.com>, other%u@example.org\n"
                "Cc: list@lists.example.org\n"
                "Subject: =?UTF-8?Q?Report_n=C2=B0?= %u about the quarterly figures\n"
                "Date: Mon, 7 Dec 2026 10:%02u:00 +0000\n"
                "Message-ID: <%u.abcdef@example.net>\n"
                "In-Reply-To: <%u.abcdef@example.net>\n"
                "MIME-Version: 1.0\n",
                n, n % 250, n, n % 60, n, n, n, n, n % 60, n, n ? n - 1 : 0);
    if (n % 2) {
        buf_append_str(out, "Content-Type: multipart/alternative; boundary=\"b1\"\n\n"
                            "--b1\nContent-Type: text/plain; charset=utf-8\n\n");
    } else {
        buf_append_str(out, "Content-Type: text/plain; charset=utf-8\n"
                            "Content-Transfer-Encoding: 8bit\n\n");
    }
    while (out->len < 4500 - 80)
        buf_append_str(out, "The figures for this quarter are in the table below, "
                            "line by line.\n");
    if (n % 2)
        buf_append_str(out, "--b1\nContent-Type: text/html\n\n<p>x</p>\n--b1--\n");
}

/* kB of private (copied) pages in this process's mappings of the file
 * whose path ends with suffix, or -1 when there is none. */
static long private_kb_of_mapping(const char *suffix)
{
    FILE *fp = fopen("/proc/self/smaps", "r");
    if (fp == NULL)
        return -1;
    char line[512];
    long total = -1;
    int in_it = 0;
    size_t slen = strlen(suffix);
    while (fgets(line, sizeof(line), fp)) {
        size_t len = strcspn(line, "\n");
        line[len] = '\0';
        if (strchr(line, '-') && strchr(line, ' ') &&
            strchr(line, '-') < strchr(line, ' ')) {
            in_it = len >= slen && strcmp(line + len - slen, suffix) == 0;
            if (in_it && total < 0)
                total = 0;
        } else if (in_it && strncmp(line, "Private_Dirty:", 14) == 0) {
            total += atol(line + 14);
        }
    }
    fclose(fp);
    return total;
}

static double seconds_since(const struct timespec *start)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - start->tv_sec) +
           (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

/* Cold: scan cur/, read each file, parse and render, append all in one
 * transaction (which compacts). Warm: open, and read flags and the
 * cached ENVELOPE of every message. */
static void test_timing(void)
{
    const char *env = getenv("POSTERN_INDEX_MESSAGES");
    unsigned count = env ? (unsigned)atoi(env) : 2000;
    if (count == 0 || count > 200000)
        count = 2000;
    char *dir = scratch_dir();
    char *cur = path_in(dir, "cur");
    mkdir(cur, 0700);
    struct buf msg = BUF_INIT, path = BUF_INIT, data = BUF_INIT, err = BUF_INIT;
    for (unsigned n = 1; n <= count; n++) {
        make_message(&msg, n);
        buf_set_str(&path, "");
        buf_appendf(&path, "%s/%u.M%uP1.host,S=%zu:2,S", cur, 1700000000 + n, n,
                    msg.len);
        spill(buf_cstr(&path), msg.data, msg.len);
    }
    struct timespec start;
    struct rusage ru0, ru1;
    getrusage(RUSAGE_SELF, &ru0);
    clock_gettime(CLOCK_MONOTONIC, &start);
    struct mail_index *idx = mail_index_alloc(dir);
    mail_index_set_fsync(idx, 0);
    CHECK_INT(mail_index_create(idx, 1234, 1, &err), 0);
    struct mail_index_txn *txn = mail_index_begin(idx, &err);
    struct mail_index_parsed parsed;
    mail_index_parsed_init(&parsed);
    DIR *d = opendir(cur);
    struct dirent *ent;
    double parse_time = 0, read_time = 0;
    uint32_t uid = 0;
    while (txn && (ent = readdir(d)) != NULL) {
        if (ent->d_name[0] == '.')
            continue;
        buf_set_str(&path, "");
        buf_appendf(&path, "%s/%s", cur, ent->d_name);
        struct timespec r0;
        clock_gettime(CLOCK_MONOTONIC, &r0);
        int fd = open(buf_cstr(&path), O_RDONLY);
        struct stat sb;
        if (fd < 0 || fstat(fd, &sb) < 0)
            break;
        buf_reset(&data);
        buf_reserve(&data, (size_t)sb.st_size);
        ssize_t got = read(fd, data.data, (size_t)sb.st_size);
        close(fd);
        if (got != sb.st_size)
            break;
        data.len = (size_t)got;
        read_time += seconds_since(&r0);
        struct timespec p0;
        clock_gettime(CLOCK_MONOTONIC, &p0);
        mail_index_parse_message(&parsed, data.data, data.len);
        parse_time += seconds_since(&p0);
        struct mail_index_cached cached;
        mail_index_parsed_cached(&parsed, &cached);
        const char *colon = strchr(ent->d_name, ':');
        struct mail_index_new nm = {
            .uid = ++uid, .flags = IMAP_FLAG_SEEN,
            .internal_date = sb.st_mtime, .rfc822_size = parsed.rfc822_size,
            .physical_size = (uint64_t)sb.st_size, .name = ent->d_name,
            .name_len = colon ? (size_t)(colon - ent->d_name) : strlen(ent->d_name)};
        CHECK_INT(mail_index_txn_append(txn, &nm, &cached), 0);
    }
    closedir(d);
    struct timespec c0;
    clock_gettime(CLOCK_MONOTONIC, &c0);
    CHECK(txn != NULL && mail_index_commit(txn, NULL, &err) == 0);
    double commit_time = seconds_since(&c0);
    double cold = seconds_since(&start);
    getrusage(RUSAGE_SELF, &ru1);
    double user = (double)(ru1.ru_utime.tv_sec - ru0.ru_utime.tv_sec) +
                  (double)(ru1.ru_utime.tv_usec - ru0.ru_utime.tv_usec) / 1e6;
    double sys = (double)(ru1.ru_stime.tv_sec - ru0.ru_stime.tv_sec) +
                 (double)(ru1.ru_stime.tv_usec - ru0.ru_stime.tv_usec) / 1e6;
    CHECK_INT(mail_index_count(idx), count);
    mail_index_free(idx);

    clock_gettime(CLOCK_MONOTONIC, &start);
    idx = mail_index_alloc(dir);
    CHECK_INT(reopen(idx, 1234), MAIL_INDEX_OK);
    double open_time = seconds_since(&start);
    size_t envelope_bytes = 0;
    unsigned hits = 0;
    for (uint32_t i = 0; i < mail_index_count(idx); i++) {
        const struct mail_index_record *rec = mail_index_nth(idx, i);
        struct mail_index_cached cached;
        if (mail_index_cached(idx, rec, &cached)) {
            hits++;
            envelope_bytes += cached.envelope_len + rec->flags;
        }
    }
    double warm = seconds_since(&start);
    CHECK_INT(hits, count);
    /* reading copied no page of the base: it stays shared between
     * every process that has the mailbox open */
    CHECK_INT(private_kb_of_mapping("/" MAIL_INDEX_BASE_NAME), 0);
    struct stat bs, cs;
    char *base = path_in(dir, MAIL_INDEX_BASE_NAME);
    char *cache = path_in(dir, MAIL_INDEX_CACHE_NAME);
    stat(base, &bs);
    stat(cache, &cs);
    printf("# %u messages of %zu bytes: cold build %.3f s (cpu user %.3f s, "
           "sys %.3f s; open+read %.3f s, "
           "parse+render %.3f s, commit %.3f s), "
           "warm open %.2f ms, open+all envelopes %.2f ms (%zu bytes); "
           "base %lld bytes, cache %lld bytes\n",
           count, msg.len, cold, user, sys, read_time, parse_time, commit_time,
           open_time * 1e3, warm * 1e3,
           envelope_bytes, (long long)bs.st_size, (long long)cs.st_size);
    free(base);
    free(cache);
    mail_index_parsed_free(&parsed);
    mail_index_free(idx);
    buf_free(&msg);
    buf_free(&path);
    buf_free(&data);
    buf_free(&err);
    free(cur);
    scratch_remove(dir);
}

int main(void)
{
    UNIT_RUN(test_round_trip);
    UNIT_RUN(test_base_damage_detected);
    UNIT_RUN(test_log_damage_detected);
    UNIT_RUN(test_torn_tail_cut_by_next_writer);
    UNIT_RUN(test_crash_between_compaction_renames);
    UNIT_RUN(test_cache_damage_detected);
    UNIT_RUN(test_modseq_after_rebuild);
    UNIT_RUN(test_writer_and_reader_processes);
    UNIT_RUN(test_recreated_index_is_stale_to_open_handles);
    UNIT_RUN(test_lock_excludes_second_writer);
    UNIT_RUN(test_timing);
    return unit_summary();
}
