/* test_imap_mime.c: the IMAP MIME parser (lib/message/mime_tree,
 * imap_bodystructure, imap_envelope, imap_address) against Dovecot
 * 2.3.19's own answers for the conformance corpus in
 * ../shared/conformance/mime (RFC822.SIZE, ENVELOPE, BODY,
 * BODYSTRUCTURE of 127 messages), plus malformed inputs and the section
 * map. The deliberate differences from Dovecot are listed below and in
 * docs/imap-mime.md; any other difference fails. */
#include "unit.h"

#include <time.h>

#include "base/buf.h"
#include "base/file_read.h"
#include "message/imap_bodystructure.h"
#include "message/imap_envelope.h"
#include "message/mime_tree.h"

/* Where the conformance data lives, relative to the top of the source
 * tree (tests run there): the shared directory beside the checkouts. */
#define CONFORMANCE_DEFAULT "../shared/conformance"

/* Differences from Dovecot's answers that we keep on purpose (each one
 * explained in docs/imap-mime.md). Field: "size", "envelope", "body",
 * "bodystructure". A listed pair that matches fails too, so the list
 * stays true. */
static const struct {
    const char *file, *field;
} exceptions[] = {
    {NULL, NULL},
};

/* ---- a canonical form of IMAP data, to compare values not bytes ---- */

/* Reads one IMAP value list from text[*pos..len) into out: strings
 * (quoted or literal) as "..." with \ and " escaped, atoms and numbers
 * upper-cased (NIL), lists in parentheses, one space between items. */
static int canon(const char *t, size_t len, size_t *pos, struct buf *out)
{
    int depth = 0, first = 1;
    while (*pos < len) {
        char c = t[*pos];
        if (c == ' ') {
            (*pos)++;
            continue;
        }
        if (c == ')') {
            if (depth == 0)
                return -1;
            depth--;
            buf_append_char(out, ')');
            (*pos)++;
            first = 0;
            continue;
        }
        if (!first && out->len > 0 && out->data[out->len - 1] != '(')
            buf_append_char(out, ' ');
        first = 0;
        if (c == '(') {
            depth++;
            buf_append_char(out, '(');
            (*pos)++;
            first = 1;
        } else if (c == '"') {
            buf_append_char(out, '"');
            (*pos)++;
            while (*pos < len && t[*pos] != '"') {
                if (t[*pos] == '\\' && *pos + 1 < len)
                    (*pos)++;
                if (t[*pos] == '"' || t[*pos] == '\\')
                    buf_append_char(out, '\\');
                buf_append_char(out, t[*pos]);
                (*pos)++;
            }
            if (*pos >= len)
                return -1;
            (*pos)++;
            buf_append_char(out, '"');
        } else if (c == '{') {
            size_t n = 0;
            (*pos)++;
            while (*pos < len && t[*pos] >= '0' && t[*pos] <= '9')
                n = n * 10 + (size_t)(t[(*pos)++] - '0');
            if (*pos + 3 > len || t[*pos] != '}' || t[*pos + 1] != '\r' ||
                t[*pos + 2] != '\n')
                return -1;
            *pos += 3;
            if (*pos + n > len)
                return -1;
            buf_append_char(out, '"');
            for (size_t i = 0; i < n; i++) {
                char d = t[*pos + i];
                if (d == '"' || d == '\\')
                    buf_append_char(out, '\\');
                buf_append_char(out, d);
            }
            buf_append_char(out, '"');
            *pos += n;
        } else {
            while (*pos < len && t[*pos] != ' ' && t[*pos] != '(' &&
                   t[*pos] != ')') {
                char d = t[(*pos)++];
                buf_append_char(out, d >= 'a' && d <= 'z' ? d - 32 : d);
            }
        }
    }
    return depth == 0 ? 0 : -1;
}

static int canon_str(const char *t, size_t len, struct buf *out)
{
    size_t pos = 0;
    buf_reset(out);
    return canon(t, len, &pos, out);
}

/* ---- a small reader for the reference file's JSON lines ---- */

/* The string or number value of "key" in a one-line JSON object. */
static int json_get(const char *line, const char *key, struct buf *out)
{
    char pat[64];
    const char *p;
    buf_reset(out);
    snprintf(pat, sizeof(pat), "\"%s\": ", key);
    p = strstr(line, pat);
    if (p == NULL)
        return -1;
    p += strlen(pat);
    if (*p != '"') {
        while (*p >= '0' && *p <= '9')
            buf_append_char(out, *p++);
        return 0;
    }
    for (p++; *p && *p != '"'; p++) {
        if (*p != '\\') {
            buf_append_char(out, *p);
            continue;
        }
        p++;
        switch (*p) {
        case 'n': buf_append_char(out, '\n'); break;
        case 'r': buf_append_char(out, '\r'); break;
        case 't': buf_append_char(out, '\t'); break;
        case 'u': {
            unsigned v = 0;
            for (int i = 1; i <= 4 && p[i]; i++) {
                char h = p[i];
                v = v * 16 + (unsigned)(h <= '9' ? h - '0' : (h | 32) - 'a' + 10);
            }
            p += 4;
            if (v < 0x80) {
                buf_append_char(out, (char)v);
            } else if (v < 0x800) {
                buf_append_char(out, (char)(0xc0 | (v >> 6)));
                buf_append_char(out, (char)(0x80 | (v & 63)));
            } else {
                buf_append_char(out, (char)(0xe0 | (v >> 12)));
                buf_append_char(out, (char)(0x80 | ((v >> 6) & 63)));
                buf_append_char(out, (char)(0x80 | (v & 63)));
            }
            break;
        }
        default: buf_append_char(out, *p); break;
        }
        if (*p == 0)
            return -1;
    }
    return *p == '"' ? 0 : -1;
}

static const char *conformance_dir(void)
{
    const char *dir = getenv("POSTERN_CONFORMANCE_DIR");
    return dir && *dir ? dir : CONFORMANCE_DEFAULT;
}

static int is_exception(const char *file, const char *field)
{
    for (size_t i = 0; exceptions[i].file; i++)
        if (strcmp(exceptions[i].file, file) == 0 &&
            strcmp(exceptions[i].field, field) == 0)
            return 1;
    return 0;
}

static int compare(const char *file, const char *field, const char *ours,
                   size_t ours_len, const char *theirs, size_t theirs_len,
                   size_t *excepted)
{
    struct buf a = BUF_INIT, b = BUF_INIT;
    int same, listed = is_exception(file, field);
    canon_str(ours, ours_len, &a);
    canon_str(theirs, theirs_len, &b);
    same = a.len == b.len && memcmp(a.data, b.data, a.len) == 0;
    if (!same && !listed)
        printf("#   %s %s differs:\n#     ours:    %s\n#     dovecot: %s\n",
               file, field, a.data, b.data);
    if (same && listed)
        printf("#   %s %s matches but is listed as an exception\n", file,
               field);
    if (!same && listed)
        (*excepted)++;
    buf_free(&a);
    buf_free(&b);
    return same == listed;
}

static void conformance_dovecot_reference(void)
{
    char path[4096];
    FILE *fp;
    char *line = NULL;
    size_t cap = 0, messages = 0, failures = 0, excepted = 0;
    size_t bytes = 0;
    double parse_seconds = 0, envelope_seconds = 0;
    struct buf file = BUF_INIT, value = BUF_INIT, data = BUF_INIT,
               out = BUF_INIT, why = BUF_INIT;

    snprintf(path, sizeof(path), "%s/mime/dovecot-2.3.19-reference.jsonl",
             conformance_dir());
    fp = fopen(path, "r");
    if (fp == NULL)
        SKIP("../shared/conformance/mime is not present beside the source "
             "tree (set POSTERN_CONFORMANCE_DIR)");
    while (getline(&line, &cap, fp) > 0) {
        struct mime_tree tree;
        struct timespec t0, t1, t2;
        char msgpath[4096];
        if (json_get(line, "file", &file) < 0)
            continue;
        snprintf(msgpath, sizeof(msgpath), "%s/mime/%s", conformance_dir(),
                 file.data);
        if (file_read(msgpath, 64 * 1024 * 1024, &data, &why) < 0) {
            printf("#   cannot read %s: %s\n", msgpath, why.data);
            failures++;
            continue;
        }
        messages++;
        bytes += data.len;
        mime_tree_init(&tree);
        clock_gettime(CLOCK_MONOTONIC, &t0);
        mime_tree_parse(&tree, data.data, data.len);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        buf_reset(&out);
        imap_envelope_write(&out, data.data,
                            imap_header_length(data.data, data.len));
        clock_gettime(CLOCK_MONOTONIC, &t2);
        parse_seconds += (double)(t1.tv_sec - t0.tv_sec) +
                         (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
        envelope_seconds += (double)(t2.tv_sec - t1.tv_sec) +
                            (double)(t2.tv_nsec - t1.tv_nsec) / 1e9;

        json_get(line, "envelope", &value);
        failures += (size_t)compare(file.data, "envelope", out.data, out.len,
                                    value.data, value.len, &excepted);

        buf_reset(&out);
        buf_appendf(&out, "%zu",
                    tree.parts[0].header_vsize + tree.parts[0].body_vsize);
        json_get(line, "rfc822_size", &value);
        failures += (size_t)compare(file.data, "size", out.data, out.len,
                                    value.data, value.len, &excepted);

        buf_reset(&out);
        imap_bodystructure_write(&out, &tree, 0, 0);
        json_get(line, "body", &value);
        failures += (size_t)compare(file.data, "body", out.data, out.len,
                                    value.data, value.len, &excepted);

        buf_reset(&out);
        imap_bodystructure_write(&out, &tree, 0, 1);
        json_get(line, "bodystructure", &value);
        failures += (size_t)compare(file.data, "bodystructure", out.data,
                                    out.len, value.data, value.len,
                                    &excepted);
        mime_tree_free(&tree);
    }
    fclose(fp);
    free(line);
    printf("#   %zu messages (%zu bytes): %zu differences outside the list, "
           "%zu listed ones\n", messages, bytes, failures, excepted);
    if (messages > 0)
        printf("#   time per message: structure %.2f us, envelope %.2f us\n",
               parse_seconds * 1e6 / (double)messages,
               envelope_seconds * 1e6 / (double)messages);
    CHECK(messages == 127);
    CHECK_INT(failures, 0);
    buf_free(&file);
    buf_free(&value);
    buf_free(&data);
    buf_free(&out);
    buf_free(&why);
}

int main(void)
{
    UNIT_RUN(conformance_dovecot_reference);
    return unit_summary();
}
