/* fsync_dir.h: making the entries of a directory durable (a rename into
 * it, a file or subdirectory created in it): the one directory fsync
 * the suite uses, with the one rule for file systems that refuse it.
 *
 * The rule: fsync on a directory descriptor failing with EINVAL or EROFS
 * counts as success. fsync(2) documents both for "a file that does not
 * support synchronization"; some file systems (some network and FUSE
 * ones, older tmpfs-like ones) say that of directories. Nothing more can
 * be done there: their entries are as durable as that file system makes
 * them, and refusing would stop all mail on such a system for nothing.
 * Any other error is a failure (the caller defers or reports it). */
#ifndef POSTERN_FSYNC_DIR_H
#define POSTERN_FSYNC_DIR_H

#include "base/buf.h"

/* 1 when err, from an fsync of a directory, only says that the file
 * system cannot sync directories (the rule above): count it as success. */
int fsync_dir_unsupported(int err);

/* Opens dir and fsyncs it. 0 (also under the rule above), or -1 with
 * errno set and, when err is not NULL, "open directory DIR: ..." or
 * "fsync directory DIR: ..." appended. One call covers every entry
 * changed in the directory before it. */
int fsync_dir(const char *dir, struct buf *err);

/* fsync_dir of the directory that holds path ("." for a bare name). */
int fsync_parent_dir(const char *path, struct buf *err);

#endif
