/* imap_thread.h: the THREAD command (RFC 5256): its arguments, the
 * ORDEREDSUBJECT and REFERENCES algorithms over message views
 * (imap_message.h), and the "* THREAD" response.
 *
 *   THREAD algorithm charset search-key...
 *
 * ORDEREDSUBJECT: messages grouped by base subject (imap_subject.h) and
 * ordered by sent date (imap_sort_sent_date); the first of each group is
 * the parent of the others; groups in the order of their first message's
 * sent date.
 * REFERENCES: RFC 5256 section 2.2's steps 1 to 6 (Jamie Zawinski's
 * algorithm): containers linked by References (In-Reply-To's first
 * msg-id when there is none) without loops, a missing or repeated
 * Message-ID given a unique one, dummies pruned, roots sorted by sent
 * date, roots with the same base subject merged, siblings sorted by sent
 * date. Ties in sent date fall to the sequence number.
 * A message whose bytes cannot be read has no header: no Message-ID, no
 * references, no subject, and the internal date as its sent date. */
#ifndef POSTERN_IMAP_THREAD_H
#define POSTERN_IMAP_THREAD_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "imap/imap_arg.h"
#include "imap/imap_message.h"
#include "imap/imap_search.h"

enum imap_thread_algorithm {
    IMAP_THREAD_ORDEREDSUBJECT,
    IMAP_THREAD_REFERENCES,
};

struct imap_thread_args {
    enum imap_thread_algorithm algorithm;
    struct imap_search search;
};

void imap_thread_args_init(struct imap_thread_args *thread);
void imap_thread_args_free(struct imap_thread_args *thread);

/* THREAD's arguments; errors as imap_sort_parse. */
int imap_thread_parse(const struct imap_arg *args, size_t count,
                      unsigned search_flags, struct imap_thread_args *thread,
                      const char **error);

/* Threads msgs[0..count) (the messages SEARCH matched, in sequence order)
 * and appends "* THREAD (...)(...)\r\n" with sequence numbers, or UIDs
 * for UID THREAD. */
void imap_thread_write(struct buf *out, enum imap_thread_algorithm algorithm,
                       struct imap_message **msgs, size_t count, int uid);

#endif
