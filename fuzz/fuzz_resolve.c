/* fuzz_resolve.c: fuzz target for lib/routing/rewrite, lib/routing/resolve and
 * lib/routing/recipient_check.
 *
 * The input is one envelope address (internal form, any bytes up to
 * 1 KiB). It goes through canonical form, virtual alias expansion (with
 * a small table that fans out and loops), resolution, and both RCPT
 * checks, for a fixed site. Properties checked: a successful resolution
 * always yields user@domain with a non-empty transport and next hop; an
 * address the relay check calls ours never resolves to the default
 * class nor keeps a routing operator (no relay trick escapes); the
 * relay-check reply is 554 5.7.1 whenever it is not ours. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/log.h"
#include "routing/recipient_check.h"
#include "routing/resolve.h"
#include "routing/rewrite.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct rewrite *rw;
static struct resolver *resolver;
static struct recipient_check *checker;

static void fuzz_setup(void)
{
    struct rewrite_settings rs;
    memset(&rs, 0, sizeof(rs));
    rs.myhostname = "mail.example.com";
    rs.myorigin = "example.com";
    rs.mydomain = "example.com";
    rs.mydestination = "mail.example.com, localhost, example.com";
    rs.inet_interfaces = "127.0.0.1";
    rs.append_at_myorigin = 1;
    rs.swap_bangpath = 1;
    rs.allow_percent_hack = 1;
    rs.recipient_delimiter = "+-";
    rs.propagate_unmatched_extensions = "canonical, virtual";
    rs.canonical_classes = "envelope_sender, envelope_recipient";
    rs.canonical_maps = "inline:{ old@example.com=new@example.com }";
    rs.virtual_alias_maps =
        "inline:{ a@example.com=b@example.com, b@example.com=a@example.com, "
        "list@example.com={list@example.com c@x.test d@vmail.test}, "
        "@alias.test=@vmail.test, fan@example.com=@alias.test }";
    rs.virtual_alias_recursion_limit = 20;
    rs.virtual_alias_expansion_limit = 20;
    rs.virtual_alias_address_length_limit = 300;
    struct resolve_settings ss;
    memset(&ss, 0, sizeof(ss));
    ss.virtual_alias_domains = "alias.test";
    ss.virtual_mailbox_domains = "vmail.test";
    ss.relay_domains = "relay.test";
    ss.parent_domain_matches_subdomains = "relay_domains";
    ss.local_transport = "local:mail.example.com";
    ss.virtual_transport = "virtual";
    ss.relay_transport = "relay";
    ss.default_transport = "smtp";
    ss.transport_maps = "inline:{ slow.test=smtp:[gw], *=: }";
    ss.empty_address_recipient = "MAILER-DAEMON";
    ss.resolve_numeric_domain = 1;
    struct recipient_check_settings cs;
    memset(&cs, 0, sizeof(cs));
    cs.local_recipient_maps = "inline:{ root=x }";
    cs.virtual_mailbox_maps = "inline:{ d@vmail.test=x }";
    cs.relay_domains_reject_code = 554;
    struct buf err = BUF_INIT;
    rw = rewrite_open(&rs, &err);
    resolver = rw ? resolve_open(&ss, rw, &err) : NULL;
    if (resolver == NULL) {
        fprintf(stderr, "fuzz_resolve: setup failed: %s\n", err.data);
        abort();
    }
    checker = recipient_check_open(&cs, rw, resolver);
    buf_free(&err);
    log_set_program("fuzz_resolve");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (rw == NULL)
        fuzz_setup();
    if (size > 1024)
        size = 1024;
    char *address = malloc(size + 1);
    memcpy(address, data, size);
    address[size] = 0; /* C string: stops at an embedded NUL */

    struct buf canon = BUF_INIT, why = BUF_INIT, line = BUF_INIT;
    rewrite_canonical_form(rw, address, REWRITE_LOCAL, &canon);
    struct strlist expanded;
    strlist_init(&expanded);
    (void)rewrite_envelope_recipient(rw, address, &expanded, &why);
    struct buf sender = BUF_INIT;
    (void)rewrite_envelope_sender(rw, address, &sender, &why);

    struct resolve_result res;
    resolve_result_init(&res);
    if (resolve_address(resolver, canon.data, &res) == 0) {
        if (strchr(res.recipient.data, '@') == NULL || res.transport.len == 0 ||
            res.nexthop.len == 0) {
            fprintf(stderr, "bad resolution of \"%s\": \"%s\" %s:%s\n", address,
                    res.recipient.data, res.transport.data, res.nexthop.data);
            abort();
        }
    }
    struct recipient_reply reply;
    recipient_reply_init(&reply);
    int ours = recipient_check_is_ours(checker, address, &reply);
    if (ours == 1) {
        if (resolve_address(resolver, canon.data, &res) != 0 ||
            res.addr_class == RESOLVE_CLASS_DEFAULT ||
            (res.flags & (RESOLVE_FLAG_ROUTED | RESOLVE_FLAG_ERROR))) {
            fprintf(stderr, "relay check let \"%s\" through as \"%s\"\n", address,
                    res.recipient.data);
            abort();
        }
    }
    enum recipient_status st =
        recipient_check_unauth_destination(checker, address, 0, &reply);
    if (st == RECIPIENT_REJECT &&
        (reply.code != 554 || strcmp(reply.dsn, "5.7.1") != 0)) {
        recipient_reply_format(&reply, &line);
        fprintf(stderr, "unexpected relay reply for \"%s\": %s\n", address,
                line.data);
        abort();
    }
    (void)recipient_check_unlisted(checker, address, &reply);

    recipient_reply_free(&reply);
    resolve_result_free(&res);
    strlist_free(&expanded);
    buf_free(&sender);
    buf_free(&canon);
    buf_free(&why);
    buf_free(&line);
    free(address);
    return 0;
}
