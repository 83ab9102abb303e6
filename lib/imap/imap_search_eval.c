/* imap_search_eval.c: SEARCH keys on one message (see imap_search_eval.h). */
#include "imap/imap_search_eval.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/mem.h"
#include "imap/imap_casefold.h"
#include "imap/imap_flags.h"
#include "message/charset_utf8.h"
#include "message/imap_envelope.h"
#include "message/imap_header_iter.h"
#include "message/mime_decode.h"
#include "message/mime_params.h"
#include "message/rfc2047.h"
#include "message/rfc822_date.h"
#include "message/rfc822_lex.h"

struct imap_search_folded {
    const struct imap_search_key *key;
    struct buf text;
};

enum key_cost { COST_INDEX, COST_HEADER, COST_BODY };

/* ---- preparing the keys ---- */

static void prepare(struct imap_search_eval *ev, struct imap_search_key *key,
                    size_t *cap)
{
    switch (key->op) {
    case IMAP_SEARCH_BCC:
    case IMAP_SEARCH_BODY:
    case IMAP_SEARCH_CC:
    case IMAP_SEARCH_FROM:
    case IMAP_SEARCH_SUBJECT:
    case IMAP_SEARCH_TEXT:
    case IMAP_SEARCH_TO:
    case IMAP_SEARCH_HEADER:
        if (ev->folded_count == *cap) {
            *cap = *cap ? *cap * 2 : 8;
            ev->folded = xreallocarray(ev->folded, *cap, sizeof(*ev->folded));
        }
        ev->folded[ev->folded_count].key = key;
        buf_init(&ev->folded[ev->folded_count].text);
        imap_casefold_append(&ev->folded[ev->folded_count].text,
                             key->str ? key->str : "", key->str ? key->len : 0);
        ev->folded_count++;
        break;
    case IMAP_SEARCH_UID:
        if (!key->set.searchres)
            imap_seqset_resolve(&key->set, ev->env.uid_max);
        break;
    case IMAP_SEARCH_SEQSET:
        if (!key->set.searchres)
            imap_seqset_resolve(&key->set, ev->env.message_count);
        break;
    default:
        break;
    }
    for (size_t i = 0; i < key->child_count; i++)
        prepare(ev, &key->children[i], cap);
}

static int folded_cmp(const void *a, const void *b)
{
    const struct imap_search_key *x = ((const struct imap_search_folded *)a)->key;
    const struct imap_search_key *y = ((const struct imap_search_folded *)b)->key;
    return x < y ? -1 : x > y;
}

void imap_search_eval_init(struct imap_search_eval *ev,
                           struct imap_search *search,
                           const struct imap_search_env *env)
{
    size_t cap = 0;
    memset(ev, 0, sizeof(*ev));
    ev->search = search;
    ev->env = *env;
    buf_init(&ev->headers);
    buf_init(&ev->bodies);
    buf_init(&ev->scratch);
    buf_init(&ev->scratch2);
    prepare(ev, &search->root, &cap);
    if (ev->folded_count > 1)
        qsort(ev->folded, ev->folded_count, sizeof(*ev->folded), folded_cmp);
}

void imap_search_eval_free(struct imap_search_eval *ev)
{
    for (size_t i = 0; i < ev->folded_count; i++)
        buf_free(&ev->folded[i].text);
    free(ev->folded);
    buf_free(&ev->headers);
    buf_free(&ev->bodies);
    buf_free(&ev->scratch);
    buf_free(&ev->scratch2);
    memset(ev, 0, sizeof(*ev));
}

static const struct buf *folded_key(const struct imap_search_eval *ev,
                                    const struct imap_search_key *key)
{
    size_t lo = 0, hi = ev->folded_count;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (ev->folded[mid].key == key)
            return &ev->folded[mid].text;
        if (ev->folded[mid].key < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* ---- what a key costs ---- */

static enum key_cost key_cost(const struct imap_search_key *key)
{
    enum key_cost cost = COST_INDEX;
    switch (key->op) {
    case IMAP_SEARCH_BCC:
    case IMAP_SEARCH_CC:
    case IMAP_SEARCH_FROM:
    case IMAP_SEARCH_SUBJECT:
    case IMAP_SEARCH_TO:
    case IMAP_SEARCH_HEADER:
    case IMAP_SEARCH_SENTBEFORE:
    case IMAP_SEARCH_SENTON:
    case IMAP_SEARCH_SENTSINCE:
        return COST_HEADER;
    case IMAP_SEARCH_BODY:
    case IMAP_SEARCH_TEXT:
        return COST_BODY;
    default:
        break;
    }
    for (size_t i = 0; i < key->child_count; i++) {
        enum key_cost c = key_cost(&key->children[i]);
        if (c > cost)
            cost = c;
    }
    return cost;
}

/* ---- the message's text, folded ---- */

static int contains(const struct buf *hay, const struct buf *needle)
{
    if (needle->len == 0)
        return 1;
    return memmem(hay->data, hay->len, needle->data, needle->len) != NULL;
}

static long days_of(time_t when, int zone_minutes)
{
    long long t = (long long)when + (long long)zone_minutes * 60;
    return (long)(t >= 0 ? t / 86400 : (t - 86399) / 86400);
}

/* HEADER, FROM, ...: the decoded, folded values of every field named
 * name; whether the key's text is in one of them. */
static int match_header(struct imap_search_eval *ev, struct imap_message *msg,
                        const char *name, size_t name_len,
                        const struct imap_search_key *key)
{
    const struct buf *want = folded_key(ev, key);
    struct imap_header_field field;
    const char *header;
    size_t len, pos = 0;

    if (want->len == 0 && key->op != IMAP_SEARCH_HEADER)
        return 1; /* "" is in every text */
    if (imap_message_header(msg, &header, &len) < 0)
        return -1;
    while (imap_header_next(header, len, &pos, &field)) {
        if (!imap_header_name_is(&field, name, name_len))
            continue;
        if (want->len == 0)
            return 1; /* HEADER name "": the field exists */
        buf_reset(&ev->scratch);
        buf_reset(&ev->scratch2);
        rfc2047_decode(field.value, field.value_len, &ev->scratch);
        imap_casefold_append(&ev->scratch2, ev->scratch.data, ev->scratch.len);
        if (contains(&ev->scratch2, want))
            return 1;
    }
    return 0;
}

/* The day written in the Date: field (in its own zone); without a valid
 * Date: 1970-01-01, as Dovecot takes it (so SENTBEFORE finds such
 * messages, SENTSINCE never). */
static int sent_day(struct imap_search_eval *ev, struct imap_message *msg,
                    long *day)
{
    if (!ev->have_sent) {
        const char *header, *value;
        size_t len, vlen;
        struct rfc822_date date;
        struct imap_date d;
        if (imap_message_header(msg, &header, &len) < 0)
            return -1;
        value = imap_header_find(header, len, "date", &vlen);
        if (value != NULL && rfc822_date_parse(value, vlen, &date) == 0) {
            d.year = date.year;
            d.month = date.month;
            d.day = date.day;
            ev->sent_day = imap_date_days(&d);
        } else {
            ev->sent_day = 0;
        }
        ev->have_sent = 1;
    }
    *day = ev->sent_day;
    return 0;
}

/* One part whose body may be searched: its Content-Type and
 * Content-Transfer-Encoding values (NULL when absent) and its body. */
struct leaf {
    const char *type, *encoding, *body;
    size_t type_len, encoding_len, body_len;
    int in_digest; /* no Content-Type means message/rfc822 */
};

/* Whether the leaf is text/ or message/ (or has no Content-Type: text),
 * and its charset into `charset` (empty when none). */
static int searchable(const struct leaf *leaf, struct buf *charset)
{
    struct rfc822_lex lx;
    struct buf type = BUF_INIT, subtype = BUF_INIT;
    int ok;

    buf_reset(charset);
    if (leaf->type == NULL)
        return !leaf->in_digest;
    rfc822_lex_init(&lx, leaf->type, leaf->type_len);
    if (rfc822_lex_content_type(&lx, &type, &subtype) < 0) {
        ok = type.len == 0; /* broken: Dovecot's "" "", searched as text */
    } else {
        ok = strcasecmp(buf_cstr(&type), "text") == 0 ||
             strcasecmp(buf_cstr(&type), "message") == 0;
        if (ok) {
            struct mime_params params;
            const char *cs;
            mime_params_init(&params);
            mime_params_parse(&lx, &params);
            cs = mime_params_get(&params, "charset");
            if (cs != NULL && strlen(cs) < 64)
                buf_append_str(charset, cs);
            mime_params_free(&params);
        }
    }
    buf_free(&type);
    buf_free(&subtype);
    return ok;
}

/* Appends one leaf's body: decoded, in UTF-8, folded. */
static void fold_body(struct imap_search_eval *ev, const struct leaf *leaf,
                      const char *charset)
{
    enum mime_cte cte = leaf->encoding
                            ? mime_cte_parse(leaf->encoding, leaf->encoding_len)
                            : MIME_CTE_IDENTITY;
    int utf8 = charset[0] == '\0' || charset_is_utf8(charset);
    const char *text = leaf->body;
    size_t len = leaf->body_len;

    if (cte == MIME_CTE_UNKNOWN)
        return;
    if (cte != MIME_CTE_IDENTITY) {
        buf_reset(&ev->scratch);
        mime_decode_body(cte, text, len, &ev->scratch);
        text = ev->scratch.data;
        len = ev->scratch.len;
    }
    if (!utf8) {
        buf_reset(&ev->scratch2);
        if (charset_to_utf8(charset, text, len, &ev->scratch2) == 0) {
            text = ev->scratch2.data;
            len = ev->scratch2.len;
        }
    }
    /* UTF-8 text is folded as it is: a malformed byte matches only
     * itself */
    imap_casefold_append(&ev->bodies, text, len);
    buf_append_char(&ev->bodies, '\n');
}

static void search_leaf(struct imap_search_eval *ev, const struct leaf *leaf,
                        struct buf *charset)
{
    if (searchable(leaf, charset))
        fold_body(ev, leaf, buf_cstr(charset));
}

/* A message whose header names no multipart or message type is one
 * leaf: it is searched without parsing its MIME structure (most mail,
 * and the SEARCH TEXT benchmark's). 1 when it was, 0 when the tree is
 * needed, -1 when unreadable. */
static int single_part(struct imap_message *msg, struct leaf *leaf,
                       size_t *header_len)
{
    const char *data, *t;
    size_t len;
    if (msg->tree_ready)
        return 0;
    if (imap_message_data(msg, &data, &len) < 0)
        return -1;
    *header_len = imap_header_length(data, len);
    memset(leaf, 0, sizeof(*leaf));
    leaf->type = imap_header_find(data, *header_len, "content-type",
                                  &leaf->type_len);
    for (t = leaf->type; t && t < leaf->type + leaf->type_len &&
                         (*t == ' ' || *t == '\t' || *t == '\r' || *t == '\n');
         t++)
        ;
    if (t) {
        size_t left = (size_t)(leaf->type + leaf->type_len - t);
        if ((left >= 9 && strncasecmp(t, "multipart", 9) == 0) ||
            (left >= 8 && strncasecmp(t, "message/", 8) == 0))
            return 0;
    }
    leaf->encoding = imap_header_find(data, *header_len,
                                      "content-transfer-encoding",
                                      &leaf->encoding_len);
    leaf->body = data + *header_len;
    leaf->body_len = len - *header_len;
    return 1;
}

static int load_bodies(struct imap_search_eval *ev, struct imap_message *msg)
{
    const struct mime_tree *tree;
    struct buf charset = BUF_INIT;
    struct leaf leaf;
    size_t header_len;
    int single;

    if (ev->have_bodies)
        return 0;
    buf_reset(&ev->bodies);
    if ((single = single_part(msg, &leaf, &header_len)) < 0)
        return -1;
    if (single) {
        search_leaf(ev, &leaf, &charset);
    } else {
        if ((tree = imap_message_tree(msg)) == NULL)
            return -1;
        for (uint32_t i = 0; i < tree->count; i++) {
            const struct mime_part *part = &tree->parts[i];
            if (part->flags & (MIME_PART_MULTIPART | MIME_PART_MESSAGE))
                continue;
            memset(&leaf, 0, sizeof(leaf));
            leaf.type = mime_part_field(tree, part, MIME_FIELD_TYPE,
                                        &leaf.type_len);
            leaf.encoding = mime_part_field(tree, part, MIME_FIELD_ENCODING,
                                            &leaf.encoding_len);
            leaf.body = tree->data + mime_part_body_offset(part);
            leaf.body_len = part->body_size;
            leaf.in_digest = (part->flags & MIME_PART_IN_DIGEST) != 0;
            search_leaf(ev, &leaf, &charset);
        }
    }
    buf_free(&charset);
    ev->have_bodies = 1;
    return 0;
}

/* Appends a header block decoded and folded. */
static void fold_header(struct imap_search_eval *ev, const char *header,
                        size_t len)
{
    buf_reset(&ev->scratch);
    rfc2047_decode(header, len, &ev->scratch);
    imap_casefold_append(&ev->headers, ev->scratch.data, ev->scratch.len);
    buf_append_char(&ev->headers, '\n');
}

static int load_headers(struct imap_search_eval *ev, struct imap_message *msg)
{
    const struct mime_tree *tree;
    struct leaf leaf;
    size_t header_len;
    int single;

    if (ev->have_headers)
        return 0;
    buf_reset(&ev->headers);
    if ((single = single_part(msg, &leaf, &header_len)) < 0)
        return -1;
    if (single) {
        fold_header(ev, msg->loaded_data, header_len);
    } else {
        if ((tree = imap_message_tree(msg)) == NULL)
            return -1;
        for (uint32_t i = 0; i < tree->count; i++)
            fold_header(ev, tree->data + tree->parts[i].offset,
                        tree->parts[i].header_size);
    }
    ev->have_headers = 1;
    return 0;
}

/* ---- evaluation ---- */

static int eval_key(struct imap_search_eval *ev, struct imap_message *msg,
                    const struct imap_search_key *key);

/* AND (all) or OR (any) of the children, cheapest first. */
static int eval_children(struct imap_search_eval *ev, struct imap_message *msg,
                         const struct imap_search_key *key, int want_all)
{
    for (int cost = COST_INDEX; cost <= COST_BODY; cost++)
        for (size_t i = 0; i < key->child_count; i++) {
            const struct imap_search_key *child = &key->children[i];
            int r;
            if ((int)key_cost(child) != cost)
                continue;
            r = eval_key(ev, msg, child);
            if (r < 0)
                return -1;
            if (r != want_all)
                return r;
        }
    return want_all;
}

static int in_set(const struct imap_search_eval *ev,
                  const struct imap_search_key *key, uint32_t value,
                  uint32_t uid)
{
    if (key->set.searchres)
        return ev->env.saved_uids != NULL &&
               imap_seqset_contains(ev->env.saved_uids, uid);
    return imap_seqset_contains(&key->set, value);
}

static int eval_key(struct imap_search_eval *ev, struct imap_message *msg,
                    const struct imap_search_key *key)
{
    unsigned flags = msg->flags;
    long day, key_day = 0;
    uint64_t size;
    int r;

    switch (key->op) {
    case IMAP_SEARCH_BEFORE:
    case IMAP_SEARCH_ON:
    case IMAP_SEARCH_SINCE:
    case IMAP_SEARCH_SENTBEFORE:
    case IMAP_SEARCH_SENTON:
    case IMAP_SEARCH_SENTSINCE:
        key_day = imap_date_days(&key->date);
        break;
    default:
        break;
    }
    switch (key->op) {
    case IMAP_SEARCH_ALL:
        return 1;
    case IMAP_SEARCH_ANSWERED:
        return (flags & IMAP_FLAG_ANSWERED) != 0;
    case IMAP_SEARCH_DELETED:
        return (flags & IMAP_FLAG_DELETED) != 0;
    case IMAP_SEARCH_DRAFT:
        return (flags & IMAP_FLAG_DRAFT) != 0;
    case IMAP_SEARCH_FLAGGED:
        return (flags & IMAP_FLAG_FLAGGED) != 0;
    case IMAP_SEARCH_NEW:
        return (flags & IMAP_FLAG_RECENT) && !(flags & IMAP_FLAG_SEEN);
    case IMAP_SEARCH_OLD:
        return !(flags & IMAP_FLAG_RECENT);
    case IMAP_SEARCH_RECENT:
        return (flags & IMAP_FLAG_RECENT) != 0;
    case IMAP_SEARCH_SEEN:
        return (flags & IMAP_FLAG_SEEN) != 0;
    case IMAP_SEARCH_UNANSWERED:
        return !(flags & IMAP_FLAG_ANSWERED);
    case IMAP_SEARCH_UNDELETED:
        return !(flags & IMAP_FLAG_DELETED);
    case IMAP_SEARCH_UNDRAFT:
        return !(flags & IMAP_FLAG_DRAFT);
    case IMAP_SEARCH_UNFLAGGED:
        return !(flags & IMAP_FLAG_FLAGGED);
    case IMAP_SEARCH_UNSEEN:
        return !(flags & IMAP_FLAG_SEEN);
    case IMAP_SEARCH_KEYWORD:
        return imap_message_has_keyword(msg, key->str, key->len);
    case IMAP_SEARCH_UNKEYWORD:
        return !imap_message_has_keyword(msg, key->str, key->len);
    case IMAP_SEARCH_BCC:
        return match_header(ev, msg, "bcc", 3, key);
    case IMAP_SEARCH_CC:
        return match_header(ev, msg, "cc", 2, key);
    case IMAP_SEARCH_FROM:
        return match_header(ev, msg, "from", 4, key);
    case IMAP_SEARCH_SUBJECT:
        return match_header(ev, msg, "subject", 7, key);
    case IMAP_SEARCH_TO:
        return match_header(ev, msg, "to", 2, key);
    case IMAP_SEARCH_HEADER:
        return match_header(ev, msg, key->field, key->field_len, key);
    case IMAP_SEARCH_BODY:
        if (load_bodies(ev, msg) < 0)
            return -1;
        return contains(&ev->bodies, folded_key(ev, key));
    case IMAP_SEARCH_TEXT:
        if (load_bodies(ev, msg) < 0)
            return -1;
        if (contains(&ev->bodies, folded_key(ev, key)))
            return 1;
        if (load_headers(ev, msg) < 0)
            return -1;
        return contains(&ev->headers, folded_key(ev, key));
    case IMAP_SEARCH_BEFORE:
        return days_of(msg->internal_date, msg->internal_zone) < key_day;
    case IMAP_SEARCH_ON:
        return days_of(msg->internal_date, msg->internal_zone) == key_day;
    case IMAP_SEARCH_SINCE:
        return days_of(msg->internal_date, msg->internal_zone) >= key_day;
    case IMAP_SEARCH_SENTBEFORE:
    case IMAP_SEARCH_SENTON:
    case IMAP_SEARCH_SENTSINCE:
        if (sent_day(ev, msg, &day) < 0)
            return -1;
        return key->op == IMAP_SEARCH_SENTBEFORE ? day < key_day
               : key->op == IMAP_SEARCH_SENTON   ? day == key_day
                                                 : day >= key_day;
    case IMAP_SEARCH_LARGER:
    case IMAP_SEARCH_SMALLER:
        if (imap_message_size(msg, &size) < 0)
            return -1;
        return key->op == IMAP_SEARCH_LARGER ? size > key->number
                                             : size < key->number;
    case IMAP_SEARCH_OLDER:
        return (long long)msg->internal_date <=
               (long long)ev->env.now - (long long)key->number;
    case IMAP_SEARCH_YOUNGER:
        return (long long)msg->internal_date >
               (long long)ev->env.now - (long long)key->number;
    case IMAP_SEARCH_MODSEQ:
        return msg->modseq >= key->number;
    case IMAP_SEARCH_UID:
        return in_set(ev, key, msg->uid, msg->uid);
    case IMAP_SEARCH_SEQSET:
        return in_set(ev, key, msg->seq, msg->uid);
    case IMAP_SEARCH_NOT:
        r = key->child_count ? eval_key(ev, msg, &key->children[0]) : 0;
        return r < 0 ? -1 : !r;
    case IMAP_SEARCH_OR:
        return eval_children(ev, msg, key, 0);
    case IMAP_SEARCH_AND:
        return eval_children(ev, msg, key, 1);
    }
    return 0;
}

int imap_search_eval_match(struct imap_search_eval *ev,
                           struct imap_message *msg)
{
    ev->have_headers = ev->have_bodies = ev->have_sent = 0;
    return eval_key(ev, msg, &ev->search->root);
}
