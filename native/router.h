/*
 * branchline router: the queue and routing semantics of the branch's contact center.
 *
 * Pure logic: no I/O, no malloc, no globals, no clock. Time is passed in as now_ms
 * by the caller; nothing checks that it is monotonic (a clock that steps backwards
 * only delays timers and changes who counts as "longest idle"). docs/router.md is
 * the full model with worked examples; this header is the contract.
 *
 * Memory: bl_router is a caller-owned struct of fixed size; the conversation pool
 * and its id index live in a caller-owned buffer of bl_router_mem_size(cfg) bytes
 * handed to bl_router_init / bl_router_restore. The buffer needs no alignment (the
 * router aligns inside it; the size accounts for that) and must outlive the router.
 *
 * Errors: every function returns a BL_* code (or a non-negative count / value). An
 * invalid argument (NULL, out of range) returns BL_EINVAL and changes nothing. Other
 * errors are checked after due timers ran (see "Time"), so they may follow state
 * changes that time alone caused, never ones the failed call would have made.
 *
 * Model (docs/router.md):
 *   - Conversations live in a pool of max_convs records, found by id through a hash
 *     index. A live id is unique: enqueueing it again is BL_EEXIST.
 *   - Each conversation is WAITING (in a queue, or in an agent's private queue),
 *     OFFERED (given to an agent that has not taken it up), ACTIVE (taken up),
 *     REMOTE (escalated upstream; holds no agent), or ABANDONED (a tombstone that
 *     keeps the old place for rejoin_ms).
 *   - Order: key = enqueue time - priority (ms, saturating); lower key first, then
 *     lower seq (a global enqueue counter). "priority + waiting time" scoring reduces
 *     to this static key, so every list stays sorted and a VIP's priority puts it
 *     ahead of everyone who has waited less than that priority.
 *   - An agent holding n (OFFERED + ACTIVE) conversations is *ready* when AVAILABLE
 *     and n < cap. A queue's head is eligible for ready primary agents, and also for
 *     ready backup agents once its score (now - key) reaches backup_after_ms.
 *   - Assignment: among the heads of the non-MANUAL queues with an eligible agent
 *     and the private-queue heads of ready agents, the lowest (key, seq) wins; the
 *     queue's strategy picks the agent. The conversation becomes OFFERED.
 *
 * Time: every event first runs the timers that are due at its now_ms, once, in this
 * order: agents in ascending index (timed wrap-up ends, offer timeouts with missed-offer
 * counting), private-queue overflows (agents in ascending index), queue overflow tiers
 * (queues in ascending index, following the chain), queue max waits (queues in
 * ascending index), expired abandonment tombstones (oldest first). BL_OP_TICK does only
 * that. What the event itself makes due at its now_ms (a threshold lowered, a
 * conversation enqueued with a large priority) waits for the next event's timers
 * (next_due says so: it is then <= now). A deadline that saturates at INT64_MAX never
 * fires (INT64_MAX is "never", as in next_due).
 *
 * Outputs: bl_router_step and bl_router_run report everything an event did that the
 * caller did not name itself (docs/router.md, "Outputs"): every offer, every return to
 * a queue, every timer that fired. A caller that keeps its own picture of the queues
 * follows the router by them alone, in O(what changed) per event. The per-op entry
 * points (bl_router_enqueue ...) apply one event without the drain and report nothing:
 * they are for setting a router up; a caller that follows the router sends every event
 * through bl_router_step or bl_router_run.
 */
#ifndef BL_ROUTER_H
#define BL_ROUTER_H

#include <stddef.h>
#include <stdint.h>

#define BL_MAX_QUEUES 32
#define BL_MAX_AGENTS 64
#define BL_MAX_CAP 3
#define BL_MAX_HELD 4       /* cap + one forced supervisor assignment */
#define BL_MAX_CONVS 65534  /* pool records; 0xFFFF is the null index */
#define BL_NONE 0xFFFF      /* "no agent" / "no record" */
#define BL_NO_QUEUE 0xFF    /* "no overflow queue" */
#define BL_NEVER 0xFFFFFFFFu /* a queue threshold that never fires */
#define BL_REASON_MISSED 0xFFFF /* break reason set after max_misses missed offers */
#define BL_SNAPSHOT_VERSION 2

/* Return codes. */
#define BL_OK 0
#define BL_EINVAL (-1)   /* bad argument: NULL, out of range, unknown op */
#define BL_EFULL (-2)    /* queue, pool or agent full: nothing is ever overwritten */
#define BL_ENOENT (-3)   /* no such conversation (or not held by that agent) */
#define BL_EEXIST (-4)   /* the conversation id is already live */
#define BL_EEMPTY (-5)   /* no assignment possible / nothing to take */
#define BL_ESTATE (-6)   /* the conversation or agent is not in a state that allows it */
#define BL_ECORRUPT (-7) /* snapshot blob: bad magic, version, checksum or contents */

/* Presence. */
#define BL_OFFLINE 0
#define BL_AVAILABLE 1
#define BL_BREAK 2
#define BL_WRAPUP 3

/* Conversation states (bl_router_conv_state). */
#define BL_WAITING 1
#define BL_OFFERED 2
#define BL_ACTIVE 3
#define BL_REMOTE 4
#define BL_ABANDONED 5

/* Queue strategies. */
#define BL_LONGEST_IDLE 0  /* earliest last_change_ms, then lowest index (default) */
#define BL_FEWEST_ACTIVE 1 /* fewest held, then earliest last_change_ms, then lowest index */
#define BL_ROUND_ROBIN 2   /* first eligible index after the queue's last pick, cyclic */
#define BL_ORDERED 3       /* lowest eligible index (top-down) */
#define BL_MANUAL 4        /* never assigned automatically: agents press NEXT */

/* Event ops for bl_router_step/run (fields a, b, c, d). 0 is not an op. */
#define BL_OP_CONFIGURE 1      /* agent, cap, primary skills, backup skills */
#define BL_OP_PRESENCE 2       /* agent, presence, break reason (<= 0xFFFF) */
#define BL_OP_ENQUEUE 3        /* queue, conv, priority ms */
#define BL_OP_COMPLETE 4       /* agent, conv */
#define BL_OP_SET_QUEUE 5      /* queue, strategy | overflow queue << 8, backup_after, overflow_after */
#define BL_OP_SET_WRAPUP 6     /* agent, wrap_ms, manual (0/1) */
#define BL_OP_ENQUEUE_PRIVATE 7 /* agent, conv, priority ms, home queue */
#define BL_OP_ACCEPT 8         /* agent, conv */
#define BL_OP_ABANDON 9        /* -, conv */
#define BL_OP_REJOIN 10        /* -, conv */
#define BL_OP_ASSIGN 11        /* agent, conv, force (0/1) */
#define BL_OP_NEXT 12          /* agent */
#define BL_OP_TRANSFER_AGENT 13 /* agent, conv */
#define BL_OP_TRANSFER_QUEUE 14 /* queue, conv, keep enqueue time (0/1) */
#define BL_OP_UPSTREAM 15      /* -, conv */
#define BL_OP_RELEASE 16       /* -, conv */
#define BL_OP_TICK 17          /* - */
#define BL_OP_SET_MAX_WAIT 18  /* queue, max_wait_ms (BL_NEVER: none) */
#define BL_OP_LAST 18

/* Output kinds (bl_output.kind); docs/router.md, "Outputs", says when each is written.
 * Fields a kind has no value for are 0 (conv), BL_NONE (agent), BL_NO_QUEUE (queue);
 * queue BL_NO_QUEUE in OFFER, RETURNED and OFFER_TIMEOUT means "a private queue". */
#define BL_OUT_OFFER 1           /* conv, agent offered to, queue it waited in */
#define BL_OUT_RETURNED 2        /* conv, agent that held it, queue it now waits in */
#define BL_OUT_OFFER_TIMEOUT 3   /* conv, agent that missed it, queue it now waits in */
#define BL_OUT_PRIVATE_TIMEOUT 4 /* conv, agent whose private queue it left, home queue */
#define BL_OUT_OVERFLOW 5        /* conv, queue it moved to (the end of a chain) */
#define BL_OUT_EXPIRED 6         /* conv, queue whose max wait it reached */
#define BL_OUT_FORGOTTEN 7       /* conv: its abandonment tombstone was dropped */
#define BL_OUT_MISSED_BREAK 8    /* agent: sent to BREAK (BL_REASON_MISSED) */
#define BL_OUT_WRAPUP_END 9      /* agent: timed wrap-up over, AVAILABLE again */

typedef struct {
    uint16_t n_queues;         /* 1..BL_MAX_QUEUES */
    uint16_t n_agents;         /* 1..BL_MAX_AGENTS */
    uint16_t queue_capacity;   /* per queue, >= 1: admissions by enqueue/transfer/rejoin */
    uint16_t max_convs;        /* pool records; 0 = n_queues*queue_capacity +
                                  n_agents*BL_MAX_HELD, at most BL_MAX_CONVS */
    uint32_t offer_timeout_ms; /* 0 = offers never time out */
    uint32_t rejoin_ms;        /* 0 = abandoned conversations are forgotten at once */
    uint32_t private_ms;       /* 0 = private conversations never overflow */
    uint8_t max_misses;        /* 0 = missed offers never send an agent to break */
} bl_router_cfg;

/* One thing an event did; 8 bytes, no padding. */
typedef struct {
    uint32_t conv;  /* the conversation's id; 0 for the agent-only kinds */
    uint16_t agent; /* an agent index, or BL_NONE when the kind names none */
    uint8_t kind;   /* BL_OUT_OFFER .. BL_OUT_WRAPUP_END */
    uint8_t queue;  /* a queue index, or BL_NO_QUEUE (none, or a private queue) */
} bl_output;

/* One conversation record of the pool (index 0..max_convs). */
typedef struct {
    int64_t key;      /* order key: enqueue time - prio, saturated to int64 */
    uint64_t seq;     /* global enqueue counter: ties of key */
    int64_t t_ms;     /* OFFERED: offer time; ABANDONED: abandon time; WAITING in a
                         private queue: when it entered it; otherwise 0 */
    uint32_t id;
    uint32_t prio;    /* priority credit (ms) given at enqueue */
    uint16_t prev;    /* list links (queue, private queue, remote, tombstone, free) */
    uint16_t next;
    uint16_t agent;   /* OFFERED/ACTIVE: holder; private WAITING (and its tombstone):
                         the named agent; else BL_NONE */
    uint8_t queue;    /* home queue: the queue it waits in, or returns to */
    uint8_t state;    /* 0 = free, else BL_WAITING .. BL_ABANDONED */
    uint8_t priv;     /* 1: addressed to `agent` (private queue) */
} bl_conv;

typedef struct {
    int64_t head_key;           /* copies of the head record's key and seq when count > 0 */
    uint64_t head_seq;          /* (assignment compares heads without touching the pool) */
    uint32_t backup_after_ms;   /* BL_NEVER, or score at which backups may serve */
    uint32_t overflow_after_ms; /* BL_NEVER, or score at which a conversation moves on */
    uint32_t max_wait_ms;       /* BL_NEVER, or score at which a conversation expires
                                   (abandoned, as by bl_router_abandon) */
    uint16_t head, tail;        /* list of WAITING records, ascending (key, seq) */
    uint16_t count;             /* may exceed queue_capacity only through returns
                                   (offer timeout, agent leaving) and overflow moves */
    uint16_t rr_last;           /* last agent ROUND_ROBIN picked; BL_NONE at first */
    uint8_t strategy;           /* BL_LONGEST_IDLE .. BL_MANUAL */
    uint8_t overflow_q;         /* BL_NO_QUEUE or another queue; the chain never cycles */
} bl_queue;

typedef struct {
    int64_t last_change_ms;   /* last offer, completion, or becoming AVAILABLE */
    int64_t wrap_until_ms;    /* WRAPUP: when it ends (INT64_MAX: waits for "ready") */
    uint64_t held;            /* BL_MAX_HELD record indexes, 16 bits each: lane k (bits
                                 16k..16k+15) for k < n_held is the k-th OFFERED/ACTIVE
                                 record, oldest first; the unused lanes are BL_NONE */
    uint32_t primary;         /* queues served at primary level */
    uint32_t backup;          /* queues served at backup level; disjoint from primary */
    uint32_t wrap_ms;         /* wrap-up after each completion; 0 with !wrap_manual = none */
    uint16_t priv_head, priv_tail, priv_count; /* private queue, ascending (key, seq) */
    uint16_t reason;          /* BREAK reason code */
    uint8_t presence;         /* BL_OFFLINE .. BL_WRAPUP */
    uint8_t cap;              /* 1..BL_MAX_CAP */
    uint8_t n_held;           /* 0..BL_MAX_HELD; > cap only after a forced assignment
                                 or a lowered cap (held ones are never dropped) */
    uint8_t misses;           /* consecutive offers that timed out */
    uint8_t wrap_manual;      /* 1: wrap-up lasts until the agent is set AVAILABLE */
} bl_agent;

typedef struct {
    bl_router_cfg cfg;
    bl_conv *convs;      /* cfg.max_convs records in the caller's buffer */
    uint16_t *index;     /* open-addressing id -> record index, BL_NONE = empty */
    uint32_t index_mask; /* index size - 1 (a power of two >= 2 * max_convs) */
    uint16_t free_head;  /* free records, linked through next */
    uint16_t remote_head, remote_tail;
    uint16_t tomb_head, tomb_tail; /* ABANDONED records, oldest first */
    uint16_t undo_agent; /* BL_NONE, or the agent whose becoming ready was the last change
                            of `ready`: undo_prim/undo_back are the masks from before */
    uint64_t next_seq;
    int64_t next_due;    /* no timer is due before this (may be early, never late) */
    bl_output *out;      /* inside bl_router_step: where outputs go, out_cap of them */
    uint32_t out_cap;    /* 0 outside bl_router_step: direct calls report nothing */
    uint32_t n_out;      /* outputs written to out so far (<= out_cap) */
    uint64_t ready;      /* bit a <=> AVAILABLE and n_held < cap */
    uint64_t priv_waiting; /* bit a <=> agent a's private queue is non-empty */
    uint32_t nonempty;   /* bit q <=> queue q's count > 0 */
    uint32_t manual;     /* bit q <=> queue q's strategy is BL_MANUAL */
    uint32_t prim_servable; /* bit q <=> primary_by[q] & ready != 0 */
    uint32_t back_servable; /* bit q <=> backup_by[q] & ready != 0 */
    uint32_t undo_prim, undo_back;
    uint64_t primary_by[BL_MAX_QUEUES]; /* bit a <=> agents[a].primary has bit q */
    uint64_t backup_by[BL_MAX_QUEUES];
    bl_queue queues[BL_MAX_QUEUES];
    bl_agent agents[BL_MAX_AGENTS];
} bl_router;

typedef struct {
    uint8_t op; /* BL_OP_* */
    uint16_t a;
    uint32_t b;
    uint32_t c;
    uint32_t d;
    int64_t now_ms;
} bl_event;

/* Bytes of caller memory for cfg (pool + index + alignment slack); 0 if invalid. */
size_t bl_router_mem_size(const bl_router_cfg *cfg);

/* Set up r over mem. Queues empty, LONGEST_IDLE, no tiers; agents OFFLINE, cap 1,
 * no skills, no wrap-up, last_change_ms 0. On error r is not touched. */
int bl_router_init(bl_router *r, void *mem, size_t mem_size, const bl_router_cfg *cfg);

/* cap 1..BL_MAX_CAP; primary and backup: disjoint masks of queues < n_queues. */
int bl_router_configure_agent(bl_router *r, uint16_t agent, uint8_t cap, uint32_t primary,
                              uint32_t backup, int64_t now_ms);
/* Leaving for OFFLINE or BREAK returns the agent's OFFERED conversations to where
 * they were offered from, at their old place; ACTIVE ones stay. Becoming AVAILABLE
 * sets last_change_ms and clears misses. WRAPUP is timed (wrap_ms > 0 and not
 * manual) or lasts until AVAILABLE. The same presence again only updates a reason. */
int bl_router_set_presence(bl_router *r, uint16_t agent, uint8_t presence, uint16_t reason,
                           int64_t now_ms);
int bl_router_set_queue(bl_router *r, uint16_t queue, uint8_t strategy, uint8_t overflow_q,
                        uint32_t backup_after_ms, uint32_t overflow_after_ms, int64_t now_ms);
int bl_router_set_wrapup(bl_router *r, uint16_t agent, uint32_t wrap_ms, uint8_t manual,
                         int64_t now_ms);
int bl_router_enqueue(bl_router *r, uint16_t queue, uint32_t conv, uint32_t prio,
                      int64_t now_ms);
int bl_router_enqueue_private(bl_router *r, uint16_t agent, uint32_t conv, uint32_t prio,
                              uint16_t home_queue, int64_t now_ms);
int bl_router_accept(bl_router *r, uint16_t agent, uint32_t conv, int64_t now_ms);
int bl_router_complete(bl_router *r, uint16_t agent, uint32_t conv, int64_t now_ms);
int bl_router_abandon(bl_router *r, uint32_t conv, int64_t now_ms);
int bl_router_rejoin(bl_router *r, uint32_t conv, int64_t now_ms);
int bl_router_assign(bl_router *r, uint16_t agent, uint32_t conv, uint8_t force,
                     int64_t now_ms);
/* Manual pick: the agent (AVAILABLE, below cap) takes the best waiting conversation
 * it may serve, MANUAL queues included; *conv (when conv is not NULL) gets it.
 * BL_EEMPTY if none. */
int bl_router_take_next(bl_router *r, uint16_t agent, int64_t now_ms, uint32_t *conv);
int bl_router_transfer_agent(bl_router *r, uint16_t agent, uint32_t conv, int64_t now_ms);
int bl_router_transfer_queue(bl_router *r, uint16_t queue, uint32_t conv, uint8_t keep,
                             int64_t now_ms);
int bl_router_upstream(bl_router *r, uint32_t conv, int64_t now_ms);
int bl_router_release(bl_router *r, uint32_t conv, int64_t now_ms);
int bl_router_tick(bl_router *r, int64_t now_ms);
/* A WAITING conversation of the queue (not a private one) whose score (now - key:
 * waiting time plus priority credit, as for the overflow tier) reaches max_wait_ms is
 * abandoned as by bl_router_abandon (a tombstone for rejoin_ms) and reported EXPIRED.
 * BL_NEVER (the initial value) turns it off. */
int bl_router_set_max_wait(bl_router *r, uint16_t queue, uint32_t max_wait_ms,
                           int64_t now_ms);

/* Queries: the value, or BL_EINVAL / BL_ENOENT. They run no timers. */
int bl_router_queue_length(const bl_router *r, uint16_t queue);
int bl_router_agent_load(const bl_router *r, uint16_t agent);
int bl_router_agent_presence(const bl_router *r, uint16_t agent);
int bl_router_agent_reason(const bl_router *r, uint16_t agent);
/* The three above in one call, for a caller that asks after every event touching the
 * agent: presence | n_held << 2 | missed << 5, missed being 1 on a BREAK with reason
 * BL_REASON_MISSED. */
int bl_router_agent_state(const bl_router *r, uint16_t agent);
int bl_router_conv_state(const bl_router *r, uint32_t conv);
int bl_router_conv_queue(const bl_router *r, uint32_t conv);
int bl_router_conv_agent(const bl_router *r, uint32_t conv); /* BL_NONE if none */
/* 0-based place of a WAITING conversation in its (private) queue: how many are
 * ahead. O(place). BL_ESTATE when not WAITING. */
int bl_router_position(const bl_router *r, uint32_t conv);
/* *due = no timer (wrap-up end, offer timeout, private or overflow tier, max wait,
 * tombstone) is due before this time; INT64_MAX when none is pending. It may be early
 * (INT64_MIN right after a configuration change or a restore; <= the last event's
 * now_ms when that event made something due at once), never late: a caller that
 * sleeps until then and ticks misses nothing. */
int bl_router_next_due(const bl_router *r, int64_t *due);
/* *due = the earliest time strictly after after_ms at which some queue's head reaches
 * its backup_after_ms score, INT64_MAX if none; O(queues). Backup eligibility is no
 * timer (nothing changes when it is reached): a caller that ticks then lets the drain
 * offer the head to a backup agent. BL_OK, or BL_EINVAL for NULLs. */
int bl_router_backup_due(const bl_router *r, int64_t after_ms, int64_t *due);

/* The most outputs one bl_router_step can write for cfg, 0 if cfg is invalid:
 * 3 * max_convs + (2 + BL_MAX_CAP) * n_agents + BL_MAX_HELD (the derivation is in
 * router.c, above bl_router_max_outputs). */
size_t bl_router_max_outputs(const bl_router_cfg *cfg);

/* Applies one event, then drains (offers until nothing is assignable), writing every
 * output to out in the order things happened: the due timers' (in the timer order
 * above), the event's own, the drain's offers; *n_out = how many. Returns the event's
 * rc (BL_EINVAL for an unknown op or a field that does not fit the call's parameter);
 * the drain happens even when the event failed. BL_EINVAL, nothing changed and *n_out
 * untouched, for NULLs or out_cap < bl_router_max_outputs(&r->cfg). */
int bl_router_step(bl_router *r, const bl_event *ev, bl_output *out, size_t out_cap,
                   size_t *n_out);

/* bl_router_step over evs[0..n), appending to out; rcs[i] (if not NULL) gets event
 * i's rc. Stops before an event when fewer than bl_router_max_outputs slots remain.
 * Returns the number of events consumed (0 on a bad argument, *n_out = 0). */
size_t bl_router_run(bl_router *r, const bl_event *evs, size_t n, bl_output *out,
                     size_t out_cap, size_t *n_out, int32_t *rcs);

/* Snapshot: a versioned, CRC-32-checked, little-endian blob of the whole logical
 * state (docs/router.md has the layout). Two routers in the same logical state give
 * the same bytes; restoring gives a router that behaves exactly as the original. */
size_t bl_router_snapshot_size(const bl_router *r);
/* Writes the blob; returns its length, or 0 when r/buf is NULL or cap is too small. */
size_t bl_router_snapshot(const bl_router *r, uint8_t *buf, size_t cap);
/* Reads the config out of a blob (checks magic, version, length and checksum). */
int bl_router_snapshot_cfg(const uint8_t *blob, size_t len, bl_router_cfg *cfg);
/* Rebuilds r over mem from a blob. BL_EINVAL for NULLs or too little mem (r not
 * touched); BL_ECORRUPT for a bad blob (r not touched when the header is bad, else
 * left as a freshly initialised router). */
int bl_router_restore(bl_router *r, void *mem, size_t mem_size, const uint8_t *blob,
                      size_t len);

#endif /* BL_ROUTER_H */
