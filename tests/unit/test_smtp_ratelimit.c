/* test_smtp_ratelimit.c: which SMTP replies count as "slow down"
 * (lib/smtp/smtp_ratelimit). */
#include "smtp/smtp_ratelimit.h"
#include "unit.h"

static void test_policy_codes(void)
{
    /* the enhanced code alone is enough on a temporary reply */
    CHECK(smtp_reply_is_rate_limit(421, "4.7.0", "Try again later"));
    CHECK(smtp_reply_is_rate_limit(450, "4.7.28", "sending too fast"));
    CHECK(smtp_reply_is_rate_limit(451, "4.7.500", "Server busy. Please try again later"));
    /* but not on a permanent one, nor a temporary non-policy one */
    CHECK(!smtp_reply_is_rate_limit(550, "5.7.1", "rate limited"));
    CHECK(!smtp_reply_is_rate_limit(451, "4.3.0", "Temporary lookup failure"));
    CHECK(!smtp_reply_is_rate_limit(452, "4.5.3", "Too many recipients"));
    CHECK(!smtp_reply_is_rate_limit(452, "4.2.2", "Mailbox full"));
}

static void test_words(void)
{
    CHECK(smtp_reply_is_rate_limit(421, NULL, "Too many connections from your IP"));
    CHECK(smtp_reply_is_rate_limit(450, "", "Our system has detected an UNUSUAL RATE of mail"));
    CHECK(smtp_reply_is_rate_limit(421, "4.0.0", "[TSS04] Messages temporarily deferred due to unexpected volume"));
    CHECK(smtp_reply_is_rate_limit(451, NULL, "Ratelimit exceeded for sender domain"));
    CHECK(smtp_reply_is_rate_limit(452, NULL, "you are being throttled"));
    CHECK(!smtp_reply_is_rate_limit(421, NULL, "Service shutting down"));
    CHECK(!smtp_reply_is_rate_limit(451, NULL, NULL));
}

static void test_greylisting_is_not(void)
{
    CHECK(!smtp_reply_is_rate_limit(450, "4.7.1", "Recipient address rejected: Greylisted, see https://example.org"));
    CHECK(!smtp_reply_is_rate_limit(451, "4.7.1", "Please try later (graylisting)"));
}

int main(void)
{
    UNIT_RUN(test_policy_codes);
    UNIT_RUN(test_words);
    UNIT_RUN(test_greylisting_is_not);
    return unit_summary();
}
