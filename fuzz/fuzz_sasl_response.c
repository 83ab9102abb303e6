/* fuzz_sasl_response.c: fuzz target for what an SMTP client sends during
 * AUTH (RFC 4954): the AUTH command line as lib/smtp/smtp_cmd parses it
 * (mechanism and initial response), and a response line as smtpd's
 * SASL exchange classifies it before anything goes to the auth server:
 * "*" (abort), base64 (lib/auth/auth_client's check), or neither. What
 * passes must be safe to put into a Dovecot auth protocol line: no TAB,
 * LF or control byte, and base64 must decode. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth_client.h"
#include "base/base64.h"
#include "base/buf.h"
#include "smtp/smtp_cmd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_safe(const char *text)
{
    for (const char *p = text; *p; p++)
        if ((unsigned char)*p < 32 || *p == 127)
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* The command line. */
    struct buf line = BUF_INIT;
    buf_append_str(&line, "AUTH ");
    buf_append(&line, data, size);
    struct smtp_cmd cmd;
    smtp_cmd_init(&cmd);
    if (smtp_cmd_parse(&cmd, line.data, line.len, 0) == 0) {
        if (cmd.verb != SMTP_VERB_AUTH || cmd.arg.len == 0 ||
            cmd.arg.len > 20)
            abort();
        check_safe(buf_cstr(&cmd.arg));
        check_safe(buf_cstr(&cmd.arg2));
        if (strchr(buf_cstr(&cmd.arg2), ' '))
            abort();
    }
    smtp_cmd_free(&cmd);
    buf_free(&line);

    /* A response line (the stream gives it without CR LF, NUL-ended). */
    char *text = malloc(size + 1);
    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    if (strlen(text) == size && strcmp(text, "*") != 0 &&
        auth_base64_valid(text)) {
        check_safe(text);
        struct buf out = BUF_INIT;
        if (base64_decode(text, size, &out) != 0)
            abort();
        buf_free(&out);
    }
    free(text);
    return 0;
}
