/* test_smtp_sasl_policy.c: which credentials and which mechanism the
 * smtp client uses to log in to a server (smtp/smtp_sasl_policy.c, a
 * daemon file: included here, since unit tests link only lib/): Postfix's
 * lookup order (sender with sender-dependent authentication, remote
 * host, next-hop destination; Postern's destination without its port),
 * the user:password split, table errors, and the mechanism choice under
 * the filter and the security options. */
#include "../../smtp/smtp_sasl_policy.c"
#include "unit.h"

#include "auth/sasl_security.h"
#include "config/config.h"

static const char *table =
    "inline:{ sender@a.example=by-sender:p1, @b.example=by-domain:p2, "
    "relay.example=by-host:p3, [relay.example]:587=by-dest:p4, "
    "[other.example]=by-bare-dest:p5, nopass.example=justuser, "
    "[colon.example]:25=u:pa:ss }";

/* The user found, "" when none, "ERROR" on a table error. */
static const char *find(struct maps *m, const char *sender, const char *host,
                        const char *dest)
{
    static char result[128];
    struct buf user = BUF_INIT, password = BUF_INIT, key = BUF_INIT;
    enum dict_result r =
        smtp_sasl_find(m, sender, host, dest, &user, &password, &key);
    if (r == DICT_FOUND)
        snprintf(result, sizeof(result), "%s/%s", buf_cstr(&user),
                 buf_cstr(&password));
    else
        snprintf(result, sizeof(result), "%s", r == DICT_ERROR ? "ERROR" : "");
    buf_free(&user);
    buf_free(&password);
    buf_free(&key);
    return result;
}

static void test_lookup_order(void)
{
    static const char cf[] = "recipient_delimiter = +\n";
    struct buf err = BUF_INIT;
    CHECK_INT(config_load_string(cf, sizeof(cf) - 1, "/cfg", "/cfg/main.cf",
                                 &err),
              0);
    buf_free(&err);
    struct maps *m = maps_open("smtp_sasl_password_maps", table, 0);
    /* The sender first (when the caller asks for it), whole then @domain. */
    CHECK_STR(find(m, "sender@a.example", "relay.example",
                   "[relay.example]:587"),
              "by-sender/p1");
    CHECK_STR(find(m, "Sender+ext@A.example", "relay.example", ""),
              "by-sender/p1");
    CHECK_STR(find(m, "x@b.example", "relay.example", ""), "by-domain/p2");
    /* Without a sender match: the host, then the destination. */
    CHECK_STR(find(m, "x@c.example", "relay.example", "[relay.example]:587"),
              "by-host/p3");
    CHECK_STR(find(m, NULL, "relay.example", "[relay.example]:587"),
              "by-host/p3");
    CHECK_STR(find(m, NULL, "10.0.0.1", "[Relay.Example]:587"), "by-dest/p4");
    /* The destination without its port (Postern's addition). */
    CHECK_STR(find(m, NULL, "10.0.0.1", "[other.example]:2525"),
              "by-bare-dest/p5");
    CHECK_STR(find(m, NULL, "10.0.0.1", "[relay.example]:25"), "");
    CHECK_STR(find(m, NULL, "mx.c.example", "c.example"), "");
    /* user without ':' has an empty password; a password may hold ':'. */
    CHECK_STR(find(m, NULL, "nopass.example", ""), "justuser/");
    CHECK_STR(find(m, NULL, "10.0.0.1", "[colon.example]:25"), "u/pa:ss");
    maps_close(m);

    /* A table that fails stops the search: never "not found". */
    m = maps_open("smtp_sasl_password_maps", "fail:broken, " , 0);
    CHECK_STR(find(m, NULL, "relay.example", "[relay.example]:587"), "ERROR");
    maps_close(m);
}

static const char *pick(const char *offered, const char *filter_value,
                        unsigned options)
{
    struct strlist list;
    strlist_init(&list);
    char *copy = xstrdup(offered);
    for (char *save = NULL, *w = strtok_r(copy, " ", &save); w;
         w = strtok_r(NULL, " ", &save))
        strlist_add(&list, w);
    free(copy);
    struct buf err = BUF_INIT;
    struct domain_list *filter =
        filter_value ? domain_list_open("smtp_sasl_mechanism_filter",
                                        filter_value, DOMAIN_LIST_STRING, &err)
                     : NULL;
    const char *mech = NULL;
    enum smtp_sasl_pick_result r = smtp_sasl_pick(&list, filter, options,
                                                  &mech);
    strlist_free(&list);
    domain_list_free(filter);
    buf_free(&err);
    switch (r) {
    case SMTP_SASL_PICKED:
        return mech;
    case SMTP_SASL_NONE_OFFERED:
        return "none offered";
    case SMTP_SASL_NONE_ALLOWED:
        return "none allowed";
    default:
        return "filter error";
    }
}

static void test_mechanism(void)
{
    unsigned deflt = SASL_SEC_NOPLAINTEXT | SASL_SEC_NOANONYMOUS;
    /* Strongest first. */
    CHECK_STR(pick("LOGIN PLAIN SCRAM-SHA-256", NULL, deflt), "SCRAM-SHA-256");
    CHECK_STR(pick("LOGIN PLAIN", NULL, SASL_SEC_NOANONYMOUS), "PLAIN");
    CHECK_STR(pick("LOGIN", NULL, 0), "LOGIN");
    /* The default options keep plain-text mechanisms off. */
    CHECK_STR(pick("LOGIN PLAIN", NULL, deflt), "none allowed");
    CHECK_STR(pick("CRAM-MD5 GSSAPI", NULL, 0), "none allowed");
    /* The filter. */
    CHECK_STR(pick("PLAIN SCRAM-SHA-256", "plain, login", 0), "PLAIN");
    CHECK_STR(pick("PLAIN SCRAM-SHA-256", "!scram-sha-256, static:all", 0),
              "PLAIN");
    CHECK_STR(pick("SCRAM-SHA-256", "plain", 0), "none offered");
    CHECK_STR(pick("", NULL, 0), "none offered");
    CHECK_STR(pick("PLAIN", "fail:broken", 0), "filter error");
}

int main(void)
{
    UNIT_RUN(test_lookup_order);
    UNIT_RUN(test_mechanism);
    return unit_summary();
}
