/* queue_dirs.c: queue subdirectory names, safe paths, moves (see
 * queue_dirs.h). */
#include "base/fsync_dir.h"
#include "queue/queue_dirs.h"
#include "queue/qfile_pool.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "queue/qfile.h"
#include "queue/qid.h"

static const char *const QUEUE_NAMES[QUEUE_COUNT] = {
    [QUEUE_INCOMING] = "incoming", [QUEUE_ACTIVE] = "active",
    [QUEUE_DEFERRED] = "deferred", [QUEUE_HOLD] = "hold",
    [QUEUE_CORRUPT] = "corrupt",   [QUEUE_DEFER] = "defer",
    [QUEUE_BOUNCE] = "bounce",     [QUEUE_MAILDROP] = "maildrop",
};

const char *queue_dir_name(enum queue_name queue)
{
    if ((unsigned)queue >= QUEUE_COUNT)
        return NULL;
    return QUEUE_NAMES[queue];
}

int queue_dir_lookup(const char *name, enum queue_name *out)
{
    for (int i = 0; i < QUEUE_COUNT; i++) {
        if (strcmp(QUEUE_NAMES[i], name) == 0) {
            *out = (enum queue_name)i;
            return 0;
        }
    }
    return -1;
}

int queue_dir_holds_messages(enum queue_name queue)
{
    return (unsigned)queue < QUEUE_COUNT && queue != QUEUE_DEFER &&
           queue != QUEUE_BOUNCE;
}

void queue_dir_path(struct buf *out, const char *queue_directory,
                    enum queue_name queue)
{
    buf_reset(out);
    const char *name = queue_dir_name(queue);
    buf_appendf(out, "%s/%s", queue_directory, name ? name : "");
}

int queue_path(struct buf *out, const char *queue_directory,
               enum queue_name queue, const char *qid)
{
    buf_reset(out);
    const char *name = queue_dir_name(queue);
    if (name == NULL || !qid_valid(qid))
        return -1;
    buf_appendf(out, "%s/%s/%s", queue_directory, name, qid);
    return 0;
}

int queue_dir_sync(const char *queue_directory, enum queue_name queue,
                   struct buf *err)
{
    struct buf dir = BUF_INIT;
    queue_dir_path(&dir, queue_directory, queue);
    int result = fsync_dir(buf_cstr(&dir), err);
    buf_free(&dir);
    return result;
}

int queue_move(const char *queue_directory, const char *qid,
               enum queue_name from, enum queue_name to, int sync,
               struct buf *err)
{
    struct buf from_path = BUF_INIT, to_path = BUF_INIT;
    int result = -1;
    if (queue_path(&from_path, queue_directory, from, qid) < 0 ||
        queue_path(&to_path, queue_directory, to, qid) < 0) {
        buf_append_str(err, "invalid queue id or queue");
        errno = EINVAL;
    } else if (rename(buf_cstr(&from_path), buf_cstr(&to_path)) < 0) {
        int saved = errno;
        buf_appendf(err, "rename %s to %s: %s", buf_cstr(&from_path),
                    buf_cstr(&to_path), strerror(saved));
        errno = saved;
    } else if (sync && queue_dir_sync(queue_directory, to, err) < 0) {
        /* The rename happened; only its durability is in doubt. */
    } else {
        result = 0;
    }
    buf_free(&from_path);
    buf_free(&to_path);
    return result;
}

int queue_dirs_create(const char *queue_directory, unsigned mode,
                      struct buf *err)
{
    struct buf dir = BUF_INIT;
    int result = 0;
    for (int i = 0; i < QUEUE_COUNT && result == 0; i++) {
        queue_dir_path(&dir, queue_directory, (enum queue_name)i);
        if (mkdir(buf_cstr(&dir), (mode_t)mode) < 0 && errno != EEXIST) {
            buf_appendf(err, "mkdir %s: %s", buf_cstr(&dir), strerror(errno));
            result = -1;
        }
    }
    /* The pool of reusable queue files (lib/queue/qfile_pool.h). */
    buf_reset(&dir);
    buf_appendf(&dir, "%s/%s", queue_directory, QFILE_POOL_DIR);
    if (result == 0 && mkdir(buf_cstr(&dir), (mode_t)mode) < 0 &&
        errno != EEXIST) {
        buf_appendf(err, "mkdir %s: %s", buf_cstr(&dir), strerror(errno));
        result = -1;
    }
    buf_free(&dir);
    return result;
}

int queue_dir_identify(const char *dir, struct queue_dir_id *id)
{
    struct stat st;
    if (stat(dir, &st) < 0)
        return -1;
    id->dev = st.st_dev;
    id->ino = st.st_ino;
    return 0;
}

int queue_dir_is_root(const struct queue_dir_id *id)
{
    struct stat root;
    return stat("/", &root) == 0 && root.st_dev == id->dev &&
           root.st_ino == id->ino;
}
