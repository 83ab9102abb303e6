/* secret_read.c: a secret from the terminal without echo, or from
 * standard input (secret_read.h). */
#include "base/secret_read.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

/* The terminal settings to put back if a signal ends us mid-prompt. */
static int echo_fd = -1;
static struct termios echo_saved;

static void restore_echo_and_exit(int signo)
{
    (void)signo;
    if (echo_fd >= 0)
        tcsetattr(echo_fd, TCSAFLUSH, &echo_saved);
    static const char newline = '\n';
    (void)!write(STDERR_FILENO, &newline, 1);
    _exit(130);
}

void secret_wipe(struct buf *buf)
{
    if (buf->data)
        explicit_bzero(buf->data, buf->cap);
    buf_free(buf);
}

/* Reads one line of at most max_len bytes into out, which has room for
 * max_len + 1 bytes already (so it never reallocates and leaves no copy
 * behind). 0; 1 at end of input before any byte; -1 with err. */
static int read_line(int fd, size_t max_len, struct buf *out, struct buf *err)
{
    buf_reset(out);
    int too_long = 0;
    for (;;) {
        char ch;
        ssize_t n = read(fd, &ch, 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            buf_appendf(err, "cannot read the password: %s", strerror(errno));
            return -1;
        }
        if (n == 0) {
            if (out->len == 0 && !too_long)
                return 1;
            break;
        }
        if (ch == '\n')
            break;
        if (out->len < max_len + 1)
            buf_append_char(out, ch);
        else
            too_long = 1;
    }
    if (out->len > 0 && out->data[out->len - 1] == '\r')
        buf_truncate(out, out->len - 1);
    if (too_long || out->len > max_len) {
        buf_appendf(err, "the password is longer than %zu bytes", max_len);
        return -1;
    }
    return 0;
}

static int check_secret(const struct buf *secret, int status, struct buf *err)
{
    if (status < 0)
        return -1;
    if (status == 1 || secret->len == 0) {
        buf_append_str(err, "empty password");
        return -1;
    }
    if (memchr(secret->data, '\0', secret->len)) {
        buf_append_str(err, "the password holds a NUL byte");
        return -1;
    }
    return 0;
}

/* One prompt with echo off; the signals that end a tool put echo back
 * first. */
static int prompt_line(int fd, const char *prompt, size_t max_len,
                       struct buf *out, struct buf *err)
{
    struct termios quiet;
    if (tcgetattr(fd, &echo_saved) < 0) {
        buf_appendf(err, "terminal: %s", strerror(errno));
        return -1;
    }
    quiet = echo_saved;
    quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHOE | ECHOK | ECHONL);
    quiet.c_lflag |= ICANON;
    struct sigaction restore, old[3];
    memset(&restore, 0, sizeof(restore));
    restore.sa_handler = restore_echo_and_exit;
    sigemptyset(&restore.sa_mask);
    const int signals[3] = {SIGINT, SIGTERM, SIGHUP};
    echo_fd = fd;
    for (int i = 0; i < 3; i++)
        sigaction(signals[i], &restore, &old[i]);
    /* Echo goes off before the prompt shows: what is typed after the
     * prompt is never echoed, nor discarded by the flush. */
    int status = -1;
    if (tcsetattr(fd, TCSAFLUSH, &quiet) < 0) {
        buf_appendf(err, "terminal: %s", strerror(errno));
    } else {
        fputs(prompt, stderr);
        fflush(stderr);
        status = read_line(fd, max_len, out, err);
    }
    tcsetattr(fd, TCSAFLUSH, &echo_saved);
    for (int i = 0; i < 3; i++)
        sigaction(signals[i], &old[i], NULL);
    echo_fd = -1;
    fputs("\n", stderr);
    return status;
}

int secret_read(int fd, const char *prompt, const char *again_prompt,
                size_t max_len, struct buf *out, struct buf *err)
{
    buf_reserve(out, max_len + 2);
    if (!isatty(fd))
        return check_secret(out, read_line(fd, max_len, out, err), err);
    int status = prompt_line(fd, prompt, max_len, out, err);
    if (check_secret(out, status, err) < 0)
        return -1;
    struct buf again = BUF_INIT;
    buf_reserve(&again, max_len + 2);
    status = prompt_line(fd, again_prompt, max_len, &again, err);
    if (status == 0 && (again.len != out->len ||
                        memcmp(again.data, out->data, out->len) != 0)) {
        buf_append_str(err, "the passwords do not match");
        status = -1;
    } else if (status == 1) {
        buf_append_str(err, "the passwords do not match");
        status = -1;
    }
    secret_wipe(&again);
    return status;
}
