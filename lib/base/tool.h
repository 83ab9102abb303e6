/* tool.h: how a command-line tool ends on an error, one way for every
 * tool: "PROGRAM: fatal: text" on stderr (and in the mail log once the
 * tool has opened it, as Postfix's tools do), then exit with the status
 * the tool documents; and "usage: ..." for a bad command line.
 *
 * Daemons use log_fatal (base/log.h) instead: their stderr goes nowhere.
 * So does `postern`, whose every message is a log line in
 * postfix-script's shape ("postern/postern-script: fatal: ..."). */
#ifndef POSTERN_TOOL_H
#define POSTERN_TOOL_H

/* Sets the name messages start with ("postmap"); also the log's program
 * name. */
void tool_set_name(const char *name);
/* The name given to tool_set_name ("postern" before). */
const char *tool_name(void);
/* Call with 1 once the mail log is open: fatal messages are then also
 * logged. */
void tool_set_log_ready(int ready);
/* A function run before a fatal exit (postmap closes its tables so a
 * table library flushes what it holds). */
void tool_set_fatal_hook(void (*hook)(void));

/* "PROGRAM: fatal: text" (also logged, see above); runs the hook, exits
 * with status. */
void tool_fatal(int status, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));
/* "usage: text" on stderr; exits with status. text may hold several
 * lines. */
void tool_usage(int status, const char *text) __attribute__((noreturn));

#endif
