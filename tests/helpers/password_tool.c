/* password_tool.c: lib/auth/password on the command line, for
 * tests/e2e/test_password_interop.py (Dovecot's doveadm checks the
 * hashes we make, we check the hashes it makes). The password is read
 * from standard input (one line, its newline dropped), never argv.
 *
 *   password_tool hash [SCHEME]     prints "{SCHEME}hash", exit 0
 *   password_tool verify STORED     exit 0 match, 1 mismatch, 2 error
 *                                   (the reason on stderr)          */
#include <stdio.h>
#include <string.h>

#include "auth/password.h"
#include "base/buf.h"

static void read_password(struct buf *password)
{
    int c;
    while ((c = getchar()) != EOF && c != '\n')
        buf_append_char(password, (char)c);
}

int main(int argc, char **argv)
{
    struct buf password = BUF_INIT, out = BUF_INIT, err = BUF_INIT;
    if (argc >= 2 && argc <= 3 && strcmp(argv[1], "hash") == 0) {
        read_password(&password);
        if (password_hash(argc == 3 ? argv[2] : NULL, password.data,
                          password.len, &out, &err) < 0) {
            fprintf(stderr, "password_tool: %s\n", buf_cstr(&err));
            return 2;
        }
        printf("%s\n", buf_cstr(&out));
        return 0;
    }
    if (argc == 3 && strcmp(argv[1], "verify") == 0) {
        read_password(&password);
        switch (password_verify(argv[2], password.data, password.len, NULL,
                                &err)) {
        case PASSWORD_MATCH:
            return 0;
        case PASSWORD_MISMATCH:
            return 1;
        case PASSWORD_ERROR:
            fprintf(stderr, "password_tool: %s\n", buf_cstr(&err));
            return 2;
        }
    }
    fprintf(stderr, "usage: password_tool hash [SCHEME] | verify STORED "
                    "(password on stdin)\n");
    return 2;
}
