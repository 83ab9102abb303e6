/* bounce_template.h: delivery status notification texts in the form of
 * Postfix's bounce(5) template files, for postconf -b and -t.
 *
 * A template file holds up to four templates, each written as
 *
 *   failure_template = <<EOF
 *   Charset: us-ascii
 *   From: MAILER-DAEMON (Mail Delivery System)
 *   Subject: Undelivered Mail Returned to Sender
 *   Postmaster-Subject: Postmaster Copy: Undelivered Mail
 *
 *   This is the mail system at host $myhostname.
 *   ...
 *   EOF
 *
 * named failure_template, delay_template, success_template and
 * verify_template (the end marker is the word after "<<"); blank lines
 * and '#' comment lines between templates are ignored. The headers are
 * optional, and only those four; the text starts after the blank line.
 * As in Postfix, a template that breaks these rules is skipped with a
 * warning (the built-in one stands), an unknown template name is
 * skipped with a warning, and a line that is not `name = value` is an
 * error. In the text, $name refers to main.cf parameters, and
 * $delay_warning_time_UNIT and $maximal_queue_lifetime_UNIT (UNIT one of
 * seconds, minutes, hours, days, weeks) to those times in that unit.
 *
 * Postern's own notices (lib/message/bounce_msg) are not made from templates:
 * their texts are shown as templates so that an administrator can read
 * them, and a Postfix template file can be checked with postconf, but
 * bounce_template_file is not used when notices are written. */
#ifndef POSTERN_BOUNCE_TEMPLATE_H
#define POSTERN_BOUNCE_TEMPLATE_H

#include <stddef.h>

#include "base/buf.h"
#include "base/str.h"

enum bounce_template_class {
    BOUNCE_TEMPLATE_FAILURE,
    BOUNCE_TEMPLATE_DELAY,
    BOUNCE_TEMPLATE_SUCCESS,
    BOUNCE_TEMPLATE_VERIFY,
    BOUNCE_TEMPLATE_COUNT
};

struct bounce_template {
    int present;              /* there is a template of this class */
    int expanded;             /* the text has no $name left to expand */
    char *charset, *from, *subject;
    char *postmaster_subject; /* NULL: none */
    struct strlist text;      /* the lines of the text */
};

struct bounce_templates {
    struct bounce_template t[BOUNCE_TEMPLATE_COUNT];
};

/* "failure", "delay", "success", "verify". */
const char *bounce_template_class_name(enum bounce_template_class cls);

/* Postern's texts as templates: failure, delay and success (Postern
 * sends no verify notices). With `expanded`, as a notice written now
 * says them: myhostname and mail_name from main.cf, and a delay notice
 * for mail that arrived delay_warning_time ago and is retried until
 * maximal_queue_lifetime after arrival. Else with $myhostname,
 * $mail_name, $delayed_for and $retry_until in place of those values.
 * A failure notice is shown as when the whole message is returned.
 * Needs main.cf loaded (lib/config/config). */
void bounce_templates_builtin(struct bounce_templates *ts, int expanded);

/* Reads a template file into ts, replacing the classes it defines.
 * Returns 0 (skipped templates are reported through warn), or -1 with
 * "PATH, line N: why" in err; ts is then unchanged. */
int bounce_templates_load(struct bounce_templates *ts, const char *path,
                          void (*warn)(const char *message), struct buf *err);
/* The same for text in memory; origin names it in messages. */
int bounce_templates_parse(struct bounce_templates *ts, const char *text,
                           size_t len, const char *origin,
                           void (*warn)(const char *message), struct buf *err);

/* postconf -t: each present template as "CLASS_template = <<EOF",
 * its headers, a blank line, the text and "EOF", with a blank line
 * between templates. */
void bounce_templates_dump(const struct bounce_templates *ts, struct buf *out);

/* postconf -b: the text of each present template with $name expanded,
 * as "expanded_CLASS_text = <<EOF", the text, "EOF". Defines the time
 * names above (and $delayed_for, $retry_until as the built-in expanded
 * texts use them) as overrides in lib/config/config. Returns 0, or -1 with
 * err for a $name that is not a parameter ("undefined $name in failure
 * template: TEXT"). */
int bounce_templates_expand(const struct bounce_templates *ts,
                            struct buf *out, struct buf *err);

void bounce_templates_free(struct bounce_templates *ts);

#endif
