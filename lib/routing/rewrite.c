/* rewrite.c: canonical form, canonical maps and virtual alias expansion
 * (see rewrite.h and docs/addressing.md). */
#include "routing/rewrite.h"

#include <stdlib.h>
#include <string.h>

#include "message/address.h"
#include "config/config.h"
#include "routing/local_domain.h"
#include "base/log.h"
#include "base/mem.h"

/* Postfix's cleanup_map11 gives up after this many canonical steps. */
#define REWRITE_CANONICAL_MAX 10
/* Bound on any address we build, whatever the limits say. */
#define REWRITE_ADDRESS_HARD_MAX 8192
#define REWRITE_EXPANSION_ERROR "4.6.0 Alias expansion error"

struct rewrite {
    char *myhostname, *myorigin, *mydomain, *remote_domain;
    char *delimiters;
    int append_at_myorigin, append_dot_mydomain, swap_bangpath, percent_hack;
    int propagate_canonical, propagate_virtual;
    unsigned canonical_classes, sender_classes, recipient_classes;
    long recursion_limit, expansion_limit, length_limit;
    struct local_domain *local;
    struct maps *canonical, *sender_canonical, *recipient_canonical,
        *virtual_alias;
};

static unsigned rewrite_parse_classes(const char *value)
{
    struct strlist items;
    strlist_init(&items);
    str_split_list(value ? value : "", &items);
    unsigned classes = 0;
    for (size_t i = 0; i < items.count; i++) {
        const char *c = items.items[i];
        if (strcmp(c, "envelope_sender") == 0)
            classes |= REWRITE_ENVELOPE_SENDER;
        else if (strcmp(c, "envelope_recipient") == 0)
            classes |= REWRITE_ENVELOPE_RECIPIENT;
        else if (strcmp(c, "header_sender") == 0)
            classes |= REWRITE_HEADER_SENDER;
        else if (strcmp(c, "header_recipient") == 0)
            classes |= REWRITE_HEADER_RECIPIENT;
        else
            log_warn("unknown address class \"%s\" ignored", c);
    }
    strlist_free(&items);
    return classes;
}

void rewrite_settings_from_config(struct rewrite_settings *s)
{
    memset(s, 0, sizeof(*s));
    s->myhostname = cfg_str("myhostname");
    s->myorigin = cfg_str("myorigin");
    s->mydomain = cfg_str("mydomain");
    s->mydestination = cfg_str("mydestination");
    s->inet_interfaces = cfg_str("inet_interfaces");
    s->proxy_interfaces = cfg_str("proxy_interfaces");
    s->append_at_myorigin = cfg_bool("append_at_myorigin");
    s->append_dot_mydomain = cfg_bool("append_dot_mydomain");
    s->swap_bangpath = cfg_bool("swap_bangpath");
    s->allow_percent_hack = cfg_bool("allow_percent_hack");
    s->recipient_delimiter = cfg_str("recipient_delimiter");
    s->propagate_unmatched_extensions =
        cfg_str("propagate_unmatched_extensions");
    s->canonical_maps = cfg_str("canonical_maps");
    s->sender_canonical_maps = cfg_str("sender_canonical_maps");
    s->recipient_canonical_maps = cfg_str("recipient_canonical_maps");
    s->canonical_classes = cfg_str("canonical_classes");
    s->sender_canonical_classes = cfg_str("sender_canonical_classes");
    s->recipient_canonical_classes = cfg_str("recipient_canonical_classes");
    s->virtual_alias_maps = cfg_str("virtual_alias_maps");
    s->virtual_alias_recursion_limit = cfg_int("virtual_alias_recursion_limit");
    s->virtual_alias_expansion_limit = cfg_int("virtual_alias_expansion_limit");
    s->virtual_alias_address_length_limit =
        cfg_int("virtual_alias_address_length_limit");
    s->remote_header_rewrite_domain = cfg_str("remote_header_rewrite_domain");
}

static char *dup_or_empty(const char *s)
{
    return xstrdup(s ? s : "");
}

static long limit_or(long value, long fallback)
{
    return value > 0 ? value : fallback;
}

struct rewrite *rewrite_open(const struct rewrite_settings *s, struct buf *err)
{
    struct rewrite *rw = xcalloc(1, sizeof(*rw));
    rw->local = local_domain_open(s->mydestination, s->inet_interfaces,
                                  s->proxy_interfaces, err);
    if (rw->local == NULL) {
        free(rw);
        return NULL;
    }
    rw->myhostname = dup_or_empty(s->myhostname);
    rw->myorigin = dup_or_empty(s->myorigin);
    rw->mydomain = dup_or_empty(s->mydomain);
    rw->remote_domain = dup_or_empty(s->remote_header_rewrite_domain);
    rw->delimiters = dup_or_empty(s->recipient_delimiter);
    rw->append_at_myorigin = s->append_at_myorigin;
    rw->append_dot_mydomain = s->append_dot_mydomain;
    rw->swap_bangpath = s->swap_bangpath;
    rw->percent_hack = s->allow_percent_hack;
    struct strlist prop;
    strlist_init(&prop);
    str_split_list(s->propagate_unmatched_extensions
                       ? s->propagate_unmatched_extensions
                       : "",
                   &prop);
    for (size_t i = 0; i < prop.count; i++) {
        if (strcmp(prop.items[i], "canonical") == 0)
            rw->propagate_canonical = 1;
        else if (strcmp(prop.items[i], "virtual") == 0)
            rw->propagate_virtual = 1;
        /* alias, forward, include: local delivery's business. */
    }
    strlist_free(&prop);
    rw->canonical_classes = rewrite_parse_classes(s->canonical_classes);
    rw->sender_classes = rewrite_parse_classes(s->sender_canonical_classes);
    rw->recipient_classes =
        rewrite_parse_classes(s->recipient_canonical_classes);
    rw->recursion_limit = limit_or(s->virtual_alias_recursion_limit, 1000);
    rw->expansion_limit = limit_or(s->virtual_alias_expansion_limit, 1000);
    rw->length_limit = limit_or(s->virtual_alias_address_length_limit, 1000);
    if (rw->length_limit > REWRITE_ADDRESS_HARD_MAX)
        rw->length_limit = REWRITE_ADDRESS_HARD_MAX;
    rw->canonical = maps_open("canonical_maps", s->canonical_maps, 0);
    rw->sender_canonical =
        maps_open("sender_canonical_maps", s->sender_canonical_maps, 0);
    rw->recipient_canonical =
        maps_open("recipient_canonical_maps", s->recipient_canonical_maps, 0);
    rw->virtual_alias =
        maps_open("virtual_alias_maps", s->virtual_alias_maps, 0);
    return rw;
}

void rewrite_close(struct rewrite *rw)
{
    if (rw == NULL)
        return;
    local_domain_free(rw->local);
    maps_close(rw->canonical);
    maps_close(rw->sender_canonical);
    maps_close(rw->recipient_canonical);
    maps_close(rw->virtual_alias);
    free(rw->myhostname);
    free(rw->myorigin);
    free(rw->mydomain);
    free(rw->remote_domain);
    free(rw->delimiters);
    free(rw);
}

const char *rewrite_myhostname(const struct rewrite *rw)
{
    return rw->myhostname;
}
const char *rewrite_delimiters(const struct rewrite *rw)
{
    return rw->delimiters;
}
int rewrite_swap_bangpath(const struct rewrite *rw)
{
    return rw->swap_bangpath;
}
int rewrite_percent_hack(const struct rewrite *rw)
{
    return rw->percent_hack;
}

int rewrite_local_domain(struct rewrite *rw, const char *domain)
{
    return local_domain_match(rw->local, domain);
}

/* ---- step 1: canonical form ---- */

void rewrite_canonical_form(struct rewrite *rw, const char *address,
                            int context, struct buf *out)
{
    const char *origin = rw->myorigin, *domain_suffix = rw->mydomain;
    if (context == REWRITE_REMOTE) {
        origin = domain_suffix = rw->remote_domain;
        if (*origin == 0) {
            buf_set_str(out, address);
            return;
        }
    }
    struct buf work = BUF_INIT;
    /* A lone "@" is the null address, as in Postfix. */
    if (strcmp(address, "@") == 0)
        address = "";
    /* Source route: @a,@b:user@d -> user@d. */
    if (address[0] == '@') {
        const char *colon = strchr(address, ':');
        if (colon && colon[1] != 0)
            address = colon + 1;
    }
    buf_set_str(&work, address);
    if (work.len == 0) {
        buf_set_str(out, "");
        buf_free(&work);
        return;
    }
    if (strchr(work.data, '@') == NULL) {
        char *bang = rw->swap_bangpath ? strchr(work.data, '!') : NULL;
        char *percent = rw->percent_hack ? strrchr(work.data, '%') : NULL;
        if (bang) {
            /* site!rest -> rest@site (the rest may hold more hops). */
            struct buf swapped = BUF_INIT;
            buf_append_str(&swapped, bang + 1);
            buf_append_char(&swapped, '@');
            buf_append(&swapped, work.data, (size_t)(bang - work.data));
            buf_set(&work, swapped.data, swapped.len);
            buf_free(&swapped);
        } else if (percent) {
            *percent = '@';
        } else if (rw->append_at_myorigin && *origin) {
            buf_append_char(&work, '@');
            buf_append_str(&work, origin);
        }
    }
    const char *at = strrchr(work.data, '@');
    if (rw->append_dot_mydomain && *domain_suffix && at && at[1] != 0 &&
        at[1] != '[' && strchr(at + 1, '.') == NULL) {
        buf_append_char(&work, '.');
        buf_append_str(&work, domain_suffix);
    }
    /* One trailing dot, but not "..", nor "@." */
    if (work.len >= 2 && work.data[work.len - 1] == '.' &&
        work.data[work.len - 2] != '.' && work.data[work.len - 2] != '@' &&
        strchr(work.data, '@') != NULL)
        buf_truncate(&work, work.len - 1);
    buf_set(out, work.data, work.len);
    buf_free(&work);
}

/* ---- table lookups in Postfix's order ---- */

/* mail_addr_find for one form of the key. */
static enum dict_result addr_find_key(struct rewrite *rw, struct maps *maps,
                                      const char *key, struct buf *value,
                                      struct buf *extension)
{
    struct buf local = BUF_INIT, domain = BUF_INIT, base = BUF_INIT,
               ext = BUF_INIT, bare = BUF_INIT, probe = BUF_INIT;
    int has_domain = address_split(key, &local, &domain);
    char delim = 0;
    int split = *rw->delimiters && strchr(local.data, '"') == NULL &&
                address_split_delimiter(local.data, rw->delimiters, &base, &ext,
                                        &delim);
    if (split) {
        buf_append(&bare, base.data, base.len);
        if (has_domain) {
            buf_append_char(&bare, '@');
            buf_append(&bare, domain.data, domain.len);
        }
    }
    int used_bare = 0;
    enum dict_result r = maps_find(maps, key, 0, value);
    if (r == DICT_NOTFOUND && split) {
        r = maps_find(maps, bare.data, MAPS_FIXED_ONLY, value);
        used_bare = r == DICT_FOUND;
    }
    if (r == DICT_NOTFOUND && has_domain && domain.len) {
        int local_dom = str_equal_nocase(domain.data, rw->myorigin)
                            ? 1
                            : local_domain_match(rw->local, domain.data);
        if (local_dom < 0) {
            r = DICT_ERROR;
        } else if (local_dom > 0) {
            r = maps_find(maps, local.data, MAPS_FIXED_ONLY, value);
            if (r == DICT_NOTFOUND && split) {
                r = maps_find(maps, base.data, MAPS_FIXED_ONLY, value);
                used_bare = r == DICT_FOUND;
            }
        }
    }
    if (r == DICT_NOTFOUND && has_domain && domain.len) {
        buf_set_str(&probe, "@");
        buf_append(&probe, domain.data, domain.len);
        r = maps_find(maps, probe.data, MAPS_FIXED_ONLY, value);
    }
    if (extension) {
        buf_reset(extension);
        if (r == DICT_FOUND && used_bare) {
            buf_append_char(extension, delim);
            buf_append(extension, ext.data, ext.len);
        }
    }
    buf_free(&local);
    buf_free(&domain);
    buf_free(&base);
    buf_free(&ext);
    buf_free(&bare);
    buf_free(&probe);
    return r;
}

enum dict_result rewrite_addr_find(struct rewrite *rw, struct maps *maps,
                                   const char *address, struct buf *value,
                                   struct buf *extension)
{
    if (maps == NULL || maps_empty(maps))
        return DICT_NOTFOUND;
    struct buf external = BUF_INIT;
    address_externalize(address, &external);
    enum dict_result r =
        addr_find_key(rw, maps, external.data, value, extension);
    if (r == DICT_NOTFOUND && strcmp(external.data, address) != 0)
        r = addr_find_key(rw, maps, address, value, extension);
    buf_free(&external);
    return r;
}

/* Splits a table result into addresses (commas and white space outside
 * double quotes) and turns each into internal form. */
static void split_result(const char *text, struct strlist *out)
{
    struct buf item = BUF_INIT;
    int quoted = 0, escaped = 0, have = 0;
    for (const char *p = text;; p++) {
        char c = *p;
        if (c == 0 || (!quoted && (c == ',' || c == ' ' || c == '\t' ||
                                   c == '\r' || c == '\n'))) {
            if (have)
                strlist_add(out, item.data);
            buf_reset(&item);
            have = 0;
            if (c == 0)
                break;
            continue;
        }
        have = 1;
        if (escaped) {
            buf_append_char(&item, c);
            escaped = 0;
        } else if (quoted && c == '\\') {
            escaped = 1;
        } else if (c == '"') {
            quoted = !quoted;
        } else {
            buf_append_char(&item, c);
        }
    }
    buf_free(&item);
}

/* Postfix's mail_addr_map: look up, then build the result addresses.
 * Returns DICT_FOUND with out filled, DICT_NOTFOUND, or DICT_ERROR (also
 * for a result that holds no address). */
static enum dict_result addr_map(struct rewrite *rw, struct maps *maps,
                                 const char *address, int propagate,
                                 struct strlist *out)
{
    struct buf value = BUF_INIT, extension = BUF_INIT, text = BUF_INIT,
               canon = BUF_INIT;
    enum dict_result r =
        rewrite_addr_find(rw, maps, address, &value, &extension);
    if (r != DICT_FOUND)
        goto done;
    if (value.data[0] == '@') {
        /* @otherdomain: the same user (without an extension that had to
         * be dropped to match) in the other domain. */
        /* In external form, so a local part with spaces or quotes
         * survives the list splitting below. */
        struct buf external = BUF_INIT;
        address_externalize(address, &external);
        const char *at = strrchr(external.data, '@');
        size_t local_len = at ? (size_t)(at - external.data) : external.len;
        if (extension.len && local_len >= extension.len &&
            memcmp(external.data + local_len - extension.len, extension.data,
                   extension.len) == 0)
            local_len -= extension.len;
        buf_append(&text, external.data, local_len);
        buf_free(&external);
    }
    buf_append(&text, value.data, value.len);
    struct strlist items;
    strlist_init(&items);
    split_result(text.data, &items);
    for (size_t i = 0; i < items.count; i++) {
        rewrite_canonical_form(rw, items.items[i], REWRITE_LOCAL, &canon);
        if (canon.len == 0)
            continue;
        if (propagate && extension.len) {
            const char *at = strrchr(canon.data, '@');
            size_t pos = at ? (size_t)(at - canon.data) : canon.len;
            struct buf with = BUF_INIT;
            buf_append(&with, canon.data, pos);
            buf_append(&with, extension.data, extension.len);
            buf_append_str(&with, canon.data + pos);
            strlist_add(out, with.data);
            buf_free(&with);
        } else {
            strlist_add(out, canon.data);
        }
    }
    if (items.count == 0 || out->count == 0) {
        log_warn("%s lookup of %s returns non-address result \"%s\"",
                 maps_title(maps), address, value.data);
        r = DICT_ERROR;
    }
    strlist_free(&items);
done:
    buf_free(&value);
    buf_free(&extension);
    buf_free(&text);
    buf_free(&canon);
    return r;
}

/* ---- step 2: canonical maps ---- */

/* One table list, one-to-one, repeated until the address maps to itself
 * or stops matching. 0, or -1 with why set. */
static int canonical_map(struct rewrite *rw, struct maps *maps,
                         struct buf *address, struct buf *why)
{
    if (maps_empty(maps) || address->len == 0)
        return 0;
    for (int count = 0; count < REWRITE_CANONICAL_MAX; count++) {
        struct strlist result;
        strlist_init(&result);
        enum dict_result r =
            addr_map(rw, maps, address->data, rw->propagate_canonical, &result);
        if (r == DICT_NOTFOUND) {
            strlist_free(&result);
            return 0;
        }
        if (r == DICT_ERROR) {
            strlist_free(&result);
            log_warn("%s map lookup problem for %s -- message not accepted, "
                     "try again later",
                     maps_title(maps), address->data);
            buf_set_str(why, REWRITE_EXPANSION_ERROR);
            return -1;
        }
        if (result.count > 1)
            log_warn("multi-valued %s entry for %s", maps_title(maps),
                     address->data);
        const char *next = result.items[0];
        if ((long)strlen(next) > rw->length_limit) {
            log_warn("unreasonable %s result %.300s... -- message not "
                     "accepted, try again later",
                     maps_title(maps), next);
            strlist_free(&result);
            buf_set_str(why, REWRITE_EXPANSION_ERROR);
            return -1;
        }
        int same = str_equal_nocase(next, address->data);
        buf_set_str(address, next);
        strlist_free(&result);
        if (same)
            return 0;
    }
    log_warn("unreasonable %s map nesting for %s -- message not accepted, "
             "try again later",
             maps_title(maps), address->data);
    buf_set_str(why, REWRITE_EXPANSION_ERROR);
    return -1;
}

/* Applies the specific table (if its classes include `class`), then
 * canonical_maps (likewise). */
static int canonical_maps_apply(struct rewrite *rw, unsigned address_class,
                                struct buf *address, struct buf *why)
{
    int sender =
        address_class & (REWRITE_ENVELOPE_SENDER | REWRITE_HEADER_SENDER);
    struct maps *specific =
        sender ? rw->sender_canonical : rw->recipient_canonical;
    unsigned specific_classes =
        sender ? rw->sender_classes : rw->recipient_classes;
    if ((specific_classes & address_class) &&
        canonical_map(rw, specific, address, why) < 0)
        return -1;
    if ((rw->canonical_classes & address_class) &&
        canonical_map(rw, rw->canonical, address, why) < 0)
        return -1;
    return 0;
}

int rewrite_envelope_sender(struct rewrite *rw, const char *address,
                            struct buf *out, struct buf *why)
{
    rewrite_canonical_form(rw, address, REWRITE_LOCAL, out);
    if (out->len == 0)
        return 0;
    return canonical_maps_apply(rw, REWRITE_ENVELOPE_SENDER, out, why);
}

int rewrite_header_address(struct rewrite *rw, const char *address, int sender,
                           int context, struct buf *out, struct buf *why)
{
    if (context == REWRITE_REMOTE && *rw->remote_domain == 0) {
        buf_set_str(out, address);
        return 0;
    }
    rewrite_canonical_form(rw, address, context, out);
    if (out->len == 0)
        return 0;
    return canonical_maps_apply(
        rw, sender ? REWRITE_HEADER_SENDER : REWRITE_HEADER_RECIPIENT, out,
        why);
}

/* ---- step 3: virtual alias expansion ---- */

struct alias_node {
    char *address;
    long parent; /* index in nodes, -1 for the root */
    long depth;
};

struct alias_walk {
    struct alias_node *nodes;
    size_t count, cap;
};

static long alias_node_add(struct alias_walk *w, const char *address,
                           long parent, long depth)
{
    if (w->count == w->cap) {
        w->cap = w->cap ? w->cap * 2 : 16;
        w->nodes = xreallocarray(w->nodes, w->cap, sizeof(*w->nodes));
    }
    w->nodes[w->count].address = xstrdup(address);
    w->nodes[w->count].parent = parent;
    w->nodes[w->count].depth = depth;
    return (long)w->count++;
}

static int strlist_has_nocase(const struct strlist *list, const char *item)
{
    for (size_t i = 0; i < list->count; i++)
        if (str_equal_nocase(list->items[i], item))
            return 1;
    return 0;
}

int rewrite_virtual_alias(struct rewrite *rw, const char *address,
                          struct strlist *out, struct buf *why)
{
    if (maps_empty(rw->virtual_alias)) {
        strlist_add(out, address);
        return 0;
    }
    /* Depth-first, with an explicit stack so a deep (but legal) nesting
     * cannot exhaust the C stack. Each node remembers its parent, which
     * is how a loop (a -> b -> a) is seen: an address that reappears
     * among its own ancestors. An address that lists itself (a -> a, b)
     * is kept as a final recipient, as in Postfix. */
    struct alias_walk walk = {NULL, 0, 0};
    struct strlist leaves, result;
    strlist_init(&leaves);
    long *stack = NULL;
    size_t stack_len = 0, stack_cap = 0;
    int rc = 0;
    long leaf_count = 0;

    alias_node_add(&walk, address, -1, 0);
    stack_cap = 16;
    stack = xreallocarray(NULL, stack_cap, sizeof(*stack));
    stack[stack_len++] = 0;
    while (stack_len > 0 && rc == 0) {
        long index = stack[--stack_len];
        /* Copy: walk.nodes may move when children are added. */
        char *current = xstrdup(walk.nodes[index].address);
        long depth = walk.nodes[index].depth;
        strlist_init(&result);
        enum dict_result r = addr_map(rw, rw->virtual_alias, current,
                                      rw->propagate_virtual, &result);
        if (r == DICT_ERROR) {
            log_warn("virtual_alias_maps map lookup problem for %s -- message "
                     "not accepted, try again later",
                     address);
            rc = -1;
        } else if (r == DICT_NOTFOUND) {
            leaf_count++;
            if (!strlist_has_nocase(&leaves, current))
                strlist_add(&leaves, current);
        } else if ((long)(leaf_count + (long)stack_len + (long)result.count) >
                   rw->expansion_limit) {
            log_warn("unreasonable virtual_alias_maps map expansion size for "
                     "%s -- message not accepted, try again later",
                     address);
            rc = -1;
        } else {
            /* Children in reverse onto the stack: the first result is
             * expanded first, keeping the table's order in the output. */
            for (size_t k = result.count; k-- > 0 && rc == 0;) {
                const char *child = result.items[k];
                if ((long)strlen(child) > rw->length_limit) {
                    log_warn("unreasonable virtual_alias_maps result %.300s... "
                             "-- message not accepted, try again later",
                             child);
                    rc = -1;
                    break;
                }
                if (str_equal_nocase(child, current)) {
                    /* Expands into itself: a final recipient. Pushed as a
                     * leaf marker (depth -1). */
                    long leaf = alias_node_add(&walk, child, index, -1);
                    if (stack_len == stack_cap) {
                        stack_cap *= 2;
                        stack = xreallocarray(stack, stack_cap, sizeof(*stack));
                    }
                    stack[stack_len++] = leaf;
                    continue;
                }
                for (long a = index; a >= 0; a = walk.nodes[a].parent) {
                    if (walk.nodes[a].depth >= 0 &&
                        str_equal_nocase(walk.nodes[a].address, child)) {
                        log_warn("virtual_alias_maps loop for %s: %s expands "
                                 "to %s again -- message not accepted, try "
                                 "again later",
                                 address, current, child);
                        rc = -1;
                        break;
                    }
                }
                if (rc < 0)
                    break;
                if (depth + 1 > rw->recursion_limit) {
                    log_warn("unreasonable virtual_alias_maps map nesting for "
                             "%s -- message not accepted, try again later",
                             address);
                    rc = -1;
                    break;
                }
                long node = alias_node_add(&walk, child, index, depth + 1);
                if (stack_len == stack_cap) {
                    stack_cap *= 2;
                    stack = xreallocarray(stack, stack_cap, sizeof(*stack));
                }
                stack[stack_len++] = node;
            }
        }
        strlist_free(&result);
        free(current);
        /* A self-listed address sits on the stack as a leaf marker. */
        while (rc == 0 && stack_len > 0 &&
               walk.nodes[stack[stack_len - 1]].depth < 0) {
            const char *leaf = walk.nodes[stack[--stack_len]].address;
            leaf_count++;
            if (!strlist_has_nocase(&leaves, leaf))
                strlist_add(&leaves, leaf);
        }
    }
    if (rc == 0) {
        for (size_t i = 0; i < leaves.count; i++)
            strlist_add(out, leaves.items[i]);
    } else {
        buf_set_str(why, REWRITE_EXPANSION_ERROR);
    }
    for (size_t i = 0; i < walk.count; i++)
        free(walk.nodes[i].address);
    free(walk.nodes);
    free(stack);
    strlist_free(&leaves);
    return rc;
}

int rewrite_envelope_recipient(struct rewrite *rw, const char *address,
                               struct strlist *out, struct buf *why)
{
    struct buf canon = BUF_INIT;
    rewrite_canonical_form(rw, address, REWRITE_LOCAL, &canon);
    int rc = canonical_maps_apply(rw, REWRITE_ENVELOPE_RECIPIENT, &canon, why);
    if (rc == 0)
        rc = rewrite_virtual_alias(rw, canon.data, out, why);
    buf_free(&canon);
    return rc;
}

int rewrite_recipient_is_mapped(struct rewrite *rw, const char *address)
{
    struct maps *tables[3] = {NULL, NULL, rw->virtual_alias};
    if (rw->recipient_classes & REWRITE_ENVELOPE_RECIPIENT)
        tables[0] = rw->recipient_canonical;
    if (rw->canonical_classes & REWRITE_ENVELOPE_RECIPIENT)
        tables[1] = rw->canonical;
    struct buf value = BUF_INIT;
    int result = 0;
    for (int i = 0; i < 3 && result == 0; i++) {
        if (tables[i] == NULL)
            continue;
        enum dict_result r =
            rewrite_addr_find(rw, tables[i], address, &value, NULL);
        if (r == DICT_FOUND)
            result = 1;
        else if (r == DICT_ERROR)
            result = -1;
    }
    buf_free(&value);
    return result;
}
