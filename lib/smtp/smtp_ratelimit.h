/* smtp_ratelimit.h: is this SMTP reply a destination telling us to slow
 * down? The smtp client asks it of each 4xx reply and reports the
 * session as "throttled" to qmgr, whose flow control then backs off
 * (docs/qmgr.md, "Flow control per destination"; the rule is in
 * docs/smtp.md).
 *
 * A reply is a rate-limit reply when its code is 421, 450, 451 or 452
 * and either its enhanced status code is 4.7.x (policy: what large
 * providers use for "too fast") or its text says so in the words
 * providers use ("rate limit", "too many connections", "unusual rate",
 * "unexpected volume", "throttl", ...). Greylisting replies are not,
 * though some carry 4.7.x: a greylisted sender is let through on its
 * next try, and slowing down would only delay that. */
#ifndef POSTERN_SMTP_RATELIMIT_H
#define POSTERN_SMTP_RATELIMIT_H

/* code: the three-digit reply code; enhanced: "4.7.0" or NULL/"" when
 * the reply has none; text: the reply's text (all lines, any case). */
int smtp_reply_is_rate_limit(int code, const char *enhanced,
                             const char *text);

#endif
