/* master.c: the Postern master daemon.
 *
 *   master [-c DIR] [-d] [-w] [-v]
 *     -c DIR  configuration directory (else $MAIL_CONFIG, else the
 *             compiled-in default)
 *     -d      stay in the foreground (systemd, tests, `postern start-fg`)
 *     -w      daemon mode: the starting process waits until master holds
 *             the queue lock and every listener is bound, then exits 0,
 *             or 1 after the reason was printed on stderr
 *     -v      verbose logging, also passed to every child
 *
 * Start-up: read main.cf and master.cf (nothing happens on any error),
 * take the lock on $queue_directory/pid/master.pid, bind every listener,
 * then loop: start children on demand, read their status, reap them,
 * wake trigger services, reload on SIGHUP, stop everything on SIGTERM.
 * See master.h for the modules. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "config/config.h"
#include "base/log.h"
#include "master.h"
#include "base/mem.h"
#include "base/pidlock.h"

/* How long children get to exit after SIGTERM before SIGKILL. */
#define MASTER_STOP_GRACE_SECONDS 5

struct master_settings master_settings;
int master_stopping;

long long master_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    /* +1 so that 0 can mean "no deadline" even right after boot. */
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + 1;
}

/* Warnings from reading main.cf (unused parameters, expansion
 * problems). master is the one process that reports unused parameters
 * (daemons read main.cf quietly). The first load happens before the
 * mail log is open, so its warnings wait and are logged once it is
 * (start-up also copies them to the terminal of whoever started us). */
static struct strlist held_warnings;
static int log_ready;

static void config_warning(const char *message)
{
    if (log_ready)
        log_warn("%s", message);
    else
        strlist_add(&held_warnings, message);
}

static void flush_config_warnings(void)
{
    for (size_t i = 0; i < held_warnings.count; i++)
        log_warn("%s", held_warnings.items[i]);
    strlist_free(&held_warnings);
    strlist_init(&held_warnings);
}

void master_reopen_log(void)
{
    log_set_syslog_name(cfg_str("syslog_name"));
    log_open(cfg_str("maillog_file"), cfg_str("syslog_facility"));
    log_ready = 1;
    flush_config_warnings();
}

static void usage(void)
{
    fprintf(stderr, "usage: master [-c config_dir] [-d] [-w] [-v]\n");
    exit(2);
}

/* The -w handshake: the daemon writes one byte when it is up; EOF
 * without it means it died, after printing why on the shared stderr. */
static int ready_fd = -1;

static void daemonize(int wait_for_ready)
{
    int fds[2];
    if (wait_for_ready && pipe2(fds, O_CLOEXEC) < 0)
        log_fatal("pipe: %s", strerror(errno));
    pid_t pid = fork();
    if (pid < 0)
        log_fatal("fork: %s", strerror(errno));
    if (pid > 0) {
        if (!wait_for_ready)
            _exit(0);
        close(fds[1]);
        char byte;
        ssize_t got;
        do
            got = read(fds[0], &byte, 1);
        while (got < 0 && errno == EINTR);
        _exit(got == 1 ? 0 : 1);
    }
    if (wait_for_ready) {
        close(fds[0]);
        ready_fd = fds[1];
    }
    if (setsid() < 0)
        log_fatal("setsid: %s", strerror(errno));
}

static void report_ready(int daemon_mode)
{
    if (ready_fd >= 0) {
        (void)!write(ready_fd, "y", 1);
        close(ready_fd);
        ready_fd = -1;
    }
    log_also_stderr(0);
    if (daemon_mode) {
        int fd = open("/dev/null", O_RDWR);
        if (fd >= 0) {
            dup2(fd, STDIN_FILENO);
            dup2(fd, STDOUT_FILENO);
            dup2(fd, STDERR_FILENO);
            if (fd > STDERR_FILENO)
                close(fd);
        }
    }
}

static int take_lock(void)
{
    struct buf err = BUF_INIT;
    buf_init(&err);
    char *path = xasprintf("%s/%s/master.pid", master_settings.queue_dir,
                           master_settings.pid_dir);
    pid_t holder = 0;
    int fd = pidlock_acquire(path, &holder, &err);
    if (fd == PIDLOCK_HELD)
        log_fatal("the Postern mail system is already running (master pid "
                  "%ld holds %s)", (long)holder, path);
    if (fd < 0)
        log_fatal("%s (does the queue directory exist? run postern check)",
                  buf_cstr(&err));
    free(path);
    buf_free(&err);
    return fd;
}

static void note_privileges(void)
{
    if (master_settings.is_root)
        return;
    struct passwd *pw = getpwuid(getuid());
    log_info("not running as root: every service runs as %s (uid %ld); "
             "the unpriv and chroot columns of master.cf and mail_owner "
             "are not used",
             pw ? pw->pw_name : "?", (long)getuid());
}

/* One poll slot: either a service's status pipe or one of its
 * listeners. */
struct slot {
    struct service *service;
    int is_listener;
};

static void watch(struct pollfd **fds, struct slot **slots, size_t *count,
                  size_t *cap, int fd, struct service *service, int listener)
{
    if (*count == *cap) {
        *cap = *cap ? *cap * 2 : 32;
        *fds = xreallocarray(*fds, *cap, sizeof(**fds));
        *slots = xreallocarray(*slots, *cap, sizeof(**slots));
    }
    (*fds)[*count].fd = fd;
    (*fds)[*count].events = POLLIN;
    (*fds)[*count].revents = 0;
    (*slots)[*count].service = service;
    (*slots)[*count].is_listener = listener;
    (*count)++;
}

static void main_loop(const sigset_t *wait_mask)
{
    struct pollfd *fds = NULL;
    struct slot *slots = NULL;
    size_t cap = 0;
    long long kill_at = 0;
    int killed = 0;

    for (;;) {
        if (signal_got_chld) {
            signal_got_chld = 0;
            spawn_reap();
        }
        if (signal_got_term && !master_stopping) {
            log_info("terminating on signal %d", (int)signal_term_number);
            master_stopping = 1;
            /* Lifelines first: a child between requests exits at once
             * and cleanly; SIGTERM then covers busy and stuck ones. */
            for (struct service *s = master_services; s; s = s->next) {
                close(s->lifeline_pipe[1]);
                s->lifeline_pipe[1] = -1;
                s->next_wakeup = 0;
            }
            spawn_signal_all(SIGTERM);
            kill_at = master_now() + MASTER_STOP_GRACE_SECONDS * 1000LL;
        }
        if (signal_got_hup) {
            signal_got_hup = 0;
            if (!master_stopping)
                service_reload();
        }
        long long timeout = -1;
        if (master_stopping) {
            if (spawn_child_count() == 0)
                break;
            if (!killed && master_now() >= kill_at) {
                log_warn("children did not stop within %d seconds; killing "
                         "them", MASTER_STOP_GRACE_SECONDS);
                spawn_signal_all(SIGKILL);
                killed = 1;
            } else if (killed && master_now() >= kill_at +
                                                     MASTER_STOP_GRACE_SECONDS *
                                                         1000LL) {
                /* Only a process stuck in the kernel survives SIGKILL;
                 * waiting for it forever would keep the lock too. */
                log_error("%d children survive SIGKILL; exiting anyway",
                          spawn_child_count());
                break;
            }
            timeout = killed ? 100 : kill_at - master_now();
            if (timeout < 0)
                timeout = 0;
        } else {
            timeout = spawn_run_timers();
            long long retry = service_retry_binds();
            if (retry >= 0 && (timeout < 0 || retry < timeout))
                timeout = retry;
        }

        size_t count = 0;
        struct service *lists[2] = {master_services, master_retired};
        for (int l = 0; l < 2; l++)
            for (struct service *s = lists[l]; s; s = s->next) {
                if (s->status_pipe[0] >= 0)
                    watch(&fds, &slots, &count, &cap, s->status_pipe[0], s, 0);
                if (l == 0 && spawn_wants_listen(s))
                    for (size_t i = 0; i < s->listener_count; i++)
                        watch(&fds, &slots, &count, &cap,
                              s->listeners[i].fd, s, 1);
            }
        struct timespec ts = {timeout < 0 ? 0 : (time_t)(timeout / 1000),
                              timeout < 0 ? 0 : (long)(timeout % 1000) * 1000000};
        int ready = ppoll(fds, count, timeout < 0 ? NULL : &ts, wait_mask);
        if (ready < 0) {
            if (errno != EINTR)
                log_fatal("ppoll: %s", strerror(errno));
            continue;
        }
        /* Status first: a TAKEN report and a readable listener in the
         * same round must not start a child that is not needed. */
        for (size_t i = 0; i < count; i++)
            if (!slots[i].is_listener && fds[i].revents)
                spawn_read_status(slots[i].service);
        for (size_t i = 0; i < count; i++)
            if (slots[i].is_listener && fds[i].revents &&
                spawn_wants_listen(slots[i].service))
                spawn_child(slots[i].service);
    }
    free(fds);
    free(slots);
}

int main(int argc, char **argv)
{
    const char *config_dir = NULL;
    int foreground = 0, wait_for_ready = 0, verbose = 0;
    int opt;

    log_set_program("master");
    while ((opt = getopt(argc, argv, "c:dwv")) != -1) {
        switch (opt) {
        case 'c':
            config_dir = optarg;
            break;
        case 'd':
            foreground = 1;
            break;
        case 'w':
            wait_for_ready = 1;
            break;
        case 'v':
            verbose++;
            break;
        default:
            usage();
        }
    }
    if (optind != argc)
        usage();
    umask(022);
    log_set_verbose(verbose);

    /* The daemon changes directory, so a relative -c must be made
     * absolute while it still means what the user meant. */
    config_dir = config_resolve_dir(config_dir);
    char absolute[PATH_MAX];
    if (!realpath(config_dir, absolute))
        log_fatal("configuration directory %s: %s", config_dir,
                  strerror(errno));
    master_settings.config_dir = xstrdup(absolute);
    master_settings.verbose = verbose;

    struct strlist errors;
    strlist_init(&errors);
    strlist_init(&held_warnings);
    config_set_warning_handler(config_warning);
    config_set_unused_warnings(1);
    if (service_load(&master_services, &master_settings, &errors) < 0) {
        flush_config_warnings(); /* to stderr: the log is not open */
        for (size_t i = 0; i + 1 < errors.count; i++)
            log_error("%s", errors.items[i]);
        log_fatal("%s", errors.count ? errors.items[errors.count - 1]
                                     : "configuration error");
    }
    strlist_free(&errors);

    /* Until start-up is complete, problems also go to the terminal of
     * whoever started us: in daemon mode that is the only way the -w
     * parent can say why the start failed. */
    log_also_stderr(1);
    master_reopen_log();

    /* Before anything else can go wrong: a SIGHUP or SIGTERM during
     * start-up must be held for the main loop, not kill us by default. */
    sigset_t wait_mask;
    signals_init(&wait_mask);

    if (!foreground)
        daemonize(wait_for_ready);
    int lock_fd = take_lock();
    if (chdir(master_settings.queue_dir) < 0)
        log_fatal("chdir %s: %s", master_settings.queue_dir, strerror(errno));

    struct buf err = BUF_INIT;
    buf_init(&err);
    if (service_bind_all(master_services, 1, &err) < 0)
        log_fatal("%s", buf_cstr(&err));
    buf_free(&err);
    for (struct service *s = master_services; s; s = s->next)
        service_start(s);

    report_ready(!foreground);
    log_info("daemon started -- version %s, configuration %s",
             POSTERN_VERSION, master_settings.config_dir);
    note_privileges();

    main_loop(&wait_mask);

    while (master_services) {
        struct service *next = master_services->next;
        service_free(master_services);
        master_services = next;
    }
    service_collect_retired();
    log_info("stopped");
    close(lock_fd);
    return 0;
}
