/* backoff.c: retry timing of deferred mail (see backoff.h). */
#include "queue/backoff.h"

long backoff_delay(time_t now, time_t arrival, long min_backoff,
                   long max_backoff)
{
    long age = now > arrival ? (long)(now - arrival) : 0;
    long delay = age;
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
    return now >= arrival && (long)(now - arrival) >= lifetime;
}

int backoff_warn_due(time_t now, time_t arrival, long warn_after,
                     int already_warned)
{
    if (warn_after <= 0 || already_warned)
        return 0;
    return now >= arrival && (long)(now - arrival) >= warn_after;
}
