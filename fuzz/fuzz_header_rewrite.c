/* fuzz_header_rewrite.c: fuzz target for lib/message/header_rewrite (and the
 * address spans of lib/message/addrlist it relies on).
 *
 * The first input byte picks the flags (SMTPUTF8 or not) and a size
 * limit; the rest is one header field. The callback changes nearly every
 * address (prefixes the local part, completes a bare one, makes it much
 * longer, or returns something unusable), so the in-place rebuild runs on
 * whatever the parser accepts. Checked: the result code is one of three;
 * a changed field keeps its name, respects the limit, and parses back to
 * exactly the addresses the callback produced (or the old ones where its
 * result was not usable), in the same order; an unchanged field leaves
 * `why` empty unless the limit was the reason. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "message/address.h"
#include "message/addrlist.h"
#include "base/buf.h"
#include "message/header.h"
#include "message/header_rewrite.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned hash(const char *s)
{
    unsigned h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

/* Deterministic: the same address always maps to the same result, so
 * the check below can compute what to expect. */
static int mangle(void *ctx, const char *address, struct buf *out,
                  struct buf *why)
{
    (void)ctx;
    unsigned h = hash(address);
    if (h % 97 == 0) {
        buf_set_str(why, "simulated table error");
        return -1;
    }
    buf_reset(out);
    switch (h % 6) {
    case 0: /* unchanged */
        buf_append_str(out, address);
        break;
    case 1: /* canonical-map style: another local part */
        buf_append_str(out, "x.");
        buf_append_str(out, address);
        break;
    case 2: /* a local part that needs quoting */
        buf_append_str(out, "two words@example.test");
        break;
    case 3: /* long, to exercise folding and limits */
        for (int i = 0; i < 8; i++)
            buf_append_str(out, "longer-");
        buf_append_str(out, address);
        break;
    case 4: /* not usable: control character */
        buf_append_str(out, "bad\r\nX: y@example.test");
        break;
    default: /* completion of a bare local part */
        buf_append_str(out, address);
        if (strchr(address, '@') == NULL)
            buf_append_str(out, "@example.test");
        else
            buf_append_str(out, ".example");
        break;
    }
    if (strchr(address, '@') == NULL && h % 6 == 1)
        buf_append_str(out, "@example.test");
    return 0;
}

/* What the field should hold for one old address after rewriting. */
static void expected(const char *old, unsigned flags, struct buf *out)
{
    struct buf fresh = BUF_INIT, why = BUF_INIT, check = BUF_INIT;
    (void)mangle(NULL, old, &fresh, &why);
    /* Usable when its external form parses back to itself. */
    struct addrlist one;
    addrlist_init(&one);
    address_externalize(fresh.data, &check);
    int ctl = 0;
    for (size_t i = 0; i < fresh.len; i++)
        if ((unsigned char)fresh.data[i] < 0x20 || fresh.data[i] == 0x7f)
            ctl = 1;
    int usable =
        fresh.len > 0 && !ctl &&
        addrlist_parse(check.data, check.len, flags, &one, NULL) == 0 &&
        one.count == 1 && strcmp(one.items[0].address, fresh.data) == 0;
    buf_set_str(out, usable ? fresh.data : old);
    addrlist_free(&one);
    buf_free(&fresh);
    buf_free(&why);
    buf_free(&check);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    unsigned flags = (data[0] & 1) ? ADDRESS_FLAG_UTF8 : 0;
    const char *field = (const char *)data + 1;
    size_t len = size - 1;
    size_t limit = (data[0] & 2) ? len + (size_t)(data[0] >> 2) * 8 : 0;
    struct buf out = BUF_INIT, why = BUF_INIT, want = BUF_INIT;

    int rc = header_rewrite_field(field, len, flags, limit, mangle, NULL, &out,
                                  &why);
    if (rc < -1 || rc > 1)
        abort();
    if (rc == 0 && why.len > 0 && limit == 0) {
        fprintf(stderr, "unchanged with a reason but no limit: %s\n", why.data);
        abort();
    }
    if (rc == 1) {
        size_t n = header_name_length(field, len);
        if (limit && out.len > limit) {
            fprintf(stderr, "limit %zu passed: %zu\n", limit, out.len);
            abort();
        }
        if (n == 0 || out.len < n || memcmp(out.data, field, n) != 0)
            abort();
        const char *c_old = memchr(field + n, ':', len - n);
        const char *c_new = memchr(out.data + n, ':', out.len - n);
        if (!c_old || !c_new || c_old - field != c_new - out.data)
            abort();
        size_t voff = (size_t)(c_old + 1 - field);
        struct addrlist before, after;
        addrlist_init(&before);
        addrlist_init(&after);
        if (addrlist_parse(field + voff, len - voff, flags, &before, NULL) !=
                0 ||
            addrlist_parse(out.data + voff, out.len - voff, flags, &after,
                           NULL) != 0 ||
            before.count != after.count) {
            fprintf(stderr, "rewritten field does not parse back:\n%.*s\n",
                    (int)out.len, out.data);
            abort();
        }
        for (size_t i = 0; i < before.count; i++) {
            expected(before.items[i].address, flags, &want);
            if (strcmp(want.data, after.items[i].address) != 0 ||
                strcmp(before.items[i].display, after.items[i].display) != 0) {
                fprintf(stderr,
                        "address %zu: \"%s\" became \"%s\", want "
                        "\"%s\"\n",
                        i, before.items[i].address, after.items[i].address,
                        want.data);
                abort();
            }
        }
        addrlist_free(&before);
        addrlist_free(&after);
    }
    buf_free(&out);
    buf_free(&why);
    buf_free(&want);
    return 0;
}
