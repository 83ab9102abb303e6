/* tls_protocols.c: Postfix's TLS protocol lists (tls_protocols.h). */
#include "tls/tls_protocols.h"

#include <string.h>

#include "base/str.h"

static const struct {
    const char *name;
    unsigned bit;
} protocols[] = {
    {"SSLv2", TLS_PROTO_SSLV2},     {"SSLv3", TLS_PROTO_SSLV3},
    {"TLSv1", TLS_PROTO_TLSV1},     {"TLSv1.1", TLS_PROTO_TLSV1_1},
    {"TLSv1.2", TLS_PROTO_TLSV1_2}, {"TLSv1.3", TLS_PROTO_TLSV1_3},
};
#define PROTOCOL_COUNT (sizeof(protocols) / sizeof(protocols[0]))

static unsigned protocol_bit(const char *name)
{
    for (size_t i = 0; i < PROTOCOL_COUNT; i++)
        if (str_equal_nocase(protocols[i].name, name))
            return protocols[i].bit;
    return 0;
}

const char *tls_protocol_name(unsigned bit)
{
    for (size_t i = 0; i < PROTOCOL_COUNT; i++)
        if (protocols[i].bit == bit)
            return protocols[i].name;
    return NULL;
}

void tls_protocols_format(unsigned set, struct buf *out)
{
    const char *sep = "";
    for (size_t i = 0; i < PROTOCOL_COUNT; i++)
        if (set & protocols[i].bit) {
            buf_appendf(out, "%s%s", sep, protocols[i].name);
            sep = " ";
        }
}

/* The bits of bit and every protocol above it (the bits ascend with the
 * protocol versions). */
static unsigned at_least(unsigned bit)
{
    return TLS_PROTO_KNOWN & ~(bit - 1u);
}

static unsigned at_most(unsigned bit)
{
    return TLS_PROTO_KNOWN & ((bit << 1) - 1u);
}

int tls_protocols_parse(const char *list, unsigned *enabled, struct buf *err)
{
    struct strlist items;
    strlist_init(&items);
    str_split_chars(list, " \t\r\n,:", &items);
    unsigned include = 0, exclude = 0, range = TLS_PROTO_KNOWN;
    int rc = 0;
    for (size_t i = 0; i < items.count && rc == 0; i++) {
        const char *item = items.items[i];
        if (item[0] == '!') {
            /* Unknown exclusions are ignored, as Postfix does. */
            exclude |= protocol_bit(item + 1);
            continue;
        }
        int lower = str_has_prefix(item, ">="),
            upper = str_has_prefix(item, "<=");
        unsigned bit = protocol_bit(lower || upper ? item + 2 : item);
        if (bit == 0) {
            buf_appendf(err, "unknown TLS protocol \"%s\"", item);
            rc = -1;
        } else if (lower) {
            range &= at_least(bit);
        } else if (upper) {
            range &= at_most(bit);
        } else {
            include |= bit;
        }
    }
    strlist_free(&items);
    if (rc < 0)
        return -1;
    unsigned set = (include ? include : TLS_PROTO_KNOWN) & ~exclude & range &
                   TLS_PROTO_USABLE;
    if (set == 0) {
        buf_appendf(err, "no TLS protocol left enabled by \"%s\"", list);
        return -1;
    }
    *enabled = set;
    return 0;
}
