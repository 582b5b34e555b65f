/*
 * vh-fake-vfio-caps.h: building VFIO capability chains byte by byte in tests
 *
 * A chain is built after a fixed header of @base bytes (sizeof(struct
 * vfio_region_info) for regions): each capability is appended with its
 * header and the previous one's next offset pointed at it, as the kernel's
 * vfio_info_cap_add() does.  Offsets are from the start of the info.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <string.h>
#include <glib.h>
#include <linux/vfio.h>

typedef struct {
    GByteArray *bytes;          /* the chain only, without the header */
    gsize base;
    gssize last;                /* offset in bytes of the last header */
} VhFakeCaps;

static inline void
vh_fake_caps_init(VhFakeCaps *caps, gsize base)
{
    caps->bytes = g_byte_array_new();
    caps->base = base;
    caps->last = -1;
}

/* Appends a capability (@body: the bytes after the header); returns its
 * offset from the start of the info. */
static inline guint32
vh_fake_caps_add(VhFakeCaps *caps, guint16 id, guint16 version,
                 const void *body, gsize body_len)
{
    struct vfio_info_cap_header hdr = { .id = id, .version = version };
    guint32 here = caps->base + caps->bytes->len;

    if (caps->last >= 0)
        memcpy(caps->bytes->data + caps->last +
               offsetof(struct vfio_info_cap_header, next), &here,
               sizeof(here));
    caps->last = caps->bytes->len;
    g_byte_array_append(caps->bytes, (const guint8 *) &hdr, sizeof(hdr));
    if (body_len)
        g_byte_array_append(caps->bytes, body, body_len);
    /* The kernel keeps capabilities 8-byte aligned. */
    while (caps->bytes->len % 8)
        g_byte_array_append(caps->bytes, (const guint8 *) "", 1);
    return here;
}

/* Points the next field of the capability at @at to @next. */
static inline void
vh_fake_caps_set_next(VhFakeCaps *caps, guint32 at, guint32 next)
{
    memcpy(caps->bytes->data + (at - caps->base) +
           offsetof(struct vfio_info_cap_header, next), &next, sizeof(next));
}
