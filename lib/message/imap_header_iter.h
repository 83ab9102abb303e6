/* imap_header_iter.h: walking the fields of a message or MIME part
 * header, by the rules of mime_tree.h (Dovecot's): the header ends at the
 * first empty line; a line starting with a blank continues the field
 * before it; a line without a colon is a field of its own with no value
 * (it matches no name). For BODY[HEADER.FIELDS (...)], SEARCH HEADER and
 * SORT, which need each field's name, its value and the exact bytes it
 * takes. Nothing is copied. */
#ifndef POSTERN_IMAP_HEADER_ITER_H
#define POSTERN_IMAP_HEADER_ITER_H

#include <stddef.h>

struct imap_header_field {
    const char *name;  /* blanks before the colon not included */
    size_t name_len;
    const char *value; /* after the colon and the blanks after it, up to
                        * the end of its last line (folding kept) */
    size_t value_len;
    size_t start, end; /* the field's bytes, line end(s) included */
    int has_colon;
};

/* Reads the field at header[*pos..len) into *field and advances *pos.
 * 1 when a field was read; 0 at the empty line or the end. */
int imap_header_next(const char *header, size_t len, size_t *pos,
                     struct imap_header_field *field);

/* Whether the field's name is `name` (ASCII case ignored). */
int imap_header_name_is(const struct imap_header_field *field,
                        const char *name, size_t name_len);

/* The value of the first field named `name` in header[0..len), or NULL;
 * *value_len set. */
const char *imap_header_find(const char *header, size_t len,
                             const char *name, size_t *value_len);

#endif
