/* test_base64.c: unit tests for lib/base/base64 (RFC 4648 test vectors,
 * binary data, strict decoding). */
#include "unit.h"

#include "base/base64.h"
#include "base/buf.h"

static void test_vectors(void)
{
    /* RFC 4648 section 10. */
    const char *plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    const char *coded[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=",
                           "Zm9vYmFy"};
    struct buf out = BUF_INIT;
    for (int i = 0; i < 7; i++) {
        buf_reset(&out);
        base64_encode(plain[i], strlen(plain[i]), &out);
        CHECK_STR(buf_cstr(&out), coded[i]);
        buf_reset(&out);
        CHECK_INT(base64_decode(coded[i], strlen(coded[i]), &out), 0);
        CHECK_STR(buf_cstr(&out), plain[i]);
    }
    buf_free(&out);
}

static void test_binary_round_trip(void)
{
    unsigned char all[256];
    for (int i = 0; i < 256; i++)
        all[i] = (unsigned char)i;
    struct buf coded = BUF_INIT, back = BUF_INIT;
    for (size_t len = 0; len <= 256; len += 37) {
        buf_reset(&coded);
        buf_reset(&back);
        base64_encode(all, len, &coded);
        CHECK_INT(coded.len, (len + 2) / 3 * 4);
        CHECK_INT(base64_decode(coded.data, coded.len, &back), 0);
        CHECK_INT(back.len, len);
        CHECK(len == 0 || memcmp(back.data, all, len) == 0);
    }
    CHECK_INT(base64_decode("+/+/", 4, &back), 0);
    buf_free(&coded);
    buf_free(&back);
}

static void test_strict_decoding(void)
{
    const char *bad[] = {"Zg=", "Zg", "Z===", "Zg=a", "Zm9v\n", " Zm9v",
                         "Zm=v", "Zg==Zg==", "Zm9-", "Zm9v\0"};
    struct buf out = BUF_INIT;
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        buf_reset(&out);
        CHECK_INT(base64_decode(bad[i], i == 9 ? 5 : strlen(bad[i]), &out), -1);
    }
    buf_free(&out);
}

int main(void)
{
    UNIT_RUN(test_vectors);
    UNIT_RUN(test_binary_round_trip);
    UNIT_RUN(test_strict_decoding);
    return unit_summary();
}
