/* local_deliver.c: the local agent's deliveries: an account's mailbox
 * (mailbox_command, home_mailbox, mail_spool_directory), files named in
 * aliases and .forward, and commands (local.h).
 *
 * Commands never see envelope data on their command line: the command
 * text comes from the administrator (aliases, mailbox_command) or the
 * account's own .forward, and is run with an argument vector split on
 * white space, or, when it holds shell syntax, as `/bin/sh -c TEXT`
 * (local_command_shell when set) exactly as written. Envelope data
 * reaches it only through the environment (SENDER, RECIPIENT, USER,
 * HOME, SHELL, LOGNAME, LOCAL, DOMAIN, EXTENSION, ORIGINAL_RECIPIENT).
 * The child drops every privilege for good before exec, gets the
 * message on its standard input (From_ line, Return-Path:, Delivered-To:,
 * then the message with LF line ends), and its exit status maps through
 * sysexits(3): EX_TEMPFAIL and EX_OSERR defer, other failures bounce. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "message/address.h"
#include "delivery/agent_mailbox.h"
#include "config/config.h"
#include "local.h"
#include "base/expand.h"
#include "base/fd_close.h"
#include "base/log.h"
#include "storage/maildir.h"
#include "storage/mbox.h"
#include "base/mem.h"
#include "base/privs.h"
#include "base/timeconv.h"
#include "storage/store.h"

/* Bytes of command output kept for the bounce reason. */
#define LOCAL_OUTPUT_MAX 512

/* For commands and files, root's deliveries run as default_privs, as
 * Postfix's local does: a .forward must not run anything as root. */
static int effective_privs(const struct local_privs *privs,
                           struct local_privs *out, struct buf *err)
{
    if (!privs_is_root()) {
        /* Not root: commands and files run as this process's user, so
         * $USER, $HOME and $SHELL name that user, not default_privs or
         * the recipient, whom we cannot become. */
        struct passwd *pw = getpwuid(getuid());
        memset(out, 0, sizeof(*out));
        out->uid = getuid();
        out->gid = getgid();
        out->user = xstrdup(pw ? pw->pw_name : "");
        out->home = xstrdup(pw && pw->pw_dir ? pw->pw_dir : "/");
        out->shell = xstrdup(pw && pw->pw_shell ? pw->pw_shell : "/bin/sh");
        return 0;
    }
    if (privs->uid != 0) {
        memset(out, 0, sizeof(*out));
        out->uid = privs->uid;
        out->gid = privs->gid;
        out->user = xstrdup(privs->user ? privs->user : "");
        out->home = xstrdup(privs->home ? privs->home : "/");
        out->shell = xstrdup(privs->shell ? privs->shell : "/bin/sh");
        return 0;
    }
    enum privs_lookup rc = local_privs_user(cfg_str("default_privs"), out, err);
    if (rc == PRIVS_NOTFOUND)
        buf_appendf(err, "default_privs %s: no such user",
                    cfg_str("default_privs"));
    if (rc == PRIVS_FOUND && out->uid == 0) {
        buf_appendf(err, "default_privs %s is root", cfg_str("default_privs"));
        local_privs_free(out);
        return -1;
    }
    return rc == PRIVS_FOUND ? 0 : -1;
}

/* Writes one copy to a Maildir (path ending in '/') or an mbox file,
 * with uid/gid's rights; as root and with chown_new, an mbox is created
 * as root and given to uid/gid (the spool directory case). */
static void store_copy(struct local_state *ls, const char *to, const char *path,
                       uid_t uid, gid_t gid, int as_root, const char *what)
{
    struct agent_delivery *d = ls->d;
    struct buf err = BUF_INIT, reason = BUF_INIT;
    struct store_status st;
    store_status_init(&st);
    int is_maildir = str_has_suffix(path, "/");
    struct agent_mailbox box = {
        .path = path,
        .recipient = ls->rcpt,
        .size_limit = cfg_size("mailbox_size_limit"),
        .lock_param = "mailbox_delivery_lock",
        .dotlock_optional = 1,
        .chown_new = as_root && privs_is_root(),
        .uid = uid,
        .gid = gid,
    };
    /* An mbox in the spool is opened as root (the spool directory is not
     * the user's) and handed over; everything else runs as the user. */
    if (!as_root || is_maildir)
        privs_effective_set(PRIVS_THREAD, uid, gid);
    enum agent_copy_result copy_rc = agent_mailbox_write(d, &box, &st, &err);
    if (!as_root || is_maildir)
        privs_effective_restore(PRIVS_THREAD);
    if (copy_rc == AGENT_COPY_QUEUE_ERROR) {
        log_warn("%s: reading queue file: %s", d->req->log_ident,
                 buf_cstr(&err));
        local_outcome(ls, to, DELIVER_DEFERRED, "4.3.0",
                      "cannot read queue file");
    } else if (st.result == STORE_OK) {
        buf_appendf(&reason, "delivered to %s", what);
        local_outcome(ls, to, DELIVER_SENT, "2.0.0", buf_cstr(&reason));
    } else if (st.result == STORE_DEFER) {
        local_outcome(ls, to, DELIVER_DEFERRED, st.dsn, buf_cstr(&st.reason));
    } else {
        local_outcome(ls, to, DELIVER_BOUNCED,
                      st.result == STORE_OVER_QUOTA ? "5.2.2" : st.dsn,
                      buf_cstr(&st.reason));
    }
    store_status_free(&st);
    buf_free(&err);
    buf_free(&reason);
}

/* The address a mailbox delivery is logged under: the recipient itself,
 * or USER@DOMAIN when it was reached through an alias. */
static char *mailbox_to(struct local_state *ls, const char *user)
{
    if (!ls->expanded)
        return NULL;
    const char *domain = address_domain(ls->rcpt);
    return domain ? xasprintf("%s@%s", user, domain) : xstrdup(user);
}

/* Postfix's command_expansion_filter default: what a value expanded
 * into a command may hold; anything else becomes '_'. */
static const char COMMAND_SAFE[] =
    "1234567890!@%-_=+:,./abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

struct command_names {
    struct local_state *ls;
    const struct local_privs *pw;
    struct buf local, domain;
};

/* The value of a delivery name in a command, NULL when not ours. */
static const char *command_value(struct command_names *c, const char *name)
{
    if (strcmp(name, "user") == 0)
        return c->pw->user;
    if (strcmp(name, "home") == 0)
        return c->pw->home;
    if (strcmp(name, "shell") == 0)
        return c->pw->shell;
    if (strcmp(name, "local") == 0)
        return buf_cstr(&c->local);
    if (strcmp(name, "domain") == 0)
        return buf_cstr(&c->domain);
    if (strcmp(name, "extension") == 0)
        return buf_cstr(&c->ls->extension);
    if (strcmp(name, "recipient") == 0)
        return c->ls->rcpt;
    if (strcmp(name, "sender") == 0)
        return c->ls->d->req->sender;
    return NULL;
}

/* One reference in mailbox_command (base/expand.h's walk): our names
 * filtered through COMMAND_SAFE; anything else left as written, for the
 * shell ("$EXTENSION" in Postfix's own procmail example). */
static enum expand_step command_ref(void *arg, const struct expand_ref *ref,
                                    struct buf *out)
{
    struct command_names *c = arg;
    const char *value = NULL;
    if (ref->name_len > 0 &&
        (!ref->bracket || (ref->closed && ref->name_len == ref->inner_len))) {
        char *name = xstrndup(ref->name, ref->name_len);
        value = command_value(c, name);
        free(name);
    }
    if (value == NULL) {
        buf_append(out, ref->text, ref->text_len);
        return EXPAND_CONTINUE;
    }
    for (const char *v = value; *v; v++)
        buf_append_char(out, strchr(COMMAND_SAFE, *v) ? *v : '_');
    return EXPAND_CONTINUE;
}

/* Expands mailbox_command as written in main.cf: $user, $home, $shell,
 * $local, $domain, $extension, $recipient, $sender (and ${name},
 * $(name)) from the delivery, filtered through COMMAND_SAFE; other
 * $names are left as written, for the shell to see; $$ is a dollar. */
static void expand_command(struct local_state *ls, const struct local_privs *pw,
                           const char *raw, struct buf *out)
{
    struct command_names c = {ls, pw, BUF_INIT, BUF_INIT};
    address_split(ls->rcpt, &c.local, &c.domain);
    expand_walk(raw, strlen(raw), &expand_syntax_names, command_ref, &c, out);
    buf_free(&c.local);
    buf_free(&c.domain);
}

void local_deliver_mailbox(struct local_state *ls, const char *user)
{
    struct local_privs pw;
    struct buf err = BUF_INIT, path = BUF_INIT;
    if (local_once(ls, "mailbox", user))
        return;
    char *to = mailbox_to(ls, user);
    enum privs_lookup pr = local_privs_user(user, &pw, &err);
    if (pr != PRIVS_FOUND) {
        int unknown = pr == PRIVS_NOTFOUND;
        local_outcome(ls, to, unknown ? DELIVER_BOUNCED : DELIVER_DEFERRED,
                      unknown ? "5.1.1" : "4.3.0",
                      unknown ? "unknown user" : buf_cstr(&err));
        goto out;
    }
    /* Raw: $user and friends are ours to expand, not main.cf's. */
    const char *command = config_raw("mailbox_command", NULL);
    const char *home_mailbox = cfg_str("home_mailbox");
    if (command && command[0]) {
        struct buf expanded = BUF_INIT;
        expand_command(ls, &pw, command, &expanded);
        local_deliver_command(ls, buf_cstr(&expanded), &pw);
        buf_free(&expanded);
    } else if (home_mailbox[0]) {
        buf_appendf(&path, "%s/%s", pw.home, home_mailbox);
        store_copy(ls, to, buf_cstr(&path), pw.uid, pw.gid, 0,
                   str_has_suffix(home_mailbox, "/") ? "maildir" : "mailbox");
    } else {
        const char *spool = cfg_str("mail_spool_directory");
        int maildir = str_has_suffix(spool, "/");
        buf_appendf(&path, "%s%s%s%s", spool, maildir ? "" : "/", pw.user,
                    maildir ? "/" : "");
        store_copy(ls, to, buf_cstr(&path), pw.uid, pw.gid, !maildir,
                   maildir ? "maildir" : "mailbox");
    }
    local_privs_free(&pw);
out:
    free(to);
    buf_free(&err);
    buf_free(&path);
}

void local_deliver_file(struct local_state *ls, const char *path,
                        const struct local_privs *privs, int as_spool)
{
    (void)as_spool;
    if (local_once(ls, "file", path))
        return;
    struct local_privs eff;
    struct buf err = BUF_INIT, what = BUF_INIT;
    if (effective_privs(privs, &eff, &err) < 0) {
        log_warn("%s", buf_cstr(&err));
        local_outcome(ls, NULL, DELIVER_DEFERRED, "4.3.5",
                      "mail system configuration error");
        buf_free(&err);
        return;
    }
    buf_appendf(&what, "file: %s", path);
    store_copy(ls, NULL, path, eff.uid, eff.gid, 0, buf_cstr(&what));
    local_privs_free(&eff);
    buf_free(&err);
    buf_free(&what);
}

/* ---- commands ---- */

struct command_io {
    int in_fd;  /* the child's stdin (we write) */
    int out_fd; /* the child's stdout+stderr (we read) */
    time_t deadline;
    int timed_out;
    int broken; /* the child closed its stdin */
    struct buf output;
    struct store_filter filter;
    struct buf filtered;
};

static void drain_output(struct command_io *io)
{
    char chunk[4096];
    ssize_t n = read(io->out_fd, chunk, sizeof(chunk));
    if (n > 0) {
        size_t room = io->output.len < LOCAL_OUTPUT_MAX
                          ? LOCAL_OUTPUT_MAX - io->output.len
                          : 0;
        buf_append(&io->output, chunk, (size_t)n < room ? (size_t)n : room);
    } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
        close(io->out_fd);
        io->out_fd = -1;
    }
}

/* Writes len bytes to the child, reading its output meanwhile so
 * neither side can block the other. */
static int command_write_raw(struct command_io *io, const char *data,
                             size_t len)
{
    while (len > 0 && !io->broken) {
        int wait_ms = timeconv_sec_to_int_ms((long long)(io->deadline - time(NULL)));
        if (wait_ms <= 0) {
            io->timed_out = 1;
            return -1;
        }
        struct pollfd pfd[2] = {{io->in_fd, POLLOUT, 0},
                                {io->out_fd, POLLIN, 0}};
        int n = poll(pfd, io->out_fd >= 0 ? 2 : 1, wait_ms);
        if (n < 0 && errno != EINTR)
            return -1;
        if (n <= 0)
            continue;
        if (io->out_fd >= 0 && pfd[1].revents)
            drain_output(io);
        if (pfd[0].revents & (POLLERR | POLLHUP)) {
            io->broken = 1;
            break;
        }
        if (pfd[0].revents & POLLOUT) {
            ssize_t w = write(io->in_fd, data, len);
            if (w < 0) {
                if (errno == EAGAIN || errno == EINTR)
                    continue;
                io->broken = 1; /* EPIPE: the exit status tells */
                break;
            }
            data += w;
            len -= (size_t)w;
        }
    }
    return 0;
}

static int command_write(void *ctx, const void *data, size_t len)
{
    struct command_io *io = ctx;
    buf_reset(&io->filtered);
    store_filter_run(&io->filter, data, len, &io->filtered);
    return command_write_raw(io, io->filtered.data, io->filtered.len);
}

/* sysexits(3) to status codes, as Postfix's sys_exits table. */
static const char *exit_dsn(int code, const char **text)
{
    static const struct {
        int code;
        const char *dsn, *text;
    } table[] = {
        {64, "5.3.0", "command line usage error"},
        {65, "5.6.0", "data format error"},
        {66, "5.3.0", "cannot open input"},
        {67, "5.1.1", "user unknown"},
        {68, "5.1.2", "host name unknown"},
        {69, "5.3.0", "service unavailable"},
        {70, "5.3.0", "internal software error"},
        {71, "4.3.0", "system resource problem"},
        {72, "5.3.0", "critical OS file missing"},
        {73, "5.2.0", "can't create user output file"},
        {74, "5.3.0", "input/output error"},
        {75, "4.3.0", "temporary failure"},
        {76, "5.5.0", "remote error in protocol"},
        {77, "5.7.0", "permission denied"},
        {78, "5.3.5", "local configuration error"},
    };
    for (size_t k = 0; k < sizeof(table) / sizeof(table[0]); k++)
        if (table[k].code == code) {
            *text = table[k].text;
            return table[k].dsn;
        }
    *text = "unknown mail system error";
    return "5.3.0";
}

static int has_shell_syntax(const char *command)
{
    return strpbrk(command, "|&;<>()$`\\\"'*?[#~=%{}\n") != NULL;
}

static void child_exec(const char *command, const struct local_privs *privs,
                       char **env, int in_fd, int out_fd)
{
    setsid();
    if (dup2(in_fd, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(out_fd, 2) < 0)
        _exit(71);
    /* Nothing of ours (queue file, sockets to master) reaches it. */
    fd_close_from(3);
    signal(SIGPIPE, SIG_DFL);
    struct buf err = BUF_INIT;
    /* Root or not, the command runs as privs->uid/gid or not at all. */
    if (privs_become(privs->uid, privs->gid,
                     privs->user[0] ? privs->user : NULL, &err) < 0) {
        dprintf(2, "cannot drop privileges: %s\n", buf_cstr(&err));
        _exit(71);
    }
    if (chdir(privs->home) < 0 && chdir("/") < 0)
        _exit(71);
    if (has_shell_syntax(command)) {
        const char *shell = cfg_str("local_command_shell");
        if (shell[0] == 0)
            shell = "/bin/sh";
        execle(shell, shell, "-c", command, (char *)NULL, env);
        dprintf(2, "cannot run %s: %s\n", shell, strerror(errno));
        _exit(71);
    }
    struct strlist argv;
    strlist_init(&argv);
    str_split_chars(command, " \t", &argv);
    if (argv.count == 0)
        _exit(64);
    strlist_add(&argv, ""); /* room for the NULL */
    free(argv.items[argv.count - 1]);
    argv.items[argv.count - 1] = NULL;
    execvpe(argv.items[0], argv.items, env);
    dprintf(2, "cannot run %s: %s\n", argv.items[0], strerror(errno));
    _exit(errno == ENOENT ? 127 : 126);
}

static void env_add(struct strlist *env, const char *name, const char *value)
{
    struct buf item = BUF_INIT;
    buf_appendf(&item, "%s=", name);
    for (const char *p = value ? value : ""; *p; p++)
        buf_append_char(&item, (unsigned char)*p < 0x20 ? '_' : *p);
    strlist_add(env, buf_cstr(&item));
    buf_free(&item);
}

void local_deliver_command(struct local_state *ls, const char *command,
                           const struct local_privs *privs)
{
    struct agent_delivery *d = ls->d;
    struct local_privs eff;
    struct buf err = BUF_INIT, reason = BUF_INIT, local = BUF_INIT,
               domain = BUF_INIT;
    while (*command == ' ' || *command == '\t')
        command++;
    if (local_once(ls, "command", command))
        return;
    if (effective_privs(privs, &eff, &err) < 0) {
        log_warn("%s", buf_cstr(&err));
        local_outcome(ls, NULL, DELIVER_DEFERRED, "4.3.5",
                      "mail system configuration error");
        buf_free(&err);
        return;
    }
    address_split(ls->rcpt, &local, &domain);
    const struct deliver_rcpt *r = &d->req->rcpts[ls->i];
    struct strlist env;
    strlist_init(&env);
    env_add(&env, "PATH", "/usr/local/bin:/usr/bin:/bin");
    env_add(&env, "SHELL", eff.shell);
    env_add(&env, "HOME", eff.home);
    env_add(&env, "USER", eff.user);
    env_add(&env, "LOGNAME", eff.user);
    env_add(&env, "SENDER", d->req->sender);
    env_add(&env, "RECIPIENT", ls->rcpt);
    env_add(&env, "ORIGINAL_RECIPIENT",
            r->original[0] ? r->original : ls->rcpt);
    env_add(&env, "LOCAL", buf_cstr(&local));
    env_add(&env, "DOMAIN", buf_cstr(&domain));
    env_add(&env, "EXTENSION", buf_cstr(&ls->extension));
    env_add(&env, "MAIL_CONFIG", config_directory());
    if (getenv("TZ"))
        env_add(&env, "TZ", getenv("TZ"));
    strlist_add(&env, ""); /* room for the NULL execle wants */
    free(env.items[env.count - 1]);
    env.items[env.count - 1] = NULL;

    int in_pipe[2], out_pipe[2];
    if (pipe2(in_pipe, O_CLOEXEC) < 0 || pipe2(out_pipe, O_CLOEXEC) < 0) {
        local_outcome(ls, NULL, DELIVER_DEFERRED, "4.3.0",
                      "cannot create pipe");
        goto out_env;
    }
    pid_t pid = fork();
    if (pid < 0) {
        close(in_pipe[0]);
        close(in_pipe[1]);
        close(out_pipe[0]);
        close(out_pipe[1]);
        local_outcome(ls, NULL, DELIVER_DEFERRED, "4.3.0", "cannot fork");
        goto out_env;
    }
    if (pid == 0)
        child_exec(command, &eff, env.items, in_pipe[0], out_pipe[1]);
    close(in_pipe[0]);
    close(out_pipe[1]);

    struct command_io io;
    memset(&io, 0, sizeof(io));
    io.in_fd = in_pipe[1];
    io.out_fd = out_pipe[0];
    io.deadline = time(NULL) + cfg_time("command_time_limit");
    fcntl(io.in_fd, F_SETFL, O_NONBLOCK);
    fcntl(io.out_fd, F_SETFL, O_NONBLOCK);
    store_filter_init(&io.filter, STORE_FILTER_CRLF);

    struct buf head = BUF_INIT;
    mbox_from_line(d->req->sender, time(NULL), &head);
    agent_leading_lines(d, ls->rcpt, &head);
    enum agent_copy_result copy_rc =
        command_write_raw(&io, head.data, head.len) == 0 ? AGENT_COPY_DONE
                                                         : AGENT_COPY_STOPPED;
    if (copy_rc == AGENT_COPY_DONE)
        copy_rc = agent_copy_content(d, command_write, &io, &err);
    buf_reset(&io.filtered);
    store_filter_finish(&io.filter, &io.filtered);
    if (copy_rc == AGENT_COPY_DONE && io.filtered.len)
        command_write_raw(&io, io.filtered.data, io.filtered.len);
    close(io.in_fd);
    buf_free(&head);

    /* Collect output and the exit status, within the time limit. */
    int status = 0, reaped = 0;
    while (!reaped) {
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid) {
            reaped = 1;
            break;
        }
        if (time(NULL) >= io.deadline || copy_rc == AGENT_COPY_QUEUE_ERROR || io.timed_out) {
            if (!io.timed_out && copy_rc != AGENT_COPY_QUEUE_ERROR)
                io.timed_out = 1;
            kill(-pid, SIGKILL);
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            reaped = 1;
            break;
        }
        struct pollfd pfd = {io.out_fd, POLLIN, 0};
        if (io.out_fd >= 0 && poll(&pfd, 1, 50) > 0)
            drain_output(&io);
        else if (io.out_fd < 0)
            usleep(10000);
    }
    while (io.out_fd >= 0) {
        struct pollfd pfd = {io.out_fd, POLLIN, 0};
        if (poll(&pfd, 1, 100) <= 0)
            break;
        drain_output(&io);
    }
    if (io.out_fd >= 0)
        close(io.out_fd);
    for (size_t k = 0; k < io.output.len; k++)
        if ((unsigned char)io.output.data[k] < 0x20)
            io.output.data[k] = ' ';

    const char *output = io.output.data ? str_trim(io.output.data) : "";
    if (copy_rc == AGENT_COPY_QUEUE_ERROR) {
        log_warn("%s: reading queue file: %s", d->req->log_ident,
                 buf_cstr(&err));
        local_outcome(ls, NULL, DELIVER_DEFERRED, "4.3.0",
                      "cannot read queue file");
    } else if (io.timed_out) {
        local_outcome(ls, NULL, DELIVER_BOUNCED, "5.3.0",
                      "Command time limit exceeded");
    } else if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        buf_appendf(&reason, "delivered to command: %s", command);
        local_outcome(ls, NULL, DELIVER_SENT, "2.0.0", buf_cstr(&reason));
    } else if (WIFEXITED(status)) {
        const char *text;
        const char *dsn = exit_dsn(WEXITSTATUS(status), &text);
        buf_appendf(&reason, "%s. Command output: %s", text,
                    output[0] ? output : "(none)");
        local_outcome(ls, NULL,
                      dsn[0] == '4' ? DELIVER_DEFERRED : DELIVER_BOUNCED, dsn,
                      buf_cstr(&reason));
    } else {
        buf_appendf(&reason, "Command died with signal %d: \"%s\"",
                    WIFSIGNALED(status) ? WTERMSIG(status) : 0, command);
        local_outcome(ls, NULL, DELIVER_DEFERRED, "4.3.0", buf_cstr(&reason));
    }
    buf_free(&io.output);
    buf_free(&io.filtered);
out_env:
    strlist_free(&env); /* the NULL last item is free()d harmlessly */
    local_privs_free(&eff);
    buf_free(&err);
    buf_free(&reason);
    buf_free(&local);
    buf_free(&domain);
}
