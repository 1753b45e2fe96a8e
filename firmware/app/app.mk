# firmware/app/app.mk - the application's sources for firmware/Makefile (paths relative
# to firmware/; the common modules are added by the Makefile).
APP_SRCS := app/main.c app/services.c app/eth.c app/phy.c app/netif.c app/arp.c \
            app/ipv4.c app/checksum.c app/icmp.c app/udp.c app/tcp.c app/http.c \
            app/http_parser.c app/multipart.c app/tftp.c app/staging.c app/status.c \
            app/strbuf.c

# Build-time settings (docs/application.md), from the make command line:
#   make -C firmware AUTO_REBOOT=1                  reboot 500 ms after an image is staged
#   make -C firmware NET_CFLAGS="-DNET_IP=0x0A000002 -DNET_GATEWAY=0x0A000001"
AUTO_REBOOT ?= 0
NET_CFLAGS ?=
APP_CFLAGS += -DAUTO_REBOOT=$(AUTO_REBOOT) $(NET_CFLAGS)
