/* qfile_pool.c: reuse of finished queue files (qfile_pool.h). */
#include "queue/qfile_pool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/mem.h"
#include "queue/qid.h"

/* How many names one directory read collects, and how often the pool's
 * size is counted again (other processes take files meanwhile). */
#define TAKE_BATCH 64
#define RECOUNT_EVERY 64

static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;

/* Names read but not tried yet, and when to look again after the
 * directory was found empty (an empty pool must cost no system calls
 * per message). */
static char take_names[TAKE_BATCH][QID_BUF_SIZE];
static int take_count, take_next;
static time_t take_retry_at;

static long put_count = -1;
static int put_since_count;

static char *pool_path(const char *queue_directory, const char *name)
{
    if (name == NULL)
        return xasprintf("%s/%s", queue_directory, QFILE_POOL_DIR);
    return xasprintf("%s/%s/%s", queue_directory, QFILE_POOL_DIR, name);
}

/* Files in the pool now, or -1 when it cannot be read. */
static long count_entries(const char *queue_directory)
{
    char *dir_path = pool_path(queue_directory, NULL);
    DIR *dir = opendir(dir_path);
    free(dir_path);
    if (dir == NULL)
        return -1;
    long count = 0;
    struct dirent *de;
    while ((de = readdir(dir)) != NULL)
        if (de->d_name[0] != '.')
            count++;
    closedir(dir);
    return count;
}

int qfile_pool_put(const char *queue_directory, const char *path,
                   const char *qid, uint64_t size)
{
    int pooled = 0;
    if (size <= QFILE_POOL_MAX_SIZE && qid_valid(qid)) {
        pthread_mutex_lock(&pool_lock);
        if (put_count < 0 || ++put_since_count >= RECOUNT_EVERY) {
            put_count = count_entries(queue_directory);
            put_since_count = 0;
        }
        if (put_count >= 0 && put_count < QFILE_POOL_MAX_FILES) {
            char *target = pool_path(queue_directory, qid);
            /* Never over an existing name: ids are unique, but a writer
             * may hold a claim on whatever bears this one, and its
             * commit renames by name (qfile_pool.h). */
            if (renameat2(AT_FDCWD, path, AT_FDCWD, target,
                          RENAME_NOREPLACE) == 0) {
                pooled = 1;
                put_count++;
            }
            free(target);
        }
        pthread_mutex_unlock(&pool_lock);
    }
    if (pooled)
        return 0;
    if (unlink(path) < 0 && errno != ENOENT)
        return -1;
    return 0;
}

/* Refills the name cache; call with pool_lock held. 0 when it holds a
 * name, -1 when the pool is empty or unreadable. */
static int refill(const char *queue_directory)
{
    time_t now = time(NULL);
    if (now < take_retry_at)
        return -1;
    take_count = take_next = 0;
    char *dir_path = pool_path(queue_directory, NULL);
    DIR *dir = opendir(dir_path);
    free(dir_path);
    if (dir != NULL) {
        struct dirent *de;
        while (take_count < TAKE_BATCH && (de = readdir(dir)) != NULL) {
            if (de->d_name[0] == '.' || !qid_valid(de->d_name))
                continue;
            /* qid_valid bounds the length to QID_MAX_LEN. */
            size_t len = strlen(de->d_name);
            memcpy(take_names[take_count], de->d_name, len + 1);
            take_count++;
        }
        closedir(dir);
    }
    if (take_count == 0) {
        take_retry_at = now + 1;
        return -1;
    }
    return 0;
}

/* Claims the pooled file at path: opened, locked and checked to be a
 * regular file of ours with one link that still has this name. The lock
 * (flock, exclusive, not waiting) is what decides between claimers; it
 * is held until the writer closes the file, after the rename that takes
 * it out of the pool, so a claimer that opened the same name earlier and
 * gets the lock later finds the name gone or another inode under it. */
static int claim(const char *path)
{
    int fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return -1;
    struct stat st, named;
    if (flock(fd, LOCK_EX | LOCK_NB) < 0 || fstat(fd, &st) < 0 ||
        stat(path, &named) < 0 || named.st_ino != st.st_ino ||
        named.st_dev != st.st_dev) {
        close(fd); /* another claimer has it, or had it */
        return -1;
    }
    /* More than one link: the same inode is still named elsewhere (after
     * a crash on a file system without a journal), so writing to it
     * would change that file too. Such a file leaves the pool: only our
     * name goes, under the lock. */
    if (!S_ISREG(st.st_mode) || st.st_nlink != 1 || st.st_uid != geteuid()) {
        unlink(path);
        close(fd);
        return -1;
    }
    return fd;
}

int qfile_pool_take(const char *queue_directory, char **path_out)
{
    /* A few names may have been taken by another process since the
     * directory was read; give up after one batch's worth. */
    for (int attempt = 0; attempt < TAKE_BATCH; attempt++) {
        char name[QID_BUF_SIZE];
        pthread_mutex_lock(&pool_lock);
        int have = take_next < take_count || refill(queue_directory) == 0;
        if (have)
            memcpy(name, take_names[take_next++], sizeof(name));
        pthread_mutex_unlock(&pool_lock);
        if (!have)
            return -1;
        char *path = pool_path(queue_directory, name);
        int fd = claim(path);
        if (fd >= 0) {
            *path_out = path;
            return fd;
        }
        free(path); /* someone else has it, or it is not fit */
    }
    return -1;
}
