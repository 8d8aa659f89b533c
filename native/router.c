/* branchline router core; see router.h for the contract and the assignment rule. */
#include "router.h"

#include <string.h>

/* Slack so that any caller buffer can be aligned up for bl_slot. */
#define BL_SLOT_ALIGN (sizeof(int64_t))

static int cfg_valid(const bl_router_cfg *cfg)
{
    return cfg != NULL && cfg->n_queues >= 1 && cfg->n_queues <= BL_MAX_QUEUES &&
           cfg->n_agents >= 1 && cfg->n_agents <= BL_MAX_AGENTS && cfg->queue_capacity >= 1;
}

size_t bl_router_mem_size(const bl_router_cfg *cfg)
{
    if (!cfg_valid(cfg)) {
        return 0;
    }
    /* At most 32 * 65535 * 16 bytes: no overflow even with a 32-bit size_t. */
    return (size_t)cfg->n_queues * cfg->queue_capacity * sizeof(bl_slot) + BL_SLOT_ALIGN - 1;
}

int bl_router_init(bl_router *r, void *mem, size_t mem_size, const bl_router_cfg *cfg)
{
    uintptr_t addr;
    uint16_t a;

    if (r == NULL || mem == NULL || !cfg_valid(cfg) || mem_size < bl_router_mem_size(cfg)) {
        return BL_EINVAL;
    }
    memset(r, 0, sizeof(*r));
    r->cfg = *cfg;
    addr = (uintptr_t)mem;
    addr = (addr + BL_SLOT_ALIGN - 1) & ~(uintptr_t)(BL_SLOT_ALIGN - 1);
    r->slots = (bl_slot *)addr;
    for (a = 0; a < cfg->n_agents; a++) {
        r->agents[a].presence = BL_OFFLINE;
        r->agents[a].cap = 1;
    }
    return BL_OK;
}

/* Re-derives agent a's bit in r->ready after any change to its presence, cap or load. */
static void refresh_ready(bl_router *r, uint16_t a)
{
    const bl_agent *ag = &r->agents[a];
    uint64_t bit = (uint64_t)1 << a;

    if (ag->presence == BL_AVAILABLE && ag->n_active < ag->cap) {
        r->ready |= bit;
    } else {
        r->ready &= ~bit;
    }
}

int bl_router_configure_agent(bl_router *r, uint16_t agent, uint8_t cap, uint32_t skills)
{
    uint64_t bit;
    uint16_t q;

    if (r == NULL || agent >= r->cfg.n_agents || cap < 1 || cap > BL_MAX_CAP) {
        return BL_EINVAL;
    }
    /* n_queues may be 32, where 1u << 32 would be undefined. */
    if (r->cfg.n_queues < 32 && (skills >> r->cfg.n_queues) != 0) {
        return BL_EINVAL;
    }
    r->agents[agent].cap = cap;
    r->agents[agent].skills = skills;
    bit = (uint64_t)1 << agent;
    for (q = 0; q < r->cfg.n_queues; q++) {
        if (skills & ((uint32_t)1 << q)) {
            r->served_by[q] |= bit;
        } else {
            r->served_by[q] &= ~bit;
        }
    }
    refresh_ready(r, agent);
    return BL_OK;
}

int bl_router_set_presence(bl_router *r, uint16_t agent, uint8_t presence, int64_t now_ms)
{
    bl_agent *ag;

    if (r == NULL || agent >= r->cfg.n_agents || presence > BL_BREAK) {
        return BL_EINVAL;
    }
    ag = &r->agents[agent];
    if (presence == BL_AVAILABLE && ag->presence != BL_AVAILABLE) {
        ag->last_change_ms = now_ms;
    }
    ag->presence = presence;
    refresh_ready(r, agent);
    return BL_OK;
}

int bl_router_enqueue(bl_router *r, uint16_t queue, uint32_t conv, int64_t now_ms)
{
    bl_queue *qu;
    bl_slot *s;
    uint32_t cap;

    if (r == NULL || queue >= r->cfg.n_queues) {
        return BL_EINVAL;
    }
    qu = &r->queues[queue];
    cap = r->cfg.queue_capacity;
    if (qu->count == cap) {
        return BL_EFULL;
    }
    s = &r->slots[(size_t)queue * cap + (qu->head + (uint32_t)qu->count) % cap];
    s->conv = conv;
    s->seq = r->next_seq++;
    s->enq_ms = now_ms;
    qu->count++;
    return BL_OK;
}

/* Serial-number order: a before b. Exact while live seqs span < 2^31 (see bl_slot.seq). */
static int seq_before(uint32_t a, uint32_t b)
{
    return (uint32_t)(a - b) >= 0x80000000u;
}

/* Rule step 3 over the agents in mask (non-empty). */
static uint16_t pick_agent(const bl_router *r, uint64_t mask)
{
    uint16_t best = 0;
    int found = 0;
    uint16_t a;

    for (a = 0; mask != 0; a++, mask >>= 1) {
        const bl_agent *ag = &r->agents[a];
        const bl_agent *bg = &r->agents[best];
        if (!(mask & 1u)) {
            continue;
        }
        /* Ascending a: a strict comparison keeps the lowest index on a full tie. */
        if (!found || ag->n_active < bg->n_active ||
            (ag->n_active == bg->n_active && ag->last_change_ms < bg->last_change_ms)) {
            best = a;
            found = 1;
        }
    }
    return best;
}

int bl_router_next_assignment(bl_router *r, int64_t now_ms, uint32_t *conv, uint16_t *agent)
{
    int best_q = -1;
    uint32_t best_seq = 0;
    uint16_t q;
    bl_queue *qu;
    bl_slot *s;
    bl_agent *ag;
    uint16_t a;
    uint32_t cap;

    if (r == NULL || conv == NULL || agent == NULL) {
        return BL_EINVAL;
    }
    cap = r->cfg.queue_capacity;
    for (q = 0; q < r->cfg.n_queues; q++) {
        uint32_t seq;
        if (r->queues[q].count == 0 || (r->served_by[q] & r->ready) == 0) {
            continue;
        }
        seq = r->slots[(size_t)q * cap + r->queues[q].head].seq;
        if (best_q < 0 || seq_before(seq, best_seq)) {
            best_q = q;
            best_seq = seq;
        }
    }
    if (best_q < 0) {
        return BL_EEMPTY;
    }
    qu = &r->queues[best_q];
    s = &r->slots[(size_t)best_q * cap + qu->head];
    a = pick_agent(r, r->served_by[best_q] & r->ready);
    ag = &r->agents[a];

    ag->active[ag->n_active++] = s->conv;
    ag->last_change_ms = now_ms;
    refresh_ready(r, a);
    qu->head = (uint16_t)((qu->head + 1u) % cap);
    qu->count--;
    *conv = s->conv;
    *agent = a;
    return BL_OK;
}

int bl_router_complete(bl_router *r, uint16_t agent, uint32_t conv, int64_t now_ms)
{
    bl_agent *ag;
    uint8_t i;

    if (r == NULL || agent >= r->cfg.n_agents) {
        return BL_EINVAL;
    }
    ag = &r->agents[agent];
    for (i = 0; i < ag->n_active && ag->active[i] != conv; i++) {
    }
    if (i == ag->n_active) {
        return BL_ENOENT;
    }
    /* Shift rather than swap so active[] stays in assignment order. */
    for (; i + 1 < ag->n_active; i++) {
        ag->active[i] = ag->active[i + 1];
    }
    ag->n_active--;
    ag->last_change_ms = now_ms;
    refresh_ready(r, agent);
    return BL_OK;
}

int bl_router_queue_length(const bl_router *r, uint16_t queue)
{
    if (r == NULL || queue >= r->cfg.n_queues) {
        return BL_EINVAL;
    }
    return r->queues[queue].count;
}

int bl_router_agent_load(const bl_router *r, uint16_t agent)
{
    if (r == NULL || agent >= r->cfg.n_agents) {
        return BL_EINVAL;
    }
    return r->agents[agent].n_active;
}

int bl_router_agent_presence(const bl_router *r, uint16_t agent)
{
    if (r == NULL || agent >= r->cfg.n_agents) {
        return BL_EINVAL;
    }
    return r->agents[agent].presence;
}

int bl_router_apply(bl_router *r, const bl_event *ev)
{
    if (r == NULL || ev == NULL) {
        return BL_EINVAL;
    }
    switch (ev->op) {
    case BL_OP_CONFIGURE:
        if (ev->b > BL_MAX_CAP) {
            return BL_EINVAL;
        }
        return bl_router_configure_agent(r, ev->a, (uint8_t)ev->b, ev->c);
    case BL_OP_PRESENCE:
        if (ev->b > BL_BREAK) {
            return BL_EINVAL;
        }
        return bl_router_set_presence(r, ev->a, (uint8_t)ev->b, ev->now_ms);
    case BL_OP_ENQUEUE:
        return bl_router_enqueue(r, ev->a, ev->b, ev->now_ms);
    case BL_OP_COMPLETE:
        return bl_router_complete(r, ev->a, ev->b, ev->now_ms);
    default:
        return BL_EINVAL;
    }
}

/* Drains into out[0..out_cap); returns how many were written. */
static size_t drain(bl_router *r, int64_t now_ms, bl_assignment *out, size_t out_cap)
{
    size_t n = 0;

    while (n < out_cap &&
           bl_router_next_assignment(r, now_ms, &out[n].conv, &out[n].agent) == BL_OK) {
        n++;
    }
    return n;
}

int bl_router_step(bl_router *r, const bl_event *ev, bl_assignment *out, size_t out_cap,
                   size_t *n_out)
{
    int rc;

    if (r == NULL || ev == NULL || n_out == NULL || (out == NULL && out_cap != 0)) {
        return BL_EINVAL;
    }
    rc = bl_router_apply(r, ev);
    *n_out = drain(r, ev->now_ms, out, out_cap);
    return rc;
}

size_t bl_router_run(bl_router *r, const bl_event *evs, size_t n, bl_assignment *out,
                     size_t out_cap, size_t *n_out, int32_t *rcs)
{
    size_t i;
    size_t used = 0;

    if (n_out != NULL) {
        *n_out = 0;
    }
    if (r == NULL || (evs == NULL && n != 0) || n_out == NULL || (out == NULL && out_cap != 0)) {
        return 0;
    }
    for (i = 0; i < n && out_cap - used >= BL_MAX_ASSIGN_PER_EVENT; i++) {
        int rc = bl_router_apply(r, &evs[i]);
        used += drain(r, evs[i].now_ms, out + used, out_cap - used);
        if (rcs != NULL) {
            rcs[i] = rc;
        }
    }
    *n_out = used;
    return i;
}
