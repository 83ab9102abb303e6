/* fs_journal.h: does the file system under a path journal its metadata?
 *
 * The queue's renames between directories are atomic across an
 * operating-system crash only on a file system that journals metadata
 * (docs/qmgr.md, "Crash safety"). ext2, and ext4 made without a journal,
 * do not; `postern check` warns about them. Read from /proc/self/mountinfo
 * (the file system type) and /proc/fs/jbd2 (which ext3/ext4 file systems
 * have a journal running). */
#ifndef POSTERN_FS_JOURNAL_H
#define POSTERN_FS_JOURNAL_H

#include <stddef.h>

/* 1 when the file system holding path is known to keep no journal
 * (ext2, or ext3/ext4 without one), with its type and device name in
 * what ("ext4 on vda"); 0 when it journals or cannot be told. */
int fs_lacks_journal(const char *path, char *what, size_t what_size);

#endif
