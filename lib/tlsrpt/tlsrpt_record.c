/* tlsrpt_record.c: the per-day TLS outcome records (tlsrpt_record.h):
 * the line format, the O_APPEND writer and the reader. */
#include "tlsrpt/tlsrpt_record.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FIELDS 13 /* "v1" and twelve values */

const char *tlsrpt_policy_name(enum tlsrpt_policy policy)
{
    switch (policy) {
    case TLSRPT_POLICY_STS:
        return "sts";
    case TLSRPT_POLICY_TLSA:
        return "tlsa";
    case TLSRPT_POLICY_NONE:
        break;
    }
    return "no-policy-found";
}

int tlsrpt_policy_parse(const char *name, enum tlsrpt_policy *out)
{
    static const enum tlsrpt_policy all[] = {
        TLSRPT_POLICY_NONE, TLSRPT_POLICY_STS, TLSRPT_POLICY_TLSA};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
        if (strcmp(name, tlsrpt_policy_name(all[i])) == 0) {
            *out = all[i];
            return 0;
        }
    return -1;
}

/* Appends one field, percent-encoded, at most max encoded bytes (a %XX
 * is never split); "-" when empty. */
static void put_field(struct buf *out, const char *value, size_t max)
{
    buf_append_char(out, ' ');
    if (value == NULL || *value == '\0') {
        buf_append_char(out, '-');
        return;
    }
    size_t used = 0;
    for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
        int plain = *p > 0x20 && *p < 0x7f && *p != '%';
        /* A lone "-" would read back as empty. */
        if (*p == '-' && p == (const unsigned char *)value && p[1] == '\0')
            plain = 0;
        size_t need = plain ? 1 : 3;
        if (used + need > max)
            break;
        if (plain)
            buf_append_char(out, (char)*p);
        else
            buf_appendf(out, "%%%02X", *p);
        used += need;
    }
}

void tlsrpt_record_format(const struct tlsrpt_record *r, struct buf *out)
{
    buf_reset(out);
    char when[24], max_age[24];
    snprintf(when, sizeof(when), "%lld", (long long)r->when);
    snprintf(max_age, sizeof(max_age), "%ld", r->max_age);
    /* Each field's share of TLSRPT_LINE_MAX: the bounded ones at their
     * own size encoded (3 bytes per byte at worst), what is left for the
     * reason. The sum stays below PIPE_BUF. */
    buf_append_str(out, "v1");
    put_field(out, when, 24);
    put_field(out, r->domain, 3 * 255);
    put_field(out, tlsrpt_policy_name(r->policy), 20);
    put_field(out, r->policy_id, 3 * 39);
    put_field(out, r->mode, 3 * 15);
    put_field(out, max_age, 24);
    put_field(out, r->mx, TLSRPT_MX_MAX + 8);
    put_field(out, r->result, 3 * 39);
    put_field(out, r->host, 3 * 255);
    put_field(out, r->addr, 3 * 47);
    put_field(out, r->sender, 3 * 47);
    size_t left = TLSRPT_LINE_MAX - 2 - out->len; /* space and newline */
    put_field(out, r->reason, left);
    buf_append_char(out, '\n');
}

static int hex(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Decodes one field into dst (size > 0). -1 when it does not decode or
 * does not fit. */
static int get_field(const char *src, size_t len, char *dst, size_t size)
{
    if (len == 1 && src[0] == '-') {
        dst[0] = '\0';
        return 0;
    }
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        int c = (unsigned char)src[i];
        if (c == '%') {
            if (i + 2 >= len)
                return -1;
            int hi = hex(src[i + 1]), lo = hex(src[i + 2]);
            if (hi < 0 || lo < 0)
                return -1;
            c = hi * 16 + lo;
            i += 2;
            if (c == 0)
                return -1;
        }
        if (n + 1 >= size)
            return -1;
        dst[n++] = (char)c;
    }
    dst[n] = '\0';
    return 0;
}

static int get_number(const char *text, long long *out)
{
    if (*text == '\0' || strspn(text, "0123456789") != strlen(text) ||
        strlen(text) > 18)
        return -1;
    *out = strtoll(text, NULL, 10);
    return 0;
}

int tlsrpt_record_parse(const char *line, size_t len, struct tlsrpt_record *out)
{
    memset(out, 0, sizeof(*out));
    if (len > 0 && line[len - 1] == '\n')
        len--;
    const char *start[FIELDS];
    size_t flen[FIELDS];
    size_t count = 0, i = 0;
    while (i <= len) {
        size_t j = i;
        while (j < len && line[j] != ' ')
            j++;
        if (count == FIELDS || j == i)
            return -1;
        start[count] = line + i;
        flen[count++] = j - i;
        i = j + 1;
    }
    if (count != FIELDS || flen[0] != 2 || memcmp(start[0], "v1", 2) != 0)
        return -1;
    char when[24], policy[24], max_age[24];
    long long number;
    if (get_field(start[1], flen[1], when, sizeof(when)) < 0 ||
        get_number(when, &number) < 0)
        return -1;
    out->when = (time_t)number;
    if (get_field(start[2], flen[2], out->domain, sizeof(out->domain)) < 0 ||
        get_field(start[3], flen[3], policy, sizeof(policy)) < 0 ||
        tlsrpt_policy_parse(policy, &out->policy) < 0 ||
        get_field(start[4], flen[4], out->policy_id, sizeof(out->policy_id)) < 0 ||
        get_field(start[5], flen[5], out->mode, sizeof(out->mode)) < 0 ||
        get_field(start[6], flen[6], max_age, sizeof(max_age)) < 0 ||
        get_number(max_age, &number) < 0)
        return -1;
    out->max_age = (long)number;
    if (get_field(start[7], flen[7], out->mx, sizeof(out->mx)) < 0 ||
        get_field(start[8], flen[8], out->result, sizeof(out->result)) < 0 ||
        get_field(start[9], flen[9], out->host, sizeof(out->host)) < 0 ||
        get_field(start[10], flen[10], out->addr, sizeof(out->addr)) < 0 ||
        get_field(start[11], flen[11], out->sender, sizeof(out->sender)) < 0 ||
        get_field(start[12], flen[12], out->reason, sizeof(out->reason)) < 0)
        return -1;
    return out->result[0] && out->domain[0] ? 0 : -1;
}

void tlsrpt_day_path(const char *data_dir, time_t when, struct buf *out)
{
    struct tm tm;
    gmtime_r(&when, &tm);
    buf_reset(out);
    buf_appendf(out, "%s/tls-rpt/%04d-%02d-%02d", data_dir, tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday);
}

/* The descriptor of the day file last written, kept per process. */
static int day_fd = -1;
static char *day_path;

void tlsrpt_record_close(void)
{
    if (day_fd >= 0)
        close(day_fd);
    day_fd = -1;
    free(day_path);
    day_path = NULL;
}

int tlsrpt_record_append(const char *data_dir, const struct tlsrpt_record *r,
                         struct buf *err)
{
    struct buf path = BUF_INIT, line = BUF_INIT;
    int rc = -1;
    tlsrpt_day_path(data_dir, r->when, &path);
    if (day_fd < 0 || day_path == NULL || strcmp(day_path, path.data) != 0) {
        tlsrpt_record_close();
        struct buf dir = BUF_INIT;
        buf_appendf(&dir, "%s/tls-rpt", data_dir);
        if (mkdir(dir.data, 0700) < 0 && errno != EEXIST) {
            buf_appendf(err, "%s: cannot create: %s", dir.data, strerror(errno));
            buf_free(&dir);
            goto out;
        }
        buf_free(&dir);
        day_fd = open(path.data, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC |
                                     O_NOFOLLOW, 0600);
        if (day_fd < 0) {
            buf_appendf(err, "%s: cannot open: %s", path.data, strerror(errno));
            goto out;
        }
        day_path = strdup(path.data);
    }
    tlsrpt_record_format(r, &line);
    /* One write of less than PIPE_BUF bytes on O_APPEND: whole. */
    ssize_t n;
    do
        n = write(day_fd, line.data, line.len);
    while (n < 0 && errno == EINTR);
    if (n != (ssize_t)line.len) {
        buf_appendf(err, "%s: cannot write: %s", path.data,
                    n < 0 ? strerror(errno) : "short write");
        tlsrpt_record_close();
        goto out;
    }
    rc = 0;
out:
    buf_free(&path);
    buf_free(&line);
    return rc;
}

long tlsrpt_read_day(const char *path,
                     void (*fn)(const struct tlsrpt_record *r, void *ctx),
                     void *ctx, struct buf *err)
{
    FILE *f = fopen(path, "re");
    if (f == NULL) {
        if (errno == ENOENT)
            return 0;
        buf_appendf(err, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    long count = 0;
    struct tlsrpt_record *r = malloc(sizeof(*r));
    if (r == NULL) {
        fclose(f);
        buf_appendf(err, "%s: out of memory", path);
        return -1;
    }
    while ((len = getline(&line, &cap, f)) > 0) {
        if ((size_t)len > TLSRPT_LINE_MAX ||
            tlsrpt_record_parse(line, (size_t)len, r) < 0)
            continue;
        fn(r, ctx);
        count++;
    }
    int failed = ferror(f);
    free(line);
    free(r);
    fclose(f);
    if (failed) {
        buf_appendf(err, "%s: cannot read", path);
        return -1;
    }
    return count;
}
