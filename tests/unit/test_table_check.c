/* test_table_check.c: unit tests for lib/tables/table_check: which items
 * of a parameter are opened as tables, which are checked as networks,
 * and what is left alone. */
#include "tables/table_check.h"

#include "unit.h"

static int count(const char *name, const char *value, struct strlist *found)
{
    strlist_free(found);
    strlist_init(found);
    return table_check_value("main.cf, line 1", name, value, found);
}

static void test_tables(void)
{
    struct strlist found;
    strlist_init(&found);
    CHECK_INT(
        count("virtual_alias_maps", "inline:{a=b, c=d}, static:x", &found), 0);
    CHECK_INT(count("virtual_alias_maps", "hsh:/etc/x", &found), 1);
    CHECK_STR(found.items[0], "main.cf, line 1: virtual_alias_maps: "
                              "hsh:/etc/x: unknown table type \"hsh\"");
    CHECK_INT(count("alias_maps", "texthash:/nonexistent/aliases", &found), 1);
    CHECK_INT(count("smtpd_client_restrictions",
                    "permit_mynetworks, check_client_access "
                    "proxy:cidr:/nonexistent, reject",
                    &found),
              1);
    /* Not a list of tables: a relayhost, a banner. */
    CHECK_INT(count("relayhost", "[mx.example.com]:587", &found), 0);
    CHECK_INT(count("smtpd_banner", "x:y ESMTP", &found), 0);
    strlist_free(&found);
}

static void test_networks(void)
{
    struct strlist found;
    strlist_init(&found);
    CHECK_INT(count("mynetworks",
                    "127.0.0.0/8 [::1]/128 192.0.2.1 2001:db8::/32 "
                    "host.example .example.org !10.1.0.0/16",
                    &found),
              0);
    CHECK_INT(count("mynetworks", "10.0.0.0/33, 300.1.2.3, [::1]/129", &found),
              3);
    CHECK_INT(count("mynetworks", "hsh:/etc/networks", &found), 1);
    /* The same text in a list that is not a network list is left alone. */
    CHECK_INT(count("mydestination", "10.0.0.0/33", &found), 0);
    strlist_free(&found);
}

int main(void)
{
    UNIT_RUN(test_tables);
    UNIT_RUN(test_networks);
    return unit_summary();
}
