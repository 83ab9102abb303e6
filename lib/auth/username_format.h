/* username_format.h: Dovecot's auth_username_format, the template that
 * normalizes a login name before the passdb lookup (default "%Lu": the
 * whole name in lower case), in the subset of Dovecot 2.3's variable
 * syntax a site uses:
 *
 *   %u  %{user}       the whole name ("Alice@Example.Test")
 *   %n  %{username}   the part before the first '@' (the whole name
 *                     when there is none)
 *   %d  %{domain}     the part after the first '@' ("" when none)
 *   %%                a '%'
 *
 * each optionally preceded by modifiers: L (lower case) and U (upper
 * case, ASCII only), applied in order ("%Lu", "%L{user}", "%Ud").
 * Anything else after a '%' (other variables, other modifiers, widths)
 * is an error, so a typo is caught at start instead of turning every
 * name into the same string. Text outside variables is copied. */
#ifndef POSTERN_USERNAME_FORMAT_H
#define POSTERN_USERNAME_FORMAT_H

#include "base/buf.h"

/* Dovecot's default. */
#define USERNAME_FORMAT_DEFAULT "%Lu"

/* Appends format expanded for user to out. Returns 0, or -1 with err set
 * ("auth_username_format: ...") when format holds something it cannot
 * expand; out then holds a partial result. */
int username_format_expand(const char *format, const char *user,
                           struct buf *out, struct buf *err);

/* 0 when format expands (checks it once on a sample name), else -1 with
 * err set: call at start. */
int username_format_check(const char *format, struct buf *err);

#endif
