/* bounce_compose.c: test helper that writes one delivery status notice
 * (lib/message/bounce_msg) to stdout, so tests/e2e/test_bounce_format.py can
 * check it with Python's email package.
 *
 * usage: bounce_compose [-k failure|delay|success] [-H myhostname]
 *          [-q queue_id] [-s sender] [-t notify_to] [-e envid]
 *          [-r full|hdrs] [-l size_limit] [-8] [-c] [-P] [-n now]
 *          [-a arrival] [-u retry_until]
 *          -R 'address|orcpt|status|reason|mta|diag|orig_address' ...
 *          [original-message-file]
 * Empty fields in -R are left out; mta is "name", diag is the reply
 * (type smtp). Without a file the notice has no third part. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "message/bounce_msg.h"
#include "base/buf.h"
#include "message/dsn.h"
#include "base/mem.h"
#include "base/str.h"

#define MAX_RCPTS 64

static int write_stdout(void *ctx, const char *data, size_t len)
{
    return fwrite(data, 1, len, stdout) == len ? 0 : -1;
}

static const char *field_or_null(struct strlist *fields, size_t i)
{
    return i < fields->count && *fields->items[i] ? fields->items[i] : NULL;
}

/* Splits on '|' keeping empty fields. */
static void split_fields(const char *spec, struct strlist *out)
{
    const char *start = spec;
    for (;;) {
        const char *bar = strchr(start, '|');
        size_t len = bar ? (size_t)(bar - start) : strlen(start);
        char *item = xstrndup(start, len);
        strlist_add(out, item);
        free(item);
        if (!bar)
            break;
        start = bar + 1;
    }
}

static long long number(const char *arg)
{
    long value;
    if (str_to_long(arg, &value) != 0) {
        fprintf(stderr, "bounce_compose: bad number: %s\n", arg);
        exit(2);
    }
    return value;
}

int main(int argc, char **argv)
{
    struct bounce_notice n;
    struct bounce_rcpt rcpts[MAX_RCPTS];
    struct dsn dsns[MAX_RCPTS];
    struct strlist fields[MAX_RCPTS];
    size_t count = 0;
    int opt;

    memset(&n, 0, sizeof(n));
    memset(rcpts, 0, sizeof(rcpts));
    n.kind = BOUNCE_FAILURE;
    n.myhostname = "mail.example.org";
    n.queue_id = "4XyZ12AbCd";
    n.sender = "alice@example.com";
    n.size_limit = BOUNCE_SIZE_LIMIT_DEFAULT;
    n.original_size = -1;

    while ((opt = getopt(argc, argv, "k:H:q:s:t:e:r:l:8cPn:a:u:R:")) != -1) {
        switch (opt) {
        case 'k':
            n.kind = strcmp(optarg, "delay") == 0     ? BOUNCE_DELAY
                     : strcmp(optarg, "success") == 0 ? BOUNCE_SUCCESS
                                                      : BOUNCE_FAILURE;
            break;
        case 'H':
            n.myhostname = optarg;
            break;
        case 'q':
            n.queue_id = optarg;
            break;
        case 's':
            n.sender = optarg;
            break;
        case 't':
            n.notify_to = optarg;
            break;
        case 'e':
            n.envid = optarg;
            break;
        case 'r':
            n.ret =
                strcmp(optarg, "hdrs") == 0 ? BOUNCE_RET_HDRS : BOUNCE_RET_FULL;
            break;
        case 'l':
            n.size_limit = number(optarg);
            break;
        case '8':
            n.original_8bit = 1;
            break;
        case 'c':
            n.crlf = 1;
            break;
        case 'P':
            n.postmaster_copy = 1;
            break;
        case 'n':
            n.now = (time_t)number(optarg);
            break;
        case 'a':
            n.arrival = (time_t)number(optarg);
            break;
        case 'u':
            n.retry_until = (time_t)number(optarg);
            break;
        case 'R': {
            if (count == MAX_RCPTS) {
                fprintf(stderr, "bounce_compose: too many recipients\n");
                return 2;
            }
            struct strlist *f = &fields[count];
            strlist_init(f);
            split_fields(optarg, f);
            const char *status = field_or_null(f, 2);
            if (dsn_set(&dsns[count], status ? status : "5.0.0", -1,
                        field_or_null(f, 3), "dns", field_or_null(f, 4), "smtp",
                        field_or_null(f, 5)) != 0) {
                fprintf(stderr, "bounce_compose: bad status: %s\n", status);
                return 2;
            }
            rcpts[count].address = f->items[0];
            rcpts[count].orcpt = field_or_null(f, 1);
            rcpts[count].orig_address = field_or_null(f, 6);
            rcpts[count].dsn = &dsns[count];
            count++;
            break;
        }
        default:
            fprintf(stderr, "bounce_compose: see the usage in the source\n");
            return 2;
        }
    }
    n.rcpts = rcpts;
    n.rcpt_count = count;

    struct bounce_fd_source source = {-1, 0, -1};
    if (optind < argc) {
        source.fd = open(argv[optind], O_RDONLY);
        struct stat st;
        if (source.fd < 0 || fstat(source.fd, &st) != 0) {
            perror(argv[optind]);
            return 2;
        }
        n.read_original = bounce_read_fd;
        n.original_ctx = &source;
        n.original_size = st.st_size;
    }

    struct buf err = BUF_INIT;
    int status = bounce_msg_write(&n, write_stdout, NULL, &err);
    if (status != 0)
        fprintf(stderr, "bounce_compose: %s\n", buf_cstr(&err));
    fflush(stdout);
    for (size_t i = 0; i < count; i++) {
        dsn_free(&dsns[i]);
        strlist_free(&fields[i]);
    }
    buf_free(&err);
    if (source.fd >= 0)
        close(source.fd);
    return status == 0 ? 0 : 1;
}
