/* mail_index_state.h: the index as a process sees it: the records of a
 * checked base (read in place, no allocation per record), the messages
 * appended since (one growing array), and the log replayed on top.
 * Replaying is a pure function of bytes, shared by the reader, the
 * writer (which applies what it has just appended) and the fuzz target.
 *
 * A log is read entry by entry. An entry that runs past the end, or
 * that fails its checksum and is the last thing in the file (or is
 * followed only by zero bytes), is the tail of a write in progress or
 * of one torn by a crash: reading stops before it and it is not used
 * (the next writer cuts it off). Any other bad entry, and any entry
 * whose operations do not fit the state (an unknown type, a UID that
 * is not there, UIDs not rising, a modseq not above HIGHESTMODSEQ),
 * makes the whole index corrupt; the caller drops the state and
 * rebuilds. */
#ifndef POSTERN_MAIL_INDEX_STATE_H
#define POSTERN_MAIL_INDEX_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "storage/mail_index_format.h"

enum mail_index_change {
    MAIL_INDEX_CHANGE_APPEND,
    MAIL_INDEX_CHANGE_FLAGS,
    MAIL_INDEX_CHANGE_EXPUNGE,
    /* the whole view was reread (another process compacted or rebuilt
     * the index): the record is NULL; compare UID lists. Only
     * mail_index_refresh sends it, never the replay. */
    MAIL_INDEX_CHANGE_RESET,
};

/* Called for each message an applied log entry changes. */
typedef void mail_index_change_fn(void *ctx, enum mail_index_change change,
                                  const struct mail_index_record *rec);

struct mail_index_state {
    struct mail_index_header hdr;  /* counters kept current by the log */
    struct mail_index_record *base; /* base records, writable private copy */
    uint32_t base_count;
    const char *base_names;
    struct mail_index_record *extra; /* appended by the log */
    uint32_t extra_count, extra_cap;
    struct buf log_names;            /* names of the appended ones */
    uint32_t expunged_count;
    uint32_t last_uid;               /* of any record, expunged or not */
    uint32_t *live;                  /* positions of the live records */
    uint32_t live_count;
    int live_valid;
    /* per position, MAIL_INDEX_CACHE_*: whether its cache entry has been
     * checked (kept apart from the records so that reading never makes
     * the shared mapping of the base private) */
    uint8_t *cache_checked;
    uint32_t cache_checked_cap;
};

#define MAIL_INDEX_CACHE_OK 1
#define MAIL_INDEX_CACHE_BAD 2

/* Starts from a base that mail_index_base_check accepted. `data` must
 * stay mapped (writable: the log updates records in place) while the
 * state is used; a NULL data starts an empty state for hdr. */
void mail_index_state_init(struct mail_index_state *st, void *data,
                           const struct mail_index_header *hdr);
void mail_index_state_free(struct mail_index_state *st);

enum mail_index_scan_result {
    MAIL_INDEX_SCAN_OK,      /* every byte used */
    MAIL_INDEX_SCAN_TAIL,    /* stopped at an incomplete or torn tail */
    MAIL_INDEX_SCAN_CORRUPT, /* why says what */
};

/* Applies the entries in data[0..len) (the log after its header, or
 * what was appended since the last call). *used gets the bytes of the
 * entries applied. change may be NULL. */
enum mail_index_scan_result
mail_index_log_scan(struct mail_index_state *st, const void *data, size_t len,
                    size_t *used, mail_index_change_fn *change, void *ctx,
                    struct buf *why);

/* The record with that UID (expunged ones too), or NULL. */
struct mail_index_record *mail_index_state_find(struct mail_index_state *st,
                                                uint32_t uid);

/* Live (not expunged) messages, and the one at position seq0 in UID
 * order. */
uint32_t mail_index_state_count(struct mail_index_state *st);
struct mail_index_record *mail_index_state_nth(struct mail_index_state *st,
                                               uint32_t seq0);

/* Where the check result of rec's cache entry is kept (grown as
 * needed). */
uint8_t *mail_index_state_cache_checked(struct mail_index_state *st,
                                        const struct mail_index_record *rec);

/* The base name of a record and its length. */
const char *mail_index_state_name(const struct mail_index_state *st,
                                  const struct mail_index_record *rec);

#endif
