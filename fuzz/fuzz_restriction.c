/* fuzz_restriction.c: fuzz target for lib/routing/restriction (restriction
 * lists and access(5) results, which come from main.cf and from table
 * values) and netmatch_parse_cidr (mynetworks items).
 *
 * Properties: parsing never crashes; a parsed list has at most as many
 * items as words and every check_*_access item has a table; an
 * ACCESS_CODE result has a 4xx/5xx code and any enhanced status code
 * of the same class; the text pointer stays inside the input; a valid
 * PREPEND header has a name and no line break; a REDIRECT/BCC target
 * that parses has an '@'; a local_header_rewrite_clients list keeps
 * only entries it knows, address maps with their table; a parsed CIDR
 * has a prefix within its family's width. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "base/buf.h"
#include "tables/netmatch.h"
#include "routing/restriction.h"
#include "base/str.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';

    struct strlist words;
    strlist_init(&words);
    str_split_list(text, &words);
    struct restriction_list list;
    struct buf err = BUF_INIT;
    if (restriction_list_parse(&words, &list, &err) == 0) {
        if (list.count > words.count)
            abort();
        for (size_t i = 0; i < list.count; i++) {
            enum restriction_kind k = list.items[i].kind;
            int wants = k == RESTR_CHECK_CLIENT_ACCESS ||
                        k == RESTR_CHECK_HELO_ACCESS ||
                        k == RESTR_CHECK_SENDER_ACCESS ||
                        k == RESTR_CHECK_RECIPIENT_ACCESS;
            if (wants != (list.items[i].table != NULL))
                abort();
            if (strcmp(restriction_name(k), "unknown") == 0)
                abort();
        }
        restriction_list_free(&list);
    } else if (err.len == 0) {
        abort();
    }
    buf_free(&err);
    strlist_free(&words);

    struct access_result res;
    access_parse(text, &res);
    if (res.text < text || res.text > text + size)
        abort();
    if (res.action == ACCESS_CODE) {
        if (res.code < 400 || res.code > 599)
            abort();
        if (res.dsn[0] && res.dsn[0] != '0' + res.code / 100)
            abort();
    }

    if (res.action == ACCESS_PREPEND || res.action == ACCESS_REDIRECT ||
        res.action == ACCESS_BCC) {
        struct buf why = BUF_INIT, target = BUF_INIT;
        if (access_prepend_valid(res.text, &why) &&
            (strchr(res.text, '\n') || strchr(res.text, '\r') ||
             !strchr(res.text, ':')))
            abort();
        if (access_target_parse(res.text, &target, &why) &&
            !strchr(buf_cstr(&target), '@'))
            abort();
        buf_free(&why);
        buf_free(&target);
    }
    if (res.action == ACCESS_FILTER && access_filter_valid(res.text, NULL)) {
        /* a transport name, a colon, and no blank or control anywhere */
        const char *colon = strchr(res.text, ':');
        if (colon == NULL || colon == res.text)
            abort();
        for (const char *p = res.text; *p; p++)
            if ((unsigned char)*p <= ' ' || *p == 0x7f)
                abort();
    }

    struct strlist cwords;
    strlist_init(&cwords);
    str_split_list(text, &cwords);
    struct restriction_client_list clients;
    struct buf cerr = BUF_INIT;
    size_t skipped = restriction_client_list_parse(&cwords, &clients, &cerr);
    if ((skipped > 0) != (cerr.len > 0) || clients.count > cwords.count)
        abort();
    for (size_t i = 0; i < clients.count; i++)
        if ((clients.items[i].kind == RESTR_CLIENT_ADDRESS_MAP) !=
            (clients.items[i].table != NULL))
            abort();
    restriction_client_list_free(&clients);
    buf_free(&cerr);
    strlist_free(&cwords);

    int family;
    unsigned char addr[16];
    unsigned prefix;
    if (netmatch_parse_cidr(text, &family, addr, &prefix) == 0) {
        if ((family == AF_INET && prefix > 32) ||
            (family == AF_INET6 && prefix > 128) ||
            (family != AF_INET && family != AF_INET6))
            abort();
    }
    free(text);
    return 0;
}
