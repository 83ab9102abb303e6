/* imap_utf7.h: mailbox names on the wire: modified UTF-7 (RFC 3501
 * section 5.1.3) to and from UTF-8, and the checks a mailbox name
 * passes before imapd looks it up.
 *
 * Decoding is strict: a byte outside printable ASCII, an unterminated
 * or empty "&...-" other than "&-", base64 that encodes a printable
 * ASCII character, leftover bits that are not zero, an odd number of
 * UTF-16 bytes, and unpaired surrogates are all rejected, so two
 * spellings of one name cannot exist. Consecutive encoded runs
 * ("&AOk-&AOk-") are accepted; the encoder never writes them. */
#ifndef POSTERN_IMAP_UTF7_H
#define POSTERN_IMAP_UTF7_H

#include <stddef.h>

#include "base/buf.h"
#include "imap/imap_arg.h"

/* Appends the UTF-8 form of the modified UTF-7 text to out. 0, or -1
 * for invalid input (out then holds a prefix to ignore). */
int imap_utf7_decode(const char *text, size_t len, struct buf *out);

/* Appends the modified UTF-7 form of the UTF-8 text to out. 0, or -1
 * when the text is not well-formed UTF-8. */
int imap_utf7_encode(const char *utf8, size_t len, struct buf *out);

/* Longest mailbox name accepted, in bytes of UTF-8. */
#define IMAP_MAILBOX_NAME_MAX 1024

/* The mailbox argument of SELECT, CREATE, APPEND, ... (an astring) to
 * its UTF-8 name in out: decoded from modified UTF-7 unless utf8_mode
 * (UTF8=ACCEPT or IMAP4rev2 enabled), where the name is taken as UTF-8
 * and must be well-formed. "INBOX" in any case becomes "INBOX". Control
 * characters, an empty name and names over IMAP_MAILBOX_NAME_MAX are
 * refused. 0, or -1 with *error set to a text for "BAD <error>". */
int imap_mailbox_name(const struct imap_arg *arg, int utf8_mode,
                      struct buf *out, const char **error);

#endif
