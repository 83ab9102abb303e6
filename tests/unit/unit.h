/* unit.h: a tiny unit-test harness for C modules.
 *
 * Each tests/unit/test_NAME.c is one program. It runs its cases with
 * UNIT_RUN(case) and ends with `return unit_summary();`. Every case
 * prints one line that tests/run counts:
 *   ok NAME | not ok NAME: file:line: what failed | skip NAME: why   */
#ifndef POSTERN_UNIT_H
#define POSTERN_UNIT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int unit_case_failed;
static const char *unit_skip_reason;
static int unit_passed, unit_failed, unit_skipped;

#define CHECK(cond)                                                          \
    do {                                                                     \
        if (!(cond)) {                                                       \
            if (!unit_case_failed)                                           \
                printf("#   %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, \
                       #cond);                                               \
            unit_case_failed = 1;                                            \
        }                                                                    \
    } while (0)

#define CHECK_STR(actual, expected)                                          \
    do {                                                                     \
        const char *unit_a = (actual), *unit_e = (expected);                 \
        if (unit_a == NULL || unit_e == NULL ? unit_a != unit_e              \
                                             : strcmp(unit_a, unit_e) != 0) { \
            printf("#   %s:%d: %s is \"%s\", expected \"%s\"\n", __FILE__,   \
                   __LINE__, #actual, unit_a ? unit_a : "(null)",            \
                   unit_e ? unit_e : "(null)");                              \
            unit_case_failed = 1;                                            \
        }                                                                    \
    } while (0)

#define CHECK_INT(actual, expected)                                          \
    do {                                                                     \
        long long unit_a = (long long)(actual), unit_e = (long long)(expected); \
        if (unit_a != unit_e) {                                              \
            printf("#   %s:%d: %s is %lld, expected %lld\n", __FILE__,       \
                   __LINE__, #actual, unit_a, unit_e);                       \
            unit_case_failed = 1;                                            \
        }                                                                    \
    } while (0)

/* Marks the running case skipped, with the reason shown to the user. */
#define SKIP(reason)                                                         \
    do {                                                                     \
        unit_skip_reason = (reason);                                         \
        return;                                                              \
    } while (0)

#define UNIT_RUN(fn)                                                         \
    do {                                                                     \
        unit_case_failed = 0;                                                \
        unit_skip_reason = NULL;                                             \
        fflush(stdout);                                                      \
        fn();                                                                \
        if (unit_skip_reason) {                                              \
            printf("skip %s: %s\n", #fn, unit_skip_reason);                  \
            unit_skipped++;                                                  \
        } else if (unit_case_failed) {                                       \
            printf("not ok %s\n", #fn);                                      \
            unit_failed++;                                                   \
        } else {                                                             \
            printf("ok %s\n", #fn);                                          \
            unit_passed++;                                                   \
        }                                                                    \
        fflush(stdout);                                                      \
    } while (0)

static inline int unit_summary(void)
{
    printf("# %d passed, %d failed, %d skipped\n", unit_passed, unit_failed,
           unit_skipped);
    return unit_failed ? 1 : 0;
}

#endif
