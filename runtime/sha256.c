/* SHA-256 as specified in FIPS 180-4, sections 4.1.2, 4.2.2, 5.1.1, 5.3.3, 6.2. */
#include "sha256.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"

/* First 32 bits of the fractional parts of the cube roots of the first 64 primes. */
static const uint32_t round_constants[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static inline uint32_t rotate_right(uint32_t x, unsigned n)
{
	return (x >> n) | (x << (32 - n));
}

static inline uint32_t load_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void store_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void compress_block(uint32_t state[8], const uint8_t block[64])
{
	uint32_t schedule[64];

	for (int t = 0; t < 16; t++)
		schedule[t] = load_be32(block + 4 * t);
	for (int t = 16; t < 64; t++) {
		uint32_t w15 = schedule[t - 15], w2 = schedule[t - 2];
		uint32_t sigma0 = rotate_right(w15, 7) ^ rotate_right(w15, 18) ^ (w15 >> 3);
		uint32_t sigma1 = rotate_right(w2, 17) ^ rotate_right(w2, 19) ^ (w2 >> 10);
		schedule[t] = sigma1 + schedule[t - 7] + sigma0 + schedule[t - 16];
	}

	uint32_t a = state[0], b = state[1], c = state[2], d = state[3];
	uint32_t e = state[4], f = state[5], g = state[6], h = state[7];
	for (int t = 0; t < 64; t++) {
		uint32_t big_sigma1 = rotate_right(e, 6) ^ rotate_right(e, 11) ^ rotate_right(e, 25);
		uint32_t choose = (e & f) ^ (~e & g);
		uint32_t temp1 = h + big_sigma1 + choose + round_constants[t] + schedule[t];
		uint32_t big_sigma0 = rotate_right(a, 2) ^ rotate_right(a, 13) ^ rotate_right(a, 22);
		uint32_t majority = (a & b) ^ (a & c) ^ (b & c);
		uint32_t temp2 = big_sigma0 + majority;
		h = g;
		g = f;
		f = e;
		e = d + temp1;
		d = c;
		c = b;
		b = a;
		a = temp1 + temp2;
	}
	state[0] += a;
	state[1] += b;
	state[2] += c;
	state[3] += d;
	state[4] += e;
	state[5] += f;
	state[6] += g;
	state[7] += h;
}

void sha256_init(struct sha256 *ctx)
{
	/* First 32 bits of the fractional parts of the square roots of the first 8 primes. */
	static const uint32_t initial[8] = {
		0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
		0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
	};
	memcpy(ctx->state, initial, sizeof(initial));
	ctx->length = 0;
	ctx->used = 0;
}

void sha256_update(struct sha256 *ctx, const void *data, size_t len)
{
	const uint8_t *in = data;

	ctx->length += len;
	if (ctx->used > 0) {
		size_t take = sizeof(ctx->block) - ctx->used;
		if (take > len)
			take = len;
		memcpy(ctx->block + ctx->used, in, take);
		ctx->used += take;
		in += take;
		len -= take;
		if (ctx->used < sizeof(ctx->block))
			return;
		compress_block(ctx->state, ctx->block);
		ctx->used = 0;
	}
	/* Whole blocks straight from the caller's buffer, without copying. */
	for (; len >= sizeof(ctx->block); in += sizeof(ctx->block), len -= sizeof(ctx->block))
		compress_block(ctx->state, in);
	memcpy(ctx->block, in, len);
	ctx->used = len;
}

void sha256_final(struct sha256 *ctx, uint8_t digest[32])
{
	uint64_t bit_length = ctx->length * 8;

	/* Padding (5.1.1): a 1 bit, zeros up to 56 mod 64 bytes, the 64-bit length. */
	ctx->block[ctx->used++] = 0x80;
	if (ctx->used > 56) {
		memset(ctx->block + ctx->used, 0, sizeof(ctx->block) - ctx->used);
		compress_block(ctx->state, ctx->block);
		ctx->used = 0;
	}
	memset(ctx->block + ctx->used, 0, 56 - ctx->used);
	store_be32(ctx->block + 56, (uint32_t)(bit_length >> 32));
	store_be32(ctx->block + 60, (uint32_t)bit_length);
	compress_block(ctx->state, ctx->block);

	for (int i = 0; i < 8; i++)
		store_be32(digest + 4 * i, ctx->state[i]);
	/* Leave no trace of the message in the context. */
	memset(ctx, 0, sizeof(*ctx));
}

void sha256_buffer(const void *data, size_t len, uint8_t digest[32])
{
	struct sha256 ctx;
	sha256_init(&ctx);
	sha256_update(&ctx, data, len);
	sha256_final(&ctx, digest);
}

int sha256_file(const char *path, char hex[65], struct error *err)
{
	static const char hex_digits[] = "0123456789abcdef";
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return error_set(err, errno, "open %s", path);

	cleanup_free uint8_t *buffer = malloc(1 << 16);
	if (!buffer)
		return error_set(err, ENOMEM, "hash %s", path);

	struct sha256 ctx;
	sha256_init(&ctx);
	for (;;) {
		ssize_t n = read(fd, buffer, 1 << 16);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return error_set(err, errno, "read %s", path);
		}
		if (n == 0)
			break;
		sha256_update(&ctx, buffer, (size_t)n);
	}

	uint8_t digest[32];
	sha256_final(&ctx, digest);
	for (int i = 0; i < 32; i++) {
		hex[2 * i] = hex_digits[digest[i] >> 4];
		hex[2 * i + 1] = hex_digits[digest[i] & 0xf];
	}
	hex[64] = '\0';
	return 0;
}
