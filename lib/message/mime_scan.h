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

struct mime_scan;

/* mime: follow MIME structure (postmap -m). Either callback may be
 * NULL. */
struct mime_scan *mime_scan_new(int mime, mime_header_fn header,
                                mime_body_fn body, void *ctx);
/* Feeds one physical line, without its line ending. */
void mime_scan_line(struct mime_scan *ms, const char *line, size_t len);
/* Ends the message: a header line still pending is delivered. */
void mime_scan_end(struct mime_scan *ms);
void mime_scan_free(struct mime_scan *ms);

#endif
