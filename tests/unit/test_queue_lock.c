/* test_queue_lock.c: unit tests for lib/queue/queue_lock (the queue file lock
 * convention) and lib/queue/qmgr_trigger (trigger requests to qmgr). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "base/buf.h"
#include "queue/qmgr_trigger.h"
#include "queue/queue_lock.h"
#include "unit.h"

static char dir[64];

static void make_dir(void)
{
    strcpy(dir, "/tmp/test_queue_lock.XXXXXX");
    if (mkdtemp(dir) == NULL)
        abort();
}

static void remove_dir(void)
{
    char *cmd = NULL;
    if (asprintf(&cmd, "rm -rf '%s'", dir) > 0 && system(cmd) != 0)
        printf("# cleanup of %s failed\n", dir);
    free(cmd);
}

static char *file_in_dir(const char *name)
{
    char *path = NULL;
    if (asprintf(&path, "%s/%s", dir, name) < 0)
        abort();
    int fd = open(path, O_WRONLY | O_CREAT, 0600);
    if (fd < 0 || write(fd, "x", 1) != 1)
        abort();
    close(fd);
    return path;
}

static void test_lock_excludes_other_opens(void)
{
    make_dir();
    char *path = file_in_dir("Q1");
    struct buf err = BUF_INIT;
    int first, second;
    CHECK_INT(queue_lock_held(path, &err), 0);
    CHECK_INT(queue_lock_open(path, &first, &err), QUEUE_LOCK_OK);
    /* OFD locks conflict between open file descriptions, even in one
     * process: a second open is busy. */
    CHECK_INT(queue_lock_open(path, &second, &err), QUEUE_LOCK_BUSY);
    CHECK_INT(second, -1);
    CHECK_INT(queue_lock_held(path, &err), 1);
    /* Closing another descriptor of the file keeps the lock (unlike a
     * classic POSIX lock). */
    int reader = open(path, O_RDONLY);
    close(reader);
    CHECK_INT(queue_lock_open(path, &second, &err), QUEUE_LOCK_BUSY);
    queue_unlock_fd(first);
    CHECK_INT(queue_lock_held(path, &err), 0);
    CHECK_INT(queue_lock_fd(first, &err), QUEUE_LOCK_OK);
    close(first);
    CHECK_INT(queue_lock_open(path, &second, &err), QUEUE_LOCK_OK);
    close(second);
    free(path);
    buf_free(&err);
    remove_dir();
}

static void test_lock_reports_gone_and_errors(void)
{
    make_dir();
    struct buf err = BUF_INIT;
    int fd;
    char *missing = NULL;
    if (asprintf(&missing, "%s/NONE", dir) < 0)
        abort();
    CHECK_INT(queue_lock_open(missing, &fd, &err), QUEUE_LOCK_GONE);
    CHECK_INT(queue_lock_held(missing, &err), 0);
    /* A directory or a symlink is never a queue file. */
    char *sub = NULL, *link = NULL;
    if (asprintf(&sub, "%s/SUB", dir) < 0 || asprintf(&link, "%s/LNK", dir) < 0)
        abort();
    CHECK_INT(mkdir(sub, 0700), 0);
    CHECK_INT(queue_lock_open(sub, &fd, &err), QUEUE_LOCK_ERROR);
    char *target = file_in_dir("T1");
    CHECK_INT(symlink(target, link), 0);
    CHECK_INT(queue_lock_open(link, &fd, &err), QUEUE_LOCK_ERROR);
    CHECK(err.len > 0);
    free(missing);
    free(sub);
    free(link);
    free(target);
    buf_free(&err);
    remove_dir();
}

static void test_trigger_requests(void)
{
    struct buf req = BUF_INIT;
    CHECK_INT(qmgr_trigger_site(&req, "example.com"), 0);
    CHECK_INT(req.len, 13);
    CHECK(memcmp(req.data, "Sexample.com\n", 13) == 0);
    CHECK_INT(qmgr_trigger_site(&req, "[192.0.2.1]"), 0);
    CHECK_INT(qmgr_trigger_site(&req, ""), -1);
    CHECK_INT(qmgr_trigger_site(&req, "a b"), -1);
    CHECK_INT(qmgr_trigger_site(&req, "a\nQ0"), -1);
    CHECK_INT(qmgr_trigger_site(&req, "\xc3\xa9.example"), -1);
    char long_site[300];
    memset(long_site, 'a', sizeof(long_site) - 1);
    long_site[sizeof(long_site) - 1] = 0;
    CHECK_INT(qmgr_trigger_site(&req, long_site), -1);
    CHECK_INT(qmgr_trigger_message(&req, "0TOXM94C43Cz6JA9D"), 0);
    CHECK_STR(buf_cstr(&req), "Q0TOXM94C43Cz6JA9D\n");
    CHECK_INT(qmgr_trigger_message(&req, "../x"), -1);
    CHECK_INT(req.len, 0);
    buf_free(&req);
}

static void test_trigger_send(void)
{
    make_dir();
    struct buf err = BUF_INIT;
    CHECK_INT(qmgr_trigger_send(dir, "F", 1, 1000, &err), QMGR_TRIGGER_DOWN);
    char *public_dir = NULL;
    if (asprintf(&public_dir, "%s/public", dir) < 0)
        abort();
    CHECK_INT(mkdir(public_dir, 0755), 0);
    struct buf path = BUF_INIT;
    qmgr_trigger_path(&path, dir);
    int server = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un addr;
    memset(&addr, 0, sizeof(addr));
    addr.sun_family = AF_UNIX;
    strcpy(addr.sun_path, buf_cstr(&path));
    CHECK_INT(bind(server, (struct sockaddr *)&addr, sizeof(addr)), 0);
    /* Bound but not listening: nobody is there. */
    CHECK_INT(qmgr_trigger_send(dir, "F", 1, 1000, &err), QMGR_TRIGGER_DOWN);
    CHECK_INT(listen(server, 4), 0);
    CHECK_INT(qmgr_trigger_send(dir, "FA", 2, 1000, &err), QMGR_TRIGGER_OK);
    int conn = accept(server, NULL, NULL);
    char got[8] = {0};
    CHECK_INT(read(conn, got, sizeof(got)), 2);
    CHECK_STR(got, "FA");
    CHECK_INT(read(conn, got, sizeof(got)), 0); /* the client closed */
    close(conn);
    close(server);
    free(public_dir);
    buf_free(&path);
    buf_free(&err);
    remove_dir();
}

int main(void)
{
    UNIT_RUN(test_lock_excludes_other_opens);
    UNIT_RUN(test_lock_reports_gone_and_errors);
    UNIT_RUN(test_trigger_requests);
    UNIT_RUN(test_trigger_send);
    return unit_summary();
}
