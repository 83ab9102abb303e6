/* smtp_data.c: the DATA content scanner (see smtp_data.h). */
#include "smtp/smtp_data.h"

#include <string.h>

void smtp_data_init(struct smtp_data_scanner *sc, int reject_bare)
{
    sc->reject_bare = reject_bare;
    sc->line_start = 1;
    sc->prev_crlf = 1;
}

enum smtp_data_event smtp_data_next(struct smtp_data_scanner *sc, const char *p,
                                    size_t avail, size_t piece_max,
                                    struct smtp_data_piece *out)
{
    memset(out, 0, sizeof(*out));
    if (avail == 0)
        return SMTP_DATA_NEED_MORE;
    if (piece_max < 3)
        piece_max = 3;
    const char *lf = memchr(p, '\n', avail);
    size_t content, consumed;
    int eol, crlf;
    if (lf) {
        content = (size_t)(lf - p);
        consumed = content + 1;
        crlf = content > 0 && p[content - 1] == '\r';
        if (crlf)
            content--;
        eol = 1;
        if (sc->reject_bare && memchr(p, '\r', content))
            return SMTP_DATA_BARE_CR;
        if (sc->reject_bare && !crlf)
            return SMTP_DATA_BARE_LF;
    } else {
        /* A CR before the last byte can no longer start a CR LF. */
        if (sc->reject_bare && avail > 1 && memchr(p, '\r', avail - 1))
            return SMTP_DATA_BARE_CR;
        if (avail < piece_max)
            return SMTP_DATA_NEED_MORE;
        /* A long line: pass a piece on, keeping a final CR back in case
         * its LF follows, and keeping a leading "." back until we know
         * whether the line is the end of data or stuffed. */
        content = avail - (p[avail - 1] == '\r' ? 1 : 0);
        consumed = content;
        eol = crlf = 0;
    }
    if (sc->line_start && eol && crlf && sc->prev_crlf && content == 1 &&
        p[0] == '.') {
        out->consumed = consumed;
        out->eol = 1;
        out->crlf = 1;
        sc->line_start = 1;
        return SMTP_DATA_END;
    }
    const char *text = p;
    /* Dot-unstuffing. A lone "." that did not end the data (a bare
     * newline was next to it) is kept as sent. */
    if (sc->line_start && content > 1 && p[0] == '.') {
        text++;
        content--;
    }
    out->data = text;
    out->len = content;
    out->eol = eol;
    out->crlf = crlf;
    out->consumed = consumed;
    if (eol)
        sc->prev_crlf = crlf;
    sc->line_start = eol;
    return SMTP_DATA_PIECE;
}
