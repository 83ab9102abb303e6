/* queue_repair.h: the queue structure check and repair behind
 * `postsuper -s` and `-p` (and usable by qmgr at start).
 *
 * What it does, queue by queue (incoming, active, deferred, hold, then
 * the logs in defer/ and bounce/):
 *   - removes temporary files (names starting with '.', as the queue file
 *     writer makes them) older than QUEUE_REPAIR_TEMP_AGE;
 *   - moves a file whose name is not a valid queue id to corrupt/, under
 *     a fresh valid id (nothing may build a path from such a name);
 *   - checks every queue file with the queue file reader and moves one
 *     that fails to corrupt/ (same id), logging the reader's reason;
 *   - renames a file whose id does not match its inode number (a queue
 *     restored from backup or copied from another machine), so ids stay
 *     unique, and renames its logs with it;
 *   - moves a queue file found in defer/ or bounce/ to incoming/, and
 *     removes logs whose message is in no queue and that are older than
 *     QUEUE_REPAIR_TEMP_AGE (a younger one may belong to a message that
 *     is being moved between queues).
 * Every queue file is locked (lib/queue/queue_lock) before it is examined; a
 * locked file is being worked on by qmgr and is left alone. Each change
 * is logged with log_info / log_warn as "QUEUE/NAME: what happened". */
#ifndef POSTERN_QUEUE_REPAIR_H
#define POSTERN_QUEUE_REPAIR_H

#include <time.h>

#define QUEUE_REPAIR_TEMP_AGE (24 * 60 * 60)

struct queue_repair_stats {
    int temp_removed;  /* stale temporary files removed */
    int corrupt_moved; /* files moved to corrupt/ */
    int renamed;       /* ids changed to match the inode */
    int misplaced;     /* queue files moved out of defer/ or bounce/ */
    int logs_removed;  /* orphaned defer/bounce logs removed */
    int busy;          /* locked files left alone */
    int errors;        /* operations that failed (logged) */
};

/* Removes stale temporary files only (`postsuper -p`). now is the current
 * time (a parameter so tests can age files). */
void queue_repair_purge(const char *queue_directory, time_t now,
                        struct queue_repair_stats *stats);

/* The whole check (`postsuper -s`), purge included. */
void queue_repair_check(const char *queue_directory, time_t now,
                        struct queue_repair_stats *stats);

#endif
