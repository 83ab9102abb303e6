/* imap_arg.h: the arguments of one IMAP command as a token tree, and
 * the accessors the command parsers use on it.
 *
 * The command reader (imap_reader.h) builds the tree; every node and
 * every byte it points at belongs to the reader and stays valid until
 * the reader is fed again. A list's items are contiguous, so a parser
 * walks `list[0..count)` with an index. Strings are NUL-terminated for
 * convenience, but a literal8 may hold NUL bytes: always use `len`. */
#ifndef POSTERN_IMAP_ARG_H
#define POSTERN_IMAP_ARG_H

#include <stddef.h>

#include "base/buf.h"

enum imap_arg_type {
    IMAP_ARG_ATOM,     /* an atom as sent (may contain [ ] < > . \ * %) */
    IMAP_ARG_QUOTED,   /* a quoted string, escapes removed */
    IMAP_ARG_LITERAL,  /* {n}, {n+} */
    IMAP_ARG_LITERAL8, /* ~{n}, ~{n+} (RFC 3516) */
    IMAP_ARG_LIST,     /* ( ... ) */
    IMAP_ARG_NIL,      /* the atom NIL, any case (str holds it as sent) */
};

struct imap_arg {
    enum imap_arg_type type;
    const char *str;             /* every type but LIST; NUL-terminated */
    size_t len;                  /* bytes at str */
    const struct imap_arg *list; /* LIST: its items (NULL when empty) */
    size_t count;                /* LIST: how many */
    int eight_bit;               /* QUOTED/LITERAL: holds a byte >= 0x80 */
};

/* The arg is an atom (or NIL) equal to `word`, ignoring ASCII case. */
int imap_arg_atom_is(const struct imap_arg *arg, const char *word);

/* astring (RFC 3501): an atom (NIL included, as the mailbox "NIL"), a
 * quoted string or a literal. Sets *str and *len and returns 0, or -1 for a
 * list or a literal8. */
int imap_arg_astring(const struct imap_arg *arg, const char **str,
                     size_t *len);

/* string: a quoted string or a literal (not an atom). 0 or -1. */
int imap_arg_string(const struct imap_arg *arg, const char **str,
                    size_t *len);

/* nstring: NIL (sets *str NULL, *len 0) or a string. 0 or -1. */
int imap_arg_nstring(const struct imap_arg *arg, const char **str,
                     size_t *len);

/* number (RFC 3501: 32 bits) and number64 (RFC 9051: 63 bits): an atom
 * of decimal digits within range, no sign, no spaces. 0 or -1. */
int imap_arg_number(const struct imap_arg *arg, unsigned long *value);
int imap_arg_number64(const struct imap_arg *arg, unsigned long long *value);

/* nz-number: a number that is not 0. */
int imap_arg_nz_number(const struct imap_arg *arg, unsigned long *value);

/* Parses `len` decimal digits at `text` into *value, at most `max`.
 * Leading zeros are allowed. 0 or -1 (empty, a non-digit, too big). */
int imap_parse_number(const char *text, size_t len, unsigned long long max,
                      unsigned long long *value);

/* Appends a readable rendering of args[0..count) to out, for tests,
 * fuzz targets and debug logs: atoms as sent, quoted strings quoted,
 * literals as {n}, literal8 as ~{n}, lists in parentheses, one space
 * between items. Bytes outside printable ASCII show as \xHH. */
void imap_args_describe(const struct imap_arg *args, size_t count,
                        struct buf *out);

#endif
