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

/* Room for the bound of every configuration used here (step refuses less). */
#define OUT_MAX 4096

/* The outputs of the last step_ev(), read in order by expect_out(). */
static bl_output outs[OUT_MAX];
static size_t n_outs;
static size_t n_read;

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
    n_outs = 0;
    n_read = 0;
    CHECK(bl_router_mem_size(cfg) <= sizeof(mem));
    CHECK_EQ(bl_router_init(r, mem, sizeof(mem), cfg), BL_OK);
}

static void setup(bl_router *r, uint16_t nq, uint16_t na, uint16_t qcap)
{
    bl_router_cfg cfg = make_cfg(nq, na, qcap);
    setup_cfg(r, &cfg);
}

static int step_ev(bl_router *r, uint8_t op, uint16_t a, uint32_t b, uint32_t c, uint32_t d,
                   int64_t now)
{
    bl_event ev;
    int rc;
    memset(&ev, 0, sizeof(ev));
    ev.op = op;
    ev.a = a;
    ev.b = b;
    ev.c = c;
    ev.d = d;
    ev.now_ms = now;
    CHECK(bl_router_max_outputs(&r->cfg) <= OUT_MAX);
    n_outs = 0;
    n_read = 0;
    rc = bl_router_step(r, &ev, outs, OUT_MAX, &n_outs);
    CHECK(n_outs <= bl_router_max_outputs(&r->cfg));
    return rc;
}

/* The next unread output is (kind, conv, agent, queue); with none unread, a TICK at now
 * is stepped first (so direct calls, which do not drain, are drained by it). */
static void expect_out(bl_router *r, int64_t now, uint8_t kind, uint32_t conv, uint16_t agent,
                       uint8_t queue, int line)
{
    const bl_output *o;
    if (n_read == n_outs) {
        CHECK_EQ(step_ev(r, BL_OP_TICK, 0, 0, 0, 0, now), BL_OK);
    }
    if (n_read == n_outs) {
        failed++;
        printf("FAIL %s:%d: no output (want kind %u conv %lu)\n", __FILE__, line, kind,
               (unsigned long)conv);
        return;
    }
    o = &outs[n_read++];
    if (o->kind == kind && o->conv == conv && o->agent == agent && o->queue == queue) {
        passed++;
    } else {
        failed++;
        printf("FAIL %s:%d: output (%u, %lu, %u, %u), want (%u, %lu, %u, %u)\n", __FILE__,
               line, o->kind, (unsigned long)o->conv, o->agent, o->queue, kind,
               (unsigned long)conv, agent, queue);
    }
}

#define EXPECT_OUT(r, now, kind, conv, agent, queue) \
    expect_out(r, now, kind, conv, agent, queue, __LINE__)

/* An OFFER of conv to agent next, from its queue (not checked: the tests that care use
 * EXPECT_OUT). */
static void expect_assign(bl_router *r, int64_t now, uint32_t conv, uint16_t agent)
{
    if (n_read == n_outs) {
        CHECK_EQ(step_ev(r, BL_OP_TICK, 0, 0, 0, 0, now), BL_OK);
    }
    CHECK(n_read < n_outs);
    if (n_read < n_outs) {
        CHECK_EQ(outs[n_read].kind, BL_OUT_OFFER);
        CHECK_EQ(outs[n_read].conv, conv);
        CHECK_EQ(outs[n_read].agent, agent);
        n_read++;
    }
}

/* Every output read, and a TICK at now writes none. */
static void expect_empty(bl_router *r, int64_t now)
{
    CHECK_EQ(n_outs - n_read, 0);
    CHECK_EQ(step_ev(r, BL_OP_TICK, 0, 0, 0, 0, now), BL_OK);
    CHECK_EQ(n_outs, 0);
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
    CHECK_EQ(bl_router_set_max_wait(&r, 3, 10, 0), BL_EINVAL);
    n1 = bl_router_snapshot(&r, blob, sizeof(blob));
    CHECK_EQ(step_ev(&r, 0, 0, 0, 0, 0, 0), BL_EINVAL);
    CHECK_EQ(step_ev(&r, BL_OP_LAST + 1, 0, 0, 0, 0, 0), BL_EINVAL);
    CHECK_EQ(step_ev(&r, BL_OP_PRESENCE, 0, BL_AVAILABLE, 0x10000, 0, 0), BL_EINVAL);
    CHECK_EQ(step_ev(&r, BL_OP_SET_QUEUE, 0, 0x10000, 0, 0, 0), BL_EINVAL);
    CHECK_EQ(step_ev(&r, BL_OP_SET_MAX_WAIT, 3, 10, 0, 0, 0), BL_EINVAL);
    CHECK_EQ(step_ev(&r, BL_OP_ASSIGN, 0, 1, 2, 0, 0), BL_EINVAL);
    CHECK_EQ(n_outs, 0);
    {
        /* out_cap below the bound, NULLs: refused before anything happens. */
        bl_event ev;
        size_t n = 99;
        memset(&ev, 0, sizeof(ev));
        ev.op = BL_OP_ENQUEUE;
        ev.b = 5;
        CHECK_EQ(bl_router_step(&r, &ev, outs, bl_router_max_outputs(&r.cfg) - 1, &n),
                 BL_EINVAL);
        CHECK_EQ(bl_router_step(&r, &ev, NULL, OUT_MAX, &n), BL_EINVAL);
        CHECK_EQ(bl_router_step(NULL, &ev, outs, OUT_MAX, &n), BL_EINVAL);
        CHECK_EQ(bl_router_step(&r, NULL, outs, OUT_MAX, &n), BL_EINVAL);
        CHECK_EQ(bl_router_step(&r, &ev, outs, OUT_MAX, NULL), BL_EINVAL);
        CHECK_EQ(n, 99);
        CHECK_EQ(bl_router_run(&r, &ev, 1, outs, bl_router_max_outputs(&r.cfg) - 1, &n, NULL),
                 0);
        CHECK_EQ(n, 0);
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
    ready_agent(&r, 0, 2, 1, 3000);
    expect_assign(&r, 3000, 1, 0);
    expect_assign(&r, 3000, 9, 0);
    expect_empty(&r, 3000); /* at its cap of 2 */
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
    EXPECT_OUT(&r, 62000, BL_OUT_OVERFLOW, 6, BL_NONE, 1); /* 60 s: moves to queue 1 */
    CHECK_EQ(bl_router_queue_length(&r, 0), 0);
    EXPECT_OUT(&r, 62000, BL_OUT_OFFER, 6, 1, 1);
    expect_empty(&r, 62000);
    /* BL_NEVER disables the tier even when the score reaches 0xFFFFFFFF ms at once. */
    CHECK_EQ(bl_router_set_queue(&r, 0, BL_LONGEST_IDLE, 1, BL_NEVER, BL_NEVER, 63000), BL_OK);
    CHECK_EQ(bl_router_enqueue(&r, 0, 7, BL_NEVER, 63000), BL_OK);
    CHECK_EQ(bl_router_tick(&r, 63000), BL_OK);
    CHECK_EQ(bl_router_conv_queue(&r, 7), 0);
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
    EXPECT_OUT(&r, 5100, BL_OUT_PRIVATE_TIMEOUT, 7, 0, 0); /* overflowed to queue 0 */
    EXPECT_OUT(&r, 5100, BL_OUT_OFFER, 7, 1, 0);
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
    EXPECT_OUT(&r, 1030, BL_OUT_OFFER_TIMEOUT, 1, 0, 0);
    EXPECT_OUT(&r, 1030, BL_OUT_OFFER, 1, 0, 0);
    /* Second miss in a row: break with the MISSED reason; the active one stays. */
    EXPECT_OUT(&r, 2030, BL_OUT_OFFER_TIMEOUT, 1, 0, 0);
    EXPECT_OUT(&r, 2030, BL_OUT_MISSED_BREAK, 0, 0, BL_NO_QUEUE);
    expect_empty(&r, 2030);
    CHECK_EQ(bl_router_conv_state(&r, 1), BL_WAITING);
    CHECK_EQ(bl_router_position(&r, 1), 0);
    CHECK_EQ(bl_router_agent_presence(&r, 0), BL_BREAK);
    CHECK_EQ(bl_router_agent_reason(&r, 0), BL_REASON_MISSED);
    CHECK_EQ(bl_router_agent_load(&r, 0), 1);
    CHECK_EQ(bl_router_agent_state(&r, 0), BL_BREAK | 1 << 2 | 1 << 5);
    CHECK_EQ(bl_router_agent_state(&r, 9), BL_EINVAL);
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
    CHECK_EQ(step_ev(&r, BL_OP_PRESENCE, 0, BL_BREAK, 7, 0, 60), BL_OK);
    EXPECT_OUT(&r, 60, BL_OUT_RETURNED, 2, 0, 0);
    CHECK_EQ(n_outs, 1);
    CHECK_EQ(bl_router_agent_reason(&r, 0), 7);
    CHECK_EQ(bl_router_agent_state(&r, 0), BL_BREAK | 1 << 2); /* a break of its own */
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
    EXPECT_OUT(&r, 1100, BL_OUT_WRAPUP_END, 0, 0, BL_NO_QUEUE);
    EXPECT_OUT(&r, 1100, BL_OUT_OFFER, 3, 0, 0);
    /* Manual wrap-up waits for "ready". */
    CHECK_EQ(bl_router_set_wrapup(&r, 0, 0, 1, 1200), BL_OK);
    CHECK_EQ(bl_router_complete(&r, 0, 3, 1300), BL_OK);
    expect_empty(&r, 1000000);
    CHECK_EQ(bl_router_agent_presence(&r, 0), BL_WRAPUP);
    /* Ending it by hand reports nothing: the caller did it. */
    CHECK_EQ(step_ev(&r, BL_OP_PRESENCE, 0, BL_AVAILABLE, 0, 0, 1000001), BL_OK);
    CHECK_EQ(n_outs, 0);
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

static void test_outputs_of_the_event_itself(void)
{
    bl_router r;
    bl_router_cfg cfg = make_cfg(2, 3, 4);
    cfg.rejoin_ms = 1000;
    cfg.max_convs = 4;
    setup_cfg(&r, &cfg);
    ready_agent(&r, 0, 1, 1, 0);
    ready_agent(&r, 1, 1, 1, 0);
    CHECK_EQ(bl_router_enqueue(&r, 0, 10, 0, 5), BL_OK);
    EXPECT_OUT(&r, 5, BL_OUT_OFFER, 10, 0, 0);
    /* A reassignment: RETURNED from the old holder right before the OFFER. */
    CHECK_EQ(step_ev(&r, BL_OP_ASSIGN, 1, 10, 0, 0, 6), BL_OK);
    EXPECT_OUT(&r, 6, BL_OUT_RETURNED, 10, 0, 0);
    EXPECT_OUT(&r, 6, BL_OUT_OFFER, 10, 1, 0);
    CHECK_EQ(n_outs, 2);
    /* Private: queue BL_NO_QUEUE while addressed to an agent, offered from there, back
     * there when its agent leaves. */
    CHECK_EQ(step_ev(&r, BL_OP_ENQUEUE_PRIVATE, 0, 11, 0, 1, 7), BL_OK);
    EXPECT_OUT(&r, 7, BL_OUT_OFFER, 11, 0, BL_NO_QUEUE);
    CHECK_EQ(step_ev(&r, BL_OP_PRESENCE, 0, BL_OFFLINE, 0, 0, 10), BL_OK);
    EXPECT_OUT(&r, 10, BL_OUT_RETURNED, 11, 0, BL_NO_QUEUE);
    CHECK_EQ(n_outs, 1);
    CHECK_EQ(bl_router_conv_agent(&r, 11), 0);
    /* What the caller names itself is not reported back: complete, transfer, abandon. */
    CHECK_EQ(step_ev(&r, BL_OP_TRANSFER_QUEUE, 1, 10, 1, 0, 11), BL_OK);
    CHECK_EQ(n_outs, 0); /* agent 1 serves queue 0 only */
    CHECK_EQ(step_ev(&r, BL_OP_ABANDON, 0, 10, 0, 0, 12), BL_OK);
    CHECK_EQ(n_outs, 0);
    /* The pool (4) is full: a new conversation evicts the oldest tombstone. */
    CHECK_EQ(bl_router_enqueue(&r, 1, 12, 0, 13), BL_OK);
    CHECK_EQ(bl_router_enqueue(&r, 1, 13, 0, 13), BL_OK);
    CHECK_EQ(step_ev(&r, BL_OP_ENQUEUE, 1, 14, 0, 0, 14), BL_OK);
    EXPECT_OUT(&r, 14, BL_OUT_FORGOTTEN, 10, BL_NONE, BL_NO_QUEUE);
    CHECK_EQ(n_outs, 1);
    CHECK_EQ(bl_router_conv_state(&r, 10), BL_ENOENT);
    /* The rejoin window ending: FORGOTTEN too. */
    CHECK_EQ(bl_router_abandon(&r, 14, 15), BL_OK);
    expect_empty(&r, 1014);
    EXPECT_OUT(&r, 1015, BL_OUT_FORGOTTEN, 14, BL_NONE, BL_NO_QUEUE);
    expect_empty(&r, 1015);
    /* NEXT's own offer. */
    CHECK_EQ(bl_router_set_queue(&r, 1, BL_MANUAL, BL_NO_QUEUE, BL_NEVER, BL_NEVER, 1016),
             BL_OK);
    CHECK_EQ(bl_router_configure_agent(&r, 2, 1, 2, 0, 1016), BL_OK);
    CHECK_EQ(bl_router_set_presence(&r, 2, BL_AVAILABLE, 0, 1016), BL_OK);
    expect_empty(&r, 1016);
    CHECK_EQ(step_ev(&r, BL_OP_NEXT, 2, 0, 0, 0, 1017), BL_OK);
    EXPECT_OUT(&r, 1017, BL_OUT_OFFER, 12, 2, 1);
    CHECK_EQ(n_outs, 1);
}

static void test_max_wait(void)
{
    bl_router r;
    bl_router_cfg cfg = make_cfg(3, 1, 8);
    int64_t due;
    cfg.rejoin_ms = 100000;
    setup_cfg(&r, &cfg);
    CHECK_EQ(bl_router_set_max_wait(&r, 0, 1000, 0), BL_OK);
    CHECK_EQ(bl_router_enqueue(&r, 0, 1, 0, 100), BL_OK);
    CHECK_EQ(bl_router_enqueue(&r, 0, 2, 300, 200), BL_OK); /* score 300 at once */
    CHECK_EQ(bl_router_enqueue(&r, 0, 3, 0, 200), BL_OK);
    expect_empty(&r, 899);
    CHECK_EQ(bl_router_next_due(&r, &due), BL_OK);
    CHECK_EQ(due, 900); /* 2's key is -100 */
    EXPECT_OUT(&r, 1100, BL_OUT_EXPIRED, 2, BL_NONE, 0);
    EXPECT_OUT(&r, 1100, BL_OUT_EXPIRED, 1, BL_NONE, 0);
    expect_empty(&r, 1100);
    CHECK_EQ(bl_router_conv_state(&r, 1), BL_ABANDONED);
    CHECK_EQ(bl_router_position(&r, 3), 0);
    CHECK_EQ(bl_router_next_due(&r, &due), BL_OK);
    CHECK_EQ(due, 1200);
    /* A tombstone like abandon's: rejoin gives the old place back (and, past the max
     * wait, it expires again at the next timer pass unless offered first). */
    CHECK_EQ(bl_router_rejoin(&r, 1, 1150), BL_OK);
    CHECK_EQ(bl_router_position(&r, 1), 0);
    EXPECT_OUT(&r, 1150, BL_OUT_EXPIRED, 1, BL_NONE, 0);
    /* Changing the threshold is looked at by the next event, not the changing one. */
    CHECK_EQ(step_ev(&r, BL_OP_SET_MAX_WAIT, 0, 100, 0, 0, 1160), BL_OK);
    CHECK_EQ(n_outs, 0);
    CHECK_EQ(bl_router_next_due(&r, &due), BL_OK);
    CHECK(due <= 1160);
    EXPECT_OUT(&r, 1160, BL_OUT_EXPIRED, 3, BL_NONE, 0);
    expect_empty(&r, 1160);
    /* Private ones are not judged: only the queue's own. */
    CHECK_EQ(bl_router_enqueue_private(&r, 0, 4, 0, 0, 2000), BL_OK);
    expect_empty(&r, 10000);
    CHECK_EQ(bl_router_conv_state(&r, 4), BL_WAITING);
    /* Overflow and max wait in one queue: the tier runs first, so with both due in the
     * same pass the conversation moves on, and the queue it lands in judges it. With
     * timely ticks the earlier deadline fires first. */
    CHECK_EQ(bl_router_set_queue(&r, 1, BL_LONGEST_IDLE, 2, BL_NEVER, 500, 10000), BL_OK);
    CHECK_EQ(bl_router_set_max_wait(&r, 1, 800, 10000), BL_OK);
    CHECK_EQ(bl_router_set_max_wait(&r, 2, 900, 10000), BL_OK);
    CHECK_EQ(bl_router_enqueue(&r, 1, 5, 0, 10000), BL_OK);
    CHECK_EQ(bl_router_enqueue(&r, 1, 6, 0, 10000), BL_OK);
    EXPECT_OUT(&r, 10500, BL_OUT_OVERFLOW, 5, BL_NONE, 2);
    EXPECT_OUT(&r, 10500, BL_OUT_OVERFLOW, 6, BL_NONE, 2);
    EXPECT_OUT(&r, 10900, BL_OUT_EXPIRED, 5, BL_NONE, 2);
    EXPECT_OUT(&r, 10900, BL_OUT_EXPIRED, 6, BL_NONE, 2);
    CHECK_EQ(bl_router_set_queue(&r, 1, BL_LONGEST_IDLE, 2, BL_NEVER, 2000, 20000), BL_OK);
    CHECK_EQ(bl_router_enqueue(&r, 1, 7, 0, 20000), BL_OK);
    EXPECT_OUT(&r, 20800, BL_OUT_EXPIRED, 7, BL_NONE, 1); /* max wait below overflow */
    /* One late tick past both: overflow, then expiry in the queue it moved to. */
    CHECK_EQ(bl_router_enqueue(&r, 1, 8, 0, 30000), BL_OK);
    EXPECT_OUT(&r, 40000, BL_OUT_OVERFLOW, 8, BL_NONE, 2);
    EXPECT_OUT(&r, 40000, BL_OUT_EXPIRED, 8, BL_NONE, 2);
    expect_empty(&r, 40000);
    CHECK_EQ(bl_router_conv_state(&r, 8), BL_ABANDONED);
    /* Without a rejoin window an expired conversation is gone at once. */
    cfg.rejoin_ms = 0;
    setup_cfg(&r, &cfg);
    CHECK_EQ(bl_router_set_max_wait(&r, 2, 10, 0), BL_OK);
    CHECK_EQ(bl_router_enqueue(&r, 2, 9, 0, 0), BL_OK);
    EXPECT_OUT(&r, 10, BL_OUT_EXPIRED, 9, BL_NONE, 2);
    CHECK_EQ(bl_router_conv_state(&r, 9), BL_ENOENT);
    expect_empty(&r, 10);
}

static void test_overflow_chain_and_backup_due(void)
{
    bl_router r;
    int64_t due;
    setup(&r, 3, 1, 8);
    CHECK_EQ(bl_router_set_queue(&r, 0, BL_LONGEST_IDLE, 1, 100, 50, 0), BL_OK);
    CHECK_EQ(bl_router_set_queue(&r, 1, BL_LONGEST_IDLE, 2, 400, 60, 0), BL_OK);
    CHECK_EQ(bl_router_enqueue(&r, 0, 1, 0, 0), BL_OK);
    CHECK_EQ(bl_router_enqueue(&r, 1, 2, 0, 30), BL_OK);
    CHECK_EQ(bl_router_backup_due(&r, 0, &due), BL_OK);
    CHECK_EQ(due, 100); /* 0's head reaches 100 ms at 100; 1's at 430 */
    CHECK_EQ(bl_router_backup_due(&r, 100, &due), BL_OK);
    CHECK_EQ(due, 430); /* strictly after */
    CHECK_EQ(bl_router_backup_due(&r, 430, &due), BL_OK);
    CHECK_EQ(due, INT64_MAX);
    CHECK_EQ(bl_router_backup_due(NULL, 0, &due), BL_EINVAL);
    CHECK_EQ(bl_router_backup_due(&r, 0, NULL), BL_EINVAL);
    /* A late tick: 1 follows the whole chain in one go and is reported once. */
    EXPECT_OUT(&r, 1000, BL_OUT_OVERFLOW, 1, BL_NONE, 2);
    EXPECT_OUT(&r, 1000, BL_OUT_OVERFLOW, 2, BL_NONE, 2);
    expect_empty(&r, 1000);
    CHECK_EQ(bl_router_backup_due(&r, 0, &due), BL_OK);
    CHECK_EQ(due, INT64_MAX); /* queue 2 has no backup tier */
}

static void test_max_outputs_bound(void)
{
    bl_router_cfg cfg = make_cfg(4, 8, 16);
    CHECK_EQ(bl_router_max_outputs(&cfg), 3 * (4 * 16 + 8 * BL_MAX_HELD) + 5 * 8 + 4);
    cfg.max_convs = 10;
    CHECK_EQ(bl_router_max_outputs(&cfg), 3 * 10 + 5 * 8 + 4);
    cfg.n_queues = 0;
    CHECK_EQ(bl_router_max_outputs(&cfg), 0);
    CHECK_EQ(bl_router_max_outputs(NULL), 0);
}

static void test_snapshot_keeps_max_wait(void)
{
    bl_router r;
    bl_router r2;
    size_t len;
    setup(&r, 2, 1, 4);
    CHECK_EQ(bl_router_set_max_wait(&r, 1, 700, 0), BL_OK);
    CHECK_EQ(bl_router_enqueue(&r, 1, 1, 0, 0), BL_OK);
    len = bl_router_snapshot(&r, blob, sizeof(blob));
    CHECK(len > 0);
    CHECK_EQ(blob[4], 2);
    CHECK_EQ(bl_router_restore(&r2, mem2, sizeof(mem2), blob, len), BL_OK);
    n_outs = n_read = 0;
    expect_empty(&r2, 699);
    EXPECT_OUT(&r2, 700, BL_OUT_EXPIRED, 1, BL_NONE, 1);
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
                                    ev->op == BL_OP_TRANSFER_QUEUE ||
                                    ev->op == BL_OP_SET_MAX_WAIT
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
    case BL_OP_SET_MAX_WAIT:
        ev->b = below(2) ? BL_NEVER : 200 + below(400);
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
    static bl_output out[OUT_MAX];
    static bl_output out2[OUT_MAX];
    size_t seen[BL_OUT_WRAPUP_END + 1];
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
    memset(seen, 0, sizeof(seen));
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
        rc = bl_router_step(&r, &ev, out, OUT_MAX, &n);
        CHECK(n <= bl_router_max_outputs(&cfg));
        if (i % 500 < 100) { /* the restored copy follows for a while */
            int rc2 = bl_router_step(&r2, &ev, out2, OUT_MAX, &n2);
            if (rc != rc2 || n != n2 || memcmp(out, out2, n * sizeof(out[0])) != 0) {
                mismatches++;
            }
        }
        {
            size_t k;
            for (k = 0; k < n; k++) {
                CHECK(out[k].kind >= BL_OUT_OFFER && out[k].kind <= BL_OUT_WRAPUP_END);
                if (out[k].kind <= BL_OUT_WRAPUP_END) {
                    seen[out[k].kind]++;
                }
            }
        }
        assigned += (int)n;
        check_invariants(&r);
    }
    CHECK_EQ(mismatches, 0);
    CHECK(assigned > 1000);
    for (i = BL_OUT_OFFER; i <= BL_OUT_WRAPUP_END; i++) {
        if (seen[i] == 0) {
            failed++;
            printf("FAIL %s:%d: output kind %d never seen\n", __FILE__, __LINE__, i);
        }
    }
}

/* Rewrites the CRC-32 (zlib's) that ends a blob of len bytes. */
static void put_crc(uint8_t *b, size_t len)
{
    uint32_t c = 0xFFFFFFFFu;
    size_t i;
    for (i = 0; i + 4 < len; i++) {
        int k;
        c ^= b[i];
        for (k = 0; k < 8; k++) {
            c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
        }
    }
    c = ~c;
    for (i = 0; i < 4; i++) {
        b[len - 4 + i] = (uint8_t)(c >> (8u * i));
    }
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
    blob[4] = 1; /* version 1 (no max waits), with a good checksum: refused */
    put_crc(blob, len);
    CHECK_EQ(bl_router_restore(&r2, mem2, sizeof(mem2), blob, len), BL_ECORRUPT);
    blob[4] = BL_SNAPSHOT_VERSION;
    put_crc(blob, len);
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
    test_outputs_of_the_event_itself();
    test_max_wait();
    test_overflow_chain_and_backup_due();
    test_max_outputs_bound();
    test_snapshot_keeps_max_wait();
    test_random_stream_and_snapshots();
    test_corrupt_snapshots();
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
