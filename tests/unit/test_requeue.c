/* test_requeue.c: unit tests for lib/queue/requeue: a message in maildrop/
 * replaced by its rewritten self under a new id in incoming/, and every
 * state a crash can leave behind handled without losing or doubling the
 * message (docs/queue-format.md, "Requeue"). */
#include "unit.h"

#include <dirent.h>
#include <sys/stat.h>
#include <time.h>

#include "queue/defer_log.h"
#include "queue/queue_dirs.h"
#include "queue/queue_lock.h"
#include "queue/recleanup.h"
#include "queue/requeue.h"
#include "requeue_fixture.h"

static char queue_dir[300];

static void queue_setup(void)
{
    struct buf err = BUF_INIT;
    snprintf(queue_dir, sizeof(queue_dir), "%s/queue", fixture_dir);
    mkdir(queue_dir, 0700);
    if (queue_dirs_create(queue_dir, 0700, &err) < 0)
        printf("#   %s\n", err.data);
    buf_free(&err);
}

/* The names in one queue, temporary files included, joined by " ". */
static const char *listing(enum queue_name queue)
{
    static char text[1024];
    struct buf path = BUF_INIT, out = BUF_INIT;
    queue_dir_path(&path, queue_dir, queue);
    DIR *d = opendir(path.data);
    struct dirent *ent;
    while (d && (ent = readdir(d)) != NULL)
        if (strcmp(ent->d_name, ".") && strcmp(ent->d_name, ".."))
            buf_appendf(&out, "%s%s", out.len ? " " : "", ent->d_name);
    if (d)
        closedir(d);
    snprintf(text, sizeof(text), "%s", buf_cstr(&out));
    buf_free(&path);
    buf_free(&out);
    return text;
}

/* Empties every queue between cases. */
static void queue_clear(void)
{
    struct buf path = BUF_INIT;
    for (int q = 0; q < QUEUE_COUNT; q++) {
        queue_dir_path(&path, queue_dir, (enum queue_name)q);
        DIR *d = opendir(path.data);
        struct dirent *ent;
        while (d && (ent = readdir(d)) != NULL) {
            if (!strcmp(ent->d_name, ".") || !strcmp(ent->d_name, ".."))
                continue;
            char *file = xasprintf("%s/%s", path.data, ent->d_name);
            unlink(file);
            free(file);
        }
        if (d)
            closedir(d);
    }
    buf_free(&path);
}

static int make_maildrop(const struct fx_message *m, char *qid)
{
    struct buf dir = BUF_INIT;
    queue_dir_path(&dir, queue_dir, QUEUE_MAILDROP);
    int rc = fx_write(dir.data, m, qid);
    buf_free(&dir);
    return rc;
}

static int read_queued(enum queue_name queue, const char *qid,
                       struct qfile_envelope *env, struct buf *content)
{
    struct buf path = BUF_INIT;
    queue_path(&path, queue_dir, queue, qid);
    int rc = fx_read(path.data, env, content);
    buf_free(&path);
    return rc;
}

static struct rewrite *site_rewrite(void)
{
    return fx_rewrite(
        fixture_table("texthash", "virtual",
                      "info@example.com new@vmail.test\n"
                      "team@example.com a@vmail.test, c@vmail.test\n"),
        fixture_table("texthash", "sender_canonical",
                      "held@example.com boss@example.com\n"),
        "");
}

static void test_replaced_under_a_new_id(void)
{
    queue_clear();
    struct rewrite *rw = site_rewrite();
    struct fx_message m = {
        .sender = "held@example.com",
        .rcpts = {{"old@vmail.test", "info@example.com", NULL, 0, 0}},
        .attrs = {"rewrite_context=local", "hold_reason=HOLD"},
        .content = "From: held@example.com\n\nbody\n",
    };
    char old[QID_BUF_SIZE];
    CHECK_INT(make_maildrop(&m, old), 0);
    struct defer_log_entry stale;
    memset(&stale, 0, sizeof(stale));
    stale.recipient = (char *)"old@vmail.test";
    stale.orig_rcpt = (char *)"info@example.com";
    dsn_set(&stale.dsn, "4.4.1", -1, "stale reason", NULL, NULL, NULL, NULL);
    struct buf err = BUF_INIT;
    CHECK_INT(defer_log_append(queue_dir, QUEUE_DEFER, old, &stale, 1, 0, &err),
              0);
    dsn_free(&stale.dsn);

    struct requeue_outcome out;
    CHECK_INT(requeue_pickup(rw, queue_dir, old, &out, &err), REQUEUE_DONE);
    CHECK_INT(out.queue, QUEUE_INCOMING);
    CHECK(strcmp(out.qid, old) != 0 && qid_valid(out.qid));
    CHECK_STR(listing(QUEUE_MAILDROP), ""); /* no temporary file left */
    CHECK_STR(listing(QUEUE_INCOMING), out.qid);
    CHECK_STR(listing(QUEUE_DEFER), ""); /* stale reasons dropped */
    struct qfile_envelope env;
    struct buf content = BUF_INIT;
    CHECK_INT(read_queued(QUEUE_INCOMING, out.qid, &env, &content), 0);
    CHECK_STR(env.sender, "boss@example.com");
    CHECK_STR(fx_rcpts(&env), "R new@vmail.test<-info@example.com");
    CHECK_STR(qfile_envelope_attr(&env, "orig_id"), old);
    CHECK(qfile_envelope_attr(&env, "hold_reason") == NULL);
    CHECK_STR(content.data, "From: boss@example.com\n\nbody\n");
    /* The id matches the file's inode, as postsuper -s wants. */
    struct buf path = BUF_INIT;
    struct stat st;
    char expected[QID_BUF_SIZE];
    queue_path(&path, queue_dir, QUEUE_INCOMING, out.qid);
    CHECK_INT(stat(path.data, &st), 0);
    uint64_t sec;
    uint32_t usec;
    CHECK_INT(qid_time(out.qid, &sec, &usec), 0);
    qid_make(expected, sec, usec, (uint64_t)st.st_ino);
    CHECK_STR(out.qid, expected);
    qfile_envelope_free(&env);
    buf_free(&content);
    buf_free(&path);
    buf_free(&err);
    rewrite_close(rw);
}

/* A crash after the new file replaced the old one in maildrop/ (its
 * orig_id is its own name): moved on as it is, not rewritten again. */
static void test_crash_after_replace_is_finished(void)
{
    queue_clear();
    struct rewrite *rw = site_rewrite();
    struct fx_message m = {
        .sender = "held@example.com", /* would be rewritten */
        .rcpts = {{"old@vmail.test", "info@example.com", NULL, 0, 0}},
        .self_orig_id = 1,
    };
    char name[QID_BUF_SIZE];
    CHECK_INT(make_maildrop(&m, name), 0);
    struct requeue_outcome out;
    struct buf err = BUF_INIT;
    CHECK_INT(requeue_pickup(rw, queue_dir, name, &out, &err), REQUEUE_DONE);
    CHECK_INT(out.queue, QUEUE_INCOMING);
    CHECK(strcmp(out.qid, name) != 0);
    CHECK_STR(listing(QUEUE_MAILDROP), "");
    CHECK_STR(listing(QUEUE_INCOMING), out.qid);
    struct qfile_envelope env;
    struct buf content = BUF_INIT;
    CHECK_INT(read_queued(QUEUE_INCOMING, out.qid, &env, &content), 0);
    CHECK_STR(env.sender, "held@example.com");
    CHECK_STR(fx_rcpts(&env), "R old@vmail.test<-info@example.com");
    qfile_envelope_free(&env);
    buf_free(&content);
    buf_free(&err);
    rewrite_close(rw);
}

/* A notice still owed (bounce/OLD) follows the message to its new id,
 * pointing at the new file's records, and the message goes to deferred/
 * due now, where qmgr always looks for notices. */
static void test_bounce_log_carried_over(void)
{
    queue_clear();
    struct rewrite *rw = site_rewrite();
    struct fx_message m = {
        .sender = "someone@example.com",
        .rcpts = {{"x@vmail.test", "team@example.com", NULL, 0, 0},
                  {"a@vmail.test", "team@example.com",
                   "rfc822;team@example.com", 0, 1}},
    };
    char old[QID_BUF_SIZE];
    CHECK_INT(make_maildrop(&m, old), 0);
    struct defer_log_entry bounced;
    memset(&bounced, 0, sizeof(bounced));
    bounced.recipient = (char *)"a@vmail.test";
    bounced.orig_rcpt = (char *)"team@example.com";
    bounced.offset = 1234; /* an offset in the old file */
    bounced.log_time = 1700000100;
    dsn_set(&bounced.dsn, "5.1.1", -1, "no such user", NULL, NULL, NULL, NULL);
    struct buf err = BUF_INIT;
    CHECK_INT(
        defer_log_append(queue_dir, QUEUE_BOUNCE, old, &bounced, 1, 1, &err),
        0);
    dsn_free(&bounced.dsn);

    struct requeue_outcome out;
    time_t before = time(NULL);
    CHECK_INT(requeue_pickup(rw, queue_dir, old, &out, &err), REQUEUE_DONE);
    CHECK_INT(out.queue, QUEUE_DEFERRED);
    CHECK_STR(listing(QUEUE_DEFERRED), out.qid);
    CHECK_STR(listing(QUEUE_BOUNCE), out.qid);
    struct qfile_envelope env;
    struct buf content = BUF_INIT, path = BUF_INIT;
    CHECK_INT(read_queued(QUEUE_DEFERRED, out.qid, &env, &content), 0);
    CHECK_STR(fx_rcpts(&env), "D a@vmail.test<-team@example.com, "
                              "R c@vmail.test<-team@example.com");
    struct defer_log log;
    CHECK_INT(defer_log_read(queue_dir, QUEUE_BOUNCE, out.qid, &log, &err),
              DEFER_LOG_OK);
    CHECK_INT(log.count, 1);
    if (log.count == 1) {
        CHECK_STR(log.entries[0].recipient, "a@vmail.test");
        CHECK_INT(log.entries[0].offset, env.recipients[0].offset);
        CHECK_STR(log.entries[0].dsn.status, "5.1.1");
        const struct qfile_recipient *rc =
            qfile_envelope_recipient_at(&env, log.entries[0].offset);
        CHECK(rc != NULL && strcmp(rc->orcpt, "rfc822;team@example.com") == 0);
    }
    defer_log_free(&log);
    struct stat st;
    queue_path(&path, queue_dir, QUEUE_DEFERRED, out.qid);
    CHECK_INT(stat(path.data, &st), 0);
    CHECK(st.st_mtime >= before && st.st_mtime <= time(NULL) + 1);
    qfile_envelope_free(&env);
    buf_free(&content);
    buf_free(&path);
    buf_free(&err);
    rewrite_close(rw);
}

/* A table error leaves the message exactly as it was, and no temporary
 * file behind; the next try succeeds once the table is back. */
static void test_table_error_changes_nothing(void)
{
    queue_clear();
    struct rewrite *broken = fx_rewrite(fixture_missing("hash"), "", "");
    struct fx_message m = {
        .sender = "a@example.com",
        .rcpts = {{"old@vmail.test", "info@example.com", NULL, 0, 0}},
    };
    char old[QID_BUF_SIZE];
    CHECK_INT(make_maildrop(&m, old), 0);
    struct buf path = BUF_INIT, before = BUF_INIT, after = BUF_INIT,
               err = BUF_INIT;
    queue_path(&path, queue_dir, QUEUE_MAILDROP, old);
    fx_read_whole(path.data, &before);
    struct requeue_outcome out;
    CHECK_INT(requeue_pickup(broken, queue_dir, old, &out, &err),
              REQUEUE_LATER);
    CHECK(strstr(err.data, "4.") != NULL);
    CHECK_STR(listing(QUEUE_MAILDROP), old);
    fx_read_whole(path.data, &after);
    CHECK(before.len == after.len &&
          memcmp(before.data, after.data, before.len) == 0);
    struct rewrite *rw = site_rewrite();
    buf_reset(&err);
    CHECK_INT(requeue_pickup(rw, queue_dir, old, &out, &err), REQUEUE_DONE);
    CHECK_STR(listing(QUEUE_INCOMING), out.qid);
    rewrite_close(rw);
    rewrite_close(broken);
    buf_free(&path);
    buf_free(&before);
    buf_free(&after);
    buf_free(&err);
}

static void test_locked_corrupt_and_gone(void)
{
    queue_clear();
    struct rewrite *rw = site_rewrite();
    struct fx_message m = {
        .sender = "a@example.com",
        .rcpts = {{"b@vmail.test", NULL, NULL, 0, 0}},
    };
    char old[QID_BUF_SIZE];
    CHECK_INT(make_maildrop(&m, old), 0);
    struct buf path = BUF_INIT, err = BUF_INIT;
    queue_path(&path, queue_dir, QUEUE_MAILDROP, old);
    /* postsuper still holds it. */
    int fd;
    CHECK_INT(queue_lock_open(path.data, &fd, &err), QUEUE_LOCK_OK);
    struct requeue_outcome out;
    CHECK_INT(requeue_pickup(rw, queue_dir, old, &out, &err), REQUEUE_BUSY);
    CHECK_STR(listing(QUEUE_MAILDROP), old);
    close(fd);
    /* Damaged: to corrupt/, never rewritten. */
    FILE *fp = fopen(path.data, "r+");
    if (fp) {
        fputs("NOTAQUEUEFILE", fp);
        fclose(fp);
    }
    CHECK_INT(requeue_pickup(rw, queue_dir, old, &out, &err), REQUEUE_CORRUPT);
    CHECK_STR(listing(QUEUE_CORRUPT), old);
    CHECK_STR(listing(QUEUE_MAILDROP), "");
    CHECK_INT(requeue_pickup(rw, queue_dir, old, &out, &err), REQUEUE_GONE);
    rewrite_close(rw);
    buf_free(&path);
    buf_free(&err);
}

int main(void)
{
    log_set_program("test_requeue");
    if (fixture_init("test_requeue") < 0)
        return 1;
    queue_setup();
    UNIT_RUN(test_replaced_under_a_new_id);
    UNIT_RUN(test_crash_after_replace_is_finished);
    UNIT_RUN(test_bounce_log_carried_over);
    UNIT_RUN(test_table_error_changes_nothing);
    UNIT_RUN(test_locked_corrupt_and_gone);
    fixture_cleanup();
    return unit_summary();
}
