/* fuzz_auth_line.c: fuzz target for lib/auth/auth_line, the splitter of
 * Dovecot auth protocol lines that both the auth service and smtpd's
 * SASL client read from their peer. Whatever splits must write back
 * (escaped) to a line that splits into the same fields. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth_line.h"
#include "base/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct auth_line line = AUTH_LINE_INIT, again = AUTH_LINE_INIT;
    if (auth_line_split(&line, (const char *)data, size) == 0) {
        struct buf out = BUF_INIT;
        for (size_t f = 0; f < line.count; f++) {
            if (f)
                buf_append_char(&out, '\t');
            auth_line_escape(&out, line.fields[f], strlen(line.fields[f]));
        }
        /* Escaping never shortens, so the written line may exceed the
         * cap only when the input used bare escapes; skip those. */
        if (out.len <= AUTH_LINE_MAX) {
            if (auth_line_split(&again, out.data, out.len) != 0 ||
                again.count != line.count)
                abort();
            for (size_t f = 0; f < line.count; f++)
                if (strcmp(again.fields[f], line.fields[f]) != 0)
                    abort();
        }
        (void)auth_line_param(&line, 0, "resp");
        buf_free(&out);
    }
    auth_line_free(&line);
    auth_line_free(&again);
    return 0;
}
