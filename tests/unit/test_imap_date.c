/* test_imap_date.c: unit tests for lib/imap/imap_date: SEARCH dates,
 * APPEND date-times with zones, every field's range, and the
 * INTERNALDATE writer. */
#include <string.h>

#include "base/buf.h"
#include "imap/imap_date.h"
#include "unit.h"

static int date_ok(const char *text, struct imap_date *date)
{
    return imap_date_parse(text, strlen(text), date) == 0;
}

static void test_date(void)
{
    struct imap_date d;
    CHECK(date_ok("1-Feb-1994", &d));
    CHECK_INT(d.day, 1);
    CHECK_INT(d.month, 2);
    CHECK_INT(d.year, 1994);
    CHECK(date_ok("29-feb-2024", &d));
    CHECK(!date_ok("29-Feb-2023", &d));
    CHECK(!date_ok("29-Feb-1900", &d));
    CHECK(date_ok("29-Feb-2000", &d));
    CHECK(!date_ok("31-Apr-2020", &d));
    CHECK(!date_ok("0-Jan-2020", &d));
    CHECK(!date_ok("001-Jan-2020", &d));
    CHECK(!date_ok("1-Foo-2020", &d));
    CHECK(!date_ok("1-Jan-20", &d));
    CHECK(!date_ok("1-Jan-2020x", &d));
    CHECK(!date_ok("", &d));
    CHECK(!date_ok("1 Jan 2020", &d));
    CHECK(date_ok("01-Jan-1970", &d));
    CHECK_INT(imap_date_days(&d), 0);
    CHECK(date_ok("1-Mar-2000", &d));
    CHECK_INT(imap_date_utc(&d), 951868800);
}

static int dt_ok(const char *text, time_t *when, int *zone)
{
    return imap_date_time_parse(text, strlen(text), when, zone) == 0;
}

static void test_date_time(void)
{
    time_t when;
    int zone;
    CHECK(dt_ok("17-Jul-1996 02:44:25 -0700", &when, &zone));
    CHECK_INT(when, 837596665);
    CHECK_INT(zone, -420);
    CHECK(dt_ok(" 7-Jul-1996 02:44:25 +0000", &when, &zone));
    CHECK(dt_ok("31-Dec-2026 23:59:60 +1345", &when, &zone));
    CHECK_INT(zone, 825);
    CHECK(!dt_ok("7-Jul-1996 02:44:25 -0700", &when, &zone));
    CHECK(!dt_ok("17-Jul-1996 24:00:00 -0700", &when, &zone));
    CHECK(!dt_ok("17-Jul-1996 02:60:00 -0700", &when, &zone));
    CHECK(!dt_ok("17-Jul-1996 02:44:61 -0700", &when, &zone));
    CHECK(!dt_ok("17-Jul-1996 02:44:25 -0760", &when, &zone));
    CHECK(!dt_ok("17-Jul-1996 02:44:25 0700", &when, &zone));
    CHECK(!dt_ok("17-Jul-1996 02:44:25  -0700", &when, &zone));
    CHECK(!dt_ok("30-Feb-1996 02:44:25 -0700", &when, &zone));
}

static void test_format(void)
{
    struct buf out = BUF_INIT;
    imap_date_time_format(837596665, -420, &out);
    CHECK_STR(out.data, "\"17-Jul-1996 02:44:25 -0700\"");
    buf_reset(&out);
    imap_date_time_format(0, 60, &out);
    CHECK_STR(out.data, "\"01-Jan-1970 01:00:00 +0100\"");
    buf_reset(&out);
    imap_date_time_format(-1, 0, &out);
    CHECK_STR(out.data, "\"31-Dec-1969 23:59:59 +0000\"");
    /* Round trip over a spread of times and zones. */
    for (long long t = -100000000LL; t < 4000000000LL; t += 123456789) {
        for (int z = -720; z <= 840; z += 345) {
            time_t back;
            int zone;
            buf_reset(&out);
            imap_date_time_format((time_t)t, z, &out);
            CHECK(imap_date_time_parse(out.data + 1, out.len - 2, &back,
                                       &zone) == 0);
            CHECK_INT(back, t);
            CHECK_INT(zone, z);
        }
    }
    buf_free(&out);
}

int main(void)
{
    UNIT_RUN(test_date);
    UNIT_RUN(test_date_time);
    UNIT_RUN(test_format);
    return unit_summary();
}
