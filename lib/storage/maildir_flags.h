/* maildir_flags.h: a Maildir file name's parts as Dovecot reads and
 * writes them.
 *
 *     1796677240.M57431P13792.host,S=35,W=40:2,FSab,x
 *     |---------------- base ---------------|info----|
 *
 * The base (up to the first ':') never changes and is what
 * dovecot-uidlist records. The info ":2,<flags>" holds the system flags
 * as the Maildir specification names them (D draft, F flagged, R
 * replied = \Answered, S seen, T trashed = \Deleted) and the keyword
 * letters a..z (dovecot-keywords.h); a ',' ends the flags and what
 * follows is kept as it is. Flags are written sorted by their ASCII
 * code; letters we do not know (P passed, ...) are kept in place. */
#ifndef POSTERN_MAILDIR_FLAGS_H
#define POSTERN_MAILDIR_FLAGS_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

/* The same bits as lib/imap/imap_flags.h's IMAP_FLAG_*. */
#define MAILDIR_FLAG_ANSWERED 0x01
#define MAILDIR_FLAG_FLAGGED 0x02
#define MAILDIR_FLAG_DELETED 0x04
#define MAILDIR_FLAG_SEEN 0x08
#define MAILDIR_FLAG_DRAFT 0x10
#define MAILDIR_FLAGS_STORED 0x1f

/* Bytes of name before its info part (the first ':'). */
size_t maildir_base_len(const char *name);

/* Reads the flags and keyword letters (bit i = letter 'a'+i) of name;
 * both are 0 when it has no ":2," info. */
void maildir_flags_parse(const char *name, unsigned *flags,
                         uint32_t *keywords);

/* Appends to out the info part that name should have with these flags
 * and keywords: ":2," and the merged, sorted letters, plus anything
 * after a ',' in the old info. */
void maildir_flags_info(const char *name, unsigned flags, uint32_t keywords,
                        struct buf *out);

#endif
