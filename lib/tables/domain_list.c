/* domain_list.c: Postfix-style domain match lists (see domain_list.h). */
#include "tables/domain_list.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tables/dict.h"
#include "base/log.h"
#include "tables/maps.h"
#include "base/mem.h"
#include "base/str.h"
#include "base/file_read.h"

#define DOMAIN_LIST_FILE_MAX (4 * 1024 * 1024) /* bytes of a /file item */
#define DOMAIN_LIST_ITEMS_MAX 100000

struct domain_item {
    int negate;
    char *name;         /* lower-cased pattern, or the table spec */
    struct maps *table; /* non-NULL for type:table items */
};

struct domain_list {
    const char *title;
    unsigned flags;
    struct domain_item *items;
    size_t count, cap;
};

static void domain_list_add(struct domain_list *list, const char *text)
{
    int negate = 0;
    while (*text == '!') {
        negate = !negate;
        text++;
    }
    if (*text == 0)
        return;
    if (list->count == list->cap) {
        list->cap = list->cap ? list->cap * 2 : 8;
        list->items =
            xreallocarray(list->items, list->cap, sizeof(*list->items));
    }
    struct domain_item *item = &list->items[list->count++];
    memset(item, 0, sizeof(*item));
    item->negate = negate;
    item->name = xstrdup(text);
    /* "type:name" is a table; an IPv6 literal "[...]" or a name has no
     * colon before any '.' or '['. */
    const char *colon = strchr(text, ':');
    if (colon && text[0] != '[' && colon > text &&
        strcspn(text, ".[") > (size_t)(colon - text)) {
        item->table = maps_open(list->title, text, 0);
    } else {
        str_lower(item->name);
    }
}

/* Reads a /file item: more items separated by white space or commas,
 * with # comments to the end of the line. */
static int domain_list_read_file(struct domain_list *list, const char *path,
                                 int depth, struct buf *err);

static int domain_list_add_text(struct domain_list *list, const char *value,
                                int depth, struct buf *err)
{
    struct strlist items;
    strlist_init(&items);
    str_split_list(value, &items);
    int rc = 0;
    for (size_t i = 0; i < items.count && rc == 0; i++) {
        const char *item = items.items[i];
        if (list->count >= DOMAIN_LIST_ITEMS_MAX) {
            buf_appendf(err, "%s: more than %d items", list->title,
                        DOMAIN_LIST_ITEMS_MAX);
            rc = -1;
        } else if (item[0] == '/') {
            rc = domain_list_read_file(list, item, depth + 1, err);
        } else {
            domain_list_add(list, item);
        }
    }
    strlist_free(&items);
    return rc;
}

static int domain_list_read_file(struct domain_list *list, const char *path,
                                 int depth, struct buf *err)
{
    if (depth > 4) {
        buf_appendf(err, "%s: %s: files nested too deep", list->title, path);
        return -1;
    }
    struct buf text = BUF_INIT, why = BUF_INIT;
    if (file_read(path, DOMAIN_LIST_FILE_MAX, &text, &why) < 0) {
        buf_appendf(err, "%s: %s", list->title, buf_cstr(&why));
        buf_free(&why);
        buf_free(&text);
        return -1;
    }
    /* Drop comments, then treat the rest as one list. */
    struct buf clean = BUF_INIT;
    int in_comment = 0;
    for (size_t i = 0; i < text.len; i++) {
        char c = text.data[i];
        if (c == '#')
            in_comment = 1;
        if (c == '\n') {
            in_comment = 0;
            buf_append_char(&clean, ' ');
        } else if (!in_comment) {
            buf_append_char(&clean, c == 0 ? ' ' : c);
        }
    }
    int rc = domain_list_add_text(list, buf_cstr(&clean), depth, err);
    buf_free(&clean);
    buf_free(&text);
    return rc;
}

struct domain_list *domain_list_open(const char *title, const char *value,
                                     unsigned flags, struct buf *err)
{
    struct domain_list *list = xcalloc(1, sizeof(*list));
    list->title = title;
    list->flags = flags;
    if (domain_list_add_text(list, value ? value : "", 0, err) < 0) {
        domain_list_free(list);
        return NULL;
    }
    return list;
}

/* One item against one name: 1, 0, or -1 (table error). */
static int domain_item_match(const struct domain_list *list,
                             const struct domain_item *item, const char *name)
{
    if (item->table) {
        struct buf value = BUF_INIT;
        int match = 0;
        for (const char *entry = name; *entry;) {
            /* Pattern tables see the whole name only. */
            enum dict_result r =
                maps_find(item->table, entry,
                          entry == name ? 0 : MAPS_FIXED_ONLY, &value);
            if (r != DICT_NOTFOUND) {
                match = r == DICT_FOUND ? 1 : -1;
                break;
            }
            if (!(list->flags & DOMAIN_LIST_HOST))
                break;
            const char *next = strchr(entry + 1, '.');
            if (next == NULL)
                break;
            entry = (list->flags & DOMAIN_LIST_PARENT) ? next + 1 : next;
        }
        buf_free(&value);
        return match;
    }
    if (str_equal_nocase(name, item->name))
        return 1;
    if (!(list->flags & DOMAIN_LIST_HOST))
        return 0;
    size_t name_len = strlen(name), pat_len = strlen(item->name);
    if (item->name[0] == '.') {
        /* .example.com: any subdomain. */
        return name_len > pat_len &&
               str_equal_nocase(name + name_len - pat_len, item->name);
    }
    if (list->flags & DOMAIN_LIST_PARENT) {
        return name_len > pat_len + 1 && name[name_len - pat_len - 1] == '.' &&
               str_equal_nocase(name + name_len - pat_len, item->name);
    }
    return 0;
}

int domain_list_match(struct domain_list *list, const char *domain)
{
    if (list == NULL || domain == NULL || *domain == 0)
        return 0;
    for (size_t i = 0; i < list->count; i++) {
        int m = domain_item_match(list, &list->items[i], domain);
        if (m < 0) {
            log_warn("%s: lookup of %s failed", list->title, domain);
            return -1;
        }
        if (m > 0)
            return list->items[i].negate ? 0 : 1;
    }
    return 0;
}

int domain_list_empty(const struct domain_list *list)
{
    return list == NULL || list->count == 0;
}

void domain_list_free(struct domain_list *list)
{
    if (list == NULL)
        return;
    for (size_t i = 0; i < list->count; i++) {
        free(list->items[i].name);
        maps_close(list->items[i].table);
    }
    free(list->items);
    free(list);
}

int domain_list_parent_style(const char *setting, const char *name)
{
    struct strlist names;
    strlist_init(&names);
    str_split_list(setting ? setting : "", &names);
    int found = 0;
    for (size_t i = 0; i < names.count && !found; i++)
        found = strcmp(names.items[i], name) == 0;
    strlist_free(&names);
    return found;
}
