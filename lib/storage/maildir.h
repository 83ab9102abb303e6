/* maildir.h: Maildir++ delivery, compatible with Dovecot's layout.
 *
 * The Maildir root is INBOX; a folder "Name" (Maildir++ on-disk name,
 * '.' separating levels, already in the mailbox name encoding Dovecot
 * uses on disk, i.e. modified UTF-7) is the directory ROOT/.Name with
 * its own cur/ new/ tmp/ and an empty `maildirfolder` file. Everything
 * missing is created on demand (directories 0700, files 0600 unless the
 * options say otherwise; the umask applies).
 *
 * A delivery is streamed: open, write chunks, commit (or abort), so the
 * caller never holds a whole message in memory. The file is written in
 * tmp/ under a unique name in Dovecot's style,
 *     <secs>.M<usecs>P<pid>Q<n>.<host>
 * fsynced, then moved into new/ as <name>,S=<size>,W=<vsize> without
 * ever replacing an existing file, and new/ is fsynced: when commit
 * returns STORE_OK the message is on stable storage ("250 means on
 * disk"). Content is stored with LF line ends (CR LF becomes LF), after
 * the leading lines the caller passes (Return-Path:, Delivered-To:).
 *
 * Maildir++ quota (`maildirsize`) is checked at commit with the final
 * size and updated after the move; see maildir_quota.h. */
#ifndef POSTERN_MAILDIR_H
#define POSTERN_MAILDIR_H

#include <sys/types.h>

#include "base/buf.h"
#include "storage/maildir_quota.h"
#include "storage/store.h"

struct maildir_options {
    const char *path;     /* the Maildir root (INBOX); required */
    const char *folder;   /* NULL or "" or "INBOX": the root; else a
                           * Maildir++ folder name without the leading
                           * dot, e.g. "Sent" or "Lists.postern" */
    const char *hostname; /* for file names; NULL: gethostname() */
    mode_t dir_mode;      /* directories created; 0: 0700 */
    mode_t file_mode;     /* message files; 0: 0600 */
    /* Largest message file accepted, in stored bytes (Postfix's
     * virtual_mailbox_limit); 0: no limit. Exceeding it bounces 5.2.2. */
    long long size_limit;
    /* Maildir++ quota; see maildir_quota.h. Zeroed = MAILDIR_QUOTA_NONE:
     * nothing enforced, but an existing maildirsize is kept current. */
    struct maildir_quota_limits quota;
};

struct maildir_delivery;

/* Starts a delivery: creates what is missing and the file in tmp/, and
 * writes the leading lines (NULL or text of complete lines, e.g.
 * "Return-Path: <a@b>\nDelivered-To: c@d\n"; a missing final newline is
 * added). Returns NULL with *status set on failure. The status object
 * must outlive the delivery: write and commit report through it. */
struct maildir_delivery *
maildir_delivery_open(const struct maildir_options *opts,
                      const char *leading_lines, struct store_status *status);
/* Appends message bytes (any chunking; CR LF split across chunks is
 * fine). Returns 0, or -1 with the status set; after -1 the caller must
 * still call commit (which returns the failure) or abort. */
int maildir_delivery_write(struct maildir_delivery *d, const void *data,
                           size_t len);
/* Finishes: quota check, fsync, move into new/, fsync new/, quota
 * update. Frees d. Returns the result also stored in the status; on
 * STORE_OK, final_path (when not NULL) receives the path of the file in
 * new/. On failure nothing is left behind in tmp/ or new/. */
enum store_result maildir_delivery_commit(struct maildir_delivery *d,
                                          struct buf *final_path);

/* The same commit in steps, so that one process delivering to several
 * Maildirs can sync their files together (lib/base/fsync_group.h):
 *   prepare  - size and quota checks, everything written (not synced);
 *   fd       - the tmp/ file's descriptor, for the caller to fsync;
 *   publish  - given the fsync's errno (0: it succeeded), moves the file
 *              into new/;
 *   new_dir  - the new/ directory to fsync (sets out, returns its text);
 *   finish   - given that fsync's errno, updates the quota and reports.
 * prepare, publish and finish return the status's result; on any result
 * but STORE_OK, d is already freed and nothing is left behind, as with
 * commit. Run publish and finish with the same ids as open. */
enum store_result maildir_delivery_prepare(struct maildir_delivery *d);
int maildir_delivery_fd(const struct maildir_delivery *d);
/* Moves the delivery's reporting to another status object (copied over),
 * for a caller that keeps deliveries beyond the first status's life. */
void maildir_delivery_set_status(struct maildir_delivery *d,
                                 struct store_status *status);
enum store_result maildir_delivery_publish(struct maildir_delivery *d,
                                           int sync_errno);
const char *maildir_delivery_new_dir(const struct maildir_delivery *d,
                                     struct buf *out);
enum store_result maildir_delivery_finish(struct maildir_delivery *d,
                                          int sync_errno,
                                          struct buf *final_path);

/* Abandons the delivery: removes the tmp/ file and frees d. */
void maildir_delivery_abort(struct maildir_delivery *d);

/* Creates the Maildir root, or the folder when folder names one, with
 * cur/ new/ tmp/ (and `maildirfolder` for a folder). 0, or -1 with the
 * status set. Deliveries call this on demand; tools may call it too. */
int maildir_create(const struct maildir_options *opts,
                   struct store_status *status);

/* Checks a Maildir++ folder name (see struct maildir_options): 0 when it
 * is safe to use as ".NAME" in the root, -1 otherwise. */
int maildir_folder_name_valid(const char *folder);

/* Appends the host name as used in file names: '/' becomes "\057" and
 * ':' becomes "\072" as the Maildir specification and Dovecot do; ','
 * (which would confuse ",S=" parsing), '\\', and bytes outside printable
 * ASCII become "\ooo" too. */
void maildir_escape_hostname(const char *host, struct buf *out);

/* This host's name as maildir_escape_hostname() writes it (computed
 * once per process). */
const char *maildir_default_hostname(void);

/* Makes the next unique base name (without ,S=/W=) for this process:
 * <secs>.M<usecs>P<pid>Q<n>.<escaped host>. Microseconds never repeat
 * within a process (they are bumped when the clock has not moved) and
 * Q counts deliveries, so names stay unique at any delivery rate. */
void maildir_unique_name(const char *escaped_host, struct buf *out);

/* Reads the S= (type 'S') or W= (type 'W') size from a Maildir file
 * name: 0 and *size set when present and well formed, else -1. */
int maildir_name_size(const char *name, char type, long long *size);

#endif
