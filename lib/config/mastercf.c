/* mastercf.c: master.cf reader and printer (see mastercf.h). */
#include "config/mastercf.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/mem.h"
#include "base/file_read.h"

/* A master.cf is written by people; anything past this is a mistake. */
#define MASTER_CF_MAX_SIZE (4 * 1024 * 1024)
/* Column names for messages, in order. */
static const char *const column_names[] = {
    "service", "type", "private", "unpriv", "chroot", "wakeup", "maxproc",
    "command"};

static const char *const known_types[] = {"inet", "unix", "unix-dgram",
                                          "fifo", "pass"};

struct parser {
    const char *filename;
    int line;
    struct buf *err;
    struct master_entry *entries;
    size_t count, cap;
};

static int fail(struct parser *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int fail(struct parser *p, const char *fmt, ...)
{
    buf_appendf(p->err, "%s, line %d: ", p->filename, p->line);
    va_list ap;
    va_start(ap, fmt);
    buf_vappendf(p->err, fmt, ap);
    va_end(ap);
    return -1;
}

static void entry_free(struct master_entry *e)
{
    free(e->service);
    free(e->type);
    free(e->command);
    free(e->file);
    for (int i = 0; i < 5; i++)
        free(e->column[i]);
    strlist_free(&e->args);
}

void mastercf_free(struct master_entry *entries, size_t count)
{
    for (size_t i = 0; entries && i < count; i++)
        entry_free(&entries[i]);
    free(entries);
}

/* Splits a logical line into fields. A field that starts with '{' runs
 * to the matching '}' and loses the braces and the spaces inside them. */
static int split_fields(struct parser *p, const char *text,
                        struct strlist *fields)
{
    const char *s = text;
    for (;;) {
        while (isspace((unsigned char)*s))
            s++;
        if (*s == 0)
            return 0;
        if (*s == '{') {
            int depth = 0;
            const char *start = s;
            for (; *s; s++) {
                if (*s == '{')
                    depth++;
                else if (*s == '}' && --depth == 0)
                    break;
            }
            if (*s != '}')
                return fail(p, "missing '}' after \"%.40s\"", start);
            if (s[1] && !isspace((unsigned char)s[1]))
                return fail(p, "text after '}': \"%.40s\"", s + 1);
            char *inner = xstrndup(start + 1, (size_t)(s - start - 1));
            strlist_add(fields, str_trim(inner));
            free(inner);
            s++;
            continue;
        }
        const char *start = s;
        while (*s && !isspace((unsigned char)*s))
            s++;
        char *field = xstrndup(start, (size_t)(s - start));
        strlist_add(fields, field);
        free(field);
    }
}

static int parse_flag(struct parser *p, const char *text, int column,
                      int default_value, int *out)
{
    if (strcmp(text, "-") == 0)
        *out = default_value;
    else if (strcmp(text, "y") == 0)
        *out = 1;
    else if (strcmp(text, "n") == 0)
        *out = 0;
    else
        return fail(p, "field \"%s\": bad value \"%s\" (use y, n or -)",
                    column_names[column], text);
    return 0;
}

static int parse_number(const char *text, size_t len, int *out)
{
    if (len == 0 || len > 9)
        return -1;
    int value = 0;
    for (size_t i = 0; i < len; i++) {
        if (!isdigit((unsigned char)text[i]))
            return -1;
        value = value * 10 + (text[i] - '0');
    }
    *out = value;
    return 0;
}

static int check_service_name(struct parser *p, const char *name,
                              const char *type)
{
    if (strcmp(type, "inet") == 0) {
        /* [host]:port, host:port or port; the port may be a name. */
        const char *colon = strrchr(name, ':');
        const char *port = colon ? colon + 1 : name;
        if (*port == 0 || (colon && colon == name))
            return fail(p, "bad inet service \"%s\": expected "
                           "[host:]port", name);
        return 0;
    }
    if (strchr(name, '/') || strcmp(name, ".") == 0 ||
        strcmp(name, "..") == 0)
        return fail(p, "bad %s service name \"%s\": no '/' allowed", type,
                    name);
    return 0;
}

/* Checks `-o name=value` arguments and rewrites `name = value` (from
 * the braced form) to `name=value`. */
static int check_args(struct parser *p, struct strlist *args)
{
    for (size_t i = 0; i < args->count; i++) {
        if (strcmp(args->items[i], "-o") != 0)
            continue;
        if (i + 1 >= args->count)
            return fail(p, "-o without name=value");
        char *arg = args->items[++i];
        char *eq = strchr(arg, '=');
        if (eq == NULL)
            return fail(p, "-o %.60s: missing '='", arg);
        char *name = xstrndup(arg, (size_t)(eq - arg));
        char *value = xstrdup(eq + 1);
        char *trimmed_name = str_trim(name);
        int bad = *trimmed_name == 0;
        for (const char *c = trimmed_name; *c; c++)
            if (!isalnum((unsigned char)*c) && *c != '_' && *c != '-' &&
                *c != '.' && *c != '/')
                bad = 1;
        if (!bad) {
            char *normal = xasprintf("%s=%s", trimmed_name, str_trim(value));
            free(args->items[i]);
            args->items[i] = normal;
        }
        free(name);
        free(value);
        if (bad)
            return fail(p, "-o %.60s: bad parameter name", arg);
    }
    return 0;
}

static int parse_entry(struct parser *p, const char *text)
{
    struct strlist fields;
    strlist_init(&fields);
    int status = split_fields(p, text, &fields);
    if (status == 0 && fields.count < 8)
        status = fail(p, "expected at least 8 fields (service type private "
                         "unpriv chroot wakeup maxproc command), found %zu",
                      fields.count);
    /* Braces group arguments; the eight columns are single words, or
     * postconf -M would print a line that reads back differently. */
    static const char *const field_names[8] = {
        "service", "type", "private", "unpriv",
        "chroot", "wakeup", "maxproc", "command"};
    for (size_t i = 0; status == 0 && i < 8; i++) {
        const char *value = fields.items[i];
        if (*value == 0 || *value == '{' || strpbrk(value, " \t\n\r\f\v"))
            status = fail(p, "field \"%s\": bad value \"%.60s\" (empty, "
                             "with spaces or braces; braces are for "
                             "arguments)",
                          field_names[i], value);
    }
    struct master_entry e;
    memset(&e, 0, sizeof(e));
    strlist_init(&e.args);
    if (status == 0) {
        char **f = fields.items;
        e.service = xstrdup(f[0]);
        e.type = xstrdup(f[1]);
        for (int i = 0; i < 5; i++)
            e.column[i] = xstrdup(f[2 + i]);
        e.command = xstrdup(f[7]);
        e.file = xstrdup(p->filename);
        e.line = p->line;
        for (size_t i = 8; i < fields.count; i++)
            strlist_add(&e.args, f[i]);
        int type_ok = 0;
        for (size_t i = 0; i < sizeof(known_types) / sizeof(*known_types); i++)
            if (strcmp(e.type, known_types[i]) == 0)
                type_ok = 1;
        if (!type_ok)
            status = fail(p, "field \"type\": bad value \"%s\" (use inet, "
                             "unix, unix-dgram, fifo or pass)", e.type);
        if (status == 0)
            status = check_service_name(p, e.service, e.type);
        if (status == 0)
            status = parse_flag(p, f[2], 2, 1, &e.private_);
        if (status == 0)
            status = parse_flag(p, f[3], 3, 1, &e.unpriv);
        if (status == 0)
            status = parse_flag(p, f[4], 4, 0, &e.chroot);
        if (status == 0 && strcmp(f[5], "-") != 0) {
            size_t len = strlen(f[5]);
            if (len > 0 && f[5][len - 1] == '?') {
                e.wakeup_if_used = 1;
                len--;
            }
            if (parse_number(f[5], len, &e.wakeup) != 0)
                status = fail(p, "field \"wakeup\": bad value \"%s\" "
                                 "(seconds, optionally ending in ?, or -)",
                              f[5]);
        }
        e.maxproc = -1;
        if (status == 0 && strcmp(f[6], "-") != 0 &&
            parse_number(f[6], strlen(f[6]), &e.maxproc) != 0)
            status = fail(p, "field \"maxproc\": bad value \"%s\" (a "
                             "number or -)", f[6]);
        if (status == 0)
            status = check_args(p, &e.args);
    }
    for (size_t i = 0; status == 0 && i < p->count; i++) {
        if (strcmp(p->entries[i].service, e.service) == 0 &&
            strcmp(p->entries[i].type, e.type) == 0)
            status = fail(p, "duplicate service %s/%s (first at line %d)",
                          e.service, e.type, p->entries[i].line);
    }
    if (status == 0) {
        if (p->count == p->cap) {
            p->cap = p->cap ? p->cap * 2 : 16;
            p->entries =
                xreallocarray(p->entries, p->cap, sizeof(*p->entries));
        }
        p->entries[p->count++] = e;
    } else {
        entry_free(&e);
    }
    strlist_free(&fields);
    return status;
}

int mastercf_parse(const char *text, size_t len, const char *filename,
                   struct master_entry **entries, size_t *count,
                   struct buf *err)
{
    struct parser p = {filename, 0, err, NULL, 0, 0};
    struct buf logical = BUF_INIT;
    int logical_line = 0, status = 0;
    size_t pos = 0;
    *entries = NULL;
    *count = 0;
    while (pos < len && status == 0) {
        const char *start = text + pos;
        const char *nl = memchr(start, '\n', len - pos);
        size_t line_len = nl ? (size_t)(nl - start) : len - pos;
        pos += line_len + (nl ? 1 : 0);
        p.line++;
        if (memchr(start, 0, line_len)) {
            status = fail(&p, "NUL character in text");
            break;
        }
        size_t skip = 0;
        while (skip < line_len && isspace((unsigned char)start[skip]))
            skip++;
        if (skip == line_len || start[skip] == '#')
            continue;
        if (skip > 0) {
            if (logical_line == 0) {
                status = fail(&p, "text starts with whitespace but "
                                  "continues no service");
                break;
            }
            buf_append_char(&logical, ' ');
            buf_append(&logical, start + skip, line_len - skip);
            continue;
        }
        if (logical_line) {
            int here = p.line;
            p.line = logical_line;
            status = parse_entry(&p, buf_cstr(&logical));
            p.line = here;
        }
        buf_set(&logical, start, line_len);
        logical_line = p.line;
    }
    if (status == 0 && logical_line) {
        p.line = logical_line;
        status = parse_entry(&p, buf_cstr(&logical));
    }
    buf_free(&logical);
    if (status != 0) {
        mastercf_free(p.entries, p.count);
        return -1;
    }
    *entries = p.entries;
    *count = p.count;
    return 0;
}

int mastercf_load(const char *path, struct master_entry **entries,
                  size_t *count, struct buf *err)
{
    *entries = NULL;
    *count = 0;
    struct buf data = BUF_INIT;
    int status = file_read(path, MASTER_CF_MAX_SIZE, &data, err);
    if (status == 0)
        status = mastercf_parse(data.data ? data.data : "", data.len, path,
                                entries, count, err);
    buf_free(&data);
    return status;
}

static void append_padded(struct buf *out, const char *text, int width)
{
    buf_append_str(out, text);
    for (int pad = width - (int)strlen(text); pad > 0; pad--)
        buf_append_char(out, ' ');
    buf_append_char(out, ' ');
}

/* One argument as master.cf text; whitespace needs the braced form to
 * survive a re-read (`-o { name = value }` after -o). */
static int has_space(const char *text)
{
    for (; *text; text++)
        if (isspace((unsigned char)*text))
            return 1;
    return 0;
}

static void append_arg(struct buf *out, const char *arg, int after_o)
{
    /* Any byte the reader splits fields at (isspace: also \f, \v, \r)
     * needs braces, not only a space or tab. */
    if (*arg == 0 || has_space(arg) || *arg == '{') {
        const char *eq = after_o ? strchr(arg, '=') : NULL;
        if (eq)
            buf_appendf(out, "{ %.*s = %s }", (int)(eq - arg), arg, eq + 1);
        else
            buf_appendf(out, "{ %s }", arg);
    } else {
        buf_append_str(out, arg);
    }
}

static int is_o_value(const struct strlist *args, size_t i)
{
    return i > 0 && strcmp(args->items[i - 1], "-o") == 0;
}

/* The command and its arguments on one line. */
static void append_command(const struct master_entry *e, struct buf *out)
{
    buf_append_str(out, e->command);
    for (size_t i = 0; i < e->args.count; i++) {
        buf_append_char(out, ' ');
        append_arg(out, e->args.items[i], is_o_value(&e->args, i));
    }
}

static void append_columns(const struct master_entry *e, struct buf *out)
{
    append_padded(out, e->service, 10);
    append_padded(out, e->type, 5);
    for (int i = 0; i < 5; i++)
        append_padded(out, e->column[i] ? e->column[i] : "-", 7);
}

void mastercf_format(const struct master_entry *e, struct buf *out)
{
    append_columns(e, out);
    append_command(e, out);
}

void mastercf_format_folded(const struct master_entry *e, struct buf *out)
{
    append_columns(e, out);
    buf_append_str(out, e->command);
    /* Arguments stay in order: those before the first -o on the first
     * line, each -o pair on a line of its own, other arguments after
     * an -o together on one continuation line. */
    size_t i = 0;
    while (i < e->args.count && strcmp(e->args.items[i], "-o") != 0) {
        buf_append_char(out, ' ');
        append_arg(out, e->args.items[i++], 0);
    }
    int plain_line = 0;
    for (; i < e->args.count; i++) {
        const char *arg = e->args.items[i];
        if (strcmp(arg, "-o") == 0 && i + 1 < e->args.count) {
            buf_append_str(out, "\n  -o ");
            append_arg(out, e->args.items[++i], 1);
            plain_line = 0;
            continue;
        }
        /* master.cf reads a line whose first text is '#' as a comment,
         * continuation lines too, so such an argument stays on the -o
         * line before it instead of starting one (Postfix 3.7's postconf
         * -Pe starts one, and the argument is lost). Bracing it would
         * not do: "#}" cannot be braced. */
        int stay = plain_line || *arg == '#';
        buf_append_str(out, stay ? " " : "\n  ");
        append_arg(out, arg, 0);
        plain_line = 1;
    }
}

/* ---- fields and -o parameters (postconf -F, -P) ---- */

static const char *const field_names[MASTERCF_FIELD_COUNT] = {
    "service", "type",          "private", "unprivileged",
    "chroot",  "wakeup", "process_limit", "command"};

const char *mastercf_field_name(int field)
{
    return field >= 0 && field < MASTERCF_FIELD_COUNT ? field_names[field]
                                                      : NULL;
}

int mastercf_field_index(const char *name)
{
    for (int i = 0; i < MASTERCF_FIELD_COUNT; i++)
        if (strcmp(field_names[i], name) == 0)
            return i;
    return -1;
}

void mastercf_field_value(const struct master_entry *e, int field,
                          struct buf *out)
{
    if (field == 0)
        buf_append_str(out, e->service);
    else if (field == 1)
        buf_append_str(out, e->type);
    else if (field < MASTERCF_FIELD_COUNT - 1)
        buf_append_str(out, e->column[field - 2] ? e->column[field - 2] : "-");
    else if (field == MASTERCF_FIELD_COUNT - 1)
        append_command(e, out);
}

int mastercf_set_field(struct master_entry *e, int field, const char *value,
                       struct buf *err)
{
    if (field < 0 || field >= MASTERCF_FIELD_COUNT) {
        buf_appendf(err, "unknown master.cf field");
        return -1;
    }
    /* Rebuild the entry's text with the new field and parse it, so
     * the value is checked exactly as master.cf is. */
    struct buf text = BUF_INIT;
    for (int i = 0; i < MASTERCF_FIELD_COUNT; i++) {
        if (i > 0)
            buf_append_char(&text, ' ');
        if (i == field)
            buf_append_str(&text, value);
        else
            mastercf_field_value(e, i, &text);
    }
    const char *bad = NULL;
    if (field != MASTERCF_FIELD_COUNT - 1 &&
        (*value == 0 || strpbrk(value, " \t\r\n{}")))
        bad = "one word expected";
    else if (strchr(value, '\n') || *value == 0)
        bad = "empty or with a newline";
    struct master_entry *parsed = NULL;
    size_t count = 0;
    struct buf why = BUF_INIT;
    int status = -1;
    if (bad) {
        buf_appendf(err, "field \"%s\": bad value \"%.60s\" (%s)",
                    field_names[field], value, bad);
    } else if (mastercf_parse(text.data, text.len, "-", &parsed, &count,
                              &why) != 0) {
        /* Drop the "-, line 1: " that names the scratch text. */
        const char *reason = strstr(buf_cstr(&why), ": ");
        buf_append_str(err, reason ? reason + 2 : buf_cstr(&why));
    } else if (count == 1) {
        struct master_entry fresh = parsed[0];
        free(fresh.file);
        fresh.file = e->file;
        fresh.line = e->line;
        e->file = NULL;
        entry_free(e);
        *e = fresh;
        free(parsed);
        parsed = NULL;
        count = 0;
        status = 0;
    } else {
        buf_appendf(err, "field \"%s\": bad value", field_names[field]);
    }
    mastercf_free(parsed, count);
    buf_free(&why);
    buf_free(&text);
    return status;
}

/* Index in args of the value of each `-o name=...` (not of the -o). */
static int override_matches(const struct master_entry *e, size_t i,
                            const char *name)
{
    size_t name_len = strlen(name);
    const char *item = e->args.items[i];
    return is_o_value(&e->args, i) &&
           strncmp(item, name, name_len) == 0 && item[name_len] == '=';
}

static void remove_args(struct master_entry *e, size_t at, size_t n)
{
    for (size_t k = 0; k < n; k++)
        free(e->args.items[at + k]);
    memmove(&e->args.items[at], &e->args.items[at + n],
            (e->args.count - at - n + 1) * sizeof(char *));
    e->args.count -= n;
}

int mastercf_remove_override(struct master_entry *e, const char *name)
{
    int removed = 0;
    for (size_t i = 1; i < e->args.count;) {
        if (override_matches(e, i, name)) {
            /* The next candidate has moved to index i. */
            remove_args(e, i - 1, 2);
            removed++;
        } else {
            i++;
        }
    }
    return removed;
}

void mastercf_set_override(struct master_entry *e, const char *name,
                           const char *value)
{
    char *item = xasprintf("%s=%s", name, value);
    /* The last -o for a name is the one that counts: change it in
     * place and drop the earlier ones. */
    size_t last = 0;
    for (size_t i = 1; i < e->args.count; i++)
        if (override_matches(e, i, name))
            last = i;
    if (last) {
        free(e->args.items[last]);
        e->args.items[last] = item;
        for (size_t i = 1; i < last;) {
            if (override_matches(e, i, name)) {
                remove_args(e, i - 1, 2);
                last -= 2;
            } else {
                i++;
            }
        }
        return;
    }
    /* A new one goes after the last -o, or first: other arguments may
     * be the command's own and must stay last (pipe's argv=...). */
    size_t at = 0;
    for (size_t i = 1; i < e->args.count; i++)
        if (is_o_value(&e->args, i))
            at = i + 1;
    strlist_add(&e->args, "-o");
    strlist_add(&e->args, item);
    free(item);
    char *o = e->args.items[e->args.count - 2];
    char *v = e->args.items[e->args.count - 1];
    memmove(&e->args.items[at + 2], &e->args.items[at],
            (e->args.count - 2 - at) * sizeof(char *));
    e->args.items[at] = o;
    e->args.items[at + 1] = v;
}

void mastercf_foreach_override(const struct master_entry *e,
                               void (*fn)(const char *name, const char *value,
                                          void *arg),
                               void *arg)
{
    for (size_t i = 0; i + 1 < e->args.count; i++) {
        if (strcmp(e->args.items[i], "-o") != 0)
            continue;
        const char *item = e->args.items[++i];
        const char *eq = strchr(item, '=');
        if (eq == NULL)
            continue;
        char *name = xstrndup(item, (size_t)(eq - item));
        fn(name, eq + 1, arg);
        free(name);
    }
}

const char *mastercf_override(const struct master_entry *e, const char *name)
{
    const char *found = NULL;
    size_t name_len = strlen(name);
    for (size_t i = 0; i + 1 < e->args.count; i++) {
        if (strcmp(e->args.items[i], "-o") != 0)
            continue;
        const char *item = e->args.items[++i];
        if (strncmp(item, name, name_len) == 0 && item[name_len] == '=')
            found = item + name_len + 1;
    }
    return found;
}

char *mastercf_key(const struct master_entry *e)
{
    return xasprintf("%s/%s", e->service, e->type);
}
