/* imap_seqset.c: IMAP sequence sets (see imap_seqset.h). */
#include "imap/imap_seqset.h"

#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "imap/imap_arg.h"

void imap_seqset_init(struct imap_seqset *set)
{
    memset(set, 0, sizeof(*set));
}

void imap_seqset_free(struct imap_seqset *set)
{
    free(set->ranges);
    memset(set, 0, sizeof(*set));
}

int imap_seqset_looks_like(const char *text, size_t len)
{
    if (len == 1 && text[0] == '$')
        return 1;
    if (len == 0)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!strchr("0123456789,:*", text[i]) || text[i] == '\0')
            return 0;
    return 1;
}

/* One seq-number: digits (not 0) or '*'. */
static int parse_number(const char *text, size_t len, uint32_t *value,
                        const char **error)
{
    unsigned long long wide;
    if (len == 1 && text[0] == '*') {
        *value = IMAP_SEQ_STAR;
        return 0;
    }
    if (imap_parse_number(text, len, 0xffffffffULL, &wide) != 0) {
        *error = "Invalid sequence set";
        return -1;
    }
    if (wide == 0) {
        *error = "Invalid sequence set: 0 is not a message number";
        return -1;
    }
    if (wide == IMAP_SEQ_STAR) {
        *error = "Invalid sequence set: number too big";
        return -1;
    }
    *value = (uint32_t)wide;
    return 0;
}

int imap_seqset_parse(const char *text, size_t len, size_t max_ranges,
                      struct imap_seqset *set, const char **error)
{
    size_t cap = 0;
    imap_seqset_free(set);
    if (len == 1 && text[0] == '$') {
        set->searchres = 1;
        return 0;
    }
    size_t pos = 0;
    for (;;) {
        size_t end = pos;
        while (end < len && text[end] != ',')
            end++;
        if (end == pos) {
            *error = "Invalid sequence set";
            goto fail;
        }
        const char *colon = memchr(text + pos, ':', end - pos);
        struct imap_seq_range range;
        if (colon) {
            size_t first_len = (size_t)(colon - (text + pos));
            if (parse_number(text + pos, first_len, &range.first, error) != 0 ||
                parse_number(colon + 1, end - pos - first_len - 1, &range.last,
                             error) != 0)
                goto fail;
            if (range.first > range.last) {
                uint32_t swap = range.first;
                range.first = range.last;
                range.last = swap;
            }
        } else {
            if (parse_number(text + pos, end - pos, &range.first, error) != 0)
                goto fail;
            range.last = range.first;
        }
        if (set->count == max_ranges) {
            *error = "Too many ranges in sequence set";
            goto fail;
        }
        if (set->count == cap) {
            cap = cap ? cap * 2 : 4;
            set->ranges = xreallocarray(set->ranges, cap, sizeof(*set->ranges));
        }
        set->ranges[set->count++] = range;
        if (end == len)
            return 0;
        pos = end + 1;
    }
fail:
    imap_seqset_free(set);
    return -1;
}

static int range_compare(const void *a, const void *b)
{
    const struct imap_seq_range *x = a, *y = b;
    if (x->first != y->first)
        return x->first < y->first ? -1 : 1;
    return x->last < y->last ? -1 : x->last > y->last;
}

void imap_seqset_resolve(struct imap_seqset *set, uint32_t largest)
{
    size_t kept = 0;
    for (size_t i = 0; i < set->count; i++) {
        struct imap_seq_range r = set->ranges[i];
        if (r.first == IMAP_SEQ_STAR) { /* "*" or "*:*" */
            if (largest == 0)
                continue;
            r.first = largest;
        }
        if (r.last == IMAP_SEQ_STAR) {
            if (largest == 0)
                continue;
            r.last = largest;
        }
        if (r.first > r.last) { /* "5:*" past the end */
            uint32_t swap = r.first;
            r.first = r.last;
            r.last = swap;
        }
        set->ranges[kept++] = r;
    }
    set->count = kept;
    if (kept == 0)
        return;
    qsort(set->ranges, kept, sizeof(*set->ranges), range_compare);
    size_t merged = 0;
    for (size_t i = 1; i < kept; i++) {
        struct imap_seq_range *last = &set->ranges[merged];
        if (set->ranges[i].first <= last->last ||
            set->ranges[i].first - 1 == last->last) {
            if (set->ranges[i].last > last->last)
                last->last = set->ranges[i].last;
        } else {
            set->ranges[++merged] = set->ranges[i];
        }
    }
    set->count = merged + 1;
}

int imap_seqset_contains(const struct imap_seqset *set, uint32_t value)
{
    size_t low = 0, high = set->count;
    while (low < high) {
        size_t mid = low + (high - low) / 2;
        if (value < set->ranges[mid].first)
            high = mid;
        else if (value > set->ranges[mid].last)
            low = mid + 1;
        else
            return 1;
    }
    return 0;
}

static void format_number(uint32_t value, struct buf *out)
{
    if (value == IMAP_SEQ_STAR)
        buf_append_char(out, '*');
    else
        buf_appendf(out, "%lu", (unsigned long)value);
}

void imap_seqset_format(const struct imap_seqset *set, struct buf *out)
{
    if (set->searchres) {
        buf_append_char(out, '$');
        return;
    }
    for (size_t i = 0; i < set->count; i++) {
        if (i > 0)
            buf_append_char(out, ',');
        format_number(set->ranges[i].first, out);
        if (set->ranges[i].last != set->ranges[i].first) {
            buf_append_char(out, ':');
            format_number(set->ranges[i].last, out);
        }
    }
}
