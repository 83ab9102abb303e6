/* backoff.c: retry timing of deferred mail (see backoff.h). */
#include "queue/backoff.h"

#include <limits.h>
#include <stdint.h>

/* Seconds from arrival to now: 0 when the clock went backwards, LONG_MAX
 * when the difference does not fit (an arrival time from a damaged
 * queue file may be anything). Computed in unsigned arithmetic, which
 * cannot overflow where now - arrival would. */
static long age_of(time_t now, time_t arrival)
{
    if (now <= arrival)
        return 0;
    uintmax_t age = (uintmax_t)now - (uintmax_t)arrival;
    return age > (uintmax_t)LONG_MAX ? LONG_MAX : (long)age;
}

long backoff_delay(time_t now, time_t arrival, long min_backoff,
                   long max_backoff)
{
    long delay = age_of(now, arrival);
    if (delay > max_backoff)
        delay = max_backoff;
    if (delay < min_backoff)
        delay = min_backoff;
    return delay;
}

int backoff_expired(time_t now, time_t arrival, long lifetime)
{
    if (lifetime <= 0)
        return 1;
    return now >= arrival && age_of(now, arrival) >= lifetime;
}

int backoff_warn_due(time_t now, time_t arrival, long warn_after,
                     int already_warned)
{
    if (warn_after <= 0 || already_warned)
        return 0;
    return now >= arrival && age_of(now, arrival) >= warn_after;
}
