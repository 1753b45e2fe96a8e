"""The bench's side of the Ethernet wire: a scapy host in virtual time, TCP, HTTP, TFTP,
pcap recording, a TAP bridge for real clients, and the scenarios built on them."""
