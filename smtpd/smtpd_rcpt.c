/* smtpd_rcpt.c: the transaction's recipients, and the one way a
 * recipient is added to them: by RCPT, by the REDIRECT and BCC access
 * actions when intake starts, and by those actions at the end of data,
 * when the queue file has its recipients already.
 *
 * Every address goes through the same rewriting (canonical maps, then
 * virtual alias expansion: what Postfix's cleanup does), the same
 * duplicate rule and the same record: the final address, the address
 * the client or the action gave (`original`), and DSN ORCPT and NOTIFY.
 * Once the recipients are in the queue file (smtpd_rcpt_write_all) an
 * added one is written there too. */
#include "smtpd.h"

#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "queue/qfile.h"

/* 1 when address (with this original, for SMTPD_RCPT_SAME_ORIGINAL) is
 * a recipient already. */
static int rcpt_known(const struct smtpd_session *s, const char *address,
                      const char *original, enum smtpd_rcpt_dedup dedup)
{
    for (size_t k = 0; k < s->rcpt_count; k++) {
        const struct smtpd_rcpt *r = &s->rcpts[k];
        if (!str_equal_nocase(r->address, address))
            continue;
        if (dedup == SMTPD_RCPT_SAME_ADDRESS ||
            strcmp(r->original, original) == 0)
            return 1;
    }
    return 0;
}

static void rcpt_record(const struct smtpd_rcpt *r, struct qfile_recipient *q)
{
    memset(q, 0, sizeof(*q));
    q->address = r->address;
    q->original = r->original;
    q->orcpt = r->orcpt;
    q->notify = r->notify;
}

enum smtpd_rcpt_result smtpd_rcpt_add(struct smtpd_session *s,
                                      const char *address,
                                      const struct smtpd_rcpt_origin *origin,
                                      enum smtpd_rcpt_dedup dedup,
                                      struct buf *why)
{
    struct strlist final;
    strlist_init(&final);
    if (smtpd_rewrite_recipient(address, &final, why) < 0) {
        strlist_free(&final);
        return SMTPD_RCPT_LOOKUP_ERROR;
    }
    enum smtpd_rcpt_result result = SMTPD_RCPT_OK;
    for (size_t i = 0; i < final.count && result == SMTPD_RCPT_OK; i++) {
        if (rcpt_known(s, final.items[i], origin->original, dedup))
            continue; /* one copy is enough */
        if (s->rcpt_count == s->rcpt_cap) {
            s->rcpt_cap = s->rcpt_cap ? s->rcpt_cap * 2 : 4;
            s->rcpts = xreallocarray(s->rcpts, s->rcpt_cap, sizeof(*s->rcpts));
        }
        struct smtpd_rcpt *r = &s->rcpts[s->rcpt_count++];
        r->address = xstrdup(final.items[i]);
        r->original = xstrdup(origin->original);
        r->orcpt = origin->orcpt ? xstrdup(origin->orcpt) : NULL;
        r->notify = origin->notify;
        if (s->rcpts_in_file) {
            struct qfile_recipient q;
            rcpt_record(r, &q);
            if (qfile_writer_recipient(s->writer, &q, why) < 0)
                result = SMTPD_RCPT_WRITE_ERROR;
        }
    }
    strlist_free(&final);
    return result;
}

int smtpd_rcpt_write_all(struct smtpd_session *s, struct buf *err)
{
    for (size_t i = 0; i < s->rcpt_count; i++) {
        struct qfile_recipient q;
        rcpt_record(&s->rcpts[i], &q);
        if (qfile_writer_recipient(s->writer, &q, err) < 0)
            return -1;
    }
    s->rcpts_in_file = 1;
    return 0;
}

static void rcpt_forget(struct smtpd_session *s)
{
    for (size_t i = 0; i < s->rcpt_count; i++) {
        free(s->rcpts[i].address);
        free(s->rcpts[i].original);
        free(s->rcpts[i].orcpt);
    }
    s->rcpt_count = 0;
}

void smtpd_rcpt_reset(struct smtpd_session *s)
{
    rcpt_forget(s);
    free(s->rcpts);
    s->rcpts = NULL;
    s->rcpt_cap = 0;
    s->rcpts_in_file = 0;
}

enum smtpd_rcpt_result smtpd_rcpt_redirect(struct smtpd_session *s,
                                           const char *target, struct buf *why)
{
    /* The old list stays aside until the target has expanded. */
    struct smtpd_rcpt *old = s->rcpts;
    size_t old_count = s->rcpt_count, old_cap = s->rcpt_cap;
    int in_file = s->rcpts_in_file;
    struct smtpd_rcpt_origin origin = {target, NULL, 0};
    if (old_count > 0) /* what the first recipient carried, as Postfix */
        origin = (struct smtpd_rcpt_origin){old[0].original, old[0].orcpt,
                                            old[0].notify};
    s->rcpts = NULL;
    s->rcpt_count = s->rcpt_cap = 0;
    s->rcpts_in_file = 0;
    enum smtpd_rcpt_result result =
        smtpd_rcpt_add(s, target, &origin, SMTPD_RCPT_SAME_ADDRESS, why);
    if (result != SMTPD_RCPT_OK) {
        smtpd_rcpt_reset(s);
        s->rcpts = old;
        s->rcpt_count = old_count;
        s->rcpt_cap = old_cap;
        s->rcpts_in_file = in_file;
        return result;
    }
    /* In the queue file already: the old ones are marked done there. */
    if (in_file && (qfile_writer_recipients_drop(s->writer, why) < 0 ||
                    smtpd_rcpt_write_all(s, why) < 0))
        result = SMTPD_RCPT_WRITE_ERROR;
    for (size_t i = 0; i < old_count; i++) {
        free(old[i].address);
        free(old[i].original);
        free(old[i].orcpt);
    }
    free(old);
    return result;
}
