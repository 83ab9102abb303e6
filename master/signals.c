/* signals.c: master's signal handling.
 *
 * Handlers only set flags. The signals stay blocked except while the main
 * loop sleeps in ppoll(2), so a flag is never set between the loop's
 * check and its sleep (no lost wake-up) and no handler ever interrupts
 * the code that changes the service table. */
#include <errno.h>
#include <signal.h>
#include <string.h>

#include "base/log.h"
#include "master.h"

volatile sig_atomic_t signal_got_hup, signal_got_term, signal_got_chld;
volatile sig_atomic_t signal_term_number;

static const int handled_signals[] = {SIGHUP, SIGTERM, SIGINT, SIGCHLD};

static void on_signal(int signo)
{
    switch (signo) {
    case SIGHUP:
        signal_got_hup = 1;
        break;
    case SIGCHLD:
        signal_got_chld = 1;
        break;
    default:
        signal_got_term = 1;
        signal_term_number = signo;
        break;
    }
}

void signals_init(sigset_t *wait_mask)
{
    sigset_t block;
    sigemptyset(&block);
    for (size_t i = 0; i < sizeof(handled_signals) / sizeof(*handled_signals);
         i++) {
        struct sigaction action;
        memset(&action, 0, sizeof(action));
        action.sa_handler = on_signal;
        sigemptyset(&action.sa_mask);
        action.sa_flags = handled_signals[i] == SIGCHLD ? SA_NOCLDSTOP : 0;
        if (sigaction(handled_signals[i], &action, NULL) < 0)
            log_fatal("sigaction: %s", strerror(errno));
        sigaddset(&block, handled_signals[i]);
    }
    /* A child that closes its end of a pipe must not kill master. */
    signal(SIGPIPE, SIG_IGN);
    if (sigprocmask(SIG_BLOCK, &block, wait_mask) < 0)
        log_fatal("sigprocmask: %s", strerror(errno));
    for (size_t i = 0; i < sizeof(handled_signals) / sizeof(*handled_signals);
         i++)
        sigdelset(wait_mask, handled_signals[i]);
}

void signals_reset_for_child(void)
{
    for (size_t i = 0; i < sizeof(handled_signals) / sizeof(*handled_signals);
         i++)
        signal(handled_signals[i], SIG_DFL);
    signal(SIGPIPE, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
}
