/*
 * vh-pci-vpd.c: a PCI device's Vital Product Data, as libvirt reads it
 *
 * The rules are libvirt 9.0's (src/util/virpcivpd.c), down to its quirks,
 * since the point is the same <capability type='vpd'>:
 *  - the checksum is the sum of the bytes libvirt reads up to RV's first
 *    data byte: every byte from 0, except the data of resources it skips
 *    (tags other than 0x82, 0x90, 0x91), and RV's checksum byte is read
 *    even when RV has length 0;
 *  - text is cut at a NUL, trimmed of ASCII white space and must then be
 *    printable ASCII: a field that is not is skipped, an identifier string
 *    that is not drops the whole VPD;
 *  - there must be a VPD-R, ending with RV; a VPD-W may lack RW, but its
 *    last field (RW, if any) must end it; an end tag must follow the
 *    resources, and what comes after it is not read.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "node_device.pci-vpd"

#include <string.h>

#include "vh-pci-vpd.h"

/* PCI 3.0 I.1: bit 7 of a tag byte marks a large resource (a 16-bit
 * little-endian length follows); a small one keeps its item name in bits
 * 6:3 and its length in bits 2:0. */
#define VPD_LARGE               0x80
#define VPD_LARGE_ID_STRING     0x82
#define VPD_LARGE_READ_ONLY     0x90    /* VPD-R */
#define VPD_LARGE_READ_WRITE    0x91    /* VPD-W */
#define VPD_SMALL_END           0x0f    /* end tag 0x78 */
/* PCI 3.0 6.4: the VPD address register has 15 bits. */
#define VPD_ADDR_SPACE          0x8000
/* PCI 3.0 I.3.1: a field is a 2-character keyword, a length byte, data. */
#define VPD_FIELD_HEADER        3

typedef enum {
    VH_VPD_FIELD_UNKNOWN,       /* skipped by its length */
    VH_VPD_FIELD_TEXT,
    VH_VPD_FIELD_BINARY,        /* CP: read, kept nowhere */
    VH_VPD_FIELD_CHECKSUM,      /* RV */
    VH_VPD_FIELD_REMAINING,     /* RW */
} VhVpdFieldKind;

typedef struct {
    const guint8 *data;
    gsize len;
    guint8 sum;                 /* of every byte read so far */
} VhVpdReader;

static void
vh_pci_vpd_field_clear(gpointer data)
{
    VhPciVpdField *field = data;

    g_clear_pointer(&field->value, g_free);
}

static GArray *
vh_pci_vpd_fields_new(void)
{
    GArray *fields = g_array_new(FALSE, FALSE, sizeof(VhPciVpdField));

    g_array_set_clear_func(fields, vh_pci_vpd_field_clear);
    return fields;
}

static void
vh_pci_vpd_read_only_free(VhPciVpdReadOnly *ro)
{
    if (!ro)
        return;
    g_free(ro->change_level);
    g_free(ro->manufacture_id);
    g_free(ro->part_number);
    g_free(ro->serial_number);
    if (ro->vendor_fields)
        g_array_unref(ro->vendor_fields);
    g_free(ro);
}

static void
vh_pci_vpd_read_write_free(VhPciVpdReadWrite *rw)
{
    if (!rw)
        return;
    g_free(rw->asset_tag);
    if (rw->vendor_fields)
        g_array_unref(rw->vendor_fields);
    if (rw->system_fields)
        g_array_unref(rw->system_fields);
    g_free(rw);
}

void
vh_pci_vpd_free(VhPciVpd *vpd)
{
    if (!vpd)
        return;
    g_free(vpd->name);
    vh_pci_vpd_read_only_free(vpd->read_only);
    vh_pci_vpd_read_write_free(vpd->read_write);
    g_free(vpd);
}

/* @count bytes at @pos, added to the checksum; FALSE past the end. */
static gboolean
vh_pci_vpd_read(VhVpdReader *r, gsize pos, gsize count,
                const guint8 **ret_bytes)
{
    gsize i;

    if (pos > r->len || count > r->len - pos)
        return FALSE;
    for (i = 0; i < count; i++)
        r->sum += r->data[pos + i];
    *ret_bytes = r->data + pos;
    return TRUE;
}

/* Text as libvirt takes it, or NULL when it is not printable ASCII. */
static char *
vh_pci_vpd_text(const guint8 *bytes, gsize len)
{
    g_autofree char *text = g_strstrip(g_strndup((const char *) bytes, len));
    const char *p;

    for (p = text; *p; p++) {
        if (!g_ascii_isprint(*p))
            return NULL;
    }
    return g_steal_pointer(&text);
}

static gboolean
vh_pci_vpd_keyword_is(const guint8 *kw, const char *name)
{
    return kw[0] == name[0] && kw[1] == name[1];
}

/* @kw for messages, '?' for what is not printable. */
static const char *
vh_pci_vpd_keyword_str(const guint8 *kw, char buf[3])
{
    buf[0] = g_ascii_isprint(kw[0]) ? (char) kw[0] : '?';
    buf[1] = g_ascii_isprint(kw[1]) ? (char) kw[1] : '?';
    buf[2] = '\0';
    return buf;
}

/* PCI 3.0 I.3.1.1 and I.3.1.2; keywords are upper-case letters or digits. */
static VhVpdFieldKind
vh_pci_vpd_field_kind(const guint8 *kw)
{
    static const struct {
        const char *keyword;
        VhVpdFieldKind kind;
    } known[] = {
        { "CP", VH_VPD_FIELD_BINARY },      /* extended capability */
        { "EC", VH_VPD_FIELD_TEXT },        /* engineering change level */
        { "MN", VH_VPD_FIELD_TEXT },        /* manufacture ID */
        { "PN", VH_VPD_FIELD_TEXT },        /* part number */
        { "RV", VH_VPD_FIELD_CHECKSUM },    /* checksum and reserved */
        { "RW", VH_VPD_FIELD_REMAINING },   /* remaining read/write area */
        { "SN", VH_VPD_FIELD_TEXT },        /* serial number */
    };
    gsize i;

    if (!(g_ascii_isupper(kw[0]) || g_ascii_isdigit(kw[0])) ||
        !(g_ascii_isupper(kw[1]) || g_ascii_isdigit(kw[1])))
        return VH_VPD_FIELD_UNKNOWN;
    /* Vx vendor specific, Yx system specific, YA the asset tag. */
    if (kw[0] == 'V' || kw[0] == 'Y')
        return VH_VPD_FIELD_TEXT;
    for (i = 0; i < G_N_ELEMENTS(known); i++) {
        if (vh_pci_vpd_keyword_is(kw, known[i].keyword))
            return known[i].kind;
    }
    return VH_VPD_FIELD_UNKNOWN;
}

/* A later field with the same index replaces the value in place. */
static void
vh_pci_vpd_fields_set(GArray *fields, char index, char *value)
{
    VhPciVpdField field = { .index = index, .value = value };
    guint i;

    for (i = 0; i < fields->len; i++) {
        VhPciVpdField *f = &g_array_index(fields, VhPciVpdField, i);

        if (f->index == index) {
            g_free(f->value);
            f->value = value;
            return;
        }
    }
    g_array_append_val(fields, field);
}

/* A section comes to exist with its first text or binary field, as in
 * libvirt, even when the field then goes nowhere. */
static void
vh_pci_vpd_add_section(VhPciVpd *vpd, gboolean read_only)
{
    if (read_only && !vpd->read_only) {
        vpd->read_only = g_new0(VhPciVpdReadOnly, 1);
        vpd->read_only->vendor_fields = vh_pci_vpd_fields_new();
    } else if (!read_only && !vpd->read_write) {
        vpd->read_write = g_new0(VhPciVpdReadWrite, 1);
        vpd->read_write->vendor_fields = vh_pci_vpd_fields_new();
        vpd->read_write->system_fields = vh_pci_vpd_fields_new();
    }
}

/* Keeps @value (owned) where libvirt shows keyword @kw of its section. */
static void
vh_pci_vpd_keep(VhPciVpd *vpd, gboolean read_only, const guint8 *kw,
                char *value)
{
    char **slot = NULL;
    GArray *fields = NULL;

    if (read_only) {
        VhPciVpdReadOnly *ro = vpd->read_only;

        if (vh_pci_vpd_keyword_is(kw, "EC"))
            slot = &ro->change_level;
        else if (vh_pci_vpd_keyword_is(kw, "MN"))
            slot = &ro->manufacture_id;
        else if (vh_pci_vpd_keyword_is(kw, "PN"))
            slot = &ro->part_number;
        else if (vh_pci_vpd_keyword_is(kw, "SN"))
            slot = &ro->serial_number;
        else if (kw[0] == 'V')
            fields = ro->vendor_fields;
    } else {
        VhPciVpdReadWrite *rw = vpd->read_write;

        if (vh_pci_vpd_keyword_is(kw, "YA"))
            slot = &rw->asset_tag;
        else if (kw[0] == 'V')
            fields = rw->vendor_fields;
        else if (kw[0] == 'Y')
            fields = rw->system_fields;
    }
    if (slot) {
        g_free(*slot);
        *slot = value;
    } else if (fields) {
        vh_pci_vpd_fields_set(fields, (char) kw[1], value);
    } else {
        char buf[3];

        g_debug("ignoring keyword %s in %s", vh_pci_vpd_keyword_str(kw, buf),
                read_only ? "VPD-R" : "VPD-W");
        g_free(value);
    }
}

/* One field at *@pos of a section ending at @end; moves *@pos past it. */
static gboolean
vh_pci_vpd_parse_field(VhVpdReader *r, VhPciVpd *vpd, gboolean read_only,
                       gsize *pos, gsize end, VhVpdFieldKind *ret_kind)
{
    const char *section = read_only ? "VPD-R" : "VPD-W";
    const guint8 *hdr;
    const guint8 *data;
    VhVpdFieldKind kind;
    gsize start = *pos;
    gsize len;
    char kw[3];
    char *text;

    if (!vh_pci_vpd_read(r, start, VPD_FIELD_HEADER, &hdr)) {
        g_debug("%s field at %#zx: past the end of the data", section, start);
        return FALSE;
    }
    vh_pci_vpd_keyword_str(hdr, kw);
    kind = vh_pci_vpd_field_kind(hdr);
    len = hdr[2];
    start += VPD_FIELD_HEADER;
    if ((kind == VH_VPD_FIELD_CHECKSUM && !read_only) ||
        (kind == VH_VPD_FIELD_REMAINING && read_only)) {
        g_debug("%s holds %s, which belongs in the other section", section,
                kw);
        return FALSE;
    }
    if (len > end - start) {
        g_debug("%s field %s at %#zx: %zu bytes run past the section",
                section, kw, start - VPD_FIELD_HEADER, len);
        return FALSE;
    }
    /* Of RV only the checksum byte counts, read even when len is 0. */
    if (!vh_pci_vpd_read(r, start, kind == VH_VPD_FIELD_CHECKSUM ? 1 : len,
                         &data)) {
        g_debug("%s field %s: past the end of the data", section, kw);
        return FALSE;
    }
    *pos = start + len;
    *ret_kind = kind;

    switch (kind) {
    case VH_VPD_FIELD_CHECKSUM:
        if (r->sum != 0) {
            g_debug("VPD checksum mismatch: the bytes up to RV's add up to "
                    "%#04x, not 0", r->sum);
            return FALSE;
        }
        break;
    case VH_VPD_FIELD_TEXT:
        if (!(text = vh_pci_vpd_text(data, len))) {
            g_debug("%s field %s: skipped, not printable ASCII", section, kw);
            break;
        }
        vh_pci_vpd_add_section(vpd, read_only);
        vh_pci_vpd_keep(vpd, read_only, hdr, text);
        break;
    case VH_VPD_FIELD_BINARY:
        vh_pci_vpd_add_section(vpd, read_only);
        break;
    case VH_VPD_FIELD_UNKNOWN:
    case VH_VPD_FIELD_REMAINING:
        break;
    }
    return TRUE;
}

/* VPD-R or VPD-W: @size bytes of fields from @start. */
static gboolean
vh_pci_vpd_parse_fields(VhVpdReader *r, VhPciVpd *vpd, gsize start,
                        gsize size, gboolean read_only)
{
    VhVpdFieldKind kind = VH_VPD_FIELD_UNKNOWN;
    gsize end = start + size;
    gsize pos = start;

    /* RV and RW close their section; zero-length fields take 3 bytes. */
    while (pos + VPD_FIELD_HEADER <= end &&
           kind != VH_VPD_FIELD_CHECKSUM && kind != VH_VPD_FIELD_REMAINING) {
        if (!vh_pci_vpd_parse_field(r, vpd, read_only, &pos, end, &kind))
            return FALSE;
    }
    if (read_only && (kind != VH_VPD_FIELD_CHECKSUM || pos < end)) {
        g_debug("VPD-R at %#zx does not end with its RV field", start);
        return FALSE;
    }
    if (!read_only && pos < end) {
        g_debug("VPD-W at %#zx: %zu bytes after its %s", start, end - pos,
                kind == VH_VPD_FIELD_REMAINING ? "RW field" : "last field");
        return FALSE;
    }
    return TRUE;
}

static gboolean
vh_pci_vpd_parse_name(VhVpdReader *r, VhPciVpd *vpd, gsize start, gsize size)
{
    const guint8 *bytes;
    char *name;

    if (!vh_pci_vpd_read(r, start, size, &bytes)) {
        g_debug("VPD identifier string at %#zx: %zu bytes run past the end "
                "of the data", start, size);
        return FALSE;
    }
    if (!(name = vh_pci_vpd_text(bytes, size))) {
        g_debug("VPD identifier string is not printable ASCII");
        return FALSE;
    }
    g_free(vpd->name);
    vpd->name = name;
    return TRUE;
}

/*
 * The resource header at *@pos: its tag (a large resource's tag byte, a
 * small one's item name) and data length; moves *@pos to the data.
 */
static gboolean
vh_pci_vpd_parse_header(VhVpdReader *r, gsize *pos, guint *ret_tag,
                        gboolean *ret_large, gsize *ret_len)
{
    const guint8 *bytes;
    guint tag;

    if (!vh_pci_vpd_read(r, *pos, 1, &bytes)) {
        g_debug("VPD resource at %#zx: past the end of the data", *pos);
        return FALSE;
    }
    tag = bytes[0];
    if (!(tag & VPD_LARGE)) {
        *ret_tag = tag >> 3;
        *ret_large = FALSE;
        *ret_len = tag & 0x7;
        *pos += 1;
        return TRUE;
    }
    if (*pos > VPD_ADDR_SPACE - 3 || !vh_pci_vpd_read(r, *pos + 1, 2, &bytes)) {
        g_debug("VPD resource %#04x at %#zx: no room for its length", tag,
                *pos);
        return FALSE;
    }
    *ret_tag = tag;
    *ret_large = TRUE;
    *ret_len = bytes[0] | (gsize) bytes[1] << 8;
    *pos += 3;
    return TRUE;
}

VhPciVpd *
vh_pci_vpd_parse(const guint8 *data, gsize len)
{
    g_autoptr(VhPciVpd) vpd = g_new0(VhPciVpd, 1);
    VhVpdReader r = { .data = data, .len = len };
    gboolean has_read_only = FALSE;
    gboolean has_end = FALSE;
    gsize pos = 0;

    while (pos < VPD_ADDR_SPACE) {
        gboolean large = FALSE;
        gboolean ok = TRUE;
        gsize size = 0;
        guint tag = 0;

        if (!vh_pci_vpd_parse_header(&r, &pos, &tag, &large, &size))
            break;
        if (!large && tag == VPD_SMALL_END) {
            has_end = TRUE;
            break;
        }
        if (size > VPD_ADDR_SPACE - pos) {
            g_debug("VPD resource at %#zx: %zu bytes leave the VPD address "
                    "space", pos, size);
            break;
        }
        if (large && tag == VPD_LARGE_ID_STRING) {
            ok = vh_pci_vpd_parse_name(&r, vpd, pos, size);
        } else if (large && tag == VPD_LARGE_READ_ONLY) {
            ok = vh_pci_vpd_parse_fields(&r, vpd, pos, size, TRUE);
            has_read_only = TRUE;
        } else if (large && tag == VPD_LARGE_READ_WRITE) {
            ok = vh_pci_vpd_parse_fields(&r, vpd, pos, size, FALSE);
        } else {
            /* Skipped by its length, its data unread and not summed. */
            g_debug("skipping VPD resource %s %#x at %#zx",
                    large ? "tag" : "item", tag, pos);
        }
        if (!ok)
            return NULL;
        pos += size;
    }
    if (!has_read_only) {
        g_debug("VPD has no VPD-R resource");
        return NULL;
    }
    if (!has_end) {
        g_debug("VPD has no end tag");
        return NULL;
    }
    return g_steal_pointer(&vpd);
}
