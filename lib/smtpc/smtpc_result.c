/* smtpc_result.c: the engine's results and their wording (see
 * smtpc_session.h). The phrases follow Postfix's smtp(8), since sites
 * and their tools read them in logs and bounces: "host H[A] said: ...
 * (in reply to RCPT TO command)", "lost connection with H[A] while
 * sending RCPT TO". */
#include <string.h>

#include "smtpc/smtpc_internal.h"

const char *smtpc_command_name(enum smtpc_command command)
{
    switch (command) {
    case SMTPC_CMD_EHLO:
        return "EHLO";
    case SMTPC_CMD_HELO:
        return "HELO";
    case SMTPC_CMD_LHLO:
        return "LHLO";
    case SMTPC_CMD_STARTTLS:
        return "STARTTLS";
    case SMTPC_CMD_AUTH:
        return "AUTH";
    case SMTPC_CMD_MAIL:
        return "MAIL FROM";
    case SMTPC_CMD_RCPT:
        return "RCPT TO";
    case SMTPC_CMD_DATA:
        return "DATA";
    case SMTPC_CMD_DATA_END:
        return "end of DATA";
    case SMTPC_CMD_BDAT:
        return "BDAT";
    case SMTPC_CMD_RSET:
        return "RSET";
    case SMTPC_CMD_QUIT:
        return "QUIT";
    case SMTPC_CMD_NONE:
    case SMTPC_CMD_GREETING:
        break;
    }
    return "";
}

const char *smtpc_where(enum smtpc_command command, int lmtp)
{
    switch (command) {
    case SMTPC_CMD_GREETING:
        return "receiving the initial server greeting";
    case SMTPC_CMD_EHLO:
        return "performing the EHLO handshake";
    case SMTPC_CMD_HELO:
        return "performing the HELO handshake";
    case SMTPC_CMD_LHLO:
        return "performing the LHLO handshake";
    case SMTPC_CMD_STARTTLS:
        return "receiving the STARTTLS response";
    case SMTPC_CMD_AUTH:
        return "performing SASL authentication";
    case SMTPC_CMD_MAIL:
        return "sending MAIL FROM";
    case SMTPC_CMD_RCPT:
        return "sending RCPT TO";
    case SMTPC_CMD_DATA:
        return "sending DATA command";
    case SMTPC_CMD_DATA_END:
        return "sending end of data -- message may be sent more than once";
    case SMTPC_CMD_BDAT:
        return "sending message body";
    case SMTPC_CMD_RSET:
        return "sending RSET";
    case SMTPC_CMD_QUIT:
        return "sending QUIT";
    case SMTPC_CMD_NONE:
        break;
    }
    return lmtp ? "talking to the LMTP server" : "talking to the SMTP server";
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

/* Empties result for new contents (it may be zero-filled). */
static void result_reset(struct smtpc_result *result)
{
    smtpc_result_free(result);
    buf_init(&result->reason);
    smtpc_reply_init(&result->reply);
}

void smtpc_result_from_reply(struct smtpc_result *result, const char *peer,
                             const struct smtpc_reply *reply,
                             enum smtpc_command command)
{
    result_reset(result);
    smtpc_reply_copy(&result->reply, reply);
    result->from_peer = 1;
    result->command = command;
    result->failure = SMTPC_FAIL_NONE;
    memcpy(result->status, reply->status, sizeof(result->status));
    switch (smtpc_reply_class(reply)) {
    case 2:
        result->outcome = SMTPC_SENT;
        buf_set(&result->reason, reply->text.data, reply->text.len);
        return;
    case 5:
        result->outcome = SMTPC_BOUNCED;
        break;
    default:
        result->outcome = SMTPC_DEFERRED;
        break;
    }
    buf_appendf(&result->reason, "host %s said: %s (in reply to %s command)",
                peer, buf_cstr(&reply->text), smtpc_command_name(command));
}

void smtpc_result_local(struct smtpc_result *result, enum smtpc_outcome outcome,
                        const char *status, enum smtpc_failure failure,
                        enum smtpc_command command, const char *reason)
{
    result_reset(result);
    result->outcome = outcome;
    str_copy(result->status, status, sizeof(result->status));
    result->failure = failure;
    result->command = command;
    buf_set_str(&result->reason, reason);
}
