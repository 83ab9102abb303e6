/* qid.h: queue ids, made without coordination and checked before use.
 *
 * An id is 7 base-36 digits of the arrival second, 4 base-36 digits of
 * the microsecond, a 'z', and the queue file's inode number in base 36
 * ("6FQ2P1K0A3Bz4K2J"), in the manner of Postfix's long queue ids: two
 * live files never share an inode, so processes need not talk to each
 * other to pick unique ids, and ids sort by time. Every path built from
 * an id, wherever the id came from, must first pass qid_valid(). */
#ifndef POSTERN_QID_H
#define POSTERN_QID_H

#include <stddef.h>
#include <stdint.h>

/* Longest id qid_valid() accepts, and a buffer that holds one. */
#define QID_MAX_LEN 31
#define QID_BUF_SIZE (QID_MAX_LEN + 1)

/* Formats the id for the given time and inode into out. */
void qid_make(char out[QID_BUF_SIZE], uint64_t seconds, uint32_t micros,
              uint64_t inode);
/* Formats an id for now and the given inode; an inode of 0 (no file yet)
 * is replaced by 64 random bits. */
void qid_new(char out[QID_BUF_SIZE], uint64_t inode);
/* 1 when qid is 1..QID_MAX_LEN ASCII letters and digits, else 0. Accepts
 * ids of other shapes too (Postfix's short and long ids), because the
 * check is about path safety, not about who made the id. NULL is 0. */
int qid_valid(const char *qid);
/* Decodes the time of an id made by qid_make: 0, or -1 when the id does
 * not have that shape. */
int qid_time(const char *qid, uint64_t *seconds, uint32_t *micros);

#endif
