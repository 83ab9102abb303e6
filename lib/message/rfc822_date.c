/* rfc822_date.c: Date: header values (see rfc822_date.h). */
#include "message/rfc822_date.h"

#include <string.h>
#include <strings.h>

struct cursor {
    const char *p, *end;
};

/* Skips blanks, line ends, commas and comments. */
static void skip(struct cursor *c)
{
    int depth = 0;
    while (c->p < c->end) {
        char ch = *c->p;
        if (depth > 0) {
            if (ch == '\\' && c->p + 1 < c->end)
                c->p++;
            else if (ch == '(')
                depth++;
            else if (ch == ')')
                depth--;
        } else if (ch == '(') {
            depth = 1;
        } else if (ch != ' ' && ch != '\t' && ch != '\r' && ch != '\n' &&
                   ch != ',') {
            return;
        }
        c->p++;
    }
}

static int number(struct cursor *c, int max_digits, int *value, int *digits)
{
    int v = 0, n = 0;
    while (c->p < c->end && *c->p >= '0' && *c->p <= '9' && n < max_digits) {
        v = v * 10 + (*c->p - '0');
        c->p++;
        n++;
    }
    if (n == 0)
        return -1;
    *value = v;
    if (digits)
        *digits = n;
    return 0;
}

static size_t word(struct cursor *c, const char **start)
{
    *start = c->p;
    while (c->p < c->end && ((*c->p >= 'a' && *c->p <= 'z') ||
                             (*c->p >= 'A' && *c->p <= 'Z')))
        c->p++;
    return (size_t)(c->p - *start);
}

static int month_of(const char *w, size_t len)
{
    static const char names[] = "janfebmaraprmayjunjulaugsepoctnovdec";
    if (len < 3)
        return 0;
    for (int i = 0; i < 12; i++)
        if (strncasecmp(w, names + i * 3, 3) == 0)
            return i + 1;
    return 0;
}

static int zone_of(const char *w, size_t len)
{
    static const struct {
        const char *name;
        int minutes;
    } zones[] = {
        {"UT", 0},       {"UTC", 0},      {"GMT", 0},     {"EST", -5 * 60},
        {"EDT", -4 * 60}, {"CST", -6 * 60}, {"CDT", -5 * 60}, {"MST", -7 * 60},
        {"MDT", -6 * 60}, {"PST", -8 * 60}, {"PDT", -7 * 60},
    };
    for (size_t i = 0; i < sizeof(zones) / sizeof(zones[0]); i++)
        if (strlen(zones[i].name) == len &&
            strncasecmp(zones[i].name, w, len) == 0)
            return zones[i].minutes;
    return 0;
}

static int days_in_month(int year, int month)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30,
                                 31, 31, 30, 31, 30, 31};
    int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return month == 2 && leap ? 29 : days[month - 1];
}

int rfc822_date_parse(const char *text, size_t len, struct rfc822_date *date)
{
    struct cursor c = {text, text + len};
    const char *w;
    size_t wlen;
    int digits;

    memset(date, 0, sizeof(*date));
    skip(&c);
    wlen = word(&c, &w);
    if (wlen > 0) { /* the day name */
        if (month_of(w, wlen) != 0)
            return -1;
        skip(&c);
    }
    if (number(&c, 2, &date->day, NULL) < 0)
        return -1;
    skip(&c);
    if (c.p < c.end && *c.p == '-')
        c.p++;
    wlen = word(&c, &w);
    if ((date->month = month_of(w, wlen)) == 0)
        return -1;
    skip(&c);
    if (c.p < c.end && *c.p == '-')
        c.p++;
    if (number(&c, 4, &date->year, &digits) < 0)
        return -1;
    if (digits == 2)
        date->year += date->year < 50 ? 2000 : 1900;
    else if (digits == 3)
        date->year += 1900;
    if (date->day < 1 || date->day > days_in_month(date->year, date->month))
        return -1;
    skip(&c);
    if (number(&c, 2, &date->hour, NULL) < 0)
        return 0; /* a date without a time */
    if (c.p >= c.end || *c.p != ':' || (c.p++, number(&c, 2, &date->minute,
                                                      NULL)) < 0)
        return -1;
    if (c.p < c.end && *c.p == ':') {
        c.p++;
        if (number(&c, 2, &date->second, NULL) < 0)
            return -1;
    }
    if (date->hour > 23 || date->minute > 59 || date->second > 60)
        return -1;
    if (date->second == 60)
        date->second = 59;
    skip(&c);
    if (c.p < c.end && (*c.p == '+' || *c.p == '-')) {
        int sign = *c.p == '-' ? -1 : 1, hhmm;
        c.p++;
        if (number(&c, 4, &hhmm, &digits) == 0 && digits == 4 &&
            hhmm % 100 < 60)
            date->zone_minutes = sign * (hhmm / 100 * 60 + hhmm % 100);
    } else {
        wlen = word(&c, &w);
        date->zone_minutes = zone_of(w, wlen);
    }
    return 0;
}
