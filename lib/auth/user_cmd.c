/* user_cmd.c: `postern user add|passwd|del|list` (user_cmd.h). */
#include "auth/user_cmd.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth/passwd_edit.h"
#include "auth/password.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/privs.h"
#include "base/secret_read.h"
#include "base/str.h"
#include "config/config.h"

/* A passwd-file the command creates: readable by root and, through the
 * group, by mail_owner (the auth service re-reads a changed file after
 * it dropped to mail_owner); never by others. */
#define USER_CMD_NEW_FILE_MODE 0640

static const char usage_text[] =
    "usage: postern [-c config_dir] user add|passwd NAME [--file PATH] "
    "[--scheme ARGON2ID|SHA512-CRYPT]\n"
    "       postern [-c config_dir] user del NAME [--file PATH]\n"
    "       postern [-c config_dir] user list [--file PATH]\n"
    "The password is read from the terminal (twice, without echo) or as "
    "the first line of standard input; never from the command line.\n"
    "The file defaults to the first passwd-file: table of passdb.\n";

static int usage(void)
{
    fputs(usage_text, stderr);
    return 2;
}

char *user_cmd_default_file(void)
{
    struct strlist tables;
    strlist_init(&tables);
    cfg_list("passdb", &tables);
    char *path = NULL;
    for (size_t i = 0; i < tables.count && !path; i++)
        if (str_has_prefix(tables.items[i], "passwd-file:") &&
            tables.items[i][strlen("passwd-file:")])
            path = xstrdup(tables.items[i] + strlen("passwd-file:"));
    strlist_free(&tables);
    return path;
}

/* mail_owner's group for a new file, when running as root; else -1. */
static long new_file_group(int config_loaded)
{
    if (!config_loaded || !privs_is_root())
        return -1;
    uid_t uid;
    gid_t gid;
    struct buf err = BUF_INIT;
    enum privs_lookup found =
        privs_lookup_user(cfg_str("mail_owner"), &uid, &gid, &err);
    buf_free(&err);
    return found == PRIVS_FOUND ? (long)gid : -1;
}

/* Asks for the new password and hashes it into hashed. 0 or -1. */
static int new_hash(const char *user, const char *scheme, struct buf *hashed)
{
    struct buf secret = BUF_INIT, err = BUF_INIT;
    char *prompt = xasprintf("New password for %s: ", user);
    int status = secret_read(STDIN_FILENO, prompt, "Retype new password: ",
                             PASSWORD_MAX_LEN, &secret, &err);
    free(prompt);
    if (status == 0 && password_hash(scheme, secret.data, secret.len, hashed,
                                     &err) < 0)
        status = -1;
    secret_wipe(&secret);
    if (status < 0)
        log_error("%s", buf_cstr(&err));
    buf_free(&err);
    return status;
}

static int run_list(const char *path)
{
    struct strlist users;
    strlist_init(&users);
    struct buf err = BUF_INIT;
    int status = passwd_edit_list(path, &users, &err);
    if (status < 0)
        log_error("%s", buf_cstr(&err));
    for (size_t i = 0; i < users.count; i++)
        printf("%s\n", users.items[i]);
    strlist_free(&users);
    buf_free(&err);
    return status < 0 ? 1 : 0;
}

static int run_edit(enum passwd_edit_op op, const char *path, const char *user,
                    const char *scheme, int config_loaded)
{
    struct buf err = BUF_INIT, hashed = BUF_INIT;
    int status = -1;
    if (passwd_edit_name_ok(user, &err) < 0)
        goto done;
    /* Refuse early, before asking for a password that would be thrown
     * away; the edit checks again under its lock. */
    int exists = passwd_edit_has_user(path, user, &err);
    if (exists < 0)
        goto done;
    if (op == PASSWD_EDIT_ADD && exists) {
        buf_appendf(&err, "user %s already exists in %s", user, path);
        goto done;
    }
    if (op != PASSWD_EDIT_ADD && !exists) {
        buf_appendf(&err, "no user %s in %s", user, path);
        goto done;
    }
    if (op != PASSWD_EDIT_DELETE && new_hash(user, scheme, &hashed) < 0)
        goto told; /* new_hash said why */
    status = passwd_edit_apply(path, op, user, buf_cstr(&hashed),
                               USER_CMD_NEW_FILE_MODE,
                               new_file_group(config_loaded), &err);
done:
    if (status < 0)
        log_error("%s", buf_cstr(&err));
    else
        log_info("%s user %s %s %s",
                 op == PASSWD_EDIT_ADD   ? "added"
                 : op == PASSWD_EDIT_SET ? "changed the password of"
                                         : "deleted",
                 user,
                 op == PASSWD_EDIT_ADD   ? "to"
                 : op == PASSWD_EDIT_SET ? "in"
                                         : "from",
                 path);
told:
    secret_wipe(&hashed);
    buf_free(&err);
    return status < 0 ? 1 : 0;
}

int user_cmd_run(int argc, char **argv, int config_loaded)
{
    if (argc < 2)
        return usage();
    const char *sub = argv[1];
    if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0) {
        fputs(usage_text, stdout);
        return 0;
    }
    const char *file = NULL, *scheme = NULL;
    static const struct option options[] = {
        {"file", required_argument, NULL, 'f'},
        {"scheme", required_argument, NULL, 's'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int opt;
    optind = 0; /* glibc: start afresh (postern's own getopt stopped at
                 * "user" with '+'); options may follow NAME */
    opterr = 1;
    /* argv + 1: the subcommand stands where getopt expects the program
     * name; options may come before or after NAME. */
    while ((opt = getopt_long(argc - 1, argv + 1, "f:s:h", options, NULL)) !=
           -1) {
        switch (opt) {
        case 'f':
            file = optarg;
            break;
        case 's':
            scheme = optarg;
            break;
        case 'h':
            fputs(usage_text, stdout);
            return 0;
        default:
            return usage();
        }
    }
    int rest = argc - 1 - optind;
    char **names = argv + 1 + optind;
    enum passwd_edit_op op;
    if (strcmp(sub, "list") == 0) {
        if (rest != 0 || scheme)
            return usage();
    } else if (strcmp(sub, "add") == 0 || strcmp(sub, "passwd") == 0 ||
               strcmp(sub, "del") == 0) {
        if (rest != 1 || (scheme && strcmp(sub, "del") == 0))
            return usage();
    } else {
        return usage();
    }
    if (scheme && !str_equal_nocase(scheme, "ARGON2ID") &&
        !str_equal_nocase(scheme, "SHA512-CRYPT")) {
        log_error("unsupported scheme %s: use ARGON2ID (the default) or "
                  "SHA512-CRYPT", scheme);
        return 2;
    }
    char *path = file ? xstrdup(file)
                      : config_loaded ? user_cmd_default_file() : NULL;
    if (!path) {
        log_error("no passwd-file: give --file PATH, or name one in passdb "
                  "(passdb = passwd-file:/etc/postern/users)%s",
                  config_loaded ? "" : "; main.cf could not be read");
        return 1;
    }
    int status;
    if (strcmp(sub, "list") == 0) {
        status = run_list(path);
    } else {
        op = strcmp(sub, "add") == 0      ? PASSWD_EDIT_ADD
             : strcmp(sub, "passwd") == 0 ? PASSWD_EDIT_SET
                                          : PASSWD_EDIT_DELETE;
        status = run_edit(op, path, names[0], scheme, config_loaded);
    }
    free(path);
    return status;
}
