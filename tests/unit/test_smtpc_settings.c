/* test_smtpc_settings.c: unit tests for lib/smtpc's settings from
 * main.cf: Postfix's defaults, the smtp_* parameters, the lmtp_* ones in
 * LMTP mode, and the discarded EHLO keywords. */
#include "unit.h"

#include "base/buf.h"
#include "config/config.h"
#include "smtpc/smtpc_caps.h"
#include "smtpc/smtpc_settings.h"

static void load(const char *text)
{
    struct buf err = BUF_INIT;
    buf_init(&err);
    config_reset();
    if (config_load_string(text, strlen(text), "/nonexistent", "main.cf",
                           &err) != 0)
        printf("# config: %s\n", err.data);
    buf_free(&err);
}

static void test_defaults(void)
{
    load("myhostname = client.example\n");
    struct smtpc_settings s;
    smtpc_settings_from_config(&s, 0);
    CHECK_INT(s.lmtp, 0);
    CHECK_STR(s.helo_name, "client.example");
    CHECK_INT(s.helo_timeout_ms, 300000);
    CHECK_INT(s.data_init_timeout_ms, 120000);
    CHECK_INT(s.data_xfer_timeout_ms, 180000);
    CHECK_INT(s.data_done_timeout_ms, 600000);
    CHECK_INT(s.rset_timeout_ms, 20000);
    CHECK_INT(s.skip_5xx_greeting, 1);
    CHECK_INT(s.bdat_enable, 1);
    CHECK_INT(s.line_length_limit, 998);
    CHECK_INT(s.discard_caps, 0);
    CHECK_INT(s.pipeline_limit, SMTPC_PIPELINE_LIMIT_DEFAULT);
}

static void test_smtp_and_lmtp(void)
{
    load("myhostname = client.example\n"
         "smtp_helo_name = out.example\n"
         "smtp_mail_timeout = 1m\n"
         "smtp_bdat_enable = no\n"
         "smtp_discard_ehlo_keywords = pipelining, CHUNKING silent-discard\n"
         "smtp_line_length_limit = 0\n"
         "lmtp_lhlo_name = lmtp.example\n"
         "lmtp_rcpt_timeout = 7s\n"
         "lmtp_discard_lhlo_keywords = dsn\n");
    struct smtpc_settings s;
    smtpc_settings_from_config(&s, 0);
    CHECK_STR(s.helo_name, "out.example");
    CHECK_INT(s.mail_timeout_ms, 60000);
    CHECK_INT(s.rcpt_timeout_ms, 300000);
    CHECK_INT(s.bdat_enable, 0);
    CHECK_INT(s.line_length_limit, 0);
    CHECK_INT(s.discard_caps, SMTPC_CAP_PIPELINING | SMTPC_CAP_CHUNKING);
    smtpc_settings_from_config(&s, 1);
    CHECK_INT(s.lmtp, 1);
    CHECK_STR(s.helo_name, "lmtp.example");
    CHECK_INT(s.rcpt_timeout_ms, 7000);
    CHECK_INT(s.mail_timeout_ms, 300000);
    CHECK_INT(s.bdat_enable, 1);
    CHECK_INT(s.discard_caps, SMTPC_CAP_DSN);
}

int main(void)
{
    UNIT_RUN(test_defaults);
    UNIT_RUN(test_smtp_and_lmtp);
    return unit_summary();
}
