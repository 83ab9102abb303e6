/* fuzz_attr.c: fuzz target for the attribute protocol reader (lib/ipc/attr).
 *
 * Decodes messages back to back from the input, as a daemon reading a
 * stream would. Every message decoded must re-encode to exactly the
 * bytes it was read from (the wire format has one canonical form), and
 * the getters must hold up on whatever came in. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ipc/attr.h"
#include "base/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct attr_limits limits = {.max_attrs = 16,
                                              .max_name = 16,
                                              .max_value = 4096,
                                              .max_message = 8192};
    const char *text = (const char *)data;
    size_t pos = 0;
    while (pos < size) {
        struct attr_msg *msg = NULL;
        struct buf err = BUF_INIT, wire = BUF_INIT;
        size_t used = 0;
        enum attr_status st =
            attr_decode(text + pos, size - pos, &limits, &msg, &used, &err);
        if (st != ATTR_OK) {
            if (st == ATTR_MALFORMED && err.len == 0)
                abort(); /* every rejection must say why */
            buf_free(&err);
            break;
        }
        if (used == 0 || used > size - pos)
            abort();
        attr_encode(msg, &wire);
        if (wire.len != used || memcmp(wire.data, text + pos, used) != 0)
            abort();
        const char *value;
        size_t len;
        long long num;
        (void)attr_get_str(msg, "request", &value, NULL, &err);
        (void)attr_get_str(msg, "blob", &value, &len, &err);
        (void)attr_get_num(msg, "count", &num, &err);
        (void)attr_opt_str(msg, "x", "");
        (void)attr_check_all_used(msg, &err);
        (void)attr_check_proto(msg, "anvil", 1, &err);
        attr_msg_free(msg);
        buf_free(&wire);
        buf_free(&err);
        pos += used;
    }
    return 0;
}
