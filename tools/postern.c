/* postern.c: the control command.
 *
 *   postern [-c DIR] [-v] start|start-fg|stop|abort|reload|status|check
 *
 * check     validates main.cf and master.cf (every problem as "FILE, line
 *           N: why"), that daemon_directory holds every command master.cf
 *           names, that every lookup table main.cf and master.cf -o
 *           overrides name opens (lib/tables/table_check.h), and the
 *           queue directory tree: missing directories are
 *           created with Postfix's owners and modes; wrong owners or
 *           unsafe modes are repaired with a warning. Exit 1 on any
 *           error.
 * start     runs check and refuses to start on any error that would make
 *           a daemon fail (table problems are warnings); then starts
 *           master in daemon mode and waits until it holds the queue lock
 *           and has bound every listener (master -w).
 * start-fg  the same checks, then master in the foreground (systemd).
 * stop      SIGTERM to master; waits until it (and so every child) is gone.
 * abort     SIGTERM to master without waiting.
 * reload    runs check, then SIGHUP to master.
 * status    exit 0 and "running: PID: N" when master runs, else exit 1.
 * user      add|passwd|del|list NAME [--file PATH] [--scheme S]: maintains
 *           a Dovecot passwd-file (lib/auth/user_cmd.h).
 * mta-sts   DOMAIN [MX-HOST...]: the MTA-STS decision the smtp client
 *           would apply (lib/mtasts/mtasts_cmd.h), as mail_owner.
 *
 * Messages read like postfix-script's:
 *   postern/postern-script: the Postern mail system is running: PID: 1234
 * and go to stderr and to the mail log. */
#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "auth/user_cmd.h"
#include "base/privs.h"
#include "mtasts/mtasts_cmd.h"
#include "config/config.h"
#include "base/fs_journal.h"
#include "base/log.h"
#include "config/mastercf.h"
#include "config/mastersvc.h"
#include "base/mem.h"
#include "base/pidlock.h"
#include "queue/maildrop_file.h"
#include "queue/qfile_pool.h"
#include "queue/queue_dirs.h"
#include "tables/table_check.h"
#include "auth/passdb.h"
#include "auth/username_format.h"
#include "tls/tls_client.h"
#include "tls/tls_config.h"
#include "tls/tls_server.h"

/* How long `stop` waits for master, which itself gives children a few
 * seconds before SIGKILL. */
#define STOP_WAIT_SECONDS 60

static char *config_dir;
static int problems;

static void problem(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void problem(const char *fmt, ...)
{
    char text[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    log_error("%s", text);
    problems++;
}

static const char usage_text[] =
    "usage: postern [-c config_dir] [-v] "
    "start|start-fg|stop|abort|reload|status|check\n"
    "       postern [-c config_dir] user add|passwd|del|list ...\n"
    "       postern [-c config_dir] mta-sts DOMAIN [MX-HOST...]\n"
    "\n"
    "  check     validate main.cf, master.cf and the queue directory\n"
    "  start     check, then start the mail system\n"
    "  start-fg  the same, with master in the foreground (systemd)\n"
    "  stop      stop the mail system and wait until it is gone\n"
    "  abort     stop without waiting\n"
    "  reload    check, then make master re-read its configuration\n"
    "  status    exit 0 when the mail system runs\n"
    "  user      maintain a passwd-file (postern user --help)\n"
    "  mta-sts   show the MTA-STS policy the smtp client applies to DOMAIN\n"
    "\n"
    "  -c DIR    configuration directory (default: $MAIL_CONFIG or " POSTERN_CONFIG_DIR ")\n"
    "  -v        more detail in the log\n"
    "  -h, --help  this text\n";

/* A bad command line: the usage on stderr, exit 2. Asked for (-h,
 * --help): on stdout, exit 0. */
static void usage(int asked)
{
    fputs(usage_text, asked ? stdout : stderr);
    exit(asked ? 0 : 2);
}

/* Reads main.cf; fatal when it cannot be parsed (nothing else can be
 * checked without it). Opens the mail log as it says. */
static void load_main_cf(void)
{
    struct buf err = BUF_INIT;
    buf_init(&err);
    if (config_load(config_dir, &err) < 0)
        log_fatal("%s", buf_cstr(&err));
    buf_free(&err);
    log_set_syslog_name(cfg_str("syslog_name"));
    log_open(cfg_str("maillog_file"), cfg_str("syslog_facility"));
    log_also_stderr(1);
}

static char *lock_path(void)
{
    return xasprintf("%s/%s/master.pid", cfg_str("queue_directory"),
                     cfg_str("process_id_directory"));
}

/* The running master's pid, or 0. */
static pid_t running_master(void)
{
    struct buf err = BUF_INIT;
    buf_init(&err);
    char *path = lock_path();
    pid_t pid = pidlock_holder(path, &err);
    if (pid < 0)
        log_fatal("%s", buf_cstr(&err));
    free(path);
    buf_free(&err);
    return pid;
}

/* ---- check: configuration ---- */

static void check_config_values(void)
{
    struct buf err = BUF_INIT;
    buf_init(&err);
    if (config_check(&err) > 0) {
        struct strlist lines;
        strlist_init(&lines);
        str_split_chars(buf_cstr(&err), "\n", &lines);
        for (size_t i = 0; i < lines.count; i++)
            problem("%s", lines.items[i]);
        strlist_free(&lines);
    }
    buf_free(&err);
    const char *absolute[] = {"queue_directory", "data_directory",
                              "daemon_directory"};
    for (size_t i = 0; i < sizeof(absolute) / sizeof(*absolute); i++) {
        const char *value = cfg_str(absolute[i]);
        if (value[0] != '/')
            problem("%s/main.cf: %s must be an absolute path, not \"%s\"",
                    config_dir, absolute[i], value);
    }
}

/* ---- check: lookup tables and network lists ---- */

/* `postern check` counts a table problem; start and reload only warn:
 * a daemon opens a broken table as one that fails every lookup (mail
 * defers), so it is no reason to refuse to start (docs/postern.md). */
static int tables_are_problems;

/* Warnings about the installation as a whole (the queue's file system
 * keeps no journal, setgid_group is missing) are given by `check` and
 * once per `start`, not again by reload, status or stop. */
static int install_warnings;

/* master.cf runs pickup, which submits what sendmail left in maildrop/
 * while the system was down. */
static int has_pickup_service;

/* Mail that sendmail queued while the system was down waits in
 * maildrop/ for pickup: say so when master.cf does not run it (a
 * master.cf from before pickup existed). */
static void check_maildrop_waiting(const char *queue_dir)
{
    if (has_pickup_service)
        return;
    char *path = xasprintf("%s/%s", queue_dir, queue_dir_name(QUEUE_MAILDROP));
    DIR *dir = opendir(path);
    size_t waiting = 0;
    struct dirent *de;
    while (dir && (de = readdir(dir)))
        if (maildrop_file_name(de->d_name))
            waiting++;
    if (dir)
        closedir(dir);
    if (waiting > 0)
        log_warn("%s holds %zu message%s that sendmail queued while the mail "
                 "system was down, but master.cf runs no pickup service to "
                 "submit them; add: pickup unix n n n 60 1 pickup",
                 path, waiting, waiting == 1 ? "" : "s");
    free(path);
}

static void table_problems(struct strlist *found)
{
    for (size_t i = 0; i < found->count; i++) {
        if (tables_are_problems)
            problem("%s", found->items[i]);
        else
            log_warn("%s", found->items[i]);
    }
    strlist_free(found);
    strlist_init(found);
}

static void check_main_cf_table(const char *name, const char *raw, void *arg)
{
    (void)raw;
    struct strlist *found = arg;
    char *where = xasprintf("%s/main.cf, line %d", config_dir,
                            config_line(name));
    table_check_value(where, name, cfg_str(name), found);
    free(where);
}

static void check_main_cf_tables(void)
{
    struct strlist found;
    strlist_init(&found);
    config_foreach_set(check_main_cf_table, &found);
    table_problems(&found);
}

/* A master.cf -o turns smtpd's TLS on (smtpd_tls_security_level other
 * than none, or smtpd_tls_wrappermode): check_tls checks the
 * certificate even when main.cf does not ask for TLS. */
static int tls_in_overrides;

static void note_tls_override(const char *name, const char *value)
{
    enum tls_level level = TLS_LEVEL_NONE;
    if (strcmp(name, "smtpd_tls_security_level") == 0 &&
        tls_level_parse(value, &level) >= 0 && level != TLS_LEVEL_NONE)
        tls_in_overrides = 1;
    if (strcmp(name, "smtpd_tls_wrappermode") == 0 &&
        (str_equal_nocase(value, "yes") || str_equal_nocase(value, "true")))
        tls_in_overrides = 1;
}

/* The tables that master.cf's -o overrides name. */
static void check_override_tables(const struct master_entry *entries,
                                  size_t count)
{
    struct strlist found;
    strlist_init(&found);
    for (size_t i = 0; i < count; i++) {
        const struct strlist *args = &entries[i].args;
        for (size_t k = 0; k < args->count; k++) {
            const char *setting = NULL;
            if (strcmp(args->items[k], "-o") == 0 && k + 1 < args->count)
                setting = args->items[++k];
            else if (str_has_prefix(args->items[k], "-o"))
                setting = args->items[k] + 2;
            const char *eq = setting ? strchr(setting, '=') : NULL;
            if (eq == NULL)
                continue;
            char *name = xstrndup(setting, (size_t)(eq - setting));
            struct buf value = BUF_INIT, err = BUF_INIT;
            config_expand(eq + 1, 0, &value, &err);
            char *where = xasprintf("%s, line %d (service %s)",
                                    entries[i].file, entries[i].line,
                                    entries[i].service);
            table_check_value(where, name, buf_cstr(&value), &found);
            note_tls_override(name, buf_cstr(&value));
            free(where);
            free(name);
            buf_free(&value);
            buf_free(&err);
        }
    }
    table_problems(&found);
}

/* An smtpd service's value of a parameter: its master.cf -o override
 * (expanded), else main.cf's. */
static void service_setting(const struct master_entry *entry,
                            const char *name, struct buf *out)
{
    buf_reset(out);
    const char *override = mastercf_override(entry, name);
    if (override == NULL) {
        buf_append_str(out, cfg_str(name));
        return;
    }
    struct buf err = BUF_INIT;
    config_expand(override, 0, out, &err);
    buf_free(&err);
}

/* An inet smtpd service that cannot work without TLS (submission with
 * smtpd_tls_security_level=encrypt or smtpd_tls_auth_only with AUTH,
 * submissions with smtpd_tls_wrappermode) while no certificate is
 * configured for it: every client would be refused. Named by its
 * master.cf line, as a table problem (check fails, start warns). */
static void check_tls_service(const struct master_entry *entry,
                              struct strlist *found)
{
    const char *slash = strrchr(entry->command, '/');
    const char *program = slash ? slash + 1 : entry->command;
    if (strcmp(program, "smtpd") != 0 || strcmp(entry->type, "inet") != 0)
        return;
    struct buf value = BUF_INIT;
    const char *needs = NULL;
    enum tls_level level = TLS_LEVEL_NONE;
    int flag = 0;
    service_setting(entry, "smtpd_tls_wrappermode", &value);
    if (config_parse_bool(buf_cstr(&value), &flag) == 0 && flag)
        needs = "smtpd_tls_wrappermode = yes";
    service_setting(entry, "smtpd_tls_security_level", &value);
    if (!needs && tls_level_parse(buf_cstr(&value), &level) == 0 &&
        level == TLS_LEVEL_ENCRYPT)
        needs = "smtpd_tls_security_level = encrypt";
    service_setting(entry, "smtpd_sasl_auth_enable", &value);
    int sasl = config_parse_bool(buf_cstr(&value), &flag) == 0 && flag;
    service_setting(entry, "smtpd_tls_auth_only", &value);
    if (!needs && sasl && config_parse_bool(buf_cstr(&value), &flag) == 0 &&
        flag)
        needs = "smtpd_tls_auth_only = yes (AUTH only over TLS)";
    if (needs) {
        service_setting(entry, "smtpd_tls_cert_file", &value);
        int has_cert = value.len > 0;
        service_setting(entry, "smtpd_tls_chain_files", &value);
        if (!has_cert && value.len == 0) {
            char *text = xasprintf(
                "%s, line %d: service %s needs TLS (%s) but no certificate "
                "is configured: set smtpd_tls_cert_file and "
                "smtpd_tls_key_file in main.cf",
                entry->file, entry->line, entry->service, needs);
            strlist_add(found, text);
            free(text);
        }
    }
    buf_free(&value);
}

/* imap-login on port 993 (imapd_tls_wrappermode) without a certificate
 * closes every client at once: the same kind of problem. */
static void check_imaps_service(const struct master_entry *entry,
                                struct strlist *found)
{
    const char *slash = strrchr(entry->command, '/');
    const char *program = slash ? slash + 1 : entry->command;
    if (strcmp(program, "imap-login") != 0 || strcmp(entry->type, "inet") != 0)
        return;
    struct buf value = BUF_INIT;
    int flag = 0;
    service_setting(entry, "imapd_tls_wrappermode", &value);
    if (config_parse_bool(buf_cstr(&value), &flag) == 0 && flag) {
        service_setting(entry, "imapd_tls_cert_file", &value);
        int has_cert = value.len > 0;
        service_setting(entry, "imapd_tls_chain_files", &value);
        if (!has_cert && value.len == 0) {
            char *text = xasprintf(
                "%s, line %d: service %s needs TLS (imapd_tls_wrappermode "
                "= yes) but no certificate is configured: set "
                "imapd_tls_cert_file and imapd_tls_key_file (or "
                "smtpd_tls_cert_file and smtpd_tls_key_file) in main.cf",
                entry->file, entry->line, entry->service);
            strlist_add(found, text);
            free(text);
        }
    }
    buf_free(&value);
}

static void check_master_cf(const char *daemon_dir)
{
    struct buf err = BUF_INIT;
    buf_init(&err);
    char *path = xasprintf("%s/master.cf", config_dir);
    struct master_entry *entries = NULL;
    size_t count = 0;
    if (mastercf_load(path, &entries, &count, &err) < 0) {
        problem("%s", buf_cstr(&err));
    } else {
        struct strlist errors;
        strlist_init(&errors);
        mastersvc_check(entries, count, daemon_dir, &errors);
        for (size_t i = 0; i < errors.count; i++)
            problem("%s", errors.items[i]);
        strlist_free(&errors);
        check_override_tables(entries, count);
        struct strlist tls_found;
        strlist_init(&tls_found);
        for (size_t i = 0; i < count; i++) {
            check_tls_service(&entries[i], &tls_found);
            check_imaps_service(&entries[i], &tls_found);
        }
        table_problems(&tls_found);
        for (size_t i = 0; i < count; i++) {
            const char *slash = strrchr(entries[i].command, '/');
            const char *program = slash ? slash + 1 : entries[i].command;
            if (strcmp(program, "pickup") == 0)
                has_pickup_service = 1;
        }
        mastercf_free(entries, count);
    }
    free(path);
    buf_free(&err);
}

/* ---- check: TLS ---- */

/* smtpd's TLS: an unknown smtpd_tls_security_level makes smtpd fail (a
 * problem for start too); a certificate, key, chain or protocol list
 * that does not load leaves smtpd running without TLS (STARTTLS gets
 * 454), so it counts like a broken table: check fails, start warns.
 * main.cf's settings are checked whenever main.cf or a master.cf -o
 * asks for TLS. */
static void check_tls(void)
{
    const char *value = cfg_str("smtpd_tls_security_level");
    enum tls_level level = TLS_LEVEL_NONE;
    if (tls_level_parse(value, &level) < 0) {
        problem("%s/main.cf: invalid smtpd_tls_security_level: \"%s\"",
                config_dir, value);
        return;
    }
    int wrapper = cfg_bool("smtpd_tls_wrappermode");
    if (level == TLS_LEVEL_NONE && !wrapper && !tls_in_overrides)
        return;
    struct tls_server_settings settings;
    tls_config_server("smtpd", level == TLS_LEVEL_ENCRYPT || wrapper,
                      &settings);
    struct buf err = BUF_INIT;
    struct tls_server *server = tls_server_new(&settings, &err);
    if (server == NULL) {
        struct strlist found;
        strlist_init(&found);
        char *text = xasprintf("%s/main.cf: smtpd TLS: %s", config_dir,
                               buf_cstr(&err));
        strlist_add(&found, text);
        free(text);
        table_problems(&found);
    }
    tls_server_free(server);
    buf_free(&err);
}

/* The smtp and lmtp clients' TLS (lib/tls/tls_client): an unknown
 * level, a CA file, client certificate or protocol list that does not
 * load would defer every delivery that needs TLS; counted like a broken
 * table. Checked when main.cf sets anything of a client's TLS. */
static void check_tls_client(void)
{
    static const char *const prefixes[] = {"smtp", "lmtp"};
    static const char *const suffixes[] = {"security_level", "policy_maps",
                                           "CAfile", "CApath", "cert_file",
                                           "chain_files"};
    for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
        int used = 0;
        for (size_t j = 0; j < sizeof(suffixes) / sizeof(suffixes[0]); j++) {
            char *name = xasprintf("%s_tls_%s", prefixes[i], suffixes[j]);
            const char *value = cfg_str(name);
            used |= *value != '\0' && strcmp(value, "none") != 0;
            free(name);
        }
        if (!used)
            continue;
        struct buf err = BUF_INIT;
        struct tls_client *client = tls_client_new(prefixes[i], &err);
        if (client == NULL) {
            struct strlist found;
            strlist_init(&found);
            char *text = xasprintf("%s/main.cf: %s TLS: %s", config_dir,
                                   prefixes[i], buf_cstr(&err));
            strlist_add(&found, text);
            free(text);
            table_problems(&found);
        }
        tls_client_free(client);
        buf_free(&err);
    }
}

/* ---- check: the auth service ---- */

/* passdb's passwd-files and auth_username_format (lib/auth); the other
 * passdb tables are opened by check_main_cf_tables. Counted like a
 * broken table: check fails, start warns. */
static void check_auth(void)
{
    struct strlist found, lines;
    strlist_init(&found);
    strlist_init(&lines);
    passdb_check(cfg_str("passdb"), &found);
    struct buf err = BUF_INIT;
    if (username_format_check(cfg_str("auth_username_format"), &err) < 0)
        strlist_add(&found, buf_cstr(&err));
    for (size_t i = 0; i < found.count; i++) {
        const char *name = str_has_prefix(found.items[i], "passdb:")
                               ? "passdb"
                               : "auth_username_format";
        char *text = xasprintf("%s/main.cf, line %d: %s", config_dir,
                               config_line(name), found.items[i]);
        strlist_add(&lines, text);
        free(text);
    }
    table_problems(&lines);
    strlist_free(&found);
    buf_free(&err);
}

static void check_daemon_directory(const char *daemon_dir)
{
    struct stat st;
    errno = 0;
    if (stat(daemon_dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
        problem("%s/main.cf: daemon_directory %s: %s", config_dir, daemon_dir,
                errno ? strerror(errno) : "not a directory");
        return;
    }
    char *master = xasprintf("%s/master", daemon_dir);
    if (access(master, X_OK) < 0)
        problem("%s: %s (daemon_directory has no master program)", master,
                strerror(errno));
    free(master);
}

/* ---- check: the queue directory tree ---- */

struct owner {
    uid_t uid;
    gid_t gid;
    const char *name;
};

/* 1 when postern may change the owner and mode of directory path: not
 * "/", not a directory right below it, not a shared one (sticky and
 * writable by all, as /tmp). */
static int repairable(const char *path, const struct stat *st)
{
    if ((st->st_mode & S_ISVTX) && (st->st_mode & 0002))
        return 0;
    const char *last = strrchr(path, '/');
    return last != NULL && last != path && strcmp(path, "/") != 0;
}

/* Creates path (and missing parents) or checks it: a directory, owned by
 * `owner`, with no permission bits outside `mode` for group and others
 * beyond what `mode` grants. A wrong owner or mode is repaired with a
 * warning (see repairable). */
static void ensure_directory(const char *path, mode_t mode,
                             const struct owner *owner, int is_root)
{
    struct stat st;
    if (stat(path, &st) < 0) {
        if (errno != ENOENT) {
            problem("%s: %s", path, strerror(errno));
            return;
        }
        /* Missing parents of the queue or data directory are made with
         * ordinary modes, as mkdir -p would. */
        char *copy = xstrdup(path);
        for (char *p = copy + 1; *p; p++) {
            if (*p != '/')
                continue;
            *p = 0;
            if (mkdir(copy, 0755) < 0 && errno != EEXIST) {
                problem("cannot create %s: %s", copy, strerror(errno));
                free(copy);
                return;
            }
            *p = '/';
        }
        free(copy);
        if (mkdir(path, mode) < 0) {
            problem("cannot create %s: %s", path, strerror(errno));
            return;
        }
        if (chmod(path, mode) < 0 ||
            (is_root && chown(path, owner->uid, owner->gid) < 0)) {
            problem("cannot set owner and mode of %s: %s", path,
                    strerror(errno));
            return;
        }
        log_info("created %s (owner %s, mode %04o)", path, owner->name,
                 (unsigned)mode);
        return;
    }
    if (!S_ISDIR(st.st_mode)) {
        problem("%s: not a directory", path);
        return;
    }
    int wrong_owner = st.st_uid != owner->uid;
    mode_t extra = st.st_mode & 077 & ~mode;
    int wrong_mode = (extra & 022) || (extra && (mode & 077) == 0);
    if (!wrong_owner && !wrong_mode) {
        if (!is_root && access(path, W_OK | X_OK) < 0)
            problem("%s: not writable by the invoking user: %s", path,
                    strerror(errno));
        return;
    }
    /* Repaired, as `postfix set-permissions` would, with a warning. Not
     * a shared directory, though: "/", one level below it (/tmp, /var)
     * or a sticky world-writable one is somebody else's to mind. */
    if (!repairable(path, &st)) {
        if (wrong_owner)
            problem("%s: owned by uid %ld, expected %s (uid %ld): chown %s %s",
                    path, (long)st.st_uid, owner->name, (long)owner->uid,
                    owner->name, path);
        if (wrong_mode)
            problem("%s: mode %04o lets group or others in; expected %04o: "
                    "chmod %04o %s",
                    path, (unsigned)(st.st_mode & 07777), (unsigned)mode,
                    (unsigned)mode, path);
        return;
    }
    if (wrong_owner) {
        if (!is_root) {
            problem("%s: owned by uid %ld, expected %s (uid %ld): chown %s %s",
                    path, (long)st.st_uid, owner->name, (long)owner->uid,
                    owner->name, path);
            return;
        }
        if (chown(path, owner->uid, owner->gid) < 0) {
            problem("chown %s %s: %s", owner->name, path, strerror(errno));
            return;
        }
        log_warn("%s: was owned by uid %ld; gave it to %s", path,
                 (long)st.st_uid, owner->name);
    }
    if (wrong_mode) {
        mode_t repaired = (st.st_mode & 07700) | (mode & 077);
        if (chmod(path, repaired) < 0) {
            problem("chmod %04o %s: %s", (unsigned)repaired, path,
                    strerror(errno));
            return;
        }
        log_warn("%s: mode was %04o, let group or others in; set %04o", path,
                 (unsigned)(st.st_mode & 07777), (unsigned)repaired);
    }
}

/* Every process appends to maillog_file itself, unprivileged ones too,
 * so the file must be writable by mail_owner. Creating it belongs to
 * post-install; so does giving it to mail_owner when root made it (our
 * own log_open does, as root, before this check runs). */
static void ensure_log_file(const struct owner *mail_owner)
{
    const char *path = cfg_str("maillog_file");
    if (!path[0] || strncmp(path, "/dev/", 5) == 0)
        return;
    struct stat st;
    if (stat(path, &st) < 0) {
        problem("maillog_file %s: %s", path, strerror(errno));
        return;
    }
    if (!S_ISREG(st.st_mode) || st.st_uid == mail_owner->uid ||
        (st.st_mode & 0002))
        return;
    if (st.st_uid != 0) {
        problem("maillog_file %s: owned by uid %ld, expected %s: chown %s %s",
                path, (long)st.st_uid, mail_owner->name, mail_owner->name,
                path);
        return;
    }
    if (chown(path, mail_owner->uid, mail_owner->gid) < 0)
        problem("chown %s: %s", path, strerror(errno));
    else
        log_info("gave %s to %s so that every daemon can log", path,
                 mail_owner->name);
}

/* maildrop/: where the set-gid postdrop leaves mail while the system is
 * down (docs/sendmail.md). Mode 1730, owner mail_owner, group
 * setgid_group: the group may add files but not list or read them, and
 * the sticky bit keeps one user from removing another's. Without the
 * group (or not as root) it is mail_owner's alone: only mail_owner and
 * root can then queue mail while the system is down. */
static void ensure_maildrop(const char *queue_dir,
                            const struct owner *mail_owner, int is_root)
{
    char *path = xasprintf("%s/%s", queue_dir, queue_dir_name(QUEUE_MAILDROP));
    struct owner owner = *mail_owner;
    mode_t mode = 0700;
    if (is_root) {
        const char *group_name = cfg_str("setgid_group");
        struct group *gr = getgrnam(group_name);
        if (gr) {
            owner.gid = gr->gr_gid;
            mode = 01730;
        } else if (install_warnings) {
            log_warn("setgid_group: no group \"%s\": users other than root "
                     "cannot queue mail with sendmail while the mail system "
                     "is not running (create it: groupadd --system %s; then "
                     "make install, or chgrp %s postdrop; chmod g+s "
                     "postdrop)",
                     group_name, group_name, group_name);
        }
    }
    ensure_directory(path, mode, &owner, is_root);
    struct stat st;
    if (is_root && stat(path, &st) == 0 && S_ISDIR(st.st_mode) &&
        ((st.st_mode & 07777) != mode || st.st_gid != owner.gid)) {
        if (chown(path, owner.uid, owner.gid) < 0 || chmod(path, mode) < 0)
            problem("cannot set owner and mode of %s: %s", path,
                    strerror(errno));
        else
            log_warn("%s: set group %ld and mode %04o (maildrop/ for "
                     "postdrop)",
                     path, (long)owner.gid, (unsigned)mode);
    }
    free(path);
}

static void check_queue_tree(void)
{
    int is_root = geteuid() == 0;
    struct owner root_owner = {0, 0, "root"};
    struct owner mail_owner;
    const char *owner_name = cfg_str("mail_owner");
    if (is_root) {
        struct passwd *pw = getpwnam(owner_name);
        if (!pw) {
            problem("%s/main.cf: mail_owner: unknown user \"%s\" (create it: "
                    "useradd --system --home-dir /nonexistent --shell "
                    "/usr/sbin/nologin %s)",
                    config_dir, owner_name, owner_name);
            return;
        }
        if (pw->pw_uid == 0) {
            problem("%s/main.cf: mail_owner \"%s\" must not be a privileged "
                    "account (uid 0)", config_dir, owner_name);
            return;
        }
        mail_owner.uid = pw->pw_uid;
        mail_owner.gid = pw->pw_gid;
        mail_owner.name = owner_name;
    } else {
        /* Not root: the whole suite runs as the invoking user. */
        struct passwd *pw = getpwuid(getuid());
        root_owner.uid = mail_owner.uid = getuid();
        root_owner.gid = mail_owner.gid = getgid();
        root_owner.name = mail_owner.name = pw ? xstrdup(pw->pw_name) : "self";
    }

    const char *queue = cfg_str("queue_directory");
    if (queue[0] != '/')
        return; /* already reported */
    char *queue_dir = xstrdup(queue);
    ensure_directory(queue_dir, 0755, &root_owner, is_root);
    if (problems) {
        free(queue_dir);
        return;
    }
    /* The message queues come from lib/queue/queue_dirs (one list for the
     * whole suite, maildrop/ included); the rest belong to master, tools
     * and Postfix's layout (trace and flush logs). */
    struct strlist names;
    strlist_init(&names);
    for (int q = 0; q < QUEUE_COUNT; q++)
        strlist_add(&names, queue_dir_name((enum queue_name)q));
    static const char *const extra[] = {"trace", "flush", "private",
                                        QFILE_POOL_DIR};
    for (size_t i = 0; i < sizeof(extra) / sizeof(*extra); i++)
        strlist_add(&names, extra[i]);
    for (size_t i = 0; i < names.count; i++) {
        if (strcmp(names.items[i], queue_dir_name(QUEUE_MAILDROP)) == 0)
            continue; /* below */
        char *path = xasprintf("%s/%s", queue_dir, names.items[i]);
        ensure_directory(path, 0700, &mail_owner, is_root);
        free(path);
    }
    ensure_maildrop(queue_dir, &mail_owner, is_root);
    check_maildrop_waiting(queue_dir);
    strlist_free(&names);
    /* public/ holds the sockets any local user may connect to (local
     * submission); pid/ holds master's lock and belongs to root. */
    char *path = xasprintf("%s/public", queue_dir);
    ensure_directory(path, 0755, &mail_owner, is_root);
    free(path);
    path = xasprintf("%s/%s", queue_dir, cfg_str("process_id_directory"));
    ensure_directory(path, 0755, &root_owner, is_root);
    free(path);
    const char *data = cfg_str("data_directory");
    if (data[0] == '/')
        ensure_directory(data, 0700, &mail_owner, is_root);
    /* A warning, not a problem: the system runs, but an operating-system
     * crash can lose queued mail (docs/qmgr.md, "Crash safety"). */
    char fs[256];
    if (install_warnings && fs_lacks_journal(queue_dir, fs, sizeof(fs)))
        log_warn("queue_directory %s is on a file system without a journal "
                 "(%s): a crash of the operating system can lose queued "
                 "mail; use a journalling file system for the queue (ext4 "
                 "with its journal, XFS)",
                 queue_dir, fs);
    free(queue_dir);
    if (is_root)
        ensure_log_file(&mail_owner);
}

/* Runs every check; returns the number of problems. */
static int run_check(void)
{
    problems = 0;
    check_config_values();
    if (problems)
        return problems; /* paths may be nonsense: stop here */
    const char *daemon_dir = cfg_str("daemon_directory");
    check_daemon_directory(daemon_dir);
    check_main_cf_tables();
    check_master_cf(daemon_dir);
    check_tls();
    check_tls_client();
    check_auth();
    check_queue_tree();
    return problems;
}

/* ---- commands ---- */

static char *master_program(void)
{
    return xasprintf("%s/master", cfg_str("daemon_directory"));
}

static int cmd_start(int foreground)
{
    pid_t pid = running_master();
    if (pid > 0)
        log_fatal("the Postern mail system is already running: PID: %ld",
                  (long)pid);
    if (run_check() > 0)
        log_fatal("the Postern mail system was not started: %d problem%s "
                  "above", problems, problems == 1 ? "" : "s");
    char *program = master_program();
    if (foreground) {
        log_info("starting the Postern mail system in the foreground");
        execl(program, "master", "-c", config_dir, "-d", (char *)NULL);
        log_fatal("exec %s: %s", program, strerror(errno));
    }
    log_info("starting the Postern mail system");
    pid_t child = fork();
    if (child < 0)
        log_fatal("fork: %s", strerror(errno));
    if (child == 0) {
        execl(program, "master", "-c", config_dir, "-w", (char *)NULL);
        log_error("exec %s: %s", program, strerror(errno));
        _exit(1);
    }
    int status;
    while (waitpid(child, &status, 0) < 0)
        if (errno != EINTR)
            log_fatal("waitpid: %s", strerror(errno));
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        log_fatal("mail system startup failed");
    free(program);
    return 0;
}

static int cmd_stop(int wait_for_exit)
{
    pid_t pid = running_master();
    if (pid == 0)
        log_fatal("the Postern mail system is not running");
    log_info("%s the Postern mail system",
             wait_for_exit ? "stopping" : "aborting");
    if (kill(pid, SIGTERM) < 0)
        log_fatal("kill master pid %ld: %s", (long)pid, strerror(errno));
    if (!wait_for_exit)
        return 0;
    struct timespec pause = {0, 50 * 1000 * 1000};
    for (int i = 0; i < STOP_WAIT_SECONDS * 20; i++) {
        if (running_master() == 0)
            return 0;
        nanosleep(&pause, NULL);
    }
    log_fatal("master pid %ld did not stop within %d seconds", (long)pid,
              STOP_WAIT_SECONDS);
}

static int cmd_reload(void)
{
    pid_t pid = running_master();
    if (pid == 0)
        log_fatal("the Postern mail system is not running");
    if (run_check() > 0)
        log_fatal("the Postern mail system was not reloaded: %d problem%s "
                  "above", problems, problems == 1 ? "" : "s");
    log_info("refreshing the Postern mail system");
    if (kill(pid, SIGHUP) < 0)
        log_fatal("kill master pid %ld: %s", (long)pid, strerror(errno));
    return 0;
}

static int cmd_status(void)
{
    pid_t pid = running_master();
    if (pid == 0) {
        log_info("the Postern mail system is not running");
        return 1;
    }
    log_info("the Postern mail system is running: PID: %ld", (long)pid);
    return 0;
}

/* `postern user ...`: main.cf only for passdb and mail_owner, so with
 * --file it also works where main.cf cannot be read. */
static int cmd_user(const char *cli_dir, int argc, char **argv)
{
    umask(077);
    struct buf err = BUF_INIT;
    int loaded = config_load(config_resolve_dir(cli_dir), &err) == 0;
    if (loaded) {
        log_set_syslog_name(cfg_str("syslog_name"));
        log_open(cfg_str("maillog_file"), cfg_str("syslog_facility"));
    } else {
        log_open("/dev/stderr", NULL);
    }
    log_also_stderr(1);
    buf_free(&err);
    return user_cmd_run(argc, argv, loaded);
}

/* `postern mta-sts DOMAIN [MX...]`: as mail_owner when run as root, so
 * that the policy cache in data_directory stays the smtp client's. */
static int cmd_mta_sts(const char *cli_dir, int argc, char **argv)
{
    struct buf err = BUF_INIT;
    if (config_load(config_resolve_dir(cli_dir), &err) != 0) {
        log_open("/dev/stderr", NULL);
        log_error("%s", buf_cstr(&err));
        buf_free(&err);
        return 1;
    }
    log_set_syslog_name(cfg_str("syslog_name"));
    log_open(cfg_str("maillog_file"), cfg_str("syslog_facility"));
    log_also_stderr(1);
    if (privs_is_root() &&
        privs_drop(cfg_str("mail_owner"), &err) != PRIVS_DROPPED) {
        log_error("cannot become mail_owner %s: %s", cfg_str("mail_owner"),
                  buf_cstr(&err));
        buf_free(&err);
        return 1;
    }
    buf_free(&err);
    return mtasts_cmd_run(argc, argv);
}

int main(int argc, char **argv)
{
    const char *cli_dir = NULL;
    int opt;
    log_set_program("postern-script");
    /* `postern [-c DIR] [-v] user ...` (and mta-sts) take words of their
     * own: stop at the first word that is not an option, and let the
     * command parse the rest. */
    int user_command = 0, mta_sts_command = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-c") == 0) {
            i++;
        } else if (argv[i][0] != '-') {
            user_command = strcmp(argv[i], "user") == 0;
            mta_sts_command = strcmp(argv[i], "mta-sts") == 0;
            break;
        }
    }
    int own_words = user_command || mta_sts_command;
    for (int i = 1; i < argc && !own_words && strcmp(argv[i], "--") != 0; i++)
        if (strcmp(argv[i], "--help") == 0)
            usage(1);
    while ((opt = getopt(argc, argv, own_words ? "+c:hv" : "c:hv")) != -1) {
        switch (opt) {
        case 'c':
            cli_dir = optarg;
            break;
        case 'v':
            log_set_verbose(log_verbose_level() + 1);
            break;
        case 'h':
            usage(1);
            break;
        default:
            usage(0);
        }
    }
    if (mta_sts_command)
        return cmd_mta_sts(cli_dir, argc - optind, argv + optind);
    if (user_command)
        return cmd_user(cli_dir, argc - optind, argv + optind);
    if (optind + 1 != argc)
        usage(0);
    const char *command = argv[optind];
    umask(022);

    const char *dir = config_resolve_dir(cli_dir);
    char absolute[PATH_MAX];
    if (!realpath(dir, absolute))
        log_fatal("configuration directory %s: %s", dir, strerror(errno));
    config_dir = xstrdup(absolute);
    /* Unused parameters are master's to log (once per start or reload);
     * here only `check` reports them, on the terminal. */
    config_set_unused_warnings(strcmp(command, "check") == 0);
    load_main_cf();

    install_warnings = strcmp(command, "check") == 0 ||
                       strcmp(command, "start") == 0 ||
                       strcmp(command, "start-fg") == 0;
    if (strcmp(command, "check") == 0) {
        tables_are_problems = 1;
        return run_check() > 0 ? 1 : 0;
    }
    if (strcmp(command, "start") == 0)
        return cmd_start(0);
    if (strcmp(command, "start-fg") == 0)
        return cmd_start(1);
    if (strcmp(command, "stop") == 0)
        return cmd_stop(1);
    if (strcmp(command, "abort") == 0)
        return cmd_stop(0);
    if (strcmp(command, "reload") == 0)
        return cmd_reload();
    if (strcmp(command, "status") == 0)
        return cmd_status();
    log_error("unknown command \"%s\"", command);
    usage(0);
}
