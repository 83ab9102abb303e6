/* rfc822_lex.h: the RFC 5322 / RFC 2045 lexical pieces that the MIME
 * structure parser, BODYSTRUCTURE and ENVELOPE share: skipping folding
 * white space and (nested) comments, atoms, dot-atoms, quoted strings,
 * phrases, MIME tokens and "; name=value" parameters.
 *
 * Every function works on a cursor over bytes that need not be
 * NUL-terminated and never reads past `end`. Return values follow one
 * rule: 1 when input remains after the piece (and the white space and
 * comments behind it, which are skipped), 0 when the input is used up,
 * -1 when the piece is malformed (an unterminated quoted string or
 * comment, or nothing of the wanted kind at the cursor). Text is appended
 * to a buf given by the caller. Folding (CR, LF) is removed from quoted
 * strings and comments, the white space after it kept, as IMAP servers
 * present header text. */
#ifndef POSTERN_RFC822_LEX_H
#define POSTERN_RFC822_LEX_H

#include <stddef.h>

#include "base/buf.h"

struct rfc822_lex {
    const char *p, *end;
    /* When not NULL, the text of the last comment skipped is kept here
     * (replaced by each comment): a "user@host (Name)" display name. */
    struct buf *last_comment;
};

void rfc822_lex_init(struct rfc822_lex *lx, const char *text, size_t len);
/* Skips white space (SP, HT, CR, LF) and comments. */
int rfc822_lex_skip(struct rfc822_lex *lx);
/* atext+ (RFC 5322 atom). */
int rfc822_lex_atom(struct rfc822_lex *lx, struct buf *out);
/* atom *("." [atom]), with white space allowed around the dots, as the
 * obsolete syntax allows ("a..b" and "a." are taken as written). */
int rfc822_lex_dot_atom(struct rfc822_lex *lx, struct buf *out);
/* A quoted string at the cursor (which is at '"'): its content with the
 * backslash escapes resolved. */
int rfc822_lex_quoted(struct rfc822_lex *lx, struct buf *out);
/* *word, words being quoted strings and runs of atext and '.', joined
 * by one space. Stops (returning 1) at anything else, so it may read no
 * word at all ("<addr>"); -1 when the text starts with '.' or a quoted
 * string is unterminated. */
int rfc822_lex_phrase(struct rfc822_lex *lx, struct buf *out);
/* An RFC 2045 token (any printable ASCII but tspecials). */
int rfc822_lex_token(struct rfc822_lex *lx, struct buf *out);
/* "type/subtype" from a Content-Type value, as Dovecot reads it: a type
 * alone ("text" and nothing after it) gives an empty subtype and
 * succeeds; anything else without "/subtype" fails with both emptied
 * ("text; charset=x" is broken and its parameters are not to be read),
 * and a broken subtype fails with the type kept. */
int rfc822_lex_content_type(struct rfc822_lex *lx, struct buf *type,
                            struct buf *subtype);
/* One "; name=value" parameter: 1 when one was read, with the name and
 * (unquoted) value in `name` and `value` (replaced); 0 at the end of
 * input; -1 when the text at the cursor is not a parameter (the caller
 * may skip to the next ';' and go on). A value that starts with '=' is
 * taken up to white space or ';' (unquoted encoded words seen in the
 * wild: name==?utf-8?b?...?=). */
int rfc822_lex_param(struct rfc822_lex *lx, struct buf *name,
                     struct buf *value);

#endif
