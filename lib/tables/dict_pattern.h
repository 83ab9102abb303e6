/* dict_pattern.h: the table syntax regexp: and pcre: share (Postfix's
 * regexp_table(5) and pcre_table(5)):
 *
 *     /pattern/flags result        first matching rule wins
 *     !/pattern/flags result       matches when the pattern does not
 *     if /pattern/flags            rules up to the matching endif apply
 *     endif                        only when the pattern matches (nests)
 *
 * Any non-alphanumeric, non-space character other than backslash may
 * delimit the pattern. Results may use $1..$9 (also ${1}, $(1); $$ is a
 * dollar) for the text captured by the pattern's groups; a group that
 * did not take part is empty. Only the regex engine differs between the
 * two types; it plugs in through struct dict_pattern_engine. */
#ifndef POSTERN_DICT_PATTERN_H
#define POSTERN_DICT_PATTERN_H

#include <stddef.h>

#include "base/buf.h"
#include "tables/dict_impl.h"

/* Capture offsets of one match: start/end of group i in ovector[2i],
 * ovector[2i+1]; (size_t)-1 for a group that did not match. */
#define DICT_PATTERN_UNSET ((size_t)-1)

struct dict_pattern_engine {
    const char *type;   /* "regexp" or "pcre", for messages */
    const char *flags;  /* the valid flag letters */
    /* Compiles pattern (NUL-terminated) with the flag letters given
     * (each toggles the engine's default). Returns the compiled form and
     * the number of capture groups, or NULL with err set. */
    void *(*compile)(const char *pattern, const char *flags, int *groups,
                     struct buf *err);
    /* Matches subject; fills at most `pairs` offset pairs. Returns 1 on a
     * match, 0 on none, -1 on an engine error (err set). */
    int (*match)(void *compiled, const char *subject, size_t subject_len,
                 size_t *ovector, int pairs, struct buf *err);
    void (*free)(void *compiled);
};

/* Implementations of struct dict_type's load/load_text/release/lookup
 * for a pattern table; `engine` is selected by d->type. */
int dict_pattern_load_text(struct dict *d,
                           const struct dict_pattern_engine *engine,
                           const char *text, size_t len, struct buf *err);
int dict_pattern_load(struct dict *d, const struct dict_pattern_engine *engine,
                      struct buf *err);
void dict_pattern_release(struct dict *d);
enum dict_result dict_pattern_lookup(struct dict *d, const char *key,
                                     size_t key_len, struct buf *value);

#endif
