/* mailbox_private.h: the inside of struct mailbox, shared by
 * mailbox.c (the view and its sync) and mailbox_save.c (APPEND, COPY).
 * Nothing outside lib/storage/mailbox*.c includes this. */
#ifndef POSTERN_MAILBOX_PRIVATE_H
#define POSTERN_MAILBOX_PRIVATE_H

#include <time.h>

#include "storage/keywords.h"
#include "storage/mailbox.h"
#include "storage/uidlist.h"

struct mailbox {
    char *root;       /* the Maildir root */
    char *path;       /* this folder's directory */
    char *hostname;   /* escaped, for new file names */
    int readonly;
    int lock_timeout_ms;
    struct buf error, warning;

    struct uidlist ul;   /* dovecot-uidlist; the view's base names */
    struct keywords kw;  /* dovecot-keywords */

    struct mailbox_msg *msgs; /* by sequence number - 1, UIDs ascending */
    uint32_t count, cap;
    struct buf arena;    /* the messages' info suffixes */
    size_t arena_live;   /* bytes of arena still referenced */
    uint32_t recent_count;
    uint32_t uidvalidity; /* of the view; 0 before the first sync */

    /* the directories as the last scan saw them */
    struct timespec new_mtime, cur_mtime;
    int scanned, dirty, expunge_pending;

    /* UIDs our saves gave, \Recent here when they enter the view */
    uint32_t *own_uids;
    size_t own_count, own_cap;
};

/* Sets the error text and returns result. */
enum mailbox_result mailbox_fail(struct mailbox *mb,
                                 enum mailbox_result result,
                                 const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The result for an errno (ENOSPC, EDQUOT, EFBIG: MAILBOX_NOSPACE). */
enum mailbox_result mailbox_errno_result(int err);

/* Takes the uidlist lock and brings the uidlist up to date, giving the
 * folder a UIDVALIDITY when it has none (and a new one when the file
 * was malformed, with a warning). MAILBOX_OK with lock held, BUSY or
 * FAILED. */
enum mailbox_result mailbox_lock_uidlist(struct mailbox *mb,
                                         struct uidlist_lock *lock);
/* Writes the records from first on (append, or a rewrite when due). */
enum mailbox_result mailbox_uidlist_store(struct mailbox *mb, size_t first);

/* Appends "DIR/NAME" of message seq to out. */
void mailbox_msg_path(const struct mailbox *mb, uint32_t seq,
                      struct buf *out);
/* Looks for message seq's file again by its base name (someone renamed
 * it): 1 found (the record updated), 0 gone, -1 error. */
int mailbox_msg_refind(struct mailbox *mb, uint32_t seq);
/* Remembers that our save gave uid (\Recent when it enters the view). */
void mailbox_note_own_uid(struct mailbox *mb, uint32_t uid);

#endif
