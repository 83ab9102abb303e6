/* dsn.c: delivery status values, reply parsing and Postfix-shaped
 * delivery log fragments (see dsn.h). */
#include "message/dsn.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/mem.h"
#include "base/str.h"
#include "base/xtext.h"

#define MILLION 1000000L

/* Length of a valid status code at the start of str[0..len), 0 when
 * there is none. The code must be followed by the end of the input or
 * by a character that cannot continue it. */
static size_t status_span(const char *str, size_t len)
{
    size_t pos = 0;
    if (len < 5 || (str[0] != '2' && str[0] != '4' && str[0] != '5') ||
        str[1] != '.')
        return 0;
    pos = 2;
    for (int part = 0; part < 2; part++) {
        size_t digits = 0;
        while (pos < len && str[pos] >= '0' && str[pos] <= '9' && digits < 4) {
            pos++;
            digits++;
        }
        if (digits == 0 || digits > 3)
            return 0;
        if (part == 0) {
            if (pos >= len || str[pos] != '.')
                return 0;
            pos++;
        }
    }
    /* "5.1.1x" or "5.1.1.2" is not a status code followed by text. */
    if (pos < len && str[pos] != ' ' && str[pos] != '\t' && str[pos] != '\r' &&
        str[pos] != '\n')
        return 0;
    return pos;
}

int dsn_status_valid(const char *str)
{
    if (str == NULL)
        return 0;
    size_t len = strnlen(str, DSN_STATUS_MAX + 1);
    return len > 0 && len <= DSN_STATUS_MAX && status_span(str, len) == len;
}

enum dsn_class dsn_status_class(const char *status)
{
    if (!dsn_status_valid(status))
        return DSN_CLASS_INVALID;
    return (enum dsn_class)(status[0] - '0');
}

static char *dup_or_null(const char *str)
{
    return str ? xstrdup(str) : NULL;
}

int dsn_set(struct dsn *d, const char *status, int action, const char *reason,
            const char *mta_type, const char *mta_name, const char *diag_type,
            const char *diag_text)
{
    enum dsn_class cls = dsn_status_class(status);
    if (cls == DSN_CLASS_INVALID)
        return -1;
    if (action < 0 || action > DSN_ACTION_EXPANDED)
        action = cls == DSN_CLASS_SUCCESS ? DSN_ACTION_DELIVERED
                 : cls == DSN_CLASS_DEFER ? DSN_ACTION_DELAYED
                                          : DSN_ACTION_FAILED;
    memset(d, 0, sizeof(*d));
    str_copy(d->status, status, sizeof(d->status));
    d->action = (enum dsn_action)action;
    d->reason = xstrdup(reason ? reason : "");
    d->mta_type = dup_or_null(mta_type);
    d->mta_name = dup_or_null(mta_name);
    d->diag_type = dup_or_null(diag_type);
    d->diag_text = dup_or_null(diag_text);
    return 0;
}

void dsn_copy(struct dsn *dst, const struct dsn *src)
{
    memcpy(dst->status, src->status, sizeof(dst->status));
    dst->action = src->action;
    dst->reason = xstrdup(src->reason ? src->reason : "");
    dst->mta_type = dup_or_null(src->mta_type);
    dst->mta_name = dup_or_null(src->mta_name);
    dst->diag_type = dup_or_null(src->diag_type);
    dst->diag_text = dup_or_null(src->diag_text);
}

void dsn_free(struct dsn *d)
{
    free(d->reason);
    free(d->mta_type);
    free(d->mta_name);
    free(d->diag_type);
    free(d->diag_text);
    memset(d, 0, sizeof(*d));
}

enum dsn_class dsn_class(const struct dsn *d)
{
    return dsn_status_class(d->status);
}

static const char *const action_names[] = {
    [DSN_ACTION_FAILED] = "failed",       [DSN_ACTION_DELAYED] = "delayed",
    [DSN_ACTION_DELIVERED] = "delivered", [DSN_ACTION_RELAYED] = "relayed",
    [DSN_ACTION_EXPANDED] = "expanded",
};

const char *dsn_action_name(enum dsn_action action)
{
    if ((int)action < 0 || action > DSN_ACTION_EXPANDED)
        return "failed";
    return action_names[action];
}

int dsn_action_parse(const char *name)
{
    for (int i = 0; i <= DSN_ACTION_EXPANDED; i++)
        if (str_equal_nocase(name, action_names[i]))
            return i;
    return -1;
}

const char *dsn_status_word(enum dsn_class cls)
{
    switch (cls) {
    case DSN_CLASS_SUCCESS:
        return "sent";
    case DSN_CLASS_DEFER:
        return "deferred";
    default:
        return "bounced";
    }
}

int dsn_parse_reply(const char *reply, size_t len, struct dsn_reply *out)
{
    memset(out, 0, sizeof(*out));
    if (reply == NULL)
        return -1;
    /* Only the first line counts; a multi-line reply repeats the code. */
    const char *eol = memchr(reply, '\n', len);
    if (eol)
        len = (size_t)(eol - reply);
    const char *cr = memchr(reply, '\r', len);
    if (cr)
        len = (size_t)(cr - reply);

    if (len < 3 || reply[0] < '2' || reply[0] > '5' || reply[1] < '0' ||
        reply[1] > '9' || reply[2] < '0' || reply[2] > '9')
        return -1;
    if (len > 3 && reply[3] != ' ' && reply[3] != '-')
        return -1;
    out->code =
        (reply[0] - '0') * 100 + (reply[1] - '0') * 10 + (reply[2] - '0');

    size_t pos = len > 3 ? 4 : 3;
    while (pos < len && reply[pos] == ' ')
        pos++;
    size_t span = status_span(reply + pos, len - pos);
    /* A 3xx reply (354 after DATA) is positive: its class is success. */
    char cls = reply[0] == '3' ? '2' : reply[0];
    if (span > 0 && span <= DSN_STATUS_MAX && reply[pos] == cls) {
        memcpy(out->status, reply + pos, span);
        out->status[span] = 0;
        out->status_given = 1;
        pos += span;
        while (pos < len && (reply[pos] == ' ' || reply[pos] == '\t'))
            pos++;
    } else {
        /* No usable code, or one contradicting the reply code: the
         * reply code's class is what the server meant to say. */
        out->status[0] = cls;
        memcpy(out->status + 1, ".0.0", 5);
        out->status_given = 0;
    }
    out->text_offset = pos;
    return 0;
}

int dsn_notify_parse(const char *value)
{
    static const struct {
        const char *name;
        int bit;
    } words[] = {{"SUCCESS", DSN_NOTIFY_SUCCESS},
                 {"FAILURE", DSN_NOTIFY_FAILURE},
                 {"DELAY", DSN_NOTIFY_DELAY},
                 {"NEVER", DSN_NOTIFY_NEVER}};
    int mask = 0;
    const char *p = value ? value : "";
    for (;;) {
        size_t len = strcspn(p, ",");
        int bit = 0;
        for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
            if (len == strlen(words[i].name) &&
                strncasecmp(p, words[i].name, len) == 0)
                bit = words[i].bit;
        if (bit == 0 || (mask & bit))
            return -1;
        mask |= bit;
        if (p[len] == 0)
            break;
        p += len + 1;
    }
    if ((mask & DSN_NOTIFY_NEVER) && mask != DSN_NOTIFY_NEVER)
        return -1;
    return mask;
}

int dsn_ret_parse(const char *value)
{
    if (value && str_equal_nocase(value, "FULL"))
        return 1;
    if (value && str_equal_nocase(value, "HDRS"))
        return 2;
    return -1;
}

int dsn_orcpt_parse(const char *value, struct buf *out)
{
    const char *semi = value ? strchr(value, ';') : NULL;
    if (semi == NULL || semi == value)
        return -1;
    /* addr-type is an atom (RFC 3461 4.2): letters, digits, '-'. */
    for (const char *p = value; p < semi; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
              (*p >= '0' && *p <= '9') || *p == '-'))
            return -1;
    buf_reset(out);
    buf_append(out, value, (size_t)(semi - value) + 1);
    if (xtext_decode(semi + 1, strlen(semi + 1), out, XTEXT_REFUSE_CONTROL) != 0 || semi[1] == 0)
        return -1;
    return 0;
}

void dsn_format_interval(struct buf *out, long sec, long usec, int resolution)
{
    static const long pow10[] = {1, 10, 100, 1000, 10000, 100000, MILLION};
    const int significant = 2;

    if (resolution < 0)
        resolution = 0;
    if (resolution > 6)
        resolution = 6;
    if (usec < 0 || usec >= MILLION) {
        sec += usec / MILLION;
        usec %= MILLION;
        if (usec < 0) {
            usec += MILLION;
            sec -= 1;
        }
    }
    if (sec < 0)
        sec = usec = 0;

    /* step: the smallest amount shown, in microseconds. Whole seconds
     * use up significant digits: 1-9 s keep one decimal, 10 s and more
     * none; below one second, two significant digits, but never finer
     * than the resolution allows. */
    long step = MILLION / pow10[resolution];
    if (step < MILLION) {
        if (sec > 0) {
            long magnitude = 1;
            while (sec >= magnitude && magnitude <= pow10[significant - 1])
                magnitude *= 10;
            step = MILLION / pow10[significant] * magnitude;
        } else {
            while (usec >= pow10[significant] * step)
                step *= 10;
        }
    }
    if (step > 1) {
        usec += step / 2; /* round half up */
        if (usec >= MILLION) {
            sec += 1;
            usec -= MILLION;
        }
    }
    buf_appendf(out, "%ld", sec);
    if (usec >= step) {
        buf_append_char(out, '.');
        long rest = usec;
        for (long place = MILLION / 10; place > 0 && rest >= step;
             place /= 10) {
            buf_append_char(out, (char)('0' + rest / place));
            rest %= place;
        }
    }
}

/* Appends str with control characters replaced, so that text from a
 * remote server or an envelope cannot break the log line. */
static void append_printable(struct buf *out, const char *str)
{
    for (const unsigned char *p = (const unsigned char *)str; *p; p++)
        buf_append_char(out, *p < 0x20 || *p == 0x7f ? '?' : (char)*p);
}

struct interval {
    long sec, usec;
};

static struct interval interval_between(const struct timeval *later,
                                        const struct timeval *earlier)
{
    struct interval iv;
    iv.sec = (long)(later->tv_sec - earlier->tv_sec);
    iv.usec = (long)(later->tv_usec - earlier->tv_usec);
    while (iv.usec < 0) {
        iv.usec += MILLION;
        iv.sec -= 1;
    }
    while (iv.usec >= MILLION) {
        iv.usec -= MILLION;
        iv.sec += 1;
    }
    if (iv.sec < 0) /* the clock went back */
        iv.sec = iv.usec = 0;
    return iv;
}

void dsn_format_log(struct buf *out, const char *rcpt, const char *orig,
                    const char *relay, const struct dsn_stamps *stamps,
                    const struct timeval *now, int resolution,
                    const struct dsn *d, const char *status_word)
{
    buf_append_str(out, "to=<");
    append_printable(out, rcpt ? rcpt : "");
    buf_append_char(out, '>');
    if (orig && *orig && (rcpt == NULL || !str_equal_nocase(orig, rcpt))) {
        buf_append_str(out, ", orig_to=<");
        append_printable(out, orig);
        buf_append_char(out, '>');
    }
    buf_append_str(out, ", relay=");
    append_printable(out, relay && *relay ? relay : "none");
    if (stamps->reuse_count > 0)
        buf_appendf(out, ", conn_use=%d", stamps->reuse_count + 1);

    /* Postfix's accounting: a missing stamp means that stage did not
     * happen, and the time up to now is charged to the last stage that
     * did (bounced before qmgr, deferred by qmgr, no network client). */
    struct timeval end = stamps->done.tv_sec > 0 ? stamps->done : *now;
    struct interval total = interval_between(&end, &stamps->arrival);
    struct interval before_qmgr, in_qmgr = {0, 0}, setup = {0, 0},
                                 transfer = {0, 0};
    if (stamps->active.tv_sec > 0) {
        before_qmgr = interval_between(&stamps->active, &stamps->arrival);
        if (stamps->handoff.tv_sec > 0) {
            in_qmgr = interval_between(&stamps->handoff, &stamps->active);
            if (stamps->conn_setup.tv_sec > 0) {
                setup = interval_between(&stamps->conn_setup, &stamps->handoff);
                transfer = interval_between(&end, &stamps->conn_setup);
            } else {
                transfer = interval_between(&end, &stamps->handoff);
            }
        } else {
            in_qmgr = interval_between(&end, &stamps->active);
        }
    } else {
        before_qmgr = interval_between(&end, &stamps->arrival);
    }
    buf_append_str(out, ", delay=");
    dsn_format_interval(out, total.sec, total.usec, resolution);
    buf_append_str(out, ", delays=");
    dsn_format_interval(out, before_qmgr.sec, before_qmgr.usec, resolution);
    buf_append_char(out, '/');
    dsn_format_interval(out, in_qmgr.sec, in_qmgr.usec, resolution);
    buf_append_char(out, '/');
    dsn_format_interval(out, setup.sec, setup.usec, resolution);
    buf_append_char(out, '/');
    dsn_format_interval(out, transfer.sec, transfer.usec, resolution);

    buf_append_str(out, ", dsn=");
    buf_append_str(out, dsn_status_valid(d->status) ? d->status : "4.0.0");
    buf_append_str(out, ", status=");
    buf_append_str(out,
                   status_word ? status_word : dsn_status_word(dsn_class(d)));
    buf_append_str(out, " (");
    append_printable(out, d->reason ? d->reason : "");
    buf_append_char(out, ')');
}
