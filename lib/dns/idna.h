/* idna.h: internationalized domain names for DNS lookups: a UTF-8 name
 * (SMTPUTF8 mail) becomes its ASCII form of A-labels ("bücher.example" ->
 * "xn--bcher-kva.example"), as Postfix does before it asks the DNS.
 * libidn2 does the work (IDNA2008 with UTS #46 non-transitional
 * processing, input normalized to NFC, as browsers and Postfix's ICU
 * do). */
#ifndef POSTERN_IDNA_H
#define POSTERN_IDNA_H

#include "base/buf.h"

/* 1 when name has a byte outside ASCII. */
int idna_is_utf8(const char *name);
/* The ASCII form of name in out (set, not appended): 0, or -1 when name
 * is not a valid internationalized domain name (with libidn2's reason
 * in out). An ASCII name is copied as it is. */
int idna_to_ascii(const char *name, struct buf *out);

#endif
