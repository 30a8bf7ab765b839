// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_portfwd_spec.c - libFuzzer target for the strings port publishing
 * parses: `--publish` specs and hybrid-vsock handshake lines.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fcvm/vsock.h"
#include "portfwd/spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct portfwd_spec spec;
	char buf[128];
	unsigned int v;

	if (size >= sizeof(buf))
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	if (portfwd_parse_spec(buf, &spec) == 0 &&
	    (spec.guest_port == 0 || (spec.proto != 6 && spec.proto != 17)))
		__builtin_trap();
	fcvm_hvsock_parse(buf, FCVM_HVSOCK_OK, &v);
	fcvm_hvsock_parse(buf, FCVM_HVSOCK_CONNECT, &v);
	return 0;
}
