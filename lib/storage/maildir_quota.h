/* maildir_quota.h: Maildir++ quota, the `maildirsize` file.
 *
 * The file lives in the Maildir root and covers INBOX and every folder.
 * Its first line holds the limits, "<bytes>S,<count>C" (either may be
 * missing; 0 means unlimited; "0S" when there are none). Every further
 * line is "<bytes> <count>", a signed change; the usage is their sum.
 * Writers append one line per change with a single O_APPEND write, and
 * the file is rewritten from a scan of all cur/ and new/ directories
 * ("recalculated") when it is missing, unreadable, broken, larger than
 * 5120 bytes, when the configured limits differ from its header, or
 * when it says the message would not fit and it is either older than 15
 * minutes or made of more than one change line (so a stale file never
 * bounces mail for long). This is the Maildir++ specification as Courier
 * and Dovecot implement it, so both keep working on the same Maildir. */
#ifndef POSTERN_MAILDIR_QUOTA_H
#define POSTERN_MAILDIR_QUOTA_H

#include <stddef.h>
#include <sys/types.h>

#include "base/buf.h"

#define MAILDIR_QUOTA_FILE_NAME "maildirsize"
/* Maildir++: a file this large is recalculated rather than read. */
#define MAILDIR_QUOTA_MAX_FILE 5120
/* Maildir++: an over-quota verdict older than this is rechecked. */
#define MAILDIR_QUOTA_STALE_SECS (15 * 60)

enum maildir_quota_mode {
    /* Nothing is enforced; an existing maildirsize is kept up to date
     * (another program may enforce it). */
    MAILDIR_QUOTA_NONE = 0,
    /* Enforce the limits in the maildirsize header (Courier's
     * `maildirmake -q`, Dovecot's "quota = maildir" without limits); no
     * file means no quota. */
    MAILDIR_QUOTA_FROM_FILE,
    /* Enforce the limits given here, and keep the maildirsize header
     * equal to them, creating the file when missing (Dovecot with
     * configured limits). */
    MAILDIR_QUOTA_LIMITS,
};

struct maildir_quota_limits {
    enum maildir_quota_mode mode;
    long long bytes; /* MAILDIR_QUOTA_LIMITS: byte limit, 0 = unlimited */
    long long count; /* MAILDIR_QUOTA_LIMITS: message limit, 0 = none */
};

struct maildir_quota_usage {
    long long limit_bytes; /* 0 = unlimited */
    long long limit_count; /* 0 = unlimited */
    long long bytes;       /* bytes used */
    long long count;       /* messages stored */
    int change_lines;      /* lines after the header */
    int file_exists;       /* maildir_quota_get: maildirsize exists now */
};

/* Parses maildirsize contents (len bytes; need not be NUL-terminated).
 * Returns 1 when the usage can be trusted, 0 when the file must be
 * recalculated: empty, too large, a NUL byte, a malformed change line,
 * or negative totals. A last line without a newline (a write in
 * progress) is ignored. The limits are filled in from the header in
 * either case (unparsable items are skipped). Never reads past len. */
int maildir_quota_parse(const char *data, size_t len,
                        struct maildir_quota_usage *usage);

/* Parses a header line ("1000S,10C"; len bytes): 0, or -1 when an item
 * is malformed (the good items are still stored). */
int maildir_quota_parse_limits(const char *line, size_t len, long long *bytes,
                               long long *count);
/* Formats the header line without newline, as Dovecot writes it. */
void maildir_quota_format_limits(long long bytes, long long count,
                                 struct buf *out);

/* Sums the sizes (from ,S= in the name, else stat) and the number of
 * messages in cur/ and new/ of the root and of every .folder. Returns 0,
 * or -1 with err set. */
int maildir_quota_scan(const char *root, long long *bytes, long long *count,
                       struct buf *err);

/* Reads the usage for a delivery of add_bytes into root, recalculating
 * and rewriting maildirsize (files created with file_mode) when needed
 * as described above (the staleness rule applies whenever the file says
 * the message would not fit). Returns 1 when a quota applies (usage filled in),
 * 0 when none does (mode NONE or FROM_FILE without a file: usage zeroed), -1 on
 * an error (err set; the caller defers). In mode NONE the file is only
 * maintained, never enforced, and 0 is returned. */
int maildir_quota_get(const char *root,
                      const struct maildir_quota_limits *limits,
                      long long add_bytes, mode_t file_mode,
                      struct maildir_quota_usage *usage, struct buf *err);

/* Whether one more message of add_bytes fits: 1 yes, 0 over quota.
 * As Dovecot: over when bytes + add_bytes > limit or count + 1 > limit. */
int maildir_quota_fits(const struct maildir_quota_usage *usage,
                       long long add_bytes);

/* Records a change ("<bytes> <count>\n", one O_APPEND write) in an
 * existing maildirsize; does nothing when there is none. 0, or -1 with
 * err set. */
int maildir_quota_update(const char *root, long long bytes, long long count,
                         struct buf *err);

#endif
