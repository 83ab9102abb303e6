/* smtp_phase.h: an SMTP server command in phases, and the hooks that
 * may stop one while they wait for an answer.
 *
 * Every command a server runs goes through four phases, in order:
 *
 *   PARSE    is it allowed now, are its arguments acceptable
 *   CHECK    the restrictions (access policy)
 *   HOOKS    the registered hooks for this command, in registration
 *            order (later: milters, the policy service, SASL)
 *   PROCEED  do what the command does and send its success reply
 *
 * then the server's `done` runs once (counters, limits). A phase or hook
 * returns SMTP_STEP_NEXT to go on, SMTP_STEP_STOP when it has replied
 * and the command ends there (the later phases are skipped; `done` still
 * runs), or SMTP_STEP_SUSPEND when it waits for something (DNS, a
 * service): the run stops where it is, and smtp_run_resume() later calls
 * the same step again, which carries on from what it kept (the run never
 * repeats a step that finished). Nothing is allocated per command: the
 * run is a few words inside the session, and the hooks are a
 * process-wide table filled at start.
 *
 * Ownership while suspended: the session (and so the run) stays alive
 * and reads no input; the step that suspended owns whatever request is
 * in flight and must bound how long it waits. When the session ends
 * first, smtp_run_cancel() calls that step's cancel function, after which
 * the step must never touch the session again (it drops the answer).
 * See docs/smtpd.md, "Command phases". */
#ifndef POSTERN_SMTP_PHASE_H
#define POSTERN_SMTP_PHASE_H

#include <stddef.h>

enum smtp_phase {
    SMTP_PHASE_PARSE,
    SMTP_PHASE_CHECK,
    SMTP_PHASE_HOOKS,
    SMTP_PHASE_PROCEED,
    SMTP_PHASE_DONE, /* no command running */
};

enum smtp_step {
    SMTP_STEP_NEXT,    /* go on with the next step */
    SMTP_STEP_STOP,    /* replied: the command ends (done runs) */
    SMTP_STEP_SUSPEND, /* waiting: resume calls this step again */
};

/* Commands are small numbers (a server's verbs, plus pseudo-commands
 * such as the connection or the end of data), at most this many. */
#define SMTP_COMMAND_MAX 32
#define SMTP_COMMAND_BIT(command) (1u << (command))
/* Pseudo-commands (the verbs are enum smtp_verb, smtp_cmd.h): the
 * client's connection (before the greeting) and the end of the message
 * (after the content, before it is queued), which milters and policy
 * services see as commands too. */
#define SMTP_COMMAND_CONNECT 30
#define SMTP_COMMAND_END_OF_DATA 31

/* A hook: run for the commands in `commands` (SMTP_COMMAND_BIT set). */
struct smtp_hook {
    const char *name;
    unsigned commands;
    enum smtp_step (*run)(void *session, unsigned command, void *hook_ctx);
    /* The session ends while this hook waits: forget it. May be NULL
     * when the hook never suspends. */
    void (*cancel)(void *session, void *hook_ctx);
    void *hook_ctx;
};

#define SMTP_HOOKS_MAX 16
struct smtp_hooks {
    struct smtp_hook items[SMTP_HOOKS_MAX];
    size_t count;
};

/* Adds a hook at the end of the table: 0, or -1 when it is full. */
int smtp_hooks_add(struct smtp_hooks *hooks, const struct smtp_hook *hook);

/* The server's phases (any may be NULL: nothing to do). `cancel_step`
 * forgets a PARSE, CHECK or PROCEED step that suspended (a hook that
 * suspended has its own cancel). */
struct smtp_phase_ops {
    enum smtp_step (*parse)(void *session, unsigned command);
    enum smtp_step (*check)(void *session, unsigned command);
    enum smtp_step (*proceed)(void *session, unsigned command);
    void (*done)(void *session, unsigned command, enum smtp_step outcome);
    void (*cancel_step)(void *session, unsigned command);
};

/* One command's progress, kept in the session. */
struct smtp_run {
    const struct smtp_phase_ops *ops;
    const struct smtp_hooks *hooks;
    void *session;
    unsigned command;
    enum smtp_phase phase;
    size_t hook_index; /* next hook to run, or the one suspended */
    int suspended;     /* a step returned SMTP_STEP_SUSPEND */
    unsigned resumes;  /* resumptions of this command (for logs) */
};

void smtp_run_init(struct smtp_run *run, const struct smtp_phase_ops *ops,
                   const struct smtp_hooks *hooks, void *session);
/* Runs command from PARSE. Returns SMTP_STEP_SUSPEND when it is waiting,
 * else how it ended (NEXT: proceeded, STOP: stopped with a reply). A
 * command must not be started while another is suspended. */
enum smtp_step smtp_run_start(struct smtp_run *run, unsigned command);
/* Carries on a suspended command: calls the step that suspended again.
 * Same result as smtp_run_start. Call it from the event loop (the
 * answer's callback), never from inside the step itself. */
enum smtp_step smtp_run_resume(struct smtp_run *run);
/* The session ends: a suspended step's cancel runs; nothing runs later. */
void smtp_run_cancel(struct smtp_run *run);
/* 1 while a command waits. */
int smtp_run_suspended(const struct smtp_run *run);
/* The phase of the running (or suspended) command, for logs and tests. */
const char *smtp_phase_name(enum smtp_phase phase);

#endif
