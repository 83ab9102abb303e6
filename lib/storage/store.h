/* store.h: what the mailbox writers (maildir.h, mbox.h) share.
 *
 * A delivery ends in one of a few outcomes that a delivery agent maps to
 * a per-recipient status: sent, deferred (4.x.x) or bounced (5.x.x). The
 * writers never decide policy beyond that; they report the class, the
 * enhanced status code they suggest, and a precise reason such as
 *   "maildir delivery failed: write /m/tmp/1.M2P3Q1.h: Disk quota exceeded"
 * This module also holds the small pieces both writers need: the content
 * filter (CRLF to LF, `From ` quoting), full writes, directory fsync and
 * directory creation. It is a pure library: no configuration, no logging
 * of mail content. */
#ifndef POSTERN_STORE_H
#define POSTERN_STORE_H

#include <stddef.h>
#include <sys/types.h>

#include "base/buf.h"

enum store_result {
    STORE_OK = 0,
    /* Try again later: I/O error, disk full, lock busy (dsn 4.x.x). */
    STORE_DEFER,
    /* Will not get better by waiting: mailbox file size limit reached,
     * file system quota (EDQUOT/EFBIG), invalid mailbox name (5.x.x). */
    STORE_BOUNCE,
    /* Maildir++ quota exceeded. The agent chooses by policy whether this
     * bounces (5.2.2, Postfix/Dovecot default) or defers (4.2.2). */
    STORE_OVER_QUOTA,
};

struct store_status {
    enum store_result result;
    char dsn[8];       /* "2.0.0", "4.3.0", "5.2.2", ... */
    struct buf reason; /* human text for the log and the DSN */
};

void store_status_init(struct store_status *st);
void store_status_free(struct store_status *st);
/* Sets result, dsn and a formatted reason (replacing any earlier one). */
void store_status_set(struct store_status *st, enum store_result result,
                      const char *dsn, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Sets the status from an errno value: the reason is the formatted text
 * followed by ": strerror(err)". The class follows Postfix's mbox_dsn():
 * ENOSPC -> defer 4.3.0; EAGAIN/ESTALE -> defer 4.2.0; EDQUOT/EFBIG ->
 * bounce 5.2.2 (mailbox full); anything else -> defer 4.2.0 (when unsure,
 * defer: a later try may succeed, a bounce cannot be undone). */
void store_status_errno(struct store_status *st, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Name of a result ("ok", "defer", "bounce", "over quota"). */
const char *store_result_name(enum store_result result);

/* The content filter: turns the message as the caller streams it into
 * the bytes stored. With STORE_FILTER_CRLF, each CR LF pair becomes LF
 * (a lone CR is kept), as Dovecot stores (mail_save_crlf = no) and
 * Postfix's local delivery writes. With STORE_FILTER_FROM_QUOTE, a line
 * that begins with "From " gets a '>' in front, Postfix's mboxo quoting.
 * Pairs and prefixes split across chunks are handled. */
#define STORE_FILTER_CRLF 1
#define STORE_FILTER_FROM_QUOTE 2

struct store_filter {
    int flags;
    int pending_cr;      /* the last input byte was a CR not yet written */
    int at_line_start;   /* the next output byte starts a line */
    size_t prefix_len;   /* bytes of "From " held back at a line start */
    char last_out;       /* the last byte written, 0 before any */
    long long out_bytes; /* bytes produced so far */
    long long bare_lf;   /* LFs produced that are not preceded by CR */
};

void store_filter_init(struct store_filter *f, int flags);
/* Appends the filtered form of data to out. */
void store_filter_run(struct store_filter *f, const void *data, size_t len,
                      struct buf *out);
/* Flushes what the filter held back (a trailing CR, a partial "From"). */
void store_filter_finish(struct store_filter *f, struct buf *out);

/* Writes all of data, retrying short writes and EINTR: 0, or -1 with
 * errno set. */
int store_write_all(int fd, const void *data, size_t len);
/* Creates path and any missing parents with mode (like mkdir -p), then
 * fsyncs each parent in which it created an entry. 0 when path exists
 * as a directory afterwards, else -1 with errno set. */
int store_mkdirs(const char *path, mode_t mode);

#endif
