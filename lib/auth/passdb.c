/* passdb.c: the `passdb` table list of the auth service; see passdb.h. */
#include "auth/passdb.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "auth/passwd_file.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/str.h"
#include "tables/dict.h"

/* At most this many of a passwd-file's problem lines are logged per load. */
#define PASSDB_PROBLEMS_LOGGED 20

struct passdb_table {
    char *spec;
    char type[16];
    /* passwd-file: */
    char *path;                /* NULL for one held in memory */
    struct passwd_file *file;  /* NULL while unreadable */
    struct stat seen;          /* what was read */
    time_t checked;            /* last stat, for the once-a-second check */
    struct buf load_error;
    /* any other table type: */
    struct dict *dict;
};

struct passdb {
    struct passdb_table *tables;
    size_t count;
};

static void set_type(struct passdb_table *t, const char *type, size_t len)
{
    if (len >= sizeof(t->type))
        len = sizeof(t->type) - 1;
    memcpy(t->type, type, len);
    t->type[len] = 0;
}

static void log_problems(const struct passwd_file *file)
{
    for (size_t i = 0; i < file->problems.count; i++) {
        if (i == PASSDB_PROBLEMS_LOGGED) {
            log_warn("passwd-file %s: %zu more bad lines not shown",
                     file->name, file->problems.count - i);
            break;
        }
        log_warn("passwd-file %s (line skipped)",
                 file->problems.items[i]);
    }
}

/* (Re)reads t's passwd-file when it changed since the last read. */
static void passwd_file_refresh(struct passdb_table *t)
{
    time_t now = time(NULL);
    if (t->path == NULL || (t->file && now == t->checked))
        return;
    t->checked = now;
    struct stat st;
    if (stat(t->path, &st) < 0) {
        buf_reset(&t->load_error);
        buf_appendf(&t->load_error, "%s: %s", t->path, strerror(errno));
        if (t->file) {
            log_warn("passwd-file %s: %s; keeping the copy read earlier",
                     t->path, strerror(errno));
            buf_reset(&t->load_error);
        }
        return;
    }
    if (t->file && st.st_size == t->seen.st_size &&
        st.st_mtim.tv_sec == t->seen.st_mtim.tv_sec &&
        st.st_mtim.tv_nsec == t->seen.st_mtim.tv_nsec &&
        st.st_ino == t->seen.st_ino && st.st_dev == t->seen.st_dev)
        return;
    struct buf err = BUF_INIT;
    struct passwd_file *fresh =
        passwd_file_load(t->path, PASSWD_FILE_MAX_SIZE, &err);
    if (fresh == NULL) {
        log_warn("passwd-file %s: %s", t->path, buf_cstr(&err));
        if (t->file == NULL)
            buf_set_str(&t->load_error, buf_cstr(&err));
        buf_free(&err);
        return;
    }
    buf_free(&err);
    if (t->file)
        log_info("passwd-file %s: re-read, %zu users", t->path, fresh->count);
    log_problems(fresh);
    passwd_file_free(t->file);
    t->file = fresh;
    t->seen = st;
    buf_reset(&t->load_error);
}

struct passdb *passdb_open(const char *value, struct buf *err)
{
    struct strlist specs;
    strlist_init(&specs);
    str_split_list(value, &specs);
    struct passdb *db = xcalloc(1, sizeof(*db));
    db->tables = xcalloc(specs.count ? specs.count : 1, sizeof(*db->tables));
    for (size_t i = 0; i < specs.count; i++) {
        const char *spec = specs.items[i];
        /* proxy: (Postfix's proxymap) is dropped, as for every other
         * table parameter (maps.c): seeds write proxy:mysql:... */
        while (str_has_prefix(spec, "proxy:"))
            spec += strlen("proxy:");
        const char *colon = strchr(spec, ':');
        if (colon == NULL || colon == spec || colon[1] == 0) {
            buf_appendf(err, "passdb: \"%s\" is not TYPE:NAME", spec);
            goto fail;
        }
        struct passdb_table *t = &db->tables[db->count];
        buf_init(&t->load_error);
        t->spec = xstrdup(spec);
        set_type(t, spec, (size_t)(colon - spec));
        db->count++;
        if (strcmp(t->type, "passwd-file") == 0) {
            t->path = xstrdup(colon + 1);
            passwd_file_refresh(t);
            continue;
        }
        if (!dict_type_known(t->type)) {
            buf_appendf(err, "passdb: unknown table type \"%s\" in %s",
                        t->type, spec);
            goto fail;
        }
        t->dict = dict_open(spec, DICT_FLAG_NO_REGSUB, err);
        if (t->dict == NULL)
            goto fail;
        buf_reset(err); /* a load problem was logged; lookups fail */
    }
    strlist_free(&specs);
    return db;
fail:
    strlist_free(&specs);
    passdb_close(db);
    return NULL;
}

struct passdb *passdb_open_passwd_text(const char *name, const char *text,
                                       size_t len)
{
    struct passdb *db = xcalloc(1, sizeof(*db));
    db->tables = xcalloc(1, sizeof(*db->tables));
    struct passdb_table *t = &db->tables[0];
    buf_init(&t->load_error);
    t->spec = xasprintf("passwd-file:%s", name);
    set_type(t, "passwd-file", strlen("passwd-file"));
    t->file = passwd_file_parse(name, text, len);
    db->count = 1;
    return db;
}

static void fill_user(struct passdb_user *out, const struct passwd_entry *e,
                      const char *type)
{
    memset(out, 0, sizeof(*out));
    out->password = xstrdup(e->password ? e->password : "");
    out->has_uid = e->has_uid;
    out->has_gid = e->has_gid;
    out->uid = e->uid;
    out->gid = e->gid;
    out->home = e->home ? xstrdup(e->home) : NULL;
    out->mail = e->mail ? xstrdup(e->mail) : NULL;
    out->quota_storage = e->quota_storage ? xstrdup(e->quota_storage) : NULL;
    out->is_virtual = passwd_entry_is_virtual(e);
    str_copy(out->table_type, type, sizeof(out->table_type));
}

/* Reads a table result "PASSWORD [extra fields]" with the passwd-file
 * reader's rules, so uid/gid checks and field names are the same. */
static enum passdb_result parse_result(const struct passdb_table *t,
                                       const char *value,
                                       struct passdb_user *out,
                                       struct buf *err)
{
    if (strpbrk(value, "\r\n") != NULL) {
        buf_appendf(err, "%s: result holds a line break", t->spec);
        return PASSDB_ERROR;
    }
    while (*value == ' ' || *value == '\t')
        value++;
    size_t password_len = strcspn(value, " \t");
    if (password_len == 0 || memchr(value, ':', password_len)) {
        buf_appendf(err, "%s: result has %s", t->spec,
                    password_len ? "a ':' in the password" : "no password");
        return PASSDB_ERROR;
    }
    struct buf line = BUF_INIT;
    buf_append_str(&line, "u:");
    buf_append(&line, value, password_len);
    buf_append_str(&line, "::::::");
    buf_append_str(&line, value + password_len);
    struct passwd_file *parsed =
        passwd_file_parse(t->spec, line.data, line.len);
    buf_free(&line);
    const struct passwd_entry *e = passwd_file_lookup(parsed, "u");
    enum passdb_result r = PASSDB_FOUND;
    if (e == NULL) {
        const char *why = parsed->problems.count ? parsed->problems.items[0]
                                                 : "unreadable result";
        buf_appendf(err, "%s", why);
        r = PASSDB_ERROR;
    } else {
        fill_user(out, e, t->type);
    }
    passwd_file_free(parsed);
    return r;
}

enum passdb_result passdb_lookup(struct passdb *db, const char *user,
                                 struct passdb_user *out, struct buf *err)
{
    for (size_t i = 0; i < db->count; i++) {
        struct passdb_table *t = &db->tables[i];
        if (t->dict == NULL) {
            passwd_file_refresh(t);
            if (t->file == NULL) {
                buf_appendf(err, "%s: %s", t->spec,
                            t->load_error.len ? buf_cstr(&t->load_error)
                                              : "cannot be read");
                return PASSDB_ERROR;
            }
            const struct passwd_entry *e = passwd_file_lookup(t->file, user);
            if (e) {
                fill_user(out, e, t->type);
                return PASSDB_FOUND;
            }
            continue;
        }
        struct buf value = BUF_INIT;
        enum dict_result r = dict_lookup(t->dict, user, &value);
        if (r == DICT_ERROR) {
            buf_appendf(err, "%s: %s", t->spec, dict_last_error(t->dict));
            buf_free(&value);
            return PASSDB_ERROR;
        }
        if (r == DICT_FOUND) {
            enum passdb_result pr = parse_result(t, buf_cstr(&value), out, err);
            buf_free(&value);
            return pr;
        }
        buf_free(&value);
    }
    return PASSDB_NOTFOUND;
}

int passdb_check(const char *value, struct strlist *problems)
{
    size_t before = problems->count;
    struct strlist specs;
    strlist_init(&specs);
    str_split_list(value, &specs);
    struct buf line = BUF_INIT, err = BUF_INIT;
    for (size_t i = 0; i < specs.count; i++) {
        const char *spec = specs.items[i];
        const char *colon = strchr(spec, ':');
        buf_reset(&line);
        buf_reset(&err);
        if (colon == NULL || colon == spec || colon[1] == 0) {
            buf_appendf(&line, "passdb: %s: not TYPE:NAME (passwd-file:PATH, "
                               "hash:PATH, ...); the auth service will not "
                               "start", spec);
            strlist_add(problems, buf_cstr(&line));
            continue;
        }
        if (!str_has_prefix(spec, "passwd-file:"))
            continue;
        const char *path = colon + 1;
        struct passwd_file *file =
            passwd_file_load(path, PASSWD_FILE_MAX_SIZE, &err);
        if (file == NULL) {
            buf_appendf(&line, "passdb: passwd-file %s; every login will "
                               "fail temporarily", buf_cstr(&err));
            strlist_add(problems, buf_cstr(&line));
            continue;
        }
        for (size_t j = 0; j < file->problems.count; j++) {
            buf_reset(&line);
            buf_appendf(&line, "passdb: passwd-file %s",
                        file->problems.items[j]);
            strlist_add(problems, buf_cstr(&line));
        }
        passwd_file_free(file);
    }
    buf_free(&line);
    buf_free(&err);
    strlist_free(&specs);
    return (int)(problems->count - before);
}

size_t passdb_table_count(const struct passdb *db)
{
    return db->count;
}

void passdb_user_free(struct passdb_user *user)
{
    if (user->password) {
        memset(user->password, 0, strlen(user->password));
        free(user->password);
    }
    free(user->home);
    free(user->mail);
    free(user->quota_storage);
    memset(user, 0, sizeof(*user));
}

void passdb_close(struct passdb *db)
{
    if (db == NULL)
        return;
    for (size_t i = 0; i < db->count; i++) {
        struct passdb_table *t = &db->tables[i];
        free(t->spec);
        free(t->path);
        passwd_file_free(t->file);
        buf_free(&t->load_error);
        dict_close(t->dict);
    }
    free(db->tables);
    free(db);
}
