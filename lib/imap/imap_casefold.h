/* imap_casefold.h: text folded for case-insensitive matching as IMAP
 * SEARCH compares it (RFC 3501: substring, ignoring case), the way
 * Dovecot does it: i;unicode-casemap (RFC 5051), each character mapped
 * to its titlecase and decomposed (NFKD), so "CAFÉ", "café" and "CAFE\u0301"
 * fold alike and "cafe" matches in all of them. ASCII is handled by a
 * byte table; other characters of Latin, Greek, Cyrillic, punctuation
 * spaces, ligatures and full-width forms by imap_casefold_table.h
 * (generated from Python's Unicode data); characters outside those
 * blocks are left as they are. Input should be UTF-8; a malformed byte
 * is copied. */
#ifndef POSTERN_IMAP_CASEFOLD_H
#define POSTERN_IMAP_CASEFOLD_H

#include <stddef.h>

#include "base/buf.h"

/* Appends the folded form of text[0..len). */
void imap_casefold_append(struct buf *out, const char *text, size_t len);

#endif
