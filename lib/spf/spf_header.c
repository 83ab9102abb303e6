/* spf_header.c: SPF results as header text; see spf_header.h. */
#include "spf/spf_header.h"

#include <ctype.h>
#include <string.h>

/* RFC 5322 dot-atom text: atext and dots, not at the ends. */
static int is_dot_atom(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || s[0] == '.' || s[n - 1] == '.')
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!(isalnum(c) || strchr("!#$%&'*+-/=?^_`{|}~.", c)) ||
            (c == '.' && s[i + 1] == '.'))
            return 0;
    }
    return 1;
}

/* A dot-atom as is, anything else as a quoted-string; bytes that may not
 * appear in one (controls) are dropped. */
static void append_value(struct buf *out, const char *value)
{
    if (is_dot_atom(value)) {
        buf_append_str(out, value);
        return;
    }
    buf_append_char(out, '"');
    for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
        if (*p < 0x20 || *p == 0x7f)
            continue;
        if (*p == '"' || *p == '\\')
            buf_append_char(out, '\\');
        buf_append_char(out, (char)*p);
    }
    buf_append_char(out, '"');
}

/* Text inside a comment: parentheses and backslashes escaped. */
static void append_comment_text(struct buf *out, const char *text)
{
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        if (*p < 0x20 || *p == 0x7f)
            continue;
        if (*p == '(' || *p == ')' || *p == '\\')
            buf_append_char(out, '\\');
        buf_append_char(out, (char)*p);
    }
}

void spf_result_comment(const struct spf_request *req,
                        const struct spf_outcome *out, struct buf *text)
{
    struct buf ip = BUF_INIT;
    spf_ip_format(&req->ip, &ip);
    const char *who = buf_cstr(&out->sender);
    const char *what = req->identity == SPF_IDENTITY_HELO ? "HELO" : "domain";
    switch (out->result) {
    case SPF_PASS:
        buf_appendf(text, "%s of %s designates %s as permitted sender", what,
                    who, buf_cstr(&ip));
        break;
    case SPF_FAIL:
        buf_appendf(text, "%s of %s does not designate %s as permitted sender",
                    what, who, buf_cstr(&ip));
        break;
    case SPF_SOFTFAIL:
        buf_appendf(text,
                    "transitioning %s of %s does not designate %s as "
                    "permitted sender",
                    what, who, buf_cstr(&ip));
        break;
    case SPF_NEUTRAL:
        buf_appendf(text, "%s is neither permitted nor denied by %s of %s",
                    buf_cstr(&ip), what, who);
        break;
    case SPF_NONE:
        buf_appendf(text, "%s of %s does not designate permitted sender hosts",
                    what, who);
        break;
    case SPF_TEMPERROR:
        buf_appendf(text, "error in processing during lookup of %s: %s", who,
                    out->problem.len ? buf_cstr(&out->problem) : "DNS error");
        break;
    case SPF_PERMERROR:
        buf_appendf(text, "permanent error in processing domain of %s: %s",
                    who, out->problem.len ? buf_cstr(&out->problem)
                                          : "invalid record");
        break;
    }
    buf_free(&ip);
}

void spf_received_spf(const struct spf_request *req,
                      const struct spf_outcome *out, struct buf *field)
{
    const char *receiver = req->receiver ? req->receiver : "unknown";
    struct buf comment = BUF_INIT, ip = BUF_INIT;
    spf_result_comment(req, out, &comment);
    spf_ip_format(&req->ip, &ip);
    buf_appendf(field, "%s (%s: ", spf_result_name(out->result), receiver);
    append_comment_text(field, buf_cstr(&comment));
    buf_appendf(field, ") client-ip=%s; envelope-from=", buf_cstr(&ip));
    append_value(field, buf_cstr(&out->sender));
    buf_append_str(field, "; helo=");
    append_value(field, req->helo && req->helo[0] ? req->helo : "unknown");
    buf_append_str(field, "; receiver=");
    append_value(field, receiver);
    buf_appendf(field, "; identity=%s",
                req->identity == SPF_IDENTITY_HELO ? "helo" : "mailfrom");
    if (out->mechanism.len) {
        buf_append_str(field, "; mechanism=");
        append_value(field, buf_cstr(&out->mechanism));
    }
    if ((out->result == SPF_PERMERROR || out->result == SPF_TEMPERROR) &&
        out->problem.len) {
        buf_append_str(field, "; problem=");
        append_value(field, buf_cstr(&out->problem));
    }
    buf_free(&comment);
    buf_free(&ip);
}

void spf_auth_results(const struct spf_request *req,
                      const struct spf_outcome *out, struct buf *field)
{
    buf_appendf(field, "spf=%s ", spf_result_name(out->result));
    if (req->identity == SPF_IDENTITY_HELO) {
        buf_append_str(field, "smtp.helo=");
        append_value(field, req->helo ? req->helo : "");
    } else {
        buf_append_str(field, "smtp.mailfrom=");
        append_value(field, buf_cstr(&out->sender));
    }
}
