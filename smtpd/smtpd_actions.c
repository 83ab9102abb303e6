/* smtpd_actions.c: access(5) actions that do more than permit or
 * reject, as Postfix's smtpd has them:
 *
 *   WARN text      log "warn: STAGE from host[addr]: text; from=<..> ..."
 *   INFO text      the same with "info:" (Postfix 3.0)
 *   PREPEND h: v   add the header above our Received: header; several
 *                  accumulate in the order they fired
 *   REDIRECT addr  deliver to addr instead of every recipient
 *   BCC addr       deliver a copy to addr as well (NOTIFY=NEVER)
 *   FILTER t:d     send the message to transport t, destination d,
 *                  instead of to its recipients' own (the last one wins;
 *                  content_filter is the default)
 *
 * None of them decides: evaluation goes on with the next restriction,
 * and a later reject still rejects. PREPEND, REDIRECT and BCC are
 * recorded with the transaction and applied when the queue file is
 * started (smtpd_actions_envelope, smtpd_actions_headers; recipients
 * are added through smtpd_rcpt.c, as RCPT adds them), so they act
 * on the whole message as in Postfix, whichever RCPT fired them. From
 * smtpd_end_of_data_restrictions REDIRECT and BCC change the recipients
 * already in the file (smtpd_actions_late); PREPEND is too late there. An
 * argument that is not valid (PREPEND without "name:", REDIRECT without
 * user@domain) is logged and ignored, as Postfix does. See
 * docs/smtpd.md, "Access actions". */
#include "smtpd.h"

#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/mem.h"
#include "queue/qfile.h"

struct smtpd_actions {
    struct strlist prepend; /* header lines, without line ends */
    char *redirect;         /* internal form; the last REDIRECT wins */
    struct strlist bcc;     /* internal form, no duplicates */
    /* The same two from smtpd_end_of_data_restrictions, when the
     * recipients are in the queue file already (smtpd_actions_late). */
    char *late_redirect;
    struct strlist late_bcc;
    char *filter; /* "transport:destination"; the last FILTER wins */
};

static struct smtpd_actions *actions_of(struct smtpd_session *s)
{
    if (s->actions == NULL) {
        s->actions = xcalloc(1, sizeof(*s->actions));
        strlist_init(&s->actions->prepend);
        strlist_init(&s->actions->bcc);
        strlist_init(&s->actions->late_bcc);
    }
    return s->actions;
}

static int strlist_has(const struct strlist *list, const char *item, int nocase)
{
    for (size_t i = 0; i < list->count; i++)
        if (nocase ? str_equal_nocase(list->items[i], item)
                   : strcmp(list->items[i], item) == 0)
            return 1;
    return 0;
}

void smtpd_action_apply(struct smtpd_session *s, const char *stage,
                        const char *sender, const char *rcpt,
                        const struct access_result *res, const char *table,
                        const char *value, const char *subject)
{
    int eod = strcmp(stage, "END-OF-MESSAGE") == 0;
    struct buf why = BUF_INIT, address = BUF_INIT, text = BUF_INIT;
    switch (res->action) {
    case ACCESS_WARN:
        smtpd_log_event(s, stage, "warn", sender, rcpt, res->text);
        break;
    case ACCESS_INFO:
        smtpd_log_event(s, stage, "info", sender, rcpt, res->text);
        break;
    case ACCESS_PREPEND:
        if (eod) {
            log_warn("access table %s: action PREPEND must be used before "
                     "smtpd_end_of_data_restrictions",
                     table);
        } else if (!access_prepend_valid(res->text, &why)) {
            log_warn("access table %s entry \"%s\" %s", table, value,
                     buf_cstr(&why));
        } else {
            /* With smtpd_delay_reject the client, helo and sender lists
             * run again for every RCPT; one header is enough. */
            struct smtpd_actions *a = actions_of(s);
            if (!strlist_has(&a->prepend, res->text, 0))
                strlist_add(&a->prepend, res->text);
        }
        break;
    case ACCESS_REDIRECT:
    case ACCESS_BCC: {
        int redirect = res->action == ACCESS_REDIRECT;
        const char *name = redirect ? "REDIRECT" : "BCC";
        if (!access_target_parse(res->text, &address, &why)) {
            log_warn("access table %s entry \"%s\" %s", table, value,
                     buf_cstr(&why));
        } else {
            buf_appendf(&text, "%s triggers %s %s", subject, name, res->text);
            smtpd_log_event(s, stage, redirect ? "redirect" : "bcc", sender,
                            rcpt, text.data);
            struct smtpd_actions *a = actions_of(s);
            /* At end of data the recipients are in the queue file
             * already: smtpd_actions_late changes them there. */
            char **target = eod ? &a->late_redirect : &a->redirect;
            struct strlist *copies = eod ? &a->late_bcc : &a->bcc;
            if (redirect) {
                free(*target);
                *target = xstrdup(buf_cstr(&address));
            } else if (!strlist_has(copies, buf_cstr(&address), 1)) {
                strlist_add(copies, buf_cstr(&address));
            }
        }
        break;
    }
    case ACCESS_FILTER:
        if (!access_filter_valid(res->text, &why)) {
            log_warn("access table %s entry \"%s\" %s", table, value,
                     buf_cstr(&why));
        } else {
            buf_appendf(&text, "%s triggers FILTER %s", subject, res->text);
            smtpd_log_event(s, stage, "filter", sender, rcpt, text.data);
            struct smtpd_actions *a = actions_of(s);
            free(a->filter);
            a->filter = xstrdup(res->text);
        }
        break;
    default:
        break;
    }
    buf_free(&why);
    buf_free(&address);
    buf_free(&text);
}

/* REDIRECT (replacing every recipient) or BCC (adding copies that get no
 * DSN), through smtpd_rcpt.c as RCPT recipients are; at the end of data
 * the queue file's recipients change too. 0, or -1 after a 451 reply. */
static int apply_targets(struct smtpd_session *s, const char *redirect,
                         const struct strlist *bcc)
{
    struct buf why = BUF_INIT;
    const char *target = redirect;
    enum smtpd_rcpt_result rc = SMTPD_RCPT_OK;
    if (redirect) {
        /* BCC recipients are replaced too, as Postfix's queue manager
         * replaces every recipient. */
        rc = smtpd_rcpt_redirect(s, redirect, &why);
    } else {
        for (size_t i = 0; i < bcc->count && rc == SMTPD_RCPT_OK; i++) {
            target = bcc->items[i];
            const struct smtpd_rcpt_origin origin = {target, NULL,
                                                     QFILE_NOTIFY_NEVER};
            rc = smtpd_rcpt_add(s, target, &origin, SMTPD_RCPT_SAME_ADDRESS,
                                &why);
        }
    }
    const char *id = s->qid[0] ? s->qid : "NOQUEUE";
    if (rc == SMTPD_RCPT_LOOKUP_ERROR) {
        log_warn("%s: %s: %s", id, target, buf_cstr(&why));
        smtpd_error_reply(s, "451 4.3.0 <%s>: Temporary lookup failure",
                          target);
    } else if (rc == SMTPD_RCPT_WRITE_ERROR) {
        log_warn("%s: queue file write error: %s", id, buf_cstr(&why));
        smtpd_error_reply(s, "451 4.3.0 Error: queue file write error");
    }
    buf_free(&why);
    return rc == SMTPD_RCPT_OK ? 0 : -1;
}

int smtpd_actions_envelope(struct smtpd_session *s)
{
    struct smtpd_actions *a = s->actions;
    if (a == NULL || (a->redirect == NULL && a->bcc.count == 0))
        return 0;
    return apply_targets(s, a->redirect, &a->bcc);
}

/* The content filter goes into the queue file as the attribute
 * content_filter, which qmgr routes every recipient by (docs/qmgr.md). */
static int write_filter(struct smtpd_session *s)
{
    const char *filter = s->actions && s->actions->filter
                             ? s->actions->filter
                             : smtpd_var.content_filter;
    if (*filter == '\0')
        return 0;
    struct buf err = BUF_INIT;
    int rc = qfile_writer_attr(s->writer, "content_filter", filter, &err);
    if (rc < 0) {
        log_warn("%s: queue file write error: %s", s->qid, buf_cstr(&err));
        smtpd_error_reply(s, "451 4.3.0 Error: queue file write error");
    }
    buf_free(&err);
    return rc;
}

int smtpd_actions_late(struct smtpd_session *s)
{
    if (write_filter(s) < 0)
        return -1;
    struct smtpd_actions *a = s->actions;
    if (a == NULL || (a->late_redirect == NULL && a->late_bcc.count == 0))
        return 0;
    return apply_targets(s, a->late_redirect, &a->late_bcc);
}

void smtpd_actions_headers(const struct smtpd_session *s, struct buf *out)
{
    if (s->actions == NULL)
        return;
    for (size_t i = 0; i < s->actions->prepend.count; i++) {
        buf_append_str(out, s->actions->prepend.items[i]);
        buf_append_char(out, '\n');
    }
}

void smtpd_actions_reset(struct smtpd_session *s)
{
    struct smtpd_actions *a = s->actions;
    if (a == NULL)
        return;
    strlist_free(&a->prepend);
    strlist_free(&a->bcc);
    free(a->redirect);
    strlist_free(&a->late_bcc);
    free(a->late_redirect);
    free(a->filter);
    free(a);
    s->actions = NULL;
}
