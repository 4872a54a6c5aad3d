/*
 * Times spandsp's DTMF receiver on a file of 8 kHz signed 16-bit little-endian samples, for
 * `npm run bench:dsp`, which builds this at run time against Debian's libspandsp-dev.
 * Written against the public API in <spandsp/dtmf.h>: dtmf_rx_init, dtmf_rx, dtmf_rx_get.
 *
 * usage: spandsp-dtmf-bench FILE RUNS
 * Each run feeds the whole file through a fresh receiver in 160-sample (20 ms) frames, draining
 * the digit buffer after every frame as a real caller would, and takes the CPU time of that run.
 * Prints one JSON line: {"samples":N,"digits":"...","seconds":[per-run CPU seconds]}.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <spandsp.h>

#define FRAME 160
#define MAX_DIGITS 4096

static double cpu_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static int16_t *read_samples(const char *path, long *count)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    fseek(f, 0, SEEK_END);
    long bytes = ftell(f);
    fseek(f, 0, SEEK_SET);
    int16_t *samples = malloc((size_t) bytes);
    if (samples == NULL || fread(samples, 1, (size_t) bytes, f) != (size_t) bytes) {
        fclose(f);
        free(samples);
        return NULL;
    }
    fclose(f);
    *count = bytes / 2;
    return samples;
}

/* One pass over the file; returns its CPU seconds and leaves the decoded digits in `digits`. */
static double run(const int16_t *samples, long count, char *digits)
{
    char got[64];
    size_t total = 0;
    double start = cpu_seconds();
    dtmf_rx_state_t *rx = dtmf_rx_init(NULL, NULL, NULL);
    for (long at = 0; at < count; at += FRAME) {
        int n = count - at < FRAME ? (int) (count - at) : FRAME;
        dtmf_rx(rx, samples + at, n);
        size_t len = dtmf_rx_get(rx, got, (int) sizeof(got) - 1);
        if (len > 0 && total + len < MAX_DIGITS) {
            memcpy(digits + total, got, len);
            total += len;
        }
    }
    dtmf_rx_free(rx);
    double elapsed = cpu_seconds() - start;
    digits[total] = '\0';
    return elapsed;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s FILE RUNS\n", argv[0]);
        return 2;
    }
    long count = 0;
    int16_t *samples = read_samples(argv[1], &count);
    int runs = atoi(argv[2]);
    if (samples == NULL || runs < 1) {
        fprintf(stderr, "cannot read %s or bad RUNS\n", argv[1]);
        return 2;
    }
    static char digits[MAX_DIGITS + 1];
    printf("{\"samples\":%ld,\"seconds\":[", count);
    for (int i = 0; i < runs; i++)
        printf("%s%.9f", i ? "," : "", run(samples, count, digits));
    printf("],\"digits\":\"%s\"}\n", digits);
    free(samples);
    return 0;
}
