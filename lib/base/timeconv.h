/* timeconv.h: overflow-free arithmetic on time limits.
 *
 * Time parameters are whole seconds up to INT_MAX (config_parse_time
 * refuses more, as Postfix does). Turning one into milliseconds, adding
 * it to the clock, or handing it to poll(), which takes an int of
 * milliseconds (at most about 24.8 days), must neither overflow nor wrap
 * to a negative value (which poll reads as "wait forever" and nanosleep
 * refuses). These helpers saturate instead: a limit too long to
 * represent becomes the longest one that can be. */
#ifndef POSTERN_TIMECONV_H
#define POSTERN_TIMECONV_H

#include <time.h>

/* seconds * 1000, saturating at LLONG_MAX; a negative count gives 0. */
long long timeconv_sec_to_ms(long long seconds);

/* A millisecond count for poll(), epoll_wait() or a stream timeout:
 * clamped to [0, INT_MAX]; a negative count gives 0. */
int timeconv_ms_to_int(long long ms);

/* The two above together: a limit in seconds as int milliseconds. */
int timeconv_sec_to_int_ms(long long seconds);

/* now + seconds, saturating at the largest (and smallest) time_t. */
time_t timeconv_add_sec(time_t now, long long seconds);

/* a + b for unsigned 64-bit millisecond clocks, saturating at
 * UINT64_MAX (a deadline that never comes, instead of one in the past). */
unsigned long long timeconv_add_ms(unsigned long long a, unsigned long long b);

#endif
