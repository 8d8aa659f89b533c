/* What router.c and router_snapshot.c share: the small helpers both use on the
 * structures of router.h. Private to the core (not installed, not part of the contract);
 * the snapshot codec lives in its own file, and everything it needs of the core's
 * internals is here, so neither file copies the other's code. */
#ifndef BL_ROUTER_INTERNAL_H
#define BL_ROUTER_INTERNAL_H

#include "router.h"

#define I64_MAX INT64_MAX
#define I64_MIN INT64_MIN
#define NONE ((uint16_t)BL_NONE)

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

static inline int cfg_valid(const bl_router_cfg *cfg)
{
    return cfg != NULL && cfg->n_queues >= 1 && cfg->n_queues <= BL_MAX_QUEUES &&
           cfg->n_agents >= 1 && cfg->n_agents <= BL_MAX_AGENTS && cfg->queue_capacity >= 1 &&
           cfg->max_convs <= BL_MAX_CONVS;
}

static inline uint32_t queue_mask(const bl_router *r)
{
    return r->cfg.n_queues >= 32 ? 0xFFFFFFFFu : (((uint32_t)1 << r->cfg.n_queues) - 1u);
}

/* (key, seq) order: x before y. */
static inline int before(const bl_conv *x, const bl_conv *y)
{
    return (x->key < y->key) | ((x->key == y->key) & (x->seq < y->seq));
}

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

static inline void q_sync_head(bl_router *r, bl_queue *qu)
{
    if (qu->head != NONE) {
        qu->head_key = r->convs[qu->head].key;
        qu->head_seq = r->convs[qu->head].seq;
    }
}

/* ready_changed's slow path: an agent stopped being ready; recheck its own queues. */
void bl_core_ready_off(bl_router *r, const bl_agent *ag);

/* Agent a's bit in r->ready was just set (on) or cleared: keep the servable masks
 * exact (bit q <=> some ready agent serves q at that level). Becoming ready only adds
 * queues; stopping rechecks the agent's own queues against the remaining ready set,
 * unless the agent's becoming ready was the last change of `ready`: then the ready set
 * is back to what it was before, and so are the masks (the usual completion, offer
 * round trip: an agent frees a slot and is offered the next conversation at once).
 * primary_by/backup_by change only for an agent that is not ready, which leaves the
 * masks of any ready set without it as they were. */
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
        bl_core_ready_off(r, ag);
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

/* Would queue q overflowing into `to` close a cycle? */
static inline int makes_cycle(const bl_router *r, uint8_t q, uint8_t to)
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

/* Sets r up over mem for a valid cfg as bl_router_init does (mem large enough). */
void bl_core_setup(bl_router *r, void *mem, const bl_router_cfg *cfg);

#endif /* BL_ROUTER_INTERNAL_H */
