/* test_servport.c: service names to TCP ports (lib/base/servport.c). */
#include "base/servport.h"
#include "unit.h"

static void test_builtin_table(void)
{
    CHECK_INT(servport_builtin("smtp"), 25);
    CHECK_INT(servport_builtin("submission"), 587);
    CHECK_INT(servport_builtin("submissions"), 465);
    CHECK_INT(servport_builtin("smtps"), 465);
    CHECK_INT(servport_builtin("lmtp"), 24);
    CHECK_INT(servport_builtin("imap"), 143);
    CHECK_INT(servport_builtin("imaps"), 993);
    CHECK_INT(servport_builtin("pop3"), 110);
    CHECK_INT(servport_builtin("pop3s"), 995);
    CHECK_INT(servport_builtin("SMTP"), -1); /* names are exact, as in /etc/services */
    CHECK_INT(servport_builtin("http"), -1);
    CHECK_INT(servport_builtin(""), -1);
}

static void test_lookup_falls_back(void)
{
    /* Debian's /etc/services has no lmtp and names 465 "submissions"
     * with the alias "smtps"; either way these resolve. */
    CHECK_INT(servport_lookup("lmtp"), 24);
    CHECK_INT(servport_lookup("smtps"), 465);
    CHECK_INT(servport_lookup("submissions"), 465);
    CHECK_INT(servport_lookup("pop3s"), 995);
    CHECK_INT(servport_lookup("no-such-service-xyz"), -1);
}

int main(void)
{
    UNIT_RUN(test_builtin_table);
    UNIT_RUN(test_lookup_falls_back);
    return unit_summary();
}
