/* virtual.c: the virtual delivery agent, Postfix's virtual(8).
 *
 * Serves deliver/1 requests (lib/delivery/agent.h does the protocol, the
 * queue file, the done marks and the log lines); each recipient is
 * delivered by lib/delivery/virtual_mailbox.h, which lmtpd shares, so
 * mail that comes in over LMTP gets the same lookups, mailboxes and
 * answers. */
#include "delivery/agent.h"
#include "delivery/virtual_mailbox.h"

int main(int argc, char **argv)
{
    agent_main(argc, argv, "virtual", virtual_mailbox_init,
               virtual_mailbox_deliver);
}
