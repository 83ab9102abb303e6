/* dict_lmdb.c: lmdb: tables, one LMDB file NAME.lmdb (MDB_NOSUBDIR, as
 * Postfix names them), keys and values with the same trailing-NUL
 * convention as hash: (dict.c). A complete alternative to Berkeley DB:
 * set default_database_type = lmdb.
 *
 * Readers map the file read-only with MDB_NOLOCK and need no lock file:
 * Postern never writes a table file in place, it builds a new one (also
 * MDB_NOLOCK: one writer, private file) and renames it over the old, so
 * there is no concurrent writer to coordinate with. An unprivileged
 * daemon can therefore read a table in a directory it cannot write. */
#include <errno.h>
#include <lmdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tables/dict_impl.h"
#include "base/mem.h"

/* Entries are written in batches of this many per transaction. When the
 * map fills up the batch is replayed into a larger map. */
#define DICT_LMDB_BATCH 1024
#define DICT_LMDB_MIN_MAP (8UL * 1024 * 1024)

struct dict_lmdb_op {
    char *key, *value; /* value NULL: delete */
    size_t key_len, value_len;
    int replace;
};

struct dict_lmdb {
    MDB_env *env;
    MDB_dbi dbi;
    MDB_txn *txn;       /* readers: a reset read txn; writers: the open
                           batch transaction */
    int writer;
    size_t map_size;
    /* writer: operations of the current batch, for replay */
    struct dict_lmdb_op *ops;
    size_t op_count;
};

static int dict_lmdb_env(struct dict *d, const char *path, unsigned flags,
                         size_t map_size, struct buf *err)
{
    struct dict_lmdb *impl = xcalloc(1, sizeof(*impl));
    d->impl = impl;
    int status = mdb_env_create(&impl->env);
    if (status == 0)
        status = mdb_env_set_mapsize(impl->env, map_size);
    if (status == 0)
        status = mdb_env_open(impl->env, path,
                              flags | MDB_NOSUBDIR | MDB_NOLOCK, 0600);
    if (status != 0) {
        buf_appendf(err, "open database %s: %s", path, mdb_strerror(status));
        return -1;
    }
    impl->map_size = map_size;
    return 0;
}

static int dict_lmdb_load(struct dict *d, struct buf *err)
{
    if (dict_lmdb_env(d, d->path, MDB_RDONLY, DICT_LMDB_MIN_MAP, err) < 0)
        return -1;
    struct dict_lmdb *impl = d->impl;
    int status = mdb_txn_begin(impl->env, NULL, MDB_RDONLY, &impl->txn);
    if (status == 0)
        status = mdb_dbi_open(impl->txn, NULL, 0, &impl->dbi);
    if (status != 0) {
        buf_appendf(err, "open database %s: %s", d->path, mdb_strerror(status));
        return -1;
    }
    mdb_txn_reset(impl->txn);
    return 0;
}

static void dict_lmdb_free_ops(struct dict_lmdb *impl)
{
    for (size_t i = 0; i < impl->op_count; i++) {
        free(impl->ops[i].key);
        free(impl->ops[i].value);
    }
    impl->op_count = 0;
}

static void dict_lmdb_release(struct dict *d)
{
    struct dict_lmdb *impl = d->impl;
    if (impl->txn)
        mdb_txn_abort(impl->txn);
    if (impl->env)
        mdb_env_close(impl->env);
    dict_lmdb_free_ops(impl);
    free(impl->ops);
    free(impl);
    d->impl = NULL;
}

static enum dict_result dict_lmdb_lookup(struct dict *d, const char *key,
                                         size_t key_len, struct buf *value)
{
    struct dict_lmdb *impl = d->impl;
    MDB_txn *txn;
    int status;
    if (impl->writer) {
        status = impl->txn ? 0 : EINVAL;
        txn = impl->txn;
    } else {
        status = mdb_txn_renew(impl->txn);
        txn = impl->txn;
    }
    if (status != 0) {
        buf_reset(&d->error);
        buf_appendf(&d->error, "read database %s: %s", d->path,
                    mdb_strerror(status));
        return DICT_ERROR;
    }
    MDB_val k = {key_len, (void *)key}, v;
    enum dict_result result = DICT_FOUND;
    if (key_len == 0 || key_len > (size_t)mdb_env_get_maxkeysize(impl->env))
        status = MDB_NOTFOUND;
    else
        status = mdb_get(txn, impl->dbi, &k, &v);
    if (status == MDB_NOTFOUND) {
        result = DICT_NOTFOUND;
    } else if (status != 0) {
        buf_reset(&d->error);
        buf_appendf(&d->error, "read database %s: %s", d->path,
                    mdb_strerror(status));
        result = DICT_ERROR;
    } else {
        buf_set(value, v.mv_data, v.mv_size);
    }
    if (!impl->writer)
        mdb_txn_reset(txn);
    return result;
}

static int dict_lmdb_iterate(struct dict *d, dict_raw_fn fn, void *ctx,
                             struct buf *err)
{
    struct dict_lmdb *impl = d->impl;
    MDB_cursor *cursor;
    int status = mdb_txn_renew(impl->txn);
    if (status == 0)
        status = mdb_cursor_open(impl->txn, impl->dbi, &cursor);
    if (status != 0) {
        buf_appendf(err, "read database %s: %s", d->path, mdb_strerror(status));
        mdb_txn_reset(impl->txn);
        return -1;
    }
    MDB_val k, v;
    while ((status = mdb_cursor_get(cursor, &k, &v, MDB_NEXT)) == 0)
        if (fn(ctx, k.mv_data, k.mv_size, v.mv_data, v.mv_size))
            break;
    mdb_cursor_close(cursor);
    mdb_txn_reset(impl->txn);
    if (status != 0 && status != MDB_NOTFOUND) {
        buf_appendf(err, "read database %s: %s", d->path, mdb_strerror(status));
        return -1;
    }
    return 0;
}

static int dict_lmdb_wopen(struct dict *d, const char *path, struct buf *err)
{
    /* Start with room for about twice the table being replaced. */
    size_t map_size = DICT_LMDB_MIN_MAP;
    struct stat st;
    if (stat(d->path, &st) == 0 && (size_t)st.st_size * 2 > map_size)
        map_size = (size_t)st.st_size * 2;
    if (dict_lmdb_env(d, path, MDB_NOSYNC, map_size, err) < 0)
        return -1;
    struct dict_lmdb *impl = d->impl;
    impl->writer = 1;
    impl->ops = xcalloc(DICT_LMDB_BATCH, sizeof(*impl->ops));
    MDB_txn *txn;
    int status = mdb_txn_begin(impl->env, NULL, 0, &txn);
    if (status == 0)
        status = mdb_dbi_open(txn, NULL, MDB_CREATE, &impl->dbi);
    if (status == 0)
        status = mdb_txn_commit(txn);
    if (status == 0)
        status = mdb_txn_begin(impl->env, NULL, 0, &impl->txn);
    if (status != 0) {
        buf_appendf(err, "create database %s: %s", path, mdb_strerror(status));
        return -1;
    }
    return 0;
}

/* Applies one operation in txn. Returns 0 or an LMDB error code; sets
 * *outcome to 1 when a put found the key present (without replace) or a
 * delete found it absent, else 0. */
static int dict_lmdb_apply(struct dict_lmdb *impl, MDB_txn *txn,
                           const struct dict_lmdb_op *op, int *outcome)
{
    MDB_val k = {op->key_len, op->key};
    int status;
    *outcome = 0;
    if (op->value == NULL) {
        status = mdb_del(txn, impl->dbi, &k, NULL);
        if (status == MDB_NOTFOUND) {
            *outcome = 1;
            status = 0;
        }
        return status;
    }
    MDB_val v = {op->value_len, op->value};
    status = mdb_put(txn, impl->dbi, &k, &v, op->replace ? 0 : MDB_NOOVERWRITE);
    if (status == MDB_KEYEXIST) {
        *outcome = 1;
        status = 0;
    }
    return status;
}

/* The map was full: abort, grow the map, and replay the batch in a new
 * transaction. 0, or an LMDB error code. */
static int dict_lmdb_grow(struct dict_lmdb *impl, int *last_outcome)
{
    for (int attempt = 0; attempt < 20; attempt++) {
        mdb_txn_abort(impl->txn);
        impl->txn = NULL;
        impl->map_size *= 2;
        int status = mdb_env_set_mapsize(impl->env, impl->map_size);
        if (status == 0)
            status = mdb_txn_begin(impl->env, NULL, 0, &impl->txn);
        if (status != 0)
            return status;
        int outcome = 0;
        for (size_t i = 0; status == 0 && i < impl->op_count; i++)
            status = dict_lmdb_apply(impl, impl->txn, &impl->ops[i], &outcome);
        if (last_outcome)
            *last_outcome = outcome;
        if (status == 0)
            return 0;
        if (status != MDB_MAP_FULL)
            return status;
    }
    return MDB_MAP_FULL;
}

/* Commits the batch (growing and replaying when the map is full) and,
 * when `reopen`, starts the next transaction. */
static int dict_lmdb_commit_batch(struct dict *d, int reopen, struct buf *err)
{
    struct dict_lmdb *impl = d->impl;
    int status = 0;
    for (int attempt = 0; attempt < 20; attempt++) {
        status = mdb_txn_commit(impl->txn);
        impl->txn = NULL;
        if (status != MDB_MAP_FULL)
            break;
        status = mdb_txn_begin(impl->env, NULL, 0, &impl->txn);
        if (status == 0)
            status = dict_lmdb_grow(impl, NULL);
        if (status != 0)
            break;
    }
    dict_lmdb_free_ops(impl);
    if (status == 0 && reopen)
        status = mdb_txn_begin(impl->env, NULL, 0, &impl->txn);
    if (status != 0) {
        buf_appendf(err, "write database %s: %s", d->temp_path,
                    mdb_strerror(status));
        return -1;
    }
    return 0;
}

/* Applies one operation in the open batch transaction, remembering it
 * for replay; commits every DICT_LMDB_BATCH operations. */
static int dict_lmdb_queue(struct dict *d, const char *key, size_t key_len,
                           const char *value, size_t value_len, int replace,
                           struct buf *err)
{
    struct dict_lmdb *impl = d->impl;
    if (key_len == 0 || key_len > (size_t)mdb_env_get_maxkeysize(impl->env)) {
        if (value == NULL)
            return 1;
        buf_appendf(err, "%s: key length %zu is out of range for lmdb",
                    d->spec, key_len);
        return -1;
    }
    struct dict_lmdb_op *op = &impl->ops[impl->op_count++];
    op->key = xmemdup(key, key_len);
    op->key_len = key_len;
    op->value = value ? xmemdup(value, value_len) : NULL;
    op->value_len = value_len;
    op->replace = replace;
    int result;
    int status = dict_lmdb_apply(impl, impl->txn, op, &result);
    if (status == MDB_MAP_FULL) {
        /* The replay re-applies this operation too; its outcome is the
         * same since the batch replays in order. */
        status = dict_lmdb_grow(impl, &result);
    }
    if (status != 0) {
        buf_appendf(err, "write database %s: %s", d->temp_path,
                    mdb_strerror(status));
        return -1;
    }
    if (impl->op_count == DICT_LMDB_BATCH &&
        dict_lmdb_commit_batch(d, 1, err) < 0)
        return -1;
    return result;
}

static int dict_lmdb_wput(struct dict *d, const char *key, size_t key_len,
                          const char *value, size_t value_len, int replace,
                          struct buf *err)
{
    return dict_lmdb_queue(d, key, key_len, value, value_len, replace, err);
}

static int dict_lmdb_wdelete(struct dict *d, const char *key, size_t key_len,
                             struct buf *err)
{
    return dict_lmdb_queue(d, key, key_len, NULL, 0, 0, err);
}

static int dict_lmdb_wclose(struct dict *d, int keep, struct buf *err)
{
    struct dict_lmdb *impl = d->impl;
    int status = 0;
    if (impl == NULL)
        return 0;
    if (keep) {
        status = dict_lmdb_commit_batch(d, 0, err);
        int sync_status = status == 0 ? mdb_env_sync(impl->env, 1) : 0;
        if (sync_status != 0) {
            buf_appendf(err, "sync database %s: %s", d->temp_path,
                        mdb_strerror(sync_status));
            status = -1;
        }
    }
    dict_lmdb_release(d);
    return status;
}

const struct dict_type dict_type_lmdb = {
    .name = "lmdb", .suffix = ".lmdb", .fold = 1, .nul_keys = 1,
    .load = dict_lmdb_load, .release = dict_lmdb_release,
    .lookup = dict_lmdb_lookup, .iterate = dict_lmdb_iterate,
    .wopen = dict_lmdb_wopen, .wput = dict_lmdb_wput,
    .wdelete = dict_lmdb_wdelete, .wclose = dict_lmdb_wclose,
};
