/* listen.c: master's listening sockets.
 *
 * A service's endpoints come from its master.cf line and main.cf:
 *   inet  "host:port", "[v6addr]:port" or a bare port or /etc/services
 *         name; without a host, one socket per inet_interfaces address
 *         ("all" = the wildcard address, "loopback-only", or a list),
 *         for the families in inet_protocols.
 *   unix  a stream socket $queue_directory/private/NAME (private = y)
 *         or public/NAME, mode 0666 inside a directory that limits who
 *         can reach it, as in Postfix.
 *   pass  the same kind of socket; each connection on it carries a
 *         descriptor for the child to serve.
 *   unix-dgram  a datagram socket at the same place (no connections).
 *   fifo  a named pipe, opened read-write so it never reports EOF.
 * Each endpoint has a key; reload keeps a socket whose key is unchanged.
 * Every socket is non-blocking and close-on-exec: spawn.c moves the ones
 * a child needs to fixed descriptor numbers. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "base/log.h"
#include "master.h"
#include "base/mem.h"

/* One address to bind. `optional` addresses come from "all" or
 * "loopback-only" and are skipped when the host has no such family or
 * address (an IPv6-less container), rather than failing the start. */
struct endpoint {
    struct sockaddr_storage addr;
    socklen_t addr_len;
    int optional;
    char *key;
    char *label;
};

struct endpoint_list {
    struct endpoint *items;
    size_t count;
};

static void endpoint_list_free(struct endpoint_list *list)
{
    for (size_t i = 0; i < list->count; i++) {
        free(list->items[i].key);
        free(list->items[i].label);
    }
    free(list->items);
    list->items = NULL;
    list->count = 0;
}

static void add_inet(struct endpoint_list *list, const struct sockaddr *sa,
                     socklen_t len, int port, int optional)
{
    char text[INET6_ADDRSTRLEN];
    struct sockaddr_storage addr;
    memset(&addr, 0, sizeof(addr));
    memcpy(&addr, sa, len);
    if (sa->sa_family == AF_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *)&addr;
        in->sin_port = htons((unsigned short)port);
        inet_ntop(AF_INET, &in->sin_addr, text, sizeof(text));
    } else {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&addr;
        in6->sin6_port = htons((unsigned short)port);
        inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof(text));
    }
    char *label = sa->sa_family == AF_INET ? xasprintf("%s:%d", text, port)
                                           : xasprintf("[%s]:%d", text, port);
    char *key = xasprintf("inet:%s", label);
    for (size_t i = 0; i < list->count; i++) {
        if (strcmp(list->items[i].key, key) == 0) {
            free(key);
            free(label);
            return;
        }
    }
    list->items = xreallocarray(list->items, list->count + 1,
                                sizeof(*list->items));
    struct endpoint *ep = &list->items[list->count++];
    ep->addr = addr;
    ep->addr_len = len;
    ep->optional = optional;
    ep->key = key;
    ep->label = label;
}

static void add_wildcard(struct endpoint_list *list, int port, int loopback)
{
    if (master_settings.use_ipv4) {
        struct sockaddr_in in;
        memset(&in, 0, sizeof(in));
        in.sin_family = AF_INET;
        in.sin_addr.s_addr = htonl(loopback ? INADDR_LOOPBACK : INADDR_ANY);
        add_inet(list, (struct sockaddr *)&in, sizeof(in), port, 0);
    }
    if (master_settings.use_ipv6) {
        struct sockaddr_in6 in6;
        memset(&in6, 0, sizeof(in6));
        in6.sin6_family = AF_INET6;
        in6.sin6_addr = loopback ? in6addr_loopback : in6addr_any;
        /* Optional only when IPv4 is also wanted: an IPv6-only setup on
         * a host without IPv6 must fail loudly. */
        add_inet(list, (struct sockaddr *)&in6, sizeof(in6), port,
                 master_settings.use_ipv4);
    }
}

static int add_host(struct endpoint_list *list, const char *host, int port,
                    struct buf *err)
{
    struct addrinfo hints, *result = NULL;
    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    hints.ai_family = master_settings.use_ipv4 && master_settings.use_ipv6
                          ? AF_UNSPEC
                          : master_settings.use_ipv4 ? AF_INET : AF_INET6;
    int rc = getaddrinfo(host, NULL, &hints, &result);
    if (rc != 0) {
        buf_appendf(err, "cannot resolve host \"%s\": %s", host,
                    gai_strerror(rc));
        return -1;
    }
    size_t before = list->count;
    for (struct addrinfo *ai = result; ai; ai = ai->ai_next)
        if (ai->ai_family == AF_INET || ai->ai_family == AF_INET6)
            add_inet(list, ai->ai_addr, ai->ai_addrlen, port, 0);
    freeaddrinfo(result);
    if (list->count == before) {
        buf_appendf(err, "host \"%s\" has no address for inet_protocols", host);
        return -1;
    }
    return 0;
}

static int inet_endpoints(const struct service *service,
                          struct endpoint_list *list, struct buf *err)
{
    char *host = NULL;
    int port;
    if (mastersvc_parse_inet(service->name, &host, &port, err) < 0)
        return -1;
    int result = 0;
    if (host && strcmp(host, "*") != 0) {
        result = add_host(list, host, port, err);
    } else if (host) {
        add_wildcard(list, port, 0);
    } else {
        const struct strlist *ifaces = &master_settings.inet_interfaces;
        for (size_t i = 0; i < ifaces->count && result == 0; i++) {
            if (strcmp(ifaces->items[i], "all") == 0)
                add_wildcard(list, port, 0);
            else if (strcmp(ifaces->items[i], "loopback-only") == 0)
                add_wildcard(list, port, 1);
            else
                result = add_host(list, ifaces->items[i], port, err);
        }
        if (result == 0 && list->count == 0) {
            buf_appendf(err, "inet_interfaces gives no address to bind");
            result = -1;
        }
    }
    free(host);
    return result;
}

static int listen_backlog(const struct service *service)
{
    int backlog = master_settings.default_process_limit;
    if (service->maxproc > backlog)
        backlog = service->maxproc;
    return backlog < 100 ? 100 : backlog;
}

/* What bind_inet returns instead of a listening descriptor. */
enum { BIND_FAILED = -1, BIND_SKIPPED = -2 };

/* A listening socket for ep, BIND_FAILED with err, or BIND_SKIPPED when
 * an optional endpoint's family or address does not exist here. */
static int bind_inet(const struct service *service, const struct endpoint *ep,
                     struct buf *err)
{
    int family = ep->addr.ss_family;
    int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        if (ep->optional && (errno == EAFNOSUPPORT || errno == EPROTONOSUPPORT))
            return BIND_SKIPPED;
        buf_appendf(err, "socket for %s: %s", ep->label, strerror(errno));
        return BIND_FAILED;
    }
    int on = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
    /* Each family gets its own socket, so "all" never depends on the
     * system's bindv6only default. */
    if (family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on));
    if (bind(fd, (const struct sockaddr *)&ep->addr, ep->addr_len) < 0) {
        int saved = errno;
        close(fd);
        if (ep->optional && (saved == EADDRNOTAVAIL || saved == EAFNOSUPPORT))
            return BIND_SKIPPED;
        buf_appendf(err, "bind %s: %s", ep->label, strerror(saved));
        return BIND_FAILED;
    }
    if (listen(fd, listen_backlog(service)) < 0) {
        buf_appendf(err, "listen %s: %s", ep->label, strerror(errno));
        close(fd);
        return BIND_FAILED;
    }
    return fd;
}

/* The socket or fifo file belongs to mail_owner, as in Postfix, so that
 * the owner of the queue may manage it; its mode decides who connects. */
static void give_to_owner(const char *path)
{
    if (master_settings.is_root &&
        lchown(path, master_settings.owner_uid, master_settings.owner_gid) < 0)
        log_warn("chown %s: %s", path, strerror(errno));
}

/* Removes a stale socket or fifo left by an earlier master (we hold the
 * queue's lock, so no live master owns it). Anything else is an error:
 * master never deletes a regular file it did not make. */
static int remove_stale(const char *path, struct buf *err)
{
    struct stat st;
    if (lstat(path, &st) < 0)
        return 0;
    if (!S_ISSOCK(st.st_mode) && !S_ISFIFO(st.st_mode)) {
        buf_appendf(err, "%s exists and is not a socket or fifo", path);
        return -1;
    }
    if (unlink(path) < 0) {
        buf_appendf(err, "remove %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

static int bind_unix(const struct service *service, const char *path,
                     int socktype, struct buf *err)
{
    struct sockaddr_un sun;
    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof(sun.sun_path)) {
        buf_appendf(err, "socket path %s is longer than %zu bytes", path,
                    sizeof(sun.sun_path) - 1);
        return -1;
    }
    memcpy(sun.sun_path, path, strlen(path) + 1);
    if (remove_stale(path, err) < 0)
        return -1;
    int fd = socket(AF_UNIX, socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        buf_appendf(err, "socket for %s: %s", path, strerror(errno));
        return -1;
    }
    if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
        buf_appendf(err, "bind %s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    if (chmod(path, 0666) < 0 ||
        (socktype == SOCK_STREAM && listen(fd, listen_backlog(service)) < 0)) {
        buf_appendf(err, "listen %s: %s", path, strerror(errno));
        close(fd);
        unlink(path);
        return -1;
    }
    give_to_owner(path);
    return fd;
}

static int open_fifo(const char *path, struct buf *err)
{
    if (remove_stale(path, err) < 0)
        return -1;
    if (mkfifo(path, 0622) < 0 || chmod(path, 0622) < 0) {
        buf_appendf(err, "mkfifo %s: %s", path, strerror(errno));
        return -1;
    }
    /* Read-write: the fifo then always has a writer, so it never reads
     * as EOF, and opening it never blocks. */
    int fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        buf_appendf(err, "open %s: %s", path, strerror(errno));
        unlink(path);
        return -1;
    }
    give_to_owner(path);
    return fd;
}

static struct listener *take_listener(const char *key, struct service *old)
{
    for (; old; old = old->next)
        for (size_t i = 0; i < old->listener_count; i++) {
            struct listener *l = &old->listeners[i];
            if (l->fd >= 0 && l->key && strcmp(l->key, key) == 0)
                return l;
        }
    return NULL;
}

static void add_listener(struct service *service, int fd, char *key,
                         char *path, char *label)
{
    service->listeners = xreallocarray(service->listeners,
                                       service->listener_count + 1,
                                       sizeof(*service->listeners));
    struct listener *l = &service->listeners[service->listener_count++];
    l->fd = fd;
    l->key = key;
    l->path = path;
    l->label = label;
}

/* Adopts an old listener when one has this key, or finds that the
 * service already has it; returns 1 if so. */
static int adopt(struct service *service, const char *key,
                 struct service *old)
{
    for (size_t i = 0; i < service->listener_count; i++)
        if (strcmp(service->listeners[i].key, key) == 0)
            return 1;
    struct listener *found = take_listener(key, old);
    if (!found)
        return 0;
    add_listener(service, found->fd, found->key, found->path, found->label);
    found->fd = -1;
    found->key = found->path = found->label = NULL;
    return 1;
}

int listen_open_service(struct service *service, struct service *old,
                        int adopt_only, struct buf *err)
{
    if (service->type == MASTERSVC_INET) {
        struct endpoint_list list = {NULL, 0};
        if (inet_endpoints(service, &list, err) < 0) {
            endpoint_list_free(&list);
            return -1;
        }
        for (size_t i = 0; i < list.count; i++) {
            struct endpoint *ep = &list.items[i];
            if (adopt(service, ep->key, old) || adopt_only)
                continue;
            int fd = bind_inet(service, ep, err);
            if (fd == BIND_SKIPPED) {
                log_warn("service %s: skipping %s: address family or "
                         "address not available on this host",
                         service->name, ep->label);
                continue;
            }
            if (fd < 0) {
                endpoint_list_free(&list);
                return -1;
            }
            add_listener(service, fd, xstrdup(ep->key), NULL,
                         xstrdup(ep->label));
        }
        endpoint_list_free(&list);
        if (service->listener_count == 0 && !adopt_only) {
            buf_appendf(err, "no address could be bound");
            return -1;
        }
        return 0;
    }

    const char *dir = service->private_ ? "private" : "public";
    char *path = xasprintf("%s/%s/%s", master_settings.queue_dir, dir,
                           service->name);
    /* unix and pass sockets are the same kind of file, so a type change
     * between them keeps the socket. */
    const char *kind = service->type == MASTERSVC_FIFO         ? "fifo"
                       : service->type == MASTERSVC_UNIX_DGRAM ? "dgram"
                                                               : "local";
    char *key = xasprintf("%s:%s", kind, path);
    if (adopt(service, key, old) || adopt_only) {
        free(path);
        free(key);
        return 0;
    }
    int fd = service->type == MASTERSVC_FIFO ? open_fifo(path, err)
             : service->type == MASTERSVC_UNIX_DGRAM
                 ? bind_unix(service, path, SOCK_DGRAM, err)
                 : bind_unix(service, path, SOCK_STREAM, err);
    if (fd < 0) {
        free(path);
        free(key);
        return -1;
    }
    add_listener(service, fd, key, path,
                 xasprintf("%s/%s", dir, service->name));
    return 0;
}

void listen_close(struct listener *listener)
{
    if (listener->fd >= 0) {
        /* Retiring children still hold copies of this socket. Shutting
         * it down stops it listening for all of them at once: a client
         * of a moved port is refused now instead of waiting in a queue
         * that nobody will accept from, and an overlapping new address
         * (0.0.0.0:25 -> 127.0.0.1:25) can be bound at once. Accepted
         * connections are separate sockets and are not affected. (On a
         * fifo this fails with ENOTSOCK, harmlessly.) */
        shutdown(listener->fd, SHUT_RDWR);
        close(listener->fd);
        if (listener->path)
            unlink(listener->path);
    }
    listener->fd = -1;
    free(listener->key);
    free(listener->path);
    free(listener->label);
    listener->key = listener->path = listener->label = NULL;
}
