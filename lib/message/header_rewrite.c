/* header_rewrite.c: in-place rewriting of header address fields (see
 * header_rewrite.h).
 *
 * lib/message/addrlist parses the value and reports, for each address, the byte
 * span it occupies in the text. Each address the callback changes is
 * replaced inside its span, in order; the bytes between spans (display
 * names, comments, separators, group names, folding) are copied as they
 * are. Because only spans are touched, a field can never be rebuilt into
 * something the parser did not see, and an unchanged field is never
 * copied at all. */
#include "message/header_rewrite.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "message/address.h"
#include "message/addrlist.h"
#include "message/header.h"
#include "base/utf8.h"
#include "base/mem.h"

/* Postfix's header_opts: the address fields and their class. Resent-
 * Reply-To is a recipient field in Postfix's table; we keep that. */
static const struct {
    const char *name;
    int class;
} address_fields[] = {
    {"From", HEADER_REWRITE_SENDER},
    {"Sender", HEADER_REWRITE_SENDER},
    {"Reply-To", HEADER_REWRITE_SENDER},
    {"Errors-To", HEADER_REWRITE_SENDER},
    {"Return-Receipt-To", HEADER_REWRITE_SENDER},
    {"Resent-From", HEADER_REWRITE_SENDER},
    {"Resent-Sender", HEADER_REWRITE_SENDER},
    {"Disposition-Notification-To", HEADER_REWRITE_SENDER},
    {"Mail-Followup-To", HEADER_REWRITE_SENDER},
    {"To", HEADER_REWRITE_RECIPIENT},
    {"Cc", HEADER_REWRITE_RECIPIENT},
    {"Bcc", HEADER_REWRITE_RECIPIENT},
    {"Apparently-To", HEADER_REWRITE_RECIPIENT},
    {"Resent-To", HEADER_REWRITE_RECIPIENT},
    {"Resent-Cc", HEADER_REWRITE_RECIPIENT},
    {"Resent-Bcc", HEADER_REWRITE_RECIPIENT},
    {"Resent-Reply-To", HEADER_REWRITE_RECIPIENT},
};

int header_rewrite_class(const char *line, size_t len)
{
    size_t n = header_name_length(line, len);
    if (n == 0)
        return -1;
    for (size_t i = 0; i < sizeof(address_fields) / sizeof(address_fields[0]);
         i++)
        if (strlen(address_fields[i].name) == n &&
            strncasecmp(address_fields[i].name, line, n) == 0)
            return address_fields[i].class;
    return -1;
}

/* Whether a callback result may go into the header (see the header):
 * something lib/message/addrlist would read back as the same address. */
static int result_usable(const char *address, unsigned flags)
{
    size_t n = strlen(address);
    int eight_bit = 0;
    if (n == 0 || n > ADDRESS_MAX)
        return 0;
    const char *at = strrchr(address, '@');
    if (at != NULL && ((size_t)(at - address) > ADDRESS_LOCAL_MAX ||
                       !address_valid_domain(at + 1, flags)))
        return 0;
    if (at == NULL && n > ADDRESS_LOCAL_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)address[i];
        if (c < 0x20 || c == 0x7f)
            return 0;
        if (c >= 0x80)
            eight_bit = 1;
    }
    if (eight_bit &&
        (!(flags & ADDRESS_FLAG_UTF8) || !utf8_valid(address, n)))
        return 0;
    return 1;
}

/* Bytes of the last (unfinished) line in out, and whether it holds more
 * than whitespace. */
static size_t tail_line(const struct buf *out, int *has_text)
{
    size_t i = out->len;
    *has_text = 0;
    while (i > 0 && out->data[i - 1] != '\n') {
        char c = out->data[i - 1];
        if (c != ' ' && c != '\t' && c != '\r')
            *has_text = 1;
        i--;
    }
    return out->len - i;
}

/* Bytes from `from` to the end of its line in field[0..len). */
static size_t rest_of_line(const char *field, size_t len, size_t from)
{
    size_t i = from;
    while (i < len && field[i] != '\n' && field[i] != '\r')
        i++;
    return i - from;
}

/* Appends `ext` at the end of out, folding first when the line would
 * pass HEADER_REWRITE_LINE_MAX. The fold goes before a '<' that ends
 * out, so "Name <addr>" becomes "Name\n\t<addr>", never "<\n\taddr>". */
static void append_replacement(struct buf *out, const struct buf *ext,
                               size_t rest, const char *eol)
{
    int has_text;
    size_t line = tail_line(out, &has_text);
    if (has_text && line + ext->len + rest > HEADER_REWRITE_LINE_MAX) {
        int angle = out->len > 0 && out->data[out->len - 1] == '<';
        if (angle)
            buf_truncate(out, out->len - 1);
        /* Still text before the fold point? Else folding gains nothing. */
        tail_line(out, &has_text);
        if (has_text) {
            buf_append_str(out, eol);
            buf_append_char(out, '\t');
        }
        if (angle)
            buf_append_char(out, '<');
    }
    buf_append(out, ext->data, ext->len);
}

int header_rewrite_field(const char *field, size_t len, unsigned flags,
                         size_t limit, header_rewrite_fn fn, void *ctx,
                         struct buf *out, struct buf *why)
{
    struct buf scratch = BUF_INIT;
    if (why == NULL)
        why = &scratch;
    buf_reset(why);
    size_t n = header_name_length(field, len);
    const char *colon = n ? memchr(field + n, ':', len - n) : NULL;
    if (colon == NULL) {
        buf_free(&scratch);
        return 0;
    }
    size_t voff = (size_t)(colon + 1 - field);
    struct addrlist list;
    addrlist_init(&list);
    if (addrlist_parse(field + voff, len - voff, flags, &list, NULL) < 0 ||
        list.count == 0) {
        addrlist_free(&list); /* not an address list we can read: as is */
        buf_free(&scratch);
        return 0;
    }

    struct buf fresh = BUF_INIT, ext = BUF_INIT;
    char **rewritten = xcalloc(list.count, sizeof(*rewritten));
    int rc = 0, changed = 0;
    for (size_t i = 0; i < list.count; i++) {
        buf_reset(&fresh);
        if (fn(ctx, list.items[i].address, &fresh, why) < 0) {
            if (why->len == 0)
                buf_set_str(why, "address rewriting failed");
            rc = -1;
            goto done;
        }
        const char *result = buf_cstr(&fresh);
        if (strcmp(result, list.items[i].address) != 0 &&
            result_usable(result, flags)) {
            rewritten[i] = xstrdup(result);
            changed = 1;
        }
    }
    if (!changed)
        goto done;

    /* The line ending the field uses, for folds we insert. */
    const char *lf = memchr(field, '\n', len);
    const char *eol = lf && lf > field && lf[-1] == '\r' ? "\r\n" : "\n";
    buf_reset(out);
    buf_append(out, field, voff);
    size_t copied = voff;
    for (size_t i = 0; i < list.count; i++) {
        size_t start = voff + list.items[i].offset;
        size_t end = start + list.items[i].length;
        if (rewritten[i] == NULL || start < copied || end > len)
            continue; /* unchanged (spans are in order; never overlap) */
        buf_append(out, field + copied, start - copied);
        address_externalize(rewritten[i], &ext);
        append_replacement(out, &ext, rest_of_line(field, len, end), eol);
        copied = end;
    }
    buf_append(out, field + copied, len - copied);
    if (limit > 0 && out->len > limit) {
        buf_appendf(why,
                    "rewritten header field would be %zu bytes, more than "
                    "%zu; kept as received",
                    out->len, limit);
        buf_reset(out);
        goto done;
    }
    rc = 1;
done:
    for (size_t i = 0; i < list.count; i++)
        free(rewritten[i]);
    free(rewritten);
    addrlist_free(&list);
    buf_free(&fresh);
    buf_free(&ext);
    buf_free(&scratch);
    return rc;
}
