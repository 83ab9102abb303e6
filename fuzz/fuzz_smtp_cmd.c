/* fuzz_smtp_cmd.c: fuzz target for lib/smtp/smtp_cmd.
 *
 * Parses the input as one command line under each flag combination
 * (strict, UTF-8, LMTP) and checks properties smtpd and lmtpd rely on: a failure always carries a reply
 * "NNN X.Y.Z text" of printable ASCII whose code matches cmd->code; a
 * parsed MAIL/RCPT address re-parses from its external form; xtext
 * encoding round-trips the input bytes. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "message/address.h"
#include "base/buf.h"
#include "smtp/smtp_cmd.h"
#include "base/xtext.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_reply(const struct smtp_cmd *cmd)
{
    const char *r = cmd->reply.data;
    if (cmd->reply.len < 10 || cmd->code < 400 || cmd->code > 599 ||
        atoi(r) != cmd->code || r[3] != ' ' || r[5] != '.')
        abort();
    for (size_t i = 0; i < cmd->reply.len; i++)
        if ((unsigned char)r[i] < 32 || (unsigned char)r[i] > 126)
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct smtp_cmd cmd;
    struct buf external = BUF_INIT, again = BUF_INIT, xtext = BUF_INIT;

    smtp_cmd_init(&cmd);
    for (unsigned flags = 0; flags < 8; flags++) { /* STRICT, UTF8, LMTP */
        if (smtp_cmd_parse(&cmd, (const char *)data, size, flags) < 0) {
            check_reply(&cmd);
            continue;
        }
        if ((cmd.verb == SMTP_VERB_MAIL || cmd.verb == SMTP_VERB_RCPT) &&
            cmd.addr.len > 0) {
            address_externalize(cmd.addr.data, &external);
            if (address_parse_mailbox(external.data, external.len,
                                      ADDRESS_FLAG_UTF8 | ADDRESS_FLAG_BARE |
                                          ADDRESS_FLAG_MULTI_AT,
                                      &again, NULL, NULL) != 0 ||
                strcmp(again.data, cmd.addr.data) != 0) {
                fprintf(stderr, "address round trip failed: \"%s\"\n",
                        cmd.addr.data);
                abort();
            }
            (void)address_routing(cmd.addr.data);
        }
    }
    buf_reset(&xtext);
    xtext_encode((const char *)data, size, &xtext);
    buf_reset(&again);
    if (xtext_decode(xtext.data, xtext.len, &again, 0) != 0 ||
        again.len != size || (size && memcmp(again.data, data, size) != 0))
        abort();
    buf_reset(&again);
    (void)xtext_decode((const char *)data, size, &again, 0);

    smtp_cmd_free(&cmd);
    buf_free(&external);
    buf_free(&again);
    buf_free(&xtext);
    return 0;
}
