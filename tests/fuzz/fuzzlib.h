/*
 * fuzzlib.h: what the fuzz harnesses share. Each harness is one
 * LLVMFuzzerTestOneInput(); built with clang it links libFuzzer, built with
 * any compiler it links replay.c, which runs it once on every file it is
 * given (the seed corpus and tests/fuzz/regressions/<harness>/).
 */
#ifndef PACER_FUZZLIB_H
#define PACER_FUZZLIB_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * Split data at the first occurrence of sep (NUL-free, non-empty): a and
 * alen are what comes before, b and blen what comes after. Without sep, a is all
 * of data and b empty. Returns 1 when sep was found, 0 otherwise.
 */
int fuzz_split(const uint8_t *data, size_t size, const char *sep, const char **a, size_t *alen,
               const char **b, size_t *blen);

/* A NUL-terminated copy of len bytes (embedded NULs kept); aborts when out of memory. */
char *fuzz_strndup(const void *data, size_t len);

/*
 * A private directory for the process (under $TMPDIR or /tmp), created at
 * the first call and removed with its files at exit. Static string.
 */
const char *fuzz_tmpdir(void);

/* Write len bytes to dir/name (created or truncated); aborts on failure. */
void fuzz_write_file(const char *dir, const char *name, const void *data, size_t len);

#endif
