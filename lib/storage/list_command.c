/* list_command.c: IMAP LIST and LSUB answered over a Maildir++ folder
 * list and its subscriptions. See list_command.h. */
#include "storage/list_command.h"

#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "base/str.h"
#include "storage/subscriptions.h"

/* One name of the answer. */
struct listed {
    char *name;
    unsigned attrs;
    int childinfo;
    const struct mailbox_list_entry *entry; /* in the tree, or NULL */
};

struct listing {
    struct listed *items;
    size_t count, cap;
};

static void listing_add(struct listing *l, const char *name);

static struct listed *listing_get(struct listing *l, const char *name)
{
    for (size_t i = 0; i < l->count; i++)
        if (strcmp(l->items[i].name, name) == 0)
            return &l->items[i];
    listing_add(l, name);
    return &l->items[l->count - 1];
}

/* Appends a name known to be new (the tree's names are unique). */
static void listing_add(struct listing *l, const char *name)
{
    if (l->count == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 16;
        l->items = xreallocarray(l->items, l->cap, sizeof(*l->items));
    }
    struct listed *item = &l->items[l->count++];
    memset(item, 0, sizeof(*item));
    item->name = xstrdup(name);
}

static void listing_free(struct listing *l)
{
    for (size_t i = 0; i < l->count; i++)
        free(l->items[i].name);
    free(l->items);
}

static int matches_any(const struct imap_list_args *args, const char *name,
                       char sep)
{
    for (size_t i = 0; i < args->pattern_count; i++)
        if (imap_list_match(args->patterns[i], name, sep))
            return 1;
    return 0;
}

static int has_name(const struct strlist *names, const char *name)
{
    for (size_t i = 0; i < names->count; i++)
        if (strcmp(names->items[i], name) == 0)
            return 1;
    return 0;
}

/* Whether some name of names is below name. */
static int has_descendant(const struct strlist *names, const char *name,
                          char sep)
{
    size_t len = strlen(name);
    for (size_t i = 0; i < names->count; i++)
        if (strncmp(names->items[i], name, len) == 0 &&
            names->items[i][len] == sep)
            return 1;
    return 0;
}

static int is_folder(const struct mailbox_list_entry *entry)
{
    return entry && !(entry->flags & MAILBOX_LIST_NOSELECT);
}

/* The special-use attributes of an existing folder. */
static unsigned special_attrs(const struct list_command_env *env,
                              const struct mailbox_list_entry *entry)
{
    static const unsigned attr_of_use[SPECIAL_USE_COUNT] = {
        [SPECIAL_USE_SENT] = IMAP_LIST_ATTR_SENT,
        [SPECIAL_USE_DRAFTS] = IMAP_LIST_ATTR_DRAFTS,
        [SPECIAL_USE_TRASH] = IMAP_LIST_ATTR_TRASH,
        [SPECIAL_USE_JUNK] = IMAP_LIST_ATTR_JUNK,
        [SPECIAL_USE_ARCHIVE] = IMAP_LIST_ATTR_ARCHIVE,
    };
    if (!env->special || !is_folder(entry))
        return 0;
    unsigned uses = special_use_of(env->special, entry->name), attrs = 0;
    for (int use = 0; use < SPECIAL_USE_COUNT; use++)
        if (uses & (1u << use))
            attrs |= attr_of_use[use];
    return attrs;
}

static unsigned children_attr(const struct mailbox_list_entry *entry)
{
    return entry && (entry->flags & MAILBOX_LIST_CHILDREN)
               ? IMAP_LIST_ATTR_HASCHILDREN
               : IMAP_LIST_ATTR_HASNOCHILDREN;
}

/* Calls add for every proper ancestor of name ("a" and "a/b" of
 * "a/b/c"), with the ancestor's text in a scratch buffer. */
static void for_ancestors(const char *name, char sep, struct buf *scratch,
                          void (*add)(const char *ancestor, void *arg),
                          void *arg)
{
    for (const char *p = strchr(name, sep); p; p = strchr(p + 1, sep)) {
        buf_set(scratch, name, (size_t)(p - name));
        add(scratch->data, arg);
    }
}

struct ancestor_ctx {
    const struct imap_list_args *args;
    const struct strlist *subscribed;
    struct listing *out;
    char sep;
    int lsub;
};

/* LSUB: an unsubscribed parent of a subscribed name the pattern does not
 * reach is listed \Noselect; LIST RECURSIVEMATCH: a matching parent gets
 * CHILDINFO. */
static void add_ancestor(const char *ancestor, void *arg)
{
    struct ancestor_ctx *ctx = arg;
    if (!matches_any(ctx->args, ancestor, ctx->sep))
        return;
    if (ctx->lsub) {
        if (!has_name(ctx->subscribed, ancestor))
            listing_get(ctx->out, ancestor)->attrs |= IMAP_LIST_ATTR_NOSELECT;
    } else {
        listing_get(ctx->out, ancestor)->childinfo = 1;
    }
}

static void collect_subscribed(const struct imap_list_args *args,
                               const struct strlist *subscribed, char sep,
                               struct listing *out)
{
    struct buf scratch = BUF_INIT;
    struct ancestor_ctx ctx = {args, subscribed, out, sep, args->lsub};
    int parents = args->lsub ||
                  (args->select & IMAP_LIST_SELECT_RECURSIVEMATCH);

    for (size_t i = 0; i < subscribed->count; i++) {
        const char *name = subscribed->items[i];
        if (matches_any(args, name, sep))
            listing_get(out, name);
        else if (parents)
            for_ancestors(name, sep, &scratch, add_ancestor, &ctx);
    }
    /* RECURSIVEMATCH: a subscribed name listed for itself gets CHILDINFO
     * too when any subscribed name is below it (Dovecot's rule, also
     * when the pattern reaches the child). */
    if (!args->lsub && (args->select & IMAP_LIST_SELECT_RECURSIVEMATCH))
        for (size_t i = 0; i < out->count; i++)
            if (has_name(subscribed, out->items[i].name) &&
                has_descendant(subscribed, out->items[i].name, sep))
                out->items[i].childinfo = 1;
    buf_free(&scratch);
}

static void collect_tree(const struct list_command_env *env,
                         const struct imap_list_args *args,
                         const struct mailbox_list_snapshot *tree,
                         struct listing *out)
{
    for (size_t i = 0; i < tree->count; i++) {
        const struct mailbox_list_entry *e = &tree->entries[i];
        if (!matches_any(args, e->name, env->list->separator))
            continue;
        if ((args->select & IMAP_LIST_SELECT_SPECIAL_USE) &&
            special_attrs(env, e) == 0)
            continue;
        listing_add(out, e->name);
    }
}

/* The attributes of one listed name. */
static unsigned listed_attrs(const struct list_command_env *env,
                             const struct imap_list_args *args,
                             const struct strlist *subscribed,
                             const struct listed *item)
{
    const struct mailbox_list_entry *e = item->entry;
    unsigned attrs = item->attrs;
    int basic = !args->extended;

    if (args->lsub)
        return attrs | special_attrs(env, e);
    if (!is_folder(e))
        attrs |= basic ? IMAP_LIST_ATTR_NOSELECT : IMAP_LIST_ATTR_NONEXISTENT;
    if ((args->ret & IMAP_LIST_RETURN_SUBSCRIBED) &&
        has_name(subscribed, item->name))
        attrs |= IMAP_LIST_ATTR_SUBSCRIBED;
    if (basic || (args->ret & IMAP_LIST_RETURN_CHILDREN)) {
        /* With the SUBSCRIBED selection, subscribed names count as
         * children too, as in Dovecot. */
        if ((args->select & IMAP_LIST_SELECT_SUBSCRIBED) &&
            has_descendant(subscribed, item->name, env->list->separator))
            attrs |= IMAP_LIST_ATTR_HASCHILDREN;
        else
            attrs |= children_attr(e);
    }
    if (basic || (args->ret & IMAP_LIST_RETURN_SPECIAL_USE))
        attrs |= special_attrs(env, e);
    return attrs;
}

static int listed_cmp(const void *pa, const void *pb, void *sep)
{
    const struct listed *a = pa, *b = pb;
    return mailbox_list_name_cmp(a->name, b->name, *(const char *)sep);
}

static void write_status(const struct list_command_env *env,
                         const struct imap_list_args *args,
                         const struct listed *item, struct buf *out)
{
    struct buf items = BUF_INIT;
    if (env->status(env->status_context, item->name, item->entry->disk_name,
                    args->status_items, &items) == 0) {
        buf_append_str(out, "* STATUS ");
        imap_list_write_mailbox(out, item->name, env->utf8_mode);
        buf_append_char(out, ' ');
        buf_append(out, items.data, items.len);
        buf_append_str(out, "\r\n");
    }
    buf_free(&items);
}

static void write_separator(const struct list_command_env *env,
                            const struct imap_list_args *args,
                            struct buf *out)
{
    char sep = env->list->separator;
    const char *first = strchr(args->reference, sep);
    char *root = first ? xstrndup(args->reference,
                                  (size_t)(first - args->reference) + 1)
                       : xstrdup("");
    imap_list_write(out, 0, IMAP_LIST_ATTR_NOSELECT, sep, root,
                    env->utf8_mode, 0);
    free(root);
}

int list_command_answer(const struct list_command_env *env,
                        const struct imap_list_args *args, struct buf *out,
                        struct buf *error)
{
    char sep = env->list->separator;
    struct mailbox_list_snapshot tree = {NULL, 0, 0};
    struct strlist subscribed;
    struct listing listing = {NULL, 0, 0};
    int rc = -1;

    strlist_init(&subscribed);
    if (args->separator_request) {
        write_separator(env, args, out);
        return 0;
    }
    if (mailbox_list_read(env->list, &tree, error) < 0)
        goto out;
    int by_subscription = args->lsub ||
                          (args->select & IMAP_LIST_SELECT_SUBSCRIBED);
    if ((by_subscription || (args->ret & IMAP_LIST_RETURN_SUBSCRIBED)) &&
        subscriptions_read(env->list, &subscribed, error) < 0)
        goto out;

    if (by_subscription)
        collect_subscribed(args, &subscribed, sep, &listing);
    else
        collect_tree(env, args, &tree, &listing);

    for (size_t i = 0; i < listing.count; i++)
        listing.items[i].entry =
            mailbox_list_find(&tree, listing.items[i].name);
    qsort_r(listing.items, listing.count, sizeof(*listing.items), listed_cmp,
            &sep);

    for (size_t i = 0; i < listing.count; i++) {
        const struct listed *item = &listing.items[i];
        unsigned attrs = listed_attrs(env, args, &subscribed, item);
        imap_list_write(out, args->lsub, attrs, sep, item->name,
                        env->utf8_mode, item->childinfo);
        if ((args->ret & IMAP_LIST_RETURN_STATUS) && env->status &&
            is_folder(item->entry))
            write_status(env, args, item, out);
    }
    rc = 0;
out:
    listing_free(&listing);
    strlist_free(&subscribed);
    mailbox_list_snapshot_free(&tree);
    return rc;
}
