/* cmd_any.c: the commands of any logged-in state that need no mailbox:
 * CAPABILITY, NOOP, LOGOUT (RFC 9051 6.1), ID (RFC 2971), ENABLE (RFC
 * 5161; what a session enabled is kept in it), NAMESPACE (RFC 2342),
 * IDLE (RFC 2177) and COMPRESS (RFC 4978). */
#include "worker.h"

#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "base/str.h"
#include "imap/imap_arg.h"

static int no_args(struct worker_session *s, const struct imap_command *cmd)
{
    if (cmd->arg_count == 0)
        return 1;
    worker_reply(s, "%s BAD Unexpected arguments.", cmd->tag);
    (void)worker_bad_command(s);
    return 0;
}

static void cmd_capability(struct worker_session *s,
                           const struct imap_command *cmd)
{
    if (!no_args(s, cmd))
        return;
    struct buf caps = BUF_INIT;
    imapd_caps_postlogin(&caps, s->compressed);
    worker_reply(s, "* CAPABILITY %s", buf_cstr(&caps));
    worker_reply(s, "%s OK Capability completed.", cmd->tag);
    buf_free(&caps);
}

static void cmd_noop(struct worker_session *s, const struct imap_command *cmd)
{
    if (no_args(s, cmd))
        worker_reply(s, "%s OK NOOP completed.", cmd->tag);
}

static void cmd_logout(struct worker_session *s, const struct imap_command *cmd)
{
    if (!no_args(s, cmd))
        return;
    worker_reply(s, "* BYE Logging out");
    worker_reply(s, "%s OK Logout completed.", cmd->tag);
    worker_close(s, "Logged out");
}

static void cmd_id(struct worker_session *s, const struct imap_command *cmd)
{
    if (cmd->arg_count != 1 || (cmd->args[0].type != IMAP_ARG_LIST &&
                                cmd->args[0].type != IMAP_ARG_NIL)) {
        worker_reply(s, "%s BAD Invalid ID parameters.", cmd->tag);
        (void)worker_bad_command(s);
        return;
    }
    struct buf component = BUF_INIT, line = BUF_INIT;
    worker_log_component(s, &component);
    imapd_log_client_id(buf_cstr(&component), cmd->args, cmd->arg_count);
    imapd_id_response(&line);
    worker_reply(s, "%s", buf_cstr(&line));
    worker_reply(s, "%s OK ID completed.", cmd->tag);
    buf_free(&component);
    buf_free(&line);
}

static const struct {
    const char *name;
    unsigned bits;
} extensions[] = {
    {"IMAP4REV2", ENABLED_IMAP4REV2},
    {"CONDSTORE", ENABLED_CONDSTORE},
    /* RFC 7162 3.2.3: QRESYNC implies CONDSTORE. */
    {"QRESYNC", ENABLED_QRESYNC | ENABLED_CONDSTORE},
    {"UTF8=ACCEPT", ENABLED_UTF8_ACCEPT},
};

static void cmd_enable(struct worker_session *s, const struct imap_command *cmd)
{
    if (cmd->arg_count == 0) {
        worker_reply(s, "%s BAD Missing capabilities.", cmd->tag);
        (void)worker_bad_command(s);
        return;
    }
    for (size_t i = 0; i < cmd->arg_count; i++)
        if (cmd->args[i].type != IMAP_ARG_ATOM) {
            worker_reply(s, "%s BAD Invalid arguments.", cmd->tag);
            (void)worker_bad_command(s);
            return;
        }
    struct buf line = BUF_INIT;
    unsigned before = s->enabled;
    for (size_t i = 0; i < cmd->arg_count; i++)
        for (size_t e = 0; e < sizeof(extensions) / sizeof(*extensions); e++)
            if (str_equal_nocase(cmd->args[i].str, extensions[e].name) &&
                (extensions[e].bits & ~s->enabled)) {
                s->enabled |= extensions[e].bits;
                buf_appendf(&line, " %s", extensions[e].name);
            }
    /* QRESYNC switched CONDSTORE on as well: say so. */
    if ((s->enabled & ENABLED_CONDSTORE) && !(before & ENABLED_CONDSTORE) &&
        !strstr(buf_cstr(&line), " CONDSTORE"))
        buf_append_str(&line, " CONDSTORE");
    worker_reply(s, "* ENABLED%s", buf_cstr(&line));
    worker_reply(s, "%s OK Enabled.", cmd->tag);
    buf_free(&line);
}

/* One personal namespace, Maildir++ as Dovecot serves it: no prefix,
 * "." between levels (the storage's mailbox_list decides the separator
 * when it lands; this is its default). */
static void cmd_namespace(struct worker_session *s,
                          const struct imap_command *cmd)
{
    if (!no_args(s, cmd))
        return;
    worker_reply(s, "* NAMESPACE ((\"\" \".\")) NIL NIL");
    worker_reply(s, "%s OK Namespace completed.", cmd->tag);
}

static void cmd_idle(struct worker_session *s, const struct imap_command *cmd)
{
    if (!no_args(s, cmd))
        return;
    free(s->idle_tag);
    s->idle_tag = xstrdup(cmd->tag);
    s->state = WORKER_IDLE;
    worker_reply(s, "+ idling");
    imap_reader_expect_line(&s->reader);
    /* RFC 9051 5.4: at least 30 minutes while idling; the timer wakes
     * every 2 minutes for a keepalive on the way (worker.c). */
    s->idle_since_ms = worker_now_ms();
    uint64_t ms = imapd_var.idle_timeout_ms < IDLE_MINIMUM_MS
                      ? IDLE_MINIMUM_MS
                      : imapd_var.idle_timeout_ms;
    worker_timer(s,
                 ms < imapd_var.idle_notify_ms ? ms : imapd_var.idle_notify_ms);
}

void worker_idle_line(struct worker_session *s, const char *line, size_t len)
{
    if (s->state != WORKER_IDLE)
        return;
    s->state = s->mailbox ? WORKER_SELECTED : WORKER_AUTHENTICATED;
    if (line && len == 4 && str_equal_nocase(line, "DONE"))
        worker_reply(s, "%s OK Idle completed.", s->idle_tag);
    else {
        worker_reply(s, "%s BAD Expected DONE.", s->idle_tag);
        (void)worker_bad_command(s);
    }
    free(s->idle_tag);
    s->idle_tag = NULL;
    worker_timer(s, imapd_var.idle_timeout_ms);
}

static void cmd_compress(struct worker_session *s,
                         const struct imap_command *cmd)
{
    if (cmd->arg_count != 1 || !imap_arg_atom_is(&cmd->args[0], "DEFLATE")) {
        worker_reply(s, "%s BAD Unknown compression mechanism.", cmd->tag);
        (void)worker_bad_command(s);
        return;
    }
    if (s->compressed) {
        worker_reply(s,
                     "%s NO [COMPRESSIONACTIVE] Compression already "
                     "active.",
                     cmd->tag);
        return;
    }
    worker_reply(s, "%s OK DEFLATE active.", cmd->tag);
    /* The OK goes out uncompressed, all of it, before the switch. */
    if (stream_flush(s->stream) != STREAM_OK ||
        session_io_pending(s->io) != 0) {
        worker_close(s, "Connection closed");
        return;
    }
    size_t unread = 0;
    const char *rest = stream_peek(s->stream, &unread);
    if (session_io_compress(s->io, rest, unread) < 0) {
        worker_close(s, "Compression failed");
        return;
    }
    stream_consume(s->stream, unread);
    s->compressed = 1;
}

const struct imapd_command cmd_any_table[] = {
    {"CAPABILITY", CMD_BOTH, cmd_capability},
    {"NOOP", CMD_BOTH, cmd_noop},
    {"LOGOUT", CMD_BOTH, cmd_logout},
    {"ID", CMD_BOTH, cmd_id},
    {"ENABLE", CMD_BOTH, cmd_enable},
    {"NAMESPACE", CMD_BOTH, cmd_namespace},
    {"IDLE", CMD_BOTH, cmd_idle},
    {"COMPRESS", CMD_BOTH, cmd_compress},
    {NULL, 0, NULL},
};
