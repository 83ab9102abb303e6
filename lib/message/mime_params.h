/* mime_params.h: the "; name=value" parameters of Content-Type and
 * Content-Disposition, with RFC 2231 continuations merged: name*0, name*1
 * become one "name"; when any piece is extended (name*0*=utf-8''...) the
 * result is "name*" holding charset'language'%-encoded text, the plain
 * pieces put in with their '%' escaped; a lone "name*" stays "name*". A set with a missing index is kept as the
 * separate pieces. Plain parameters come first in the order written, the
 * merged ones after them sorted by name, as Dovecot presents them in
 * BODYSTRUCTURE. Unparsable text is skipped to the next ';'. */
#ifndef POSTERN_MIME_PARAMS_H
#define POSTERN_MIME_PARAMS_H

#include <stddef.h>

#include "message/rfc822_lex.h"

#define MIME_PARAMS_MAX 256 /* parameters kept per header */

struct mime_param {
    char *name;
    char *value;
};

struct mime_params {
    struct mime_param *items;
    size_t count, cap;
};

void mime_params_init(struct mime_params *params);
void mime_params_free(struct mime_params *params);
/* Appends the parameters from the cursor to the end of input. */
void mime_params_parse(struct rfc822_lex *lx, struct mime_params *params);
/* The value of the first parameter named `name` (case-insensitive), or
 * NULL. */
const char *mime_params_get(const struct mime_params *params,
                            const char *name);

#endif
