/* subscriptions.h: the Maildir++ root's `subscriptions` file, in the
 * format Dovecot 2.3 reads and writes, so a site can move either way.
 *
 * Dovecot 2.3 writes version 2: the header "V\t2\n\n", then one name a
 * line. A name is the folder's storage name, its levels as they are on
 * disk (modified UTF-7) separated by TAB; INBOX is "INBOX" and its
 * children "INBOX\tsub". Within a level the bytes \001, TAB, CR and LF
 * are written as \001 followed by '1', 't', 'r', 'n'. A file without the
 * header is the old format: one storage name a line with '.' between
 * levels ("Lists.postern"). Both are read; a file keeps its format when
 * it is changed, and a new file is written in version 2.
 *
 * Entries that name no folder a client could address (empty, empty
 * levels, control characters, '/' or, in version 2, '.' inside a level,
 * longer than 1024 bytes) are skipped when read, as Dovecot skips them;
 * duplicates are read once. Subscribing a name that has no folder is the
 * caller's decision (Dovecot refuses it; LIST still shows such a name,
 * as \NonExistent, when the file holds it).
 *
 * Changes are atomic and safe beside a running Dovecot: the new file is
 * written as `subscriptions.lock` (created with O_EXCL: Dovecot's dotlock
 * of the same name), fsynced and renamed over `subscriptions`. A lock
 * older than 30 seconds is taken as stale, as Dovecot takes it. */
#ifndef POSTERN_SUBSCRIPTIONS_H
#define POSTERN_SUBSCRIPTIONS_H

#include <stddef.h>

#include "base/buf.h"
#include "base/str.h"
#include "storage/mailbox_list.h"

#define SUBSCRIPTIONS_FILE "subscriptions"
#define SUBSCRIPTIONS_NAME_MAX 1024      /* bytes of one entry */
#define SUBSCRIPTIONS_FILE_MAX (4 << 20) /* bytes of the whole file */

/* Parses the contents of a subscriptions file: appends each valid entry
 * to out as a storage name with '.' between levels ("INBOX",
 * "INBOX.sub", "Lists.&AMQ-rger"), in file order, without duplicates.
 * Returns the format version: 2, or 0 for the old format. */
int subscriptions_parse(const char *text, size_t len, struct strlist *out);

/* Reads ROOT/subscriptions and appends the client names (UTF-8, the
 * list's separator) of its entries to names; entries no client name maps
 * to are skipped. A missing file is an empty list. 0, or -1 with error. */
int subscriptions_read(const struct mailbox_list *list, struct strlist *names,
                       struct buf *error);

/* Subscribes (subscribe = 1) or unsubscribes a client name. Returns 1
 * when the file changed, 0 when there was nothing to do, -1 with error
 * (a name the list refuses, the lock held by another process for more
 * than a few seconds, an I/O error). */
int subscriptions_set(const struct mailbox_list *list, const char *name,
                      int subscribe, struct buf *error);

#endif
