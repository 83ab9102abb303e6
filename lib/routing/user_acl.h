/* user_acl.h: which local users may use a service, as Postfix's
 * authorized_submit_users, authorized_mailq_users and
 * authorized_flush_users.
 *
 * The uid comes from the kernel (lib/base/peercred: SO_PEERCRED on the unix
 * socket the client connected to), never from the client, so the check
 * is made by the daemon that serves the request: Postern has no
 * set-uid or set-gid program that could make it on the client's side.
 *
 * The parameter's value is a Postfix string list (lib/tables/domain_list.h,
 * DOMAIN_LIST_STRING): user names, `!name`, `type:table` (the name is a
 * lookup key; any value matches) and `/file/name`, first match wins,
 * case does not matter. As in Postfix:
 *   - a value that starts with `static:` lets everyone in without any
 *     lookup (so the default `static:anyone` never touches the password
 *     database; note that `static:root` lets everyone in too);
 *   - a uid without a password entry is looked up as `unknown`, so
 *     `!unknown` shuts out accounts that do not exist;
 *   - an empty value lets nobody in;
 *   - with USER_ACL_OWNER_EXEMPT (mailq and flush, not submit) root and
 *     mail_owner are always let in.
 * A client whose uid cannot be had (a fifo, a datagram or an inet
 * socket) is checked as `unknown`. A table that fails a lookup refuses
 * (USER_ACL_ERROR): the caller says "try again later". */
#ifndef POSTERN_USER_ACL_H
#define POSTERN_USER_ACL_H

#include "base/buf.h"

enum user_acl_result { USER_ACL_ALLOWED, USER_ACL_DENIED, USER_ACL_ERROR };

#define USER_ACL_OWNER_EXEMPT 0x01 /* root and mail_owner always pass */

/* The uid to pass for a client that could not be identified. */
#define USER_ACL_UNKNOWN_UID (-1L)

struct user_acl;

/* Opens the list held by main.cf parameter `param` (a name that must
 * outlive the acl; it titles log lines). Call it before a chroot: /file
 * items are read now and, with USER_ACL_OWNER_EXEMPT, mail_owner's uid
 * is looked up now. Returns NULL with err when a /file item cannot be
 * read or mail_owner does not exist. */
struct user_acl *user_acl_open(const char *param, unsigned flags,
                               struct buf *err);

/* The same for a list given as text (tests, and callers that already
 * hold the value); owner_uid is mail_owner's uid, or -1 for none. */
struct user_acl *user_acl_new(const char *title, const char *value,
                              unsigned flags, long owner_uid, struct buf *err);

/* Checks uid (USER_ACL_UNKNOWN_UID for an unidentified client). name
 * gets the user name that was checked ("unknown" when the uid has no
 * password entry), for the refusal message. */
enum user_acl_result user_acl_check(struct user_acl *acl, long uid,
                                    struct buf *name);

/* The parameter name given to user_acl_open. */
const char *user_acl_title(const struct user_acl *acl);

void user_acl_free(struct user_acl *acl);

/* The user name of uid into name: 0, or -1 (name set to "unknown") when
 * the uid has no password entry or cannot be looked up. */
int user_acl_name(long uid, struct buf *name);

#endif
