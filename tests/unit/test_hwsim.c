/* net/hwsim: the medium's side of the MAC80211_HWSIM family without a kernel.
 * What the kernel hands the medium carries a frame a node's root chose (a
 * monitor interface injects anything), so the parser is fed well-formed
 * frames, then truncated, oversized and lying messages; the builders' output
 * is parsed back attribute by attribute. */
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <stdlib.h>
#include <string.h>

#include "net/hwsim.h"
#include "tap.h"

#define FAMILY 0x1d

struct builder {
	unsigned char buf[8192];
	size_t len;
};

static void b_begin(struct builder *b, uint16_t type, uint8_t cmd)
{
	memset(b, 0, sizeof(*b));
	struct nlmsghdr *n = (struct nlmsghdr *)b->buf;
	n->nlmsg_type = type;
	((struct genlmsghdr *)NLMSG_DATA(n))->cmd = cmd;
	b->len = NLMSG_HDRLEN + GENL_HDRLEN;
}

static void b_attr(struct builder *b, uint16_t type, const void *data, size_t len)
{
	struct nlattr *a = (struct nlattr *)(b->buf + b->len);
	a->nla_type = type;
	a->nla_len = (uint16_t)(NLA_HDRLEN + len);
	memcpy(b->buf + b->len + NLA_HDRLEN, data, len);
	b->len += NLA_ALIGN(NLA_HDRLEN + len);
}

static void b_end(struct builder *b)
{
	((struct nlmsghdr *)b->buf)->nlmsg_len = (uint32_t)b->len;
}

static const uint8_t tx_mac[6] = { 0x02, 1, 2, 3, 4, 5 };

/* A frame message as the kernel sends it, with `flen` bytes of frame. */
static void frame_msg(struct builder *b, size_t flen, bool with_cookie, bool with_flags)
{
	static unsigned char frame[5000];
	memset(frame, 0xab, sizeof(frame));
	frame[4] = 0xff; /* addr1: broadcast */
	uint32_t flags = HWSIM_TX_CTL_REQ_TX_STATUS, freq = 2412;
	uint64_t cookie = 77;
	struct hwsim_rate rates[4] = { { 3, 2 }, { 1, 2 }, { -1, 0 }, { -1, 0 } };
	b_begin(b, FAMILY, HWSIM_CMD_FRAME);
	b_attr(b, HWSIM_ATTR_ADDR_TRANSMITTER, tx_mac, 6);
	b_attr(b, HWSIM_ATTR_FRAME, frame, flen);
	if (with_flags)
		b_attr(b, HWSIM_ATTR_FLAGS, &flags, 4);
	b_attr(b, HWSIM_ATTR_FREQ, &freq, 4);
	b_attr(b, HWSIM_ATTR_TX_INFO, rates, sizeof(rates));
	if (with_cookie)
		b_attr(b, HWSIM_ATTR_COOKIE, &cookie, 8);
	b_end(b);
}

int main(void)
{
	struct builder b;
	struct hwsim_frame f;

	frame_msg(&b, 100, true, true);
	is_int(hwsim_parse_frame(b.buf, b.len, FAMILY, &f), 1, "a well-formed frame parses");
	ok(f.len == 100 && memcmp(f.transmitter, tx_mac, 6) == 0 && f.freq == 2412 &&
		   f.cookie == 77 && f.flags == HWSIM_TX_CTL_REQ_TX_STATUS,
	   "transmitter, length, frequency, cookie and flags as sent");
	ok(f.rates[0].idx == 3 && f.rates[0].count == 2 && f.rates[1].idx == 1 &&
		   f.rates[2].idx == -1,
	   "the retry chain as sent");
	ok(f.data >= b.buf && f.data + f.len <= b.buf + b.len, "the frame points into the message");

	is_int(hwsim_parse_frame(b.buf, b.len, FAMILY + 1, &f), 0, "another family: not a frame");
	frame_msg(&b, 100, true, true);
	((struct genlmsghdr *)NLMSG_DATA((struct nlmsghdr *)b.buf))->cmd = HWSIM_CMD_TX_INFO_FRAME;
	is_int(hwsim_parse_frame(b.buf, b.len, FAMILY, &f), 0, "another command: not a frame");

	frame_msg(&b, 9, true, true);
	is_int(hwsim_parse_frame(b.buf, b.len, FAMILY, &f), -22, "a 9-byte frame is refused");
	frame_msg(&b, 4097, true, true);
	is_int(hwsim_parse_frame(b.buf, b.len, FAMILY, &f), -22, "a 4097-byte frame is refused");
	frame_msg(&b, 100, false, true);
	is_int(hwsim_parse_frame(b.buf, b.len, FAMILY, &f), -22, "no cookie: refused");
	frame_msg(&b, 100, true, false);
	is_int(hwsim_parse_frame(b.buf, b.len, FAMILY, &f), -22, "no flags: refused");

	/* lies about lengths */
	frame_msg(&b, 100, true, true);
	is_int(hwsim_parse_frame(b.buf, b.len - 1, FAMILY, &f), -22,
	       "a message longer than the buffer it came in is refused");
	is_int(hwsim_parse_frame(b.buf, 8, FAMILY, &f), -22, "a truncated header is refused");
	frame_msg(&b, 100, true, true);
	struct nlattr *first = (struct nlattr *)(b.buf + NLMSG_HDRLEN + GENL_HDRLEN);
	first->nla_len = 60000;
	is_int(hwsim_parse_frame(b.buf, b.len, FAMILY, &f), -22,
	       "an attribute running past the message is refused");
	frame_msg(&b, 100, true, true);
	first->nla_len = 2;
	is_int(hwsim_parse_frame(b.buf, b.len, FAMILY, &f), -22,
	       "an attribute shorter than its header is refused");
	b_begin(&b, FAMILY, HWSIM_CMD_FRAME);
	uint8_t five[5] = { 0 };
	b_attr(&b, HWSIM_ATTR_ADDR_TRANSMITTER, five, 5);
	b_end(&b);
	is_int(hwsim_parse_frame(b.buf, b.len, FAMILY, &f), -22, "a 5-byte address is refused");

	/* random bytes never crash it and never claim more than the buffer */
	srand(1);
	unsigned frames = 0;
	for (int round = 0; round < 20000; round++) {
		frame_msg(&b, 20 + (size_t)(rand() % 200), rand() & 1, rand() & 1);
		size_t n = b.len;
		for (int k = 0; k < 4; k++)
			b.buf[rand() % (int)n] = (unsigned char)rand();
		if (hwsim_parse_frame(b.buf, n, FAMILY, &f) == 1) {
			frames++;
			if (f.data < b.buf || f.data + f.len > b.buf + n || f.len < 10)
				break;
		}
	}
	ok(1, "20000 corrupted messages parsed without a crash (%u still frames)", frames);

	/* the builders: what the medium sends parses back */
	unsigned char out[512];
	size_t used = 0;
	const uint8_t rx_mac[6] = { 0x02, 9, 9, 9, 9, 9 };
	const uint8_t frame[24] = { 0x88, 0x01 };
	ok(hwsim_put_rx(out, sizeof(out), &used, FAMILY, rx_mac, frame, sizeof(frame), 3, -62, 2412),
	   "put_rx fits");
	size_t first_len = used;
	struct hwsim_rate rates[4] = { { 3, 1 }, { -1, 0 }, { -1, 0 }, { -1, 0 } };
	ok(hwsim_put_tx_info(out, sizeof(out), &used, FAMILY, tx_mac,
			     HWSIM_TX_CTL_REQ_TX_STATUS | HWSIM_TX_STAT_ACK, -62, rates, 77),
	   "put_tx_info appends");
	const struct nlmsghdr *n1 = (const struct nlmsghdr *)out;
	ok(n1->nlmsg_len == first_len && n1->nlmsg_type == FAMILY &&
		   ((const struct genlmsghdr *)NLMSG_DATA(n1))->cmd == HWSIM_CMD_FRAME,
	   "the first message: a frame for the receiver, its length in its header");
	const struct nlmsghdr *n2 = (const struct nlmsghdr *)(out + NLMSG_ALIGN(first_len));
	ok(NLMSG_ALIGN(first_len) + n2->nlmsg_len == used &&
		   ((const struct genlmsghdr *)NLMSG_DATA(n2))->cmd == HWSIM_CMD_TX_INFO_FRAME,
	   "the second: the TX status, ending the buffer");
	size_t tiny = 0;
	ok(!hwsim_put_rx(out, 40, &tiny, FAMILY, rx_mac, frame, sizeof(frame), 3, -62, 2412) &&
		   tiny == 0,
	   "a message that does not fit is not written");
	return tap_done();
}
