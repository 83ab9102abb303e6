/* fuzz_nexthop.c: fuzz target for lib/dns/nexthop, which parses next hops
 * from transport_maps, relayhost and the like (tables an administrator
 * writes, and per-sender relayhost maps whose keys come from mail).
 *
 * Input: byte 0 picks smtp or lmtp, the rest (up to a NUL) is the next
 * hop. Checks the promises of nexthop.h: an accepted next hop has a port
 * in 1..65535, a non-empty host within DNS_NAME_MAX (or a unix path), an
 * address of the family it claims, and its printed form parses again to
 * the same next hop. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "dns/nexthop.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int parse(int lmtp, const char *text, struct nexthop *hop,
                 struct buf *err)
{
    return lmtp ? nexthop_parse_lmtp(text, 24, hop, err)
                : nexthop_parse_smtp(text, 25, hop, err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int lmtp = data[0] & 1;
    char text[700];
    size_t len = size - 1 < sizeof(text) - 1 ? size - 1 : sizeof(text) - 1;
    memcpy(text, data + 1, len);
    text[len] = '\0';
    struct nexthop hop, again;
    struct buf err = BUF_INIT, printed = BUF_INIT;
    if (parse(lmtp, text, &hop, &err) < 0) {
        if (err.len == 0)
            abort(); /* a refusal always says why */
    } else if (hop.kind == NEXTHOP_UNIX) {
        if (hop.path[0] == '\0' || !lmtp)
            abort();
    } else {
        if (hop.port < 1 || hop.port > 65535 || hop.host[0] == '\0' ||
            strlen(hop.host) > DNS_NAME_MAX)
            abort();
        if (hop.kind == NEXTHOP_ADDRESS && hop.family != AF_INET &&
            hop.family != AF_INET6)
            abort();
        if (hop.kind == NEXTHOP_DOMAIN && lmtp)
            abort();
        nexthop_format(&hop, lmtp ? 24 : 25, &printed);
        buf_reset(&err);
        if (parse(lmtp, buf_cstr(&printed), &again, &err) < 0 ||
            again.kind != hop.kind || again.port != hop.port ||
            strcmp(again.host, hop.host) != 0)
            abort();
    }
    buf_free(&err);
    buf_free(&printed);
    return 0;
}
