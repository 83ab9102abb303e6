/* test_deliver_req.c: unit tests for lib/delivery/deliver_req: a request and a
 * reply survive encoding and decoding (also over the wire format), and
 * the readers refuse what the contract forbids. */
#include "unit.h"

#include "ipc/attr.h"
#include "base/buf.h"
#include "delivery/deliver_req.h"

/* Encodes msg (and frees it), decodes the bytes: the message as the
 * peer reads it, or NULL. */
static struct attr_msg *wire_round_trip(struct attr_msg *msg)
{
    struct buf wire = BUF_INIT, err = BUF_INIT;
    attr_encode(msg, &wire);
    attr_msg_free(msg);
    struct attr_msg *out = NULL;
    size_t used = 0;
    if (attr_decode(wire.data, wire.len, &deliver_attr_limits, &out, &used,
                    &err) != ATTR_OK)
        out = NULL;
    buf_free(&wire);
    buf_free(&err);
    return out;
}

static void fill(struct deliver_request *req, struct deliver_rcpt *rcpts,
                 size_t count)
{
    memset(req, 0, sizeof(*req));
    req->queue_name = "active";
    req->queue_id = "0TOXM493BVUz6JBN6";
    req->transport = "virtual";
    req->sender = "";
    req->arrival_time = 1795398201;
    req->message_size = 54;
    req->content_offset = 183;
    req->rcpts = rcpts;
    req->rcpt_count = count;
    for (size_t i = 0; i < count; i++) {
        rcpts[i].address = i ? "b@ex.org" : "a@ex.org";
        rcpts[i].original = i ? "" : "A@Ex.org";
        rcpts[i].orcpt = "";
        rcpts[i].notify = 0x4;
        rcpts[i].offset = 89 + 24 * i;
    }
}

static void test_request_round_trip(void)
{
    struct deliver_rcpt rcpts[2];
    struct deliver_request in, out;
    struct buf err = BUF_INIT;
    fill(&in, rcpts, 2);
    struct attr_msg *msg = wire_round_trip(deliver_request_encode(&in));
    CHECK(msg != NULL);
    CHECK_INT(deliver_request_parse(msg, &out, &err), 0);
    CHECK_STR(out.queue_id, "0TOXM493BVUz6JBN6");
    CHECK_STR(out.sender, "");
    CHECK_STR(out.log_ident, "0TOXM493BVUz6JBN6"); /* defaults to the id */
    CHECK_INT(out.rcpt_count, 2);
    CHECK_STR(out.rcpts[0].original, "A@Ex.org");
    CHECK_STR(out.rcpts[1].address, "b@ex.org");
    CHECK_INT(out.rcpts[1].offset, 113);
    CHECK_INT(out.rcpts[0].notify, 0x4);
    CHECK_INT(out.arrival_time, 1795398201);
    deliver_request_free(&out);
    attr_msg_free(msg);
    buf_free(&err);
}

static void test_request_refusals(void)
{
    struct deliver_rcpt rcpts[1];
    struct deliver_request in, out;
    struct buf err = BUF_INIT;

    fill(&in, rcpts, 1);
    in.queue_id = "../etc/passwd";
    struct attr_msg *msg = deliver_request_encode(&in);
    CHECK_INT(deliver_request_parse(msg, &out, &err), -1);
    CHECK_STR(err.data, "invalid queue_id");
    deliver_request_free(&out);
    attr_msg_free(msg);

    /* No recipients. */
    fill(&in, rcpts, 0);
    buf_reset(&err);
    msg = deliver_request_encode(&in);
    CHECK_INT(deliver_request_parse(msg, &out, &err), -1);
    deliver_request_free(&out);
    attr_msg_free(msg);

    /* A missing required attribute. */
    buf_reset(&err);
    msg = attr_msg_new(DELIVER_PROTO, DELIVER_VERSION);
    attr_add_str(msg, "queue_name", "active");
    attr_add_str(msg, "queue_id", "ABC");
    attr_add_str(msg, "sender", "s@x");
    attr_add_num(msg, "rcpt_count", 1);
    attr_add_str(msg, "rcpt_address_0", "a@b");
    CHECK_INT(deliver_request_parse(msg, &out, &err), -1);
    CHECK_STR(err.data, "missing attribute rcpt_offset_0");
    deliver_request_free(&out);
    attr_msg_free(msg);

    /* Bad NOTIFY bits, wrong protocol. */
    fill(&in, rcpts, 1);
    rcpts[0].notify = 0x1 | 0x2; /* NEVER with another */
    buf_reset(&err);
    msg = deliver_request_encode(&in);
    CHECK_INT(deliver_request_parse(msg, &out, &err), -1);
    deliver_request_free(&out);
    attr_msg_free(msg);
    buf_reset(&err);
    msg = attr_msg_new("anvil", 1);
    CHECK_INT(deliver_request_parse(msg, &out, &err), -1);
    deliver_request_free(&out);
    attr_msg_free(msg);
    buf_free(&err);
}

static void test_reply_round_trip(void)
{
    struct deliver_result res[2] = {
        {.status = DELIVER_SENT, .dsn = "2.0.0",
         .reason = "delivered to maildir", .relay = "virtual"},
        {.status = DELIVER_BOUNCED, .dsn = "5.1.1",
         .reason = "unknown user: \"x\"", .relay = "virtual"},
    };
    struct buf err = BUF_INIT;
    struct attr_msg *msg = wire_round_trip(deliver_reply_encode(res, 2));
    struct deliver_result *out = NULL;
    CHECK_INT(deliver_reply_parse(msg, 2, &out, &err), 0);
    CHECK_INT(out[0].status, DELIVER_SENT);
    CHECK_STR(out[1].dsn, "5.1.1");
    CHECK_STR(out[1].reason, "unknown user: \"x\"");
    CHECK_STR(out[0].relay, "virtual");
    deliver_results_free(out, 2);
    /* The wrong count is refused. */
    CHECK_INT(deliver_reply_parse(msg, 3, &out, &err), -1);
    /* An ordinary reply does not say the agent retires... */
    CHECK_INT(deliver_reply_retiring(msg), 0);
    attr_msg_free(msg);
    /* ...the last one before max_use does, and the mark crosses the wire. */
    struct attr_msg *last = deliver_reply_encode(res, 2);
    deliver_reply_set_retiring(last);
    msg = wire_round_trip(last);
    CHECK_INT(deliver_reply_retiring(msg), 1);
    CHECK_INT(deliver_reply_parse(msg, 2, &out, &err), 0);
    deliver_results_free(out, 2);
    attr_msg_free(msg);
    buf_free(&err);
    CHECK_INT(deliver_status_parse("deferred"), DELIVER_DEFERRED);
    CHECK_INT(deliver_status_parse("delivered"), -1);
}

static void test_reply_remote_mta(void)
{
    /* The smtp client's remote MTA and reply reach qmgr for the notice;
     * a result without them sends neither attribute. */
    struct deliver_result res[2] = {
        {.status = DELIVER_BOUNCED, .dsn = "5.1.1",
         .reason = "host mx[192.0.2.1] said: 550 5.1.1 no",
         .relay = "mx[192.0.2.1]:25", .mta_type = "dns",
         .mta_name = "mx.example", .diag_type = "smtp",
         .diag_text = "550 5.1.1 no; really"},
        {.status = DELIVER_SENT, .dsn = "2.0.0",
         .reason = "delivered to maildir", .relay = "virtual"},
    };
    struct buf err = BUF_INIT;
    struct attr_msg *msg = wire_round_trip(deliver_reply_encode(res, 2));
    CHECK(attr_find(msg, "mta_1") == NULL);
    CHECK(attr_find(msg, "diag_1") == NULL);
    struct deliver_result *out = NULL;
    CHECK_INT(deliver_reply_parse(msg, 2, &out, &err), 0);
    CHECK_STR(out[0].mta_type, "dns");
    CHECK_STR(out[0].mta_name, "mx.example");
    CHECK_STR(out[0].diag_type, "smtp");
    CHECK_STR(out[0].diag_text, "550 5.1.1 no; really");
    CHECK(out[1].mta_name == NULL && out[1].diag_text == NULL);
    deliver_results_free(out, 2);
    attr_msg_free(msg);
    buf_free(&err);
}

int main(void)
{
    UNIT_RUN(test_request_round_trip);
    UNIT_RUN(test_request_refusals);
    UNIT_RUN(test_reply_round_trip);
    UNIT_RUN(test_reply_remote_mta);
    return unit_summary();
}
