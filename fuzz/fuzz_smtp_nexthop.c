/* fuzz_smtp_nexthop.c: fuzz target for the smtp/lmtp client's next-hop
 * parser (smtp/smtp_nexthop.c, a daemon file, included here). The next
 * hop comes from routing, and for the default transport it is the
 * recipient's domain, so a sender chooses part of it. Checks the
 * parser's promises in both modes: a result is OK with at least one
 * address, or a failure with a reason and a valid 4.x.x/5.x.x status;
 * every address is a complete sockaddr of its family; the relay text
 * is built without overrunning anything. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "../smtp/smtp_nexthop.c"
#include "message/dsn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const char *nexthop, int lmtp)
{
    struct smtp_nexthop nh;
    struct buf reason = BUF_INIT, relay = BUF_INIT;
    char dsn[10] = "";
    enum smtp_nexthop_result r =
        smtp_nexthop_resolve(nexthop, lmtp, "/var/spool/postern", "mx.example",
                             &nh, &reason, dsn);
    if (r == SMTP_NEXTHOP_OK) {
        if (nh.count == 0)
            abort();
        for (size_t k = 0; k < nh.count; k++) {
            const struct smtp_addr *a = &nh.addrs[k];
            if (a->family == AF_UNIX) {
                if (!lmtp || a->salen > sizeof(struct sockaddr_un))
                    abort();
            } else if (a->family == AF_INET || a->family == AF_INET6) {
                if (a->port < 1 || a->port > 65535)
                    abort();
            } else {
                abort();
            }
            smtp_addr_format(a, &relay);
        }
    } else {
        if (reason.len == 0 || !dsn_status_valid(dsn))
            abort();
        if ((r == SMTP_NEXTHOP_DEFER) != (dsn[0] == '4'))
            abort();
    }
    smtp_nexthop_free(&nh);
    buf_free(&reason);
    buf_free(&relay);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0'; /* a next hop is a C string: NUL ends it */
    check(text, 0);
    check(text, 1);
    free(text);
    return 0;
}
