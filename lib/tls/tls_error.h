/* tls_error.h: OpenSSL's error queue, in our log lines and error texts.
 *
 * OpenSSL records why a call failed in a per-thread queue. These drain
 * it, so a stale entry never explains a later failure. */
#ifndef POSTERN_TLS_ERROR_H
#define POSTERN_TLS_ERROR_H

#include "base/buf.h"

/* Logs every queued error as "warning: TLS library problem: ...", as
 * Postfix does, and empties the queue. */
void tls_error_log(void);

/* Appends the first queued error's text (or `fallback` when the queue
 * is empty) to out, logs the rest with tls_error_log, and empties the
 * queue. */
void tls_error_text(struct buf *out, const char *fallback);

/* Empties the queue before a call whose failure we will examine. */
void tls_error_clear(void);

#endif
