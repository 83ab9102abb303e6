/* mailbox_tool.c: drives lib/storage/mailbox from the command line, for
 * the Dovecot interop tests (tests/e2e/test_storage_dovecot.py).
 *
 *   mailbox_tool ROOT FOLDER list
 *       syncs the folder ("INBOX" or a Maildir++ name) and prints
 *         uidvalidity N
 *         uidnext N
 *         UID FLAGS SIZE DATE     one line per message; FLAGS are IMAP
 *                                 flags and keywords joined by ',' (or
 *                                 '-'), \Recent left out; SIZE is
 *                                 RFC822.SIZE; DATE the internal date
 *   mailbox_tool ROOT FOLDER append FLAGS DATE < MESSAGE
 *       stores the message (FLAGS as above, DATE in seconds or 0) and
 *       prints "uid N"
 *   mailbox_tool ROOT FOLDER store UID FLAGS
 *       replaces the message's flags and keywords
 *   mailbox_tool ROOT FOLDER expunge UID
 *   mailbox_tool ROOT FOLDER copy UID DEST_FOLDER      prints "uid N"
 * Exits 0, or 1 with the library's reason on stderr. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "storage/mailbox.h"

static const struct {
    const char *name;
    unsigned bit;
} system_flags[] = {
    {"\\Answered", MAILBOX_FLAG_ANSWERED}, {"\\Flagged", MAILBOX_FLAG_FLAGGED},
    {"\\Deleted", MAILBOX_FLAG_DELETED},   {"\\Seen", MAILBOX_FLAG_SEEN},
    {"\\Draft", MAILBOX_FLAG_DRAFT},
};

static void die(struct mailbox *mb, const char *what)
{
    fprintf(stderr, "mailbox_tool: %s: %s\n", what,
            mb ? mailbox_error(mb) : "failed");
    exit(1);
}

static struct mailbox *open_folder(const char *root, const char *folder)
{
    struct mailbox_options opts = {.root = root, .folder = folder,
                                   .create = 1, .lock_timeout_ms = 10000};
    struct mailbox *mb = NULL;
    struct buf err = BUF_INIT;
    if (mailbox_open(&opts, &mb, &err) != MAILBOX_OK) {
        fprintf(stderr, "mailbox_tool: open: %s\n", buf_cstr(&err));
        exit(1);
    }
    buf_free(&err);
    if (mailbox_sync(mb, 0, NULL) != MAILBOX_OK)
        die(mb, "sync");
    if (mailbox_warning(mb)[0])
        fprintf(stderr, "mailbox_tool: warning: %s\n", mailbox_warning(mb));
    return mb;
}

/* "\Seen,$Label1" -> system bits and keyword letters (created). */
static void parse_flags(struct mailbox *mb, const char *text, unsigned *flags,
                        uint32_t *keywords)
{
    *flags = 0;
    *keywords = 0;
    char *copy = strdup(text), *save = NULL;
    for (char *word = strtok_r(copy, ",", &save); word;
         word = strtok_r(NULL, ",", &save)) {
        if (strcmp(word, "-") == 0)
            continue;
        int found = 0;
        for (size_t i = 0; i < sizeof(system_flags) / sizeof(system_flags[0]);
             i++)
            if (strcmp(word, system_flags[i].name) == 0) {
                *flags |= system_flags[i].bit;
                found = 1;
            }
        if (found)
            continue;
        const char *names[1] = {word};
        size_t lens[1] = {strlen(word)};
        uint32_t mask;
        if (mailbox_keywords_lookup(mb, names, lens, 1, 1, &mask) != MAILBOX_OK)
            die(mb, "keyword");
        *keywords |= mask;
    }
    free(copy);
}

static uint32_t seq_of(struct mailbox *mb, const char *uid_text)
{
    uint32_t seq = mailbox_seq_of_uid(mb, (uint32_t)strtoul(uid_text, NULL, 10));
    if (seq == 0) {
        fprintf(stderr, "mailbox_tool: no UID %s\n", uid_text);
        exit(1);
    }
    return seq;
}

static void list(struct mailbox *mb)
{
    printf("uidvalidity %u\nuidnext %u\n", mailbox_uidvalidity(mb),
           mailbox_uidnext(mb));
    for (uint32_t seq = 1; seq <= mailbox_count(mb); seq++) {
        const struct mailbox_msg *msg = mailbox_msg(mb, seq);
        struct buf flags = BUF_INIT;
        for (size_t i = 0; i < sizeof(system_flags) / sizeof(system_flags[0]);
             i++)
            if (msg->flags & system_flags[i].bit)
                buf_appendf(&flags, "%s%s", flags.len ? "," : "",
                            system_flags[i].name);
        for (int i = 0; i < 26; i++)
            if ((msg->keywords & (1u << i)) && mailbox_keyword_name(mb, i))
                buf_appendf(&flags, "%s%s", flags.len ? "," : "",
                            mailbox_keyword_name(mb, i));
        uint32_t size = 0;
        time_t date = 0;
        if (mailbox_msg_vsize(mb, seq, &size) != MAILBOX_OK ||
            mailbox_msg_internal_date(mb, seq, &date) != MAILBOX_OK)
            die(mb, "message");
        printf("%u %s %u %lld\n", msg->uid, flags.len ? flags.data : "-", size,
               (long long)date);
        buf_free(&flags);
    }
}

static void commit(struct mailbox *mb, struct mailbox_save *save)
{
    uint32_t uid = 0;
    if (mailbox_save_commit(save, &uid) != MAILBOX_OK)
        die(mb, "commit");
    printf("uid %u\n", uid);
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: mailbox_tool ROOT FOLDER list|append|store|"
                        "expunge|copy ...\n");
        return 2;
    }
    struct mailbox *mb = open_folder(argv[1], argv[2]);
    const char *cmd = argv[3];
    if (strcmp(cmd, "list") == 0) {
        list(mb);
    } else if (strcmp(cmd, "append") == 0 && argc == 6) {
        unsigned flags;
        uint32_t keywords;
        parse_flags(mb, argv[4], &flags, &keywords);
        struct mailbox_save *save = mailbox_save_begin(mb);
        if (mailbox_save_append_start(save) != MAILBOX_OK)
            die(mb, "append");
        char chunk[4096];
        size_t got;
        while ((got = fread(chunk, 1, sizeof(chunk), stdin)) > 0)
            if (mailbox_save_append_write(save, chunk, got) != MAILBOX_OK)
                die(mb, "append");
        if (mailbox_save_append_finish(save, flags, keywords,
                                       (time_t)strtoll(argv[5], NULL, 10)) !=
            MAILBOX_OK)
            die(mb, "append");
        commit(mb, save);
    } else if (strcmp(cmd, "store") == 0 && argc == 6) {
        unsigned flags;
        uint32_t keywords;
        parse_flags(mb, argv[5], &flags, &keywords);
        if (mailbox_set_flags(mb, seq_of(mb, argv[4]), flags, keywords) !=
            MAILBOX_OK)
            die(mb, "store");
    } else if (strcmp(cmd, "expunge") == 0 && argc == 5) {
        if (mailbox_expunge(mb, seq_of(mb, argv[4])) != MAILBOX_OK)
            die(mb, "expunge");
    } else if (strcmp(cmd, "copy") == 0 && argc == 6) {
        struct mailbox *dst = open_folder(argv[1], argv[5]);
        struct mailbox_save *save = mailbox_save_begin(dst);
        if (mailbox_save_copy(save, mb, seq_of(mb, argv[4])) != MAILBOX_OK)
            die(dst, "copy");
        commit(dst, save);
        mailbox_close(dst);
    } else {
        fprintf(stderr, "mailbox_tool: bad command\n");
        return 2;
    }
    mailbox_close(mb);
    return 0;
}
