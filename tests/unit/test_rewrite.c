/* test_rewrite.c: unit tests for lib/routing/rewrite (canonical form, lookup
 * order, canonical maps, virtual alias recursion, loops, limits, and
 * table errors as temporary failures). */
#include "unit.h"

#include "addr_fixture.h"
#include "base/log.h"
#include "base/str.h"

/* Canonical form of `in` with settings s. */
static void check_canon(const struct rewrite_settings *s, const char *in,
                        int context, const char *expected)
{
    struct rewrite *rw = fixture_rewrite(s);
    CHECK(rw != NULL);
    if (rw == NULL)
        return;
    struct buf out = BUF_INIT;
    rewrite_canonical_form(rw, in, context, &out);
    if (strcmp(out.data, expected) != 0)
        printf("#   canonical form of \"%s\"\n", in);
    CHECK_STR(out.data, expected);
    buf_free(&out);
    rewrite_close(rw);
}

static void test_canonical_form(void)
{
    struct rewrite_settings s;
    fixture_rewrite_settings(&s);
    check_canon(&s, "user", REWRITE_LOCAL, "user@example.com");
    check_canon(&s, "user@host.test", REWRITE_LOCAL, "user@host.test");
    check_canon(&s, "site!user", REWRITE_LOCAL, "user@site");
    check_canon(&s, "a!b!user", REWRITE_LOCAL, "b!user@a");
    check_canon(&s, "user%site", REWRITE_LOCAL, "user@site");
    check_canon(&s, "u%a%b", REWRITE_LOCAL, "u%a@b");
    check_canon(&s, "@a.test,@b.test:user@d.test", REWRITE_LOCAL,
                "user@d.test");
    check_canon(&s, "user@host.test.", REWRITE_LOCAL, "user@host.test");
    check_canon(&s, "user@host..", REWRITE_LOCAL, "user@host..");
    check_canon(&s, "", REWRITE_LOCAL, "");
    check_canon(&s, "@", REWRITE_LOCAL, "");
    /* append_dot_mydomain is off by default (Postfix 3). */
    check_canon(&s, "user@host", REWRITE_LOCAL, "user@host");
    s.append_dot_mydomain = 1;
    check_canon(&s, "user@host", REWRITE_LOCAL, "user@host.example.com");
    check_canon(&s, "user@a.b", REWRITE_LOCAL, "user@a.b");
    check_canon(&s, "user@[192.0.2.1]", REWRITE_LOCAL, "user@[192.0.2.1]");
    s.append_dot_mydomain = 0;
    s.swap_bangpath = 0;
    check_canon(&s, "site!user", REWRITE_LOCAL, "site!user@example.com");
    s.allow_percent_hack = 0;
    check_canon(&s, "user%site", REWRITE_LOCAL, "user%site@example.com");
    s.append_at_myorigin = 0;
    check_canon(&s, "user", REWRITE_LOCAL, "user");
    /* Headers from remote clients: left alone without
     * remote_header_rewrite_domain, completed with it. */
    fixture_rewrite_settings(&s);
    check_canon(&s, "user", REWRITE_REMOTE, "user");
    s.remote_header_rewrite_domain = "domain.invalid";
    check_canon(&s, "user", REWRITE_REMOTE, "user@domain.invalid");
}

/* Expands `in` through rewrite_envelope_recipient; returns the results
 * joined with ", " (or "DEFER: why"). */
static const char *expand(struct rewrite *rw, const char *in)
{
    static char result[2048];
    struct strlist out;
    struct buf why = BUF_INIT, joined = BUF_INIT;
    strlist_init(&out);
    if (rewrite_envelope_recipient(rw, in, &out, &why) < 0) {
        buf_appendf(&joined, "DEFER: %s", why.data);
        CHECK_INT(out.count, 0);
    } else {
        for (size_t i = 0; i < out.count; i++)
            buf_appendf(&joined, "%s%s", i ? ", " : "", out.items[i]);
    }
    snprintf(result, sizeof(result), "%s", joined.data);
    strlist_free(&out);
    buf_free(&why);
    buf_free(&joined);
    return result;
}

static const char *virtual_table =
    "alice@example.net      a1@dest.test\n"
    "bob                    bob-local@dest.test\n"
    "@example.net           catchall@dest.test\n"
    "carol+spam@example.net spam@dest.test\n"
    "carol@example.net      carol@dest.test\n"
    "@example.org           @example.info\n"
    "bare@example.net       localuser\n"
    "multi@example.net      m1@dest.test, m2@dest.test m3@dest.test\n"
    "quoted@example.net     \"john doe\"@dest.test\n"
    "empty@example.net      ,\n";

static void test_virtual_lookup_order(void)
{
    struct rewrite_settings s;
    fixture_rewrite_settings(&s);
    s.virtual_alias_maps = fixture_table("texthash", "virtual", virtual_table);
    struct rewrite *rw = fixture_rewrite(&s);
    CHECK(rw != NULL);
    if (rw == NULL)
        return;
    /* user@domain first. */
    CHECK_STR(expand(rw, "alice@example.net"), "a1@dest.test");
    /* "user" is tried only for local domains... */
    CHECK_STR(expand(rw, "bob@example.net"), "catchall@dest.test");
    CHECK_STR(expand(rw, "bob@example.com"), "bob-local@dest.test");
    CHECK_STR(expand(rw, "bob@localhost"), "bob-local@dest.test");
    /* ...including our interface literals (inet and proxy). */
    CHECK_STR(expand(rw, "bob@[127.0.0.1]"), "bob-local@dest.test");
    CHECK_STR(expand(rw, "bob@[192.0.2.25]"), "bob-local@dest.test");
    CHECK_STR(expand(rw, "bob@[192.0.2.26]"), "bob@[192.0.2.26]");
    /* A bare recipient is completed with $myorigin first. */
    CHECK_STR(expand(rw, "bob"), "bob-local@dest.test");
    /* @domain last. */
    CHECK_STR(expand(rw, "zed@example.net"), "catchall@dest.test");
    /* Not found: the address itself. */
    CHECK_STR(expand(rw, "zed@other.test"), "zed@other.test");
    /* user+ext@domain before user@domain; an unmatched extension is
     * propagated to the result. */
    CHECK_STR(expand(rw, "carol+spam@example.net"), "spam@dest.test");
    CHECK_STR(expand(rw, "carol+x@example.net"), "carol+x@dest.test");
    CHECK_STR(expand(rw, "alice+tag@example.net"), "a1+tag@dest.test");
    /* @otherdomain keeps the user (with its extension). */
    CHECK_STR(expand(rw, "frank@example.org"), "frank@example.info");
    CHECK_STR(expand(rw, "frank+x@example.org"), "frank+x@example.info");
    CHECK_STR(expand(rw, "john q@example.org"), "john q@example.info");
    /* A bare result gets @$myorigin. */
    CHECK_STR(expand(rw, "bare@example.net"), "localuser@example.com");
    /* Lists split on commas and spaces; quoted local parts unquoted. */
    CHECK_STR(expand(rw, "multi@example.net"),
              "m1@dest.test, m2@dest.test, m3@dest.test");
    CHECK_STR(expand(rw, "quoted@example.net"), "john doe@dest.test");
    /* Case does not matter in keys. */
    CHECK_STR(expand(rw, "ALICE@Example.NET"), "a1@dest.test");
    /* A result with no address in it is a table error: defer. */
    CHECK_STR(expand(rw, "empty@example.net"),
              "DEFER: 4.6.0 Alias expansion error");
    rewrite_close(rw);

    /* Without propagation the extension is dropped. */
    s.propagate_unmatched_extensions = "canonical";
    rw = fixture_rewrite(&s);
    CHECK_STR(expand(rw, "carol+x@example.net"), "carol@dest.test");
    rewrite_close(rw);

    /* Without a recipient_delimiter, user+ext is just a name. */
    s.recipient_delimiter = "";
    s.propagate_unmatched_extensions = "canonical, virtual";
    rw = fixture_rewrite(&s);
    CHECK_STR(expand(rw, "carol+x@example.net"), "catchall@dest.test");
    rewrite_close(rw);

    /* Several delimiters. */
    s.recipient_delimiter = "+-";
    rw = fixture_rewrite(&s);
    CHECK_STR(expand(rw, "carol-x@example.net"), "carol-x@dest.test");
    rewrite_close(rw);
}

static void test_pattern_tables_see_full_address(void)
{
    struct rewrite_settings s;
    fixture_rewrite_settings(&s);
    s.virtual_alias_maps =
        fixture_table("regexp", "virtual.re",
                      "/^bob$/ wrong@x.test\n"
                      "/^@example\\.com$/ wrong@x.test\n"
                      "/^(.*)@regex\\.test$/ ${1}@mapped.test\n");
    struct rewrite *rw = fixture_rewrite(&s);
    CHECK(rw != NULL);
    if (rw == NULL)
        return;
    CHECK_STR(expand(rw, "someone@regex.test"), "someone@mapped.test");
    /* "bob" and "@example.com" are partial keys: never shown to a
     * regular expression. */
    CHECK_STR(expand(rw, "bob@example.com"), "bob@example.com");
    /* Nor user@domain with the extension stripped. */
    CHECK_STR(expand(rw, "x+y@regex.test"), "x+y@mapped.test");
    rewrite_close(rw);
}

static const char *recursion_table =
    "a@x.test      b@x.test\n"
    "b@x.test      c@x.test, d@x.test\n"
    "list@x.test   list@x.test, member@x.test\n"
    "loop1@x.test  loop2@x.test\n"
    "loop2@x.test  loop3@x.test\n"
    "loop3@x.test  loop1@x.test\n"
    "self@x.test   self@x.test\n"
    "n1@x.test n2@x.test\n"
    "n2@x.test n3@x.test\n"
    "n3@x.test n4@x.test\n"
    "n4@x.test n5@x.test\n"
    "fan@x.test f1@x.test f2@x.test f3@x.test f4@x.test\n"
    "long@x.test verylongaddress-1234567890@x.test\n"
    "dup@x.test m@x.test, m@x.test, M@X.TEST, b@x.test\n";

static void test_virtual_recursion_and_limits(void)
{
    struct rewrite_settings s;
    fixture_rewrite_settings(&s);
    s.virtual_alias_maps =
        fixture_table("texthash", "recursion", recursion_table);
    struct rewrite *rw = fixture_rewrite(&s);
    CHECK(rw != NULL);
    if (rw == NULL)
        return;
    CHECK_STR(expand(rw, "a@x.test"), "c@x.test, d@x.test");
    /* An alias that includes itself keeps itself. */
    CHECK_STR(expand(rw, "list@x.test"), "list@x.test, member@x.test");
    CHECK_STR(expand(rw, "self@x.test"), "self@x.test");
    /* A loop is a temporary failure, found without going to the limit. */
    CHECK_STR(expand(rw, "loop1@x.test"), "DEFER: 4.6.0 Alias expansion error");
    CHECK_STR(expand(rw, "loop2@x.test"), "DEFER: 4.6.0 Alias expansion error");
    CHECK_STR(expand(rw, "n1@x.test"), "n5@x.test");
    /* Duplicates are removed, case ignored; the order is kept. */
    CHECK_STR(expand(rw, "dup@x.test"), "m@x.test, c@x.test, d@x.test");
    CHECK_STR(expand(rw, "fan@x.test"),
              "f1@x.test, f2@x.test, f3@x.test, f4@x.test");
    rewrite_close(rw);

    s.virtual_alias_recursion_limit = 3;
    rw = fixture_rewrite(&s);
    CHECK_STR(expand(rw, "n1@x.test"), "DEFER: 4.6.0 Alias expansion error");
    CHECK_STR(expand(rw, "n2@x.test"), "n5@x.test");
    rewrite_close(rw);

    s.virtual_alias_recursion_limit = 1000;
    s.virtual_alias_expansion_limit = 3;
    rw = fixture_rewrite(&s);
    CHECK_STR(expand(rw, "fan@x.test"), "DEFER: 4.6.0 Alias expansion error");
    CHECK_STR(expand(rw, "a@x.test"), "c@x.test, d@x.test");
    rewrite_close(rw);

    s.virtual_alias_expansion_limit = 4;
    rw = fixture_rewrite(&s);
    CHECK_STR(expand(rw, "fan@x.test"),
              "f1@x.test, f2@x.test, f3@x.test, f4@x.test");
    rewrite_close(rw);

    s.virtual_alias_address_length_limit = 20;
    rw = fixture_rewrite(&s);
    CHECK_STR(expand(rw, "long@x.test"), "DEFER: 4.6.0 Alias expansion error");
    CHECK_STR(expand(rw, "a@x.test"), "c@x.test, d@x.test");
    rewrite_close(rw);
}

static void test_virtual_table_errors(void)
{
    struct rewrite_settings s;
    fixture_rewrite_settings(&s);
    const char *good =
        fixture_table("texthash", "good", "known@x.test known@x.test\n");
    char *specs[] = {
        xasprintf("%s", fixture_missing("texthash")),
        xasprintf("fail:broken"),
        xasprintf("nosuchtype:whatever"),
        xasprintf("%s, %s", good, fixture_missing("texthash")),
    };
    for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
        s.virtual_alias_maps = specs[i];
        struct rewrite *rw = fixture_rewrite(&s);
        CHECK(rw != NULL);
        if (rw == NULL)
            continue;
        /* Never "not found": the recipient would be delivered unexpanded. */
        CHECK_STR(expand(rw, "unknown@x.test"),
                  "DEFER: 4.6.0 Alias expansion error");
        rewrite_close(rw);
    }
    /* The first table that has the key answers before a broken one (the
     * address maps to itself, so it is not looked up again). */
    s.virtual_alias_maps = specs[3];
    struct rewrite *rw = fixture_rewrite(&s);
    CHECK_STR(expand(rw, "known@x.test"), "known@x.test");
    rewrite_close(rw);
    for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++)
        free(specs[i]);
}

static const char *sender(struct rewrite *rw, const char *in)
{
    static char result[1024];
    struct buf out = BUF_INIT, why = BUF_INIT;
    if (rewrite_envelope_sender(rw, in, &out, &why) < 0)
        snprintf(result, sizeof(result), "DEFER: %s", why.data);
    else
        snprintf(result, sizeof(result), "%s", out.data);
    buf_free(&out);
    buf_free(&why);
    return result;
}

static const char *header(struct rewrite *rw, const char *in, int is_sender,
                          int context)
{
    static char result[1024];
    struct buf out = BUF_INIT, why = BUF_INIT;
    if (rewrite_header_address(rw, in, is_sender, context, &out, &why) < 0)
        snprintf(result, sizeof(result), "DEFER: %s", why.data);
    else
        snprintf(result, sizeof(result), "%s", out.data);
    buf_free(&out);
    buf_free(&why);
    return result;
}

static void test_canonical_maps(void)
{
    struct rewrite_settings s;
    fixture_rewrite_settings(&s);
    s.sender_canonical_maps = fixture_table(
        "texthash", "sender_canonical", "old@example.com new@example.com\n");
    s.recipient_canonical_maps = fixture_table(
        "texthash", "recipient_canonical", "rc@example.com rc2@example.com\n");
    s.canonical_maps = fixture_table(
        "texthash", "canonical",
        "new@example.com final@example.com\n"
        "rc2@example.com rc3@example.com\n"
        "joe joe.public@example.com\n"
        "@legacy.test @example.com\n"
        "c1@x.test c2@x.test\nc2@x.test c3@x.test\nc3@x.test c4@x.test\n"
        "c4@x.test c5@x.test\nc5@x.test c6@x.test\nc6@x.test c7@x.test\n"
        "c7@x.test c8@x.test\nc8@x.test c9@x.test\nc9@x.test c10@x.test\n"
        "c10@x.test c11@x.test\nc11@x.test c12@x.test\n"
        "same@x.test same@x.test\n");
    s.virtual_alias_maps = fixture_table(
        "texthash", "virtual2", "rc3@example.com v1@x.test, v2@x.test\n");
    struct rewrite *rw = fixture_rewrite(&s);
    CHECK(rw != NULL);
    if (rw == NULL)
        return;
    /* sender_canonical_maps, then canonical_maps. */
    CHECK_STR(sender(rw, "old@example.com"), "final@example.com");
    CHECK_STR(sender(rw, "old+tag@example.com"), "final+tag@example.com");
    /* recipient_canonical_maps is not for senders. */
    CHECK_STR(sender(rw, "rc@example.com"), "rc@example.com");
    /* The null sender stays null. */
    CHECK_STR(sender(rw, ""), "");
    /* Bare sender: $myorigin, then the "user" form (local domain). */
    CHECK_STR(sender(rw, "joe"), "joe.public@example.com");
    CHECK_STR(sender(rw, "anna@legacy.test"), "anna@example.com");
    CHECK_STR(sender(rw, "same@x.test"), "same@x.test");
    /* Ten steps at most, then a temporary failure. */
    CHECK_STR(sender(rw, "c3@x.test"), "c12@x.test");
    CHECK_STR(sender(rw, "c1@x.test"), "DEFER: 4.6.0 Alias expansion error");
    /* Recipients: recipient_canonical, canonical, then virtual. */
    CHECK_STR(expand(rw, "rc@example.com"), "v1@x.test, v2@x.test");
    /* Headers: the same tables for the header classes. */
    CHECK_STR(header(rw, "joe", 1, REWRITE_LOCAL), "joe.public@example.com");
    CHECK_STR(header(rw, "rc@example.com", 0, REWRITE_LOCAL),
              "rc3@example.com");
    /* Headers from remote clients are left alone. */
    CHECK_STR(header(rw, "joe", 1, REWRITE_REMOTE), "joe");
    CHECK_STR(header(rw, "old@example.com", 1, REWRITE_REMOTE),
              "old@example.com");
    rewrite_close(rw);

    /* canonical_classes limits canonical_maps. */
    s.canonical_classes = "envelope_recipient";
    rw = fixture_rewrite(&s);
    CHECK_STR(sender(rw, "old@example.com"), "new@example.com");
    CHECK_STR(header(rw, "joe", 1, REWRITE_LOCAL), "joe@example.com");
    rewrite_close(rw);

    /* A broken canonical table defers. */
    fixture_rewrite_settings(&s);
    s.canonical_maps = "fail:canonical";
    rw = fixture_rewrite(&s);
    CHECK_STR(sender(rw, "a@b.test"), "DEFER: 4.6.0 Alias expansion error");
    CHECK_STR(expand(rw, "a@b.test"), "DEFER: 4.6.0 Alias expansion error");
    CHECK_STR(sender(rw, ""), "");
    rewrite_close(rw);
}

static void test_addr_find_and_mapped(void)
{
    struct rewrite_settings s;
    fixture_rewrite_settings(&s);
    s.virtual_alias_maps =
        fixture_table("texthash", "virtual3", "info@example.net x@y.test\n");
    struct rewrite *rw = fixture_rewrite(&s);
    CHECK(rw != NULL);
    if (rw == NULL)
        return;
    CHECK_INT(rewrite_recipient_is_mapped(rw, "info@example.net"), 1);
    CHECK_INT(rewrite_recipient_is_mapped(rw, "info+x@example.net"), 1);
    CHECK_INT(rewrite_recipient_is_mapped(rw, "other@example.net"), 0);
    CHECK_INT(rewrite_local_domain(rw, "example.com"), 1);
    CHECK_INT(rewrite_local_domain(rw, "EXAMPLE.com."), 1);
    CHECK_INT(rewrite_local_domain(rw, "example.com.."), 0);
    CHECK_INT(rewrite_local_domain(rw, "sub.example.com"), 0);
    CHECK_INT(rewrite_local_domain(rw, "[127.0.0.1]"), 1);
    CHECK_INT(rewrite_local_domain(rw, "[127.0.0.2]"), 0);
    CHECK_INT(rewrite_local_domain(rw, "[IPv6:::1]"), 0);

    struct maps *m = maps_open("test_maps",
                               fixture_table("texthash", "find",
                                             "u+e@d.test full\n"
                                             "u@d.test bare\n"),
                               0);
    struct buf value = BUF_INIT, ext = BUF_INIT;
    CHECK_INT(rewrite_addr_find(rw, m, "u+e@d.test", &value, &ext), DICT_FOUND);
    CHECK_STR(value.data, "full");
    CHECK_STR(ext.data, "");
    CHECK_INT(rewrite_addr_find(rw, m, "u+f@d.test", &value, &ext), DICT_FOUND);
    CHECK_STR(value.data, "bare");
    CHECK_STR(ext.data, "+f");
    CHECK_INT(rewrite_addr_find(rw, m, "v@d.test", &value, &ext),
              DICT_NOTFOUND);
    maps_close(m);
    buf_free(&value);
    buf_free(&ext);
    rewrite_close(rw);

    /* inet_interfaces forms. */
    fixture_rewrite_settings(&s);
    s.inet_interfaces = "loopback-only";
    s.proxy_interfaces = "[2001:db8::25]";
    rw = fixture_rewrite(&s);
    CHECK_INT(rewrite_local_domain(rw, "[IPv6:::1]"), 1);
    CHECK_INT(rewrite_local_domain(rw, "[ipv6:2001:db8::25]"), 1);
    CHECK_INT(rewrite_local_domain(rw, "[IPv6:2001:db8::26]"), 0);
    CHECK_INT(rewrite_local_domain(rw, "[127.0.0.1]"), 1);
    CHECK_INT(rewrite_local_domain(rw, "[::1]"), 0); /* not a literal */
    rewrite_close(rw);
    s.inet_interfaces = "all";
    rw = fixture_rewrite(&s);
    CHECK_INT(rewrite_local_domain(rw, "[127.0.0.1]"), 1);
    CHECK_INT(rewrite_local_domain(rw, "[192.0.2.200]"), 0);
    rewrite_close(rw);

    /* mydestination lists: tables, negation, /file. */
    fixture_rewrite_settings(&s);
    const char *file_path =
        fixture_table("x", "mydest-file", "# ours\nfile.test, other.test\n") +
        2;
    char *mydest = xasprintf(
        "!not.example.com, %s, %s, example.com",
        fixture_table("texthash", "mydest", "tabled.test OK\n"), file_path);
    s.mydestination = mydest;
    rw = fixture_rewrite(&s);
    CHECK(rw != NULL);
    if (rw) {
        CHECK_INT(rewrite_local_domain(rw, "tabled.test"), 1);
        CHECK_INT(rewrite_local_domain(rw, "file.test"), 1);
        CHECK_INT(rewrite_local_domain(rw, "other.test"), 1);
        CHECK_INT(rewrite_local_domain(rw, "not.example.com"), 0);
        CHECK_INT(rewrite_local_domain(rw, "example.com"), 1);
        rewrite_close(rw);
    }
    free(mydest);
    /* A broken mydestination table is a temporary error, not "remote". */
    s.mydestination = "fail:mydest";
    rw = fixture_rewrite(&s);
    CHECK_INT(rewrite_local_domain(rw, "example.com"), -1);
    CHECK_STR(expand(rw, "a@example.com"), "a@example.com");
    rewrite_close(rw);
    /* An unreadable /file is refused when opening. */
    s.mydestination = "/nonexistent/postern-mydest";
    struct buf err = BUF_INIT;
    CHECK(rewrite_open(&s, &err) == NULL);
    CHECK(strstr(err.data, "/nonexistent/postern-mydest") != NULL);
    buf_free(&err);
}

int main(void)
{
    if (fixture_init("test_rewrite") < 0)
        return 1;
    log_set_program("test_rewrite");
    UNIT_RUN(test_canonical_form);
    UNIT_RUN(test_virtual_lookup_order);
    UNIT_RUN(test_pattern_tables_see_full_address);
    UNIT_RUN(test_virtual_recursion_and_limits);
    UNIT_RUN(test_virtual_table_errors);
    UNIT_RUN(test_canonical_maps);
    UNIT_RUN(test_addr_find_and_mapped);
    fixture_cleanup();
    return unit_summary();
}
