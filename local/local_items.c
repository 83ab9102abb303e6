/* local_items.c: one alias, .forward or :include: item of the local
 * agent, and the forwarding of addresses with a domain in a new queue
 * file (local.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "base/fsync_dir.h"
#include "message/address.h"
#include "config/config.h"
#include "local.h"
#include "base/log.h"
#include "base/mem.h"
#include "queue/qfile.h"
#include "base/privs.h"
#include "queue/qfile_writer.h"
#include "queue/qid.h"
#include "queue/queue_dirs.h"

static const char *source_name(enum local_source source)
{
    switch (source) {
    case LOCAL_SRC_ALIAS:
        return "alias";
    case LOCAL_SRC_FORWARD:
        return "forward";
    case LOCAL_SRC_INCLUDE:
        return "include";
    }
    return "?";
}

/* allow_mail_to_commands / allow_mail_to_files: a list of alias,
 * forward, include. */
static int allowed(const char *param, enum local_source source)
{
    struct strlist items;
    strlist_init(&items);
    cfg_list(param, &items);
    int ok = 0;
    for (size_t k = 0; k < items.count; k++)
        if (str_equal_nocase(items.items[k], source_name(source)))
            ok = 1;
    strlist_free(&items);
    return ok;
}

void local_item(struct local_state *ls, const char *item,
                enum local_source source, const struct local_privs *privs,
                int depth)
{
    if (depth > LOCAL_MAX_DEPTH || ls->deliveries >= LOCAL_MAX_EXPANSION) {
        local_outcome(ls, item, DELIVER_BOUNCED, "5.4.6",
                      "mail forwarding loop: expansion too deep or too large");
        return;
    }
    if (item[0] == '|') {
        if (!allowed("allow_mail_to_commands", source)) {
            local_outcome(ls, item, DELIVER_BOUNCED, "5.7.1",
                          "mail to command is restricted");
            return;
        }
        local_deliver_command(ls, item + 1, privs);
        return;
    }
    if (item[0] == '/') {
        if (!allowed("allow_mail_to_files", source)) {
            local_outcome(ls, item, DELIVER_BOUNCED, "5.7.1",
                          "mail to file is restricted");
            return;
        }
        local_deliver_file(ls, item, privs, 0);
        return;
    }
    if (strncasecmp(item, ":include:", 9) == 0) {
        const char *path = item + 9;
        while (*path == ' ' || *path == '\t')
            path++;
        if (path[0] != '/') {
            local_outcome(ls, item, DELIVER_BOUNCED, "5.3.5",
                          ":include: needs an absolute path");
            return;
        }
        struct strlist items;
        struct buf err = BUF_INIT;
        strlist_init(&items);
        int rc = local_read_list(path, privs->uid, privs->gid, (uid_t)-1,
                                 &items, &err);
        if (rc < 0)
            local_outcome(ls, item, DELIVER_DEFERRED, "4.3.0", buf_cstr(&err));
        for (size_t k = 0; k < items.count; k++)
            local_item(ls, items.items[k], LOCAL_SRC_INCLUDE, privs, depth + 1);
        strlist_free(&items);
        buf_free(&err);
        return;
    }
    if (item[0] == '\\') {
        /* \user: that account's mailbox, no alias or .forward. */
        struct local_privs pw;
        struct buf err = BUF_INIT;
        char *name = str_lower(xstrdup(item + 1));
        enum privs_lookup pr = local_privs_user(name, &pw, &err);
        if (pr == PRIVS_FOUND)
            local_deliver_mailbox(ls, pw.user);
        else if (pr == PRIVS_NOTFOUND) {
            struct buf why = BUF_INIT;
            buf_appendf(&why, "unknown user: \"%s\"", name);
            local_outcome(ls, name, DELIVER_BOUNCED, "5.1.1", buf_cstr(&why));
            buf_free(&why);
        } else
            local_outcome(ls, name, DELIVER_DEFERRED, "4.3.0", buf_cstr(&err));
        local_privs_free(&pw);
        free(name);
        buf_free(&err);
        return;
    }
    if (strchr(item, '@')) {
        if (!qfile_text_ok(item, strlen(item)) || strlen(item) > ADDRESS_MAX) {
            local_outcome(ls, "?", DELIVER_BOUNCED, "5.1.3",
                          "bad address syntax in alias or forward file");
            return;
        }
        for (size_t k = 0; k < ls->forward.count; k++)
            if (str_equal_nocase(ls->forward.items[k], item))
                return; /* duplicate */
        strlist_add(&ls->forward, item);
        ls->deliveries++;
        return;
    }
    local_expand_name(ls, item, depth);
}

/* Tells qmgr that incoming/ has new mail: one byte, never waiting. */
static void trigger_qmgr(void)
{
    struct buf path = BUF_INIT;
    buf_appendf(&path, "%s/public/qmgr", cfg_str("queue_directory"));
    struct sockaddr_un sun;
    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    if (path.len < sizeof(sun.sun_path)) {
        memcpy(sun.sun_path, path.data, path.len);
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd >= 0) {
            if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0)
                (void)!write(fd, "A", 1);
            close(fd);
        }
    }
    buf_free(&path);
}

static int forward_copy(void *ctx, const void *data, size_t len)
{
    struct qfile_writer *w = ctx;
    struct buf err = BUF_INIT;
    int rc = qfile_writer_content_append(w, data, len, &err);
    if (rc < 0)
        log_warn("forwarding: %s", buf_cstr(&err));
    buf_free(&err);
    return rc;
}

void local_forward_flush(struct local_state *ls)
{
    struct agent_delivery *d = ls->d;
    struct buf dir = BUF_INIT, err = BUF_INIT, line = BUF_INIT;
    queue_dir_path(&dir, cfg_str("queue_directory"), QUEUE_INCOMING);
    /* The new file must belong to mail_owner, as smtpd's do, or qmgr
     * (unprivileged) could not open it: write it with that identity. */
    uid_t owner_uid = 0;
    gid_t owner_gid = 0;
    int switched = 0;
    if (privs_is_root()) {
        if (privs_lookup_user(cfg_str("mail_owner"), &owner_uid, &owner_gid,
                              &err) != PRIVS_FOUND) {
            log_warn("mail_owner %s: %s", cfg_str("mail_owner"),
                     err.len ? buf_cstr(&err) : "no such user");
            buf_reset(&err);
        } else {
            privs_effective_set(PRIVS_THREAD, owner_uid, owner_gid);
            switched = 1;
        }
    }
    struct qfile_writer *w = privs_is_root() && !switched
                                 ? NULL
                                 : qfile_writer_create(buf_cstr(&dir), &err);
    int ok = w != NULL;
    if (ok)
        ok = qfile_writer_sender(w, d->req->sender, &err) == 0;
    for (size_t k = 0; ok && k < ls->forward.count; k++) {
        struct qfile_recipient rcpt;
        memset(&rcpt, 0, sizeof(rcpt));
        rcpt.address = ls->forward.items[k];
        rcpt.original = (char *)ls->rcpt;
        ok = qfile_writer_recipient(w, &rcpt, &err) == 0;
    }
    if (ok && d->env.envid)
        ok = qfile_writer_dsn_envid(w, d->env.envid, &err) == 0;
    if (ok && d->env.dsn_ret)
        ok = qfile_writer_dsn_ret(w, d->env.dsn_ret, &err) == 0;
    if (ok && d->env.encoding)
        ok = qfile_writer_encoding(w, d->env.encoding, &err) == 0;
    if (ok)
        ok = qfile_writer_content_begin(w, &err) == 0;
    if (ok) {
        /* The copy records this hop, so a forwarding loop is seen. */
        char *lower = str_lower(xstrdup(ls->rcpt));
        buf_appendf(&line, "Delivered-To: %s\n", lower);
        free(lower);
        ok = qfile_writer_content_append(w, line.data, line.len, &err) == 0;
    }
    if (ok) {
        ok = agent_copy_content(d, forward_copy, w, &err) == AGENT_COPY_DONE;
    }
    char qid[QID_BUF_SIZE] = "";
    if (ok)
        snprintf(qid, sizeof(qid), "%s", qfile_writer_qid(w));
    if (ok)
        ok = qfile_writer_content_end(w, &err) == 0 &&
             qfile_writer_finish(w, &err) == 0 &&
             qfile_writer_commit(w, &err) == 0 &&
             fsync_dir(buf_cstr(&dir), &err) == 0;
    if (w)
        qfile_writer_free(w);
    w = NULL;
    if (switched)
        privs_effective_restore(PRIVS_THREAD);
    struct buf reason = BUF_INIT;
    if (ok) {
        buf_appendf(&reason, "forwarded as %s", qid);
        log_info("%s: %s: %s", d->req->log_ident, buf_cstr(&reason), ls->rcpt);
        trigger_qmgr();
    } else {
        log_warn("%s: cannot forward: %s", d->req->log_ident, buf_cstr(&err));
        buf_set_str(&reason, "cannot write the forwarded copy");
    }
    /* Counted once each in local_item; local_outcome counts again. */
    ls->deliveries -= (int)ls->forward.count;
    for (size_t k = 0; k < ls->forward.count; k++)
        local_outcome(ls, ls->forward.items[k],
                      ok ? DELIVER_SENT : DELIVER_DEFERRED,
                      ok ? "2.0.0" : "4.3.0", buf_cstr(&reason));
    buf_free(&dir);
    buf_free(&err);
    buf_free(&line);
    buf_free(&reason);
}
