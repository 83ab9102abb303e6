/* alias_file.c: aliases(5) parsing, value splitting and table building
 * (alias_file.h). */
#include "tables/alias_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tables/dict.h"
#include "base/mem.h"
#include "base/file_read.h"

static int is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

/* Splits one joined entry into name and value and hands them on. */
static int parse_entry(const char *filename, const char *entry, size_t len,
                       int line, alias_entry_fn fn, void *ctx, struct buf *err)
{
    struct buf name = BUF_INIT;
    size_t pos = 0;
    int rc = -1;
    if (entry[0] == '"') {
        pos = 1;
        while (pos < len && entry[pos] != '"') {
            if (entry[pos] == '\\' && pos + 1 < len)
                pos++;
            buf_append_char(&name, entry[pos]);
            pos++;
        }
        if (pos >= len) {
            buf_appendf(err, "%s, line %d: unterminated quoted name", filename,
                        line);
            goto out;
        }
        pos++;
        while (pos < len && is_blank(entry[pos]))
            pos++;
        if (pos >= len || entry[pos] != ':') {
            buf_appendf(err, "%s, line %d: need name:value pair", filename,
                        line);
            goto out;
        }
    } else {
        const char *colon = memchr(entry, ':', len);
        if (colon == NULL) {
            buf_appendf(err, "%s, line %d: need name:value pair", filename,
                        line);
            goto out;
        }
        pos = (size_t)(colon - entry);
        size_t end = pos;
        while (end > 0 && is_blank(entry[end - 1]))
            end--;
        buf_append(&name, entry, end);
    }
    pos++; /* the colon */
    if (name.len == 0 || name.len > ALIAS_NAME_MAX) {
        buf_appendf(err, "%s, line %d: %s name", filename, line,
                    name.len ? "overlong" : "empty");
        goto out;
    }
    for (size_t k = 0; k < name.len; k++)
        if ((unsigned char)name.data[k] < 0x20) {
            buf_appendf(err, "%s, line %d: control character in name", filename,
                        line);
            goto out;
        }
    char *value = xstrndup(entry + pos, len - pos);
    char *trimmed = str_trim(value);
    if (trimmed[0] == 0) {
        buf_appendf(err, "%s, line %d: no value for %s", filename, line,
                    buf_cstr(&name));
        free(value);
        goto out;
    }
    str_lower(name.data);
    rc = fn(ctx, name.data, trimmed, line, err);
    free(value);
out:
    buf_free(&name);
    return rc;
}

int alias_file_parse(const char *filename, const char *text, size_t len,
                     alias_entry_fn fn, void *ctx, struct buf *err)
{
    struct buf entry = BUF_INIT;
    int entry_line = 0, line = 0, rc = 0;
    size_t pos = 0;
    if (memchr(text, 0, len)) {
        /* Find the line for the message. */
        const char *nul = memchr(text, 0, len);
        int nline = 1;
        for (const char *p = text; p < nul; p++)
            nline += *p == '\n';
        buf_appendf(err, "%s, line %d: NUL byte", filename, nline);
        return -1;
    }
    while (pos < len && rc == 0) {
        const char *start = text + pos;
        const char *nl = memchr(start, '\n', len - pos);
        size_t line_len = nl ? (size_t)(nl - start) : len - pos;
        pos += line_len + (nl ? 1 : 0);
        line++;
        size_t k = 0;
        while (k < line_len && is_blank(start[k]))
            k++;
        if (k == line_len || start[k] == '#')
            continue; /* blank or comment: does not end an entry */
        if (k > 0) {
            if (entry_line == 0) {
                buf_appendf(err,
                            "%s, line %d: continuation line without "
                            "an entry",
                            filename, line);
                rc = -1;
                break;
            }
            buf_append_char(&entry, ' ');
        } else {
            if (entry_line)
                rc = parse_entry(filename, entry.data, entry.len, entry_line,
                                 fn, ctx, err);
            buf_reset(&entry);
            entry_line = line;
        }
        size_t keep = line_len - k;
        while (keep > 0 && is_blank(start[k + keep - 1]))
            keep--;
        if (entry.len + keep > ALIAS_ENTRY_MAX) {
            buf_appendf(err, "%s, line %d: entry longer than %d bytes",
                        filename, entry_line, ALIAS_ENTRY_MAX);
            rc = -1;
            break;
        }
        buf_append(&entry, start + k, keep);
    }
    if (rc == 0 && entry_line)
        rc = parse_entry(filename, entry.data, entry.len, entry_line, fn, ctx,
                         err);
    buf_free(&entry);
    return rc;
}

/* Splits on commas (and newlines when `newlines`), outside quotes. */
static int split_items(const char *text, size_t len, int newlines,
                       struct strlist *out)
{
    struct buf item = BUF_INIT;
    int quoted = 0, had_quote = 0;
    for (size_t k = 0; k <= len; k++) {
        char c = k < len ? text[k] : 0;
        int end = k == len;
        if (end && quoted)
            break; /* an open quote: its item is dropped */
        if (!end && quoted) {
            if (c == '\\' && k + 1 < len)
                c = text[++k];
            else if (c == '"') {
                quoted = 0;
                continue;
            }
            buf_append_char(&item, c);
            continue;
        }
        if (end || c == ',' || (newlines && c == '\n')) {
            char *trimmed = str_trim(item.data ? item.data : (char *)"");
            if (trimmed[0] || had_quote)
                strlist_add(out, trimmed);
            buf_reset(&item);
            had_quote = 0;
            continue;
        }
        if (c == '"') {
            quoted = had_quote = 1;
            continue;
        }
        buf_append_char(&item, c == '\n' || c == '\r' ? ' ' : c);
    }
    buf_free(&item);
    return quoted ? -1 : 0;
}

int alias_value_split(const char *value, struct strlist *out)
{
    return split_items(value, strlen(value), 0, out);
}

int alias_include_split(const char *text, size_t len, struct strlist *out)
{
    if (memchr(text, 0, len))
        return -1;
    struct buf kept = BUF_INIT;
    size_t pos = 0;
    while (pos < len) {
        const char *start = text + pos;
        const char *nl = memchr(start, '\n', len - pos);
        size_t line_len = nl ? (size_t)(nl - start) : len - pos;
        pos += line_len + (nl ? 1 : 0);
        size_t k = 0;
        while (k < line_len && is_blank(start[k]))
            k++;
        if (k < line_len && start[k] == '#')
            continue;
        buf_append(&kept, start, line_len);
        buf_append_char(&kept, '\n');
    }
    int rc = split_items(kept.data ? kept.data : "", kept.len, 1, out);
    buf_free(&kept);
    return rc;
}

static int put_alias(void *ctx, const char *name, const char *value, int line,
                     struct buf *err)
{
    (void)line;
    struct dict *d = ctx;
    /* A duplicate keeps the first entry, with a warning, as postalias. */
    return dict_put(d, name, value, err) < 0 ? -1 : 0;
}

struct count_ctx {
    struct dict *dict;
    long count;
    const char *source;
};

static int put_counted(void *ctx, const char *name, const char *value, int line,
                       struct buf *err)
{
    struct count_ctx *cc = ctx;
    if (put_alias(cc->dict, name, value, line, err) < 0) {
        struct buf why = BUF_INIT;
        buf_appendf(&why, "%s, line %d: %s", cc->source, line, buf_cstr(err));
        buf_set(err, why.data, why.len);
        buf_free(&why);
        return -1;
    }
    cc->count++;
    return 0;
}

long alias_file_build(const char *spec, struct buf *err)
{
    const char *colon = strchr(spec, ':');
    if (colon == NULL) {
        buf_appendf(err, "%s: not a type:name table", spec);
        return -1;
    }
    const char *source = colon + 1;
    int fd = open(source, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        buf_appendf(err, "%s: cannot open: %s", source, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) < 0) {
        buf_appendf(err, "%s: cannot stat: %s", source, strerror(errno));
        close(fd);
        return -1;
    }
    struct buf text = BUF_INIT;
    int read_status = file_read_fd(fd, source, DICT_SOURCE_MAX_SIZE, &text,
                                   err);
    close(fd);
    if (read_status < 0) {
        buf_free(&text);
        return -1;
    }
    struct dict *d = dict_open(spec, DICT_FLAG_CREATE, err);
    if (d == NULL) {
        buf_free(&text);
        return -1;
    }
    dict_set_mode(d, st.st_mode & 0666);
    struct count_ctx cc = {d, 0, source};
    long result = -1;
    if (alias_file_parse(source, text.data ? text.data : "", text.len,
                         put_counted, &cc, err) == 0 &&
        dict_commit(d, err) == 0)
        result = cc.count;
    dict_close(d);
    buf_free(&text);
    return result;
}
