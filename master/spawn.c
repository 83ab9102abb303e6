/* spawn.c: master's children.
 *
 * Children are started on demand. While a service has no idle child (and
 * a free process slot, and is not throttled) master watches its
 * listeners; when one becomes readable it starts one child, counts it as
 * idle, and stops watching until the child reports TAKEN over the status
 * pipe. The child accepts the connection itself.
 *
 * A child that exits abnormally before it ever reported TAKEN failed at
 * start-up (bad configuration, missing library, crash in init). Starting
 * it again at once would only spin, so its service is throttled for
 * service_throttle_time, as in Postfix. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/fd_close.h"
#include "base/log.h"
#include "master.h"
#include "ipc/master_proto.h"
#include "base/mem.h"
#include "base/privs.h"

int spawn_wants_listen(const struct service *service)
{
    return !master_stopping && !service->retired && !service->disabled &&
           !service->bind_pending &&
           service->listener_count > 0 && service->avail_count == 0 &&
           (service->maxproc == 0 ||
            service->total_count < service->maxproc) &&
           service->throttle_until == 0;
}

static void throttle(struct service *service, const char *why)
{
    if (service->throttle_until)
        return;
    service->throttle_until =
        master_now() + master_settings.throttle_time * 1000LL;
    log_warn("%s: %s -- service %s (%s) is throttled for %d seconds",
             service->path, why, service->name, service->type_name,
             master_settings.throttle_time);
}

/* ---- in the child, between fork and exec ---- */

static void child_fail(const char *what)
{
    log_error("%s: %s", what, strerror(errno));
    _exit(1);
}

/* Puts the status pipe, the lifeline and the listeners at the numbers
 * master_proto.h promises, and closes everything else. Sources are first
 * copied above the target range so no dup2 overwrites a source. */
static void child_setup_fds(struct service *service)
{
    size_t count = service->listener_count;
    int high = MASTER_LISTEN_FD + (int)count + 1;
    int *moved = xcalloc(count + 2, sizeof(int));
    int sources[2] = {service->status_pipe[1], service->lifeline_pipe[0]};
    for (size_t i = 0; i < count + 2; i++) {
        int src = i < 2 ? sources[i] : service->listeners[i - 2].fd;
        moved[i] = fcntl(src, F_DUPFD_CLOEXEC, high);
        if (moved[i] < 0)
            child_fail("dup");
    }
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull < 0 || dup2(devnull, STDIN_FILENO) < 0)
        child_fail("open /dev/null");
    if (devnull != STDIN_FILENO)
        close(devnull);
    if (dup2(moved[0], MASTER_STATUS_FD) < 0 ||
        dup2(moved[1], MASTER_LIFELINE_FD) < 0)
        child_fail("dup2");
    for (size_t i = 0; i < count; i++)
        if (dup2(moved[i + 2], MASTER_LISTEN_FD + (int)i) < 0)
            child_fail("dup2");
    /* Everything of master's is close-on-exec already; this catches
     * anything a library left open (the high copies are cloexec too).
     * Marking rather than closing keeps the log file usable until exec,
     * so an exec failure is still logged. */
    fd_cloexec_from(MASTER_LISTEN_FD + (int)count);
    free(moved);
}

static char **child_environment(struct service *service)
{
    struct strlist env;
    strlist_init(&env);
    const struct strlist *import = &master_settings.import_env;
    for (size_t i = 0; i < import->count; i++) {
        const char *item = import->items[i];
        if (strchr(item, '=')) {
            strlist_add(&env, item);
        } else {
            const char *value = getenv(item);
            if (value) {
                char *pair = xasprintf("%s=%s", item, value);
                strlist_add(&env, pair);
                free(pair);
            }
        }
    }
    char *pair = xasprintf("%s=%zu", MASTER_LISTEN_COUNT_ENV,
                           service->listener_count);
    strlist_add(&env, pair);
    free(pair);
    pair = xasprintf("%s=%u", MASTER_GENERATION_ENV, service->generation);
    strlist_add(&env, pair);
    free(pair);
    if (master_settings.is_root && service->chroot) {
        pair = xasprintf("%s=%s", MASTER_CHROOT_ENV, master_settings.queue_dir);
        strlist_add(&env, pair);
        free(pair);
    }
    if (master_settings.is_root && service->unpriv &&
        (service->chroot || service->drops_itself)) {
        pair = xasprintf("%s=%lu:%lu", MASTER_UNPRIV_ENV,
                         (unsigned long)master_settings.owner_uid,
                         (unsigned long)master_settings.owner_gid);
        strlist_add(&env, pair);
        free(pair);
    }
    return env.items; /* a strlist is always NULL-terminated */
}

/* An unprivileged service whose program is not one of ours (a command
 * given with a path, outside daemon_directory) and has no chroot drops
 * here, before exec: nothing says it would drop by itself. Our daemons
 * get MASTER_UNPRIV_ENV instead and drop after their pre_init, once they
 * have read what only root may read (smtpd's TLS key), as Postfix's do
 * (lib/ipc/server.c). */
static void child_drop_privileges(void)
{
    struct buf err = BUF_INIT;
    if (privs_drop_ids(master_settings.owner_uid, master_settings.owner_gid,
                       NULL, &err) == PRIVS_DROP_FAILED) {
        log_error("%s", buf_cstr(&err));
        _exit(1);
    }
    buf_free(&err);
}

static void child_exec(struct service *service)
{
    signals_reset_for_child();
    /* Own process group: stopping the suite signals the group, which
     * reaches whatever the child started (a pipe delivery, say). */
    setpgid(0, 0);
    child_setup_fds(service);
    char **envp = child_environment(service);
    if (master_settings.is_root && service->unpriv && !service->chroot &&
        !service->drops_itself)
        child_drop_privileges();
    execve(service->path, service->argv.items, envp);
    log_error("exec %s: %s", service->path, strerror(errno));
    _exit(1);
}

/* ---- in master ---- */

void spawn_child(struct service *service)
{
    pid_t pid = fork();
    if (pid < 0) {
        log_warn("fork: %s", strerror(errno));
        throttle(service, "cannot fork");
        return;
    }
    if (pid == 0)
        child_exec(service);
    setpgid(pid, pid); /* either side may win the race; both ask */
    struct child *child = xcalloc(1, sizeof(*child));
    child->pid = pid;
    child->avail = 1;
    child->service = service;
    child->next = service->children;
    service->children = child;
    service->total_count++;
    service->avail_count++;
    if (!service->used && service->wakeup_if_used && service->wakeup > 0)
        service->next_wakeup = master_now() + service->wakeup * 1000LL;
    service->used = 1;
    log_debug("service %s: started %s pid %ld", service->name, service->path,
              (long)pid);
}

static struct child *find_child(struct service *service, pid_t pid)
{
    for (struct child *c = service->children; c; c = c->next)
        if (c->pid == pid)
            return c;
    return NULL;
}

void spawn_read_status(struct service *service)
{
    struct master_status records[64];
    for (;;) {
        ssize_t got = read(service->status_pipe[0], records, sizeof(records));
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            return; /* EAGAIN: drained */
        if (got == 0) {
            /* Only a retired service's pipe has no writer left. */
            close(service->status_pipe[0]);
            service->status_pipe[0] = -1;
            return;
        }
        /* Writes of whole records are atomic, so a partial one is a
         * broken child; drop it rather than resynchronise on garbage. */
        if (got % (ssize_t)sizeof(records[0]) != 0)
            log_warn("service %s: dropping a partial status record",
                     service->name);
        for (ssize_t i = 0; i < got / (ssize_t)sizeof(records[0]); i++) {
            struct master_status *rec = &records[i];
            struct child *child = find_child(service, rec->pid);
            if (!child) {
                log_warn("service %s: status from unknown process %ld",
                         service->name, (long)rec->pid);
                continue;
            }
            if (rec->generation != service->generation)
                continue; /* stale: from before a reload */
            if (rec->status == MASTER_STAT_TAKEN) {
                child->ever_taken = 1;
                if (child->avail) {
                    child->avail = 0;
                    service->avail_count--;
                }
            } else if (rec->status == MASTER_STAT_USED) {
                child->ever_taken = 1;
            } else if (rec->status == MASTER_STAT_AVAIL) {
                if (!child->avail) {
                    child->avail = 1;
                    service->avail_count++;
                }
            } else {
                log_warn("service %s: process %ld sent unknown status %d",
                         service->name, (long)rec->pid, rec->status);
            }
        }
        if ((size_t)got < sizeof(records))
            return;
    }
}

void spawn_forget(struct child *child)
{
    struct service *service = child->service;
    for (struct child **link = &service->children; *link;
         link = &(*link)->next) {
        if (*link == child) {
            *link = child->next;
            break;
        }
    }
    service->total_count--;
    if (child->avail)
        service->avail_count--;
    free(child);
}

static struct child *find_anywhere(pid_t pid)
{
    struct service *lists[2] = {master_services, master_retired};
    for (int l = 0; l < 2; l++)
        for (struct service *s = lists[l]; s; s = s->next) {
            struct child *c = find_child(s, pid);
            if (c)
                return c;
        }
    return NULL;
}

/* A wakeup service (qmgr, pickup) that lost its last process gets its
 * wakeup at once instead of at the next tick (qmgr's is 300 s away), so
 * a new process starts now; a throttled service gets it when the
 * throttle lifts (spawn_run_timers). A `N?` service (flush) is replaced
 * at once only after an abnormal exit: its processes leave on their own
 * after max_idle, and waking it then would start one for nothing. */
static void replace_wakeup_service(struct service *service, int normal)
{
    if (service->wakeup <= 0 || service->total_count > 0 ||
        service->retired || service->disabled || master_stopping ||
        !service->next_wakeup)
        return;
    if (service->wakeup_if_used && normal)
        return;
    log_debug("service %s: no process left: waking it now", service->name);
    service->next_wakeup = master_now();
}

void spawn_reap(void)
{
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        struct child *child = find_anywhere(pid);
        if (!child)
            continue;
        struct service *service = child->service;
        int normal = WIFEXITED(status) && WEXITSTATUS(status) == 0;
        if (WIFEXITED(status) && !normal)
            log_warn("process %s pid %ld exit status %d", service->path,
                     (long)pid, WEXITSTATUS(status));
        else if (WIFSIGNALED(status) && !master_stopping)
            log_warn("process %s pid %ld killed by signal %d", service->path,
                     (long)pid, WTERMSIG(status));
        if (!normal && !child->ever_taken && !service->retired &&
            !master_stopping)
            throttle(service, "bad command startup");
        spawn_forget(child);
        replace_wakeup_service(service, normal);
    }
    service_collect_retired();
}

/* Wakes a trigger service: connect and write one byte; the child that
 * master starts for the connection reads it. Never blocks. */
static void trigger(struct service *service)
{
    if (service->listener_count == 0)
        return;
    struct listener *l = &service->listeners[0];
    char wake = MASTER_TRIGGER_WAKEUP;
    if (service->type == MASTERSVC_FIFO) {
        /* master holds the fifo open read-write, so it can write to it. */
        if (write(l->fd, &wake, 1) < 0 && errno != EAGAIN)
            log_warn("trigger %s: %s", l->label, strerror(errno));
        return;
    }
    int socktype =
        service->type == MASTERSVC_UNIX_DGRAM ? SOCK_DGRAM : SOCK_STREAM;
    int fd = socket(AF_UNIX, socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        log_warn("trigger %s: socket: %s", l->label, strerror(errno));
        return;
    }
    struct sockaddr_un sun;
    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    str_copy(sun.sun_path, l->path, sizeof(sun.sun_path));
    if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0)
        log_warn("trigger %s: connect: %s", l->label, strerror(errno));
    else if (write(fd, &wake, 1) < 0)
        log_warn("trigger %s: write: %s", l->label, strerror(errno));
    close(fd);
}

long long spawn_run_timers(void)
{
    long long now = master_now();
    long long next = -1;
    for (struct service *s = master_services; s; s = s->next) {
        if (s->throttle_until && now >= s->throttle_until) {
            s->throttle_until = 0;
            log_debug("service %s: throttle lifted", s->name);
        }
        if (s->next_wakeup && now >= s->next_wakeup) {
            if (!s->throttle_until && !s->disabled && !s->bind_pending) {
                trigger(s);
                s->next_wakeup = now + s->wakeup * 1000LL;
            } else if (s->throttle_until) {
                /* Due while throttled: wake it when the throttle lifts,
                 * not a whole wakeup period later. */
                s->next_wakeup = s->throttle_until;
            } else {
                s->next_wakeup = now + s->wakeup * 1000LL;
            }
        }
        long long due[2] = {s->throttle_until, s->next_wakeup};
        for (int i = 0; i < 2; i++)
            if (due[i] && (next < 0 || due[i] - now < next))
                next = due[i] - now;
    }
    return next;
}

void spawn_signal_all(int signo)
{
    struct service *lists[2] = {master_services, master_retired};
    for (int l = 0; l < 2; l++)
        for (struct service *s = lists[l]; s; s = s->next)
            for (struct child *c = s->children; c; c = c->next)
                if (kill(-c->pid, signo) < 0)
                    kill(c->pid, signo);
}

int spawn_child_count(void)
{
    int count = 0;
    struct service *lists[2] = {master_services, master_retired};
    for (int l = 0; l < 2; l++)
        for (struct service *s = lists[l]; s; s = s->next)
            count += s->total_count;
    return count;
}
