/* postsuper.c: queue maintenance, as Postfix's postsuper.
 *
 *   postsuper [-psv] [-c DIR] [-d ID|ALL|-] [-h ID|ALL|-] [-H ID|ALL|-]
 *             [-r ID|ALL|-] [queue ...]
 *
 *   -d  delete the message and its defer/ and bounce/ logs
 *       (default queues: hold, incoming, active, deferred)
 *   -h  put on hold: move to hold/ (default: incoming, active, deferred)
 *   -H  release from hold: move to deferred/ with the retry time set to
 *       now, so qmgr's next deferred scan picks it up (default: hold)
 *   -r  requeue: move to maildrop/ and drop its stale defer/ log
 *       (default: hold, incoming, active, deferred); qmgr then sends it
 *       through the intake rewriting again into a new queue file with a
 *       new id (lib/queue/requeue.h), as Postfix's pickup and cleanup do
 *   -s  check and repair the queue structure (lib/queue/queue_repair.h)
 *   -p  remove stale temporary files only
 * With no option, -s and -p are done, as in Postfix. An id of ALL (upper
 * case only) means every message in the queues; queue names given as
 * arguments replace the default queues (maildrop/ is never held or
 * released, as in Postfix). An id of - reads ids from stdin,
 * one per line. Every id is checked (qid_valid) before a path is built:
 * an invalid id on the command line stops postsuper before it changes
 * anything; one read from stdin is reported and skipped.
 *
 * Safe while qmgr runs: every change is made holding the queue file's
 * lock (lib/queue/queue_lock.h); a file qmgr has locked is skipped and
 * reported. Counts are reported as Postfix does ("postsuper: Deleted:
 * 2 messages"); each message changed is logged ("ID: removed"). Exit
 * status: 0, or 1 when a message was skipped or an operation failed. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "base/tool.h"
#include "base/buf.h"
#include "queue/defer_log.h"
#include "base/log.h"
#include "base/mem.h"
#include "queue/qid.h"
#include "queue/qmgr_trigger.h"
#include "queue/qtool.h"
#include "queue/queue_dirs.h"
#include "queue/queue_lock.h"
#include "queue/queue_repair.h"
#include "base/str.h"

enum op { OP_DELETE, OP_HOLD, OP_RELEASE, OP_REQUEUE, OP_COUNT };

static const char *const OP_LOG[OP_COUNT] = {
    [OP_DELETE] = "removed",
    [OP_HOLD] = "placed on hold",
    [OP_RELEASE] = "released from hold",
    [OP_REQUEUE] = "requeued",
};

/* Default queues per operation (Postfix's). */
static const enum queue_name DEFAULT_DELETE[] = {QUEUE_HOLD, QUEUE_INCOMING,
                                                 QUEUE_ACTIVE, QUEUE_DEFERRED};
static const enum queue_name DEFAULT_HOLD[] = {QUEUE_INCOMING, QUEUE_ACTIVE,
                                               QUEUE_DEFERRED};
static const enum queue_name DEFAULT_RELEASE[] = {QUEUE_HOLD};

#define MAX_STDIN_LINE 1024

static const char *queue_directory;
static int counts[OP_COUNT];
static int trouble;      /* something was skipped or failed: exit 1 */
static unsigned touched; /* bit per destination queue to fsync */

/* The requests, in command-line order per operation. */
static struct strlist requests[OP_COUNT];

static void usage(void)
{
    tool_usage(EX_USAGE,
               "postsuper [-psv] [-c config_dir] [-d queue_id] "
                    "[-h queue_id] [-H queue_id] [-r queue_id] [queue ...]");
}

static enum queue_name destination(enum op op)
{
    return op == OP_HOLD      ? QUEUE_HOLD
           : op == OP_RELEASE ? QUEUE_DEFERRED
           : op == OP_REQUEUE ? QUEUE_MAILDROP
                              : QUEUE_INCOMING;
}

/* Creates a missing queue directory (maildrop/ in a queue made before
 * it existed), owned like incoming/: 0 when it exists now, -1 when it
 * was there already or cannot be made. */
static int make_queue_dir(enum queue_name queue)
{
    struct buf dir = BUF_INIT, model = BUF_INIT;
    struct stat st;
    int result = -1;
    queue_dir_path(&dir, queue_directory, queue);
    queue_dir_path(&model, queue_directory, QUEUE_INCOMING);
    if (mkdir(buf_cstr(&dir), 0700) == 0) {
        if (stat(buf_cstr(&model), &st) == 0 &&
            chown(buf_cstr(&dir), st.st_uid, st.st_gid) < 0)
            qtool_warn("chown %s: %s", buf_cstr(&dir), strerror(errno));
        result = 0;
    }
    buf_free(&dir);
    buf_free(&model);
    return result;
}

/* What apply_locked did. */
enum applied {
    APPLIED_FAILED = -1,
    APPLIED_NOTHING,
    APPLIED_DONE,
    APPLIED_MOVED
};

/* Applies op to qid (valid) while holding its lock. APPLIED_DONE, or
 * APPLIED_NOTHING when it is already where op would put it,
 * APPLIED_MOVED when the file left its path meanwhile (look again),
 * APPLIED_FAILED after reporting why. */
static enum applied apply_locked(enum op op, const char *qid,
                                 enum queue_name from, int fd, const char *path)
{
    struct buf err = BUF_INIT, target = BUF_INIT;
    enum applied result = APPLIED_FAILED;
    if (op == OP_DELETE) {
        if (unlink(path) < 0) {
            result = errno == ENOENT ? APPLIED_MOVED : APPLIED_FAILED;
            if (result == APPLIED_FAILED)
                qtool_warn("%s: remove %s: %s", qid, path, strerror(errno));
            goto out;
        }
        if (defer_log_remove(queue_directory, QUEUE_DEFER, qid, &err) < 0 ||
            defer_log_remove(queue_directory, QUEUE_BOUNCE, qid, &err) < 0)
            qtool_warn("%s: %s", qid, buf_cstr(&err));
        touched |= 1u << from;
        result = APPLIED_DONE;
        goto out;
    }
    enum queue_name to = destination(op);
    if (from == to && op != OP_REQUEUE) {
        result = APPLIED_NOTHING; /* already there: not counted */
        goto out;
    }
    /* The retry time of a deferred message is its mtime: a released or
     * requeued message is due now. */
    if ((op == OP_RELEASE || op == OP_REQUEUE) && futimens(fd, NULL) < 0)
        qtool_warn("%s: set time: %s", qid, strerror(errno));
    if (from != to) {
        queue_path(&target, queue_directory, to, qid);
        int moved = renameat2(AT_FDCWD, path, AT_FDCWD, buf_cstr(&target),
                              RENAME_NOREPLACE);
        if (moved < 0 && errno == ENOENT && make_queue_dir(to) == 0)
            moved = renameat2(AT_FDCWD, path, AT_FDCWD, buf_cstr(&target),
                              RENAME_NOREPLACE);
        if (moved < 0) {
            result = errno == ENOENT ? APPLIED_MOVED : APPLIED_FAILED;
            if (result == APPLIED_FAILED)
                qtool_warn("%s: rename %s to %s: %s", qid, path,
                           buf_cstr(&target), strerror(errno));
            goto out;
        }
        touched |= 1u << to;
    }
    if (op == OP_REQUEUE &&
        defer_log_remove(queue_directory, QUEUE_DEFER, qid, &err) < 0)
        qtool_warn("%s: %s", qid, buf_cstr(&err));
    result = APPLIED_DONE;
out:
    buf_free(&err);
    buf_free(&target);
    return result;
}

/* Finds qid in queues, locks it, applies op; retries a few times when
 * the file moves under us (qmgr moving it between queues). */
static void operate_one(enum op op, const char *qid,
                        const enum queue_name *queues, size_t count)
{
    struct buf path = BUF_INIT, err = BUF_INIT;
    for (int attempt = 0; attempt < 5; attempt++) {
        enum queue_name from;
        if (qtool_find(queue_directory, qid, queues, count, &from) < 0)
            break; /* not in these queues: nothing to do, as Postfix */
        queue_path(&path, queue_directory, from, qid);
        int fd;
        buf_reset(&err);
        enum queue_lock_result locked =
            queue_lock_open(buf_cstr(&path), &fd, &err);
        if (locked == QUEUE_LOCK_GONE)
            continue;
        if (locked == QUEUE_LOCK_BUSY) {
            qtool_warn("%s: queue file is locked by another process (qmgr is "
                       "delivering it); skipped, try again later",
                       qid);
            trouble = 1;
            break;
        }
        if (locked == QUEUE_LOCK_ERROR) {
            qtool_warn("%s: %s", qid, buf_cstr(&err));
            trouble = 1;
            break;
        }
        enum applied result =
            apply_locked((enum op)op, qid, from, fd, buf_cstr(&path));
        close(fd);
        if (result == APPLIED_MOVED)
            continue;
        if (result == APPLIED_FAILED)
            trouble = 1;
        if (result != APPLIED_DONE)
            break;
        counts[op]++;
        log_info("%s: %s", qid, OP_LOG[op]);
        break;
    }
    buf_free(&path);
    buf_free(&err);
}

static void operate_all(enum op op, const enum queue_name *queues, size_t count)
{
    struct buf dir = BUF_INIT;
    for (size_t q = 0; q < count; q++) {
        queue_dir_path(&dir, queue_directory, queues[q]);
        DIR *d = opendir(buf_cstr(&dir));
        if (d == NULL) {
            if (errno != ENOENT) {
                qtool_warn("open directory %s: %s", buf_cstr(&dir),
                           strerror(errno));
                trouble = 1;
            }
            continue;
        }
        struct strlist ids;
        strlist_init(&ids);
        struct dirent *ent;
        while ((ent = readdir(d)) != NULL)
            if (qid_valid(ent->d_name)) /* skips ".", temp files, junk */
                strlist_add(&ids, ent->d_name);
        closedir(d);
        for (size_t i = 0; i < ids.count; i++)
            operate_one(op, ids.items[i], &queues[q], 1);
        strlist_free(&ids);
    }
    buf_free(&dir);
}

/* Reads ids from stdin, one per line, each line bounded. */
static void operate_stdin(enum op op, const enum queue_name *queues,
                          size_t count)
{
    struct buf line = BUF_INIT;
    int c, too_long = 0;
    size_t line_no = 0;
    do {
        c = getchar();
        if (c != '\n' && c != EOF) {
            if (line.len < MAX_STDIN_LINE)
                buf_append_char(&line, (char)c);
            else
                too_long = 1;
            continue;
        }
        if (c == EOF && line.len == 0 && !too_long)
            break;
        line_no++;
        char empty[1] = "";
        char *id = str_trim(line.data ? line.data : empty);
        if (too_long || (*id && !qid_valid(id))) {
            qtool_warn("stdin, line %zu: invalid queue id%s%s%s", line_no,
                       too_long ? "" : ": \"", too_long ? "" : id,
                       too_long ? " (line too long)" : "\"");
            trouble = 1;
        } else if (*id) {
            operate_one(op, id, queues, count);
        }
        buf_reset(&line);
        too_long = 0;
    } while (c != EOF);
    buf_free(&line);
}

static void sync_touched(void)
{
    struct buf err = BUF_INIT;
    for (int q = 0; q < QUEUE_COUNT; q++) {
        if ((touched & (1u << q)) &&
            queue_dir_sync(queue_directory, (enum queue_name)q, &err) < 0) {
            qtool_warn("%s", buf_cstr(&err));
            buf_reset(&err);
        }
    }
    buf_free(&err);
}

static void report(const char *what, int count)
{
    if (count > 0)
        qtool_info("%s: %d message%s", what, count, count > 1 ? "s" : "");
}

int main(int argc, char **argv)
{
    qtool_init("postsuper");
    const char *config_dir = NULL;
    int structure = 0, purge = 0, any_op = 0, c;
    for (int i = 0; i < OP_COUNT; i++)
        strlist_init(&requests[i]);
    while ((c = getopt(argc, argv, "c:d:h:H:pr:sSv")) != -1) {
        switch (c) {
        case 'c':
            config_dir = optarg;
            break;
        case 'd':
        case 'h':
        case 'H':
        case 'r': {
            enum op op = c == 'd'   ? OP_DELETE
                         : c == 'h' ? OP_HOLD
                         : c == 'H' ? OP_RELEASE
                                    : OP_REQUEUE;
            if (strcmp(optarg, "ALL") != 0 && strcmp(optarg, "-") != 0 &&
                !qid_valid(optarg))
                tool_fatal(EX_USAGE, "invalid queue id: \"%s\"", optarg);
            strlist_add(&requests[op], optarg);
            any_op = 1;
            break;
        }
        case 'p':
            purge = 1;
            break;
        case 's':
        case 'S':
            structure = 1;
            break;
        case 'v':
            log_set_verbose(log_verbose_level() + 1);
            break;
        default:
            usage();
        }
    }
    if (!any_op && !structure && !purge)
        structure = purge = 1; /* Postfix's default action */

    /* Queue names replace each operation's default queues. */
    enum queue_name named[QUEUE_COUNT];
    size_t named_count = 0;
    for (int i = optind; i < argc; i++) {
        enum queue_name q;
        if (queue_dir_lookup(argv[i], &q) < 0 || !queue_dir_holds_messages(q))
            tool_fatal(EX_USAGE, "invalid directory name: %s", argv[i]);
        named[named_count++] = q;
        if (named_count == QUEUE_COUNT)
            break;
    }
    queue_directory = qtool_config(config_dir);
    if (chdir(queue_directory) < 0)
        tool_fatal(EX_TEMPFAIL, "chdir %s: %s", queue_directory,
                    strerror(errno));

    if (structure || purge) {
        struct queue_repair_stats stats;
        memset(&stats, 0, sizeof(stats));
        if (structure)
            queue_repair_check(queue_directory, time(NULL), &stats);
        else
            queue_repair_purge(queue_directory, time(NULL), &stats);
        if (stats.corrupt_moved)
            qtool_warn("%d queue file%s moved to corrupt/ (see the mail log)",
                       stats.corrupt_moved, stats.corrupt_moved > 1 ? "s" : "");
        report("Renamed to match inode number", stats.renamed);
        if (stats.renamed)
            qtool_warn("QUEUE FILE NAMES WERE CHANGED TO MATCH INODE NUMBERS");
        if (stats.busy)
            qtool_warn("%d queue file%s locked by another process; not "
                       "checked",
                       stats.busy, stats.busy > 1 ? "s" : "");
        trouble |= stats.errors > 0;
    }

    static const struct {
        const enum queue_name *queues;
        size_t count;
    } defaults[OP_COUNT] = {
        [OP_DELETE] = {DEFAULT_DELETE, 4},
        [OP_HOLD] = {DEFAULT_HOLD, 3},
        [OP_RELEASE] = {DEFAULT_RELEASE, 1},
        [OP_REQUEUE] = {DEFAULT_DELETE, 4},
    };
    /* Mail in maildrop/ is not rewritten yet: it is never held or
     * released (Postfix's rule), only deleted or requeued. */
    enum queue_name named_no_maildrop[QUEUE_COUNT];
    size_t no_maildrop_count = 0;
    for (size_t i = 0; i < named_count; i++)
        if (named[i] != QUEUE_MAILDROP)
            named_no_maildrop[no_maildrop_count++] = named[i];
    for (int op = 0; op < OP_COUNT; op++) {
        const enum queue_name *queues =
            named_count ? named : defaults[op].queues;
        size_t count = named_count ? named_count : defaults[op].count;
        if (named_count && (op == OP_HOLD || op == OP_RELEASE)) {
            queues = named_no_maildrop;
            count = no_maildrop_count;
        }
        for (size_t i = 0; i < requests[op].count; i++) {
            const char *arg = requests[op].items[i];
            if (strcmp(arg, "ALL") == 0)
                operate_all((enum op)op, queues, count);
            else if (strcmp(arg, "-") == 0)
                operate_stdin((enum op)op, queues, count);
            else
                operate_one((enum op)op, arg, queues, count);
        }
    }
    sync_touched();

    /* Tell qmgr about mail it should look at now; when it is not
     * running it scans its queues at start anyway. */
    struct buf err = BUF_INIT;
    if (counts[OP_REQUEUE] > 0) {
        char wake = QMGR_TRIGGER_REQUEUE;
        (void)qmgr_trigger_send(queue_directory, &wake, 1, 1000, &err);
    }
    if (counts[OP_RELEASE] > 0) {
        char wake = QMGR_TRIGGER_DEFERRED;
        (void)qmgr_trigger_send(queue_directory, &wake, 1, 1000, &err);
    }
    buf_free(&err);

    report("Requeued", counts[OP_REQUEUE]);
    report("Deleted", counts[OP_DELETE]);
    report("Placed on hold", counts[OP_HOLD]);
    report("Released from hold", counts[OP_RELEASE]);
    for (int i = 0; i < OP_COUNT; i++)
        strlist_free(&requests[i]);
    return trouble ? 1 : 0;
}
