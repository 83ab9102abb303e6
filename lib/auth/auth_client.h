/* auth_client.h: the client side of Dovecot's authentication protocol
 * (v1.x), on the event loop: what smtpd (and later imapd, pop3d) uses to
 * ask an auth server (Postern's `auth`, or a Dovecot's auth-client
 * socket) whether a SASL exchange succeeds.
 *
 * One connection per process, shared by every session in it; requests
 * are multiplexed by id. The connection is made when first needed and
 * again after the server went away: the handshake sends VERSION and
 * CPID and reads the server's VERSION, MECH lines (the mechanisms it
 * offers, with their properties), SPID, CUID, COOKIE and DONE. A request
 * sends AUTH (service, local and remote address and port, `secured` over
 * TLS, the initial response) and gets CONT (a challenge: the caller
 * answers with auth_request_continue), OK or FAIL. Nothing here ever
 * blocks; callbacks run from the event loop, never from inside a call.
 *
 * When the server goes away (EOF, an error, a line that is not the
 * protocol) every request in flight fails temporarily ("Connection lost
 * to authentication server"); so does one that gets no answer within the
 * reply time limit. See docs/auth.md, "The auth protocol" and
 * docs/smtpd.md, "SASL authentication". */
#ifndef POSTERN_AUTH_CLIENT_H
#define POSTERN_AUTH_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "auth/auth_line.h"
#include "base/event.h"

/* ---- the server's lines, parsed (pure: the fuzz target's subject) ---- */

enum auth_server_cmd {
    AUTH_SERVER_UNKNOWN, /* a command we do not know: ignored */
    AUTH_SERVER_VERSION,
    AUTH_SERVER_MECH,
    AUTH_SERVER_SPID,
    AUTH_SERVER_CUID,
    AUTH_SERVER_COOKIE,
    AUTH_SERVER_DONE,
    AUTH_SERVER_OK,
    AUTH_SERVER_CONT,
    AUTH_SERVER_FAIL,
};

/* MECH properties (Dovecot's names). */
#define AUTH_MECH_ANONYMOUS 0x01
#define AUTH_MECH_PLAINTEXT 0x02
#define AUTH_MECH_DICTIONARY 0x04
#define AUTH_MECH_ACTIVE 0x08
#define AUTH_MECH_FORWARD_SECRECY 0x10
#define AUTH_MECH_MUTUAL_AUTH 0x20
#define AUTH_MECH_PRIVATE 0x40

/* One line from the server. Strings point into `line` (valid until the
 * next parse or auth_line_free). */
struct auth_server_line {
    enum auth_server_cmd cmd;
    struct auth_line line;
    unsigned major, minor; /* VERSION */
    const char *mech;      /* MECH: the name */
    unsigned mech_flags;   /* MECH: AUTH_MECH_* */
    unsigned id;           /* OK, CONT, FAIL: the request id */
    const char *data;      /* CONT: the base64 challenge ("" when none) */
    const char *user;      /* OK, FAIL: user=, or NULL */
    const char *reason;    /* FAIL: reason=, or NULL */
    int temp;              /* FAIL: temp (a temporary failure) */
};

#define AUTH_SERVER_LINE_INIT {AUTH_SERVER_UNKNOWN, AUTH_LINE_INIT, 0, 0, NULL, 0, 0, NULL, NULL, NULL, 0}

/* Parses text[0..len) (one line without its LF). Returns 0, or -1 when
 * the line cannot be split or a known command lacks what it must carry
 * (VERSION without two numbers, MECH without a name, OK/CONT/FAIL
 * without a valid id, CONT without data): a protocol error. */
int auth_server_line_parse(struct auth_server_line *out, const char *text,
                           size_t len);
void auth_server_line_free(struct auth_server_line *out);

/* ---- the client ---- */

struct auth_client;
struct auth_request;

/* A mechanism the server offered. */
struct auth_mech {
    char *name;
    unsigned flags; /* AUTH_MECH_* */
};

/* Someone waiting for the handshake (auth_client_wait_ready). Embed it;
 * treat the fields as private. */
struct auth_wait {
    struct auth_wait *next;
    void (*cb)(void *ctx, int ready);
    void *ctx;
    int linked;
};

/* A client for the server at `path` (a unix socket). `service` goes into
 * every AUTH (e.g. "smtp"). timeout_ms bounds the connection and
 * handshake, and the wait for each reply. Nothing is connected yet. */
struct auth_client *auth_client_new(struct event_loop *loop, const char *path,
                                    const char *service, uint64_t timeout_ms);
/* Closes the connection and frees everything; requests in flight are
 * dropped without their callbacks. */
void auth_client_free(struct auth_client *client);

/* 1 when the handshake is done (the mechanisms are known). */
int auth_client_ready(const struct auth_client *client);
/* Calls cb(ctx, ready) from the event loop once the handshake is done
 * (ready = 1) or has failed (0), connecting first if needed; returns 1
 * (and never calls cb) when it is done already. */
int auth_client_wait_ready(struct auth_client *client, struct auth_wait *wait,
                           void (*cb)(void *ctx, int ready), void *ctx);
/* Forgets a wait (the waiter goes away first); safe when not waiting. */
void auth_client_wait_cancel(struct auth_client *client,
                             struct auth_wait *wait);

/* The mechanisms of the last handshake (0 before one). */
size_t auth_client_mech_count(const struct auth_client *client);
const struct auth_mech *auth_client_mech(const struct auth_client *client,
                                         size_t index);
/* The offered mechanism named name (case-insensitive), or NULL. */
const struct auth_mech *auth_client_mech_find(const struct auth_client *client,
                                              const char *name);

/* What a request's callback is told. */
enum auth_result_kind {
    AUTH_RESULT_CONT, /* a challenge: answer with auth_request_continue */
    AUTH_RESULT_OK,   /* authenticated as user (NULL if the server said
                         none: treat as a failure) */
    AUTH_RESULT_FAIL, /* refused */
    AUTH_RESULT_TEMP, /* a temporary failure: the server said temp, or it
                         cannot be reached, went away or did not answer */
};

struct auth_result {
    enum auth_result_kind kind;
    const char *challenge; /* CONT: base64, "" when empty */
    const char *user;      /* OK, FAIL: the server's user=, or NULL */
    const char *reason;    /* FAIL, TEMP: the reason, or NULL */
    /* OK: the whole reply line, for the fields after user= (imap's
     * uid=, gid=, home=, mail=: auth_line_param(fields, 2, "uid")); NULL
     * otherwise. Valid during the callback only. */
    const struct auth_line *fields;
};

/* The request's facts. Strings are copied. initial_response is the
 * base64 initial response ("" for an empty one) or NULL for none. */
struct auth_request_info {
    const char *mech;
    const char *local_ip, *local_port;
    const char *remote_ip, *remote_port;
    int secured; /* the client's connection is encrypted (TLS) */
    const char *initial_response;
};

typedef void (*auth_request_cb)(void *ctx, const struct auth_result *result);

/* Starts a request (connecting first when needed). cb runs from the
 * event loop for each CONT and once for the end (OK, FAIL or TEMP); after
 * the end the request is freed by the client. Never NULL. */
struct auth_request *auth_client_request(struct auth_client *client,
                                         const struct auth_request_info *info,
                                         auth_request_cb cb, void *ctx);
/* Answers the last challenge with base64 data ("" for empty). 0, or -1
 * when data is not base64 (the request is left as it was). */
int auth_request_continue(struct auth_request *request, const char *data);
/* Forgets a request (the session ends, or the client said "*"): the
 * callback never runs again and a late answer is ignored. */
void auth_request_abort(struct auth_request *request);

/* 1 when text is base64 as RFC 4648 writes it (padding only at the end),
 * possibly empty: what may go into resp= or a CONT. */
int auth_base64_valid(const char *text);

#endif
