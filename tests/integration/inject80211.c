/* A hostile node's raw 802.11 frames, for 59-wifi.t: inject80211 IFACE COUNT
 * writes COUNT frames through the monitor interface IFACE (its own radio), each
 * a minimal radiotap header and then random bytes of a random length from 0 to
 * 2400, a quarter of them with a broadcast addr1, a quarter with the transmitter
 * address of the frame before (addr2 games), one in eight shorter than an
 * 802.11 header.  Built static: it runs in any rootfs.  Prints how many the
 * kernel took. */
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: inject80211 IFACE COUNT\n");
		return 2;
	}
	int fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
	unsigned ifindex = if_nametoindex(argv[1]);
	if (fd < 0 || ifindex == 0) {
		perror("inject80211");
		return 1;
	}
	struct sockaddr_ll to = { .sll_family = AF_PACKET, .sll_ifindex = (int)ifindex,
				  .sll_protocol = htons(ETH_P_ALL) };
	unsigned char buf[8 + 2400], prev[6] = { 0 };
	long sent = 0, count = atol(argv[2]);
	srand(42);
	for (long k = 0; k < count; k++) {
		memset(buf, 0, 8);
		buf[2] = 8; /* radiotap: version 0, length 8, nothing present */
		size_t len = (k % 8 == 0) ? (size_t)(rand() % 10) : (size_t)(rand() % 2401);
		for (size_t i = 0; i < len; i++)
			buf[8 + i] = (unsigned char)rand();
		if (len >= 10 && k % 4 == 1)
			memset(buf + 8 + 4, 0xff, 6);
		if (len >= 16 && k % 4 == 2)
			memcpy(buf + 8 + 10, prev, 6);
		if (len >= 16)
			memcpy(prev, buf + 8 + 10, 6);
		if (sendto(fd, buf, 8 + len, 0, (struct sockaddr *)&to, sizeof(to)) > 0)
			sent++;
	}
	printf("%ld of %ld frames taken\n", sent, count);
	return 0;
}
