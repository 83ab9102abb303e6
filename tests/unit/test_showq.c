/* test_showq.c: unit tests for lib/queue/showq, the showq/1 records between the
 * showq daemon and postqueue: a listing sent with the server functions
 * and read back prints exactly what printing the same entries directly
 * prints (text and JSON); refusals and errors come through; replies that
 * are cut short, out of order or carry bad names are refused. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ipc/attr.h"
#include "base/buf.h"
#include "queue/queue_list.h"
#include "queue/showq.h"
#include "base/stream.h"
#include "unit.h"

static const struct queue_list_recipient RCPTS_A[] = {
    {"one@example.org", "connect to example.org[192.0.2.1]:25: refused"},
    {"two@example.org", ""},
    {"three@example.org", NULL},
};
static const struct queue_list_recipient RCPTS_B[] = {
    {"held\"q@example.com", NULL},
};

static const struct queue_list_entry ENTRIES[] = {
    {QUEUE_ACTIVE, "0TOXM94CFC0z6JA9T", 1732320000, 1234, "alice@example.org",
     RCPTS_B, 1},
    {QUEUE_DEFERRED, "0TOXM94C43Cz6JA9D", 1732320060, 3015, "", RCPTS_A, 3},
    {QUEUE_HOLD, "0TOXM94CRMFz6JG6M", 1732320120, 71, "carol@example.com", NULL,
     0},
};
#define ENTRY_COUNT (sizeof(ENTRIES) / sizeof(ENTRIES[0]))

/* Feeds the bytes to showq_read_listing over a socket pair and returns
 * what the printer wrote (caller frees) and the result. */
static char *read_back(const char *wire, size_t len,
                       enum queue_list_format format, enum showq_result *result,
                       struct buf *err, struct showq_refusal *refusal)
{
    int fds[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0);
    /* The reply is small: it fits in the socket buffer. */
    CHECK(write(fds[0], wire, len) == (ssize_t)len);
    close(fds[0]);
    char *text = NULL;
    size_t text_len = 0;
    FILE *out = open_memstream(&text, &text_len);
    struct queue_list_printer printer;
    queue_list_printer_init(&printer, format, "MAILER-DAEMON", out);
    struct stream *s = stream_open(fds[1]);
    stream_set_timeout(s, 5000);
    *result = showq_read_listing(s, &printer, refusal, err);
    queue_list_print_end(&printer);
    stream_close(s);
    fclose(out);
    return text;
}

/* The server side's bytes for a full listing, via a socket pair. */
static void encode_listing(struct buf *wire, const char *end_error)
{
    int fds[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0);
    struct stream *s = stream_open(fds[0]);
    showq_send_ok(s);
    for (size_t i = 0; i < ENTRY_COUNT; i++)
        showq_send_entry(s, &ENTRIES[i]);
    showq_send_end(s, end_error);
    CHECK(stream_flush(s) == STREAM_OK);
    stream_close(s);
    char chunk[4096];
    ssize_t n;
    while ((n = read(fds[1], chunk, sizeof(chunk))) > 0)
        buf_append(wire, chunk, (size_t)n);
    close(fds[1]);
}

static char *print_directly(enum queue_list_format format)
{
    char *text = NULL;
    size_t text_len = 0;
    FILE *out = open_memstream(&text, &text_len);
    struct queue_list_printer printer;
    queue_list_printer_init(&printer, format, "MAILER-DAEMON", out);
    for (size_t i = 0; i < ENTRY_COUNT; i++)
        queue_list_print(&printer, &ENTRIES[i]);
    queue_list_print_end(&printer);
    fclose(out);
    return text;
}

static void test_round_trip(void)
{
    struct buf wire = BUF_INIT, err = BUF_INIT;
    struct showq_refusal refusal = {BUF_INIT, -1};
    encode_listing(&wire, NULL);
    static const enum queue_list_format formats[] = {QUEUE_LIST_TEXT,
                                                     QUEUE_LIST_JSON};
    for (size_t f = 0; f < 2; f++) {
        enum showq_result result;
        buf_reset(&err);
        char *got =
            read_back(wire.data, wire.len, formats[f], &result, &err, &refusal);
        char *want = print_directly(formats[f]);
        CHECK_INT(result, SHOWQ_OK);
        CHECK_STR(buf_cstr(&err), "");
        CHECK_STR(got, want);
        free(got);
        free(want);
    }
    /* The text listing has the markers and the null sender's name. */
    char *text = print_directly(QUEUE_LIST_TEXT);
    CHECK(strstr(text, "0TOXM94CFC0z6JA9T*") != NULL);
    CHECK(strstr(text, "0TOXM94CRMFz6JG6M!") != NULL);
    CHECK(strstr(text, " MAILER-DAEMON\n") != NULL);
    CHECK(strstr(text, "-- 4 Kbytes in 3 Requests.\n") != NULL);
    free(text);
    buf_free(&wire);
    buf_free(&err);
    buf_free(&refusal.user);
}

static void test_end_with_error(void)
{
    struct buf wire = BUF_INIT, err = BUF_INIT;
    struct showq_refusal refusal = {BUF_INIT, -1};
    encode_listing(&wire, "open directory /q/hold: Permission denied");
    enum showq_result result;
    char *got = read_back(wire.data, wire.len, QUEUE_LIST_TEXT, &result, &err,
                          &refusal);
    CHECK_INT(result, SHOWQ_INCOMPLETE);
    CHECK_STR(buf_cstr(&err), "open directory /q/hold: Permission denied");
    CHECK(strstr(got, "in 3 Requests.") != NULL);
    free(got);
    buf_free(&wire);
    buf_free(&err);
    buf_free(&refusal.user);
}

static void test_refused_and_error(void)
{
    int fds[2];
    struct buf wire = BUF_INIT, err = BUF_INIT;
    struct showq_refusal refusal = {BUF_INIT, -1};
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0);
    struct stream *s = stream_open(fds[0]);
    showq_send_refused(s, "nobody", 65534);
    CHECK(stream_flush(s) == STREAM_OK);
    stream_close(s);
    char chunk[4096];
    ssize_t n;
    while ((n = read(fds[1], chunk, sizeof(chunk))) > 0)
        buf_append(&wire, chunk, (size_t)n);
    close(fds[1]);
    enum showq_result result;
    char *got = read_back(wire.data, wire.len, QUEUE_LIST_TEXT, &result, &err,
                          &refusal);
    CHECK_INT(result, SHOWQ_REFUSED);
    CHECK_STR(buf_cstr(&refusal.user), "nobody");
    CHECK_INT(refusal.uid, 65534);
    free(got);

    const char *error = "@showq/1\ns record 6\nstatus\ns status 5\nerror\n"
                        "s reason 9\ntry later\n.\n";
    buf_reset(&err);
    got = read_back(error, strlen(error), QUEUE_LIST_TEXT, &result, &err,
                    &refusal);
    CHECK_INT(result, SHOWQ_ERROR);
    CHECK_STR(buf_cstr(&err), "showq: try later");
    free(got);
    buf_free(&wire);
    buf_free(&err);
    buf_free(&refusal.user);
}

/* Each broken reply is an error, never a listing that looks complete. */
static void test_broken_replies(void)
{
    struct buf wire = BUF_INIT, err = BUF_INIT;
    struct showq_refusal refusal = {BUF_INIT, -1};
    encode_listing(&wire, NULL);
    /* Cut short anywhere before the end record. */
    const char *end = strstr(wire.data, "@showq/1\ns record 3\nend\n");
    CHECK(end != NULL);
    size_t full = (size_t)(end - wire.data);
    for (size_t cut = 0; cut <= full; cut += 7) {
        enum showq_result result;
        buf_reset(&err);
        char *got =
            read_back(wire.data, cut, QUEUE_LIST_TEXT, &result, &err, &refusal);
        CHECK_INT(result, SHOWQ_ERROR);
        CHECK(err.len > 0);
        free(got);
    }
    static const char *const bad[] = {
        /* a listing that does not start with the status */
        "@showq/1\ns record 3\nend\n.\n",
        /* another protocol */
        "@anvil/1\ns record 6\nstatus\ns status 2\nok\n.\n",
        /* a queue that showq does not list, an id that is not one */
        "@showq/1\ns record 6\nstatus\ns status 2\nok\n.\n"
        "@showq/1\ns record 7\nmessage\ns queue_name 7\ncorrupt\n"
        "s queue_id 17\n0TOXM94CFC0z6JA9T\nn arrival_time 1\n"
        "n message_size 1\ns sender 0\n\nn recipients 0\n.\n"
        "@showq/1\ns record 3\nend\n.\n",
        "@showq/1\ns record 6\nstatus\ns status 2\nok\n.\n"
        "@showq/1\ns record 7\nmessage\ns queue_name 4\nhold\n"
        "s queue_id 8\n../../x\nn arrival_time 1\n"
        "n message_size 1\ns sender 0\n\nn recipients 0\n.\n"
        "@showq/1\ns record 3\nend\n.\n",
        /* fewer recipient records than announced */
        "@showq/1\ns record 6\nstatus\ns status 2\nok\n.\n"
        "@showq/1\ns record 7\nmessage\ns queue_name 4\nhold\n"
        "s queue_id 17\n0TOXM94CFC0z6JA9T\nn arrival_time 1\n"
        "n message_size 1\ns sender 0\n\nn recipients 2\n.\n"
        "@showq/1\ns record 9\nrecipient\ns address 3\na@b\n.\n"
        "@showq/1\ns record 3\nend\n.\n",
        /* an unknown status */
        "@showq/1\ns record 6\nstatus\ns status 5\nmaybe\n.\n",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        enum showq_result result;
        buf_reset(&err);
        char *got = read_back(bad[i], strlen(bad[i]), QUEUE_LIST_TEXT, &result,
                              &err, &refusal);
        if (result != SHOWQ_ERROR)
            printf("#   bad reply %zu: result %d\n", i, (int)result);
        CHECK_INT(result, SHOWQ_ERROR);
        CHECK_STR(got, "Mail queue is empty\n");
        free(got);
    }
    buf_free(&wire);
    buf_free(&err);
    buf_free(&refusal.user);
}

int main(void)
{
    UNIT_RUN(test_round_trip);
    UNIT_RUN(test_end_with_error);
    UNIT_RUN(test_refused_and_error);
    UNIT_RUN(test_broken_replies);
    return unit_summary();
}
