/* postconf.c: show and edit main.cf and master.cf, as Postfix's postconf.
 *
 *   postconf [-dfhnx] [-c DIR] [name ...]      show parameters
 *   postconf -e [-c DIR] name=value ...         set parameters in main.cf
 *   postconf -# | -X [-c DIR] name ...          comment out / remove
 *   postconf -M[fx] [-c DIR] [service[/type] ...]   show master.cf entries
 *   postconf -Me [-c DIR] service/type='entry' ...  add or replace entries
 *   postconf -M# | -MX [-c DIR] service/type ...    comment out / remove
 *   postconf --doc-markdown                     docs/parameters.md text
 *
 * Output has Postfix's shape (`name = value`, whitespace normalised) so
 * scripts written for Postfix keep working. Edits are atomic (see
 * lib/cfedit.h) and a result that would not parse is never written. */
#include <ctype.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cfedit.h"
#include "config.h"
#include "log.h"
#include "mastercf.h"
#include "mem.h"
#include "params.h"
#include "str.h"

#define LINE_LIMIT 80 /* -f folds lines longer than this */
#define INDENT "    "

static struct {
    int defaults, non_default, values_only, expand, fold;
    int edit, comment, remove, master;
    const char *config_dir;
} opt;

static int exit_status;

static void usage(void)
{
    fprintf(stderr,
            "usage: postconf [-dfhnx] [-c config_dir] [parameter ...]\n"
            "       postconf -e [-c config_dir] parameter=value ...\n"
            "       postconf -# | -X [-c config_dir] parameter ...\n"
            "       postconf -M[fx] [-c config_dir] [service[/type] ...]\n"
            "       postconf -Me [-c config_dir] service/type=entry ...\n"
            "       postconf -M# | -MX [-c config_dir] service/type ...\n");
    exit(2);
}

static void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void fatal(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("postconf: fatal: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

static void warning(const char *message)
{
    fprintf(stderr, "postconf: warning: %s\n", message);
}

static void quiet(const char *message)
{
    (void)message;
}

/* Prints text with runs of whitespace made one space, as Postfix does;
 * with -f, long lines fold with an indent. */
static void print_line(const char *text)
{
    struct buf out = BUF_INIT;
    size_t line_len = 0;
    const char *p = text;
    for (;;) {
        while (isspace((unsigned char)*p))
            p++;
        if (*p == 0)
            break;
        size_t word = 0;
        while (p[word] && !isspace((unsigned char)p[word]))
            word++;
        if (line_len > 0) {
            if (opt.fold && line_len + word + 1 > LINE_LIMIT) {
                buf_append_str(&out, "\n" INDENT);
                line_len = strlen(INDENT);
            } else {
                buf_append_char(&out, ' ');
                line_len++;
            }
        }
        buf_append(&out, p, word);
        line_len += word;
        p += word;
    }
    buf_append_char(&out, '\n');
    fwrite(out.data, 1, out.len, stdout);
    buf_free(&out);
}

/* ---- showing main.cf parameters ---- */

static void show_parameter(const char *name)
{
    const char *raw = opt.defaults ? config_default(name) : config_raw(name, NULL);
    if (raw == NULL)
        raw = "";
    struct buf value = BUF_INIT, err = BUF_INIT, line = BUF_INIT;
    if (opt.expand) {
        if (config_expand(raw, opt.defaults, &value, &err) != 0) {
            struct buf msg = BUF_INIT;
            buf_appendf(&msg, "parameter %s: %s", name, buf_cstr(&err));
            warning(buf_cstr(&msg));
            buf_free(&msg);
        }
    } else {
        buf_set_str(&value, raw);
    }
    if (opt.values_only)
        buf_append_str(&line, buf_cstr(&value));
    else
        buf_appendf(&line, "%s = %s", name, buf_cstr(&value));
    print_line(buf_cstr(&line));
    buf_free(&value);
    buf_free(&err);
    buf_free(&line);
}

static void add_set_name(const char *name, const char *raw, void *arg)
{
    (void)raw;
    strlist_add(arg, name);
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void show_parameters(char **names, int count)
{
    if (count > 0) {
        for (int i = 0; i < count; i++) {
            if (param_find(names[i]) || (!opt.defaults && config_is_set(names[i]))) {
                show_parameter(names[i]);
            } else {
                fprintf(stderr, "postconf: warning: %s: unknown parameter\n",
                        names[i]);
            }
        }
        return;
    }
    struct strlist all;
    strlist_init(&all);
    if (!opt.defaults)
        config_foreach_set(add_set_name, &all);
    if (!opt.non_default)
        for (size_t i = 0; i < param_table_count; i++)
            if (opt.defaults || !config_is_set(param_table[i].name))
                strlist_add(&all, param_table[i].name);
    if (all.count)
        qsort(all.items, all.count, sizeof(char *), compare_names);
    for (size_t i = 0; i < all.count; i++)
        show_parameter(all.items[i]);
    strlist_free(&all);
}

/* ---- editing main.cf ---- */

struct main_edit {
    struct strlist names, values; /* values: "" for -# and -X */
    int *done;
};

/* The parameter name a main.cf entry defines. */
static char *entry_name(const char *text)
{
    size_t len = 0;
    while (text[len] && text[len] != '=' && !isspace((unsigned char)text[len]))
        len++;
    return xstrndup(text, len);
}

/* The last argument naming `name` wins, as a later main.cf line would. */
static int last_index(const struct strlist *names, const char *name)
{
    int found = -1;
    for (size_t i = 0; i < names->count; i++)
        if (strcmp(names->items[i], name) == 0)
            found = (int)i;
    return found;
}

static enum cfedit_action decide_main(const char *text, struct buf *replacement,
                                      void *arg)
{
    struct main_edit *edit = arg;
    char *name = entry_name(text);
    int index = last_index(&edit->names, name);
    enum cfedit_action action = CFEDIT_KEEP;
    if (index >= 0) {
        if (opt.comment)
            action = CFEDIT_COMMENT;
        else if (opt.remove || edit->done[index])
            action = CFEDIT_DELETE; /* a later duplicate would override */
        else {
            buf_appendf(replacement, "%s = %s", name, edit->values.items[index]);
            action = CFEDIT_REPLACE;
        }
        edit->done[index] = 1;
    }
    free(name);
    return action;
}

static int valid_name(const char *name)
{
    if (*name == 0)
        return 0;
    for (const char *p = name; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-' &&
            *p != '.' && *p != '/')
            return 0;
    return 1;
}

/* Fails when the file does not parse; before an edit this reports the
 * administrator's line numbers, after it this guards the write. */
static void check_parses(const struct cfedit_file *file, int is_master,
                         const char *context)
{
    struct buf text = BUF_INIT, err = BUF_INIT;
    for (size_t i = 0; i < file->lines.count; i++)
        buf_appendf(&text, "%s\n", file->lines.items[i]);
    int status;
    if (is_master) {
        struct master_entry *entries;
        size_t count;
        status = mastercf_parse(text.data ? text.data : "", text.len,
                                file->path, &entries, &count, &err);
        if (status == 0)
            mastercf_free(entries, count);
    } else {
        config_set_warning_handler(quiet);
        status = config_load_string(text.data ? text.data : "", text.len,
                                    opt.config_dir, file->path, &err);
    }
    if (status != 0)
        fatal("%s%s", context, buf_cstr(&err));
    buf_free(&text);
    buf_free(&err);
}

/* Writes the edited file after checking it still parses. */
static void write_checked(struct cfedit_file *file, int is_master)
{
    struct buf err = BUF_INIT;
    check_parses(file, is_master, "edit result does not parse: ");
    if (cfedit_write(file, &err) != 0)
        fatal("%s", buf_cstr(&err));
    buf_free(&err);
}

static void edit_main(char **args, int count)
{
    struct main_edit edit;
    strlist_init(&edit.names);
    strlist_init(&edit.values);
    edit.done = xcalloc((size_t)count + 1, sizeof(int));
    for (int i = 0; i < count; i++) {
        int has_value = strchr(args[i], '=') != NULL;
        if (opt.edit && !has_value)
            fatal("-e requires name=value input: %s", args[i]);
        if (!opt.edit && has_value)
            fatal("%s: parameter name expected", args[i]);
        /* Split and store before checking, so that nothing is left
         * unowned when a check exits (LeakSanitizer counts it). */
        char *copy = xstrdup(args[i]);
        char *eq = strchr(copy, '=');
        if (eq)
            *eq = 0;
        strlist_add(&edit.names, str_trim(copy));
        strlist_add(&edit.values, eq ? str_trim(eq + 1) : "");
        free(copy);
        const char *name = edit.names.items[i];
        if (!valid_name(name))
            fatal("bad parameter name: \"%s\"", name);
        if (strchr(edit.values.items[i], '\n'))
            fatal("parameter %s: value contains a newline", name);
    }
    struct cfedit_file file;
    struct buf err = BUF_INIT;
    char *path = xasprintf("%s/main.cf", opt.config_dir);
    if (cfedit_read(&file, path, &err) != 0)
        fatal("%s", buf_cstr(&err));
    check_parses(&file, 0, "");
    cfedit_apply(&file, decide_main, &edit);
    for (size_t i = 0; opt.edit && i < edit.names.count; i++) {
        int index = last_index(&edit.names, edit.names.items[i]);
        if ((size_t)index != i || edit.done[i])
            continue;
        char *line = xasprintf("%s = %s", edit.names.items[i], edit.values.items[i]);
        cfedit_append(&file, line);
        free(line);
    }
    write_checked(&file, 0);
    cfedit_free(&file);
    free(path);
    free(edit.done);
    strlist_free(&edit.names);
    strlist_free(&edit.values);
    buf_free(&err);
}

/* ---- master.cf ---- */

/* "service" matches every type of that service, "service/type" one. */
static int entry_matches(const char *service, const char *type,
                         const char *pattern)
{
    const char *slash = strrchr(pattern, '/');
    if (slash == NULL)
        return strcmp(service, pattern) == 0;
    return strlen(service) == (size_t)(slash - pattern) &&
           strncmp(service, pattern, (size_t)(slash - pattern)) == 0 &&
           strcmp(type, slash + 1) == 0;
}

static void show_master(char **args, int count)
{
    struct master_entry *entries;
    size_t entry_count;
    struct buf err = BUF_INIT, line = BUF_INIT;
    char *path = xasprintf("%s/master.cf", opt.config_dir);
    if (mastercf_load(path, &entries, &entry_count, &err) != 0)
        fatal("%s", buf_cstr(&err));
    for (size_t i = 0; i < entry_count; i++) {
        int wanted = count == 0;
        for (int j = 0; j < count && !wanted; j++)
            wanted = entry_matches(entries[i].service, entries[i].type, args[j]);
        if (!wanted)
            continue;
        buf_reset(&line);
        mastercf_format(&entries[i], &line);
        if (opt.expand) {
            struct buf expanded = BUF_INIT;
            config_expand(buf_cstr(&line), 0, &expanded, NULL);
            buf_set_str(&line, buf_cstr(&expanded));
            buf_free(&expanded);
        }
        if (opt.fold) {
            print_line(buf_cstr(&line));
        } else {
            buf_append_char(&line, '\n');
            fwrite(line.data, 1, line.len, stdout);
        }
    }
    mastercf_free(entries, entry_count);
    free(path);
    buf_free(&err);
    buf_free(&line);
}

struct master_edit {
    struct strlist keys;  /* service/type */
    struct strlist lines; /* normalised new entries (for -Me) */
    int *done;
};

static enum cfedit_action decide_master(const char *text,
                                        struct buf *replacement, void *arg)
{
    struct master_edit *edit = arg;
    struct strlist fields;
    strlist_init(&fields);
    str_split_chars(text, " \t", &fields);
    enum cfedit_action action = CFEDIT_KEEP;
    for (size_t i = 0; fields.count >= 2 && i < edit->keys.count; i++) {
        if (!entry_matches(fields.items[0], fields.items[1], edit->keys.items[i]))
            continue;
        if (opt.comment)
            action = CFEDIT_COMMENT;
        else if (opt.remove || edit->done[i])
            action = CFEDIT_DELETE;
        else {
            buf_set_str(replacement, edit->lines.items[i]);
            action = CFEDIT_REPLACE;
        }
        edit->done[i] = 1;
    }
    strlist_free(&fields);
    return action;
}

static void edit_master(char **args, int count)
{
    struct master_edit edit;
    strlist_init(&edit.keys);
    strlist_init(&edit.lines);
    edit.done = xcalloc((size_t)count + 1, sizeof(int));
    struct buf err = BUF_INIT;
    for (int i = 0; i < count; i++) {
        const char *eq = strchr(args[i], '=');
        char *key = xstrndup(args[i], eq ? (size_t)(eq - args[i]) : strlen(args[i]));
        char *trimmed = str_trim(key);
        const char *slash = strrchr(trimmed, '/');
        if (*trimmed == 0 || (slash && (slash == trimmed || slash[1] == 0)) ||
            (opt.edit && slash == NULL))
            fatal("%s: expected service/type", trimmed);
        if (opt.edit) {
            if (eq == NULL)
                fatal("-Me requires service/type=entry input: %s", args[i]);
            struct master_entry *entries;
            size_t entry_count;
            buf_reset(&err);
            if (mastercf_parse(eq + 1, strlen(eq + 1), "command line",
                               &entries, &entry_count, &err) != 0)
                fatal("%s: %s", trimmed, buf_cstr(&err));
            if (entry_count != 1 ||
                !entry_matches(entries[0].service, entries[0].type, trimmed))
                fatal("%s: the entry must be one master.cf entry for the "
                      "same service and type", trimmed);
            struct buf line = BUF_INIT;
            mastercf_format(&entries[0], &line);
            strlist_add(&edit.lines, buf_cstr(&line));
            buf_free(&line);
            mastercf_free(entries, entry_count);
        } else {
            if (eq != NULL)
                fatal("%s: service/type expected", args[i]);
            strlist_add(&edit.lines, "");
        }
        strlist_add(&edit.keys, trimmed);
        free(key);
    }
    struct cfedit_file file;
    char *path = xasprintf("%s/master.cf", opt.config_dir);
    buf_reset(&err);
    if (cfedit_read(&file, path, &err) != 0)
        fatal("%s", buf_cstr(&err));
    check_parses(&file, 1, "");
    cfedit_apply(&file, decide_master, &edit);
    for (size_t i = 0; opt.edit && i < edit.keys.count; i++) {
        int later = 0;
        for (size_t j = i + 1; j < edit.keys.count; j++)
            later |= strcmp(edit.keys.items[j], edit.keys.items[i]) == 0;
        if (!edit.done[i] && !later)
            cfedit_append(&file, edit.lines.items[i]);
    }
    write_checked(&file, 1);
    cfedit_free(&file);
    free(path);
    free(edit.done);
    strlist_free(&edit.keys);
    strlist_free(&edit.lines);
    buf_free(&err);
}

/* ---- docs/parameters.md ---- */

static void markdown_cell(struct buf *out, const char *text)
{
    for (const char *p = text; *p; p++) {
        if (*p == '|')
            buf_append_str(out, "\\|");
        else
            buf_append_char(out, *p);
    }
}

static void print_doc_markdown(void)
{
    const struct param_def **sorted =
        xcalloc(param_table_count, sizeof(*sorted));
    for (size_t i = 0; i < param_table_count; i++)
        sorted[i] = &param_table[i];
    for (size_t i = 1; i < param_table_count; i++)
        for (size_t j = i; j > 0 && strcmp(sorted[j - 1]->name, sorted[j]->name) > 0; j--) {
            const struct param_def *swap = sorted[j];
            sorted[j] = sorted[j - 1];
            sorted[j - 1] = swap;
        }
    struct buf out = BUF_INIT;
    buf_append_str(&out,
        "# Parameter reference\n\n"
        "<!-- Generated from lib/params.c by `tools/postconf --doc-markdown`;\n"
        "     do not edit: `make check` fails when this page and the table\n"
        "     disagree. -->\n\n"
        "Every `main.cf` parameter Postern knows, with its type and default.\n"
        "Names and defaults are Postfix's unless\n"
        "[configuration.md](configuration.md) says otherwise. Time values take\n"
        "a unit (`s`, `m`, `h`, `d`, `w`); a bare number uses the unit of the\n"
        "default. `postconf -d` prints the defaults of this installation.\n\n"
        "| Parameter | Type | Default | Range | Description |\n"
        "|---|---|---|---|---|\n");
    for (size_t i = 0; i < param_table_count; i++) {
        const struct param_def *def = sorted[i];
        buf_appendf(&out, "| `%s` | %s | ", def->name, param_type_name(def->type));
        if (def->flags & PARAM_F_BUILD)
            buf_append_str(&out, "set at build time");
        else if (def->flags & PARAM_F_COMPUTED)
            buf_append_str(&out, "computed");
        else if (def->def[0] == 0)
            buf_append_str(&out, "(empty)");
        else {
            buf_append_str(&out, "`");
            markdown_cell(&out, def->def);
            buf_append_str(&out, "`");
        }
        buf_append_str(&out, " | ");
        if (def->type == PARAM_INT || def->type == PARAM_SIZE ||
            def->type == PARAM_TIME) {
            const char *unit = def->type == PARAM_TIME ? "s" : "";
            if (def->max)
                buf_appendf(&out, "%lld%s..%lld%s", def->min, unit, def->max, unit);
            else
                buf_appendf(&out, "&ge; %lld%s", def->min, unit);
        }
        buf_append_str(&out, " | ");
        markdown_cell(&out, def->doc);
        if (def->flags & PARAM_F_READONLY)
            buf_append_str(&out, " (read-only)");
        buf_append_str(&out, " |\n");
    }
    fwrite(out.data, 1, out.len, stdout);
    buf_free(&out);
    free(sorted);
}

int main(int argc, char **argv)
{
    log_set_program("postconf");
    if (argc == 2 && strcmp(argv[1], "--doc-markdown") == 0) {
        print_doc_markdown();
        return 0;
    }
    const char *cli_dir = NULL;
    int ch;
    while ((ch = getopt(argc, argv, "c:dfhnxe#XMv")) != -1) {
        switch (ch) {
        case 'c':
            cli_dir = optarg;
            break;
        case 'd':
            opt.defaults = 1;
            break;
        case 'f':
            opt.fold = 1;
            break;
        case 'h':
            opt.values_only = 1;
            break;
        case 'n':
            opt.non_default = 1;
            break;
        case 'x':
            opt.expand = 1;
            break;
        case 'e':
            opt.edit = 1;
            break;
        case '#':
            opt.comment = 1;
            break;
        case 'X':
            opt.remove = 1;
            break;
        case 'M':
            opt.master = 1;
            break;
        case 'v':
            log_set_verbose(log_verbose_level() + 1);
            break;
        default:
            usage();
        }
    }
    if (opt.edit + opt.comment + opt.remove > 1)
        usage();
    opt.config_dir = config_resolve_dir(cli_dir);
    argv += optind;
    argc -= optind;

    if (opt.edit || opt.comment || opt.remove) {
        if (argc == 0)
            usage();
        if (opt.master)
            edit_master(argv, argc);
        else
            edit_main(argv, argc);
        return 0;
    }
    struct buf err = BUF_INIT;
    config_set_warning_handler(opt.master ? quiet : warning);
    config_set_unused_warnings(1);
    if (!opt.defaults && config_load(opt.config_dir, &err) != 0)
        fatal("%s", buf_cstr(&err));
    if (opt.master)
        show_master(argv, argc);
    else
        show_parameters(argv, argc);
    buf_free(&err);
    fflush(stdout);
    return exit_status;
}
