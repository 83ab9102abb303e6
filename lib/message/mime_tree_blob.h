/* mime_tree_blob.h: a compact, versioned byte form of a mime_tree, for
 * the mailbox index to keep beside each message's cached ENVELOPE and
 * BODYSTRUCTURE, so BODY[section] and BINARY find their bytes without
 * parsing the message again.
 *
 * Layout (all numbers unsigned LEB128 varints, so small messages take a
 * few bytes a part):
 *   "MT" version(=1) count
 *   per part, in tree order (parents before children, document order):
 *     parent distance (0 for the message, else index - parent index)
 *     flags  fields(bitmap of MIME_FIELD_*)
 *     offset  header_size  header_vsize-header_size  header_lines
 *     body_size  body_vsize-body_size  body_lines
 *     per field bit set: offset length
 * The reader trusts nothing: a wrong magic or version, a short or long
 * blob, a count over MIME_TREE_PARTS_MAX, a parent that is not earlier,
 * a depth over MIME_TREE_DEPTH_MAX, or any offset outside the message
 * (or a part outside its parent) fails it, and the caller parses the
 * message again. */
#ifndef POSTERN_MIME_TREE_BLOB_H
#define POSTERN_MIME_TREE_BLOB_H

#include <stddef.h>

#include "base/buf.h"
#include "message/mime_tree.h"

#define MIME_TREE_BLOB_VERSION 1

/* Appends the blob of `tree` to out. */
void mime_tree_blob_write(const struct mime_tree *tree, struct buf *out);

/* Rebuilds a tree from blob[0..len) for the message data[0..data_len)
 * (which the tree then points to, as after mime_tree_parse). Returns 0,
 * or -1 when the blob is not a valid one for a message of that size
 * (the tree is then empty). */
int mime_tree_blob_read(struct mime_tree *tree, const void *blob, size_t len,
                        const char *data, size_t data_len);

#endif
