/* storage_util.h: small file-system helpers shared by the storage unit
 * tests (test_maildir.c, test_mbox.c): a scratch directory, reading a
 * file, listing a directory, and running a check as an unprivileged
 * user when the tests run as root (root ignores permission bits). */
#ifndef POSTERN_TEST_STORAGE_UTIL_H
#define POSTERN_TEST_STORAGE_UTIL_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/str.h"

/* A fresh scratch directory (mode 0755 so a dropped-privilege child can
 * reach it); removed by scratch_remove. */
static inline char *scratch_dir(void)
{
    const char *base = getenv("TMPDIR");
    char *path = NULL;
    if (asprintf(&path, "%s/postern-storage-XXXXXX",
                 base && *base ? base : "/tmp") < 0 ||
        mkdtemp(path) == NULL) {
        perror("mkdtemp");
        exit(2);
    }
    chmod(path, 0755);
    return path;
}

static inline int scratch_rm_one(const char *path, const struct stat *st,
                                 int type, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    if (type == FTW_DP)
        rmdir(path);
    else
        unlink(path);
    return 0;
}

static inline void scratch_remove(char *path)
{
    nftw(path, scratch_rm_one, 16, FTW_DEPTH | FTW_PHYS);
    free(path);
}

/* Reads a whole file into out; 0 or -1. */
static inline int read_whole(const char *path, struct buf *out)
{
    buf_reset(out);
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    char chunk[4096];
    ssize_t n;
    while ((n = read(fd, chunk, sizeof(chunk))) > 0)
        buf_append(out, chunk, (size_t)n);
    close(fd);
    return n < 0 ? -1 : 0;
}

static inline int write_whole(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        return -1;
    size_t len = strlen(text);
    int rc = write(fd, text, len) == (ssize_t)len ? 0 : -1;
    close(fd);
    return rc;
}

/* Lists the names in dir (no dot files) into out; returns the count,
 * -1 when dir cannot be opened. */
static inline int list_dir(const char *dir, struct strlist *out)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return -1;
    struct dirent *ent;
    int count = 0;
    while ((ent = readdir(d)) != NULL) {
        if (ent->d_name[0] == '.')
            continue;
        if (out)
            strlist_add(out, ent->d_name);
        count++;
    }
    closedir(d);
    return count;
}

/* Runs fn(arg) in a child that, when we are root, first becomes the
 * unprivileged user 65534 ("nobody"); the child's exit status is fn's
 * return value. Returns that value, or -1 when the child failed. */
static inline int run_unprivileged(int (*fn)(void *), void *arg)
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        if (geteuid() == 0 && (setgid(65534) < 0 || setuid(65534) < 0))
            _exit(99);
        _exit(fn(arg));
    }
    int status;
    if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status))
        return -1;
    return WEXITSTATUS(status);
}

#endif
