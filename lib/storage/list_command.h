/* list_command.h: the whole answer to IMAP LIST and LSUB over a
 * Maildir++ folder list (mailbox_list.h) and its subscriptions
 * (subscriptions.h), so that imapd's command handler parses the
 * arguments (imap/imap_list.h), calls list_command_answer(), sends what
 * it wrote and its tagged OK.
 *
 * What is listed, as Dovecot 2.3 lists it (docs/imap-folders.md):
 *   - LIST: every folder matching a pattern, and every name that exists
 *     only as a prefix of folders (\Noselect \HasChildren; \NonExistent
 *     with the extended syntax). Children and special-use attributes
 *     come always with the basic syntax, only when asked for with the
 *     extended one.
 *   - LIST (SUBSCRIBED): the subscribed names matching, existing or not
 *     (\NonExistent); with RECURSIVEMATCH also the matching names with a
 *     subscribed descendant that no pattern matches, with CHILDINFO, and
 *     CHILDINFO on every listed subscribed name with a subscribed name
 *     below it. Children here count subscribed names too.
 *   - LIST (SPECIAL-USE): the special-use folders only.
 *   - LSUB: the subscribed names matching; a name that is not subscribed
 *     but has a subscribed descendant the pattern does not match (LSUB
 *     "" %) is listed \Noselect (RFC 3501 6.3.9).
 *   - LIST "" "" (basic syntax only): the separator, and the root of the
 *     reference.
 *   - RETURN (STATUS (...)) (RFC 5819): after each selectable folder's
 *     LIST line, a STATUS line, from the caller's callback.
 * The order is INBOX first, then by level, each level in byte order of
 * the UTF-8 name (Dovecot answers in the order of its list index). */
#ifndef POSTERN_LIST_COMMAND_H
#define POSTERN_LIST_COMMAND_H

#include "base/buf.h"
#include "imap/imap_list.h"
#include "storage/mailbox_list.h"
#include "storage/special_use.h"

struct list_command_env {
    const struct mailbox_list *list;
    const struct special_use_folders *special; /* NULL: none */
    int utf8_mode; /* UTF8=ACCEPT or IMAP4rev2: names in UTF-8 */
    /* LIST-STATUS: appends the parenthesized items for one folder,
     * e.g. "(MESSAGES 3 UNSEEN 1)", and returns 0; or returns -1 to
     * leave that folder's STATUS line out. NULL: no STATUS lines. */
    int (*status)(void *context, const char *name, const char *disk_name,
                  unsigned items, struct buf *out);
    void *status_context;
};

/* Appends the untagged responses to out. 0, or -1 with error when the
 * folders or the subscriptions cannot be read (answer NO [SERVERBUG]). */
int list_command_answer(const struct list_command_env *env,
                        const struct imap_list_args *args, struct buf *out,
                        struct buf *error);

#endif
