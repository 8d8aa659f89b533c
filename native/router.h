/*
 * branchline router: queue state and deterministic assignment.
 *
 * Pure logic: no I/O, no malloc, no globals, no clock. Time is passed in as
 * now_ms by the caller; the router never compares times for validity (a clock
 * that steps backwards only changes who counts as "longest idle").
 *
 * Memory: bl_router is a caller-owned struct of fixed size; the ring storage
 * of the queues lives in a caller-owned buffer of bl_router_mem_size(cfg)
 * bytes handed to bl_router_init. The buffer needs no particular alignment
 * (the router aligns inside it; the size accounts for that) and must outlive
 * the router. Nothing else is allocated.
 *
 * Errors: every function returns a BL_* code (or a non-negative count). An
 * invalid argument, NULL pointers included, returns BL_EINVAL and leaves the
 * state untouched.
 *
 * Assignment rule (bl_router_next_assignment):
 *   1. Candidate conversations are the heads of the queues. A head is
 *      assignable when at least one agent is eligible for its queue:
 *      presence AVAILABLE, active < cap, and the queue's bit set in skills.
 *   2. Among assignable heads, the one enqueued first wins (smallest global
 *      enqueue sequence number), so the oldest waiting conversation that can
 *      be served is served, whatever its queue.
 *   3. Among that queue's eligible agents: fewest active conversations, then
 *      longest idle (smallest last_change_ms: time of the last assignment,
 *      completion, or becoming AVAILABLE), then lowest index.
 *   The conversation is popped and added to the agent's active slots, and the
 *   agent's last_change_ms becomes now_ms.
 *
 * Conversation ids are opaque: the router does not check that an id is
 * unique across queues and agents (issue 3 will decide who enforces that).
 */
#ifndef BL_ROUTER_H
#define BL_ROUTER_H

#include <stddef.h>
#include <stdint.h>

#define BL_MAX_QUEUES 32
#define BL_MAX_AGENTS 64
#define BL_MAX_CAP 3

/* Return codes. */
#define BL_OK 0
#define BL_EINVAL (-1) /* bad argument: NULL, out-of-range queue/agent/cap/presence/skills, unknown op */
#define BL_EFULL (-2)  /* queue full: nothing is ever overwritten */
#define BL_ENOENT (-3) /* conversation not held by that agent */
#define BL_EEXIST (-4) /* reserved for conflicts (not returned by this version) */
#define BL_EEMPTY (-5) /* no assignment possible */

/* Presence. */
#define BL_OFFLINE 0
#define BL_AVAILABLE 1
#define BL_BREAK 2

/* Event ops for bl_router_apply/step/run. 0 is deliberately not an op. */
#define BL_OP_CONFIGURE 1 /* a=agent, b=cap, c=skills */
#define BL_OP_PRESENCE 2  /* a=agent, b=presence */
#define BL_OP_ENQUEUE 3   /* a=queue, b=conv */
#define BL_OP_COMPLETE 4  /* a=agent, b=conv */

typedef struct {
    uint16_t n_queues;       /* 1..BL_MAX_QUEUES */
    uint16_t n_agents;       /* 1..BL_MAX_AGENTS */
    uint16_t queue_capacity; /* per queue, >= 1 */
} bl_router_cfg;

/* One queued conversation. */
typedef struct {
    uint32_t conv;
    uint32_t seq;   /* global enqueue sequence; compared modulo 2^32 (serial
                       number arithmetic), which orders correctly because at
                       most 32 * 65535 < 2^31 conversations are queued at once */
    int64_t enq_ms; /* now_ms at enqueue */
} bl_slot;

/* A ring of queue_capacity slots inside the caller's buffer. */
typedef struct {
    uint16_t head;  /* index of the oldest slot; < queue_capacity */
    uint16_t count; /* live slots; <= queue_capacity; slot i (0-based from the
                       head) is at (head + i) % queue_capacity */
} bl_queue;

typedef struct {
    uint32_t active[BL_MAX_CAP]; /* active[0..n_active) are held conversations,
                                    oldest assignment first; the rest is junk */
    int64_t last_change_ms;      /* last assignment, completion, or becoming
                                    AVAILABLE; 0 after init */
    uint32_t skills;   /* bit q set => serves queue q; no bit >= n_queues */
    uint8_t presence;  /* BL_OFFLINE / BL_AVAILABLE / BL_BREAK */
    uint8_t cap;       /* 1..BL_MAX_CAP */
    uint8_t n_active;  /* 0..BL_MAX_CAP; may exceed cap after cap is lowered
                          (held conversations are never dropped) */
} bl_agent;

typedef struct {
    bl_router_cfg cfg;
    bl_slot *slots;   /* n_queues * queue_capacity slots, aligned, inside the
                         caller's buffer; queue q owns
                         slots[q*queue_capacity .. (q+1)*queue_capacity) */
    uint32_t next_seq; /* seq of the next enqueue; wraps */
    uint64_t ready;   /* bit a set <=> agents[a] is AVAILABLE and
                         n_active < cap; kept in step with the agent table */
    uint64_t served_by[BL_MAX_QUEUES]; /* bit a set <=> agents[a].skills has bit q */
    bl_queue queues[BL_MAX_QUEUES];    /* [0..n_queues) used */
    bl_agent agents[BL_MAX_AGENTS];    /* [0..n_agents) used */
} bl_router;

typedef struct {
    uint8_t op;     /* BL_OP_* */
    uint16_t a;
    uint32_t b;
    uint32_t c;
    int64_t now_ms;
} bl_event;

typedef struct {
    uint32_t conv;
    uint16_t agent;
} bl_assignment;

/* Bytes of ring storage needed for cfg; 0 if cfg is NULL or invalid. */
size_t bl_router_mem_size(const bl_router_cfg *cfg);

/* Set up r over mem (at least bl_router_mem_size(cfg) bytes). All queues
 * empty; agents OFFLINE, cap 1, skills 0, last_change_ms 0. On error r is
 * not touched. */
int bl_router_init(bl_router *r, void *mem, size_t mem_size, const bl_router_cfg *cfg);

/* cap 1..BL_MAX_CAP; skills only bits < n_queues. Lowering cap below the
 * current load keeps held conversations; the agent just gets no new ones. */
int bl_router_configure_agent(bl_router *r, uint16_t agent, uint8_t cap, uint32_t skills);

/* Becoming AVAILABLE (from another presence) sets last_change_ms = now_ms;
 * setting the current presence again changes nothing. Leaving AVAILABLE
 * keeps held conversations: the agent can still complete them. */
int bl_router_set_presence(bl_router *r, uint16_t agent, uint8_t presence, int64_t now_ms);

/* Appends conv to queue; BL_EFULL if the queue holds queue_capacity already. */
int bl_router_enqueue(bl_router *r, uint16_t queue, uint32_t conv, int64_t now_ms);

/* Applies the assignment rule above; BL_EEMPTY when nothing is assignable
 * (outputs untouched then). */
int bl_router_next_assignment(bl_router *r, int64_t now_ms, uint32_t *conv, uint16_t *agent);

/* Removes conv from agent's active slots (BL_ENOENT if the agent does not
 * hold it); last_change_ms = now_ms. Works in any presence. */
int bl_router_complete(bl_router *r, uint16_t agent, uint32_t conv, int64_t now_ms);

/* Queries: the count, or BL_EINVAL. */
int bl_router_queue_length(const bl_router *r, uint16_t queue);
int bl_router_agent_load(const bl_router *r, uint16_t agent);
int bl_router_agent_presence(const bl_router *r, uint16_t agent);

/* Applies one event (no assignment); returns the call's rc, BL_EINVAL for an
 * unknown op or a value that does not fit the call's parameter. */
int bl_router_apply(bl_router *r, const bl_event *ev);

/* Applies one event, then writes assignments to out until BL_EEMPTY or
 * out_cap of them; *n_out = how many. Returns the event's rc: the drain
 * happens even when the event failed (it then finds only what an earlier
 * full `out` left behind). out may be NULL only with out_cap 0. */
int bl_router_step(bl_router *r, const bl_event *ev, bl_assignment *out, size_t out_cap,
                   size_t *n_out);

/* Most assignments one event can cause when the router was fully drained
 * before it: only one agent's eligibility or one queue head changes. */
#define BL_MAX_ASSIGN_PER_EVENT BL_MAX_CAP

/* bl_router_step over evs[0..n), appending to out; rcs[i] (if rcs is not
 * NULL) gets event i's rc. Stops before an event when fewer than
 * BL_MAX_ASSIGN_PER_EVENT slots of out remain, so a drained router is left
 * drained: call again with the rest and an emptied out. Returns the number
 * of events consumed (0 on a bad argument, with *n_out = 0 if n_out is not
 * NULL). */
size_t bl_router_run(bl_router *r, const bl_event *evs, size_t n, bl_assignment *out,
                     size_t out_cap, size_t *n_out, int32_t *rcs);

#endif /* BL_ROUTER_H */
