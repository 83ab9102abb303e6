/* test_recleanup.c: unit tests for lib/queue/recleanup: the recipients of a
 * requeued message derived again from their original addresses (done
 * ones kept, never added twice), the context, and the whole message
 * written again (sender, headers, attributes, everything else kept). */
#include "unit.h"

#include "requeue_fixture.h"
#include "queue/recleanup.h"
#include "routing/rewrite.h"

static const char *virtual_table(const char *text)
{
    return fixture_table("texthash", "virtual", text);
}

/* Derives the recipients of the given records; returns them as
 * fx_rcpts shows them, or "DEFER: why". */
static const char *derive(struct rewrite *rw, const struct fx_rcpt *in,
                          size_t count, struct recleanup_rcpts *out)
{
    static char text[2048];
    struct qfile_envelope env;
    memset(&env, 0, sizeof(env));
    env.sender = (char *)"";
    env.recipients = xcalloc(count, sizeof(*env.recipients));
    env.recipient_count = count;
    for (size_t i = 0; i < count; i++) {
        env.recipients[i].address = (char *)in[i].address;
        env.recipients[i].original =
            (char *)(in[i].original ? in[i].original : "");
        env.recipients[i].orcpt = (char *)(in[i].orcpt ? in[i].orcpt : "");
        env.recipients[i].notify = in[i].notify;
        env.recipients[i].done = in[i].done;
    }
    struct buf why = BUF_INIT;
    recleanup_rcpts_init(out);
    if (recleanup_recipients(rw, &env, out, &why) != RECLEANUP_OK) {
        snprintf(text, sizeof(text), "DEFER: %s", why.data);
    } else {
        struct qfile_envelope shown;
        memset(&shown, 0, sizeof(shown));
        shown.recipients = out->items;
        shown.recipient_count = out->count;
        snprintf(text, sizeof(text), "%s", fx_rcpts(&shown));
    }
    buf_free(&why);
    free(env.recipients);
    return text;
}

static void test_alias_expanded_again_from_the_original(void)
{
    struct rewrite *rw = fx_rewrite(
        virtual_table("info@example.com new@vmail.test, other@vmail.test\n"),
        "", "");
    struct fx_rcpt in[] = {
        {"old@vmail.test", "info@example.com", "rfc822;info@example.com",
         QFILE_NOTIFY_FAILURE, 0},
    };
    struct recleanup_rcpts out;
    CHECK_STR(derive(rw, in, 1, &out), "R new@vmail.test<-info@example.com, "
                                       "R other@vmail.test<-info@example.com");
    /* The DSN parameters of the RCPT TO stay with its results. */
    CHECK_STR(out.items[1].orcpt, "rfc822;info@example.com");
    CHECK_INT(out.items[1].notify, QFILE_NOTIFY_FAILURE);
    CHECK_INT(out.kept_done, 0);
    recleanup_rcpts_free(&out);
    rewrite_close(rw);
}

static void test_delivered_kept_and_not_added_again(void)
{
    struct rewrite *rw = fx_rewrite(
        virtual_table("team@example.com a@vmail.test, c@vmail.test\n"), "", "");
    /* a was delivered; b is no longer a member; c is new. */
    struct fx_rcpt in[] = {
        {"b@vmail.test", "team@example.com", NULL, 0, 0},
        {"a@vmail.test", "team@example.com", NULL, 0, 1},
    };
    struct recleanup_rcpts out;
    CHECK_STR(derive(rw, in, 2, &out), "D a@vmail.test<-team@example.com, "
                                       "R c@vmail.test<-team@example.com");
    CHECK_INT(out.kept_done, 1);
    CHECK_INT(out.skipped, 1);
    recleanup_rcpts_free(&out);
    /* Delivered for another RCPT TO does not count (smtpd's rule: a
     * recipient is the pair of address and original). */
    struct fx_rcpt other[] = {
        {"a@vmail.test", "a@vmail.test", NULL, 0, 1},
        {"a@vmail.test", "team@example.com", NULL, 0, 0},
    };
    CHECK_STR(derive(rw, other, 2, &out), "D a@vmail.test<-a@vmail.test, "
                                          "R a@vmail.test<-team@example.com, "
                                          "R c@vmail.test<-team@example.com");
    recleanup_rcpts_free(&out);
    /* Every result delivered already: only the done records remain. */
    struct fx_rcpt all[] = {
        {"a@vmail.test", "team@example.com", NULL, 0, 1},
        {"c@vmail.test", "team@example.com", NULL, 0, 1},
        {"x@vmail.test", "team@example.com", NULL, 0, 0},
    };
    CHECK_STR(derive(rw, all, 3, &out), "D a@vmail.test<-team@example.com, "
                                        "D c@vmail.test<-team@example.com");
    CHECK_INT(out.skipped, 2);
    recleanup_rcpts_free(&out);
    rewrite_close(rw);
}

static void test_one_original_expanded_once(void)
{
    struct rewrite *rw = fx_rewrite(
        virtual_table("list@example.com x@vmail.test, y@vmail.test\n"), "", "");
    struct fx_rcpt in[] = {
        {"x@vmail.test", "list@example.com", NULL, 0, 0},
        {"y@vmail.test", "list@example.com", NULL, 0, 0},
        {"z@vmail.test", "list@example.com", NULL, 0, 0},
        {"X@VMAIL.TEST", "x@vmail.test", NULL, 0, 0},
    };
    struct recleanup_rcpts out;
    CHECK_STR(derive(rw, in, 4, &out), "R x@vmail.test<-list@example.com, "
                                       "R y@vmail.test<-list@example.com, "
                                       "R x@vmail.test<-x@vmail.test");
    recleanup_rcpts_free(&out);
    rewrite_close(rw);
}

static void test_no_original_and_canonical_form(void)
{
    struct rewrite *rw =
        fx_rewrite(virtual_table("bob@example.com robert@vmail.test\n"), "",
                   fixture_table("texthash", "canonical",
                                 "carol@example.com caroline@vmail.test\n"));
    /* A notice we queued has no original: the address is the source. A
     * bare local part gets @$myorigin, as at intake. */
    struct fx_rcpt in[] = {
        {"bob@example.com", NULL, NULL, 0, 0},
        {"ignored@vmail.test", "carol", NULL, 0, 0},
        {"same@vmail.test", NULL, NULL, 0, 0},
    };
    struct recleanup_rcpts out;
    CHECK_STR(derive(rw, in, 3, &out), "R robert@vmail.test<-bob@example.com, "
                                       "R caroline@vmail.test<-carol, "
                                       "R same@vmail.test<-same@vmail.test");
    recleanup_rcpts_free(&out);
    rewrite_close(rw);
}

static void test_table_error_defers(void)
{
    struct rewrite *rw = fx_rewrite(fixture_missing("hash"), "", "");
    struct fx_rcpt in[] = {{"a@vmail.test", "a@vmail.test", NULL, 0, 0}};
    struct recleanup_rcpts out;
    const char *got = derive(rw, in, 1, &out);
    CHECK(strncmp(got, "DEFER: 4.", 9) == 0);
    recleanup_rcpts_free(&out);
    rewrite_close(rw);
}

static void test_context_from_attributes(void)
{
    struct qfile_attr attrs[2] = {
        {(char *)"rewrite_context", (char *)"local"},
        {(char *)"client_address", (char *)"192.0.2.1"}};
    struct qfile_envelope env;
    memset(&env, 0, sizeof(env));
    env.attrs = attrs;
    env.attr_count = 2;
    CHECK_INT(recleanup_context(&env), REWRITE_LOCAL);
    attrs[0].value = (char *)"remote";
    CHECK_INT(recleanup_context(&env), REWRITE_REMOTE);
    env.attrs = attrs + 1; /* an older file from a client: remote */
    env.attr_count = 1;
    CHECK_INT(recleanup_context(&env), REWRITE_REMOTE);
    env.attr_count = 0; /* mail we generated: local */
    CHECK_INT(recleanup_context(&env), REWRITE_LOCAL);
}

/* Writes m to a temporary directory, runs recleanup_message into a new
 * file there, and reads the new file back. Returns the result. */
static enum recleanup_result
rewrite_message(struct rewrite *rw, const struct fx_message *m,
                struct qfile_envelope *env, struct buf *content,
                struct recleanup_info *info, struct buf *err)
{
    char old_qid[QID_BUF_SIZE];
    memset(env, 0, sizeof(*env));
    if (fx_write(fixture_dir, m, old_qid) < 0)
        return RECLEANUP_ERROR;
    char *path = xasprintf("%s/%s", fixture_dir, old_qid);
    struct qfile_reader *r = NULL;
    struct qfile_envelope old;
    memset(&old, 0, sizeof(old));
    enum recleanup_result result = RECLEANUP_ERROR;
    struct qfile_writer *w = qfile_writer_create(fixture_dir, err);
    if (w && qfile_reader_open(path, 0, &r, err) == QFILE_OK &&
        qfile_read_envelope(r, &old, err) == QFILE_OK)
        result = recleanup_message(rw, r, &old, old_qid, w, info, err);
    if (result == RECLEANUP_OK &&
        (qfile_writer_finish(w, err) < 0 || qfile_writer_commit(w, err) < 0))
        result = RECLEANUP_ERROR;
    if (result == RECLEANUP_OK) {
        char *new_path = xasprintf("%s/%s", fixture_dir, qfile_writer_qid(w));
        if (fx_read(new_path, env, content) < 0)
            result = RECLEANUP_ERROR;
        /* orig_id names the old file */
        const char *orig = qfile_envelope_attr(env, "orig_id");
        CHECK_STR(orig, old_qid);
        unlink(new_path);
        free(new_path);
    }
    qfile_writer_free(w);
    qfile_envelope_free(&old);
    qfile_reader_close(r);
    unlink(path);
    free(path);
    return result;
}

static const char MESSAGE[] =
    "Received: from client (client [192.0.2.1])\n"
    "\tby mx.example.com (Postern) with ESMTP id X; today\n"
    "From: \"Old Name\" <held@example.com> (comment)\n"
    "To: bob@example.com,\n"
    "\tHeld <held@example.com>\n"
    "Message-ID:\n"
    " <folded.1@example.com>\n"
    "Subject: held@example.com stays\n"
    "\n"
    "From: held@example.com in the body stays\n";

static void test_whole_message_local_context(void)
{
    struct rewrite *rw =
        fx_rewrite(virtual_table("info@example.com alice@vmail.test\n"),
                   fixture_table("texthash", "sender_canonical",
                                 "held@example.com boss@example.com\n"),
                   "");
    struct fx_message m = {
        .sender = "held@example.com",
        .rcpts = {{"old@vmail.test", "info@example.com",
                   "rfc822;info@example.com", QFILE_NOTIFY_SUCCESS, 0},
                  {"done@vmail.test", "done@vmail.test", NULL, 0, 1}},
        .attrs = {"client_address=192.0.2.1", "rewrite_context=local",
                  "hold_reason=held by rule", "orig_id=EARLIER1"},
        .content = MESSAGE,
        .flags = QFILE_FLAG_WARNED,
        .warn_time = 1700003600,
        .encoding = QFILE_ENC_8BITMIME,
        .dsn_ret = QFILE_RET_HDRS,
        .envid = "ENV-1",
    };
    struct qfile_envelope env;
    struct buf content = BUF_INIT, err = BUF_INIT;
    struct recleanup_info info;
    recleanup_info_init(&info);
    CHECK_INT(rewrite_message(rw, &m, &env, &content, &info, &err),
              RECLEANUP_OK);
    CHECK_STR(env.sender, "boss@example.com");
    CHECK_STR(fx_rcpts(&env), "D done@vmail.test<-done@vmail.test, "
                              "R alice@vmail.test<-info@example.com");
    CHECK_STR(env.recipients[1].orcpt, "rfc822;info@example.com");
    CHECK_INT(env.recipients[1].notify, QFILE_NOTIFY_SUCCESS);
    CHECK_INT(env.arrival_sec, 1700000000);
    CHECK_INT(env.arrival_usec, 250000);
    CHECK_INT(env.header.flags, QFILE_FLAG_WARNED);
    CHECK_INT(env.header.warn_time, 1700003600);
    CHECK_INT(env.encoding, QFILE_ENC_8BITMIME);
    CHECK_INT(env.dsn_ret, QFILE_RET_HDRS);
    CHECK_STR(env.envid, "ENV-1");
    CHECK_STR(qfile_envelope_attr(&env, "client_address"), "192.0.2.1");
    CHECK_STR(qfile_envelope_attr(&env, "rewrite_context"), "local");
    CHECK(qfile_envelope_attr(&env, "hold_reason") == NULL);
    CHECK_STR(content.data,
              "Received: from client (client [192.0.2.1])\n"
              "\tby mx.example.com (Postern) with ESMTP id X; today\n"
              "From: \"Old Name\" <boss@example.com> (comment)\n"
              "To: bob@example.com,\n"
              "\tHeld <held@example.com>\n"
              "Message-ID:\n"
              " <folded.1@example.com>\n"
              "Subject: held@example.com stays\n"
              "\n"
              "From: held@example.com in the body stays\n");
    CHECK_INT(env.header.body_offset,
              strlen(MESSAGE) - strlen("From: held@example.com in "
                                       "the body stays\n"));
    CHECK_STR(info.sender.data, "boss@example.com");
    CHECK_STR(info.message_id.data, "<folded.1@example.com>");
    CHECK_INT(info.recipients, 2);
    qfile_envelope_free(&env);
    recleanup_info_free(&info);
    buf_free(&content);
    buf_free(&err);
    rewrite_close(rw);
}

static void test_remote_context_leaves_headers(void)
{
    struct rewrite *rw =
        fx_rewrite("",
                   fixture_table("texthash", "sender_canonical",
                                 "held@example.com boss@example.com\n"),
                   "");
    struct fx_message m = {
        .sender = "held@example.com",
        .rcpts = {{"a@vmail.test", NULL, NULL, 0, 0}},
        .attrs = {"client_address=192.0.2.1", "rewrite_context=remote"},
        .content = "From: held@example.com\nTo: a@vmail.test\n\nbody\n",
    };
    struct qfile_envelope env;
    struct buf content = BUF_INIT, err = BUF_INIT;
    struct recleanup_info info;
    recleanup_info_init(&info);
    CHECK_INT(rewrite_message(rw, &m, &env, &content, &info, &err),
              RECLEANUP_OK);
    /* The envelope is rewritten in every context, the headers of a
     * remote client's mail not without remote_header_rewrite_domain. */
    CHECK_STR(env.sender, "boss@example.com");
    CHECK_STR(content.data, "From: held@example.com\nTo: a@vmail.test\n\n"
                            "body\n");
    CHECK_STR(info.message_id.data, "");
    qfile_envelope_free(&env);
    recleanup_info_free(&info);
    buf_free(&content);
    buf_free(&err);
    rewrite_close(rw);
}

static void test_odd_content_copied_exactly(void)
{
    struct rewrite *rw =
        fx_rewrite("",
                   fixture_table("texthash", "sender_canonical",
                                 "held@example.com boss@example.com\n"),
                   "");
    struct fx_message m = {
        .sender = "",
        .rcpts = {{"a@vmail.test", NULL, NULL, 0, 0}},
    };
    struct qfile_envelope env;
    struct buf content = BUF_INIT, err = BUF_INIT, big = BUF_INIT;
    struct recleanup_info info;
    recleanup_info_init(&info);

    /* Headers only, the last field without its LF: still rewritten. */
    m.content = "Subject: x\nFrom: held@example.com";
    CHECK_INT(rewrite_message(rw, &m, &env, &content, &info, &err),
              RECLEANUP_OK);
    CHECK_STR(content.data, "Subject: x\nFrom: boss@example.com");
    CHECK_STR(env.sender, ""); /* the null sender stays null */
    qfile_envelope_free(&env);

    /* Header lines longer than header_size_limit, across many chunks:
     * an address field that long is not rewritten (as in smtpd), other
     * fields are copied, and later fields are rewritten as usual. */
    for (int round = 0; round < 3; round++) {
        size_t long_len = round == 0 ? 120000 : 250000;
        buf_reset(&big);
        buf_append_str(&big,
                       round == 2 ? "From: held@example.com,\n " : "X-Long: ");
        for (size_t i = 0; i < long_len; i++)
            buf_append_char(&big, round == 2 ? (i % 20 == 19 ? ',' : 'x')
                                             : 'a' + i % 26);
        buf_append_str(&big, "\n\tmore\nFrom: held@example.com\n\n");
        for (int i = 0; i < 300000; i++)
            buf_append_char(&big, i % 71 == 70 ? '\n' : 'b');
        m.content = big.data;
        m.content_len = big.len;
        CHECK_INT(rewrite_message(rw, &m, &env, &content, &info, &err),
                  RECLEANUP_OK);
        CHECK_INT(content.len, big.len);
        /* Only the last From: changes ("held" and "boss" are as long). */
        char *from = strstr(big.data + 10, "\nFrom: held@");
        CHECK(from != NULL);
        if (from)
            memcpy(from + 7, "boss", 4);
        CHECK(content.len == big.len &&
              memcmp(content.data, big.data, big.len) == 0);
        qfile_envelope_free(&env);
    }

    /* A big body after a rewritten header: the body is untouched. */
    buf_reset(&big);
    buf_append_str(&big, "From: held@example.com\n\n");
    for (int i = 0; i < 200000; i++)
        buf_append_char(&big, i % 50 == 49 ? '\n' : 'c');
    m.content = big.data;
    m.content_len = big.len;
    CHECK_INT(rewrite_message(rw, &m, &env, &content, &info, &err),
              RECLEANUP_OK);
    CHECK(content.len == big.len &&
          memcmp(content.data, "From: boss@example.com\n\n", 24) == 0 &&
          memcmp(content.data + 24, big.data + 24, big.len - 24) == 0);
    qfile_envelope_free(&env);

    recleanup_info_free(&info);
    buf_free(&big);
    buf_free(&content);
    buf_free(&err);
    rewrite_close(rw);
}

static void test_message_table_error_defers(void)
{
    struct rewrite *rw = fx_rewrite(fixture_missing("hash"), "", "");
    struct fx_message m = {
        .sender = "a@example.com",
        .rcpts = {{"a@vmail.test", NULL, NULL, 0, 0}},
    };
    struct qfile_envelope env;
    struct buf content = BUF_INIT, err = BUF_INIT;
    struct recleanup_info info;
    recleanup_info_init(&info);
    CHECK_INT(rewrite_message(rw, &m, &env, &content, &info, &err),
              RECLEANUP_DEFER);
    CHECK(strstr(err.data, "4.") != NULL);
    recleanup_info_free(&info);
    buf_free(&content);
    buf_free(&err);
    rewrite_close(rw);
}

int main(void)
{
    log_set_program("test_recleanup");
    if (fixture_init("test_recleanup") < 0)
        return 1;
    UNIT_RUN(test_alias_expanded_again_from_the_original);
    UNIT_RUN(test_delivered_kept_and_not_added_again);
    UNIT_RUN(test_one_original_expanded_once);
    UNIT_RUN(test_no_original_and_canonical_form);
    UNIT_RUN(test_table_error_defers);
    UNIT_RUN(test_context_from_attributes);
    UNIT_RUN(test_whole_message_local_context);
    UNIT_RUN(test_remote_context_leaves_headers);
    UNIT_RUN(test_odd_content_copied_exactly);
    UNIT_RUN(test_message_table_error_defers);
    fixture_cleanup();
    return unit_summary();
}
