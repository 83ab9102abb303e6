/* queue_show.c: postqueue -p / -j and mailq through showq, with the
 * direct fallback for privileged users (queue_show.h). */
#include "base/tool.h"
#include "queue/queue_show.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "base/buf.h"
#include "config/config.h"
#include "base/privs.h"
#include "queue/qtool.h"
#include "queue/showq.h"
#include "base/timeconv.h"

int queue_show_privileged(void)
{
    if (getuid() == 0 || geteuid() == 0)
        return 1;
    uid_t owner_uid;
    gid_t owner_gid;
    struct buf err = BUF_INIT;
    int owner = privs_lookup_user(cfg_str("mail_owner"), &owner_uid, &owner_gid,
                                  &err) == PRIVS_FOUND &&
                owner_uid == getuid();
    buf_free(&err);
    return owner;
}

static void check_output(void)
{
    if (fflush(stdout) != 0 || ferror(stdout))
        tool_fatal(EX_IOERR, "output write error: %s", strerror(errno));
}

/* The mail system is down: read the queue ourselves, as Postfix's
 * postqueue runs showq itself for the superuser. */
static int show_directly(const char *queue_directory,
                         enum queue_list_format format)
{
    struct buf err = BUF_INIT;
    if (queue_list(queue_directory, format, cfg_str("empty_address_recipient"),
                   stdout, &err) < 0)
        tool_fatal(EX_NOPERM, "%s", buf_cstr(&err));
    check_output();
    buf_free(&err);
    return 0;
}

int queue_show(const char *queue_directory, enum queue_list_format format)
{
    struct queue_list_printer printer;
    queue_list_printer_init(&printer, format,
                            cfg_str("empty_address_recipient"), stdout);
    struct showq_refusal refusal = {BUF_INIT, -1};
    struct buf err = BUF_INIT;
    int timeout_ms = timeconv_sec_to_int_ms(cfg_time("ipc_timeout"));
    const char *mail_name = cfg_str("mail_name");
    enum showq_result result =
        showq_list(queue_directory, timeout_ms, &printer, &refusal, &err);
    int saved = errno;
    switch (result) {
    case SHOWQ_OK:
        queue_list_print_end(&printer);
        check_output();
        break;
    case SHOWQ_INCOMPLETE:
        /* As with a direct scan: what could be read, then the error. */
        queue_list_print_end(&printer);
        check_output();
        tool_fatal(EX_NOPERM, "%s", buf_cstr(&err));
    case SHOWQ_REFUSED:
        tool_fatal(EX_UNAVAILABLE,
                   "User %s(%ld) is not allowed to view the mail queue",
                   buf_cstr(&refusal.user), refusal.uid);
    case SHOWQ_NOACCESS:
        /* Not "down": the socket is there, we may not use it. */
        tool_fatal(EX_UNAVAILABLE, "Connect to the %s showq service: %s",
                   mail_name, strerror(saved));
    case SHOWQ_DOWN:
        if (queue_show_privileged()) {
            qtool_warn("Mail system is down -- accessing queue directly "
                       "(Connect to the %s showq service: %s)",
                       mail_name, strerror(saved));
            show_directly(queue_directory, format);
            break;
        }
        tool_fatal(EX_UNAVAILABLE,
                   "Queue report unavailable - mail system is down "
                   "(Connect to the %s showq service: %s)",
                   mail_name, strerror(saved));
    case SHOWQ_ERROR:
        fflush(stdout);
        tool_fatal(EX_UNAVAILABLE, "%s", buf_cstr(&err));
    }
    buf_free(&refusal.user);
    buf_free(&err);
    return 0;
}
