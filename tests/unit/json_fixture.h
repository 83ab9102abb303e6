/* json_fixture.h: for unit tests that compare with recorded answers kept
 * as JSON lines (Dovecot's in ../shared/conformance and in
 * tests/unit/data/imap): one value out of a one-line JSON object, and
 * where the shared conformance data lives. */
#ifndef POSTERN_TEST_JSON_FIXTURE_H
#define POSTERN_TEST_JSON_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"

/* Where the conformance data lives, relative to the top of the source
 * tree (tests run there): the shared directory beside the checkouts. */
#define CONFORMANCE_DEFAULT "../shared/conformance"

static inline const char *conformance_dir(void)
{
    const char *dir = getenv("POSTERN_CONFORMANCE_DIR");
    return dir && *dir ? dir : CONFORMANCE_DEFAULT;
}

/* The string or number value of "key" in a one-line JSON object, as
 * json.dumps writes it. \uXXXX becomes UTF-8, or with `bytes` set a
 * single byte (for values written from bytes decoded as Latin-1). */
static inline int json_get_value(const char *line, const char *key,
                                 struct buf *out, int bytes)
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
        case 'b': buf_append_char(out, '\b'); break;
        case 'f': buf_append_char(out, '\f'); break;
        case 'u': {
            unsigned v = 0;
            for (int i = 1; i <= 4 && p[i]; i++) {
                char h = p[i];
                v = v * 16 + (unsigned)(h <= '9' ? h - '0' : (h | 32) - 'a' + 10);
            }
            p += 4;
            if (v < 0x80 || (bytes && v < 0x100)) {
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

static inline int json_get(const char *line, const char *key, struct buf *out)
{
    return json_get_value(line, key, out, 0);
}

#endif
