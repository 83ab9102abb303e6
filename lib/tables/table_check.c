/* table_check.c: checking the tables and network lists a parameter
 * names (table_check.h). */
#include "tables/table_check.h"

#include <ctype.h>
#include <stdarg.h>
#include <string.h>

#include "base/buf.h"
#include "base/mem.h"
#include "config/params.h"
#include "tables/dict.h"
#include "tables/netmatch.h"

static const char *const netlist_params[] = {
    "mynetworks",
    "smtpd_forbid_bare_newline_exclusions",
    "debug_peer_list",
    "smtpd_client_event_limit_exceptions",
};

int table_check_is_netlist(const char *name)
{
    for (size_t i = 0; i < sizeof(netlist_params) / sizeof(*netlist_params);
         i++)
        if (strcmp(name, netlist_params[i]) == 0)
            return 1;
    return 0;
}

/* A parameter whose items may be tables: a list in the parameter table,
 * or a name Postfix gives to table lists (per-service -o names the table
 * may not know). */
static int may_name_tables(const char *name)
{
    const struct param_def *def = param_find(name);
    if (def)
        return def->type == PARAM_LIST;
    size_t len = strlen(name);
    return (len > 5 && strcmp(name + len - 5, "_maps") == 0) ||
           (len > 13 && strcmp(name + len - 13, "_restrictions") == 0);
}

/* The type of a `type:name` item, or 0 when the item does not look like
 * one (an address, a [host]:port, a plain word). */
static int table_item(const char *item, struct buf *type)
{
    const char *colon = strchr(item, ':');
    if (colon == NULL || colon == item || colon[1] == '\0')
        return 0;
    for (const char *p = item; p < colon; p++)
        if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p) &&
            *p != '_')
            return 0;
    if (isdigit((unsigned char)item[0]))
        return 0; /* an IPv6 address such as 2001:db8::1 */
    buf_set(type, item, (size_t)(colon - item));
    return 1;
}

/* An item of a network list that must parse as an address or network:
 * digits, dots, colons and a slash, or in brackets. Host names and
 * domains are left alone. */
static int looks_like_address(const char *item)
{
    if (item[0] == '[')
        return 1;
    int digits = 0;
    for (const char *p = item; *p; p++) {
        if (isdigit((unsigned char)*p))
            digits = 1;
        else if (*p != '.' && *p != ':' && *p != '/' &&
                 !isxdigit((unsigned char)*p))
            return 0;
    }
    return digits || strchr(item, ':') != NULL;
}

static void add(struct strlist *problems, const char *where, const char *name,
                const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void add(struct strlist *problems, const char *where, const char *name,
                const char *fmt, ...)
{
    struct buf line = BUF_INIT;
    buf_appendf(&line, "%s: %s: ", where, name);
    va_list ap;
    va_start(ap, fmt);
    buf_vappendf(&line, fmt, ap);
    va_end(ap);
    strlist_add(problems, line.data);
    buf_free(&line);
}

int table_check_value(const char *where, const char *name, const char *value,
                      struct strlist *problems)
{
    if (!may_name_tables(name) && !table_check_is_netlist(name))
        return 0;
    size_t before = problems->count;
    struct strlist items;
    strlist_init(&items);
    str_split_list(value, &items);
    struct buf type = BUF_INIT, err = BUF_INIT;
    for (size_t i = 0; i < items.count; i++) {
        const char *item = items.items[i];
        if (item[0] == '!')
            item++;
        if (str_has_prefix(item, "proxy:"))
            item += strlen("proxy:");
        if (table_item(item, &type)) {
            if (!dict_type_known(type.data)) {
                add(problems, where, name, "%s: unknown table type \"%s\"",
                    item, type.data);
                continue;
            }
            buf_reset(&err);
            struct dict *d = dict_open(item, DICT_FLAG_STRICT, &err);
            if (d == NULL)
                add(problems, where, name, "%s: %s", item,
                    err.len ? err.data : "cannot open table");
            else
                dict_close(d);
        } else if (table_check_is_netlist(name) && looks_like_address(item)) {
            int family;
            unsigned char addr[16];
            unsigned prefix;
            if (netmatch_parse_cidr(item, &family, addr, &prefix) < 0)
                add(problems, where, name, "%s: not a valid address or network",
                    item);
        }
    }
    strlist_free(&items);
    buf_free(&type);
    buf_free(&err);
    return (int)(problems->count - before);
}
