/* services.h - wires the network services (HTTP, TFTP) to the stack. */
#ifndef SERVICES_H
#define SERVICES_H

#include <stdint.h>

void services_init(void);
void services_poll(uint32_t now_ms);

#endif /* SERVICES_H */
