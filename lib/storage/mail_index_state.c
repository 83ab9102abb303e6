/* mail_index_state.c: the index in memory and the log replay (see
 * mail_index_state.h). */
#include "storage/mail_index_state.h"

#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "storage/crc32c.h"

void mail_index_state_init(struct mail_index_state *st, void *data,
                           const struct mail_index_header *hdr)
{
    memset(st, 0, sizeof(*st));
    st->hdr = *hdr;
    buf_init(&st->log_names);
    if (data != NULL) {
        char *bytes = data;
        st->base = (struct mail_index_record *)(bytes + sizeof(*hdr));
        st->base_count = hdr->record_count;
        st->base_names = bytes + sizeof(*hdr) +
                         (size_t)hdr->record_count * sizeof(*st->base);
        if (st->base_count > 0)
            st->last_uid = st->base[st->base_count - 1].uid;
    }
}

void mail_index_state_free(struct mail_index_state *st)
{
    free(st->extra);
    free(st->live);
    free(st->cache_checked);
    buf_free(&st->log_names);
    memset(st, 0, sizeof(*st));
}

static struct mail_index_record *find_in(struct mail_index_record *recs,
                                         uint32_t count, uint32_t uid)
{
    uint32_t lo = 0, hi = count;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (recs[mid].uid < uid)
            lo = mid + 1;
        else if (recs[mid].uid > uid)
            hi = mid;
        else
            return &recs[mid];
    }
    return NULL;
}

struct mail_index_record *mail_index_state_find(struct mail_index_state *st,
                                                uint32_t uid)
{
    if (st->extra_count > 0 && uid >= st->extra[0].uid)
        return find_in(st->extra, st->extra_count, uid);
    return find_in(st->base, st->base_count, uid);
}

static struct mail_index_record *at(struct mail_index_state *st, uint32_t pos)
{
    return pos < st->base_count ? &st->base[pos]
                                : &st->extra[pos - st->base_count];
}

uint32_t mail_index_state_count(struct mail_index_state *st)
{
    return st->base_count + st->extra_count - st->expunged_count;
}

struct mail_index_record *mail_index_state_nth(struct mail_index_state *st,
                                               uint32_t seq0)
{
    if (seq0 >= mail_index_state_count(st))
        return NULL;
    if (st->expunged_count == 0)
        return at(st, seq0);
    if (!st->live_valid) {
        uint32_t total = st->base_count + st->extra_count;
        st->live = xreallocarray(st->live, total ? total : 1,
                                 sizeof(*st->live));
        st->live_count = 0;
        for (uint32_t pos = 0; pos < total; pos++)
            if (!(at(st, pos)->state & MAIL_INDEX_REC_EXPUNGED))
                st->live[st->live_count++] = pos;
        st->live_valid = 1;
    }
    return at(st, st->live[seq0]);
}

uint8_t *mail_index_state_cache_checked(struct mail_index_state *st,
                                        const struct mail_index_record *rec)
{
    static uint8_t elsewhere; /* a record not of this state: never kept */
    uint32_t pos;
    if (st->base_count && rec >= st->base && rec < st->base + st->base_count)
        pos = (uint32_t)(rec - st->base);
    else if (st->extra_count && rec >= st->extra &&
             rec < st->extra + st->extra_count)
        pos = st->base_count + (uint32_t)(rec - st->extra);
    else {
        elsewhere = 0;
        return &elsewhere;
    }
    if (pos >= st->cache_checked_cap) {
        uint32_t cap = st->base_count + st->extra_cap + 1;
        st->cache_checked = xrealloc(st->cache_checked, cap);
        memset(st->cache_checked + st->cache_checked_cap, 0,
               cap - st->cache_checked_cap);
        st->cache_checked_cap = cap;
    }
    return &st->cache_checked[pos];
}

const char *mail_index_state_name(const struct mail_index_state *st,
                                  const struct mail_index_record *rec)
{
    if (rec->state & MAIL_INDEX_REC_LOGNAME)
        return st->log_names.data + rec->name_offset;
    return st->base_names + rec->name_offset;
}

static int corrupt(struct buf *why, const char *reason)
{
    if (why)
        buf_set_str(why, reason);
    return -1;
}

static uint32_t get32(const unsigned char *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static uint64_t get64(const unsigned char *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static int op_append(struct mail_index_state *st, const unsigned char *p,
                     size_t left, uint64_t modseq, size_t *op_len,
                     struct mail_index_record **changed, struct buf *why)
{
    struct mail_index_record rec;
    if (left < sizeof(rec))
        return corrupt(why, "log append cut short");
    memcpy(&rec, p, sizeof(rec));
    size_t padded = ((size_t)rec.name_len + 3) & ~(size_t)3;
    if (rec.name_len == 0 || rec.name_len > MAIL_INDEX_NAME_MAX ||
        left - sizeof(rec) < padded)
        return corrupt(why, "log append with a bad name length");
    if (rec.uid <= st->last_uid || rec.uid == UINT32_MAX)
        return corrupt(why, "log append UID not above the last one");
    if ((rec.flags & ~MAIL_INDEX_FLAGS_MASK) || rec.state || rec.reserved ||
        (rec.cache_offset == 0) != (rec.cache_length == 0))
        return corrupt(why, "log append with bad record bits");
    if (memchr(p + sizeof(rec), '\0', rec.name_len) != NULL)
        return corrupt(why, "log append name holds a NUL");
    if (st->extra_count == st->extra_cap) {
        st->extra_cap = st->extra_cap ? st->extra_cap * 2 : 64;
        st->extra = xreallocarray(st->extra, st->extra_cap, sizeof(rec));
    }
    rec.name_offset = (uint32_t)st->log_names.len;
    rec.state = MAIL_INDEX_REC_LOGNAME;
    rec.modseq = modseq;
    buf_append(&st->log_names, p + sizeof(rec), rec.name_len);
    buf_append_char(&st->log_names, '\0');
    st->extra[st->extra_count] = rec;
    *changed = &st->extra[st->extra_count++];
    st->last_uid = rec.uid;
    if (st->hdr.next_uid <= rec.uid)
        st->hdr.next_uid = rec.uid + 1;
    st->live_valid = 0;
    *op_len = sizeof(rec) + padded;
    return 0;
}

/* The live record a FLAGS, EXPUNGE or CACHE operation names. */
static struct mail_index_record *live_uid(struct mail_index_state *st,
                                          uint32_t uid)
{
    struct mail_index_record *rec = mail_index_state_find(st, uid);
    return rec && !(rec->state & MAIL_INDEX_REC_EXPUNGED) ? rec : NULL;
}

/* Applies one operation at p; *op_len gets its size after the type. */
static int apply_op(struct mail_index_state *st, uint32_t type,
                    const unsigned char *p, size_t left, uint64_t modseq,
                    size_t *op_len, enum mail_index_change *kind,
                    struct mail_index_record **changed, struct buf *why)
{
    struct mail_index_record *rec;
    *changed = NULL;
    switch (type) {
    case MAIL_INDEX_OP_APPEND:
        *kind = MAIL_INDEX_CHANGE_APPEND;
        if (modseq == 0)
            return corrupt(why, "log append without a modseq");
        return op_append(st, p, left, modseq, op_len, changed, why);
    case MAIL_INDEX_OP_FLAGS:
        *op_len = 12;
        if (left < 12 || modseq == 0)
            return corrupt(why, "log flag change cut short or without modseq");
        if ((rec = live_uid(st, get32(p))) == NULL)
            return corrupt(why, "log flag change for a missing UID");
        if (get32(p + 4) & ~(uint32_t)MAIL_INDEX_FLAGS_MASK)
            return corrupt(why, "log flag change with bad flag bits");
        rec->flags = (uint8_t)get32(p + 4);
        rec->keywords = get32(p + 8);
        rec->modseq = modseq;
        *kind = MAIL_INDEX_CHANGE_FLAGS;
        *changed = rec;
        return 0;
    case MAIL_INDEX_OP_EXPUNGE:
        *op_len = 4;
        if (left < 4 || modseq == 0)
            return corrupt(why, "log expunge cut short or without modseq");
        if ((rec = live_uid(st, get32(p))) == NULL)
            return corrupt(why, "log expunge of a missing UID");
        rec->state |= MAIL_INDEX_REC_EXPUNGED;
        rec->modseq = modseq;
        st->expunged_count++;
        st->live_valid = 0;
        *kind = MAIL_INDEX_CHANGE_EXPUNGE;
        *changed = rec;
        return 0;
    case MAIL_INDEX_OP_CACHE:
        *op_len = 16;
        if (left < 16)
            return corrupt(why, "log cache reference cut short");
        if ((rec = live_uid(st, get32(p))) == NULL)
            return corrupt(why, "log cache reference for a missing UID");
        if (get32(p + 4) < MAIL_INDEX_CACHE_ENTRY_HEAD || get64(p + 8) == 0)
            return corrupt(why, "log cache reference out of range");
        rec->cache_length = get32(p + 4);
        rec->cache_offset = get64(p + 8);
        *mail_index_state_cache_checked(st, rec) = 0;
        return 0;
    case MAIL_INDEX_OP_NEXT_UID:
        *op_len = 4;
        if (left < 4 || get32(p) < st->hdr.next_uid)
            return corrupt(why, "log next UID cut short or going down");
        st->hdr.next_uid = get32(p);
        return 0;
    case MAIL_INDEX_OP_RECENT:
        *op_len = 4;
        if (left < 4 || get32(p) > st->hdr.next_uid || get32(p) == 0)
            return corrupt(why, "log first recent UID out of range");
        st->hdr.first_recent_uid = get32(p);
        return 0;
    case MAIL_INDEX_OP_SYNC_STAMP:
        *op_len = 16;
        if (left < 16)
            return corrupt(why, "log sync stamp cut short");
        st->hdr.sync_stamp[0] = get64(p);
        st->hdr.sync_stamp[1] = get64(p + 8);
        return 0;
    default:
        return corrupt(why, "log operation of unknown type");
    }
}

static int apply_entry(struct mail_index_state *st, const unsigned char *entry,
                       size_t len, mail_index_change_fn *change, void *ctx,
                       struct buf *why)
{
    uint64_t modseq = get64(entry + 16);
    if (modseq != 0 && modseq <= st->hdr.highest_modseq)
        return corrupt(why, "log modseq not above HIGHESTMODSEQ");
    if (modseq != 0)
        st->hdr.highest_modseq = modseq;
    size_t pos = MAIL_INDEX_LOG_ENTRY_HEAD;
    while (pos < len) {
        if (len - pos < 4)
            return corrupt(why, "log operation cut short");
        uint32_t type = get32(entry + pos);
        pos += 4;
        size_t op_len = 0;
        enum mail_index_change kind = MAIL_INDEX_CHANGE_FLAGS;
        struct mail_index_record *changed;
        if (apply_op(st, type, entry + pos, len - pos, modseq, &op_len, &kind,
                     &changed, why) < 0)
            return -1;
        pos += op_len;
        if (changed && change)
            change(ctx, kind, changed);
    }
    return 0;
}

static int all_zero(const unsigned char *p, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (p[i])
            return 0;
    return 1;
}

enum mail_index_scan_result
mail_index_log_scan(struct mail_index_state *st, const void *data, size_t len,
                    size_t *used, mail_index_change_fn *change, void *ctx,
                    struct buf *why)
{
    const unsigned char *bytes = data;
    size_t pos = 0;
    *used = 0;
    while (pos < len) {
        const unsigned char *entry = bytes + pos;
        size_t left = len - pos;
        if (left < MAIL_INDEX_LOG_ENTRY_HEAD)
            return MAIL_INDEX_SCAN_TAIL; /* a write not yet complete */
        uint32_t length = get32(entry);
        if (length < MAIL_INDEX_LOG_ENTRY_HEAD || length % 4 ||
            length > MAIL_INDEX_LOG_ENTRY_MAX ||
            get32(entry + 4) != (length ^ 0xffffffffu) ||
            get32(entry + 12) != 0) {
            if (all_zero(entry, left))
                return MAIL_INDEX_SCAN_TAIL; /* space a crash left empty */
            corrupt(why, "log entry with a damaged length");
            return MAIL_INDEX_SCAN_CORRUPT;
        }
        if (length > left)
            return MAIL_INDEX_SCAN_TAIL;
        if (crc32c(0, entry + 12, length - 12) != get32(entry + 8)) {
            if (length == left || all_zero(entry + length, left - length))
                return MAIL_INDEX_SCAN_TAIL;
            corrupt(why, "log entry checksum mismatch");
            return MAIL_INDEX_SCAN_CORRUPT;
        }
        if (apply_entry(st, entry, length, change, ctx, why) < 0)
            return MAIL_INDEX_SCAN_CORRUPT;
        pos += length;
        *used = pos;
    }
    return MAIL_INDEX_SCAN_OK;
}
