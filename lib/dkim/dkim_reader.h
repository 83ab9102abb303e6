/* dkim_reader.h: splits a message fed in chunks (as smtpd receives DATA,
 * or a queue file is read) into its header section, kept as fields by
 * lib/message/header, and its body, handed on as it comes and never
 * kept. Shared by the DKIM verifier and signer.
 *
 * Lines end with CRLF or LF. The header section ends at the empty line,
 * or at the first line that is not a header field (that line is body,
 * as lib/message/header decides). Header lines are bounded by
 * header_block's limits; a longer physical line is cut and the block
 * marked truncated. */
#ifndef POSTERN_DKIM_READER_H
#define POSTERN_DKIM_READER_H

#include <stddef.h>

#include "base/buf.h"
#include "message/header.h"

struct dkim_reader {
    struct header_block hb;
    struct buf line;   /* the header line being collected */
    int headers_done;
    int ended;
    /* Called once when the header section is complete. */
    void (*on_headers)(void *ctx);
    /* Called with body bytes as they come (CRLF or LF line ends). */
    void (*on_body)(void *ctx, const char *data, size_t len);
    void *ctx;
};

void dkim_reader_init(struct dkim_reader *r, void (*on_headers)(void *ctx),
                      void (*on_body)(void *ctx, const char *data, size_t len),
                      void *ctx);
void dkim_reader_feed(struct dkim_reader *r, const char *data, size_t len);
/* The end of the message: a header section without body ends here. */
void dkim_reader_end(struct dkim_reader *r);
/* Whether the header section had to be cut (a field over the limits):
 * signatures over it may not verify. */
int dkim_reader_damaged(const struct dkim_reader *r);
void dkim_reader_free(struct dkim_reader *r);

#endif
