/* lmtpd_spool.h: the one copy of a message lmtpd keeps while it writes
 * it into each recipient's mailbox.
 *
 * The content is held in memory up to LMTPD_SPOOL_MEMORY bytes (as
 * Dovecot's LMTP keeps 128 kB); a larger message moves to a file in
 * lmtpd_temp_directory that has no name (O_TMPFILE; where the file
 * system lacks it, a mkstemp file unlinked at once), so nothing is left
 * behind by a crash and no other process can open it. Reads are by
 * offset, for struct agent_content (lib/delivery/agent.h). */
#ifndef POSTERN_LMTPD_SPOOL_H
#define POSTERN_LMTPD_SPOOL_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

#define LMTPD_SPOOL_MEMORY (128 * 1024)

struct lmtpd_spool {
    const char *temp_dir;
    struct buf data; /* the content (fd < 0), or bytes not yet written */
    int fd;          /* the temporary file, or -1 */
    uint64_t size;   /* bytes appended */
    int failed;      /* a write failed: err says why */
    struct buf err;
};

void lmtpd_spool_init(struct lmtpd_spool *sp, const char *temp_dir);
/* Forgets the content (closing the file): ready for the next message. */
void lmtpd_spool_reset(struct lmtpd_spool *sp);
void lmtpd_spool_free(struct lmtpd_spool *sp);
/* Appends bytes. After a failure (sp->failed) further appends are
 * dropped; the message is then answered with a temporary error. */
void lmtpd_spool_append(struct lmtpd_spool *sp, const void *data, size_t len);
/* Writes out what is buffered: 0, or -1 (sp->failed, sp->err). */
int lmtpd_spool_finish(struct lmtpd_spool *sp);
/* struct agent_content's read: up to max bytes from offset into out
 * (replaced). 0, or -1 with err. */
int lmtpd_spool_read(void *spool, uint64_t offset, size_t max, struct buf *out,
                     struct buf *err);

#endif
