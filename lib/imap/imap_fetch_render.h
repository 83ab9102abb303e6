/* imap_fetch_render.h: one FETCH response ("* 7 FETCH (...)") for one
 * message, from the parsed items of imap_fetch.h and a message view
 * (imap_message.h). Pure: it changes no flag and writes no log; imapd
 * sets \Seen and sends the buffer.
 *
 * What it follows (Dovecot 2.3's behaviour where the RFCs leave room,
 * checked against Debian's dovecot-imapd; docs/imap-fetch-search.md):
 *  - item order: UID first under UID FETCH, then FLAGS when the caller
 *    says the flags changed (\Seen set by this FETCH), then UID, FLAGS,
 *    INTERNALDATE, RFC822.SIZE and MODSEQ in the order asked, then the
 *    others in the order asked; an item asked twice is sent once;
 *  - sizes, offsets and <partial> ranges count every line end as CRLF,
 *    and bodies are sent with CRLF line ends whatever the file holds;
 *  - a section that does not exist (BODY[9], BODY[1.HEADER] of a part
 *    that is not a message/rfc822) and a partial starting past the end
 *    are empty literals ({0});
 *  - HEADER.FIELDS keeps the named fields in message order, each with
 *    its continuation lines, and ends with an empty line (so a fetch
 *    that matches nothing is "\r\n"); the section is echoed in upper
 *    case;
 *  - BINARY decodes base64 and quoted-printable (mime_decode.h) and
 *    sends the result as a literal8 (~{n}), other parts as literals;
 *    BINARY of a multipart or message/rfc822 part, and BINARY[], send
 *    the bytes undecoded; an unknown encoding fails the message with
 *    IMAP_RENDER_UNKNOWN_CTE, bad base64 with IMAP_RENDER_PARSE.
 * Cached ENVELOPE/BODY/BODYSTRUCTURE are used as they are, so a FETCH of
 * FLAGS, ENVELOPE and the like never reads the message. */
#ifndef POSTERN_IMAP_FETCH_RENDER_H
#define POSTERN_IMAP_FETCH_RENDER_H

#include "base/buf.h"
#include "imap/imap_fetch.h"
#include "imap/imap_message.h"

/* Flags for imap_fetch_render(). */
#define IMAP_RENDER_UID 0x01        /* UID FETCH: UID always, first */
#define IMAP_RENDER_READ_ONLY 0x02  /* EXAMINE: \Seen is never set */
#define IMAP_RENDER_SEND_FLAGS 0x04 /* flags changed (\Seen set): send them */

enum imap_render_result {
    IMAP_RENDER_OK = 0,
    IMAP_RENDER_UNREADABLE,  /* the message's bytes could not be read */
    IMAP_RENDER_UNKNOWN_CTE, /* BINARY of a part in an unknown encoding */
    IMAP_RENDER_PARSE,       /* BINARY of a part whose encoding is broken */
};

/* Whether this FETCH must set \Seen on the message: an item that is not
 * PEEK (BODY[...], BINARY[...], RFC822, RFC822.TEXT), the message not
 * \Seen yet, and the mailbox not read-only. imapd calls this first, sets
 * the flag (and its MODSEQ) in the view and in the index, then renders
 * with IMAP_RENDER_SEND_FLAGS. */
int imap_fetch_render_sets_seen(const struct imap_fetch *fetch,
                                const struct imap_message *msg,
                                unsigned flags);

/* Appends "* SEQ FETCH (...)\r\n" to out. On an error nothing is
 * appended (out is as before) and the result says which; imapd answers
 * the command with imap_render_error_text() after a NO. */
enum imap_render_result imap_fetch_render(struct buf *out,
                                          struct imap_message *msg,
                                          const struct imap_fetch *fetch,
                                          unsigned flags);

/* The text for the tagged NO: "[UNKNOWN-CTE] Unknown
 * Content-Transfer-Encoding", "[PARSE] Invalid data in MIME part",
 * "Message is no longer available" (Dovecot's wordings); NULL for OK. */
const char *imap_render_error_text(enum imap_render_result result);

/* Appends data[0..len) with each bare LF written as CRLF, skipping the
 * first `skip` bytes and keeping at most `count` of the converted form.
 * Returns the bytes appended. */
size_t imap_crlf_append(struct buf *out, const char *data, size_t len,
                        uint64_t skip, uint64_t count);

/* The size of data[0..len) with each bare LF counted as CRLF. */
uint64_t imap_crlf_size(const char *data, size_t len);

#endif
