/* dict_db.c: hash: and btree: tables, Berkeley DB files NAME.db in the
 * form Postfix's postmap writes (plain DB_HASH or DB_BTREE database, no
 * environment, keys and values normally stored with a trailing NUL; the
 * NUL convention itself lives in dict.c).
 *
 * Readers open the file read-only without locks: Postern's writers never
 * change a table file in place, they rename a complete new one over it
 * (see dict.c), and dict.c reloads when the file changes. */
#include <db.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tables/dict_impl.h"
#include "base/log.h"
#include "base/mem.h"

struct dict_db {
    DB *db;
};

/* Berkeley DB writes its own diagnostics to stderr by default; the
 * failure reaches the caller through the return code anyway. */
static void dict_db_errcall(const DB_ENV *env, const char *prefix,
                            const char *message)
{
    log_debug("Berkeley DB: %s", message);
}

static int dict_db_open_path(struct dict *d, const char *path, DBTYPE type,
                             u_int32_t open_flags, int mode, struct buf *err)
{
    DB *db;
    int status = db_create(&db, NULL, 0);
    if (status != 0) {
        buf_appendf(err, "db_create: %s", db_strerror(status));
        return -1;
    }
    db->set_errcall(db, dict_db_errcall);
    /* A bigger cache than the 256 KB default helps large builds. */
    db->set_cachesize(db, 0, 16 * 1024 * 1024, 0);
    status = db->open(db, NULL, path, NULL, type, open_flags, mode);
    if (status != 0) {
        buf_appendf(err, "open database %s: %s", path, db_strerror(status));
        db->close(db, 0);
        return -1;
    }
    struct dict_db *impl = xcalloc(1, sizeof(*impl));
    impl->db = db;
    d->impl = impl;
    return 0;
}

static DBTYPE dict_db_type(const struct dict *d)
{
    return d->type == &dict_type_btree ? DB_BTREE : DB_HASH;
}

static int dict_db_load(struct dict *d, struct buf *err)
{
    return dict_db_open_path(d, d->path, dict_db_type(d), DB_RDONLY, 0, err);
}

static void dict_db_release(struct dict *d)
{
    struct dict_db *impl = d->impl;
    if (impl->db)
        impl->db->close(impl->db, 0);
    free(impl);
    d->impl = NULL;
}

static enum dict_result dict_db_lookup(struct dict *d, const char *key,
                                       size_t key_len, struct buf *value)
{
    struct dict_db *impl = d->impl;
    DBT k, v;
    memset(&k, 0, sizeof(k));
    memset(&v, 0, sizeof(v));
    k.data = (void *)key;
    k.size = (u_int32_t)key_len;
    int status = impl->db->get(impl->db, NULL, &k, &v, 0);
    if (status == DB_NOTFOUND || status == DB_KEYEMPTY)
        return DICT_NOTFOUND;
    if (status != 0) {
        buf_reset(&d->error);
        buf_appendf(&d->error, "read database %s: %s", d->path,
                    db_strerror(status));
        return DICT_ERROR;
    }
    buf_set(value, v.data, v.size);
    return DICT_FOUND;
}

static int dict_db_iterate(struct dict *d, dict_raw_fn fn, void *ctx,
                           struct buf *err)
{
    struct dict_db *impl = d->impl;
    DBC *cursor;
    int status = impl->db->cursor(impl->db, NULL, &cursor, 0);
    if (status != 0) {
        buf_appendf(err, "read database %s: %s", d->path, db_strerror(status));
        return -1;
    }
    DBT k, v;
    memset(&k, 0, sizeof(k));
    memset(&v, 0, sizeof(v));
    while ((status = cursor->get(cursor, &k, &v, DB_NEXT)) == 0)
        if (fn(ctx, k.data, k.size, v.data, v.size))
            break;
    cursor->close(cursor);
    if (status != 0 && status != DB_NOTFOUND) {
        buf_appendf(err, "read database %s: %s", d->path, db_strerror(status));
        return -1;
    }
    return 0;
}

static int dict_db_wopen(struct dict *d, const char *path, struct buf *err)
{
    return dict_db_open_path(d, path, dict_db_type(d), DB_CREATE | DB_EXCL,
                             0600, err);
}

static int dict_db_wput(struct dict *d, const char *key, size_t key_len,
                        const char *value, size_t value_len, int replace,
                        struct buf *err)
{
    struct dict_db *impl = d->impl;
    DBT k, v;
    memset(&k, 0, sizeof(k));
    memset(&v, 0, sizeof(v));
    k.data = (void *)key;
    k.size = (u_int32_t)key_len;
    v.data = (void *)value;
    v.size = (u_int32_t)value_len;
    if (key_len > UINT32_MAX / 2 || value_len > UINT32_MAX / 2) {
        buf_appendf(err, "%s: entry too large", d->spec);
        return -1;
    }
    int status = impl->db->put(impl->db, NULL, &k, &v,
                               replace ? 0 : DB_NOOVERWRITE);
    if (status == DB_KEYEXIST)
        return 1;
    if (status != 0) {
        buf_appendf(err, "write database %s: %s", d->temp_path,
                    db_strerror(status));
        return -1;
    }
    return 0;
}

static int dict_db_wdelete(struct dict *d, const char *key, size_t key_len,
                           struct buf *err)
{
    struct dict_db *impl = d->impl;
    DBT k;
    memset(&k, 0, sizeof(k));
    k.data = (void *)key;
    k.size = (u_int32_t)key_len;
    int status = impl->db->del(impl->db, NULL, &k, 0);
    if (status == DB_NOTFOUND || status == DB_KEYEMPTY)
        return 1;
    if (status != 0) {
        buf_appendf(err, "write database %s: %s", d->temp_path,
                    db_strerror(status));
        return -1;
    }
    return 0;
}

static int dict_db_wclose(struct dict *d, int keep, struct buf *err)
{
    struct dict_db *impl = d->impl;
    int status = 0;
    if (impl == NULL)
        return 0;
    if (keep) {
        status = impl->db->sync(impl->db, 0);
        if (status != 0)
            buf_appendf(err, "write database %s: %s", d->temp_path,
                        db_strerror(status));
    }
    int close_status = impl->db->close(impl->db, 0);
    if (close_status != 0 && status == 0) {
        buf_appendf(err, "close database %s: %s", d->temp_path,
                    db_strerror(close_status));
        status = close_status;
    }
    impl->db = NULL;
    free(impl);
    d->impl = NULL;
    return status ? -1 : 0;
}

const struct dict_type dict_type_hash = {
    .name = "hash", .suffix = ".db", .fold = 1, .nul_keys = 1,
    .load = dict_db_load, .release = dict_db_release,
    .lookup = dict_db_lookup, .iterate = dict_db_iterate,
    .wopen = dict_db_wopen, .wput = dict_db_wput,
    .wdelete = dict_db_wdelete, .wclose = dict_db_wclose,
};

const struct dict_type dict_type_btree = {
    .name = "btree", .suffix = ".db", .fold = 1, .nul_keys = 1,
    .load = dict_db_load, .release = dict_db_release,
    .lookup = dict_db_lookup, .iterate = dict_db_iterate,
    .wopen = dict_db_wopen, .wput = dict_db_wput,
    .wdelete = dict_db_wdelete, .wclose = dict_db_wclose,
};
