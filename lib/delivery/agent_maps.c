/* agent_maps.c: Postfix's address lookup order over a table search list
 * (lib/tables/maps.h), and lock method names, for the delivery agents
 * (agent.h). */
#include "delivery/agent.h"

#include <stdlib.h>
#include <string.h>

#include "message/address.h"
#include "config/config.h"
#include "base/log.h"
#include "storage/mbox.h"
#include "base/mem.h"

enum dict_result agent_maps_find_address(struct maps *m, const char *address,
                                         struct buf *value)
{
    char *lower = str_lower(xstrdup(address));
    enum dict_result r = maps_find(m, lower, 0, value);
    struct buf local = BUF_INIT, domain = BUF_INIT, base = BUF_INIT,
               ext = BUF_INIT;
    int has_domain = address_split(lower, &local, &domain);
    const char *delim = cfg_str("recipient_delimiter");
    if (r == DICT_NOTFOUND && delim[0] &&
        address_split_delimiter(buf_cstr(&local), delim, &base, &ext, NULL)) {
        struct buf key = BUF_INIT;
        buf_append_str(&key, buf_cstr(&base));
        if (has_domain)
            buf_appendf(&key, "@%s", buf_cstr(&domain));
        /* Partial keys are for fixed-string tables only, as Postfix:
         * a regular expression sees the whole address alone. */
        r = maps_find(m, buf_cstr(&key), MAPS_FIXED_ONLY, value);
        buf_free(&key);
    }
    if (r == DICT_NOTFOUND && has_domain) {
        struct buf key = BUF_INIT;
        buf_appendf(&key, "@%s", buf_cstr(&domain));
        r = maps_find(m, buf_cstr(&key), MAPS_FIXED_ONLY, value);
        buf_free(&key);
    }
    buf_free(&local);
    buf_free(&domain);
    buf_free(&base);
    buf_free(&ext);
    free(lower);
    return r;
}

int agent_mailbox_name_ok(const char *name)
{
    if (name[0] == 0)
        return 0;
    const char *p = name;
    while (*p) {
        const char *slash = strchr(p, '/');
        size_t len = slash ? (size_t)(slash - p) : strlen(p);
        if (len == 2 && p[0] == '.' && p[1] == '.')
            return 0;
        if (!slash)
            break;
        p = slash + 1;
    }
    for (p = name; *p; p++)
        if ((unsigned char)*p < 0x20)
            return 0;
    return 1;
}

int agent_lock_methods(const char *param_name)
{
    struct strlist items;
    strlist_init(&items);
    cfg_list(param_name, &items);
    int methods = 0;
    for (size_t i = 0; i < items.count; i++) {
        if (str_equal_nocase(items.items[i], "dotlock"))
            methods |= MBOX_LOCK_DOTLOCK;
        else if (str_equal_nocase(items.items[i], "fcntl"))
            methods |= MBOX_LOCK_FCNTL;
        else if (str_equal_nocase(items.items[i], "flock"))
            methods |= MBOX_LOCK_FLOCK;
        else
            log_warn("%s: unknown lock method %s", param_name, items.items[i]);
    }
    strlist_free(&items);
    return methods;
}
