/* fuzz_header.c: fuzz target for lib/message/header (and lib/message/addrlist on the
 * address headers it finds, as `sendmail -t` does).
 *
 * Parses the input as a message with the default limits and with small
 * ones, and checks the bounds header.h promises: the body offset lies in
 * the input, no field keeps more than size_limit bytes, the block keeps
 * no more than count_limit fields and total_limit bytes. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "message/address.h"
#include "message/addrlist.h"
#include "base/buf.h"
#include "message/header.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_block(const struct header_block *hb, size_t size)
{
    if (hb->body_offset > size || hb->count > hb->count_limit ||
        hb->stored > hb->total_limit) {
        fprintf(stderr, "bounds broken: offset %zu/%zu count %zu/%zu "
                "stored %zu/%zu\n", hb->body_offset, size, hb->count,
                hb->count_limit, hb->stored, hb->total_limit);
        abort();
    }
    for (size_t i = 0; i < hb->count; i++) {
        const struct header_field *f = &hb->fields[i];
        if (f->raw.len > hb->size_limit || f->value.len > hb->size_limit ||
            f->name[0] == 0 || strlen(f->name) > HEADER_NAME_MAX) {
            fprintf(stderr, "field %zu out of bounds\n", i);
            abort();
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const size_t limits[][3] = {{0, 0, 0}, {64, 4, 300}, {1, 1, 1}};
    struct buf value = BUF_INIT;

    for (size_t l = 0; l < sizeof(limits) / sizeof(limits[0]); l++) {
        struct header_block hb;
        header_block_init(&hb, limits[l][0], limits[l][1], limits[l][2]);
        header_parse(&hb, (const char *)data, size);
        check_block(&hb, size);
        (void)header_hop_count(&hb);
        (void)header_has_delivered_to(&hb, "user@example.com");
        (void)header_get(&hb, "Message-ID", &value);
        static const char *const names[] = {"From", "To", "Cc", "Bcc"};
        for (size_t n = 0; n < sizeof(names) / sizeof(names[0]); n++) {
            for (const struct header_field *f = header_find(&hb, names[n]); f;
                 f = header_find_next(&hb, names[n], f)) {
                struct addrlist list;
                addrlist_init(&list);
                (void)addrlist_parse(f->value.data, f->value.len,
                                     ADDRESS_FLAG_UTF8, &list, &value);
                addrlist_free(&list);
            }
        }
        header_block_free(&hb);
    }
    buf_free(&value);
    return 0;
}
