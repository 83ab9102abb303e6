/* test_password.c: unit tests for lib/auth/password: hashes made by
 * Dovecot's own `doveadm pw` (Debian 12, dovecot-core 2.3.19) verify,
 * for every scheme we read; a wrong password does not; an unknown scheme
 * or a malformed hash is an error, never a mismatch, and says so without
 * echoing the hash; the hashes we make verify and differ per salt.
 * tests/e2e/test_password_interop.py checks the other way: Dovecot's
 * doveadm verifies the hashes we make. */
#include "unit.h"

#include "auth/password.h"
#include "base/buf.h"

/* Each made with `doveadm pw -s SCHEME [-r ROUNDS] -p PASSWORD`
 * (PASSWORD as in the second column), Dovecot 2.3.19.1 on Debian 12. Its
 * {CRYPT} makes bcrypt strings; DES-CRYPT and MD5-CRYPT are the older
 * crypt(3) formats old passwd-files still hold. */
static const struct {
    const char *stored;
    const char *password;
} dovecot_vectors[] = {
    {"{SHA512-CRYPT}$6$truatk0hHjks1Bwy$/q5P7oihs.Ale3DoQmJDtYJlGzYRmv4e564xOcVQNIEndMCEB2piov6rULAr5qrNMDcC3pBlI/UL11ZYaF2y0.",
     "pässwörd: 1"},
    {"{SHA512-CRYPT}$6$rounds=10000$2y8//dManU7zzVK0$gQAUWxTnh6gNk/haaA30VcqNFkh8FdhePukGR.IQm9REpYwenJ820RJD58Nb/p5dUphNuyDb4OUUHXpjLYLds0",
     "secret"},
    {"{SHA256-CRYPT}$5$bDnWHRgbqLOQJo83$Zd1FX1ALBOWX.igNIZ9srG3NaEH1/itT25hceh2EpDC",
     "pässwörd: 1"},
    {"{SHA256-CRYPT}$5$rounds=20000$aP5ekXHJdnqbCXxH$WEkemSR9kI/U/otrXdvpkSC6YFP001c9jsjRf.uxJE5",
     "x"},
    {"{BLF-CRYPT}$2y$05$5QibBJAipS83lypGiT0QUOR3XiiNU0h2X57uuGAKPoHIMiEyT4.MC",
     "pässwörd: 1"},
    {"{CRYPT}$2y$05$4ix7LJdN62MpU61UMW2bpuA3E8HU.oTqNBEg3hFEmamljly9bYUX6",
     "secret"},
    {"{DES-CRYPT}G/91nh5h0zauw",
     "secret"},
    {"{MD5-CRYPT}$1$d4i51jcI$/hzdj3dnM4HReL4LoeNnI/",
     "pässwörd: 1"},
    {"{ARGON2ID}$argon2id$v=19$m=65536,t=3,p=1$ac8QYUgyPtlxikUIFI1tJw$bwI7fj4ux/E2HccMBu2dGZqHF//5nFivDIHuTm31rKM",
     "pässwörd: 1"},
    {"{ARGON2I}$argon2i$v=19$m=32768,t=4,p=1$YFqG36W0yZfMDquN23q8Jw$4RfUyUSAZXU4GWYKrzHzcuAFAweDzRUb1xflLMzNbbY",
     "pässwörd: 1"},
    {"{SSHA512}tWxoJWlUGjCaF6n/c3LpLfx4T0wVmz+/Tgsy8Vj81GyEP9tskgfDjs/n8S1LC4SAD0qxeOQS+ZOtnwRZub6KLCg7lWM=",
     "pässwörd: 1"},
    {"{SSHA512.B64}8Xo6pkXTft7AswNYN48MsZJmFDwxvejTkFagmHCWFJE+KWPNHbYT5xORPoZ+Z8CswTEKL5ywElxxsLmzk+/zICgAohs=",
     "pässwörd: 1"},
    {"{SSHA256}Ov+RTvGv++xeStKxkN4NlXY4xNYBwTJvM/4bWrBtgSAPBtin",
     "pässwörd: 1"},
    {"{SSHA256}cSoRleaGXcGLETiCaSZvli2l8hF3ULw40OwO3lISW+hZTNkS",
     "abc"},
    {"{SSHA256.HEX}765701d80f4bbc964e4ca5206533eb629e8d7c20a432109b115c8985f75488c46d5cc3ba",
     "pässwörd: 1"},
    {"{PLAIN}pässwörd: 1",
     "pässwörd: 1"},
};

static enum password_result verify(const char *stored, const char *password)
{
    return password_verify(stored, password, strlen(password), NULL, NULL);
}

static void test_dovecot_hashes_verify(void)
{
    for (size_t i = 0; i < sizeof(dovecot_vectors) / sizeof(dovecot_vectors[0]);
         i++) {
        struct buf err = BUF_INIT;
        const char *stored = dovecot_vectors[i].stored;
        const char *password = dovecot_vectors[i].password;
        enum password_result right =
            password_verify(stored, password, strlen(password), NULL, &err);
        if (right != PASSWORD_MATCH)
            printf("#   %s: %d (%s)\n", stored, right, buf_cstr(&err));
        CHECK_INT(right, PASSWORD_MATCH);
        CHECK_INT(verify(stored, "wrong password"), PASSWORD_MISMATCH);
        /* One letter off, and a prefix of the right one. */
        struct buf changed = BUF_INIT;
        buf_append_str(&changed, password);
        changed.data[0] ^= 0x20;
        CHECK_INT(verify(stored, buf_cstr(&changed)), PASSWORD_MISMATCH);
        CHECK_INT(password_verify(stored, password, strlen(password) - 1, NULL,
                                  NULL),
                  PASSWORD_MISMATCH);
        CHECK_INT(verify(stored, ""), PASSWORD_MISMATCH);
        buf_free(&changed);
        buf_free(&err);
    }
}

/* Dovecot's {SCRAM-SHA-256} (made by doveadm pw -s SCRAM-SHA-256 -p
 * secret) verifies a plain password through the same keys. */
static void test_scram_stored(void)
{
    const char *stored =
        "{SCRAM-SHA-256}4096,n+onRzmuokqZcsmjUBD+hg==,"
        "GVYqFHUKnTp54ixper92HIomU5IiFMWEw7cJyfkppKA=,"
        "L0MsGO7ZWRqWR+seWsXG/sWCGn9fgCmKkTNFPfRbiRo=";
    CHECK_INT(verify(stored, "secret"), PASSWORD_MATCH);
    CHECK_INT(verify(stored, "Secret"), PASSWORD_MISMATCH);
    CHECK_INT(verify("{SCRAM-SHA-256}4096,xx", "secret"), PASSWORD_ERROR);
    CHECK_INT(verify("{SCRAM-SHA-256}0,n+onRzmuokqZcsmjUBD+hg==,"
                     "GVYqFHUKnTp54ixper92HIomU5IiFMWEw7cJyfkppKA=,"
                     "L0MsGO7ZWRqWR+seWsXG/sWCGn9fgCmKkTNFPfRbiRo=",
                     "secret"),
              PASSWORD_ERROR);
    CHECK_INT(verify("{SCRAM-SHA-256}99999999,n+onRzmuokqZcsmjUBD+hg==,"
                     "GVYqFHUKnTp54ixper92HIomU5IiFMWEw7cJyfkppKA=,"
                     "L0MsGO7ZWRqWR+seWsXG/sWCGn9fgCmKkTNFPfRbiRo=",
                     "secret"),
              PASSWORD_ERROR);
}

static void test_scheme_names(void)
{
    /* Scheme names are case-insensitive, as in Dovecot. */
    CHECK_INT(verify("{plain}x", "x"), PASSWORD_MATCH);
    CHECK_INT(verify("{Cleartext}x", "x"), PASSWORD_MATCH);
    CHECK(password_scheme_known("sha512-crypt"));
    CHECK(password_scheme_known("SSHA256.HEX"));
    CHECK(password_scheme_known("ssha512.b64"));
    CHECK(!password_scheme_known("PLAIN.HEX"));
    CHECK(password_scheme_known("MD5-CRYPT"));
    CHECK(!password_scheme_known("MD5"));
    CHECK(password_scheme_known("SCRAM-SHA-256"));
    CHECK(!password_scheme_known(""));
    /* A bare value is read in the default scheme, if there is one. */
    CHECK_INT(password_verify("x", "x", 1, "PLAIN", NULL), PASSWORD_MATCH);
    CHECK_INT(password_verify("x", "y", 1, "plain", NULL), PASSWORD_MISMATCH);
    CHECK_INT(password_verify("x", "x", 1, NULL, NULL), PASSWORD_ERROR);
    /* The prefix wins over the default. */
    CHECK_INT(password_verify("{PLAIN}x", "x", 1, "CRYPT", NULL),
              PASSWORD_MATCH);
}

/* An error, with a reason that names the scheme and never shows the
 * data after it. */
static void expect_error(const char *stored, const char *reason_part,
                         const char *secret_part)
{
    struct buf err = BUF_INIT;
    CHECK_INT(password_verify(stored, "x", 1, NULL, &err), PASSWORD_ERROR);
    if (strstr(buf_cstr(&err), reason_part) == NULL) {
        printf("#   %s: reason \"%s\" lacks \"%s\"\n", stored, buf_cstr(&err),
               reason_part);
        CHECK(0);
    }
    if (secret_part)
        CHECK(strstr(buf_cstr(&err), secret_part) == NULL);
    buf_free(&err);
}

static void test_errors_are_not_mismatches(void)
{
    expect_error("{MD4}0123456789abcdef", "unknown password scheme {MD4}",
                 "0123456789abcdef");
    expect_error("{NOPE}", "unknown password scheme {NOPE}", NULL);
    expect_error("{PLAIN.HEX}78", "unknown password scheme {PLAIN.HEX}", NULL);
    expect_error("{PLAIN", "no '}'", NULL);
    expect_error("{PLAIN}", "{PLAIN}: no password is stored", NULL);
    expect_error("{SSHA256}not*base64", "not valid base64", "not*base64");
    expect_error("{SSHA256.HEX}zz", "not valid hex", NULL);
    /* Shorter than the digest itself. */
    expect_error("{SSHA512}c2hvcnQ=", "shorter than a 64-byte digest",
                 "c2hvcnQ=");
    expect_error("{CRYPT}$x$abcdefgh$secretpart", "not a crypt(3) format",
                 "secretpart");
    expect_error("{SHA512-CRYPT}!locked", "not a crypt(3) format", "locked");
    expect_error("{ARGON2ID}$argon2id$v=19$m=x", "not an encoded", NULL);
    expect_error("{ARGON2I}$argon2d$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2g",
                 "not an encoded", "aGFzaGhhc2g");
    /* Costs past our caps are refused before libargon2 allocates them. */
    expect_error("{ARGON2ID}$argon2id$v=19$m=4194304,t=3,p=1$"
                 "c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaA",
                 "past our limits", "aGFzaGhhc2hoYXNoaGFzaA");
    expect_error("{ARGON2ID}$argon2id$v=19$m=4096,t=1000,p=1$"
                 "c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaA",
                 "past our limits", NULL);
    /* So are crypt costs that would take minutes a login. */
    expect_error("{SHA512-CRYPT}$6$rounds=999999999$2y8//dManU7zzVK0$"
                 "gQAUWxTnh6gNk/haaA30VcqNFkh8FdhePukGR.IQm9REpYwenJ820RJD58Nb"
                 "/p5dUphNuyDb4OUUHXpjLYLds0",
                 "cost of 999999999, past our limit of 1000000", "gQAU");
    expect_error("{CRYPT}$5$rounds=1000001$aP5ekXHJdnqbCXxH$"
                 "WEkemSR9kI/U/otrXdvpkSC6YFP001c9jsjRf.uxJE5",
                 "past our limit of 1000000", NULL);
    expect_error("{BLF-CRYPT}$2y$31$5QibBJAipS83lypGiT0QUOR3XiiNU0h2X57uuGAKPo"
                 "HIMiEyT4.MC",
                 "cost of 31, past our limit of 16", NULL);
    /* A truncated hash libargon2 cannot decode. */
    expect_error("{ARGON2ID}$argon2id$v=19$m=4096,t=1,p=1$c2FsdA",
                 "{ARGON2ID}: ", NULL);
}

static void test_lengths_and_nul_bytes(void)
{
    /* Longer than PASSWORD_MAX_LEN never matches, even when equal. */
    struct buf stored = BUF_INIT, password = BUF_INIT;
    for (int i = 0; i < PASSWORD_MAX_LEN + 1; i++)
        buf_append_char(&password, 'a');
    buf_append_str(&stored, "{PLAIN}");
    buf_append_str(&stored, buf_cstr(&password));
    CHECK_INT(verify(buf_cstr(&stored), buf_cstr(&password)),
              PASSWORD_MISMATCH);
    buf_truncate(&password, PASSWORD_MAX_LEN);
    buf_truncate(&stored, 7 + PASSWORD_MAX_LEN);
    CHECK_INT(verify(buf_cstr(&stored), buf_cstr(&password)), PASSWORD_MATCH);
    buf_free(&stored);
    buf_free(&password);
    /* A NUL inside the password is compared, not a string end. */
    CHECK_INT(password_verify("{PLAIN}ab", "ab\0c", 4, NULL, NULL),
              PASSWORD_MISMATCH);
    CHECK_INT(password_verify("{PLAIN}ab", "ab", 2, NULL, NULL),
              PASSWORD_MATCH);
}

static void test_hashes_we_make(void)
{
    struct buf first = BUF_INIT, second = BUF_INIT, err = BUF_INIT;
    const char *password = "correct horse battery staple";
    size_t len = strlen(password);
    CHECK_INT(password_hash(NULL, password, len, &first, &err), 0);
    CHECK(strncmp(buf_cstr(&first), "{ARGON2ID}$argon2id$v=19$m=65536,t=3,p=1$",
                  41) == 0);
    CHECK_INT(password_hash("argon2id", password, len, &second, &err), 0);
    CHECK(strcmp(buf_cstr(&first), buf_cstr(&second)) != 0);
    CHECK_INT(verify(buf_cstr(&first), password), PASSWORD_MATCH);
    CHECK_INT(verify(buf_cstr(&second), password), PASSWORD_MATCH);
    CHECK_INT(verify(buf_cstr(&first), "Correct horse battery staple"),
              PASSWORD_MISMATCH);

    buf_reset(&first);
    buf_reset(&second);
    CHECK_INT(password_hash("SHA512-CRYPT", password, len, &first, &err), 0);
    CHECK_INT(password_hash("sha512-crypt", password, len, &second, &err), 0);
    CHECK(strncmp(buf_cstr(&first), "{SHA512-CRYPT}$6$", 17) == 0);
    CHECK(strcmp(buf_cstr(&first), buf_cstr(&second)) != 0);
    CHECK_INT(verify(buf_cstr(&first), password), PASSWORD_MATCH);
    CHECK_INT(verify(buf_cstr(&first), "correct horse battery stapl"),
              PASSWORD_MISMATCH);
    CHECK_STR(buf_cstr(&err), "");

    /* What we do not make, and what no password may be. */
    buf_reset(&first);
    CHECK_INT(password_hash("PLAIN", "x", 1, &first, &err), -1);
    CHECK(strstr(buf_cstr(&err), "cannot make new {PLAIN} hashes") != NULL);
    buf_reset(&err);
    CHECK_INT(password_hash(NULL, "a\0b", 3, &first, &err), -1);
    CHECK(strstr(buf_cstr(&err), "NUL") != NULL);
    buf_free(&first);
    buf_free(&second);
    buf_free(&err);
}

int main(void)
{
    UNIT_RUN(test_dovecot_hashes_verify);
    UNIT_RUN(test_scheme_names);
    UNIT_RUN(test_scram_stored);
    UNIT_RUN(test_errors_are_not_mismatches);
    UNIT_RUN(test_lengths_and_nul_bytes);
    UNIT_RUN(test_hashes_we_make);
    return unit_summary();
}
