/* mastercf_edit.h: postconf's views and edits of master.cf.
 *
 * Three views of one file, in the shapes Postfix's postconf prints:
 *   entries (-M)  each entry in the normalised one-line form of
 *                 mastercf_format();
 *   fields (-F)   "service/type/field = value", one line per field
 *                 (service type private unprivileged chroot wakeup
 *                 process_limit command; command is the command with
 *                 its arguments);
 *   params (-P)   "service/type/name = value", one line per `-o`.
 * Patterns select what is shown: "service", "service/type" and, for -F
 * and -P, "service/type/field-or-name". "*" matches any service, type,
 * field or name, and omitted trailing parts match anything. No pattern
 * selects everything.
 *
 * Edits:
 *   entries  -Me service/type=entry (replace or append), -M# and -MX
 *            service[/type] (comment out, remove);
 *   fields   -Fe service/type/field=value;
 *   params   -Pe service/type/name=value (add or change an -o),
 *            -PX service/type/name (remove it).
 * For -F and -P the service and type may be "*". Edits go through
 * lib/config/cfedit: the file must parse before, each changed entry is
 * rewritten in mastercf_format_folded() form, the result must parse
 * again (no duplicate service, no bad field), and the file is replaced
 * atomically. A bad argument, or a -Fe/-Pe/-PX that matches no entry,
 * changes nothing. */
#ifndef POSTERN_MASTERCF_EDIT_H
#define POSTERN_MASTERCF_EDIT_H

#include "base/buf.h"
#include "base/str.h"

enum mastercf_view {
    MASTERCF_VIEW_ENTRIES, /* -M */
    MASTERCF_VIEW_FIELDS,  /* -F */
    MASTERCF_VIEW_PARAMS,  /* -P */
};

/* Flags for mastercf_show (fields and params; -M ignores the first
 * two). */
#define MASTERCF_SHOW_NAMES_ONLY 0x1  /* -H: "service/type/field" */
#define MASTERCF_SHOW_VALUES_ONLY 0x2 /* -h: "value" */
#define MASTERCF_SHOW_EXPAND 0x4      /* -x: expand $name in values */

/* Appends one line (without newline) per entry, field or parameter of
 * the master.cf at path that the patterns select. 0, or -1 with err
 * (file unreadable or malformed: "PATH, line N: why"; bad pattern). */
int mastercf_show(const char *path, enum mastercf_view view,
                  char *const *patterns, int count, int flags,
                  struct strlist *lines, struct buf *err);

enum mastercf_edit_op {
    MASTERCF_EDIT_SET,     /* -e */
    MASTERCF_EDIT_COMMENT, /* -# (entries only) */
    MASTERCF_EDIT_REMOVE,  /* -X (entries and params) */
};

/* Applies the edit to the master.cf at path (a missing file reads as
 * empty). 0, or -1 with err; on -1 the file is as it was. */
int mastercf_edit(const char *path, enum mastercf_view view,
                  enum mastercf_edit_op op, char *const *args, int count,
                  struct buf *err);

#endif
