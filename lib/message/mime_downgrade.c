/* mime_downgrade.c: 8-bit to 7-bit MIME conversion for a peer without
 * 8BITMIME (see mime_downgrade.h). mime_scan follows the structure and
 * reports, per line, where header blocks end and parts begin; this file
 * decides what each block's header and body become. */
#include "message/mime_downgrade.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/mem.h"
#include "message/mime_scan.h"

#define EVENTS_PER_LINE 8 /* mime_scan fires at most 3 */

enum downgrade_mode {
    MODE_HEADER,    /* in a header block: lines are held */
    MODE_LOOKAHEAD, /* identity-encoded leaf body: held until decided */
    MODE_ENCODE,    /* leaf body being converted to quoted-printable */
    MODE_PASS,      /* preamble/epilogue: 8-bit bytes become '?' */
    MODE_BASE64,    /* base64 body: 8-bit bytes dropped */
    MODE_QP,        /* quoted-printable body: 8-bit bytes become =XX */
};

enum cte_class { CTE_IDENTITY, CTE_8BIT, CTE_BASE64, CTE_QP };

struct mime_downgrade {
    struct mime_scan *scan;
    size_t hold_limit;
    struct buf line;    /* the physical line (piece) being collected */
    int line_continues; /* an earlier piece of this line was handled */
    int boundary_rest;  /* the line's earlier piece was a boundary */
    enum downgrade_mode mode;
    int changed;
    int qp_column; /* MODE_ENCODE: characters on the current output line */

    enum mime_event events[EVENTS_PER_LINE];
    int event_count;

    /* The current header block. */
    int message_header; /* a message's own header (primary or nested) */
    struct buf hold;    /* its lines less the CTE field; then body held */
    struct buf cte;     /* its Content-Transfer-Encoding field, raw */
    int cte_seen, in_cte, cte_moved;
    size_t cte_pos;    /* where the CTE field goes back into hold */
    size_t header_end; /* hold offset where the header block ends */
    int mime_version_seen;
    int header_line_open; /* the last header line so far has no end yet */
};

static void on_event(void *ctx, enum mime_event event)
{
    struct mime_downgrade *md = ctx;
    if (md->event_count < EVENTS_PER_LINE)
        md->events[md->event_count++] = event;
}

static void start_block(struct mime_downgrade *md, int message_header)
{
    md->mode = MODE_HEADER;
    md->message_header = message_header;
    buf_reset(&md->hold);
    buf_reset(&md->cte);
    md->cte_seen = md->in_cte = md->cte_moved = 0;
    md->cte_pos = md->header_end = 0;
    md->mime_version_seen = 0;
    md->header_line_open = 0;
}

struct mime_downgrade *mime_downgrade_new(size_t hold_limit)
{
    struct mime_downgrade *md = xcalloc(1, sizeof(*md));
    md->hold_limit = hold_limit ? hold_limit : MIME_DOWNGRADE_HOLD_DEFAULT;
    md->scan = mime_scan_new(1, NULL, NULL, md);
    mime_scan_set_events(md->scan, on_event);
    buf_init(&md->line);
    buf_init(&md->hold);
    buf_init(&md->cte);
    start_block(md, 1);
    return md;
}

void mime_downgrade_free(struct mime_downgrade *md)
{
    if (md == NULL)
        return;
    mime_scan_free(md->scan);
    buf_free(&md->line);
    buf_free(&md->hold);
    buf_free(&md->cte);
    free(md);
}

int mime_downgrade_changed(const struct mime_downgrade *md)
{
    return md->changed;
}

/* ---- small pieces ---- */

static int has_8bit(const char *p, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)p[i] >= 0x80)
            return 1;
    return 0;
}

/* Is the line the start of header field `name`? */
static int field_is(const char *p, size_t len, const char *name)
{
    size_t n = strlen(name);
    if (len <= n || strncasecmp(p, name, n) != 0)
        return 0;
    size_t i = n;
    while (i < len && (p[i] == ' ' || p[i] == '\t'))
        i++;
    return i < len && p[i] == ':';
}

static enum cte_class classify_cte(const struct buf *field)
{
    const char *p = memchr(field->data, ':', field->len);
    if (p == NULL)
        return CTE_IDENTITY;
    const char *end = field->data + field->len;
    p++;
    while (p < end && isspace((unsigned char)*p))
        p++;
    size_t n = 0;
    while (p + n < end && !isspace((unsigned char)p[n]) && p[n] != ';' &&
           p[n] != '(')
        n++;
    if ((n == 4 && strncasecmp(p, "8bit", 4) == 0) ||
        (n == 6 && strncasecmp(p, "binary", 6) == 0))
        return CTE_8BIT;
    if (n == 6 && strncasecmp(p, "base64", 6) == 0)
        return CTE_BASE64;
    if (n == 16 && strncasecmp(p, "quoted-printable", 16) == 0)
        return CTE_QP;
    return CTE_IDENTITY;
}

static void end_line(struct buf *out, int eol)
{
    if (eol)
        buf_append(out, "\r\n", 2);
}

static const char hex_digits[] = "0123456789ABCDEF";

/* Appends one line (piece) as quoted-printable, soft breaks keeping
 * lines at MIME_DOWNGRADE_QP_LINE characters. */
static void qp_encode(struct mime_downgrade *md, const char *p, size_t len,
                      int eol, struct buf *out)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)p[i];
        int literal = (c >= 33 && c <= 126 && c != '=') ||
                      ((c == ' ' || c == '\t') && i + 1 < len);
        int width = literal ? 1 : 3;
        if (md->qp_column + width > MIME_DOWNGRADE_QP_LINE - 1) {
            buf_append(out, "=\r\n", 3);
            md->qp_column = 0;
        }
        if (literal) {
            buf_append_char(out, (char)c);
        } else {
            char enc[3] = {'=', hex_digits[c >> 4], hex_digits[c & 15]};
            buf_append(out, enc, 3);
        }
        md->qp_column += width;
    }
    if (eol) {
        buf_append(out, "\r\n", 2);
        md->qp_column = 0;
    }
}

/* Re-encodes held body bytes (lines that end in CRLF, the last maybe a
 * piece without its end yet) as quoted-printable. */
static void qp_encode_held(struct mime_downgrade *md, const char *p, size_t len,
                           struct buf *out)
{
    while (len > 0) {
        const char *nl = memchr(p, '\n', len);
        if (nl == NULL) {
            qp_encode(md, p, len, 0, out);
            return;
        }
        size_t line_len = (size_t)(nl - p);
        /* Held lines end in the CRLF we wrote; the CR is not content. */
        qp_encode(md, p, line_len > 0 ? line_len - 1 : 0, 1, out);
        p = nl + 1;
        len -= line_len + 1;
    }
}

/* Appends the held header block (hold up to `end`) with its CTE field:
 * the original one when new_cte is NULL, else one saying new_cte. */
static void emit_header(struct mime_downgrade *md, const char *new_cte,
                        size_t end, struct buf *out)
{
    int at_end = !(md->cte_seen && !md->cte_moved);
    size_t pos = at_end ? end : md->cte_pos;
    buf_append(out, md->hold.data, pos);
    /* A field that goes after the block's last line needs that line
     * ended: only a message that ends in its header without a line end
     * (the hold flushed, so the field was moved) gets here with it open.
     * Without this the field would be glued onto that line. */
    if (at_end && md->header_line_open && (new_cte || md->cte.len > 0))
        buf_append(out, "\r\n", 2);
    if (new_cte) {
        buf_appendf(out, "Content-Transfer-Encoding: %s\r\n", new_cte);
        if (md->message_header && !md->mime_version_seen &&
            strcmp(new_cte, "quoted-printable") == 0)
            buf_append_str(out, "MIME-Version: 1.0\r\n");
        md->changed = 1;
    } else {
        buf_append(out, md->cte.data, md->cte.len);
    }
    buf_append(out, md->hold.data + pos, end - pos);
}

/* A held identity-encoded leaf becomes quoted-printable. */
static void convert_held(struct mime_downgrade *md, struct buf *out)
{
    emit_header(md, "quoted-printable", md->header_end, out);
    md->qp_column = 0;
    md->mode = MODE_ENCODE;
    qp_encode_held(md, md->hold.data + md->header_end,
                   md->hold.len - md->header_end, out);
    buf_reset(&md->hold);
    buf_reset(&md->cte);
}

/* Whatever is still held goes out as it came. */
static void flush_held(struct mime_downgrade *md, struct buf *out)
{
    if (md->mode == MODE_HEADER)
        md->header_end = md->hold.len;
    else if (md->mode != MODE_LOOKAHEAD)
        return;
    emit_header(md, NULL, md->header_end, out);
    buf_append(out, md->hold.data + md->header_end,
               md->hold.len - md->header_end);
    buf_reset(&md->hold);
    buf_reset(&md->cte);
    md->cte_seen = 0;
}

/* ---- the header block ---- */

static void header_line(struct mime_downgrade *md, const char *p, size_t len,
                        int eol, int first, struct buf *out)
{
    if (first && !(len > 0 && (p[0] == ' ' || p[0] == '\t'))) {
        md->in_cte = 0;
        if (!md->cte_seen && field_is(p, len, "Content-Transfer-Encoding")) {
            md->cte_seen = md->in_cte = 1;
            md->cte_pos = md->hold.len;
        } else if (field_is(p, len, "MIME-Version")) {
            md->mime_version_seen = 1;
        }
    }
    struct buf *to = md->in_cte ? &md->cte : &md->hold;
    buf_append(to, p, len);
    end_line(to, eol);
    md->header_line_open = !eol;
    if (md->hold.len + md->cte.len <= md->hold_limit)
        return;
    /* A huge header block: what is held goes out now. The CTE field is
     * kept back and goes in at the end of the block; one that is itself
     * huge is given up on (the block counts as having none). */
    buf_append(out, md->hold.data, md->hold.len);
    buf_reset(&md->hold);
    if (md->in_cte) {
        buf_append(out, md->cte.data, md->cte.len);
        buf_reset(&md->cte);
        md->cte_seen = md->in_cte = 0;
    } else if (md->cte_seen) {
        md->cte_moved = 1;
    }
}

/* The header block ended (event LEAF, MULTIPART or MESSAGE). */
static void header_end(struct mime_downgrade *md, enum mime_event event,
                       struct buf *out)
{
    if (md->mode != MODE_HEADER)
        return; /* cannot happen: mime_scan ends only blocks it began */
    md->header_end = md->hold.len;
    enum cte_class cte = md->cte_seen ? classify_cte(&md->cte) : CTE_IDENTITY;
    if (event != MIME_EVENT_LEAF) {
        emit_header(md, cte == CTE_8BIT ? "7bit" : NULL, md->header_end, out);
        if (event == MIME_EVENT_MESSAGE)
            start_block(md, 1);
        else
            md->mode = MODE_PASS;
        buf_reset(&md->hold);
        buf_reset(&md->cte);
        return;
    }
    switch (cte) {
    case CTE_BASE64:
        emit_header(md, NULL, md->header_end, out);
        md->mode = MODE_BASE64;
        break;
    case CTE_QP:
        emit_header(md, NULL, md->header_end, out);
        md->mode = MODE_QP;
        break;
    case CTE_8BIT:
        emit_header(md, "quoted-printable", md->header_end, out);
        md->mode = MODE_ENCODE;
        md->qp_column = 0;
        break;
    case CTE_IDENTITY:
        md->mode = MODE_LOOKAHEAD;
        return; /* still held */
    }
    buf_reset(&md->hold);
    buf_reset(&md->cte);
}

/* ---- lines ---- */

/* Text that readers ignore: 8-bit bytes become '?'. */
static void scrub(const char *p, size_t len, int eol, struct buf *out)
{
    for (size_t i = 0; i < len; i++)
        buf_append_char(out, (unsigned char)p[i] >= 0x80 ? '?' : p[i]);
    end_line(out, eol);
}

static void body_line(struct mime_downgrade *md, const char *p, size_t len,
                      int eol, struct buf *out)
{
    switch (md->mode) {
    case MODE_HEADER:
        break; /* handled by the caller */
    case MODE_LOOKAHEAD:
        buf_append(&md->hold, p, len);
        end_line(&md->hold, eol);
        if (has_8bit(p, len) || md->hold.len > md->hold_limit)
            convert_held(md, out);
        break;
    case MODE_ENCODE:
        qp_encode(md, p, len, eol, out);
        break;
    case MODE_PASS:
        scrub(p, len, eol, out);
        break;
    case MODE_BASE64:
        for (size_t i = 0; i < len; i++)
            if ((unsigned char)p[i] < 0x80)
                buf_append_char(out, p[i]);
        end_line(out, eol);
        break;
    case MODE_QP:
        for (size_t i = 0; i < len; i++) {
            unsigned char c = (unsigned char)p[i];
            if (c < 0x80) {
                buf_append_char(out, (char)c);
            } else {
                char enc[3] = {'=', hex_digits[c >> 4], hex_digits[c & 15]};
                buf_append(out, enc, 3);
            }
        }
        end_line(out, eol);
        break;
    }
}

/* One physical line, or a piece of one (eol 0: more of it follows). */
static void handle_line(struct mime_downgrade *md, const char *p, size_t len,
                        int eol, struct buf *out)
{
    int first = !md->line_continues;
    md->line_continues = !eol;
    if (!first && md->boundary_rest) {
        /* The rest of an over-long boundary line (trailing blanks). */
        scrub(p, len, eol, out);
        md->boundary_rest = !eol;
        return;
    }
    if (first) {
        md->event_count = 0;
        mime_scan_line(md->scan, p, len);
        for (int i = 0; i < md->event_count; i++) {
            enum mime_event event = md->events[i];
            if (event == MIME_EVENT_PART || event == MIME_EVENT_CLOSE) {
                /* A boundary ends the part before it: it is 7-bit. */
                flush_held(md, out);
                buf_append(out, p, len);
                end_line(out, eol);
                md->boundary_rest = !eol;
                if (event == MIME_EVENT_PART)
                    start_block(md, 0);
                else
                    md->mode = MODE_PASS;
                return;
            }
            header_end(md, event, out);
        }
    }
    if (md->mode == MODE_HEADER)
        header_line(md, p, len, eol, first, out);
    else
        body_line(md, p, len, eol, out);
}

void mime_downgrade_input(struct mime_downgrade *md, const char *data,
                          size_t len, struct buf *out)
{
    while (len > 0) {
        size_t room = MIME_DOWNGRADE_LINE_CHUNK - md->line.len;
        const char *nl = memchr(data, '\n', len);
        size_t take = nl ? (size_t)(nl - data) + 1 : len;
        if (take > room) {
            take = room;
            nl = NULL;
        }
        buf_append(&md->line, data, take);
        data += take;
        len -= take;
        if (nl) {
            size_t n = md->line.len - 1; /* less the LF */
            if (n > 0 && md->line.data[n - 1] == '\r')
                n--;
            handle_line(md, md->line.data, n, 1, out);
            buf_reset(&md->line);
        } else if (md->line.len >= MIME_DOWNGRADE_LINE_CHUNK) {
            /* A long line goes in pieces; a CR at the end waits, it may
             * be half of the line's CRLF. */
            size_t n = md->line.len;
            if (md->line.data[n - 1] == '\r')
                n--;
            handle_line(md, md->line.data, n, 0, out);
            buf_consume(&md->line, n);
        }
    }
}

void mime_downgrade_finish(struct mime_downgrade *md, struct buf *out)
{
    if (md->line.len > 0) {
        handle_line(md, md->line.data, md->line.len, 0, out);
        buf_reset(&md->line);
    }
    mime_scan_end(md->scan);
    flush_held(md, out);
}
