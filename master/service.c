/* service.c: master's service table.
 *
 * service_load() turns main.cf and master.cf into a list of services;
 * nothing is bound or started there, so a configuration with errors
 * changes nothing. At start the list is bound and started; on SIGHUP a
 * new list replaces the old one:
 *   1. every new service adopts the open listeners of the old table with
 *      the same endpoint (so a socket whose line did not change, or whose
 *      address did not, is never closed and no connection is refused);
 *   2. every old service is retired: its lifeline is closed, so its
 *      children finish what they are doing and exit, and its listeners
 *      that no new service adopted are closed;
 *   3. new endpoints are bound, and new services start.
 * All children are renewed on reload, as in Postfix, so they pick up
 * main.cf changes. */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "base/log.h"
#include "master.h"
#include "base/mem.h"

struct service *master_services;
struct service *master_retired;
static unsigned next_generation = 1;

static void add_error(struct strlist *errors, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void add_error(struct strlist *errors, const char *fmt, ...)
{
    struct buf text = BUF_INIT;
    buf_init(&text);
    va_list ap;
    va_start(ap, fmt);
    buf_vappendf(&text, fmt, ap);
    va_end(ap);
    strlist_add(errors, buf_cstr(&text));
    buf_free(&text);
}

static void settings_free(struct master_settings *settings)
{
    free(settings->config_dir);
    free(settings->queue_dir);
    free(settings->daemon_dir);
    free(settings->mail_owner);
    free(settings->pid_dir);
    strlist_free(&settings->disabled_services);
    strlist_free(&settings->inet_interfaces);
    strlist_free(&settings->import_env);
    memset(settings, 0, sizeof(*settings));
}

static int load_settings(struct master_settings *settings,
                         struct strlist *errors)
{
    const char *main_cf = settings->config_dir;
    settings->queue_dir = xstrdup(cfg_str("queue_directory"));
    settings->daemon_dir = xstrdup(cfg_str("daemon_directory"));
    settings->mail_owner = xstrdup(cfg_str("mail_owner"));
    settings->pid_dir = xstrdup(cfg_str("process_id_directory"));
    settings->default_process_limit = (int)cfg_int("default_process_limit");
    settings->throttle_time = (int)cfg_time("service_throttle_time");
    cfg_list("inet_interfaces", &settings->inet_interfaces);
    cfg_list("import_environment", &settings->import_env);
    cfg_list("master_service_disable", &settings->disabled_services);
    settings->is_root = geteuid() == 0;
    int problems = 0;

    if (settings->queue_dir[0] != '/') {
        add_error(errors, "%s/main.cf: queue_directory must be an absolute "
                          "path, not \"%s\"", main_cf, settings->queue_dir);
        problems++;
    }
    if (settings->daemon_dir[0] != '/') {
        add_error(errors, "%s/main.cf: daemon_directory must be an absolute "
                          "path, not \"%s\"", main_cf, settings->daemon_dir);
        problems++;
    }
    if (settings->default_process_limit < 1) {
        add_error(errors, "%s/main.cf: default_process_limit must be at "
                          "least 1", main_cf);
        problems++;
    }
    if (settings->throttle_time < 1)
        settings->throttle_time = 1;
    if (settings->inet_interfaces.count == 0)
        strlist_add(&settings->inet_interfaces, "all");

    struct strlist protocols;
    strlist_init(&protocols);
    cfg_list("inet_protocols", &protocols);
    for (size_t i = 0; i < protocols.count; i++) {
        const char *p = protocols.items[i];
        if (strcmp(p, "all") == 0)
            settings->use_ipv4 = settings->use_ipv6 = 1;
        else if (strcmp(p, "ipv4") == 0)
            settings->use_ipv4 = 1;
        else if (strcmp(p, "ipv6") == 0)
            settings->use_ipv6 = 1;
        else {
            add_error(errors, "%s/main.cf: inet_protocols: unknown protocol "
                              "\"%s\" (all, ipv4 or ipv6)", main_cf, p);
            problems++;
        }
    }
    if (protocols.count == 0)
        settings->use_ipv4 = settings->use_ipv6 = 1;
    strlist_free(&protocols);

    if (settings->is_root) {
        struct passwd *pw = getpwnam(settings->mail_owner);
        if (!pw) {
            add_error(errors, "%s/main.cf: mail_owner: unknown user \"%s\"",
                      main_cf, settings->mail_owner);
            problems++;
        } else if (pw->pw_uid == 0) {
            add_error(errors, "%s/main.cf: mail_owner \"%s\" must not be a "
                              "privileged account (uid 0)",
                      main_cf, settings->mail_owner);
            problems++;
        } else {
            settings->owner_uid = pw->pw_uid;
            settings->owner_gid = pw->pw_gid;
        }
    } else {
        settings->owner_uid = getuid();
        settings->owner_gid = getgid();
    }
    return problems ? -1 : 0;
}

static struct service *service_from_entry(const struct master_entry *entry,
                                          const struct master_settings *settings)
{
    struct service *s = xcalloc(1, sizeof(*s));
    s->name = xstrdup(entry->service);
    s->type = mastersvc_type(entry->type);
    s->type_name = xstrdup(entry->type);
    s->private_ = entry->private_;
    s->unpriv = entry->unpriv;
    s->chroot = entry->chroot;
    s->wakeup = entry->wakeup;
    s->wakeup_if_used = entry->wakeup_if_used;
    s->maxproc = entry->maxproc < 0 ? settings->default_process_limit
                                    : entry->maxproc;
    s->command = xstrdup(entry->command);
    s->path = mastersvc_command_path(entry->command, settings->daemon_dir);
    s->drops_itself = strchr(entry->command, '/') == NULL;
    s->file = xstrdup(entry->file);
    s->line = entry->line;
    if (s->wakeup > 0 && s->type != MASTERSVC_UNIX &&
        s->type != MASTERSVC_UNIX_DGRAM && s->type != MASTERSVC_FIFO) {
        log_warn("%s, line %d: wakeup is supported for unix, unix-dgram and "
                 "fifo services only; ignored for %s/%s",
                 s->file, s->line, s->name, s->type_name);
        s->wakeup = 0;
    }
    strlist_init(&s->argv);
    strlist_add(&s->argv, entry->command);
    strlist_add(&s->argv, "-c");
    strlist_add(&s->argv, settings->config_dir);
    strlist_add(&s->argv, "-n");
    strlist_add(&s->argv, entry->service);
    strlist_add(&s->argv, "-t");
    strlist_add(&s->argv, entry->type);
    if (settings->verbose)
        strlist_add(&s->argv, "-v");
    for (size_t i = 0; i < entry->args.count; i++)
        strlist_add(&s->argv, entry->args.items[i]);
    s->status_pipe[0] = s->status_pipe[1] = -1;
    s->lifeline_pipe[0] = s->lifeline_pipe[1] = -1;
    return s;
}

/* master_service_disable: "type" or "name/type" items, as in Postfix. */
static int service_disabled_by_admin(const struct master_entry *entry,
                                     const struct master_settings *settings)
{
    const struct strlist *off = &settings->disabled_services;
    for (size_t i = 0; i < off->count; i++) {
        const char *item = off->items[i];
        const char *slash = strrchr(item, '/');
        if (!slash) {
            if (strcmp(item, entry->type) == 0)
                return 1;
        } else if (strcmp(slash + 1, entry->type) == 0 &&
                   strlen(entry->service) == (size_t)(slash - item) &&
                   strncmp(item, entry->service, (size_t)(slash - item)) == 0) {
            return 1;
        }
    }
    return 0;
}

static void free_list(struct service *list)
{
    while (list) {
        struct service *next = list->next;
        service_free(list);
        list = next;
    }
}

int service_load(struct service **list, struct master_settings *settings,
                 struct strlist *errors)
{
    struct buf err = BUF_INIT;
    buf_init(&err);
    *list = NULL;
    if (config_load(settings->config_dir, &err) < 0) {
        strlist_add(errors, buf_cstr(&err));
        buf_free(&err);
        return -1;
    }
    /* The typed getters are fatal on a bad value; a reload must log and
     * carry on instead, so every value is checked before any is used. */
    buf_set_str(&err, "");
    if (config_check(&err) > 0) {
        struct strlist lines;
        strlist_init(&lines);
        str_split_chars(buf_cstr(&err), "\n", &lines);
        for (size_t i = 0; i < lines.count; i++)
            strlist_add(errors, lines.items[i]);
        strlist_free(&lines);
        buf_free(&err);
        return -1;
    }
    int result = load_settings(settings, errors);

    char *path = xasprintf("%s/master.cf", settings->config_dir);
    struct master_entry *entries = NULL;
    size_t count = 0;
    if (mastercf_load(path, &entries, &count, &err) < 0) {
        strlist_add(errors, buf_cstr(&err));
        result = -1;
    } else if (mastersvc_check(entries, count,
                               result == 0 ? settings->daemon_dir : NULL,
                               errors) > 0) {
        result = -1;
    }
    free(path);
    buf_free(&err);

    struct service **tail = list;
    for (size_t i = 0; result == 0 && i < count; i++) {
        if (service_disabled_by_admin(&entries[i], settings))
            continue;
        *tail = service_from_entry(&entries[i], settings);
        tail = &(*tail)->next;
    }
    mastercf_free(entries, count);
    if (result < 0) {
        free_list(*list);
        *list = NULL;
    }
    return result;
}

static void make_pipe(int fds[2], int nonblock_read)
{
    if (pipe2(fds, O_CLOEXEC) < 0)
        log_fatal("pipe: %s", strerror(errno));
    if (nonblock_read)
        fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK);
}

void service_start(struct service *service)
{
    service->generation = next_generation++;
    make_pipe(service->status_pipe, 1);
    make_pipe(service->lifeline_pipe, 0);
    /* Trigger services get their first wakeup at once (so qmgr-like
     * services run from the start), then every `wakeup` seconds; the '?'
     * form waits until the service is first used. */
    if (service->wakeup > 0 && !service->wakeup_if_used)
        service->next_wakeup = master_now();
}

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

static void close_listeners(struct service *service)
{
    for (size_t i = 0; i < service->listener_count; i++)
        listen_close(&service->listeners[i]);
    free(service->listeners);
    service->listeners = NULL;
    service->listener_count = 0;
}

void service_retire(struct service *service)
{
    service->retired = 1;
    service->next_wakeup = 0;
    service->throttle_until = 0;
    close_listeners(service);
    /* EOF on the lifeline tells this generation's children to finish the
     * work in hand and exit. */
    close_fd(&service->lifeline_pipe[1]);
    close_fd(&service->lifeline_pipe[0]);
    close_fd(&service->status_pipe[1]);
    if (service->total_count == 0) {
        service_free(service);
        return;
    }
    service->next = master_retired;
    master_retired = service;
}

void service_free(struct service *service)
{
    close_listeners(service);
    close_fd(&service->lifeline_pipe[1]);
    close_fd(&service->lifeline_pipe[0]);
    close_fd(&service->status_pipe[1]);
    close_fd(&service->status_pipe[0]);
    while (service->children) {
        struct child *next = service->children->next;
        free(service->children);
        service->children = next;
    }
    free(service->name);
    free(service->type_name);
    free(service->command);
    free(service->path);
    free(service->file);
    strlist_free(&service->argv);
    free(service);
}

void service_collect_retired(void)
{
    struct service **link = &master_retired;
    while (*link) {
        struct service *s = *link;
        if (s->total_count == 0) {
            *link = s->next;
            service_free(s);
        } else {
            link = &s->next;
        }
    }
}

static int retired_children(void)
{
    int count = 0;
    for (struct service *s = master_retired; s; s = s->next)
        count += s->total_count;
    return count;
}

static void disable(struct service *s, const char *why)
{
    log_error("%s, line %d: service %s/%s: %s; service disabled until the "
              "next reload",
              s->file, s->line, s->name, s->type_name, why);
    close_listeners(s);
    s->disabled = 1;
}

int service_bind_all(struct service *list, int at_start, struct buf *err)
{
    int result = 0;
    for (struct service *s = list; s; s = s->next) {
        buf_set_str(err, "");
        if (listen_open_service(s, NULL, 0, err) < 0) {
            if (at_start) {
                struct buf full = BUF_INIT;
                buf_init(&full);
                buf_appendf(&full, "%s, line %d: service %s/%s: %s", s->file,
                            s->line, s->name, s->type_name, buf_cstr(err));
                buf_set_str(err, buf_cstr(&full));
                buf_free(&full);
                return -1;
            }
            if (retired_children() > 0) {
                /* Typically 0.0.0.0:25 -> 127.0.0.1:25: a retired child
                 * still holds the old socket, which goes away when that
                 * child has finished its work and exited. */
                log_warn("%s, line %d: service %s/%s: %s; retrying while "
                         "the previous generation's children exit",
                         s->file, s->line, s->name, s->type_name,
                         buf_cstr(err));
                s->bind_pending = 1;
            } else {
                disable(s, buf_cstr(err));
            }
            result = -1;
        }
    }
    return result;
}

long long service_retry_binds(void)
{
    long long next = -1;
    struct buf err = BUF_INIT;
    buf_init(&err);
    for (struct service *s = master_services; s; s = s->next) {
        if (!s->bind_pending)
            continue;
        buf_set_str(&err, "");
        if (listen_open_service(s, NULL, 0, &err) == 0) {
            s->bind_pending = 0;
            service_start(s);
            log_info("service %s/%s: listening", s->name, s->type_name);
        } else if (retired_children() == 0) {
            s->bind_pending = 0;
            disable(s, buf_cstr(&err));
        } else {
            next = 1000;
        }
    }
    buf_free(&err);
    return next;
}

void service_reload(void)
{
    struct master_settings fresh;
    memset(&fresh, 0, sizeof(fresh));
    fresh.config_dir = xstrdup(master_settings.config_dir);
    fresh.verbose = master_settings.verbose;
    struct strlist errors;
    strlist_init(&errors);
    struct service *list;
    if (service_load(&list, &fresh, &errors) < 0) {
        for (size_t i = 0; i < errors.count; i++)
            log_error("%s", errors.items[i]);
        log_error("reload failed; keeping the running configuration");
        strlist_free(&errors);
        settings_free(&fresh);
        return;
    }
    strlist_free(&errors);
    /* The queue directory holds master's lock and every unix socket;
     * moving it under running children is not something a reload can
     * do safely. */
    if (strcmp(fresh.queue_dir, master_settings.queue_dir) != 0) {
        log_warn("queue_directory changed from %s to %s: this takes a "
                 "restart (postern stop; postern start); keeping %s",
                 master_settings.queue_dir, fresh.queue_dir,
                 master_settings.queue_dir);
        free(fresh.queue_dir);
        fresh.queue_dir = xstrdup(master_settings.queue_dir);
    }
    settings_free(&master_settings);
    master_settings = fresh;
    master_reopen_log();

    struct buf err = BUF_INIT;
    buf_init(&err);
    for (struct service *s = list; s; s = s->next)
        listen_open_service(s, master_services, 1, &err);
    struct service *old = master_services;
    master_services = NULL;
    while (old) {
        struct service *next = old->next;
        service_retire(old);
        old = next;
    }
    service_bind_all(list, 0, &err);
    buf_free(&err);
    for (struct service *s = list; s; s = s->next)
        if (!s->disabled && !s->bind_pending)
            service_start(s);
    master_services = list;
    log_info("reload -- version %s, configuration %s", POSTERN_VERSION,
             master_settings.config_dir);
}
