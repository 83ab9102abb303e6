/* mailbox_list.h: the folders of one Maildir++ root, laid out as
 * Dovecot 2.3 lays them out, and the mapping between the names clients
 * use and the names on disk.
 *
 * Layout: the root is INBOX; a folder is the directory ROOT/.NAME with
 * its own cur/ new/ tmp/ and an empty `maildirfolder` file. NAME is the
 * folder's levels joined by '.', each level in modified UTF-7 (Dovecot's
 * default, mailbox_list_utf8 = no): the client name "Lists/Ärger" is
 * ROOT/.Lists.&AMQ-rger. Folders below INBOX are ROOT/.INBOX.NAME.
 *
 * Client names here are what imap_mailbox_name() (imap/imap_utf7.h)
 * gives: UTF-8, levels separated by the list's separator ('/' or '.',
 * imapd_hierarchy_separator). The mapping is one to one:
 *   - with '/', a '.' inside a level is refused (it would become a level
 *     on disk), as Dovecot refuses it ("Character not allowed in mailbox
 *     name: '.'");
 *   - with '.', a '/' is refused (no file name can hold it).
 * Other checks, each as Dovecot words it: empty name, a leading or
 * doubled separator, a leading '~', control characters, and a directory
 * name longer than the file system allows ("Mailbox name too long"). One
 * trailing separator is removed ("Sent/" is "Sent"), as Dovecot's imap
 * does for every command. "INBOX" in any case, alone or as the first
 * level, is INBOX. No accepted name can leave the root.
 *
 * Dovecot's rules that the functions below keep: CREATE does not create
 * the parents of a name (a parent that exists only as a prefix of other
 * folders lists as \Noselect \HasChildren); DELETE removes one folder and
 * leaves its children (the name then lists as \Noselect), refuses INBOX
 * and names that are not folders; RENAME moves the folder and every
 * folder below it; subscriptions are never touched by DELETE or RENAME.
 * RENAME of INBOX follows RFC 3501 6.3.5 (Dovecot refuses it for
 * Maildir++): the messages move to the new folder and INBOX stays, empty,
 * with its own children. docs/imap-folders.md has the details. */
#ifndef POSTERN_MAILBOX_LIST_H
#define POSTERN_MAILBOX_LIST_H

#include <stddef.h>
#include <sys/types.h>

#include "base/buf.h"

struct mailbox_list {
    const char *root; /* the Maildir root (INBOX) */
    char separator;   /* what clients see: '/' or '.' */
    mode_t dir_mode;  /* folders created; 0: 0700 */
};

/* Flags of one listed name. */
#define MAILBOX_LIST_NOSELECT 0x01 /* not a folder, only a prefix of folders */
#define MAILBOX_LIST_CHILDREN 0x02 /* at least one folder below it */

struct mailbox_list_entry {
    char *name;      /* client name (UTF-8, the list's separator) */
    char *disk_name; /* Maildir++ name without the dot; "" for INBOX */
    unsigned flags;  /* MAILBOX_LIST_* */
};

/* Every name of the tree: INBOX first, then by level, each level in
 * byte order (a name's children come right after it). */
struct mailbox_list_snapshot {
    struct mailbox_list_entry *entries;
    size_t count;
    char separator; /* the list's, for lookups */
};

/* Results; the response code of RFC 5530 is mailbox_list_code(). */
enum mailbox_list_result {
    MAILBOX_LIST_OK = 0,
    MAILBOX_LIST_BAD_NAME,    /* CANNOT: the name is refused */
    MAILBOX_LIST_EXISTS,      /* ALREADYEXISTS */
    MAILBOX_LIST_NONEXISTENT, /* NONEXISTENT */
    MAILBOX_LIST_REFUSED,     /* CANNOT: INBOX, a rename under itself */
    MAILBOX_LIST_FAILED,      /* SERVERBUG: a system call failed */
};

/* "CANNOT", "ALREADYEXISTS", "NONEXISTENT", "SERVERBUG"; NULL for OK. */
const char *mailbox_list_code(enum mailbox_list_result result);

/* The on-disk name (without the dot; "" for INBOX) of a client name, in
 * disk (replaced). MAILBOX_LIST_OK, or MAILBOX_LIST_BAD_NAME with the
 * reason in error (replaced), e.g. "Invalid mailbox name: Begins with
 * hierarchy separator". */
enum mailbox_list_result mailbox_list_name_to_disk(
    const struct mailbox_list *list, const char *name, struct buf *disk,
    struct buf *error);

/* The client name of an on-disk name, in name (replaced). 0, or -1 for
 * a directory name no client name maps to (empty or doubled levels,
 * invalid modified UTF-7, a level holding the client separator). */
int mailbox_list_disk_to_name(const struct mailbox_list *list,
                              const char *disk_name, struct buf *name);

/* The directory of a folder: the root for "", else ROOT/.DISK_NAME. */
void mailbox_list_path(const struct mailbox_list *list, const char *disk_name,
                       struct buf *path);

/* Reads the folder directories of the root. Directories whose names do
 * not map to a client name are left out. 0, or -1 with error when the
 * root cannot be read (a missing root lists INBOX alone). */
int mailbox_list_read(const struct mailbox_list *list,
                      struct mailbox_list_snapshot *snapshot,
                      struct buf *error);
void mailbox_list_snapshot_free(struct mailbox_list_snapshot *snapshot);

/* The order of the snapshot for two client names: negative, 0 or
 * positive. */
int mailbox_list_name_cmp(const char *a, const char *b, char sep);

/* The entry of a client name (already normalized: "INBOX" upper case),
 * or NULL. */
const struct mailbox_list_entry *
mailbox_list_find(const struct mailbox_list_snapshot *snapshot,
                  const char *name);

/* Whether the client name is a folder that exists (INBOX always). */
int mailbox_list_exists(const struct mailbox_list *list, const char *name);

/* CREATE: the folder with cur/ new/ tmp/ and maildirfolder. */
enum mailbox_list_result mailbox_list_create(const struct mailbox_list *list,
                                             const char *name,
                                             struct buf *error);

/* DELETE: removes the folder directory and everything in it. */
enum mailbox_list_result mailbox_list_delete(const struct mailbox_list *list,
                                             const char *name,
                                             struct buf *error);

/* RENAME (see the top of this file for INBOX). */
enum mailbox_list_result mailbox_list_rename(const struct mailbox_list *list,
                                             const char *old_name,
                                             const char *new_name,
                                             struct buf *error);

#endif
