/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* This file contains the parsing cursor every header parser of bpf/lib moves (xdp-tools
 * parsing_helpers.h style). It knows no product type. */
#ifndef LIB_HDR_CURSOR_H
#define LIB_HDR_CURSOR_H

/* Where the next header starts. Every parse_<hdr>() checks that the whole header lies before
 * data_end, advances pos past it and returns the next protocol, or -1 when the packet ends
 * inside the header (pos is then left unchanged). */
struct hdr_cursor {
	void *pos;
};

#endif /* LIB_HDR_CURSOR_H */
