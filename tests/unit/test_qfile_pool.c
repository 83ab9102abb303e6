/* test_qfile_pool.c: unit tests for the pool of reusable queue files
 * (lib/queue/qfile_pool.c) as the writer uses it, and for lib/base/fsync_group. */
#include "unit.h"

#include <sys/file.h>

#include "base/fsync_group.h"
#include "qfile_fixture.h"
#include "queue/qfile_pool.h"

/* A queue directory with incoming/ and recycle/; returns the top. */
static char *make_queue(char **incoming, char **pool)
{
    char *top = make_dir();
    *incoming = xasprintf("%s/incoming", top);
    *pool = xasprintf("%s/%s", top, QFILE_POOL_DIR);
    mkdir(*incoming, 0700);
    mkdir(*pool, 0700);
    return top;
}

static void remove_queue(char *top, char *incoming, char *pool)
{
    remove_dir(incoming);
    remove_dir(pool);
    remove_dir(top);
}

/* A pool entry of size bytes of 'x' (as a long finished message would
 * leave); returns its inode. */
static ino_t put_garbage(const char *top, const char *name, size_t size)
{
    char *path = xasprintf("%s/%s", top, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    char *junk = xmalloc(size);
    memset(junk, 'x', size);
    CHECK(fd >= 0 && write(fd, junk, size) == (ssize_t)size);
    struct stat st;
    fstat(fd, &st);
    close(fd);
    free(junk);
    CHECK_INT(qfile_pool_put(top, path, name, size), 0);
    free(path);
    return st.st_ino;
}

/* A taken file is overwritten and cut to the new message: the reader
 * finds a valid file of exactly its own length, with the old inode. */
static void test_pool_reuse_truncates(void)
{
    char *incoming, *pool;
    char *top = make_queue(&incoming, &pool);
    ino_t ino = put_garbage(top, "6FQ2P1K0A3Bz4K2J", 20000);
    CHECK_INT(count_entries(pool), 1);

    char qid[QID_BUF_SIZE] = "";
    char *path = write_sample(incoming, qid);
    CHECK(path != NULL);
    CHECK_INT(count_entries(pool), 0); /* taken */
    struct stat st;
    CHECK_INT(stat(path, &st), 0);
    CHECK(st.st_ino == ino);
    CHECK(st.st_size < 20000);
    CHECK_INT(st.st_nlink, 1);

    struct buf all = BUF_INIT, err = BUF_INIT;
    read_whole(path, &all);
    CHECK_INT(all.len, st.st_size);
    CHECK(memmem(all.data, all.len, "xxxxxxxx", 8) == NULL); /* old bytes */
    CHECK_INT(check_bytes(all.data, all.len, &err), QFILE_OK);
    CHECK_STR(buf_cstr(&err), "");
    buf_free(&all);
    buf_free(&err);
    free(path);
    remove_queue(top, incoming, pool);
}

/* Without a pool entry the writer creates a file as before; an empty
 * pool is not read again for a while. */
static void test_pool_empty_creates(void)
{
    char *incoming, *pool;
    char *top = make_queue(&incoming, &pool);
    char *path = write_sample(incoming, NULL);
    CHECK(path != NULL);
    CHECK_INT(count_entries(incoming), 1);
    free(path);
    remove_queue(top, incoming, pool);
}

/* A name already in the pool is never replaced (a writer may hold a
 * claim on it): the newcomer is unlinked instead. */
static void test_pool_put_never_replaces(void)
{
    char *incoming, *pool;
    char *top = make_queue(&incoming, &pool);
    ino_t first = put_garbage(top, "6FQ2P1K0A3Bz4K2N", 100);
    put_garbage(top, "6FQ2P1K0A3Bz4K2N", 200);
    CHECK_INT(count_entries(pool), 1);
    char *pooled = xasprintf("%s/6FQ2P1K0A3Bz4K2N", pool);
    struct stat st;
    CHECK(stat(pooled, &st) == 0 && st.st_ino == first && st.st_size == 100);
    unlink(pooled);
    free(pooled);
    remove_queue(top, incoming, pool);
}

/* Too big or too many: unlinked, not pooled. */
static void test_pool_put_limits(void)
{
    char *incoming, *pool;
    char *top = make_queue(&incoming, &pool);
    char *big = xasprintf("%s/big", top);
    close(open(big, O_WRONLY | O_CREAT, 0600));
    CHECK_INT(qfile_pool_put(top, big, "6FQ2P1K0A3Bz4K2K",
                             QFILE_POOL_MAX_SIZE + 1),
              0);
    CHECK(access(big, F_OK) < 0);
    CHECK_INT(count_entries(pool), 0);
    /* An invalid id is never used as a name in the pool. */
    close(open(big, O_WRONLY | O_CREAT, 0600));
    CHECK_INT(qfile_pool_put(top, big, "../x", 10), 0);
    CHECK(access(big, F_OK) < 0);
    CHECK_INT(count_entries(pool), 0);
    free(big);
    remove_queue(top, incoming, pool);
}

/* A pooled inode that still has another name (a crash on a file system
 * without a journal can leave one) is never written to. */
static void test_pool_refuses_shared_inode(void)
{
    char *incoming, *pool;
    char *top = make_queue(&incoming, &pool);
    char *other = xasprintf("%s/other", top);
    put_garbage(top, "6FQ2P1K0A3Bz4K2L", 100);
    char *pooled = xasprintf("%s/6FQ2P1K0A3Bz4K2L", pool);
    CHECK_INT(link(pooled, other), 0);
    char *taken = NULL;
    int fd = qfile_pool_take(top, &taken);
    CHECK_INT(fd, -1);
    CHECK(taken == NULL);
    struct stat st;
    CHECK_INT(stat(other, &st), 0);
    CHECK_INT(st.st_size, 100); /* untouched */
    CHECK(access(pooled, F_OK) < 0); /* out of the pool */
    unlink(other);
    free(other);
    free(pooled);
    remove_queue(top, incoming, pool);
}

/* A file another claimer holds (its flock) is not handed out; once the
 * holder lets go it is, in place, under its name in recycle/. */
static void test_pool_claim_is_exclusive(void)
{
    char *incoming, *pool;
    char *top = make_queue(&incoming, &pool);
    ino_t ino = put_garbage(top, "6FQ2P1K0A3Bz4K2M", 100);
    char *pooled = xasprintf("%s/6FQ2P1K0A3Bz4K2M", pool);
    int holder = open(pooled, O_WRONLY);
    CHECK(holder >= 0 && flock(holder, LOCK_EX | LOCK_NB) == 0);
    char *taken = NULL;
    CHECK_INT(qfile_pool_take(top, &taken), -1);
    close(holder);
    sleep(1); /* the pool remembers an empty read for a second */
    int fd = qfile_pool_take(top, &taken);
    CHECK(fd >= 0);
    CHECK_STR(taken, pooled);
    struct stat st;
    CHECK(fstat(fd, &st) == 0 && st.st_ino == ino);
    /* and while we hold it, nobody else gets it */
    holder = open(pooled, O_WRONLY);
    CHECK(holder >= 0 && flock(holder, LOCK_EX | LOCK_NB) < 0);
    close(holder);
    close(fd);
    unlink(pooled);
    free(taken);
    free(pooled);
    remove_queue(top, incoming, pool);
}

static void test_fsync_group(void)
{
    char *dir = make_dir();
    int fds[6], errs[6];
    for (int i = 0; i < 5; i++) {
        char *path = xasprintf("%s/f%d", dir, i);
        fds[i] = open(path, O_WRONLY | O_CREAT, 0600);
        CHECK(fds[i] >= 0 && write(fds[i], "data", 4) == 4);
        free(path);
    }
    CHECK_INT(fsync_group(fds, errs, 5), 0);
    for (int i = 0; i < 5; i++)
        CHECK_INT(errs[i], 0);
    /* A bad descriptor fails alone; the others still succeed. */
    fds[5] = -1;
    CHECK_INT(fsync_group(fds, errs, 6), -1);
    CHECK_INT(errs[5], EBADF);
    CHECK_INT(errs[0], 0);
    CHECK_INT(fsync_group(fds + 5, errs, 1), -1);
    CHECK_INT(errs[0], EBADF);
    CHECK_INT(fsync_group(fds, errs, 0), 0);
    for (int i = 0; i < 5; i++)
        close(fds[i]);
    remove_dir(dir);
}

int main(void)
{
    /* In this order: the pool remembers an empty read for a second. */
    UNIT_RUN(test_pool_reuse_truncates);
    UNIT_RUN(test_pool_refuses_shared_inode);
    UNIT_RUN(test_pool_claim_is_exclusive);
    UNIT_RUN(test_pool_put_limits);
    UNIT_RUN(test_pool_put_never_replaces);
    UNIT_RUN(test_pool_empty_creates);
    UNIT_RUN(test_fsync_group);
    return unit_summary();
}
