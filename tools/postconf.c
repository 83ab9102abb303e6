/* postconf.c: show and edit main.cf and master.cf, as Postfix's postconf.
 *
 *   postconf [-dfhHnpx] [-c DIR] [-C class,...] [-o name=value] [name ...]
 *   postconf -e [-c DIR] name=value ...         set parameters in main.cf
 *   postconf -# | -X [-c DIR] name ...          comment out / remove
 *   postconf -M[fx] [-c DIR] [service[/type] ...]   show master.cf entries
 *   postconf -Me [-c DIR] service/type='entry' ...  add or replace entries
 *   postconf -M# | -MX [-c DIR] service/type ...    comment out / remove
 *   postconf -F[fhHx] [-c DIR] [service[/type[/field]] ...]   fields
 *   postconf -Fe [-c DIR] service/type/field=value ...
 *   postconf -P[fhHx] [-c DIR] [service[/type[/name]] ...]    -o parameters
 *   postconf -Pe [-c DIR] service/type/name=value ...
 *   postconf -PX [-c DIR] service/type/name ...
 *   postconf -b | -t [-c DIR] [template_file]   notice texts (bounce(5))
 *   postconf -T compile-version|run-version|public-key-algorithms
 *   postconf -a | -A | -l | -m                  what this build supports
 *   postconf --doc-markdown                     docs/parameters.md text
 *
 * Output has Postfix's shape (`name = value`, whitespace normalised) so
 * scripts written for Postfix keep working. Edits are atomic (see
 * lib/config/cfedit.h) and a result that would not parse is never written. */
#include <ctype.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/opensslv.h>

#include "base/tool.h"
#include "message/bounce_template.h"
#include "base/buf.h"
#include "config/cfedit.h"
#include "config/config.h"
#include "tables/dict.h"
#include "base/log.h"
#include "config/mastercf_edit.h"
#include "base/mem.h"
#include "config/params.h"
#include "base/str.h"

#define LINE_LIMIT 80 /* -f folds lines longer than this */
#define INDENT "    "

/* -C classes. */
#define CLASS_BUILTIN 0x1 /* names in the parameter table */
#define CLASS_SERVICE 0x2 /* service-defined: smtp_destination_... */
#define CLASS_USER 0x4    /* anything else main.cf sets */
#define CLASS_ALL 0x7

static struct {
    int defaults, non_default, values_only, names_only, expand, fold;
    int edit, comment, remove;
    int classes;
    char mode; /* 0 (main.cf), or the option: M F P a A b t l m T */
    const char *tls_mode;
    const char *config_dir;
} opt;

static int exit_status;

static void usage(void)
{
    tool_usage(2,
               "postconf [-dfhHnpx] [-c config_dir] [-C class,...] "
            "[-o name=value] [parameter ...]\n"
            "       postconf -e [-c config_dir] parameter=value ...\n"
            "       postconf -# | -X [-c config_dir] parameter ...\n"
            "       postconf -M[fx] [-c config_dir] [service[/type] ...]\n"
            "       postconf -Me [-c config_dir] service/type=entry ...\n"
            "       postconf -M# | -MX [-c config_dir] service/type ...\n"
            "       postconf -F[fhHx] [-c config_dir] "
            "[service[/type[/field]] ...]\n"
            "       postconf -Fe [-c config_dir] service/type/field=value ...\n"
            "       postconf -P[fhHx] [-c config_dir] "
            "[service[/type[/parameter]] ...]\n"
            "       postconf -Pe [-c config_dir] "
            "service/type/parameter=value ...\n"
            "       postconf -PX [-c config_dir] service/type/parameter ...\n"
            "       postconf -b | -t [-c config_dir] [template_file]\n"
            "       postconf -T compile-version|run-version|"
            "public-key-algorithms\n"
            "       postconf -a | -A | -l | -m");
}

/* Every fatal error goes through tool_fatal, exit 1 (as Postfix). */
#define fatal(...) tool_fatal(1, __VA_ARGS__)

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
    else if (opt.names_only)
        buf_append_str(&line, name);
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

/* The -C class of a parameter name. */
static int class_of(const char *name)
{
    if (param_find(name))
        return CLASS_BUILTIN;
    if (param_is_per_transport(name))
        return CLASS_SERVICE;
    return CLASS_USER;
}

static int parse_classes(const char *text)
{
    struct strlist items;
    strlist_init(&items);
    str_split_list(text, &items);
    int classes = 0;
    for (size_t i = 0; i < items.count; i++) {
        const char *item = items.items[i];
        if (strcmp(item, "builtin") == 0)
            classes |= CLASS_BUILTIN;
        else if (strcmp(item, "service") == 0)
            classes |= CLASS_SERVICE;
        else if (strcmp(item, "user") == 0)
            classes |= CLASS_USER;
        else if (strcmp(item, "all") == 0)
            classes |= CLASS_ALL;
        else
            fatal("invalid parameter class: %s (use builtin, service, user "
                  "or all)", item);
    }
    strlist_free(&items);
    if (classes == 0)
        fatal("-C: no parameter class given");
    return classes;
}

static void show_parameters(char **names, int count)
{
    if (count > 0) {
        for (int i = 0; i < count; i++) {
            int known = param_find(names[i]) ||
                        (!opt.defaults && config_is_set(names[i]));
            if (known && (class_of(names[i]) & opt.classes)) {
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
        if (class_of(all.items[i]) & opt.classes)
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

/* Fails when main.cf does not parse; before an edit this reports the
 * administrator's line numbers, after it this guards the write. */
static void check_parses(const struct cfedit_file *file, const char *context)
{
    struct buf text = BUF_INIT, err = BUF_INIT;
    for (size_t i = 0; i < file->lines.count; i++)
        buf_appendf(&text, "%s\n", file->lines.items[i]);
    config_set_warning_handler(quiet);
    if (config_load_string(text.data ? text.data : "", text.len,
                           opt.config_dir, file->path, &err) != 0)
        fatal("%s%s", context, buf_cstr(&err));
    buf_free(&text);
    buf_free(&err);
}

/* Writes the edited file after checking it still parses. */
static void write_checked(struct cfedit_file *file)
{
    struct buf err = BUF_INIT;
    check_parses(file, "edit result does not parse: ");
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
    check_parses(&file, "");
    cfedit_apply(&file, decide_main, &edit);
    for (size_t i = 0; opt.edit && i < edit.names.count; i++) {
        int index = last_index(&edit.names, edit.names.items[i]);
        if ((size_t)index != i || edit.done[i])
            continue;
        char *line = xasprintf("%s = %s", edit.names.items[i], edit.values.items[i]);
        cfedit_append(&file, line);
        free(line);
    }
    write_checked(&file);
    cfedit_free(&file);
    free(path);
    free(edit.done);
    strlist_free(&edit.names);
    strlist_free(&edit.values);
    buf_free(&err);
}

/* ---- master.cf (lib/config/mastercf_edit) ---- */

static enum mastercf_view master_view(void)
{
    return opt.mode == 'F'   ? MASTERCF_VIEW_FIELDS
           : opt.mode == 'P' ? MASTERCF_VIEW_PARAMS
                             : MASTERCF_VIEW_ENTRIES;
}

static void show_master(char **args, int count)
{
    struct strlist lines;
    struct buf err = BUF_INIT;
    strlist_init(&lines);
    char *path = xasprintf("%s/master.cf", opt.config_dir);
    int flags = (opt.names_only ? MASTERCF_SHOW_NAMES_ONLY : 0) |
                (opt.values_only ? MASTERCF_SHOW_VALUES_ONLY : 0) |
                (opt.expand ? MASTERCF_SHOW_EXPAND : 0);
    if (mastercf_show(path, master_view(), args, count, flags, &lines,
                      &err) != 0)
        fatal("%s", buf_cstr(&err));
    for (size_t i = 0; i < lines.count; i++) {
        if (opt.mode == 'M' && !opt.fold)
            printf("%s\n", lines.items[i]); /* as formatted, spaces kept */
        else
            print_line(lines.items[i]);
    }
    strlist_free(&lines);
    free(path);
    buf_free(&err);
}

static void edit_master(char **args, int count)
{
    struct buf err = BUF_INIT;
    char *path = xasprintf("%s/master.cf", opt.config_dir);
    enum mastercf_edit_op op = opt.edit      ? MASTERCF_EDIT_SET
                               : opt.comment ? MASTERCF_EDIT_COMMENT
                                             : MASTERCF_EDIT_REMOVE;
    if (mastercf_edit(path, master_view(), op, args, count, &err) != 0)
        fatal("%s", buf_cstr(&err));
    free(path);
    buf_free(&err);
}

/* ---- bounce templates (-b, -t) ---- */

static void show_templates(char **args, int count)
{
    if (count > 1)
        usage();
    struct bounce_templates ts;
    struct buf out = BUF_INIT, err = BUF_INIT;
    memset(&ts, 0, sizeof(ts));
    bounce_templates_builtin(&ts, opt.mode == 'b');
    /* No file, or an empty name: the built-in texts. Postern has no
     * bounce_template_file, so there is no configured file to read. */
    if (count == 1 && *args[0] &&
        bounce_templates_load(&ts, args[0], warning, &err) != 0)
        fatal("%s", buf_cstr(&err));
    if (opt.mode == 't')
        bounce_templates_dump(&ts, &out);
    else if (bounce_templates_expand(&ts, &out, &err) != 0)
        fatal("%s", buf_cstr(&err));
    fwrite(out.data ? out.data : "", 1, out.len, stdout);
    bounce_templates_free(&ts);
    buf_free(&out);
    buf_free(&err);
}

/* ---- what this build supports (-a, -A, -l, -m, -T) ---- */

static int compare_strings(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void show_support(void)
{
    switch (opt.mode) {
    case 'a':
    case 'A':
        /* SMTP AUTH (server) and SMTP client authentication are not
         * built yet: there is no plug-in type to offer. */
        break;
    case 'l':
        /* lib/storage/mbox: mailbox_delivery_lock takes any of these. */
        printf("flock\nfcntl\ndotlock\n");
        break;
    case 'm': {
        struct strlist names;
        strlist_init(&names);
        dict_type_names(&names);
        qsort(names.items, names.count, sizeof(char *), compare_strings);
        for (size_t i = 0; i < names.count; i++)
            printf("%s\n", names.items[i]);
        strlist_free(&names);
        break;
    }
    case 'T':
        if (strcmp(opt.tls_mode, "compile-version") == 0) {
            printf("%s\n", OPENSSL_VERSION_TEXT);
        } else if (strcmp(opt.tls_mode, "run-version") == 0) {
            printf("%s\n", OpenSSL_version(OPENSSL_VERSION));
        } else if (strcmp(opt.tls_mode, "public-key-algorithms") == 0) {
            static const char *const algorithms[][2] = {
                {"rsa", "RSA"}, {"ecdsa", "EC"},
                {"ed25519", "ED25519"}, {"ed448", "ED448"}};
            for (size_t i = 0; i < sizeof(algorithms) / sizeof(*algorithms);
                 i++) {
                EVP_PKEY_CTX *ctx =
                    EVP_PKEY_CTX_new_from_name(NULL, algorithms[i][1], NULL);
                if (ctx)
                    printf("%s\n", algorithms[i][0]);
                EVP_PKEY_CTX_free(ctx);
            }
        } else {
            fatal("invalid -T mode: %s (use compile-version, run-version or "
                  "public-key-algorithms)", opt.tls_mode);
        }
        break;
    }
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
        "<!-- Generated from lib/config/params.c by `tools/postconf --doc-markdown`;\n"
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

/* Records a mode option; modes exclude each other. */
static void set_mode(char mode)
{
    if (opt.mode && opt.mode != mode)
        fatal("-%c and -%c cannot be used together", opt.mode, mode);
    opt.mode = mode;
}

int main(int argc, char **argv)
{
    tool_set_name("postconf");
    if (argc == 2 && strcmp(argv[1], "--doc-markdown") == 0) {
        print_doc_markdown();
        return 0;
    }
    const char *cli_dir = NULL;
    struct strlist overrides;
    strlist_init(&overrides);
    opt.classes = CLASS_ALL;
    int ch;
    while ((ch = getopt(argc, argv, "aAbc:C:dfFhHlmMno:pPtT:vxXe#")) != -1) {
        switch (ch) {
        case 'c':
            cli_dir = optarg;
            break;
        case 'C':
            opt.classes = parse_classes(optarg);
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
        case 'H':
            opt.names_only = 1;
            break;
        case 'n':
            opt.non_default = 1;
            break;
        case 'o':
            strlist_add(&overrides, optarg);
            break;
        case 'p':
            break; /* main.cf: the default */
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
        case 'T':
            opt.tls_mode = optarg;
            set_mode('T');
            break;
        case 'a':
        case 'A':
        case 'b':
        case 'F':
        case 'l':
        case 'm':
        case 'M':
        case 'P':
        case 't':
            set_mode((char)ch);
            break;
        case 'v':
            log_set_verbose(log_verbose_level() + 1);
            break;
        default:
            usage();
        }
    }
    if (opt.edit + opt.comment + opt.remove > 1 ||
        opt.values_only + opt.names_only > 1)
        usage();
    opt.config_dir = config_resolve_dir(cli_dir);
    argv += optind;
    argc -= optind;
    int master = opt.mode == 'M' || opt.mode == 'F' || opt.mode == 'P';
    /* As in Postfix 2.8 and later, name=value implies -e. */
    for (int i = 0; i < argc && !opt.comment && !opt.remove; i++)
        if ((opt.mode == 0 || master) && strchr(argv[i], '='))
            opt.edit = 1;
    int editing = opt.edit || opt.comment || opt.remove;
    if (editing && opt.mode && !master)
        usage();

    if (editing) {
        if (argc == 0)
            usage();
        if (master)
            edit_master(argv, argc);
        else
            edit_main(argv, argc);
        strlist_free(&overrides);
        return 0;
    }
    if (opt.mode && !master && opt.mode != 'b' && opt.mode != 't') {
        if (argc > 0)
            usage();
        show_support();
        fflush(stdout);
        strlist_free(&overrides);
        return 0;
    }
    /* -o name=value: for this run only, above main.cf. */
    for (size_t i = 0; i < overrides.count; i++)
        if (config_override_arg(overrides.items[i]) != 0)
            fatal("-o %s: expected name=value", overrides.items[i]);
    struct buf err = BUF_INIT;
    config_set_warning_handler(master || opt.mode ? quiet : warning);
    config_set_unused_warnings(1);
    int need_main_cf = !opt.defaults || opt.mode == 'b' || opt.mode == 't';
    if (need_main_cf && config_load(opt.config_dir, &err) != 0)
        fatal("%s", buf_cstr(&err));
    config_set_warning_handler(warning);
    if (master)
        show_master(argv, argc);
    else if (opt.mode == 'b' || opt.mode == 't')
        show_templates(argv, argc);
    else
        show_parameters(argv, argc);
    buf_free(&err);
    strlist_free(&overrides);
    fflush(stdout);
    return exit_status;
}
