/* smtp_ratelimit.c: recognizes rate-limit replies (see smtp_ratelimit.h). */
#include "smtp/smtp_ratelimit.h"

#include <string.h>
#include <strings.h>

/* Phrases in the replies of large providers and common MTAs that mean
 * "you are sending too fast" (lower case). */
static const char *const rate_words[] = {
    "rate limit",        "rate-limit",         "ratelimit",
    "rate limited",      "too many connections", "too many concurrent",
    "too many messages", "unusual rate",       "unexpected volume",
    "throttl",           "sending rate",       "exceeded the rate",
    "connection rate",   "message rate",       "try again later, closing",
};

/* Case-insensitive substring search. */
static int contains(const char *text, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = text; *p; p++)
        if (strncasecmp(p, word, n) == 0)
            return 1;
    return 0;
}

int smtp_reply_is_rate_limit(int code, const char *enhanced,
                             const char *text)
{
    if (code != 421 && code != 450 && code != 451 && code != 452)
        return 0;
    if (text == NULL)
        text = "";
    if (contains(text, "greylist") || contains(text, "graylist"))
        return 0;
    if (enhanced && strncmp(enhanced, "4.7.", 4) == 0)
        return 1;
    for (size_t i = 0; i < sizeof(rate_words) / sizeof(*rate_words); i++)
        if (contains(text, rate_words[i]))
            return 1;
    return 0;
}
