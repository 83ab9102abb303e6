/* mastercf.h: master.cf, read the way Postfix reads it.
 *
 * One service per logical line (`#` comment lines skipped, a line that
 * starts with whitespace continues the previous one), eight or more
 * whitespace-separated fields:
 *
 *   service type private unpriv chroot wakeup maxproc command [args...]
 *
 * type is inet, unix, unix-dgram, fifo or pass; private, unpriv and
 * chroot are y, n or `-` (defaults y, y, n as in Postfix 3); wakeup is a
 * number of seconds, optionally ending in `?` (wake only when used), or
 * `-`/0 for none; maxproc is a number (0 = no limit) or `-` (then
 * default_process_limit applies). Among the arguments, `-o name=value`
 * overrides a main.cf parameter for this service, and a `{ text }` group
 * is one argument with its braces and outer spaces removed, so
 * `-o { name = value with spaces }` becomes `-o` `name=value with spaces`.
 *
 * Every problem is reported as "FILE, line N: why" and nothing is
 * returned: master must not start half a suite. */
#ifndef POSTERN_MASTERCF_H
#define POSTERN_MASTERCF_H

#include <stddef.h>

#include "base/buf.h"
#include "base/str.h"

struct master_entry {
    char *service, *type;
    int private_, unpriv, chroot; /* 1 = y, 0 = n ("-" resolved) */
    int wakeup;                   /* seconds; 0 = none */
    int wakeup_if_used;           /* wakeup ended in '?' */
    int maxproc;                  /* -1 = "-" (default_process_limit) */
    char *command;
    struct strlist args; /* after the command, incl -o and its argument */
    char *file;
    int line;
    /* The private..maxproc columns as written ("-" kept), for printing
     * the entry back the way the administrator wrote it. */
    char *column[5];
};

/* Reads the master.cf at path. Returns 0 with a malloc'ed array (free
 * with mastercf_free), or -1 with err = "PATH, line N: why" (or
 * "PATH: why" when unreadable) and *entries NULL. */
int mastercf_load(const char *path, struct master_entry **entries,
                  size_t *count, struct buf *err);

/* The same for text in memory; `filename` is used in messages and as
 * each entry's `file`. For tests, fuzzing and postconf -Me. */
int mastercf_parse(const char *text, size_t len, const char *filename,
                   struct master_entry **entries, size_t *count,
                   struct buf *err);

void mastercf_free(struct master_entry *entries, size_t count);

/* Appends the entry in Postfix's normalised one-line form (as
 * `postconf -M` prints it, without a newline):
 * "smtp       inet  n       -       y       -       -       smtpd -o a=b" */
void mastercf_format(const struct master_entry *entry, struct buf *out);

/* The same over several lines, as postconf writes an entry it edits:
 * the columns and the command (with the arguments before the first
 * -o) on the first line, each `-o name=value` on a continuation line of
 * its own ("  -o name=value"), other arguments after an -o together on
 * one continuation line. No final newline. */
void mastercf_format_folded(const struct master_entry *entry,
                            struct buf *out);

/* The fields as postconf -F names them, in master.cf order: service,
 * type, private, unprivileged, chroot, wakeup, process_limit, command
 * (the command with its arguments). */
#define MASTERCF_FIELD_COUNT 8
/* The name of field i, or NULL. */
const char *mastercf_field_name(int field);
/* The index of a field name, or -1. */
int mastercf_field_index(const char *name);
/* Appends the field's text as written ("-" kept; command with its
 * arguments in the one-line form of mastercf_format). */
void mastercf_field_value(const struct master_entry *entry, int field,
                          struct buf *out);
/* Replaces one field. The new value is checked as master.cf text is (a
 * column is one word; the command field is the command and its
 * arguments, `{ ... }` groups allowed). 0, or -1 with the reason in err
 * and the entry unchanged. */
int mastercf_set_field(struct master_entry *entry, int field,
                       const char *value, struct buf *err);
/* Sets `-o name=value`: the last -o for name gets the value (earlier
 * ones are removed), or a new -o goes after the last -o (or before all
 * other arguments, which may be the command's own). */
void mastercf_set_override(struct master_entry *entry, const char *name,
                           const char *value);
/* Removes every `-o name=...`; returns how many there were. */
int mastercf_remove_override(struct master_entry *entry, const char *name);

/* The value of the last `-o name=value` for name in the entry's
 * arguments, or NULL. */
const char *mastercf_override(const struct master_entry *entry,
                              const char *name);

/* Calls fn for each `-o name=value` of the entry, in order. */
void mastercf_foreach_override(const struct master_entry *entry,
                               void (*fn)(const char *name, const char *value,
                                          void *arg),
                               void *arg);

/* "service/type", the key postconf -M and master use for an entry;
 * a fresh heap string. */
char *mastercf_key(const struct master_entry *entry);

#endif
