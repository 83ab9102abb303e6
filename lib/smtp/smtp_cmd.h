/* smtp_cmd.h: parse one SMTP command line (RFC 5321 and its extensions)
 * into a verb and checked arguments, for smtpd (and, with SMTP_CMD_LMTP,
 * for lmtpd: RFC 2033's LHLO).
 *
 * The caller has already split the line off the stream and removed the
 * CRLF (and rejected bare CR/LF). The parser is pure: no configuration,
 * no session state. It checks syntax only; whether a command is allowed
 * now (nested MAIL, RCPT before MAIL, BDAT after DATA, DSN disabled, ...)
 * is smtpd's business. On a syntax error it returns -1 with the complete
 * reply line smtpd should send (code, enhanced status code and text, in
 * Postfix's wording where Postfix has one) in cmd->reply.
 *
 * Leniency follows Postfix's defaults and nothing more: case-insensitive
 * verbs and keywords, spaces or tabs between words and after "FROM:"/
 * "TO:", trailing whitespace, a bare local part (<postmaster>, <user>),
 * source routes (<@a,@b:user@d>, dropped) and, unless SMTP_CMD_STRICT
 * (strict_rfc821_envelopes = yes), an address without angle brackets and
 * user@other@ours split at the last '@'. See docs/addresses.md. */
#ifndef POSTERN_SMTP_CMD_H
#define POSTERN_SMTP_CMD_H

#include <stddef.h>

#include "base/buf.h"

/* Longest command line accepted (Postfix's line_length_limit). */
#define SMTP_CMD_LINE_MAX 2048
/* Most ESMTP parameters on one MAIL or RCPT command. */
#define SMTP_CMD_PARAMS_MAX 16
/* RFC 3461 length limits on the encoded ENVID and ORCPT values. */
#define SMTP_ENVID_MAX 100
#define SMTP_ORCPT_MAX 500

enum smtp_verb {
    SMTP_VERB_UNKNOWN = 0,
    SMTP_VERB_HELO,
    SMTP_VERB_EHLO,
    SMTP_VERB_MAIL,
    SMTP_VERB_RCPT,
    SMTP_VERB_DATA,
    SMTP_VERB_BDAT,
    SMTP_VERB_RSET,
    SMTP_VERB_NOOP,
    SMTP_VERB_QUIT,
    SMTP_VERB_VRFY,
    SMTP_VERB_EXPN,
    SMTP_VERB_HELP,
    SMTP_VERB_STARTTLS,
    SMTP_VERB_AUTH,
    SMTP_VERB_LHLO, /* LMTP (RFC 2033); only with SMTP_CMD_LMTP */
};

enum smtp_body {
    SMTP_BODY_NONE = 0, /* no BODY= parameter */
    SMTP_BODY_7BIT,
    SMTP_BODY_8BITMIME,
    SMTP_BODY_BINARYMIME,
};

enum smtp_ret { SMTP_RET_NONE = 0, SMTP_RET_FULL, SMTP_RET_HDRS };

/* NOTIFY= bits (RFC 3461). */
#define SMTP_NOTIFY_NEVER 0x01
#define SMTP_NOTIFY_SUCCESS 0x02
#define SMTP_NOTIFY_FAILURE 0x04
#define SMTP_NOTIFY_DELAY 0x08

/* Which parameters a MAIL or RCPT command carried (cmd->params). */
#define SMTP_PARAM_SIZE 0x01
#define SMTP_PARAM_BODY 0x02
#define SMTP_PARAM_SMTPUTF8 0x04
#define SMTP_PARAM_RET 0x08
#define SMTP_PARAM_ENVID 0x10
#define SMTP_PARAM_AUTH 0x20
#define SMTP_PARAM_NOTIFY 0x40
#define SMTP_PARAM_ORCPT 0x80
#define SMTP_PARAM_REQUIRETLS 0x100 /* RFC 8689 */

/* Flags for smtp_cmd_parse(). */
#define SMTP_CMD_STRICT 0x01 /* strict_rfc821_envelopes = yes */
/* RCPT inside a transaction whose MAIL carried SMTPUTF8: UTF-8 allowed
 * in the address. (MAIL itself allows it when it carries SMTPUTF8.) */
#define SMTP_CMD_UTF8 0x02
/* An LMTP server's line (lmtpd): LHLO is a verb, parsed as EHLO is.
 * Without the flag LHLO is an unknown command, as it is to smtpd. */
#define SMTP_CMD_LMTP 0x04

struct smtp_cmd {
    enum smtp_verb verb;
    char verb_text[12]; /* the verb as sent, for logs (truncated, ASCII) */

    /* HELO/EHLO/LHLO: the name; VRFY/EXPN/HELP/NOOP: the rest of the line;
     * AUTH: the mechanism (arg) and the initial response (arg2). */
    struct buf arg;
    struct buf arg2;

    /* MAIL/RCPT: the address in internal form ("" for <>), the address
     * as sent between the brackets (Postfix's default ORCPT), facts about
     * it (ADDRESS_INFO_*), and whether a source route was dropped. */
    struct buf addr;
    struct buf addr_raw;
    unsigned addr_info;
    int source_route;

    unsigned params;         /* SMTP_PARAM_* present */
    unsigned long long size; /* SIZE= */
    enum smtp_body body;     /* BODY= */
    int smtputf8;            /* SMTPUTF8 */
    int requiretls;          /* REQUIRETLS (RFC 8689) */
    enum smtp_ret ret;       /* RET= */
    struct buf envid;        /* ENVID=, xtext-decoded */
    struct buf auth;         /* AUTH=, xtext-decoded ("<>" kept as is) */
    unsigned notify;         /* NOTIFY=, SMTP_NOTIFY_* */
    struct buf orcpt_type;   /* ORCPT= address type, e.g. "rfc822" */
    struct buf orcpt_addr;   /* ORCPT= address, xtext-decoded */

    unsigned long long chunk_size; /* BDAT */
    int last;                      /* BDAT ... LAST */

    /* On failure: the reply code (501, 555, ...) and the full reply line
     * without CRLF, e.g. "501 5.1.7 Bad sender address syntax". */
    int code;
    struct buf reply;
};

void smtp_cmd_init(struct smtp_cmd *cmd);
void smtp_cmd_free(struct smtp_cmd *cmd);

/* Parses `line` (len bytes, no CRLF, need not be NUL-terminated) into
 * cmd, resetting everything parsed before. Returns 0 when the syntax is
 * valid, -1 with cmd->code and cmd->reply set otherwise. cmd->verb is set
 * even on failure when the verb was recognised. */
int smtp_cmd_parse(struct smtp_cmd *cmd, const char *line, size_t len,
                   unsigned flags);

/* The canonical upper-case name of a verb ("MAIL"; "UNKNOWN"). */
const char *smtp_verb_name(enum smtp_verb verb);

/* xtext (ENVID=, ORCPT=, AUTH=) is decoded with lib/base/xtext.h. */

#endif
