/* log.h: logging in Postfix's shape.
 *
 * Every line reads `postern/smtpd[PID]: text` (the `postern` part is
 * `syslog_name`). Lines go to syslog, or, when `maillog_file` is set, are
 * appended to that file with a timestamp and host name, one write(2) per
 * line so concurrent processes never interleave. Before log_open() is
 * called lines go to stderr, which is what command-line tools want. */
#ifndef POSTERN_LOG_H
#define POSTERN_LOG_H

#include <stdarg.h>

/* Sets the program name ("smtpd") used in every line. */
void log_set_program(const char *program);
/* Sets the `syslog_name` prefix ("postern" by default; "postfix" for
 * stock log tools). */
void log_set_syslog_name(const char *syslog_name);
/* Starts logging to maillog_file (when non-empty and not "/dev/stderr"),
 * else to syslog with the given facility name ("mail" when NULL).
 * The file stays open across chroot and privilege drop. Returns 0, or -1
 * when the file cannot be opened (a warning goes to stderr). */
int log_open(const char *maillog_file, const char *facility);
/* Also copy every line to stderr (tools run in a terminal, tests). */
void log_also_stderr(int enabled);
/* Lines at debug level appear only when verbose is set (-v). */
void log_set_verbose(int level);
int log_verbose_level(void);
/* The descriptor of maillog_file, or -1 when logging to syslog: a
 * forked child that closes what it inherited keeps this one (syslog
 * reconnects by itself after closelog()). */
int log_file_fd(void);
/* Closes the log file; subsequent lines go to stderr. */
void log_close(void);

void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* An info line under another program name ("postern/pickup[PID]: ..."),
 * for an event that Postfix logs from a program we do not have, so log
 * tools that count it (pflogsumm) find it where they look. */
void log_info_as(const char *program, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* An info line under a whole ident of the caller's choosing, without
 * the syslog_name prefix ("auth[PID]: ..."), for lines a stock tool
 * matches by program name (the auth service's failures, which fail2ban's
 * dovecot filter reads). An empty ident is the usual one. */
void log_info_ident(const char *ident, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Logs "fatal: ..." and exits with status 1. */
void log_fatal(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));
/* Logs "panic: ..." and aborts: for states that cannot happen. */
void log_panic(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));
/* Installs a hook run by log_fatal before exit (e.g. to clean up). */
void log_set_fatal_hook(void (*hook)(void));

#endif
