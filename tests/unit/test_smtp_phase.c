/* test_smtp_phase.c: unit tests for lib/smtp/smtp_phase, the command
 * phases (parse, check, hooks, proceed) and suspend/resume.
 *
 * A test hook suspends every command (every SMTP verb and both
 * pseudo-commands) and is resumed later, as an answer from a service
 * would resume it; each phase records what it did, so a step that ran
 * twice, ran out of order or ran after a stop shows in the trace. */
#include <string.h>

#include "base/buf.h"
#include "smtp/smtp_cmd.h"
#include "smtp/smtp_phase.h"
#include "unit.h"

/* The "session": what ran, in order, and the side effects counted. */
struct fake_session {
    struct smtp_run run;
    struct buf trace;
    unsigned proceeded[SMTP_COMMAND_MAX]; /* the side effect */
    unsigned done_count;
    enum smtp_step last_outcome;
    /* Behaviour asked of the steps. */
    int parse_stops;          /* parse replies with an error */
    int check_waits;          /* check suspends this many times */
    int check_progress;       /* what check has done (kept over a wait) */
    int hook_waits;           /* the waiting hook suspends once per command */
    int hook_answered;        /* the answer came: the hook may go on */
    int hook_rejects;         /* ... and it says reject */
    unsigned hook_cancelled;  /* cancel calls */
    unsigned check_cancelled; /* cancel_step calls */
};

static void note(struct fake_session *f, const char *what, unsigned command)
{
    buf_appendf(&f->trace, "%s:%u ", what, command);
}

static enum smtp_step fake_parse(void *session, unsigned command)
{
    struct fake_session *f = session;
    note(f, "parse", command);
    return f->parse_stops ? SMTP_STEP_STOP : SMTP_STEP_NEXT;
}

/* Two restrictions; the second waits check_waits times (as DNS would)
 * and must not make the first run again. */
static enum smtp_step fake_check(void *session, unsigned command)
{
    struct fake_session *f = session;
    if (f->check_progress == 0) {
        note(f, "check1", command);
        f->check_progress = 1;
    }
    if (f->check_waits > 0) {
        f->check_waits--;
        note(f, "check-wait", command);
        return SMTP_STEP_SUSPEND;
    }
    note(f, "check2", command);
    f->check_progress = 0;
    return SMTP_STEP_NEXT;
}

static enum smtp_step fake_proceed(void *session, unsigned command)
{
    struct fake_session *f = session;
    note(f, "proceed", command);
    f->proceeded[command]++;
    return SMTP_STEP_NEXT;
}

static void fake_done(void *session, unsigned command, enum smtp_step outcome)
{
    struct fake_session *f = session;
    note(f, "done", command);
    f->done_count++;
    f->last_outcome = outcome;
}

static void fake_cancel_step(void *session, unsigned command)
{
    struct fake_session *f = session;
    (void)command;
    f->check_cancelled++;
}

static const struct smtp_phase_ops fake_ops = {
    .parse = fake_parse,
    .check = fake_check,
    .proceed = fake_proceed,
    .done = fake_done,
    .cancel_step = fake_cancel_step,
};

/* The test hook: asks a "service" and suspends; called again on resume,
 * it finds the answer. */
static enum smtp_step waiting_hook(void *session, unsigned command,
                                   void *hook_ctx)
{
    struct fake_session *f = session;
    (void)hook_ctx;
    if (!f->hook_waits)
        return SMTP_STEP_NEXT;
    if (!f->hook_answered) {
        note(f, "hook-ask", command);
        return SMTP_STEP_SUSPEND;
    }
    f->hook_answered = 0;
    note(f, "hook-answer", command);
    return f->hook_rejects ? SMTP_STEP_STOP : SMTP_STEP_NEXT;
}

static void waiting_hook_cancel(void *session, void *hook_ctx)
{
    struct fake_session *f = session;
    (void)hook_ctx;
    f->hook_cancelled++;
}

/* A second hook that never waits: it must run once, after the first. */
static enum smtp_step quiet_hook(void *session, unsigned command,
                                 void *hook_ctx)
{
    (void)hook_ctx;
    note(session, "hook2", command);
    return SMTP_STEP_NEXT;
}

static struct smtp_hooks test_hooks;

static void setup(struct fake_session *f)
{
    memset(f, 0, sizeof(*f));
    buf_init(&f->trace);
    smtp_run_init(&f->run, &fake_ops, &test_hooks, f);
}

static void hooks_setup(unsigned commands)
{
    memset(&test_hooks, 0, sizeof(test_hooks));
    struct smtp_hook wait = {"test-wait", commands, waiting_hook,
                             waiting_hook_cancel, NULL};
    struct smtp_hook quiet = {"test-quiet", commands, quiet_hook, NULL, NULL};
    CHECK_INT(smtp_hooks_add(&test_hooks, &wait), 0);
    CHECK_INT(smtp_hooks_add(&test_hooks, &quiet), 0);
}

/* Every command list we have: the verbs and the pseudo-commands. */
static const unsigned every_command[] = {
    SMTP_VERB_UNKNOWN,    SMTP_VERB_HELO,           SMTP_VERB_EHLO,
    SMTP_VERB_MAIL,       SMTP_VERB_RCPT,           SMTP_VERB_DATA,
    SMTP_VERB_BDAT,       SMTP_VERB_RSET,           SMTP_VERB_NOOP,
    SMTP_VERB_QUIT,       SMTP_VERB_VRFY,           SMTP_VERB_EXPN,
    SMTP_VERB_HELP,       SMTP_VERB_STARTTLS,       SMTP_VERB_AUTH,
    SMTP_COMMAND_CONNECT, SMTP_COMMAND_END_OF_DATA,
};
#define EVERY_COMMAND (sizeof(every_command) / sizeof(every_command[0]))

static unsigned all_bits(void)
{
    unsigned bits = 0;
    for (size_t i = 0; i < EVERY_COMMAND; i++)
        bits |= SMTP_COMMAND_BIT(every_command[i]);
    return bits;
}

static void test_phases_in_order_without_hooks(void)
{
    memset(&test_hooks, 0, sizeof(test_hooks));
    struct fake_session f;
    setup(&f);
    CHECK_INT(smtp_run_start(&f.run, SMTP_VERB_NOOP), SMTP_STEP_NEXT);
    CHECK_STR(buf_cstr(&f.trace),
              "parse:8 check1:8 check2:8 proceed:8 done:8 ");
    CHECK_INT(smtp_run_suspended(&f.run), 0);
    buf_free(&f.trace);
}

static void test_hook_suspends_and_resumes_every_command(void)
{
    hooks_setup(all_bits());
    for (size_t i = 0; i < EVERY_COMMAND; i++) {
        unsigned command = every_command[i];
        struct fake_session f;
        setup(&f);
        f.hook_waits = 1;
        CHECK_INT(smtp_run_start(&f.run, command), SMTP_STEP_SUSPEND);
        CHECK_INT(smtp_run_suspended(&f.run), 1);
        CHECK_INT(f.proceeded[command], 0); /* nothing done while waiting */
        CHECK_INT(f.done_count, 0);
        CHECK_STR(smtp_phase_name(f.run.phase), "hooks");
        /* The answer arrives (the event loop's callback). */
        f.hook_answered = 1;
        CHECK_INT(smtp_run_resume(&f.run), SMTP_STEP_NEXT);
        CHECK_INT(smtp_run_suspended(&f.run), 0);
        CHECK_INT(f.proceeded[command], 1);
        CHECK_INT(f.done_count, 1);
        CHECK_INT(f.run.resumes, 1);
        struct buf want = BUF_INIT;
        buf_appendf(&want,
                    "parse:%u check1:%u check2:%u hook-ask:%u "
                    "hook-answer:%u hook2:%u proceed:%u done:%u ",
                    command, command, command, command, command, command,
                    command, command);
        CHECK_STR(buf_cstr(&f.trace), buf_cstr(&want));
        buf_free(&want);
        /* A resume with nothing suspended does nothing. */
        CHECK_INT(smtp_run_resume(&f.run), SMTP_STEP_NEXT);
        CHECK_INT(f.done_count, 1);
        buf_free(&f.trace);
    }
}

static void test_hook_only_for_its_commands(void)
{
    hooks_setup(SMTP_COMMAND_BIT(SMTP_VERB_RCPT));
    struct fake_session f;
    setup(&f);
    f.hook_waits = 1;
    CHECK_INT(smtp_run_start(&f.run, SMTP_VERB_MAIL), SMTP_STEP_NEXT);
    CHECK_INT(smtp_run_start(&f.run, SMTP_VERB_RCPT), SMTP_STEP_SUSPEND);
    f.hook_answered = 1;
    CHECK_INT(smtp_run_resume(&f.run), SMTP_STEP_NEXT);
    CHECK_INT(f.proceeded[SMTP_VERB_MAIL], 1);
    CHECK_INT(f.proceeded[SMTP_VERB_RCPT], 1);
    CHECK(strstr(buf_cstr(&f.trace), "hook-ask:3") == NULL);
    buf_free(&f.trace);
}

static void test_check_resumes_where_it_stopped(void)
{
    hooks_setup(all_bits());
    struct fake_session f;
    setup(&f);
    f.check_waits = 2; /* two lookups, one after the other */
    f.hook_waits = 1;
    CHECK_INT(smtp_run_start(&f.run, SMTP_VERB_RCPT), SMTP_STEP_SUSPEND);
    CHECK_STR(smtp_phase_name(f.run.phase), "check");
    CHECK_INT(smtp_run_resume(&f.run), SMTP_STEP_SUSPEND);
    CHECK_INT(smtp_run_resume(&f.run), SMTP_STEP_SUSPEND); /* the hook */
    f.hook_answered = 1;
    CHECK_INT(smtp_run_resume(&f.run), SMTP_STEP_NEXT);
    CHECK_STR(buf_cstr(&f.trace),
              "parse:4 check1:4 check-wait:4 check-wait:4 check2:4 "
              "hook-ask:4 hook-answer:4 hook2:4 proceed:4 done:4 ");
    CHECK_INT(f.proceeded[SMTP_VERB_RCPT], 1);
    CHECK_INT(f.run.resumes, 3);
    buf_free(&f.trace);
}

static void test_stop_skips_later_phases(void)
{
    hooks_setup(all_bits());
    struct fake_session f;
    setup(&f);
    f.parse_stops = 1;
    CHECK_INT(smtp_run_start(&f.run, SMTP_VERB_MAIL), SMTP_STEP_STOP);
    CHECK_STR(buf_cstr(&f.trace), "parse:3 done:3 ");
    CHECK_INT(f.last_outcome, SMTP_STEP_STOP);
    /* A hook that rejects after its wait: no proceed, the second hook
     * does not run, done runs once. */
    buf_reset(&f.trace);
    f.parse_stops = 0;
    f.hook_waits = 1;
    f.hook_rejects = 1;
    CHECK_INT(smtp_run_start(&f.run, SMTP_VERB_RCPT), SMTP_STEP_SUSPEND);
    f.hook_answered = 1;
    CHECK_INT(smtp_run_resume(&f.run), SMTP_STEP_STOP);
    CHECK_STR(buf_cstr(&f.trace), "parse:4 check1:4 check2:4 hook-ask:4 "
                                  "hook-answer:4 done:4 ");
    CHECK_INT(f.proceeded[SMTP_VERB_RCPT], 0);
    buf_free(&f.trace);
}

static void test_cancel_while_suspended(void)
{
    hooks_setup(all_bits());
    struct fake_session f;
    setup(&f);
    f.hook_waits = 1;
    CHECK_INT(smtp_run_start(&f.run, SMTP_VERB_DATA), SMTP_STEP_SUSPEND);
    smtp_run_cancel(&f.run); /* the client went away */
    CHECK_INT(f.hook_cancelled, 1);
    CHECK_INT(f.check_cancelled, 0);
    CHECK_INT(smtp_run_suspended(&f.run), 0);
    f.hook_answered = 1;
    CHECK_INT(smtp_run_resume(&f.run), SMTP_STEP_NEXT); /* ignored */
    CHECK_INT(f.proceeded[SMTP_VERB_DATA], 0);
    CHECK_INT(f.done_count, 0);
    smtp_run_cancel(&f.run); /* twice is harmless */
    CHECK_INT(f.hook_cancelled, 1);

    /* Waiting in CHECK: the server's cancel_step runs instead. */
    setup(&f);
    f.check_waits = 1;
    CHECK_INT(smtp_run_start(&f.run, SMTP_VERB_RCPT), SMTP_STEP_SUSPEND);
    smtp_run_cancel(&f.run);
    CHECK_INT(f.check_cancelled, 1);
    CHECK_INT(f.hook_cancelled, 0);
    CHECK_INT(f.done_count, 0);
    buf_free(&f.trace);
}

static void test_hook_table_is_bounded(void)
{
    struct smtp_hooks hooks;
    memset(&hooks, 0, sizeof(hooks));
    struct smtp_hook h = {"h", 1, quiet_hook, NULL, NULL};
    for (size_t i = 0; i < SMTP_HOOKS_MAX; i++)
        CHECK_INT(smtp_hooks_add(&hooks, &h), 0);
    CHECK_INT(smtp_hooks_add(&hooks, &h), -1);
    CHECK_INT(hooks.count, SMTP_HOOKS_MAX);
}

int main(void)
{
    UNIT_RUN(test_phases_in_order_without_hooks);
    UNIT_RUN(test_hook_suspends_and_resumes_every_command);
    UNIT_RUN(test_hook_only_for_its_commands);
    UNIT_RUN(test_check_resumes_where_it_stopped);
    UNIT_RUN(test_stop_skips_later_phases);
    UNIT_RUN(test_cancel_while_suspended);
    UNIT_RUN(test_hook_table_is_bounded);
    return unit_summary();
}
