/* smtpc_settings.h: what the SMTP/LMTP client engine is told by main.cf.
 *
 * Postfix's timeouts, each the longest wait for one reply (or, for
 * data_xfer, for the peer to take the next piece of the message), and
 * the few switches the engine has. The daemon fills the struct once with
 * smtpc_settings_from_config() (smtp_* parameters, or lmtp_* in LMTP
 * mode) and may change fields afterwards (per-transport -o overrides
 * are already in the configuration by then). */
#ifndef POSTERN_SMTPC_SETTINGS_H
#define POSTERN_SMTPC_SETTINGS_H

#include <stddef.h>

/* Commands in flight at once when the peer offers PIPELINING (RFC 2920
 * lets a client send a whole batch; a bound keeps a huge recipient list
 * from filling both socket buffers). */
#define SMTPC_PIPELINE_LIMIT_DEFAULT 64
/* Bytes per BDAT chunk. */
#define SMTPC_BDAT_CHUNK_DEFAULT (64 * 1024)

struct smtpc_settings {
    int lmtp;              /* 1: LMTP (LHLO, a reply per recipient after
                              DATA, no HELO fallback) */
    const char *helo_name; /* EHLO/HELO/LHLO argument (smtp_helo_name,
                              lmtp_lhlo_name); not copied: must outlive
                              the sessions */
    /* Timeouts in milliseconds (main.cf gives seconds). */
    int helo_timeout_ms;      /* greeting and EHLO/HELO (smtp_helo_timeout,
                                 lmtp_lhlo_timeout); also AUTH */
    int starttls_timeout_ms;  /* the STARTTLS reply (smtp_starttls_timeout);
                                 the caller uses it for the handshake too */
    int mail_timeout_ms;      /* MAIL FROM (smtp_mail_timeout) */
    int rcpt_timeout_ms;      /* RCPT TO (smtp_rcpt_timeout) */
    int data_init_timeout_ms; /* DATA's 354 (smtp_data_init_timeout) */
    int data_xfer_timeout_ms; /* each write of the content, and each BDAT
                                 chunk's reply but the last
                                 (smtp_data_xfer_timeout) */
    int data_done_timeout_ms; /* the reply(s) to the end of data and to
                                 BDAT LAST (smtp_data_done_timeout) */
    int rset_timeout_ms;      /* RSET (smtp_rset_timeout) */
    int quit_timeout_ms;      /* QUIT (smtp_quit_timeout) */
    int skip_5xx_greeting;    /* a 5xx greeting defers instead of bouncing
                                 (smtp_skip_5xx_greeting, default yes):
                                 the next MX host may do better */
    unsigned discard_caps;    /* SMTPC_CAP_* bits ignored in EHLO replies
                                 (smtp_discard_ehlo_keywords) */
    int bdat_enable;          /* use BDAT when offered (smtp_bdat_enable,
                                 a Postern parameter; Postfix never does) */
    size_t line_length_limit; /* content lines longer than this are broken
                                 with CRLF and a space, as Postfix does
                                 (smtp_line_length_limit, 998); 0: never */
    size_t bdat_chunk_size;   /* bytes per BDAT chunk */
    int pipeline_limit;       /* commands in flight with PIPELINING */
};

/* Fills settings from the loaded configuration: the smtp_* parameters,
 * or the lmtp_* ones when lmtp is set. helo_name points into the
 * configuration's storage. */
void smtpc_settings_from_config(struct smtpc_settings *settings, int lmtp);

/* Built-in defaults (Postfix's), without reading the configuration: for
 * tests and tools. helo_name is "localhost". */
void smtpc_settings_defaults(struct smtpc_settings *settings, int lmtp);

#endif
