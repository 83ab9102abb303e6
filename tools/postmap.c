/* postmap.c: build, query, list and edit lookup tables, as Postfix's
 * postmap(1):
 *
 *   postmap [-c DIR] [-f] [-i] [-n|-N] [-o] [-p] [-r] [-w] [-v]
 *           [-s] [-q key] [-d key] [type:]file...
 *
 * Without -q/-s/-d/-i, builds type:file (hash, btree, lmdb) from the text
 * file `file`: the new NAME.db or NAME.lmdb is written beside the table,
 * fsync'ed and renamed into place, so daemons never see half a table. A
 * malformed input line stops the build with "file, line N: why" and the
 * old table stays. For regexp:, pcre:, cidr: and texthash: tables the
 * same command checks the file and reports the first bad line.
 *
 * Exit status: 0 success (for -q/-d: found); 1 for -q/-d when nothing was
 * found; 2 on any error (bad usage, unreadable or malformed table). */
#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "dict.h"
#include "log.h"
#include "mem.h"
#include "str.h"

#define EXIT_NOTFOUND 1
#define EXIT_TROUBLE 2

static void usage(void)
{
    fprintf(stderr,
            "usage: postmap [-c config_dir] [-f] [-i] [-n|-N] [-o] [-p] [-r] "
            "[-w] [-v]\n"
            "               [-s] [-q key] [-d key] [type:]file...\n");
    exit(EXIT_TROUBLE);
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
    struct buf message = BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    buf_vappendf(&message, fmt, ap);
    va_end(ap);
    log_error("%s", message.data);
    exit(EXIT_TROUBLE);
}

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

static void read_stream(FILE *fp, const char *what, struct buf *out)
{
    char chunk[65536];
    size_t got;
    buf_reset(out);
    while ((got = fread(chunk, 1, sizeof(chunk), fp)) > 0)
        buf_append(out, chunk, got);
    if (ferror(fp))
        die("read %s: %s", what, strerror(errno));
}

/* As root, build a table with the rights of the owner of its source
 * file (Postfix does the same), unless -o. */
static void drop_to_owner(const struct stat *st, const char *path)
{
    if (geteuid() != 0 || st->st_uid == 0)
        return;
    if (setgroups(0, NULL) < 0 || setgid(st->st_gid) < 0 ||
        setuid(st->st_uid) < 0)
        die("cannot change to the owner of %s (uid %ld): %s", path,
            (long)st->st_uid, strerror(errno));
}

struct put_ctx {
    struct dict *dict;
    const char *source;
};

static int put_entry(void *ctx, const char *key, const char *value, int line,
                     struct buf *err)
{
    struct put_ctx *pc = ctx;
    int status = dict_put(pc->dict, key, value, err);
    if (status < 0) {
        struct buf why = BUF_INIT;
        buf_appendf(&why, "%s, line %d: %s", pc->source, line, buf_cstr(err));
        buf_set(err, why.data, why.len);
        buf_free(&why);
        return -1;
    }
    return 0;
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
        die("open %s: %s", name, strerror(errno));
    if (!keep_privileges)
        drop_to_owner(&st, name);
    struct buf input = BUF_INIT;
    FILE *fp = fopen(name, "r");
    if (fp == NULL)
        die("open %s: %s", name, strerror(errno));
    read_stream(fp, name, &input);
    fclose(fp);
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
    struct buf value = BUF_INIT;
    for (int i = 0; i < count; i++) {
        switch (dict_lookup(dicts[i], key, &value)) {
        case DICT_FOUND:
            if (print_key)
                printf("%s\t%s\n", key, value.data);
            else
                printf("%s\n", value.data);
            buf_free(&value);
            return 1;
        case DICT_NOTFOUND:
            break;
        case DICT_ERROR:
            fflush(stdout);
            die("%s: lookup of \"%s\" failed: %s", dict_spec(dicts[i]), key,
                dict_last_error(dicts[i]));
        }
    }
    buf_free(&value);
    return 0;
}

/* Splits stdin into trimmed, non-empty lines (keys for -q - and -d -). */
static void stdin_keys(struct strlist *keys)
{
    struct buf input = BUF_INIT;
    read_stream(stdin, "standard input", &input);
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
    printf("%s\t%s\n", key, value);
    return 0;
}

int main(int argc, char **argv)
{
    const char *config_dir = NULL, *query_key = NULL, *delete_key = NULL;
    int flags = 0, incremental = 0, sequence = 0, keep_privileges = 0;
    int default_mode = 0, opt;

    log_set_program("postmap");
    while ((opt = getopt(argc, argv, "bc:d:fhinNopq:rsvw")) != -1) {
        switch (opt) {
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
        case 'b': case 'h':
            die("-b and -h (header/body queries) are not supported");
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
        for (int i = 0; i < count; i++)
            dicts[i] = open_or_die(specs[i], flags);
        if (sequence) {
            for (int i = 0; i < count; i++)
                if (dict_iterate(dicts[i], print_entry, NULL, &err) < 0) {
                    fflush(stdout);
                    die("%s", err.data);
                }
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
        for (int i = 0; i < count; i++)
            dict_close(dicts[i]);
        free(dicts);
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
        read_stream(stdin, "standard input", &input);
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
