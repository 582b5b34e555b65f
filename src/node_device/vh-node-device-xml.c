/*
 * vh-node-device-xml.c: libvirt node-device XML for PCI devices
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "node_device.xml"

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
} VhXml;

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
}

static void
vh_xml_end(VhXml *x)
{
    vh_xml_check(x, xmlTextWriterEndElement(x->w));
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

static void G_GNUC_PRINTF(3, 4)
vh_xml_element(VhXml *x, const char *name, const char *fmt, ...)
{
    g_autofree char *value = NULL;
    va_list ap;

    va_start(ap, fmt);
    value = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    vh_xml_check(x, xmlTextWriterWriteElement(x->w, X(name), X(value)));
}

static void
vh_xml_text(VhXml *x, const char *text)
{
    vh_xml_check(x, xmlTextWriterWriteString(x->w, X(text)));
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
        vh_xml_text(x, name);
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
