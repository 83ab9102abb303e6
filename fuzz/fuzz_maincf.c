/* fuzz_maincf.c: fuzz target for the main.cf reader and $name expansion.
 * Parses the input as main.cf, expands every parameter it sets and runs
 * the whole-file check: none of it may crash, leak or run unbounded. */
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "config/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void ignore_warning(const char *message)
{
    (void)message;
}

static void expand_one(const char *name, const char *raw, void *arg)
{
    (void)raw;
    (void)arg;
    (void)cfg_str(name);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct buf err = BUF_INIT;
    config_reset();
    config_set_warning_handler(ignore_warning);
    config_set_unused_warnings(1);
    if (config_load_string((const char *)data, size, "/fuzz", "main.cf",
                           &err) == 0) {
        config_foreach_set(expand_one, NULL);
        (void)cfg_str("smtpd_banner");
        (void)cfg_str("mydestination");
        (void)cfg_str("mydomain");
        (void)config_raw("mydomain", NULL);
        buf_reset(&err);
        (void)config_check(&err);
    }
    buf_free(&err);
    config_reset();
    return 0;
}
