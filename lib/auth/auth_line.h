/* auth_line.h: lines of Dovecot's authentication protocol (v1.x), shared
 * by the auth service (server side) and by smtpd's SASL client.
 *
 * A line is a command name and parameters separated by TAB, ended by LF.
 * Each field is "tab-escaped" with \001 as the escape byte, as Dovecot
 * writes it: \001 then '1' is \001, 't' TAB, 'r' CR, 'n' LF, '0' NUL;
 * \001 followed by anything else stands for that byte. Optional
 * parameters are `name=value` or a bare `name`; unknown ones are
 * ignored by both sides. See docs/auth.md, "The auth protocol". */
#ifndef POSTERN_AUTH_LINE_H
#define POSTERN_AUTH_LINE_H

#include <stddef.h>

#include "base/buf.h"

/* The longest line either side accepts, LF excluded. Dovecot documents
 * 16384 as the expected fit; SASL data is the largest parameter. */
#define AUTH_LINE_MAX 16384

/* The most fields a line may hold; a line with more is refused. */
#define AUTH_LINE_MAX_FIELDS 64

/* A line split into fields. The strings point into the struct's own
 * copy, unescaped and NUL-terminated; a field whose unescaped value
 * holds a NUL byte makes the split fail (no field of the protocol may
 * carry one). */
struct auth_line {
    char *fields[AUTH_LINE_MAX_FIELDS];
    size_t count;
    struct buf storage;
};

#define AUTH_LINE_INIT {{0}, 0, BUF_INIT}

/* Splits text[0..len) (one line, without its LF) into line->fields.
 * Returns 0, or -1 when the line is longer than AUTH_LINE_MAX, has more
 * than AUTH_LINE_MAX_FIELDS fields, or unescapes to a NUL byte. */
int auth_line_split(struct auth_line *line, const char *text, size_t len);

void auth_line_free(struct auth_line *line);

/* The value of optional parameter name ("name=value" gives "value", a
 * bare "name" gives ""), looked for from field index first; NULL when
 * absent. */
const char *auth_line_param(const struct auth_line *line, size_t first,
                            const char *name);

/* Appends value tab-escaped to out (no separator). */
void auth_line_escape(struct buf *out, const char *value, size_t len);

/* Appends TAB and value tab-escaped: the usual way to add a field. */
void auth_line_add(struct buf *out, const char *value);

/* Appends TAB, name, '=' and value tab-escaped. */
void auth_line_add_param(struct buf *out, const char *name,
                         const char *value);

#endif
