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
 * started (smtpd_actions_envelope, smtpd_actions_headers), so they act
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

static void rcpt_add(struct smtpd_session *s, const char *address,
                     const char *original, const char *orcpt, unsigned notify)
{
    for (size_t k = 0; k < s->rcpt_count; k++)
        if (str_equal_nocase(s->rcpts[k].address, address))
            return; /* already a recipient: one copy is enough */
    if (s->rcpt_count == s->rcpt_cap) {
        s->rcpt_cap = s->rcpt_cap ? s->rcpt_cap * 2 : 4;
        s->rcpts = xreallocarray(s->rcpts, s->rcpt_cap, sizeof(*s->rcpts));
    }
    struct smtpd_rcpt *r = &s->rcpts[s->rcpt_count++];
    memset(r, 0, sizeof(*r));
    r->address = xstrdup(address);
    r->original = xstrdup(original);
    r->orcpt = orcpt ? xstrdup(orcpt) : NULL;
    r->notify = notify;
}

/* The final recipients for a REDIRECT or BCC address: canonical maps and
 * virtual aliases, as for RCPT. 0, or -1 after replying 451. */
static int expand_target(struct smtpd_session *s, const char *target,
                         struct strlist *out)
{
    struct buf why = BUF_INIT;
    int rc = smtpd_rewrite_recipient(target, out, &why);
    if (rc < 0) {
        log_warn("%s: %s: %s", s->qid[0] ? s->qid : "NOQUEUE", target,
                 buf_cstr(&why));
        smtpd_error_reply(s, "451 4.3.0 <%s>: Temporary lookup failure",
                          target);
    }
    buf_free(&why);
    return rc;
}

int smtpd_actions_envelope(struct smtpd_session *s)
{
    struct smtpd_actions *a = s->actions;
    if (a == NULL || (a->redirect == NULL && a->bcc.count == 0))
        return 0;
    struct strlist final;
    strlist_init(&final);
    int rc = 0;
    if (a->redirect) {
        /* Postfix delivers a redirected message once, to the target,
         * with what the first recipient carried (original address, DSN
         * ORCPT and NOTIFY); BCC recipients are replaced too, as
         * Postfix's queue manager replaces every recipient. */
        if (expand_target(s, a->redirect, &final) < 0) {
            rc = -1;
        } else if (s->rcpt_count > 0) {
            struct smtpd_rcpt first = s->rcpts[0];
            for (size_t i = 1; i < s->rcpt_count; i++) {
                free(s->rcpts[i].address);
                free(s->rcpts[i].original);
                free(s->rcpts[i].orcpt);
            }
            s->rcpt_count = 0;
            for (size_t i = 0; i < final.count; i++)
                rcpt_add(s, final.items[i], first.original, first.orcpt,
                         first.notify);
            free(first.address);
            free(first.original);
            free(first.orcpt);
        }
    } else {
        for (size_t i = 0; i < a->bcc.count && rc == 0; i++) {
            strlist_free(&final);
            strlist_init(&final);
            if (expand_target(s, a->bcc.items[i], &final) < 0) {
                rc = -1;
                break;
            }
            for (size_t k = 0; k < final.count; k++)
                rcpt_add(s, final.items[k], a->bcc.items[i], NULL,
                         QFILE_NOTIFY_NEVER);
        }
    }
    strlist_free(&final);
    return rc;
}

/* Writes one late recipient unless it is one already. */
static int late_add(struct smtpd_session *s, struct strlist *added,
                    char *address, char *original, char *orcpt, unsigned notify,
                    int dropped, struct buf *err)
{
    if (strlist_has(added, address, 1))
        return 0;
    for (size_t k = 0; k < s->rcpt_count && !dropped; k++)
        if (str_equal_nocase(s->rcpts[k].address, address))
            return 0;
    strlist_add(added, address);
    struct qfile_recipient r;
    memset(&r, 0, sizeof(r));
    r.address = address;
    r.original = original;
    r.orcpt = orcpt;
    r.notify = notify;
    return qfile_writer_recipient(s->writer, &r, err);
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
    struct strlist final, added;
    strlist_init(&final);
    strlist_init(&added);
    struct buf err = BUF_INIT;
    int rc = 0;
    if (a->late_redirect) {
        /* As at RCPT time: the target, once, with what the first
         * recipient carried; the written recipients are marked done
         * (qfile_writer_recipients_drop), BCC copies included. */
        const struct smtpd_rcpt *first = s->rcpt_count ? &s->rcpts[0] : NULL;
        if (expand_target(s, a->late_redirect, &final) < 0)
            goto expand_failed; /* replied 451 */
        rc = qfile_writer_recipients_drop(s->writer, &err);
        for (size_t i = 0; i < final.count && rc == 0; i++)
            rc = late_add(s, &added, final.items[i],
                          first ? first->original : a->late_redirect,
                          first ? first->orcpt : NULL,
                          first ? first->notify : 0, 1, &err);
    } else {
        for (size_t i = 0; i < a->late_bcc.count && rc == 0; i++) {
            strlist_free(&final);
            strlist_init(&final);
            if (expand_target(s, a->late_bcc.items[i], &final) < 0)
                goto expand_failed; /* replied 451 */
            for (size_t k = 0; k < final.count && rc == 0; k++)
                rc = late_add(s, &added, final.items[k], a->late_bcc.items[i],
                              NULL, QFILE_NOTIFY_NEVER, 0, &err);
        }
    }
    if (rc < 0) {
        log_warn("%s: queue file write error: %s", s->qid, buf_cstr(&err));
        smtpd_error_reply(s, "451 4.3.0 Error: queue file write error");
    }
    goto out;
expand_failed:
    rc = -1;
out:
    strlist_free(&final);
    strlist_free(&added);
    buf_free(&err);
    return rc;
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
