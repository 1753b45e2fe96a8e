/* usart.h - USART registers (RM0090 section 30.6). */
#ifndef REGS_USART_H
#define REGS_USART_H

#include "regs/mmio.h"

#define USART1_BASE     0x40011000u
#define USART1_IRQn     37

#define USART_SR(base)   MMIO32((base) + 0x00)
#define USART_DR(base)   MMIO32((base) + 0x04)
#define USART_BRR(base)  MMIO32((base) + 0x08)
#define USART_CR1(base)  MMIO32((base) + 0x0C)
#define USART_CR2(base)  MMIO32((base) + 0x10)
#define USART_CR3(base)  MMIO32((base) + 0x14)

#define USART_SR_RXNE   (1u << 5)
#define USART_SR_TC     (1u << 6)
#define USART_SR_TXE    (1u << 7)
#define USART_SR_ORE    (1u << 3)

#define USART_CR1_RE    (1u << 2)
#define USART_CR1_TE    (1u << 3)
#define USART_CR1_RXNEIE (1u << 5)
#define USART_CR1_UE    (1u << 13)

#endif /* REGS_USART_H */
