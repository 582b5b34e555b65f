/*
 * vh-fuzz-input.h: reading a fuzzer's input as a stream of fields
 *
 * The targets decode their input field by field; past its end every field
 * reads as zero, so that any input, however short, decodes to something.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

typedef struct {
    const guint8 *p;
    gsize left;
} FuzzInput;

static inline guint8
fuzz_u8(FuzzInput *in)
{
    guint8 v = 0;

    if (in->left) {
        v = *in->p++;
        in->left--;
    }
    return v;
}

/* Little endian, as the kernel's structures on x86. */
static inline guint16
fuzz_u16(FuzzInput *in)
{
    guint16 lo = fuzz_u8(in);

    return lo | (guint16) fuzz_u8(in) << 8;
}

static inline guint32
fuzz_u32(FuzzInput *in)
{
    guint32 lo = fuzz_u16(in);

    return lo | (guint32) fuzz_u16(in) << 16;
}

/* Up to @max bytes; *ret_len says how many were left. */
static inline const guint8 *
fuzz_bytes(FuzzInput *in, gsize max, gsize *ret_len)
{
    const guint8 *p = in->p;
    gsize n = MIN(max, in->left);

    in->p += n;
    in->left -= n;
    *ret_len = n;
    return p;
}
