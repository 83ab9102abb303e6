/* sql_expand.h: the %-templates of pgsql: and mysql: tables (the `query`
 * and `result_format` of pgsql_table(5) and mysql_table(5)), and which
 * keys are looked up at all.
 *
 * In a query, with the lookup key as input:
 *   %%   a literal '%'
 *   %s   the whole key
 *   %u   the local part of user@domain (the whole key when it has no
 *        '@'); an empty local part suppresses the query
 *   %d   the domain of user@domain; a key without one suppresses it
 *   %S %U %D   the same as %s %u %d
 *   %1..%9     the domain's labels from the right (user@mail.example.com:
 *              %1 com, %2 example, %3 mail); a key without a domain or
 *              with too few labels suppresses the query
 * Every substitution into a query goes through the escaper (the client
 * library's escape function on the live connection), so a key cannot end
 * a quoted SQL string. A suppressed query is "not found", never sent.
 *
 * In result_format, with one result value as input: %s %u %d take the
 * value (the value is skipped when it is empty, when %u meets an empty
 * local part, or %d a value without a domain), %S %U %D and %1..%9 take
 * the lookup key, as in the query. Results are not escaped. */
#ifndef POSTERN_SQL_EXPAND_H
#define POSTERN_SQL_EXPAND_H

#include <stddef.h>

#include "base/buf.h"

/* Appends text[0..len) to out, escaped for a single-quoted SQL string.
 * Returns 0, or -1 when escaping failed (the lookup is then a temporary
 * error). */
typedef int (*sql_escape_fn)(void *ctx, const char *text, size_t len,
                             struct buf *out);

/* 0 when every '%' in template starts one of the sequences above; -1
 * with "what: invalid %x in ..." in err. */
int sql_template_check(const char *what, const char *template_text,
                       struct buf *err);

/* Expands a query template for key into out (replaced). Returns 1 when
 * expanded, 0 when the query is suppressed (out then undefined), -1 when
 * the escaper failed. */
int sql_expand_query(const char *template_text, const char *key,
                     sql_escape_fn escape, void *escape_ctx, struct buf *out);

/* Expands result_format for one result value and appends it to out,
 * after a ',' when out is not empty (Postfix joins values so). Returns 1
 * when something was appended, 0 when the value was skipped (out
 * unchanged). */
int sql_expand_result(const char *template_text, const char *value,
                      const char *key, struct buf *out);

/* Whether a key may be looked up at all (Postfix's rules): not empty,
 * no NUL byte, valid UTF-8. Others are "not found" without a query. */
int sql_key_usable(const char *key, size_t len);

/* The same plus the `domain` filter: with a domain list (may be NULL),
 * only user@domain keys with a non-empty local part and a listed domain
 * are looked up. Returns 1 to look up, 0 for "not found" without a
 * query, -1 when a table in the domain list failed (temporary error). */
struct domain_list;
int sql_key_wanted(const char *key, struct domain_list *domains);

/* Splits user@domain at the last '@': 1 with the local part in
 * [key, key + *local_len) and *domain set, 0 when key has no '@'. */
int sql_key_split(const char *key, size_t *local_len, const char **domain);

#endif
