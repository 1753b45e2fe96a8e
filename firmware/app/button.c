/* button.c - see button.h. */
#include "button.h"

#include "clock.h"
#include "regs/gpio.h"
#include "regs/rcc.h"

#define BUTTON_PORT GPIOA_BASE
#define BUTTON_PIN  0u
#define GPIO_PULL_DOWN 2u

int button_pressed(void)
{
    RCC_AHB1ENR |= RCC_AHB1ENR_GPIOAEN;
    GPIO_MODER(BUTTON_PORT) &= ~(3u << (2 * BUTTON_PIN));   /* input */
    GPIO_PUPDR(BUTTON_PORT) = (GPIO_PUPDR(BUTTON_PORT) & ~(3u << (2 * BUTTON_PIN))) |
                              (GPIO_PULL_DOWN << (2 * BUTTON_PIN));
    clock_delay_ms(1);   /* let the pull settle before sampling */
    return (GPIO_IDR(BUTTON_PORT) >> BUTTON_PIN) & 1u;
}
