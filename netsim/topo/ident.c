/* Identities derived only from names and indexes, so a sim brought up twice gets
 * the same MACs and addresses (packet captures and neighbour tables stay
 * comparable between runs). */
#include "topo/ident.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "sha256.h"

static void mac_from_key(const char *key, uint8_t mac[6])
{
	uint8_t digest[32];
	sha256_buffer(key, strlen(key), digest);
	memcpy(mac, digest, 6);
	mac[0] &= (uint8_t)~0x01; /* unicast */
	mac[0] |= 0x02;           /* locally administered: never clashes with a vendor's */
}

/* The keys are injective: no sim, node or interface name contains '/' (topo.c
 * validates all three), so "SIM/NODE/IFNAME" splits one way only, and a port key
 * starts "SIM//", which no node key does (node names are not empty).  Names are
 * at most 16 + 12 + 15 characters: the buffers cannot truncate. */
void ident_mac(const char *sim, const char *node, const char *ifname, uint8_t mac[6])
{
	char key[256];
	snprintf(key, sizeof(key), "%s/%s/%s", sim, node, ifname);
	mac_from_key(key, mac);
}

void ident_port_mac(const char *sim, const char *segment, const char *port, uint8_t mac[6])
{
	char key[256];
	snprintf(key, sizeof(key), "%s//%s/%s", sim, segment, port);
	mac_from_key(key, mac);
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
