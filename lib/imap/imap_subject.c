/* imap_subject.c: RFC 5256 base subjects (see imap_subject.h). */
#include "imap/imap_subject.h"

#include <string.h>
#include <strings.h>

#include "imap/imap_casefold.h"
#include "message/rfc2047.h"

/* [start, end) over the subject being reduced. */
struct span {
    const char *s;
    size_t start, end;
};

static int is_wsp(char c)
{
    return c == ' ' || c == '\t';
}

/* subj-trailer: "(fwd)" / WSP at the end, repeatedly (step 2). */
static int strip_trailers(struct span *sp)
{
    int fwd = 0;
    for (;;) {
        if (sp->end > sp->start && is_wsp(sp->s[sp->end - 1])) {
            sp->end--;
        } else if (sp->end - sp->start >= 5 &&
                   strncasecmp(sp->s + sp->end - 5, "(fwd)", 5) == 0) {
            sp->end -= 5;
            fwd = 1;
        } else {
            return fwd;
        }
    }
}

/* subj-blob at pos: "[" *BLOBCHAR "]" *WSP; its length, or 0. */
static size_t blob_len(const struct span *sp, size_t pos)
{
    size_t i = pos;
    if (i >= sp->end || sp->s[i] != '[')
        return 0;
    for (i++; i < sp->end && sp->s[i] != ']'; i++)
        if (sp->s[i] == '[')
            return 0;
    if (i >= sp->end)
        return 0;
    for (i++; i < sp->end && is_wsp(sp->s[i]); i++)
        ;
    return i - pos;
}

/* subj-refwd at pos: ("re" / "fw" ["d"]) *WSP [subj-blob] ":"; its
 * length, or 0. */
static size_t refwd_len(const struct span *sp, size_t pos)
{
    size_t i = pos, left = sp->end - pos;
    if (left >= 2 && strncasecmp(sp->s + i, "re", 2) == 0)
        i += 2;
    else if (left >= 3 && strncasecmp(sp->s + i, "fwd", 3) == 0)
        i += 3;
    else if (left >= 2 && strncasecmp(sp->s + i, "fw", 2) == 0)
        i += 2;
    else
        return 0;
    while (i < sp->end && is_wsp(sp->s[i]))
        i++;
    i += blob_len(sp, i);
    if (i >= sp->end || sp->s[i] != ':')
        return 0;
    return i + 1 - pos;
}

/* Steps 3 to 5: leaders and a leading blob, until none is left. */
static int strip_leaders(struct span *sp)
{
    int reply = 0, changed = 1;
    while (changed) {
        size_t pos = sp->start, n;
        changed = 0;
        /* subj-leader: (*subj-blob subj-refwd) / WSP */
        if (pos < sp->end && is_wsp(sp->s[pos])) {
            sp->start++;
            changed = 1;
            continue;
        }
        while ((n = blob_len(sp, pos)) > 0)
            pos += n;
        if ((n = refwd_len(sp, pos)) > 0) {
            sp->start = pos + n;
            reply = changed = 1;
            continue;
        }
        /* a leading blob goes when something is left after it */
        n = blob_len(sp, sp->start);
        if (n > 0 && sp->start + n < sp->end) {
            sp->start += n;
            changed = 1;
        }
    }
    return reply;
}

int imap_base_subject(const char *subject, size_t len, struct buf *out)
{
    struct buf text = BUF_INIT;
    struct span sp;
    int reply = 0;

    if (subject == NULL)
        return 0;
    /* step 1: decoded, each run of white space one space */
    {
        struct buf decoded = BUF_INIT;
        rfc2047_decode(subject, len, &decoded);
        for (size_t i = 0; i < decoded.len; i++) {
            char c = decoded.data[i];
            if (c == '\t' || c == '\r' || c == '\n')
                c = ' ';
            if (c == ' ' && text.len > 0 && text.data[text.len - 1] == ' ')
                continue;
            buf_append_char(&text, c);
        }
        buf_free(&decoded);
    }
    sp.s = text.data ? text.data : "";
    sp.start = 0;
    sp.end = text.len;
    for (;;) {
        reply |= strip_trailers(&sp);          /* step 2 */
        reply |= strip_leaders(&sp);           /* steps 3-5 */
        /* step 6: "[fwd:" ... "]" */
        if (sp.end - sp.start >= 6 &&
            strncasecmp(sp.s + sp.start, "[fwd:", 5) == 0 &&
            sp.s[sp.end - 1] == ']') {
            sp.start += 5;
            sp.end--;
            reply = 1;
            continue;
        }
        break;
    }
    imap_casefold_append(out, sp.s + sp.start, sp.end - sp.start);
    buf_free(&text);
    return reply;
}
