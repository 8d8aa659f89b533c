/* branchline router core: the snapshot codec (bl_router_snapshot*, bl_router_restore).
 * The layout is in docs/router.md; router.h is the contract. */
#include "router_internal.h"

#include <string.h>

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
        put(w, qu->max_wait_ms, 4);
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

/* The first free record (the caller checked there is one: restore never evicts). */
static uint16_t take_free(bl_router *r)
{
    uint16_t x = r->free_head;
    r->free_head = r->convs[x].next;
    r->convs[x].next = NONE;
    return x;
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
    x = take_free(r);
    c.prev = c.next = NONE;
    r->convs[x] = c;
    r->index[slot] = x;
    return x;
}

/* Reads a counted list whose records must be in `state` (and in (key, seq) order when
 * `sorted`), appending them to head/tail. 0 on success. */
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
        qu->max_wait_ms = (uint32_t)get(rd, 4);
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
    bl_core_setup(r, mem, &cfg);
    rd.p = blob;
    rd.pos = SNAP_HEADER + 21;
    rd.len = len;
    rd.bad = 0;
    if (restore_body(r, &rd) != 0 || rd.bad) {
        bl_core_setup(r, mem, &cfg);
        return BL_ECORRUPT;
    }
    return BL_OK;
}
