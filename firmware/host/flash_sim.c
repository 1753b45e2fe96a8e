/* flash_sim.c - the simulated flash of flash_sim.h. */
#include "flash_sim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flash.h"
#include "flash_layout.h"

#ifndef BOOT_LAST_SECTOR   /* a layout whose bootloader has one sector (the flag device's) */
#define BOOT_LAST_SECTOR BOOT_SECTOR
#endif

uint8_t flash_sim_mem[FLASH_TOTAL_SIZE];

static unsigned long ops, overprograms;
static uint32_t dirty;
static int armed, was_cut;
static unsigned long cut_at;
static enum sim_cut_kind cut_kind;
static uint32_t cut_seed;
static jmp_buf *cut_to;
static struct sim_op *log_buf;
static size_t log_cap, log_len;

uint32_t sim_rand(uint32_t *state)
{
    uint32_t x = *state ? *state : 0x9E3779B9u;

    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *state = x;
}

void flash_sim_reset(void)
{
    memset(flash_sim_mem, 0xFF, sizeof flash_sim_mem);
    ops = overprograms = 0;
    dirty = 0;
    armed = was_cut = 0;
    log_buf = NULL;
    log_cap = log_len = 0;
}

uint8_t *flash_sim_at(uint32_t addr)
{
    if (addr < FLASH_BASE_ADDR || addr - FLASH_BASE_ADDR >= FLASH_TOTAL_SIZE) {
        fprintf(stderr, "flash_sim: address 0x%08x outside flash\n", (unsigned)addr);
        abort();
    }
    return &flash_sim_mem[addr - FLASH_BASE_ADDR];
}

unsigned long flash_sim_ops(void) { return ops; }
void flash_sim_count_from_zero(void) { ops = 0; overprograms = 0; }
unsigned long flash_sim_overprograms(void) { return overprograms; }
int flash_sim_was_cut(void) { return was_cut; }
uint32_t flash_sim_dirty(void) { return dirty; }
void flash_sim_clear_dirty(void) { dirty = 0; }
size_t flash_sim_log_len(void) { return log_len; }

void flash_sim_arm_cut(unsigned long op, enum sim_cut_kind kind, uint32_t seed, jmp_buf *to)
{
    armed = 1;
    was_cut = 0;
    cut_at = op;
    cut_kind = kind;
    cut_seed = seed;
    cut_to = to;
}

void flash_sim_disarm(void)
{
    armed = 0;
}

void flash_sim_log(struct sim_op *log, size_t cap)
{
    log_buf = log;
    log_cap = cap;
    log_len = 0;
}

static uint32_t load_word(const uint8_t *mem, uint32_t addr)
{
    uint32_t w;
    memcpy(&w, &mem[addr - FLASH_BASE_ADDR], 4);
    return w;
}

static void store_word(uint8_t *mem, uint32_t addr, uint32_t w)
{
    memcpy(&mem[addr - FLASH_BASE_ADDR], &w, 4);
}

void flash_sim_apply(const struct sim_op *op, uint8_t *mem)
{
    if (op->kind == SIM_OP_ERASE) {
        memset(&mem[flash_sector_addr(op->addr) - FLASH_BASE_ADDR], 0xFF,
               flash_sector_size(op->addr));
    } else {
        /* NOR: programming can only clear bits. */
        store_word(mem, op->addr, load_word(mem, op->addr) & op->value);
    }
}

void flash_sim_apply_torn(const struct sim_op *op, uint8_t *mem, uint32_t seed)
{
    uint32_t rnd = seed;

    if (op->kind == SIM_OP_ERASE) {
        /* Part of the sector erased: a prefix of whole words, never all of it. */
        uint32_t size = flash_sector_size(op->addr);
        uint32_t part = (sim_rand(&rnd) % (size / 4u)) * 4u;
        memset(&mem[flash_sector_addr(op->addr) - FLASH_BASE_ADDR], 0xFF, part);
    } else {
        uint32_t old = load_word(mem, op->addr);
        uint32_t to_clear = old & ~op->value;
        uint32_t cleared = to_clear & sim_rand(&rnd);

        /* Only some bits: when several were to clear, keep at least one of them set. */
        if (cleared == to_clear && to_clear) {
            uint32_t lowest = to_clear & (0u - to_clear);
            cleared &= ~lowest;
        }
        store_word(mem, op->addr, old & ~cleared);
    }
}

/* Every operation goes through here: count it, maybe cut before it, log it, do it. */
static void operate(const struct sim_op *op)
{
    dirty |= 1u << (op->kind == SIM_OP_ERASE ? op->addr : (uint32_t)flash_sector_of(op->addr));
    if (armed && ops == cut_at) {
        armed = 0;
        was_cut = 1;
        if (cut_kind == SIM_CUT_TORN)
            flash_sim_apply_torn(op, flash_sim_mem, cut_seed);
        longjmp(*cut_to, 1);
    }
    ops++;
    if (log_buf && log_len < log_cap)
        log_buf[log_len++] = *op;
    else if (log_buf) {
        fprintf(stderr, "flash_sim: operation log full (%zu)\n", log_cap);
        abort();
    }
    if (op->kind == SIM_OP_PROGRAM && load_word(flash_sim_mem, op->addr) != 0xFFFFFFFFu)
        overprograms++;
    flash_sim_apply(op, flash_sim_mem);
}

int flash_erase_sector(unsigned sector)
{
    struct sim_op op = { SIM_OP_ERASE, sector, 0 };

    if (sector <= BOOT_LAST_SECTOR || sector >= FLASH_SECTOR_COUNT)
        return FLASH_ERR_ARG;
    operate(&op);
    return FLASH_OK;
}

int flash_program(uint32_t addr, const void *src, uint32_t len)
{
    const uint8_t *p = src;
    uint32_t i;

    if (len == 0)
        return FLASH_OK;
    if ((addr | len) & 3u || addr < BOOT_ADDR + BOOT_SIZE ||
        addr > FLASH_BASE_ADDR + FLASH_TOTAL_SIZE ||
        len > FLASH_BASE_ADDR + FLASH_TOTAL_SIZE - addr)
        return FLASH_ERR_ARG;
    for (i = 0; i < len; i += 4) {
        struct sim_op op = { SIM_OP_PROGRAM, addr + i, 0 };
        memcpy(&op.value, p + i, 4);
        operate(&op);
    }
    return memcmp(flash_sim_at(addr), src, len) ? FLASH_ERR_VERIFY : FLASH_OK;
}

void flash_read(uint32_t addr, void *dst, uint32_t len)
{
    if (len)
        flash_sim_at(addr + len - 1);   /* bounds check of the last byte */
    memcpy(dst, flash_sim_at(addr), len);
}
