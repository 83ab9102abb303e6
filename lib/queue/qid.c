/* qid.c: queue id generation and validation (see qid.h). */
#include "queue/qid.h"

#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "base/log.h"

static const char QID_DIGITS[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";

#define QID_SECONDS_WIDTH 7 /* 36^7 seconds: beyond the year 4400 */
#define QID_MICROS_WIDTH 4  /* 36^4 > 1000000 */
#define QID_SEPARATOR 'z'   /* lower case: never a base-36 digit here */

/* Writes value in base 36, zero-padded to width (0 = as short as
 * possible); returns the number of characters written. */
static size_t put_base36(char *out, uint64_t value, size_t width)
{
    char tmp[16];
    size_t count = 0;
    do {
        tmp[count++] = QID_DIGITS[value % 36];
        value /= 36;
    } while (value != 0 && count < sizeof(tmp));
    while (count < width && count < sizeof(tmp))
        tmp[count++] = '0';
    for (size_t i = 0; i < count; i++)
        out[i] = tmp[count - 1 - i];
    return count;
}

void qid_make(char out[QID_BUF_SIZE], uint64_t seconds, uint32_t micros,
              uint64_t inode)
{
    size_t pos = 0;
    /* Fixed widths keep ids sortable by time; an out-of-range value is
     * reduced rather than widening the field. */
    seconds %= 78364164096ull; /* 36^7 */
    micros %= 1000000u;
    pos += put_base36(out + pos, seconds, QID_SECONDS_WIDTH);
    pos += put_base36(out + pos, micros, QID_MICROS_WIDTH);
    out[pos++] = QID_SEPARATOR;
    pos += put_base36(out + pos, inode, 0); /* at most 13 digits */
    out[pos] = '\0';
}

void qid_new(char out[QID_BUF_SIZE], uint64_t inode)
{
    struct timespec now;
    if (clock_gettime(CLOCK_REALTIME, &now) != 0)
        log_panic("clock_gettime: cannot read the clock");
    if (inode == 0) {
        ssize_t got = getrandom(&inode, sizeof(inode), 0);
        if (got != (ssize_t)sizeof(inode))
            log_fatal("getrandom: cannot make a queue id");
    }
    qid_make(out, (uint64_t)now.tv_sec, (uint32_t)(now.tv_nsec / 1000), inode);
}

int qid_valid(const char *qid)
{
    if (qid == NULL)
        return 0;
    size_t len = 0;
    for (; qid[len] != '\0'; len++) {
        unsigned char c = (unsigned char)qid[len];
        if (len >= QID_MAX_LEN)
            return 0;
        if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
              (c >= 'a' && c <= 'z')))
            return 0;
    }
    return len > 0;
}

static int digit_value(char c)
{
    const char *hit = c ? strchr(QID_DIGITS, c) : NULL;
    return hit ? (int)(hit - QID_DIGITS) : -1;
}

int qid_time(const char *qid, uint64_t *seconds, uint32_t *micros)
{
    if (!qid_valid(qid) ||
        strlen(qid) < QID_SECONDS_WIDTH + QID_MICROS_WIDTH + 2 ||
        qid[QID_SECONDS_WIDTH + QID_MICROS_WIDTH] != QID_SEPARATOR)
        return -1;
    uint64_t sec = 0, usec = 0;
    for (size_t i = 0; i < QID_SECONDS_WIDTH + QID_MICROS_WIDTH; i++) {
        int digit = digit_value(qid[i]);
        if (digit < 0)
            return -1;
        if (i < QID_SECONDS_WIDTH)
            sec = sec * 36 + (uint64_t)digit;
        else
            usec = usec * 36 + (uint64_t)digit;
    }
    for (size_t i = QID_SECONDS_WIDTH + QID_MICROS_WIDTH + 1; qid[i]; i++)
        if (digit_value(qid[i]) < 0)
            return -1;
    if (usec >= 1000000)
        return -1;
    *seconds = sec;
    *micros = (uint32_t)usec;
    return 0;
}
