/* file_read.h: reading a whole file into memory, bounded. The one
 * reader for everything the suite reads whole: table sources (texthash,
 * regexp, pcre, cidr), aliases, main.cf and master.cf, bounce templates,
 * domain-list files, .forward and :include: files, postmap input.
 *
 * Every caller names its own size cap; a file past it is an error, never
 * a silent truncation, and a special file that never ends (/dev/zero, a
 * FIFO kept open) is bounded by the cap too.
 *
 * Errors, always naming the file (err may be NULL; errno is set):
 *   "PATH: cannot open: REASON"            (errno ENOENT: missing)
 *   "PATH: cannot read: REASON"
 *   "PATH: file is larger than N bytes"    (errno EFBIG) */
#ifndef POSTERN_FILE_READ_H
#define POSTERN_FILE_READ_H

#include <stddef.h>

#include "base/buf.h"

/* Reads the whole file at path into out (its old content replaced,
 * NUL-terminated even when empty). Returns 0, or -1 as above. */
int file_read(const char *path, size_t max_size, struct buf *out,
              struct buf *err);

/* The same from an open descriptor, read to its end and left open
 * (for callers that open with their own flags and checks); path names
 * it in messages. */
int file_read_fd(int fd, const char *path, size_t max_size, struct buf *out,
                 struct buf *err);

#endif
