/* smtp_phase.c: runs an SMTP server command through its phases (parse,
 * check, hooks, proceed), stopping where a step waits and carrying on
 * from there when it is resumed. See smtp_phase.h. */
#include "smtp/smtp_phase.h"

int smtp_hooks_add(struct smtp_hooks *hooks, const struct smtp_hook *hook)
{
    if (hooks->count == SMTP_HOOKS_MAX)
        return -1;
    hooks->items[hooks->count++] = *hook;
    return 0;
}

void smtp_run_init(struct smtp_run *run, const struct smtp_phase_ops *ops,
                   const struct smtp_hooks *hooks, void *session)
{
    run->ops = ops;
    run->hooks = hooks;
    run->session = session;
    run->command = 0;
    run->phase = SMTP_PHASE_DONE;
    run->hook_index = 0;
    run->suspended = 0;
    run->resumes = 0;
}

/* The next hook at or after run->hook_index that wants this command. */
static const struct smtp_hook *next_hook(struct smtp_run *run)
{
    if (run->hooks == NULL)
        return NULL;
    unsigned bit = SMTP_COMMAND_BIT(run->command);
    for (; run->hook_index < run->hooks->count; run->hook_index++) {
        const struct smtp_hook *h = &run->hooks->items[run->hook_index];
        if (h->commands & bit)
            return h;
    }
    return NULL;
}

/* Runs from the current phase until the command ends or waits. */
static enum smtp_step run_phases(struct smtp_run *run)
{
    const struct smtp_phase_ops *ops = run->ops;
    enum smtp_step step = SMTP_STEP_NEXT;
    while (run->phase != SMTP_PHASE_DONE) {
        switch (run->phase) {
        case SMTP_PHASE_PARSE:
            step = ops->parse ? ops->parse(run->session, run->command)
                              : SMTP_STEP_NEXT;
            break;
        case SMTP_PHASE_CHECK:
            step = ops->check ? ops->check(run->session, run->command)
                              : SMTP_STEP_NEXT;
            break;
        case SMTP_PHASE_HOOKS: {
            const struct smtp_hook *h = next_hook(run);
            if (h == NULL) {
                step = SMTP_STEP_NEXT;
                break;
            }
            step = h->run(run->session, run->command, h->hook_ctx);
            if (step == SMTP_STEP_NEXT) {
                run->hook_index++;
                continue; /* the next hook, same phase */
            }
            break;
        }
        case SMTP_PHASE_PROCEED:
            step = ops->proceed ? ops->proceed(run->session, run->command)
                                : SMTP_STEP_NEXT;
            break;
        case SMTP_PHASE_DONE:
            break;
        }
        if (step == SMTP_STEP_SUSPEND) {
            run->suspended = 1;
            return step;
        }
        if (step == SMTP_STEP_STOP || run->phase == SMTP_PHASE_PROCEED)
            run->phase = SMTP_PHASE_DONE;
        else
            run->phase++;
    }
    if (ops->done)
        ops->done(run->session, run->command, step);
    return step;
}

enum smtp_step smtp_run_start(struct smtp_run *run, unsigned command)
{
    run->command = command < SMTP_COMMAND_MAX ? command : 0;
    run->phase = SMTP_PHASE_PARSE;
    run->hook_index = 0;
    run->suspended = 0;
    run->resumes = 0;
    return run_phases(run);
}

enum smtp_step smtp_run_resume(struct smtp_run *run)
{
    if (!run->suspended)
        return SMTP_STEP_NEXT;
    run->suspended = 0;
    run->resumes++;
    return run_phases(run);
}

void smtp_run_cancel(struct smtp_run *run)
{
    if (!run->suspended)
        return;
    run->suspended = 0;
    if (run->phase == SMTP_PHASE_HOOKS && run->hook_index < run->hooks->count) {
        const struct smtp_hook *h = &run->hooks->items[run->hook_index];
        if (h->cancel)
            h->cancel(run->session, h->hook_ctx);
    } else if (run->phase != SMTP_PHASE_HOOKS && run->ops->cancel_step) {
        run->ops->cancel_step(run->session, run->command);
    }
    run->phase = SMTP_PHASE_DONE;
}

int smtp_run_suspended(const struct smtp_run *run)
{
    return run->suspended;
}

const char *smtp_phase_name(enum smtp_phase phase)
{
    switch (phase) {
    case SMTP_PHASE_PARSE:
        return "parse";
    case SMTP_PHASE_CHECK:
        return "check";
    case SMTP_PHASE_HOOKS:
        return "hooks";
    case SMTP_PHASE_PROCEED:
        return "proceed";
    case SMTP_PHASE_DONE:
        break;
    }
    return "done";
}
