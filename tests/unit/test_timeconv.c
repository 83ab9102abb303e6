/* test_timeconv.c: time limits up to INT_MAX seconds turned into
 * milliseconds, poll() timeouts and clock deadlines without overflow
 * (lib/base/timeconv.c), and the INT_MAX bound of config_parse_time. */
#include <limits.h>
#include <stdint.h>

#include "base/timeconv.h"
#include "config/config.h"
#include "unit.h"

#define TIME_T_MAX ((time_t)(((uintmax_t)1 << (sizeof(time_t) * CHAR_BIT - 1)) - 1))

static void test_seconds_to_ms(void)
{
    CHECK_INT(timeconv_sec_to_ms(0), 0);
    CHECK_INT(timeconv_sec_to_ms(-5), 0);
    CHECK_INT(timeconv_sec_to_ms(3600), 3600000);
    CHECK_INT(timeconv_sec_to_ms(INT_MAX), 2147483647000LL);
    CHECK_INT(timeconv_sec_to_ms(LLONG_MAX / 1000), LLONG_MAX / 1000 * 1000);
    CHECK_INT(timeconv_sec_to_ms(LLONG_MAX / 1000 + 1), LLONG_MAX);
    CHECK_INT(timeconv_sec_to_ms(LLONG_MAX), LLONG_MAX);
}

static void test_int_milliseconds(void)
{
    /* What poll() and stream timeouts get: never negative, never wrapped
     * ((int)(INT_MAX * 1000LL) would be -1000, "wait forever"). */
    CHECK_INT(timeconv_sec_to_int_ms(INT_MAX), INT_MAX);
    CHECK_INT(timeconv_sec_to_int_ms(2147483), 2147483000);
    CHECK_INT(timeconv_sec_to_int_ms(2147484), INT_MAX);
    CHECK_INT(timeconv_sec_to_int_ms(1), 1000);
    CHECK_INT(timeconv_sec_to_int_ms(0), 0);
    CHECK_INT(timeconv_sec_to_int_ms(-1), 0);
    CHECK_INT(timeconv_ms_to_int(LLONG_MAX), INT_MAX);
    CHECK_INT(timeconv_ms_to_int((long long)INT_MAX + 1), INT_MAX);
    CHECK_INT(timeconv_ms_to_int(LLONG_MIN), 0);
    CHECK_INT(timeconv_ms_to_int(1234), 1234);
}

static void test_clock_deadlines(void)
{
    time_t now = 1796000000; /* late 2026 */
    CHECK(timeconv_add_sec(now, INT_MAX) == now + (time_t)INT_MAX);
    CHECK(timeconv_add_sec(now, 0) == now);
    CHECK(timeconv_add_sec(now, -10) == now - 10);
    CHECK(timeconv_add_sec(TIME_T_MAX - 5, INT_MAX) == TIME_T_MAX);
    CHECK(timeconv_add_sec(TIME_T_MAX, 1) == TIME_T_MAX);
    CHECK(timeconv_add_sec(-TIME_T_MAX - 1, -1) == -TIME_T_MAX - 1);
    CHECK(timeconv_add_sec(now, LLONG_MAX) == TIME_T_MAX);
    CHECK(timeconv_add_ms(5, 7) == 12);
    CHECK(timeconv_add_ms(UINT64_MAX - 1, 5) == UINT64_MAX);
    CHECK(timeconv_add_ms(1000, (unsigned long long)INT_MAX * 1000ULL) ==
          1000 + 2147483647000ULL);
}

static void test_parse_bound(void)
{
    /* As Postfix: a time is at most INT_MAX seconds; more is refused as
     * a bad time value (fatal in a daemon, reported by postern check),
     * never clamped. */
    long seconds = -1;
    CHECK_INT(config_parse_time("2147483647s", 's', &seconds), 0);
    CHECK_INT(seconds, INT_MAX);
    CHECK_INT(config_parse_time("2147483647", 's', &seconds), 0);
    CHECK_INT(seconds, INT_MAX);
    CHECK_INT(config_parse_time("2147483648s", 's', &seconds), -1);
    CHECK_INT(config_parse_time("9999999w", 's', &seconds), -1);
    CHECK_INT(config_parse_time("3550w", 's', &seconds), 0);
    CHECK_INT(seconds, 3550L * 7 * 86400);
    CHECK_INT(config_parse_time("3551w", 's', &seconds), -1);
    CHECK_INT(config_parse_time("24855d", 's', &seconds), 0);
    CHECK_INT(config_parse_time("24856d", 's', &seconds), -1);
    CHECK_INT(config_parse_time("596523h", 's', &seconds), 0);
    CHECK_INT(config_parse_time("596524h", 's', &seconds), -1);
    CHECK_INT(config_parse_time("35791394m", 's', &seconds), 0);
    CHECK_INT(seconds, 35791394L * 60);
    CHECK_INT(config_parse_time("35791395m", 's', &seconds), -1);
    /* A bare number in the default's unit is bounded the same way. */
    CHECK_INT(config_parse_time("24856", 'd', &seconds), -1);
    CHECK_INT(config_parse_time("9223372036854775807", 's', &seconds), -1);
}

int main(void)
{
    UNIT_RUN(test_seconds_to_ms);
    UNIT_RUN(test_int_milliseconds);
    UNIT_RUN(test_clock_deadlines);
    UNIT_RUN(test_parse_bound);
    return unit_summary();
}
