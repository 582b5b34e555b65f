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
typedef struct {
    xmlTextWriterPtr w;
    gboolean failed;
    guint depth;        /* open elements: the indentation of raw text */
} VhXml;

/* Characters libvirt's virBufferEscapeString() escapes in text. */
#define VH_XML_ESCAPE_TEXT "<>&'\""

static void vh_xml_raw_text(VhXml *x, const char *text, const char *escape);

static void
vh_xml_check(VhXml *x, int rc)
{
    if (rc < 0)
        x->failed = TRUE;
}

static void
vh_xml_start(VhXml *x, const char *name)
{
    vh_xml_check(x, xmlTextWriterStartElement(x->w, X(name)));
    x->depth++;
}

static void
vh_xml_end(VhXml *x)
{
    vh_xml_check(x, xmlTextWriterEndElement(x->w));
    x->depth--;
}

static void G_GNUC_PRINTF(3, 4)
vh_xml_attr(VhXml *x, const char *name, const char *fmt, ...)
{
    g_autofree char *value = NULL;
    va_list ap;

    va_start(ap, fmt);
    value = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    vh_xml_check(x, xmlTextWriterWriteAttribute(x->w, X(name), X(value)));
}

/* <name>value</name>, the value escaped as libvirt escapes text. */
static void G_GNUC_PRINTF(3, 4)
vh_xml_element(VhXml *x, const char *name, const char *fmt, ...)
{
    g_autofree char *value = NULL;
    va_list ap;

    va_start(ap, fmt);
    value = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    vh_xml_start(x, name);
    vh_xml_raw_text(x, value, VH_XML_ESCAPE_TEXT);
    vh_xml_end(x);
}

/* <address domain='0x0000' bus='0x01' slot='0x02' function='0x0'/> */
static void
vh_xml_address(VhXml *x, const VhPciAddress *addr)
{
    vh_xml_start(x, "address");
    vh_xml_attr(x, "domain", "0x%04x", addr->domain);
    vh_xml_attr(x, "bus", "0x%02x", addr->bus);
    vh_xml_attr(x, "slot", "0x%02x", addr->slot);
    vh_xml_attr(x, "function", "0x%x", addr->function);
    vh_xml_end(x);
}

/* <product id='0x100e'>Name</product>, or empty without a name. */
static void
vh_xml_id(VhXml *x, const char *element, guint16 id, const char *name)
{
    vh_xml_start(x, element);
    vh_xml_attr(x, "id", "0x%04x", id);
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
            vh_xml_attr(x, "maxCount", "%u", dev->sriov_totalvfs);
        for (i = 0; i < dev->vfs->len; i++)
            vh_xml_address(x, &g_array_index(dev->vfs, VhPciAddress, i));
        vh_xml_end(x);
    }
}

static void
vh_xml_link(VhXml *x, const char *validity, const VhPcieLink *link)
{
    const char *speed = vh_pcie_link_speed_string(link->speed);

    vh_xml_start(x, "link");
    vh_xml_attr(x, "validity", "%s", validity);
    if (link->port >= 0)
        vh_xml_attr(x, "port", "%d", link->port);
    if (speed)
        vh_xml_attr(x, "speed", "%s", speed);
    vh_xml_attr(x, "width", "%u", link->width);
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

static void
vh_xml_raw_text(VhXml *x, const char *text, const char *escape)
{
    g_autoptr(GString) out = g_string_sized_new(strlen(text) + 1);
    const char *p;

    for (p = text; *p; p++) {
        if (!strchr(escape, *p)) {
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

        vh_xml_start(x, element);
        vh_xml_attr(x, "index", "%c", f->index);
        vh_xml_raw_text(x, f->value, VH_XML_ESCAPE_VPD_VALUE);
        vh_xml_end(x);
    }
}

static void
vh_xml_vpd_fields_start(VhXml *x, const char *access)
{
    vh_xml_start(x, "fields");
    vh_xml_attr(x, "access", "%s", access);
}

/* libvirt closes a <fields> without children on a line of its own. */
static void
vh_xml_vpd_fields_end(VhXml *x, gboolean empty)
{
    g_autofree char *indent = NULL;

    if (!empty) {
        vh_xml_end(x);
        return;
    }
    indent = g_strnfill(2 * (x->depth - 1), ' ');
    vh_xml_check(x, xmlTextWriterWriteRaw(x->w, X("\n")));
    vh_xml_check(x, xmlTextWriterWriteRaw(x->w, X(indent)));
    vh_xml_check(x, xmlTextWriterFullEndElement(x->w));
    x->depth--;
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
    guint i;

    vh_xml_start(x, "capability");
    vh_xml_attr(x, "type", "pci");
    if (dev->klass >= 0)
        vh_xml_element(x, "class", "0x%06x", (guint) dev->klass);
    vh_xml_element(x, "domain", "%u", dev->addr.domain);
    vh_xml_element(x, "bus", "%u", dev->addr.bus);
    vh_xml_element(x, "slot", "%u", dev->addr.slot);
    vh_xml_element(x, "function", "%u", dev->addr.function);
    vh_xml_id(x, "product", dev->device, dev->product_name);
    vh_xml_id(x, "vendor", dev->vendor, dev->vendor_name);
    vh_xml_sriov(x, dev);
    if (dev->has_header_type && dev->header_type != VH_PCI_HEADER_ENDPOINT) {
        vh_xml_start(x, "capability");
        vh_xml_attr(x, "type", "%s",
                    dev->header_type == VH_PCI_HEADER_PCI_BRIDGE ?
                    "pci-bridge" : "cardbus-bridge");
        vh_xml_end(x);
    }
    /* libvirt's mdev_types would come here; we show none. */
    if (dev->vpd)
        vh_xml_vpd(x, dev->vpd);
    if (members) {
        vh_xml_start(x, "iommuGroup");
        vh_xml_attr(x, "number", "%u", dev->group);
        for (i = 0; i < members->len; i++) {
            const VhNodeDevice *m = g_ptr_array_index(members, i);
            vh_xml_address(x, &m->addr);
        }
        vh_xml_end(x);
    }
    if (dev->numa_node >= 0) {
        vh_xml_start(x, "numa");
        vh_xml_attr(x, "node", "%d", dev->numa_node);
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
    g_autofree char *root = g_strdup(list->root);
    gsize len = strlen(root);

    while (len > 1 && root[len - 1] == '/')
        root[--len] = '\0';

    vh_xml_start(x, "device");
    vh_xml_element(x, "name", "%s", dev->name);
    vh_xml_element(x, "path", "%s%s%s", root,
                   g_str_equal(root, "/") ? "" : "/", dev->devpath);
    vh_xml_element(x, "parent", "%s", dev->parent);
    if (dev->driver) {
        vh_xml_start(x, "driver");
        vh_xml_element(x, "name", "%s", dev->driver);
        vh_xml_end(x);
    }
    vh_xml_pci_capability(x, list, dev);
    vh_xml_end(x);
}

/* The document for @dev, or for every device of @list when @dev is NULL. */
static char *
vh_xml_write(const VhNodeDeviceList *list, const VhNodeDevice *dev,
             GError **error)
{
    xmlBufferPtr buf = xmlBufferCreate();
    VhXml x = { 0 };
    char *out = NULL;
    guint i;

    if (!buf || !(x.w = xmlNewTextWriterMemory(buf, 0))) {
        if (buf)
            xmlBufferFree(buf);
        g_set_error(error, VH_SYSFS_ERROR, VH_SYSFS_ERROR_FAILED,
                    "cannot create an XML writer: out of memory");
        return NULL;
    }
    vh_xml_check(&x, xmlTextWriterSetIndent(x.w, 1));
    vh_xml_check(&x, xmlTextWriterSetIndentString(x.w, X("  ")));
    vh_xml_check(&x, xmlTextWriterSetQuoteChar(x.w, '\''));
    if (dev) {
        vh_xml_device(&x, list, dev);
    } else {
        vh_xml_start(&x, "devices");
        for (i = 0; i < list->devices->len; i++)
            vh_xml_device(&x, list, g_ptr_array_index(list->devices, i));
        vh_xml_end(&x);
    }
    vh_xml_check(&x, xmlTextWriterFlush(x.w));
    xmlFreeTextWriter(x.w);
    if (x.failed) {
        g_set_error(error, VH_SYSFS_ERROR, VH_SYSFS_ERROR_FAILED,
                    "cannot format node-device XML: out of memory");
    } else {
        out = g_strdup((const char *) xmlBufferContent(buf));
    }
    xmlBufferFree(buf);
    return out;
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
