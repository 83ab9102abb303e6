/* log.c: Postfix-shaped log lines to syslog, a file, or stderr. */
#include "base/log.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

enum log_target { LOG_TO_STDERR, LOG_TO_FILE, LOG_TO_SYSLOG };

static char program_name[64] = "postern";
static char syslog_name[64] = "postern";
static char ident[160] = "postern";
static enum log_target target = LOG_TO_STDERR;
static int log_fd = -1;
static int copy_to_stderr;
static int verbose_level;
static int syslog_facility = LOG_MAIL;
static void (*fatal_hook)(void);

/* Lines are cut at this size: a log line is for people and tools, and a
 * bounded line is one write(2), which O_APPEND keeps whole. */
#define LOG_LINE_MAX 4000

static void update_ident(void)
{
    snprintf(ident, sizeof(ident), "%s/%s", syslog_name, program_name);
    if (target == LOG_TO_SYSLOG) {
        closelog();
        openlog(ident, LOG_PID | LOG_NDELAY, syslog_facility);
    }
}

void log_set_program(const char *program)
{
    const char *slash = strrchr(program, '/');
    snprintf(program_name, sizeof(program_name), "%s",
             slash ? slash + 1 : program);
    update_ident();
}

void log_set_syslog_name(const char *name)
{
    if (name && *name) {
        snprintf(syslog_name, sizeof(syslog_name), "%s", name);
        update_ident();
    }
}

int log_file_fd(void)
{
    return log_fd;
}

static int facility_code(const char *facility)
{
    static const struct {
        const char *name;
        int code;
    } facilities[] = {
        {"mail", LOG_MAIL},     {"daemon", LOG_DAEMON}, {"user", LOG_USER},
        {"local0", LOG_LOCAL0}, {"local1", LOG_LOCAL1}, {"local2", LOG_LOCAL2},
        {"local3", LOG_LOCAL3}, {"local4", LOG_LOCAL4}, {"local5", LOG_LOCAL5},
        {"local6", LOG_LOCAL6}, {"local7", LOG_LOCAL7},
    };
    for (size_t i = 0; facility && i < sizeof(facilities) / sizeof(*facilities);
         i++)
        if (strcmp(facilities[i].name, facility) == 0)
            return facilities[i].code;
    return LOG_MAIL;
}

int log_open(const char *maillog_file, const char *facility)
{
    log_close();
    if (maillog_file && *maillog_file &&
        strcmp(maillog_file, "/dev/stderr") != 0) {
        int fd = open(maillog_file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
                      0640);
        if (fd < 0) {
            fprintf(stderr, "%s: warning: cannot open maillog_file %s: %s\n",
                    ident, maillog_file, strerror(errno));
            return -1;
        }
        log_fd = fd;
        target = LOG_TO_FILE;
    } else if (maillog_file && strcmp(maillog_file, "/dev/stderr") == 0) {
        target = LOG_TO_STDERR;
    } else {
        target = LOG_TO_SYSLOG;
        syslog_facility = facility_code(facility);
        openlog(ident, LOG_PID | LOG_NDELAY, syslog_facility);
    }
    return 0;
}

void log_close(void)
{
    if (log_fd >= 0)
        close(log_fd);
    log_fd = -1;
    if (target == LOG_TO_SYSLOG)
        closelog();
    target = LOG_TO_STDERR;
}

void log_also_stderr(int enabled)
{
    copy_to_stderr = enabled;
}

void log_set_verbose(int level)
{
    verbose_level = level;
}

int log_verbose_level(void)
{
    return verbose_level;
}

void log_set_fatal_hook(void (*hook)(void))
{
    fatal_hook = hook;
}

static void write_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return;
        data += n;
        len -= (size_t)n;
    }
}

/* The host name and pid of file log lines, looked up once: two system
 * calls per line add up in daemons that log every message. A forked
 * child looks its pid up again (log_forked). */
static char cached_host[128];
static pid_t cached_pid;

static void log_forked(void)
{
    cached_pid = 0;
}

static const char *log_host(void)
{
    if (cached_host[0] == 0) {
        if (gethostname(cached_host, sizeof(cached_host) - 1) < 0 ||
            cached_host[0] == 0)
            snprintf(cached_host, sizeof(cached_host), "localhost");
        cached_host[sizeof(cached_host) - 1] = 0;
    }
    return cached_host;
}

static pid_t log_pid(void)
{
    static int registered;
    if (!registered) {
        pthread_atfork(NULL, NULL, log_forked);
        registered = 1;
    }
    if (cached_pid == 0)
        cached_pid = getpid();
    return cached_pid;
}

static void emit_as(const char *line_ident, int priority, const char *label,
                    const char *fmt, va_list ap)
{
    int saved_errno = errno;
    char text[LOG_LINE_MAX];
    size_t used = 0;
    if (label)
        used = (size_t)snprintf(text, sizeof(text), "%s: ", label);
    vsnprintf(text + used, sizeof(text) - used, fmt, ap);
    /* Never let a CR or LF from untrusted data forge a second line. */
    for (char *p = text; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';

    if (target == LOG_TO_SYSLOG) {
        if (line_ident != ident)
            openlog(line_ident, LOG_PID | LOG_NDELAY, syslog_facility);
        syslog(priority, "%s", text);
        if (line_ident != ident)
            openlog(ident, LOG_PID | LOG_NDELAY, syslog_facility);
    } else if (target == LOG_TO_FILE) {
        char line[LOG_LINE_MAX + 256];
        char stamp[32];
        time_t now = time(NULL);
        struct tm tm;
        strftime(stamp, sizeof(stamp), "%b %e %H:%M:%S",
                 localtime_r(&now, &tm));
        int len = snprintf(line, sizeof(line), "%s %s %s[%ld]: %s\n", stamp,
                           log_host(), line_ident, (long)log_pid(), text);
        if (len > (int)sizeof(line) - 1)
            len = (int)sizeof(line) - 1;
        write_all(log_fd, line, (size_t)len);
    }
    if (target == LOG_TO_STDERR || copy_to_stderr) {
        char line[LOG_LINE_MAX + 200];
        int len =
            snprintf(line, sizeof(line), "%s: %s\n", line_ident, text);
        if (len > (int)sizeof(line) - 1)
            len = (int)sizeof(line) - 1;
        write_all(STDERR_FILENO, line, (size_t)len);
    }
    errno = saved_errno;
}

static void emit(int priority, const char *label, const char *fmt, va_list ap)
{
    emit_as(ident, priority, label, fmt, ap);
}

void log_info_as(const char *program, const char *fmt, ...)
{
    char other[sizeof(ident)];
    snprintf(other, sizeof(other), "%s/%s", syslog_name, program);
    va_list ap;
    va_start(ap, fmt);
    emit_as(other, LOG_INFO, NULL, fmt, ap);
    va_end(ap);
}

void log_info_ident(const char *line_ident, const char *fmt, ...)
{
    char copy[sizeof(ident)];
    snprintf(copy, sizeof(copy), "%s", line_ident);
    va_list ap;
    va_start(ap, fmt);
    emit_as(copy[0] ? copy : ident, LOG_INFO, NULL, fmt, ap);
    va_end(ap);
}

void log_debug(const char *fmt, ...)
{
    if (verbose_level <= 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    emit(LOG_DEBUG, NULL, fmt, ap);
    va_end(ap);
}

void log_info(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    emit(LOG_INFO, NULL, fmt, ap);
    va_end(ap);
}

void log_warn(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    emit(LOG_WARNING, "warning", fmt, ap);
    va_end(ap);
}

void log_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    emit(LOG_ERR, "error", fmt, ap);
    va_end(ap);
}

void log_fatal(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    emit(LOG_CRIT, "fatal", fmt, ap);
    va_end(ap);
    if (fatal_hook) {
        void (*hook)(void) = fatal_hook;
        fatal_hook = NULL;
        hook();
    }
    exit(1);
}

void log_panic(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    emit(LOG_CRIT, "panic", fmt, ap);
    va_end(ap);
    abort();
}
