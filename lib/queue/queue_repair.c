/* queue_repair.c: queue structure check and repair (see queue_repair.h). */
#include "queue/queue_repair.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/log.h"
#include "queue/qfile.h"
#include "queue/qfile_reader.h"
#include "queue/qid.h"
#include "queue/qtool.h"
#include "queue/queue_dirs.h"
#include "queue/queue_lock.h"
#include "base/str.h"

static const enum queue_name MESSAGE_QUEUES[] = {
    QUEUE_INCOMING,
    QUEUE_ACTIVE,
    QUEUE_DEFERRED,
    QUEUE_HOLD,
};
#define MESSAGE_QUEUE_COUNT (sizeof(MESSAGE_QUEUES) / sizeof(MESSAGE_QUEUES[0]))

/* A directory entry's name made safe to log: at most 64 bytes, every
 * byte outside printable ASCII shown as '?'. */
static const char *safe_name(struct buf *out, const char *name)
{
    buf_reset(out);
    for (size_t i = 0; name[i] && i < 64; i++) {
        unsigned char c = (unsigned char)name[i];
        buf_append_char(out, c > 0x20 && c < 0x7f ? (char)c : '?');
    }
    if (strlen(name) > 64)
        buf_append_str(out, "...");
    return buf_cstr(out);
}

/* The names in a directory (without "." and ".."), read before anything
 * is changed so renames do not disturb the scan. */
static int list_dir(const char *dir, struct strlist *names)
{
    DIR *d = opendir(dir);
    if (d == NULL) {
        if (errno != ENOENT)
            log_warn("open directory %s: %s", dir, strerror(errno));
        return -1;
    }
    struct dirent *ent;
    while ((ent = readdir(d)) != NULL) {
        if (strcmp(ent->d_name, ".") != 0 && strcmp(ent->d_name, "..") != 0)
            strlist_add(names, ent->d_name);
    }
    closedir(d);
    return 0;
}

static void entry_path(struct buf *out, const char *queue_directory,
                       enum queue_name queue, const char *name)
{
    buf_reset(out);
    buf_appendf(out, "%s/%s/%s", queue_directory, queue_dir_name(queue), name);
}

/* Renames without replacing anything: 0, or -1 with errno. */
static int rename_new(const char *from, const char *to)
{
    return renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE);
}

/* Moves path to corrupt/, as corrupt/ID when id is given and free, else
 * under a fresh id. Writes the name used into used. */
static int move_to_corrupt(const char *queue_directory, const char *path,
                           const char *id, ino_t inode, struct buf *used)
{
    struct buf target = BUF_INIT;
    int result = -1;
    for (int attempt = 0; attempt < 3 && result < 0; attempt++) {
        char fresh[QID_BUF_SIZE];
        if (id == NULL || attempt > 0) {
            qid_new(fresh, attempt == 0 ? (uint64_t)inode : 0);
            id = fresh;
        }
        queue_path(&target, queue_directory, QUEUE_CORRUPT, id);
        if (rename_new(path, buf_cstr(&target)) == 0) {
            buf_set_str(used, id);
            result = 0;
        } else if (errno != EEXIST) {
            log_warn("rename %s to %s: %s", path, buf_cstr(&target),
                     strerror(errno));
            break;
        }
    }
    buf_free(&target);
    return result;
}

static void purge_dir(const char *queue_directory, enum queue_name queue,
                      time_t now, struct queue_repair_stats *stats)
{
    struct buf dir = BUF_INIT, path = BUF_INIT, shown = BUF_INIT;
    struct strlist names;
    strlist_init(&names);
    queue_dir_path(&dir, queue_directory, queue);
    list_dir(buf_cstr(&dir), &names);
    for (size_t i = 0; i < names.count; i++) {
        const char *name = names.items[i];
        struct stat st;
        if (name[0] != '.')
            continue;
        entry_path(&path, queue_directory, queue, name);
        if (lstat(buf_cstr(&path), &st) < 0 || !S_ISREG(st.st_mode) ||
            st.st_mtime > now - QUEUE_REPAIR_TEMP_AGE)
            continue;
        if (unlink(buf_cstr(&path)) == 0) {
            stats->temp_removed++;
            log_info("%s/%s: removed stale temporary file",
                     queue_dir_name(queue), safe_name(&shown, name));
        } else if (errno != ENOENT) {
            stats->errors++;
            log_warn("remove %s: %s", buf_cstr(&path), strerror(errno));
        }
    }
    strlist_free(&names);
    buf_free(&dir);
    buf_free(&path);
    buf_free(&shown);
}

void queue_repair_purge(const char *queue_directory, time_t now,
                        struct queue_repair_stats *stats)
{
    for (size_t i = 0; i < MESSAGE_QUEUE_COUNT; i++)
        purge_dir(queue_directory, MESSAGE_QUEUES[i], now, stats);
    /* The requeue step (lib/queue/requeue.h) writes its temporary files in
     * maildrop/; the files there are qmgr's to check. */
    purge_dir(queue_directory, QUEUE_MAILDROP, now, stats);
    purge_dir(queue_directory, QUEUE_DEFER, now, stats);
    purge_dir(queue_directory, QUEUE_BOUNCE, now, stats);
}

/* Renames the defer/ and bounce/ logs of a message whose id changed. */
static void rename_logs(const char *queue_directory, const char *from,
                        const char *to, struct queue_repair_stats *stats)
{
    static const enum queue_name logs[] = {QUEUE_DEFER, QUEUE_BOUNCE};
    struct buf a = BUF_INIT, b = BUF_INIT;
    for (size_t i = 0; i < 2; i++) {
        queue_path(&a, queue_directory, logs[i], from);
        queue_path(&b, queue_directory, logs[i], to);
        if (rename_new(buf_cstr(&a), buf_cstr(&b)) < 0 && errno != ENOENT) {
            stats->errors++;
            log_warn("rename %s to %s: %s", buf_cstr(&a), buf_cstr(&b),
                     strerror(errno));
        }
    }
    buf_free(&a);
    buf_free(&b);
}

/* Checks one valid-named queue file: parse, inode match. */
static void check_queue_file(const char *queue_directory, enum queue_name queue,
                             const char *qid, struct queue_repair_stats *stats)
{
    const char *qname = queue_dir_name(queue);
    struct buf path = BUF_INIT, err = BUF_INIT, used = BUF_INIT;
    queue_path(&path, queue_directory, queue, qid);
    int fd;
    enum queue_lock_result locked = queue_lock_open(buf_cstr(&path), &fd, &err);
    if (locked == QUEUE_LOCK_BUSY) {
        stats->busy++;
        log_info("%s/%s: locked by another process; not checked", qname, qid);
    } else if (locked == QUEUE_LOCK_ERROR) {
        stats->errors++;
        log_warn("%s/%s: %s", qname, qid, buf_cstr(&err));
    }
    if (locked != QUEUE_LOCK_OK)
        goto out;
    struct qfile_reader *r = NULL;
    struct qfile_envelope env;
    memset(&env, 0, sizeof(env));
    enum qfile_result result = qfile_reader_fdopen(fd, &r, &err);
    if (result == QFILE_OK)
        result = qfile_read_envelope(r, &env, &err);
    qfile_envelope_free(&env);
    if (r)
        qfile_reader_close(r);
    struct stat st;
    if (result == QFILE_CORRUPT) {
        ino_t inode = fstat(fd, &st) == 0 ? st.st_ino : 0;
        if (move_to_corrupt(queue_directory, buf_cstr(&path), qid, inode,
                            &used) == 0) {
            stats->corrupt_moved++;
            log_warn("%s/%s: corrupt queue file: %s; moved to corrupt/%s",
                     qname, qid, buf_cstr(&err), buf_cstr(&used));
        } else {
            stats->errors++;
        }
    } else if (result == QFILE_SYSERR) {
        stats->errors++;
        log_warn("%s/%s: cannot read: %s", qname, qid, buf_cstr(&err));
    } else {
        uint64_t seconds;
        uint32_t micros;
        char expected[QID_BUF_SIZE];
        if (qid_time(qid, &seconds, &micros) == 0 && fstat(fd, &st) == 0) {
            qid_make(expected, seconds, micros, (uint64_t)st.st_ino);
            struct buf target = BUF_INIT;
            queue_path(&target, queue_directory, queue, expected);
            if (strcmp(expected, qid) != 0) {
                if (rename_new(buf_cstr(&path), buf_cstr(&target)) == 0) {
                    stats->renamed++;
                    rename_logs(queue_directory, qid, expected, stats);
                    log_warn("%s/%s: renamed to %s to match its inode number",
                             qname, qid, expected);
                } else {
                    stats->errors++;
                    log_warn("rename %s to %s: %s", buf_cstr(&path),
                             buf_cstr(&target), strerror(errno));
                }
            }
            buf_free(&target);
        }
    }
    close(fd);
out:
    buf_free(&path);
    buf_free(&err);
    buf_free(&used);
}

static void check_message_queue(const char *queue_directory,
                                enum queue_name queue,
                                struct queue_repair_stats *stats)
{
    const char *qname = queue_dir_name(queue);
    struct buf dir = BUF_INIT, path = BUF_INIT, shown = BUF_INIT,
               used = BUF_INIT;
    struct strlist names;
    strlist_init(&names);
    queue_dir_path(&dir, queue_directory, queue);
    list_dir(buf_cstr(&dir), &names);
    for (size_t i = 0; i < names.count; i++) {
        const char *name = names.items[i];
        struct stat st;
        if (name[0] == '.')
            continue; /* a temporary file, young enough to be in use */
        entry_path(&path, queue_directory, queue, name);
        if (lstat(buf_cstr(&path), &st) < 0)
            continue; /* gone meanwhile */
        if (!S_ISREG(st.st_mode)) {
            log_warn("%s/%s: not a regular file; left alone", qname,
                     safe_name(&shown, name));
            continue;
        }
        if (!qid_valid(name)) {
            if (move_to_corrupt(queue_directory, buf_cstr(&path), NULL,
                                st.st_ino, &used) == 0) {
                stats->corrupt_moved++;
                log_warn("%s/%s: file name is not a valid queue id; moved to "
                         "corrupt/%s",
                         qname, safe_name(&shown, name), buf_cstr(&used));
            } else {
                stats->errors++;
            }
            continue;
        }
        check_queue_file(queue_directory, queue, name, stats);
    }
    strlist_free(&names);
    buf_free(&dir);
    buf_free(&path);
    buf_free(&shown);
    buf_free(&used);
}

static int starts_with_magic(const char *path)
{
    char head[QFILE_MAGIC_LEN];
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0)
        return 0;
    ssize_t got = read(fd, head, sizeof(head));
    close(fd);
    return got == (ssize_t)sizeof(head) &&
           memcmp(head, QFILE_MAGIC, QFILE_MAGIC_LEN) == 0;
}

static int message_exists(const char *queue_directory, const char *qid)
{
    /* maildrop/ too: a requeued message keeps its logs until qmgr has
     * carried them over to its new id. */
    static const enum queue_name queues[] = {QUEUE_INCOMING, QUEUE_ACTIVE,
                                             QUEUE_DEFERRED, QUEUE_HOLD,
                                             QUEUE_MAILDROP};
    enum queue_name found;
    return qtool_find(queue_directory, qid, queues,
                      sizeof(queues) / sizeof(queues[0]), &found) == 0;
}

static void check_log_dir(const char *queue_directory, enum queue_name log,
                          time_t now, struct queue_repair_stats *stats)
{
    const char *lname = queue_dir_name(log);
    struct buf dir = BUF_INIT, path = BUF_INIT, shown = BUF_INIT,
               target = BUF_INIT, used = BUF_INIT;
    struct strlist names;
    strlist_init(&names);
    queue_dir_path(&dir, queue_directory, log);
    list_dir(buf_cstr(&dir), &names);
    for (size_t i = 0; i < names.count; i++) {
        const char *name = names.items[i];
        struct stat st;
        if (name[0] == '.')
            continue;
        entry_path(&path, queue_directory, log, name);
        if (lstat(buf_cstr(&path), &st) < 0 || !S_ISREG(st.st_mode))
            continue;
        int valid = qid_valid(name);
        if (starts_with_magic(buf_cstr(&path))) {
            /* A queue file in a log directory: put it where qmgr looks,
             * unless its id is taken, then keep it aside in corrupt/. */
            if (valid && !message_exists(queue_directory, name)) {
                queue_path(&target, queue_directory, QUEUE_INCOMING, name);
                if (rename_new(buf_cstr(&path), buf_cstr(&target)) == 0) {
                    stats->misplaced++;
                    log_warn("%s/%s: queue file in a log directory; moved to "
                             "incoming/%s",
                             lname, name, name);
                    continue;
                }
            }
            if (move_to_corrupt(queue_directory, buf_cstr(&path), NULL,
                                st.st_ino, &used) == 0) {
                stats->corrupt_moved++;
                log_warn("%s/%s: queue file in a log directory; moved to "
                         "corrupt/%s",
                         lname, safe_name(&shown, name), buf_cstr(&used));
            }
            continue;
        }
        /* A log whose message is in no queue: checked twice, because a
         * message moving between queues can be missed by one look, and
         * only when old, for the same reason. */
        if (valid && (message_exists(queue_directory, name) ||
                      message_exists(queue_directory, name)))
            continue;
        if (st.st_mtime > now - QUEUE_REPAIR_TEMP_AGE)
            continue;
        if (unlink(buf_cstr(&path)) == 0) {
            stats->logs_removed++;
            log_info("%s/%s: %s; removed", lname, safe_name(&shown, name),
                     valid ? "no such message" : "invalid name");
        } else if (errno != ENOENT) {
            stats->errors++;
            log_warn("remove %s: %s", buf_cstr(&path), strerror(errno));
        }
    }
    strlist_free(&names);
    buf_free(&dir);
    buf_free(&path);
    buf_free(&shown);
    buf_free(&target);
    buf_free(&used);
}

void queue_repair_check(const char *queue_directory, time_t now,
                        struct queue_repair_stats *stats)
{
    queue_repair_purge(queue_directory, now, stats);
    for (size_t i = 0; i < MESSAGE_QUEUE_COUNT; i++)
        check_message_queue(queue_directory, MESSAGE_QUEUES[i], stats);
    check_log_dir(queue_directory, QUEUE_DEFER, now, stats);
    check_log_dir(queue_directory, QUEUE_BOUNCE, now, stats);
    /* Make the moves durable; a failure here is only logged. */
    struct buf err = BUF_INIT;
    static const enum queue_name touched[] = {QUEUE_CORRUPT, QUEUE_INCOMING,
                                              QUEUE_ACTIVE, QUEUE_DEFERRED,
                                              QUEUE_HOLD};
    for (size_t i = 0; i < sizeof(touched) / sizeof(touched[0]); i++) {
        if (queue_dir_sync(queue_directory, touched[i], &err) < 0 &&
            errno != ENOENT)
            log_warn("%s", buf_cstr(&err));
        buf_reset(&err);
    }
    buf_free(&err);
}
