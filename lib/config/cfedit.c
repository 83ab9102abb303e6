/* cfedit.c: atomic in-place edits of configuration files (see cfedit.h). */
#include "config/cfedit.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fsync_dir.h"
#include "base/mem.h"
#include "base/file_read.h"

#define CFEDIT_MAX_SIZE (16 * 1024 * 1024)

static int is_blank_or_comment(const char *line)
{
    while (isspace((unsigned char)*line))
        line++;
    return *line == 0 || *line == '#';
}

int cfedit_read(struct cfedit_file *file, const char *path, struct buf *err)
{
    memset(file, 0, sizeof(*file));
    file->path = xstrdup(path);
    strlist_init(&file->lines);
    file->mode = 0644;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return 0;
        buf_appendf(err, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) == 0) {
        file->mode = st.st_mode & 07777;
        file->uid = st.st_uid;
        file->gid = st.st_gid;
    }
    file->existed = 1;
    struct buf data = BUF_INIT;
    int read_status = file_read_fd(fd, path, CFEDIT_MAX_SIZE, &data, err);
    close(fd);
    if (read_status < 0) {
        buf_free(&data);
        return -1;
    }
    size_t pos = 0;
    while (pos < data.len) {
        const char *start = data.data + pos;
        const char *nl = memchr(start, '\n', data.len - pos);
        size_t len = nl ? (size_t)(nl - start) : data.len - pos;
        char *line = xstrndup(start, len);
        strlist_add(&file->lines, line);
        free(line);
        pos += len + 1;
    }
    buf_free(&data);
    return 0;
}

void cfedit_apply(struct cfedit_file *file,
                  enum cfedit_action (*decide)(const char *entry_text,
                                               struct buf *replacement,
                                               void *arg),
                  void *arg)
{
    struct strlist out;
    strlist_init(&out);
    struct buf text = BUF_INIT, replacement = BUF_INIT;
    char **lines = file->lines.items;
    size_t count = file->lines.count, i = 0;
    while (i < count) {
        if (is_blank_or_comment(lines[i]) || isspace((unsigned char)lines[i][0])) {
            /* Comments, blanks, and stray continuations stay as they are. */
            strlist_add(&out, lines[i++]);
            continue;
        }
        /* The entry: this line plus continuations, with comment lines in
         * between belonging to it only when a continuation follows. */
        size_t end = i + 1, scan = i + 1;
        buf_set_str(&text, lines[i]);
        while (scan < count) {
            if (is_blank_or_comment(lines[scan])) {
                scan++;
                continue;
            }
            if (!isspace((unsigned char)lines[scan][0]))
                break;
            const char *cont = lines[scan];
            while (isspace((unsigned char)*cont))
                cont++;
            buf_append_char(&text, ' ');
            buf_append_str(&text, cont);
            end = ++scan;
        }
        buf_reset(&replacement);
        enum cfedit_action action = decide(buf_cstr(&text), &replacement, arg);
        switch (action) {
        case CFEDIT_KEEP:
            for (size_t j = i; j < end; j++)
                strlist_add(&out, lines[j]);
            break;
        case CFEDIT_REPLACE: {
            struct strlist repl;
            strlist_init(&repl);
            str_split_chars(buf_cstr(&replacement), "\n", &repl);
            for (size_t j = 0; j < repl.count; j++)
                strlist_add(&out, repl.items[j]);
            strlist_free(&repl);
            break;
        }
        case CFEDIT_COMMENT:
            for (size_t j = i; j < end; j++) {
                if (is_blank_or_comment(lines[j])) {
                    strlist_add(&out, lines[j]);
                } else {
                    char *commented = xasprintf("#%s", lines[j]);
                    strlist_add(&out, commented);
                    free(commented);
                }
            }
            break;
        case CFEDIT_DELETE:
            /* Comments inside the entry go with it. */
            break;
        }
        i = end;
    }
    strlist_free(&file->lines);
    file->lines = out;
    buf_free(&text);
    buf_free(&replacement);
}

void cfedit_append(struct cfedit_file *file, const char *line)
{
    strlist_add(&file->lines, line);
}

static int write_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

int cfedit_write(const struct cfedit_file *file, struct buf *err)
{
    char *tmp = xasprintf("%s.tmpXXXXXX", file->path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        buf_appendf(err, "%s: cannot create: %s", tmp, strerror(errno));
        free(tmp);
        return -1;
    }
    struct buf data = BUF_INIT;
    for (size_t i = 0; i < file->lines.count; i++) {
        buf_append_str(&data, file->lines.items[i]);
        buf_append_char(&data, '\n');
    }
    int status = 0;
    /* As root, the new file keeps the old one's owner and group (a
     * passwd-file readable by mail_owner's group stays so); otherwise it
     * is the editing user's, as rename(2) makes it. */
    int keep_owner = file->existed && geteuid() == 0;
    if ((keep_owner && fchown(fd, file->uid, file->gid) != 0) ||
        fchmod(fd, file->mode) != 0 || write_all(fd, data.data ? data.data : "", data.len) != 0 ||
        fsync(fd) != 0) {
        buf_appendf(err, "%s: write error: %s", tmp, strerror(errno));
        status = -1;
    }
    if (close(fd) != 0 && status == 0) {
        buf_appendf(err, "%s: write error: %s", tmp, strerror(errno));
        status = -1;
    }
    if (status == 0 && rename(tmp, file->path) != 0) {
        buf_appendf(err, "cannot rename %s to %s: %s", tmp, file->path,
                    strerror(errno));
        status = -1;
    }
    if (status != 0) {
        unlink(tmp);
    } else {
        /* Make the rename itself durable; the file is already changed,
         * so a failure here says the change may not survive a crash. */
        if (fsync_parent_dir(file->path, err) < 0)
            status = -1;
    }
    buf_free(&data);
    free(tmp);
    return status;
}

void cfedit_free(struct cfedit_file *file)
{
    free(file->path);
    strlist_free(&file->lines);
    file->path = NULL;
}
