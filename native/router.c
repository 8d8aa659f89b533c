/* branchline router core; see router.h for the contract and docs/router.md for the model. */
#include "router.h"

#include <string.h>

#define I64_MAX INT64_MAX
#define I64_MIN INT64_MIN
#define NONE ((uint16_t)BL_NONE)
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

/* Index of the lowest set bit of a non-zero mask. */
static inline unsigned low_bit64(uint64_t m)
{
#if defined(__GNUC__)
    return (unsigned)__builtin_ctzll(m);
#else
    unsigned i = 0;
    while (!(m & 1u)) {
        m >>= 1;
        i++;
    }
    return i;
#endif
}

static inline unsigned low_bit32(uint32_t m)
{
#if defined(__GNUC__)
    return (unsigned)__builtin_ctz(m);
#else
    return low_bit64(m);
#endif
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

static int cfg_valid(const bl_router_cfg *cfg)
{
    return cfg != NULL && cfg->n_queues >= 1 && cfg->n_queues <= BL_MAX_QUEUES &&
           cfg->n_agents >= 1 && cfg->n_agents <= BL_MAX_AGENTS && cfg->queue_capacity >= 1 &&
           cfg->max_convs <= BL_MAX_CONVS;
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

static uint32_t queue_mask(const bl_router *r)
{
    return r->cfg.n_queues >= 32 ? 0xFFFFFFFFu : (((uint32_t)1 << r->cfg.n_queues) - 1u);
}

static inline void due_at(bl_router *r, int64_t t)
{
    if (t < r->next_due) {
        r->next_due = t;
    }
}

/* (key, seq) order: x before y. */
static inline int before(const bl_conv *x, const bl_conv *y)
{
    return (x->key < y->key) | ((x->key == y->key) & (x->seq < y->seq));
}

/* ---- id index (open addressing, linear probing, backward-shift deletion) ------- */

static inline uint32_t hash_id(const bl_router *r, uint32_t id)
{
    uint32_t h = id * 2654435761u;
    h ^= h >> 16;
    return h & r->index_mask;
}

/* The slot holding id, or the empty slot that ends its probe (where it would go). */
static inline uint32_t slot_of(const bl_router *r, uint32_t id)
{
    uint32_t i = hash_id(r, id);
    uint16_t x;
    while ((x = r->index[i]) != NONE && r->convs[x].id != id) {
        i = (i + 1) & r->index_mask;
    }
    return i;
}

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

static inline void list_append(bl_router *r, uint16_t *head, uint16_t *tail, uint16_t x)
{
    bl_conv *c = &r->convs[x];
    c->next = NONE;
    c->prev = *tail;
    if (*tail != NONE) {
        r->convs[*tail].next = x;
    } else {
        *head = x;
    }
    *tail = x;
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

/* A free record (evicting the oldest tombstone if needed), or NONE. */
static uint16_t alloc_record(bl_router *r)
{
    uint16_t x;
    if (r->free_head == NONE) {
        if (r->tomb_head == NONE) {
            return NONE;
        }
        drop_tomb(r, r->tomb_head);
    }
    x = r->free_head;
    r->free_head = r->convs[x].next;
    r->convs[x].next = NONE;
    return x;
}

/* ---- readiness -------------------------------------------------------------------- */

/* Agent a's bit in r->ready was just set (on) or cleared: keep the servable masks
 * exact (bit q <=> some ready agent serves q at that level). Becoming ready only adds
 * queues; stopping rechecks the agent's own queues against the remaining ready set,
 * unless the agent's becoming ready was the last change of `ready`: then the ready set
 * is back to what it was before, and so are the masks (the usual completion, offer
 * round trip: an agent frees a slot and is offered the next conversation at once).
 * primary_by/backup_by change only for an agent that is not ready, which leaves the
 * masks of any ready set without it as they were. */
static void ready_off(bl_router *r, const bl_agent *ag)
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

static inline void ready_changed(bl_router *r, uint16_t a, int on)
{
    const bl_agent *ag = &r->agents[a];
    if (on) {
        r->undo_agent = a;
        r->undo_prim = r->prim_servable;
        r->undo_back = r->back_servable;
        r->prim_servable |= ag->primary;
        r->back_servable |= ag->backup;
    } else if (r->undo_agent == a) {
        r->undo_agent = NONE;
        r->prim_servable = r->undo_prim;
        r->back_servable = r->undo_back;
    } else {
        r->undo_agent = NONE;
        ready_off(r, ag);
    }
}

static inline void refresh_ready(bl_router *r, uint16_t a)
{
    const bl_agent *ag = &r->agents[a];
    uint64_t bit = (uint64_t)1 << a;
    uint64_t want = bit & (0u - (uint64_t)((ag->presence == BL_AVAILABLE) & (ag->n_held < ag->cap)));

    if ((r->ready & bit) == want) {
        return;
    }
    r->ready ^= bit;
    ready_changed(r, a, want != 0);
}

/* ---- placing conversations ------------------------------------------------------------ */

static inline void q_sync_head(bl_router *r, bl_queue *qu)
{
    if (qu->head != NONE) {
        qu->head_key = r->convs[qu->head].key;
        qu->head_seq = r->convs[qu->head].seq;
    }
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
    if (qu->overflow_q != BL_NO_QUEUE) {
        due_at(r, sat_add(r->convs[x].key, qu->overflow_after_ms));
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

static inline uint16_t held_at(const bl_agent *ag, unsigned k)
{
    return (uint16_t)(ag->held >> (16u * k));
}

/* Appends x (n_held < BL_MAX_HELD): the lane is NONE, so clearing NONE ^ x leaves x. */
static inline void held_add(bl_agent *ag, uint16_t x)
{
    ag->held &= ~((uint64_t)(uint16_t)(NONE ^ x) << (16u * ag->n_held));
    ag->n_held++;
}

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

/* ---- timers ------------------------------------------------------------------------------ */

static int overflow_due(const bl_router *r, uint8_t q, int64_t now)
{
    const bl_queue *qu = &r->queues[q];
    return qu->overflow_q != BL_NO_QUEUE && qu->head != NONE &&
           sat_add(r->convs[qu->head].key, qu->overflow_after_ms) <= now;
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
            } else if (end > now) {
                due_at(r, end);
                i++;
            } else {
                held_remove(r, a, x);
                place_waiting(r, x, now);
                if (ag->misses < 0xFF) {
                    ag->misses++;
                }
                if (r->cfg.max_misses && ag->misses >= r->cfg.max_misses) {
                    ag->presence = BL_BREAK;
                    ag->reason = BL_REASON_MISSED;
                    ag->misses = 0;
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
                if (end <= now) {
                    priv_remove(r, a, x);
                    c->priv = 0;
                    place_waiting(r, x, now);
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
            } while (r->queues[to].overflow_q != BL_NO_QUEUE &&
                     sat_add(r->convs[x].key, r->queues[to].overflow_after_ms) <= now);
        }
        if (r->queues[q].overflow_q != BL_NO_QUEUE && r->queues[q].head != NONE) {
            due_at(r, sat_add(r->convs[r->queues[q].head].key, r->queues[q].overflow_after_ms));
        }
    }
    while (r->tomb_head != NONE) {
        int64_t end = sat_add(r->convs[r->tomb_head].t_ms, r->cfg.rejoin_ms);
        if (end > now) {
            due_at(r, end);
            break;
        }
        drop_tomb(r, r->tomb_head);
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

static void setup(bl_router *r, void *mem, const bl_router_cfg *cfg)
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
    setup(r, mem, cfg);
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

/* Would queue q overflowing into `to` close a cycle? */
static int makes_cycle(const bl_router *r, uint8_t q, uint8_t to)
{
    unsigned steps = 0;
    while (to != BL_NO_QUEUE && steps <= r->cfg.n_queues) {
        if (to == q) {
            return 1;
        }
        to = r->queues[to].overflow_q;
        steps++;
    }
    return 0;
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
        drop_tomb(r, r->tomb_head);
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
    bl_conv *c;
    int rc = enter_live(r, r != NULL, now_ms, conv, S(BL_WAITING) | S(BL_OFFERED), &x);

    if (rc != BL_OK) {
        return rc;
    }
    detach(r, x, now_ms);
    c = &r->convs[x];
    if (r->cfg.rejoin_ms == 0) {
        release_record(r, x);
        return BL_OK;
    }
    if (!c->priv) {
        c->agent = NONE;
    }
    c->state = BL_ABANDONED;
    c->t_ms = now_ms;
    list_append(r, &r->tomb_head, &r->tomb_tail, x);
    due_at(r, sat_add(now_ms, r->cfg.rejoin_ms));
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
    int rc = enter_live(r, AGENT_OK(r, agent) && force <= 1, now_ms, conv, MOVABLE, &x);

    if (rc != BL_OK) {
        return rc;
    }
    ag = &r->agents[agent];
    if (r->convs[x].state != BL_WAITING && r->convs[x].agent == agent) {
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
    int rc = enter(r, AGENT_OK(r, agent) && conv != NULL, now_ms);

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
    *conv = r->convs[best].id;
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
static int assign_from(bl_router *r, int64_t now, bl_assignment *out)
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
    out->conv = r->convs[x].id;
    out->agent = a;
    return BL_OK;
}

/* The assignment rule once (timers first): BL_OK with *out, or BL_EEMPTY. */
static inline int assign_one(bl_router *r, int64_t now, bl_assignment *out)
{
    advance(r, now);
    if (((r->nonempty & ~r->manual & (r->prim_servable | r->back_servable)) |
         (r->priv_waiting & r->ready)) == 0) { /* nothing to assign: the usual end of a drain */
        return BL_EEMPTY;
    }
    return assign_from(r, now, out);
}

int bl_router_next_assignment(bl_router *r, int64_t now_ms, uint32_t *conv, uint16_t *agent)
{
    bl_assignment got;
    int rc;

    if (r == NULL || conv == NULL || agent == NULL) {
        return BL_EINVAL;
    }
    rc = assign_one(r, now_ms, &got);
    if (rc == BL_OK) {
        *conv = got.conv;
        *agent = got.agent;
    }
    return rc;
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

/* NEXT and ASSIGN, the events that make an assignment of their own: *own gets it
 * (agent NONE when there is none). */
static int apply_own(bl_router *r, const bl_event *ev, bl_assignment *own)
{
    int rc;

    own->agent = NONE;
    if (ev->op == BL_OP_NEXT) {
        rc = bl_router_take_next(r, ev->a, ev->now_ms, &own->conv);
    } else if (ev->c > 1) {
        return BL_EINVAL;
    } else {
        rc = bl_router_assign(r, ev->a, ev->b, (uint8_t)ev->c, ev->now_ms);
        own->conv = ev->b;
    }
    if (rc == BL_OK) {
        own->agent = ev->a;
    }
    return rc;
}

#define OWN_OP(op) ((op) == BL_OP_NEXT || (op) == BL_OP_ASSIGN)

/* Every other event (a pure dispatch: no locals, so the calls are tail calls). */
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
    default:
        return BL_EINVAL;
    }
}

int bl_router_apply(bl_router *r, const bl_event *ev)
{
    bl_assignment own;
    if (r == NULL || ev == NULL) {
        return BL_EINVAL;
    }
    return OWN_OP(ev->op) ? apply_own(r, ev, &own) : apply_one(r, ev);
}

/* Applies ev, then writes its own assignment and the drained ones to out[0..out_cap). */
static inline int step_into(bl_router *r, const bl_event *ev, bl_assignment *out, size_t out_cap,
                     size_t *n_out)
{
    size_t n = 0;
    int rc;

    if (OWN_OP(ev->op)) {
        bl_assignment own;
        rc = apply_own(r, ev, &own);
        if (own.agent != NONE && out_cap > 0) {
            out[n++] = own;
        }
    } else {
        rc = apply_one(r, ev);
    }
    while (n < out_cap && assign_one(r, ev->now_ms, &out[n]) == BL_OK) {
        n++;
    }
    *n_out = n;
    return rc;
}

int bl_router_step(bl_router *r, const bl_event *ev, bl_assignment *out, size_t out_cap,
                   size_t *n_out)
{
    if (r == NULL || ev == NULL || n_out == NULL || (out == NULL && out_cap != 0)) {
        return BL_EINVAL;
    }
    return step_into(r, ev, out, out_cap, n_out);
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

/* ---- snapshot ----------------------------------------------------------------------------------- */

#define SNAP_HEADER 12 /* magic, version, flags, total length */

typedef struct {
    uint8_t *buf; /* NULL: only count */
    size_t pos;
    size_t cap;
} writer;

static void put(writer *w, uint64_t v, unsigned bytes)
{
    unsigned i;
    for (i = 0; i < bytes; i++) {
        if (w->buf != NULL && w->pos < w->cap) {
            w->buf[w->pos] = (uint8_t)(v >> (8u * i));
        }
        w->pos++;
    }
}

static void put_conv(writer *w, const bl_conv *c)
{
    put(w, c->id, 4);
    put(w, c->prio, 4);
    put(w, (uint64_t)c->key, 8);
    put(w, c->seq, 8);
    put(w, (uint64_t)c->t_ms, 8);
    put(w, c->agent, 2);
    put(w, c->queue, 1);
    put(w, c->state, 1);
    put(w, c->priv, 1);
}

static void put_list(writer *w, const bl_router *r, uint16_t x, uint16_t count)
{
    put(w, count, 2);
    for (; x != NONE; x = r->convs[x].next) {
        put_conv(w, &r->convs[x]);
    }
}

static uint16_t list_len(const bl_router *r, uint16_t x)
{
    uint16_t n = 0;
    for (; x != NONE; x = r->convs[x].next) {
        n++;
    }
    return n;
}

static uint32_t crc32(const uint8_t *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    size_t i;
    for (i = 0; i < n; i++) {
        unsigned k;
        c ^= p[i];
        for (k = 0; k < 8; k++) {
            c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
        }
    }
    return ~c;
}

static void write_all(const bl_router *r, writer *w)
{
    const bl_router_cfg *cfg = &r->cfg;
    uint16_t i;

    put(w, 'B', 1);
    put(w, 'L', 1);
    put(w, 'R', 1);
    put(w, 'S', 1);
    put(w, BL_SNAPSHOT_VERSION, 2);
    put(w, 0, 2);
    put(w, 0, 4); /* total length, patched by the caller */
    put(w, cfg->n_queues, 2);
    put(w, cfg->n_agents, 2);
    put(w, cfg->queue_capacity, 2);
    put(w, cfg->max_convs, 2);
    put(w, cfg->offer_timeout_ms, 4);
    put(w, cfg->rejoin_ms, 4);
    put(w, cfg->private_ms, 4);
    put(w, cfg->max_misses, 1);
    put(w, r->next_seq, 8);
    for (i = 0; i < cfg->n_queues; i++) {
        const bl_queue *qu = &r->queues[i];
        put(w, qu->strategy, 1);
        put(w, qu->overflow_q, 1);
        put(w, qu->rr_last, 2);
        put(w, qu->backup_after_ms, 4);
        put(w, qu->overflow_after_ms, 4);
        put_list(w, r, qu->head, qu->count);
    }
    for (i = 0; i < cfg->n_agents; i++) {
        const bl_agent *ag = &r->agents[i];
        uint8_t k;
        put(w, ag->presence, 1);
        put(w, ag->cap, 1);
        put(w, ag->misses, 1);
        put(w, ag->wrap_manual, 1);
        put(w, ag->reason, 2);
        put(w, ag->primary, 4);
        put(w, ag->backup, 4);
        put(w, ag->wrap_ms, 4);
        put(w, (uint64_t)ag->last_change_ms, 8);
        put(w, (uint64_t)ag->wrap_until_ms, 8);
        put(w, ag->n_held, 1);
        for (k = 0; k < ag->n_held; k++) {
            put_conv(w, &r->convs[held_at(ag, k)]);
        }
        put_list(w, r, ag->priv_head, ag->priv_count);
    }
    put_list(w, r, r->remote_head, list_len(r, r->remote_head));
    put_list(w, r, r->tomb_head, list_len(r, r->tomb_head));
}

size_t bl_router_snapshot_size(const bl_router *r)
{
    writer w = {NULL, 0, 0};
    if (r == NULL) {
        return 0;
    }
    write_all(r, &w);
    return w.pos + 4;
}

size_t bl_router_snapshot(const bl_router *r, uint8_t *buf, size_t cap)
{
    writer w;
    size_t n;
    if (r == NULL || buf == NULL) {
        return 0;
    }
    n = bl_router_snapshot_size(r);
    if (cap < n) {
        return 0;
    }
    w.buf = buf;
    w.pos = 0;
    w.cap = cap;
    write_all(r, &w);
    w.pos = 8;
    put(&w, n, 4);
    w.pos = n - 4;
    put(&w, crc32(buf, n - 4), 4);
    return n;
}

typedef struct {
    const uint8_t *p;
    size_t pos;
    size_t len;
    int bad;
} reader;

static uint64_t get(reader *rd, unsigned bytes)
{
    uint64_t v = 0;
    unsigned i;
    if (rd->len - rd->pos < bytes) {
        rd->bad = 1;
        rd->pos = rd->len;
        return 0;
    }
    for (i = 0; i < bytes; i++) {
        v |= (uint64_t)rd->p[rd->pos + i] << (8u * i);
    }
    rd->pos += bytes;
    return v;
}

int bl_router_snapshot_cfg(const uint8_t *blob, size_t len, bl_router_cfg *cfg)
{
    reader rd;
    uint32_t total;
    bl_router_cfg c;

    if (blob == NULL || cfg == NULL) {
        return BL_EINVAL;
    }
    if (len < SNAP_HEADER + 21 + 4 || memcmp(blob, "BLRS", 4) != 0) {
        return BL_ECORRUPT;
    }
    rd.p = blob;
    rd.pos = 4;
    rd.len = len;
    rd.bad = 0;
    if (get(&rd, 2) != BL_SNAPSHOT_VERSION || get(&rd, 2) != 0) {
        return BL_ECORRUPT;
    }
    total = (uint32_t)get(&rd, 4);
    if (total != len || crc32(blob, len - 4) != (uint32_t)(blob[len - 4] |
                                                           (uint32_t)blob[len - 3] << 8 |
                                                           (uint32_t)blob[len - 2] << 16 |
                                                           (uint32_t)blob[len - 1] << 24)) {
        return BL_ECORRUPT;
    }
    c.n_queues = (uint16_t)get(&rd, 2);
    c.n_agents = (uint16_t)get(&rd, 2);
    c.queue_capacity = (uint16_t)get(&rd, 2);
    c.max_convs = (uint16_t)get(&rd, 2);
    c.offer_timeout_ms = (uint32_t)get(&rd, 4);
    c.rejoin_ms = (uint32_t)get(&rd, 4);
    c.private_ms = (uint32_t)get(&rd, 4);
    c.max_misses = (uint8_t)get(&rd, 1);
    if (!cfg_valid(&c) || c.max_convs == 0) {
        return BL_ECORRUPT;
    }
    *cfg = c;
    return BL_OK;
}

/* Reads one record into a fresh pool record; NONE on any inconsistency. */
static uint16_t get_conv(bl_router *r, reader *rd)
{
    bl_conv c;
    uint16_t x;
    uint32_t slot;

    c.id = (uint32_t)get(rd, 4);
    c.prio = (uint32_t)get(rd, 4);
    c.key = (int64_t)get(rd, 8);
    c.seq = get(rd, 8);
    c.t_ms = (int64_t)get(rd, 8);
    c.agent = (uint16_t)get(rd, 2);
    c.queue = (uint8_t)get(rd, 1);
    c.state = (uint8_t)get(rd, 1);
    c.priv = (uint8_t)get(rd, 1);
    slot = slot_of(r, c.id);
    if (rd->bad || c.queue >= r->cfg.n_queues || c.priv > 1 || c.seq >= r->next_seq ||
        (c.agent != NONE && c.agent >= r->cfg.n_agents) || r->index[slot] != NONE ||
        r->free_head == NONE) {
        return NONE;
    }
    x = alloc_record(r); /* a free record: never evicts a tombstone here */
    c.prev = c.next = NONE;
    r->convs[x] = c;
    r->index[slot] = x;
    return x;
}

/* Reads a counted list whose records must be in `state`, sorted when `sorted`, and
 * pass `check`; appends them with add(). 0 on success. */
static int get_list(bl_router *r, reader *rd, uint8_t state, int sorted,
                    uint16_t *head, uint16_t *tail)
{
    uint16_t n = (uint16_t)get(rd, 2);
    uint16_t last = NONE;
    while (n-- > 0) {
        uint16_t x = get_conv(r, rd);
        if (x == NONE || r->convs[x].state != state ||
            (sorted && last != NONE && !before(&r->convs[last], &r->convs[x]))) {
            return -1;
        }
        list_append(r, head, tail, x);
        last = x;
    }
    return rd->bad ? -1 : 0;
}

static int restore_body(bl_router *r, reader *rd)
{
    uint16_t i;
    uint16_t x;

    r->next_seq = get(rd, 8);
    for (i = 0; i < r->cfg.n_queues; i++) {
        bl_queue *qu = &r->queues[i];
        uint8_t strategy = (uint8_t)get(rd, 1);
        uint8_t oq = (uint8_t)get(rd, 1);
        qu->rr_last = (uint16_t)get(rd, 2);
        qu->backup_after_ms = (uint32_t)get(rd, 4);
        qu->overflow_after_ms = (uint32_t)get(rd, 4);
        if (strategy > BL_MANUAL || (oq != BL_NO_QUEUE && (oq >= r->cfg.n_queues || oq == i)) ||
            (qu->rr_last != NONE && qu->rr_last >= r->cfg.n_agents)) {
            return -1;
        }
        qu->strategy = strategy;
        qu->overflow_q = oq;
        if (strategy == BL_MANUAL) {
            r->manual |= (uint32_t)1 << i;
        }
        if (get_list(r, rd, BL_WAITING, 1, &qu->head, &qu->tail) != 0) {
            return -1;
        }
        for (x = qu->head; x != NONE; x = r->convs[x].next) {
            if (r->convs[x].priv || r->convs[x].queue != i || r->convs[x].agent != NONE) {
                return -1;
            }
            qu->count++;
        }
        q_sync_head(r, qu);
        if (qu->count) {
            r->nonempty |= (uint32_t)1 << i;
        }
    }
    for (i = 0; i < r->cfg.n_queues; i++) {
        if (r->queues[i].overflow_q != BL_NO_QUEUE &&
            makes_cycle(r, (uint8_t)i, r->queues[i].overflow_q)) {
            return -1;
        }
    }
    for (i = 0; i < r->cfg.n_agents; i++) {
        bl_agent *ag = &r->agents[i];
        uint8_t presence = (uint8_t)get(rd, 1);
        uint8_t cap = (uint8_t)get(rd, 1);
        uint8_t k;
        uint8_t n_held;
        uint32_t primary;
        uint32_t backup;
        ag->misses = (uint8_t)get(rd, 1);
        ag->wrap_manual = (uint8_t)get(rd, 1);
        ag->reason = (uint16_t)get(rd, 2);
        primary = (uint32_t)get(rd, 4);
        backup = (uint32_t)get(rd, 4);
        ag->wrap_ms = (uint32_t)get(rd, 4);
        ag->last_change_ms = (int64_t)get(rd, 8);
        ag->wrap_until_ms = (int64_t)get(rd, 8);
        n_held = (uint8_t)get(rd, 1);
        if (presence > BL_WRAPUP || cap < 1 || cap > BL_MAX_CAP || ag->wrap_manual > 1 ||
            ((primary | backup) & ~queue_mask(r)) != 0 || (primary & backup) != 0 ||
            n_held > BL_MAX_HELD) {
            return -1;
        }
        ag->presence = presence;
        ag->cap = cap;
        ag->primary = primary;
        ag->backup = backup;
        for (; primary; primary &= primary - 1u) {
            r->primary_by[low_bit32(primary)] |= (uint64_t)1 << i;
        }
        for (; backup; backup &= backup - 1u) {
            r->backup_by[low_bit32(backup)] |= (uint64_t)1 << i;
        }
        for (k = 0; k < n_held; k++) {
            x = get_conv(r, rd);
            if (x == NONE || r->convs[x].agent != i ||
                (r->convs[x].state != BL_OFFERED && r->convs[x].state != BL_ACTIVE)) {
                return -1;
            }
            held_add(ag, x);
        }
        if (get_list(r, rd, BL_WAITING, 1, &ag->priv_head, &ag->priv_tail) != 0) {
            return -1;
        }
        for (x = ag->priv_head; x != NONE; x = r->convs[x].next) {
            if (!r->convs[x].priv || r->convs[x].agent != i) {
                return -1;
            }
            ag->priv_count++;
        }
        if (ag->priv_count) {
            r->priv_waiting |= (uint64_t)1 << i;
        }
        refresh_ready(r, i);
    }
    if (get_list(r, rd, BL_REMOTE, 0, &r->remote_head, &r->remote_tail) != 0) {
        return -1;
    }
    for (x = r->remote_head; x != NONE; x = r->convs[x].next) {
        if (r->convs[x].priv || r->convs[x].agent != NONE) {
            return -1;
        }
    }
    if (get_list(r, rd, BL_ABANDONED, 0, &r->tomb_head, &r->tomb_tail) != 0) {
        return -1;
    }
    for (x = r->tomb_head; x != NONE; x = r->convs[x].next) {
        if ((r->convs[x].agent == NONE) != (r->convs[x].priv == 0)) {
            return -1;
        }
    }
    if (rd->pos != rd->len - 4) {
        return -1;
    }
    r->next_due = I64_MIN; /* recomputed by the first call */
    return 0;
}

int bl_router_restore(bl_router *r, void *mem, size_t mem_size, const uint8_t *blob,
                      size_t len)
{
    bl_router_cfg cfg;
    reader rd;
    int rc;

    if (r == NULL || mem == NULL || blob == NULL) {
        return BL_EINVAL;
    }
    rc = bl_router_snapshot_cfg(blob, len, &cfg);
    if (rc != BL_OK) {
        return rc;
    }
    if (mem_size < bl_router_mem_size(&cfg)) {
        return BL_EINVAL;
    }
    setup(r, mem, &cfg);
    rd.p = blob;
    rd.pos = SNAP_HEADER + 21;
    rd.len = len;
    rd.bad = 0;
    if (restore_body(r, &rd) != 0 || rd.bad) {
        setup(r, mem, &cfg);
        return BL_ECORRUPT;
    }
    return BL_OK;
}
