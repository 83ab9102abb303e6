/* postmap.c: build, query, list and edit lookup tables, as Postfix's
 * postmap(1):
 *
 *   postmap [-bfFhimnNoprsuUvw] [-c DIR] [-d key] [-q key]
 *           [type:]file...
 *
 * Without -q/-s/-d/-i, builds type:file (hash, btree, lmdb) from the text
 * file `file`: the new NAME.db or NAME.lmdb is written beside the table,
 * fsync'ed and renamed into place, so daemons never see half a table. A
 * malformed input line stops the build with "file, line N: why" and the
 * old table stays. For regexp:, pcre:, cidr: and texthash: tables the
 * same command checks the file and reports the first bad line.
 *
 * With -q - and -h/-b, standard input is a message: each logical header
 * line (-h) or body line (-b) is a key, as header_checks and body_checks
 * see them (-m: following MIME structure, lib/message/mime_scan). -F stores the
 * base64 of the files a value names, and decodes values on -q/-s. With
 * smtputf8_enable = yes keys and values must be valid UTF-8 (-u: no
 * checks; -b/-h check only with -U), as in Postfix.
 *
 * Exit status: 0 success (for -q/-d: found); 1 for -q/-d when nothing was
 * found; 2 on any error (bad usage, unreadable or malformed table). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/tool.h"
#include "message/address.h"
#include "base/base64.h"
#include "base/buf.h"
#include "base/file_read.h"
#include "config/config.h"
#include "tables/dict.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/privs.h"
#include "base/utf8.h"
#include "message/mime_scan.h"
#include "base/str.h"

#define EXIT_NOTFOUND 1
#define EXIT_TROUBLE 2

/* -F: the most bytes of file content one value may carry. */
#define FILE_VALUE_MAX (16 * 1024 * 1024)

static struct {
    int utf8;        /* check keys and values for UTF-8 */
    int file_values; /* -F */
} opt;

static void usage(void)
{
    tool_usage(EXIT_TROUBLE,
               "postmap [-bfFhimnNoprsuUvw] [-c config_dir] [-d key] "
            "[-q key]\n"
            "               [type:]file...");
}

/* Tables open for queries: a fatal error closes them (the hook below), so that a table library
 * flushes and frees what it holds (Berkeley DB's handles). */
static struct dict **open_dicts;
static int open_dict_count;

static void close_open_dicts(void)
{
    for (int i = 0; i < open_dict_count; i++)
        if (open_dicts[i])
            dict_close(open_dicts[i]);
}

/* Every fatal error goes through tool_fatal: the tables closed (the
 * hook), exit EXIT_TROUBLE. */
#define die(...) tool_fatal(EXIT_TROUBLE, __VA_ARGS__)

/* "[type:]file" -> "type:file", with default_database_type when the
 * argument has no known type prefix. */
static char *table_spec(const char *arg, const char *default_type)
{
    const char *colon = strchr(arg, ':');
    if (colon) {
        char *type = xstrndup(arg, (size_t)(colon - arg));
        int known = dict_type_known(type);
        free(type);
        if (known)
            return xstrdup(arg);
    }
    return xasprintf("%s:%s", default_type, arg);
}

static const char *spec_name(const char *spec)
{
    return strchr(spec, ':') + 1;
}

static char *spec_type(const char *spec)
{
    return xstrndup(spec, (size_t)(strchr(spec, ':') - spec));
}

/* All of standard input, as big as a table source may be. */
static void read_stdin(struct buf *out)
{
    struct buf err = BUF_INIT;
    if (file_read_fd(STDIN_FILENO, "standard input", DICT_SOURCE_MAX_SIZE,
                     out, &err) < 0)
        die("%s", buf_cstr(&err));
    buf_free(&err);
}

/* As root, build a table with the rights of the owner of its source
 * file (Postfix does the same), unless -o. */
static void drop_to_owner(const struct stat *st, const char *path)
{
    struct buf err = BUF_INIT;
    if (geteuid() != 0 || st->st_uid == 0)
        return;
    if (privs_drop_ids(st->st_uid, st->st_gid, NULL, &err) ==
        PRIVS_DROP_FAILED)
        die("cannot change to the owner of %s (uid %ld): %s", path,
            (long)st->st_uid, buf_cstr(&err));
    buf_free(&err);
}

/* ---- UTF-8 and -F values ---- */

static int utf8_ok(const char *text)
{
    return !opt.utf8 || utf8_valid(text, strlen(text));
}

/* Postfix's policy: a non-UTF-8 key cannot be in the table (skip it
 * with a warning); a stored value that is not UTF-8 is an error. */
static int key_usable(const struct dict *d, const char *key)
{
    if (utf8_ok(key))
        return 1;
    log_warn("%s: non-UTF-8 key \"%s\": malformed UTF-8 or invalid "
             "codepoint", dict_spec(d), key);
    return 0;
}

/* -F at build time: the files the value names (comma and/or space
 * separated), joined with a newline between files, base64-encoded. */
static int file_value(const char *value, struct buf *out, struct buf *err)
{
    struct strlist names;
    struct buf content = BUF_INIT;
    strlist_init(&names);
    str_split_list(value, &names);
    int status = names.count ? 0 : -1;
    if (status < 0)
        buf_appendf(err, "-F: no file name in value \"%s\"", value);
    struct buf file = BUF_INIT;
    for (size_t i = 0; status == 0 && i < names.count; i++) {
        if (i > 0)
            buf_append_char(&content, '\n');
        /* The files of one value share the cap. */
        size_t room =
            content.len < FILE_VALUE_MAX ? FILE_VALUE_MAX - content.len : 0;
        status = file_read(names.items[i], room, &file, err);
        buf_append(&content, file.data, file.len);
    }
    buf_free(&file);
    if (status == 0)
        base64_encode(content.data ? content.data : "", content.len, out);
    strlist_free(&names);
    buf_free(&content);
    return status;
}

/* The value as printed: -F values are decoded. Dies on a value that is
 * not UTF-8 (with checks on, for lookups: Postfix leaves -s alone) or,
 * with -F, not base64. */
static const char *shown_value(const struct dict *d, const char *key,
                               const char *value, int lookup,
                               struct buf *scratch)
{
    if (lookup && !utf8_ok(value)) {
        fflush(stdout);
        die("%s: key \"%s\": non-UTF-8 value \"%s\": malformed UTF-8 or "
            "invalid codepoint", dict_spec(d), key, value);
    }
    if (!opt.file_values)
        return value;
    buf_reset(scratch);
    if (base64_decode(value, strlen(value), scratch) != 0) {
        fflush(stdout);
        die("%s: key \"%s\": malformed BASE64 value: %.100s", dict_spec(d),
            key, value);
    }
    return buf_cstr(scratch);
}

struct put_ctx {
    struct dict *dict;
    const char *source;
};

static int put_entry(void *ctx, const char *key, const char *value, int line,
                     struct buf *err)
{
    struct put_ctx *pc = ctx;
    struct buf stored = BUF_INIT;
    int status = 0;
    if (opt.file_values) {
        status = file_value(value, &stored, err);
        value = buf_cstr(&stored);
    }
    if (status == 0 && !key_usable(pc->dict, key)) {
        buf_free(&stored);
        return 0; /* skipped, as Postfix does */
    }
    if (status == 0 && !utf8_ok(value)) {
        log_warn("%s: key \"%s\": non-UTF-8 value \"%s\": malformed UTF-8 "
                 "or invalid codepoint", dict_spec(pc->dict), key, value);
        buf_free(&stored);
        return 0;
    }
    if (status == 0)
        status = dict_put(pc->dict, key, value, err) < 0 ? -1 : 0;
    if (status < 0) {
        struct buf why = BUF_INIT;
        buf_appendf(&why, "%s, line %d: %s", pc->source, line, buf_cstr(err));
        buf_set(err, why.data, why.len);
        buf_free(&why);
    }
    buf_free(&stored);
    return status;
}

/* Builds (create) or extends (incremental) one table from input text. */
static void load_table(const char *spec, int flags, const char *source,
                       const struct buf *input, const struct stat *source_st)
{
    struct buf err = BUF_INIT;
    struct dict *d = dict_open(spec, flags, &err);
    if (d == NULL)
        die("%s", err.data);
    if (source_st)
        dict_set_mode(d, source_st->st_mode & 0666);
    struct put_ctx pc = {d, source};
    if (dict_text_parse(source, input->data, input->len, put_entry, &pc,
                        &err) < 0 ||
        dict_commit(d, &err) < 0) {
        dict_close(d);
        die("%s", err.data);
    }
    dict_close(d);
    buf_free(&err);
}

static void build(const char *spec, int flags, int keep_privileges,
                  int default_mode)
{
    char *type = spec_type(spec);
    const char *name = spec_name(spec);
    struct buf err = BUF_INIT;
    if (!dict_type_writable(type)) {
        /* Nothing to build: check the table and name its first bad line. */
        struct dict *d = dict_open(spec, flags | DICT_FLAG_STRICT, &err);
        if (d == NULL)
            die("%s", err.data);
        dict_close(d);
        buf_free(&err);
        free(type);
        return;
    }
    struct stat st;
    if (stat(name, &st) < 0)
        die("%s: cannot open: %s", name, strerror(errno));
    if (!keep_privileges)
        drop_to_owner(&st, name);
    struct buf input = BUF_INIT;
    if (file_read(name, DICT_SOURCE_MAX_SIZE, &input, &err) < 0)
        die("%s", buf_cstr(&err));
    load_table(spec, flags | DICT_FLAG_CREATE, name, &input,
               default_mode ? NULL : &st);
    buf_free(&input);
    buf_free(&err);
    free(type);
}

static struct dict *open_or_die(const char *spec, int flags)
{
    struct buf err = BUF_INIT;
    struct dict *d = dict_open(spec, flags | DICT_FLAG_STRICT, &err);
    if (d == NULL)
        die("%s", err.data);
    buf_free(&err);
    return d;
}

/* Looks key up in each table in turn; prints the first value found. */
static int query(struct dict **dicts, int count, const char *key,
                 int print_key)
{
    struct buf value = BUF_INIT, scratch = BUF_INIT;
    for (int i = 0; i < count; i++) {
        if (!key_usable(dicts[i], key))
            continue;
        switch (dict_lookup(dicts[i], key, &value)) {
        case DICT_FOUND: {
            const char *shown =
                shown_value(dicts[i], key, buf_cstr(&value), 1, &scratch);
            if (print_key)
                printf("%s\t%s\n", key, shown);
            else
                printf("%s\n", shown);
            buf_free(&value);
            buf_free(&scratch);
            return 1;
        }
        case DICT_NOTFOUND:
            break;
        case DICT_ERROR:
            fflush(stdout);
            die("%s: lookup of \"%s\" failed: %s", dict_spec(dicts[i]), key,
                dict_last_error(dicts[i]));
        }
    }
    buf_free(&value);
    buf_free(&scratch);
    return 0;
}

/* -q - with -h and/or -b: the message on standard input gives the keys
 * (lib/message/mime_scan); "key<TAB>value" for each found. */
struct message_query {
    struct dict **dicts;
    int count;
    int headers, bodies;
    int found;
};

static void query_header(void *ctx, enum mime_header_class cls,
                         const char *text, size_t len)
{
    struct message_query *mq = ctx;
    (void)cls;
    if (!mq->headers)
        return;
    char *key = xstrndup(text, len);
    mq->found |= query(mq->dicts, mq->count, key, 1);
    free(key);
}

static void query_body(void *ctx, const char *line, size_t len)
{
    struct message_query *mq = ctx;
    if (!mq->bodies)
        return;
    char *key = xstrndup(line, len);
    mq->found |= query(mq->dicts, mq->count, key, 1);
    free(key);
}

static int query_message(struct dict **dicts, int count, int headers,
                         int bodies, int mime)
{
    struct message_query mq = {dicts, count, headers, bodies, 0};
    struct buf input = BUF_INIT;
    read_stdin(&input);
    struct mime_scan *ms = mime_scan_new(mime, query_header, query_body, &mq);
    size_t pos = 0;
    while (pos < input.len) {
        const char *start = input.data + pos;
        const char *nl = memchr(start, '\n', input.len - pos);
        size_t len = nl ? (size_t)(nl - start) : input.len - pos;
        mime_scan_line(ms, start, len);
        pos += len + (nl ? 1 : 0);
    }
    mime_scan_end(ms);
    mime_scan_free(ms);
    buf_free(&input);
    return mq.found;
}

/* Splits stdin into trimmed, non-empty lines (keys for -q - and -d -). */
static void stdin_keys(struct strlist *keys)
{
    struct buf input = BUF_INIT;
    read_stdin(&input);
    char *save = NULL;
    for (char *line = strtok_r(input.data, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        char *key = str_trim(line);
        if (*key)
            strlist_add(keys, key);
    }
    buf_free(&input);
}

static int print_entry(void *ctx, const char *key, const char *value)
{
    struct buf scratch = BUF_INIT;
    printf("%s\t%s\n", key, shown_value(ctx, key, value, 0, &scratch));
    buf_free(&scratch);
    return 0;
}

int main(int argc, char **argv)
{
    const char *config_dir = NULL, *query_key = NULL, *delete_key = NULL;
    int flags = 0, incremental = 0, sequence = 0, keep_privileges = 0;
    int default_mode = 0, headers = 0, bodies = 0, mime = 0, no_utf8 = 0;
    int force_utf8 = 0, ch;

    tool_set_name("postmap");
    tool_set_fatal_hook(close_open_dicts);
    while ((ch = getopt(argc, argv, "bc:d:fFhimnNopq:rsuUvw")) != -1) {
        switch (ch) {
        case 'b': bodies = 1; break;
        case 'F': opt.file_values = 1; break;
        case 'h': headers = 1; break;
        case 'm': mime = 1; break;
        case 'u': no_utf8 = 1; break;
        case 'U': force_utf8 = 1; break;
        case 'c': config_dir = optarg; break;
        case 'd': delete_key = optarg; break;
        case 'f': flags |= DICT_FLAG_NO_FOLD; break;
        case 'i': incremental = 1; break;
        case 'n': flags = (flags & ~DICT_FLAG_NUL_ONLY) | DICT_FLAG_NO_NUL; break;
        case 'N': flags = (flags & ~DICT_FLAG_NO_NUL) | DICT_FLAG_NUL_ONLY; break;
        case 'o': keep_privileges = 1; break;
        case 'p': default_mode = 1; break;
        case 'q': query_key = optarg; break;
        case 'r': flags |= DICT_FLAG_DUP_REPLACE; break;
        case 's': sequence = 1; break;
        case 'v': log_set_verbose(log_verbose_level() + 1); break;
        case 'w': flags |= DICT_FLAG_DUP_IGNORE; break;
        default: usage();
        }
    }
    if ((query_key != NULL) + (delete_key != NULL) + sequence + incremental > 1)
        die("use only one of -q, -d, -s and -i");
    if (optind >= argc)
        usage();

    /* main.cf is optional for postmap: without one, defaults apply. */
    const char *dir = config_resolve_dir(config_dir);
    char *main_cf = xasprintf("%s/main.cf", dir);
    struct buf err = BUF_INIT;
    if (access(main_cf, F_OK) == 0 && config_load(dir, &err) < 0)
        die("%s", err.data);
    free(main_cf);
    /* Postfix: UTF-8 checks with smtputf8_enable, off with -u, and for
     * message lines (-b, -h) only when -U asks for them. */
    opt.utf8 = cfg_bool("smtputf8_enable") && !no_utf8;
    if ((headers || bodies) && !force_utf8)
        opt.utf8 = 0;
    const char *default_type = cfg_str("default_database_type");
    if (*default_type == 0)
        default_type = "hash";
    if (!dict_type_writable(default_type))
        die("default_database_type = %s: not a type postmap can build "
            "(hash, btree, lmdb)", default_type);

    int count = argc - optind;
    char **specs = xcalloc((size_t)count, sizeof(char *));
    for (int i = 0; i < count; i++)
        specs[i] = table_spec(argv[optind + i], default_type);

    int status = 0;
    if (query_key || sequence) {
        struct dict **dicts = xcalloc((size_t)count, sizeof(*dicts));
        open_dicts = dicts;
        for (int i = 0; i < count; i++) {
            dicts[i] = open_or_die(specs[i], flags);
            open_dict_count = i + 1;
        }
        if (sequence) {
            for (int i = 0; i < count; i++)
                if (dict_iterate(dicts[i], print_entry, dicts[i], &err) < 0) {
                    fflush(stdout);
                    die("%s", err.data);
                }
        } else if (strcmp(query_key, "-") == 0 && (headers || bodies)) {
            status = query_message(dicts, count, headers, bodies, mime)
                         ? 0
                         : EXIT_NOTFOUND;
        } else if (strcmp(query_key, "-") == 0) {
            struct strlist keys;
            strlist_init(&keys);
            stdin_keys(&keys);
            int found = 0;
            for (size_t k = 0; k < keys.count; k++)
                found |= query(dicts, count, keys.items[k], 1);
            status = found ? 0 : EXIT_NOTFOUND;
            strlist_free(&keys);
        } else {
            status = query(dicts, count, query_key, 0) ? 0 : EXIT_NOTFOUND;
        }
        open_dict_count = 0;
        for (int i = 0; i < count; i++)
            dict_close(dicts[i]);
        free(dicts);
        open_dicts = NULL;
    } else if (delete_key) {
        struct strlist keys;
        strlist_init(&keys);
        if (strcmp(delete_key, "-") == 0)
            stdin_keys(&keys);
        else
            strlist_add(&keys, delete_key);
        int found = 0;
        for (int i = 0; i < count; i++) {
            struct dict *d = dict_open(specs[i], flags | DICT_FLAG_WRITE, &err);
            if (d == NULL)
                die("%s", err.data);
            int result = 0;
            for (size_t k = 0; k < keys.count && result >= 0; k++) {
                if (!key_usable(d, keys.items[k]))
                    continue;
                result = dict_delete(d, keys.items[k], &err);
                found |= result == 0;
            }
            if (result < 0 || dict_commit(d, &err) < 0) {
                dict_close(d); /* removes the unfinished new file */
                die("%s", err.data);
            }
            dict_close(d);
        }
        strlist_free(&keys);
        status = found ? 0 : EXIT_NOTFOUND;
    } else if (incremental) {
        struct buf input = BUF_INIT;
        read_stdin(&input);
        for (int i = 0; i < count; i++)
            load_table(specs[i], flags | DICT_FLAG_WRITE, "standard input",
                       &input, NULL);
        buf_free(&input);
    } else {
        for (int i = 0; i < count; i++)
            build(specs[i], flags, keep_privileges, default_mode);
    }

    fflush(stdout);
    if (ferror(stdout))
        die("write standard output: %s", strerror(errno));
    for (int i = 0; i < count; i++)
        free(specs[i]);
    free(specs);
    buf_free(&err);
    return status;
}
