/* smtp.c: the smtp and lmtp delivery agent, Postfix's smtp(8)/lmtp(8).
 *
 * One program, two modes. It speaks LMTP (RFC 2033: LHLO, one reply per
 * recipient after DATA, unix or TCP sockets, lmtp_* parameters) when it
 * runs as `lmtp` (the program name, as Postfix's hard link, or the
 * master.cf service name), and SMTP otherwise. It serves deliver/1
 * requests from qmgr one at a time on lib/delivery's request mode: each
 * request is one next hop and all its recipients go in one transaction
 * (smtp_deliver.c). It needs no privileges: master runs it as
 * mail_owner (unpriv = y), which owns the queue files it marks.
 * See smtp.h for the files and docs/smtp.md for the behaviour. */
#include "smtp.h"

#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "config/config.h"
#include "ipc/server.h"

struct smtp_settings smtp_cfg;

static struct event_loop *private_loop;
static const char *program_name = "smtp";

struct event_loop *smtp_loop(void)
{
    if (private_loop == NULL)
        private_loop = event_loop_new();
    return private_loop;
}

/* The value of the mode's own parameter: smtp_NAME or lmtp_NAME. */
static const char *param_name(const char *suffix)
{
    static char name[128];
    snprintf(name, sizeof(name), "%s_%s", smtp_cfg.name, suffix);
    return name;
}

static int time_ms(const char *suffix)
{
    long sec = cfg_time(param_name(suffix));
    return sec > 86400 ? 86400 * 1000 : (int)(sec * 1000);
}

static void smtp_init(void)
{
    const char *service = server_service();
    smtp_cfg.lmtp = strcmp(program_name, "lmtp") == 0 ||
                    (service && strcmp(service, "lmtp") == 0);
    smtp_cfg.name = smtp_cfg.lmtp ? "lmtp" : "smtp";
    smtpc_settings_from_config(&smtp_cfg.engine, smtp_cfg.lmtp);
    smtp_cfg.connect_timeout_ms = time_ms("connect_timeout");
    smtp_cfg.mx_address_limit = cfg_int(param_name("mx_address_limit"));
    smtp_cfg.mx_session_limit = cfg_int(param_name("mx_session_limit"));
    smtp_cfg.cache_on_demand = cfg_bool(param_name("connection_cache_on_demand"));
    smtp_cfg.cache_time_limit_ms =
        (uint64_t)time_ms("connection_cache_time_limit");
    smtp_cfg.reuse_count_limit =
        cfg_int(param_name("connection_reuse_count_limit"));
    smtp_cfg.reuse_time_limit_ms =
        (uint64_t)time_ms("connection_reuse_time_limit");
    smtp_cfg.tls_security_level = cfg_str(param_name("tls_security_level"));
    smtp_cfg.mime_output_conversion =
        !cfg_bool("disable_mime_output_conversion");
    smtp_cfg.queue_dir = cfg_str("queue_directory");
    smtp_cfg.myhostname = cfg_str("myhostname");
    smtp_cfg.fallback_relay =
        smtp_cfg.lmtp ? "" : cfg_str("smtp_fallback_relay");
    smtp_loop();
    smtp_dns_init();
    smtp_tls_init();
    smtp_sasl_init();
}

static void smtp_pre_exit(void)
{
    smtp_cache_close_all();
}

static const struct agent_request_ops smtp_ops = {
    .init = smtp_init,
    .deliver = smtp_deliver,
    .idle_due_ms = smtp_cache_due_ms,
    .idle_work = smtp_cache_expire,
    .pre_exit = smtp_pre_exit,
};

int main(int argc, char **argv)
{
    char *copy = strdup(argv[0]);
    if (copy && strcmp(basename(copy), "lmtp") == 0)
        program_name = "lmtp";
    free(copy);
    agent_main_request(argc, argv, program_name, &smtp_ops);
}
