/* imap_sort.c: SORT (see imap_sort.h). */
#include "imap/imap_sort.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/mem.h"
#include "imap/imap_casefold.h"
#include "imap/imap_date.h"
#include "imap/imap_subject.h"
#include "message/imap_address.h"
#include "message/imap_envelope.h"
#include "message/imap_header_iter.h"
#include "message/rfc2047.h"
#include "message/rfc822_date.h"

void imap_sort_args_init(struct imap_sort_args *sort)
{
    memset(sort, 0, sizeof(*sort));
    imap_search_init(&sort->search);
}

void imap_sort_args_free(struct imap_sort_args *sort)
{
    imap_search_free(&sort->search);
    sort->count = 0;
}

int imap_sort_charset_ok(const struct imap_arg *arg)
{
    const char *cs;
    size_t len;
    if (imap_arg_astring(arg, &cs, &len) != 0)
        return -1;
    return (len == 5 && strncasecmp(cs, "UTF-8", 5) == 0) ||
                   (len == 8 && strncasecmp(cs, "US-ASCII", 8) == 0)
               ? 0
               : -1;
}

static int sort_key_of(const struct imap_arg *arg, enum imap_sort_key *key)
{
    static const struct {
        const char *name;
        enum imap_sort_key key;
    } keys[] = {
        {"ARRIVAL", IMAP_SORT_ARRIVAL}, {"CC", IMAP_SORT_CC},
        {"DATE", IMAP_SORT_DATE},       {"FROM", IMAP_SORT_FROM},
        {"SIZE", IMAP_SORT_SIZE},       {"SUBJECT", IMAP_SORT_SUBJECT},
        {"TO", IMAP_SORT_TO},           {"DISPLAYFROM", IMAP_SORT_DISPLAYFROM},
        {"DISPLAYTO", IMAP_SORT_DISPLAYTO},
    };
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        if (imap_arg_atom_is(arg, keys[i].name)) {
            *key = keys[i].key;
            return 0;
        }
    return -1;
}

int imap_sort_parse(const struct imap_arg *args, size_t count,
                    unsigned search_flags, struct imap_sort_args *sort,
                    const char **error)
{
    const struct imap_arg *list;
    int reverse = 0;

    imap_sort_args_free(sort);
    if (count < 1 || args[0].type != IMAP_ARG_LIST || args[0].count == 0) {
        *error = "Invalid sort criteria";
        return -1;
    }
    list = &args[0];
    for (size_t i = 0; i < list->count; i++) {
        const struct imap_arg *item = &list->list[i];
        if (imap_arg_atom_is(item, "REVERSE") && !reverse) {
            reverse = 1;
            continue;
        }
        if (sort->count == IMAP_SORT_CRITERIA_MAX ||
            sort_key_of(item, &sort->criteria[sort->count].key) != 0) {
            *error = "Invalid sort criteria";
            sort->count = 0;
            return -1;
        }
        sort->criteria[sort->count++].reverse = reverse;
        reverse = 0;
    }
    if (reverse) {
        *error = "Invalid sort criteria (REVERSE at the end)";
        sort->count = 0;
        return -1;
    }
    if (count < 2) {
        *error = "Missing charset";
        sort->count = 0;
        return -1;
    }
    if (imap_sort_charset_ok(&args[1]) != 0) {
        *error = "[BADCHARSET (US-ASCII UTF-8)] Unsupported charset";
        sort->search.error_no = 1;
        sort->count = 0;
        return -1;
    }
    if (imap_search_parse(args + 2, count - 2, search_flags, &sort->search,
                          error) != 0) {
        sort->count = 0;
        return -1;
    }
    return 0;
}

/* ---- the values compared ---- */

struct sort_entry {
    struct imap_message *msg;
    time_t arrival, sent;
    uint64_t size;
    char *text[IMAP_SORT_CRITERIA_MAX]; /* per criterion, folded */
};

time_t imap_sort_sent_date(struct imap_message *msg)
{
    const char *header, *value;
    size_t len, vlen;
    struct rfc822_date d;
    struct imap_date day;
    if (imap_message_header(msg, &header, &len) < 0 ||
        (value = imap_header_find(header, len, "date", &vlen)) == NULL ||
        rfc822_date_parse(value, vlen, &d) < 0)
        return msg->internal_date;
    day.year = d.year;
    day.month = d.month;
    day.day = d.day;
    return (time_t)(imap_date_days(&day) * 86400LL + d.hour * 3600LL +
                    d.minute * 60LL + d.second - d.zone_minutes * 60LL);
}

/* The first address of the first `name` field: mailbox, or display
 * name / addr-spec, folded into out. */
static void address_key(const char *header, size_t len, const char *name,
                        int display, struct buf *out)
{
    struct imap_address_list list;
    struct buf tmp = BUF_INIT;
    size_t vlen;
    const char *value = imap_header_find(header, len, name, &vlen);
    if (value == NULL)
        return;
    imap_address_list_init(&list);
    imap_address_parse(&list, value, vlen);
    for (size_t i = 0; i < list.count; i++) {
        const struct imap_address *a = &list.items[i];
        if (a->domain == NULL)
            continue; /* a group's start or end */
        if (display && a->name != NULL && a->name[0] != '\0') {
            rfc2047_decode(a->name, strlen(a->name), &tmp);
        } else if (display) {
            buf_appendf(&tmp, "%s@%s", a->mailbox ? a->mailbox : "",
                        a->domain);
        } else if (a->mailbox != NULL) {
            buf_append_str(&tmp, a->mailbox);
        }
        break;
    }
    imap_casefold_append(out, tmp.data ? tmp.data : "", tmp.len);
    buf_free(&tmp);
    imap_address_list_free(&list);
}

static char *text_value(struct imap_message *msg, enum imap_sort_key key,
                        int *unreadable)
{
    struct buf out = BUF_INIT;
    const char *header, *value;
    size_t len, vlen;
    if (imap_message_header(msg, &header, &len) < 0) {
        *unreadable = 1;
        return xstrdup("");
    }
    switch (key) {
    case IMAP_SORT_CC:
        address_key(header, len, "cc", 0, &out);
        break;
    case IMAP_SORT_FROM:
        address_key(header, len, "from", 0, &out);
        break;
    case IMAP_SORT_TO:
        address_key(header, len, "to", 0, &out);
        break;
    case IMAP_SORT_DISPLAYFROM:
        address_key(header, len, "from", 1, &out);
        break;
    case IMAP_SORT_DISPLAYTO:
        address_key(header, len, "to", 1, &out);
        break;
    case IMAP_SORT_SUBJECT:
        value = imap_header_find(header, len, "subject", &vlen);
        imap_base_subject(value, vlen, &out);
        break;
    default:
        break;
    }
    buf_append(&out, "", 0);
    return buf_detach(&out);
}

struct sort_order {
    const struct imap_sort_criterion *criteria;
    size_t count;
};

static int compare_entries(const void *pa, const void *pb, void *context)
{
    const struct sort_entry *a = pa, *b = pb;
    const struct sort_order *order = context;
    const struct imap_sort_criterion *sort_criteria = order->criteria;
    for (size_t i = 0; i < order->count; i++) {
        int r = 0;
        switch (sort_criteria[i].key) {
        case IMAP_SORT_ARRIVAL:
            r = (a->arrival > b->arrival) - (a->arrival < b->arrival);
            break;
        case IMAP_SORT_DATE:
            r = (a->sent > b->sent) - (a->sent < b->sent);
            break;
        case IMAP_SORT_SIZE:
            r = (a->size > b->size) - (a->size < b->size);
            break;
        default:
            r = strcmp(a->text[i], b->text[i]);
            break;
        }
        if (r != 0)
            return sort_criteria[i].reverse ? -r : r;
    }
    return (a->msg->seq > b->msg->seq) - (a->msg->seq < b->msg->seq);
}

size_t imap_sort_messages(const struct imap_sort_criterion *criteria,
                          size_t criteria_count, struct imap_message **msgs,
                          size_t count)
{
    struct sort_entry *entries;
    size_t unreadable = 0;

    if (criteria_count > IMAP_SORT_CRITERIA_MAX)
        criteria_count = IMAP_SORT_CRITERIA_MAX;
    entries = xcalloc(count ? count : 1, sizeof(*entries));
    for (size_t m = 0; m < count; m++) {
        struct sort_entry *e = &entries[m];
        int bad = 0;
        e->msg = msgs[m];
        e->arrival = msgs[m]->internal_date;
        for (size_t i = 0; i < criteria_count; i++) {
            switch (criteria[i].key) {
            case IMAP_SORT_ARRIVAL:
                break;
            case IMAP_SORT_DATE:
                e->sent = imap_sort_sent_date(msgs[m]);
                break;
            case IMAP_SORT_SIZE:
                if (imap_message_size(msgs[m], &e->size) < 0)
                    bad = 1;
                break;
            default:
                e->text[i] = text_value(msgs[m], criteria[i].key, &bad);
                break;
            }
        }
        unreadable += (size_t)bad;
        imap_message_done(msgs[m]);
    }
    {
        struct sort_order order = {criteria, criteria_count};
        qsort_r(entries, count, sizeof(*entries), compare_entries, &order);
    }
    for (size_t m = 0; m < count; m++) {
        msgs[m] = entries[m].msg;
        for (size_t i = 0; i < criteria_count; i++)
            free(entries[m].text[i]);
    }
    free(entries);
    return unreadable;
}

void imap_sort_write(struct buf *out, struct imap_message *const *msgs,
                     size_t count, int uid)
{
    buf_append_str(out, "* SORT");
    for (size_t i = 0; i < count; i++)
        buf_appendf(out, " %u", uid ? msgs[i]->uid : msgs[i]->seq);
    buf_append_str(out, "\r\n");
}
