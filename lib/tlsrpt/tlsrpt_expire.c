/* tlsrpt_expire.c: the retention of the TLS report record files
 * (tlsrpt_expire.h). Day names sort as dates (YYYY-MM-DD), so the file
 * of a day is old when its name sorts before the name of the day
 * retention_s before now: no date arithmetic beyond gmtime. */
#include "tlsrpt/tlsrpt_expire.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>


#define DAY_NAME_SIZE 32 /* "YYYY-MM-DD" and room for any int */

/* "YYYY-MM-DD" for the UTC day of when. */
static void day_name(time_t when, char out[DAY_NAME_SIZE])
{
    struct tm tm;
    gmtime_r(&when, &tm);
    snprintf(out, DAY_NAME_SIZE, "%04d-%02d-%02d", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday);
}

/* A name the writer makes: four digits, '-', two, '-', two. */
static int is_day_name(const char *name)
{
    static const char shape[] = "dddd-dd-dd";
    for (size_t i = 0; i < sizeof(shape) - 1; i++) {
        if (shape[i] == 'd' ? !isdigit((unsigned char)name[i])
                            : name[i] != '-')
            return 0;
    }
    return name[sizeof(shape) - 1] == '\0';
}

long tlsrpt_expire(const char *data_dir, time_t now, long retention_s,
                   struct buf *err)
{
    if (retention_s <= 0)
        return 0;
    char cutoff[DAY_NAME_SIZE];
    day_name(now - (time_t)retention_s, cutoff);
    struct buf dir = BUF_INIT, path = BUF_INIT;
    buf_appendf(&dir, "%s/tls-rpt", data_dir);
    DIR *d = opendir(dir.data);
    if (d == NULL) {
        long rc = errno == ENOENT ? 0 : -1;
        if (rc < 0)
            buf_appendf(err, "%s: cannot open: %s", dir.data, strerror(errno));
        buf_free(&dir);
        return rc;
    }
    long removed = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!is_day_name(e->d_name) || strcmp(e->d_name, cutoff) >= 0)
            continue;
        buf_reset(&path);
        buf_appendf(&path, "%s/%s", dir.data, e->d_name);
        if (unlink(path.data) == 0)
            removed++;
        else if (errno != ENOENT) /* another process was quicker */
            buf_appendf(err, "%s%s: cannot remove: %s", err->len ? "; " : "",
                        path.data, strerror(errno));
    }
    closedir(d);
    buf_free(&dir);
    buf_free(&path);
    return removed;
}

long tlsrpt_expire_daily(const char *data_dir, time_t now, long retention_s,
                         struct buf *err)
{
    if (retention_s <= 0)
        return 0;
    struct buf stamp = BUF_INIT;
    buf_appendf(&stamp, "%s/tls-rpt/%s", data_dir, TLSRPT_EXPIRE_STAMP);
    struct stat st;
    char today[DAY_NAME_SIZE], last[DAY_NAME_SIZE];
    day_name(now, today);
    if (stat(stamp.data, &st) == 0) {
        day_name(st.st_mtime, last);
        if (strcmp(last, today) == 0) {
            buf_free(&stamp);
            return 0;
        }
    }
    /* Touch it before the scan: another writer that looks now skips. */
    int fd = open(stamp.data, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
                  0600);
    if (fd >= 0) {
        struct timespec times[2] = {{now, 0}, {now, 0}};
        (void)futimens(fd, times);
        close(fd);
    }
    buf_free(&stamp);
    return tlsrpt_expire(data_dir, now, retention_s, err);
}
