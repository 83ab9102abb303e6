/* backoff.h: retry timing of deferred mail, as pure functions.
 *
 * qmgr keeps a deferred message's next attempt in the queue file's mtime;
 * these functions decide that time, whether a message has expired, and
 * whether a delay warning is due. They read no configuration and no
 * clock, so unit tests (tests/unit/test_backoff.c) can drive them.
 *
 * The backoff is Postfix's: the delay before the next attempt is the age
 * of the message (time since arrival), clamped to [minimal_backoff_time,
 * maximal_backoff_time]. A message retried at age A is next tried at
 * about 2A, so the interval doubles until it reaches the maximum. */
#ifndef POSTERN_BACKOFF_H
#define POSTERN_BACKOFF_H

#include <time.h>

/* Seconds to wait before the next attempt of a message that arrived at
 * `arrival`, deferred at `now`. min <= result <= max (min wins when
 * max < min). A clock that went backwards counts as age 0. */
long backoff_delay(time_t now, time_t arrival, long min_backoff,
                   long max_backoff);

/* 1 when a message that arrived at `arrival` has been queued longer than
 * `lifetime` seconds at `now` and its deferred recipients must be
 * returned; lifetime 0 means "return on the first temporary failure". */
int backoff_expired(time_t now, time_t arrival, long lifetime);

/* 1 when a delay warning is due: warning enabled (warn_after > 0), not
 * sent yet (already_warned 0), and the message older than warn_after. */
int backoff_warn_due(time_t now, time_t arrival, long warn_after,
                     int already_warned);

#endif
