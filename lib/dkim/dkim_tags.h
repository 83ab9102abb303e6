/* dkim_tags.h: the tag=value list of RFC 6376 section 3.2, shared by the
 * DKIM-Signature header field and the DKIM key record (and, later, ARC).
 *
 * Strict: tag names are ALPHA *(ALPHA / DIGIT / "_"); values are VALCHARs
 * (%x21-3A / %x3C-7E, and bytes >= 0x80 for the UTF-8 of RFC 8616) with
 * folding whitespace only between them; a line break must be followed by
 * a space or tab (folding); a tag named twice is an error; one empty
 * tag-spec after a final ";" is allowed. Bounded: at most DKIM_TAGS_MAX
 * tags. Values point into the input, which must outlive the list. */
#ifndef POSTERN_DKIM_TAGS_H
#define POSTERN_DKIM_TAGS_H

#include <stddef.h>

#include "base/buf.h"

#define DKIM_TAGS_MAX 64

struct dkim_tag {
    const char *name; /* into the input; name_len bytes */
    size_t name_len;
    const char *value; /* without the whitespace around it */
    size_t value_len;
    /* Offsets in the input of everything between "=" and the ";" or the
     * end (whitespace included): what "b=" removal deletes. */
    size_t raw_start, raw_end;
};

struct dkim_tag_list {
    struct dkim_tag tags[DKIM_TAGS_MAX];
    size_t count;
};

/* Parses text[0..len). Returns 0, or -1 with a short reason in err. */
int dkim_tags_parse(const char *text, size_t len, struct dkim_tag_list *out,
                    struct buf *err);

/* The tag named name (case-sensitive, as RFC 6376 says), or NULL. */
const struct dkim_tag *dkim_tags_find(const struct dkim_tag_list *list,
                                      const char *name);

/* Whether a tag's value equals str exactly (case-sensitive) or, with
 * nocase, ignoring ASCII case. */
int dkim_tag_is(const struct dkim_tag *tag, const char *str, int nocase);

/* Appends the value with every whitespace byte removed (base64 values,
 * h= lists). */
void dkim_tag_value_compact(const struct dkim_tag *tag, struct buf *out);

#endif
