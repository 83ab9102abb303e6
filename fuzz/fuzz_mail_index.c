/* fuzz_mail_index.c: fuzz target for the mailbox index reader
 * (lib/storage/mail_index_format.c, mail_index_state.c,
 * mail_index_cache.c): the base file check, the log replay on top of a
 * base, and the cache entry check. Index files live in the user's
 * Maildir, so any byte may be wrong; the reader must refuse or accept
 * without reading out of bounds, and what it accepts must hold
 * together.
 *
 * Input: byte 0 holds flags (bit 0: seal the log entries, i.e. put in
 * the right inverted length and checksum, so mutations reach the
 * operations instead of stopping at the checksum; bit 1: seal the base
 * likewise; bit 2: also read the input as a cache entry), bytes 1-4 the
 * base's length (little endian), then the base, then log entries (the
 * log without its header). A base that fails its check is replaced by
 * an empty one, so the log is replayed either way. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "storage/crc32c.h"
#include "storage/mail_index_cache.h"
#include "storage/mail_index_format.h"
#include "storage/mail_index_state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void seal_base(unsigned char *base, size_t len)
{
    struct mail_index_header hdr;
    if (len < sizeof(hdr))
        return;
    memcpy(&hdr, base, sizeof(hdr));
    hdr.body_crc = crc32c(0, base + sizeof(hdr), len - sizeof(hdr));
    mail_index_header_seal(&hdr);
    memcpy(base, &hdr, sizeof(hdr));
}

static void seal_log(unsigned char *log, size_t len)
{
    size_t pos = 0;
    while (len - pos >= MAIL_INDEX_LOG_ENTRY_HEAD) {
        uint32_t length;
        memcpy(&length, log + pos, 4);
        length &= ~3u;
        if (length < MAIL_INDEX_LOG_ENTRY_HEAD || length > len - pos)
            length = (uint32_t)((len - pos) & ~(size_t)3);
        uint32_t inv = length ^ 0xffffffffu, zero = 0;
        memcpy(log + pos, &length, 4);
        memcpy(log + pos + 4, &inv, 4);
        memcpy(log + pos + 12, &zero, 4);
        uint32_t crc = crc32c(0, log + pos + 12, length - 12);
        memcpy(log + pos + 8, &crc, 4);
        pos += length;
    }
}

static void check_state(struct mail_index_state *st)
{
    uint32_t count = mail_index_state_count(st);
    if (count > st->base_count + st->extra_count)
        __builtin_trap();
    uint32_t prev = 0;
    for (uint32_t i = 0; i < count; i++) {
        struct mail_index_record *rec = mail_index_state_nth(st, i);
        if (rec == NULL || rec->uid <= prev ||
            (rec->state & MAIL_INDEX_REC_EXPUNGED) ||
            rec->uid >= st->hdr.next_uid ||
            rec->modseq > st->hdr.highest_modseq ||
            mail_index_state_find(st, rec->uid) != rec)
            __builtin_trap();
        const char *name = mail_index_state_name(st, rec);
        const char *lo, *hi;
        if (rec->state & MAIL_INDEX_REC_LOGNAME) {
            lo = st->log_names.data;
            hi = lo + st->log_names.len;
        } else {
            lo = st->base_names;
            hi = lo + st->hdr.names_size;
        }
        if (name < lo || name + rec->name_len > hi)
            __builtin_trap();
        prev = rec->uid;
    }
    if (mail_index_state_nth(st, count) != NULL)
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 5)
        return 0;
    unsigned flags = data[0];
    uint32_t base_len;
    memcpy(&base_len, data + 1, 4);
    size_t rest = size - 5;
    if (base_len > rest)
        base_len = (uint32_t)rest;
    /* copies: the state writes into the base, as into its mapping */
    unsigned char *base = malloc(base_len + 1);
    unsigned char *log = malloc(rest - base_len + 1);
    memcpy(base, data + 5, base_len);
    memcpy(log, data + 5 + base_len, rest - base_len);
    size_t log_len = rest - base_len;
    if (flags & 2)
        seal_base(base, base_len);
    if (flags & 1)
        seal_log(log, log_len);

    struct buf why = BUF_INIT;
    struct mail_index_state st;
    struct mail_index_header hdr;
    if (mail_index_base_check(base, base_len, &why) == 0) {
        memcpy(&hdr, base, sizeof(hdr));
        mail_index_state_init(&st, base, &hdr);
    } else {
        memset(&hdr, 0, sizeof(hdr));
        hdr.uidvalidity = 1;
        hdr.next_uid = 1;
        mail_index_state_init(&st, NULL, &hdr);
    }
    check_state(&st);
    size_t used = 0;
    enum mail_index_scan_result scan =
        mail_index_log_scan(&st, log, log_len, &used, NULL, NULL, &why);
    if (used > log_len || (scan == MAIL_INDEX_SCAN_OK && used != log_len))
        __builtin_trap();
    if (scan != MAIL_INDEX_SCAN_CORRUPT)
        check_state(&st);
    mail_index_state_free(&st);

    (void)mail_index_file_header_check(data, size, MAIL_INDEX_LOG_MAGIC, NULL);
    if (flags & 4) {
        struct mail_index_cached cached;
        size_t length = size & ~(size_t)3;
        unsigned char *entry = malloc(length + 1);
        memcpy(entry, data, length);
        if (length >= 8 && (flags & 1)) {
            uint32_t len32 = (uint32_t)length;
            memcpy(entry, &len32, 4);
            uint32_t crc = crc32c(0, entry + 8, length - 8);
            memcpy(entry + 4, &crc, 4);
        }
        uint32_t uid = length >= 12 ? (uint32_t)entry[8] | (uint32_t)entry[9] << 8 |
                                          (uint32_t)entry[10] << 16 |
                                          (uint32_t)entry[11] << 24
                                    : 0;
        if (mail_index_cache_entry_read(entry, length, uid, 1, &cached) == 0) {
            const char *end = (const char *)entry + length;
            if (cached.envelope + cached.envelope_len > end ||
                cached.bodystructure + cached.bodystructure_len > end ||
                cached.body + cached.body_len > end ||
                (const char *)cached.mime_blob + cached.mime_blob_len > end)
                __builtin_trap();
        }
        free(entry);
    }
    buf_free(&why);
    free(base);
    free(log);
    return 0;
}
