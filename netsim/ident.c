/* Identities derived only from names and indexes, so a sim brought up twice gets
 * the same MACs and addresses (packet captures and neighbour tables stay
 * comparable between runs). */
#include "ident.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "sha256.h"

void ident_mac(const char *sim, const char *node, const char *ifname, uint8_t mac[6])
{
	char key[256];
	uint8_t digest[32];
	int n = snprintf(key, sizeof(key), "%s/%s/%s", sim, node, ifname);
	if (n < 0)
		n = 0;
	if ((size_t)n >= sizeof(key))
		n = sizeof(key) - 1;
	sha256_buffer(key, (size_t)n, digest);
	memcpy(mac, digest, 6);
	mac[0] &= (uint8_t)~0x01; /* unicast */
	mac[0] |= 0x02;           /* locally administered: never clashes with a vendor's */
}

void ident_addr4(unsigned index, char *buf, size_t len)
{
	snprintf(buf, len, "10.13.%u.%u/32", (index / 256) % 256, index % 256);
}

void ident_addr6(unsigned index, char *buf, size_t len)
{
	struct in6_addr addr;
	char text[INET6_ADDRSTRLEN];

	memset(&addr, 0, sizeof(addr));
	addr.s6_addr[0] = 0xfd;
	addr.s6_addr[1] = 0x13;
	addr.s6_addr[13] = (uint8_t)(index / 256);
	addr.s6_addr[15] = (uint8_t)(index % 256);
	/* inet_ntop writes the RFC 5952 canonical form ("fd13::1:2c") */
	if (!inet_ntop(AF_INET6, &addr, text, sizeof(text)))
		text[0] = '\0';
	snprintf(buf, len, "%s/128", text);
}
