/* test_smtpc_session.c: unit tests for lib/smtpc's steps around the
 * transaction, against a scripted server over a socketpair
 * (tests/unit/smtpc_fixture.h): the greeting (multi-line, refused,
 * lost, timed out, malformed), EHLO with the HELO fallback, LHLO, the
 * STARTTLS step with the caller's handshake, AUTH PLAIN and LOGIN, an
 * unasked 421, and what a dead session refuses. */
#include "unit.h"

#include "smtpc_fixture.h"

/* Runs smtpc_hello on a fresh client; the result stays in seen. */
static void hello_on(struct client *c, const char *const *script, int lmtp,
                     struct step_seen *seen)
{
    client_start(c, script, lmtp);
    smtpc_hello(c->session, step_done, seen);
    run_until(c->loop, seen);
}

static void hello_end(struct client *c, struct step_seen *seen)
{
    client_end(c);
    CHECK_STR(c->peer.error.data, "");
    smtpc_result_free(&seen->result);
    peer_free(&c->peer);
}

static void test_multiline_greeting_and_ehlo(void)
{
    static const char *const script[] = {
        "> 220-mx.example.com ESMTP",
        "> 220-more words",
        "> 220 last line",
        "< EHLO client.example",
        "> 250-mx.example.com greets you",
        "> 250-STARTTLS",
        "> 250 AUTH PLAIN LOGIN",
        NULL,
    };
    struct client c;
    struct step_seen seen = {0};
    hello_on(&c, script, 0, &seen);
    CHECK_INT(seen.called, 1);
    CHECK_INT(seen.result.outcome, SMTPC_SENT);
    CHECK_INT(seen.result.command, SMTPC_CMD_EHLO);
    CHECK_STR(smtpc_session_greeting(c.session)->text.data,
              "220-mx.example.com ESMTP 220-more words 220 last line");
    const struct smtpc_caps *caps = smtpc_session_caps(c.session);
    CHECK_INT(caps->flags, SMTPC_CAP_STARTTLS | SMTPC_CAP_AUTH);
    CHECK_STR(smtpc_session_peer(c.session), "mx.example.com[192.0.2.1]");
    CHECK(smtpc_session_usable(c.session));
    hello_end(&c, &seen);
}

static void test_greeting_refused(void)
{
    static const char *const script[] = {"> 554 5.7.1 go away", NULL};
    struct client c;
    struct step_seen seen = {0};
    hello_on(&c, script, 0, &seen);
    /* smtp_skip_5xx_greeting: deferred, so the next MX is tried. */
    CHECK_INT(seen.result.outcome, SMTPC_DEFERRED);
    CHECK_STR(seen.result.status, "4.7.1");
    CHECK_STR(seen.result.reason.data,
              "host mx.example.com[192.0.2.1] refused to talk to me: 554 "
              "5.7.1 go away");
    CHECK_INT(seen.result.command, SMTPC_CMD_GREETING);
    CHECK(!smtpc_session_usable(c.session));
    hello_end(&c, &seen);

    memset(&seen, 0, sizeof(seen));
    client_start(&c, script, 0);
    c.settings.skip_5xx_greeting = 0;
    smtpc_hello(c.session, step_done, &seen);
    run_until(c.loop, &seen);
    CHECK_INT(seen.result.outcome, SMTPC_BOUNCED);
    CHECK_STR(seen.result.status, "5.7.1");
    hello_end(&c, &seen);
}

static void test_greeting_lost_timeout_malformed(void)
{
    static const char *const lost[] = {"CLOSE", NULL};
    struct client c;
    struct step_seen seen = {0};
    hello_on(&c, lost, 0, &seen);
    CHECK_INT(seen.result.outcome, SMTPC_DEFERRED);
    CHECK_INT(seen.result.failure, SMTPC_FAIL_LOST);
    CHECK_STR(seen.result.status, "4.4.2");
    CHECK_STR(seen.result.reason.data,
              "lost connection with mx.example.com[192.0.2.1] while "
              "receiving the initial server greeting");
    hello_end(&c, &seen);

    static const char *const slow[] = {"SLEEP 2000", NULL};
    memset(&seen, 0, sizeof(seen));
    client_start(&c, slow, 0);
    c.settings.helo_timeout_ms = 100;
    smtpc_hello(c.session, step_done, &seen);
    run_until(c.loop, &seen);
    CHECK_INT(seen.result.failure, SMTPC_FAIL_TIMEOUT);
    CHECK_STR(seen.result.reason.data,
              "conversation with mx.example.com[192.0.2.1] timed out while "
              "receiving the initial server greeting");
    hello_end(&c, &seen);

    static const char *const garbage[] = {"> HTTP/1.1 400 Bad Request", NULL};
    memset(&seen, 0, sizeof(seen));
    hello_on(&c, garbage, 0, &seen);
    CHECK_INT(seen.result.outcome, SMTPC_DEFERRED);
    CHECK_INT(seen.result.failure, SMTPC_FAIL_PROTOCOL);
    CHECK_STR(seen.result.reason.data,
              "protocol error with mx.example.com[192.0.2.1] while receiving "
              "the initial server greeting: malformed reply line");
    hello_end(&c, &seen);

    /* A reply line past the bound. */
    struct buf longline = BUF_INIT;
    buf_init(&longline);
    buf_append_str(&longline, "> 220 ");
    for (int i = 0; i < SMTPC_REPLY_MAX_LINE + 10; i++)
        buf_append_char(&longline, 'x');
    const char *toolong[] = {longline.data, NULL};
    memset(&seen, 0, sizeof(seen));
    hello_on(&c, toolong, 0, &seen);
    CHECK_INT(seen.result.failure, SMTPC_FAIL_PROTOCOL);
    hello_end(&c, &seen);
    buf_free(&longline);
}

static void test_helo_fallback(void)
{
    static const char *const script[] = {
        "> 220 old.example.com SMTP",
        "< EHLO client.example",
        "> 502 5.5.2 command not recognized",
        "< HELO client.example",
        "> 250 old.example.com",
        NULL,
    };
    struct client c;
    struct step_seen seen = {0};
    hello_on(&c, script, 0, &seen);
    CHECK_INT(seen.result.outcome, SMTPC_SENT);
    CHECK_INT(seen.result.command, SMTPC_CMD_HELO);
    CHECK_INT(smtpc_session_caps(c.session)->flags, 0);
    hello_end(&c, &seen);

    /* 421 to EHLO: the server is going away, no HELO. */
    static const char *const gone[] = {
        "> 220 mx.example.com ESMTP",
        "< EHLO client.example",
        "> 421 4.3.2 shutting down",
        NULL,
    };
    memset(&seen, 0, sizeof(seen));
    hello_on(&c, gone, 0, &seen);
    CHECK_INT(seen.result.outcome, SMTPC_DEFERRED);
    CHECK_STR(seen.result.reason.data,
              "host mx.example.com[192.0.2.1] refused to talk to me: 421 "
              "4.3.2 shutting down");
    hello_end(&c, &seen);
}

static void test_lhlo(void)
{
    static const char *const script[] = {
        "> 220 lmtp.example.com LMTP",
        "< LHLO client.example",
        "> 250-lmtp.example.com",
        "> 250 PIPELINING",
        NULL,
    };
    struct client c;
    struct step_seen seen = {0};
    hello_on(&c, script, 1, &seen);
    CHECK_INT(seen.result.outcome, SMTPC_SENT);
    CHECK_INT(seen.result.command, SMTPC_CMD_LHLO);
    CHECK_INT(smtpc_session_caps(c.session)->flags, SMTPC_CAP_PIPELINING);
    hello_end(&c, &seen);

    /* LMTP has no HELO to fall back to. */
    static const char *const refused[] = {
        "> 220 lmtp.example.com LMTP",
        "< LHLO client.example",
        "> 500 5.5.1 what",
        NULL,
    };
    memset(&seen, 0, sizeof(seen));
    hello_on(&c, refused, 1, &seen);
    CHECK_INT(seen.result.outcome, SMTPC_BOUNCED);
    CHECK_INT(seen.result.command, SMTPC_CMD_LHLO);
    hello_end(&c, &seen);
}

/* The caller's "handshake" here swaps nothing; what is tested is the
 * engine's part: STARTTLS, the hand-over, EHLO again with the old
 * extensions forgotten. */
static int tls_handshakes; /* fake_tls calls */
static int tls_fails;      /* fake_tls reports a failed handshake */

static void fake_tls(struct smtpc_session *session, struct stream *stream,
                     void *ctx)
{
    struct step_seen *seen = ctx;
    (void)stream;
    CHECK_INT(seen->called, 0); /* the handshake comes before done */
    tls_handshakes++;
    smtpc_starttls_finish(session, !tls_fails, 1, "test");
}

static void test_starttls(void)
{
    static const char *const script[] = {
        "> 220 mx.example.com ESMTP",
        "< EHLO client.example",
        "> 250-mx.example.com",
        "> 250-STARTTLS",
        "> 250 SIZE 1000",
        "< STARTTLS",
        "> 220 2.0.0 Ready to start TLS",
        "< EHLO client.example",
        "> 250-mx.example.com",
        "> 250-AUTH PLAIN",
        "> 250 SIZE 2000",
        NULL,
    };
    struct client c;
    struct step_seen seen = {0};
    hello_on(&c, script, 0, &seen);
    CHECK(smtpc_session_caps(c.session)->flags & SMTPC_CAP_STARTTLS);
    smtpc_result_free(&seen.result);
    memset(&seen, 0, sizeof(seen));
    smtpc_starttls(c.session, fake_tls, step_done, &seen);
    run_until(c.loop, &seen);
    CHECK_INT(tls_handshakes, 1);
    CHECK_INT(seen.called, 1);
    CHECK_INT(seen.result.outcome, SMTPC_SENT);
    const struct smtpc_caps *caps = smtpc_session_caps(c.session);
    CHECK_INT(caps->flags, SMTPC_CAP_AUTH | SMTPC_CAP_SIZE);
    CHECK_INT(caps->size_limit, 2000);
    hello_end(&c, &seen);

    /* Refused: the session goes on in plain text. */
    static const char *const refused[] = {
        "> 220 mx.example.com ESMTP",
        "< EHLO client.example",
        "> 250 STARTTLS",
        "< STARTTLS",
        "> 454 4.7.0 TLS not available",
        NULL,
    };
    memset(&seen, 0, sizeof(seen));
    hello_on(&c, refused, 0, &seen);
    smtpc_result_free(&seen.result);
    memset(&seen, 0, sizeof(seen));
    smtpc_starttls(c.session, fake_tls, step_done, &seen);
    run_until(c.loop, &seen);
    CHECK_INT(tls_handshakes, 1);
    CHECK_INT(seen.result.outcome, SMTPC_DEFERRED);
    CHECK(smtpc_session_usable(c.session));
    hello_end(&c, &seen);

    /* Bytes after the 220 (a STARTTLS injection): never trusted. */
    static const char *const injected[] = {
        "> 220 mx.example.com ESMTP",
        "< EHLO client.example",
        "> 250 STARTTLS",
        "< STARTTLS",
        ">>220 go\r\n250-injected\r\n",
        NULL,
    };
    memset(&seen, 0, sizeof(seen));
    hello_on(&c, injected, 0, &seen);
    smtpc_result_free(&seen.result);
    memset(&seen, 0, sizeof(seen));
    smtpc_starttls(c.session, fake_tls, step_done, &seen);
    run_until(c.loop, &seen);
    CHECK_INT(tls_handshakes, 1); /* no handshake */
    CHECK_INT(seen.result.failure, SMTPC_FAIL_PROTOCOL);
    CHECK(!smtpc_session_usable(c.session));
    hello_end(&c, &seen);

    /* The handshake fails. */
    static const char *const ready[] = {
        "> 220 mx.example.com ESMTP",
        "< EHLO client.example",
        "> 250 STARTTLS",
        "< STARTTLS",
        "> 220 go",
        NULL,
    };
    memset(&seen, 0, sizeof(seen));
    hello_on(&c, ready, 0, &seen);
    smtpc_result_free(&seen.result);
    memset(&seen, 0, sizeof(seen));
    tls_fails = 1;
    smtpc_starttls(c.session, fake_tls, step_done, &seen);
    run_until(c.loop, &seen);
    CHECK_INT(tls_handshakes, 2);
    CHECK_INT(seen.result.failure, SMTPC_FAIL_TLS);
    CHECK_STR(seen.result.status, "4.7.5");
    CHECK_STR(seen.result.reason.data, "Cannot start TLS: handshake failure");
    CHECK(!smtpc_session_usable(c.session));
    hello_end(&c, &seen);
}

static void test_auth(void)
{
    /* base64("\0user\0secret") = AHVzZXIAc2VjcmV0 */
    static const char *const plain[] = {
        "> 220 mx.example.com ESMTP",
        "< EHLO client.example",
        "> 250 AUTH PLAIN LOGIN",
        "< AUTH PLAIN AHVzZXIAc2VjcmV0",
        "> 235 2.7.0 Authentication successful",
        NULL,
    };
    struct client c;
    struct step_seen seen = {0};
    hello_on(&c, plain, 0, &seen);
    smtpc_result_free(&seen.result);
    memset(&seen, 0, sizeof(seen));
    smtpc_auth_password(c.session, "plain", "user", "secret", step_done, &seen);
    run_until(c.loop, &seen);
    CHECK_INT(seen.result.outcome, SMTPC_SENT);
    CHECK_INT(seen.result.command, SMTPC_CMD_AUTH);
    hello_end(&c, &seen);

    /* LOGIN: user name and password after the prompts (base64 of
     * "Username:", "Password:", "user", "secret"). */
    static const char *const login[] = {
        "> 220 mx.example.com ESMTP",
        "< EHLO client.example",
        "> 250 AUTH LOGIN",
        "< AUTH LOGIN",
        "> 334 VXNlcm5hbWU6",
        "< dXNlcg==",
        "> 334 UGFzc3dvcmQ6",
        "< c2VjcmV0",
        "> 535 5.7.8 Error: authentication failed",
        NULL,
    };
    memset(&seen, 0, sizeof(seen));
    hello_on(&c, login, 0, &seen);
    smtpc_result_free(&seen.result);
    memset(&seen, 0, sizeof(seen));
    smtpc_auth_password(c.session, "LOGIN", "user", "secret", step_done, &seen);
    run_until(c.loop, &seen);
    CHECK_INT(seen.result.outcome, SMTPC_BOUNCED);
    CHECK_STR(seen.result.status, "5.7.8");
    CHECK_STR(seen.result.reason.data,
              "SASL authentication failed; server mx.example.com[192.0.2.1] "
              "said: 535 5.7.8 Error: authentication failed");
    /* A refusal leaves the session usable. */
    CHECK(smtpc_session_usable(c.session));
    hello_end(&c, &seen);
}

/* A 421 that came while idle ends the session at the next step; a dead
 * session refuses the next step without I/O. */
static void test_unasked_421_and_dead_session(void)
{
    static const char *const script[] = {
        "> 220 mx.example.com ESMTP",
        "< EHLO client.example",
        "> 250 mx.example.com",
        "< RSET",
        "> 250 Ok",
        "> 421 4.4.2 idle too long",
        NULL,
    };
    struct client c;
    struct step_seen seen = {0};
    hello_on(&c, script, 0, &seen);
    smtpc_result_free(&seen.result);
    memset(&seen, 0, sizeof(seen));
    smtpc_rset(c.session, step_done, &seen);
    run_until(c.loop, &seen);
    CHECK_INT(seen.result.outcome, SMTPC_SENT);
    smtpc_result_free(&seen.result);
    /* The 421 came while the session was idle: it answers the next
     * command, and the session ends. */
    peer_finish(&c.peer);
    memset(&seen, 0, sizeof(seen));
    smtpc_rset(c.session, step_done, &seen);
    run_until(c.loop, &seen);
    CHECK_INT(seen.result.outcome, SMTPC_DEFERRED);
    CHECK(!smtpc_session_usable(c.session));
    smtpc_result_free(&seen.result);

    memset(&seen, 0, sizeof(seen));
    smtpc_quit(c.session, step_done, &seen);
    CHECK_INT(seen.called, 0); /* never from inside the call */
    run_until(c.loop, &seen);
    CHECK_INT(seen.result.outcome, SMTPC_DEFERRED);
    CHECK_STR(seen.result.reason.data,
              "connection with mx.example.com[192.0.2.1] is no longer usable");
    smtpc_session_free(c.session);
    stream_close(c.stream);
    event_loop_free(c.loop);
    smtpc_result_free(&seen.result);
    peer_free(&c.peer);
}

int main(void)
{
    UNIT_RUN(test_multiline_greeting_and_ehlo);
    UNIT_RUN(test_greeting_refused);
    UNIT_RUN(test_greeting_lost_timeout_malformed);
    UNIT_RUN(test_helo_fallback);
    UNIT_RUN(test_lhlo);
    UNIT_RUN(test_starttls);
    UNIT_RUN(test_auth);
    UNIT_RUN(test_unasked_421_and_dead_session);
    return unit_summary();
}
