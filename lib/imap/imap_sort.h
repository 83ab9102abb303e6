/* imap_sort.h: the SORT command (RFC 5256, with DISPLAYFROM and
 * DISPLAYTO from RFC 5957): its arguments, the ordering of message views
 * (imap_message.h) and the "* SORT" response.
 *
 *   SORT (criteria) charset search-key...      criteria: [REVERSE] key
 *
 * Keys and what they compare (Dovecot 2.3's answers where RFC 5256
 * leaves room; docs/imap-fetch-search.md):
 *   ARRIVAL   the internal date;
 *   DATE      the Date: field as a point in time, or the internal date
 *             when there is no valid Date:;
 *   SIZE      RFC822.SIZE;
 *   FROM, TO, CC       the mailbox (local part) of the first address;
 *   DISPLAYFROM, DISPLAYTO  its display name, RFC 2047 decoded, or its
 *             mailbox@domain when it has none;
 *   SUBJECT   the base subject (imap_subject.h).
 * Text compares folded (imap_casefold.h), bytewise; a missing value is
 * the empty string and sorts first. Ties fall to the next criterion and
 * finally to the sequence number, ascending whatever REVERSE says. */
#ifndef POSTERN_IMAP_SORT_H
#define POSTERN_IMAP_SORT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "base/buf.h"
#include "imap/imap_arg.h"
#include "imap/imap_message.h"
#include "imap/imap_search.h"

#define IMAP_SORT_CRITERIA_MAX 16

enum imap_sort_key {
    IMAP_SORT_ARRIVAL,
    IMAP_SORT_CC,
    IMAP_SORT_DATE,
    IMAP_SORT_FROM,
    IMAP_SORT_SIZE,
    IMAP_SORT_SUBJECT,
    IMAP_SORT_TO,
    IMAP_SORT_DISPLAYFROM,
    IMAP_SORT_DISPLAYTO,
};

struct imap_sort_criterion {
    enum imap_sort_key key;
    int reverse;
};

struct imap_sort_args {
    struct imap_sort_criterion criteria[IMAP_SORT_CRITERIA_MAX];
    size_t count;
    struct imap_search search; /* the search keys after the charset */
};

void imap_sort_args_init(struct imap_sort_args *sort);
void imap_sort_args_free(struct imap_sort_args *sort);

/* Checks a charset argument of SORT or THREAD: 0 for UTF-8 or US-ASCII,
 * -1 otherwise. */
int imap_sort_charset_ok(const struct imap_arg *arg);

/* SORT's arguments. 0, or -1 with *error for "BAD <error>", or when
 * sort->search.error_no "NO <error>" (an unknown charset, with its
 * [BADCHARSET (US-ASCII UTF-8)] code). `search_flags` as for
 * imap_search_parse. */
int imap_sort_parse(const struct imap_arg *args, size_t count,
                    unsigned search_flags, struct imap_sort_args *sort,
                    const char **error);

/* Orders msgs[0..count) (the messages SEARCH matched) by the criteria.
 * A message whose bytes cannot be read sorts as if its header were
 * empty; returns how many could not be read. */
size_t imap_sort_messages(const struct imap_sort_criterion *criteria,
                          size_t criteria_count, struct imap_message **msgs,
                          size_t count);

/* Appends "* SORT n n n\r\n": sequence numbers, or UIDs for UID SORT. */
void imap_sort_write(struct buf *out, struct imap_message *const *msgs,
                     size_t count, int uid);

/* The sent date of RFC 5256 section 2.2: the Date: field in UTC, or the
 * internal date when it has none or its bytes cannot be read. Shared
 * with THREAD. */
time_t imap_sort_sent_date(struct imap_message *msg);

#endif
