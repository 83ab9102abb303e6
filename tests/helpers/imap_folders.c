/* imap_folders.c: test helper that answers the folder commands of IMAP
 * (LIST, LSUB, CREATE, DELETE, RENAME, SUBSCRIBE, UNSUBSCRIBE) over one
 * Maildir with lib/storage's folder list, subscriptions and LIST
 * answer, reading commands on stdin and writing responses on stdout as
 * a preauthenticated IMAP server would. tests/e2e/test_imap_folders_
 * dovecot.py sends the same commands to it and to Dovecot's imap.
 *
 * Usage: imap_folders ROOT SEPARATOR [USE=NAME ...]
 *   USE is sent, drafts, trash, junk or archive.
 * SUBSCRIBE refuses a name that is not a folder, as Dovecot does; LIST
 * RETURN (STATUS (...)) answers MESSAGES and UNSEEN from cur/ and new/. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "imap/imap_list.h"
#include "imap/imap_reader.h"
#include "imap/imap_utf7.h"
#include "storage/list_command.h"
#include "storage/mailbox_list.h"
#include "storage/special_use.h"
#include "storage/subscriptions.h"

static struct mailbox_list list;
static struct special_use_folders special;

/* Counts the messages of a folder, and those without the S flag. */
static int count_status(void *context, const char *name, const char *disk_name,
                        unsigned items, struct buf *out)
{
    (void)context;
    (void)name;
    struct buf path = BUF_INIT;
    unsigned long messages = 0, unseen = 0;
    static const char *const subdirs[] = {"cur", "new"};
    for (int i = 0; i < 2; i++) {
        mailbox_list_path(&list, disk_name, &path);
        buf_appendf(&path, "/%s", subdirs[i]);
        DIR *dir = opendir(path.data);
        if (!dir)
            continue;
        struct dirent *de;
        while ((de = readdir(dir)) != NULL) {
            if (de->d_name[0] == '.')
                continue;
            messages++;
            const char *info = strstr(de->d_name, ":2,");
            if (!info || !strchr(info, 'S'))
                unseen++;
        }
        closedir(dir);
    }
    buf_free(&path);
    buf_append_char(out, '(');
    const char *space = "";
    if (items & IMAP_STATUS_MESSAGES) {
        buf_appendf(out, "MESSAGES %lu", messages);
        space = " ";
    }
    if (items & IMAP_STATUS_UNSEEN)
        buf_appendf(out, "%sUNSEEN %lu", space, unseen);
    buf_append_char(out, ')');
    return 0;
}

static void tagged_result(const char *tag, enum mailbox_list_result result,
                          const char *done, const struct buf *error)
{
    if (result == MAILBOX_LIST_OK)
        printf("%s OK %s\r\n", tag, done);
    else
        printf("%s NO [%s] %s\r\n", tag, mailbox_list_code(result),
               error->data);
}

static int mailbox_arg(const struct imap_command *cmd, size_t index,
                       struct buf *name)
{
    const char *error;
    if (index >= cmd->arg_count ||
        imap_mailbox_name(&cmd->args[index], 0, name, &error) < 0) {
        printf("%s BAD %s\r\n", cmd->tag,
               index >= cmd->arg_count ? "Missing arguments" : error);
        return -1;
    }
    return 0;
}

static void run_list(const struct imap_command *cmd, int lsub)
{
    struct imap_list_args args;
    const char *error;
    struct buf out = BUF_INIT, err = BUF_INIT;
    if (imap_list_args_parse(cmd->args, cmd->arg_count, lsub, list.separator,
                             0, &args, &error) < 0) {
        printf("%s BAD %s\r\n", cmd->tag, error);
        return;
    }
    struct list_command_env env = {&list, &special, 0, count_status, NULL};
    if (list_command_answer(&env, &args, &out, &err) < 0)
        printf("%s NO [SERVERBUG] %s\r\n", cmd->tag, err.data);
    else
        printf("%s%s OK %s completed\r\n", buf_cstr(&out), cmd->tag,
               lsub ? "Lsub" : "List");
    imap_list_args_free(&args);
    buf_free(&out);
    buf_free(&err);
}

static void run_command(const struct imap_command *cmd)
{
    struct buf name = BUF_INIT, name2 = BUF_INIT, error = BUF_INIT;
    const char *n = cmd->name;

    if (strcmp(n, "LIST") == 0 || strcmp(n, "LSUB") == 0) {
        run_list(cmd, n[1] == 'S');
    } else if (strcmp(n, "CREATE") == 0) {
        if (mailbox_arg(cmd, 0, &name) == 0)
            tagged_result(cmd->tag, mailbox_list_create(&list, name.data, &error),
                          "Create completed", &error);
    } else if (strcmp(n, "DELETE") == 0) {
        if (mailbox_arg(cmd, 0, &name) == 0)
            tagged_result(cmd->tag, mailbox_list_delete(&list, name.data, &error),
                          "Delete completed", &error);
    } else if (strcmp(n, "RENAME") == 0) {
        if (mailbox_arg(cmd, 0, &name) == 0 && mailbox_arg(cmd, 1, &name2) == 0)
            tagged_result(cmd->tag,
                          mailbox_list_rename(&list, name.data, name2.data,
                                              &error),
                          "Rename completed", &error);
    } else if (strcmp(n, "SUBSCRIBE") == 0 || strcmp(n, "UNSUBSCRIBE") == 0) {
        int subscribe = n[0] == 'S';
        if (mailbox_arg(cmd, 0, &name) == 0) {
            if (subscribe && !mailbox_list_exists(&list, name.data))
                printf("%s NO Mailbox doesn't exist: %s\r\n", cmd->tag,
                       name.data);
            else if (subscriptions_set(&list, name.data, subscribe, &error) < 0)
                printf("%s NO %s\r\n", cmd->tag, error.data);
            else
                printf("%s OK %s completed\r\n", cmd->tag,
                       subscribe ? "Subscribe" : "Unsubscribe");
        }
    } else if (strcmp(n, "LOGOUT") == 0) {
        printf("* BYE Logging out\r\n%s OK Logout completed\r\n", cmd->tag);
    } else {
        printf("%s BAD Unknown command\r\n", cmd->tag);
    }
    buf_free(&name);
    buf_free(&name2);
    buf_free(&error);
}

int main(int argc, char **argv)
{
    static const char *const uses[SPECIAL_USE_COUNT] = {
        [SPECIAL_USE_SENT] = "sent", [SPECIAL_USE_DRAFTS] = "drafts",
        [SPECIAL_USE_TRASH] = "trash", [SPECIAL_USE_JUNK] = "junk",
        [SPECIAL_USE_ARCHIVE] = "archive"};
    if (argc < 3 || (strcmp(argv[2], "/") != 0 && strcmp(argv[2], ".") != 0)) {
        fprintf(stderr, "usage: imap_folders ROOT / | . [USE=NAME ...]\n");
        return 2;
    }
    list.root = argv[1];
    list.separator = argv[2][0];
    for (int i = 3; i < argc; i++) {
        const char *eq = strchr(argv[i], '=');
        for (int use = 0; eq && use < SPECIAL_USE_COUNT; use++)
            if (strncmp(argv[i], uses[use], (size_t)(eq - argv[i])) == 0 &&
                uses[use][eq - argv[i]] == '\0')
                special_use_set(&special, (enum special_use)use, eq + 1);
    }

    struct imap_reader reader;
    struct imap_reader_limits limits;
    imap_reader_limits_default(&limits);
    limits.nonsync_max = IMAP_NONSYNC_LITERAL_PLUS;
    imap_reader_init(&reader, &limits);
    struct buf input = BUF_INIT;
    char chunk[4096];
    ssize_t got;
    while ((got = read(0, chunk, sizeof(chunk))) > 0)
        buf_append(&input, chunk, (size_t)got);

    size_t pos = 0, used;
    while (pos < input.len) {
        enum imap_reader_event ev =
            imap_reader_feed(&reader, input.data + pos, input.len - pos, &used);
        pos += used;
        if (ev == IMAP_READER_COMMAND)
            run_command(&reader.command);
        else if (ev == IMAP_READER_ERROR)
            printf("%s\r\n", reader.error.response.data);
        fflush(stdout);
    }
    imap_reader_free(&reader);
    buf_free(&input);
    special_use_free(&special);
    return 0;
}
