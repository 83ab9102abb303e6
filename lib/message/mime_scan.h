/* mime_scan.h: splits a message into the pieces that Postfix's content
 * checks look at: logical header lines (header_checks) and body lines
 * (body_checks). postmap -h and -b query tables with them; smtpd's
 * header and body checks can use the same split when they arrive.
 *
 * The message is fed one physical line at a time (without the line
 * ending; a final CR is dropped). A header field and its continuation
 * lines become one header piece, the lines joined with "\n" as written.
 * The header section ends at an empty line (which is neither header nor
 * body) or at the first line that is neither "Name:" nor a continuation
 * (that line is body), as in Postfix.
 *
 * Without MIME processing everything after the first header section is
 * body. With it (postmap -m) multipart boundaries are followed as
 * Postfix's mime_state does: the header of each part is a MIME header,
 * an attached message/rfc822 or message/global starts with a nested
 * header, and neither is body; everything else (boundary lines, part
 * contents, preamble and epilogue) is body. Content is not decoded.
 *
 * Bounds: a header piece keeps at most MIME_SCAN_HEADER_LIMIT bytes (the
 * rest is discarded, as Postfix's header_size_limit does); multipart
 * nesting deeper than MIME_SCAN_NESTING_LIMIT is not followed (its
 * boundaries are body text); a boundary longer than
 * MIME_SCAN_BOUNDARY_MAX is not followed either. Nothing fails. */
#ifndef POSTERN_MIME_SCAN_H
#define POSTERN_MIME_SCAN_H

#include <stddef.h>

#define MIME_SCAN_HEADER_LIMIT 102400 /* Postfix header_size_limit */
#define MIME_SCAN_NESTING_LIMIT 100   /* Postfix mime_nesting_limit */
#define MIME_SCAN_BOUNDARY_MAX 200    /* RFC 2046 says 70 */

enum mime_header_class {
    MIME_HEADER_PRIMARY,   /* the message's own header */
    MIME_HEADER_MULTIPART, /* the header of a multipart part */
    MIME_HEADER_NESTED,    /* the header of an attached message */
};

/* Called for each logical header line: text (not NUL-terminated) of
 * len bytes. */
typedef void (*mime_header_fn)(void *ctx, enum mime_header_class cls,
                               const char *text, size_t len);
/* Called for each body line. */
typedef void (*mime_body_fn)(void *ctx, const char *line, size_t len);

/* Structure events, for a caller that rewrites the message as it goes
 * (message/mime_downgrade): they fire inside mime_scan_line, for the
 * line being fed, in the order things happen.
 *   LEAF, MULTIPART, MESSAGE: the current header block ended (at this
 *     line: an empty line, or a line that is not a header and so starts
 *     what follows); what follows is a leaf body, a multipart preamble,
 *     or the header of an attached message (a nested block).
 *   PART: this body line is a boundary; a part's header block follows.
 *   CLOSE: this body line is a closing boundary; an epilogue follows.
 * Without MIME processing every header block ends with LEAF. */
enum mime_event {
    MIME_EVENT_LEAF,
    MIME_EVENT_MULTIPART,
    MIME_EVENT_MESSAGE,
    MIME_EVENT_PART,
    MIME_EVENT_CLOSE,
};
typedef void (*mime_event_fn)(void *ctx, enum mime_event event);

struct mime_scan;

/* mime: follow MIME structure (postmap -m). Either callback may be
 * NULL. */
struct mime_scan *mime_scan_new(int mime, mime_header_fn header,
                                mime_body_fn body, void *ctx);
/* Sets (or, with NULL, clears) the structure event callback; it gets
 * the ctx given to mime_scan_new. */
void mime_scan_set_events(struct mime_scan *ms, mime_event_fn event_fn);
/* Feeds one physical line, without its line ending. */
void mime_scan_line(struct mime_scan *ms, const char *line, size_t len);
/* Ends the message: a header line still pending is delivered. */
void mime_scan_end(struct mime_scan *ms);
void mime_scan_free(struct mime_scan *ms);

#endif
