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

static const char *const EHLO_FULL[] = {
    "> 220 mx.example.com ESMTP",
    "< EHLO client.example",
    "> 250-mx.example.com",
    "> 250-PIPELINING",
    "> 250-SIZE 100000",
    "> 250-8BITMIME",
    "> 250-DSN",
    "> 250 ENHANCEDSTATUSCODES",
};

/* All of MAIL, RCPT, RCPT, DATA arrive before the server answers: a
 * lock-step client would wait for the MAIL reply and the server for
 * RCPT, and the peer's read would time out. */
static void test_pipelining_and_dsn(void)
{
    static const char *const rest[] = {
        "< MAIL FROM:<sender@example.net> SIZE=5 BODY=8BITMIME RET=HDRS "
        "ENVID=id+2B1",
        "< RCPT TO:<a@example.org> NOTIFY=SUCCESS,DELAY "
        "ORCPT=rfc822;a+2Bx@example.org",
        "< RCPT TO:<b@example.org> NOTIFY=NEVER",
        "< DATA",
        "> 250 2.1.0 Ok",
        "> 250 2.1.5 Ok",
        "> 450 4.2.0 <b@example.org>: greylisted",
        "> 354 go ahead",
        "<DATA",
        "> 250 2.0.0 Ok: queued as Q1",
        NULL,
    };
    const char **script = script_join(EHLO_FULL, 8, rest);
    struct client c;
    client_start(&c, script, 0);
    CHECK_INT(client_hello(&c), 0);
    const struct smtpc_caps *caps = smtpc_session_caps(c.session);
    CHECK(caps->flags & SMTPC_CAP_PIPELINING);
    CHECK_INT(caps->size_limit, 100000);
    struct tx t;
    tx_init(&t, "body\n", 2);
    t.msg.body = SMTPC_BODY_8BITMIME;
    t.msg.ret = SMTPC_RET_HDRS;
    t.msg.envid = "id+1";
    t.rcpts[0].notify = DSN_NOTIFY_SUCCESS | DSN_NOTIFY_DELAY;
    t.rcpts[0].orcpt = "rfc822;a+x@example.org";
    t.rcpts[1].notify = DSN_NOTIFY_NEVER;
    CHECK_INT(tx_run(&c, &t), 0);
    CHECK_INT(t.seen.result.outcome, SMTPC_SENT);
    CHECK_INT(t.rcpts[0].result.outcome, SMTPC_SENT);
    CHECK_INT(t.rcpts[1].result.outcome, SMTPC_DEFERRED);
    CHECK_STR(t.rcpts[1].result.status, "4.2.0");
    CHECK_INT(t.rcpts[1].result.command, SMTPC_CMD_RCPT);
    client_end(&c);
    CHECK_STR(c.peer.error.data, "");
    CHECK_STR(c.peer.data.data, "body\r\n");
    tx_free(&t);
    peer_free(&c.peer);
    free(script);
}

/* Without DSN in EHLO, no NOTIFY/ORCPT/RET/ENVID; without 8BITMIME no
 * BODY=; the 7-bit content is used when the hook is given. */
static void test_no_dsn_and_7bit_hook(void)
{
    static const char *const rest[] = {
        "< MAIL FROM:<sender@example.net>",
        "> 250 Ok",
        "< RCPT TO:<a@example.org>",
        "> 250 Ok",
        "< DATA",
        "> 354 go",
        "<DATA",
        "> 250 Ok",
        NULL,
    };
    const char **script = script_join(EHLO_PLAIN, 3, rest);
    struct client c;
    client_start(&c, script, 0);
    CHECK_INT(client_hello(&c), 0);
    struct tx t;
    tx_init(&t, "caf\xc3\xa9\n", 1);
    struct mem_content converted = {"caf=C3=A9\n", 10, 0, 0, 0};
    t.msg.body = SMTPC_BODY_8BITMIME;
    t.msg.ret = SMTPC_RET_FULL;
    t.msg.envid = "x";
    t.msg.content_7bit.read = mem_read;
    t.msg.content_7bit.read_ctx = &converted;
    t.rcpts[0].notify = DSN_NOTIFY_FAILURE;
    t.rcpts[0].orcpt = "rfc822;a@example.org";
    CHECK_INT(tx_run(&c, &t), 0);
    CHECK_INT(t.rcpts[0].result.outcome, SMTPC_SENT);
    CHECK_INT(t.msg.used_7bit, 1);
    client_end(&c);
    CHECK_STR(c.peer.error.data, "");
    CHECK_STR(c.peer.data.data, "caf=C3=A9\r\n");
    tx_free(&t);
    peer_free(&c.peer);
    free(script);
}

static const char *const EHLO_SIZE_NO_8BITMIME[] = {
    "> 220 mx.example.com ESMTP",
    "< EHLO client.example",
    "> 250-mx.example.com",
    "> 250 SIZE 100000",
};

/* The converted content is larger than the size the message has in the
 * queue: MAIL says no SIZE= when content_7bit goes out (as Postfix), but
 * does when the 8-bit content goes as it is (no hook given). */
static void test_7bit_hook_drops_size(void)
{
    static const char *const converted_rest[] = {
        "< MAIL FROM:<sender@example.net>",
        "> 250 Ok",
        "< RCPT TO:<a@example.org>",
        "> 250 Ok",
        "< DATA",
        "> 354 go",
        "<DATA",
        "> 250 Ok",
        NULL,
    };
    static const char *const raw_rest[] = {
        "< MAIL FROM:<sender@example.net> SIZE=6",
        "> 250 Ok",
        "< RCPT TO:<a@example.org>",
        "> 250 Ok",
        "< DATA",
        "> 354 go",
        "<DATA",
        "> 250 Ok",
        NULL,
    };
    for (int hook = 1; hook >= 0; hook--) {
        const char **script = script_join(EHLO_SIZE_NO_8BITMIME, 4,
                                          hook ? converted_rest : raw_rest);
        struct client c;
        client_start(&c, script, 0);
        CHECK_INT(client_hello(&c), 0);
        struct tx t;
        tx_init(&t, "caf\xc3\xa9\n", 1);
        t.msg.size = 6;
        struct mem_content converted = {"caf=C3=A9\n", 10, 0, 0, 0};
        t.msg.body = SMTPC_BODY_8BITMIME;
        if (hook) {
            t.msg.content_7bit.read = mem_read;
            t.msg.content_7bit.read_ctx = &converted;
        }
        CHECK_INT(tx_run(&c, &t), 0);
        CHECK_INT(t.rcpts[0].result.outcome, SMTPC_SENT);
        CHECK_INT(t.msg.used_7bit, hook);
        client_end(&c);
        CHECK_STR(c.peer.error.data, "");
        CHECK_STR(c.peer.data.data, hook ? "caf=C3=A9\r\n" : "caf\xc3\xa9\r\n");
        tx_free(&t);
        peer_free(&c.peer);
        free(script);
    }
}

static void test_size_refused_before_mail(void)
{
    static const char *const rest[] = {
        "< QUIT",
        NULL,
    };
    const char **script = script_join(EHLO_FULL, 8, rest);
    struct client c;
    client_start(&c, script, 0);
    CHECK_INT(client_hello(&c), 0);
    struct tx t;
    tx_init(&t, "x\n", 2);
    t.msg.size = 100001;
    CHECK_INT(tx_run(&c, &t), 0);
    CHECK_INT(t.seen.result.outcome, SMTPC_BOUNCED);
    CHECK_INT(t.seen.result.failure, SMTPC_FAIL_POLICY);
    for (int i = 0; i < 2; i++) {
        CHECK_INT(t.rcpts[i].result.outcome, SMTPC_BOUNCED);
        CHECK_STR(t.rcpts[i].result.status, "5.3.4");
        CHECK_STR(t.rcpts[i].result.reason.data,
                  "message size 100001 exceeds size limit 100000 of server "
                  "mx.example.com[192.0.2.1]");
    }
    /* Nothing was sent: the connection can take the next message. */
    CHECK(smtpc_session_usable(c.session));
    struct step_seen quit = {0};
    smtpc_quit(c.session, step_done, &quit);
    CHECK_INT(run_until(c.loop, &quit), 0);
    client_end(&c);
    CHECK_STR(c.peer.error.data, "");
    smtpc_result_free(&quit.result);
    tx_free(&t);
    peer_free(&c.peer);
    free(script);
}

static void test_smtputf8_and_requiretls(void)
{
    static const char *const rest[] = {"< QUIT", NULL};
    const char **script = script_join(EHLO_FULL, 8, rest);
    struct client c;
    client_start(&c, script, 0);
    CHECK_INT(client_hello(&c), 0);
    struct tx t;
    tx_init(&t, "x\n", 1);
    t.msg.smtputf8 = 1;
    CHECK_INT(tx_run(&c, &t), 0);
    CHECK_INT(t.rcpts[0].result.outcome, SMTPC_BOUNCED);
    CHECK_STR(t.rcpts[0].result.status, "5.6.7");
    CHECK_STR(t.rcpts[0].result.reason.data,
              "SMTPUTF8 is required, but was not offered by host "
              "mx.example.com[192.0.2.1]");
    t.msg.smtputf8 = 0;
    t.msg.requiretls = 1;
    CHECK_INT(tx_run(&c, &t), 0);
    CHECK_INT(t.rcpts[0].result.outcome, SMTPC_BOUNCED);
    CHECK_STR(t.rcpts[0].result.status, "5.7.30");
    struct step_seen quit = {0};
    smtpc_quit(c.session, step_done, &quit);
    CHECK_INT(run_until(c.loop, &quit), 0);
    client_end(&c);
    CHECK_STR(c.peer.error.data, "");
    smtpc_result_free(&quit.result);
    tx_free(&t);
    peer_free(&c.peer);
    free(script);
}

static const char *const EHLO_CHUNKING[] = {
    "> 220 mx.example.com ESMTP",
    "< EHLO client.example",
    "> 250-mx.example.com",
    "> 250 CHUNKING",
};

/* BDAT in chunks (lock-step: no PIPELINING), no dot-stuffing, CRLF line
 * ends; then the same server with BDAT turned off gets DATA. */
static void test_bdat(void)
{
    static const char *const rest[] = {
        "< MAIL FROM:<sender@example.net>",
        "> 250 Ok",
        "< RCPT TO:<a@example.org>",
        "> 250 Ok",
        "<BDAT",
        "> 250 2.0.0 chunk ok",
        "<BDAT",
        "> 250 2.0.0 Ok: queued as B1",
        NULL,
    };
    const char **script = script_join(EHLO_CHUNKING, 4, rest);
    struct client c;
    client_start(&c, script, 0);
    c.settings.bdat_chunk_size = 8;
    CHECK_INT(client_hello(&c), 0);
    struct tx t;
    /* 16 bytes on the wire, read 5 at a time: a chunk is sent once it
     * holds 8 bytes or more, so 11 bytes, then 5 with LAST. */
    tx_init(&t, ".dot\nline two\n", 1);
    t.content.piece = 5;
    CHECK_INT(tx_run(&c, &t), 0);
    CHECK_INT(t.rcpts[0].result.outcome, SMTPC_SENT);
    CHECK_STR(t.rcpts[0].result.reason.data, "250 2.0.0 Ok: queued as B1");
    CHECK_INT(t.rcpts[0].result.command, SMTPC_CMD_BDAT);
    client_end(&c);
    CHECK_STR(c.peer.error.data, "");
    CHECK_STR(c.peer.data.data, ".dot\r\nline two\r\n");
    /* Chunks end with LAST, and only the last. */
    CHECK_STR(c.peer.transcript.data,
              "EHLO client.example\nMAIL FROM:<sender@example.net>\n"
              "RCPT TO:<a@example.org>\nBDAT 11\nBDAT 5 LAST\n");
    tx_free(&t);
    peer_free(&c.peer);
    free(script);

    static const char *const rest_data[] = {
        "< MAIL FROM:<sender@example.net>",
        "> 250 Ok",
        "< RCPT TO:<a@example.org>",
        "> 250 Ok",
        "< DATA",
        "> 354 go",
        "<DATA",
        "> 250 Ok",
        NULL,
    };
    script = script_join(EHLO_CHUNKING, 4, rest_data);
    client_start(&c, script, 0);
    c.settings.bdat_enable = 0;
    CHECK_INT(client_hello(&c), 0);
    tx_init(&t, "x\n", 1);
    CHECK_INT(tx_run(&c, &t), 0);
    CHECK_INT(t.rcpts[0].result.outcome, SMTPC_SENT);
    client_end(&c);
    CHECK_STR(c.peer.error.data, "");
    tx_free(&t);
    peer_free(&c.peer);
    free(script);
}

/* PIPELINING with CHUNKING: a one-chunk message goes out with the
 * envelope, BDAT LAST included. */
static void test_bdat_pipelined(void)
{
    static const char *const script[] = {
        "> 220 mx.example.com ESMTP",
        "< EHLO client.example",
        "> 250-mx.example.com",
        "> 250-PIPELINING",
        "> 250 CHUNKING",
        "< MAIL FROM:<sender@example.net>",
        "< RCPT TO:<a@example.org>",
        "<BDAT",
        "> 250 Ok",
        "> 250 Ok",
        "> 250 2.0.0 Ok: queued as P1",
        NULL,
    };
    struct client c;
    client_start(&c, script, 0);
    CHECK_INT(client_hello(&c), 0);
    struct tx t;
    tx_init(&t, "hello\n", 1);
    CHECK_INT(tx_run(&c, &t), 0);
    CHECK_INT(t.rcpts[0].result.outcome, SMTPC_SENT);
    client_end(&c);
    CHECK_STR(c.peer.error.data, "");
    CHECK(strstr(c.peer.transcript.data, "BDAT 7 LAST\n") != NULL);
    CHECK_STR(c.peer.data.data, "hello\r\n");
    tx_free(&t);
    peer_free(&c.peer);
}

/* LMTP: one reply per accepted recipient after the end of data, in
 * RCPT order; the refused one keeps its RCPT reply. */
static void test_lmtp_per_recipient(void)
{
    static const char *const script[] = {
        "> 220 lmtp.example.com LMTP",
        "< LHLO client.example",
        "> 250-lmtp.example.com",
        "> 250-PIPELINING",
        "> 250 ENHANCEDSTATUSCODES",
        "< MAIL FROM:<sender@example.net>",
        "< RCPT TO:<a@example.org>",
        "< RCPT TO:<b@example.org>",
        "< RCPT TO:<c@example.org>",
        "< RCPT TO:<d@example.org>",
        "< DATA",
        "> 250 2.1.0 Ok",
        "> 250 2.1.5 Ok",
        "> 550 5.1.1 <b@example.org> User doesn't exist",
        "> 250 2.1.5 Ok",
        "> 250 2.1.5 Ok",
        "> 354 go",
        "<DATA",
        "> 250 2.0.0 <a@example.org> Saved",
        "> 452 4.2.2 <c@example.org> Quota exceeded",
        "> 552-5.2.2 <d@example.org> Mailbox full",
        "> 552 5.2.2 really full",
        NULL,
    };
    struct client c;
    client_start(&c, script, 1);
    CHECK_INT(client_hello(&c), 0);
    struct tx t;
    tx_init(&t, "x\n", 4);
    CHECK_INT(tx_run(&c, &t), 0);
    CHECK_INT(t.seen.result.outcome, SMTPC_SENT);
    CHECK_INT(t.rcpts[0].result.outcome, SMTPC_SENT);
    CHECK_STR(t.rcpts[0].result.reason.data, "250 2.0.0 <a@example.org> Saved");
    CHECK_INT(t.rcpts[1].result.outcome, SMTPC_BOUNCED);
    CHECK_INT(t.rcpts[1].result.command, SMTPC_CMD_RCPT);
    CHECK_INT(t.rcpts[2].result.outcome, SMTPC_DEFERRED);
    CHECK_STR(t.rcpts[2].result.reason.data,
              "host mx.example.com[192.0.2.1] said: 452 4.2.2 "
              "<c@example.org> Quota exceeded (in reply to end of DATA "
              "command)");
    CHECK_INT(t.rcpts[3].result.outcome, SMTPC_BOUNCED);
    CHECK_STR(t.rcpts[3].result.status, "5.2.2");
    CHECK_STR(t.rcpts[3].result.reply.text.data,
              "552-5.2.2 <d@example.org> Mailbox full 552 5.2.2 really full");
    client_end(&c);
    CHECK_STR(c.peer.error.data, "");
    tx_free(&t);
    peer_free(&c.peer);
}

/* MAIL refused (pipelined): every recipient gets MAIL's reply; the
 * other replies are read and the connection stays usable. */
static void test_mail_refused(void)
{
    static const char *const rest[] = {
        "< MAIL FROM:<sender@example.net> SIZE=2 RET=FULL",
        "< RCPT TO:<a@example.org>",
        "< DATA",
        "> 553 5.7.1 <sender@example.net>: Sender address rejected",
        "> 503 5.5.1 Error: need MAIL command",
        "> 503 5.5.1 Error: need RCPT command",
        "< QUIT",
        NULL,
    };
    const char **script = script_join(EHLO_FULL, 8, rest);
    struct client c;
    client_start(&c, script, 0);
    CHECK_INT(client_hello(&c), 0);
    struct tx t;
    tx_init(&t, "x\n", 1);
    t.msg.ret = SMTPC_RET_FULL;
    CHECK_INT(tx_run(&c, &t), 0);
    CHECK_INT(t.seen.result.outcome, SMTPC_BOUNCED);
    CHECK_INT(t.seen.result.command, SMTPC_CMD_MAIL);
    CHECK_STR(t.rcpts[0].result.reason.data,
              "host mx.example.com[192.0.2.1] said: 553 5.7.1 "
              "<sender@example.net>: Sender address rejected (in reply to "
              "MAIL FROM command)");
    CHECK(smtpc_session_usable(c.session));
    struct step_seen quit = {0};
    smtpc_quit(c.session, step_done, &quit);
    CHECK_INT(run_until(c.loop, &quit), 0);
    client_end(&c);
    CHECK_STR(c.peer.error.data, "");
    smtpc_result_free(&quit.result);
    tx_free(&t);
    peer_free(&c.peer);
    free(script);
}

/* Two messages on one connection: the first ends with every recipient
 * refused (a transaction left open), so the second starts with RSET. */
static void test_reuse_with_rset(void)
{
    static const char *const rest[] = {
        "< MAIL FROM:<sender@example.net>",
        "> 250 Ok",
        "< RCPT TO:<a@example.org>",
        "> 450 4.1.1 try later",
        "< RSET",
        "> 250 2.0.0 Ok",
        "< MAIL FROM:<sender@example.net>",
        "> 250 Ok",
        "< RCPT TO:<a@example.org>",
        "> 250 Ok",
        "< DATA",
        "> 354 go",
        "<DATA",
        "> 250 2.0.0 Ok: queued as R2",
        "< MAIL FROM:<sender@example.net>",
        "> 250 Ok",
        "< RCPT TO:<a@example.org>",
        "> 250 Ok",
        "< DATA",
        "> 354 go",
        "<DATA",
        "> 250 2.0.0 Ok: queued as R3",
        "< RSET",
        "> 250 2.0.0 Ok",
        NULL,
    };
    const char **script = script_join(EHLO_PLAIN, 3, rest);
    struct client c;
    client_start(&c, script, 0);
    CHECK_INT(client_hello(&c), 0);
    struct tx t;
    tx_init(&t, "one\n", 1);
    CHECK_INT(tx_run(&c, &t), 0);
    CHECK_INT(t.seen.result.outcome, SMTPC_DEFERRED);
    CHECK_INT(t.rcpts[0].result.outcome, SMTPC_DEFERRED);
    CHECK(smtpc_session_usable(c.session));
    CHECK_INT(tx_run(&c, &t), 0);
    CHECK_INT(t.rcpts[0].result.outcome, SMTPC_SENT);
    CHECK_STR(t.rcpts[0].result.reason.data, "250 2.0.0 Ok: queued as R2");
    /* A clean end: no RSET before the third. */
    CHECK_INT(tx_run(&c, &t), 0);
    CHECK_STR(t.rcpts[0].result.reason.data, "250 2.0.0 Ok: queued as R3");
    CHECK_INT(smtpc_session_transactions(c.session), 2);
    /* An RSET probe, as before caching a connection. */
    struct step_seen rset = {0};
    smtpc_rset(c.session, step_done, &rset);
    CHECK_INT(run_until(c.loop, &rset), 0);
    CHECK_INT(rset.result.outcome, SMTPC_SENT);
    client_end(&c);
    CHECK_STR(c.peer.error.data, "");
    CHECK_STR(c.peer.data.data, "one\r\none\r\n");
    smtpc_result_free(&rset.result);
    tx_free(&t);
    peer_free(&c.peer);
    free(script);
}

/* A kept connection checked with smtpc_rset_before_next: RSET goes in
 * the same pipeline as MAIL, RCPT and DATA (the server reads all four
 * before it answers, so a client that waited for RSET's reply would
 * time the script out). */
static void test_rset_before_next_pipelined(void)
{
    static const char *const rest[] = {
        "<~MAIL FROM:<sender@example.net>",
        "< RCPT TO:<a@example.org>",
        "< DATA",
        "> 250 Ok",
        "> 250 Ok",
        "> 354 go",
        "<DATA",
        "> 250 2.0.0 Ok: queued as P1",
        "< RSET",
        "<~MAIL FROM:<sender@example.net>",
        "< RCPT TO:<a@example.org>",
        "< DATA",
        "> 250 2.0.0 Ok",
        "> 250 Ok",
        "> 250 Ok",
        "> 354 go",
        "<DATA",
        "> 250 2.0.0 Ok: queued as P2",
        NULL,
    };
    const char **script = script_join(EHLO_FULL, 8, rest);
    struct client c;
    client_start(&c, script, 0);
    CHECK_INT(client_hello(&c), 0);
    struct tx t;
    tx_init(&t, "one\n", 1);
    CHECK_INT(tx_run(&c, &t), 0);
    CHECK_INT(t.rcpts[0].result.outcome, SMTPC_SENT);
    smtpc_rset_before_next(c.session);
    rcpts_free(t.rcpts, 4);
    memset(t.rcpts, 0, sizeof(t.rcpts[0]));
    t.rcpts[0].address = "a@example.org";
    CHECK_INT(tx_run(&c, &t), 0);
    CHECK_INT(t.rcpts[0].result.outcome, SMTPC_SENT);
    CHECK_STR(t.rcpts[0].result.reason.data, "250 2.0.0 Ok: queued as P2");
    CHECK(smtpc_session_usable(c.session));
    client_end(&c);
    CHECK_STR(c.peer.error.data, "");
    tx_free(&t);
    peer_free(&c.peer);
    free(script);
}

/* The pipelined RSET refused (a server closing the idle connection):
 * the transaction ends with the RSET's reply as its result, every
 * recipient deferred, nothing answered after it, the session unusable. */
static void test_rset_before_next_refused(void)
{
    static const char *const rest[] = {
        "< RSET",
        "<~MAIL FROM:<sender@example.net>",
        "< RCPT TO:<a@example.org>",
        "< DATA",
        "> 421 4.4.2 mx.example.com Error: timeout exceeded",
        "CLOSE",
        NULL,
    };
    const char **script = script_join(EHLO_FULL, 8, rest);
    struct client c;
    client_start(&c, script, 0);
    CHECK_INT(client_hello(&c), 0);
    struct tx t;
    tx_init(&t, "one\n", 1);
    smtpc_rset_before_next(c.session);
    CHECK_INT(tx_run(&c, &t), 0);
    CHECK_INT(t.seen.result.outcome, SMTPC_DEFERRED);
    CHECK_INT(t.seen.result.command, SMTPC_CMD_RSET);
    CHECK_INT(t.rcpts[0].result.outcome, SMTPC_DEFERRED);
    CHECK_INT(t.rcpts[0].result.command, SMTPC_CMD_RSET);
    CHECK(!smtpc_session_usable(c.session));
    client_end(&c);
    CHECK_STR(c.peer.error.data, "");
    tx_free(&t);
    peer_free(&c.peer);
    free(script);
}

/* The server goes away in the middle of the content. */
static void test_drop_mid_data(void)
{
    static const char *const rest[] = {
        "< MAIL FROM:<sender@example.net>",
        "> 250 Ok",
        "< RCPT TO:<a@example.org>",
        "> 550 5.1.1 unknown",
        "< RCPT TO:<b@example.org>",
        "> 250 Ok",
        "< DATA",
        "> 354 go",
        "< line 1",
        "CLOSE",
        NULL,
    };
    const char **script = script_join(EHLO_PLAIN, 3, rest);
    struct client c;
    client_start(&c, script, 0);
    CHECK_INT(client_hello(&c), 0);
    /* A big body, so the client is still writing when the server goes. */
    struct buf body = BUF_INIT;
    buf_init(&body);
    for (int i = 1; i <= 200000; i++)
        buf_appendf(&body, "line %d\n", i);
    struct tx t;
    tx_init(&t, body.data, 2);
    CHECK_INT(tx_run(&c, &t), 0);
    CHECK_INT(t.seen.result.outcome, SMTPC_DEFERRED);
    CHECK_INT(t.seen.result.failure, SMTPC_FAIL_LOST);
    CHECK_INT(t.rcpts[0].result.outcome, SMTPC_BOUNCED);
    CHECK_INT(t.rcpts[1].result.outcome, SMTPC_DEFERRED);
    CHECK_STR(t.rcpts[1].result.status, "4.4.2");
    CHECK_STR(t.rcpts[1].result.reason.data,
              "lost connection with mx.example.com[192.0.2.1] while sending "
              "message body");
    CHECK(!smtpc_session_usable(c.session));
    client_end(&c);
    CHECK_STR(c.peer.error.data, "");
    tx_free(&t);
    buf_free(&body);
    peer_free(&c.peer);
    free(script);
}

/* No reply to the end of data within smtp_data_done_timeout. */
static void test_timeout_end_of_data(void)
{
    static const char *const rest[] = {
        "< MAIL FROM:<sender@example.net>",
        "> 250 Ok",
        "< RCPT TO:<a@example.org>",
        "> 250 Ok",
        "< DATA",
        "> 354 go",
        "<DATA",
        "SLEEP 2000",
        NULL,
    };
    const char **script = script_join(EHLO_PLAIN, 3, rest);
    struct client c;
    client_start(&c, script, 0);
    c.settings.data_done_timeout_ms = 200;
    CHECK_INT(client_hello(&c), 0);
    struct tx t;
    tx_init(&t, "x\n", 1);
    CHECK_INT(tx_run(&c, &t), 0);
    CHECK_INT(t.rcpts[0].result.outcome, SMTPC_DEFERRED);
    CHECK_INT(t.rcpts[0].result.failure, SMTPC_FAIL_TIMEOUT);
    CHECK_STR(t.rcpts[0].result.reason.data,
              "conversation with mx.example.com[192.0.2.1] timed out while "
              "sending end of data -- message may be sent more than once");
    client_end(&c);
    CHECK_STR(c.peer.error.data, "");
    tx_free(&t);
    peer_free(&c.peer);
    free(script);
}

/* The content callback fails: deferred, the connection is given up. */
static void test_content_error(void)
{
    static const char *const rest[] = {
        "< MAIL FROM:<sender@example.net>",
        "> 250 Ok",
        "< RCPT TO:<a@example.org>",
        "> 250 Ok",
        "< DATA",
        "> 354 go",
        NULL,
    };
    const char **script = script_join(EHLO_PLAIN, 3, rest);
    struct client c;
    client_start(&c, script, 0);
    CHECK_INT(client_hello(&c), 0);
    struct tx t;
    tx_init(&t, "0123456789\n", 1);
    t.content.piece = 4;
    t.content.fail_at = 4;
    CHECK_INT(tx_run(&c, &t), 0);
    CHECK_INT(t.rcpts[0].result.outcome, SMTPC_DEFERRED);
    CHECK_INT(t.rcpts[0].result.failure, SMTPC_FAIL_CONTENT);
    CHECK_STR(t.rcpts[0].result.status, "4.3.0");
    CHECK(!smtpc_session_usable(c.session));
    client_end(&c);
    tx_free(&t);
    peer_free(&c.peer);
    free(script);
}

/* A recipient address with CR LF would smuggle a command: refused
 * here, the others still go. */
static void test_bad_address_refused(void)
{
    static const char *const rest[] = {
        "< MAIL FROM:<sender@example.net>",
        "> 250 Ok",
        "< RCPT TO:<b@example.org>",
        "> 250 Ok",
        "< DATA",
        "> 354 go",
        "<DATA",
        "> 250 Ok",
        NULL,
    };
    const char **script = script_join(EHLO_PLAIN, 3, rest);
    struct client c;
    client_start(&c, script, 0);
    CHECK_INT(client_hello(&c), 0);
    struct tx t;
    tx_init(&t, "x\n", 2);
    t.rcpts[0].address = "a@example.org>\r\nRSET";
    CHECK_INT(tx_run(&c, &t), 0);
    CHECK_INT(t.rcpts[0].result.outcome, SMTPC_BOUNCED);
    CHECK_STR(t.rcpts[0].result.status, "5.1.3");
    CHECK_INT(t.rcpts[1].result.outcome, SMTPC_SENT);
    client_end(&c);
    CHECK_STR(c.peer.error.data, "");
    tx_free(&t);
    peer_free(&c.peer);
    free(script);
}

/* LMTP with CHUNKING and PIPELINING: BDAT LAST goes with the envelope
 * and is answered once per recipient accepted. */
static void test_lmtp_bdat(void)
{
    static const char *const script[] = {
        "> 220 lmtp.example.com LMTP",
        "< LHLO client.example",
        "> 250-lmtp.example.com",
        "> 250-PIPELINING",
        "> 250 CHUNKING",
        "< MAIL FROM:<sender@example.net>",
        "< RCPT TO:<a@example.org>",
        "< RCPT TO:<b@example.org>",
        "< RCPT TO:<c@example.org>",
        "<BDAT",
        "> 250 2.1.0 Ok",
        "> 250 2.1.5 Ok",
        "> 450 4.2.1 <b@example.org> try later",
        "> 250 2.1.5 Ok",
        "> 250 2.0.0 <a@example.org> Saved",
        "> 550 5.2.1 <c@example.org> Mailbox disabled",
        NULL,
    };
    struct client c;
    client_start(&c, script, 1);
    CHECK_INT(client_hello(&c), 0);
    struct tx t;
    tx_init(&t, "x\n", 3);
    CHECK_INT(tx_run(&c, &t), 0);
    CHECK_INT(t.rcpts[0].result.outcome, SMTPC_SENT);
    CHECK_INT(t.rcpts[1].result.outcome, SMTPC_DEFERRED);
    CHECK_INT(t.rcpts[1].result.command, SMTPC_CMD_RCPT);
    CHECK_INT(t.rcpts[2].result.outcome, SMTPC_BOUNCED);
    CHECK_STR(t.rcpts[2].result.reason.data,
              "host mx.example.com[192.0.2.1] said: 550 5.2.1 "
              "<c@example.org> Mailbox disabled (in reply to BDAT command)");
    CHECK(smtpc_session_usable(c.session));
    client_end(&c);
    CHECK_STR(c.peer.error.data, "");
    CHECK(strstr(c.peer.transcript.data, "BDAT 3 LAST\n") != NULL);
    tx_free(&t);
    peer_free(&c.peer);
}

/* A RCPT reply that never comes: smtp_rcpt_timeout. */
static void test_timeout_rcpt(void)
{
    static const char *const rest[] = {
        "< MAIL FROM:<sender@example.net>",
        "> 250 Ok",
        "< RCPT TO:<a@example.org>",
        "SLEEP 2000",
        NULL,
    };
    const char **script = script_join(EHLO_PLAIN, 3, rest);
    struct client c;
    client_start(&c, script, 0);
    c.settings.rcpt_timeout_ms = 150;
    CHECK_INT(client_hello(&c), 0);
    struct tx t;
    tx_init(&t, "x\n", 1);
    CHECK_INT(tx_run(&c, &t), 0);
    CHECK_INT(t.rcpts[0].result.failure, SMTPC_FAIL_TIMEOUT);
    CHECK_STR(t.rcpts[0].result.reason.data,
              "conversation with mx.example.com[192.0.2.1] timed out while "
              "sending RCPT TO");
    CHECK_INT(t.rcpts[0].result.command, SMTPC_CMD_RCPT);
    client_end(&c);
    tx_free(&t);
    peer_free(&c.peer);
    free(script);
}

/* Lines longer than smtp_line_length_limit are broken with CRLF and a
 * space, in DATA and in BDAT; a CRLF's CR does not count. */
static void test_long_lines(void)
{
    static const char *const rest[] = {
        "< MAIL FROM:<sender@example.net>",
        "> 250 Ok",
        "< RCPT TO:<a@example.org>",
        "> 250 Ok",
        "< DATA",
        "> 354 go",
        "<DATA",
        "> 250 Ok",
        NULL,
    };
    const char **script = script_join(EHLO_PLAIN, 3, rest);
    struct client c;
    client_start(&c, script, 0);
    c.settings.line_length_limit = 10;
    CHECK_INT(client_hello(&c), 0);
    struct tx t;
    tx_init(&t, "0123456789\r\nabcdefghijklmnopqrstuvwxyz\n.23456789AB\n", 1);
    t.content.piece = 4;
    CHECK_INT(tx_run(&c, &t), 0);
    CHECK_INT(t.rcpts[0].result.outcome, SMTPC_SENT);
    client_end(&c);
    CHECK_STR(c.peer.error.data, "");
    CHECK_STR(c.peer.data.data, "0123456789\r\n"
                                "abcdefghij\r\n klmnopqrs\r\n tuvwxyz\r\n"
                                "..23456789\r\n AB\r\n");
    tx_free(&t);
    peer_free(&c.peer);

    /* 0: no limit. */
    client_start(&c, script, 0);
    c.settings.line_length_limit = 0;
    CHECK_INT(client_hello(&c), 0);
    tx_init(&t, "abcdefghijklmnopqrstuvwxyz\n", 1);
    CHECK_INT(tx_run(&c, &t), 0);
    client_end(&c);
    CHECK_STR(c.peer.data.data, "abcdefghijklmnopqrstuvwxyz\r\n");
    tx_free(&t);
    peer_free(&c.peer);
    free(script);
}

/* 421 to MAIL: the recipients get the reply, and the connection is not
 * used again (the server is closing it). */
static void test_421_ends_session(void)
{
    static const char *const rest[] = {
        "< MAIL FROM:<sender@example.net>",
        "> 421 4.3.2 Service shutting down",
        NULL,
    };
    const char **script = script_join(EHLO_PLAIN, 3, rest);
    struct client c;
    client_start(&c, script, 0);
    CHECK_INT(client_hello(&c), 0);
    struct tx t;
    tx_init(&t, "x\n", 1);
    CHECK_INT(tx_run(&c, &t), 0);
    CHECK_INT(t.rcpts[0].result.outcome, SMTPC_DEFERRED);
    CHECK_INT(t.rcpts[0].result.reply.code, 421);
    CHECK_INT(t.seen.result.command, SMTPC_CMD_MAIL);
    CHECK(!smtpc_session_usable(c.session));
    client_end(&c);
    CHECK_STR(c.peer.error.data, "");
    tx_free(&t);
    peer_free(&c.peer);
    free(script);
}

/* The server refuses the content while it arrives and closes: the
 * reply is the recipients' answer (a bounce), not a lost connection. */
static void test_refused_mid_data(void)
{
    static const char *const rest[] = {
        "< MAIL FROM:<sender@example.net>",
        "> 250 Ok",
        "< RCPT TO:<a@example.org>",
        "> 250 Ok",
        "< DATA",
        "> 354 go",
        "< line 1",
        "> 552 5.3.4 Message size exceeds fixed limit",
        "SLEEP 1500", /* room for a slow client to read the reply */
        NULL,
    };
    const char **script = script_join(EHLO_PLAIN, 3, rest);
    struct client c;
    client_start(&c, script, 0);
    CHECK_INT(client_hello(&c), 0);
    struct buf body = BUF_INIT;
    buf_init(&body);
    for (int i = 1; i <= 200000; i++)
        buf_appendf(&body, "line %d\n", i);
    struct tx t;
    tx_init(&t, body.data, 1);
    CHECK_INT(tx_run(&c, &t), 0);
    CHECK_INT(t.rcpts[0].result.outcome, SMTPC_BOUNCED);
    CHECK_STR(t.rcpts[0].result.status, "5.3.4");
    CHECK_STR(t.rcpts[0].result.reason.data,
              "host mx.example.com[192.0.2.1] said: 552 5.3.4 Message size "
              "exceeds fixed limit (in reply to end of DATA command)");
    CHECK(!smtpc_session_usable(c.session));
    client_end(&c);
    CHECK_STR(c.peer.error.data, "");
    tx_free(&t);
    buf_free(&body);
    peer_free(&c.peer);
    free(script);
}

/* Many recipients under PIPELINING: at most pipeline_limit commands
 * await replies (the server reads 64 commands before answering them in
 * one write, which also makes the client read many buffered replies at
 * once). */
static void test_pipeline_window(void)
{
    enum { RCPTS = 150, WINDOW = 64 };
    static char addrs[RCPTS][32];
    static char lines[RCPTS][48];
    const char **script = calloc(64 + 2 * (RCPTS + 2) + 16, sizeof(*script));
    size_t n = 0;
    script[n++] = "> 220 mx.example.com ESMTP";
    script[n++] = "< EHLO client.example";
    script[n++] = "> 250-mx.example.com";
    script[n++] = "> 250 PIPELINING";
    struct buf replies[3];
    size_t commands = RCPTS + 2, sent = 0;
    for (int batch = 0; batch < 3; batch++) {
        size_t count = commands - sent < WINDOW ? commands - sent : WINDOW;
        buf_init(&replies[batch]);
        for (size_t k = 0; k < count; k++, sent++) {
            if (sent == 0) {
                script[n++] = "< MAIL FROM:<sender@example.net>";
                buf_append_str(&replies[batch], "250 2.1.0 Ok\r\n");
            } else if (sent <= RCPTS) {
                snprintf(addrs[sent - 1], sizeof(addrs[0]), "r%zu@example.org",
                         sent);
                snprintf(lines[sent - 1], sizeof(lines[0]), "< RCPT TO:<%s>",
                         addrs[sent - 1]);
                script[n++] = lines[sent - 1];
                buf_append_str(&replies[batch], sent % 7
                                                    ? "250 2.1.5 Ok\r\n"
                                                    : "550 5.1.1 unknown\r\n");
            } else {
                script[n++] = "< DATA";
                buf_append_str(&replies[batch], "354 go\r\n");
            }
        }
        if (count == WINDOW)
            script[n++] = "QUIET 100"; /* no command past the window */
        struct buf op = BUF_INIT;
        buf_init(&op);
        buf_append_str(&op, ">>");
        buf_append(&op, replies[batch].data, replies[batch].len);
        buf_free(&replies[batch]);
        replies[batch] = op;
        script[n++] = replies[batch].data;
    }
    script[n++] = "<DATA";
    script[n++] = "> 250 2.0.0 Ok: queued as W1";
    script[n] = NULL;

    struct client c;
    client_start(&c, script, 0);
    CHECK_INT(client_hello(&c), 0);
    struct smtpc_rcpt *rcpts = calloc(RCPTS, sizeof(*rcpts));
    for (int i = 0; i < RCPTS; i++)
        rcpts[i].address = addrs[i];
    struct mem_content content = {"x\n", 2, 0, 0, 0};
    struct smtpc_message msg;
    memset(&msg, 0, sizeof(msg));
    msg.sender = "sender@example.net";
    msg.size = 2;
    msg.rcpts = rcpts;
    msg.rcpt_count = RCPTS;
    msg.content.read = mem_read;
    msg.content.read_ctx = &content;
    struct step_seen seen = {0};
    smtpc_send(c.session, &msg, step_done, &seen);
    CHECK_INT(run_until(c.loop, &seen), 0);
    CHECK_INT(seen.result.outcome, SMTPC_SENT);
    int sent_count = 0, bounced = 0;
    for (int i = 0; i < RCPTS; i++) {
        sent_count += rcpts[i].result.outcome == SMTPC_SENT;
        bounced += rcpts[i].result.outcome == SMTPC_BOUNCED;
    }
    CHECK_INT(bounced, RCPTS / 7);
    CHECK_INT(sent_count, RCPTS - RCPTS / 7);
    CHECK_INT(rcpts[6].result.outcome, SMTPC_BOUNCED); /* r7 */
    client_end(&c);
    CHECK_STR(c.peer.error.data, "");
    rcpts_free(rcpts, RCPTS);
    free(rcpts);
    smtpc_result_free(&seen.result);
    for (int batch = 0; batch < 3; batch++)
        buf_free(&replies[batch]);
    peer_free(&c.peer);
    free(script);
}

/* The server stops reading the content: smtp_data_xfer_timeout. */
static void test_timeout_body(void)
{
    static const char *const rest[] = {
        "< MAIL FROM:<sender@example.net>",
        "> 250 Ok",
        "< RCPT TO:<a@example.org>",
        "> 250 Ok",
        "< DATA",
        "> 354 go",
        "SLEEP 2000",
        NULL,
    };
    const char **script = script_join(EHLO_PLAIN, 3, rest);
    struct client c;
    client_start(&c, script, 0);
    c.settings.data_xfer_timeout_ms = 200;
    CHECK_INT(client_hello(&c), 0);
    struct buf body = BUF_INIT;
    buf_init(&body);
    for (int i = 1; i <= 400000; i++)
        buf_appendf(&body, "line %d\n", i);
    struct tx t;
    tx_init(&t, body.data, 1);
    CHECK_INT(tx_run(&c, &t), 0);
    CHECK_INT(t.rcpts[0].result.failure, SMTPC_FAIL_TIMEOUT);
    CHECK_STR(t.rcpts[0].result.reason.data,
              "conversation with mx.example.com[192.0.2.1] timed out while "
              "sending message body");
    client_end(&c);
    tx_free(&t);
    buf_free(&body);
    peer_free(&c.peer);
    free(script);
}

/* smtp_discard_ehlo_keywords: offered extensions the client ignores. */
static void test_discard_ehlo_keywords(void)
{
    static const char *const rest[] = {
        "< MAIL FROM:<sender@example.net> SIZE=2",
        "> 250 Ok",
        "< RCPT TO:<a@example.org>",
        "> 250 Ok",
        "< DATA",
        "> 354 go",
        "<DATA",
        "> 250 Ok",
        NULL,
    };
    const char **script = script_join(EHLO_FULL, 8, rest);
    struct client c;
    client_start(&c, script, 0);
    c.settings.discard_caps = smtpc_caps_bit("pipelining") |
                              smtpc_caps_bit("DSN") |
                              smtpc_caps_bit("8bitmime");
    CHECK_INT(smtpc_caps_bit("X-UNKNOWN"), 0);
    CHECK_INT(client_hello(&c), 0);
    CHECK_INT(smtpc_session_caps(c.session)->flags,
              SMTPC_CAP_SIZE | SMTPC_CAP_ENHANCEDSTATUSCODES);
    struct tx t;
    tx_init(&t, "x\n", 1);
    t.msg.body = SMTPC_BODY_8BITMIME;
    t.msg.ret = SMTPC_RET_FULL;
    t.rcpts[0].notify = DSN_NOTIFY_FAILURE;
    CHECK_INT(tx_run(&c, &t), 0);
    CHECK_INT(t.rcpts[0].result.outcome, SMTPC_SENT);
    client_end(&c);
    CHECK_STR(c.peer.error.data, "");
    tx_free(&t);
    peer_free(&c.peer);
    free(script);
}

/* BDAT under PIPELINING: once the recipients are answered, up to four
 * chunks go out without waiting (the server reads three more chunks
 * before it answers the first). */
static void test_bdat_chunks_pipelined(void)
{
    static const char *const script[] = {
        "> 220 mx.example.com ESMTP",
        "< EHLO client.example",
        "> 250-mx.example.com",
        "> 250-PIPELINING",
        "> 250 CHUNKING",
        "< MAIL FROM:<sender@example.net>",
        "< RCPT TO:<a@example.org>",
        "<BDAT",
        "> 250 Ok",
        "> 250 Ok",
        "<BDAT",
        "<BDAT",
        "<BDAT",
        "QUIET 100",
        ">>250 c1\r\n250 c2\r\n250 c3\r\n250 c4\r\n",
        "<BDAT",
        "<BDAT",
        "> 250 c5",
        "> 250 2.0.0 Ok: queued as C6",
        NULL,
    };
    struct client c;
    client_start(&c, script, 0);
    c.settings.bdat_chunk_size = 8;
    CHECK_INT(client_hello(&c), 0);
    struct tx t;
    tx_init(&t, "0123456789\n0123456789\n0123456789\n0123456789\n", 1);
    t.content.piece = 8;
    CHECK_INT(tx_run(&c, &t), 0);
    CHECK_INT(t.rcpts[0].result.outcome, SMTPC_SENT);
    CHECK_STR(t.rcpts[0].result.reason.data, "250 2.0.0 Ok: queued as C6");
    client_end(&c);
    CHECK_STR(c.peer.error.data, "");
    CHECK_STR(c.peer.data.data, "0123456789\r\n0123456789\r\n0123456789\r\n"
                                "0123456789\r\n");
    CHECK(strstr(c.peer.transcript.data, "BDAT 5 LAST\n") != NULL);
    tx_free(&t);
    peer_free(&c.peer);
}

int main(void)
{
    UNIT_RUN(test_lockstep_dot_stuffing);
    UNIT_RUN(test_pipelining_and_dsn);
    UNIT_RUN(test_no_dsn_and_7bit_hook);
    UNIT_RUN(test_7bit_hook_drops_size);
    UNIT_RUN(test_size_refused_before_mail);
    UNIT_RUN(test_smtputf8_and_requiretls);
    UNIT_RUN(test_bdat);
    UNIT_RUN(test_bdat_pipelined);
    UNIT_RUN(test_lmtp_per_recipient);
    UNIT_RUN(test_mail_refused);
    UNIT_RUN(test_reuse_with_rset);
    UNIT_RUN(test_rset_before_next_pipelined);
    UNIT_RUN(test_rset_before_next_refused);
    UNIT_RUN(test_drop_mid_data);
    UNIT_RUN(test_timeout_end_of_data);
    UNIT_RUN(test_content_error);
    UNIT_RUN(test_bad_address_refused);
    UNIT_RUN(test_lmtp_bdat);
    UNIT_RUN(test_timeout_rcpt);
    UNIT_RUN(test_long_lines);
    UNIT_RUN(test_421_ends_session);
    UNIT_RUN(test_refused_mid_data);
    UNIT_RUN(test_pipeline_window);
    UNIT_RUN(test_timeout_body);
    UNIT_RUN(test_discard_ehlo_keywords);
    UNIT_RUN(test_bdat_chunks_pipelined);
    return unit_summary();
}
