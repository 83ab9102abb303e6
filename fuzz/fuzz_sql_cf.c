/* fuzz_sql_cf.c: fuzzes the query files of pgsql: and mysql: tables
 * (lib/tables/sql_cf) and the %-expansion of their query and
 * result_format templates (lib/tables/sql_expand) with a stand-in
 * escaper in place of the client library's.
 *
 * Input: the query file, then optionally a NUL byte and lookup keys,
 * one a line. The first byte picks the type (odd: pgsql). Every key goes
 * through the key rules, the query expansion and the result expansion. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/mem.h"
#include "tables/sql_cf.h"
#include "tables/sql_expand.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Doubles quotes and backslashes, as the real escapers do for a
 * single-quoted string; fails on a byte the fuzzer may pick, so the
 * error path runs too. */
static int fuzz_escape(void *ctx, const char *text, size_t len,
                       struct buf *out)
{
    for (size_t i = 0; i < len; i++) {
        if ((unsigned char)text[i] == 0xfe)
            return -1;
        if (text[i] == '\'' || text[i] == '\\')
            buf_append_char(out, text[i]);
        buf_append_char(out, text[i]);
    }
    return 0;
}

/* With the stand-in escaper, a key substituted into a template that has
 * no quotes of its own leaves only doubled quotes behind. */
static void check_quotes_doubled(const char *query)
{
    for (const char *p = query; *p; p++) {
        if (*p != '\'')
            continue;
        if (p[1] != '\'')
            __builtin_trap();
        p++;
    }
}

static void run_key(const struct sql_cf *cf, const char *key)
{
    struct buf query = BUF_INIT, result = BUF_INIT;
    if (sql_key_usable(key, strlen(key)) &&
        sql_expand_query(cf->query, key, fuzz_escape, NULL, &query) == 1 &&
        strchr(cf->query, '\'') == NULL)
        check_quotes_doubled(query.data);
    sql_expand_query("'%s' %u %d %1 %9 %%", key, fuzz_escape, NULL, &query);
    /* Results: each value either adds one item or leaves out alone. */
    size_t before = result.len;
    if (sql_expand_result(cf->result_format, key, key, &result) == 0 &&
        result.len != before)
        __builtin_trap();
    sql_expand_result(cf->result_format, "v@d.example", key, &result);
    buf_free(&query);
    buf_free(&result);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    const char *type = (data[0] & 1) ? "pgsql" : "mysql";
    const char *text = (const char *)data + 1;
    size_t text_len = size - 1;
    const char *nul = memchr(text, 0, text_len);
    size_t cf_len = nul ? (size_t)(nul - text) : text_len;

    struct buf err = BUF_INIT;
    struct sql_cf cf;
    sql_key_usable(text, text_len);
    if (sql_cf_parse(type, "fuzz.cf", text, cf_len, &cf, &err) == 0) {
        if (cf.host_count == 0 || cf.query == NULL || cf.dbname == NULL)
            __builtin_trap();
        if (nul != NULL) {
            char *keys = xstrndup(nul + 1, text_len - cf_len - 1);
            for (char *key = keys, *end; key != NULL; key = end) {
                end = strchr(key, '\n');
                if (end)
                    *end++ = 0;
                run_key(&cf, key);
            }
            free(keys);
        }
        sql_cf_free(&cf);
    }
    buf_free(&err);
    return 0;
}
