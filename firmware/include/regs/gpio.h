/* gpio.h - general-purpose I/O ports (RM0090 section 8.4). */
#ifndef REGS_GPIO_H
#define REGS_GPIO_H

#include "regs/mmio.h"

#define GPIOA_BASE      0x40020000u
#define GPIOB_BASE      0x40020400u
#define GPIOC_BASE      0x40020800u
#define GPIOD_BASE      0x40020C00u
#define GPIOE_BASE      0x40021000u
#define GPIOG_BASE      0x40021800u

#define GPIO_MODER(port)    MMIO32((port) + 0x00)
#define GPIO_OTYPER(port)   MMIO32((port) + 0x04)
#define GPIO_OSPEEDR(port)  MMIO32((port) + 0x08)
#define GPIO_PUPDR(port)    MMIO32((port) + 0x0C)
#define GPIO_IDR(port)      MMIO32((port) + 0x10)
#define GPIO_ODR(port)      MMIO32((port) + 0x14)
#define GPIO_BSRR(port)     MMIO32((port) + 0x18)
#define GPIO_AFRL(port)     MMIO32((port) + 0x20)
#define GPIO_AFRH(port)     MMIO32((port) + 0x24)

#define GPIO_MODE_INPUT     0u
#define GPIO_MODE_OUTPUT    1u
#define GPIO_MODE_AF        2u
#define GPIO_MODE_ANALOG    3u
#define GPIO_SPEED_HIGH     2u
#define GPIO_SPEED_VERY_HIGH 3u
#define GPIO_PULL_UP        1u

#endif /* REGS_GPIO_H */
