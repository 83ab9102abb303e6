/* imap_date.c: IMAP date and date-time (see imap_date.h). The calendar
 * arithmetic is done here, without timegm() or the TZ environment, so
 * the result is the same on every system and in every zone. */
#include "imap/imap_date.h"

#include <string.h>
#include <strings.h>

static const char month_names[12][4] = {"Jan", "Feb", "Mar", "Apr",
                                        "May", "Jun", "Jul", "Aug",
                                        "Sep", "Oct", "Nov", "Dec"};

static int is_leap(int year)
{
    return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

static int days_in_month(int year, int month)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30,
                                 31, 31, 30, 31, 30, 31};
    return month == 2 && is_leap(year) ? 29 : days[month - 1];
}

static int digits(const char *text, size_t len, int *value)
{
    int result = 0;
    if (len == 0)
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (text[i] < '0' || text[i] > '9')
            return -1;
        result = result * 10 + (text[i] - '0');
    }
    *value = result;
    return 0;
}

static int parse_month(const char *text, int *month)
{
    for (int i = 0; i < 12; i++)
        if (strncasecmp(text, month_names[i], 3) == 0) {
            *month = i + 1;
            return 0;
        }
    return -1;
}

int imap_date_parse(const char *text, size_t len, struct imap_date *date)
{
    size_t day_len = len > 0 && memchr(text, '-', len)
                         ? (size_t)((const char *)memchr(text, '-', len) - text)
                         : 0;
    if ((day_len != 1 && day_len != 2) || len != day_len + 9 ||
        text[day_len + 4] != '-')
        return -1;
    if (digits(text, day_len, &date->day) != 0 ||
        parse_month(text + day_len + 1, &date->month) != 0 ||
        digits(text + day_len + 5, 4, &date->year) != 0)
        return -1;
    if (date->day < 1 || date->day > days_in_month(date->year, date->month))
        return -1;
    return 0;
}

/* Days from civil (proleptic Gregorian), as in H. Hinnant's algorithm. */
long imap_date_days(const struct imap_date *date)
{
    long year = date->year - (date->month <= 2);
    long era = (year >= 0 ? year : year - 399) / 400;
    long year_of_era = year - era * 400;
    long month = date->month;
    long day_of_year = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 +
                       date->day - 1;
    long day_of_era = year_of_era * 365 + year_of_era / 4 -
                      year_of_era / 100 + day_of_year;
    return era * 146097 + day_of_era - 719468;
}

time_t imap_date_utc(const struct imap_date *date)
{
    return (time_t)imap_date_days(date) * 86400;
}

int imap_date_time_parse(const char *text, size_t len, time_t *when,
                         int *zone_minutes)
{
    /* "dd-Mon-yyyy hh:mm:ss +zzzz": 26 bytes exactly. */
    struct imap_date date;
    int hour, minute, second, zone_hours, zone_mins;
    char day[2];
    if (len != 26 || text[2] != '-' || text[11] != ' ' || text[14] != ':' ||
        text[17] != ':' || text[20] != ' ' ||
        (text[21] != '+' && text[21] != '-'))
        return -1;
    day[0] = text[0] == ' ' ? '0' : text[0];
    day[1] = text[1];
    if (digits(day, 2, &date.day) != 0 ||
        parse_month(text + 3, &date.month) != 0 || text[6] != '-' ||
        digits(text + 7, 4, &date.year) != 0 ||
        digits(text + 12, 2, &hour) != 0 ||
        digits(text + 15, 2, &minute) != 0 ||
        digits(text + 18, 2, &second) != 0 ||
        digits(text + 22, 2, &zone_hours) != 0 ||
        digits(text + 24, 2, &zone_mins) != 0)
        return -1;
    if (date.day < 1 || date.day > days_in_month(date.year, date.month) ||
        hour > 23 || minute > 59 || second > 60 || zone_mins > 59)
        return -1;
    if (second == 60)
        second = 59;
    int zone = zone_hours * 60 + zone_mins;
    if (text[21] == '-')
        zone = -zone;
    *zone_minutes = zone;
    *when = imap_date_utc(&date) + hour * 3600 + minute * 60 + second -
            (time_t)zone * 60;
    return 0;
}

void imap_date_time_format(time_t when, int zone_minutes, struct buf *out)
{
    long long local = (long long)when + (long long)zone_minutes * 60;
    long long days = local >= 0 ? local / 86400 : (local - 86399) / 86400;
    long long secs = local - days * 86400;
    /* Civil from days (Hinnant). */
    long long z = days + 719468;
    long long era = (z >= 0 ? z : z - 146096) / 146097;
    long long doe = z - era * 146097;
    long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    long long mp = (5 * doy + 2) / 153;
    int day = (int)(doy - (153 * mp + 2) / 5 + 1);
    int month = (int)(mp < 10 ? mp + 3 : mp - 9);
    long long year = yoe + era * 400 + (month <= 2);
    int zone = zone_minutes < 0 ? -zone_minutes : zone_minutes;
    buf_appendf(out, "\"%02d-%s-%04lld %02lld:%02lld:%02lld %c%02d%02d\"",
                day, month_names[month - 1], year, secs / 3600,
                secs / 60 % 60, secs % 60, zone_minutes < 0 ? '-' : '+',
                zone / 60, zone % 60);
}
