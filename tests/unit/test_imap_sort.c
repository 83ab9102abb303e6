/* test_imap_sort.c: SORT and THREAD (lib/imap/imap_sort, imap_thread,
 * imap_subject): Dovecot 2.3's answers for two mailboxes
 * (tests/unit/data/imap/dovecot-search.jsonl and dovecot-thread.jsonl,
 * recorded by gen_dovecot_search.py), RFC 5256's base subject rules one
 * by one, and the SORT/THREAD argument parsers. */
#include "unit.h"

#include "imap/imap_search_eval.h"
#include "imap/imap_sort.h"
#include "imap/imap_subject.h"
#include "imap/imap_thread.h"
#include "imap_fixture.h"
#include "imap_mailbox_fixture.h"

static struct imap_reader reader;

static const struct imap_command *read_command(const char *line)
{
    const struct imap_command *cmd = imap_fixture_read(&reader, line);
    if (cmd == NULL)
        printf("#   cannot read %s\n", line);
    return cmd;
}

/* The messages of mb matching the search, in sequence order. */
static size_t matching(struct test_mailbox *mb, struct imap_search *search,
                       struct imap_message **out)
{
    struct imap_search_eval ev;
    struct imap_search_env env = {(uint32_t)mb->count, (uint32_t)mb->count,
                                  time(NULL), NULL};
    size_t n = 0;
    imap_search_eval_init(&ev, search, &env);
    for (size_t i = 0; i < mb->count; i++) {
        if (imap_search_eval_match(&ev, mb->views[i]) == 1)
            out[n++] = mb->views[i];
        imap_message_done(mb->views[i]);
    }
    imap_search_eval_free(&ev);
    return n;
}

/* Runs "SORT args" or "THREAD args"; the response without "* SORT " /
 * "* THREAD " and CRLF. */
static void run(struct test_mailbox *mb, const char *command,
                const char *args, struct buf *out)
{
    struct buf line = BUF_INIT, response = BUF_INIT;
    struct imap_message *msgs[TEST_MAILBOX_MAX];
    const struct imap_command *cmd;
    const char *error = NULL;
    size_t n, prefix = strlen(command) + 3;

    buf_reset(out);
    buf_appendf(&line, "a %s %s", command, args);
    cmd = read_command(line.data);
    buf_free(&line);
    if (cmd == NULL)
        return;
    if (strcmp(command, "SORT") == 0) {
        struct imap_sort_args sort;
        imap_sort_args_init(&sort);
        if (imap_sort_parse(cmd->args, cmd->arg_count, 0, &sort, &error) == 0) {
            n = matching(mb, &sort.search, msgs);
            imap_sort_messages(sort.criteria, sort.count, msgs, n);
            imap_sort_write(&response, msgs, n, 0);
        }
        imap_sort_args_free(&sort);
    } else {
        struct imap_thread_args thread;
        imap_thread_args_init(&thread);
        if (imap_thread_parse(cmd->args, cmd->arg_count, 0, &thread,
                              &error) == 0) {
            n = matching(mb, &thread.search, msgs);
            imap_thread_write(&response, thread.algorithm, msgs, n, 0);
        }
        imap_thread_args_free(&thread);
    }
    if (error != NULL)
        buf_appendf(out, "(error: %s)", error);
    else if (response.len >= prefix + 2)
        buf_append(out, response.data + prefix, response.len - prefix - 2);
    buf_free(&response);
}

static void compare_file(const char *file, size_t expected)
{
    struct test_mailbox mb;
    struct buf cmd = BUF_INIT, args = BUF_INIT, want = BUF_INIT,
               got = BUF_INIT;
    size_t compared = 0;
    if (test_mailbox_load(&mb, file) < 0) {
        CHECK(0);
        return;
    }
    for (size_t i = 0; i < mb.line_count; i++) {
        json_get(mb.lines[i], "command", &cmd);
        if (strcmp(cmd.data, "SORT") != 0 && strcmp(cmd.data, "THREAD") != 0)
            continue;
        json_get(mb.lines[i], "args", &args);
        json_get(mb.lines[i], "result", &want);
        run(&mb, cmd.data, args.data, &got);
        compared++;
        if (strcmp(got.data, want.data) != 0) {
            printf("#   %s %s\n#     ours:    %s\n#     dovecot: %s\n",
                   cmd.data, args.data, got.data, want.data);
            unit_case_failed = 1;
        }
    }
    printf("#   %s: %zu commands compared with Dovecot's answers\n", file,
           compared);
    CHECK_INT(compared, expected);
    test_mailbox_free(&mb);
    buf_free(&cmd);
    buf_free(&args);
    buf_free(&want);
    buf_free(&got);
}

static void dovecot_sort_answers(void)
{
    compare_file("dovecot-search.jsonl", 18);
}

static void dovecot_thread_answers(void)
{
    compare_file("dovecot-thread.jsonl", 5);
}

static const char *base(const char *subject, int *reply)
{
    static struct buf out;
    buf_reset(&out);
    *reply = imap_base_subject(subject, strlen(subject), &out);
    buf_append(&out, "", 0);
    return out.data;
}

/* RFC 5256 section 2.1, rule by rule. */
static void base_subjects(void)
{
    int reply;
    CHECK_STR(base("Hello", &reply), "HELLO");
    CHECK(!reply);
    CHECK_STR(base("Re: Hello", &reply), "HELLO");
    CHECK(reply);
    CHECK_STR(base("RE:re: Fwd:  FW: hello (fwd) (FWD)  ", &reply), "HELLO");
    CHECK(reply);
    CHECK_STR(base("Re [list]: Hello", &reply), "HELLO");
    CHECK(reply);
    CHECK_STR(base("[list] [other] Re: Hello", &reply), "HELLO");
    CHECK_STR(base("[list] Hello", &reply), "HELLO");
    CHECK(!reply);
    CHECK_STR(base("[list]", &reply), "[LIST]"); /* nothing would be left */
    CHECK_STR(base("[fwd: Re: Hello]", &reply), "HELLO");
    CHECK(reply);
    CHECK_STR(base("[Fwd: [fwd: Hello] ]", &reply), "HELLO");
    CHECK_STR(base("Reply: Hello", &reply), "REPLY: HELLO");
    CHECK(!reply);
    CHECK_STR(base("=?utf-8?q?R=C3=A9sum=C3=A9?=\n\t folded", &reply),
              "RE\xcc\x81SUME\xcc\x81 FOLDED");
    CHECK_STR(base("", &reply), "");
    CHECK(imap_base_subject(NULL, 0, NULL) == 0);
}

static const char *sort_parse(const char *args)
{
    static struct buf out;
    struct buf line = BUF_INIT;
    struct imap_sort_args sort;
    const struct imap_command *cmd;
    const char *error = NULL;
    buf_reset(&out);
    buf_appendf(&line, "a SORT %s", args);
    cmd = read_command(line.data);
    buf_free(&line);
    if (cmd == NULL)
        return "(reader)";
    imap_sort_args_init(&sort);
    if (imap_sort_parse(cmd->args, cmd->arg_count, 0, &sort, &error) != 0) {
        buf_appendf(&out, "%s%s", sort.search.error_no ? "NO " : "BAD ",
                    error);
    } else {
        for (size_t i = 0; i < sort.count; i++)
            buf_appendf(&out, "%s%s%d", i ? " " : "",
                        sort.criteria[i].reverse ? "-" : "",
                        sort.criteria[i].key);
        buf_appendf(&out, " / %zu", sort.search.root.child_count);
    }
    imap_sort_args_free(&sort);
    return out.data;
}

static void sort_arguments(void)
{
    CHECK_STR(sort_parse("(ARRIVAL) UTF-8 ALL"), "0 / 1");
    CHECK_STR(sort_parse("(reverse date Subject displayfrom) us-ascii SEEN "
                         "FROM x"),
              "-2 5 7 / 2");
    CHECK_STR(sort_parse("(REVERSE) UTF-8 ALL"),
              "BAD Invalid sort criteria (REVERSE at the end)");
    CHECK_STR(sort_parse("(REVERSE REVERSE DATE) UTF-8 ALL"),
              "BAD Invalid sort criteria");
    CHECK_STR(sort_parse("() UTF-8 ALL"), "BAD Invalid sort criteria");
    CHECK_STR(sort_parse("DATE UTF-8 ALL"), "BAD Invalid sort criteria");
    CHECK_STR(sort_parse("(DATE NOSUCH) UTF-8 ALL"),
              "BAD Invalid sort criteria");
    CHECK_STR(sort_parse("(DATE) KOI8-R ALL"),
              "NO [BADCHARSET (US-ASCII UTF-8)] Unsupported charset");
    CHECK_STR(sort_parse("(DATE)"), "BAD Missing charset");
    CHECK(strncmp(sort_parse("(DATE) UTF-8"), "BAD ", 4) == 0);
    CHECK(strncmp(sort_parse("(DATE) UTF-8 NOSUCHKEY"), "BAD ", 4) == 0);
}

static void thread_arguments(void)
{
    struct imap_thread_args thread;
    const struct imap_command *cmd;
    const char *error = NULL;
    imap_thread_args_init(&thread);
    cmd = read_command("a THREAD references UTF-8 UNSEEN");
    CHECK(cmd && imap_thread_parse(cmd->args, cmd->arg_count, 0, &thread,
                                   &error) == 0);
    CHECK_INT(thread.algorithm, IMAP_THREAD_REFERENCES);
    cmd = read_command("a THREAD REFS UTF-8 ALL");
    CHECK(cmd && imap_thread_parse(cmd->args, cmd->arg_count, 0, &thread,
                                   &error) == -1);
    CHECK_STR(error, "Unknown thread algorithm");
    cmd = read_command("a THREAD ORDEREDSUBJECT ISO-8859-1 ALL");
    CHECK(cmd && imap_thread_parse(cmd->args, cmd->arg_count, 0, &thread,
                                   &error) == -1);
    CHECK(thread.search.error_no);
    cmd = read_command("a THREAD ORDEREDSUBJECT");
    CHECK(cmd && imap_thread_parse(cmd->args, cmd->arg_count, 0, &thread,
                                   &error) == -1);
    imap_thread_args_free(&thread);
}

/* Nothing matched: "* THREAD" and "* SORT" alone; UIDs for UID forms. */
static void empty_and_uid_responses(void)
{
    struct buf out = BUF_INIT;
    struct test_message m;
    struct imap_message *view = &m.view;
    imap_thread_write(&out, IMAP_THREAD_REFERENCES, NULL, 0, 0);
    CHECK_STR(out.data, "* THREAD\r\n");
    buf_reset(&out);
    imap_sort_write(&out, NULL, 0, 1);
    CHECK_STR(out.data, "* SORT\r\n");
    test_message_init(&m, "Subject: x\n\n", 12);
    m.view.uid = 77;
    buf_reset(&out);
    imap_thread_write(&out, IMAP_THREAD_ORDEREDSUBJECT, &view, 1, 1);
    CHECK_STR(out.data, "* THREAD (77)\r\n");
    test_message_free(&m);
    buf_free(&out);
}

int main(void)
{
    imap_reader_init(&reader, NULL);
    UNIT_RUN(dovecot_sort_answers);
    UNIT_RUN(dovecot_thread_answers);
    UNIT_RUN(base_subjects);
    UNIT_RUN(sort_arguments);
    UNIT_RUN(thread_arguments);
    UNIT_RUN(empty_and_uid_responses);
    imap_reader_free(&reader);
    return unit_summary();
}
