/* fuzz_auth_client.c: fuzz target for the reply reader of
 * lib/auth/auth_client, the Dovecot auth protocol client smtpd uses:
 * every line an auth server (or something pretending to be one on the
 * socket) may send. The input is split at LF as the client splits it;
 * each parsed line must hold what the client relies on. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth_client.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct auth_server_line line = AUTH_SERVER_LINE_INIT;
    const char *text = (const char *)data;
    size_t start = 0;
    while (start <= size) {
        const char *lf = memchr(text + start, '\n', size - start);
        size_t len = lf ? (size_t)(lf - (text + start)) : size - start;
        if (auth_server_line_parse(&line, text + start, len) == 0) {
            switch (line.cmd) {
            case AUTH_SERVER_OK:
            case AUTH_SERVER_FAIL:
                if (line.id == 0)
                    abort();
                break;
            case AUTH_SERVER_CONT:
                if (line.id == 0 || line.data == NULL)
                    abort();
                (void)auth_base64_valid(line.data);
                break;
            case AUTH_SERVER_MECH:
                if (line.mech == NULL || line.mech[0] == '\0' ||
                    (line.mech_flags & ~0x7fu) != 0)
                    abort();
                break;
            default:
                break;
            }
            if (line.user)
                (void)strlen(line.user);
            if (line.reason)
                (void)strlen(line.reason);
        }
        if (lf == NULL)
            break;
        start += len + 1;
    }
    auth_server_line_free(&line);
    return 0;
}
