/* uidlist.c: reading and writing Dovecot's dovecot-uidlist, its dot
 * lock, and the UIDVALIDITY counter (uidlist.h; the format is described
 * in docs/storage.md). */
#include "storage/uidlist.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/file_read.h"
#include "base/fsync_dir.h"
#include "base/mem.h"
#include "storage/store.h"

#define NO_EXT UINT32_MAX

void uidlist_init(struct uidlist *ul)
{
    memset(ul, 0, sizeof(*ul));
    buf_init(&ul->hdr_ext);
    buf_init(&ul->strings);
    buf_init(&ul->hdr_line);
    ul->next_uid = 1;
}

static void hash_drop(struct uidlist *ul)
{
    free(ul->hash);
    ul->hash = NULL;
    ul->hash_cap = 0;
}

void uidlist_clear(struct uidlist *ul)
{
    ul->version = 0;
    ul->uidvalidity = 0;
    ul->next_uid = 1;
    ul->hdr_next_uid = 0;
    ul->last_read_uid = 0;
    ul->lines = 0;
    ul->guid[0] = 0;
    buf_reset(&ul->hdr_ext);
    buf_reset(&ul->hdr_line);
    buf_reset(&ul->strings);
    ul->count = 0;
    ul->want_rewrite = 0;
    ul->dev = 0;
    ul->ino = 0;
    ul->size = ul->file_size = 0;
    memset(&ul->mtime, 0, sizeof(ul->mtime));
    hash_drop(ul);
}

void uidlist_free(struct uidlist *ul)
{
    buf_free(&ul->hdr_ext);
    buf_free(&ul->hdr_line);
    buf_free(&ul->strings);
    free(ul->recs);
    hash_drop(ul);
    memset(ul, 0, sizeof(*ul));
}

/* ---- the base name index ---- */

static uint32_t name_hash(const char *s, size_t len)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

static void hash_insert(struct uidlist *ul, size_t index)
{
    const char *base = uidlist_rec_base(ul, &ul->recs[index]);
    size_t mask = ul->hash_cap - 1;
    size_t slot = name_hash(base, strlen(base)) & mask;
    while (ul->hash[slot] != 0)
        slot = (slot + 1) & mask;
    ul->hash[slot] = (uint32_t)index + 1;
}

static void hash_build(struct uidlist *ul)
{
    size_t cap = 64;
    while (cap < ul->count * 2 + 2)
        cap *= 2;
    free(ul->hash);
    ul->hash = xcalloc(cap, sizeof(*ul->hash));
    ul->hash_cap = cap;
    for (size_t i = 0; i < ul->count; i++)
        hash_insert(ul, i);
}

const struct uidlist_rec *uidlist_find(struct uidlist *ul, const char *base,
                                       size_t len)
{
    if (ul->count == 0)
        return NULL;
    if (ul->hash == NULL)
        hash_build(ul);
    size_t mask = ul->hash_cap - 1;
    for (size_t slot = name_hash(base, len) & mask; ul->hash[slot] != 0;
         slot = (slot + 1) & mask) {
        const struct uidlist_rec *rec = &ul->recs[ul->hash[slot] - 1];
        const char *name = uidlist_rec_base(ul, rec);
        if (strncmp(name, base, len) == 0 && name[len] == 0)
            return rec;
    }
    return NULL;
}

const struct uidlist_rec *uidlist_find_uid(const struct uidlist *ul,
                                           uint32_t uid)
{
    size_t low = 0, high = ul->count;
    while (low < high) {
        size_t mid = low + (high - low) / 2;
        if (ul->recs[mid].uid == uid)
            return &ul->recs[mid];
        if (ul->recs[mid].uid < uid)
            low = mid + 1;
        else
            high = mid;
    }
    return NULL;
}

const char *uidlist_rec_ext(const struct uidlist *ul,
                            const struct uidlist_rec *rec, char key,
                            size_t *len)
{
    if (rec->ext_off == NO_EXT)
        return NULL;
    const char *p = ul->strings.data + rec->ext_off;
    while (*p) {
        size_t field = strcspn(p, " ");
        if (p[0] == key) {
            if (len)
                *len = field - 1;
            return p + 1;
        }
        p += field;
        while (*p == ' ')
            p++;
    }
    return NULL;
}

static uint32_t strings_add(struct uidlist *ul, const char *s, size_t len)
{
    if (ul->strings.len + len + 1 >= UINT32_MAX)
        abort(); /* bounded by UIDLIST_MAX_FILE_SIZE and NAME_MAX */
    uint32_t off = (uint32_t)ul->strings.len;
    buf_append(&ul->strings, s, len);
    buf_append_char(&ul->strings, 0);
    return off;
}

static void rec_append(struct uidlist *ul, uint32_t uid, const char *base,
                       size_t base_len, const char *ext, size_t ext_len)
{
    if (ul->count == ul->cap) {
        ul->cap = ul->cap ? ul->cap * 2 : 64;
        ul->recs = xreallocarray(ul->recs, ul->cap, sizeof(*ul->recs));
    }
    struct uidlist_rec *rec = &ul->recs[ul->count++];
    rec->uid = uid;
    rec->base_off = strings_add(ul, base, base_len);
    rec->ext_off = ext_len ? strings_add(ul, ext, ext_len) : NO_EXT;
    if (ul->hash) {
        if (ul->count * 2 + 2 > ul->hash_cap)
            hash_build(ul);
        else
            hash_insert(ul, ul->count - 1);
    }
    if (uid >= ul->next_uid)
        ul->next_uid = uid + 1;
    ul->last_read_uid = uid;
}

void uidlist_add(struct uidlist *ul, uint32_t uid, const char *base,
                 size_t base_len, const char *ext)
{
    rec_append(ul, uid, base, base_len, ext, ext ? strlen(ext) : 0);
}

void uidlist_filter(struct uidlist *ul,
                    int (*keep)(void *ctx, const struct uidlist *ul,
                                const struct uidlist_rec *rec),
                    void *ctx)
{
    size_t out = 0;
    for (size_t i = 0; i < ul->count; i++)
        if (keep(ctx, ul, &ul->recs[i]))
            ul->recs[out++] = ul->recs[i];
    if (out != ul->count) {
        ul->count = out;
        hash_drop(ul);
    }
}

/* ---- parsing ---- */

/* A decimal number without sign or leading garbage, below limit. */
static int parse_u32(const char *s, size_t len, uint32_t limit,
                     uint32_t *out)
{
    if (len == 0 || len > 10)
        return -1;
    unsigned long long value = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        value = value * 10 + (unsigned)(s[i] - '0');
    }
    if (value == 0 || value >= limit)
        return -1;
    *out = (uint32_t)value;
    return 0;
}

static int is_hex32(const char *s, size_t len)
{
    if (len != 32)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') ||
              (s[i] >= 'A' && s[i] <= 'F')))
            return 0;
    return 1;
}

static int bad_bytes(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return 1;
    return 0;
}

static int parse_header(struct uidlist *ul, const char *line, size_t len,
                        struct buf *err)
{
    if (len < 2 || line[1] != ' ' || (line[0] != '1' && line[0] != '3')) {
        buf_appendf(err, "line 1: unsupported version or corrupted header");
        return -1;
    }
    if (bad_bytes(line, len)) {
        buf_appendf(err, "line 1: control character in header");
        return -1;
    }
    uint32_t uidvalidity = 0, next_uid = 0;
    const char *p = line + 2, *end = line + len;
    if (line[0] == '1') {
        const char *space = memchr(p, ' ', (size_t)(end - p));
        if (space == NULL ||
            parse_u32(p, (size_t)(space - p), UINT32_MAX, &uidvalidity) < 0 ||
            parse_u32(space + 1, (size_t)(end - space - 1), UINT32_MAX,
                      &next_uid) < 0) {
            buf_appendf(err, "line 1: corrupted version 1 header");
            return -1;
        }
        ul->version = 1;
        ul->want_rewrite = 1;
    } else {
        ul->version = 3;
        while (p < end) {
            if (*p == ' ') {
                p++;
                continue;
            }
            const char *field = p;
            while (p < end && *p != ' ')
                p++;
            size_t field_len = (size_t)(p - field);
            const char *value = field + 1;
            size_t value_len = field_len - 1;
            switch (field[0]) {
            case 'V':
                if (parse_u32(value, value_len, UINT32_MAX, &uidvalidity) < 0) {
                    buf_appendf(err, "line 1: invalid UIDVALIDITY");
                    return -1;
                }
                break;
            case 'N':
                if (parse_u32(value, value_len, UINT32_MAX, &next_uid) < 0) {
                    buf_appendf(err, "line 1: invalid next UID");
                    return -1;
                }
                break;
            case 'G':
                if (!is_hex32(value, value_len)) {
                    buf_appendf(err, "line 1: invalid mailbox GUID");
                    return -1;
                }
                memcpy(ul->guid, value, 32);
                ul->guid[32] = 0;
                break;
            default:
                if (ul->hdr_ext.len)
                    buf_append_char(&ul->hdr_ext, ' ');
                buf_append(&ul->hdr_ext, field, field_len);
                break;
            }
        }
    }
    if (uidvalidity == 0 || next_uid == 0) {
        buf_appendf(err, "line 1: header without UIDVALIDITY or next UID");
        return -1;
    }
    ul->uidvalidity = uidvalidity;
    ul->hdr_next_uid = next_uid;
    buf_set(&ul->hdr_line, line, len);
    if (next_uid > ul->next_uid)
        ul->next_uid = next_uid;
    return 0;
}

/* Removes an older record of the same name (Dovecot: "the later line
 * wins"); the file is rewritten later without it. */
static void drop_duplicate(struct uidlist *ul, const char *base, size_t len)
{
    const struct uidlist_rec *old = uidlist_find(ul, base, len);
    if (old == NULL)
        return;
    size_t index = (size_t)(old - ul->recs);
    memmove(&ul->recs[index], &ul->recs[index + 1],
            (ul->count - index - 1) * sizeof(*ul->recs));
    ul->count--;
    hash_drop(ul);
    ul->want_rewrite = 1;
}

static int parse_record(struct uidlist *ul, const char *line, size_t len,
                        unsigned line_no, struct buf *err)
{
    const char *end = line + len, *p = line;
    while (p < end && *p >= '0' && *p <= '9')
        p++;
    uint32_t uid;
    if (p == end || *p != ' ' ||
        parse_u32(line, (size_t)(p - line), UINT32_MAX, &uid) < 0) {
        buf_appendf(err, "line %u: invalid UID", line_no);
        return -1;
    }
    if (uid <= ul->last_read_uid) {
        buf_appendf(err, "line %u: UIDs not ascending (%u after %u)", line_no,
                    uid, ul->last_read_uid);
        return -1;
    }
    if (bad_bytes(line, len)) {
        buf_appendf(err, "line %u: control character", line_no);
        return -1;
    }
    while (p < end && *p == ' ')
        p++;
    const char *name;
    if (ul->version == 3) {
        /* extension fields up to the one that starts with ':' */
        struct buf kept = BUF_INIT;
        while (p < end && *p != ':') {
            const char *field = p;
            while (p < end && *p != ' ')
                p++;
            if (field[0] >= 'A' && field[0] <= 'Z') {
                if (kept.len)
                    buf_append_char(&kept, ' ');
                buf_append(&kept, field, (size_t)(p - field));
            } else {
                ul->want_rewrite = 1; /* Dovecot drops such fields too */
            }
            while (p < end && *p == ' ')
                p++;
        }
        if (p == end) {
            buf_free(&kept);
            buf_appendf(err, "line %u: no file name", line_no);
            return -1;
        }
        name = p + 1;
        size_t name_len = (size_t)(end - name);
        const char *info = memchr(name, ':', name_len);
        if (info)
            name_len = (size_t)(info - name);
        if (name_len == 0 || name_len > NAME_MAX ||
            memchr(name, '/', name_len) || name[0] == '.') {
            buf_free(&kept);
            buf_appendf(err, "line %u: invalid file name", line_no);
            return -1;
        }
        drop_duplicate(ul, name, name_len);
        rec_append(ul, uid, name, name_len, kept.data, kept.len);
        buf_free(&kept);
        return 0;
    }
    name = p;
    size_t name_len = (size_t)(end - name);
    const char *info = memchr(name, ':', name_len);
    if (info)
        name_len = (size_t)(info - name);
    if (name_len == 0 || name_len > NAME_MAX || memchr(name, '/', name_len) ||
        memchr(name, ' ', name_len) || name[0] == '.') {
        buf_appendf(err, "line %u: invalid file name", line_no);
        return -1;
    }
    drop_duplicate(ul, name, name_len);
    rec_append(ul, uid, name, name_len, NULL, 0);
    return 0;
}

static int parse_lines(struct uidlist *ul, const char *data, size_t len,
                       int header, size_t *consumed, struct buf *err)
{
    size_t pos = 0;
    unsigned line_no = ul->lines + 1;
    int rc = 0;
    while (pos < len) {
        const char *nl = memchr(data + pos, '\n', len - pos);
        if (nl == NULL)
            break; /* an append in progress: not ours to judge yet */
        size_t line_len = (size_t)(nl - (data + pos));
        if (line_len > UIDLIST_MAX_LINE) {
            buf_appendf(err, "line %u: longer than %d bytes", line_no,
                        UIDLIST_MAX_LINE);
            rc = -1;
            break;
        }
        if (memchr(data + pos, 0, line_len)) {
            buf_appendf(err, "line %u: NUL byte", line_no);
            rc = -1;
            break;
        }
        if (header) {
            if (parse_header(ul, data + pos, line_len, err) < 0) {
                rc = -1;
                break;
            }
            header = 0;
        } else if (parse_record(ul, data + pos, line_len, line_no, err) < 0) {
            rc = -1;
            break;
        }
        pos += line_len + 1;
        line_no++;
        ul->lines++;
    }
    if (rc == 0 && len - pos > UIDLIST_MAX_LINE) {
        buf_appendf(err, "line %u: longer than %d bytes", line_no,
                    UIDLIST_MAX_LINE);
        rc = -1;
    }
    if (consumed)
        *consumed = pos;
    return rc;
}

int uidlist_parse(struct uidlist *ul, const char *data, size_t len,
                  size_t *consumed, struct buf *err)
{
    uidlist_clear(ul);
    return parse_lines(ul, data, len, 1, consumed, err);
}

int uidlist_parse_more(struct uidlist *ul, const char *data, size_t len,
                       size_t *consumed, struct buf *err)
{
    return parse_lines(ul, data, len, ul->version == 0, consumed, err);
}

static int same_time(const struct timespec *a, const struct timespec *b)
{
    return a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec;
}

/* 1 when the open file still starts with the header line we parsed and
 * has a newline where our parsing stopped: the same file, grown. (An
 * inode number alone can be reused by a later replacement.) */
static int same_start(int fd, const struct uidlist *ul)
{
    size_t len = ul->hdr_line.len;
    if (len == 0 || ul->size <= (off_t)len)
        return 0;
    char *head = xmalloc(len + 1);
    char last = 0;
    int same = pread(fd, head, len + 1, 0) == (ssize_t)(len + 1) &&
               memcmp(head, ul->hdr_line.data, len) == 0 && head[len] == '\n' &&
               pread(fd, &last, 1, ul->size - 1) == 1 && last == '\n';
    free(head);
    return same;
}

enum uidlist_read_result uidlist_read(struct uidlist *ul, const char *path,
                                      struct buf *err)
{
    struct stat st;
    if (stat(path, &st) < 0) {
        if (errno == ENOENT) {
            uidlist_clear(ul);
            return UIDLIST_MISSING;
        }
        buf_appendf(err, "stat %s: %s", path, strerror(errno));
        return UIDLIST_FAILED;
    }
    if (ul->version && st.st_dev == ul->dev && st.st_ino == ul->ino &&
        st.st_size == ul->file_size && same_time(&st.st_mtim, &ul->mtime))
        return UIDLIST_UNCHANGED;
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) {
            uidlist_clear(ul);
            return UIDLIST_MISSING;
        }
        buf_appendf(err, "open %s: %s", path, strerror(errno));
        return UIDLIST_FAILED;
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        buf_appendf(err, "%s: not a regular file", path);
        close(fd);
        return UIDLIST_FAILED;
    }
    int appended = ul->version && st.st_dev == ul->dev &&
                   st.st_ino == ul->ino && st.st_size >= ul->size &&
                   same_start(fd, ul);
    off_t from = appended ? ul->size : 0;
    struct buf data = BUF_INIT;
    if (lseek(fd, from, SEEK_SET) < 0 ||
        file_read_fd(fd, path, (size_t)(UIDLIST_MAX_FILE_SIZE - from), &data,
                     err) < 0) {
        if (buf_cstr(err)[0] == 0)
            buf_appendf(err, "read %s: %s", path, strerror(errno));
        buf_free(&data);
        close(fd);
        return UIDLIST_FAILED;
    }
    close(fd);
    size_t consumed = 0;
    struct buf why = BUF_INIT;
    int rc = appended ? uidlist_parse_more(ul, data.data, data.len, &consumed,
                                           &why)
                      : uidlist_parse(ul, data.data, data.len, &consumed, &why);
    buf_free(&data);
    ul->dev = st.st_dev;
    ul->ino = st.st_ino;
    ul->size = from + (off_t)consumed;
    ul->file_size = st.st_size;
    ul->mtime = st.st_mtim;
    if (rc < 0) {
        buf_appendf(err, "%s: %s", path, why.data);
        buf_free(&why);
        ul->want_rewrite = 1;
        ul->file_size = -1; /* read it all again next time */
        return UIDLIST_MALFORMED;
    }
    buf_free(&why);
    if (ul->version == 0 && st.st_size > 0) {
        /* no complete header line yet: a writer in progress or junk */
        ul->file_size = -1;
    }
    return UIDLIST_CHANGED;
}

/* ---- writing ---- */

static void format_record(const struct uidlist *ul,
                          const struct uidlist_rec *rec, struct buf *out)
{
    buf_appendf(out, "%u", rec->uid);
    if (rec->ext_off != NO_EXT) {
        buf_append_char(out, ' ');
        buf_append_str(out, ul->strings.data + rec->ext_off);
    }
    buf_append_str(out, " :");
    buf_append_str(out, uidlist_rec_base(ul, rec));
    buf_append_char(out, '\n');
}

void uidlist_format(const struct uidlist *ul, struct buf *out)
{
    buf_appendf(out, "3 V%u N%u G%s", ul->uidvalidity, ul->next_uid,
                ul->guid);
    if (ul->hdr_ext.len) {
        buf_append_char(out, ' ');
        buf_append(out, ul->hdr_ext.data, ul->hdr_ext.len);
    }
    buf_append_char(out, '\n');
    for (size_t i = 0; i < ul->count; i++)
        format_record(ul, &ul->recs[i], out);
}

void uidlist_new_guid(char guid[33])
{
    unsigned char raw[16];
    if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw)) {
        /* no entropy source: time and pid still make it unique here */
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        unsigned long long mix[2] = {(unsigned long long)now.tv_sec ^
                                         ((unsigned long long)getpid() << 32),
                                     (unsigned long long)now.tv_nsec};
        memcpy(raw, mix, sizeof(raw));
    }
    for (int i = 0; i < 16; i++)
        snprintf(guid + 2 * i, 3, "%02x", raw[i]);
}

static void remember_written(struct uidlist *ul, int fd, off_t size)
{
    struct stat st;
    if (fstat(fd, &st) == 0) {
        ul->dev = st.st_dev;
        ul->ino = st.st_ino;
        ul->size = size;
        ul->file_size = st.st_size;
        ul->mtime = st.st_mtim;
    }
}

int uidlist_write(struct uidlist *ul, const char *path, struct buf *err)
{
    if (ul->uidvalidity == 0) {
        buf_appendf(err, "%s: no UIDVALIDITY to write", path);
        return -1;
    }
    if (ul->guid[0] == 0)
        uidlist_new_guid(ul->guid);
    struct buf text = BUF_INIT, tmp = BUF_INIT;
    uidlist_format(ul, &text);
    buf_appendf(&tmp, "%s.tmp", path);
    int fd = open(tmp.data, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
                                O_CLOEXEC, 0600);
    int rc = -1;
    if (fd < 0) {
        buf_appendf(err, "create %s: %s", tmp.data, strerror(errno));
        goto out;
    }
    if (store_write_all(fd, text.data, text.len) < 0 || fsync(fd) < 0) {
        buf_appendf(err, "write %s: %s", tmp.data, strerror(errno));
        close(fd);
        unlink(tmp.data);
        goto out;
    }
    if (rename(tmp.data, path) < 0) {
        buf_appendf(err, "rename %s: %s", tmp.data, strerror(errno));
        close(fd);
        unlink(tmp.data);
        goto out;
    }
    remember_written(ul, fd, (off_t)text.len);
    close(fd);
    buf_set(&ul->hdr_line, text.data, strcspn(text.data, "\n"));
    ul->lines = (unsigned)ul->count + 1;
    ul->version = 3;
    ul->hdr_next_uid = ul->next_uid;
    ul->want_rewrite = 0;
    rc = fsync_parent_dir(path, err);
out:
    buf_free(&text);
    buf_free(&tmp);
    return rc;
}

int uidlist_append(struct uidlist *ul, const char *path, size_t first,
                   struct buf *err)
{
    if (first >= ul->count && !ul->want_rewrite && ul->version == 3)
        return 0;
    struct stat st;
    if (ul->want_rewrite || ul->version != 3 || first == 0 ||
        stat(path, &st) < 0 || st.st_dev != ul->dev || st.st_ino != ul->ino ||
        st.st_size != ul->size)
        return uidlist_write(ul, path, err);
    struct buf text = BUF_INIT;
    for (size_t i = first; i < ul->count; i++)
        format_record(ul, &ul->recs[i], &text);
    int fd = open(path, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
    int rc = -1;
    if (fd < 0) {
        buf_appendf(err, "open %s: %s", path, strerror(errno));
    } else if (store_write_all(fd, text.data, text.len) < 0 ||
               fdatasync(fd) < 0) {
        buf_appendf(err, "append to %s: %s", path, strerror(errno));
    } else {
        remember_written(ul, fd, ul->size + (off_t)text.len);
        ul->lines += (unsigned)(ul->count - first);
        rc = 0;
    }
    if (fd >= 0)
        close(fd);
    buf_free(&text);
    return rc;
}

/* ---- the dot lock ---- */

static const char *my_hostname(void)
{
    static char name[256];
    if (name[0] == 0 && gethostname(name, sizeof(name) - 1) < 0)
        strcpy(name, "localhost");
    return name;
}

/* 1 when the lock names a process of this host that is gone. */
static int lock_owner_gone(const char *lock_path)
{
    char text[512];
    int fd = open(lock_path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t got = read(fd, text, sizeof(text) - 1);
    close(fd);
    if (got <= 0)
        return 0;
    text[got] = 0;
    text[strcspn(text, "\n")] = 0;
    char *host = strchr(text, ':');
    if (host == NULL)
        return 0;
    *host++ = 0;
    if (strcmp(host, my_hostname()) != 0)
        return 0;
    char *end;
    long pid = strtol(text, &end, 10);
    if (end == text || *end || pid <= 0 || pid > INT_MAX)
        return 0;
    return kill((pid_t)pid, 0) < 0 && errno == ESRCH;
}

static time_t latest_change(const struct stat *st)
{
    return st->st_mtime > st->st_ctime ? st->st_mtime : st->st_ctime;
}

/* 1 when the existing lock may be taken over (Dovecot's rules). */
static int lock_is_stale(const char *lock_path, const char *uidlist_path,
                         const struct stat *lock_st, time_t now)
{
    if (lock_st->st_mtime < now - 2 && lock_owner_gone(lock_path))
        return 1;
    time_t last = latest_change(lock_st);
    struct stat file_st;
    if (stat(uidlist_path, &file_st) == 0 && latest_change(&file_st) > last)
        last = latest_change(&file_st);
    return now > last + UIDLIST_LOCK_STALE_SECS;
}

int uidlist_lock_take(const char *dir, int timeout_ms,
                      struct uidlist_lock *lock, struct buf *err)
{
    struct buf path = BUF_INIT, file = BUF_INIT;
    buf_appendf(&path, "%s/" UIDLIST_LOCK_FILE, dir);
    buf_appendf(&file, "%s/" UIDLIST_FILE, dir);
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    long wait_us = 5000;
    int rc = 0;
    memset(lock, 0, sizeof(*lock));
    for (;;) {
        int fd = open(path.data, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW |
                                     O_CLOEXEC, 0600);
        if (fd >= 0) {
            char owner[300];
            int len = snprintf(owner, sizeof(owner), "%ld:%s", (long)getpid(),
                               my_hostname());
            struct stat st;
            if (store_write_all(fd, owner, (size_t)len) < 0 ||
                fstat(fd, &st) < 0) {
                buf_appendf(err, "write %s: %s", path.data, strerror(errno));
                close(fd);
                unlink(path.data);
                rc = -1;
                break;
            }
            close(fd);
            lock->path = buf_detach(&path);
            lock->dev = st.st_dev;
            lock->ino = st.st_ino;
            rc = 1;
            break;
        }
        if (errno != EEXIST) {
            buf_appendf(err, "create %s: %s", path.data, strerror(errno));
            rc = -1;
            break;
        }
        struct stat st;
        if (lstat(path.data, &st) < 0)
            continue; /* just removed: try again at once */
        if (lock_is_stale(path.data, file.data, &st, time(NULL))) {
            struct stat again;
            /* remove it only if it is still the lock we judged */
            if (lstat(path.data, &again) == 0 && again.st_ino == st.st_ino &&
                again.st_dev == st.st_dev &&
                again.st_mtime == st.st_mtime) {
                unlink(path.data);
                /* as Dovecot: let a racing overrider finish first */
                usleep(100000 + (unsigned)(random() % 100000));
            }
            continue;
        }
        clock_gettime(CLOCK_MONOTONIC, &now);
        long elapsed_ms = (now.tv_sec - start.tv_sec) * 1000 +
                          (now.tv_nsec - start.tv_nsec) / 1000000;
        if (elapsed_ms >= timeout_ms)
            break;
        usleep((useconds_t)wait_us);
        if (wait_us < 100000)
            wait_us += wait_us / 2;
    }
    buf_free(&path);
    buf_free(&file);
    return rc;
}

int uidlist_lock_is_stale(const char *dir, time_t now)
{
    struct buf path = BUF_INIT, file = BUF_INIT;
    buf_appendf(&path, "%s/" UIDLIST_LOCK_FILE, dir);
    buf_appendf(&file, "%s/" UIDLIST_FILE, dir);
    struct stat st;
    int stale = lstat(path.data, &st) == 0 &&
                lock_is_stale(path.data, file.data, &st, now);
    buf_free(&path);
    buf_free(&file);
    return stale;
}

void uidlist_lock_release(struct uidlist_lock *lock)
{
    if (lock->path == NULL)
        return;
    struct stat st;
    if (lstat(lock->path, &st) == 0 && st.st_dev == lock->dev &&
        st.st_ino == lock->ino)
        unlink(lock->path);
    free(lock->path);
    memset(lock, 0, sizeof(*lock));
}

void uidlist_lock_touch(const struct uidlist_lock *lock)
{
    if (lock->path)
        utimensat(AT_FDCWD, lock->path, NULL, AT_SYMLINK_NOFOLLOW);
}

/* ---- UIDVALIDITY ---- */

#define UIDVALIDITY_FILE "dovecot-uidvalidity"

static uint32_t uidvalidity_fallback(void)
{
    static uint32_t last;
    uint32_t now = (uint32_t)time(NULL);
    last = last < now ? now : last + 1;
    return last;
}

static void uidvalidity_write_cache(const char *path, uint32_t value)
{
    char text[9];
    snprintf(text, sizeof(text), "%08x", value);
    int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return;
    (void)!pwrite(fd, text, 8, 0);
    close(fd);
}

/* Takes value+1 by renaming PATH.<value> to PATH.<value+1>. */
static int uidvalidity_step(const char *path, uint32_t *value)
{
    char from[PATH_MAX], to[PATH_MAX];
    for (int i = 0; i < 10; i++) {
        snprintf(from, sizeof(from), "%s.%08x", path, *value);
        *value += 1;
        snprintf(to, sizeof(to), "%s.%08x", path, *value);
        if (rename(from, to) == 0)
            return 0;
        if (errno != ENOENT)
            return -1;
    }
    return -1;
}

static int hex_u32(const char *s, size_t len, uint32_t *out)
{
    if (len == 0 || len > 8)
        return -1;
    uint32_t value = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        int digit = c >= '0' && c <= '9'   ? c - '0'
                    : c >= 'a' && c <= 'f' ? c - 'a' + 10
                    : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                           : -1;
        if (digit < 0)
            return -1;
        value = value * 16 + (uint32_t)digit;
    }
    *out = value;
    return 0;
}

static uint32_t uidvalidity_rescan(const char *root, const char *path)
{
    DIR *dir = opendir(root);
    if (dir == NULL)
        return uidvalidity_fallback();
    uint32_t min = UINT32_MAX, max = 0, value;
    const char *prefix = UIDVALIDITY_FILE ".";
    size_t prefix_len = strlen(prefix);
    struct dirent *ent;
    while ((ent = readdir(dir)) != NULL)
        if (strncmp(ent->d_name, prefix, prefix_len) == 0 &&
            hex_u32(ent->d_name + prefix_len,
                    strlen(ent->d_name + prefix_len), &value) == 0) {
            if (value < min)
                min = value;
            if (value > max)
                max = value;
        }
    closedir(dir);
    char name[PATH_MAX];
    if (max == 0) {
        value = uidvalidity_fallback();
        snprintf(name, sizeof(name), "%s.%08x", path, value);
        int fd = open(name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                      0444);
        if (fd >= 0)
            close(fd);
        uidvalidity_write_cache(path, value);
        return value;
    }
    if (min != max) {
        snprintf(name, sizeof(name), "%s.%08x", path, min);
        unlink(name);
    }
    value = max;
    if (uidvalidity_step(path, &value) < 0)
        return uidvalidity_fallback();
    uidvalidity_write_cache(path, value);
    return value;
}

uint32_t uidlist_uidvalidity_next(const char *root)
{
    char path[PATH_MAX];
    if ((size_t)snprintf(path, sizeof(path), "%s/" UIDVALIDITY_FILE, root) >=
        sizeof(path) - 16)
        return uidvalidity_fallback();
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return uidvalidity_rescan(root, path);
    char text[9];
    ssize_t got = read(fd, text, 8);
    close(fd);
    uint32_t value;
    if (got <= 0 || hex_u32(text, (size_t)got, &value) < 0 ||
        uidvalidity_step(path, &value) < 0)
        return uidvalidity_rescan(root, path);
    uidvalidity_write_cache(path, value);
    return value;
}
