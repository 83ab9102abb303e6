/* mastercf_edit.c: postconf's master.cf views (-M, -F, -P) and edits
 * (-Me, -M#, -MX, -Fe, -Pe, -PX); see mastercf_edit.h. */
#include "config/mastercf_edit.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "config/cfedit.h"
#include "config/config.h"
#include "config/mastercf.h"
#include "base/mem.h"

/* service[/type[/name]]; NULL parts match anything ("*" or omitted). */
struct pattern {
    char *service, *type, *name;
};

static void pattern_free(struct pattern *p)
{
    free(p->service);
    free(p->type);
    free(p->name);
    memset(p, 0, sizeof(*p));
}

static char *wild_part(const char *text, size_t len)
{
    if (len == 1 && text[0] == '*')
        return NULL;
    return xstrndup(text, len);
}

/* Splits text into at most `parts` parts at '/' (the last part keeps
 * any further '/', as parameter names may have one). */
static int pattern_parse(const char *text, int parts, struct pattern *p,
                         struct buf *err)
{
    memset(p, 0, sizeof(*p));
    const char *slash1 = strchr(text, '/');
    const char *slash2 = slash1 && parts > 2 ? strchr(slash1 + 1, '/') : NULL;
    const char *service_end = slash1 ? slash1 : text + strlen(text);
    const char *type_end = slash2 ? slash2 : text + strlen(text);
    if (service_end == text || (slash1 && type_end == slash1 + 1) ||
        (slash2 && slash2[1] == 0) ||
        (parts <= 2 && slash1 && strchr(slash1 + 1, '/'))) {
        buf_appendf(err, "\"%s\": expected %s", text,
                    parts > 2 ? "service[/type[/name]]" : "service[/type]");
        return -1;
    }
    p->service = wild_part(text, (size_t)(service_end - text));
    if (slash1)
        p->type = wild_part(slash1 + 1, (size_t)(type_end - slash1 - 1));
    if (slash2)
        p->name = wild_part(slash2 + 1, strlen(slash2 + 1));
    return 0;
}

static int pattern_matches_entry(const struct pattern *p, const char *service,
                                 const char *type)
{
    return (p->service == NULL || strcmp(p->service, service) == 0) &&
           (p->type == NULL || strcmp(p->type, type) == 0);
}

static int pattern_matches_name(const struct pattern *p, const char *name)
{
    return p->name == NULL || strcmp(p->name, name) == 0;
}

/* ---- showing ---- */

struct show_ctx {
    struct pattern *patterns;
    int count, flags;
    struct strlist *lines;
};

static int any_matches(const struct show_ctx *ctx,
                       const struct master_entry *e, const char *name)
{
    if (ctx->count == 0)
        return 1;
    for (int i = 0; i < ctx->count; i++)
        if (pattern_matches_entry(&ctx->patterns[i], e->service, e->type) &&
            (name == NULL || pattern_matches_name(&ctx->patterns[i], name)))
            return 1;
    return 0;
}

static void show_line(struct show_ctx *ctx, const struct master_entry *e,
                      const char *name, const char *value)
{
    struct buf line = BUF_INIT, expanded = BUF_INIT;
    if (ctx->flags & MASTERCF_SHOW_EXPAND) {
        config_expand(value, 0, &expanded, NULL);
        value = buf_cstr(&expanded);
    }
    if (ctx->flags & MASTERCF_SHOW_VALUES_ONLY)
        buf_append_str(&line, value);
    else if (ctx->flags & MASTERCF_SHOW_NAMES_ONLY)
        buf_appendf(&line, "%s/%s/%s", e->service, e->type, name);
    else
        buf_appendf(&line, "%s/%s/%s = %s", e->service, e->type, name, value);
    strlist_add(ctx->lines, buf_cstr(&line));
    buf_free(&line);
    buf_free(&expanded);
}

static void show_params(struct show_ctx *ctx, const struct master_entry *e)
{
    for (size_t i = 0; i + 1 < e->args.count; i++) {
        if (strcmp(e->args.items[i], "-o") != 0)
            continue;
        const char *item = e->args.items[++i];
        const char *eq = strchr(item, '=');
        if (eq == NULL)
            continue;
        char *name = xstrndup(item, (size_t)(eq - item));
        if (any_matches(ctx, e, name))
            show_line(ctx, e, name, eq + 1);
        free(name);
    }
}

static void show_fields(struct show_ctx *ctx, const struct master_entry *e)
{
    struct buf value = BUF_INIT;
    for (int f = 0; f < MASTERCF_FIELD_COUNT; f++) {
        if (!any_matches(ctx, e, mastercf_field_name(f)))
            continue;
        buf_reset(&value);
        mastercf_field_value(e, f, &value);
        show_line(ctx, e, mastercf_field_name(f), buf_cstr(&value));
    }
    buf_free(&value);
}

int mastercf_show(const char *path, enum mastercf_view view,
                  char *const *patterns, int count, int flags,
                  struct strlist *lines, struct buf *err)
{
    struct show_ctx ctx = {xcalloc((size_t)count + 1, sizeof(struct pattern)),
                           0, flags, lines};
    int status = 0;
    for (int i = 0; i < count && status == 0; i++) {
        status = pattern_parse(patterns[i],
                               view == MASTERCF_VIEW_ENTRIES ? 2 : 3,
                               &ctx.patterns[i], err);
        ctx.count = i + 1;
        const char *name = ctx.patterns[i].name;
        if (status == 0 && view == MASTERCF_VIEW_FIELDS && name &&
            mastercf_field_index(name) < 0) {
            buf_appendf(err, "\"%s\": unknown field \"%s\" (one of service, "
                             "type, private, unprivileged, chroot, wakeup, "
                             "process_limit, command)",
                        patterns[i], name);
            status = -1;
        }
    }
    struct master_entry *entries = NULL;
    size_t entry_count = 0;
    if (status == 0)
        status = mastercf_load(path, &entries, &entry_count, err);
    for (size_t i = 0; status == 0 && i < entry_count; i++) {
        const struct master_entry *e = &entries[i];
        if (view == MASTERCF_VIEW_FIELDS) {
            show_fields(&ctx, e);
        } else if (view == MASTERCF_VIEW_PARAMS) {
            show_params(&ctx, e);
        } else if (any_matches(&ctx, e, NULL)) {
            struct buf line = BUF_INIT, expanded = BUF_INIT;
            mastercf_format(e, &line);
            if (flags & MASTERCF_SHOW_EXPAND) {
                config_expand(buf_cstr(&line), 0, &expanded, NULL);
                buf_set_str(&line, buf_cstr(&expanded));
            }
            strlist_add(lines, buf_cstr(&line));
            buf_free(&line);
            buf_free(&expanded);
        }
    }
    mastercf_free(entries, entry_count);
    for (int i = 0; i < ctx.count; i++)
        pattern_free(&ctx.patterns[i]);
    free(ctx.patterns);
    return status;
}

/* ---- editing ---- */

struct edit_spec {
    char *arg;             /* as given, for messages */
    struct pattern where;  /* service/type[/name] */
    int field;             /* -F: the field's index */
    char *value;           /* -e: the new value */
    char *entry_line;      /* -Me: the new entry, normalised */
    int matched;
};

struct edit_ctx {
    enum mastercf_view view;
    enum mastercf_edit_op op;
    struct edit_spec *specs;
    int count;
    struct buf *err;
    int failed;
};

static void spec_free(struct edit_spec *s)
{
    free(s->arg);
    pattern_free(&s->where);
    free(s->value);
    free(s->entry_line);
}

static int valid_param_name(const char *name)
{
    if (*name == 0)
        return 0;
    for (const char *p = name; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-' &&
            *p != '.' && *p != '/')
            return 0;
    return 1;
}

/* Parses one edit argument into spec. 0, or -1 with err. */
static int spec_parse(struct edit_ctx *ctx, const char *arg,
                      struct edit_spec *spec, struct buf *err)
{
    memset(spec, 0, sizeof(*spec));
    spec->arg = xstrdup(arg);
    int wants_value = ctx->op == MASTERCF_EDIT_SET;
    const char *eq = strchr(arg, '=');
    if (wants_value && eq == NULL) {
        buf_appendf(err, "-e requires %s=value input: %s",
                    ctx->view == MASTERCF_VIEW_ENTRIES ? "service/type"
                    : ctx->view == MASTERCF_VIEW_FIELDS
                        ? "service/type/field"
                        : "service/type/parameter",
                    arg);
        return -1;
    }
    if (!wants_value && eq != NULL) {
        buf_appendf(err, "%s: no value expected", arg);
        return -1;
    }
    char *key = xstrndup(arg, eq ? (size_t)(eq - arg) : strlen(arg));
    char *trimmed = str_trim(key);
    int parts = ctx->view == MASTERCF_VIEW_ENTRIES ? 2 : 3;
    int status = pattern_parse(trimmed, parts, &spec->where, err);
    if (status == 0 && eq) {
        char *value = xstrdup(eq + 1);
        spec->value = xstrdup(str_trim(value));
        free(value);
        if (strchr(spec->value, '\n')) {
            buf_appendf(err, "%s: value contains a newline", trimmed);
            status = -1;
        }
    }
    const struct pattern *w = &spec->where;
    if (status == 0 && ctx->view == MASTERCF_VIEW_ENTRIES) {
        /* -Me names one entry exactly; -M#/-MX may name a service. */
        if (wants_value && (w->service == NULL || w->type == NULL)) {
            buf_appendf(err, "%s: expected service/type", trimmed);
            status = -1;
        } else if (wants_value) {
            struct master_entry *entries;
            size_t entry_count;
            struct buf why = BUF_INIT;
            if (mastercf_parse(spec->value, strlen(spec->value),
                               "command line", &entries, &entry_count,
                               &why) != 0) {
                buf_appendf(err, "%s: %s", trimmed, buf_cstr(&why));
                status = -1;
            } else {
                if (entry_count != 1 ||
                    !pattern_matches_entry(w, entries[0].service,
                                           entries[0].type)) {
                    buf_appendf(err, "%s: the entry must be one master.cf "
                                     "entry for the same service and type",
                                trimmed);
                    status = -1;
                } else {
                    struct buf line = BUF_INIT;
                    mastercf_format(&entries[0], &line);
                    spec->entry_line = buf_detach(&line);
                }
                mastercf_free(entries, entry_count);
            }
            buf_free(&why);
        }
    } else if (status == 0) {
        const char *what = ctx->view == MASTERCF_VIEW_FIELDS ? "field"
                                                             : "parameter";
        if (w->name == NULL || strchr(trimmed, '/') == strrchr(trimmed, '/')) {
            buf_appendf(err, "%s: expected service/type/%s", trimmed, what);
            status = -1;
        } else if (ctx->view == MASTERCF_VIEW_FIELDS) {
            spec->field = mastercf_field_index(w->name);
            if (spec->field < 0) {
                buf_appendf(err, "%s: unknown field \"%s\"", trimmed, w->name);
                status = -1;
            }
        } else if (!valid_param_name(w->name)) {
            buf_appendf(err, "%s: bad parameter name \"%s\"", trimmed,
                        w->name);
            status = -1;
        }
    }
    free(key);
    return status;
}

/* -M: the entry is matched by its first two words. */
static enum cfedit_action decide_entry(struct edit_ctx *ctx, const char *text,
                                       struct buf *replacement)
{
    struct strlist words;
    strlist_init(&words);
    str_split_chars(text, " \t", &words);
    enum cfedit_action action = CFEDIT_KEEP;
    for (int i = 0; words.count >= 2 && i < ctx->count; i++) {
        struct edit_spec *s = &ctx->specs[i];
        if (!pattern_matches_entry(&s->where, words.items[0], words.items[1]))
            continue;
        if (ctx->op == MASTERCF_EDIT_COMMENT)
            action = CFEDIT_COMMENT;
        else if (ctx->op == MASTERCF_EDIT_REMOVE || s->matched)
            action = CFEDIT_DELETE;
        else {
            buf_set_str(replacement, s->entry_line);
            action = CFEDIT_REPLACE;
        }
        s->matched = 1;
    }
    strlist_free(&words);
    return action;
}

/* -F, -P: the entry is parsed, changed, and written back when it
 * changed. */
static enum cfedit_action decide_parsed(struct edit_ctx *ctx, const char *text,
                                        struct buf *replacement)
{
    struct master_entry *entries;
    size_t count;
    struct buf ignored = BUF_INIT;
    enum cfedit_action action = CFEDIT_KEEP;
    /* The whole file parsed before, so every entry does here. */
    if (mastercf_parse(text, strlen(text), "-", &entries, &count,
                       &ignored) != 0) {
        buf_free(&ignored);
        return CFEDIT_KEEP;
    }
    struct master_entry *e = &entries[0];
    struct buf before = BUF_INIT, after = BUF_INIT;
    mastercf_format(e, &before);
    for (int i = 0; count == 1 && i < ctx->count; i++) {
        struct edit_spec *s = &ctx->specs[i];
        if (!pattern_matches_entry(&s->where, e->service, e->type))
            continue;
        s->matched = 1;
        if (ctx->view == MASTERCF_VIEW_PARAMS && ctx->op == MASTERCF_EDIT_SET)
            mastercf_set_override(e, s->where.name, s->value);
        else if (ctx->view == MASTERCF_VIEW_PARAMS)
            mastercf_remove_override(e, s->where.name);
        else {
            struct buf why = BUF_INIT;
            if (mastercf_set_field(e, s->field, s->value, &why) != 0 &&
                !ctx->failed) {
                buf_appendf(ctx->err, "%s: %s", s->arg, buf_cstr(&why));
                ctx->failed = 1;
            }
            buf_free(&why);
        }
    }
    mastercf_format(e, &after);
    if (count == 1 && strcmp(buf_cstr(&before), buf_cstr(&after)) != 0) {
        mastercf_format_folded(e, replacement);
        action = CFEDIT_REPLACE;
    }
    mastercf_free(entries, count);
    buf_free(&before);
    buf_free(&after);
    buf_free(&ignored);
    return action;
}

static enum cfedit_action decide(const char *text, struct buf *replacement,
                                 void *arg)
{
    struct edit_ctx *ctx = arg;
    if (ctx->view == MASTERCF_VIEW_ENTRIES)
        return decide_entry(ctx, text, replacement);
    return decide_parsed(ctx, text, replacement);
}

/* 0 when the file's lines parse as master.cf, else -1 with
 * "context PATH, line N: why". */
static int check_parses(const struct cfedit_file *file, const char *context,
                        struct buf *err)
{
    struct buf text = BUF_INIT, why = BUF_INIT;
    for (size_t i = 0; i < file->lines.count; i++)
        buf_appendf(&text, "%s\n", file->lines.items[i]);
    struct master_entry *entries;
    size_t count;
    int status = mastercf_parse(text.data ? text.data : "", text.len,
                                file->path, &entries, &count, &why);
    if (status == 0)
        mastercf_free(entries, count);
    else
        buf_appendf(err, "%s%s", context, buf_cstr(&why));
    buf_free(&text);
    buf_free(&why);
    return status;
}

int mastercf_edit(const char *path, enum mastercf_view view,
                  enum mastercf_edit_op op, char *const *args, int count,
                  struct buf *err)
{
    struct edit_ctx ctx = {view, op, xcalloc((size_t)count + 1,
                                             sizeof(struct edit_spec)),
                           0, err, 0};
    int status = 0;
    if ((view != MASTERCF_VIEW_ENTRIES && op == MASTERCF_EDIT_COMMENT) ||
        (view == MASTERCF_VIEW_FIELDS && op == MASTERCF_EDIT_REMOVE)) {
        buf_appendf(err, "-%c cannot be used with -%c",
                    op == MASTERCF_EDIT_COMMENT ? '#' : 'X',
                    view == MASTERCF_VIEW_FIELDS ? 'F' : 'P');
        status = -1;
    }
    for (int i = 0; i < count && status == 0; i++) {
        status = spec_parse(&ctx, args[i], &ctx.specs[i], err);
        ctx.count = i + 1;
    }
    struct cfedit_file file;
    memset(&file, 0, sizeof(file));
    if (status == 0)
        status = cfedit_read(&file, path, err);
    if (status == 0)
        status = check_parses(&file, "", err);
    if (status == 0) {
        cfedit_apply(&file, decide, &ctx);
        status = ctx.failed ? -1 : 0;
    }
    for (int i = 0; status == 0 && i < ctx.count; i++) {
        struct edit_spec *s = &ctx.specs[i];
        if (view == MASTERCF_VIEW_ENTRIES) {
            /* -Me appends what it did not find; the last argument for
             * the same service/type wins. */
            int later = 0;
            for (int j = i + 1; op == MASTERCF_EDIT_SET && j < ctx.count; j++)
                later |= strcmp(ctx.specs[j].where.service,
                                s->where.service) == 0 &&
                         strcmp(ctx.specs[j].where.type, s->where.type) == 0;
            if (op == MASTERCF_EDIT_SET && !s->matched && !later)
                cfedit_append(&file, s->entry_line);
        } else if (!s->matched) {
            buf_appendf(err, "%s: no master.cf entry matches", s->arg);
            status = -1;
        }
    }
    if (status == 0)
        status = check_parses(&file, "edit result does not parse: ", err);
    if (status == 0)
        status = cfedit_write(&file, err);
    if (file.path)
        cfedit_free(&file);
    for (int i = 0; i < ctx.count; i++)
        spec_free(&ctx.specs[i]);
    free(ctx.specs);
    return status;
}
