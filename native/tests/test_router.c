/* Self-contained tests for the router core: no framework, one line per failure,
 * a final "N passed, M failed" line, exit status 1 on any failure. */
#include "router.h"

#include <stdio.h>
#include <string.h>

static int passed;
static int failed;

#define CHECK(cond)                                                                  \
    do {                                                                             \
        if (cond) {                                                                  \
            passed++;                                                                \
        } else {                                                                     \
            failed++;                                                                \
            printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);                   \
        }                                                                            \
    } while (0)

#define CHECK_EQ(got, want) CHECK((long long)(got) == (long long)(want))

/* Generous buffer for every configuration used here (asserted in setup). */
static unsigned char mem[64 * 1024];

static void setup(bl_router *r, uint16_t nq, uint16_t na, uint16_t qcap)
{
    bl_router_cfg cfg;
    cfg.n_queues = nq;
    cfg.n_agents = na;
    cfg.queue_capacity = qcap;
    CHECK(bl_router_mem_size(&cfg) <= sizeof(mem));
    CHECK_EQ(bl_router_init(r, mem, sizeof(mem), &cfg), BL_OK);
}

static void expect_assign(bl_router *r, int64_t now, uint32_t conv, uint16_t agent)
{
    uint32_t c = 0;
    uint16_t a = 0;
    CHECK_EQ(bl_router_next_assignment(r, now, &c, &a), BL_OK);
    CHECK_EQ(c, conv);
    CHECK_EQ(a, agent);
}

static void expect_empty(bl_router *r, int64_t now)
{
    uint32_t c = 777;
    uint16_t a = 77;
    CHECK_EQ(bl_router_next_assignment(r, now, &c, &a), BL_EEMPTY);
    CHECK_EQ(c, 777);
    CHECK_EQ(a, 77);
}

static void test_mem_size_and_init(void)
{
    bl_router r;
    bl_router before;
    bl_router_cfg cfg = {4, 8, 16};
    bl_router_cfg bad;
    size_t need = bl_router_mem_size(&cfg);

    CHECK(need >= 4u * 16u * sizeof(bl_slot));
    CHECK_EQ(bl_router_mem_size(NULL), 0);
    bad = cfg;
    bad.n_queues = 0;
    CHECK_EQ(bl_router_mem_size(&bad), 0);
    bad.n_queues = BL_MAX_QUEUES + 1;
    CHECK_EQ(bl_router_mem_size(&bad), 0);
    bad = cfg;
    bad.n_agents = 0;
    CHECK_EQ(bl_router_mem_size(&bad), 0);
    bad.n_agents = BL_MAX_AGENTS + 1;
    CHECK_EQ(bl_router_mem_size(&bad), 0);
    bad = cfg;
    bad.queue_capacity = 0;
    CHECK_EQ(bl_router_mem_size(&bad), 0);

    memset(&r, 0xA5, sizeof(r));
    before = r;
    CHECK_EQ(bl_router_init(NULL, mem, sizeof(mem), &cfg), BL_EINVAL);
    CHECK_EQ(bl_router_init(&r, NULL, sizeof(mem), &cfg), BL_EINVAL);
    CHECK_EQ(bl_router_init(&r, mem, sizeof(mem), NULL), BL_EINVAL);
    CHECK_EQ(bl_router_init(&r, mem, need - 1, &cfg), BL_EINVAL);
    CHECK_EQ(bl_router_init(&r, mem, sizeof(mem), &bad), BL_EINVAL);
    CHECK(memcmp(&r, &before, sizeof(r)) == 0);

    /* Misaligned buffers work: the router aligns inside the slack. */
    CHECK_EQ(bl_router_init(&r, mem + 3, need, &cfg), BL_OK);
    CHECK_EQ(bl_router_enqueue(&r, 3, 42, 1), BL_OK);
    CHECK_EQ(bl_router_queue_length(&r, 3), 1);

    /* Extremes of the configuration range. */
    cfg.n_queues = BL_MAX_QUEUES;
    cfg.n_agents = BL_MAX_AGENTS;
    cfg.queue_capacity = 1;
    CHECK_EQ(bl_router_init(&r, mem, sizeof(mem), &cfg), BL_OK);
    CHECK_EQ(bl_router_agent_presence(&r, 63), BL_OFFLINE);
    CHECK_EQ(bl_router_agent_load(&r, 63), 0);
    CHECK_EQ(bl_router_queue_length(&r, 31), 0);
}

static void test_queries_reject_out_of_range(void)
{
    bl_router r;
    setup(&r, 2, 3, 4);
    CHECK_EQ(bl_router_queue_length(&r, 2), BL_EINVAL);
    CHECK_EQ(bl_router_queue_length(NULL, 0), BL_EINVAL);
    CHECK_EQ(bl_router_agent_load(&r, 3), BL_EINVAL);
    CHECK_EQ(bl_router_agent_load(NULL, 0), BL_EINVAL);
    CHECK_EQ(bl_router_agent_presence(&r, 3), BL_EINVAL);
    CHECK_EQ(bl_router_agent_presence(NULL, 0), BL_EINVAL);
}

static void test_configure_and_presence_errors_leave_state(void)
{
    bl_router r;
    bl_router before;
    setup(&r, 3, 2, 4);
    before = r;
    CHECK_EQ(bl_router_configure_agent(NULL, 0, 1, 1), BL_EINVAL);
    CHECK_EQ(bl_router_configure_agent(&r, 2, 1, 1), BL_EINVAL);
    CHECK_EQ(bl_router_configure_agent(&r, 0, 0, 1), BL_EINVAL);
    CHECK_EQ(bl_router_configure_agent(&r, 0, 4, 1), BL_EINVAL);
    CHECK_EQ(bl_router_configure_agent(&r, 0, 1, 1u << 3), BL_EINVAL); /* queue 3 absent */
    CHECK_EQ(bl_router_set_presence(NULL, 0, BL_AVAILABLE, 0), BL_EINVAL);
    CHECK_EQ(bl_router_set_presence(&r, 2, BL_AVAILABLE, 0), BL_EINVAL);
    CHECK_EQ(bl_router_set_presence(&r, 0, 3, 0), BL_EINVAL);
    CHECK(memcmp(&r, &before, sizeof(r)) == 0);

    CHECK_EQ(bl_router_configure_agent(&r, 1, 3, 7), BL_OK);
    CHECK_EQ(bl_router_set_presence(&r, 1, BL_BREAK, 5), BL_OK);
    CHECK_EQ(bl_router_agent_presence(&r, 1), BL_BREAK);
    CHECK_EQ(bl_router_set_presence(&r, 1, BL_AVAILABLE, 6), BL_OK);
    CHECK_EQ(bl_router_agent_presence(&r, 1), BL_AVAILABLE);
    CHECK_EQ(bl_router_set_presence(&r, 1, BL_OFFLINE, 7), BL_OK);
    CHECK_EQ(bl_router_agent_presence(&r, 1), BL_OFFLINE);
}

static void test_all_32_skill_bits(void)
{
    bl_router r;
    setup(&r, 32, 1, 1);
    CHECK_EQ(bl_router_configure_agent(&r, 0, 1, 0xFFFFFFFFu), BL_OK);
    CHECK_EQ(bl_router_set_presence(&r, 0, BL_AVAILABLE, 0), BL_OK);
    CHECK_EQ(bl_router_enqueue(&r, 31, 5, 1), BL_OK);
    expect_assign(&r, 2, 5, 0);
}

static void test_ring_wraps_and_never_overwrites(void)
{
    bl_router r;
    bl_router before;
    uint32_t i;
    setup(&r, 2, 1, 3);
    CHECK_EQ(bl_router_enqueue(NULL, 0, 1, 0), BL_EINVAL);
    CHECK_EQ(bl_router_enqueue(&r, 2, 1, 0), BL_EINVAL);
    CHECK_EQ(bl_router_configure_agent(&r, 0, 1, 1), BL_OK);
    CHECK_EQ(bl_router_set_presence(&r, 0, BL_AVAILABLE, 0), BL_OK);
    /* Agent is busy after the first assignment, so the rest stay queued. */
    for (i = 0; i < 3; i++) {
        CHECK_EQ(bl_router_enqueue(&r, 0, 100 + i, i), BL_OK);
    }
    before = r;
    CHECK_EQ(bl_router_enqueue(&r, 0, 999, 9), BL_EFULL);
    CHECK(memcmp(&r, &before, sizeof(r)) == 0);
    CHECK_EQ(bl_router_queue_length(&r, 0), 3);
    CHECK_EQ(bl_router_queue_length(&r, 1), 0);

    /* Cycle many times through the 3-slot ring: FIFO order must survive the wrap. */
    for (i = 0; i < 20; i++) {
        expect_assign(&r, 10 + i, 100 + i, 0);
        expect_empty(&r, 10 + i);
        CHECK_EQ(bl_router_enqueue(&r, 0, 103 + i, 10 + i), BL_OK);
        CHECK_EQ(bl_router_enqueue(&r, 0, 1, 10 + i), BL_EFULL);
        CHECK_EQ(bl_router_complete(&r, 0, 100 + i, 10 + i), BL_OK);
    }
    CHECK_EQ(bl_router_queue_length(&r, 0), 3);
}

static void test_cap_never_exceeded(void)
{
    bl_router r;
    uint32_t c;
    uint16_t a;
    int n = 0;
    setup(&r, 1, 2, 16);
    CHECK_EQ(bl_router_configure_agent(&r, 0, 2, 1), BL_OK);
    CHECK_EQ(bl_router_configure_agent(&r, 1, 3, 1), BL_OK);
    CHECK_EQ(bl_router_set_presence(&r, 0, BL_AVAILABLE, 0), BL_OK);
    CHECK_EQ(bl_router_set_presence(&r, 1, BL_AVAILABLE, 0), BL_OK);
    for (c = 0; c < 10; c++) {
        CHECK_EQ(bl_router_enqueue(&r, 0, c, 1), BL_OK);
    }
    while (bl_router_next_assignment(&r, 2, &c, &a) == BL_OK) {
        n++;
    }
    CHECK_EQ(n, 5);
    CHECK_EQ(bl_router_agent_load(&r, 0), 2);
    CHECK_EQ(bl_router_agent_load(&r, 1), 3);
    CHECK_EQ(bl_router_queue_length(&r, 0), 5);

    /* Lowering the cap keeps held conversations but blocks new ones until under it. */
    CHECK_EQ(bl_router_configure_agent(&r, 1, 1, 1), BL_OK);
    CHECK_EQ(bl_router_complete(&r, 1, 1, 3), BL_OK);
    CHECK_EQ(bl_router_agent_load(&r, 1), 2);
    expect_empty(&r, 3);
    CHECK_EQ(bl_router_complete(&r, 1, 3, 4), BL_OK);
    CHECK_EQ(bl_router_complete(&r, 1, 4, 4), BL_OK);
    expect_assign(&r, 5, 5, 1);
    expect_empty(&r, 5);
}

static void test_complete_errors(void)
{
    bl_router r;
    bl_router before;
    setup(&r, 1, 2, 4);
    CHECK_EQ(bl_router_configure_agent(&r, 0, 3, 1), BL_OK);
    CHECK_EQ(bl_router_set_presence(&r, 0, BL_AVAILABLE, 0), BL_OK);
    CHECK_EQ(bl_router_enqueue(&r, 0, 7, 0), BL_OK);
    CHECK_EQ(bl_router_enqueue(&r, 0, 8, 0), BL_OK);
    CHECK_EQ(bl_router_enqueue(&r, 0, 9, 0), BL_OK);
    expect_assign(&r, 1, 7, 0);
    expect_assign(&r, 1, 8, 0);
    expect_assign(&r, 1, 9, 0);
    before = r;
    CHECK_EQ(bl_router_complete(NULL, 0, 7, 2), BL_EINVAL);
    CHECK_EQ(bl_router_complete(&r, 2, 7, 2), BL_EINVAL);
    CHECK_EQ(bl_router_complete(&r, 1, 7, 2), BL_ENOENT);
    CHECK_EQ(bl_router_complete(&r, 0, 6, 2), BL_ENOENT);
    CHECK(memcmp(&r, &before, sizeof(r)) == 0);
    /* Middle removal keeps the others; completing twice is ENOENT. */
    CHECK_EQ(bl_router_complete(&r, 0, 8, 2), BL_OK);
    CHECK_EQ(bl_router_complete(&r, 0, 8, 2), BL_ENOENT);
    CHECK_EQ(bl_router_agent_load(&r, 0), 2);
    /* Completion works whatever the presence. */
    CHECK_EQ(bl_router_set_presence(&r, 0, BL_OFFLINE, 3), BL_OK);
    CHECK_EQ(bl_router_complete(&r, 0, 9, 4), BL_OK);
    CHECK_EQ(bl_router_complete(&r, 0, 7, 4), BL_OK);
    CHECK_EQ(bl_router_agent_load(&r, 0), 0);
}

static void test_next_assignment_errors_and_eligibility(void)
{
    bl_router r;
    uint32_t c;
    uint16_t a;
    setup(&r, 2, 1, 4);
    CHECK_EQ(bl_router_next_assignment(NULL, 0, &c, &a), BL_EINVAL);
    CHECK_EQ(bl_router_next_assignment(&r, 0, NULL, &a), BL_EINVAL);
    CHECK_EQ(bl_router_next_assignment(&r, 0, &c, NULL), BL_EINVAL);
    expect_empty(&r, 0);
    CHECK_EQ(bl_router_enqueue(&r, 1, 50, 0), BL_OK);
    expect_empty(&r, 0); /* agent offline, no skills */
    CHECK_EQ(bl_router_set_presence(&r, 0, BL_AVAILABLE, 0), BL_OK);
    expect_empty(&r, 0); /* no skill for queue 1 */
    CHECK_EQ(bl_router_configure_agent(&r, 0, 1, 1), BL_OK);
    expect_empty(&r, 0); /* skill for queue 0 only */
    CHECK_EQ(bl_router_configure_agent(&r, 0, 1, 2), BL_OK);
    CHECK_EQ(bl_router_set_presence(&r, 0, BL_BREAK, 1), BL_OK);
    expect_empty(&r, 1); /* on break */
    CHECK_EQ(bl_router_set_presence(&r, 0, BL_AVAILABLE, 2), BL_OK);
    expect_assign(&r, 3, 50, 0);
    CHECK_EQ(bl_router_queue_length(&r, 1), 0);
}

static void test_oldest_assignable_head_wins(void)
{
    bl_router r;
    setup(&r, 3, 2, 4);
    CHECK_EQ(bl_router_enqueue(&r, 2, 1, 0), BL_OK); /* oldest, but nobody serves queue 2 */
    CHECK_EQ(bl_router_enqueue(&r, 1, 2, 1), BL_OK);
    CHECK_EQ(bl_router_enqueue(&r, 0, 3, 2), BL_OK);
    CHECK_EQ(bl_router_enqueue(&r, 1, 4, 3), BL_OK);
    CHECK_EQ(bl_router_configure_agent(&r, 0, 3, 3), BL_OK);
    CHECK_EQ(bl_router_set_presence(&r, 0, BL_AVAILABLE, 0), BL_OK);
    expect_assign(&r, 5, 2, 0);
    expect_assign(&r, 5, 3, 0);
    expect_assign(&r, 5, 4, 0);
    expect_empty(&r, 5);
    CHECK_EQ(bl_router_queue_length(&r, 2), 1);
}

static void test_seq_order_survives_wrap(void)
{
    bl_router r;
    setup(&r, 2, 1, 4);
    /* Jump the counter near 2^32 so the two enqueues straddle the wrap. */
    r.next_seq = 0xFFFFFFFFu;
    CHECK_EQ(bl_router_enqueue(&r, 1, 10, 0), BL_OK); /* seq 0xFFFFFFFF */
    CHECK_EQ(bl_router_enqueue(&r, 0, 11, 0), BL_OK); /* seq 0 */
    CHECK_EQ(bl_router_configure_agent(&r, 0, 2, 3), BL_OK);
    CHECK_EQ(bl_router_set_presence(&r, 0, BL_AVAILABLE, 0), BL_OK);
    expect_assign(&r, 1, 10, 0);
    expect_assign(&r, 1, 11, 0);
}

static void test_agent_tie_breaks(void)
{
    bl_router r;
    uint16_t a;
    setup(&r, 1, 4, 16);
    for (a = 0; a < 4; a++) {
        CHECK_EQ(bl_router_configure_agent(&r, a, 2, 1), BL_OK);
    }
    /* Agents 1..3 become available at t=10, agent 0 at t=20. */
    CHECK_EQ(bl_router_set_presence(&r, 3, BL_AVAILABLE, 10), BL_OK);
    CHECK_EQ(bl_router_set_presence(&r, 1, BL_AVAILABLE, 10), BL_OK);
    CHECK_EQ(bl_router_set_presence(&r, 2, BL_AVAILABLE, 10), BL_OK);
    CHECK_EQ(bl_router_set_presence(&r, 0, BL_AVAILABLE, 20), BL_OK);
    /* Re-setting AVAILABLE must not reset idle time. */
    CHECK_EQ(bl_router_set_presence(&r, 1, BL_AVAILABLE, 99), BL_OK);
    CHECK_EQ(bl_router_enqueue(&r, 0, 1, 30), BL_OK);
    expect_assign(&r, 30, 1, 1); /* idle tie at 10: lowest index of 1,2,3 */
    CHECK_EQ(bl_router_enqueue(&r, 0, 2, 31), BL_OK);
    expect_assign(&r, 31, 2, 2);
    CHECK_EQ(bl_router_enqueue(&r, 0, 3, 32), BL_OK);
    expect_assign(&r, 32, 3, 3);
    CHECK_EQ(bl_router_enqueue(&r, 0, 4, 33), BL_OK);
    expect_assign(&r, 33, 4, 0); /* only agent with 0 active, though least idle */
    /* All have 1 active now; longest idle is agent 1 (changed at 30). */
    CHECK_EQ(bl_router_enqueue(&r, 0, 5, 34), BL_OK);
    expect_assign(&r, 34, 5, 1);
    /* Completion resets idle time: agent 2 completes at 35, so 3 (32) is older than 2. */
    CHECK_EQ(bl_router_complete(&r, 2, 2, 35), BL_OK);
    CHECK_EQ(bl_router_enqueue(&r, 0, 6, 36), BL_OK);
    expect_assign(&r, 36, 6, 2); /* fewest active beats idle time */
    CHECK_EQ(bl_router_enqueue(&r, 0, 7, 37), BL_OK);
    expect_assign(&r, 37, 7, 3); /* 2,3,0 at load 1: 3 changed at 32, 0 at 33, 2 at 36 */
}

static void test_apply_step_run(void)
{
    bl_router r;
    bl_event ev;
    bl_assignment out[8];
    size_t n = 99;
    int32_t rcs[8];
    bl_event evs[6];

    setup(&r, 2, 2, 4);
    memset(&ev, 0, sizeof(ev));
    CHECK_EQ(bl_router_apply(NULL, &ev), BL_EINVAL);
    CHECK_EQ(bl_router_apply(&r, NULL), BL_EINVAL);
    ev.op = 0;
    CHECK_EQ(bl_router_apply(&r, &ev), BL_EINVAL);
    ev.op = 5;
    CHECK_EQ(bl_router_apply(&r, &ev), BL_EINVAL);
    ev.op = BL_OP_CONFIGURE;
    ev.b = 256 + 1; /* would truncate to a valid cap of 1 */
    ev.c = 1;
    CHECK_EQ(bl_router_apply(&r, &ev), BL_EINVAL);
    ev.op = BL_OP_PRESENCE;
    ev.b = 256 + BL_AVAILABLE;
    CHECK_EQ(bl_router_apply(&r, &ev), BL_EINVAL);
    CHECK_EQ(bl_router_agent_presence(&r, 0), BL_OFFLINE);

    CHECK_EQ(bl_router_step(NULL, &ev, out, 8, &n), BL_EINVAL);
    CHECK_EQ(bl_router_step(&r, NULL, out, 8, &n), BL_EINVAL);
    CHECK_EQ(bl_router_step(&r, &ev, out, 8, NULL), BL_EINVAL);
    CHECK_EQ(bl_router_step(&r, &ev, NULL, 8, &n), BL_EINVAL);

    ev.op = BL_OP_CONFIGURE;
    ev.a = 0;
    ev.b = 3;
    ev.c = 3;
    CHECK_EQ(bl_router_step(&r, &ev, out, 8, &n), BL_OK);
    CHECK_EQ(n, 0);
    ev.op = BL_OP_ENQUEUE;
    for (ev.b = 10; ev.b < 14; ev.b++) {
        ev.a = (uint16_t)(ev.b & 1);
        CHECK_EQ(bl_router_step(&r, &ev, NULL, 0, &n), BL_OK);
    }
    /* Becoming available releases 3 (cap) assignments; out of room for 2 -> 2, one pending. */
    ev.op = BL_OP_PRESENCE;
    ev.a = 0;
    ev.b = BL_AVAILABLE;
    ev.now_ms = 100;
    CHECK_EQ(bl_router_step(&r, &ev, out, 2, &n), BL_OK);
    CHECK_EQ(n, 2);
    CHECK_EQ(out[0].conv, 10);
    CHECK_EQ(out[1].conv, 11);
    /* A failing event still drains what was pending. */
    ev.op = BL_OP_COMPLETE;
    ev.b = 555;
    CHECK_EQ(bl_router_step(&r, &ev, out, 8, &n), BL_ENOENT);
    CHECK_EQ(n, 1);
    CHECK_EQ(out[0].conv, 12);
    CHECK_EQ(out[0].agent, 0);

    /* run: errors consume nothing. */
    n = 5;
    CHECK_EQ(bl_router_run(NULL, evs, 1, out, 8, &n, rcs), 0);
    CHECK_EQ(n, 0);
    CHECK_EQ(bl_router_run(&r, NULL, 1, out, 8, &n, rcs), 0);
    CHECK_EQ(bl_router_run(&r, evs, 1, NULL, 8, &n, rcs), 0);
    CHECK_EQ(bl_router_run(&r, evs, 1, out, 8, NULL, rcs), 0);
    CHECK_EQ(bl_router_run(&r, evs, 0, out, 8, &n, rcs), 0);

    memset(evs, 0, sizeof(evs));
    evs[0].op = BL_OP_COMPLETE; evs[0].a = 0; evs[0].b = 10; evs[0].now_ms = 200;
    evs[1].op = BL_OP_COMPLETE; evs[1].a = 0; evs[1].b = 10; evs[1].now_ms = 201;
    evs[2].op = BL_OP_COMPLETE; evs[2].a = 0; evs[2].b = 11; evs[2].now_ms = 202;
    evs[3].op = BL_OP_ENQUEUE; evs[3].a = 9; evs[3].b = 1; evs[3].now_ms = 203;
    evs[4].op = BL_OP_COMPLETE; evs[4].a = 0; evs[4].b = 12; evs[4].now_ms = 204;
    evs[5].op = BL_OP_ENQUEUE; evs[5].a = 1; evs[5].b = 20; evs[5].now_ms = 205;
    /* Room for 3: event 0 assigns one, leaving 2 < BL_MAX_ASSIGN_PER_EVENT -> stop. */
    CHECK_EQ(bl_router_run(&r, evs, 6, out, 3, &n, rcs), 1);
    CHECK_EQ(n, 1);
    CHECK_EQ(out[0].conv, 13);
    CHECK_EQ(rcs[0], BL_OK);
    CHECK_EQ(bl_router_run(&r, evs + 1, 5, out, 8, &n, rcs), 5);
    CHECK_EQ(rcs[0], BL_ENOENT);
    CHECK_EQ(rcs[1], BL_OK);
    CHECK_EQ(rcs[2], BL_EINVAL);
    CHECK_EQ(rcs[3], BL_OK);
    CHECK_EQ(rcs[4], BL_OK);
    CHECK_EQ(n, 1);
    CHECK_EQ(out[0].conv, 20);
    CHECK_EQ(bl_router_agent_load(&r, 0), 2);
    /* rcs may be NULL. */
    CHECK_EQ(bl_router_run(&r, evs + 1, 1, out, 8, &n, NULL), 1);
    CHECK_EQ(n, 0);
    /* Less room than one event may need: nothing consumed. */
    CHECK_EQ(bl_router_run(&r, evs, 6, out, BL_MAX_ASSIGN_PER_EVENT - 1, &n, rcs), 0);
    CHECK_EQ(n, 0);
}

int main(void)
{
    test_mem_size_and_init();
    test_queries_reject_out_of_range();
    test_configure_and_presence_errors_leave_state();
    test_all_32_skill_bits();
    test_ring_wraps_and_never_overwrites();
    test_cap_never_exceeded();
    test_complete_errors();
    test_next_assignment_errors_and_eligibility();
    test_oldest_assignable_head_wins();
    test_seq_order_survives_wrap();
    test_agent_tie_breaks();
    test_apply_step_run();
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
