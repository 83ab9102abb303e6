/* imap_seqset.h: IMAP sequence sets ("1:4,7,9:*", "$"), parsed for
 * FETCH, STORE, COPY, MOVE, SEARCH and the UID forms.
 *
 * A set is kept as sent, as ranges whose ends may be "*" (the largest
 * number in use, which only the mailbox knows), and resolved against
 * the mailbox when used. "$" (RFC 5182, SEARCHRES) stands for the saved
 * search result and must be the whole set. 0 is never valid; numbers
 * are 32 bits; a set of more than `max_ranges` ranges is refused, so a
 * hostile client cannot make the server hold a huge list. */
#ifndef POSTERN_IMAP_SEQSET_H
#define POSTERN_IMAP_SEQSET_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

#define IMAP_SEQ_STAR UINT32_MAX   /* "*" before resolving */
#define IMAP_SEQSET_MAX_RANGES 10000

struct imap_seq_range {
    uint32_t first, last; /* first <= last; last may be IMAP_SEQ_STAR */
};

struct imap_seqset {
    struct imap_seq_range *ranges; /* owned; NULL when empty */
    size_t count;
    int searchres; /* the set was "$" (count is 0) */
};

void imap_seqset_init(struct imap_seqset *set);
void imap_seqset_free(struct imap_seqset *set);

/* Parses text[0..len) into set (replacing what it held). "*:4" is kept
 * as 4:*, "7:3" as 3:7. 0, or -1 with *error for "BAD <error>". */
int imap_seqset_parse(const char *text, size_t len, size_t max_ranges,
                      struct imap_seqset *set, const char **error);

/* Whether text[0..len) has the form of a sequence set (digits, ',',
 * ':', '*', or exactly "$"), as SEARCH tells a set from a key. */
int imap_seqset_looks_like(const char *text, size_t len);

/* Resolves "*" to `largest` (the message count, or the highest UID)
 * and sorts and merges the ranges, so that they ascend without
 * overlapping. With largest == 0 (an empty mailbox) "*" ranges drop
 * out. For UIDs, a range over the end stays as it is ("5:*" with
 * largest 3 becomes 3:5, as RFC 9051 says). Not for a "$" set. */
void imap_seqset_resolve(struct imap_seqset *set, uint32_t largest);

/* After resolve: whether value is in the set (binary search). */
int imap_seqset_contains(const struct imap_seqset *set, uint32_t value);

/* Appends the set in its shortest form ("1:3,5"), e.g. for COPYUID. */
void imap_seqset_format(const struct imap_seqset *set, struct buf *out);

#endif
