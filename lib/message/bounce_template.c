/* bounce_template.c: bounce(5) template files and Postern's notice
 * texts shown as templates (see bounce_template.h). */
#include "message/bounce_template.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "message/bounce_msg.h"
#include "config/config.h"
#include "base/mem.h"
#include "config/params.h"
#include "base/expand.h"
#include "base/file_read.h"

/* A template file is written by people; past this it is a mistake. */
#define TEMPLATE_FILE_MAX (1024 * 1024)

#define DEFAULT_FROM "MAILER-DAEMON (Mail Delivery System)"

static const char *const class_names[BOUNCE_TEMPLATE_COUNT] = {
    "failure", "delay", "success", "verify"};

const char *bounce_template_class_name(enum bounce_template_class cls)
{
    return cls < BOUNCE_TEMPLATE_COUNT ? class_names[cls] : "unknown";
}

static void template_clear(struct bounce_template *t)
{
    free(t->charset);
    free(t->from);
    free(t->subject);
    free(t->postmaster_subject);
    strlist_free(&t->text);
    memset(t, 0, sizeof(*t));
    strlist_init(&t->text);
}

void bounce_templates_free(struct bounce_templates *ts)
{
    for (int i = 0; i < BOUNCE_TEMPLATE_COUNT; i++)
        template_clear(&ts->t[i]);
}

/* The subject and postmaster subject Postern's notices use. */
static void builtin_headers(struct bounce_template *t,
                            enum bounce_template_class cls)
{
    enum bounce_kind kind = cls == BOUNCE_TEMPLATE_DELAY     ? BOUNCE_DELAY
                            : cls == BOUNCE_TEMPLATE_SUCCESS ? BOUNCE_SUCCESS
                                                             : BOUNCE_FAILURE;
    t->charset = xstrdup("us-ascii");
    t->from = xstrdup(DEFAULT_FROM);
    t->subject = xstrdup(bounce_msg_subject(kind));
    /* Postmaster copies go out for failures and delays only. */
    if (cls == BOUNCE_TEMPLATE_FAILURE || cls == BOUNCE_TEMPLATE_DELAY)
        t->postmaster_subject =
            xasprintf("Postmaster Copy: %s", bounce_msg_subject(kind));
}

/* Splits text into lines; trailing empty lines are dropped. */
static void set_text(struct bounce_template *t, const char *text)
{
    strlist_free(&t->text);
    strlist_init(&t->text);
    const char *p = text;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        char *line = xstrndup(p, len);
        strlist_add(&t->text, line);
        free(line);
        p += len + (nl ? 1 : 0);
    }
    while (t->text.count > 0 && *t->text.items[t->text.count - 1] == 0) {
        free(t->text.items[--t->text.count]);
        t->text.items[t->text.count] = NULL;
    }
}

/* "Now" for the sample notices: one moment per process, so that the
 * built-in texts and expanded template files show the same dates. */
static time_t sample_now(void)
{
    static time_t now;
    if (now == 0)
        now = time(NULL);
    return now;
}

/* The values a delay notice shows when it is sent delay_warning_time
 * after arrival (postconf -b). */
static void sample_delay(time_t now, struct buf *delayed_for,
                         struct buf *retry_until, time_t *arrival,
                         time_t *until)
{
    long warn_after = cfg_time("delay_warning_time");
    long lifetime = cfg_time("maximal_queue_lifetime");
    *arrival = now - warn_after;
    *until = *arrival + lifetime;
    if (delayed_for)
        bounce_format_duration(delayed_for, warn_after);
    if (retry_until)
        bounce_format_date(retry_until, *until);
}

void bounce_templates_builtin(struct bounce_templates *ts, int expanded)
{
    static const enum bounce_kind kinds[] = {BOUNCE_FAILURE, BOUNCE_DELAY,
                                             BOUNCE_SUCCESS};
    time_t now = sample_now();
    for (int cls = 0; cls < 3; cls++) {
        struct bounce_template *t = &ts->t[cls];
        template_clear(t);
        struct bounce_mem_source empty = {"", 0, 0};
        struct bounce_notice n;
        memset(&n, 0, sizeof(n));
        n.kind = kinds[cls];
        n.myhostname = expanded ? cfg_str("myhostname") : "$myhostname";
        n.mail_name = expanded ? cfg_str("mail_name") : "$mail_name";
        n.now = now;
        /* An original that can be returned whole: the usual text. */
        n.read_original = bounce_read_mem;
        n.original_ctx = &empty;
        n.original_size = 0;
        struct bounce_text_vars vars = {"$delayed_for", "$retry_until"};
        if (n.kind == BOUNCE_DELAY && expanded)
            sample_delay(now, NULL, NULL, &n.arrival, &n.retry_until);
        struct buf text = BUF_INIT;
        bounce_msg_text(&n, expanded ? NULL : &vars, &text);
        builtin_headers(t, (enum bounce_template_class)cls);
        set_text(t, buf_cstr(&text));
        t->present = 1;
        t->expanded = expanded;
        buf_free(&text);
    }
    template_clear(&ts->t[BOUNCE_TEMPLATE_VERIFY]);
}

/* ---- reading template files ---- */

static void warnf(void (*warn)(const char *), const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void warnf(void (*warn)(const char *), const char *fmt, ...)
{
    struct buf msg = BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    buf_vappendf(&msg, fmt, ap);
    va_end(ap);
    if (warn)
        warn(buf_cstr(&msg));
    buf_free(&msg);
}

/* Length of "Name:" at the start of line (name without the colon), or
 * 0 when the line is not a header. */
static size_t header_name_len(const char *line)
{
    size_t len = 0;
    while (line[len] > ' ' && line[len] < 0x7f && line[len] != ':')
        len++;
    return len > 0 && line[len] == ':' ? len : 0;
}

static int all_ascii(const char *text)
{
    for (; *text; text++)
        if ((unsigned char)*text >= 0x80)
            return 0;
    return 1;
}

/* Turns the text of one template into t. 0, or -1 after a warning
 * (the template is skipped). */
static int template_from_text(struct bounce_template *t,
                              enum bounce_template_class cls,
                              const char *text, const char *origin,
                              void (*warn)(const char *))
{
    const char *name = class_names[cls];
    template_clear(t);
    builtin_headers(t, cls);
    /* Split by hand: empty lines matter here. */
    struct strlist lines;
    strlist_init(&lines);
    for (const char *p = text;;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        char *line = xstrndup(p, len);
        strlist_add(&lines, line);
        free(line);
        if (nl == NULL)
            break;
        p = nl + 1;
    }
    size_t i = 0;
    int status = 0;
    size_t hlen;
    for (; status == 0 && i < lines.count &&
           (hlen = header_name_len(lines.items[i])) > 0;
         i++) {
        char *label = xstrndup(lines.items[i], hlen);
        const char *value = lines.items[i] + hlen + 1;
        while (isspace((unsigned char)*value))
            value++;
        char **slot = NULL;
        if (*value == 0) {
            warnf(warn, "%s: empty \"%s\" header value in %s template -- "
                        "ignoring this template", origin, label, name);
            status = -1;
        } else if (!all_ascii(value)) {
            warnf(warn, "%s: non-ASCII \"%s\" header value in %s template "
                        "-- ignoring this template", origin, label, name);
            status = -1;
        } else if (strcasecmp(label, "charset") == 0) {
            slot = &t->charset;
        } else if (strcasecmp(label, "from") == 0) {
            slot = &t->from;
        } else if (strcasecmp(label, "subject") == 0) {
            slot = &t->subject;
        } else if (strcasecmp(label, "postmaster-subject") == 0 &&
                   t->postmaster_subject != NULL) {
            slot = &t->postmaster_subject;
        } else {
            warnf(warn, "%s: %s \"%s\" header label in %s template -- "
                        "ignoring this template", origin,
                  strcasecmp(label, "postmaster-subject") == 0
                      ? "inapplicable"
                      : "unknown",
                  label, name);
            status = -1;
        }
        if (slot) {
            free(*slot);
            *slot = xstrdup(value);
            str_trim(*slot);
        }
        free(label);
    }
    while (status == 0 && i < lines.count &&
           strspn(lines.items[i], " \t\r") == strlen(lines.items[i]))
        i++;
    if (status == 0 && i >= lines.count) {
        warnf(warn, "%s: missing message text in %s template -- ignoring "
                    "this template", origin, name);
        status = -1;
    }
    int eight_bit = 0;
    for (size_t k = i; status == 0 && k < lines.count; k++)
        eight_bit |= !all_ascii(lines.items[k]);
    if (status == 0 && eight_bit && strcasecmp(t->charset, "us-ascii") == 0) {
        warnf(warn, "%s: 8-bit message text in %s template -- ignoring this "
                    "template (set a Charset other than us-ascii)",
              origin, name);
        status = -1;
    }
    for (; status == 0 && i < lines.count; i++)
        strlist_add(&t->text, lines.items[i]);
    strlist_free(&lines);
    if (status != 0) {
        template_clear(t);
        return -1;
    }
    t->present = 1;
    return 0;
}

int bounce_templates_parse(struct bounce_templates *ts, const char *text,
                           size_t len, const char *origin,
                           void (*warn)(const char *message), struct buf *err)
{
    struct bounce_templates found;
    memset(&found, 0, sizeof(found));
    struct buf value = BUF_INIT;
    int lineno = 0, status = 0;
    size_t pos = 0;
    if (memchr(text, 0, len)) {
        buf_appendf(err, "%s: NUL character in text", origin);
        return -1;
    }
    while (status == 0 && pos < len) {
        const char *start = text + pos;
        const char *nl = memchr(start, '\n', len - pos);
        size_t line_len = nl ? (size_t)(nl - start) : len - pos;
        pos += line_len + (nl ? 1 : 0);
        lineno++;
        char *line = xstrndup(start, line_len);
        char *p = line + strspn(line, " \t\r\f\v");
        if (*p == 0 || *p == '#') {
            free(line);
            continue;
        }
        int name_line = lineno;
        char *eq = strchr(p, '=');
        char *name_end = p + strcspn(p, " \t=");
        char *after_name = name_end + strspn(name_end, " \t");
        if (eq == NULL || after_name != eq || name_end == p) {
            buf_appendf(err, "%s, line %d: expected name = value: \"%.60s\"",
                        origin, lineno, p);
            free(line);
            status = -1;
            break;
        }
        *name_end = 0;
        char *v = eq + 1 + strspn(eq + 1, " \t");
        buf_reset(&value);
        if (v[0] == '<' && v[1] == '<') {
            char *marker = str_trim(v + 2);
            if (*marker == 0 || !isalnum((unsigned char)*marker)) {
                buf_appendf(err, "%s, line %d: %s end marker after <<", origin,
                            lineno, *marker ? "malformed" : "missing");
                free(line);
                status = -1;
                break;
            }
            int ended = 0, first = 1;
            while (pos < len) {
                const char *s = text + pos;
                const char *n2 = memchr(s, '\n', len - pos);
                size_t l2 = n2 ? (size_t)(n2 - s) : len - pos;
                pos += l2 + (n2 ? 1 : 0);
                lineno++;
                if (l2 == strlen(marker) && memcmp(s, marker, l2) == 0) {
                    ended = 1;
                    break;
                }
                if (!first)
                    buf_append_char(&value, '\n');
                buf_append(&value, s, l2);
                first = 0;
            }
            if (!ended)
                warnf(warn, "%s, line %d: missing \"%s\" end marker", origin,
                      lineno, marker);
        } else {
            buf_set_str(&value, str_trim(v));
        }
        int cls = -1;
        for (int k = 0; k < BOUNCE_TEMPLATE_COUNT; k++) {
            size_t n = strlen(class_names[k]);
            if (strncmp(p, class_names[k], n) == 0 &&
                strcmp(p + n, "_template") == 0)
                cls = k;
        }
        if (cls < 0)
            warnf(warn, "%s, line %d: unknown template name: %s -- ignoring "
                        "this template", origin, name_line, p);
        else
            template_from_text(&found.t[cls], (enum bounce_template_class)cls,
                               buf_cstr(&value), origin, warn);
        free(line);
    }
    buf_free(&value);
    if (status == 0) {
        for (int k = 0; k < BOUNCE_TEMPLATE_COUNT; k++) {
            if (!found.t[k].present)
                continue;
            template_clear(&ts->t[k]);
            ts->t[k] = found.t[k];
            memset(&found.t[k], 0, sizeof(found.t[k]));
        }
    }
    bounce_templates_free(&found);
    return status;
}

int bounce_templates_load(struct bounce_templates *ts, const char *path,
                          void (*warn)(const char *message), struct buf *err)
{
    struct buf data = BUF_INIT;
    int status = file_read(path, TEMPLATE_FILE_MAX, &data, err);
    if (status == 0)
        status = bounce_templates_parse(ts, data.data ? data.data : "",
                                        data.len, path, warn, err);
    buf_free(&data);
    return status;
}

/* ---- printing ---- */

/* "EOF", or "EOF1", "EOF2"... when the text has a line "EOF": the end
 * marker of a here-document must not occur in it, or the output would
 * not read back. */
static void end_marker(const struct strlist *text, char out[16])
{
    for (unsigned n = 0;; n++) {
        if (n == 0)
            snprintf(out, 16, "EOF");
        else
            snprintf(out, 16, "EOF%u", n);
        size_t i = 0;
        while (i < text->count && strcmp(text->items[i], out) != 0)
            i++;
        if (i == text->count)
            return;
    }
}

void bounce_templates_dump(const struct bounce_templates *ts, struct buf *out)
{
    int first = 1;
    for (int k = 0; k < BOUNCE_TEMPLATE_COUNT; k++) {
        const struct bounce_template *t = &ts->t[k];
        if (!t->present)
            continue;
        if (!first)
            buf_append_char(out, '\n');
        first = 0;
        char marker[16];
        end_marker(&t->text, marker);
        buf_appendf(out, "%s_template = <<%s\n", class_names[k], marker);
        buf_appendf(out, "Charset: %s\nFrom: %s\nSubject: %s\n", t->charset,
                    t->from, t->subject);
        if (t->postmaster_subject)
            buf_appendf(out, "Postmaster-Subject: %s\n",
                        t->postmaster_subject);
        buf_append_char(out, '\n');
        for (size_t i = 0; i < t->text.count; i++)
            buf_appendf(out, "%s\n", t->text.items[i]);
        buf_appendf(out, "%s\n", marker);
    }
}

static void note_undefined(void *ctx, const char *name, size_t len)
{
    char **first = ctx;
    if (*first)
        return;
    char *copy = xstrndup(name, len);
    if (param_find(copy) == NULL && !config_is_set(copy))
        *first = copy;
    else
        free(copy);
}

/* The first $name in line that is neither a parameter nor set, or
 * NULL (a fresh string otherwise). */
static char *undefined_name(const char *line)
{
    char *first = NULL;
    expand_list_names(line, strlen(line), &expand_syntax_names,
                      note_undefined, &first);
    return first;
}

/* $delay_warning_time_hours and friends, and the per-message values of
 * the built-in delay text. */
static void define_template_names(void)
{
    static const struct {
        const char *suffix;
        long divisor;
    } units[] = {{"seconds", 1},
                 {"minutes", 60},
                 {"hours", 3600},
                 {"days", 86400},
                 {"weeks", 7 * 86400}};
    static const char *const times[] = {"delay_warning_time",
                                        "maximal_queue_lifetime"};
    for (size_t i = 0; i < sizeof(times) / sizeof(*times); i++) {
        long seconds = cfg_time(times[i]);
        for (size_t u = 0; u < sizeof(units) / sizeof(*units); u++) {
            char *name = xasprintf("%s_%s", times[i], units[u].suffix);
            char *value = xasprintf("%ld", seconds / units[u].divisor);
            config_override(name, value);
            free(name);
            free(value);
        }
    }
    struct buf delayed_for = BUF_INIT, retry_until = BUF_INIT;
    time_t arrival, until;
    sample_delay(sample_now(), &delayed_for, &retry_until, &arrival, &until);
    config_override("delayed_for", buf_cstr(&delayed_for));
    config_override("retry_until", buf_cstr(&retry_until));
    buf_free(&delayed_for);
    buf_free(&retry_until);
}

int bounce_templates_expand(const struct bounce_templates *ts,
                            struct buf *out, struct buf *err)
{
    define_template_names();
    struct buf text = BUF_INIT;
    int first = 1, status = 0;
    for (int k = 0; status == 0 && k < BOUNCE_TEMPLATE_COUNT; k++) {
        const struct bounce_template *t = &ts->t[k];
        if (!t->present)
            continue;
        if (!first)
            buf_append_char(&text, '\n');
        first = 0;
        char marker[16];
        end_marker(&t->text, marker);
        buf_appendf(&text, "expanded_%s_text = <<%s\n", class_names[k],
                    marker);
        for (size_t i = 0; status == 0 && i < t->text.count; i++) {
            const char *line = t->text.items[i];
            char *undefined = t->expanded ? NULL : undefined_name(line);
            if (undefined) {
                buf_appendf(err, "undefined $%s in %s template: %s",
                            undefined, class_names[k], line);
                free(undefined);
                status = -1;
            } else if (t->expanded) {
                buf_appendf(&text, "%s\n", line);
            } else {
                struct buf why = BUF_INIT;
                if (config_expand(line, 0, &text, &why) != 0) {
                    buf_appendf(err, "bad $name syntax in %s template: %s "
                                     "(%s)",
                                class_names[k], line, buf_cstr(&why));
                    status = -1;
                }
                buf_append_char(&text, '\n');
                buf_free(&why);
            }
        }
        buf_appendf(&text, "%s\n", marker);
    }
    if (status == 0)
        buf_append(out, text.data ? text.data : "", text.len);
    buf_free(&text);
    return status;
}
