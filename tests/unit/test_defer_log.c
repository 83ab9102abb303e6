/* test_defer_log.c: unit tests for lib/queue/defer_log (the defer/ and bounce/
 * recipient status logs): round trips, appends, the reader's bounds and
 * fail-closed checks, removal. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buf.h"
#include "queue/defer_log.h"
#include "queue/queue_dirs.h"
#include "unit.h"

static char queue_dir[64];

static void setup_queue(void)
{
    strcpy(queue_dir, "/tmp/test_defer_log.XXXXXX");
    if (mkdtemp(queue_dir) == NULL)
        abort();
    struct buf err = BUF_INIT;
    if (queue_dirs_create(queue_dir, 0700, &err) < 0)
        abort();
    buf_free(&err);
}

static void cleanup_queue(void)
{
    char *cmd = NULL;
    if (asprintf(&cmd, "rm -rf '%s'", queue_dir) > 0 && system(cmd) != 0)
        printf("# cleanup of %s failed\n", queue_dir);
    free(cmd);
}

static void make_entry(struct defer_log_entry *e, const char *rcpt,
                       uint64_t offset, const char *status, const char *reason)
{
    memset(e, 0, sizeof(*e));
    e->recipient = (char *)rcpt;
    e->orig_rcpt = (char *)"";
    e->offset = offset;
    e->log_time = 1732321234;
    if (dsn_set(&e->dsn, status, -1, reason, NULL, NULL, NULL, NULL) < 0)
        abort();
}

static enum defer_log_result parse_str(const char *text, struct defer_log *log,
                                       struct buf *err)
{
    buf_reset(err);
    return defer_log_parse(text, strlen(text), log, err);
}

static void test_encode_parse_round_trip(void)
{
    struct defer_log_entry e;
    make_entry(&e, "user@example.com", 120, "4.4.1", "connection refused");
    e.orig_rcpt = (char *)"User@Example.COM";
    free(e.dsn.mta_type);
    e.dsn.mta_type = strdup("dns");
    e.dsn.mta_name = strdup("mx.example.com");
    e.dsn.diag_type = strdup("smtp");
    e.dsn.diag_text = strdup("451 4.4.1 try later");
    struct buf text = BUF_INIT, err = BUF_INIT;
    CHECK_INT(defer_log_encode(&e, &text, &err), 0);
    CHECK_STR(buf_cstr(&text), "recipient=user@example.com\n"
                               "orig_rcpt=User@Example.COM\n"
                               "offset=120\n"
                               "status=4.4.1\n"
                               "action=delayed\n"
                               "reason=connection refused\n"
                               "mta_type=dns\n"
                               "mta_name=mx.example.com\n"
                               "diag_type=smtp\n"
                               "diag_text=451 4.4.1 try later\n"
                               "log_time=1732321234\n\n");
    struct defer_log log;
    CHECK_INT(defer_log_parse(text.data, text.len, &log, &err), DEFER_LOG_OK);
    CHECK_INT(log.count, 1);
    if (log.count == 1) {
        CHECK_STR(log.entries[0].recipient, "user@example.com");
        CHECK_STR(log.entries[0].orig_rcpt, "User@Example.COM");
        CHECK_INT(log.entries[0].offset, 120);
        CHECK_STR(log.entries[0].dsn.status, "4.4.1");
        CHECK_INT(log.entries[0].dsn.action, DSN_ACTION_DELAYED);
        CHECK_STR(log.entries[0].dsn.reason, "connection refused");
        CHECK_STR(log.entries[0].dsn.mta_name, "mx.example.com");
        CHECK_STR(log.entries[0].dsn.diag_text, "451 4.4.1 try later");
        CHECK_INT(log.entries[0].log_time, 1732321234);
    }
    defer_log_free(&log);
    dsn_free(&e.dsn);
    buf_free(&text);
    buf_free(&err);
}

static void test_free_text_is_made_printable_and_bounded(void)
{
    struct defer_log_entry e;
    struct buf reason = BUF_INIT, text = BUF_INIT, err = BUF_INIT;
    buf_append_str(&reason, "line one\r\nline\ttwo ");
    while (reason.len < DEFER_LOG_MAX_TEXT - 1)
        buf_append_char(&reason, 'x');
    buf_append_str(&reason, "\xc3\xa9tail"); /* é straddles the limit */
    make_entry(&e, "a@example.com", 1, "5.1.1", buf_cstr(&reason));
    CHECK_INT(defer_log_encode(&e, &text, &err), 0);
    struct defer_log log;
    CHECK_INT(defer_log_parse(text.data, text.len, &log, &err), DEFER_LOG_OK);
    if (log.count == 1) {
        const char *r = log.entries[0].dsn.reason;
        CHECK(strncmp(r, "line one??line?two ", 19) == 0);
        CHECK_INT(strlen(r), DEFER_LOG_MAX_TEXT - 1); /* cut before é */
        CHECK_INT(log.entries[0].dsn.action, DSN_ACTION_FAILED);
    }
    defer_log_free(&log);
    dsn_free(&e.dsn);
    buf_free(&reason);
    buf_free(&text);
    buf_free(&err);
}

static void test_encode_refuses_bad_fields(void)
{
    struct defer_log_entry e;
    struct buf text = BUF_INIT, err = BUF_INIT;
    make_entry(&e, "bad\nrcpt@example.com", 1, "4.0.0", "x");
    CHECK_INT(defer_log_encode(&e, &text, &err), -1);
    CHECK_INT(text.len, 0); /* nothing half-written */
    e.recipient = (char *)"";
    CHECK_INT(defer_log_encode(&e, &text, &err), -1);
    e.recipient = (char *)"ok@example.com";
    strcpy(e.dsn.status, "4.4");
    CHECK_INT(defer_log_encode(&e, &text, &err), -1);
    CHECK_INT(text.len, 0);
    dsn_free(&e.dsn);
    buf_free(&text);
    buf_free(&err);
}

static void test_append_read_find_remove(void)
{
    setup_queue();
    struct defer_log_entry e[2];
    make_entry(&e[0], "a@example.com", 100, "4.4.1", "first try");
    make_entry(&e[1], "b@example.com", 140, "4.2.2", "mailbox full");
    struct buf err = BUF_INIT;
    CHECK_INT(defer_log_append(queue_dir, QUEUE_DEFER, "ABC123", e, 2, 0, &err),
              0);
    dsn_free(&e[0].dsn);
    make_entry(&e[0], "a@example.com", 100, "4.4.2", "second try");
    CHECK_INT(defer_log_append(queue_dir, QUEUE_DEFER, "ABC123", e, 1, 1, &err),
              0);
    struct defer_log log;
    CHECK_INT(defer_log_read(queue_dir, QUEUE_DEFER, "ABC123", &log, &err),
              DEFER_LOG_OK);
    CHECK_INT(log.count, 3);
    const struct defer_log_entry *last = defer_log_find(&log, 100);
    CHECK(last != NULL);
    if (last)
        CHECK_STR(last->dsn.reason, "second try");
    CHECK(defer_log_find(&log, 999) == NULL);
    defer_log_free(&log);

    struct stat st;
    char path[128];
    snprintf(path, sizeof(path), "%s/defer/ABC123", queue_dir);
    CHECK_INT(stat(path, &st), 0);
    CHECK_INT(st.st_mode & 0777, 0600);

    CHECK_INT(defer_log_read(queue_dir, QUEUE_BOUNCE, "ABC123", &log, &err),
              DEFER_LOG_NOTFOUND);
    defer_log_free(&log);
    CHECK_INT(defer_log_remove(queue_dir, QUEUE_DEFER, "ABC123", &err), 0);
    CHECK_INT(defer_log_remove(queue_dir, QUEUE_DEFER, "ABC123", &err), 0);
    CHECK_INT(defer_log_read(queue_dir, QUEUE_DEFER, "ABC123", &log, &err),
              DEFER_LOG_NOTFOUND);
    defer_log_free(&log);
    dsn_free(&e[0].dsn);
    dsn_free(&e[1].dsn);
    buf_free(&err);
    cleanup_queue();
}

static void test_paths_are_checked(void)
{
    struct defer_log_entry e;
    make_entry(&e, "a@example.com", 100, "4.4.1", "x");
    struct buf err = BUF_INIT;
    struct defer_log log;
    CHECK_INT(defer_log_append("/tmp", QUEUE_DEFER, "../etc", &e, 1, 0, &err),
              -1);
    CHECK_INT(defer_log_append("/tmp", QUEUE_HOLD, "ABC", &e, 1, 0, &err), -1);
    CHECK_INT(defer_log_read("/tmp", QUEUE_DEFER, "a/b", &log, &err),
              DEFER_LOG_CORRUPT);
    defer_log_free(&log);
    CHECK_INT(defer_log_remove("/tmp", QUEUE_BOUNCE, "", &err), -1);
    dsn_free(&e.dsn);
    buf_free(&err);
}

static void test_reader_fails_closed(void)
{
    struct defer_log log;
    struct buf err = BUF_INIT;
    static const char *const bad[] = {
        /* torn last entry */
        "recipient=a@x\noffset=1\nstatus=4.0.0\naction=delayed\nreason=r\n",
        /* incomplete last line */
        "recipient=a@x\noffset=1\nstatus=4.0.0\naction=delayed\nreason=r",
        /* missing log_time */
        "recipient=a@x\noffset=1\nstatus=4.0.0\naction=delayed\nreason=r\n\n",
        /* unknown field */
        "recipient=a@x\noffset=1\nstatus=4.0.0\naction=delayed\nreason=r\n"
        "log_time=1\ncolor=red\n\n",
        /* repeated field */
        "recipient=a@x\nrecipient=b@x\noffset=1\nstatus=4.0.0\n"
        "action=delayed\nreason=r\nlog_time=1\n\n",
        /* bad status, bad action, bad numbers */
        "recipient=a@x\noffset=1\nstatus=4.0\naction=delayed\nreason=r\n"
        "log_time=1\n\n",
        "recipient=a@x\noffset=1\nstatus=4.0.0\naction=soon\nreason=r\n"
        "log_time=1\n\n",
        "recipient=a@x\noffset=-1\nstatus=4.0.0\naction=delayed\nreason=r\n"
        "log_time=1\n\n",
        "recipient=a@x\noffset=18446744073709551616\nstatus=4.0.0\n"
        "action=delayed\nreason=r\nlog_time=1\n\n",
        "recipient=a@x\noffset=01\nstatus=4.0.0\naction=delayed\nreason=r\n"
        "log_time=1\n\n",
        /* control character (CR) in a value, empty recipient, no '=' */
        "recipient=a@x\r\noffset=1\nstatus=4.0.0\naction=delayed\nreason=r\n"
        "log_time=1\n\n",
        "recipient=\noffset=1\nstatus=4.0.0\naction=delayed\nreason=r\n"
        "log_time=1\n\n",
        "recipient a@x\n\n",
        /* an empty entry */
        "\n",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        enum defer_log_result result = parse_str(bad[i], &log, &err);
        if (result != DEFER_LOG_CORRUPT)
            printf("#   bad input %zu accepted\n", i);
        CHECK_INT(result, DEFER_LOG_CORRUPT);
        CHECK(err.len > 0);
        defer_log_free(&log);
    }
    /* The good entries before damage are kept, and the damage named. */
    CHECK_INT(parse_str("recipient=a@x\noffset=1\nstatus=4.0.0\n"
                        "action=delayed\nreason=r\nlog_time=1\n\n"
                        "recipient=b@x\noffset=2\n",
                        &log, &err),
              DEFER_LOG_CORRUPT);
    CHECK_INT(log.count, 1);
    CHECK(strstr(buf_cstr(&err), "line 8") != NULL);
    defer_log_free(&log);
    CHECK_INT(parse_str("", &log, &err), DEFER_LOG_OK);
    CHECK_INT(log.count, 0);
    defer_log_free(&log);
    buf_free(&err);
}

static void test_reader_bounds(void)
{
    struct defer_log log;
    struct buf err = BUF_INIT, text = BUF_INIT;
    /* A line longer than any valid value. */
    buf_append_str(&text, "reason=");
    for (int i = 0; i < DEFER_LOG_MAX_TEXT + 1; i++)
        buf_append_char(&text, 'x');
    buf_append_str(&text, "\n\n");
    CHECK_INT(defer_log_parse(text.data, text.len, &log, &err),
              DEFER_LOG_CORRUPT);
    defer_log_free(&log);
    /* A file over the size limit is refused before it is parsed. */
    setup_queue();
    char path[128];
    snprintf(path, sizeof(path), "%s/bounce/BIG1", queue_dir);
    int fd = open(path, O_WRONLY | O_CREAT, 0600);
    CHECK(fd >= 0);
    if (fd >= 0) {
        CHECK_INT(ftruncate(fd, DEFER_LOG_MAX_SIZE + 1), 0);
        close(fd);
    }
    buf_reset(&err);
    CHECK_INT(defer_log_read(queue_dir, QUEUE_BOUNCE, "BIG1", &log, &err),
              DEFER_LOG_CORRUPT);
    CHECK(strstr(buf_cstr(&err), "too large") != NULL);
    defer_log_free(&log);
    /* A directory in its place is not a log. */
    snprintf(path, sizeof(path), "%s/bounce/DIR1", queue_dir);
    CHECK_INT(mkdir(path, 0700), 0);
    CHECK_INT(defer_log_read(queue_dir, QUEUE_BOUNCE, "DIR1", &log, &err),
              DEFER_LOG_CORRUPT);
    defer_log_free(&log);
    cleanup_queue();
    buf_free(&text);
    buf_free(&err);
}

int main(void)
{
    UNIT_RUN(test_encode_parse_round_trip);
    UNIT_RUN(test_free_text_is_made_printable_and_bounded);
    UNIT_RUN(test_encode_refuses_bad_fields);
    UNIT_RUN(test_append_read_find_remove);
    UNIT_RUN(test_paths_are_checked);
    UNIT_RUN(test_reader_fails_closed);
    UNIT_RUN(test_reader_bounds);
    return unit_summary();
}
