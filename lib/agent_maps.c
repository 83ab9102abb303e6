/* agent_maps.c: table search lists, address lookup order, domain lists
 * and lock method names for the delivery agents (agent.h). */
#include "agent.h"

#include <stdlib.h>
#include <string.h>

#include "address.h"
#include "config.h"
#include "log.h"
#include "mbox.h"
#include "mem.h"

struct agent_maps {
    struct dict **dicts;
    size_t count;
    struct buf error;
};

struct agent_maps *agent_maps_open(const char *name, int dict_flags)
{
    struct agent_maps *m = xcalloc(1, sizeof(*m));
    buf_init(&m->error);
    struct strlist specs;
    strlist_init(&specs);
    cfg_list(name, &specs);
    m->dicts = xcalloc(specs.count + 1, sizeof(*m->dicts));
    for (size_t i = 0; i < specs.count; i++) {
        const char *spec = specs.items[i];
        if (str_has_prefix(spec, "proxy:"))
            spec += 6; /* no proxymap: tables are opened here */
        struct buf err = BUF_INIT;
        struct dict *d = dict_open(spec, dict_flags, &err);
        if (d == NULL) {
            /* A malformed spec fails every lookup instead. */
            log_warn("%s: cannot open %s: %s", name, spec, buf_cstr(&err));
            d = dict_open("fail:unavailable", 0, NULL);
        }
        m->dicts[m->count++] = d;
        buf_free(&err);
    }
    strlist_free(&specs);
    return m;
}

enum dict_result agent_maps_find(struct agent_maps *m, const char *key,
                                 struct buf *value)
{
    for (size_t i = 0; i < m->count; i++) {
        enum dict_result r = dict_lookup(m->dicts[i], key, value);
        if (r == DICT_ERROR) {
            buf_set_str(&m->error, dict_spec(m->dicts[i]));
            buf_appendf(&m->error, ": %s", dict_last_error(m->dicts[i]));
            return r;
        }
        if (r == DICT_FOUND)
            return r;
    }
    return DICT_NOTFOUND;
}

int agent_maps_empty(const struct agent_maps *m)
{
    return m->count == 0;
}

const char *agent_maps_error(const struct agent_maps *m)
{
    return buf_cstr(&m->error);
}

enum dict_result agent_maps_find_address(struct agent_maps *m,
                                         const char *address, struct buf *value)
{
    char *lower = str_lower(xstrdup(address));
    enum dict_result r = agent_maps_find(m, lower, value);
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
        r = agent_maps_find(m, buf_cstr(&key), value);
        buf_free(&key);
    }
    if (r == DICT_NOTFOUND && has_domain) {
        struct buf key = BUF_INIT;
        buf_appendf(&key, "@%s", buf_cstr(&domain));
        r = agent_maps_find(m, buf_cstr(&key), value);
        buf_free(&key);
    }
    buf_free(&local);
    buf_free(&domain);
    buf_free(&base);
    buf_free(&ext);
    free(lower);
    return r;
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
