/* showq.c: the queue listing service, as Postfix's showq (docs/showq.md).
 *
 * master.cf: `showq unix n - n - - showq`. The socket is
 * $queue_directory/public/showq, which every local user may connect to:
 * this is how `mailq` and `postqueue -p` work for ordinary users although
 * no Postern program is set-uid or set-gid. showq runs as mail_owner,
 * which may read the queue; it asks the kernel who the client is
 * (SO_PEERCRED), checks authorized_mailq_users (root and mail_owner
 * always pass), and then sends the listing as showq/1 records
 * (lib/queue/showq.h, docs/ipc.md). The client formats them with
 * lib/queue/queue_list, the same code that formats its own scan when the mail
 * system is down. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/buf.h"
#include "config/config.h"
#include "base/log.h"
#include "base/peercred.h"
#include "queue/queue_dirs.h"
#include "queue/queue_list.h"
#include "ipc/server.h"
#include "queue/showq.h"
#include "base/stream.h"
#include "base/timeconv.h"
#include "routing/user_acl.h"

/* Flush the records when this much output is waiting, so a client that
 * went away stops the scan early. */
#define SHOWQ_FLUSH_AT (64 * 1024)

static struct user_acl *mailq_acl;
static const char *queue_dir;
static struct queue_dir_id queue_dir_id;
static int ipc_timeout_ms;

struct listing {
    struct stream *client;
    int failed;
};

static int send_entry(const struct queue_list_entry *entry, void *ctx)
{
    struct listing *l = ctx;
    showq_send_entry(l->client, entry);
    if (stream_output_pending(l->client) >= SHOWQ_FLUSH_AT &&
        stream_flush(l->client) != STREAM_OK) {
        l->failed = 1;
        return -1;
    }
    return 0;
}

static void scan_warning(const char *text, void *ctx)
{
    (void)ctx;
    log_warn("%s", text);
}

static void serve(struct stream *client)
{
    stream_set_timeout(client, ipc_timeout_ms);
    struct peercred cred;
    long uid = peercred_get(stream_fd(client), &cred) == 0
                   ? (long)cred.uid
                   : USER_ACL_UNKNOWN_UID;
    struct buf name = BUF_INIT, err = BUF_INIT;
    switch (user_acl_check(mailq_acl, uid, &name)) {
    case USER_ACL_ALLOWED:
        break;
    case USER_ACL_DENIED:
        log_info("refused queue listing for %s(%ld): not in %s",
                 buf_cstr(&name), uid, user_acl_title(mailq_acl));
        showq_send_refused(client, buf_cstr(&name), uid);
        (void)stream_flush(client);
        goto out;
    case USER_ACL_ERROR:
        log_warn("%s: lookup error for user %s(%ld)", user_acl_title(mailq_acl),
                 buf_cstr(&name), uid);
        showq_send_error(client, "authorized_mailq_users lookup error; "
                                 "try again later");
        (void)stream_flush(client);
        goto out;
    }
    showq_send_ok(client);
    struct listing listing = {client, 0};
    struct queue_list_scan_ops ops = {send_entry, scan_warning, &listing};
    int scanned = queue_list_scan(queue_dir, &ops, &err);
    if (listing.failed) {
        log_info("client %s(%ld) went away during the listing", buf_cstr(&name),
                 uid);
        goto out;
    }
    if (scanned < 0)
        log_warn("%s", buf_cstr(&err));
    showq_send_end(client, scanned < 0 ? buf_cstr(&err) : NULL);
    enum stream_status st = stream_flush(client);
    if (st != STREAM_OK)
        log_info("client %s(%ld): write: %s", buf_cstr(&name), uid,
                 stream_status_name(st));
out:
    buf_free(&name);
    buf_free(&err);
}

/* Still privileged: the table files of authorized_mailq_users and
 * mail_owner's uid are read before a chroot. */
static void pre_init(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    struct buf err = BUF_INIT;
    queue_dir = cfg_str("queue_directory");
    ipc_timeout_ms = timeconv_sec_to_int_ms(cfg_time("ipc_timeout"));
    if (queue_dir_identify(queue_dir, &queue_dir_id) < 0)
        log_fatal("%s: %s", queue_dir, strerror(errno));
    mailq_acl =
        user_acl_open("authorized_mailq_users", USER_ACL_OWNER_EXEMPT, &err);
    if (mailq_acl == NULL)
        log_fatal("authorized_mailq_users: %s", buf_cstr(&err));
    buf_free(&err);
}

/* After a chroot into the queue directory (chroot = y in master.cf),
 * queue paths are relative to the new root. User names are then looked
 * up in the jail's own password file, if it has one. */
static void post_init(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    if (queue_dir_is_root(&queue_dir_id))
        queue_dir = "";
}

int main(int argc, char **argv)
{
    static const struct server_ops ops = {
        .mode = SERVER_SINGLE,
        .pre_init = pre_init,
        .post_init = post_init,
        .serve = serve,
    };
    return server_main(argc, argv, &ops);
}
