/* qtool.c: shared set-up and messages for the queue tools (qtool.h). */
#include "base/tool.h"
#include "queue/qtool.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "base/buf.h"
#include "config/config.h"
#include "base/log.h"

static const char *program = "postern";
static int log_ready;

const enum queue_name QTOOL_MESSAGE_QUEUES[] = {
    QUEUE_INCOMING, QUEUE_ACTIVE,  QUEUE_DEFERRED,
    QUEUE_HOLD,     QUEUE_CORRUPT, QUEUE_MAILDROP,
};
const size_t QTOOL_MESSAGE_QUEUE_COUNT =
    sizeof(QTOOL_MESSAGE_QUEUES) / sizeof(QTOOL_MESSAGE_QUEUES[0]);

void qtool_init(const char *name)
{
    program = name;
    tool_set_name(name);
}

const char *qtool_program(void)
{
    return program;
}

static void say(const char *label, int to_log, const char *fmt, va_list ap)
{
    struct buf text = BUF_INIT;
    buf_vappendf(&text, fmt, ap);
    fprintf(stderr, "%s: %s%s\n", program, label, buf_cstr(&text));
    fflush(stderr);
    if (to_log && log_ready) {
        if (label[0] == 'w')
            log_warn("%s", buf_cstr(&text));
        else if (label[0] == 'e')
            log_error("%s", buf_cstr(&text));
        else
            log_info("%s", buf_cstr(&text));
    }
    buf_free(&text);
}

void qtool_say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    say("", 0, fmt, ap);
    va_end(ap);
}

void qtool_info(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    say("", 1, fmt, ap);
    va_end(ap);
}

void qtool_warn(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    say("warning: ", 1, fmt, ap);
    va_end(ap);
}

void qtool_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    say("error: ", 1, fmt, ap);
    va_end(ap);
}

static void quiet_warning(const char *message)
{
    (void)message; /* postconf reports unused parameters; tools stay quiet */
}

const char *qtool_config(const char *cli_dir)
{
    const char *dir = config_resolve_dir(cli_dir);
    struct buf err = BUF_INIT;
    config_set_warning_handler(quiet_warning);
    if (config_load(dir, &err) != 0)
        tool_fatal(EX_CONFIG, "%s", buf_cstr(&err));
    buf_free(&err);
    log_set_syslog_name(cfg_str("syslog_name"));
    /* The log is a copy for the record; a tool still works, and says
     * everything on stderr, when it cannot be opened. */
    const char *maillog = cfg_str("maillog_file");
    /* An ordinary user running mailq may not write the mail log: that
     * is no reason to print a warning before the queue listing. */
    if (maillog[0] && strcmp(maillog, "/dev/stderr") != 0 &&
        access(maillog, W_OK) != 0 && errno != ENOENT)
        log_ready = 0;
    else
        log_ready = log_open(maillog, NULL) == 0;
    tool_set_log_ready(log_ready);
    const char *queue_directory = cfg_str("queue_directory");
    if (queue_directory[0] != '/')
        tool_fatal(EX_CONFIG, "queue_directory must be an absolute path: %s",
                    queue_directory);
    return queue_directory;
}

int qtool_find(const char *queue_directory, const char *qid,
               const enum queue_name *queues, size_t count,
               enum queue_name *found)
{
    struct buf path = BUF_INIT;
    int result = -1;
    for (size_t i = 0; i < count && result < 0; i++) {
        struct stat st;
        if (queue_path(&path, queue_directory, queues[i], qid) == 0 &&
            lstat(buf_cstr(&path), &st) == 0 && S_ISREG(st.st_mode)) {
            *found = queues[i];
            result = 0;
        }
    }
    buf_free(&path);
    return result;
}
