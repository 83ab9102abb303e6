/* mail_index_cache.c: computing and storing the cached renderings (see
 * mail_index_cache.h). */
#include "storage/mail_index_cache.h"

#include <string.h>

#include "message/imap_bodystructure.h"
#include "message/imap_envelope.h"
#include "message/mime_tree_blob.h"
#include "storage/crc32c.h"
#include "storage/mail_index_format.h"

void mail_index_parsed_init(struct mail_index_parsed *parsed)
{
    mime_tree_init(&parsed->tree);
    buf_init(&parsed->envelope);
    buf_init(&parsed->bodystructure);
    buf_init(&parsed->body);
    buf_init(&parsed->mime_blob);
    parsed->rfc822_size = 0;
}

void mail_index_parsed_free(struct mail_index_parsed *parsed)
{
    mime_tree_free(&parsed->tree);
    buf_free(&parsed->envelope);
    buf_free(&parsed->bodystructure);
    buf_free(&parsed->body);
    buf_free(&parsed->mime_blob);
}

void mail_index_parse_message(struct mail_index_parsed *parsed,
                              const char *data, size_t len)
{
    mime_tree_parse(&parsed->tree, data, len);
    const struct mime_part *top = &parsed->tree.parts[0];
    buf_reset(&parsed->envelope);
    buf_reset(&parsed->bodystructure);
    buf_reset(&parsed->body);
    buf_reset(&parsed->mime_blob);
    imap_envelope_write(&parsed->envelope, data, top->header_size);
    imap_bodystructure_write(&parsed->bodystructure, &parsed->tree, 0, 1);
    imap_bodystructure_write(&parsed->body, &parsed->tree, 0, 0);
    mime_tree_blob_write(&parsed->tree, &parsed->mime_blob);
    parsed->rfc822_size = top->header_vsize + top->body_vsize;
}

void mail_index_parsed_cached(const struct mail_index_parsed *parsed,
                              struct mail_index_cached *cached)
{
    cached->envelope = parsed->envelope.data;
    cached->envelope_len = parsed->envelope.len;
    cached->bodystructure = parsed->bodystructure.data;
    cached->bodystructure_len = parsed->bodystructure.len;
    cached->body = parsed->body.data;
    cached->body_len = parsed->body.len;
    cached->mime_blob = parsed->mime_blob.data;
    cached->mime_blob_len = parsed->mime_blob.len;
}

static void put32(unsigned char *p, uint32_t v)
{
    memcpy(p, &v, 4);
}

static uint32_t get32(const unsigned char *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

uint32_t mail_index_cache_entry_write(struct buf *out, uint32_t uid,
                                      const struct mail_index_cached *cached)
{
    uint64_t total = (uint64_t)MAIL_INDEX_CACHE_ENTRY_HEAD +
                     cached->envelope_len + cached->bodystructure_len +
                     cached->body_len + cached->mime_blob_len;
    total = (total + 3) & ~(uint64_t)3;
    if (total > MAIL_INDEX_CACHE_ENTRY_MAX)
        return 0;
    size_t start = out->len;
    buf_reserve(out, (size_t)total);
    unsigned char *p = (unsigned char *)out->data + start;
    put32(p, (uint32_t)total);
    put32(p + 8, uid);
    put32(p + 12, (uint32_t)cached->envelope_len);
    put32(p + 16, (uint32_t)cached->bodystructure_len);
    put32(p + 20, (uint32_t)cached->body_len);
    put32(p + 24, (uint32_t)cached->mime_blob_len);
    size_t pos = MAIL_INDEX_CACHE_ENTRY_HEAD;
    memcpy(p + pos, cached->envelope, cached->envelope_len);
    pos += cached->envelope_len;
    memcpy(p + pos, cached->bodystructure, cached->bodystructure_len);
    pos += cached->bodystructure_len;
    memcpy(p + pos, cached->body, cached->body_len);
    pos += cached->body_len;
    memcpy(p + pos, cached->mime_blob, cached->mime_blob_len);
    pos += cached->mime_blob_len;
    memset(p + pos, 0, (size_t)total - pos);
    put32(p + 4, crc32c(0, p + 8, (size_t)total - 8));
    out->len = start + (size_t)total;
    out->data[out->len] = '\0';
    return (uint32_t)total;
}

int mail_index_cache_entry_read(const void *data, size_t length, uint32_t uid,
                                int verify, struct mail_index_cached *cached)
{
    const unsigned char *p = data;
    if (length < MAIL_INDEX_CACHE_ENTRY_HEAD || length % 4 ||
        get32(p) != length || get32(p + 8) != uid)
        return -1;
    uint64_t strings = (uint64_t)get32(p + 12) + get32(p + 16) +
                       get32(p + 20) + get32(p + 24);
    if (strings > length - MAIL_INDEX_CACHE_ENTRY_HEAD ||
        length - MAIL_INDEX_CACHE_ENTRY_HEAD - strings > 3)
        return -1;
    if (verify && crc32c(0, p + 8, length - 8) != get32(p + 4))
        return -1;
    const char *s = (const char *)p + MAIL_INDEX_CACHE_ENTRY_HEAD;
    cached->envelope = s;
    cached->envelope_len = get32(p + 12);
    s += cached->envelope_len;
    cached->bodystructure = s;
    cached->bodystructure_len = get32(p + 16);
    s += cached->bodystructure_len;
    cached->body = s;
    cached->body_len = get32(p + 20);
    s += cached->body_len;
    cached->mime_blob = s;
    cached->mime_blob_len = get32(p + 24);
    return 0;
}
