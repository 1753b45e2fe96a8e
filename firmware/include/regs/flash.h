/* flash.h - the flash interface registers (RM0090 section 3.9). */
#ifndef REGS_FLASH_H
#define REGS_FLASH_H

#include "regs/mmio.h"

#define FLASH_R_BASE    0x40023C00u

#define FLASH_ACR       MMIO32(FLASH_R_BASE + 0x00)
#define FLASH_KEYR      MMIO32(FLASH_R_BASE + 0x04)
#define FLASH_OPTKEYR   MMIO32(FLASH_R_BASE + 0x08)
#define FLASH_SR        MMIO32(FLASH_R_BASE + 0x0C)
#define FLASH_CR        MMIO32(FLASH_R_BASE + 0x10)
#define FLASH_OPTCR     MMIO32(FLASH_R_BASE + 0x14)

#define FLASH_KEY1      0x45670123u
#define FLASH_KEY2      0xCDEF89ABu

#define FLASH_ACR_LATENCY_5WS   5u
#define FLASH_ACR_LATENCY_MASK  7u
#define FLASH_ACR_PRFTEN        (1u << 8)
#define FLASH_ACR_ICEN          (1u << 9)
#define FLASH_ACR_DCEN          (1u << 10)
#define FLASH_ACR_ICRST         (1u << 11)
#define FLASH_ACR_DCRST         (1u << 12)

#define FLASH_SR_EOP        (1u << 0)
#define FLASH_SR_OPERR      (1u << 1)
#define FLASH_SR_WRPERR     (1u << 4)
#define FLASH_SR_PGAERR     (1u << 5)
#define FLASH_SR_PGPERR     (1u << 6)
#define FLASH_SR_PGSERR     (1u << 7)
#define FLASH_SR_BSY        (1u << 16)
#define FLASH_SR_ERRORS     (FLASH_SR_OPERR | FLASH_SR_WRPERR | FLASH_SR_PGAERR | \
                             FLASH_SR_PGPERR | FLASH_SR_PGSERR)

#define FLASH_CR_PG         (1u << 0)
#define FLASH_CR_SER        (1u << 1)
#define FLASH_CR_MER        (1u << 2)
#define FLASH_CR_SNB_SHIFT  3
#define FLASH_CR_SNB_MASK   (0xFu << 3)
#define FLASH_CR_PSIZE_X8   (0u << 8)
#define FLASH_CR_PSIZE_X16  (1u << 8)
#define FLASH_CR_PSIZE_X32  (2u << 8)
#define FLASH_CR_PSIZE_X64  (3u << 8)
#define FLASH_CR_PSIZE_MASK (3u << 8)
#define FLASH_CR_STRT       (1u << 16)
#define FLASH_CR_EOPIE      (1u << 24)
#define FLASH_CR_ERRIE      (1u << 25)
#define FLASH_CR_LOCK       (1u << 31)

#endif /* REGS_FLASH_H */
