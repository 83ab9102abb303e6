/* mail_index_format.c: the trust checks of the index files (see
 * mail_index_format.h). */
#include "storage/mail_index_format.h"

#include <string.h>

#include "storage/crc32c.h"

_Static_assert(sizeof(struct mail_index_header) == 112, "header layout");
_Static_assert(sizeof(struct mail_index_record) == 64, "record layout");
_Static_assert(sizeof(struct mail_index_file_header) == 32, "file header");

#define HEADER_CRC_SPAN offsetof(struct mail_index_header, header_crc)
#define FILE_HEADER_CRC_SPAN offsetof(struct mail_index_file_header, header_crc)

static int fail(struct buf *why, const char *reason)
{
    if (why)
        buf_set_str(why, reason);
    return -1;
}

void mail_index_header_seal(struct mail_index_header *hdr)
{
    hdr->header_crc = crc32c(0, hdr, HEADER_CRC_SPAN);
}

int mail_index_base_check(const void *data, size_t len, struct buf *why)
{
    struct mail_index_header hdr;
    if (len < sizeof(hdr))
        return fail(why, "index shorter than its header");
    memcpy(&hdr, data, sizeof(hdr));
    if (memcmp(hdr.magic, MAIL_INDEX_BASE_MAGIC, 8) != 0)
        return fail(why, "not an index file (bad magic)");
    if (hdr.version != MAIL_INDEX_VERSION)
        return fail(why, "unsupported index version");
    if (crc32c(0, &hdr, HEADER_CRC_SPAN) != hdr.header_crc)
        return fail(why, "index header checksum mismatch");
    if (hdr.header_size != sizeof(hdr) ||
        hdr.record_size != sizeof(struct mail_index_record))
        return fail(why, "index header or record size mismatch");
    if (hdr.record_count > MAIL_INDEX_RECORDS_MAX ||
        (uint64_t)hdr.names_size >
            (uint64_t)hdr.record_count * MAIL_INDEX_NAME_MAX)
        return fail(why, "index counts out of bounds");
    if (hdr.reserved[0] | hdr.reserved[1] | hdr.reserved[2] | hdr.reserved[3])
        return fail(why, "index reserved header bytes not zero");
    if (hdr.uidvalidity == 0 || hdr.next_uid == 0)
        return fail(why, "index UIDVALIDITY or next UID is 0");
    uint64_t want = (uint64_t)sizeof(hdr) +
                    (uint64_t)hdr.record_count * sizeof(struct mail_index_record) +
                    hdr.names_size;
    if ((uint64_t)len != want)
        return fail(why, "index length does not match its header");
    const unsigned char *body = (const unsigned char *)data + sizeof(hdr);
    if (crc32c(0, body, len - sizeof(hdr)) != hdr.body_crc)
        return fail(why, "index records checksum mismatch");
    uint32_t prev_uid = 0;
    for (uint32_t i = 0; i < hdr.record_count; i++) {
        struct mail_index_record rec;
        memcpy(&rec, body + (size_t)i * sizeof(rec), sizeof(rec));
        if (rec.uid <= prev_uid || rec.uid >= hdr.next_uid)
            return fail(why, "index records not in rising UID order");
        if ((rec.flags & ~MAIL_INDEX_FLAGS_MASK) || rec.state || rec.reserved)
            return fail(why, "index record with bad flag bits");
        if (rec.modseq == 0 || rec.modseq > hdr.highest_modseq)
            return fail(why, "index record modseq out of range");
        if (rec.name_len == 0 || rec.name_len > MAIL_INDEX_NAME_MAX ||
            (uint64_t)rec.name_offset + rec.name_len > hdr.names_size)
            return fail(why, "index record name out of bounds");
        if ((rec.cache_offset == 0) != (rec.cache_length == 0))
            return fail(why, "index record cache reference half set");
        prev_uid = rec.uid;
    }
    return 0;
}

int mail_index_file_header_check(const void *data, size_t len,
                                 const char *magic, struct buf *why)
{
    struct mail_index_file_header hdr;
    if (len < sizeof(hdr))
        return fail(why, "file shorter than its header");
    memcpy(&hdr, data, sizeof(hdr));
    if (memcmp(hdr.magic, magic, 8) != 0)
        return fail(why, "bad magic");
    if (hdr.version != MAIL_INDEX_VERSION)
        return fail(why, "unsupported version");
    if (crc32c(0, &hdr, FILE_HEADER_CRC_SPAN) != hdr.header_crc)
        return fail(why, "header checksum mismatch");
    if (hdr.reserved != 0)
        return fail(why, "reserved header bytes not zero");
    return 0;
}

void mail_index_file_header_fill(struct mail_index_file_header *hdr,
                                 const char *magic, uint32_t uidvalidity,
                                 uint64_t id)
{
    memset(hdr, 0, sizeof(*hdr));
    memcpy(hdr->magic, magic, 8);
    hdr->version = MAIL_INDEX_VERSION;
    hdr->uidvalidity = uidvalidity;
    hdr->id = id;
    hdr->header_crc = crc32c(0, hdr, FILE_HEADER_CRC_SPAN);
}
