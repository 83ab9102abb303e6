/* master.h: shared state of the master daemon's modules.
 *
 *   master.c   options, start-up, daemon mode, the main loop
 *   service.c  the service table: built from master.cf, replaced on reload
 *   listen.c   endpoints and listening sockets (inet, unix, fifo, pass)
 *   spawn.c    children: fork/exec, status records, reaping, throttling,
 *              wakeup triggers, stopping
 *   signals.c  signal handlers that only set flags for the main loop
 *
 * master never reads a byte of mail or of the network: it binds sockets,
 * watches them only to learn that a child is needed, and hands them over
 * (master_proto.h). */
#ifndef POSTERN_MASTER_H
#define POSTERN_MASTER_H

#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include "base/buf.h"
#include "config/mastercf.h"
#include "config/mastersvc.h"
#include "base/str.h"

/* One listening descriptor. A listener belongs to one service; on reload
 * it moves to the new service whose endpoint key is the same, so the
 * socket never closes and no connection is refused. */
struct listener {
    int fd;
    char *key;   /* "inet:127.0.0.1:25", "unix:/q/private/x": identity */
    char *path;  /* unix/fifo/pass file to remove when closed, or NULL */
    char *label; /* for logs: "127.0.0.1:25", "private/x" */
};

struct child {
    pid_t pid;
    int avail;      /* counted in service->avail_count */
    int ever_taken; /* reported TAKEN or USED at least once */
    struct service *service;
    struct child *next;
};

struct service {
    /* From master.cf (and main.cf at load time). */
    char *name;
    enum mastersvc_type type;
    char *type_name;
    int private_, unpriv, chroot;
    int wakeup;         /* seconds, 0 = none */
    int wakeup_if_used; /* '?' suffix: start waking only once used */
    int maxproc;        /* 0 = unlimited */
    char *command;      /* as written, for logs */
    char *path;         /* resolved program */
    int drops_itself;   /* a Postern daemon (in daemon_directory): with
                         * unpriv = y it starts as root and drops after
                         * its pre_init (MASTER_UNPRIV_ENV) */
    struct strlist argv;
    char *file;
    int line;

    struct listener *listeners;
    size_t listener_count;

    unsigned generation;
    int status_pipe[2];   /* children write [1]; master reads [0] */
    int lifeline_pipe[2]; /* children read [0]; only master holds [1] */

    int total_count;
    int avail_count;
    int used;             /* spawned at least once */
    long long throttle_until; /* master_now() ms; 0 = not throttled */
    long long next_wakeup;    /* master_now() ms; 0 = none pending */
    int retired;           /* replaced by a reload; waiting for children */
    int disabled;          /* could not bind at reload: no children */
    int bind_pending;      /* bind failed at reload; retried each second
                              while retired children may hold the port */
    struct child *children;
    struct service *next;
};

/* Settings from main.cf that master uses. */
struct master_settings {
    char *config_dir;
    char *queue_dir;
    char *daemon_dir;
    char *mail_owner;
    char *pid_dir; /* process_id_directory, relative to queue_dir */
    struct strlist disabled_services; /* master_service_disable */
    uid_t owner_uid;
    gid_t owner_gid;
    int default_process_limit;
    int throttle_time;
    struct strlist inet_interfaces;
    int use_ipv4, use_ipv6;
    struct strlist import_env; /* NAME or NAME=value */
    int is_root;
    int verbose;
};

extern struct master_settings master_settings;
extern struct service *master_services; /* active services */
extern struct service *master_retired;  /* retired, children still alive */

/* master.c */
extern int master_stopping;
/* Milliseconds on the monotonic clock (never 0). */
long long master_now(void);
/* (Re)opens the log as main.cf says (syslog_name, maillog_file). */
void master_reopen_log(void);

/* service.c */
/* Reads main.cf and master.cf into master_settings and a new service
 * list (listeners not yet bound). Returns 0, or -1 with every problem in
 * errors (one "FILE, line N: why" each). */
int service_load(struct service **list, struct master_settings *settings,
                 struct strlist *errors);
/* Binds every listener of a list built by service_load that it has not
 * adopted yet. At start-up the first failure stops it (-1, "FILE, line N:
 * service NAME/TYPE: why" in err); at reload a service that cannot bind
 * is retried while children of the previous table live (they may hold
 * the port), else disabled until the next reload and logged. Returns 0
 * or -1. */
int service_bind_all(struct service *list, int at_start, struct buf *err);
/* Creates the pipes and schedules wakeups of a bound service. */
void service_start(struct service *service);
/* Moves a replaced service to master_retired: closes its lifeline (its
 * children finish and exit) and its remaining listeners. */
void service_retire(struct service *service);
/* Frees a service that has no children and no listeners. */
void service_free(struct service *service);
/* Frees retired services whose children have all gone. */
void service_collect_retired(void);
/* Retries binds that failed at reload; returns milliseconds to the
 * next retry, or -1 when none is pending. */
long long service_retry_binds(void);
/* Re-reads both files and replaces the service table (SIGHUP). */
void service_reload(void);

/* listen.c */
/* Works out the endpoints of a service and adopts each listener found
 * in the `old` table (may be NULL; adopted ones get fd -1 there).
 * Unless adopt_only, binds the endpoints not adopted. Reload adopts for
 * every service first, closes what is left of the old table, and only
 * then binds, so that a socket moving between services or addresses
 * (0.0.0.0:25 -> 127.0.0.1:25) never collides with its old self.
 * Returns 0, or -1 with the reason in err. */
int listen_open_service(struct service *service, struct service *old,
                        int adopt_only, struct buf *err);
/* Closes a listener and removes its socket file. */
void listen_close(struct listener *listener);

/* spawn.c */
/* True when the service's listeners should be watched: no idle child, a
 * free process slot, not throttled. */
int spawn_wants_listen(const struct service *service);
/* A listener of the service is readable: start one child. */
void spawn_child(struct service *service);
/* Reads status records from a service's pipe. */
void spawn_read_status(struct service *service);
/* Reaps every exited child (after SIGCHLD). */
void spawn_reap(void);
/* Runs due timers: throttle expiry, wakeup triggers. Returns the number
 * of milliseconds until the next one, or -1 for none. */
long long spawn_run_timers(void);
/* Sends `signo` to every child (and its process group). */
void spawn_signal_all(int signo);
/* Number of children still running, retired ones included. */
int spawn_child_count(void);
/* Forgets a child (after it was reaped), fixing its service's counts. */
void spawn_forget(struct child *child);

/* signals.c */
extern volatile sig_atomic_t signal_got_hup, signal_got_term,
    signal_got_chld;
extern volatile sig_atomic_t signal_term_number;
/* Installs handlers and blocks the signals outside ppoll; `mask` gets
 * the mask to wait with. */
void signals_init(sigset_t *wait_mask);
/* Restores default handlers and an empty mask (in a child before exec). */
void signals_reset_for_child(void);

#endif
