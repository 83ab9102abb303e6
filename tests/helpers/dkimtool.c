/* dkimtool.c: lib/dkim from the command line, for tests/e2e/test_dkim.py
 * (and operators who want to see what a message's signatures say).
 *
 *   dkimtool verify [-s IP[@PORT]]... [-t MS] [-T NOW] < MESSAGE
 *     verifies, looking keys up through lib/dns on an event loop (as
 *     smtpd does: the lookups start when the header is in, while the
 *     body is still read); prints one line per signature:
 *       d=D s=S a=ALG i=I result=RESULT reason=REASON
 *     then "signatures=N".
 *   dkimtool sign -d DOMAIN -k KEYFILE -s SELECTOR [-k KEYFILE -s SEL]...
 *                 [-i IDENTITY] [-c simple|relaxed] [-t TIME] < MESSAGE
 *     prints the message with its new DKIM-Signature fields on top (line
 *     ends as the message's first line has them).
 * The message is read in 1000-byte pieces. Exit 0, 1 on error, 2 usage. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/event.h"
#include "base/file_read.h"
#include "dkim/dkim_lookup.h"
#include "dkim/dkim_sign.h"
#include "dkim/dkim_verify.h"

static int lookups_done;

static void on_keys(void *ctx)
{
    (void)ctx;
    lookups_done = 1;
}

static int verify(int argc, char **argv)
{
    struct dns_settings settings;
    dns_settings_init(&settings);
    time_t now = time(NULL);
    int opt;
    while ((opt = getopt(argc, argv, "s:t:T:")) != -1) {
        if (opt == 's')
            strlist_add(&settings.servers, optarg);
        else if (opt == 't')
            settings.timeout_ms = atol(optarg);
        else if (opt == 'T')
            now = (time_t)atoll(optarg);
        else
            return 2;
    }
    struct event_loop *loop = event_loop_new();
    struct buf err = BUF_INIT;
    struct dns_client *client = dns_client_new(loop, &settings, &err);
    if (client == NULL) {
        fprintf(stderr, "dkimtool: %s\n", buf_cstr(&err));
        return 1;
    }
    event_loop_once(loop, 0);
    struct dkim_verify *v = dkim_verify_new(now);
    struct dkim_lookup *lookup = NULL;
    int started = 0;
    char piece[1000];
    size_t n;
    while ((n = fread(piece, 1, sizeof(piece), stdin)) > 0) {
        dkim_verify_feed(v, piece, n);
        if (!started && dkim_verify_headers_done(v)) {
            started = 1;
            lookup = dkim_lookup_start(client, v, on_keys, NULL);
        }
    }
    dkim_verify_end(v);
    if (!started)
        lookup = dkim_lookup_start(client, v, on_keys, NULL);
    /* Each lookup ends by its own timeout at the latest. */
    while (lookup != NULL && !lookups_done)
        if (event_loop_once(loop, 1000) < 0)
            break;
    dkim_verify_finish(v);
    for (size_t i = 0; i < dkim_verify_count(v); i++) {
        const struct dkim_verify_result *r = dkim_verify_result(v, i);
        printf("d=%s s=%s a=%s i=%s result=%s reason=%s\n", r->domain,
               r->selector, r->algorithm, r->identity,
               dkim_result_name(r->result), r->reason);
    }
    printf("signatures=%zu\n", dkim_verify_count(v));
    dkim_verify_free(v);
    dns_client_free(client);
    event_loop_free(loop);
    dns_settings_free(&settings);
    buf_free(&err);
    return 0;
}

static int sign(int argc, char **argv)
{
    struct dkim_sign_params params;
    dkim_sign_params_init(&params);
    struct dkim_sign_key keys[DKIM_SIGN_KEYS_MAX];
    const struct dkim_sign_key *key_ptrs[DKIM_SIGN_KEYS_MAX];
    const char *selectors[DKIM_SIGN_KEYS_MAX] = {0};
    size_t key_count = 0, sel_count = 0;
    struct buf err = BUF_INIT, text = BUF_INIT;
    int opt;
    while ((opt = getopt(argc, argv, "d:k:s:i:c:t:")) != -1) {
        switch (opt) {
        case 'd':
            params.domain = optarg;
            break;
        case 'k':
            if (key_count == DKIM_SIGN_KEYS_MAX ||
                file_read(optarg, 65536, &text, &err) != 0 ||
                dkim_sign_key_load(text.data, text.len, &keys[key_count], &err) != 0) {
                fprintf(stderr, "dkimtool: %s: %s\n", optarg, buf_cstr(&err));
                return 1;
            }
            key_ptrs[key_count] = &keys[key_count];
            key_count++;
            buf_reset(&text);
            break;
        case 's':
            if (sel_count < DKIM_SIGN_KEYS_MAX)
                selectors[sel_count++] = optarg;
            break;
        case 'i':
            params.identity = optarg;
            break;
        case 'c':
            params.header_canon = params.body_canon =
                strcmp(optarg, "simple") == 0 ? DKIM_CANON_SIMPLE
                                              : DKIM_CANON_RELAXED;
            break;
        case 't':
            params.timestamp = (time_t)atoll(optarg);
            break;
        default:
            return 2;
        }
    }
    params.selector = selectors[0];
    struct buf msg = BUF_INIT;
    char piece[1000];
    size_t n;
    while ((n = fread(piece, 1, sizeof(piece), stdin)) > 0)
        buf_append(&msg, piece, n);
    const char *lf = memchr(msg.data, '\n', msg.len);
    params.eol = lf && lf > msg.data && lf[-1] == '\r' ? "\r\n" : "\n";
    struct dkim_signer *s =
        dkim_signer_new(&params, key_ptrs, selectors, key_count, &err);
    if (s == NULL) {
        fprintf(stderr, "dkimtool: %s\n", buf_cstr(&err));
        return 1;
    }
    /* the signer streams: hand it the message in pieces */
    for (size_t off = 0; off < msg.len; off += sizeof(piece))
        dkim_signer_feed(s, msg.data + off,
                         msg.len - off < sizeof(piece) ? msg.len - off : sizeof(piece));
    struct buf out = BUF_INIT;
    if (dkim_signer_finish(s, &out, &err) != 0) {
        fprintf(stderr, "dkimtool: %s\n", buf_cstr(&err));
        return 1;
    }
    fwrite(out.data, 1, out.len, stdout);
    fwrite(msg.data, 1, msg.len, stdout);
    dkim_signer_free(s);
    for (size_t i = 0; i < key_count; i++)
        dkim_sign_key_free(&keys[i]);
    buf_free(&out);
    buf_free(&msg);
    buf_free(&text);
    buf_free(&err);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "verify") == 0)
        return verify(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "sign") == 0)
        return sign(argc - 1, argv + 1);
    fprintf(stderr, "usage: dkimtool verify [-s server] [-t ms] [-T now] < msg\n"
                    "       dkimtool sign -d domain -k key -s selector ... < msg\n");
    return 2;
}
