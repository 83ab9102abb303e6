/* local.c: the local delivery agent, Postfix's local(8), for UNIX
 * accounts and aliases.
 *
 * Serves deliver/1 requests (lib/delivery/agent.h). One recipient's walk:
 *   1. a message already carrying `Delivered-To: <recipient>` is a mail
 *      loop: bounce 5.4.6;
 *   2. the local part (lower case) is looked up in alias_maps, whole and
 *      then without its extension (recipient_delimiter); an alias
 *      expands to items (local_items.c) delivered with default_privs;
 *   3. otherwise it names a UNIX account (the part before the
 *      delimiter); none: bounce 5.1.1 "unknown user";
 *   4. the account's forward_path files (~/.forward+ext, ~/.forward),
 *      read as the account, expand to items delivered with its rights;
 *   5. otherwise the mailbox: mailbox_command, else home_mailbox (ending
 *      in `/`: Maildir), else mail_spool_directory/USER (mbox, or
 *      Maildir when the directory ends in `/`).
 * Expansion happens here, in place, instead of re-submitting each
 * expanded address as Postfix does: names without a domain are expanded
 * and delivered at once; addresses with a domain are forwarded in ONE
 * new queue file (lib/queue/qfile_writer into incoming/, then a trigger to
 * qmgr), so they get the full routing of any other mail. A name met
 * again in its own expansion ("root: root, alice") goes to that
 * account's mailbox, as in Postfix.
 *
 * When one recipient expands to several deliveries, each is logged
 * (`to=<alice@host>, orig_to=<root@host>, ...`); the recipient's answer
 * to qmgr is the worst outcome: any deferral defers it (and on the next
 * try the deliveries that worked are made again, as with Postfix's
 * local), else any bounce bounces it, else it is sent. */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tables/alias_file.h"

#include "message/address.h"
#include "config/config.h"
#include "local.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/privs.h"
#include "base/expand.h"
#include "base/file_read.h"

static struct maps *alias_maps;

static void local_init(void)
{
    /* Alias results become commands and paths: no $1 from the address. */
    alias_maps =
        maps_open("alias_maps", cfg_str("alias_maps"), DICT_FLAG_NO_REGSUB);
}

enum privs_lookup local_privs_user(const char *name, struct local_privs *out,
                                   struct buf *err)
{
    memset(out, 0, sizeof(*out));
    errno = 0;
    struct passwd *pw = getpwnam(name);
    if (pw == NULL) {
        if (errno != 0 && errno != ENOENT && errno != ESRCH && errno != EBADF &&
            errno != EPERM) {
            buf_appendf(err, "cannot read the user database: %s",
                        strerror(errno));
            return PRIVS_ERROR;
        }
        return PRIVS_NOTFOUND;
    }
    out->uid = pw->pw_uid;
    out->gid = pw->pw_gid;
    out->user = xstrdup(pw->pw_name);
    out->home = xstrdup(pw->pw_dir ? pw->pw_dir : "/");
    out->shell = xstrdup(pw->pw_shell ? pw->pw_shell : "/bin/sh");
    return PRIVS_FOUND;
}

void local_privs_free(struct local_privs *p)
{
    free(p->user);
    free(p->home);
    free(p->shell);
    memset(p, 0, sizeof(*p));
}

void local_outcome(struct local_state *ls, const char *to,
                   enum deliver_status status, const char *dsn,
                   const char *reason)
{
    ls->deliveries++;
    if (status == DELIVER_SENT)
        ls->sent++;
    int worse = (status == DELIVER_DEFERRED && !ls->deferred) ||
                (status == DELIVER_BOUNCED && !ls->deferred && !ls->bounced) ||
                (status == DELIVER_SENT && !ls->deferred && !ls->bounced &&
                 ls->sent == 1);
    if (status == DELIVER_DEFERRED)
        ls->deferred++;
    if (status == DELIVER_BOUNCED)
        ls->bounced++;
    if (worse) {
        snprintf(ls->dsn, sizeof(ls->dsn), "%s", dsn);
        buf_set_str(&ls->reason, reason);
    }
    if (ls->expanded)
        agent_log_status(ls->d, ls->i, to, status, dsn, reason);
}

int local_once(struct local_state *ls, const char *kind, const char *what)
{
    struct buf key = BUF_INIT;
    buf_appendf(&key, "%s:%s", kind, what);
    for (size_t k = 0; k < ls->done.count; k++)
        if (strcmp(ls->done.items[k], key.data) == 0) {
            buf_free(&key);
            return 1;
        }
    strlist_add(&ls->done, key.data);
    buf_free(&key);
    return 0;
}

struct forward_names {
    struct local_state *ls;
    const struct local_privs *pw;
    char delim[2];
    int incomplete;
    struct buf local, domain; /* the recipient's, for $local and $domain */
};

/* forward_path names: lower-case letters and '_', in $name or ${name}. */
static int forward_name_char(int c)
{
    return (c >= 'a' && c <= 'z') || c == '_';
}

static const struct expand_syntax forward_syntax = {forward_name_char, "{"};

/* One reference in a forward_path item (base/expand.h's walk). */
static enum expand_step forward_ref(void *arg, const struct expand_ref *ref,
                                    struct buf *path)
{
    struct forward_names *f = arg;
    if (ref->name_len == 0 ||
        (ref->bracket && (!ref->closed || ref->name_len != ref->inner_len))) {
        f->incomplete = 1; /* not a name we can expand: drop the item */
        return EXPAND_STOP;
    }
    char *name = xstrndup(ref->name, ref->name_len);
    const char *value;
    if (strcmp(name, "home") == 0)
        value = f->pw->home;
    else if (strcmp(name, "user") == 0)
        value = f->pw->user;
    else if (strcmp(name, "extension") == 0)
        value = buf_cstr(&f->ls->extension);
    else if (strcmp(name, "recipient_delimiter") == 0)
        /* Only the delimiter that was used, when there was one. */
        value = f->ls->extension.len ? f->delim : "";
    else if (strcmp(name, "local") == 0)
        value = buf_cstr(&f->local);
    else if (strcmp(name, "domain") == 0)
        value = buf_cstr(&f->domain);
    else if (strcmp(name, "recipient") == 0)
        value = f->ls->rcpt;
    else
        value = cfg_str(name);
    if (value[0] == 0 && (strcmp(name, "extension") == 0 ||
                          strcmp(name, "recipient_delimiter") == 0))
        f->incomplete = 1;
    /* Never let a path climb out of the home directory. */
    if (strstr(value, "/") && strcmp(name, "home") != 0)
        f->incomplete = 1;
    buf_append_str(path, value);
    free(name);
    return EXPAND_CONTINUE;
}

/* The forward_path file names for an account: $home, $user, $extension,
 * $recipient_delimiter, $local, $domain, $recipient (the recipient's, as
 * Postfix's local fills them) expanded, and the items whose
 * expansion is incomplete (an empty ${extension} leaves ".forward+")
 * dropped, as Postfix does with ${name?...} forms; an item with a
 * reference that is not a plain $name or ${name} is dropped too. */
static void forward_files(struct local_state *ls, const struct local_privs *pw,
                          struct strlist *out)
{
    struct strlist items;
    strlist_init(&items);
    /* cfg_str would expand $home as a parameter: read the raw text. */
    const char *raw = config_raw("forward_path", NULL);
    str_split_list(raw ? raw : "", &items);
    for (size_t k = 0; k < items.count; k++) {
        struct forward_names f = {ls, pw, {ls->delimiter, 0}, 0, BUF_INIT,
                                  BUF_INIT};
        address_split(ls->rcpt, &f.local, &f.domain);
        struct buf path = BUF_INIT;
        expand_walk(items.items[k], strlen(items.items[k]), &forward_syntax,
                    forward_ref, &f, &path);
        if (!f.incomplete && path.len > 0)
            strlist_add(out, buf_cstr(&path));
        buf_free(&path);
        buf_free(&f.local);
        buf_free(&f.domain);
    }
    strlist_free(&items);
}

/* Largest .forward or :include: file read. */
#define LOCAL_MAX_LIST_FILE (1024 * 1024)

int local_read_list(const char *path, uid_t uid, gid_t gid, uid_t owner,
                    struct strlist *items, struct buf *err)
{
    privs_effective_set(PRIVS_THREAD, uid, gid);
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    int saved = errno;
    privs_effective_restore(PRIVS_THREAD);
    if (fd < 0) {
        if (saved == ENOENT || saved == ENOTDIR)
            return 0;
        buf_appendf(err, "cannot open %s: %s", path, strerror(saved));
        return -1;
    }
    struct stat st;
    int rc = -1;
    struct buf text = BUF_INIT;
    if (fstat(fd, &st) < 0) {
        buf_appendf(err, "cannot stat %s: %s", path, strerror(errno));
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        buf_appendf(err, "%s is not a regular file", path);
        goto out;
    }
    /* Only its owner (or root) may tell where the owner's mail goes. */
    if (owner != (uid_t)-1 && st.st_uid != owner && st.st_uid != 0) {
        log_warn("%s: not owned by uid %ld or root; ignored", path,
                 (long)owner);
        rc = 0;
        goto out;
    }
    if (file_read_fd(fd, path, LOCAL_MAX_LIST_FILE, &text, err) < 0)
        goto out;
    if (alias_include_split(text.data ? text.data : "", text.len, items) < 0) {
        buf_appendf(err, "%s: malformed list (NUL byte or open quote)", path);
        goto out;
    }
    rc = items->count > 0 ? 1 : 0;
out:
    close(fd);
    buf_free(&text);
    return rc;
}

static int forward_expand(struct local_state *ls, struct local_privs *pw,
                          int depth)
{
    struct strlist files, items;
    strlist_init(&files);
    strlist_init(&items);
    forward_files(ls, pw, &files);
    int handled = 0;
    for (size_t k = 0; k < files.count && !handled; k++) {
        struct buf err = BUF_INIT;
        int rc = local_read_list(files.items[k], pw->uid, pw->gid, pw->uid,
                                 &items, &err);
        if (rc < 0) {
            local_outcome(ls, NULL, DELIVER_DEFERRED, "4.3.0", buf_cstr(&err));
            handled = 1;
        } else if (rc > 0) {
            ls->expanded = 1;
            handled = 1;
            for (size_t j = 0; j < items.count; j++)
                local_item(ls, items.items[j], LOCAL_SRC_FORWARD, pw,
                           depth + 1);
        }
        buf_free(&err);
    }
    strlist_free(&files);
    strlist_free(&items);
    return handled;
}

void local_expand_name(struct local_state *ls, const char *name, int depth)
{
    if (depth > LOCAL_MAX_DEPTH || ls->deliveries >= LOCAL_MAX_EXPANSION) {
        local_outcome(ls, NULL, DELIVER_BOUNCED, "5.4.6",
                      "mail forwarding loop: expansion too deep or too large");
        return;
    }
    char *lower = str_lower(xstrdup(name));
    struct buf base = BUF_INIT, ext = BUF_INIT, value = BUF_INIT,
               err = BUF_INIT;
    char used = 0;
    address_split_delimiter(lower, cfg_str("recipient_delimiter"), &base, &ext,
                            &used);
    if (depth == 0) {
        buf_set_str(&ls->extension, buf_cstr(&ext));
        ls->delimiter = used;
    }

    /* Aliases, unless this name was expanded already on this walk. */
    int seen = 0;
    for (size_t k = 0; k < ls->seen.count; k++)
        if (strcmp(ls->seen.items[k], lower) == 0 ||
            strcmp(ls->seen.items[k], buf_cstr(&base)) == 0)
            seen = 1;
    if (!seen) {
        enum dict_result r = maps_find(alias_maps, lower, 0, &value);
        if (r == DICT_NOTFOUND && ext.len)
            r = maps_find(alias_maps, buf_cstr(&base), MAPS_FIXED_ONLY, &value);
        if (r == DICT_ERROR) {
            local_outcome(ls, NULL, DELIVER_DEFERRED, "4.3.0",
                          "alias database unavailable");
            goto out;
        }
        if (r == DICT_FOUND) {
            strlist_add(&ls->seen, lower);
            strlist_add(&ls->seen, buf_cstr(&base));
            ls->expanded = 1;
            struct local_privs privs;
            enum privs_lookup pr =
                local_privs_user(cfg_str("default_privs"), &privs, &err);
            if (pr != PRIVS_FOUND) {
                log_warn("default_privs %s: %s", cfg_str("default_privs"),
                         pr == PRIVS_NOTFOUND ? "no such user" : buf_cstr(&err));
                local_outcome(ls, NULL, DELIVER_DEFERRED, "4.3.5",
                              "mail system configuration error");
                goto out;
            }
            struct strlist items;
            strlist_init(&items);
            alias_value_split(buf_cstr(&value), &items);
            for (size_t k = 0; k < items.count; k++)
                local_item(ls, items.items[k], LOCAL_SRC_ALIAS, &privs,
                           depth + 1);
            strlist_free(&items);
            local_privs_free(&privs);
            goto out;
        }
    }

    /* A UNIX account. */
    struct local_privs pw;
    enum privs_lookup pr = local_privs_user(buf_cstr(&base), &pw, &err);
    if (pr == PRIVS_ERROR) {
        local_outcome(ls, NULL, DELIVER_DEFERRED, "4.3.0", buf_cstr(&err));
        goto out;
    }
    if (pr == PRIVS_NOTFOUND) {
        struct buf why = BUF_INIT;
        buf_appendf(&why, "unknown user: \"%s\"", lower);
        local_outcome(ls, NULL, DELIVER_BOUNCED, "5.1.1", buf_cstr(&why));
        buf_free(&why);
        goto out;
    }
    int self = 0;
    for (size_t k = 0; k < ls->seen.count; k++)
        if (strcmp(ls->seen.items[k], pw.user) == 0)
            self = 1;
    if (!self) {
        strlist_add(&ls->seen, pw.user);
        if (forward_expand(ls, &pw, depth)) {
            local_privs_free(&pw);
            goto out;
        }
    }
    local_deliver_mailbox(ls, pw.user);
    local_privs_free(&pw);
out:
    free(lower);
    buf_free(&base);
    buf_free(&ext);
    buf_free(&value);
    buf_free(&err);
}

static void local_deliver(struct agent_delivery *d, size_t i)
{
    const char *rcpt = d->req->rcpts[i].address;
    struct local_state ls;
    memset(&ls, 0, sizeof(ls));
    ls.d = d;
    ls.i = i;
    ls.rcpt = rcpt;
    buf_init(&ls.extension);
    buf_init(&ls.reason);
    strlist_init(&ls.seen);
    strlist_init(&ls.forward);
    strlist_init(&ls.done);

    struct buf err = BUF_INIT, local_part = BUF_INIT;
    int loop = agent_delivered_to(d, rcpt, &err);
    if (loop < 0) {
        log_warn("%s: reading queue file: %s", d->req->log_ident,
                 buf_cstr(&err));
        agent_defer(d, i, "4.3.0", "cannot read queue file");
        goto out;
    }
    if (loop) {
        agent_bounce(d, i, "5.4.6", "mail forwarding loop for %s", rcpt);
        goto out;
    }
    address_split(rcpt, &local_part, NULL);
    local_expand_name(&ls, buf_cstr(&local_part), 0);
    if (ls.forward.count > 0)
        local_forward_flush(&ls);

    enum deliver_status status = ls.deferred  ? DELIVER_DEFERRED
                                 : ls.bounced ? DELIVER_BOUNCED
                                              : DELIVER_SENT;
    if (ls.deliveries == 0) {
        /* An alias or .forward with nothing in it. */
        status = DELIVER_BOUNCED;
        snprintf(ls.dsn, sizeof(ls.dsn), "5.1.1");
        buf_set_str(&ls.reason, "alias or forward file expands to nothing");
        ls.expanded = 0;
    }
    if (ls.expanded)
        agent_record(d, i, status, ls.dsn, buf_cstr(&ls.reason));
    else if (status == DELIVER_SENT)
        agent_sent(d, i, ls.dsn, "%s", buf_cstr(&ls.reason));
    else if (status == DELIVER_DEFERRED)
        agent_defer(d, i, ls.dsn, "%s", buf_cstr(&ls.reason));
    else
        agent_bounce(d, i, ls.dsn, "%s", buf_cstr(&ls.reason));
out:
    buf_free(&err);
    buf_free(&local_part);
    buf_free(&ls.extension);
    buf_free(&ls.reason);
    strlist_free(&ls.seen);
    strlist_free(&ls.forward);
    strlist_free(&ls.done);
}

int main(int argc, char **argv)
{
    agent_main(argc, argv, "local", local_init, local_deliver);
}
