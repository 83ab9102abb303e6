/* dkim_fixture.h: what the DKIM unit tests share: the conformance data
 * (../shared/conformance/dkim, or POSTERN_CONFORMANCE_DIR), a key table
 * standing in for the DNS, and running the verifier over a message fed
 * in chunks of a given size. */
#ifndef POSTERN_DKIM_FIXTURE_H
#define POSTERN_DKIM_FIXTURE_H

#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/file_read.h"
#include "dkim/dkim_verify.h"

#define DKIM_KEYS_MAX 32

struct key_table {
    char *owner[DKIM_KEYS_MAX];
    char *value[DKIM_KEYS_MAX];
    size_t count;
};

static const char *conformance_dir(void)
{
    const char *dir = getenv("POSTERN_CONFORMANCE_DIR");
    return dir && *dir ? dir : "../shared/conformance";
}

/* Reads conformance/dkim/NAME into out; returns 0 or -1. */
static int read_vector(const char *name, struct buf *out)
{
    struct buf path = BUF_INIT, err = BUF_INIT;
    buf_appendf(&path, "%s/dkim/%s", conformance_dir(), name);
    buf_reset(out);
    int rc = file_read(buf_cstr(&path), 1 << 20, out, &err);
    buf_free(&path);
    buf_free(&err);
    return rc;
}

/* Sets (or replaces) owner's record. */
static void key_set(struct key_table *t, const char *owner, size_t olen,
                    const char *value, size_t vlen)
{
    for (size_t i = 0; i < t->count; i++)
        if (strlen(t->owner[i]) == olen && memcmp(t->owner[i], owner, olen) == 0) {
            free(t->value[i]);
            t->value[i] = strndup(value, vlen);
            return;
        }
    if (t->count == DKIM_KEYS_MAX)
        abort();
    t->owner[t->count] = strndup(owner, olen);
    t->value[t->count++] = strndup(value, vlen);
}

/* Adds "owner value" lines (comments and empty lines skipped) from
 * text[0..len); stops at the first empty line when stop_at_blank.
 * Returns the offset after what was read. */
static size_t key_lines(struct key_table *t, const char *text, size_t len,
                        int stop_at_blank)
{
    size_t i = 0;
    while (i < len) {
        const char *lf = memchr(text + i, '\n', len - i);
        size_t end = lf ? (size_t)(lf - text) : len;
        size_t n = end - i;
        if (n > 0 && text[end - 1] == '\r')
            n--;
        const char *line = text + i;
        i = lf ? end + 1 : len;
        if (n == 0) {
            if (stop_at_blank)
                break;
            continue;
        }
        if (line[0] == '#')
            continue;
        const char *sp = memchr(line, ' ', n);
        if (sp != NULL)
            key_set(t, line, (size_t)(sp - line), sp + 1,
                    n - (size_t)(sp + 1 - line));
    }
    return i;
}

static void key_table_free(struct key_table *t)
{
    for (size_t i = 0; i < t->count; i++) {
        free(t->owner[i]);
        free(t->value[i]);
    }
    t->count = 0;
}

/* Converts every bare LF to CRLF. */
static void to_crlf(const char *text, size_t len, struct buf *out)
{
    buf_reset(out);
    for (size_t i = 0; i < len; i++) {
        if (text[i] == '\n' && (i == 0 || text[i - 1] != '\r'))
            buf_append_char(out, '\r');
        buf_append_char(out, text[i]);
    }
}

static void answer_keys(struct dkim_verify *v, const struct key_table *t)
{
    for (size_t i = 0; i < dkim_verify_count(v); i++) {
        const char *name = dkim_verify_key_name(v, i);
        if (name == NULL)
            continue;
        size_t k = 0;
        while (k < t->count && strcmp(t->owner[k], name) != 0)
            k++;
        if (k == t->count) {
            dkim_verify_key_answer(v, i, DNS_NOTFOUND, NULL, NULL, 0);
        } else {
            const char *txt = t->value[k];
            size_t tlen = strlen(txt);
            dkim_verify_key_answer(v, i, DNS_FOUND, &txt, &tlen, 1);
        }
    }
}

/* Verifies msg fed in chunks of `chunk` bytes (0: at once), answering
 * key lookups from the table as soon as the header section is complete
 * (while the body still comes). The caller frees the verifier. */
static struct dkim_verify *verify_with(const struct key_table *t,
                                       const char *msg, size_t len,
                                       size_t chunk, time_t now)
{
    struct dkim_verify *v = dkim_verify_new(now);
    size_t step = chunk ? chunk : len;
    int asked = 0;
    for (size_t off = 0; off < len; off += step) {
        dkim_verify_feed(v, msg + off, off + step > len ? len - off : step);
        if (!asked && dkim_verify_headers_done(v)) {
            asked = 1;
            answer_keys(v, t);
        }
    }
    dkim_verify_end(v);
    if (!asked)
        answer_keys(v, t);
    dkim_verify_finish(v);
    return v;
}

#endif
