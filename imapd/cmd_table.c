/* cmd_table.c: which handler runs a command of the authenticated and
 * selected states. Each command group lives in its own file (cmd_any.c
 * now; cmd_mailbox.c, cmd_message.c, ... as the storage arrives) and
 * exports a table; this file lists the tables.
 *
 * A name no table has is "BAD Unknown command" only when IMAP does not
 * know it either: the commands of RFC 3501/9051 and the extensions
 * imapd will serve, whose group is not built yet, are listed in
 * not_built and answered "NO [SERVERBUG]" (temporary: each name moves
 * into its group's table when that group lands). */
#include "worker.h"

#include <string.h>

static const struct imapd_command *const tables[] = {
    cmd_any_table,
};

static const char *const not_built[] = {
    "SELECT",    "EXAMINE",     "CREATE",       "DELETE",   "RENAME",
    "SUBSCRIBE", "UNSUBSCRIBE", "LIST",         "LSUB",     "STATUS",
    "APPEND",    "CHECK",       "CLOSE",        "UNSELECT", "EXPUNGE",
    "SEARCH",    "FETCH",       "STORE",        "COPY",     "MOVE",
    "UID",       "GETQUOTA",    "GETQUOTAROOT", "SETQUOTA", "SORT",
    "THREAD",
};

static const struct imapd_command *find(const char *name)
{
    for (size_t t = 0; t < sizeof(tables) / sizeof(*tables); t++)
        for (const struct imapd_command *c = tables[t]; c->name; c++)
            if (strcmp(c->name, name) == 0)
                return c;
    return NULL;
}

void worker_command(struct worker_session *s, const struct imap_command *cmd)
{
    worker_timer(s, imapd_var.idle_timeout_ms);
    const struct imapd_command *c = find(cmd->name);
    if (c == NULL) {
        for (size_t i = 0; i < sizeof(not_built) / sizeof(*not_built); i++)
            if (strcmp(not_built[i], cmd->name) == 0) {
                worker_reply(s, "%s NO [SERVERBUG] %s: not built yet", cmd->tag,
                             cmd->name);
                return;
            }
        if (strcmp(cmd->name, "LOGIN") == 0 ||
            strcmp(cmd->name, "AUTHENTICATE") == 0 ||
            strcmp(cmd->name, "STARTTLS") == 0) {
            worker_reply(s, "%s BAD Already logged in.", cmd->tag);
        } else {
            worker_reply(s, "%s BAD Unknown command.", cmd->tag);
        }
        (void)worker_bad_command(s);
        return;
    }
    unsigned state = s->state == WORKER_SELECTED ? CMD_SELECTED : CMD_AUTH;
    if (!(c->states & state)) {
        worker_reply(s, "%s BAD No mailbox selected.", cmd->tag);
        (void)worker_bad_command(s);
        return;
    }
    c->run(s, cmd);
}
