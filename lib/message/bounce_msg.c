/* bounce_msg.c: writes RFC 3464 delivery status notifications (see
 * bounce_msg.h for the shape, docs/bounces.md for the decisions).
 *
 * Output goes through a small staging buffer that is flushed to the
 * caller's writer; the original message is copied chunk by chunk with
 * its line ends normalised, so memory use does not grow with it. */
#include "message/bounce_msg.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "base/log.h"
#include "base/mem.h"
#include "base/str.h"

#define FLUSH_AT 16384    /* staged bytes before a write */
#define CHUNK_SIZE 16384  /* bytes of the original per read */
#define FOLD_COLUMN 78    /* preferred line length (RFC 5322 2.1.1) */
#define LONGEST_TOKEN 900 /* a word is split beyond this (998 max) */
#define BOUNDARY_MAX 70   /* RFC 2046 5.1.1 */

struct out {
    bounce_write_fn write;
    void *ctx;
    struct buf stage;
    const char *eol;
    int failed;
};

static void out_flush(struct out *o)
{
    if (o->stage.len > 0 && !o->failed &&
        o->write(o->ctx, o->stage.data, o->stage.len) != 0)
        o->failed = 1;
    buf_reset(&o->stage);
}

static void out_bytes(struct out *o, const char *data, size_t len)
{
    buf_append(&o->stage, data, len);
    if (o->stage.len >= FLUSH_AT)
        out_flush(o);
}

static void out_str(struct out *o, const char *str)
{
    out_bytes(o, str, strlen(str));
}

static void out_eol(struct out *o)
{
    out_str(o, o->eol);
}

static void out_line(struct out *o, const char *str)
{
    out_str(o, str);
    out_eol(o);
}

/* Copies str into dst with every control character (CR and LF
 * included) turned into a space: values from the envelope or a remote
 * server must not start a header or a line of their own. */
static void clean_into(struct buf *dst, const char *str)
{
    buf_reset(dst);
    for (const unsigned char *p = (const unsigned char *)(str ? str : ""); *p;
         p++)
        buf_append_char(dst, *p < 0x20 || *p == 0x7f ? ' ' : (char)*p);
}

static int has_8bit(const char *str)
{
    for (const unsigned char *p = (const unsigned char *)(str ? str : ""); *p;
         p++)
        if (*p >= 0x80)
            return 1;
    return 0;
}

/* Writes first + value as lines of at most FOLD_COLUMN columns where the
 * words allow, breaking before a space; each continuation line starts
 * with cont (" " folds a header field, "    " indents text). A word
 * longer than LONGEST_TOKEN is split, so no line exceeds 998 bytes. */
static void out_folded(struct out *o, const char *first, const char *value,
                       const char *cont)
{
    struct buf clean = BUF_INIT;
    clean_into(&clean, value);
    size_t col = strlen(first), cont_len = strlen(cont);
    int words_on_line = 0;
    out_str(o, first);
    const char *p = clean.data;
    while (*p) {
        const char *word = p;
        while (*word == ' ')
            word++;
        if (*word == 0)
            break;
        size_t spaces = (size_t)(word - p);
        size_t word_len = strcspn(word, " ");
        if (word_len > LONGEST_TOKEN)
            word_len = LONGEST_TOKEN;
        /* Break before the spaces, never before a line's first word. */
        if (words_on_line > 0 && col + spaces + word_len > FOLD_COLUMN) {
            out_eol(o);
            out_str(o, cont);
            col = cont_len;
            spaces = 0;
        }
        if (spaces > 0) {
            out_bytes(o, p, spaces);
            col += spaces;
        }
        out_bytes(o, word, word_len);
        col += word_len;
        words_on_line++;
        p = word + word_len;
        if (*p != ' ' && *p != 0) {
            /* The rest of an over-long word goes on the next line. */
            col = FOLD_COLUMN + 1;
        }
    }
    out_eol(o);
    buf_free(&clean);
}

/* A header field "Name: value", folded. */
static void out_field(struct out *o, const char *name, const char *value)
{
    char first[64];
    snprintf(first, sizeof(first), "%s:%s", name, *value ? " " : "");
    out_folded(o, first, value, " ");
}

static void out_fieldf(struct out *o, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void out_fieldf(struct out *o, const char *name, const char *fmt, ...)
{
    struct buf value = BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    buf_vappendf(&value, fmt, ap);
    va_end(ap);
    out_field(o, name, buf_cstr(&value));
    buf_free(&value);
}

static const char *const day_names[] = {"Sun", "Mon", "Tue", "Wed",
                                        "Thu", "Fri", "Sat"};
static const char *const month_names[] = {"Jan", "Feb", "Mar", "Apr",
                                          "May", "Jun", "Jul", "Aug",
                                          "Sep", "Oct", "Nov", "Dec"};

void bounce_format_date(struct buf *out, time_t when)
{
    struct tm tm;
    if (localtime_r(&when, &tm) == NULL)
        gmtime_r(&when, &tm);
    long offset = tm.tm_gmtoff / 60;
    char sign = offset < 0 ? '-' : '+';
    if (offset < 0)
        offset = -offset;
    buf_appendf(out, "%s, %d %s %d %02d:%02d:%02d %c%02ld%02ld",
                day_names[tm.tm_wday % 7], tm.tm_mday,
                month_names[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour,
                tm.tm_min, tm.tm_sec, sign, offset / 60, offset % 60);
    if (tm.tm_zone && *tm.tm_zone && strlen(tm.tm_zone) < 16 &&
        strspn(tm.tm_zone,
               "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
               "abcdefghijklmnopqrstuvwxyz0123456789+-") == strlen(tm.tm_zone))
        buf_appendf(out, " (%s)", tm.tm_zone);
}

static const char *date_str(struct buf *scratch, time_t when)
{
    buf_reset(scratch);
    bounce_format_date(scratch, when);
    return buf_cstr(scratch);
}

/* Random hex for the boundary and Message-ID: a boundary that cannot be
 * guessed cannot occur inside the (streamed, unscanned) original. */
static void append_random_hex(struct buf *out, size_t bytes)
{
    unsigned char raw[16];
    static unsigned long counter;
    if (bytes > sizeof(raw))
        bytes = sizeof(raw);
    if (getrandom(raw, bytes, GRND_NONBLOCK) != (ssize_t)bytes) {
        /* No entropy yet (early boot): still unique per process. */
        unsigned long mix = (unsigned long)time(NULL) ^
                            ((unsigned long)getpid() << 16) ^ ++counter;
        for (size_t i = 0; i < bytes;
             i++, mix = mix * 6364136223846793005UL + 1)
            raw[i] = (unsigned char)(mix >> 33);
    }
    for (size_t i = 0; i < bytes; i++)
        buf_appendf(out, "%02x", raw[i]);
}

/* Keeps only characters that are safe in a boundary or a Message-ID. */
static void append_token(struct buf *out, const char *str, const char *extra)
{
    for (const char *p = str ? str : ""; *p; p++) {
        char c = *p;
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                 (c >= '0' && c <= '9') || (c && strchr(extra, c));
        buf_append_char(out, ok ? c : '_');
    }
}

/* How much of the original goes into part 3. */
enum original_mode { ORIGINAL_NONE, ORIGINAL_FULL, ORIGINAL_HEADERS };

static enum original_mode original_mode(const struct bounce_notice *n)
{
    if (n->read_original == NULL)
        return ORIGINAL_NONE;
    /* RET applies to failures; delay and success notices return the
     * header only (RFC 3461 4.3, as Postfix does). */
    if (n->kind != BOUNCE_FAILURE || n->ret == BOUNCE_RET_HDRS)
        return ORIGINAL_HEADERS;
    if (n->size_limit > 0 &&
        (n->original_size < 0 || n->original_size > n->size_limit))
        return ORIGINAL_HEADERS;
    return ORIGINAL_FULL;
}

static int original_too_large(const struct bounce_notice *n)
{
    return n->kind == BOUNCE_FAILURE && n->ret != BOUNCE_RET_HDRS &&
           original_mode(n) == ORIGINAL_HEADERS;
}

const char *bounce_msg_subject(enum bounce_kind kind)
{
    switch (kind) {
    case BOUNCE_DELAY:
        return "Delayed Mail (still being retried)";
    case BOUNCE_SUCCESS:
        return "Successful Mail Delivery Report";
    default:
        return "Undelivered Mail Returned to Sender";
    }
}

void bounce_format_duration(struct buf *out, time_t seconds)
{
    if (seconds < 0)
        seconds = 0;
    if (seconds >= 2 * 86400)
        buf_appendf(out, "%lld days", (long long)(seconds / 86400));
    else if (seconds >= 2 * 3600)
        buf_appendf(out, "%lld hours", (long long)(seconds / 3600));
    else if (seconds >= 120)
        buf_appendf(out, "%lld minutes", (long long)(seconds / 60));
    else
        buf_appendf(out, "%lld seconds", (long long)seconds);
}

/* Part 1: the explanation for a human reader, below its header. The
 * wording follows the tone of Postfix's notices in our own words. vars
 * (postconf -t) replace what is computed per message. */
static void write_text_body(struct out *o, const struct bounce_notice *n,
                            const struct bounce_text_vars *vars,
                            const char *host, enum original_mode mode,
                            time_t now)
{
    struct buf scratch = BUF_INIT, line = BUF_INIT;
    const char *delayed_for = vars ? vars->delayed_for : NULL;
    const char *retry_until = vars ? vars->retry_until : NULL;

    buf_appendf(&line, "This is the mail delivery system at host %s.", host);
    out_folded(o, "", buf_cstr(&line), "");
    out_line(o, "");
    switch (n->kind) {
    case BOUNCE_FAILURE:
        out_line(o, "Your message could not be delivered to one or more of "
                    "its recipients.");
        out_line(o, "The reason for each is given below.");
        if (mode == ORIGINAL_FULL)
            out_line(o, "Your message is attached.");
        else if (mode == ORIGINAL_HEADERS && original_too_large(n))
            out_line(o, "Your message was too large to return in full: "
                        "its header is attached.");
        else if (mode == ORIGINAL_HEADERS)
            out_line(o, "The header of your message is attached.");
        out_line(o, "");
        out_line(o, "If you need help, write to the postmaster of this "
                    "site and include");
        if (mode == ORIGINAL_FULL)
            out_line(o, "this report. You may delete your own text from the "
                        "attached message.");
        else
            out_line(o, "this report.");
        break;
    case BOUNCE_DELAY:
        out_line(o, "*** This is a warning only: you do not need to send "
                    "your message again. ***");
        out_line(o, "");
        buf_reset(&line);
        buf_append_str(&line, "Your message has not yet been delivered to "
                              "one or more of its recipients");
        if (delayed_for) {
            buf_appendf(&line, ": delivery has been delayed for %s",
                        delayed_for);
        } else if (n->arrival > 0) {
            buf_append_str(&line, ": delivery has been delayed for ");
            bounce_format_duration(&line, now - n->arrival);
        }
        buf_append_str(&line, ". The mail system will keep trying");
        if (retry_until)
            buf_appendf(&line, " until %s", retry_until);
        else if (n->retry_until > 0)
            buf_appendf(&line, " until %s", date_str(&scratch, n->retry_until));
        buf_append_str(&line, ", and will tell you if it gives up.");
        out_folded(o, "", buf_cstr(&line), "");
        out_line(o, "");
        out_line(o, "The reason for each delay is given below.");
        if (mode != ORIGINAL_NONE)
            out_line(o, "The header of your message is attached.");
        break;
    case BOUNCE_SUCCESS:
        out_line(o, "Your message was delivered to the recipients below, "
                    "as you asked.");
        out_line(o, "A recipient marked relayed or expanded was passed on "
                    "to a system");
        out_line(o, "or to addresses that may not send reports of their "
                    "own.");
        if (mode != ORIGINAL_NONE)
            out_line(o, "The header of your message is attached.");
        break;
    }
    out_line(o, "");
    buf_reset(&line);
    buf_appendf(&line, "The %s program",
                n->mail_name && *n->mail_name ? n->mail_name : "Postern");
    out_folded(o, "                   ", buf_cstr(&line), "");
    out_line(o, "");

    for (size_t i = 0; i < n->rcpt_count; i++) {
        const struct bounce_rcpt *r = &n->rcpts[i];
        buf_reset(&line);
        buf_appendf(&line, "<%s>", r->address ? r->address : "");
        if (r->orig_address && *r->orig_address && r->address &&
            !str_equal_nocase(r->orig_address, r->address))
            buf_appendf(&line, " (expanded from <%s>)", r->orig_address);
        buf_appendf(&line, ": %s",
                    r->dsn->reason && *r->dsn->reason
                        ? r->dsn->reason
                        : dsn_action_name(r->dsn->action));
        out_folded(o, "", buf_cstr(&line), "    ");
    }
    buf_free(&scratch);
    buf_free(&line);
}

static void write_text_part(struct out *o, const struct bounce_notice *n,
                            const char *host, enum original_mode mode,
                            time_t now)
{
    out_fieldf(o, "Content-Description", "Notification");
    out_line(o, "");
    write_text_body(o, n, NULL, host, mode, now);
}

static int write_to_buf(void *ctx, const char *data, size_t len)
{
    buf_append((struct buf *)ctx, data, len);
    return 0;
}

void bounce_msg_text(const struct bounce_notice *n,
                     const struct bounce_text_vars *vars, struct buf *out)
{
    struct out o = {write_to_buf, out, BUF_INIT, "\n", 0};
    struct buf host = BUF_INIT;
    clean_into(&host, n->myhostname);
    write_text_body(&o, n, vars, buf_cstr(&host), original_mode(n),
                    n->now ? n->now : time(NULL));
    out_flush(&o);
    buf_free(&o.stage);
    buf_free(&host);
}

/* "rfc822; addr" or, for an address that needs RFC 6533, "utf-8; addr". */
static void append_typed_address(struct buf *out, const char *addr)
{
    buf_appendf(out, "%s; %s", has_8bit(addr) ? "utf-8" : "rfc822",
                addr ? addr : "");
}

/* Part 2: the machine-readable report (RFC 3464 section 2). */
static void write_status_part(struct out *o, const struct bounce_notice *n,
                              const char *host, time_t now)
{
    struct buf scratch = BUF_INIT, value = BUF_INIT;

    out_field(o, "Content-Description", "Delivery report");
    out_line(o, "");
    /* Per-message fields, in the order of the RFC's grammar: extension
     * (X-) fields come last. */
    if (n->envid && *n->envid)
        out_field(o, "Original-Envelope-Id", n->envid);
    out_fieldf(o, "Reporting-MTA", "dns; %s", host);
    if (n->arrival > 0)
        out_field(o, "Arrival-Date", date_str(&scratch, n->arrival));
    if (n->queue_id && *n->queue_id)
        out_field(o, "X-Postern-Queue-ID", n->queue_id);
    buf_reset(&value);
    append_typed_address(&value, n->sender);
    out_field(o, "X-Postern-Sender", buf_cstr(&value));

    for (size_t i = 0; i < n->rcpt_count; i++) {
        const struct bounce_rcpt *r = &n->rcpts[i];
        const struct dsn *d = r->dsn;
        out_line(o, "");
        if (r->orcpt && *r->orcpt) {
            const char *semi = strchr(r->orcpt, ';');
            buf_reset(&value);
            if (semi && semi > r->orcpt) {
                buf_append(&value, r->orcpt, (size_t)(semi - r->orcpt));
                buf_append_str(&value, "; ");
                const char *addr = semi + 1;
                while (*addr == ' ')
                    addr++;
                buf_append_str(&value, addr);
            } else {
                append_typed_address(&value, semi ? semi + 1 : r->orcpt);
            }
            out_field(o, "Original-Recipient", buf_cstr(&value));
        }
        buf_reset(&value);
        append_typed_address(&value, r->address);
        out_field(o, "Final-Recipient", buf_cstr(&value));
        out_field(o, "Action", dsn_action_name(d->action));
        const char *status = d->status;
        if (!dsn_status_valid(status))
            status = n->kind == BOUNCE_FAILURE ? "5.0.0"
                     : n->kind == BOUNCE_DELAY ? "4.0.0"
                                               : "2.0.0";
        out_field(o, "Status", status);
        if (d->mta_name && *d->mta_name)
            out_fieldf(o, "Remote-MTA", "%s; %s",
                       d->mta_type && *d->mta_type ? d->mta_type : "dns",
                       d->mta_name);
        if (d->diag_text && *d->diag_text)
            out_fieldf(o, "Diagnostic-Code", "%s; %s",
                       d->diag_type && *d->diag_type ? d->diag_type : "smtp",
                       d->diag_text);
        else if (d->reason && *d->reason)
            out_fieldf(o, "Diagnostic-Code", "X-Postern; %s", d->reason);
        out_field(
            o, "Last-Attempt-Date",
            date_str(&scratch, r->last_attempt > 0 ? r->last_attempt : now));
        if (n->kind == BOUNCE_DELAY && n->retry_until > 0 &&
            d->action == DSN_ACTION_DELAYED)
            out_field(o, "Will-Retry-Until",
                      date_str(&scratch, n->retry_until));
    }
    buf_free(&scratch);
    buf_free(&value);
}

/* Copies the original into the output, normalising CRLF and LF line ends
 * to o->eol. In header mode it stops at the empty line that ends the
 * header (not copied) or after BOUNCE_HEADER_LIMIT bytes at a line end.
 * Returns 0, or -1 when the reader fails. */
static int copy_original(struct out *o, const struct bounce_notice *n,
                         enum original_mode mode, struct buf *err)
{
    char *chunk = xmalloc(CHUNK_SIZE);
    int line_start = 1, pending_cr = 0, done = 0, warned_8bit = 0;
    size_t copied = 0;
    int result = 0;

    while (!done) {
        ssize_t got = n->read_original(n->original_ctx, chunk, CHUNK_SIZE);
        if (got < 0) {
            buf_set_str(err, "cannot read the original message");
            result = -1;
            break;
        }
        if (got == 0)
            break;
        size_t len = (size_t)got, pos = 0;
        while (pos < len && !done) {
            if (pending_cr) {
                pending_cr = 0;
                if (chunk[pos] != '\n') { /* a bare CR stays as it is */
                    out_bytes(o, "\r", 1);
                    copied++;
                    line_start = 0;
                    continue;
                }
            }
            /* The run of ordinary bytes up to the next CR or LF. */
            size_t run = pos;
            while (run < len && chunk[run] != '\r' && chunk[run] != '\n')
                run++;
            if (run > pos) {
                if (!n->original_8bit && !warned_8bit)
                    for (size_t i = pos; i < run; i++)
                        if ((unsigned char)chunk[i] >= 0x80) {
                            warned_8bit = 1;
                            log_warn("%s: notice returns 8-bit data in a "
                                     "message not marked 8bit",
                                     n->queue_id ? n->queue_id : "bounce");
                            break;
                        }
                out_bytes(o, chunk + pos, run - pos);
                copied += run - pos;
                line_start = 0;
                pos = run;
                if (mode == ORIGINAL_HEADERS &&
                    copied >= 2 * (size_t)BOUNCE_HEADER_LIMIT) {
                    done = 1; /* one absurdly long line: cut it */
                    break;
                }
                continue;
            }
            if (chunk[pos] == '\r') {
                pending_cr = 1;
                pos++;
                continue;
            }
            /* A line end (LF, or the LF of a CRLF). */
            pos++;
            if (mode == ORIGINAL_HEADERS && line_start) {
                done = 1; /* the empty line that ends the header */
                break;
            }
            out_eol(o);
            copied++;
            line_start = 1;
            if (mode == ORIGINAL_HEADERS && copied >= BOUNCE_HEADER_LIMIT)
                done = 1;
        }
        if (o->failed)
            break;
    }
    if (result == 0 && pending_cr && !done) {
        out_bytes(o, "\r", 1);
        line_start = 0;
    }
    if (result == 0 && !line_start) /* the last line had no line end */
        out_eol(o);
    free(chunk);
    return result;
}

int bounce_msg_write(const struct bounce_notice *n, bounce_write_fn write,
                     void *ctx, struct buf *err)
{
    if (n->myhostname == NULL || *n->myhostname == 0) {
        buf_set_str(err, "bounce notice: myhostname is empty");
        return -1;
    }
    if (n->rcpt_count == 0 || n->rcpts == NULL) {
        buf_set_str(err, "bounce notice: no recipients to report");
        return -1;
    }
    for (size_t i = 0; i < n->rcpt_count; i++)
        if (n->rcpts[i].dsn == NULL || n->rcpts[i].address == NULL) {
            buf_set_str(err, "bounce notice: recipient without status");
            return -1;
        }
    const char *to = n->notify_to ? n->notify_to : n->sender;
    if (to == NULL || *to == 0) {
        buf_set_str(err, "bounce notice: no one to send it to (null "
                         "sender)");
        return -1;
    }

    struct out o = {write, ctx, BUF_INIT, n->crlf ? "\r\n" : "\n", 0};
    struct buf host = BUF_INIT, boundary = BUF_INIT, scratch = BUF_INIT;
    time_t now = n->now ? n->now : time(NULL);
    enum original_mode mode = original_mode(n);
    int result = 0;

    clean_into(&host, n->myhostname);

    /* What needs 8 bits decides the encodings, before anything is
     * written: envelope data under SMTPUTF8, and the original. */
    int text_8bit = has_8bit(n->sender) || has_8bit(n->myhostname);
    int status_8bit = has_8bit(n->sender) || has_8bit(n->envid);
    for (size_t i = 0; i < n->rcpt_count; i++) {
        const struct bounce_rcpt *r = &n->rcpts[i];
        int addr8 = has_8bit(r->address) || has_8bit(r->orcpt);
        int diag8 = has_8bit(r->dsn->reason) || has_8bit(r->dsn->diag_text) ||
                    has_8bit(r->dsn->mta_name);
        text_8bit |= addr8 || diag8 || has_8bit(r->orig_address);
        status_8bit |= addr8 || diag8;
    }
    int original_8bit = mode != ORIGINAL_NONE && n->original_8bit;
    int any_8bit = text_8bit || status_8bit || original_8bit;

    /* The boundary: queue id, time and randomness, host name last so
     * that truncation to 70 characters drops the least useful part. */
    append_token(&boundary, n->queue_id, "");
    buf_appendf(&boundary, ".%lld.", (long long)now);
    append_random_hex(&boundary, 8);
    buf_append_char(&boundary, '/');
    append_token(&boundary, buf_cstr(&host), ".-");
    buf_truncate(&boundary, BOUNDARY_MAX);

    /* Top-level header. */
    out_field(&o, "Date", date_str(&scratch, now));
    out_fieldf(&o, "From",
               "MAILER-DAEMON (Mail Delivery System) <MAILER-DAEMON@%s>",
               buf_cstr(&host));
    buf_reset(&scratch);
    if (n->postmaster_copy)
        buf_append_str(&scratch, "Postmaster Copy: ");
    buf_append_str(&scratch, bounce_msg_subject(n->kind));
    out_field(&o, "Subject", buf_cstr(&scratch));
    out_fieldf(&o, "To", "<%s>", to);
    out_field(&o, "Auto-Submitted", "auto-replied");
    buf_reset(&scratch);
    buf_append_char(&scratch, '<');
    struct tm tm;
    if (gmtime_r(&now, &tm) != NULL)
        buf_appendf(&scratch, "%04d%02d%02d%02d%02d%02d.", tm.tm_year + 1900,
                    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                    tm.tm_sec);
    append_random_hex(&scratch, 6);
    if (n->queue_id && *n->queue_id) {
        buf_append_char(&scratch, '.');
        append_token(&scratch, n->queue_id, "");
    }
    buf_append_char(&scratch, '@');
    append_token(&scratch, buf_cstr(&host), ".-");
    buf_append_char(&scratch, '>');
    out_field(&o, "Message-ID", buf_cstr(&scratch));
    out_field(&o, "MIME-Version", "1.0");
    out_fieldf(&o, "Content-Type",
               "multipart/report; report-type=delivery-status; "
               "boundary=\"%s\"",
               buf_cstr(&boundary));
    out_field(&o, "Content-Transfer-Encoding", any_8bit ? "8bit" : "7bit");
    out_line(&o, "");
    out_line(&o, "This is a MIME-encapsulated message.");

    /* Part 1: text. */
    out_line(&o, "");
    out_str(&o, "--");
    out_line(&o, buf_cstr(&boundary));
    out_field(&o, "Content-Type",
              text_8bit ? "text/plain; charset=utf-8"
                        : "text/plain; charset=us-ascii");
    if (text_8bit)
        out_field(&o, "Content-Transfer-Encoding", "8bit");
    write_text_part(&o, n, buf_cstr(&host), mode, now);

    /* Part 2: delivery status (RFC 6533's global form when addresses or
     * diagnostics need UTF-8). */
    out_line(&o, "");
    out_str(&o, "--");
    out_line(&o, buf_cstr(&boundary));
    out_field(&o, "Content-Type",
              status_8bit ? "message/global-delivery-status"
                          : "message/delivery-status");
    if (status_8bit)
        out_field(&o, "Content-Transfer-Encoding", "8bit");
    write_status_part(&o, n, buf_cstr(&host), now);

    /* Part 3: the original, or its header. */
    if (mode != ORIGINAL_NONE) {
        static const char *const descriptions[][2] = {
            [BOUNCE_FAILURE] = {"Undelivered Message",
                                "Undelivered Message Headers"},
            [BOUNCE_DELAY] = {"Delayed Message", "Delayed Message Headers"},
            [BOUNCE_SUCCESS] = {"Delivered Message",
                                "Delivered Message Headers"},
        };
        int kind = n->kind <= BOUNCE_SUCCESS ? (int)n->kind : 0;
        out_line(&o, "");
        out_str(&o, "--");
        out_line(&o, buf_cstr(&boundary));
        out_field(&o, "Content-Type",
                  mode == ORIGINAL_FULL ? "message/rfc822"
                                        : "text/rfc822-headers");
        out_field(&o, "Content-Description",
                  descriptions[kind][mode == ORIGINAL_HEADERS]);
        if (original_8bit)
            out_field(&o, "Content-Transfer-Encoding", "8bit");
        out_line(&o, "");
        result = copy_original(&o, n, mode, err);
    }
    if (result == 0) {
        out_line(&o, "");
        out_str(&o, "--");
        out_str(&o, buf_cstr(&boundary));
        out_line(&o, "--");
        out_flush(&o);
        if (o.failed) {
            buf_set_str(err, "cannot write the notice");
            result = -1;
        }
    }
    buf_free(&o.stage);
    buf_free(&host);
    buf_free(&boundary);
    buf_free(&scratch);
    return result;
}

int bounce_msg_to_buf(const struct bounce_notice *notice, struct buf *out,
                      struct buf *err)
{
    return bounce_msg_write(notice, write_to_buf, out, err);
}

ssize_t bounce_read_fd(void *ctx, char *dst, size_t cap)
{
    struct bounce_fd_source *src = ctx;
    if (src->end >= 0) {
        if (src->offset >= src->end)
            return 0;
        if ((off_t)cap > src->end - src->offset)
            cap = (size_t)(src->end - src->offset);
    }
    for (;;) {
        ssize_t got = pread(src->fd, dst, cap, src->offset);
        if (got < 0 && errno == EINTR)
            continue;
        if (got > 0)
            src->offset += got;
        return got < 0 ? -1 : got;
    }
}

ssize_t bounce_read_mem(void *ctx, char *dst, size_t cap)
{
    struct bounce_mem_source *src = ctx;
    size_t left = src->len - src->pos;
    if (cap > left)
        cap = left;
    memcpy(dst, src->data + src->pos, cap);
    src->pos += cap;
    return (ssize_t)cap;
}
