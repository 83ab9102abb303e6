/* str.h: small string helpers shared by every module: case folding,
 * trimming, splitting Postfix-style lists, and strict number parsing. */
#ifndef POSTERN_STR_H
#define POSTERN_STR_H

#include <stddef.h>

/* Lower-cases ASCII letters in place; returns str. */
char *str_lower(char *str);
int str_has_prefix(const char *str, const char *prefix);
int str_has_suffix(const char *str, const char *suffix);
/* Case-insensitive ASCII equality. */
int str_equal_nocase(const char *a, const char *b);
/* Strips leading and trailing whitespace in place; returns the start. */
char *str_trim(char *str);

/* A list of heap strings. */
struct strlist {
    char **items;
    size_t count;
    size_t cap;
};
void strlist_init(struct strlist *list);
void strlist_add(struct strlist *list, const char *item);
void strlist_free(struct strlist *list);

/* Splits a Postfix list value ("a, b c,d") on commas and whitespace,
 * skipping empty items. Text inside {braces} stays one item, as in
 * Postfix's `inline:{a=b, c=d}`. Items are appended to `out`. */
void str_split_list(const char *value, struct strlist *out);
/* Splits on any of the separator characters, skipping empty items. */
void str_split_chars(const char *value, const char *separators,
                     struct strlist *out);

/* Parses a whole decimal integer (optional sign); 0 on success, -1 when
 * empty, malformed, or out of range. */
int str_to_long(const char *str, long *out);

/* Copies src into dst of size dst_size, always terminating; returns the
 * length of src (like strlcpy). */
size_t str_copy(char *dst, const char *src, size_t dst_size);

#endif
