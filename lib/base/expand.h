/* expand.h: the one `$name` expander. It finds the references in a text
 * ($name, ${...}, $(...), and "$$" for a dollar) and hands each to a
 * callback, which decides which names exist, what they stand for and how
 * a value is quoted or filtered. Its users:
 *
 *   main.cf values ($name, ${name?text}, ${name:text}, ${{a} == {b}?..}:
 *     config/config_expand.c), and the names a value refers to
 *     (config.c's unused-parameter check, bounce templates' undefined
 *     names);
 *   pattern tables: $1, ${1}, $(1) in regexp/pcre results, checked at
 *     load and substituted per lookup (tables/dict_pattern.c);
 *   local delivery: mailbox_command and forward_path ($user, $home, ...).
 *
 * The walk is the same for all; a syntax says which bytes make up a name
 * (letters, digits and '_' for Postfix's $name; digits for $1) and which
 * brackets open a ${...} reference. The walk allocates nothing beyond
 * the output buffer and makes no system call: it runs per lookup in
 * pattern tables. */
#ifndef POSTERN_EXPAND_H
#define POSTERN_EXPAND_H

#include <stddef.h>

#include "base/buf.h"

/* One reference, as found in the text. */
struct expand_ref {
    const char *text; /* the reference as written, from its '$' */
    size_t text_len;
    char bracket;      /* '{' or '(' for ${...} or $(...); 0 for $name */
    int closed;        /* bracketed: its closing bracket was found */
    const char *inner; /* bracketed: the text inside the brackets (to the
                        * end of the text when not closed) */
    size_t inner_len;
    const char *name; /* the leading name characters (of inner when
                       * bracketed); name_len 0 when there are none */
    size_t name_len;
    char next; /* not bracketed: the byte after the name ('\0' at the end
                * of the text); for a lone '$' the byte after it */
};

/* What the walk does after a reference. */
enum expand_step { EXPAND_CONTINUE, EXPAND_STOP };

/* Appends what ref stands for to out (its value, the reference as
 * written, or nothing); EXPAND_STOP ends the walk (an error). */
typedef enum expand_step (*expand_ref_fn)(void *ctx,
                                          const struct expand_ref *ref,
                                          struct buf *out);

struct expand_syntax {
    int (*name_char)(int c); /* bytes a name is made of */
    const char *brackets;    /* opening brackets of ${...} forms: "{(",
                              * "{" or "" */
};

/* Postfix's $name syntax: names of letters, digits and '_', with ${...}
 * and $(...). */
extern const struct expand_syntax expand_syntax_names;
/* Regular-expression results: $1, ${1}, $(1). */
extern const struct expand_syntax expand_syntax_groups;

/* Copies text[0..len) to out, "$$" as one '$', and hands every other '$'
 * to ref_fn (a '$' followed by no name and no bracket too: name_len 0,
 * ref_fn says whether that is a literal or an error). An unclosed bracket
 * makes one reference of the rest of the text. Returns EXPAND_STOP when
 * ref_fn stopped the walk. */
enum expand_step expand_walk(const char *text, size_t len,
                             const struct expand_syntax *syntax,
                             expand_ref_fn ref_fn, void *ctx,
                             struct buf *out);

/* Calls name_fn for every name text refers to, in order, nested ones
 * included (${a?$b} names a, then b); "$$" names nothing. For checks
 * before expanding: unused or undefined names. */
void expand_list_names(const char *text, size_t len,
                       const struct expand_syntax *syntax,
                       void (*name_fn)(void *ctx, const char *name,
                                       size_t name_len),
                       void *ctx);

/* The offset of the bracket that closes the one at text[0] ('{' or '('),
 * counting nested brackets of the same kind; len when there is none. */
size_t expand_matching_close(const char *text, size_t len);

/* 1 for letters, digits and '_'. */
int expand_name_char(int c);

#endif
