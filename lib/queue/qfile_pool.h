/* qfile_pool.h: reuse of finished queue files ($queue_directory/recycle).
 *
 * Creating a file and deleting it again costs a file system more than
 * renaming and overwriting one: an inode is allocated and freed, its
 * bitmap and table blocks are written, and freed blocks may be
 * discarded. qmgr therefore moves a small finished queue file into
 * recycle/ instead of unlinking it, and the queue file writer claims a
 * file there before it creates a new one. The claimed file is written
 * where it lies, overwritten from the start and truncated to its new
 * length before its fdatasync, so nothing of the old message stays in
 * it; the writer's commit renames it straight to its queue id in
 * incoming/. Files in recycle/ are garbage: no scanner or tool looks at
 * them, and a crash at any point leaves at worst a stray file there.
 *
 * Safe against other processes and other threads claiming the same file:
 * an exclusive flock taken without waiting decides, and the name is
 * checked again under it (qfile_pool.c). docs/queue-format.md, "Recycled
 * queue files". */
#ifndef POSTERN_QFILE_POOL_H
#define POSTERN_QFILE_POOL_H

#include <stdint.h>

/* The subdirectory of $queue_directory. */
#define QFILE_POOL_DIR "recycle"
/* Most files the pool keeps, and the largest file it takes: a big file
 * would hold its blocks for nothing. */
#define QFILE_POOL_MAX_FILES 512
#define QFILE_POOL_MAX_SIZE (256 * 1024)

/* Gives the finished queue file at path (named qid) to the pool; size is
 * its length. Unlinks it instead when it is too big, when the pool is
 * full, or when the move fails. 0 when the file is gone from path, -1
 * with errno set when it could be neither moved nor removed. */
int qfile_pool_put(const char *queue_directory, const char *path,
                   const char *qid, uint64_t size);

/* Claims a pooled file: an fd open for writing (O_WRONLY, offset 0,
 * close-on-exec, holding the claim's lock until closed) and, in
 * *path_out, its path in recycle/ (free it), or -1 when the pool has
 * nothing usable (the caller then creates a file). Checks that the file
 * is a regular file of ours with one link before handing it out. */
int qfile_pool_take(const char *queue_directory, char **path_out);

#endif
