/* imap_subject.h: the base subject of RFC 5256 section 2.1, for SORT
 * SUBJECT and THREAD: the Subject: text with RFC 2047 words decoded,
 * white space runs made one space, trailing "(fwd)", leading "Re:",
 * "Fw:", "Fwd:" (with any "[blob]" before or inside them) and a leading
 * "[blob]" removed, and a "[fwd: ...]" wrapper taken off, until nothing
 * more changes; then folded (imap_casefold.h) so subjects compare
 * ignoring case as Dovecot compares them. */
#ifndef POSTERN_IMAP_SUBJECT_H
#define POSTERN_IMAP_SUBJECT_H

#include <stddef.h>

#include "base/buf.h"

/* Appends the folded base subject of the raw header value
 * subject[0..len) (NULL for no Subject:). Returns 1 when the subject
 * marked a reply or forward (a "Re:"/"Fwd:" leader, a "(fwd)" trailer
 * or a "[fwd: ]" wrapper was removed), else 0. */
int imap_base_subject(const char *subject, size_t len, struct buf *out);

#endif
