/*
 * net_config.h - the device's network settings, fixed at build time.
 *
 * Override any of them from firmware/app/app.mk's APP_CFLAGS (docs/application.md), e.g.
 * -DNET_IP=NET_IPV4(10,0,0,2). Addresses are host-order integers.
 */
#ifndef NET_CONFIG_H
#define NET_CONFIG_H

#define NET_IPV4(a, b, c, d) \
    ((((unsigned long)(a)) << 24) | ((unsigned long)(b) << 16) | ((unsigned long)(c) << 8) | \
     (unsigned long)(d))

#ifndef NET_IP
#define NET_IP          NET_IPV4(192, 168, 7, 2)
#endif
#ifndef NET_NETMASK
#define NET_NETMASK     NET_IPV4(255, 255, 255, 0)
#endif
#ifndef NET_GATEWAY
#define NET_GATEWAY     NET_IPV4(192, 168, 7, 1)
#endif
#ifndef NET_MAC
#define NET_MAC         { 0x02, 0x00, 0x00, 0xF4, 0x07, 0x01 }
#endif
#ifndef NET_HTTP_PORT
#define NET_HTTP_PORT   80
#endif
#ifndef NET_TFTP_PORT
#define NET_TFTP_PORT   69
#endif

/*
 * Where the stack's big tables go: the 64 KiB core-coupled RAM on the chip (CPU only,
 * never touched by the Ethernet DMA, and not zeroed by the startup code: the owner
 * clears it at start-up), ordinary memory in the host tests.
 */
#if defined(__arm__) && !defined(NET_BIG_RAM)
#define NET_BIG_RAM __attribute__((section(".ccm")))
#elif !defined(NET_BIG_RAM)
#define NET_BIG_RAM
#endif

#endif /* NET_CONFIG_H */
