/* timeconv.c: saturating time-limit arithmetic (see timeconv.h). */
#include "base/timeconv.h"

#include <limits.h>
#include <stdint.h>

long long timeconv_sec_to_ms(long long seconds)
{
    if (seconds <= 0)
        return 0;
    if (seconds > LLONG_MAX / 1000)
        return LLONG_MAX;
    return seconds * 1000;
}

int timeconv_ms_to_int(long long ms)
{
    if (ms <= 0)
        return 0;
    if (ms > INT_MAX)
        return INT_MAX;
    return (int)ms;
}

int timeconv_sec_to_int_ms(long long seconds)
{
    return timeconv_ms_to_int(timeconv_sec_to_ms(seconds));
}

/* The largest and smallest values of the signed integer type time_t. */
#define TIME_T_MAX ((time_t)(((uintmax_t)1 << (sizeof(time_t) * CHAR_BIT - 1)) - 1))
#define TIME_T_MIN (-TIME_T_MAX - 1)

time_t timeconv_add_sec(time_t now, long long seconds)
{
    if (seconds > 0 && (intmax_t)now > (intmax_t)TIME_T_MAX - seconds)
        return TIME_T_MAX;
    if (seconds < 0 && (intmax_t)now < (intmax_t)TIME_T_MIN - seconds)
        return TIME_T_MIN;
    return (time_t)(now + seconds);
}

unsigned long long timeconv_add_ms(unsigned long long a, unsigned long long b)
{
    return a > ULLONG_MAX - b ? ULLONG_MAX : a + b;
}
