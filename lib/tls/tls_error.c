/* tls_error.c: OpenSSL's error queue in log lines (tls_error.h). */
#include "tls/tls_error.h"

#include <openssl/err.h>

#include "base/log.h"

/* One error as "error:0A00010B:SSL routines::wrong version
 * number:FILE:LINE:DATA". */
static int next_error(struct buf *out)
{
    const char *file = NULL, *data = NULL;
    int line = 0, flags = 0;
    unsigned long code = ERR_get_error_all(&file, &line, NULL, &data, &flags);
    if (code == 0)
        return 0;
    char text[256];
    ERR_error_string_n(code, text, sizeof(text));
    buf_appendf(out, "%s:%s:%d:%s", text, file ? file : "", line,
                (data && (flags & ERR_TXT_STRING)) ? data : "");
    return 1;
}

void tls_error_log(void)
{
    struct buf text = BUF_INIT;
    while (next_error(&text)) {
        log_warn("TLS library problem: %s", buf_cstr(&text));
        buf_reset(&text);
    }
    buf_free(&text);
}

void tls_error_text(struct buf *out, const char *fallback)
{
    if (!next_error(out))
        buf_append_str(out, fallback);
    tls_error_log();
}

void tls_error_clear(void)
{
    ERR_clear_error();
}
