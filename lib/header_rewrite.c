/* header_rewrite.c: rewriting the addresses of one header field (see
 * header_rewrite.h). Moved here from smtpd so the requeue step can use
 * the same code. */
#include "header_rewrite.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "addrlist.h"
#include "address.h"
#include "header.h"
#include "log.h"
#include "mem.h"
#include "rewrite.h"

/* Postfix's header_opts: 1 for sender headers, 0 for recipient ones. */
static const struct {
    const char *name;
    int sender;
} header_addr_fields[] = {
    {"From", 1},
    {"Sender", 1},
    {"Reply-To", 1},
    {"Errors-To", 1},
    {"Return-Receipt-To", 1},
    {"Resent-From", 1},
    {"Resent-Sender", 1},
    {"Disposition-Notification-To", 1},
    {"Mail-Followup-To", 1},
    {"To", 0},
    {"Cc", 0},
    {"Bcc", 0},
    {"Apparently-To", 0},
    {"Resent-To", 0},
    {"Resent-Cc", 0},
    {"Resent-Bcc", 0},
    {"Resent-Reply-To", 0}, /* a recipient header in Postfix's table */
};

int header_rewrite_is_address(const char *line, size_t len)
{
    size_t n = header_name_length(line, len);
    if (n == 0)
        return -1;
    for (size_t i = 0;
         i < sizeof(header_addr_fields) / sizeof(header_addr_fields[0]); i++)
        if (strlen(header_addr_fields[i].name) == n &&
            strncasecmp(header_addr_fields[i].name, line, n) == 0)
            return header_addr_fields[i].sender;
    return -1;
}

static int is_before(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == ',' || c == ':';
}

static int is_after(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == ',' ||
           c == ';' || c == '(';
}

/* Finds the external form `ext` of an address in text[from..len): inside
 * angle brackets, or, for an address without a display name, standing
 * alone between separators. Returns the offset or -1. */
static long find_address(const char *text, size_t len, size_t from,
                         const char *ext, int angle_only)
{
    size_t n = strlen(ext);
    if (n == 0)
        return -1;
    for (size_t i = from; i + n <= len; i++) {
        if (memcmp(text + i, ext, n) != 0)
            continue;
        char before = i > 0 ? text[i - 1] : ' ';
        char after = i + n < len ? text[i + n] : ' ';
        if (before == '<' && after == '>')
            return (long)i;
        if (!angle_only && is_before(before) && is_after(after))
            return (long)i;
    }
    return -1;
}

static void append_display(struct buf *out, const char *display)
{
    int plain = 1;
    for (const char *p = display; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
              (*p >= '0' && *p <= '9') || *p == ' ' ||
              strchr("!#$%&'*+-/=?^_`{|}~", *p) || (unsigned char)*p >= 0x80))
            plain = 0;
    if (plain) {
        buf_append_str(out, display);
        return;
    }
    buf_append_char(out, '"');
    for (const char *p = display; *p; p++) {
        if (*p == '"' || *p == '\\')
            buf_append_char(out, '\\');
        buf_append_char(out, *p);
    }
    buf_append_char(out, '"');
}

int header_rewrite_field(struct rewrite *rw, const char *field, size_t len,
                         int sender, int context, unsigned flags,
                         struct buf *out, struct buf *why)
{
    size_t n = header_name_length(field, len);
    const char *colon = n ? memchr(field + n, ':', len - n) : NULL;
    if (colon == NULL)
        return 0;
    size_t voff = (size_t)(colon + 1 - field);
    struct addrlist list;
    addrlist_init(&list);
    if (addrlist_parse(field + voff, len - voff, flags, &list, NULL) < 0 ||
        list.count == 0) {
        addrlist_free(&list); /* not an address list we can read: as is */
        return 0;
    }
    struct buf fresh = BUF_INIT, ext_old = BUF_INIT, ext_new = BUF_INIT;
    char **rewritten = xcalloc(list.count, sizeof(*rewritten));
    int rc = 0, changed = 0, has_group = 0;
    for (size_t i = 0; i < list.count; i++) {
        if (list.items[i].group)
            has_group = 1;
        if (rewrite_header_address(rw, list.items[i].address, sender, context,
                                   &fresh, why) < 0) {
            rc = -1;
            goto done;
        }
        rewritten[i] = xstrdup(buf_cstr(&fresh));
        if (strcmp(rewritten[i], list.items[i].address) != 0)
            changed = 1;
    }
    if (!changed)
        goto done;

    /* In place: each address where it was written, in order. */
    buf_reset(out);
    buf_append(out, field, voff);
    size_t pos = voff, copied = voff;
    int in_place = 1;
    for (size_t i = 0; i < list.count && in_place; i++) {
        address_externalize(list.items[i].address, &ext_old);
        long at = find_address(field, len, pos, buf_cstr(&ext_old),
                               *list.items[i].display != 0);
        int differs = strcmp(rewritten[i], list.items[i].address) != 0;
        if (at < 0) {
            if (differs)
                in_place = 0;
            continue;
        }
        pos = (size_t)at + ext_old.len;
        if (!differs)
            continue;
        address_externalize(rewritten[i], &ext_new);
        buf_append(out, field + copied, (size_t)at - copied);
        buf_append(out, ext_new.data, ext_new.len);
        copied = pos;
    }
    if (in_place) {
        buf_append(out, field + copied, len - copied);
        rc = 1;
        goto done;
    }
    if (has_group) {
        /* Rebuilding would lose the groups: keep the field as sent. */
        log_warn("cannot rewrite header %.*s in place; kept as received",
                 (int)n, field);
        goto done;
    }
    /* Written again from the parsed list (comments are lost). */
    buf_reset(out);
    buf_append(out, field, voff);
    for (size_t i = 0; i < list.count; i++) {
        buf_append_str(out, i ? ",\n\t" : " ");
        address_externalize(rewritten[i], &ext_new);
        if (*list.items[i].display) {
            append_display(out, list.items[i].display);
            buf_appendf(out, " <%s>", buf_cstr(&ext_new));
        } else {
            buf_append(out, ext_new.data, ext_new.len);
        }
    }
    if (len > 0 && field[len - 1] == '\n')
        buf_append_char(out, '\n');
    rc = 1;
done:
    for (size_t i = 0; i < list.count; i++)
        free(rewritten[i]);
    free(rewritten);
    addrlist_free(&list);
    buf_free(&fresh);
    buf_free(&ext_old);
    buf_free(&ext_new);
    return rc;
}
