/* fuzz_imap_mime.c: fuzz target for the IMAP MIME parser (lib/message/
 * mime_tree) and its renderings (imap_bodystructure, imap_envelope,
 * imap_address). Invariants, each an abort when broken:
 *  - every part lies inside the message and inside its parent, children
 *    after their parent, depth below MIME_TREE_DEPTH_MAX, part count
 *    within MIME_TREE_PARTS_MAX;
 *  - every recorded Content-* field value lies inside its part's header;
 *  - BODY, BODYSTRUCTURE and ENVELOPE are well-formed IMAP data:
 *    strings closed, literals as long as they say, parentheses balanced;
 *  - the sizes add up: RFC822.SIZE >= the byte size;
 *  - section numbers resolve to parts of the tree or to nothing;
 *  - RFC 2047 decoding of the header gives well-formed UTF-8;
 *  - the tree's index blob reads back to a tree with the same
 *    BODYSTRUCTURE, and the input itself read as a blob (the index
 *    reader facing a damaged file) is refused or gives a tree that
 *    keeps the bounds above. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "message/imap_bodystructure.h"
#include "message/imap_envelope.h"
#include "message/mime_tree.h"
#include "message/mime_tree_blob.h"
#include "message/rfc2047.h"
#include "base/utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *what)
{
    fprintf(stderr, "fuzz_imap_mime: %s\n", what);
    abort();
}

/* Walks IMAP data: returns when it is balanced, aborts when not. */
static void check_imap(const struct buf *b)
{
    long depth = 0;
    size_t i = 0;
    while (i < b->len) {
        char c = b->data[i];
        if (c == '(') {
            depth++;
            i++;
        } else if (c == ')') {
            if (--depth < 0)
                fail("unbalanced ')'");
            i++;
        } else if (c == '"') {
            for (i++; i < b->len && b->data[i] != '"'; i++) {
                if (b->data[i] == '\\')
                    i++;
                if (i < b->len && (b->data[i] == '\r' || b->data[i] == '\n'))
                    fail("line end in a quoted string");
            }
            if (i >= b->len)
                fail("unterminated quoted string");
            i++;
        } else if (c == '{') {
            size_t n = 0;
            for (i++; i < b->len && b->data[i] >= '0' && b->data[i] <= '9'; i++)
                n = n * 10 + (size_t)(b->data[i] - '0');
            if (i + 3 > b->len || memcmp(b->data + i, "}\r\n", 3) != 0)
                fail("bad literal header");
            i += 3;
            if (n > b->len - i)
                fail("literal longer than the data");
            i += n;
        } else {
            if (c == '\r' || c == '\n' || c == 0)
                fail("control byte outside a string");
            i++;
        }
    }
    if (depth != 0)
        fail("unbalanced '('");
}

static void check_tree(const struct mime_tree *t, size_t size)
{
    if (t->count == 0 || t->count > MIME_TREE_PARTS_MAX)
        fail("part count");
    for (uint32_t i = 0; i < t->count; i++) {
        const struct mime_part *p = &t->parts[i];
        size_t end = p->offset + p->header_size + p->body_size;
        if (p->offset > size || p->header_size > size ||
            p->body_size > size || end > size)
            fail("part outside the message");
        if (p->depth >= MIME_TREE_DEPTH_MAX)
            fail("too deep");
        if (p->header_vsize < p->header_size || p->body_vsize < p->body_size)
            fail("virtual size below the size");
        if (p->parent != MIME_NONE) {
            const struct mime_part *q = &t->parts[p->parent];
            if (p->parent >= i || p->offset < mime_part_body_offset(q) ||
                end > mime_part_body_offset(q) + q->body_size)
                fail("part outside its parent");
        }
        for (int f = 0; f < MIME_FIELD_COUNT; f++) {
            size_t len;
            const char *v = mime_part_field(t, p, (enum mime_field)f, &len);
            if (v != NULL &&
                (v < t->data + p->offset ||
                 v + len > t->data + p->offset + p->header_size))
                fail("field outside the header");
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct mime_tree tree;
    struct buf out = BUF_INIT;
    const char *text = (const char *)data;
    static const unsigned sections[][3] = {{1, 0, 0}, {2, 0, 0}, {1, 1, 0},
                                           {2, 1, 0}, {1, 2, 1}, {3, 1, 2}};

    mime_tree_init(&tree);
    mime_tree_parse(&tree, text, size);
    check_tree(&tree, size);
    if (tree.parts[0].header_vsize + tree.parts[0].body_vsize < size)
        fail("RFC822.SIZE below the byte size");

    for (int ext = 0; ext <= 1; ext++) {
        buf_reset(&out);
        imap_bodystructure_write(&out, &tree, 0, ext);
        check_imap(&out);
    }
    buf_reset(&out);
    imap_envelope_write(&out, text, imap_header_length(text, size));
    check_imap(&out);

    buf_reset(&out);
    rfc2047_decode(text, tree.parts[0].header_size, &out);
    if (!utf8_valid(out.data, out.len))
        fail("rfc2047_decode gave malformed UTF-8");

    for (size_t s = 0; s < sizeof(sections) / sizeof(sections[0]); s++) {
        for (size_t n = 1; n <= 3 && sections[s][n - 1]; n++) {
            const struct mime_part *p = mime_tree_section(&tree, sections[s], n);
            if (p != NULL && (p < tree.parts || p >= tree.parts + tree.count))
                fail("section outside the tree");
        }
    }
    {
        struct mime_tree back;
        struct buf blob = BUF_INIT, again = BUF_INIT;
        mime_tree_init(&back);
        mime_tree_blob_write(&tree, &blob);
        if (mime_tree_blob_read(&back, blob.data, blob.len, text, size) < 0)
            fail("the blob of a parsed tree is refused");
        buf_reset(&out);
        imap_bodystructure_write(&out, &tree, 0, 1);
        imap_bodystructure_write(&again, &back, 0, 1);
        if (out.len != again.len || memcmp(out.data, again.data, out.len) != 0)
            fail("the blob gives another BODYSTRUCTURE");
        if (mime_tree_blob_read(&back, data, size, text, size) == 0) {
            check_tree(&back, size);
            buf_reset(&out);
            imap_bodystructure_write(&out, &back, 0, 1);
            check_imap(&out);
        }
        mime_tree_free(&back);
        buf_free(&blob);
        buf_free(&again);
    }
    mime_tree_free(&tree);
    buf_free(&out);
    return 0;
}
