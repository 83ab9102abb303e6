/* dict.c: the table registry and everything table types share (see
 * dict.h and dict_impl.h): spec parsing, case folding, the trailing-NUL
 * convention of Postfix's indexed files, reload on change, and atomic
 * writes (temp file, fsync, rename, directory fsync). */
#include "tables/dict.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tables/dict_impl.h"
#include "base/fsync_dir.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/str.h"

static const struct dict_type *const dict_types[] = {
    &dict_type_hash,   &dict_type_btree,  &dict_type_lmdb,
    &dict_type_regexp, &dict_type_pcre,   &dict_type_cidr,
    &dict_type_static, &dict_type_inline, &dict_type_texthash,
    &dict_type_fail,
    &dict_type_unix,
    &dict_type_pgsql,  &dict_type_mysql,
};

static const struct dict_type *dict_find_type(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof(dict_types) / sizeof(dict_types[0]); i++)
        if (strlen(dict_types[i]->name) == len &&
            memcmp(dict_types[i]->name, name, len) == 0)
            return dict_types[i];
    return NULL;
}

int dict_type_known(const char *type)
{
    return dict_find_type(type, strlen(type)) != NULL;
}

void dict_type_names(struct strlist *out)
{
    for (size_t i = 0; i < sizeof(dict_types) / sizeof(dict_types[0]); i++)
        if (dict_types[i]->compiled_in == NULL || dict_types[i]->compiled_in())
            strlist_add(out, dict_types[i]->name);
}

int dict_type_writable(const char *type)
{
    const struct dict_type *t = dict_find_type(type, strlen(type));
    return t != NULL && t->wopen != NULL;
}

/* Splits "type:name"; NULL with err when malformed or unknown. */
static const struct dict_type *dict_parse_spec(const char *spec,
                                               const char **name,
                                               struct buf *err)
{
    const char *colon = strchr(spec, ':');
    if (colon == NULL || colon == spec) {
        buf_appendf(err, "table \"%s\": expected type:name", spec);
        return NULL;
    }
    const struct dict_type *type = dict_find_type(spec, (size_t)(colon - spec));
    if (type == NULL) {
        buf_appendf(err, "table \"%s\": unsupported table type \"%.*s\"",
                    spec, (int)(colon - spec), spec);
        return NULL;
    }
    *name = colon + 1;
    if (**name == 0 && type != &dict_type_static) {
        buf_appendf(err, "table \"%s\": empty table name", spec);
        return NULL;
    }
    return type;
}

char *dict_file_path(const char *spec)
{
    struct buf ignored = BUF_INIT;
    const char *name;
    const struct dict_type *type = dict_parse_spec(spec, &name, &ignored);
    buf_free(&ignored);
    if (type == NULL || type->suffix == NULL)
        return NULL;
    return xasprintf("%s%s", name, type->suffix);
}

static struct dict *dict_alloc(const struct dict_type *type, const char *spec,
                               const char *name, int flags)
{
    struct dict *d = xcalloc(1, sizeof(*d));
    d->type = type;
    d->spec = xstrdup(spec);
    d->name = xstrdup(name);
    d->flags = flags;
    d->lock_fd = -1;
    mode_t mask = umask(022);
    umask(mask);
    d->mode = 0666 & ~mask;
    buf_init(&d->error);
    buf_init(&d->key);
    return d;
}

static void dict_release(struct dict *d)
{
    if (d->impl)
        d->type->release(d);
    d->impl = NULL;
    d->loaded = 0;
    d->nul_state = 0;
}

/* (Re)loads the table. Records the identity of the file first, so a
 * change that races with the load triggers one more reload, never a
 * missed one. */
static int dict_load(struct dict *d, struct buf *err)
{
    dict_release(d);
    if (d->path) {
        struct stat st;
        if (stat(d->path, &st) < 0) {
            d->seen_valid = 0;
            buf_appendf(err, "open %s: %s", d->path, strerror(errno));
            return -1;
        }
        d->seen = st;
        d->seen_valid = 1;
    }
    if (d->type->load(d, err) < 0) {
        dict_release(d);
        return -1;
    }
    d->loaded = 1;
    return 0;
}

static int dict_lock_target(struct dict *d, struct buf *err);
static int dict_begin_write(struct dict *d, struct buf *err);

struct dict *dict_open(const char *spec, int flags, struct buf *err)
{
    struct buf local = BUF_INIT;
    if (err == NULL)
        err = &local;
    else
        buf_reset(err);
    const char *name;
    const struct dict_type *type = dict_parse_spec(spec, &name, err);
    if (type == NULL) {
        buf_free(&local);
        return NULL;
    }
    struct dict *d = dict_alloc(type, spec, name, flags);
    if (type->suffix)
        d->path = xasprintf("%s%s", name, type->suffix);

    if (flags & (DICT_FLAG_CREATE | DICT_FLAG_WRITE)) {
        if (type->wopen == NULL) {
            buf_appendf(err, "%s: tables of type %s are read-only", spec,
                        type->name);
            dict_close(d);
            d = NULL;
        } else if (dict_begin_write(d, err) < 0) {
            dict_close(d);
            d = NULL;
        }
        buf_free(&local);
        return d;
    }

    if (dict_load(d, err) < 0) {
        buf_set(&d->error, err->data, err->len);
        if ((flags & DICT_FLAG_STRICT) || type->suffix == NULL) {
            /* Without a file nothing can ever fix it: the spec is bad. */
            dict_close(d);
            d = NULL;
        } else {
            log_warn("%s is unavailable: %s", spec, err->data);
        }
    }
    buf_free(&local);
    return d;
}

struct dict *dict_open_text(const char *type_name, const char *name,
                            const char *text, size_t len, int flags,
                            struct buf *err)
{
    buf_reset(err);
    const struct dict_type *type = dict_find_type(type_name, strlen(type_name));
    if (type == NULL || type->load_text == NULL) {
        buf_appendf(err, "%s: not a text table type", type_name);
        return NULL;
    }
    char *spec = xasprintf("%s:%s", type_name, name);
    struct dict *d = dict_alloc(type, spec, name, flags);
    free(spec);
    if (type->load_text(d, text, len, err) < 0) {
        dict_close(d);
        return NULL;
    }
    d->loaded = 1;
    return d;
}

const char *dict_spec(const struct dict *d)
{
    return d->spec;
}

const char *dict_last_error(const struct dict *d)
{
    return buf_cstr(&d->error);
}

static int dict_file_changed(const struct stat *now, const struct stat *then)
{
    return now->st_dev != then->st_dev || now->st_ino != then->st_ino ||
           now->st_size != then->st_size ||
           now->st_mtim.tv_sec != then->st_mtim.tv_sec ||
           now->st_mtim.tv_nsec != then->st_mtim.tv_nsec;
}

/* Makes sure the loaded table matches its file; 0 when usable. */
static int dict_refresh(struct dict *d)
{
    if (d->writing || d->path == NULL)
        return d->loaded ? 0 : -1;
    struct stat st;
    if (stat(d->path, &st) < 0) {
        int saved = errno;
        dict_release(d);
        d->seen_valid = 0;
        buf_reset(&d->error);
        buf_appendf(&d->error, "open %s: %s", d->path, strerror(saved));
        return -1;
    }
    if (d->seen_valid && !dict_file_changed(&st, &d->seen))
        return d->loaded ? 0 : -1;
    if (d->seen_valid && d->loaded)
        log_info("%s: file changed, reloading", d->spec);
    buf_reset(&d->error);
    if (dict_load(d, &d->error) < 0) {
        log_warn("%s is unavailable: %s", d->spec, d->error.data);
        return -1;
    }
    return 0;
}

/* Removes one trailing NUL from a stored value. */
static void dict_strip_nul(struct buf *value)
{
    if (value->len > 0 && value->data[value->len - 1] == 0)
        value->len--;
}

enum dict_result dict_lookup(struct dict *d, const char *key,
                             struct buf *value)
{
    if (dict_refresh(d) < 0) {
        log_warn("%s lookup error for \"%s\": %s", d->spec, key,
                 buf_cstr(&d->error));
        return DICT_ERROR;
    }
    buf_set_str(&d->key, key);
    if (d->type->fold && !(d->flags & DICT_FLAG_NO_FOLD))
        str_lower(d->key.data);
    const char *k = d->key.data; /* with its NUL at k[k_len] */
    size_t k_len = d->key.len;

    enum dict_result result;
    if (!d->type->nul_keys) {
        result = d->type->lookup(d, k, k_len, value);
    } else {
        int try_with = !(d->flags & DICT_FLAG_NO_NUL) && d->nul_state != 2;
        int try_without = !(d->flags & DICT_FLAG_NUL_ONLY) && d->nul_state != 1;
        result = DICT_NOTFOUND;
        if (try_with) {
            result = d->type->lookup(d, k, k_len + 1, value);
            if (result == DICT_FOUND && !d->writing)
                d->nul_state = 1;
        }
        if (result == DICT_NOTFOUND && try_without) {
            result = d->type->lookup(d, k, k_len, value);
            if (result == DICT_FOUND && !d->writing)
                d->nul_state = 2;
        }
        if (result == DICT_FOUND)
            dict_strip_nul(value);
        if (value->data)
            value->data[value->len] = 0;
    }
    if (result == DICT_ERROR)
        log_warn("%s lookup error for \"%s\": %s", d->spec, key,
                 buf_cstr(&d->error));
    return result;
}

struct dict_iter_ctx {
    dict_iter_fn fn;
    void *ctx;
    struct buf key, value;
};

static int dict_iter_strip(void *ctx, const char *key, size_t key_len,
                           const char *value, size_t value_len)
{
    struct dict_iter_ctx *ic = ctx;
    if (key_len > 0 && key[key_len - 1] == 0)
        key_len--;
    if (value_len > 0 && value[value_len - 1] == 0)
        value_len--;
    buf_set(&ic->key, key, key_len);
    buf_set(&ic->value, value, value_len);
    return ic->fn(ic->ctx, ic->key.data, ic->value.data);
}

int dict_iterate(struct dict *d, dict_iter_fn fn, void *ctx, struct buf *err)
{
    if (d->type->iterate == NULL) {
        buf_appendf(err, "%s: tables of type %s cannot be listed", d->spec,
                    d->type->name);
        return -1;
    }
    if (dict_refresh(d) < 0) {
        buf_appendf(err, "%s", buf_cstr(&d->error));
        return -1;
    }
    struct dict_iter_ctx ic = {fn, ctx, BUF_INIT, BUF_INIT};
    int status = d->type->iterate(d, dict_iter_strip, &ic, err);
    buf_free(&ic.key);
    buf_free(&ic.value);
    return status;
}

/* ---- writing ---- */

/* Serialises writers of one table: an exclusive flock on the current
 * file. A writer that waited may find the file renamed away meanwhile,
 * so it checks the lock is on the file the path names now. */
static int dict_lock_target(struct dict *d, struct buf *err)
{
    for (int attempt = 0; attempt < 100; attempt++) {
        int fd = open(d->path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            if (errno == ENOENT)
                return 0; /* nothing to protect yet */
            buf_appendf(err, "open %s: %s", d->path, strerror(errno));
            return -1;
        }
        if (flock(fd, LOCK_EX) < 0) {
            buf_appendf(err, "lock %s: %s", d->path, strerror(errno));
            close(fd);
            return -1;
        }
        struct stat locked, named;
        if (fstat(fd, &locked) == 0 && stat(d->path, &named) == 0 &&
            locked.st_dev == named.st_dev && locked.st_ino == named.st_ino) {
            d->lock_fd = fd;
            d->mode = locked.st_mode & 07777;
            return 0;
        }
        close(fd);
    }
    buf_appendf(err, "lock %s: file keeps changing", d->path);
    return -1;
}

static int dict_copy_entry(void *ctx, const char *key, size_t key_len,
                           const char *value, size_t value_len)
{
    struct dict *d = ctx;
    return d->type->wput(d, key, key_len, value, value_len, 1, &d->error) < 0;
}

static int dict_begin_write(struct dict *d, struct buf *err)
{
    static unsigned serial;
    if (dict_lock_target(d, err) < 0)
        return -1;
    d->temp_path = xasprintf("%s.tmp.%ld.%u", d->path, (long)getpid(), serial++);
    unlink(d->temp_path);
    if (d->type->wopen(d, d->temp_path, err) < 0) {
        unlink(d->temp_path);
        return -1;
    }
    d->writing = 1;
    d->loaded = 1;
    if (!(d->flags & DICT_FLAG_WRITE) || d->lock_fd < 0)
        return 0;

    /* Start from a copy of the current table. */
    struct dict *old = dict_open(d->spec, DICT_FLAG_STRICT, err);
    if (old == NULL)
        return -1;
    buf_reset(&d->error);
    int status = old->type->iterate(old, dict_copy_entry, d, err);
    if (status == 0 && d->error.len) {
        buf_append(err, d->error.data, d->error.len);
        status = -1;
    }
    dict_close(old);
    return status == 0 ? 0 : -1;
}

static int dict_check_writing(struct dict *d, struct buf *err)
{
    if (!d->writing) {
        buf_appendf(err, "%s: table is not open for writing", d->spec);
        return -1;
    }
    return 0;
}

int dict_put(struct dict *d, const char *key, const char *value,
             struct buf *err)
{
    if (dict_check_writing(d, err) < 0)
        return -1;
    struct buf k = BUF_INIT;
    buf_set_str(&k, key);
    if (!(d->flags & DICT_FLAG_NO_FOLD))
        str_lower(k.data);
    int nul = !(d->flags & DICT_FLAG_NO_NUL);
    int status = d->type->wput(d, k.data, k.len + nul, value,
                               strlen(value) + nul,
                               (d->flags & DICT_FLAG_DUP_REPLACE) != 0, err);
    if (status == 1 && !(d->flags & DICT_FLAG_DUP_IGNORE))
        log_warn("%s: duplicate entry: \"%s\"", d->spec, k.data);
    buf_free(&k);
    return status;
}

int dict_delete(struct dict *d, const char *key, struct buf *err)
{
    if (dict_check_writing(d, err) < 0)
        return -1;
    struct buf k = BUF_INIT;
    buf_set_str(&k, key);
    if (!(d->flags & DICT_FLAG_NO_FOLD))
        str_lower(k.data);
    int with = d->type->wdelete(d, k.data, k.len + 1, err);
    int without = with < 0 ? -1 : d->type->wdelete(d, k.data, k.len, err);
    buf_free(&k);
    if (with < 0 || without < 0)
        return -1;
    return with == 0 || without == 0 ? 0 : 1;
}

void dict_set_mode(struct dict *d, unsigned mode)
{
    d->mode = mode & 07777;
}

static int dict_fsync_file(const char *path, struct buf *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) < 0) {
        buf_appendf(err, "fsync %s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    close(fd);
    return 0;
}

int dict_commit(struct dict *d, struct buf *err)
{
    if (dict_check_writing(d, err) < 0)
        return -1;
    d->writing = 0;
    d->loaded = 0;
    int status = d->type->wclose(d, 1, err);
    d->impl = NULL;
    if (status == 0)
        status = dict_fsync_file(d->temp_path, err);
    if (status == 0 && chmod(d->temp_path, d->mode) < 0) {
        buf_appendf(err, "chmod %s: %s", d->temp_path, strerror(errno));
        status = -1;
    }
    if (status == 0 && rename(d->temp_path, d->path) < 0) {
        buf_appendf(err, "rename %s to %s: %s", d->temp_path, d->path,
                    strerror(errno));
        status = -1;
    }
    if (status < 0) {
        unlink(d->temp_path);
    } else {
        /* The rename is durable only once the directory is on disk. */
        status = fsync_parent_dir(d->path, err);
    }
    free(d->temp_path);
    d->temp_path = NULL;
    if (d->lock_fd >= 0)
        close(d->lock_fd);
    d->lock_fd = -1;
    return status;
}

void dict_close(struct dict *d)
{
    if (d == NULL)
        return;
    if (d->writing) {
        struct buf ignored = BUF_INIT;
        d->type->wclose(d, 0, &ignored);
        buf_free(&ignored);
        d->impl = NULL;
    }
    if (d->temp_path) {
        unlink(d->temp_path);
        free(d->temp_path);
    }
    if (d->lock_fd >= 0)
        close(d->lock_fd);
    dict_release(d);
    free(d->spec);
    free(d->name);
    free(d->path);
    buf_free(&d->error);
    buf_free(&d->key);
    free(d);
}
