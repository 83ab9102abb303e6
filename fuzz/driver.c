/* driver.c: runs a libFuzzer-style target without libFuzzer.
 *
 * `make check` builds each fuzz/fuzz_NAME.c with AddressSanitizer and
 * UndefinedBehaviorSanitizer and this driver. It replays every file in
 * the corpus directory given as argv[1], then feeds a bounded number of
 * deterministic mutations of them (argv[2], default 2000), so a crash or
 * a sanitizer report fails the test. Real coverage-guided fuzzing uses
 * `make fuzz-libfuzzer` with clang. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX_INPUT (256 * 1024)
#define MAX_SEEDS 512

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t next_random(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static size_t read_file(const char *path, uint8_t *out)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return 0;
    size_t len = fread(out, 1, FUZZ_MAX_INPUT, fp);
    fclose(fp);
    return len;
}

static void run_copy(const uint8_t *data, size_t len)
{
    /* A fresh heap copy lets ASan catch reads past the end. */
    uint8_t *copy = malloc(len ? len : 1);
    memcpy(copy, data, len);
    LLVMFuzzerTestOneInput(copy, len);
    free(copy);
}

static size_t mutate(uint8_t *buf, size_t len)
{
    int ops = 1 + (int)(next_random() % 8);
    static const char interesting[] = "\r\n\0 :=,{}[]<>@\"\\%$#.\t-/";
    for (int i = 0; i < ops; i++) {
        uint64_t r = next_random();
        size_t pos = len ? r % len : 0;
        switch ((r >> 32) % 5) {
        case 0: /* flip a byte */
            if (len)
                buf[pos] ^= (uint8_t)(1u << ((r >> 40) % 8));
            break;
        case 1: /* insert an interesting byte */
            if (len < FUZZ_MAX_INPUT) {
                memmove(buf + pos + 1, buf + pos, len - pos);
                buf[pos] = (uint8_t)interesting[(r >> 40) %
                                               (sizeof(interesting) - 1)];
                len++;
            }
            break;
        case 2: /* delete a byte range */
            if (len) {
                size_t count = 1 + (r >> 40) % 16;
                if (count > len - pos)
                    count = len - pos;
                memmove(buf + pos, buf + pos + count, len - pos - count);
                len -= count;
            }
            break;
        case 3: /* duplicate a chunk */
            if (len) {
                size_t count = 1 + (r >> 40) % 64;
                if (count > len - pos)
                    count = len - pos;
                if (len + count <= FUZZ_MAX_INPUT) {
                    memmove(buf + pos + count, buf + pos, len - pos);
                    len += count;
                }
            }
            break;
        default: /* truncate */
            len = pos;
            break;
        }
    }
    return len;
}

int main(int argc, char **argv)
{
    static uint8_t seeds[MAX_SEEDS][1024];
    static size_t seed_len[MAX_SEEDS];
    static uint8_t input[FUZZ_MAX_INPUT];
    int seed_count = 0;
    long iterations = argc > 2 ? atol(argv[2]) : 2000;

    if (argc > 1) {
        DIR *dir = opendir(argv[1]);
        struct dirent *ent;
        while (dir && (ent = readdir(dir)) != NULL) {
            if (ent->d_name[0] == '.')
                continue;
            char path[4096];
            snprintf(path, sizeof(path), "%s/%s", argv[1], ent->d_name);
            size_t len = read_file(path, input);
            run_copy(input, len);
            if (seed_count < MAX_SEEDS) {
                if (len > sizeof(seeds[0]))
                    len = sizeof(seeds[0]);
                memcpy(seeds[seed_count], input, len);
                seed_len[seed_count++] = len;
            }
        }
        if (dir)
            closedir(dir);
    }
    run_copy((const uint8_t *)"", 0);
    for (long i = 0; i < iterations; i++) {
        size_t len = 0;
        if (seed_count) {
            int s = (int)(next_random() % (uint64_t)seed_count);
            len = seed_len[s];
            memcpy(input, seeds[s], len);
        }
        len = mutate(input, len);
        run_copy(input, len);
    }
    printf("%d seeds, %ld mutations: no crash\n", seed_count, iterations);
    return 0;
}
