/* imap_list.h: the IMAP pieces of LIST and LSUB: their arguments (RFC
 * 3501, LIST-EXTENDED RFC 5258 with its selection and return options,
 * SPECIAL-USE RFC 6154, LIST-STATUS RFC 5819, several patterns), the
 * pattern matcher (`*`, `%`), and the response lines.
 *
 * Names here are UTF-8 with the session's hierarchy separator, as
 * imap_mailbox_name() gives them: the reference and the patterns are
 * decoded from modified UTF-7 unless the session is in UTF-8 mode, and
 * the writer encodes names back. A pattern that is not valid modified
 * UTF-7 is kept as sent (it then matches only names spelled the same),
 * as Dovecot keeps it.
 *
 * Matching (RFC 3501 6.3.8): `*` matches any text, `%` any text without
 * the separator; everything else matches itself, except that a leading
 * "INBOX" level of a name matches in any case ("inbox/%", "inb*"). The
 * matcher runs in time proportional to pattern length times name length
 * whatever the wildcards, so no pattern can make it backtrack. */
#ifndef POSTERN_IMAP_LIST_H
#define POSTERN_IMAP_LIST_H

#include <stddef.h>

#include "base/buf.h"
#include "imap/imap_arg.h"

/* Selection options (RFC 5258 section 3.1, RFC 6154 section 3). */
#define IMAP_LIST_SELECT_SUBSCRIBED 0x01
#define IMAP_LIST_SELECT_REMOTE 0x02
#define IMAP_LIST_SELECT_RECURSIVEMATCH 0x04
#define IMAP_LIST_SELECT_SPECIAL_USE 0x08

/* Return options (RFC 5258 section 3.2, RFC 6154, RFC 5819). */
#define IMAP_LIST_RETURN_SUBSCRIBED 0x01
#define IMAP_LIST_RETURN_CHILDREN 0x02
#define IMAP_LIST_RETURN_SPECIAL_USE 0x04
#define IMAP_LIST_RETURN_STATUS 0x08

/* STATUS data items (RFC 3501, 9051, 7162, 7889). */
#define IMAP_STATUS_MESSAGES 0x001
#define IMAP_STATUS_RECENT 0x002
#define IMAP_STATUS_UIDNEXT 0x004
#define IMAP_STATUS_UIDVALIDITY 0x008
#define IMAP_STATUS_UNSEEN 0x010
#define IMAP_STATUS_DELETED 0x020
#define IMAP_STATUS_SIZE 0x040
#define IMAP_STATUS_HIGHESTMODSEQ 0x080
#define IMAP_STATUS_APPENDLIMIT 0x100

/* Mailbox attributes in a LIST/LSUB response, written in this order
 * (Dovecot's): \Subscribed, \Noselect, \NonExistent, one of
 * \HasChildren / \NoInferiors / \HasNoChildren, \Marked / \UnMarked,
 * then the special-use ones. */
#define IMAP_LIST_ATTR_SUBSCRIBED 0x0001
#define IMAP_LIST_ATTR_NOSELECT 0x0002
#define IMAP_LIST_ATTR_NONEXISTENT 0x0004
#define IMAP_LIST_ATTR_HASCHILDREN 0x0008
#define IMAP_LIST_ATTR_NOINFERIORS 0x0010
#define IMAP_LIST_ATTR_HASNOCHILDREN 0x0020
#define IMAP_LIST_ATTR_MARKED 0x0040
#define IMAP_LIST_ATTR_UNMARKED 0x0080
#define IMAP_LIST_ATTR_ALL 0x0100
#define IMAP_LIST_ATTR_ARCHIVE 0x0200
#define IMAP_LIST_ATTR_DRAFTS 0x0400
#define IMAP_LIST_ATTR_FLAGGED 0x0800
#define IMAP_LIST_ATTR_JUNK 0x1000
#define IMAP_LIST_ATTR_SENT 0x2000
#define IMAP_LIST_ATTR_TRASH 0x4000

/* Limits on what one command may ask. */
#define IMAP_LIST_PATTERNS_MAX 100
#define IMAP_LIST_PATTERN_MAX 2048 /* bytes of reference + pattern */

struct imap_list_args {
    int lsub;
    /* The extended syntax of RFC 5258 was used (a selection list, a
     * pattern list or RETURN): children and special-use attributes are
     * then returned only when asked for, a prefix-only name is
     * \NonExistent, and an empty pattern lists nothing. */
    int extended;
    unsigned select;       /* IMAP_LIST_SELECT_* */
    unsigned ret;          /* IMAP_LIST_RETURN_* (implied ones included) */
    unsigned status_items; /* IMAP_STATUS_* of RETURN (STATUS (...)) */
    char *reference;       /* UTF-8 */
    char **patterns;       /* reference + pattern, UTF-8, INBOX upper case */
    size_t pattern_count;
    /* A basic LIST with the pattern "": the answer is the hierarchy
     * separator and the root of the reference. */
    int separator_request;
};

/* Parses the arguments of LIST (lsub = 0) or LSUB (lsub = 1); sep is the
 * session's hierarchy separator, utf8_mode whether names are UTF-8
 * (UTF8=ACCEPT or IMAP4rev2). 0, or -1 with *error set to the text of a
 * tagged BAD ("Unknown select options", "RECURSIVEMATCH must not be the
 * only selection", ...); args then needs no free. */
int imap_list_args_parse(const struct imap_arg *args, size_t count, int lsub,
                         char sep, int utf8_mode, struct imap_list_args *out,
                         const char **error);
void imap_list_args_free(struct imap_list_args *args);

/* Parses a parenthesized list of STATUS data items (the STATUS command's
 * and LIST's RETURN (STATUS (...))). 0 with *items set, or -1 with
 * *error ("Empty status list", "Invalid status item"). */
int imap_status_items_parse(const struct imap_arg *list, unsigned *items,
                            const char **error);

/* The name of one IMAP_STATUS_* bit ("MESSAGES"); NULL for none. */
const char *imap_status_item_name(unsigned item);

/* Whether the UTF-8 name matches the pattern (see the top). */
int imap_list_match(const char *pattern, const char *name, char sep);

/* Appends a mailbox name as a response carries it: encoded to modified
 * UTF-7 unless utf8_mode, as an atom when it is one, else quoted or a
 * literal. */
void imap_list_write_mailbox(struct buf *out, const char *name, int utf8_mode);

/* Appends one response line with its CRLF:
 *   * LIST (\HasNoChildren \Sent) "/" Sent
 *   * LSUB () "." INBOX.sub
 *   * LIST (\NonExistent) "/" a (CHILDINFO ("SUBSCRIBED"))
 * childinfo_subscribed adds RFC 5258's CHILDINFO extended item. */
void imap_list_write(struct buf *out, int lsub, unsigned attrs, char sep,
                     const char *name, int utf8_mode,
                     int childinfo_subscribed);

#endif
