/* rfc822_date.h: the Date: header (RFC 5322 section 3.3, with the
 * obsolete forms of section 4.3) read leniently, for IMAP's SENTBEFORE,
 * SENTON, SENTSINCE and SORT DATE:
 *   [day-name ","] day month year hour ":" minute [":" second] [zone]
 * Two-digit years are 19xx from 50 up and 20xx below, three-digit ones
 * 1900 + n; the zone is +hhmm/-hhmm, UT, GMT, Z, the US zone names or a
 * military letter (taken as +0000, as RFC 5322 says); a missing or
 * unknown zone is +0000; comments and anything after the zone are
 * ignored. The time may be missing altogether (a date alone is read as
 * 00:00:00). */
#ifndef POSTERN_RFC822_DATE_H
#define POSTERN_RFC822_DATE_H

#include <stddef.h>

struct rfc822_date {
    int year, month, day;      /* month 1..12, the date as written */
    int hour, minute, second;  /* as written, in the zone below */
    int zone_minutes;          /* east of UTC */
};

/* 0, or -1 when text[0..len) holds no date. */
int rfc822_date_parse(const char *text, size_t len, struct rfc822_date *date);

#endif
