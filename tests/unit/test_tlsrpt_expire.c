/* test_tlsrpt_expire.c: unit tests for lib/tlsrpt/tlsrpt_expire: which
 * day files of DIR/tls-rpt a retention removes (days that ended longer
 * ago than it; today and the kept days stay; names that are not dates
 * stay), retention 0 keeping everything, a missing directory, and the
 * daily stamp (a second run the same UTC day does nothing, the next day
 * runs again). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tlsrpt/tlsrpt_expire.h"
#include "unit.h"

/* 2026-12-07 12:00:00 UTC */
#define NOW ((time_t)1796644800)
#define DAY 86400L

static char top[64];

static void make_dir(void)
{
    snprintf(top, sizeof(top), "/tmp/pt-tlsrpt-exp.XXXXXX");
    CHECK(mkdtemp(top) != NULL);
    char path[128];
    snprintf(path, sizeof(path), "%s/tls-rpt", top);
    CHECK(mkdir(path, 0700) == 0);
}

static void touch(const char *name)
{
    char path[160];
    snprintf(path, sizeof(path), "%s/tls-rpt/%s", top, name);
    int fd = open(path, O_WRONLY | O_CREAT, 0600);
    CHECK(fd >= 0);
    if (fd >= 0)
        close(fd);
}

static int exists(const char *name)
{
    char path[160];
    snprintf(path, sizeof(path), "%s/tls-rpt/%s", top, name);
    return access(path, F_OK) == 0;
}

static void remove_dir(void)
{
    char cmd[160];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
    CHECK(system(cmd) == 0);
}

static void test_removes_days_past_the_retention(void)
{
    make_dir();
    const char *names[] = {"2026-11-05", "2026-11-06", "2026-11-07",
                           "2026-12-06", "2026-12-07", "2025-12-31",
                           "notes",      "2026-11-0x", "2026-11-01.tmp"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        touch(names[i]);
    struct buf err = BUF_INIT;
    /* 30 days before NOW is 2026-11-07 12:00: 11-06 and older ended
     * before it; 11-07 did not. */
    CHECK_INT(tlsrpt_expire(top, NOW, 30 * DAY, &err), 3);
    CHECK_STR(buf_cstr(&err), "");
    CHECK(!exists("2026-11-05"));
    CHECK(!exists("2026-11-06"));
    CHECK(!exists("2025-12-31"));
    CHECK(exists("2026-11-07"));
    CHECK(exists("2026-12-06"));
    CHECK(exists("2026-12-07"));
    CHECK(exists("notes"));
    CHECK(exists("2026-11-0x"));
    CHECK(exists("2026-11-01.tmp"));
    /* Retention 0: nothing goes. */
    touch("2020-01-01");
    CHECK_INT(tlsrpt_expire(top, NOW, 0, &err), 0);
    CHECK(exists("2020-01-01"));
    buf_free(&err);
    remove_dir();
}

static void test_missing_directory(void)
{
    struct buf err = BUF_INIT;
    CHECK_INT(tlsrpt_expire("/tmp/pt-no-such-dir-tlsrpt", NOW, DAY, &err), 0);
    CHECK_INT(tlsrpt_expire_daily("/tmp/pt-no-such-dir-tlsrpt", NOW, DAY,
                                  &err),
              0);
    CHECK_STR(buf_cstr(&err), "");
    buf_free(&err);
}

static void test_once_a_day(void)
{
    make_dir();
    touch("2026-01-01");
    struct buf err = BUF_INIT;
    CHECK_INT(tlsrpt_expire_daily(top, NOW, 30 * DAY, &err), 1);
    CHECK(exists(TLSRPT_EXPIRE_STAMP));
    /* Later the same UTC day: the stamp says it ran. */
    touch("2026-01-02");
    CHECK_INT(tlsrpt_expire_daily(top, NOW + 3600, 30 * DAY, &err), 0);
    CHECK(exists("2026-01-02"));
    /* The next day it runs again; the stamp itself is never removed. */
    CHECK_INT(tlsrpt_expire_daily(top, NOW + DAY, 30 * DAY, &err), 1);
    CHECK(!exists("2026-01-02"));
    CHECK(exists(TLSRPT_EXPIRE_STAMP));
    CHECK_STR(buf_cstr(&err), "");
    buf_free(&err);
    remove_dir();
}

int main(void)
{
    UNIT_RUN(test_removes_days_past_the_retention);
    UNIT_RUN(test_missing_directory);
    UNIT_RUN(test_once_a_day);
    return unit_summary();
}
