/* smtpc_session.c: the SMTP/LMTP client engine (see smtpc_session.h).
 * Skeleton: the API compiles; the protocol comes in the next commits. */
#include "smtpc/smtpc_session.h"

#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/mem.h"

struct smtpc_session {
    struct event_loop *loop;
    struct stream *stream;
    const struct smtpc_settings *settings;
    char *peer;
    struct smtpc_caps caps;
    struct smtpc_reply greeting;
};

const char *smtpc_command_name(enum smtpc_command command)
{
    (void)command;
    return "";
}

void smtpc_result_free(struct smtpc_result *result)
{
    buf_free(&result->reason);
    smtpc_reply_free(&result->reply);
    memset(result, 0, sizeof(*result));
}

void smtpc_result_copy(struct smtpc_result *dst, const struct smtpc_result *src)
{
    memset(dst, 0, sizeof(*dst));
    dst->outcome = src->outcome;
    memcpy(dst->status, src->status, sizeof(dst->status));
    buf_set(&dst->reason, src->reason.data ? src->reason.data : "",
            src->reason.len);
    dst->command = src->command;
    dst->failure = src->failure;
    dst->from_peer = src->from_peer;
    smtpc_reply_init(&dst->reply);
    smtpc_reply_copy(&dst->reply, &src->reply);
}

struct smtpc_session *smtpc_session_new(struct event_loop *loop,
                                        struct stream *stream,
                                        const struct smtpc_settings *settings,
                                        const char *host, const char *addr)
{
    struct smtpc_session *s = xcalloc(1, sizeof(*s));
    s->loop = loop;
    s->stream = stream;
    s->settings = settings;
    struct buf peer = BUF_INIT;
    buf_appendf(&peer, "%s[%s]", host, addr);
    s->peer = buf_detach(&peer);
    smtpc_caps_init(&s->caps);
    smtpc_reply_init(&s->greeting);
    return s;
}

void smtpc_session_free(struct smtpc_session *s)
{
    if (!s)
        return;
    smtpc_caps_free(&s->caps);
    smtpc_reply_free(&s->greeting);
    free(s->peer);
    free(s);
}
