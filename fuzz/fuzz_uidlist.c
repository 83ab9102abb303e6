/* fuzz_uidlist.c: fuzz target for the dovecot-uidlist reader
 * (lib/storage/uidlist.c). The file lives in the user's Maildir, where
 * other programs and the user write, so whatever its bytes the reader
 * must stay in bounds, keep its invariants (UIDs ascending, names
 * clean) and write back only what it can read again. The input is also
 * split in two to drive the incremental reader. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "storage/uidlist.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_invariants(struct uidlist *ul)
{
    for (size_t i = 0; i < ul->count; i++) {
        const char *base = uidlist_rec_base(ul, &ul->recs[i]);
        if (base[0] == 0 || strchr(base, '/') || strchr(base, ':') ||
            strchr(base, '\n'))
            __builtin_trap();
        if (i && ul->recs[i].uid <= ul->recs[i - 1].uid)
            __builtin_trap();
        if (ul->recs[i].uid >= ul->next_uid)
            __builtin_trap();
        if (uidlist_find(ul, base, strlen(base)) != &ul->recs[i])
            __builtin_trap();
        size_t len;
        (void)uidlist_rec_ext(ul, &ul->recs[i], 'W', &len);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    struct uidlist ul;
    uidlist_init(&ul);
    struct buf err = BUF_INIT;
    size_t used = 0;
    int rc = uidlist_parse(&ul, text, size, &used, &err);
    if (used > size || (rc < 0 && err.len == 0))
        __builtin_trap();
    check_invariants(&ul);
    if (rc == 0 && ul.uidvalidity) {
        /* what we write must read back the same */
        struct buf out = BUF_INIT;
        if (ul.guid[0] == 0)
            strcpy(ul.guid, "0123456789abcdef0123456789abcdef");
        uidlist_format(&ul, &out);
        struct uidlist again;
        uidlist_init(&again);
        size_t used_again = 0;
        if (uidlist_parse(&again, out.data, out.len, &used_again, &err) != 0 ||
            used_again != out.len || again.count != ul.count ||
            again.uidvalidity != ul.uidvalidity ||
            again.next_uid != ul.next_uid)
            __builtin_trap();
        uidlist_free(&again);
        buf_free(&out);
    }
    /* the first part read whole, the rest as if appended later */
    size_t half = size / 2;
    buf_reset(&err);
    (void)uidlist_parse(&ul, text, half, &used, &err);
    (void)uidlist_parse_more(&ul, text + used, size - used, NULL, &err);
    check_invariants(&ul);
    buf_free(&err);
    uidlist_free(&ul);
    return 0;
}
