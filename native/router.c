/* branchline router core; see router.h for the contract and docs/router.md for the model. */
#include "router_internal.h"

#include <string.h>

#define ALIGN8 (sizeof(int64_t))

/* Keeps a rarely used entry point out of the event dispatch, so that the dispatch needs
 * no stack frame and reaches every op by a tail call. Only a hint: empty elsewhere. */
#if defined(__GNUC__)
#define NOINLINE __attribute__((noinline))
#else
#define NOINLINE
#endif

/* ---- small helpers ------------------------------------------------------------ */

static inline int64_t sat_add(int64_t a, uint32_t b)
{
    return a > I64_MAX - (int64_t)b ? I64_MAX : a + (int64_t)b;
}

static inline int64_t sat_sub(int64_t a, uint32_t b)
{
    return a < I64_MIN + (int64_t)b ? I64_MIN : a - (int64_t)b;
}

static uint16_t resolved_max_convs(const bl_router_cfg *cfg)
{
    uint32_t n;
    if (cfg->max_convs != 0) {
        return cfg->max_convs;
    }
    n = (uint32_t)cfg->n_queues * cfg->queue_capacity + (uint32_t)cfg->n_agents * BL_MAX_HELD;
    return (uint16_t)(n > BL_MAX_CONVS ? BL_MAX_CONVS : n);
}

static uint32_t index_size(uint16_t max_convs)
{
    uint32_t n = 4;
    while (n < 2u * max_convs) {
        n <<= 1;
    }
    return n;
}

size_t bl_router_mem_size(const bl_router_cfg *cfg)
{
    uint16_t m;
    if (!cfg_valid(cfg)) {
        return 0;
    }
    m = resolved_max_convs(cfg);
    /* < 65534 * 48 + 131072 * 2 + 7: fits a 32-bit size_t. */
    return (size_t)m * sizeof(bl_conv) + (size_t)index_size(m) * sizeof(uint16_t) + ALIGN8 - 1;
}

static inline void due_at(bl_router *r, int64_t t)
{
    if (t < r->next_due) {
        r->next_due = t;
    }
}

/* Has a deadline passed at now? One that saturated at INT64_MAX never does: that is
 * next_due's "none pending", and it keeps a record placed at now (offer timeout, return)
 * from being due again in the same timer pass even at now = INT64_MAX, which the bound
 * of bl_router_max_outputs relies on. */
static inline int passed(int64_t end, int64_t now)
{
    return end <= now && end != I64_MAX;
}

/* ---- outputs ------------------------------------------------------------------------ */

/* Outside bl_router_step out_cap is 0 and this drops the output; inside, out_cap is at
 * least the proven bound, so the test never fails there (it keeps a wrong bound from
 * writing past the caller's buffer). */
static inline void emit(bl_router *r, uint8_t kind, uint32_t conv, uint16_t agent,
                        uint8_t queue)
{
    if (r->n_out < r->out_cap) {
        bl_output *o = &r->out[r->n_out++];
        o->conv = conv;
        o->agent = agent;
        o->kind = kind;
        o->queue = queue;
    }
}

/* An output about record x naming where it is now: its home queue, or BL_NO_QUEUE
 * for a private queue. */
static inline void emit_conv(bl_router *r, uint8_t kind, uint16_t x, uint16_t agent)
{
    const bl_conv *c = &r->convs[x];
    emit(r, kind, c->id, agent, c->priv ? BL_NO_QUEUE : c->queue);
}

/* ---- id index (open addressing, linear probing, backward-shift deletion) ------- */

static inline uint16_t find(const bl_router *r, uint32_t id)
{
    return r->index[slot_of(r, id)];
}

/* Empties slot i, moving later entries of the probe run back into the hole. */
static void index_erase_at(bl_router *r, uint32_t i)
{
    uint32_t j = i;
    for (;;) {
        uint32_t k;
        j = (j + 1) & r->index_mask;
        if (r->index[j] == NONE) {
            break;
        }
        k = hash_id(r, r->convs[r->index[j]].id);
        /* Move j's entry into the hole at i unless its home k lies cyclically in (i, j]. */
        if ((i <= j) ? (i < k && k <= j) : (i < k || k <= j)) {
            continue;
        }
        r->index[i] = r->index[j];
        i = j;
    }
    r->index[i] = NONE;
}

/* ---- lists of records ------------------------------------------------------------ */

static inline void list_unlink(bl_router *r, uint16_t *head, uint16_t *tail, uint16_t x)
{
    bl_conv *c = &r->convs[x];
    if (c->prev != NONE) {
        r->convs[c->prev].next = c->next;
    } else {
        *head = c->next;
    }
    if (c->next != NONE) {
        r->convs[c->next].prev = c->prev;
    } else {
        *tail = c->prev;
    }
    c->prev = c->next = NONE;
}

/* Inserts in (key, seq) order, scanning from the tail (new arrivals usually go last). */
static inline void list_insert_sorted(bl_router *r, uint16_t *head, uint16_t *tail, uint16_t x)
{
    bl_conv *c = &r->convs[x];
    uint16_t after = *tail;
    while (after != NONE && before(c, &r->convs[after])) {
        after = r->convs[after].prev;
    }
    c->prev = after;
    if (after == NONE) {
        c->next = *head;
        *head = x;
    } else {
        c->next = r->convs[after].next;
        r->convs[after].next = x;
    }
    if (c->next != NONE) {
        r->convs[c->next].prev = x;
    } else {
        *tail = x;
    }
}

/* ---- pool ------------------------------------------------------------------------- */

/* Frees record x, whose index slot is `slot`. */
static inline void free_record(bl_router *r, uint16_t x, uint32_t slot)
{
    bl_conv *c = &r->convs[x];
    if (r->index[(slot + 1u) & r->index_mask] == NONE) {
        r->index[slot] = NONE; /* the end of its probe run: nothing to move back */
    } else {
        index_erase_at(r, slot);
    }
    c->state = 0;
    c->priv = 0;
    c->t_ms = 0;
    c->prev = NONE;
    c->next = r->free_head;
    c->agent = NONE;
    r->free_head = x;
}

static void release_record(bl_router *r, uint16_t x)
{
    free_record(r, x, slot_of(r, r->convs[x].id));
}

static void drop_tomb(bl_router *r, uint16_t x)
{
    list_unlink(r, &r->tomb_head, &r->tomb_tail, x);
    release_record(r, x);
}

/* Drops the oldest tombstone (rejoin window over, or room needed in the pool). */
static void forget_oldest(bl_router *r)
{
    emit(r, BL_OUT_FORGOTTEN, r->convs[r->tomb_head].id, NONE, BL_NO_QUEUE);
    drop_tomb(r, r->tomb_head);
}

/* ---- readiness -------------------------------------------------------------------- */

/* See router_internal.h. */
void bl_core_ready_off(bl_router *r, const bl_agent *ag)
{
    uint32_t m;
    for (m = ag->primary; m; m &= m - 1u) {
        unsigned q = low_bit32(m);
        r->prim_servable &= ~((uint32_t)((r->primary_by[q] & r->ready) == 0) << q);
    }
    for (m = ag->backup; m; m &= m - 1u) {
        unsigned q = low_bit32(m);
        r->back_servable &= ~((uint32_t)((r->backup_by[q] & r->ready) == 0) << q);
    }
}

/* ---- placing conversations ------------------------------------------------------------ */

/* Does queue q's overflow tier run? (BL_NEVER disables it like BL_NO_QUEUE.) */
static inline int overflow_on(const bl_queue *qu)
{
    return qu->overflow_q != BL_NO_QUEUE && qu->overflow_after_ms != BL_NEVER;
}

static inline void q_insert(bl_router *r, uint8_t q, uint16_t x)
{
    bl_queue *qu = &r->queues[q];
    list_insert_sorted(r, &qu->head, &qu->tail, x);
    if (qu->head == x) {
        q_sync_head(r, qu);
    }
    qu->count++;
    r->nonempty |= (uint32_t)1 << q;
    if (overflow_on(qu)) {
        due_at(r, sat_add(r->convs[x].key, qu->overflow_after_ms));
    }
    if (qu->max_wait_ms != BL_NEVER) {
        due_at(r, sat_add(r->convs[x].key, qu->max_wait_ms));
    }
}

static inline void q_remove(bl_router *r, uint8_t q, uint16_t x)
{
    bl_queue *qu = &r->queues[q];
    int was_head = qu->head == x;
    list_unlink(r, &qu->head, &qu->tail, x);
    if (was_head) {
        q_sync_head(r, qu);
    }
    if (--qu->count == 0) {
        r->nonempty &= ~((uint32_t)1 << q);
    }
}

/* q_remove() of the head of queue q. */
static inline void q_pop(bl_router *r, uint8_t q)
{
    bl_queue *qu = &r->queues[q];
    bl_conv *c = &r->convs[qu->head];
    qu->head = c->next;
    c->next = NONE;
    if (qu->head != NONE) {
        r->convs[qu->head].prev = NONE;
        q_sync_head(r, qu);
    } else {
        qu->tail = NONE;
    }
    if (--qu->count == 0) {
        r->nonempty &= ~((uint32_t)1 << q);
    }
}

static void priv_insert(bl_router *r, uint16_t a, uint16_t x)
{
    bl_agent *ag = &r->agents[a];
    list_insert_sorted(r, &ag->priv_head, &ag->priv_tail, x);
    ag->priv_count++;
    r->priv_waiting |= (uint64_t)1 << a;
    if (r->cfg.private_ms) {
        due_at(r, sat_add(r->convs[x].t_ms, r->cfg.private_ms));
    }
}

static void priv_remove(bl_router *r, uint16_t a, uint16_t x)
{
    bl_agent *ag = &r->agents[a];
    list_unlink(r, &ag->priv_head, &ag->priv_tail, x);
    if (--ag->priv_count == 0) {
        r->priv_waiting &= ~((uint64_t)1 << a);
    }
}

/* held[] as 16-bit lanes of one word (lane k = the k-th held record). */
#define LANES ((uint64_t)0x0001000100010001u)

/* Removes x from the agent's held[] keeping the order, without data-dependent branches
 * (it is on every completion, at a random place): the lowest zero lane of held ^ x
 * (exact, SWAR zero-lane test) is x's lane i; lanes below i stay, the ones above move
 * down one and the top lane becomes NONE. */
static inline void held_remove(bl_router *r, uint16_t a, uint16_t x)
{
    bl_agent *ag = &r->agents[a];
    uint64_t w = ag->held;
    uint64_t v = w ^ (LANES * x);
    uint64_t z = (v - LANES) & ~v & (LANES << 15);
    uint64_t below = ((z & (0u - z)) >> 15) - 1u; /* the lanes under x's */
    ag->held = (w & below) | ((w >> 16) & ~below) | ((uint64_t)NONE << 48);
    ag->n_held--;
}

/* Puts a WAITING record where it belongs: its agent's private queue or its home queue. */
static void place_waiting(bl_router *r, uint16_t x, int64_t now)
{
    bl_conv *c = &r->convs[x];
    c->state = BL_WAITING;
    if (c->priv) {
        c->t_ms = now;
        priv_insert(r, c->agent, x);
    } else {
        c->t_ms = 0;
        c->agent = NONE;
        q_insert(r, c->queue, x);
    }
}

/* Takes a live record out of whatever holds it; the record keeps its fields. A holder
 * loses the slot as by a completion (last_change_ms = now). */
static void detach(bl_router *r, uint16_t x, int64_t now)
{
    bl_conv *c = &r->convs[x];
    switch (c->state) {
    case BL_WAITING:
        if (c->priv) {
            priv_remove(r, c->agent, x);
        } else {
            q_remove(r, c->queue, x);
        }
        break;
    case BL_OFFERED:
    case BL_ACTIVE:
        held_remove(r, c->agent, x);
        r->agents[c->agent].last_change_ms = now;
        refresh_ready(r, c->agent);
        break;
    case BL_REMOTE:
        list_unlink(r, &r->remote_head, &r->remote_tail, x);
        break;
    default: /* BL_ABANDONED */
        list_unlink(r, &r->tomb_head, &r->tomb_tail, x);
        break;
    }
}

static inline void offer(bl_router *r, uint16_t a, uint16_t x, int64_t now)
{
    bl_agent *ag = &r->agents[a];
    bl_conv *c = &r->convs[x];
    c->state = BL_OFFERED;
    c->agent = a;
    c->t_ms = now;
    held_add(ag, x);
    ag->last_change_ms = now;
    refresh_ready(r, a);
    if (r->cfg.offer_timeout_ms) {
        due_at(r, sat_add(now, r->cfg.offer_timeout_ms));
    }
    emit_conv(r, BL_OUT_OFFER, x, a);
}

/* OFFLINE or BREAK: every OFFERED conversation goes back where it was offered from. */
static void leave(bl_router *r, uint16_t a, int64_t now)
{
    bl_agent *ag = &r->agents[a];
    uint8_t i = 0;
    while (i < ag->n_held) {
        uint16_t x = held_at(ag, i);
        if (r->convs[x].state == BL_OFFERED) {
            held_remove(r, a, x);
            place_waiting(r, x, now);
            emit_conv(r, BL_OUT_RETURNED, x, a);
        } else {
            i++;
        }
    }
}

static void start_wrapup(bl_router *r, uint16_t a, int64_t now)
{
    bl_agent *ag = &r->agents[a];
    ag->presence = BL_WRAPUP;
    ag->reason = 0;
    if (ag->wrap_ms && !ag->wrap_manual) {
        ag->wrap_until_ms = sat_add(now, ag->wrap_ms);
        due_at(r, ag->wrap_until_ms);
    } else {
        ag->wrap_until_ms = I64_MAX;
    }
}

/* A detached record becomes an abandonment tombstone for rejoin_ms (freed at once
 * without a rejoin window). */
static void bury(bl_router *r, uint16_t x, int64_t now)
{
    bl_conv *c = &r->convs[x];
    if (r->cfg.rejoin_ms == 0) {
        release_record(r, x);
        return;
    }
    if (!c->priv) {
        c->agent = NONE;
    }
    c->state = BL_ABANDONED;
    c->t_ms = now;
    list_append(r, &r->tomb_head, &r->tomb_tail, x);
    due_at(r, sat_add(now, r->cfg.rejoin_ms));
}

/* ---- timers ------------------------------------------------------------------------------ */

static int overflow_due(const bl_router *r, uint8_t q, int64_t now)
{
    const bl_queue *qu = &r->queues[q];
    return overflow_on(qu) && qu->head != NONE &&
           passed(sat_add(qu->head_key, qu->overflow_after_ms), now);
}

static void run_timers(bl_router *r, int64_t now)
{
    uint16_t a;
    uint8_t q;

    r->next_due = I64_MAX;
    for (a = 0; a < r->cfg.n_agents; a++) {
        bl_agent *ag = &r->agents[a];
        uint8_t i = 0;
        if (ag->presence == BL_WRAPUP && ag->wrap_until_ms != I64_MAX) {
            if (ag->wrap_until_ms <= now) {
                ag->presence = BL_AVAILABLE;
                ag->last_change_ms = ag->wrap_until_ms;
                ag->misses = 0;
                emit(r, BL_OUT_WRAPUP_END, 0, a, BL_NO_QUEUE);
            } else {
                due_at(r, ag->wrap_until_ms);
            }
        }
        while (r->cfg.offer_timeout_ms && i < ag->n_held) {
            uint16_t x = held_at(ag, i);
            bl_conv *c = &r->convs[x];
            int64_t end = sat_add(c->t_ms, r->cfg.offer_timeout_ms);
            if (c->state != BL_OFFERED) {
                i++;
            } else if (!passed(end, now)) {
                due_at(r, end);
                i++;
            } else {
                held_remove(r, a, x);
                place_waiting(r, x, now);
                emit_conv(r, BL_OUT_OFFER_TIMEOUT, x, a);
                if (ag->misses < 0xFF) {
                    ag->misses++;
                }
                if (r->cfg.max_misses && ag->misses >= r->cfg.max_misses) {
                    ag->presence = BL_BREAK;
                    ag->reason = BL_REASON_MISSED;
                    ag->misses = 0;
                    emit(r, BL_OUT_MISSED_BREAK, 0, a, BL_NO_QUEUE);
                    leave(r, a, now);
                    break;
                }
            }
        }
        refresh_ready(r, a);
    }
    if (r->cfg.private_ms) {
        uint64_t m = r->priv_waiting;
        while (m) {
            uint16_t x;
            a = (uint16_t)low_bit64(m);
            m &= m - 1u;
            x = r->agents[a].priv_head;
            while (x != NONE) {
                bl_conv *c = &r->convs[x];
                uint16_t nx = c->next;
                int64_t end = sat_add(c->t_ms, r->cfg.private_ms);
                if (passed(end, now)) {
                    priv_remove(r, a, x);
                    c->priv = 0;
                    place_waiting(r, x, now);
                    emit_conv(r, BL_OUT_PRIVATE_TIMEOUT, x, a);
                } else {
                    due_at(r, end);
                }
                x = nx;
            }
        }
    }
    for (q = 0; q < r->cfg.n_queues; q++) {
        while (overflow_due(r, q, now)) {
            uint16_t x = r->queues[q].head;
            uint8_t to = q;
            /* Follow the (acyclic) chain as far as the conversation is due. */
            do {
                q_remove(r, to, x);
                to = r->queues[to].overflow_q;
                r->convs[x].queue = to;
                q_insert(r, to, x);
            } while (overflow_on(&r->queues[to]) &&
                     passed(sat_add(r->convs[x].key, r->queues[to].overflow_after_ms), now));
            emit_conv(r, BL_OUT_OVERFLOW, x, NONE);
        }
        if (overflow_on(&r->queues[q]) && r->queues[q].head != NONE) {
            due_at(r, sat_add(r->queues[q].head_key, r->queues[q].overflow_after_ms));
        }
    }
    /* After every overflow tier, so that a conversation that overflowed is judged by the
     * max wait of the queue it landed in. */
    for (q = 0; q < r->cfg.n_queues; q++) {
        bl_queue *qu = &r->queues[q];
        while (qu->max_wait_ms != BL_NEVER && qu->head != NONE) {
            uint16_t x = qu->head;
            int64_t end = sat_add(qu->head_key, qu->max_wait_ms);
            if (!passed(end, now)) {
                due_at(r, end);
                break;
            }
            emit_conv(r, BL_OUT_EXPIRED, x, NONE);
            q_pop(r, q);
            bury(r, x, now);
        }
    }
    while (r->tomb_head != NONE) {
        int64_t end = sat_add(r->convs[r->tomb_head].t_ms, r->cfg.rejoin_ms);
        if (!passed(end, now)) {
            due_at(r, end);
            break;
        }
        forget_oldest(r);
    }
}

/* Runs the timers due at now (the common case, nothing due, stays inline). */
static inline void advance(bl_router *r, int64_t now)
{
    if (now >= r->next_due) {
        run_timers(r, now);
    }
}

/* ---- init --------------------------------------------------------------------------------- */

void bl_core_setup(bl_router *r, void *mem, const bl_router_cfg *cfg)
{
    uintptr_t addr = ((uintptr_t)mem + ALIGN8 - 1) & ~(uintptr_t)(ALIGN8 - 1);
    uint16_t m = resolved_max_convs(cfg);
    uint32_t i;

    memset(r, 0, sizeof(*r));
    r->cfg = *cfg;
    r->cfg.max_convs = m;
    r->convs = (bl_conv *)addr;
    r->index = (uint16_t *)(void *)(r->convs + m);
    r->index_mask = index_size(m) - 1u;
    memset(r->convs, 0, (size_t)m * sizeof(bl_conv));
    for (i = 0; i <= r->index_mask; i++) {
        r->index[i] = NONE;
    }
    for (i = 0; i < m; i++) {
        r->convs[i].prev = NONE;
        r->convs[i].agent = NONE;
        r->convs[i].next = (uint16_t)(i + 1u < m ? i + 1u : NONE);
    }
    r->free_head = 0;
    r->remote_head = r->remote_tail = r->tomb_head = r->tomb_tail = NONE;
    r->undo_agent = NONE;
    r->next_due = I64_MAX;
    for (i = 0; i < cfg->n_queues; i++) {
        bl_queue *qu = &r->queues[i];
        qu->backup_after_ms = BL_NEVER;
        qu->overflow_after_ms = BL_NEVER;
        qu->max_wait_ms = BL_NEVER;
        qu->head = qu->tail = NONE;
        qu->rr_last = NONE;
        qu->overflow_q = BL_NO_QUEUE;
    }
    for (i = 0; i < cfg->n_agents; i++) {
        bl_agent *ag = &r->agents[i];
        ag->cap = 1;
        ag->held = ~(uint64_t)0; /* every lane NONE */
        ag->priv_head = ag->priv_tail = NONE;
        ag->wrap_until_ms = I64_MAX;
    }
}

int bl_router_init(bl_router *r, void *mem, size_t mem_size, const bl_router_cfg *cfg)
{
    if (r == NULL || mem == NULL || !cfg_valid(cfg) || mem_size < bl_router_mem_size(cfg)) {
        return BL_EINVAL;
    }
    bl_core_setup(r, mem, cfg);
    return BL_OK;
}

/* ---- entry prologues ------------------------------------------------------------------------ */

/* What every event entry point does first: BL_EINVAL unless `ok` (r != NULL and the
 * arguments in range; nothing changes then), else the timers due at now run. */
static inline int enter(bl_router *r, int ok, int64_t now)
{
    if (!ok) {
        return BL_EINVAL;
    }
    advance(r, now);
    return BL_OK;
}

/* enter(), then the live record of conv in one of the states of `states` (a mask of
 * 1 << state): BL_OK with *x, or BL_EINVAL, BL_ENOENT, BL_ESTATE. */
static inline int enter_live(bl_router *r, int ok, int64_t now, uint32_t conv, unsigned states,
                      uint16_t *x)
{
    uint16_t y;
    if (!ok) {
        return BL_EINVAL;
    }
    advance(r, now);
    y = find(r, conv);
    if (y == NONE) {
        return BL_ENOENT;
    }
    if (!(states & (1u << r->convs[y].state))) {
        return BL_ESTATE;
    }
    *x = y;
    return BL_OK;
}

/* enter(), then the record of a conversation `agent` holds (OFFERED or ACTIVE) and its
 * index slot: BL_OK, BL_EINVAL or BL_ENOENT. */
static inline int enter_held(bl_router *r, uint16_t agent, int64_t now, uint32_t conv, uint16_t *x,
                      uint32_t *slot)
{
    const bl_conv *c;
    if (r == NULL || agent >= r->cfg.n_agents) {
        return BL_EINVAL;
    }
    advance(r, now);
    *slot = slot_of(r, conv);
    *x = r->index[*slot];
    if (*x == NONE) {
        return BL_ENOENT;
    }
    c = &r->convs[*x];
    if ((c->state != BL_OFFERED && c->state != BL_ACTIVE) || c->agent != agent) {
        return BL_ENOENT;
    }
    return BL_OK;
}

#define S(st) (1u << (st))
#define MOVABLE (S(BL_WAITING) | S(BL_OFFERED) | S(BL_ACTIVE))
#define AGENT_OK(r, agent) ((r) != NULL && (agent) < (r)->cfg.n_agents)
#define QUEUE_OK(r, queue) ((r) != NULL && (queue) < (r)->cfg.n_queues)

/* ---- configuration ------------------------------------------------------------------------ */

int bl_router_configure_agent(bl_router *r, uint16_t agent, uint8_t cap, uint32_t primary,
                              uint32_t backup, int64_t now_ms)
{
    bl_agent *ag;
    uint64_t bit = (uint64_t)1 << (agent & 63u);
    uint32_t flip;
    int rc = enter(r, AGENT_OK(r, agent) && cap >= 1 && cap <= BL_MAX_CAP &&
                          ((primary | backup) & ~queue_mask(r)) == 0 && (primary & backup) == 0,
                   now_ms);

    if (rc != BL_OK) {
        return rc;
    }
    ag = &r->agents[agent];
    if (r->ready & bit) {
        r->ready &= ~bit;
        ready_changed(r, agent, 0);
    }
    for (flip = ag->primary ^ primary; flip; flip &= flip - 1u) {
        r->primary_by[low_bit32(flip)] ^= bit;
    }
    for (flip = ag->backup ^ backup; flip; flip &= flip - 1u) {
        r->backup_by[low_bit32(flip)] ^= bit;
    }
    ag->cap = cap;
    ag->primary = primary;
    ag->backup = backup;
    refresh_ready(r, agent);
    return BL_OK;
}

int bl_router_set_presence(bl_router *r, uint16_t agent, uint8_t presence, uint16_t reason,
                           int64_t now_ms)
{
    bl_agent *ag;
    int rc = enter(r, AGENT_OK(r, agent) && presence <= BL_WRAPUP, now_ms);

    if (rc != BL_OK) {
        return rc;
    }
    ag = &r->agents[agent];
    if (presence == ag->presence) {
        if (presence == BL_BREAK) {
            ag->reason = reason;
        }
        return BL_OK;
    }
    ag->reason = presence == BL_BREAK ? reason : 0;
    if (presence == BL_AVAILABLE) {
        ag->last_change_ms = now_ms;
        ag->misses = 0;
    } else if (presence == BL_WRAPUP) {
        start_wrapup(r, agent, now_ms);
    } else {
        leave(r, agent, now_ms);
    }
    ag->presence = presence;
    refresh_ready(r, agent);
    return BL_OK;
}

/* bl_router_set_queue with strategy | overflow_q << 8 in one argument: six arguments,
 * so the event dispatch reaches it by a tail call (no stack frame there). */
static int set_queue(bl_router *r, uint16_t queue, uint32_t how, uint32_t backup_after_ms,
                     uint32_t overflow_after_ms, int64_t now_ms)
{
    uint8_t strategy = (uint8_t)(how & 0xFFu);
    uint8_t overflow_q = (uint8_t)(how >> 8);
    bl_queue *qu;
    int rc = enter(r, QUEUE_OK(r, queue) && strategy <= BL_MANUAL &&
                          (overflow_q == BL_NO_QUEUE ||
                           (overflow_q < r->cfg.n_queues &&
                            !makes_cycle(r, (uint8_t)queue, overflow_q))),
                   now_ms);

    if (rc != BL_OK) {
        return rc;
    }
    qu = &r->queues[queue];
    qu->strategy = strategy;
    qu->overflow_q = overflow_q;
    qu->backup_after_ms = backup_after_ms;
    qu->overflow_after_ms = overflow_after_ms;
    if (strategy == BL_MANUAL) {
        r->manual |= (uint32_t)1 << queue;
    } else {
        r->manual &= ~((uint32_t)1 << queue);
    }
    r->next_due = I64_MIN; /* thresholds changed: look again at the next call */
    return BL_OK;
}

int bl_router_set_queue(bl_router *r, uint16_t queue, uint8_t strategy, uint8_t overflow_q,
                        uint32_t backup_after_ms, uint32_t overflow_after_ms, int64_t now_ms)
{
    return set_queue(r, queue, strategy | (uint32_t)overflow_q << 8, backup_after_ms,
                     overflow_after_ms, now_ms);
}

NOINLINE int bl_router_set_max_wait(bl_router *r, uint16_t queue, uint32_t max_wait_ms,
                                    int64_t now_ms)
{
    int rc = enter(r, QUEUE_OK(r, queue), now_ms);

    if (rc == BL_OK) {
        r->queues[queue].max_wait_ms = max_wait_ms;
        r->next_due = I64_MIN; /* a threshold changed: look again at the next call */
    }
    return rc;
}

NOINLINE int bl_router_set_wrapup(bl_router *r, uint16_t agent, uint32_t wrap_ms,
                                  uint8_t manual, int64_t now_ms)
{
    int rc = enter(r, AGENT_OK(r, agent) && manual <= 1, now_ms);

    if (rc == BL_OK) {
        r->agents[agent].wrap_ms = wrap_ms;
        r->agents[agent].wrap_manual = manual;
    }
    return rc;
}

/* ---- conversations ------------------------------------------------------------------------- */

/* A fresh WAITING record for conv in home queue `queue` (a tombstone of the same id is
 * dropped), or BL_EEXIST / BL_EFULL. `room` says whether the target has room (checked
 * after EEXIST). One probe of the index finds the id or the slot a new id goes to. */
static inline int new_record(bl_router *r, uint32_t conv, uint32_t prio, uint16_t queue, int room,
                      int64_t now, uint16_t *out)
{
    uint32_t slot = slot_of(r, conv);
    uint16_t x = r->index[slot];
    int moved = 0; /* the index changed since slot was found */
    bl_conv *c;

    if (x != NONE && r->convs[x].state != BL_ABANDONED) {
        return BL_EEXIST;
    }
    if (!room) {
        return BL_EFULL;
    }
    if (x != NONE) {
        drop_tomb(r, x);
        moved = 1;
    }
    if (r->free_head == NONE) {
        if (r->tomb_head == NONE) {
            return BL_EFULL;
        }
        forget_oldest(r);
        moved = 1;
    }
    x = r->free_head;
    c = &r->convs[x];
    r->free_head = c->next;
    c->next = NONE;
    c->id = conv;
    c->prio = prio;
    c->key = sat_sub(now, prio);
    c->seq = r->next_seq++;
    c->state = BL_WAITING;
    c->queue = (uint8_t)queue;
    r->index[moved ? slot_of(r, conv) : slot] = x;
    *out = x;
    return BL_OK;
}

int bl_router_enqueue(bl_router *r, uint16_t queue, uint32_t conv, uint32_t prio,
                      int64_t now_ms)
{
    uint16_t x;
    int rc = enter(r, QUEUE_OK(r, queue), now_ms);

    if (rc == BL_OK) {
        rc = new_record(r, conv, prio, queue,
                        r->queues[queue].count < r->cfg.queue_capacity, now_ms, &x);
    }
    if (rc == BL_OK) {
        q_insert(r, (uint8_t)queue, x);
    }
    return rc;
}

int bl_router_enqueue_private(bl_router *r, uint16_t agent, uint32_t conv, uint32_t prio,
                              uint16_t home_queue, int64_t now_ms)
{
    uint16_t x;
    int rc = enter(r, AGENT_OK(r, agent) && home_queue < r->cfg.n_queues, now_ms);

    if (rc == BL_OK) {
        rc = new_record(r, conv, prio, home_queue, 1, now_ms, &x);
    }
    if (rc == BL_OK) {
        r->convs[x].priv = 1;
        r->convs[x].agent = agent;
        r->convs[x].t_ms = now_ms;
        priv_insert(r, agent, x);
    }
    return rc;
}

int bl_router_accept(bl_router *r, uint16_t agent, uint32_t conv, int64_t now_ms)
{
    uint16_t x;
    uint32_t slot;
    int rc = enter_held(r, agent, now_ms, conv, &x, &slot);

    if (rc == BL_OK && r->convs[x].state == BL_OFFERED) {
        r->convs[x].state = BL_ACTIVE;
        r->convs[x].t_ms = 0;
        r->convs[x].priv = 0;
        r->agents[agent].misses = 0;
    }
    return rc;
}

int bl_router_complete(bl_router *r, uint16_t agent, uint32_t conv, int64_t now_ms)
{
    bl_agent *ag;
    uint16_t x;
    uint32_t slot;
    int rc = enter_held(r, agent, now_ms, conv, &x, &slot);

    if (rc != BL_OK) {
        return rc;
    }
    ag = &r->agents[agent];
    held_remove(r, agent, x);
    free_record(r, x, slot);
    ag->last_change_ms = now_ms;
    if ((ag->presence == BL_AVAILABLE || ag->presence == BL_WRAPUP) &&
        (ag->wrap_ms || ag->wrap_manual)) {
        start_wrapup(r, agent, now_ms);
    }
    refresh_ready(r, agent);
    return BL_OK;
}

int bl_router_abandon(bl_router *r, uint32_t conv, int64_t now_ms)
{
    uint16_t x;
    int rc = enter_live(r, r != NULL, now_ms, conv, S(BL_WAITING) | S(BL_OFFERED), &x);

    if (rc != BL_OK) {
        return rc;
    }
    detach(r, x, now_ms);
    bury(r, x, now_ms);
    return BL_OK;
}

int bl_router_rejoin(bl_router *r, uint32_t conv, int64_t now_ms)
{
    uint16_t x;
    bl_conv *c;
    int rc = enter_live(r, r != NULL, now_ms, conv, S(BL_ABANDONED), &x);

    if (rc != BL_OK) {
        return rc;
    }
    c = &r->convs[x];
    if (!c->priv && r->queues[c->queue].count >= r->cfg.queue_capacity) {
        return BL_EFULL;
    }
    list_unlink(r, &r->tomb_head, &r->tomb_tail, x);
    place_waiting(r, x, now_ms);
    return BL_OK;
}

int bl_router_assign(bl_router *r, uint16_t agent, uint32_t conv, uint8_t force,
                     int64_t now_ms)
{
    bl_agent *ag;
    uint16_t x;
    uint16_t from; /* the holder it is taken from, or NONE */
    int rc = enter_live(r, AGENT_OK(r, agent) && force <= 1, now_ms, conv, MOVABLE, &x);

    if (rc != BL_OK) {
        return rc;
    }
    ag = &r->agents[agent];
    from = r->convs[x].state == BL_WAITING ? NONE : r->convs[x].agent;
    if (from == agent) {
        return BL_ESTATE;
    }
    if (!force && ag->presence == BL_OFFLINE) {
        return BL_ESTATE;
    }
    if (ag->n_held >= (force ? BL_MAX_HELD : ag->cap)) {
        return BL_EFULL;
    }
    detach(r, x, now_ms);
    r->convs[x].priv = 0;
    if (from != NONE) {
        emit_conv(r, BL_OUT_RETURNED, x, from);
    }
    offer(r, agent, x, now_ms);
    return BL_OK;
}

/* Is the head x of queue q past the queue's backup threshold at now? */
static inline int backup_ok(const bl_router *r, uint8_t q, uint16_t x, int64_t now)
{
    uint32_t t = r->queues[q].backup_after_ms;
    return t != BL_NEVER && r->convs[x].key <= sat_sub(now, t);
}

int bl_router_take_next(bl_router *r, uint16_t agent, int64_t now_ms, uint32_t *conv)
{
    bl_agent *ag;
    uint16_t best = NONE;
    uint32_t m;
    int rc = enter(r, AGENT_OK(r, agent), now_ms);

    if (rc != BL_OK) {
        return rc;
    }
    ag = &r->agents[agent];
    if (ag->presence != BL_AVAILABLE) {
        return BL_ESTATE;
    }
    if (ag->n_held >= ag->cap) {
        return BL_EFULL;
    }
    m = (ag->primary | ag->backup) & r->nonempty;
    while (m) {
        uint8_t q = (uint8_t)low_bit32(m);
        uint16_t h = r->queues[q].head;
        m &= m - 1u;
        if (!(ag->primary & ((uint32_t)1 << q)) && !backup_ok(r, q, h, now_ms)) {
            continue;
        }
        if (best == NONE || before(&r->convs[h], &r->convs[best])) {
            best = h;
        }
    }
    if (ag->priv_head != NONE &&
        (best == NONE || before(&r->convs[ag->priv_head], &r->convs[best]))) {
        best = ag->priv_head;
    }
    if (best == NONE) {
        return BL_EEMPTY;
    }
    detach(r, best, now_ms);
    offer(r, agent, best, now_ms);
    if (conv != NULL) {
        *conv = r->convs[best].id;
    }
    return BL_OK;
}

int bl_router_transfer_agent(bl_router *r, uint16_t agent, uint32_t conv, int64_t now_ms)
{
    bl_conv *c;
    uint16_t x;
    int rc = enter_live(r, AGENT_OK(r, agent), now_ms, conv, MOVABLE, &x);

    if (rc != BL_OK) {
        return rc;
    }
    c = &r->convs[x];
    if (c->agent == agent && (c->state != BL_WAITING || c->priv)) {
        return BL_ESTATE; /* it is that agent's already */
    }
    detach(r, x, now_ms);
    c->priv = 1;
    c->agent = agent;
    place_waiting(r, x, now_ms);
    return BL_OK;
}

int bl_router_transfer_queue(bl_router *r, uint16_t queue, uint32_t conv, uint8_t keep,
                             int64_t now_ms)
{
    bl_conv *c;
    uint16_t x;
    int rc = enter_live(r, QUEUE_OK(r, queue) && keep <= 1, now_ms, conv, MOVABLE, &x);

    if (rc != BL_OK) {
        return rc;
    }
    c = &r->convs[x];
    if (r->queues[queue].count >= r->cfg.queue_capacity &&
        !(c->state == BL_WAITING && !c->priv && c->queue == queue)) {
        return BL_EFULL;
    }
    detach(r, x, now_ms);
    c->priv = 0;
    c->queue = (uint8_t)queue;
    if (!keep) {
        c->key = sat_sub(now_ms, c->prio);
        c->seq = r->next_seq++;
    }
    place_waiting(r, x, now_ms);
    return BL_OK;
}

int bl_router_upstream(bl_router *r, uint32_t conv, int64_t now_ms)
{
    bl_conv *c;
    uint16_t x;
    int rc = enter_live(r, r != NULL, now_ms, conv, MOVABLE, &x);

    if (rc != BL_OK) {
        return rc;
    }
    detach(r, x, now_ms);
    c = &r->convs[x];
    c->state = BL_REMOTE;
    c->priv = 0;
    c->agent = NONE;
    c->t_ms = 0;
    list_append(r, &r->remote_head, &r->remote_tail, x);
    return BL_OK;
}

int bl_router_release(bl_router *r, uint32_t conv, int64_t now_ms)
{
    uint16_t x;
    int rc = enter_live(r, r != NULL, now_ms, conv, S(BL_REMOTE), &x);

    if (rc == BL_OK) {
        list_unlink(r, &r->remote_head, &r->remote_tail, x);
        release_record(r, x);
    }
    return rc;
}

NOINLINE int bl_router_tick(bl_router *r, int64_t now_ms)
{
    return enter(r, r != NULL, now_ms);
}

/* ---- assignment ------------------------------------------------------------------------------ */

static uint16_t pick_agent(bl_router *r, uint8_t q, uint64_t mask)
{
    bl_queue *qu = &r->queues[q];
    uint16_t best = NONE;

    switch (qu->strategy) {
    case BL_ROUND_ROBIN: {
        uint64_t after = 0;
        if (qu->rr_last != NONE && qu->rr_last + 1u < 64u) {
            after = mask & ~(((uint64_t)1 << (qu->rr_last + 1u)) - 1u);
        }
        best = (uint16_t)low_bit64(after ? after : mask);
        qu->rr_last = best;
        return best;
    }
    case BL_ORDERED:
        return (uint16_t)low_bit64(mask);
    default: /* LONGEST_IDLE, FEWEST_ACTIVE (MANUAL queues are never drained) */
        if ((mask & (mask - 1u)) == 0) { /* one eligible agent: the usual case */
            return (uint16_t)low_bit64(mask);
        }
        while (mask) {
            uint16_t a = (uint16_t)low_bit64(mask);
            const bl_agent *ag = &r->agents[a];
            mask &= mask - 1u;
            if (best == NONE) {
                best = a;
                continue;
            }
            if (qu->strategy == BL_FEWEST_ACTIVE) {
                if (ag->n_held != r->agents[best].n_held) {
                    if (ag->n_held < r->agents[best].n_held) {
                        best = a;
                    }
                    continue;
                }
            }
            if (ag->last_change_ms < r->agents[best].last_change_ms) {
                best = a;
            }
        }
        return best;
    }
}

/* assign_one() past its quick test. */
static int assign_from(bl_router *r, int64_t now)
{
    uint32_t cand = r->nonempty & ~r->manual;
    uint32_t m = cand & r->prim_servable; /* queues with a ready primary agent */
    uint64_t pm = r->priv_waiting & r->ready; /* ready agents with a private queue */
    uint16_t best = NONE;
    int best_q = -1;
    uint16_t a = NONE;
    uint16_t x;

    cand &= r->back_servable & ~m;
    while (cand) { /* queues only backups could serve: is the head past the threshold? */
        uint8_t q = (uint8_t)low_bit32(cand);
        cand &= cand - 1u;
        if (backup_ok(r, q, r->queues[q].head, now)) {
            m |= (uint32_t)1 << q;
        }
    }
    if (m) { /* the lowest (key, seq) head, from the copies in the queue table */
        best_q = (int)low_bit32(m);
        m &= m - 1u;
        while (m) {
            /* Selects with a mask: which head wins is random, a branch would miss. */
            unsigned q = low_bit32(m);
            const bl_queue *qu = &r->queues[q];
            const bl_queue *bq = &r->queues[best_q];
            unsigned sel = 0u - (unsigned)((qu->head_key < bq->head_key) |
                                           ((qu->head_key == bq->head_key) &
                                            (qu->head_seq < bq->head_seq)));
            m &= m - 1u;
            best_q = (int)((unsigned)best_q ^ ((q ^ (unsigned)best_q) & sel));
        }
        best = r->queues[best_q].head;
    }
    while (pm) {
        uint16_t h;
        uint16_t b = (uint16_t)low_bit64(pm);
        pm &= pm - 1u;
        h = r->agents[b].priv_head;
        if (best == NONE || before(&r->convs[h], &r->convs[best])) {
            best = h;
            a = b;
            best_q = -1;
        }
    }
    if (best == NONE) {
        return BL_EEMPTY;
    }
    x = best;
    if (best_q < 0) {
        priv_remove(r, a, x);
    } else {
        uint8_t q = (uint8_t)best_q;
        uint64_t elig = r->primary_by[q];
        if (backup_ok(r, q, x, now)) {
            elig |= r->backup_by[q];
        }
        a = pick_agent(r, q, elig & r->ready);
        q_pop(r, q);
    }
    offer(r, a, x, now);
    return BL_OK;
}

/* The assignment rule once: BL_OK (an offer made), or BL_EEMPTY. No timers: an event
 * runs them once, before its own change. */
static inline int assign_one(bl_router *r, int64_t now)
{
    if (((r->nonempty & ~r->manual & (r->prim_servable | r->back_servable)) |
         (r->priv_waiting & r->ready)) == 0) { /* nothing to assign: the usual end of a drain */
        return BL_EEMPTY;
    }
    return assign_from(r, now);
}

/* ---- queries ----------------------------------------------------------------------------------- */

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
    return r->agents[agent].n_held;
}

int bl_router_agent_presence(const bl_router *r, uint16_t agent)
{
    if (r == NULL || agent >= r->cfg.n_agents) {
        return BL_EINVAL;
    }
    return r->agents[agent].presence;
}

int bl_router_agent_reason(const bl_router *r, uint16_t agent)
{
    if (r == NULL || agent >= r->cfg.n_agents) {
        return BL_EINVAL;
    }
    return r->agents[agent].reason;
}

int bl_router_agent_state(const bl_router *r, uint16_t agent)
{
    const bl_agent *a;
    if (r == NULL || agent >= r->cfg.n_agents) {
        return BL_EINVAL;
    }
    a = &r->agents[agent];
    return a->presence | a->n_held << 2
           | (a->presence == BL_BREAK && a->reason == BL_REASON_MISSED) << 5;
}

static int conv_field(const bl_router *r, uint32_t conv, int which)
{
    uint16_t x;
    if (r == NULL) {
        return BL_EINVAL;
    }
    x = find(r, conv);
    if (x == NONE) {
        return BL_ENOENT;
    }
    switch (which) {
    case 0:
        return r->convs[x].state;
    case 1:
        return r->convs[x].queue;
    default:
        return r->convs[x].agent;
    }
}

int bl_router_conv_state(const bl_router *r, uint32_t conv)
{
    return conv_field(r, conv, 0);
}

int bl_router_conv_queue(const bl_router *r, uint32_t conv)
{
    return conv_field(r, conv, 1);
}

int bl_router_conv_agent(const bl_router *r, uint32_t conv)
{
    return conv_field(r, conv, 2);
}

int bl_router_next_due(const bl_router *r, int64_t *due)
{
    if (r == NULL || due == NULL) {
        return BL_EINVAL;
    }
    *due = r->next_due;
    return BL_OK;
}

int bl_router_backup_due(const bl_router *r, int64_t after_ms, int64_t *due)
{
    int64_t best = I64_MAX;
    uint32_t m;
    if (r == NULL || due == NULL) {
        return BL_EINVAL;
    }
    for (m = r->nonempty; m; m &= m - 1u) {
        const bl_queue *qu = &r->queues[low_bit32(m)];
        /* backup_ok()'s test, key <= now - backup_after_ms, first holds at this time */
        int64_t t = sat_add(qu->head_key, qu->backup_after_ms);
        if (qu->backup_after_ms != BL_NEVER && t > after_ms && t < best) {
            best = t;
        }
    }
    *due = best;
    return BL_OK;
}

int bl_router_position(const bl_router *r, uint32_t conv)
{
    uint16_t x;
    int n = 0;
    if (r == NULL) {
        return BL_EINVAL;
    }
    x = find(r, conv);
    if (x == NONE) {
        return BL_ENOENT;
    }
    if (r->convs[x].state != BL_WAITING) {
        return BL_ESTATE;
    }
    while (r->convs[x].prev != NONE) {
        x = r->convs[x].prev;
        n++;
    }
    return n;
}

/* ---- events ------------------------------------------------------------------------------------- */

/* One event (a pure dispatch: no locals, so the calls are tail calls). */
static int apply_one(bl_router *r, const bl_event *ev)
{
    switch (ev->op) {
    case BL_OP_CONFIGURE:
        if (ev->b > BL_MAX_CAP) {
            return BL_EINVAL;
        }
        return bl_router_configure_agent(r, ev->a, (uint8_t)ev->b, ev->c, ev->d, ev->now_ms);
    case BL_OP_PRESENCE:
        if (ev->b > BL_WRAPUP || ev->c > 0xFFFFu) {
            return BL_EINVAL;
        }
        return bl_router_set_presence(r, ev->a, (uint8_t)ev->b, (uint16_t)ev->c, ev->now_ms);
    case BL_OP_ENQUEUE:
        return bl_router_enqueue(r, ev->a, ev->b, ev->c, ev->now_ms);
    case BL_OP_COMPLETE:
        return bl_router_complete(r, ev->a, ev->b, ev->now_ms);
    case BL_OP_SET_QUEUE:
        if (ev->b > 0xFFFFu) {
            return BL_EINVAL;
        }
        return set_queue(r, ev->a, ev->b, ev->c, ev->d, ev->now_ms);
    case BL_OP_SET_WRAPUP:
        if (ev->c > 1) {
            return BL_EINVAL;
        }
        return bl_router_set_wrapup(r, ev->a, ev->b, (uint8_t)ev->c, ev->now_ms);
    case BL_OP_ENQUEUE_PRIVATE:
        if (ev->d > 0xFFFFu) {
            return BL_EINVAL;
        }
        return bl_router_enqueue_private(r, ev->a, ev->b, ev->c, (uint16_t)ev->d, ev->now_ms);
    case BL_OP_ACCEPT:
        return bl_router_accept(r, ev->a, ev->b, ev->now_ms);
    case BL_OP_ABANDON:
        return bl_router_abandon(r, ev->b, ev->now_ms);
    case BL_OP_REJOIN:
        return bl_router_rejoin(r, ev->b, ev->now_ms);
    case BL_OP_ASSIGN:
        if (ev->c > 1) {
            return BL_EINVAL;
        }
        return bl_router_assign(r, ev->a, ev->b, (uint8_t)ev->c, ev->now_ms);
    case BL_OP_NEXT:
        return bl_router_take_next(r, ev->a, ev->now_ms, NULL);
    case BL_OP_TRANSFER_AGENT:
        return bl_router_transfer_agent(r, ev->a, ev->b, ev->now_ms);
    case BL_OP_TRANSFER_QUEUE:
        if (ev->c > 1) {
            return BL_EINVAL;
        }
        return bl_router_transfer_queue(r, ev->a, ev->b, (uint8_t)ev->c, ev->now_ms);
    case BL_OP_UPSTREAM:
        return bl_router_upstream(r, ev->b, ev->now_ms);
    case BL_OP_RELEASE:
        return bl_router_release(r, ev->b, ev->now_ms);
    case BL_OP_TICK:
        return bl_router_tick(r, ev->now_ms);
    case BL_OP_SET_MAX_WAIT:
        return bl_router_set_max_wait(r, ev->a, ev->b, ev->now_ms);
    default:
        return BL_EINVAL;
    }
}

/* The bound, per event (one timer pass, T; the event's own change, E; the drain, D):
 *
 * T, per record. A record held at the start is returned at most once (OFFER_TIMEOUT, or
 * RETURNED when the missed-offer break sends its agent away) and then waits with
 * t_ms = now (private) or in a queue; a record waiting privately leaves at most once
 * (PRIVATE_TIMEOUT) into its home queue; nothing placed at now is due again in the
 * pass (offer, private and rejoin deadlines are now + a positive time, never reached:
 * passed()), and no offer is made in T. A queued record overflows at most once (the
 * chain is followed in one go, to a queue where it is not due: one OVERFLOW), then
 * expires at most once (EXPIRED: the max-wait loop comes after every overflow tier, and
 * the tombstone it leaves, abandoned at now, is not due in the tomb loop). A tombstone
 * of the start is dropped at most once (FORGOTTEN). So at most 3 per record (returned
 * or private timeout, overflow, expired), and per agent at most one WRAPUP_END and one
 * MISSED_BREAK (each agent is visited once): 3 * max_convs + 2 * n_agents.
 * E: set_presence returns the leaving agent's offers (at most BL_MAX_HELD RETURNED);
 * ASSIGN writes RETURNED + OFFER; NEXT one OFFER; enqueue one FORGOTTEN (at most one
 * tombstone is evicted for its one new record); the rest nothing: <= BL_MAX_HELD.
 * D: only offers (no timers run), each to a ready agent below its cap, and nothing
 * returns, so at most cap <= BL_MAX_CAP per agent: BL_MAX_CAP * n_agents.
 * None of this assumes a drained router. */
static size_t max_outputs(const bl_router_cfg *cfg, uint16_t max_convs)
{
    return 3u * (size_t)max_convs + (2u + BL_MAX_CAP) * (size_t)cfg->n_agents + BL_MAX_HELD;
}

size_t bl_router_max_outputs(const bl_router_cfg *cfg)
{
    return cfg_valid(cfg) ? max_outputs(cfg, resolved_max_convs(cfg)) : 0;
}

/* Applies ev, then drains, writing the outputs to out[0..out_cap) (out_cap >= the
 * bound). */
static inline int step_into(bl_router *r, const bl_event *ev, bl_output *out, size_t out_cap,
                            size_t *n_out)
{
    int rc;

    r->out = out;
    r->out_cap = out_cap > 0xFFFFFFFFu ? 0xFFFFFFFFu : (uint32_t)out_cap;
    r->n_out = 0;
    rc = apply_one(r, ev);
    while (assign_one(r, ev->now_ms) == BL_OK) {
    }
    *n_out = r->n_out;
    r->out = NULL;
    r->out_cap = 0;
    return rc;
}

int bl_router_step(bl_router *r, const bl_event *ev, bl_output *out, size_t out_cap,
                   size_t *n_out)
{
    if (r == NULL || ev == NULL || n_out == NULL || out == NULL ||
        out_cap < max_outputs(&r->cfg, r->cfg.max_convs)) {
        return BL_EINVAL;
    }
    return step_into(r, ev, out, out_cap, n_out);
}

size_t bl_router_run(bl_router *r, const bl_event *evs, size_t n, bl_output *out,
                     size_t out_cap, size_t *n_out, int32_t *rcs)
{
    size_t i;
    size_t used = 0;
    size_t bound;

    if (n_out != NULL) {
        *n_out = 0;
    }
    if (r == NULL || (evs == NULL && n != 0) || n_out == NULL || (out == NULL && out_cap != 0)) {
        return 0;
    }
    bound = max_outputs(&r->cfg, r->cfg.max_convs);
    for (i = 0; i < n && out_cap - used >= bound; i++) {
        size_t got;
        int rc = step_into(r, &evs[i], out + used, out_cap - used, &got);
        used += got;
        if (rcs != NULL) {
            rcs[i] = rc;
        }
    }
    *n_out = used;
    return i;
}
