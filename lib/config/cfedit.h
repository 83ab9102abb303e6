/* cfedit.h: in-place edits of main.cf and master.cf, as postconf -e, -#,
 * -X, -Me, -M# and -MX make them.
 *
 * The file is read as physical lines and grouped into logical entries
 * (a line starting with non-whitespace text plus the continuation lines
 * after it; comment and blank lines stay where they are). A caller
 * decides per entry to keep, replace, delete or comment it out, may
 * append new lines, and writes the result atomically: a temporary file
 * in the same directory with the original's mode (and, as root, its
 * owner and group), fsync, rename over the original, fsync of the
 * directory. A crash leaves either the old
 * or the new file, never half of one. */
#ifndef POSTERN_CFEDIT_H
#define POSTERN_CFEDIT_H

#include <sys/types.h>

#include "base/buf.h"
#include "base/str.h"

struct cfedit_file {
    char *path;
    struct strlist lines; /* physical lines, without newlines */
    int existed;          /* the file was there when read */
    mode_t mode;          /* its permissions (0644 for a new file) */
    uid_t uid;            /* its owner and group, kept when it existed */
    gid_t gid;
};

enum cfedit_action { CFEDIT_KEEP, CFEDIT_REPLACE, CFEDIT_DELETE,
                     CFEDIT_COMMENT };

/* Reads path (a missing file reads as empty). 0, or -1 with err. */
int cfedit_read(struct cfedit_file *file, const char *path, struct buf *err);

/* Calls decide for every logical entry with its text (physical lines
 * joined by single spaces, leading whitespace of continuations removed).
 * REPLACE puts the text decide left in `replacement` (may hold several
 * lines separated by '\n') in place of the entry's lines; COMMENT puts
 * '#' before each of its lines. */
void cfedit_apply(struct cfedit_file *file,
                  enum cfedit_action (*decide)(const char *entry_text,
                                               struct buf *replacement,
                                               void *arg),
                  void *arg);

/* Appends one physical line. */
void cfedit_append(struct cfedit_file *file, const char *line);

/* Writes the file atomically (see above). 0, or -1 with err. */
int cfedit_write(const struct cfedit_file *file, struct buf *err);

void cfedit_free(struct cfedit_file *file);

#endif
