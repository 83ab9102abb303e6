/* fuzz_address.c: fuzz target for lib/message/address and lib/message/addrlist.
 *
 * Feeds the input to the RFC 5321 mailbox parser under every flag
 * combination, to the header address-list parser, and to the domain and
 * delimiter helpers. It also checks a property: a mailbox that parses
 * must externalize to text that parses back to the same internal form. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "message/addrlist.h"
#include "message/address.h"
#include "base/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    struct buf internal = BUF_INIT, external = BUF_INIT, again = BUF_INIT;
    struct buf why = BUF_INIT, base = BUF_INIT, ext = BUF_INIT;

    for (unsigned flags = 0; flags < 8; flags++) {
        unsigned info = 0;
        if (address_parse_mailbox(text, size, flags, &internal, &info, &why) != 0)
            continue;
        (void)address_routing(internal.data);
        address_externalize(internal.data, &external);
        /* The internal form may hold '@' in the local part only with
         * MULTI_AT; its external form is then quoted and must round-trip. */
        if (address_parse_mailbox(external.data, external.len,
                                  flags | ADDRESS_FLAG_UTF8 | ADDRESS_FLAG_BARE,
                                  &again, NULL, &why) != 0 ||
            strcmp(again.data, internal.data) != 0) {
            fprintf(stderr, "round trip failed: flags %u, internal \"%s\", "
                    "external \"%s\"\n", flags, internal.data, external.data);
            abort();
        }
        struct buf local = BUF_INIT, domain = BUF_INIT;
        address_split(internal.data, &local, &domain);
        address_split_delimiter(local.data, "+-", &base, &ext, NULL);
        (void)address_domain_is_fqdn(domain.data);
        buf_free(&local);
        buf_free(&domain);
    }

    /* The helpers take C strings: give them a NUL-terminated copy. */
    char *copy = malloc(size + 1);
    if (copy) {
        memcpy(copy, data, size);
        copy[size] = 0;
        (void)address_valid_hostname(copy, ADDRESS_FLAG_UTF8);
        (void)address_valid_domain(copy, 0);
        (void)address_helo_valid(copy);
        (void)address_helo_is_fqdn(copy);
        (void)address_routing(copy);
        address_split_delimiter(copy, "+-", &base, &ext, NULL);
        address_externalize(copy, &external);
        free(copy);
    }

    for (unsigned flags = 0; flags <= ADDRESS_FLAG_UTF8; flags += ADDRESS_FLAG_UTF8) {
        struct addrlist list;
        addrlist_init(&list);
        if (addrlist_parse(text, size, flags, &list, &why) == 0) {
            for (size_t i = 0; i < list.count; i++)
                address_externalize(list.items[i].address, &external);
        } else if (list.count != 0) {
            abort();
        }
        addrlist_free(&list);
    }
    buf_free(&internal);
    buf_free(&external);
    buf_free(&again);
    buf_free(&why);
    buf_free(&base);
    buf_free(&ext);
    return 0;
}
