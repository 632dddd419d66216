/* SHA-256 against the FIPS 180-2 / NIST example vectors, incremental hashing, files. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sha256.h"
#include "tap.h"

static void to_hex(const uint8_t digest[32], char hex[65])
{
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", digest[i]);
}

static void check_vector(const char *message, const char *want, const char *label)
{
	uint8_t digest[32];
	char hex[65];
	sha256_buffer(message, strlen(message), digest);
	to_hex(digest, hex);
	is_str(hex, want, "sha256(%s)", label);
}

int main(void)
{
	char hex[65];
	uint8_t digest[32];

	check_vector("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		     "empty string");
	check_vector("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
		     "\"abc\"");
	check_vector("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
		     "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
		     "448-bit message");
	check_vector("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmno"
		     "ijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
		     "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1",
		     "896-bit message");

	/* One million 'a', fed in uneven pieces so every buffering path is used. */
	static const char *million_a =
		"cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";
	char *as = malloc(1000000);
	if (!as)
		return 1;
	memset(as, 'a', 1000000);
	sha256_buffer(as, 1000000, digest);
	to_hex(digest, hex);
	is_str(hex, million_a, "sha256(one million 'a') in one call");

	struct sha256 ctx;
	sha256_init(&ctx);
	size_t done = 0, piece = 1;
	while (done < 1000000) {
		size_t n = piece < 1000000 - done ? piece : 1000000 - done;
		sha256_update(&ctx, as + done, n);
		done += n;
		piece = piece % 131 + 7;
	}
	sha256_final(&ctx, digest);
	to_hex(digest, hex);
	is_str(hex, million_a, "sha256(one million 'a') in uneven pieces");

	/* Lengths around the padding boundary (55, 56, 63, 64, 65 bytes) agree between
	 * one-shot and byte-at-a-time hashing. */
	int boundaries_agree = 1;
	for (size_t len = 50; len <= 130; len++) {
		uint8_t one_shot[32], bytewise[32];
		sha256_buffer(as, len, one_shot);
		sha256_init(&ctx);
		for (size_t i = 0; i < len; i++)
			sha256_update(&ctx, as + i, 1);
		sha256_final(&ctx, bytewise);
		if (memcmp(one_shot, bytewise, 32) != 0)
			boundaries_agree = 0;
	}
	ok(boundaries_agree, "one-shot and byte-wise hashing agree for lengths 50..130");

	/* sha256_file on a temporary file holding the million 'a'. */
	char path[] = "/tmp/netsim-test-sha256-XXXXXX";
	int fd = mkstemp(path);
	ok(fd >= 0, "mkstemp");
	if (fd >= 0) {
		ssize_t written = write(fd, as, 1000000);
		close(fd);
		is_int(written, 1000000, "wrote the test file");
		struct error err = { 0 };
		int ret = sha256_file(path, hex, &err);
		is_int(ret, 0, "sha256_file succeeds");
		is_str(hex, million_a, "sha256_file digest");
		unlink(path);
	}

	struct error err = { 0 };
	int ret = sha256_file("/nonexistent/netsim-sha256", hex, &err);
	is_int(ret, -ENOENT, "sha256_file on a missing file returns -ENOENT");
	ok(strstr(err.msg, "/nonexistent/netsim-sha256") != NULL, "error names the file: %s",
	   err.msg);

	free(as);
	return tap_done();
}
