/* imap_envelope.c: ENVELOPE from a message header (see imap_envelope.h). */
#include "message/imap_envelope.h"

#include <string.h>
#include <strings.h>

#include "message/imap_address.h"
#include "message/imap_quote.h"

enum env_field {
    ENV_DATE,
    ENV_SUBJECT,
    ENV_FROM,
    ENV_SENDER,
    ENV_REPLY_TO,
    ENV_TO,
    ENV_CC,
    ENV_BCC,
    ENV_IN_REPLY_TO,
    ENV_MESSAGE_ID,
    ENV_COUNT
};

static int env_field(const char *name, size_t len)
{
    static const char *const names[ENV_COUNT] = {
        "date", "subject", "from", "sender", "reply-to",
        "to", "cc", "bcc", "in-reply-to", "message-id"};
    for (int i = 0; i < ENV_COUNT; i++)
        if (strlen(names[i]) == len && strncasecmp(names[i], name, len) == 0)
            return i;
    return -1;
}

size_t imap_header_length(const char *data, size_t len)
{
    size_t pos = 0;
    while (pos < len) {
        const char *lf = memchr(data + pos, '\n', len - pos);
        if (lf == NULL)
            return len;
        if (lf == data + pos || (lf == data + pos + 1 && data[pos] == '\r'))
            return (size_t)(lf - data) + 1;
        pos = (size_t)(lf - data) + 1;
    }
    return len;
}

struct env_value {
    const char *text;
    size_t len;
};

static void take(struct env_value *strs, struct imap_address_list *addrs,
                 int field, const char *text, size_t len)
{
    switch (field) {
    case ENV_DATE:
    case ENV_SUBJECT:
    case ENV_IN_REPLY_TO:
    case ENV_MESSAGE_ID:
        if (strs[field].text == NULL) {
            strs[field].text = text;
            strs[field].len = len;
        }
        break;
    default:
        imap_address_parse(&addrs[field], text, len);
        break;
    }
}

void imap_envelope_write(struct buf *out, const char *header, size_t len)
{
    struct env_value strs[ENV_COUNT];
    struct imap_address_list addrs[ENV_COUNT];
    size_t pos = 0, vstart = 0, vend = 0;
    int field = -1;

    memset(strs, 0, sizeof(strs));
    for (int i = 0; i < ENV_COUNT; i++)
        imap_address_list_init(&addrs[i]);
    while (pos < len) {
        const char *p = header + pos;
        const char *lf = memchr(p, '\n', len - pos);
        const char *e = lf ? lf : header + len;
        size_t next = lf ? (size_t)(lf - header) + 1 : len;
        if (e > p && e[-1] == '\r')
            e--;
        if (e == p)
            break; /* the empty line */
        if (*p == ' ' || *p == '\t') {
            vend = (size_t)(e - header);
        } else {
            const char *colon = memchr(p, ':', (size_t)(e - p));
            const char *name_end;
            if (field >= 0)
                take(strs, addrs, field, header + vstart, vend - vstart);
            field = -1;
            if (colon != NULL) {
                name_end = colon;
                while (name_end > p &&
                       (name_end[-1] == ' ' || name_end[-1] == '\t'))
                    name_end--;
                field = env_field(p, (size_t)(name_end - p));
                colon++;
                while (colon < e && (*colon == ' ' || *colon == '\t'))
                    colon++;
                vstart = (size_t)(colon - header);
                vend = (size_t)(e - header);
            }
        }
        pos = next;
    }
    if (field >= 0)
        take(strs, addrs, field, header + vstart, vend - vstart);

    for (int i = 0; i < ENV_COUNT; i++) {
        const struct imap_address_list *list = &addrs[i];
        if (i > 0)
            buf_append_char(out, ' ');
        switch (i) {
        case ENV_SUBJECT:
            imap_quote_string_for_humans(out, strs[i].text, strs[i].len);
            continue;
        case ENV_DATE:
        case ENV_IN_REPLY_TO:
        case ENV_MESSAGE_ID:
            imap_quote_nstring_nolf_len(out, strs[i].text, strs[i].len);
            continue;
        case ENV_SENDER:
        case ENV_REPLY_TO:
            if (list->count == 0)
                list = &addrs[ENV_FROM];
            break;
        default:
            break;
        }
        imap_address_write(out, list);
    }
    for (int i = 0; i < ENV_COUNT; i++)
        imap_address_list_free(&addrs[i]);
}
