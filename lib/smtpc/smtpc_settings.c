/* smtpc_settings.c: the client engine's settings from main.cf (see
 * smtpc_settings.h). */
#include "smtpc/smtpc_settings.h"

#include <limits.h>
#include <string.h>

#include "base/str.h"
#include "config/config.h"
#include "smtpc/smtpc_caps.h"

/* Seconds to milliseconds, capped so the result fits an int. */
static int seconds_to_ms(long seconds)
{
    if (seconds <= 0)
        return 1;
    if (seconds > INT_MAX / 1000)
        return INT_MAX;
    return (int)seconds * 1000;
}

void smtpc_settings_defaults(struct smtpc_settings *settings, int lmtp)
{
    memset(settings, 0, sizeof(*settings));
    settings->lmtp = lmtp ? 1 : 0;
    settings->helo_name = "localhost";
    settings->helo_timeout_ms = 300 * 1000;
    settings->starttls_timeout_ms = 300 * 1000;
    settings->mail_timeout_ms = 300 * 1000;
    settings->rcpt_timeout_ms = 300 * 1000;
    settings->data_init_timeout_ms = 120 * 1000;
    settings->data_xfer_timeout_ms = 180 * 1000;
    settings->data_done_timeout_ms = 600 * 1000;
    settings->rset_timeout_ms = 20 * 1000;
    settings->quit_timeout_ms = 300 * 1000;
    settings->skip_5xx_greeting = 1;
    settings->bdat_enable = 1;
    settings->line_length_limit = 998;
    settings->bdat_chunk_size = SMTPC_BDAT_CHUNK_DEFAULT;
    settings->pipeline_limit = SMTPC_PIPELINE_LIMIT_DEFAULT;
}

/* The extension bits named in a keyword list parameter. */
static unsigned caps_from_list(const char *name)
{
    struct strlist words;
    unsigned bits = 0;
    strlist_init(&words);
    cfg_list(name, &words);
    for (size_t i = 0; i < words.count; i++)
        bits |= smtpc_caps_bit(words.items[i]);
    strlist_free(&words);
    return bits;
}

void smtpc_settings_from_config(struct smtpc_settings *settings, int lmtp)
{
    smtpc_settings_defaults(settings, lmtp);
    if (lmtp) {
        settings->helo_name = cfg_str("lmtp_lhlo_name");
        settings->helo_timeout_ms =
            seconds_to_ms(cfg_time("lmtp_lhlo_timeout"));
        settings->starttls_timeout_ms =
            seconds_to_ms(cfg_time("lmtp_starttls_timeout"));
        settings->mail_timeout_ms =
            seconds_to_ms(cfg_time("lmtp_mail_timeout"));
        settings->rcpt_timeout_ms =
            seconds_to_ms(cfg_time("lmtp_rcpt_timeout"));
        settings->data_init_timeout_ms =
            seconds_to_ms(cfg_time("lmtp_data_init_timeout"));
        settings->data_xfer_timeout_ms =
            seconds_to_ms(cfg_time("lmtp_data_xfer_timeout"));
        settings->data_done_timeout_ms =
            seconds_to_ms(cfg_time("lmtp_data_done_timeout"));
        settings->rset_timeout_ms =
            seconds_to_ms(cfg_time("lmtp_rset_timeout"));
        settings->quit_timeout_ms =
            seconds_to_ms(cfg_time("lmtp_quit_timeout"));
        settings->skip_5xx_greeting = cfg_bool("lmtp_skip_5xx_greeting");
        settings->bdat_enable = cfg_bool("lmtp_bdat_enable");
        settings->discard_caps = caps_from_list("lmtp_discard_lhlo_keywords");
        settings->line_length_limit = (size_t)cfg_int("lmtp_line_length_limit");
    } else {
        settings->helo_name = cfg_str("smtp_helo_name");
        settings->helo_timeout_ms =
            seconds_to_ms(cfg_time("smtp_helo_timeout"));
        settings->starttls_timeout_ms =
            seconds_to_ms(cfg_time("smtp_starttls_timeout"));
        settings->mail_timeout_ms =
            seconds_to_ms(cfg_time("smtp_mail_timeout"));
        settings->rcpt_timeout_ms =
            seconds_to_ms(cfg_time("smtp_rcpt_timeout"));
        settings->data_init_timeout_ms =
            seconds_to_ms(cfg_time("smtp_data_init_timeout"));
        settings->data_xfer_timeout_ms =
            seconds_to_ms(cfg_time("smtp_data_xfer_timeout"));
        settings->data_done_timeout_ms =
            seconds_to_ms(cfg_time("smtp_data_done_timeout"));
        settings->rset_timeout_ms =
            seconds_to_ms(cfg_time("smtp_rset_timeout"));
        settings->quit_timeout_ms =
            seconds_to_ms(cfg_time("smtp_quit_timeout"));
        settings->skip_5xx_greeting = cfg_bool("smtp_skip_5xx_greeting");
        settings->bdat_enable = cfg_bool("smtp_bdat_enable");
        settings->discard_caps = caps_from_list("smtp_discard_ehlo_keywords");
        settings->line_length_limit = (size_t)cfg_int("smtp_line_length_limit");
    }
}
