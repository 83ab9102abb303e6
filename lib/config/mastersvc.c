/* mastersvc.c: meaning and validation of master.cf entries (see
 * mastersvc.h). */
#include "config/mastersvc.h"

#include <errno.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/mem.h"
#include "base/servport.h"

enum mastersvc_type mastersvc_type(const char *name)
{
    if (strcmp(name, "inet") == 0)
        return MASTERSVC_INET;
    if (strcmp(name, "unix") == 0)
        return MASTERSVC_UNIX;
    if (strcmp(name, "fifo") == 0)
        return MASTERSVC_FIFO;
    if (strcmp(name, "pass") == 0)
        return MASTERSVC_PASS;
    if (strcmp(name, "unix-dgram") == 0)
        return MASTERSVC_UNIX_DGRAM;
    return MASTERSVC_UNKNOWN;
}

char *mastersvc_command_path(const char *command, const char *daemon_dir)
{
    if (strchr(command, '/'))
        return xstrdup(command);
    return xasprintf("%s/%s", daemon_dir, command);
}

static int parse_port(const char *text, int *port, struct buf *err)
{
    long number;
    if (*text >= '0' && *text <= '9') {
        if (str_to_long(text, &number) < 0 || number < 1 || number > 65535) {
            buf_appendf(err, "bad port number \"%s\"", text);
            return -1;
        }
        *port = (int)number;
        return 0;
    }
    *port = servport_lookup(text);
    if (*port < 0) {
        buf_appendf(err,
                    "unknown service name \"%s\" (not in /etc/services "
                    "nor among the built-in mail ports)",
                    text);
        return -1;
    }
    return 0;
}

int mastersvc_parse_inet(const char *service, char **host, int *port,
                         struct buf *err)
{
    *host = NULL;
    buf_set_str(err, "");
    if (*service == '[') {
        const char *close = strchr(service, ']');
        if (!close || close[1] != ':' || close == service + 1) {
            buf_appendf(err, "bad inet service \"%s\": expected [address]:port",
                        service);
            return -1;
        }
        if (parse_port(close + 2, port, err) < 0)
            return -1;
        *host = xstrndup(service + 1, (size_t)(close - service - 1));
        return 0;
    }
    const char *colon = strrchr(service, ':');
    if (!colon)
        return parse_port(service, port, err);
    if (colon == service || colon[1] == 0 ||
        memchr(service, ':', (size_t)(colon - service))) {
        buf_appendf(err,
                    "bad inet service \"%s\": expected host:port, "
                    "[address]:port or port",
                    service);
        return -1;
    }
    if (parse_port(colon + 1, port, err) < 0)
        return -1;
    *host = xstrndup(service, (size_t)(colon - service));
    return 0;
}

static int check_args(const struct master_entry *entry, struct buf *why)
{
    for (size_t i = 0; i < entry->args.count; i++) {
        const char *arg = entry->args.items[i];
        if (strcmp(arg, "-o") != 0)
            continue;
        const char *next = i + 1 < entry->args.count ? entry->args.items[i + 1]
                                                     : NULL;
        if (!next || !strchr(next, '=') || *next == '=') {
            buf_appendf(why, "-o must be followed by name=value");
            return -1;
        }
        i++;
    }
    return 0;
}

static int check_command(const struct master_entry *entry,
                         const char *daemon_dir, struct buf *why)
{
    char *path = mastersvc_command_path(entry->command, daemon_dir);
    struct stat st;
    int result = 0;
    if (stat(path, &st) < 0) {
        buf_appendf(why, "command %s: %s", path, strerror(errno));
        result = -1;
    } else if (!S_ISREG(st.st_mode)) {
        buf_appendf(why, "command %s: not a regular file", path);
        result = -1;
    } else if (access(path, X_OK) < 0) {
        buf_appendf(why, "command %s: not executable", path);
        result = -1;
    }
    free(path);
    return result;
}

int mastersvc_check_entry(const struct master_entry *entry,
                          const char *daemon_dir, struct buf *err)
{
    struct buf why = BUF_INIT;
    buf_init(&why);
    int result = 0;
    enum mastersvc_type type = mastersvc_type(entry->type);

    if (type == MASTERSVC_UNKNOWN) {
        buf_appendf(&why, "unknown service type \"%s\" (inet, unix, unix-dgram, fifo or pass)",
                    entry->type);
        result = -1;
    } else if (type == MASTERSVC_INET) {
        char *host;
        int port;
        if (mastersvc_parse_inet(entry->service, &host, &port, &why) < 0)
            result = -1;
        free(host);
    } else if (entry->service[0] == 0 || strchr(entry->service, '/') ||
               strcmp(entry->service, ".") == 0 ||
               strcmp(entry->service, "..") == 0) {
        buf_appendf(&why, "bad %s service name \"%s\": it names a file in "
                          "the private or public directory",
                    entry->type, entry->service);
        result = -1;
    }
    if (result == 0 && entry->maxproc < -1) {
        buf_appendf(&why, "bad process limit %d", entry->maxproc);
        result = -1;
    }
    if (result == 0 && entry->wakeup < 0) {
        buf_appendf(&why, "bad wakeup time %d", entry->wakeup);
        result = -1;
    }
    if (result == 0)
        result = check_args(entry, &why);
    if (result == 0 && daemon_dir)
        result = check_command(entry, daemon_dir, &why);

    buf_set_str(err, "");
    if (result < 0)
        buf_appendf(err, "%s, line %d: %s", entry->file, entry->line,
                    buf_cstr(&why));
    buf_free(&why);
    return result;
}

size_t mastersvc_check(const struct master_entry *entries, size_t count,
                       const char *daemon_dir, struct strlist *errors)
{
    size_t problems = 0;
    struct buf err = BUF_INIT;
    buf_init(&err);
    for (size_t i = 0; i < count; i++) {
        if (mastersvc_check_entry(&entries[i], daemon_dir, &err) < 0) {
            strlist_add(errors, buf_cstr(&err));
            problems++;
        }
        /* Postfix refuses two entries with the same name and type: the
         * second would fight the first for its socket. */
        for (size_t j = 0; j < i; j++) {
            if (strcmp(entries[i].service, entries[j].service) == 0 &&
                strcmp(entries[i].type, entries[j].type) == 0) {
                buf_set_str(&err, "");
                buf_appendf(&err, "%s, line %d: duplicate service %s/%s "
                                  "(first defined at line %d)",
                            entries[i].file, entries[i].line,
                            entries[i].service, entries[i].type,
                            entries[j].line);
                strlist_add(errors, buf_cstr(&err));
                problems++;
                break;
            }
        }
    }
    buf_free(&err);
    return problems;
}
