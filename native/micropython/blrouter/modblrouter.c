/* blrouter: the router core (../../router.c) as a MicroPython user C module.
 *
 * The same C as the cffi extension, with the same thin wrapper's shape: everything is
 * checked by the core, and branchline/router/mp_native.py puts RouterBase's methods on
 * top, so that the C core, the cffi binding and the twin answer every call alike.
 *
 *   new((n_queues, n_agents, queue_capacity, max_convs, offer_timeout_ms, rejoin_ms,
 *        private_ms, max_misses)) -> Router, or the rc of bl_router_init (an int)
 *   restore(blob) -> Router, or the rc of bl_router_snapshot_cfg / bl_router_restore
 *   Router.step(op, a, b, c, now_ms[, d]) -> (rc, [(kind, conv, agent, queue), ...])
 *   Router.query(which, x)      -> the value or rc of the query `which` (base.QUERIES)
 *   Router.next_due()           -> int64 (bl_router_next_due)
 *   Router.backup_due(after_ms) -> int64 (bl_router_backup_due)
 *   Router.snapshot()           -> bytes
 *   Router.config()             -> the eight bl_router_cfg fields, in the order above
 *   Router.max_outputs(), Router.state_bytes() -> int
 *
 * Memory: the router struct lives in the object; its pool and its output buffer are
 * two blocks of the GC heap that the object points to (the core only ever holds
 * pointers into them, which the collector does not follow on their own).
 */
#include <stdint.h>
#include <string.h>

#include "py/objint.h"
#include "py/runtime.h"
#include "router.h"

typedef struct {
    mp_obj_base_t base;
    bl_router r;
    uint8_t *mem;    /* mem_size bytes: the pool and index r points into */
    size_t mem_size; /* bl_router_mem_size(&r.cfg) */
    bl_output *out;  /* out_cap slots, out_cap = bl_router_max_outputs(&r.cfg) */
    size_t out_cap;
} blr_obj_t;

static const mp_obj_type_t blr_type;

/* Whether o is an int (or a bool, an int in Python) in lo..hi; *v gets its value. A
 * field that does not fit is the router's EINVAL, as in the twin, never an exception. */
static bool blr_int(mp_obj_t o, int64_t lo, int64_t hi, int64_t *v) {
    if (mp_obj_is_small_int(o)) {
        *v = MP_OBJ_SMALL_INT_VALUE(o);
    } else if (mp_obj_is_int(o) || mp_obj_is_bool(o)) {
        /* Beyond a small int (on a 32-bit port: 2**30 and up, so every epoch time). */
        byte buf[8];
        uint64_t u = 0;
        nlr_buf_t nlr;
        if (nlr_push(&nlr) != 0) {
            return false; /* wider than 64 bits */
        }
        mp_obj_int_to_bytes(o, sizeof buf, buf, false, true, true);
        nlr_pop();
        for (int i = 7; i >= 0; i--) {
            u = (u << 8) | buf[i];
        }
        *v = (int64_t)u;
    } else {
        return false;
    }
    return *v >= lo && *v <= hi;
}

static mp_obj_t blr_rc(int rc) {
    return MP_OBJ_NEW_SMALL_INT(rc);
}

/* A router over cfg, restored from blob when blob is not NULL; or the failing rc. */
static mp_obj_t blr_make(const bl_router_cfg *cfg, const uint8_t *blob, size_t len) {
    size_t size = bl_router_mem_size(cfg);
    if (size == 0) {
        return blr_rc(BL_EINVAL);
    }
    blr_obj_t *self = mp_obj_malloc(blr_obj_t, &blr_type);
    self->mem = m_new(uint8_t, size);
    self->mem_size = size;
    int rc = blob == NULL ? bl_router_init(&self->r, self->mem, size, cfg)
                          : bl_router_restore(&self->r, self->mem, size, blob, len);
    if (rc != BL_OK) {
        return blr_rc(rc); /* the blocks are garbage now */
    }
    self->out_cap = bl_router_max_outputs(cfg);
    self->out = m_new(bl_output, self->out_cap);
    return MP_OBJ_FROM_PTR(self);
}

static mp_obj_t blr_new(mp_obj_t fields_in) {
    size_t n;
    mp_obj_t *f;
    int64_t v[8];
    static const uint32_t hi[8] = {0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFFFFFFu, 0xFFFFFFFFu,
                                   0xFFFFFFFFu, 0xFF};
    mp_obj_get_array(fields_in, &n, &f);
    if (n != 8) {
        return blr_rc(BL_EINVAL);
    }
    for (size_t i = 0; i < 8; i++) {
        if (!blr_int(f[i], 0, hi[i], &v[i])) {
            return blr_rc(BL_EINVAL);
        }
    }
    bl_router_cfg cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.n_queues = (uint16_t)v[0];
    cfg.n_agents = (uint16_t)v[1];
    cfg.queue_capacity = (uint16_t)v[2];
    cfg.max_convs = (uint16_t)v[3];
    cfg.offer_timeout_ms = (uint32_t)v[4];
    cfg.rejoin_ms = (uint32_t)v[5];
    cfg.private_ms = (uint32_t)v[6];
    cfg.max_misses = (uint8_t)v[7];
    return blr_make(&cfg, NULL, 0);
}
static MP_DEFINE_CONST_FUN_OBJ_1(blr_new_obj, blr_new);

static mp_obj_t blr_restore(mp_obj_t blob_in) {
    mp_buffer_info_t blob;
    mp_get_buffer_raise(blob_in, &blob, MP_BUFFER_READ);
    bl_router_cfg cfg;
    int rc = bl_router_snapshot_cfg(blob.buf, blob.len, &cfg);
    if (rc != BL_OK) {
        return blr_rc(rc);
    }
    return blr_make(&cfg, blob.buf, blob.len);
}
static MP_DEFINE_CONST_FUN_OBJ_1(blr_restore_obj, blr_restore);

/* (kind, conv, agent, queue), None where the kind has no such value (the twin's). */
static mp_obj_t blr_output(const bl_output *o) {
    mp_obj_t t[4] = {
        MP_OBJ_NEW_SMALL_INT(o->kind),
        o->kind >= BL_OUT_MISSED_BREAK ? mp_const_none : mp_obj_new_int_from_uint(o->conv),
        o->agent == BL_NONE ? mp_const_none : MP_OBJ_NEW_SMALL_INT(o->agent),
        o->queue == BL_NO_QUEUE ? mp_const_none : MP_OBJ_NEW_SMALL_INT(o->queue),
    };
    return mp_obj_new_tuple(4, t);
}

static mp_obj_t blr_step(size_t n_args, const mp_obj_t *args) {
    blr_obj_t *self = MP_OBJ_TO_PTR(args[0]);
    int64_t op, a, b, c, d = 0, now;
    size_t n = 0;
    int rc = BL_EINVAL;
    if (blr_int(args[1], 0, 0xFF, &op) && blr_int(args[2], 0, 0xFFFF, &a)
        && blr_int(args[3], 0, 0xFFFFFFFFu, &b) && blr_int(args[4], 0, 0xFFFFFFFFu, &c)
        && blr_int(args[5], INT64_MIN, INT64_MAX, &now)
        && (n_args < 7 || blr_int(args[6], 0, 0xFFFFFFFFu, &d))) {
        bl_event ev;
        ev.op = (uint8_t)op;
        ev.a = (uint16_t)a;
        ev.b = (uint32_t)b;
        ev.c = (uint32_t)c;
        ev.d = (uint32_t)d;
        ev.now_ms = now;
        rc = bl_router_step(&self->r, &ev, self->out, self->out_cap, &n);
    }
    mp_obj_t list = mp_obj_new_list(n, NULL);
    for (size_t i = 0; i < n; i++) {
        mp_obj_list_store(list, MP_OBJ_NEW_SMALL_INT(i), blr_output(&self->out[i]));
    }
    mp_obj_t pair[2] = {blr_rc(rc), list};
    return mp_obj_new_tuple(2, pair);
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(blr_step_obj, 6, 7, blr_step);

static mp_obj_t blr_query(mp_obj_t self_in, mp_obj_t which_in, mp_obj_t x_in) {
    const bl_router *r = &((blr_obj_t *)MP_OBJ_TO_PTR(self_in))->r;
    int64_t x;
    mp_int_t which = mp_obj_get_int(which_in);
    int v;
    if (!blr_int(x_in, 0, which < 5 ? 0xFFFF : 0xFFFFFFFFu, &x)) {
        return blr_rc(BL_EINVAL);
    }
    switch (which) { /* base.QUERIES' order */
    case 0: v = bl_router_queue_length(r, (uint16_t)x); break;
    case 1: v = bl_router_agent_load(r, (uint16_t)x); break;
    case 2: v = bl_router_agent_presence(r, (uint16_t)x); break;
    case 3: v = bl_router_agent_reason(r, (uint16_t)x); break;
    case 4: v = bl_router_agent_state(r, (uint16_t)x); break;
    case 5: v = bl_router_conv_state(r, (uint32_t)x); break;
    case 6: v = bl_router_conv_queue(r, (uint32_t)x); break;
    case 7: v = bl_router_conv_agent(r, (uint32_t)x); break;
    case 8: v = bl_router_position(r, (uint32_t)x); break;
    default: v = BL_EINVAL;
    }
    return mp_obj_new_int(v);
}
static MP_DEFINE_CONST_FUN_OBJ_3(blr_query_obj, blr_query);

static mp_obj_t blr_next_due(mp_obj_t self_in) {
    int64_t due = 0;
    bl_router_next_due(&((blr_obj_t *)MP_OBJ_TO_PTR(self_in))->r, &due);
    return mp_obj_new_int_from_ll(due);
}
static MP_DEFINE_CONST_FUN_OBJ_1(blr_next_due_obj, blr_next_due);

static mp_obj_t blr_backup_due(mp_obj_t self_in, mp_obj_t after_in) {
    int64_t after, due = 0;
    if (!blr_int(after_in, INT64_MIN, INT64_MAX, &after)) {
        return blr_rc(BL_EINVAL);
    }
    bl_router_backup_due(&((blr_obj_t *)MP_OBJ_TO_PTR(self_in))->r, after, &due);
    return mp_obj_new_int_from_ll(due);
}
static MP_DEFINE_CONST_FUN_OBJ_2(blr_backup_due_obj, blr_backup_due);

static mp_obj_t blr_snapshot(mp_obj_t self_in) {
    const bl_router *r = &((blr_obj_t *)MP_OBJ_TO_PTR(self_in))->r;
    size_t n = bl_router_snapshot_size(r);
    vstr_t vstr;
    vstr_init_len(&vstr, n);
    if (bl_router_snapshot(r, (uint8_t *)vstr.buf, n) != n) {
        mp_raise_msg(&mp_type_RuntimeError, MP_ERROR_TEXT("bl_router_snapshot failed"));
    }
    return mp_obj_new_bytes_from_vstr(&vstr);
}
static MP_DEFINE_CONST_FUN_OBJ_1(blr_snapshot_obj, blr_snapshot);

static mp_obj_t blr_config(mp_obj_t self_in) {
    const bl_router_cfg *c = &((blr_obj_t *)MP_OBJ_TO_PTR(self_in))->r.cfg;
    mp_obj_t f[8] = {
        MP_OBJ_NEW_SMALL_INT(c->n_queues), MP_OBJ_NEW_SMALL_INT(c->n_agents),
        MP_OBJ_NEW_SMALL_INT(c->queue_capacity), MP_OBJ_NEW_SMALL_INT(c->max_convs),
        mp_obj_new_int_from_uint(c->offer_timeout_ms), mp_obj_new_int_from_uint(c->rejoin_ms),
        mp_obj_new_int_from_uint(c->private_ms), MP_OBJ_NEW_SMALL_INT(c->max_misses),
    };
    return mp_obj_new_tuple(8, f);
}
static MP_DEFINE_CONST_FUN_OBJ_1(blr_config_obj, blr_config);

static mp_obj_t blr_max_outputs(mp_obj_t self_in) {
    return mp_obj_new_int_from_uint(((blr_obj_t *)MP_OBJ_TO_PTR(self_in))->out_cap);
}
static MP_DEFINE_CONST_FUN_OBJ_1(blr_max_outputs_obj, blr_max_outputs);

/* The heap the router takes: the object (struct included), its pool, its outputs. */
static mp_obj_t blr_state_bytes(mp_obj_t self_in) {
    const blr_obj_t *self = MP_OBJ_TO_PTR(self_in);
    return mp_obj_new_int_from_uint(sizeof *self + self->mem_size
                                    + self->out_cap * sizeof(bl_output));
}
static MP_DEFINE_CONST_FUN_OBJ_1(blr_state_bytes_obj, blr_state_bytes);

static const mp_rom_map_elem_t blr_locals_table[] = {
    {MP_ROM_QSTR(MP_QSTR_step), MP_ROM_PTR(&blr_step_obj)},
    {MP_ROM_QSTR(MP_QSTR_query), MP_ROM_PTR(&blr_query_obj)},
    {MP_ROM_QSTR(MP_QSTR_next_due), MP_ROM_PTR(&blr_next_due_obj)},
    {MP_ROM_QSTR(MP_QSTR_backup_due), MP_ROM_PTR(&blr_backup_due_obj)},
    {MP_ROM_QSTR(MP_QSTR_snapshot), MP_ROM_PTR(&blr_snapshot_obj)},
    {MP_ROM_QSTR(MP_QSTR_config), MP_ROM_PTR(&blr_config_obj)},
    {MP_ROM_QSTR(MP_QSTR_max_outputs), MP_ROM_PTR(&blr_max_outputs_obj)},
    {MP_ROM_QSTR(MP_QSTR_state_bytes), MP_ROM_PTR(&blr_state_bytes_obj)},
};
static MP_DEFINE_CONST_DICT(blr_locals, blr_locals_table);

static MP_DEFINE_CONST_OBJ_TYPE(blr_type, MP_QSTR_Router, MP_TYPE_FLAG_NONE, locals_dict,
                                &blr_locals);

static const mp_rom_map_elem_t blr_module_table[] = {
    {MP_ROM_QSTR(MP_QSTR___name__), MP_ROM_QSTR(MP_QSTR_blrouter)},
    {MP_ROM_QSTR(MP_QSTR_new), MP_ROM_PTR(&blr_new_obj)},
    {MP_ROM_QSTR(MP_QSTR_restore), MP_ROM_PTR(&blr_restore_obj)},
    {MP_ROM_QSTR(MP_QSTR_Router), MP_ROM_PTR(&blr_type)},
};
static MP_DEFINE_CONST_DICT(blr_module_globals, blr_module_table);

const mp_obj_module_t blr_module = {
    .base = {&mp_type_module},
    .globals = (mp_obj_dict_t *)&blr_module_globals,
};

MP_REGISTER_MODULE(MP_QSTR_blrouter, blr_module);
