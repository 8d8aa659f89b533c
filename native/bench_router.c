/* Throughput of the router core on a deterministic event stream.
 *
 * Usage: bench_router [n_events [runs]]   (defaults 1000000 and 9: the best run counts)
 * Prints one JSON line. For an instruction count (repeatable on a loaded machine):
 *   valgrind --tool=callgrind --toggle-collect=bl_router_run build/bench_router 1000000 1
 * The stream is built exactly as host_tools/bench/router.py builds it (same xorshift64,
 * same draws in the same order), so "stream_hash", "assignments" (the OFFER outputs)
 * and "outputs" must match the Python side; keep the two in step.
 *
 * Stream: 32 queues x 64 agents, ring capacity 64. Events 0..63 configure every
 * agent (cap 1..3, three random primary skill bits), 64..127 make them AVAILABLE;
 * then each event is 40% enqueue of a new conversation (one in 16 a VIP with 30 s
 * of priority), 40% completion of a conversation the router offered earlier, 8%
 * accept of one (enqueue when none is held for either), 8% presence change
 * (OFFLINE/AVAILABLE/BREAK/AVAILABLE), 4% reconfiguration. Time advances 0..19 ms
 * per event. Completions and accepts are drawn from what a scratch router assigned
 * while the stream was built (offers an agent lost by leaving are dropped from that
 * list), so nearly every completion is valid.
 */
#define _POSIX_C_SOURCE 199309L
#include "router.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define N_QUEUES 32
#define N_AGENTS 64
#define QUEUE_CAPACITY 64
/* bl_router_run stops short of an event when fewer than bl_router_max_outputs (7,236
 * here) slots remain: room for a few events' worst case, so each call runs long. */
#define OUT_CAP 32768
#define RUNS 9 /* default */

static uint64_t rng_state;

static uint64_t xorshift64(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static uint32_t below(uint32_t n)
{
    return (uint32_t)((xorshift64() >> 32) % n);
}

static uint32_t skills(void)
{
    uint32_t s = (uint32_t)1 << below(N_QUEUES);
    s |= (uint32_t)1 << below(N_QUEUES);
    s |= (uint32_t)1 << below(N_QUEUES);
    return s;
}

static const uint8_t presence_draw[4] = {BL_OFFLINE, BL_AVAILABLE, BL_BREAK, BL_AVAILABLE};

static void configure_event(bl_event *ev, uint16_t agent)
{
    ev->op = BL_OP_CONFIGURE;
    ev->a = agent;
    ev->b = 1 + below(3);
    ev->c = skills();
    ev->d = 0;
}

static int build_router(bl_router *r, void *mem)
{
    bl_router_cfg cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.n_queues = N_QUEUES;
    cfg.n_agents = N_AGENTS;
    cfg.queue_capacity = QUEUE_CAPACITY;
    return bl_router_init(r, mem, bl_router_mem_size(&cfg), &cfg);
}

/* Fills evs[0..n); returns the number of outputs the stream causes, *offers of them
 * offers. */
static size_t build_stream(bl_event *evs, size_t n, void *mem, size_t *offers)
{
    static bl_output out[OUT_CAP];
    bl_router r;
    bl_output held[N_AGENTS * BL_MAX_HELD]; /* the OFFER outputs not completed yet */
    size_t n_held = 0;
    size_t total = 0;
    uint32_t next_conv = 1;
    int64_t t = 0;
    size_t i;

    rng_state = 0x9E3779B97F4A7C15u;
    *offers = 0;
    if (build_router(&r, mem) != BL_OK) {
        return 0;
    }
    for (i = 0; i < n; i++) {
        bl_event *ev = &evs[i];
        size_t got;
        size_t j;
        uint32_t k;

        t += below(20);
        ev->c = 0;
        ev->d = 0;
        ev->now_ms = t;
        if (i < N_AGENTS) {
            configure_event(ev, (uint16_t)i);
        } else if (i < 2 * N_AGENTS) {
            ev->op = BL_OP_PRESENCE;
            ev->a = (uint16_t)(i - N_AGENTS);
            ev->b = BL_AVAILABLE;
        } else {
            k = below(100);
            if (k >= 40 && k < 88 && n_held > 0) {
                uint32_t j = below((uint32_t)n_held);
                ev->a = held[j].agent;
                ev->b = held[j].conv;
                if (k < 80) {
                    ev->op = BL_OP_COMPLETE;
                    held[j] = held[--n_held];
                } else {
                    ev->op = BL_OP_ACCEPT;
                }
            } else if (k < 88) {
                ev->op = BL_OP_ENQUEUE;
                ev->a = (uint16_t)below(N_QUEUES);
                ev->b = next_conv++;
                ev->c = below(16) == 0 ? 30000u : 0u;
            } else if (k < 96) {
                ev->op = BL_OP_PRESENCE;
                ev->a = (uint16_t)below(N_AGENTS);
                ev->b = presence_draw[below(4)];
            } else {
                configure_event(ev, (uint16_t)below(N_AGENTS));
            }
        }
        bl_router_step(&r, ev, out, OUT_CAP, &got);
        total += got;
        for (j = 0; j < got; j++) {
            /* held has room for every agent slot, the most that can be held. */
            if (out[j].kind == BL_OUT_OFFER) {
                held[n_held++] = out[j];
                ++*offers;
            }
        }
        if (ev->op == BL_OP_PRESENCE && ev->b != BL_AVAILABLE) {
            /* Leaving returned the agent's offers to the queues: forget them. */
            size_t keep = 0;
            for (j = 0; j < n_held; j++) {
                if (bl_router_conv_agent(&r, held[j].conv) == held[j].agent) {
                    held[keep++] = held[j];
                }
            }
            n_held = keep;
        }
    }
    return total;
}

/* FNV-1a over the events' fields taken as 64-bit words. */
static uint64_t stream_hash(const bl_event *evs, size_t n)
{
    uint64_t h = 0xCBF29CE484222325u;
    size_t i;

    for (i = 0; i < n; i++) {
        uint64_t w[5];
        int k;
        w[0] = evs[i].op;
        w[1] = evs[i].a;
        w[2] = evs[i].b;
        w[3] = evs[i].c;
        w[4] = (uint64_t)evs[i].now_ms;
        for (k = 0; k < 5; k++) {
            h = (h ^ w[k]) * 0x100000001B3u;
        }
    }
    return h;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    static bl_output out[OUT_CAP];
    bl_router_cfg cfg;
    size_t n = argc > 1 ? (size_t)strtoul(argv[1], NULL, 10) : 1000000u;
    int runs = argc > 2 ? atoi(argv[2]) : RUNS;
    size_t mem_size;
    void *mem;
    bl_event *evs;
    size_t expected;
    size_t offers;
    double best = 1e30;
    int run;

    memset(&cfg, 0, sizeof(cfg));
    cfg.n_queues = N_QUEUES;
    cfg.n_agents = N_AGENTS;
    cfg.queue_capacity = QUEUE_CAPACITY;
    mem_size = bl_router_mem_size(&cfg);
    mem = malloc(mem_size);
    evs = malloc(n * sizeof(*evs));
    if (mem == NULL || evs == NULL || n == 0 || runs < 1) {
        fprintf(stderr, "bench_router: bad event or run count, or out of memory\n");
        return 1;
    }
    expected = build_stream(evs, n, mem, &offers);
    for (run = 0; run < runs; run++) {
        bl_router r;
        size_t done = 0;
        size_t total = 0;
        double t0 = now_s();
        double dt;

        build_router(&r, mem);
        while (done < n) {
            size_t got;
            done += bl_router_run(&r, evs + done, n - done, out, OUT_CAP, &got, NULL);
            total += got;
        }
        dt = now_s() - t0;
        if (total != expected) {
            fprintf(stderr, "bench_router: replay gave %lu outputs, build gave %lu\n",
                    (unsigned long)total, (unsigned long)expected);
            return 1;
        }
        if (dt < best) {
            best = dt;
        }
    }
    printf("{\"c_core_events_per_s\": %.0f, \"state_bytes\": %lu, \"events\": %lu, "
           "\"assignments\": %lu, \"outputs\": %lu, \"runs\": %d, \"stream_hash\": \"%016llx\"}\n",
           (double)n / best, (unsigned long)(sizeof(bl_router) + mem_size), (unsigned long)n,
           (unsigned long)offers, (unsigned long)expected, runs, (unsigned long long)stream_hash(evs, n));
    free(evs);
    free(mem);
    return 0;
}
