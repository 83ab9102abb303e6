/* utf8.h: whether bytes are well-formed UTF-8 (RFC 3629): no overlong
 * forms, no surrogates (U+D800..U+DFFF), nothing above U+10FFFF, no
 * sequence cut short. The one check every layer uses: SMTPUTF8
 * addresses (message/), SQL table keys (tables/), postmap -U. */
#ifndef POSTERN_UTF8_H
#define POSTERN_UTF8_H

#include <stddef.h>

/* The length (1 to 4) of the well-formed sequence that starts at
 * text[0], reading at most `avail` bytes (at least 1); 0 when it is
 * malformed. An ASCII byte, NUL included, is a sequence of 1. */
size_t utf8_sequence_len(const unsigned char *text, size_t avail);

/* Whether text[0..len) is well-formed UTF-8 (NUL bytes are ASCII). */
int utf8_valid(const char *text, size_t len);

#endif
