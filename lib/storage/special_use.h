/* special_use.h: the special-use folders of RFC 6154 (Sent, Drafts,
 * Trash, Junk, Archive): their names from main.cf, the attribute each
 * carries in LIST, and creating the missing ones at login.
 *
 * The names are client names (UTF-8, levels separated by
 * imapd_hierarchy_separator), one parameter per use: imapd_sent_folder,
 * imapd_drafts_folder, imapd_trash_folder, imapd_junk_folder,
 * imapd_archive_folder; an empty value means the use has no folder.
 * Dovecot configures the same with `mailbox NAME { special_use = ...;
 * auto = subscribe }`; Postern's defaults are the names Debian's
 * 15-mailboxes.conf uses, and a folder created here is subscribed as
 * `auto = subscribe` does. */
#ifndef POSTERN_SPECIAL_USE_H
#define POSTERN_SPECIAL_USE_H

#include "base/buf.h"
#include "storage/mailbox_list.h"

enum special_use {
    SPECIAL_USE_SENT,
    SPECIAL_USE_DRAFTS,
    SPECIAL_USE_TRASH,
    SPECIAL_USE_JUNK,
    SPECIAL_USE_ARCHIVE,
    SPECIAL_USE_COUNT
};

struct special_use_folders {
    char *names[SPECIAL_USE_COUNT]; /* client names; NULL: none */
};

/* "\\Sent", "\\Drafts", "\\Trash", "\\Junk", "\\Archive". */
const char *special_use_attribute(enum special_use use);

/* The main.cf parameter of a use ("imapd_sent_folder", ...). */
const char *special_use_parameter(enum special_use use);

/* Reads the folder parameters of main.cf: the five names and
 * imapd_hierarchy_separator into *separator. 0, or -1 with error for a
 * separator other than "/" or "." (the names are checked by ensure). */
int special_use_config_read(struct special_use_folders *folders,
                            char *separator, struct buf *error);

/* Sets a use's name (NULL or "" for none), replacing the old one. */
void special_use_set(struct special_use_folders *folders, enum special_use use,
                     const char *name);
void special_use_free(struct special_use_folders *folders);

/* The uses whose folder is name, as a bit mask (1 << use); 0 for none. */
unsigned special_use_of(const struct special_use_folders *folders,
                        const char *name);

/* Creates each configured folder that does not exist and subscribes it.
 * Returns how many were created, or -1 with error naming the first
 * folder that could not be created or subscribed (the others are still
 * tried). */
int special_use_ensure(const struct mailbox_list *list,
                       const struct special_use_folders *folders,
                       struct buf *error);

#endif
