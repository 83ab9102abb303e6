/* crc32c.h: CRC-32C (Castagnoli, the iSCSI/ext4 polynomial), the
 * checksum of the mailbox index files (mail_index_format.h). Uses the
 * SSE4.2 crc32 instruction when the CPU has it, else a slicing-by-8
 * table; both give the same value. */
#ifndef POSTERN_CRC32C_H
#define POSTERN_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Continues crc over data[0..len); start with crc = 0. */
uint32_t crc32c(uint32_t crc, const void *data, size_t len);

#endif
