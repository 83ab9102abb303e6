/* fuzz_auth_master.c: fuzzes the userdb side of the auth-master protocol
 * (lib/auth/auth_master.c) as a hostile client on private/auth-userdb
 * would drive it: the input is split into lines at LF and fed to one
 * connection over a passwd-file held in memory, with
 * auth_username_format applied. Invariants: every reply is whole lines,
 * a connection that was closed says why, and nothing leaks or reads out
 * of bounds (ASan/UBSan). */
#include <stdint.h>
#include <string.h>

#include "auth/auth_master.h"
#include "base/buf.h"
#include "base/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char users[] =
    "alice@example.test:{PLAIN}x:1001:1001::/home/alice::"
    "mail=maildir:~/Maildir quota_storage=1G\n"
    "vuser:{PLAIN}pw\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct passdb *db;
    if (db == NULL) {
        db = passdb_open_passwd_text("fuzz", users, strlen(users));
        log_open("/dev/null", NULL);
    }
    struct auth_server_settings settings = {
        .passdb = db,
        .pid = 1,
        .username_format = size % 2 ? "%Lu" : "%Ln@%{domain}",
    };
    struct auth_master_conn *conn = auth_master_conn_new(&settings);
    struct buf out = BUF_INIT;
    const uint8_t *p = data, *end = data + size;
    while (p < end) {
        const uint8_t *lf = memchr(p, '\n', (size_t)(end - p));
        size_t len = lf ? (size_t)(lf - p) : (size_t)(end - p);
        buf_reset(&out);
        if (auth_master_input(conn, (const char *)p, len, &out) < 0) {
            if (auth_master_error(conn)[0] == 0)
                __builtin_trap();
            break;
        }
        if (out.len && out.data[out.len - 1] != '\n')
            __builtin_trap();
        p = lf ? lf + 1 : end;
    }
    auth_master_conn_free(conn);
    buf_free(&out);
    return 0;
}
