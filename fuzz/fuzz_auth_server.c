/* fuzz_auth_server.c: fuzzes the auth service's request handling
 * (lib/auth/auth_server.c) the way a hostile client would drive it: the
 * input is split into protocol lines at LF and fed to one connection,
 * with the clock moving on and the held-back FAIL replies flushed, over
 * a passwd-file held in memory. An input of odd length runs the password
 * checks "in the background" (queued, finished after each line, and
 * some left pending when the connection goes). Invariants: every reply is whole lines,
 * a connection that was closed says why, and nothing leaks or reads out
 * of bounds (ASan/UBSan). */
#include <stdint.h>
#include <string.h>

#include "auth/auth_server.h"
#include "base/buf.h"
#include "base/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char users[] =
    "alice:{PLAIN}secret:1001:1001::/home/alice::mail=maildir:~/Maildir\n"
    "bob:{SCRAM-SHA-256}4096,n+onRzmuokqZcsmjUBD+hg==,"
    "GVYqFHUKnTp54ixper92HIomU5IiFMWEw7cJyfkppKA=,"
    "L0MsGO7ZWRqWR+seWsXG/sWCGn9fgCmKkTNFPfRbiRo=\n"
    "carol:{SHA512-CRYPT}$6$x$y\n";

#define FUZZ_MAX_JOBS 256
static struct auth_verify_job *jobs[FUZZ_MAX_JOBS];
static size_t job_count;

static void queue_job(struct auth_verify_job *job, void *ctx)
{
    if (job_count == FUZZ_MAX_JOBS)
        __builtin_trap(); /* AUTH_CONN_MAX_REQUESTS bounds them */
    jobs[job_count++] = job;
}

static void run_jobs(struct auth_conn *expected, uint64_t now, int keep_last)
{
    size_t keep = keep_last && job_count ? 1 : 0;
    for (size_t i = keep; i < job_count; i++) {
        auth_verify_job_run(jobs[i]);
        struct auth_conn *conn = auth_verify_job_done(jobs[i], now);
        if (conn != NULL && conn != expected)
            __builtin_trap();
    }
    job_count = keep;
}

static void check_lines(const struct buf *out)
{
    if (out->len && out->data[out->len - 1] != '\n')
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct passdb *db;
    if (db == NULL) {
        db = passdb_open_passwd_text("fuzz", users, strlen(users));
        log_open("/dev/null", NULL);
    }
    struct auth_server_settings settings = {
        .passdb = db,
        .failure_delay_ms = 2000,
        .lockout_threshold = 3,
        .lockout_window_ms = 60000,
        .pid = 1,
        .request_timeout_ms = 3000,
        .verify_async = size % 2 ? queue_job : NULL,
    };
    struct auth_server *srv = auth_server_new(&settings);
    struct auth_conn *conn = auth_conn_new(srv);
    struct buf out = BUF_INIT;
    auth_conn_handshake(conn, &out);
    check_lines(&out);
    uint64_t now = 0;
    const uint8_t *p = data, *end = data + size;
    while (p < end) {
        const uint8_t *lf = memchr(p, '\n', (size_t)(end - p));
        size_t len = lf ? (size_t)(lf - p) : (size_t)(end - p);
        buf_reset(&out);
        now += 500;
        if (auth_conn_input(conn, (const char *)p, len, now, &out) < 0) {
            if (auth_conn_error(conn)[0] == 0)
                __builtin_trap();
            break;
        }
        run_jobs(conn, now, (size & 2) != 0);
        auth_conn_flush_due(conn, now, &out);
        check_lines(&out);
        if (lf == NULL)
            break;
        p = lf + 1;
    }
    buf_reset(&out);
    auth_conn_flush_due(conn, UINT64_MAX, &out);
    check_lines(&out);
    buf_free(&out);
    auth_conn_free(conn);
    run_jobs(NULL, now, 0); /* their connection is gone */
    auth_server_free(srv);
    return 0;
}
