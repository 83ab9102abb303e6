/* qtool.h: what the queue tools (postcat, postsuper, postqueue, mailq)
 * share: configuration and logging set-up, messages to the terminal in
 * Postfix's shape ("postsuper: Deleted: 1 message"), and finding a
 * message by queue id.
 *
 * Messages for the administrator go to stderr as "PROGRAM: text"; those
 * worth keeping are also written to the mail log (syslog or
 * maillog_file) as "postern/PROGRAM[PID]: text", as Postfix's tools do. */
#ifndef POSTERN_QTOOL_H
#define POSTERN_QTOOL_H

#include <stddef.h>

#include "queue/queue_dirs.h"

/* Sets the program name used in messages and logs. */
void qtool_init(const char *program);
/* Reads main.cf from -c DIR / $MAIL_CONFIG / the default, applies
 * syslog_name, opens the mail log, and returns queue_directory. A bad
 * main.cf or a relative queue_directory is fatal (exit 1 or 75). */
const char *qtool_config(const char *cli_dir);
/* The program name given to qtool_init. */
const char *qtool_program(void);

/* "PROGRAM: text" on stderr only. */
void qtool_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The same, also logged at info level. */
void qtool_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "PROGRAM: warning: text", also logged. */
void qtool_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "PROGRAM: error: text", also logged. */
void qtool_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Fatal errors: tool_fatal (base/tool.h), which qtool_init and
 * qtool_config set up (name, and logging once the log is open). */

/* The message queues a queue id is looked for in, in this order:
 * incoming, active, deferred, hold, corrupt, maildrop. */
extern const enum queue_name QTOOL_MESSAGE_QUEUES[];
extern const size_t QTOOL_MESSAGE_QUEUE_COUNT;

/* Looks for QID in the given queues: 0 with *found set, -1 when it is in
 * none (or the id is not valid: check with qid_valid first to tell). */
int qtool_find(const char *queue_directory, const char *qid,
               const enum queue_name *queues, size_t count,
               enum queue_name *found);

#endif
