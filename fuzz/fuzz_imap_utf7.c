/* fuzz_imap_utf7.c: fuzz target for lib/imap/imap_utf7.
 *
 * Invariants: input that decodes from modified UTF-7 gives well-formed
 * UTF-8, whose encoding decodes back to the same UTF-8 (the encoder's
 * form is canonical: encoding it again changes nothing); input that is
 * well-formed UTF-8 encodes to printable ASCII that decodes back to the
 * input; the mailbox-name check never accepts what decoding refused. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/utf8.h"
#include "imap/imap_utf7.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_encoded(const struct buf *enc)
{
    for (size_t i = 0; i < enc->len; i++)
        if ((unsigned char)enc->data[i] < 0x20 ||
            (unsigned char)enc->data[i] > 0x7e)
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    struct buf dec = BUF_INIT, enc = BUF_INIT, again = BUF_INIT;

    int decoded = imap_utf7_decode(text, size, &dec) == 0;
    if (decoded) {
        if (!utf8_valid(dec.data, dec.len))
            abort();
        if (imap_utf7_encode(dec.data, dec.len, &enc) != 0)
            abort();
        check_encoded(&enc);
        if (imap_utf7_decode(enc.data, enc.len, &again) != 0 ||
            again.len != dec.len ||
            (dec.len && memcmp(again.data, dec.data, dec.len) != 0))
            abort();
    }
    buf_reset(&enc);
    buf_reset(&again);
    if (utf8_valid(text, size)) {
        if (imap_utf7_encode(text, size, &enc) != 0)
            abort();
        check_encoded(&enc);
        if (imap_utf7_decode(enc.data, enc.len, &again) != 0 ||
            again.len != size || (size && memcmp(again.data, data, size) != 0))
            abort();
    } else if (imap_utf7_encode(text, size, &enc) == 0) {
        abort();
    }

    struct imap_arg arg = {IMAP_ARG_ATOM, text, size, NULL, 0, 0};
    const char *error;
    if (imap_mailbox_name(&arg, 0, &again, &error) == 0 && !decoded)
        abort();
    (void)imap_mailbox_name(&arg, 1, &again, &error);

    buf_free(&dec);
    buf_free(&enc);
    buf_free(&again);
    return 0;
}
