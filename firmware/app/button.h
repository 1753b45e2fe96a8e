/*
 * button.h - the update-mode button of the sample-flag device: PA0, read once at start
 * (like a user button on a Discovery board: pressed reads high, a pull-down otherwise).
 */
#ifndef BUTTON_H
#define BUTTON_H

/* 1 when PA0 reads high. Enables GPIOA's clock and sets PA0 to input with pull-down. */
int button_pressed(void);

#endif /* BUTTON_H */
