/* local.h: what the files of the local delivery agent share.
 *
 * local.c       the daemon, one recipient's walk: loop check, aliases,
 *               the UNIX account, .forward, the mailbox;
 * local_items.c alias and .forward items: |command, /file, :include:,
 *               \user, addresses (forwarded in a new queue file);
 * local_deliver.c the deliveries themselves: mbox, Maildir, file,
 *               command (run with an argument vector, envelope data only
 *               in the environment). */
#ifndef POSTERN_LOCAL_H
#define POSTERN_LOCAL_H

#include <sys/types.h>

#include "delivery/agent.h"
#include "base/buf.h"
#include "base/privs.h"
#include "base/str.h"

/* Where an item came from: decides allow_mail_to_commands/_files. */
enum local_source { LOCAL_SRC_ALIAS, LOCAL_SRC_FORWARD, LOCAL_SRC_INCLUDE };

/* Whose rights a command or file delivery runs with. */
struct local_privs {
    uid_t uid;
    gid_t gid;
    char *user; /* for $USER, initgroups */
    char *home;
    char *shell;
};

/* Deepest nesting of aliases, :include: and .forward. */
#define LOCAL_MAX_DEPTH 20
/* Most deliveries one recipient may expand to. */
#define LOCAL_MAX_EXPANSION 1000

/* One request recipient's walk and its outcomes. */
struct local_state {
    struct agent_delivery *d;
    size_t i;
    const char *rcpt;       /* the request's recipient */
    struct buf extension;   /* of the recipient's local part */
    char delimiter;         /* the recipient_delimiter character used */
    struct strlist seen;    /* names already expanded (self references) */
    struct strlist forward; /* addresses to forward in a new queue file */
    struct strlist done;    /* "mailbox:USER", "file:PATH", "command:TEXT"
                             * made on this walk: each destination once */
    int deliveries;         /* sub-deliveries made or attempted */
    int expanded;           /* the recipient was an alias or .forward */
    /* Worst outcome so far: deferral beats bounce beats sent. */
    int deferred, bounced, sent;
    char dsn[10];
    struct buf reason;
};

/* One outcome of one destination (logged at once when expanded). */
void local_outcome(struct local_state *ls, const char *to,
                   enum deliver_status status, const char *dsn,
                   const char *reason);

/* 1 when the destination was already delivered on this walk (then it
 * is skipped); else records it and returns 0. */
int local_once(struct local_state *ls, const char *kind, const char *what);

/* Expands a local name (alias, account, .forward) at depth. */
void local_expand_name(struct local_state *ls, const char *name, int depth);
/* Handles one alias/.forward/:include: item. */
void local_item(struct local_state *ls, const char *item,
                enum local_source source, const struct local_privs *privs,
                int depth);
/* Writes the forwarded copy for ls->forward; sent/deferred outcomes. */
void local_forward_flush(struct local_state *ls);

/* Deliveries. `to` names the destination in logs. */
void local_deliver_mailbox(struct local_state *ls, const char *user);
void local_deliver_file(struct local_state *ls, const char *path,
                        const struct local_privs *privs, int as_spool);
void local_deliver_command(struct local_state *ls, const char *command,
                           const struct local_privs *privs);

/* Reads a .forward or :include: file with uid/gid's rights: 1 with
 * items appended, 0 when missing, empty, or not owned by `owner` or
 * root (owner (uid_t)-1: any owner), -1 with err on other errors. */
int local_read_list(const char *path, uid_t uid, gid_t gid, uid_t owner,
                    struct strlist *items, struct buf *err);

/* Privileges: an account by name, with its home and shell (for
 * default_privs too). PRIVS_FOUND, PRIVS_NOTFOUND, or PRIVS_ERROR with
 * err when the user database could not be read. Free with
 * local_privs_free. */
enum privs_lookup local_privs_user(const char *name, struct local_privs *out,
                                   struct buf *err);
void local_privs_free(struct local_privs *p);

#endif
