/* test_tlsrpt_record.c: unit tests for lib/tlsrpt/tlsrpt_record: a
 * record formatted and parsed back (every field, encoding of spaces,
 * '%', non-ASCII and a lone "-"), the day file's name, lines always
 * below PIPE_BUF however long the fields, appends from several
 * processes at once arriving whole, a day change switching files, and
 * damaged or foreign lines skipped by the reader. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tlsrpt/tlsrpt_record.h"
#include "unit.h"

static void sample(struct tlsrpt_record *r)
{
    memset(r, 0, sizeof(*r));
    r->when = 1765130000; /* 2025-12-07 UTC */
    snprintf(r->domain, sizeof(r->domain), "example.com");
    r->policy = TLSRPT_POLICY_STS;
    snprintf(r->policy_id, sizeof(r->policy_id), "20251207T1");
    snprintf(r->mode, sizeof(r->mode), "enforce");
    r->max_age = 86400;
    snprintf(r->mx, sizeof(r->mx), "mx.example.com,*.example.net");
    snprintf(r->result, sizeof(r->result), "certificate-host-mismatch");
    snprintf(r->host, sizeof(r->host), "mx.example.com");
    snprintf(r->addr, sizeof(r->addr), "192.0.2.1");
    snprintf(r->sender, sizeof(r->sender), "2001:db8::25");
    snprintf(r->reason, sizeof(r->reason),
             "Server certificate not verified (100%% sure) \xc3\xa9\ttab");
}

static void test_roundtrip(void)
{
    struct tlsrpt_record r, back;
    sample(&r);
    struct buf line = BUF_INIT;
    tlsrpt_record_format(&r, &line);
    CHECK_STR(line.data,
              "v1 1765130000 example.com sts 20251207T1 enforce 86400 "
              "mx.example.com,*.example.net certificate-host-mismatch "
              "mx.example.com 192.0.2.1 2001:db8::25 "
              "Server%20certificate%20not%20verified%20(100%25%20sure)%20"
              "%C3%A9%09tab\n");
    CHECK_INT(tlsrpt_record_parse(line.data, line.len, &back), 0);
    CHECK_INT((long)back.when, 1765130000);
    CHECK_STR(back.domain, "example.com");
    CHECK_INT(back.policy, TLSRPT_POLICY_STS);
    CHECK_STR(back.policy_id, "20251207T1");
    CHECK_STR(back.mode, "enforce");
    CHECK_INT(back.max_age, 86400);
    CHECK_STR(back.mx, r.mx);
    CHECK_STR(back.result, "certificate-host-mismatch");
    CHECK_STR(back.host, "mx.example.com");
    CHECK_STR(back.addr, "192.0.2.1");
    CHECK_STR(back.sender, "2001:db8::25");
    CHECK_STR(back.reason, r.reason);

    /* Empty fields are "-"; a value that is "-" itself survives. */
    memset(&r, 0, sizeof(r));
    r.when = 5;
    snprintf(r.domain, sizeof(r.domain), "a.example");
    snprintf(r.result, sizeof(r.result), "success");
    snprintf(r.reason, sizeof(r.reason), "-");
    tlsrpt_record_format(&r, &line);
    CHECK_STR(line.data,
              "v1 5 a.example no-policy-found - - 0 - success - - - %2D\n");
    CHECK_INT(tlsrpt_record_parse(line.data, line.len, &back), 0);
    CHECK_INT(back.policy, TLSRPT_POLICY_NONE);
    CHECK_STR(back.policy_id, "");
    CHECK_STR(back.reason, "-");
    buf_free(&line);
}

static void test_bad_lines(void)
{
    struct tlsrpt_record r;
    static const char *const bad[] = {
        "",
        "v2 1 a.example sts - - 0 - success - - - -",
        "v1 1 a.example sts - - 0 - success - - -",       /* 12 fields */
        "v1 1 a.example sts - - 0 - success - - - - x",   /* 14 */
        "v1 x a.example sts - - 0 - success - - - -",     /* time */
        "v1 1 a.example dane - - 0 - success - - - -",    /* policy type */
        "v1 1 a.example sts - - 0 - success - - - %4",    /* short escape */
        "v1 1 a.example sts - - 0 - success - - - %zz",   /* bad escape */
        "v1 1 a.example sts - - 0 - success - - - %00",   /* NUL */
        "v1 1 a.example  sts - - 0 - success - - - -",    /* empty field */
        "v1 1 - sts - - 0 - success - - - -",             /* no domain */
        "v1 1 a.example sts - - 0 - - - - - -",           /* no result */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int rc = tlsrpt_record_parse(bad[i], strlen(bad[i]), &r);
        if (rc != -1)
            printf("#   accepted: %s\n", bad[i]);
        CHECK_INT(rc, -1);
    }
}

static void test_long_fields_stay_below_pipe_buf(void)
{
    struct tlsrpt_record r, back;
    sample(&r);
    memset(r.domain, 0xff, sizeof(r.domain) - 1);
    r.domain[sizeof(r.domain) - 1] = '\0';
    memset(r.host, ' ', sizeof(r.host) - 1);
    r.host[sizeof(r.host) - 1] = '\0';
    memset(r.mx, 'm', sizeof(r.mx) - 1);
    r.mx[sizeof(r.mx) - 1] = '\0';
    memset(r.reason, '%', sizeof(r.reason) - 1);
    r.reason[sizeof(r.reason) - 1] = '\0';
    struct buf line = BUF_INIT;
    tlsrpt_record_format(&r, &line);
    CHECK(line.len <= TLSRPT_LINE_MAX);
    CHECK(line.len < PIPE_BUF);
    CHECK(line.data[line.len - 1] == '\n');
    /* Cut fields still parse: the domain too long for the record is
     * refused as a whole. */
    r.domain[10] = '\0';
    memset(r.domain, 'd', 10);
    tlsrpt_record_format(&r, &line);
    CHECK(line.len < PIPE_BUF);
    CHECK_INT(tlsrpt_record_parse(line.data, line.len, &back), 0);
    CHECK_STR(back.domain, "dddddddddd");
    CHECK(strlen(back.reason) > 100);
    buf_free(&line);
}

struct tally {
    long count;
    long per_writer[4];
    char last_result[40];
};

static void count_record(const struct tlsrpt_record *r, void *ctx)
{
    struct tally *t = ctx;
    t->count++;
    int writer = atoi(r->host);
    if (writer >= 0 && writer < 4)
        t->per_writer[writer]++;
    snprintf(t->last_result, sizeof(t->last_result), "%s", r->result);
}

static void test_append_concurrent_and_read(void)
{
    char dir[] = "/tmp/pt-tlsrpt-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    struct buf path = BUF_INIT, err = BUF_INIT;
    tlsrpt_day_path(dir, 1765130000, &path);
    char want[128];
    snprintf(want, sizeof(want), "%s/tls-rpt/2025-12-07", dir);
    CHECK_STR(path.data, want);

    /* Four processes append 200 records of 1.5 KiB each at once. */
    for (int w = 0; w < 4; w++) {
        pid_t pid = fork();
        if (pid == 0) {
            struct tlsrpt_record r;
            sample(&r);
            snprintf(r.host, sizeof(r.host), "%d", w);
            memset(r.reason, 'r', sizeof(r.reason) - 1);
            r.reason[sizeof(r.reason) - 1] = '\0';
            memset(r.mx, 'm', TLSRPT_MX_MAX);
            r.mx[TLSRPT_MX_MAX] = '\0';
            struct buf e = BUF_INIT;
            for (int i = 0; i < 200; i++)
                if (tlsrpt_record_append(dir, &r, &e) != 0)
                    _exit(1);
            _exit(0);
        }
    }
    for (int w = 0; w < 4; w++) {
        int status = 0;
        wait(&status);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    struct tally t;
    memset(&t, 0, sizeof(t));
    CHECK_INT(tlsrpt_read_day(path.data, count_record, &t, &err), 800);
    for (int w = 0; w < 4; w++)
        CHECK_INT(t.per_writer[w], 200);

    /* A damaged line (a foreign one) between records is skipped. */
    FILE *f = fopen(path.data, "a");
    CHECK(f != NULL);
    if (f) {
        fputs("garbage line\nv1 truncated", f);
        fputs("\n", f);
        fclose(f);
    }
    struct tlsrpt_record r;
    sample(&r);
    snprintf(r.result, sizeof(r.result), "success");
    CHECK_INT(tlsrpt_record_append(dir, &r, &err), 0);
    memset(&t, 0, sizeof(t));
    CHECK_INT(tlsrpt_read_day(path.data, count_record, &t, &err), 801);
    CHECK_STR(t.last_result, "success");

    /* The next day goes to its own file. */
    r.when += 86400;
    CHECK_INT(tlsrpt_record_append(dir, &r, &err), 0);
    tlsrpt_day_path(dir, r.when, &path);
    memset(&t, 0, sizeof(t));
    CHECK_INT(tlsrpt_read_day(path.data, count_record, &t, &err), 1);
    tlsrpt_record_close();

    /* A missing day is no records. */
    tlsrpt_day_path(dir, 0, &path);
    CHECK_INT(tlsrpt_read_day(path.data, count_record, &t, &err), 0);

    char cmd[160];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    CHECK(system(cmd) == 0);
    buf_free(&path);
    buf_free(&err);
}

int main(void)
{
    UNIT_RUN(test_roundtrip);
    UNIT_RUN(test_bad_lines);
    UNIT_RUN(test_long_fields_stay_below_pipe_buf);
    UNIT_RUN(test_append_concurrent_and_read);
    return unit_summary();
}
