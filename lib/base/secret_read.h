/* secret_read.h: reading a secret (a new password) for a tool, never
 * from the command line: from the terminal without echo, asked twice, or
 * as the first line of standard input when it is not a terminal (a
 * script: `printf '%s\n' "$pw" | postern user add alice`). */
#ifndef POSTERN_SECRET_READ_H
#define POSTERN_SECRET_READ_H

#include <stddef.h>

#include "base/buf.h"

/* Reads a secret from fd into out (replacing its contents). When fd is a
 * terminal: writes prompt to stderr, reads a line with echo off, then
 * again_prompt and a second line, which must match; echo is restored
 * afterwards (also on SIGINT/SIGTERM/SIGHUP, which then end the process
 * with status 130). Otherwise: the first line of fd, without its "\n"
 * (or "\r\n"); the end of input ends it too. An empty secret, one longer
 * than max_len bytes, or one with a NUL byte is refused. Returns 0, or
 * -1 with the reason in err (never the secret). The caller wipes out
 * when done (secret_wipe). */
int secret_read(int fd, const char *prompt, const char *again_prompt,
                size_t max_len, struct buf *out, struct buf *err);

/* Overwrites the bytes of buf (its whole allocation) before freeing it. */
void secret_wipe(struct buf *buf);

#endif
