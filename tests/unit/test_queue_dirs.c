/* test_queue_dirs.c: unit tests for lib/queue/queue_dirs (queue names, safe
 * paths, moves) together with the queue file writer. */
#include "unit.h"

#include <dirent.h>
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/mem.h"
#include "queue/qfile_reader.h"
#include "queue/qfile_writer.h"
#include "queue/queue_dirs.h"

static char *make_queue(void)
{
    const char *tmp = getenv("TMPDIR");
    char *path = xasprintf("%s/test_queue.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (mkdtemp(path) == NULL)
        exit(1);
    return path;
}

static void remove_queue(char *top)
{
    struct buf dir = BUF_INIT;
    for (int i = 0; i < QUEUE_COUNT; i++) {
        queue_dir_path(&dir, top, (enum queue_name)i);
        DIR *d = opendir(buf_cstr(&dir));
        struct dirent *ent;
        while (d && (ent = readdir(d)) != NULL) {
            char *path = xasprintf("%s/%s", buf_cstr(&dir), ent->d_name);
            unlink(path); /* fails harmlessly on . and .. */
            free(path);
        }
        if (d)
            closedir(d);
        rmdir(buf_cstr(&dir));
    }
    rmdir(top);
    buf_free(&dir);
    free(top);
}

static void test_queue_names(void)
{
    enum queue_name queue;
    CHECK_STR(queue_dir_name(QUEUE_INCOMING), "incoming");
    CHECK_STR(queue_dir_name(QUEUE_DEFERRED), "deferred");
    CHECK_STR(queue_dir_name(QUEUE_CORRUPT), "corrupt");
    CHECK(queue_dir_name(QUEUE_COUNT) == NULL);
    CHECK(queue_dir_name((enum queue_name) - 1) == NULL);
    CHECK_INT(queue_dir_lookup("hold", &queue), 0);
    CHECK_INT(queue, QUEUE_HOLD);
    CHECK_INT(queue_dir_lookup("bounce", &queue), 0);
    CHECK_INT(queue, QUEUE_BOUNCE);
    /* maildrop/ holds what postsuper -r requeued (lib/queue/requeue.h). */
    CHECK_INT(queue_dir_lookup("maildrop", &queue), 0);
    CHECK_INT(queue, QUEUE_MAILDROP);
    CHECK(queue_dir_holds_messages(QUEUE_MAILDROP));
    CHECK_INT(queue_dir_lookup("trace", &queue), -1);
    CHECK_INT(queue_dir_lookup("", &queue), -1);
    CHECK(queue_dir_holds_messages(QUEUE_ACTIVE));
    CHECK(queue_dir_holds_messages(QUEUE_HOLD));
    CHECK(!queue_dir_holds_messages(QUEUE_DEFER));
    CHECK(!queue_dir_holds_messages(QUEUE_BOUNCE));
}

static void test_queue_path_checks_id(void)
{
    struct buf path = BUF_INIT;
    CHECK_INT(queue_path(&path, "/q", QUEUE_ACTIVE, "6FQ2P1K0A3Bz4K2J"), 0);
    CHECK_STR(buf_cstr(&path), "/q/active/6FQ2P1K0A3Bz4K2J");
    const char *bad[] = {"",    ".",     "..",  "../../etc/passwd",
                         "a/b", ".tmp1", "x y", "ABC\n",
                         NULL};
    for (int i = 0; i < 9; i++) {
        buf_set_str(&path, "junk");
        CHECK_INT(queue_path(&path, "/q", QUEUE_ACTIVE, bad[i]), -1);
        CHECK_INT(path.len, 0);
    }
    CHECK_INT(queue_path(&path, "/q", QUEUE_COUNT, "ABC"), -1);
    queue_dir_path(&path, "/q", QUEUE_DEFER);
    CHECK_STR(buf_cstr(&path), "/q/defer");
    buf_free(&path);
}

static void test_queue_create_and_move(void)
{
    char *top = make_queue();
    struct buf err = BUF_INIT, dir = BUF_INIT, path = BUF_INIT;
    CHECK_INT(queue_dirs_create(top, 0700, &err), 0);
    CHECK_INT(queue_dirs_create(top, 0700, &err), 0); /* idempotent */
    for (int i = 0; i < QUEUE_COUNT; i++) {
        struct stat st;
        queue_dir_path(&dir, top, (enum queue_name)i);
        CHECK(stat(buf_cstr(&dir), &st) == 0 && S_ISDIR(st.st_mode));
    }

    /* Write a message into incoming/ as smtpd will. */
    queue_dir_path(&dir, top, QUEUE_INCOMING);
    struct qfile_writer *w = qfile_writer_create(buf_cstr(&dir), &err);
    CHECK(w != NULL);
    if (w == NULL) {
        remove_queue(top);
        return;
    }
    struct qfile_recipient rcpt = {"u@example.com", NULL, NULL, 0, 0, 0};
    CHECK_INT(qfile_writer_sender(w, "s@example.com", &err), 0);
    CHECK_INT(qfile_writer_recipient(w, &rcpt, &err), 0);
    CHECK_INT(qfile_writer_content_begin(w, &err), 0);
    CHECK_INT(qfile_writer_content_append(w, "S: x\n\nhi\n", 9, &err), 0);
    CHECK_INT(qfile_writer_content_end(w, &err), 0);
    CHECK_INT(qfile_writer_finish(w, &err), 0);
    CHECK_INT(qfile_writer_commit(w, &err), 0);
    CHECK_INT(queue_dir_sync(top, QUEUE_INCOMING, &err), 0);
    char *qid = xstrdup(qfile_writer_qid(w));
    qfile_writer_free(w);

    CHECK_INT(queue_move(top, qid, QUEUE_INCOMING, QUEUE_ACTIVE, 1, &err), 0);
    CHECK_STR(buf_cstr(&err), "");
    queue_path(&path, top, QUEUE_INCOMING, qid);
    CHECK(access(buf_cstr(&path), F_OK) < 0);
    queue_path(&path, top, QUEUE_ACTIVE, qid);
    struct qfile_reader *r;
    CHECK_INT(qfile_reader_open(buf_cstr(&path), 0, &r, &err), QFILE_OK);
    qfile_reader_close(r);

    /* Moving what is no longer there: ENOENT for the caller to see. */
    buf_reset(&err);
    CHECK_INT(queue_move(top, qid, QUEUE_INCOMING, QUEUE_DEFERRED, 0, &err),
              -1);
    CHECK_INT(errno, ENOENT);
    CHECK(strstr(buf_cstr(&err), "incoming") != NULL);
    /* A bad id never reaches the file system. */
    buf_reset(&err);
    CHECK_INT(
        queue_move(top, "../active/x", QUEUE_ACTIVE, QUEUE_CORRUPT, 0, &err),
        -1);
    CHECK_INT(errno, EINVAL);

    CHECK_INT(queue_move(top, qid, QUEUE_ACTIVE, QUEUE_CORRUPT, 0, &err), 0);
    CHECK_INT(queue_dir_sync(top, QUEUE_CORRUPT, &err), 0);
    queue_path(&path, top, QUEUE_CORRUPT, qid);
    CHECK(access(buf_cstr(&path), F_OK) == 0);

    /* An unwritable queue directory: a clean error naming the path. */
    char *missing = xasprintf("%s/nonexistent/deeper", top);
    buf_reset(&err);
    CHECK_INT(queue_dirs_create(missing, 0700, &err), -1);
    CHECK(strstr(buf_cstr(&err), "mkdir") != NULL);
    free(missing);

    free(qid);
    buf_free(&err);
    buf_free(&dir);
    buf_free(&path);
    remove_queue(top);
}

int main(void)
{
    UNIT_RUN(test_queue_names);
    UNIT_RUN(test_queue_path_checks_id);
    UNIT_RUN(test_queue_create_and_move);
    return unit_summary();
}
