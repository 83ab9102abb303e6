/* imapd.c: the IMAP service's main(): which role this process plays
 * (imap-login when run under that name, else the dispatcher; workers are
 * forked by the dispatcher), and the settings every role reads. See
 * imapd.h for the map of files and docs/imapd.md. */
#include "imapd.h"

#include <string.h>

#include "config/config.h"

struct imapd_settings imapd_var;

void imapd_settings_load(void)
{
    struct imapd_settings *v = &imapd_var;
    v->disable_plaintext_auth = cfg_bool("imapd_disable_plaintext_auth");
    v->tls_wrappermode = cfg_bool("imapd_tls_wrappermode");
    v->login_timeout_ms = (uint64_t)cfg_time("imapd_login_timeout") * 1000;
    v->idle_timeout_ms = (uint64_t)cfg_time("imapd_idle_timeout") * 1000;
    v->idle_notify_ms = (uint64_t)cfg_time("imapd_idle_notify_interval") * 1000;
    v->minimum_uid = cfg_int("imapd_minimum_uid");
    v->workers_per_uid = cfg_int("imapd_workers_per_uid");
    v->max_idle = cfg_time("max_idle");
    v->log_ident = cfg_str("imapd_log_ident");
    v->queue_directory = cfg_str("queue_directory");
    imap_reader_limits_default(&v->limits);
    v->limits.line_max = (size_t)cfg_size("imapd_max_line_length");
    v->limits.literal_max = (size_t)cfg_size("imapd_max_literal_size");
    v->limits.command_max = (size_t)cfg_size("imapd_max_command_size");
    v->limits.depth_max = (unsigned)cfg_int("imapd_max_nesting_depth");
    v->limits.append_max = (size_t)cfg_size("message_size_limit");
    if (v->limits.append_max == 0)
        v->limits.append_max = IMAP_APPEND_MAX_DEFAULT;
    v->limits.discard_max = v->limits.append_max;
    v->limits.nonsync_max = IMAP_NONSYNC_LITERAL_PLUS; /* LITERAL+ */
}

int main(int argc, char **argv)
{
    const char *slash = strrchr(argv[0], '/');
    const char *name = slash ? slash + 1 : argv[0];
    if (strcmp(name, "imap-login") == 0)
        return login_main(argc, argv);
    return dispatch_main(argc, argv);
}
