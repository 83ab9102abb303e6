/* config.c: main.cf reader, lazy $name expansion and typed getters (see
 * config.h). The state is one sorted array of variables: every name that
 * main.cf or an override sets; table defaults are consulted on demand. */
#include "config/config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config_internal.h"
#include "base/expand.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/file_read.h"

#ifndef POSTERN_CONFIG_DIR
#define POSTERN_CONFIG_DIR "/etc/postern"
#endif

/* main.cf is written by people; a file past this size is a mistake. */
#define MAIN_CF_MAX_SIZE (16 * 1024 * 1024)

struct config_state cfg_state;

static void default_warning(const char *message)
{
    log_warn("%s", message);
}

void config_warn(const char *fmt, ...)
{
    struct buf msg = BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    buf_vappendf(&msg, fmt, ap);
    va_end(ap);
    (cfg_state.warn ? cfg_state.warn : default_warning)(buf_cstr(&msg));
    buf_free(&msg);
}

void config_set_warning_handler(void (*handler)(const char *message))
{
    cfg_state.warn = handler;
}

void config_set_unused_warnings(int enabled)
{
    cfg_state.unused_warnings = enabled;
}

/* ---- the variable array ---- */

struct cfg_var *config_find_var(const char *name, size_t *insert_at)
{
    size_t low = 0, high = cfg_state.count;
    while (low < high) {
        size_t mid = low + (high - low) / 2;
        int cmp = strcmp(name, cfg_state.vars[mid].name);
        if (cmp == 0)
            return &cfg_state.vars[mid];
        if (cmp < 0)
            high = mid;
        else
            low = mid + 1;
    }
    if (insert_at)
        *insert_at = low;
    return NULL;
}

struct cfg_var *config_get_var(const char *name)
{
    size_t at = 0;
    struct cfg_var *var = config_find_var(name, &at);
    if (var)
        return var;
    if (cfg_state.count == cfg_state.cap) {
        cfg_state.cap = cfg_state.cap ? cfg_state.cap * 2 : 64;
        cfg_state.vars = xreallocarray(cfg_state.vars, cfg_state.cap, sizeof(*cfg_state.vars));
    }
    memmove(&cfg_state.vars[at + 1], &cfg_state.vars[at],
            (cfg_state.count - at) * sizeof(*cfg_state.vars));
    cfg_state.count++;
    var = &cfg_state.vars[at];
    memset(var, 0, sizeof(*var));
    var->name = xstrdup(name);
    return var;
}

/* Cached expansions may be held by callers; keep them until the next
 * load instead of freeing them when an override changes the picture. */
void config_retire(char **str)
{
    if (*str) {
        if (cfg_state.graveyard.count + 1 >= cfg_state.graveyard.cap) {
            cfg_state.graveyard.cap =
                cfg_state.graveyard.cap ? cfg_state.graveyard.cap * 2 : 16;
            cfg_state.graveyard.items = xreallocarray(
                cfg_state.graveyard.items, cfg_state.graveyard.cap, sizeof(char *));
        }
        cfg_state.graveyard.items[cfg_state.graveyard.count++] = *str;
        cfg_state.graveyard.items[cfg_state.graveyard.count] = NULL;
        *str = NULL;
    }
}

static void invalidate_cache(void)
{
    for (size_t i = 0; i < cfg_state.count; i++) {
        config_retire(&cfg_state.vars[i].expanded);
        cfg_state.vars[i].warned = 0;
        cfg_state.vars[i].failed = 0;
    }
    config_retire(&cfg_state.computed_mydomain);
    config_retire(&cfg_state.computed_mynetworks);
}

static void drop_unused_vars(void)
{
    size_t kept = 0;
    for (size_t i = 0; i < cfg_state.count; i++) {
        struct cfg_var *var = &cfg_state.vars[i];
        if (var->file_value == NULL && var->override == NULL) {
            free(var->name);
            free(var->expanded);
            continue;
        }
        cfg_state.vars[kept++] = *var;
    }
    cfg_state.count = kept;
}

void config_reset(void)
{
    for (size_t i = 0; i < cfg_state.count; i++) {
        free(cfg_state.vars[i].name);
        free(cfg_state.vars[i].file_value);
        free(cfg_state.vars[i].override);
        free(cfg_state.vars[i].expanded);
    }
    free(cfg_state.vars);
    free(cfg_state.dir);
    free(cfg_state.path);
    free(cfg_state.computed_mydomain);
    free(cfg_state.computed_mynetworks);
    strlist_free(&cfg_state.graveyard);
    void (*warn)(const char *) = cfg_state.warn;
    int unused_warnings = cfg_state.unused_warnings;
    memset(&cfg_state, 0, sizeof(cfg_state));
    cfg_state.warn = warn;
    cfg_state.unused_warnings = unused_warnings;
}

/* ---- directories ---- */

const char *config_resolve_dir(const char *cli_dir)
{
    if (cli_dir && *cli_dir)
        return cli_dir;
    const char *env = getenv("MAIL_CONFIG");
    if (env && *env)
        return env;
    return POSTERN_CONFIG_DIR;
}

const char *config_directory(void)
{
    return cfg_state.dir ? cfg_state.dir : config_resolve_dir(NULL);
}

/* ---- parsing main.cf ---- */

static int is_name_char(int c)
{
    return isalnum(c) || c == '_';
}

/* A parameter name: letters, digits, '_' and, for Postfix's
 * per-service names and service/name forms, '-', '.' and '/'. */
static int valid_param_name(const char *name, size_t len)
{
    if (len == 0)
        return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        if (!is_name_char(c) && c != '-' && c != '.' && c != '/')
            return 0;
    }
    return 1;
}

struct parsed_line {
    char *name, *value;
    int line;
};

struct parsed_file {
    struct parsed_line *lines;
    size_t count, cap;
};

static void parsed_free(struct parsed_file *pf)
{
    for (size_t i = 0; i < pf->count; i++) {
        free(pf->lines[i].name);
        free(pf->lines[i].value);
    }
    free(pf->lines);
}

/* Splits one logical line "name = value" and records it. */
static int parse_definition(struct parsed_file *pf, const char *text,
                            int line, const char *filename, struct buf *err)
{
    const char *eq = strchr(text, '=');
    const char *name_end = text;
    while (*name_end && *name_end != '=' && !isspace((unsigned char)*name_end))
        name_end++;
    size_t name_len = (size_t)(name_end - text);
    if (eq == NULL) {
        buf_appendf(err, "%s, line %d: missing '=' after parameter name: "
                         "\"%.*s\"", filename, line, (int)(name_len > 100 ? 100 : name_len), text);
        return -1;
    }
    const char *after_name = name_end;
    while (isspace((unsigned char)*after_name))
        after_name++;
    if (after_name != eq) {
        buf_appendf(err, "%s, line %d: parameter name contains whitespace: "
                         "\"%.*s\"", filename, line,
                    (int)((size_t)(eq - text) > 100 ? 100 : (size_t)(eq - text)), text);
        return -1;
    }
    if (name_len == 0) {
        buf_appendf(err, "%s, line %d: missing parameter name before '='",
                    filename, line);
        return -1;
    }
    if (!valid_param_name(text, name_len)) {
        buf_appendf(err, "%s, line %d: bad parameter name: \"%.*s\"",
                    filename, line, (int)(name_len > 100 ? 100 : name_len), text);
        return -1;
    }
    if (pf->count == pf->cap) {
        pf->cap = pf->cap ? pf->cap * 2 : 64;
        pf->lines = xreallocarray(pf->lines, pf->cap, sizeof(*pf->lines));
    }
    char *value = xstrdup(eq + 1);
    struct parsed_line *pl = &pf->lines[pf->count++];
    pl->name = xstrndup(text, name_len);
    pl->value = xstrdup(str_trim(value));
    pl->line = line;
    free(value);
    return 0;
}

/* Reads the text into logical lines: comment and blank lines are skipped
 * (and do not end a logical line), a line starting with whitespace is
 * joined to the previous one with a single space. */
static int parse_main_cf(const char *text, size_t len, const char *filename,
                         struct parsed_file *pf, struct buf *err)
{
    struct buf logical = BUF_INIT;
    int logical_line = 0, line = 0, status = 0;
    size_t pos = 0;
    while (pos < len && status == 0) {
        const char *start = text + pos;
        const char *nl = memchr(start, '\n', len - pos);
        size_t line_len = nl ? (size_t)(nl - start) : len - pos;
        pos += line_len + (nl ? 1 : 0);
        line++;
        if (memchr(start, 0, line_len)) {
            buf_appendf(err, "%s, line %d: NUL character in text", filename,
                        line);
            status = -1;
            break;
        }
        size_t skip = 0;
        while (skip < line_len && isspace((unsigned char)start[skip]))
            skip++;
        if (skip == line_len || start[skip] == '#')
            continue;
        if (skip > 0) {
            if (logical_line == 0) {
                buf_appendf(err, "%s, line %d: text starts with whitespace "
                                 "but continues no parameter", filename, line);
                status = -1;
                break;
            }
            buf_append_char(&logical, ' ');
            buf_append(&logical, start + skip, line_len - skip);
            continue;
        }
        if (logical_line)
            status = parse_definition(pf, buf_cstr(&logical), logical_line,
                                      filename, err);
        buf_set(&logical, start, line_len);
        logical_line = line;
    }
    if (status == 0 && logical_line)
        status = parse_definition(pf, buf_cstr(&logical), logical_line,
                                  filename, err);
    buf_free(&logical);
    return status;
}

static void add_reference(void *ctx, const char *name, size_t len)
{
    char *copy = xstrndup(name, len);
    strlist_add(ctx, copy);
    free(copy);
}

/* Collects the names that values refer to with $name, ${name...} or
 * $(name...), so user-defined helper parameters are not "unused". */
static void collect_references(const char *text, struct strlist *names)
{
    if (text)
        expand_list_names(text, strlen(text), &expand_syntax_names,
                          add_reference, names);
}

static int list_contains(const struct strlist *list, const char *item)
{
    for (size_t i = 0; i < list->count; i++)
        if (strcmp(list->items[i], item) == 0)
            return 1;
    return 0;
}

/* main.cf (or master.cf) as a NUL-terminated string; NULL with err
 * (which may be NULL). */
static char *read_small_file(const char *path, size_t *len, struct buf *err)
{
    struct buf data = BUF_INIT;
    if (file_read(path, MAIN_CF_MAX_SIZE, &data, err) < 0) {
        buf_free(&data);
        return NULL;
    }
    *len = data.len;
    return buf_detach(&data);
}

static void warn_unused(const char *filename, const char *extra_text)
{
    if (!cfg_state.unused_warnings)
        return;
    struct strlist refs;
    strlist_init(&refs);
    for (size_t i = 0; i < cfg_state.count; i++) {
        collect_references(cfg_state.vars[i].file_value, &refs);
        collect_references(cfg_state.vars[i].override, &refs);
    }
    for (size_t i = 0; i < param_table_count; i++)
        collect_references(param_table[i].def, &refs);
    collect_references(extra_text, &refs);
    for (size_t i = 0; i < cfg_state.count; i++) {
        const struct cfg_var *var = &cfg_state.vars[i];
        if (var->file_value == NULL || param_find(var->name) ||
            param_is_per_transport(var->name) ||
            list_contains(&refs, var->name))
            continue;
        config_warn("%s: unused parameter: %s=%s", filename, var->name,
                     var->file_value);
    }
    strlist_free(&refs);
}

static int load_text(const char *text, size_t len, const char *config_dir,
                     const char *filename, struct buf *err)
{
    struct parsed_file pf = {NULL, 0, 0};
    if (parse_main_cf(text, len, filename, &pf, err) != 0) {
        parsed_free(&pf);
        return -1;
    }
    /* Success: replace what the previous load read; overrides stay. */
    invalidate_cache();
    strlist_free(&cfg_state.graveyard);
    for (size_t i = 0; i < cfg_state.count; i++) {
        free(cfg_state.vars[i].file_value);
        cfg_state.vars[i].file_value = NULL;
        cfg_state.vars[i].file_line = 0;
    }
    for (size_t i = 0; i < pf.count; i++) {
        struct cfg_var *var = config_get_var(pf.lines[i].name);
        free(var->file_value);
        var->file_value = pf.lines[i].value; /* last definition wins */
        var->file_line = pf.lines[i].line;
        pf.lines[i].value = NULL;
    }
    parsed_free(&pf);
    drop_unused_vars();
    char *dir = xstrdup(config_dir);
    free(cfg_state.dir);
    cfg_state.dir = dir;
    free(cfg_state.path);
    cfg_state.path = xstrdup(filename);
    return 0;
}

int config_load_string(const char *text, size_t len, const char *config_dir,
                       const char *filename, struct buf *err)
{
    if (load_text(text, len, config_dir ? config_dir : config_directory(),
                  filename ? filename : "main.cf", err) != 0)
        return -1;
    warn_unused(cfg_state.path, NULL);
    return 0;
}

int config_load(const char *config_dir, struct buf *err)
{
    config_dir = config_resolve_dir(config_dir);
    char *path = xasprintf("%s/main.cf", config_dir);
    size_t len = 0;
    char *text = read_small_file(path, &len, err);
    int status = -1;
    if (text && load_text(text, len, config_dir, path, err) == 0) {
        /* master.cf -o values may refer to helper parameters too. */
        char *master_path = xasprintf("%s/master.cf", config_dir);
        size_t master_len = 0;
        char *master_text = cfg_state.unused_warnings
                                ? read_small_file(master_path, &master_len, NULL)
                                : NULL;
        warn_unused(path, master_text);
        free(master_text);
        free(master_path);
        status = 0;
    }
    free(text);
    free(path);
    return status;
}

/* ---- overrides ---- */

void config_override(const char *name, const char *value)
{
    struct cfg_var *var = config_get_var(name);
    free(var->override);
    var->override = xstrdup(value ? value : "");
    invalidate_cache();
}

int config_override_arg(const char *arg)
{
    const char *eq = strchr(arg, '=');
    if (eq == NULL)
        return -1;
    char *name = xstrndup(arg, (size_t)(eq - arg));
    char *trimmed = str_trim(name);
    int status = -1;
    if (valid_param_name(trimmed, strlen(trimmed))) {
        char *value = xstrdup(eq + 1);
        config_override(trimmed, str_trim(value));
        free(value);
        status = 0;
    }
    free(name);
    return status;
}

/* ---- raw values ---- */

const char *config_raw(const char *name, enum config_source *source)
{
    const struct cfg_var *var = config_find_var(name, NULL);
    enum config_source dummy;
    if (source == NULL)
        source = &dummy;
    if (var && var->override) {
        *source = CONFIG_OVERRIDE;
        return var->override;
    }
    if (var && var->file_value) {
        *source = CONFIG_MAIN_CF;
        return var->file_value;
    }
    *source = CONFIG_DEFAULT;
    if (strcmp(name, "config_directory") == 0 && cfg_state.dir)
        return cfg_state.dir;
    /* A computed default follows the settings it is computed from
     * (mydomain from myhostname): show the value in effect. */
    const struct param_def *def = param_find(name);
    if (def && (def->flags & PARAM_F_COMPUTED))
        return cfg_str(name);
    return config_default(name);
}

enum config_source config_source_of(const char *name)
{
    const struct cfg_var *var = config_find_var(name, NULL);
    if (var && var->override)
        return CONFIG_OVERRIDE;
    if (var && var->file_value)
        return CONFIG_MAIN_CF;
    return CONFIG_DEFAULT;
}

int config_is_set(const char *name)
{
    const struct cfg_var *var = config_find_var(name, NULL);
    return var && (var->override || var->file_value);
}

int config_line(const char *name)
{
    const struct cfg_var *var = config_find_var(name, NULL);
    return var && var->file_value ? var->file_line : 0;
}

void config_foreach_set(void (*fn)(const char *name, const char *raw,
                                   void *arg),
                        void *arg)
{
    for (size_t i = 0; i < cfg_state.count; i++) {
        const struct cfg_var *var = &cfg_state.vars[i];
        const char *raw = var->override ? var->override : var->file_value;
        if (raw)
            fn(var->name, raw, arg);
    }
}
