/* tool.c: fatal errors and usage messages of the command-line tools
 * (tool.h). */
#include "base/tool.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/buf.h"
#include "base/log.h"

static const char *program = "postern";
static int log_ready;
static void (*fatal_hook)(void);

void tool_set_name(const char *name)
{
    program = name;
    log_set_program(name);
}

const char *tool_name(void)
{
    return program;
}

void tool_set_log_ready(int ready)
{
    log_ready = ready;
}

void tool_set_fatal_hook(void (*hook)(void))
{
    fatal_hook = hook;
}

void tool_fatal(int status, const char *fmt, ...)
{
    struct buf text = BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    buf_vappendf(&text, fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s: fatal: %s\n", program, buf_cstr(&text));
    fflush(stderr);
    if (log_ready) {
        log_also_stderr(0); /* said above already */
        log_error("fatal: %s", buf_cstr(&text));
    }
    buf_free(&text);
    if (fatal_hook) {
        void (*hook)(void) = fatal_hook;
        fatal_hook = NULL; /* a hook that fails must not loop */
        hook();
    }
    exit(status);
}

void tool_usage(int status, const char *text)
{
    fprintf(stderr, "usage: %s\n", text);
    exit(status);
}
