/* mail_index_cache.h: what the index caches per message, how it is
 * computed from the message's bytes, and the checksummed cache entry
 * that holds it in postern.index.cache (layout in mail_index_format.h).
 *
 * The renderings are the strings imapd sends, without the outer
 * parentheses: ENVELOPE (imap_envelope_write), BODYSTRUCTURE and BODY
 * (imap_bodystructure_write, extended and not), and the mime_tree blob
 * (mime_tree_blob_write) from which BODY[section] finds its bytes
 * without parsing the message again. */
#ifndef POSTERN_MAIL_INDEX_CACHE_H
#define POSTERN_MAIL_INDEX_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "message/mime_tree.h"

/* Pointers into a cache entry (or into a mail_index_parsed). */
struct mail_index_cached {
    const char *envelope;
    size_t envelope_len;
    const char *bodystructure;
    size_t bodystructure_len;
    const char *body;
    size_t body_len;
    const void *mime_blob;
    size_t mime_blob_len;
};

/* A message parsed once: its renderings and sizes. Reuse one for many
 * messages (its buffers and tree keep their memory). */
struct mail_index_parsed {
    struct mime_tree tree;
    struct buf envelope, bodystructure, body, mime_blob;
    uint64_t rfc822_size; /* every line end counted as CRLF */
};

void mail_index_parsed_init(struct mail_index_parsed *parsed);
void mail_index_parsed_free(struct mail_index_parsed *parsed);

/* Parses data[0..len) and renders everything the index caches. The
 * tree points into data afterwards. */
void mail_index_parse_message(struct mail_index_parsed *parsed,
                              const char *data, size_t len);

/* The renderings of parsed, as a mail_index_cached. */
void mail_index_parsed_cached(const struct mail_index_parsed *parsed,
                              struct mail_index_cached *cached);

/* Appends a cache entry for uid holding `cached` to out. Returns the
 * entry's length, or 0 when it would exceed MAIL_INDEX_CACHE_ENTRY_MAX
 * (nothing appended: the message is then not cached). */
uint32_t mail_index_cache_entry_write(struct buf *out, uint32_t uid,
                                      const struct mail_index_cached *cached);

/* Checks the entry at data[0..length) (length from the record; the
 * caller has made sure length bytes are there): length fields, the
 * UID, the checksum (unless verify is 0: an entry already checked),
 * the string lengths. Fills cached with pointers
 * into data. 0, or -1 when the entry cannot be trusted. */
int mail_index_cache_entry_read(const void *data, size_t length, uint32_t uid,
                                int verify, struct mail_index_cached *cached);

#endif
