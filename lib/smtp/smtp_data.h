/* smtp_data.h: the SMTP DATA content scanner: where lines end, what is
 * dot-stuffing, and where the message ends, with the rules that defeat
 * SMTP smuggling.
 *
 * Only <CR><LF>.<CR><LF> ends the data: a "." line ends it only when
 * that line and the one before it both ended in CR LF (the line before
 * the first one is the DATA command's, which did). With reject_bare set,
 * a bare LF (no CR before it) or a bare CR (a CR not followed by LF)
 * stops the scan with an event the server answers with a 5xx and a
 * disconnect. Without it (smtpd_forbid_bare_newline = normalize) a bare
 * LF ends a line, a bare CR is data, and neither can take part in the
 * end of data.
 *
 * The scanner is pure and works on whatever input is at hand: it never
 * needs the whole message, and the result does not depend on how the
 * input was split into reads. Lines longer than piece_max come out in
 * pieces (eol = 0 on all but the last). */
#ifndef POSTERN_SMTP_DATA_H
#define POSTERN_SMTP_DATA_H

#include <stddef.h>

struct smtp_data_scanner {
    int reject_bare; /* bare LF / CR are errors */
    int line_start;  /* the next byte begins a line */
    int prev_crlf;   /* the last complete line ended in CR LF */
};

enum smtp_data_event {
    SMTP_DATA_NEED_MORE, /* nothing decidable: read more input */
    SMTP_DATA_PIECE,     /* out->data/len (unstuffed), out->eol */
    SMTP_DATA_END,       /* the end-of-data line */
    SMTP_DATA_BARE_LF,   /* reject_bare: a bare LF */
    SMTP_DATA_BARE_CR,   /* reject_bare: a bare CR */
};

struct smtp_data_piece {
    const char *data; /* points into the input */
    size_t len;
    int eol;         /* this piece ends a line (its ending removed) */
    int crlf;        /* ... and that ending was CR LF */
    size_t consumed; /* input bytes used (PIECE and END) */
};

void smtp_data_init(struct smtp_data_scanner *sc, int reject_bare);

/* Looks at input[0..avail). For PIECE and END the caller consumes
 * out->consumed bytes before calling again; for NEED_MORE it calls again
 * with more input (the same unconsumed bytes first). piece_max (>= 3) bounds
 * how much of one line is held back waiting for its end. */
enum smtp_data_event smtp_data_next(struct smtp_data_scanner *sc,
                                    const char *input, size_t avail,
                                    size_t piece_max,
                                    struct smtp_data_piece *out);

#endif
