/* imap_message.h: one message as the selected state sees it, for the
 * FETCH renderer (imap_fetch_render.h), SEARCH (imap_search_eval.h), SORT
 * and THREAD: what the mailbox index keeps (sequence number, UID, flags,
 * keywords, MODSEQ, internal date, RFC822.SIZE, the cached ENVELOPE,
 * BODY, BODYSTRUCTURE and MIME tree blob) and a callback that gives the
 * message's bytes only when an item needs them. It depends on no storage:
 * imapd fills one view per message from lib/storage's index and reads
 * the file through `read`.
 *
 * The bytes are the message as stored: line ends LF or CRLF. Every size
 * and offset IMAP shows counts each line end as CRLF (mime_tree.h's
 * vsizes); the renderer converts on output.
 *
 * Lifetime: the caller owns every pointer it puts in the view, and they
 * stay valid until imap_message_done(). The view loads the bytes at most
 * once (the first time an item needs them) and parses the MIME tree at
 * most once (from mime_blob when it is valid, else from the bytes);
 * imap_message_done() gives the bytes back through `release` and frees
 * the tree, so a view can be reused for the next message. */
#ifndef POSTERN_IMAP_MESSAGE_H
#define POSTERN_IMAP_MESSAGE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "message/mime_tree.h"

#define IMAP_MESSAGE_SIZE_UNKNOWN UINT64_MAX

struct imap_message;

/* Gives the whole message: sets *data and *len (valid until `release`)
 * and returns 0, or -1 when it cannot be read (expunged meanwhile, an I/O
 * error); the item that needed it then fails. */
typedef int imap_message_read_fn(void *context, struct imap_message *msg,
                                 const char **data, size_t *len);
/* Gives back what `read` gave (munmap, free); may be NULL. */
typedef void imap_message_release_fn(void *context, struct imap_message *msg,
                                     const char *data, size_t len);

struct imap_message {
    uint32_t seq;                  /* message sequence number, from 1 */
    uint32_t uid;
    unsigned flags;                /* IMAP_FLAG_* (imap_flags.h), \Recent too */
    const char *const *keywords;   /* NUL-terminated names */
    size_t keyword_count;
    uint64_t modseq;
    time_t internal_date;          /* UTC */
    int internal_zone;             /* minutes east of UTC it is shown in */
    uint64_t rfc822_size;          /* CRLF size, or IMAP_MESSAGE_SIZE_UNKNOWN */
    /* cached renderings without their outer parentheses (as
     * imap_envelope_write and imap_bodystructure_write append them), or
     * NULL when not cached */
    const char *envelope;
    size_t envelope_len;
    const char *body;              /* BODY (no extension data) */
    size_t body_len;
    const char *bodystructure;
    size_t bodystructure_len;
    const void *mime_blob;         /* mime_tree_blob.h bytes, or NULL */
    size_t mime_blob_len;

    imap_message_read_fn *read;
    imap_message_release_fn *release;
    void *context;

    /* filled on demand; use the functions below */
    const char *loaded_data;
    size_t loaded_len;
    int load_state;                /* 0 not tried, 1 loaded, -1 failed */
    int tree_ready;
    struct mime_tree tree;
};

/* Zeroes the view; size unknown. */
void imap_message_init(struct imap_message *msg);

/* The message's bytes, read through the callback the first time. 0, or
 * -1 when there is no callback or it failed. */
int imap_message_data(struct imap_message *msg, const char **data,
                      size_t *len);

/* The message's header (its empty line included), without parsing its
 * MIME structure. 0, or -1 as imap_message_data(). */
int imap_message_header(struct imap_message *msg, const char **header,
                        size_t *len);

/* The MIME tree over the bytes (loaded as above), or NULL when the
 * message cannot be read. */
const struct mime_tree *imap_message_tree(struct imap_message *msg);

/* RFC822.SIZE: the view's, else computed from the tree. -1 when unknown
 * and unreadable. */
int imap_message_size(struct imap_message *msg, uint64_t *size);

/* Gives the bytes back and frees the tree; the cached fields are kept.
 * The view may then be filled for another message (imap_message_init). */
void imap_message_done(struct imap_message *msg);

/* Whether the message has the keyword (names compare ignoring ASCII
 * case, as IMAP keywords do). */
int imap_message_has_keyword(const struct imap_message *msg,
                             const char *name, size_t len);

#endif
