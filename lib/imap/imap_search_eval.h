/* imap_search_eval.h: whether one message matches a SEARCH (imap_search.h
 * tree) over the message view of imap_message.h, for SEARCH, UID SEARCH,
 * SORT and THREAD.
 *
 * Every key of RFC 3501 and 9051, MODSEQ (RFC 7162), OLDER/YOUNGER (RFC
 * 5032) and "$" (RFC 5182). Matching follows Dovecot 2.3 where the RFCs
 * leave room (docs/imap-fetch-search.md):
 *  - text keys are substrings compared after i;unicode-casemap folding
 *    (imap_casefold.h), so case and accents on a search word written
 *    without them do not matter ("cafe" finds "Café");
 *  - header keys (FROM, TO, CC, BCC, SUBJECT, HEADER) look at every field
 *    of that name in the message header, RFC 2047 words decoded and
 *    folding removed; HEADER name "" matches when the field exists;
 *  - BODY looks at the bodies of text/ and message/ parts (attachments of
 *    other types are not searched), transfer encoding undone and the
 *    charset converted to UTF-8; TEXT at those bodies and every header,
 *    MIME part headers included;
 *  - BEFORE/ON/SINCE compare the internal date's day in the zone it is
 *    shown in (imap_message.internal_zone); SENTBEFORE/SENTON/SENTSINCE the
 *    day written in the Date: field, 1970-01-01 when there is no valid
 *    Date: (Dovecot's answer);
 *  - within AND and OR the keys that need no message bytes are tried
 *    first, then header keys, then body keys, so the file is read only
 *    when a key needs it and the flags have not already decided. */
#ifndef POSTERN_IMAP_SEARCH_EVAL_H
#define POSTERN_IMAP_SEARCH_EVAL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "base/buf.h"
#include "imap/imap_message.h"
#include "imap/imap_search.h"

/* What the keys are resolved against. */
struct imap_search_env {
    uint32_t message_count;    /* "*" of a sequence set */
    uint32_t uid_max;          /* "*" of a UID set: the highest UID in use */
    time_t now;                /* OLDER, YOUNGER */
    const struct imap_seqset *saved_uids; /* "$": UIDs, resolved; NULL none */
};

struct imap_search_folded; /* a text key folded once */

struct imap_search_eval {
    const struct imap_search *search;
    struct imap_search_env env;
    struct imap_search_folded *folded; /* sorted by key address */
    size_t folded_count;
    /* per message (each match call), buffers reused: */
    int have_headers, have_bodies, have_sent;
    long sent_day;
    struct buf headers;  /* folded header text of every part (TEXT) */
    struct buf bodies;   /* folded decoded text of the text parts */
    struct buf scratch, scratch2;
};

/* Resolves the sets of `search` against env (the tree is changed:
 * "*" replaced) and folds its text keys once. */
void imap_search_eval_init(struct imap_search_eval *ev,
                           struct imap_search *search,
                           const struct imap_search_env *env);
void imap_search_eval_free(struct imap_search_eval *ev);

/* 1 when msg matches, 0 when not, -1 when a key needed the message's
 * bytes and they could not be read. */
int imap_search_eval_match(struct imap_search_eval *ev,
                           struct imap_message *msg);

#endif
