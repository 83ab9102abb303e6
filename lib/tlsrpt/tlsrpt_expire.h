/* tlsrpt_expire.h: removing old TLS report record files.
 *
 * The day files of $data_directory/tls-rpt (tlsrpt_record.h) are kept
 * for postern_tls_report_retention and then removed: a day's file goes
 * once the whole day ended longer ago than the retention. The writers
 * (the smtp processes) do it, each at most once per UTC day, and all of
 * them together at most about once a day: a stamp file in the directory
 * (".expired", whose mtime is the last run) tells a process that
 * another already did it today. Only names that are a date
 * (YYYY-MM-DD) are touched; anything else in the directory is left
 * alone. See docs/tls-rpt.md. */
#ifndef POSTERN_TLSRPT_EXPIRE_H
#define POSTERN_TLSRPT_EXPIRE_H

#include <time.h>

#include "base/buf.h"

/* The stamp's name inside DIR/tls-rpt. */
#define TLSRPT_EXPIRE_STAMP ".expired"

/* Removes the day files of data_dir/tls-rpt whose day ended more than
 * retention_s seconds before now (retention_s <= 0: none). Returns the
 * number removed (a missing directory: 0), or -1 with err set when the
 * directory cannot be read; a file that cannot be removed is named in
 * err and the others are still tried (the count is then still
 * returned). */
long tlsrpt_expire(const char *data_dir, time_t now, long retention_s,
                   struct buf *err);

/* tlsrpt_expire unless the stamp says it ran on now's UTC day; touches
 * the stamp first, so concurrent writers rarely both scan. Returns what
 * tlsrpt_expire returned, or 0 when it did not run. */
long tlsrpt_expire_daily(const char *data_dir, time_t now, long retention_s,
                         struct buf *err);

#endif
