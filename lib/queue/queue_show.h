/* queue_show.h: what `postqueue -p`, `postqueue -j` and `mailq` do, as
 * Postfix's postqueue: ask the showq service for the listing and print
 * it; when the mail system is down, read the queue directly, but only
 * for root and mail_owner (nobody else can read it; Postern has no
 * set-gid program to cross that line).
 *
 * Messages and exit statuses are Postfix's (docs/postqueue.md): a user
 * not in authorized_mailq_users gets "User NAME(UID) is not allowed to
 * view the mail queue"; an ordinary user with the mail system down gets
 * "Queue report unavailable - mail system is down (...)"; both exit 69,
 * which is what Postfix's postqueue returns for every fatal error. */
#ifndef POSTERN_QUEUE_SHOW_H
#define POSTERN_QUEUE_SHOW_H

#include "queue/queue_list.h"

/* Prints the listing on stdout; returns 0. On any failure prints
 * "PROGRAM: fatal: ..." (lib/queue/qtool) and exits. */
int queue_show(const char *queue_directory, enum queue_list_format format);

/* 1 when the real or effective uid is root or the real uid is
 * mail_owner's: the users who may read the queue themselves. */
int queue_show_privileged(void);

#endif
