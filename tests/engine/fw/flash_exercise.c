/*
 * flash_exercise.c - drives the flash interface through its registers, for
 * tests/engine/test_flash_firmware.py.
 *
 * Each step leaves what it saw (FLASH_SR, FLASH_CR, a flash word) in result[], which the
 * test reads from RAM: the test knows what RM0090 says each value must be, the program
 * only reports. It runs from flash (sector 0), except one erase started from RAM, and
 * touches only sectors 2 and 3, which the test prepares (sector 3 filled with 0x00,
 * sector 2 write-protected). No C runtime: result[] and step are written before they
 * are read.
 */
#include <stdint.h>

extern uint32_t __stack_top;

#define REG(off)     (*(volatile uint32_t *)(0x40023C00u + (off)))
#define FLASH_KEYR   REG(0x04)
#define FLASH_SR     REG(0x0C)
#define FLASH_CR     REG(0x10)

#define KEY1        0x45670123u
#define KEY2        0xCDEF89ABu
#define SR_BSY      (1u << 16)
#define SR_ALL      0xF3u
#define CR_PG       (1u << 0)
#define CR_SER      (1u << 1)
#define CR_MER      (1u << 2)
#define CR_SNB(n)   ((uint32_t)(n) << 3)
#define CR_X16      (1u << 8)
#define CR_X32      (2u << 8)
#define CR_STRT     (1u << 16)
#define CR_EOPIE    (1u << 24)
#define CR_ERRIE    (1u << 25)
#define CR_LOCK     (1u << 31)

#define SPARE       0x0800C000u        /* sector 3 */
#define W32(a)      (*(volatile uint32_t *)(a))
#define W16(a)      (*(volatile uint16_t *)(a))

#define DONE        0xD0E5D0E5u

volatile uint32_t result[40];
volatile uint32_t step;
volatile uint32_t bus_faults;
volatile uint32_t cfsr;

#define SCB_CFSR    (*(volatile uint32_t *)0xE000ED28u)
#define SCB_HFSR    (*(volatile uint32_t *)0xE000ED2Cu)
#define DEMCR       (*(volatile uint32_t *)0xE000EDFCu)
#define DWT_CTRL    (*(volatile uint32_t *)0xE0001000u)
#define DWT_CYCCNT  (*(volatile uint32_t *)0xE0001004u)

/* A wrong key sequence is a bus error (RM0090): BusFault, escalated to HardFault as
 * BusFault is not enabled. The write was buffered (imprecise), so returning goes on
 * after it. */
void hardfault_handler(void)
{
    cfsr |= SCB_CFSR;
    SCB_CFSR = SCB_CFSR;
    SCB_HFSR = SCB_HFSR;
    bus_faults = bus_faults + 1;
}

/*
 * A routine that runs from RAM: it starts an erase (STRT) and reads FLASH_SR at once,
 * so the flash interface sees both accesses with the PC outside flash. Written as
 * machine code because there is no C runtime to copy a function into RAM.
 */
static uint16_t ram_code[4];
typedef uint32_t (*ram_fn)(volatile uint32_t *cr, uint32_t value, volatile uint32_t *sr);

/* From RAM: start an erase, read a word of flash at once (the bus stalls until the
 * erase ends), return DWT_CYCCNT after that read. */
static uint16_t ram_read_code[4];
typedef uint32_t (*ram_read_fn)(volatile uint32_t *cr, uint32_t value,
                                volatile uint32_t *flash, volatile uint32_t *cyccnt);

static uint32_t read_during_erase(uint32_t cr_value, uint32_t addr)
{
    ram_read_code[0] = 0x6001u;      /* str r1, [r0] */
    ram_read_code[1] = 0x6810u;      /* ldr r0, [r2] */
    ram_read_code[2] = 0x6818u;      /* ldr r0, [r3] */
    ram_read_code[3] = 0x4770u;      /* bx lr */
    __asm__ volatile ("dsb\n\tisb" ::: "memory");
    return ((ram_read_fn)((uintptr_t)ram_read_code | 1u))(
        &FLASH_CR, cr_value, (volatile uint32_t *)addr, &DWT_CYCCNT);
}

static uint32_t strt_from_ram(uint32_t cr_value)
{
    ram_code[0] = 0x6001u;      /* str r1, [r0] */
    ram_code[1] = 0x6810u;      /* ldr r0, [r2] */
    ram_code[2] = 0x4770u;      /* bx lr */
    __asm__ volatile ("dsb\n\tisb" ::: "memory");
    return ((ram_fn)((uintptr_t)ram_code | 1u))(&FLASH_CR, cr_value, &FLASH_SR);
}

static void put(uint32_t v)
{
    result[step] = v;
    step = step + 1;
}

static void wait_idle(void)
{
    while (FLASH_SR & SR_BSY) {
    }
}

/* Report SR after an operation, then clear every flag (write 1 to clear). */
static void report_sr(void)
{
    wait_idle();
    put(FLASH_SR);
    FLASH_SR = SR_ALL;
}

static void erase(unsigned sector, uint32_t extra)
{
    FLASH_CR = CR_SER | CR_SNB(sector) | CR_X32 | extra;
    FLASH_CR = CR_SER | CR_SNB(sector) | CR_X32 | extra | CR_STRT;
    report_sr();
}

__attribute__((noreturn)) void reset_handler(void)
{
    step = 0;
    bus_faults = 0;
    cfsr = 0;
    put(FLASH_SR);                          /* 0: SR at reset */
    put(FLASH_CR);                          /* 1: CR at reset: LOCK */
    W32(SPARE + 0x100) = 0;                 /* a stray store while locked, PSIZE x8 */
    report_sr();                            /* 2: PGSERR | PGPERR */

    FLASH_KEYR = KEY1;
    FLASH_KEYR = KEY2;
    put(FLASH_CR);                          /* 3: unlocked */

    erase(3, 0);                            /* 4: SR after a sector erase */
    put(W32(SPARE));                        /* 5: erased word */

    FLASH_CR = CR_PG | CR_X32;
    W32(SPARE) = 0x12345678u;
    report_sr();                            /* 6: clean program */
    put(W32(SPARE));                        /* 7: programmed word */
    W32(SPARE) = 0xFFFF0000u;
    report_sr();                            /* 8: clean again: bits only clear */
    put(W32(SPARE));                        /* 9: 0x12340000 */

    W16(SPARE + 4) = 0;                     /* half-word with PSIZE x32 */
    report_sr();                            /* 10: PGPERR */
    FLASH_CR = CR_PG | CR_X16;
    W16(SPARE + 9) = 0;                     /* odd address: split into bytes */
    report_sr();                            /* 11: PGPERR */
    FLASH_CR = CR_X32;
    W32(SPARE + 8) = 0;                     /* no PG */
    report_sr();                            /* 12: PGSERR */
    FLASH_CR = CR_PG | CR_X32 | CR_ERRIE;
    W16(SPARE + 4) = 0;
    report_sr();                            /* 13: PGPERR | OPERR */
    put(W32(SPARE + 4));                    /* 14: refused stores changed nothing */

    erase(2, 0);                            /* 15: WRPERR (sector 2 protected) */
    erase(2, CR_ERRIE);                     /* 16: WRPERR | OPERR */
    FLASH_CR = CR_MER;
    FLASH_CR = CR_MER | CR_STRT;
    report_sr();                            /* 17: mass erase refused: WRPERR */
    FLASH_CR = CR_SER | CR_MER | CR_STRT;
    report_sr();                            /* 18: SER with MER: PGSERR */

    erase(3, CR_EOPIE);                     /* 19: EOP (only with EOPIE) */
    put(W32(SPARE));                        /* 20: erased again */

    FLASH_CR = CR_PG | CR_X32;
    W32(SPARE) = 0;
    report_sr();                            /* 21: programmed */
    FLASH_CR = CR_SER | CR_SNB(3) | CR_X32;
    put(strt_from_ram(CR_SER | CR_SNB(3) | CR_X32 | CR_STRT));  /* 22: SR read from RAM */
    report_sr();                            /* 23: still nothing pending */
    put(W32(SPARE));                        /* 24: erased */

    FLASH_CR = CR_PG | CR_X16;
    W32(SPARE + 0x12) = 0x11223344u;        /* unaligned word: two half-words */
    report_sr();                            /* 25: programmed, no error */
    put(W32(SPARE + 0x10));                 /* 26: 0x3344FFFF */
    put(W32(SPARE + 0x14));                 /* 27: 0xFFFF1122 */
    FLASH_CR = CR_PG;                       /* PSIZE x8 */
    W32(SPARE + 0x22) = 0u;                 /* the same half-words: PGPERR */
    report_sr();                            /* 28: PGPERR */
    put(W32(SPARE + 0x20));                 /* 29: unchanged */

    DEMCR |= 1u << 24;                      /* TRCENA */
    DWT_CTRL |= 1u;
    FLASH_CR = CR_SER | CR_SNB(3) | CR_X32;
    uint32_t before = DWT_CYCCNT;
    uint32_t after = read_during_erase(CR_SER | CR_SNB(3) | CR_X32 | CR_STRT, SPARE);
    put(after - before >= 250u * 168000u);  /* 30: the read waited for the 250 ms erase */
    put(W32(SPARE + 0x10));                 /* 31: erased */

    FLASH_CR = CR_LOCK;
    put(FLASH_CR);                          /* 32: locked */
    FLASH_KEYR = 0x12345678u;               /* wrong key: locked until reset */
    FLASH_KEYR = KEY1;
    FLASH_KEYR = KEY2;
    put(FLASH_CR);                          /* 33: still locked */
    put(bus_faults);                        /* 34: three bus errors */
    put(cfsr);                              /* 35: IMPRECISERR */

    put(DONE);
    for (;;) {
    }
}

__attribute__((section(".vectors"), used)) const void *const vectors[4] = {
    &__stack_top,
    (const void *)reset_handler,
    (const void *)hardfault_handler,        /* NMI: not expected */
    (const void *)hardfault_handler,
};
