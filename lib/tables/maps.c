/* maps.c: search lists of lookup tables (see maps.h). */
#include "tables/maps.h"

#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/mem.h"

struct maps_entry {
    char *spec;        /* as opened, without proxy: */
    struct dict *dict; /* NULL when the spec could not be opened */
    char *open_error;  /* why, when dict is NULL */
    int pattern;       /* regexp/pcre/cidr: keys are patterns */
};

struct maps {
    const char *title;
    struct maps_entry *entries;
    size_t count;
};

int maps_type_is_pattern(const char *spec)
{
    return str_has_prefix(spec, "regexp:") || str_has_prefix(spec, "pcre:") ||
           str_has_prefix(spec, "cidr:");
}

struct maps *maps_open(const char *title, const char *value, int dict_flags)
{
    struct maps *m = xcalloc(1, sizeof(*m));
    m->title = title;
    struct strlist specs;
    strlist_init(&specs);
    str_split_list(value ? value : "", &specs);
    m->entries = xcalloc(specs.count ? specs.count : 1, sizeof(*m->entries));
    struct buf err = BUF_INIT;
    for (size_t i = 0; i < specs.count; i++) {
        const char *spec = specs.items[i];
        while (str_has_prefix(spec, "proxy:"))
            spec = spec + strlen("proxy:");
        struct maps_entry *e = &m->entries[m->count++];
        e->spec = xstrdup(spec);
        e->pattern = maps_type_is_pattern(spec);
        e->dict = dict_open(spec, dict_flags, &err);
        if (e->dict == NULL) {
            e->open_error = xstrdup(err.len ? err.data : "cannot open table");
            log_warn("%s: %s: %s; lookups will fail temporarily", title, spec,
                     e->open_error);
        }
    }
    buf_free(&err);
    strlist_free(&specs);
    return m;
}

enum dict_result maps_find(struct maps *m, const char *key, unsigned flags,
                           struct buf *value)
{
    for (size_t i = 0; i < m->count; i++) {
        struct maps_entry *e = &m->entries[i];
        if ((flags & MAPS_FIXED_ONLY) && e->pattern)
            continue;
        if (e->dict == NULL) {
            log_warn("%s: %s lookup of \"%s\" failed: %s", m->title, e->spec,
                     key, e->open_error);
            return DICT_ERROR;
        }
        enum dict_result r = dict_lookup(e->dict, key, value);
        if (r == DICT_FOUND)
            return DICT_FOUND;
        if (r == DICT_ERROR) /* dict_lookup logged why */
            return DICT_ERROR;
    }
    return DICT_NOTFOUND;
}

int maps_empty(const struct maps *m)
{
    return m->count == 0;
}

const char *maps_title(const struct maps *m)
{
    return m->title;
}

void maps_close(struct maps *m)
{
    if (m == NULL)
        return;
    for (size_t i = 0; i < m->count; i++) {
        dict_close(m->entries[i].dict);
        free(m->entries[i].spec);
        free(m->entries[i].open_error);
    }
    free(m->entries);
    free(m);
}
