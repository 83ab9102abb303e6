/* keywords.c: reading and writing Dovecot's dovecot-keywords
 * (keywords.h). */
#include "storage/keywords.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/file_read.h"
#include "base/mem.h"
#include "storage/store.h"

void keywords_init(struct keywords *kw)
{
    memset(kw, 0, sizeof(*kw));
}

static void clear_names(struct keywords *kw)
{
    for (int i = 0; i < KEYWORDS_MAX; i++) {
        free(kw->names[i]);
        kw->names[i] = NULL;
    }
}

void keywords_free(struct keywords *kw)
{
    clear_names(kw);
    memset(kw, 0, sizeof(*kw));
}

int keywords_name_valid(const char *name, size_t len)
{
    if (len == 0 || len > KEYWORDS_MAX_NAME || name[0] == '\\')
        return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c <= 0x20 || c >= 0x7f || strchr("(){%*\"\\]", c))
            return 0;
    }
    return 1;
}

int keywords_lookup(const struct keywords *kw, const char *name, size_t len)
{
    for (int i = 0; i < KEYWORDS_MAX; i++)
        if (kw->names[i] && strlen(kw->names[i]) == len &&
            strncasecmp(kw->names[i], name, len) == 0)
            return i;
    return -1;
}

const char *keywords_name(const struct keywords *kw, int index)
{
    return index >= 0 && index < KEYWORDS_MAX ? kw->names[index] : NULL;
}

int keywords_lookup_or_add(struct keywords *kw, const char *name, size_t len)
{
    int index = keywords_lookup(kw, name, len);
    if (index >= 0)
        return index;
    if (!keywords_name_valid(name, len))
        return -1;
    for (int i = 0; i < KEYWORDS_MAX; i++)
        if (kw->names[i] == NULL) {
            kw->names[i] = xstrndup(name, len);
            return i;
        }
    return -1;
}

void keywords_parse(struct keywords *kw, const char *data, size_t len,
                    unsigned *skipped)
{
    unsigned bad = 0;
    clear_names(kw);
    size_t pos = 0;
    while (pos < len) {
        const char *line = data + pos;
        const char *nl = memchr(line, '\n', len - pos);
        size_t line_len = nl ? (size_t)(nl - line) : len - pos;
        pos += line_len + (nl ? 1 : 0);
        if (line_len && line[line_len - 1] == '\r')
            line_len--;
        const char *space = memchr(line, ' ', line_len);
        int index = 0;
        const char *p = line;
        while (p < line + line_len && *p >= '0' && *p <= '9' && index < 100)
            index = index * 10 + (*p++ - '0');
        if (space == NULL || p != space || p == line || index >= KEYWORDS_MAX) {
            bad++;
            continue;
        }
        const char *name = space + 1;
        size_t name_len = (size_t)(line + line_len - name);
        if (!keywords_name_valid(name, name_len) || kw->names[index] ||
            keywords_lookup(kw, name, name_len) >= 0) {
            bad++;
            continue;
        }
        kw->names[index] = xstrndup(name, name_len);
    }
    if (skipped)
        *skipped = bad;
}

void keywords_format(const struct keywords *kw, struct buf *out)
{
    for (int i = 0; i < KEYWORDS_MAX; i++)
        if (kw->names[i])
            buf_appendf(out, "%d %s\n", i, kw->names[i]);
}

static void remember(struct keywords *kw, const struct stat *st)
{
    kw->dev = st->st_dev;
    kw->ino = st->st_ino;
    kw->size = st->st_size;
    kw->mtime = st->st_mtim;
    kw->seen = 1;
}

enum keywords_read_result keywords_read(struct keywords *kw, const char *path,
                                        struct buf *err)
{
    struct stat st;
    if (stat(path, &st) < 0) {
        if (errno != ENOENT) {
            buf_appendf(err, "stat %s: %s", path, strerror(errno));
            return KEYWORDS_FAILED;
        }
        int had = kw->seen && kw->ino != 0;
        clear_names(kw);
        memset(&st, 0, sizeof(st));
        remember(kw, &st);
        return had ? KEYWORDS_MISSING : KEYWORDS_UNCHANGED;
    }
    if (kw->seen && st.st_dev == kw->dev && st.st_ino == kw->ino &&
        st.st_size == kw->size && st.st_mtim.tv_sec == kw->mtime.tv_sec &&
        st.st_mtim.tv_nsec == kw->mtime.tv_nsec)
        return KEYWORDS_UNCHANGED;
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        buf_appendf(err, "open %s: %s", path, strerror(errno));
        return KEYWORDS_FAILED;
    }
    struct buf data = BUF_INIT;
    if (fstat(fd, &st) < 0 ||
        file_read_fd(fd, path, KEYWORDS_MAX_FILE_SIZE, &data, err) < 0) {
        if (buf_cstr(err)[0] == 0)
            buf_appendf(err, "read %s: %s", path, strerror(errno));
        close(fd);
        buf_free(&data);
        return KEYWORDS_FAILED;
    }
    close(fd);
    keywords_parse(kw, data.data, data.len, NULL);
    buf_free(&data);
    remember(kw, &st);
    return KEYWORDS_CHANGED;
}

int keywords_write(struct keywords *kw, const char *path, struct buf *err)
{
    struct buf text = BUF_INIT, tmp = BUF_INIT;
    keywords_format(kw, &text);
    buf_appendf(&tmp, "%s.lock", path);
    /* the uidlist lock is ours, so a leftover .lock is stale (Dovecot
     * removes it the same way) */
    unlink(tmp.data);
    int rc = -1;
    int fd = open(tmp.data, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
                                O_CLOEXEC, 0600);
    if (fd < 0) {
        buf_appendf(err, "create %s: %s", tmp.data, strerror(errno));
        goto out;
    }
    struct stat st;
    if (store_write_all(fd, text.data, text.len) < 0 || fstat(fd, &st) < 0)
        goto fail;
    /* the mtime must move forward, or a reader comparing it (Dovecot
     * compares seconds) would keep its old names */
    if (kw->seen && st.st_mtim.tv_sec <= kw->mtime.tv_sec) {
        struct timespec times[2] = {{0, UTIME_NOW},
                                    {kw->mtime.tv_sec + 1, 0}};
        if (futimens(fd, times) < 0 || fstat(fd, &st) < 0)
            goto fail;
    }
    if (fsync(fd) < 0 || rename(tmp.data, path) < 0)
        goto fail;
    close(fd);
    remember(kw, &st);
    rc = 0;
    goto out;
fail:
    buf_appendf(err, "write %s: %s", tmp.data, strerror(errno));
    close(fd);
    unlink(tmp.data);
out:
    buf_free(&text);
    buf_free(&tmp);
    return rc;
}
