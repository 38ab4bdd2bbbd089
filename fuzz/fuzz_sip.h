/*
 * fuzz_sip.h - a SIP message from the fuzzer's bytes, as Sofia's parser
 * takes it off the wire (for the targets that read SIP).
 */
#ifndef GW_FUZZ_SIP_H
#define GW_FUZZ_SIP_H

#include <sofia-sip/msg.h>
#include <sofia-sip/sip_parser.h>

#define FUZZ_SIP_MAX 65536 /* beyond greenwichd's and the kit's message size limits */

/* The parsed message (destroy it with msg_destroy), or NULL. */
static inline msg_t *
fuzz_sip_msg(const uint8_t *data, size_t size)
{
	if (size > FUZZ_SIP_MAX)
		return NULL;
	return msg_make(sip_default_mclass(), 0, data, (isize_t)size);
}

#endif
