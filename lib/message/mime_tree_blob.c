/* mime_tree_blob.c: the index's byte form of a mime_tree (see
 * mime_tree_blob.h). */
#include "message/mime_tree_blob.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"

static void put(struct buf *out, uint64_t v)
{
    do {
        unsigned char c = (unsigned char)(v & 0x7f);
        v >>= 7;
        if (v)
            c |= 0x80;
        buf_append_char(out, (char)c);
    } while (v);
}

struct reader {
    const unsigned char *p, *end;
    int bad;
};

static uint64_t get(struct reader *r)
{
    uint64_t v = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
        unsigned char c;
        if (r->p >= r->end) {
            r->bad = 1;
            return 0;
        }
        c = *r->p++;
        v |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80))
            return v;
    }
    r->bad = 1;
    return 0;
}

void mime_tree_blob_write(const struct mime_tree *tree, struct buf *out)
{
    buf_append_str(out, "MT");
    put(out, MIME_TREE_BLOB_VERSION);
    put(out, tree->count);
    for (uint32_t i = 0; i < tree->count; i++) {
        const struct mime_part *p = &tree->parts[i];
        put(out, p->parent == MIME_NONE ? 0 : i - p->parent);
        put(out, p->flags);
        put(out, p->fields);
        put(out, p->offset);
        put(out, p->header_size);
        put(out, p->header_vsize - p->header_size);
        put(out, p->header_lines);
        put(out, p->body_size);
        put(out, p->body_vsize - p->body_size);
        put(out, p->body_lines);
        for (int f = 0; f < MIME_FIELD_COUNT; f++) {
            if (p->fields & (1u << f)) {
                put(out, p->field[f].offset);
                put(out, p->field[f].length);
            }
        }
    }
}

/* a + b <= limit, without overflow */
static int fits(uint64_t a, uint64_t b, uint64_t limit)
{
    return a <= limit && b <= limit - a;
}

int mime_tree_blob_read(struct mime_tree *tree, const void *blob, size_t len,
                        const char *data, size_t data_len)
{
    struct reader r = {blob, (const unsigned char *)blob + len, 0};
    uint32_t *last_child = NULL;
    uint64_t count;

    mime_tree_free(tree);
    if (len < 2 || memcmp(blob, "MT", 2) != 0)
        return -1;
    r.p += 2;
    if (get(&r) != MIME_TREE_BLOB_VERSION)
        return -1;
    count = get(&r);
    if (r.bad || count == 0 || count > MIME_TREE_PARTS_MAX)
        return -1;
    tree->parts = xcalloc((size_t)count, sizeof(*tree->parts));
    last_child = xcalloc((size_t)count, sizeof(*last_child));
    tree->cap = (uint32_t)count;
    tree->data = data;
    tree->len = data_len;
    for (uint32_t i = 0; i < count && !r.bad; i++) {
        struct mime_part *p = &tree->parts[i];
        uint64_t dist = get(&r), v[9];
        for (int k = 0; k < 9; k++)
            v[k] = get(&r);
        if (r.bad || (i == 0) != (dist == 0) || dist > i || v[0] > 0xff ||
            v[1] >= (1u << MIME_FIELD_COUNT))
            goto bad;
        p->parent = i == 0 ? MIME_NONE : i - (uint32_t)dist;
        p->first_child = p->next_sibling = MIME_NONE;
        p->flags = (uint8_t)v[0];
        p->fields = (uint8_t)v[1];
        if (!fits(v[2], v[3], data_len) || !fits(v[2] + v[3], v[6], data_len) ||
            v[4] > data_len || v[7] > data_len || v[5] > v[3] + 1 ||
            v[8] > v[6] + 1 || v[4] > v[5] || v[7] > v[8])
            goto bad;
        p->offset = (size_t)v[2];
        p->header_size = (size_t)v[3];
        p->header_vsize = (size_t)(v[3] + v[4]);
        p->header_lines = (size_t)v[5];
        p->body_size = (size_t)v[6];
        p->body_vsize = (size_t)(v[6] + v[7]);
        p->body_lines = (size_t)v[8];
        for (int f = 0; f < MIME_FIELD_COUNT; f++) {
            uint64_t off, flen;
            if (!(p->fields & (1u << f)))
                continue;
            off = get(&r);
            flen = get(&r);
            if (r.bad || !fits(off, flen, p->header_size))
                goto bad;
            p->field[f].offset = (uint32_t)off;
            p->field[f].length = (uint32_t)flen;
        }
        last_child[i] = MIME_NONE;
        if (i > 0) {
            struct mime_part *q = &tree->parts[p->parent];
            size_t qbody = mime_part_body_offset(q);
            if (p->offset < qbody ||
                p->offset + p->header_size + p->body_size >
                    qbody + q->body_size ||
                q->depth + 1 >= MIME_TREE_DEPTH_MAX)
                goto bad;
            p->depth = (uint16_t)(q->depth + 1);
            if (q->first_child == MIME_NONE)
                q->first_child = i;
            else
                tree->parts[last_child[p->parent]].next_sibling = i;
            last_child[p->parent] = i;
        }
        tree->count = i + 1;
    }
    if (r.bad || r.p != r.end || tree->count != count)
        goto bad;
    free(last_child);
    return 0;
bad:
    free(last_child);
    mime_tree_free(tree);
    return -1;
}
