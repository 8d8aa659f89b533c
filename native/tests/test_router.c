/* Self-contained tests for the router core: no framework, one line per failure,
 * a final "N passed, M failed" line, exit status 1 on any failure. Runs on the host
 * (plain, ASan/UBSan, valgrind) and on aarch64 under qemu-user. */
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

/* Generous buffers for every configuration used here (asserted in setup). */
static unsigned char mem[160 * 1024];
static unsigned char mem2[160 * 1024];
static uint8_t blob[64 * 1024];
static uint8_t blob2[64 * 1024];

static bl_router_cfg make_cfg(uint16_t nq, uint16_t na, uint16_t qcap)
{
    bl_router_cfg cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.n_queues = nq;
    cfg.n_agents = na;
    cfg.queue_capacity = qcap;
    return cfg;
}

static void setup_cfg(bl_router *r, const bl_router_cfg *cfg)
{
    CHECK(bl_router_mem_size(cfg) <= sizeof(mem));
    CHECK_EQ(bl_router_init(r, mem, sizeof(mem), cfg), BL_OK);
}

static void setup(bl_router *r, uint16_t nq, uint16_t na, uint16_t qcap)
{
    bl_router_cfg cfg = make_cfg(nq, na, qcap);
    setup_cfg(r, &cfg);
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

static void ready_agent(bl_router *r, uint16_t a, uint8_t cap, uint32_t primary, int64_t t)
{
    CHECK_EQ(bl_router_configure_agent(r, a, cap, primary, 0, t), BL_OK);
    CHECK_EQ(bl_router_set_presence(r, a, BL_AVAILABLE, 0, t), BL_OK);
}

static void test_mem_size_and_init(void)
{
    bl_router r;
    bl_router before;
    bl_router_cfg cfg = make_cfg(4, 8, 16);
    bl_router_cfg bad;
    size_t need = bl_router_mem_size(&cfg);

    CHECK(need >= (4u * 16u + 8u * BL_MAX_HELD) * sizeof(bl_conv));
    CHECK_EQ(bl_router_mem_size(NULL), 0);
    bad = cfg;
    bad.n_queues = 0;
    CHECK_EQ(bl_router_mem_size(&bad), 0);
    bad.n_queues = BL_MAX_QUEUES + 1;
    CHECK_EQ(bl_router_mem_size(&bad), 0);
    bad = cfg;
    bad.n_agents = BL_MAX_AGENTS + 1;
    CHECK_EQ(bl_router_mem_size(&bad), 0);
    bad = cfg;
    bad.queue_capacity = 0;
    CHECK_EQ(bl_router_mem_size(&bad), 0);
    bad = cfg;
    bad.max_convs = 0xFFFF;
    CHECK_EQ(bl_router_mem_size(&bad), 0);
    bad = cfg;
    bad.max_convs = 10;
    CHECK(bl_router_mem_size(&bad) < need);

    memset(&r, 0xA5, sizeof(r));
    before = r;
    CHECK_EQ(bl_router_init(NULL, mem, sizeof(mem), &cfg), BL_EINVAL);
    CHECK_EQ(bl_router_init(&r, NULL, sizeof(mem), &cfg), BL_EINVAL);
    CHECK_EQ(bl_router_init(&r, mem, need - 1, &cfg), BL_EINVAL);
    CHECK_EQ(bl_router_init(&r, mem, sizeof(mem), NULL), BL_EINVAL);
    CHECK(memcmp(&r, &before, sizeof(r)) == 0);
    /* Any alignment of the caller's buffer works. */
    CHECK_EQ(bl_router_init(&r, mem + 3, need, &cfg), BL_OK);
    CHECK_EQ(bl_router_enqueue(&r, 0, 1, 0, 0), BL_OK);
    CHECK_EQ(bl_router_queue_length(&r, 0), 1);
    CHECK_EQ(bl_router_agent_presence(&r, 7), BL_OFFLINE);
    CHECK_EQ(bl_router_agent_load(&r, 8), BL_EINVAL);
    CHECK_EQ(bl_router_queue_length(&r, 4), BL_EINVAL);
}

static void test_argument_errors_change_nothing(void)
{
    bl_router r;
    size_t n1;
    size_t n2;
    setup(&r, 3, 2, 4);
    CHECK_EQ(bl_router_configure_agent(&r, 2, 1, 1, 0, 0), BL_EINVAL);
    CHECK_EQ(bl_router_configure_agent(&r, 0, 0, 1, 0, 0), BL_EINVAL);
    CHECK_EQ(bl_router_configure_agent(&r, 0, 4, 1, 0, 0), BL_EINVAL);
    CHECK_EQ(bl_router_configure_agent(&r, 0, 1, 8, 0, 0), BL_EINVAL);
    CHECK_EQ(bl_router_configure_agent(&r, 0, 1, 1, 1, 0), BL_EINVAL); /* overlap */
    CHECK_EQ(bl_router_set_presence(&r, 0, 4, 0, 0), BL_EINVAL);
    CHECK_EQ(bl_router_set_queue(&r, 0, 5, BL_NO_QUEUE, 0, 0, 0), BL_EINVAL);
    CHECK_EQ(bl_router_set_queue(&r, 0, 0, 0, 0, 0, 0), BL_EINVAL); /* to itself */
    CHECK_EQ(bl_router_set_queue(&r, 0, 0, 3, 0, 0, 0), BL_EINVAL);
    CHECK_EQ(bl_router_set_queue(&r, 0, 0, 1, BL_NEVER, 10, 0), BL_OK);
    CHECK_EQ(bl_router_set_queue(&r, 1, 0, 2, BL_NEVER, 10, 0), BL_OK);
    CHECK_EQ(bl_router_set_queue(&r, 2, 0, 0, BL_NEVER, 10, 0), BL_EINVAL); /* cycle */
    CHECK_EQ(bl_router_set_wrapup(&r, 0, 5, 2, 0), BL_EINVAL);
    CHECK_EQ(bl_router_enqueue_private(&r, 0, 1, 0, 3, 0), BL_EINVAL);
    CHECK_EQ(bl_router_assign(&r, 0, 1, 2, 0), BL_EINVAL);
    CHECK_EQ(bl_router_transfer_queue(&r, 0, 1, 2, 0), BL_EINVAL);
    n1 = bl_router_snapshot(&r, blob, sizeof(blob));
    {
        bl_event ev;
        memset(&ev, 0, sizeof(ev));
        ev.op = 0;
        CHECK_EQ(bl_router_apply(&r, &ev), BL_EINVAL);
        ev.op = BL_OP_LAST + 1;
        CHECK_EQ(bl_router_apply(&r, &ev), BL_EINVAL);
        ev.op = BL_OP_PRESENCE;
        ev.b = BL_AVAILABLE;
        ev.c = 0x10000;
        CHECK_EQ(bl_router_apply(&r, &ev), BL_EINVAL);
        ev.op = BL_OP_SET_QUEUE;
        ev.b = 0x10000;
        CHECK_EQ(bl_router_apply(&r, &ev), BL_EINVAL);
        CHECK_EQ(bl_router_apply(NULL, &ev), BL_EINVAL);
        CHECK_EQ(bl_router_apply(&r, NULL), BL_EINVAL);
    }
    n2 = bl_router_snapshot(&r, blob2, sizeof(blob2));
    CHECK(n1 > 0 && n1 == n2 && memcmp(blob, blob2, n1) == 0);
}

static void test_full_conditions(void)
{
    bl_router r;
    bl_router_cfg cfg = make_cfg(2, 1, 2);
    cfg.max_convs = 3;
    setup_cfg(&r, &cfg);
    CHECK_EQ(bl_router_enqueue(&r, 0, 1, 0, 0), BL_OK);
    CHECK_EQ(bl_router_enqueue(&r, 0, 1, 0, 0), BL_EEXIST);
    CHECK_EQ(bl_router_enqueue(&r, 0, 2, 0, 0), BL_OK);
    CHECK_EQ(bl_router_enqueue(&r, 0, 3, 0, 0), BL_EFULL); /* queue full */
    CHECK_EQ(bl_router_enqueue(&r, 1, 3, 0, 0), BL_OK);
    CHECK_EQ(bl_router_enqueue(&r, 1, 4, 0, 0), BL_EFULL); /* pool full */
    CHECK_EQ(bl_router_enqueue_private(&r, 0, 4, 0, 1, 0), BL_EFULL);
    CHECK_EQ(bl_router_queue_length(&r, 0), 2);
    CHECK_EQ(bl_router_position(&r, 1), 0);
    CHECK_EQ(bl_router_position(&r, 2), 1);
    CHECK_EQ(bl_router_position(&r, 9), BL_ENOENT);
    /* An agent at its cap takes no supervisor assignment unless forced, and at most
     * BL_MAX_HELD then. */
    ready_agent(&r, 0, 1, 1, 1);
    expect_assign(&r, 1, 1, 0);
    CHECK_EQ(bl_router_assign(&r, 0, 2, 0, 2), BL_EFULL);
    CHECK_EQ(bl_router_assign(&r, 0, 2, 1, 2), BL_OK);
    CHECK_EQ(bl_router_agent_load(&r, 0), 2);
    CHECK_EQ(bl_router_assign(&r, 0, 3, 1, 2), BL_OK);
    CHECK_EQ(bl_router_agent_load(&r, 0), 3);
    expect_empty(&r, 3);
}

static void test_strategies(void)
{
    bl_router r;
    uint16_t a;
    setup(&r, 4, 4, 16);
    for (a = 0; a < 4; a++) {
        ready_agent(&r, a, 3, 0xF, 10 - a); /* agent 3 idle longest */
    }
    /* Queue 0: longest idle (default). */
    CHECK_EQ(bl_router_enqueue(&r, 0, 1, 0, 20), BL_OK);
    expect_assign(&r, 20, 1, 3);
    CHECK_EQ(bl_router_enqueue(&r, 0, 2, 0, 21), BL_OK);
    expect_assign(&r, 21, 2, 2);
    /* Queue 1: fewest active (0 and 1 hold nothing; 1 is idle longer). */
    CHECK_EQ(bl_router_set_queue(&r, 1, BL_FEWEST_ACTIVE, BL_NO_QUEUE, BL_NEVER, BL_NEVER, 22),
             BL_OK);
    CHECK_EQ(bl_router_enqueue(&r, 1, 3, 0, 22), BL_OK);
    expect_assign(&r, 22, 3, 1);
    /* Queue 2: ordered (top-down): always the lowest index with room. */
    CHECK_EQ(bl_router_set_queue(&r, 2, BL_ORDERED, BL_NO_QUEUE, BL_NEVER, BL_NEVER, 23), BL_OK);
    CHECK_EQ(bl_router_enqueue(&r, 2, 4, 0, 23), BL_OK);
    expect_assign(&r, 23, 4, 0);
    CHECK_EQ(bl_router_enqueue(&r, 2, 5, 0, 23), BL_OK);
    expect_assign(&r, 23, 5, 0);
    /* Queue 3: round robin remembers where it was. */
    CHECK_EQ(bl_router_set_queue(&r, 3, BL_ROUND_ROBIN, BL_NO_QUEUE, BL_NEVER, BL_NEVER, 24),
             BL_OK);
    CHECK_EQ(bl_router_enqueue(&r, 3, 6, 0, 24), BL_OK);
    expect_assign(&r, 24, 6, 0);
    CHECK_EQ(bl_router_enqueue(&r, 3, 7, 0, 24), BL_OK);
    expect_assign(&r, 24, 7, 1);
    CHECK_EQ(bl_router_enqueue(&r, 3, 8, 0, 24), BL_OK);
    expect_assign(&r, 24, 8, 2);
    CHECK_EQ(bl_router_enqueue(&r, 3, 9, 0, 24), BL_OK);
    expect_assign(&r, 24, 9, 3);
    CHECK_EQ(bl_router_enqueue(&r, 3, 10, 0, 24), BL_OK); /* 0 is at its cap of 3 */
    expect_assign(&r, 24, 10, 1);
    /* Manual: never assigned automatically; NEXT takes the oldest it may serve. */
    CHECK_EQ(bl_router_set_queue(&r, 0, BL_MANUAL, BL_NO_QUEUE, BL_NEVER, BL_NEVER, 25), BL_OK);
    CHECK_EQ(bl_router_enqueue(&r, 0, 11, 0, 25), BL_OK);
    CHECK_EQ(bl_router_enqueue(&r, 0, 12, 0, 26), BL_OK);
    expect_empty(&r, 27);
    {
        uint32_t c = 0;
        CHECK_EQ(bl_router_take_next(&r, 0, 27, &c), BL_EFULL);
        CHECK_EQ(bl_router_take_next(&r, 3, 27, &c), BL_OK);
        CHECK_EQ(c, 11);
        CHECK_EQ(bl_router_conv_state(&r, 11), BL_OFFERED);
        CHECK_EQ(bl_router_conv_agent(&r, 11), 3);
    }
}

static void test_priority_and_position(void)
{
    bl_router r;
    setup(&r, 1, 1, 16);
    CHECK_EQ(bl_router_enqueue(&r, 0, 1, 0, 1000), BL_OK);
    CHECK_EQ(bl_router_enqueue(&r, 0, 2, 0, 2000), BL_OK);
    CHECK_EQ(bl_router_enqueue(&r, 0, 3, 0, 3000), BL_OK);
    /* A VIP worth 1.5 s of waiting enters ahead of 2 and 3, behind 1. */
    CHECK_EQ(bl_router_enqueue(&r, 0, 9, 1500, 3000), BL_OK);
    CHECK_EQ(bl_router_position(&r, 1), 0);
    CHECK_EQ(bl_router_position(&r, 9), 1);
    CHECK_EQ(bl_router_position(&r, 2), 2);
    CHECK_EQ(bl_router_position(&r, 3), 3);
    ready_agent(&r, 0, 3, 1, 3000);
    expect_assign(&r, 3000, 1, 0);
    expect_assign(&r, 3000, 9, 0);
    CHECK_EQ(bl_router_position(&r, 2), 0);
    CHECK_EQ(bl_router_position(&r, 9), BL_ESTATE);
}

static void test_backup_and_overflow_tiers(void)
{
    bl_router r;
    setup(&r, 2, 2, 8);
    CHECK_EQ(bl_router_configure_agent(&r, 0, 1, 0, 1, 0), BL_OK); /* backup for queue 0 */
    CHECK_EQ(bl_router_set_presence(&r, 0, BL_AVAILABLE, 0, 0), BL_OK);
    CHECK_EQ(bl_router_configure_agent(&r, 1, 1, 2, 0, 0), BL_OK); /* queue 1 primary */
    CHECK_EQ(bl_router_set_presence(&r, 1, BL_AVAILABLE, 0, 0), BL_OK);
    CHECK_EQ(bl_router_set_queue(&r, 0, BL_LONGEST_IDLE, 1, 30000, 60000, 0), BL_OK);
    CHECK_EQ(bl_router_enqueue(&r, 0, 5, 0, 1000), BL_OK);
    expect_empty(&r, 30999);
    expect_assign(&r, 31000, 5, 0); /* backup serves it after 30 s */
    CHECK_EQ(bl_router_enqueue(&r, 0, 6, 0, 2000), BL_OK);
    expect_empty(&r, 61999);
    CHECK_EQ(bl_router_queue_length(&r, 0), 1);
    CHECK_EQ(bl_router_tick(&r, 62000), BL_OK); /* 60 s: moves to queue 1 */
    CHECK_EQ(bl_router_queue_length(&r, 0), 0);
    CHECK_EQ(bl_router_conv_queue(&r, 6), 1);
    expect_assign(&r, 62000, 6, 1);
}

static void test_private_queue(void)
{
    bl_router r;
    bl_router_cfg cfg = make_cfg(1, 2, 8);
    cfg.private_ms = 5000;
    setup_cfg(&r, &cfg);
    ready_agent(&r, 1, 1, 1, 0);
    CHECK_EQ(bl_router_enqueue_private(&r, 0, 7, 0, 0, 100), BL_OK);
    CHECK_EQ(bl_router_conv_agent(&r, 7), 0);
    expect_empty(&r, 5099); /* only agent 0 may take it, and it is offline */
    expect_assign(&r, 5100, 7, 1); /* overflowed to queue 0 */
    CHECK_EQ(bl_router_enqueue_private(&r, 1, 7, 0, 0, 200), BL_EEXIST);
}

static void test_offer_timeout_and_misses(void)
{
    bl_router r;
    bl_router_cfg cfg = make_cfg(1, 2, 8);
    cfg.offer_timeout_ms = 1000;
    cfg.max_misses = 2;
    setup_cfg(&r, &cfg);
    ready_agent(&r, 0, 2, 1, 0);
    CHECK_EQ(bl_router_enqueue(&r, 0, 1, 0, 10), BL_OK);
    CHECK_EQ(bl_router_enqueue(&r, 0, 2, 0, 20), BL_OK);
    expect_assign(&r, 30, 1, 0);
    expect_assign(&r, 30, 2, 0);
    CHECK_EQ(bl_router_accept(&r, 0, 2, 500), BL_OK);
    CHECK_EQ(bl_router_accept(&r, 0, 2, 600), BL_OK); /* again: harmless */
    CHECK_EQ(bl_router_accept(&r, 1, 2, 600), BL_ENOENT);
    /* 1 is not taken up by 1030: back to the head of the queue, offered again. */
    CHECK_EQ(bl_router_tick(&r, 1030), BL_OK);
    CHECK_EQ(bl_router_conv_state(&r, 1), BL_WAITING);
    CHECK_EQ(bl_router_position(&r, 1), 0);
    expect_assign(&r, 1030, 1, 0);
    /* Second miss in a row: break with the MISSED reason; the active one stays. */
    CHECK_EQ(bl_router_tick(&r, 2030), BL_OK);
    CHECK_EQ(bl_router_agent_presence(&r, 0), BL_BREAK);
    CHECK_EQ(bl_router_agent_reason(&r, 0), BL_REASON_MISSED);
    CHECK_EQ(bl_router_agent_load(&r, 0), 1);
    CHECK_EQ(bl_router_conv_state(&r, 2), BL_ACTIVE);
    ready_agent(&r, 1, 1, 1, 2040);
    expect_assign(&r, 2040, 1, 1);
}

static void test_leaving_and_wrapup(void)
{
    bl_router r;
    setup(&r, 1, 2, 8);
    ready_agent(&r, 0, 2, 1, 0);
    CHECK_EQ(bl_router_enqueue(&r, 0, 1, 0, 10), BL_OK);
    CHECK_EQ(bl_router_enqueue(&r, 0, 2, 0, 20), BL_OK);
    CHECK_EQ(bl_router_enqueue(&r, 0, 3, 0, 30), BL_OK);
    expect_assign(&r, 40, 1, 0);
    expect_assign(&r, 40, 2, 0);
    CHECK_EQ(bl_router_accept(&r, 0, 1, 50), BL_OK);
    CHECK_EQ(bl_router_set_presence(&r, 0, BL_BREAK, 7, 60), BL_OK);
    CHECK_EQ(bl_router_agent_reason(&r, 0), 7);
    CHECK_EQ(bl_router_conv_state(&r, 2), BL_WAITING); /* back, ahead of 3 */
    CHECK_EQ(bl_router_position(&r, 2), 0);
    CHECK_EQ(bl_router_conv_state(&r, 1), BL_ACTIVE);
    /* Wrap-up: 1 s after each completion, then available on its own. */
    CHECK_EQ(bl_router_set_wrapup(&r, 0, 1000, 0, 70), BL_OK);
    CHECK_EQ(bl_router_set_presence(&r, 0, BL_AVAILABLE, 0, 80), BL_OK);
    expect_assign(&r, 80, 2, 0);
    CHECK_EQ(bl_router_complete(&r, 0, 1, 100), BL_OK);
    CHECK_EQ(bl_router_agent_presence(&r, 0), BL_WRAPUP);
    expect_empty(&r, 1099);
    CHECK_EQ(bl_router_agent_presence(&r, 0), BL_WRAPUP);
    expect_assign(&r, 1100, 3, 0);
    /* Manual wrap-up waits for "ready". */
    CHECK_EQ(bl_router_set_wrapup(&r, 0, 0, 1, 1200), BL_OK);
    CHECK_EQ(bl_router_complete(&r, 0, 3, 1300), BL_OK);
    CHECK_EQ(bl_router_tick(&r, 1000000), BL_OK);
    CHECK_EQ(bl_router_agent_presence(&r, 0), BL_WRAPUP);
    CHECK_EQ(bl_router_complete(&r, 0, 3, 1300), BL_ENOENT);
}

static void test_transfers_abandon_rejoin(void)
{
    bl_router r;
    bl_router_cfg cfg = make_cfg(2, 2, 4);
    cfg.rejoin_ms = 10000;
    setup_cfg(&r, &cfg);
    ready_agent(&r, 0, 2, 1, 0);
    CHECK_EQ(bl_router_enqueue(&r, 0, 1, 0, 100), BL_OK);
    CHECK_EQ(bl_router_enqueue(&r, 1, 2, 0, 200), BL_OK);
    CHECK_EQ(bl_router_enqueue(&r, 1, 3, 0, 300), BL_OK);
    expect_assign(&r, 400, 1, 0);
    /* To another queue, keeping the enqueue time: ahead of 2 and 3. */
    CHECK_EQ(bl_router_transfer_queue(&r, 1, 1, 1, 500), BL_OK);
    CHECK_EQ(bl_router_position(&r, 1), 0);
    CHECK_EQ(bl_router_agent_load(&r, 0), 0);
    /* Not keeping it: behind them. */
    CHECK_EQ(bl_router_transfer_queue(&r, 1, 1, 0, 600), BL_OK);
    CHECK_EQ(bl_router_position(&r, 1), 2);
    /* Abandon: gone from the queue; writes again within 10 s: old place. */
    CHECK_EQ(bl_router_abandon(&r, 2, 700), BL_OK);
    CHECK_EQ(bl_router_position(&r, 3), 0);
    CHECK_EQ(bl_router_conv_state(&r, 2), BL_ABANDONED);
    CHECK_EQ(bl_router_rejoin(&r, 2, 5000), BL_OK);
    CHECK_EQ(bl_router_position(&r, 2), 0);
    CHECK_EQ(bl_router_abandon(&r, 2, 6000), BL_OK);
    CHECK_EQ(bl_router_rejoin(&r, 2, 16000), BL_ENOENT); /* too late: forgotten */
    CHECK_EQ(bl_router_rejoin(&r, 3, 16000), BL_ESTATE);
    /* To a named agent, then upstream. */
    CHECK_EQ(bl_router_transfer_agent(&r, 1, 3, 16100), BL_OK);
    CHECK_EQ(bl_router_conv_agent(&r, 3), 1);
    CHECK_EQ(bl_router_transfer_agent(&r, 1, 3, 16100), BL_ESTATE);
    CHECK_EQ(bl_router_upstream(&r, 3, 16200), BL_OK);
    CHECK_EQ(bl_router_conv_state(&r, 3), BL_REMOTE);
    CHECK_EQ(bl_router_abandon(&r, 3, 16300), BL_ESTATE);
    CHECK_EQ(bl_router_release(&r, 3, 16400), BL_OK);
    CHECK_EQ(bl_router_conv_state(&r, 3), BL_ENOENT);
    CHECK_EQ(bl_router_release(&r, 1, 16400), BL_ESTATE);
}

/* Deterministic pseudo-random stream over every op; checks invariants as it goes
 * and that snapshot -> restore -> snapshot is the identity and behaves the same. */
static uint64_t rng = 0x2545F4914F6CDD1Du;

static uint32_t below(uint32_t n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)((rng >> 32) % n);
}

static void random_event(bl_event *ev, int64_t *t, uint16_t nq, uint16_t na)
{
    uint32_t mask = ((uint32_t)1 << nq) - 1u;
    *t += below(40);
    memset(ev, 0, sizeof(*ev));
    ev->op = (uint8_t)(1 + below(BL_OP_LAST));
    ev->a = (uint16_t)below(ev->op == BL_OP_ENQUEUE || ev->op == BL_OP_SET_QUEUE ||
                                    ev->op == BL_OP_TRANSFER_QUEUE
                                ? nq + 1u
                                : na + 1u);
    ev->b = 1 + below(24);
    ev->c = below(2);
    ev->now_ms = *t;
    switch (ev->op) {
    case BL_OP_CONFIGURE:
        ev->b = 1 + below(3);
        ev->c = below(mask + 1u);
        ev->d = below(mask + 1u) & ~ev->c;
        break;
    case BL_OP_PRESENCE:
        ev->b = below(4);
        ev->c = below(3);
        break;
    case BL_OP_ENQUEUE:
        ev->c = below(4) == 0 ? 500 : 0;
        break;
    case BL_OP_SET_QUEUE:
        ev->b = below(5) | ((below(3) == 0 ? below(nq) : 0xFFu) << 8);
        ev->c = below(2) ? BL_NEVER : 100;
        ev->d = below(2) ? BL_NEVER : 300;
        break;
    case BL_OP_SET_WRAPUP:
        ev->b = below(3) * 50;
        break;
    case BL_OP_ENQUEUE_PRIVATE:
        ev->d = below(nq);
        break;
    default:
        break;
    }
}

static void check_invariants(const bl_router *r)
{
    uint16_t a;
    uint16_t q;
    unsigned k;
    for (a = 0; a < r->cfg.n_agents; a++) {
        const bl_agent *ag = &r->agents[a];
        CHECK(ag->n_held <= BL_MAX_HELD);
        CHECK(((r->ready >> a) & 1u) == (ag->presence == BL_AVAILABLE && ag->n_held < ag->cap));
        for (k = ag->n_held; k < BL_MAX_HELD; k++) {
            CHECK_EQ((uint16_t)(ag->held >> (16u * k)), BL_NONE); /* held_remove relies on it */
        }
    }
    for (q = 0; q < r->cfg.n_queues; q++) {
        uint16_t x = r->queues[q].head;
        uint16_t n = 0;
        /* the derived masks the assignment rule reads */
        CHECK(((r->prim_servable >> q) & 1u) == ((r->primary_by[q] & r->ready) != 0));
        CHECK(((r->back_servable >> q) & 1u) == ((r->backup_by[q] & r->ready) != 0));
        for (a = 0; a < r->cfg.n_agents; a++) {
            CHECK(((r->primary_by[q] >> a) & 1u) == ((r->agents[a].primary >> q) & 1u));
            CHECK(((r->backup_by[q] >> a) & 1u) == ((r->agents[a].backup >> q) & 1u));
        }
        for (; x != BL_NONE; x = r->convs[x].next) {
            n++;
        }
        CHECK_EQ(n, r->queues[q].count);
        CHECK(((r->nonempty >> q) & 1u) == (n > 0));
    }
}

static void test_random_stream_and_snapshots(void)
{
    static bl_router r;
    static bl_router r2;
    static bl_assignment out[BL_MAX_ASSIGN_PER_EVENT];
    static bl_assignment out2[BL_MAX_ASSIGN_PER_EVENT];
    bl_router_cfg cfg = make_cfg(4, 6, 5);
    bl_router_cfg got;
    int64_t t = 0;
    int i;
    int mismatches = 0;
    int assigned = 0;
    cfg.max_convs = 30;
    cfg.offer_timeout_ms = 400;
    cfg.rejoin_ms = 600;
    cfg.private_ms = 800;
    cfg.max_misses = 3;
    setup_cfg(&r, &cfg);
    for (i = 0; i < 20000; i++) {
        bl_event ev;
        size_t n = 0;
        size_t n2 = 0;
        int rc;
        random_event(&ev, &t, cfg.n_queues, cfg.n_agents);
        if (i % 500 == 0) {
            size_t len = bl_router_snapshot(&r, blob, sizeof(blob));
            size_t len2;
            CHECK(len > 0 && len == bl_router_snapshot_size(&r));
            CHECK_EQ(bl_router_snapshot_cfg(blob, len, &got), BL_OK);
            CHECK_EQ(got.max_convs, 30);
            CHECK_EQ(bl_router_restore(&r2, mem2, sizeof(mem2), blob, len), BL_OK);
            len2 = bl_router_snapshot(&r2, blob2, sizeof(blob2));
            CHECK(len2 == len && memcmp(blob, blob2, len) == 0);
            check_invariants(&r2); /* restore rebuilds the derived data */
        }
        rc = bl_router_step(&r, &ev, out, BL_MAX_ASSIGN_PER_EVENT, &n);
        if (i % 500 < 100) { /* the restored copy follows for a while */
            int rc2 = bl_router_step(&r2, &ev, out2, BL_MAX_ASSIGN_PER_EVENT, &n2);
            size_t k;
            if (rc != rc2 || n != n2) {
                mismatches++;
            }
            for (k = 0; k < n && k < n2; k++) { /* fields: the struct has padding */
                mismatches += out[k].conv != out2[k].conv || out[k].agent != out2[k].agent;
            }
        }
        assigned += (int)n;
        check_invariants(&r);
    }
    CHECK_EQ(mismatches, 0);
    CHECK(assigned > 1000);
}

static void test_corrupt_snapshots(void)
{
    bl_router r;
    bl_router r2;
    bl_router_cfg cfg = make_cfg(2, 2, 4);
    size_t len;
    setup_cfg(&r, &cfg);
    ready_agent(&r, 0, 1, 1, 0);
    CHECK_EQ(bl_router_enqueue(&r, 0, 1, 0, 1), BL_OK);
    CHECK_EQ(bl_router_enqueue(&r, 0, 2, 0, 1), BL_OK);
    len = bl_router_snapshot(&r, blob, sizeof(blob));
    CHECK(len > 0);
    CHECK_EQ(bl_router_snapshot(&r, blob, len - 1), 0);
    CHECK_EQ(bl_router_restore(&r2, mem2, sizeof(mem2), blob, len - 1), BL_ECORRUPT);
    blob[len / 2] ^= 1;
    CHECK_EQ(bl_router_restore(&r2, mem2, sizeof(mem2), blob, len), BL_ECORRUPT);
    blob[len / 2] ^= 1;
    blob[4] = 2; /* version */
    CHECK_EQ(bl_router_restore(&r2, mem2, sizeof(mem2), blob, len), BL_ECORRUPT);
    blob[4] = 1;
    CHECK_EQ(bl_router_restore(&r2, mem2, 10, blob, len), BL_EINVAL);
    CHECK_EQ(bl_router_restore(&r2, mem2, sizeof(mem2), blob, len), BL_OK);
    CHECK_EQ(bl_router_queue_length(&r2, 0), 2);
}

int main(void)
{
    test_mem_size_and_init();
    test_argument_errors_change_nothing();
    test_full_conditions();
    test_strategies();
    test_priority_and_position();
    test_backup_and_overflow_tiers();
    test_private_queue();
    test_offer_timeout_and_misses();
    test_leaving_and_wrapup();
    test_transfers_abandon_rejoin();
    test_random_stream_and_snapshots();
    test_corrupt_snapshots();
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
