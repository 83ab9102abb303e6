/* test_fsync_dir.c: unit tests for lib/base/fsync_dir: a directory is
 * synced, a missing one or a file is a clean error naming it, the parent
 * of a path is found, and the EINVAL/EROFS rule holds and nothing more. */
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/fsync_dir.h"

static void test_sync_and_errors(void)
{
    char dir[] = "/tmp/test_fsync_dir.XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    struct buf err = BUF_INIT, path = BUF_INIT;
    CHECK_INT(fsync_dir(dir, &err), 0);
    CHECK_INT(err.len, 0);
    /* A file inside: its parent is dir. */
    buf_appendf(&path, "%s/file", dir);
    int fd = open(buf_cstr(&path), O_CREAT | O_WRONLY, 0600);
    CHECK(fd >= 0);
    close(fd);
    CHECK_INT(fsync_parent_dir(buf_cstr(&path), &err), 0);
    CHECK_INT(fsync_parent_dir("/etc", &err), 0); /* parent "/" */
    /* A file is not a directory: a clean error, errno kept. */
    CHECK_INT(fsync_dir(buf_cstr(&path), &err), -1);
    CHECK_INT(errno, ENOTDIR);
    CHECK(strstr(buf_cstr(&err), "open directory ") != NULL);
    CHECK(strstr(buf_cstr(&err), buf_cstr(&path)) != NULL);
    buf_reset(&err);
    /* Missing, and the parent of a name in a missing directory. */
    buf_reset(&path);
    buf_appendf(&path, "%s/missing/name", dir);
    CHECK_INT(fsync_parent_dir(buf_cstr(&path), &err), -1);
    CHECK_INT(errno, ENOENT);
    CHECK(strstr(buf_cstr(&err), "No such file") != NULL);
    /* No err buffer: errno alone. */
    CHECK_INT(fsync_dir(buf_cstr(&path), NULL), -1);
    buf_reset(&path);
    buf_appendf(&path, "%s/file", dir);
    unlink(buf_cstr(&path));
    rmdir(dir);
    buf_free(&path);
    buf_free(&err);
}

static void test_unsupported_rule(void)
{
    CHECK_INT(fsync_dir_unsupported(EINVAL), 1);
    CHECK_INT(fsync_dir_unsupported(EROFS), 1);
    CHECK_INT(fsync_dir_unsupported(EIO), 0);
    CHECK_INT(fsync_dir_unsupported(ENOSPC), 0);
    CHECK_INT(fsync_dir_unsupported(EBADF), 0);
}

int main(void)
{
    UNIT_RUN(test_sync_and_errors);
    UNIT_RUN(test_unsupported_rule);
    return unit_summary();
}
