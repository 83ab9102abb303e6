/* maildrop_file.h: the format of a message that sendmail leaves in
 * maildrop/ (through the set-gid postdrop) while the mail system is not
 * running, and its parser. pickup reads these files and submits each
 * through smtpd's submit service, as its owner, so the message gets the
 * same checks and rewriting as one sendmail submits directly
 * (docs/sendmail.md, "When the mail system is not running").
 *
 * A file is written by a local user: it is untrusted input. The format
 * is text, small and strict, so a parser can refuse anything odd:
 *
 *   POSTDROP 1 LF
 *   S sender LF               exactly one; empty for the null sender
 *   R recipient LF            one or more, at most MAILDROP_MAX_RCPTS
 *   M LF
 *   message content           every byte to the end of the file
 *
 * Sender and recipients are text fields as the queue file knows them
 * (qfile_text_ok: at most 4096 bytes, no control character). The content
 * is in local form (LF line ends); its size is capped by the reader of
 * the file, not here.
 *
 * Files are named MAILDROP_PREFIX + a unique tail, which is not a queue
 * id, so qmgr's requeue pass (postsuper -r, also in maildrop/) leaves
 * them to pickup. */
#ifndef POSTERN_MAILDROP_FILE_H
#define POSTERN_MAILDROP_FILE_H

#include <stddef.h>

#include "base/buf.h"
#include "base/str.h"

#define MAILDROP_MAGIC "POSTDROP 1\n"
#define MAILDROP_PREFIX "pd-"
#define MAILDROP_MAX_RCPTS 10000
/* The envelope part of a file (everything before the content) is at
 * most this long. */
#define MAILDROP_MAX_ENVELOPE (MAILDROP_MAX_RCPTS * 4100 + 4200)

struct maildrop_msg {
    struct buf sender;    /* "" for the null sender */
    struct strlist rcpts; /* at least one */
    const char *content;  /* points into the parsed data */
    size_t content_len;
};

void maildrop_msg_init(struct maildrop_msg *msg);
void maildrop_msg_free(struct maildrop_msg *msg);

/* Parses a whole file of len bytes into msg (initialised by the
 * caller; content points into data). 0, or -1 with the reason in err. */
int maildrop_parse(const char *data, size_t len, struct maildrop_msg *msg,
                   struct buf *err);

/* Appends the envelope part for sender and rcpts to out (the content
 * follows it). 0, or -1 with err set when a field is not valid text or
 * there are no or too many recipients. */
int maildrop_format_envelope(struct buf *out, const char *sender,
                             const struct strlist *rcpts, struct buf *err);

/* 1 when name is a maildrop file's name (not a temporary file). */
int maildrop_file_name(const char *name);

#endif
