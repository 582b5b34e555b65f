/*
 * vh-node-device-xml.c: libvirt node-device XML for PCI devices
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "node_device.xml"

#include <string.h>

#include <libxml/xmlwriter.h>

#include "vh-error.h"
#include "vh-node-device-xml.h"

#define X(s) ((const xmlChar *) (s))

/*
 * xmlTextWriter calls return -1 on failure (out of memory, in practice);
 * the writer remembers nothing, so count failures and check once.
 */
/* Deeper than any node-device document goes (devices, device, capability,
 * capability vpd, fields, vendor_field: 6). */
#define VH_XML_MAX_DEPTH 16

/*
 * The writer lays out no whitespace itself (its indentation writes each
 * level's two spaces on their own, a tenth of its calls): before each start
 * tag, and before the end tag of an element with child elements, one raw
 * write of a newline and two spaces per open element gives the layout of
 * xmlTextWriterSetIndent(), and libvirt's.
 */
typedef struct {
    xmlTextWriterPtr w;
    gboolean failed;
    guint depth;        /* open elements */
    gboolean started;   /* a start tag was written */
    gboolean children[VH_XML_MAX_DEPTH + 1];   /* by depth: has elements */
    const char *root;   /* the sysfs root, for <path> */
    gboolean root_is_slash;
} VhXml;

static const char vh_xml_layout[] = "\n" /* and 2 * VH_XML_MAX_DEPTH spaces */
    "                                ";
G_STATIC_ASSERT(sizeof(vh_xml_layout) == 2 + 2 * VH_XML_MAX_DEPTH);

/* Longest number text written: "0x" and 8 hex digits, or a 32-bit
 * decimal with its sign. */
#define VH_XML_NUMBER_BUFLEN 16

/* Characters libvirt's virBufferEscapeString() escapes in text. */
#define VH_XML_ESCAPE_TEXT "<>&'\""

static void vh_xml_raw_text(VhXml *x, const char *text, const char *escape);

static void
vh_xml_check(VhXml *x, int rc)
{
    if (rc < 0)
        x->failed = TRUE;
}

/* A newline and the indentation of @depth open elements. */
static void
vh_xml_newline(VhXml *x, guint depth)
{
    vh_xml_check(x, xmlTextWriterWriteRawLen(x->w, X(vh_xml_layout),
                                             (int) (1 + 2 * depth)));
}

static void
vh_xml_start(VhXml *x, const char *name)
{
    if (x->depth >= VH_XML_MAX_DEPTH) {
        x->failed = TRUE;       /* a bug: the document is never this deep */
        return;
    }
    if (x->started)
        vh_xml_newline(x, x->depth);
    x->started = TRUE;
    x->children[x->depth] = TRUE;
    vh_xml_check(x, xmlTextWriterStartElement(x->w, X(name)));
    x->depth++;
    x->children[x->depth] = FALSE;
}

/* </name> after a newline when it has child elements, else </name> right
 * after its text, or <name/> when it is empty. */
static void
vh_xml_end(VhXml *x)
{
    if (x->depth == 0) {
        x->failed = TRUE;
        return;
    }
    if (x->children[x->depth])
        vh_xml_newline(x, x->depth - 1);
    vh_xml_check(x, xmlTextWriterEndElement(x->w));
    x->depth--;
}

/* Numbers are formatted by hand: the writer is called some 30 times per
 * device and printf was a third of the document's cost. */

/* "0x" and @value in lowercase hex, at least @width digits (0x%0*x). */
static const char *
vh_xml_hex(char buf[VH_XML_NUMBER_BUFLEN], guint32 value, guint width)
{
    char *p = buf + VH_XML_NUMBER_BUFLEN - 1;
    guint n = 0;

    *p = '\0';
    do {
        *--p = "0123456789abcdef"[value & 0xf];
        value >>= 4;
        n++;
    } while (value || n < width);
    *--p = 'x';
    *--p = '0';
    return p;
}

/* @value in decimal (%u, or %d with @negative). */
static const char *
vh_xml_dec(char buf[VH_XML_NUMBER_BUFLEN], guint32 value, gboolean negative)
{
    char *p = buf + VH_XML_NUMBER_BUFLEN - 1;

    *p = '\0';
    do {
        *--p = (char) ('0' + value % 10);
        value /= 10;
    } while (value);
    if (negative)
        *--p = '-';
    return p;
}

static const char *
vh_xml_int(char buf[VH_XML_NUMBER_BUFLEN], int value)
{
    return value < 0 ? vh_xml_dec(buf, 0u - (guint32) value, TRUE)
                     : vh_xml_dec(buf, (guint32) value, FALSE);
}

/* name='value', @value escaped by the writer. */
static void
vh_xml_attr(VhXml *x, const char *name, const char *value)
{
    vh_xml_check(x, xmlTextWriterWriteAttribute(x->w, X(name), X(value)));
}

static void
vh_xml_attr_hex(VhXml *x, const char *name, guint32 value, guint width)
{
    char buf[VH_XML_NUMBER_BUFLEN];

    vh_xml_attr(x, name, vh_xml_hex(buf, value, width));
}

static void
vh_xml_attr_uint(VhXml *x, const char *name, guint32 value)
{
    char buf[VH_XML_NUMBER_BUFLEN];

    vh_xml_attr(x, name, vh_xml_dec(buf, value, FALSE));
}

/* <name>value</name>, the value escaped as libvirt escapes text. */
static void
vh_xml_element(VhXml *x, const char *name, const char *value)
{
    vh_xml_start(x, name);
    vh_xml_raw_text(x, value, VH_XML_ESCAPE_TEXT);
    vh_xml_end(x);
}

static void
vh_xml_element_uint(VhXml *x, const char *name, guint32 value)
{
    char buf[VH_XML_NUMBER_BUFLEN];

    vh_xml_element(x, name, vh_xml_dec(buf, value, FALSE));
}

/* <address domain='0x0000' bus='0x01' slot='0x02' function='0x0'/> */
static void
vh_xml_address(VhXml *x, const VhPciAddress *addr)
{
    vh_xml_start(x, "address");
    vh_xml_attr_hex(x, "domain", addr->domain, 4);
    vh_xml_attr_hex(x, "bus", addr->bus, 2);
    vh_xml_attr_hex(x, "slot", addr->slot, 2);
    vh_xml_attr_hex(x, "function", addr->function, 1);
    vh_xml_end(x);
}

/* <product id='0x100e'>Name</product>, or empty without a name. */
static void
vh_xml_id(VhXml *x, const char *element, guint16 id, const char *name)
{
    vh_xml_start(x, element);
    vh_xml_attr_hex(x, "id", id, 4);
    if (name)
        vh_xml_raw_text(x, name, VH_XML_ESCAPE_TEXT);
    vh_xml_end(x);
}

static void
vh_xml_sriov(VhXml *x, const VhNodeDevice *dev)
{
    guint i;

    if (dev->is_vf) {
        vh_xml_start(x, "capability");
        vh_xml_attr(x, "type", "phys_function");
        vh_xml_address(x, &dev->physfn);
        vh_xml_end(x);
    }
    if (dev->sriov_totalvfs > 0 || dev->vfs->len > 0) {
        vh_xml_start(x, "capability");
        vh_xml_attr(x, "type", "virt_functions");
        if (dev->sriov_totalvfs > 0)
            vh_xml_attr_uint(x, "maxCount", dev->sriov_totalvfs);
        for (i = 0; i < dev->vfs->len; i++)
            vh_xml_address(x, &g_array_index(dev->vfs, VhPciAddress, i));
        vh_xml_end(x);
    }
}

static void
vh_xml_link(VhXml *x, const char *validity, const VhPcieLink *link)
{
    const char *speed = vh_pcie_link_speed_string(link->speed);
    char buf[VH_XML_NUMBER_BUFLEN];

    vh_xml_start(x, "link");
    vh_xml_attr(x, "validity", validity);
    if (link->port >= 0)
        vh_xml_attr(x, "port", vh_xml_int(buf, link->port));
    if (speed)
        vh_xml_attr(x, "speed", speed);
    vh_xml_attr_uint(x, "width", link->width);
    vh_xml_end(x);
}

/*
 * @text with the characters in @escape as XML entities, written as is.
 * libvirt 9.0 escapes the VPD name as all its text (virBufferEscapeString:
 * < > & ' "), but writes field values unescaped (virNodeDeviceCapVPDFormat);
 * they are printable ASCII, so only '<' and '&' would break the document
 * and are escaped all the same.
 */
#define VH_XML_ESCAPE_VPD_VALUE "<&"

/* Printable ASCII without a character of @escape: written as it is. */
static gboolean
vh_xml_text_is_plain(const char *text, const char *escape)
{
    const char *p;

    for (p = text; *p; p++) {
        guchar c = (guchar) *p;

        if (c < 0x20 || c >= 0x7f || strchr(escape, c))
            return FALSE;
        /* "]]>" may not appear in text (XML 1.0, 2.4), even where '>'
         * is otherwise left as it is (VPD values). */
        if (c == '>' && p - text >= 2 && p[-1] == ']' && p[-2] == ']')
            return FALSE;
    }
    return TRUE;
}

/* XML 1.0, 2.2: the characters a document may hold. */
static gboolean
vh_xml_char_is_allowed(gunichar c)
{
    return c == '\t' || c == '\n' || c == '\r' ||
           (c >= 0x20 && c <= 0xd7ff) || (c >= 0xe000 && c <= 0xfffd) ||
           (c >= 0x10000 && c <= 0x10ffff);
}

static void
vh_xml_raw_text(VhXml *x, const char *text, const char *escape)
{
    g_autoptr(GString) out = NULL;
    g_autofree char *valid = NULL;
    const char *p;

    /* Most text (names, numbers, paths) has nothing to escape. */
    if (vh_xml_text_is_plain(text, escape)) {
        vh_xml_check(x, xmlTextWriterWriteRaw(x->w, X(text)));
        return;
    }
    /*
     * Text read from sysfs (a driver link's name, a VPD string) may hold
     * anything.  The document stays well-formed: bytes that are not UTF-8
     * become U+FFFD and characters XML does not allow (C0 controls) are
     * dropped, as libvirt's virBufferEscapeString() drops them.
     */
    if (!g_utf8_validate(text, -1, NULL))
        text = valid = g_utf8_make_valid(text, -1);
    out = g_string_sized_new(strlen(text) + 16);

    for (p = text; *p; p = g_utf8_next_char(p)) {
        if ((guchar) *p >= 0x80) {
            if (vh_xml_char_is_allowed(g_utf8_get_char(p)))
                g_string_append_len(out, p, g_utf8_next_char(p) - p);
            continue;
        }
        if (!vh_xml_char_is_allowed((guchar) *p))
            continue;
        if (!strchr(escape, *p) &&
            !(*p == '>' && g_str_has_suffix(out->str, "]]"))) {
            g_string_append_c(out, *p);
            continue;
        }
        switch (*p) {
        case '<':
            g_string_append(out, "&lt;");
            break;
        case '>':
            g_string_append(out, "&gt;");
            break;
        case '&':
            g_string_append(out, "&amp;");
            break;
        case '\'':
            g_string_append(out, "&apos;");
            break;
        case '"':
            g_string_append(out, "&quot;");
            break;
        default:
            g_string_append_c(out, *p);
            break;
        }
    }
    /* Writing "" still closes the start tag: <name></name>, as libvirt. */
    vh_xml_check(x, xmlTextWriterWriteRaw(x->w, X(out->str)));
}

static void
vh_xml_vpd_value(VhXml *x, const char *element, const char *value)
{
    if (!value)
        return;
    vh_xml_start(x, element);
    vh_xml_raw_text(x, value, VH_XML_ESCAPE_VPD_VALUE);
    vh_xml_end(x);
}

/* <vendor_field index='1'>value</vendor_field>, in the order found. */
static void
vh_xml_vpd_indexed(VhXml *x, const char *element, const GArray *fields)
{
    guint i;

    for (i = 0; i < fields->len; i++) {
        const VhPciVpdField *f = &g_array_index(fields, VhPciVpdField, i);

        char index[2] = { f->index, '\0' };

        vh_xml_start(x, element);
        vh_xml_attr(x, "index", index);
        vh_xml_raw_text(x, f->value, VH_XML_ESCAPE_VPD_VALUE);
        vh_xml_end(x);
    }
}

static void
vh_xml_vpd_fields_start(VhXml *x, const char *access)
{
    vh_xml_start(x, "fields");
    vh_xml_attr(x, "access", access);
}

/* libvirt closes a <fields> without children on a line of its own. */
static void
vh_xml_vpd_fields_end(VhXml *x, gboolean empty)
{
    /* As if it had children: the newline comes before </fields>. */
    if (empty)
        x->children[x->depth] = TRUE;
    vh_xml_end(x);
}

/* libvirt's <capability type='vpd'>: sections and fields in its order,
 * whatever the order in the VPD. */
static void
vh_xml_vpd(VhXml *x, const VhPciVpd *vpd)
{
    const VhPciVpdReadOnly *ro = vpd->read_only;
    const VhPciVpdReadWrite *rw = vpd->read_write;

    vh_xml_start(x, "capability");
    vh_xml_attr(x, "type", "vpd");
    /* Without an identifier string libvirt writes no <name>, although
     * nodedev.rng wants one. */
    if (vpd->name) {
        vh_xml_start(x, "name");
        vh_xml_raw_text(x, vpd->name, VH_XML_ESCAPE_TEXT);
        vh_xml_end(x);
    }
    if (ro) {
        vh_xml_vpd_fields_start(x, "readonly");
        vh_xml_vpd_value(x, "change_level", ro->change_level);
        vh_xml_vpd_value(x, "manufacture_id", ro->manufacture_id);
        vh_xml_vpd_value(x, "part_number", ro->part_number);
        vh_xml_vpd_value(x, "serial_number", ro->serial_number);
        vh_xml_vpd_indexed(x, "vendor_field", ro->vendor_fields);
        vh_xml_vpd_fields_end(x, !ro->change_level && !ro->manufacture_id &&
                              !ro->part_number && !ro->serial_number &&
                              ro->vendor_fields->len == 0);
    }
    if (rw) {
        vh_xml_vpd_fields_start(x, "readwrite");
        vh_xml_vpd_value(x, "asset_tag", rw->asset_tag);
        vh_xml_vpd_indexed(x, "vendor_field", rw->vendor_fields);
        vh_xml_vpd_indexed(x, "system_field", rw->system_fields);
        vh_xml_vpd_fields_end(x, !rw->asset_tag &&
                              rw->vendor_fields->len == 0 &&
                              rw->system_fields->len == 0);
    }
    vh_xml_end(x);
}

static void
vh_xml_pci_capability(VhXml *x, const VhNodeDeviceList *list,
                      const VhNodeDevice *dev)
{
    GPtrArray *members = vh_node_device_list_group(list, dev);
    char buf[VH_XML_NUMBER_BUFLEN];
    guint i;

    vh_xml_start(x, "capability");
    vh_xml_attr(x, "type", "pci");
    if (dev->klass >= 0)
        vh_xml_element(x, "class", vh_xml_hex(buf, (guint32) dev->klass, 6));
    vh_xml_element_uint(x, "domain", dev->addr.domain);
    vh_xml_element_uint(x, "bus", dev->addr.bus);
    vh_xml_element_uint(x, "slot", dev->addr.slot);
    vh_xml_element_uint(x, "function", dev->addr.function);
    vh_xml_id(x, "product", dev->device, dev->product_name);
    vh_xml_id(x, "vendor", dev->vendor, dev->vendor_name);
    vh_xml_sriov(x, dev);
    if (dev->has_header_type && dev->header_type != VH_PCI_HEADER_ENDPOINT) {
        vh_xml_start(x, "capability");
        vh_xml_attr(x, "type",
                    dev->header_type == VH_PCI_HEADER_PCI_BRIDGE ?
                    "pci-bridge" : "cardbus-bridge");
        vh_xml_end(x);
    }
    /* libvirt's mdev_types would come here; we show none. */
    if (dev->vpd)
        vh_xml_vpd(x, dev->vpd);
    if (members) {
        vh_xml_start(x, "iommuGroup");
        vh_xml_attr_uint(x, "number", dev->group);
        for (i = 0; i < members->len; i++) {
            const VhNodeDevice *m = g_ptr_array_index(members, i);
            vh_xml_address(x, &m->addr);
        }
        vh_xml_end(x);
    }
    if (dev->numa_node >= 0) {
        vh_xml_start(x, "numa");
        vh_xml_attr(x, "node", vh_xml_int(buf, dev->numa_node));
        vh_xml_end(x);
    }
    if (dev->pcie.present) {
        vh_xml_start(x, "pci-express");
        if (dev->pcie.has_link) {
            vh_xml_link(x, "cap", &dev->pcie.cap);
            vh_xml_link(x, "sta", &dev->pcie.sta);
        }
        vh_xml_end(x);
    }
    vh_xml_end(x);
}

static void
vh_xml_device(VhXml *x, const VhNodeDeviceList *list, const VhNodeDevice *dev)
{
    g_autofree char *path = g_strconcat(x->root, x->root_is_slash ? "" : "/",
                                        dev->devpath, NULL);

    vh_xml_start(x, "device");
    vh_xml_element(x, "name", dev->name);
    vh_xml_element(x, "path", path);
    vh_xml_element(x, "parent", dev->parent);
    if (dev->driver) {
        vh_xml_start(x, "driver");
        vh_xml_element(x, "name", dev->driver);
        vh_xml_end(x);
    }
    vh_xml_pci_capability(x, list, dev);
    vh_xml_end(x);
}

/* The writer's output goes to a GString, which grows by doubling (an
 * xmlBuffer grows to the size asked each time: a realloc per 4 KB flush). */
static int
vh_xml_output_write(void *data, const char *buf, int len)
{
    g_string_append_len(data, buf, len);
    return len;
}

/* The document for @dev, or for every device of @list when @dev is NULL. */
static char *
vh_xml_write(const VhNodeDeviceList *list, const VhNodeDevice *dev,
             GError **error)
{
    g_autoptr(GString) doc = g_string_sized_new(dev ? 4096 : 64 * 1024);
    xmlOutputBufferPtr out = NULL;
    g_autofree char *root = g_strdup(list->root);
    gsize len = strlen(root);
    VhXml x = { 0 };
    guint i;

    /* The root without trailing slashes, once for every <path>. */
    while (len > 1 && root[len - 1] == '/')
        root[--len] = '\0';
    x.root = root;
    x.root_is_slash = g_str_equal(root, "/");

    out = xmlOutputBufferCreateIO(vh_xml_output_write, NULL, doc, NULL);
    if (!out || !(x.w = xmlNewTextWriter(out))) {
        if (out)
            xmlOutputBufferClose(out);
        g_set_error(error, VH_SYSFS_ERROR, VH_SYSFS_ERROR_FAILED,
                    "cannot create an XML writer: out of memory");
        return NULL;
    }
    vh_xml_check(&x, xmlTextWriterSetQuoteChar(x.w, '\''));
    if (dev) {
        vh_xml_device(&x, list, dev);
    } else {
        vh_xml_start(&x, "devices");
        for (i = 0; i < list->devices->len; i++)
            vh_xml_device(&x, list, g_ptr_array_index(list->devices, i));
        vh_xml_end(&x);
    }
    vh_xml_newline(&x, 0);      /* the document ends with a newline */
    vh_xml_check(&x, xmlTextWriterFlush(x.w));
    xmlFreeTextWriter(x.w);     /* closes @out */
    if (x.failed) {
        g_set_error(error, VH_SYSFS_ERROR, VH_SYSFS_ERROR_FAILED,
                    "cannot format node-device XML: out of memory");
        return NULL;
    }
    return g_string_free(g_steal_pointer(&doc), FALSE);
}

char *
vh_node_device_format_xml(const VhNodeDeviceList *list,
                          const VhNodeDevice *dev, GError **error)
{
    return vh_xml_write(list, dev, error);
}

char *
vh_node_device_list_format_xml(const VhNodeDeviceList *list, GError **error)
{
    return vh_xml_write(list, NULL, error);
}
