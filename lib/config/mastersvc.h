/* mastersvc.h: what a master.cf entry means, shared by master (which
 * acts on it) and `postern check` (which validates it before a start).
 *
 * The parser (mastercf.h) checks the syntax of each line; this module
 * checks what the line asks for: a known service type, a unix service
 * name that can be a file name, an inet port that resolves, a command
 * that exists in daemon_directory, no duplicate service. Errors read
 * "FILE, line N: why", like main.cf errors. */
#ifndef POSTERN_MASTERSVC_H
#define POSTERN_MASTERSVC_H

#include <stddef.h>

#include "base/buf.h"
#include "config/mastercf.h"
#include "base/str.h"

enum mastersvc_type {
    MASTERSVC_INET,
    MASTERSVC_UNIX,
    MASTERSVC_FIFO,
    MASTERSVC_PASS,
    MASTERSVC_UNIX_DGRAM,
    MASTERSVC_UNKNOWN
};

/* Maps "inet", "unix", "fifo", "pass", "unix-dgram" to the enum
 * (MASTERSVC_UNKNOWN otherwise). */
enum mastersvc_type mastersvc_type(const char *name);

/* The program master runs for a command column: a name without '/' is
 * relative to daemon_directory, as in Postfix. Returns a heap string. */
char *mastersvc_command_path(const char *command, const char *daemon_dir);

/* Splits an inet service column: "host:port", "[v6addr]:port", or a bare
 * "port". *host is a heap string, or NULL when no host was given (bind
 * on every inet_interfaces address). *port is 1..65535; a name is looked
 * up in /etc/services, then in the built-in mail ports (base/servport.h).
 * Returns 0, or -1 with the
 * reason (no file/line prefix) in err. */
int mastersvc_parse_inet(const char *service, char **host, int *port,
                         struct buf *err);

/* Validates every entry; each problem is appended to `errors` as one
 * "FILE, line N: why" string. Commands are checked against daemon_dir
 * (exists, is a regular file, executable) when daemon_dir is not NULL.
 * Returns the number of problems. */
size_t mastersvc_check(const struct master_entry *entries, size_t count,
                       const char *daemon_dir, struct strlist *errors);

/* Validates one entry the same way, without the duplicate check. Returns
 * 0, or -1 with "FILE, line N: why" in err. */
int mastersvc_check_entry(const struct master_entry *entry,
                          const char *daemon_dir, struct buf *err);

#endif
