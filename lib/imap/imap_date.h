/* imap_date.h: IMAP dates: the date of SEARCH keys ("1-Feb-1994",
 * quoted or not) and the date-time of APPEND and INTERNALDATE
 * ("17-Jul-1996 02:44:25 -0700"), read and written.
 *
 * Every field is checked: the day against its month (leap years
 * included), hours 0-23, minutes 0-59, seconds 0-60 (a leap second
 * reads as :59), zone offsets up to +-99:59 as RFC 3501 allows, with
 * minutes under 60. Months are case-insensitive; years have 4 digits. */
#ifndef POSTERN_IMAP_DATE_H
#define POSTERN_IMAP_DATE_H

#include <stddef.h>
#include <time.h>

#include "base/buf.h"

struct imap_date {
    int year;  /* 4 digits */
    int month; /* 1..12 */
    int day;   /* 1..31 */
};

/* date-text: "d-Mon-yyyy" or "dd-Mon-yyyy" (the quotes, if any, were
 * removed by the reader). 0 or -1. */
int imap_date_parse(const char *text, size_t len, struct imap_date *date);

/* Days since 1970-01-01 of a date (negative before). */
long imap_date_days(const struct imap_date *date);

/* The start of the date (00:00:00) in UTC as a time_t. */
time_t imap_date_utc(const struct imap_date *date);

/* date-time (without its quotes): "dd-Mon-yyyy hh:mm:ss +zzzz", the
 * day as two digits or a space and one digit. Sets *when (UTC) and
 * *zone_minutes (the offset east of UTC). 0 or -1. */
int imap_date_time_parse(const char *text, size_t len, time_t *when,
                         int *zone_minutes);

/* Appends a date-time with its quotes, as INTERNALDATE is sent:
 * "\"17-Jul-1996 02:44:25 -0700\"" for `when` seen at zone_minutes. */
void imap_date_time_format(time_t when, int zone_minutes, struct buf *out);

#endif
