/* imapd_caps.c: what imap-login and the workers both say: the
 * capability lists before and after login, the ID answer (RFC 2971),
 * the client's ID in the log, session ids, and the Dovecot-shaped log
 * lines (docs/imapd.md, "Log lines"). */
#include "imapd.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "base/base64.h"
#include "base/log.h"
#include "imap/imap_arg.h"

/* Both states. LITERAL+ because the reader takes {n+} up to its limits. */
#define CAPS_COMMON "IMAP4rev1 IMAP4rev2 SASL-IR ID ENABLE IDLE LITERAL+"

void imapd_caps_prelogin(struct buf *out, int starttls, int plaintext_ok,
                         const char *const *mechs, size_t mech_count)
{
    buf_append_str(out, CAPS_COMMON);
    if (starttls)
        buf_append_str(out, " STARTTLS");
    for (size_t i = 0; i < mech_count; i++)
        buf_appendf(out, " AUTH=%s", mechs[i]);
    if (!plaintext_ok)
        buf_append_str(out, " LOGINDISABLED");
}

/* The extensions a logged-in session has. The storage commands
 * (UIDPLUS, MOVE, CONDSTORE, ...) join this list as their command
 * groups land in the worker's table (cmd_table.c). */
void imapd_caps_postlogin(struct buf *out, int compress_active)
{
    buf_append_str(out, CAPS_COMMON " NAMESPACE UTF8=ACCEPT CONDSTORE QRESYNC");
    if (!compress_active)
        buf_append_str(out, " COMPRESS=DEFLATE");
}

void imapd_id_response(struct buf *out)
{
    buf_append_str(
        out, "* ID (\"name\" \"Postern\" \"version\" \"" POSTERN_VERSION "\")");
}

void imapd_log_safe(struct buf *out, const char *text)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        if (++n > 64) {
            buf_append_str(out, "...");
            return;
        }
        int bad = *p <= ' ' || *p >= 127 || strchr("<>,()\"'[]\\", *p);
        buf_append_char(out, bad ? '?' : (char)*p);
    }
}

/* At most 16 pairs; the rest is cut off (RFC 2971 allows 30). */
void imapd_log_client_id(const char *component, const struct imap_arg *args,
                         size_t count)
{
    if (count != 1 || args[0].type != IMAP_ARG_LIST)
        return;
    const struct imap_arg *list = args[0].list;
    struct buf line = BUF_INIT;
    for (size_t i = 0; i + 1 < args[0].count && i < 32; i += 2) {
        const char *key, *value;
        size_t key_len, value_len;
        if (imap_arg_string(&list[i], &key, &key_len) < 0 ||
            imap_arg_nstring(&list[i + 1], &value, &value_len) < 0)
            break;
        if (line.len)
            buf_append_str(&line, ", ");
        imapd_log_safe(&line, key);
        buf_append_char(&line, '=');
        imapd_log_safe(&line, value ? value : "NIL");
    }
    if (line.len)
        imapd_log(component, "ID sent: %s", buf_cstr(&line));
    buf_free(&line);
}

void imapd_log(const char *component, const char *fmt, ...)
{
    struct buf text = BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    buf_vappendf(&text, fmt, ap);
    va_end(ap);
    if (imapd_var.log_ident && *imapd_var.log_ident)
        log_info_ident(imapd_var.log_ident, "%s: %s", component,
                       buf_cstr(&text));
    else
        log_info("%s", buf_cstr(&text));
    buf_free(&text);
}

void imapd_session_id(char out[17])
{
    unsigned char raw[12];
    if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
        memset(raw, 0, sizeof(raw));
    struct buf text = BUF_INIT;
    base64_encode(raw, sizeof(raw), &text);
    snprintf(out, 17, "%s", buf_cstr(&text));
    buf_free(&text);
}
