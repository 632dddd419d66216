/* SHA-256 (FIPS 180-4), used to key the rootfs cache and to derive MAC addresses. */
#ifndef NETSIM_SHA256_H
#define NETSIM_SHA256_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

struct sha256 {
	uint32_t state[8];
	uint64_t length;      /* bytes hashed so far */
	uint8_t block[64];
	size_t used;          /* bytes in block */
};

void sha256_init(struct sha256 *ctx);
void sha256_update(struct sha256 *ctx, const void *data, size_t len);
void sha256_final(struct sha256 *ctx, uint8_t digest[32]);
void sha256_buffer(const void *data, size_t len, uint8_t digest[32]);
/* Hash a whole file; hex gets 64 lowercase hex digits + NUL. */
int sha256_file(const char *path, char hex[65], struct error *err);

#endif
