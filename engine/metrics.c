/* Prometheus counters and histograms of the write side. */
#include "engine/engine_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Latency bucket bounds in seconds, and batch-size bounds. */
static const double lat_bounds[ENG_METRIC_BUCKETS] = {0.0005, 0.001, 0.002, 0.005, 0.01, 0.02,
                                                      0.05,   0.1,   0.25,  0.5,   1,    5};
static const double batch_bounds[ENG_METRIC_BUCKETS] = {1,  2,   4,   8,   16,   32,
                                                        64, 128, 256, 512, 1024, 4096};
static const char *outcomes[4] = {"ok", "rejected", "error", "repeated"};

static int bucket(const double *bounds, double v)
{
    int i = 0;
    while (i < ENG_METRIC_BUCKETS && v > bounds[i])
        i++;
    return i;
}

void eng_metrics_command(eng_t *e, eng_cmd_type_t t, const char *outcome, double seconds)
{
    if (t >= ENG_CMD_COUNT)
        return;
    int o = 2;
    for (int i = 0; i < 4; i++)
        if (strcmp(outcomes[i], outcome) == 0)
            o = i;
    atomic_fetch_add(&e->metrics.count[t][o], 1);
    atomic_fetch_add(&e->metrics.latency[t][bucket(lat_bounds, seconds)], 1);
    atomic_fetch_add(&e->metrics.latency_sum_us[t], (uint64_t)(seconds * 1e6));
}

void eng__metrics_batch(eng_t *e, uint32_t n)
{
    atomic_fetch_add(&e->metrics.batch[bucket(batch_bounds, n)], 1);
    atomic_fetch_add(&e->metrics.batch_sum, n);
}

static void line(ts_buf_t *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void line(ts_buf_t *out, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (n > 0)
        ts_buf_append(out, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

void eng_metrics_render(eng_t *e, ts_buf_t *out)
{
    eng_metrics_t *m = &e->metrics;
    line(out, "# HELP turnstile_commands_total Commands answered, by type and outcome.\n"
              "# TYPE turnstile_commands_total counter\n");
    for (int t = 0; t < ENG_CMD_COUNT; t++)
        for (int o = 0; o < 4; o++)
            if (m->count[t][o])
                line(out, "turnstile_commands_total{type=\"%s\",outcome=\"%s\"} %llu\n",
                     eng_cmd_name(t), outcomes[o], (unsigned long long)m->count[t][o]);
    line(out, "# HELP turnstile_command_seconds Command latency (decide + commit).\n"
              "# TYPE turnstile_command_seconds histogram\n");
    for (int t = 0; t < ENG_CMD_COUNT; t++) {
        uint64_t cum = 0;
        for (int b = 0; b <= ENG_METRIC_BUCKETS; b++)
            cum += m->latency[t][b];
        if (!cum)
            continue;
        uint64_t c = 0;
        for (int b = 0; b < ENG_METRIC_BUCKETS; b++) {
            c += m->latency[t][b];
            line(out, "turnstile_command_seconds_bucket{type=\"%s\",le=\"%g\"} %llu\n",
                 eng_cmd_name(t), lat_bounds[b], (unsigned long long)c);
        }
        line(out, "turnstile_command_seconds_bucket{type=\"%s\",le=\"+Inf\"} %llu\n",
             eng_cmd_name(t), (unsigned long long)cum);
        line(out, "turnstile_command_seconds_sum{type=\"%s\"} %.6f\n", eng_cmd_name(t),
             (double)m->latency_sum_us[t] / 1e6);
        line(out, "turnstile_command_seconds_count{type=\"%s\"} %llu\n", eng_cmd_name(t),
             (unsigned long long)cum);
    }
    line(out, "# HELP turnstile_commit_batch_size Commands per commit (group commit).\n"
              "# TYPE turnstile_commit_batch_size histogram\n");
    uint64_t c = 0, total = 0;
    for (int b = 0; b <= ENG_METRIC_BUCKETS; b++)
        total += m->batch[b];
    for (int b = 0; b < ENG_METRIC_BUCKETS; b++) {
        c += m->batch[b];
        line(out, "turnstile_commit_batch_size_bucket{le=\"%g\"} %llu\n", batch_bounds[b],
             (unsigned long long)c);
    }
    line(out, "turnstile_commit_batch_size_bucket{le=\"+Inf\"} %llu\n", (unsigned long long)total);
    line(out, "turnstile_commit_batch_size_sum %llu\n", (unsigned long long)m->batch_sum);
    line(out, "turnstile_commit_batch_size_count %llu\n", (unsigned long long)total);
    line(out, "# TYPE turnstile_commits_total counter\nturnstile_commits_total %llu\n",
         (unsigned long long)m->commits);
    line(out,
         "# HELP turnstile_commit_conflicts_total Appends refused for a wrong expected "
         "sequence.\n# TYPE turnstile_commit_conflicts_total counter\n"
         "turnstile_commit_conflicts_total %llu\n",
         (unsigned long long)m->conflicts);
}
