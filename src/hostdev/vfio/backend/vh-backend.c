/*
 * vh-backend.c: the backend's commands, served on its control socket
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "hostdev.vfio.backend"

#include <errno.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/vfio.h>

#include "vh-backend.h"
#include "vh-backend-edu.h"
#include "vh-backend-fd.h"
#include "vh-backend-privs.h"

struct _VhBackend {
    const VhVfioOps *ops;
    gpointer ops_data;
    int sock;
    char *name;
    int group_id;
    VhVfioDevice *dev;
};

VhBackend *
vh_backend_new(const VhVfioOps *ops, gpointer ops_data, int sock,
               const char *name)
{
    VhBackend *b = g_new0(VhBackend, 1);

    b->ops = ops;
    b->ops_data = ops_data;
    b->sock = sock;
    b->name = g_strdup(name);
    b->group_id = -1;
    return b;
}

void
vh_backend_free(VhBackend *b)
{
    if (!b)
        return;
    g_clear_pointer(&b->dev, vh_vfio_device_unref);
    if (b->sock >= 0)
        close(b->sock);
    g_free(b->name);
    g_free(b);
}

VhVfioDevice *
vh_backend_get_device(const VhBackend *b)
{
    return b->dev;
}

gboolean
vh_backend_open_device(VhBackend *b, int group_fd, int group_id,
                       int container_fd, GError **error)
{
    if (b->dev) {
        if (group_fd >= 0)
            close(group_fd);
        if (container_fd >= 0)
            close(container_fd);
        g_set_error(error, VH_BACKEND_ERROR, VH_BACKEND_ERROR_INVALID,
                    "%s is open already; a backend serves one device",
                    b->name);
        return FALSE;
    }
    /* No blockers function: the manager checked viability, naming them,
     * before it handed the group over; this process reads no sysfs. */
    b->dev = vh_vfio_device_new_from_fds(b->ops, b->ops_data, group_fd,
                                         group_id, container_fd, NULL,
                                         b->name, NULL, NULL, error);
    if (!b->dev)
        return FALSE;       /* the library named the device */
    b->group_id = group_id;
    return TRUE;
}

/* ---- helpers ------------------------------------------------------------ */

static const char *
vh_backend_region_name(guint32 index, char *buf, gsize len)
{
    static const char *const names[] = {
        "BAR0", "BAR1", "BAR2", "BAR3", "BAR4", "BAR5", "ROM", "config", "VGA",
    };

    if (index < G_N_ELEMENTS(names))
        return names[index];
    g_snprintf(buf, len, "region %u", index);
    return buf;
}

static const char *const vh_backend_irq_names[] = {
    "intx", "msi", "msix", "err", "req",
};

static gboolean
vh_backend_need_device(VhBackend *b, GError **error)
{
    if (b->dev)
        return TRUE;
    g_set_error(error, VH_BACKEND_ERROR, VH_BACKEND_ERROR_INVALID,
                "no device open yet: send \"handover\" with the group fd "
                "first");
    return FALSE;
}

static guint64
vh_backend_le_decode(const guint8 *bytes, gsize size)
{
    guint64 value = 0;
    gsize i;

    for (i = 0; i < size; i++)
        value |= (guint64) bytes[i] << (8 * i);
    return value;
}

static void
vh_backend_le_encode(guint64 value, guint8 *bytes, gsize size)
{
    gsize i;

    for (i = 0; i < size; i++)
        bytes[i] = value >> (8 * i);
}

/* Where one access goes: region, offset and width, checked. */
typedef struct {
    guint32 region;
    guint64 offset;
    gsize size;
} VhBackendAccess;

static gboolean
vh_backend_access_parse(VhBackend *b, yajl_val obj, const char *where,
                        gboolean config, VhBackendAccess *ret_access,
                        GError **error)
{
    const VhVfioDeviceInfo *info = vh_vfio_device_get_info(b->dev);
    const VhVfioRegion *region;
    VhBackendAccess a = { 0 };
    guint64 region_index = VH_VFIO_PCI_CONFIG;
    guint64 offset, size;
    char buf[32];

    if (!config &&
        !vh_backend_json_uint(obj, where, "region", FALSE, 0, G_MAXUINT32,
                              &region_index, error))
        return FALSE;
    if (!vh_backend_json_uint(obj, where, "offset", FALSE, 0, G_MAXUINT64,
                              &offset, error) ||
        !vh_backend_json_uint(obj, where, "size", TRUE, 4, 8, &size, error))
        return FALSE;
    if (size != 1 && size != 2 && size != 4 && (size != 8 || config)) {
        g_set_error(error, VH_BACKEND_ERROR, VH_BACKEND_ERROR_INVALID,
                    "%s%s\"size\" must be 1, 2, 4%s, not %" G_GUINT64_FORMAT,
                    where ? where : "", where ? ": " : "",
                    config ? "" : " or 8", size);
        return FALSE;
    }
    if (region_index >= info->num_regions) {
        g_set_error(error, VH_BACKEND_ERROR, VH_BACKEND_ERROR_INVALID,
                    "%s: region %" G_GUINT64_FORMAT " does not exist (the "
                    "device has %u regions: 0-%u)", b->name, region_index,
                    info->num_regions, info->num_regions - 1);
        return FALSE;
    }
    if (!vh_vfio_device_get_region(b->dev, region_index, &region, error))
        return FALSE;
    if (offset > region->size || size > region->size - offset) {
        g_set_error(error, VH_BACKEND_ERROR, VH_BACKEND_ERROR_INVALID,
                    "%s: %s is %" G_GUINT64_FORMAT " bytes; %" G_GUINT64_FORMAT
                    " bytes at offset %#" G_GINT64_MODIFIER "x do not fit",
                    b->name, vh_backend_region_name(region_index, buf,
                                                    sizeof(buf)),
                    region->size, size, offset);
        return FALSE;
    }
    a.region = region_index;
    a.offset = offset;
    a.size = size;
    *ret_access = a;
    return TRUE;
}

static gboolean
vh_backend_access_read(VhBackend *b, const VhBackendAccess *a,
                       guint64 *ret_value, gboolean *ret_mapped,
                       GError **error)
{
    guint8 bytes[8] = { 0 };
    gboolean mapped = FALSE;

    if (a->region <= VH_VFIO_PCI_BAR5) {
        if (!vh_vfio_device_bar_map(b->dev, a->region, NULL, error))
            return FALSE;
        mapped = vh_vfio_device_bar_is_mapped(b->dev, a->region, a->offset,
                                              a->size);
        if (!vh_vfio_device_bar_read(b->dev, a->region, a->offset, bytes,
                                     a->size, error))
            return FALSE;
    } else if (!vh_vfio_device_region_read(b->dev, a->region, a->offset,
                                           bytes, a->size, error)) {
        return FALSE;
    }
    *ret_value = vh_backend_le_decode(bytes, a->size);
    if (ret_mapped)
        *ret_mapped = mapped;
    return TRUE;
}

static gboolean
vh_backend_access_write(VhBackend *b, const VhBackendAccess *a,
                        guint64 value, gboolean *ret_mapped, GError **error)
{
    guint8 bytes[8];
    gboolean mapped = FALSE;

    if (a->size < 8 && value >> (8 * a->size)) {
        g_set_error(error, VH_BACKEND_ERROR, VH_BACKEND_ERROR_INVALID,
                    "value %#" G_GINT64_MODIFIER "x does not fit in %zu "
                    "bytes", value, a->size);
        return FALSE;
    }
    vh_backend_le_encode(value, bytes, a->size);
    if (a->region <= VH_VFIO_PCI_BAR5) {
        if (!vh_vfio_device_bar_map(b->dev, a->region, NULL, error))
            return FALSE;
        mapped = vh_vfio_device_bar_is_mapped(b->dev, a->region, a->offset,
                                              a->size);
        if (!vh_vfio_device_bar_write(b->dev, a->region, a->offset, bytes,
                                      a->size, error))
            return FALSE;
    } else if (!vh_vfio_device_region_write(b->dev, a->region, a->offset,
                                            bytes, a->size, error)) {
        return FALSE;
    }
    if (ret_mapped)
        *ret_mapped = mapped;
    return TRUE;
}

/* ---- commands ----------------------------------------------------------- */

typedef gboolean (*VhBackendCommandFunc)(VhBackend *b,
                                         const VhBackendRequest *req,
                                         GArray *fds, VhBackendReply *reply,
                                         GError **error);

static gboolean
vh_backend_cmd_handover(VhBackend *b, const VhBackendRequest *req,
                        GArray *fds, VhBackendReply *reply, GError **error)
{
    guint64 group_id;
    int group_fd, container_fd = -1;

    if (!vh_backend_request_uint(req, "group", TRUE, G_MAXUINT64, G_MAXINT,
                                 &group_id, error))
        return FALSE;
    if (!fds || fds->len < 1 || fds->len > 2) {
        g_set_error(error, VH_BACKEND_ERROR, VH_BACKEND_ERROR_INVALID,
                    "handover: expected the group fd and optionally the "
                    "container fd with the message (SCM_RIGHTS), got %u fds",
                    fds ? fds->len : 0);
        return FALSE;
    }
    group_fd = g_array_index(fds, int, 0);
    if (fds->len == 2)
        container_fd = g_array_index(fds, int, 1);
    g_array_set_size(fds, 0);
    if (!vh_backend_open_device(b, group_fd,
                                group_id == G_MAXUINT64 ? -1 : (int) group_id,
                                container_fd, error))
        return FALSE;
    vh_backend_reply_string(reply, "device", b->name);
    vh_backend_reply_int(reply, "device_fd",
                         vh_vfio_device_get_fd(b->dev));
    return TRUE;
}

static gboolean
vh_backend_cmd_status(VhBackend *b, const VhBackendRequest *req, GArray *fds,
                      VhBackendReply *reply, GError **error)
{
    g_autoptr(GDir) dir = NULL;
    VhBackendCreds c;
    struct rlimit lim;
    const char *entry;

    if (!vh_backend_creds_get(&c, error))
        return FALSE;
    vh_backend_reply_int(reply, "pid", getpid());
    vh_backend_reply_uint(reply, "uid", c.euid);
    vh_backend_reply_uint(reply, "gid", c.egid);
    vh_backend_reply_uint(reply, "groups", c.n_groups);
    vh_backend_reply_uint(reply, "cap_effective", c.cap_effective);
    vh_backend_reply_uint(reply, "cap_permitted", c.cap_permitted);
    vh_backend_reply_int(reply, "no_new_privs", c.no_new_privs);
    if (getrlimit(RLIMIT_MEMLOCK, &lim) == 0)
        vh_backend_reply_uint(reply, "memlock", lim.rlim_cur);
    vh_backend_reply_string(reply, "device", b->name);
    vh_backend_reply_bool(reply, "device_open", b->dev != NULL);
    /* The process's own view of its fds; the independent check is
     * /proc/PID/fd read from outside (tests/vm/scenarios/backend.sh). */
    vh_backend_reply_key(reply, "fds");
    yajl_gen_map_open(reply->gen);
    if ((dir = g_dir_open("/proc/self/fd", 0, NULL))) {
        while ((entry = g_dir_read_name(dir))) {
            g_autofree char *path = g_strconcat("/proc/self/fd/", entry, NULL);
            g_autofree char *target = g_file_read_link(path, NULL);

            if (target && !g_str_has_prefix(target, "/proc/"))
                vh_backend_reply_string(reply, entry, target);
        }
    }
    yajl_gen_map_close(reply->gen);
    return TRUE;
}

static void
vh_backend_report_regions(VhBackend *b, VhBackendReply *reply)
{
    const VhVfioDeviceInfo *info = vh_vfio_device_get_info(b->dev);
    yajl_gen g = reply->gen;
    guint32 i;
    guint j;

    vh_backend_reply_key(reply, "regions");
    yajl_gen_array_open(g);
    for (i = 0; i < info->num_regions; i++) {
        g_autoptr(GError) local = NULL;
        g_autoptr(GArray) areas = NULL;
        const VhVfioRegion *r;
        char buf[32];

        if (!vh_vfio_device_get_region(b->dev, i, &r, &local))
            continue;   /* absent (VGA on a non-VGA device) */
        yajl_gen_map_open(g);
        vh_backend_reply_uint(reply, "index", i);
        vh_backend_reply_string(reply, "name",
                                vh_backend_region_name(i, buf, sizeof(buf)));
        vh_backend_reply_uint(reply, "size", r->size);
        vh_backend_reply_bool(reply, "read",
                              r->flags & VFIO_REGION_INFO_FLAG_READ);
        vh_backend_reply_bool(reply, "write",
                              r->flags & VFIO_REGION_INFO_FLAG_WRITE);
        vh_backend_reply_bool(reply, "mmap",
                              r->flags & VFIO_REGION_INFO_FLAG_MMAP);
        vh_backend_reply_bool(reply, "msix_mappable", r->msix_mappable);
        if (i <= VH_VFIO_PCI_BAR5 && r->size > 0 &&
            vh_vfio_device_bar_mmap_areas(b->dev, i, &areas, &local)) {
            vh_backend_reply_key(reply, "mmap_areas");
            yajl_gen_array_open(g);
            for (j = 0; j < areas->len; j++) {
                const VhVfioArea *a = &g_array_index(areas, VhVfioArea, j);

                yajl_gen_map_open(g);
                vh_backend_reply_uint(reply, "offset", a->offset);
                vh_backend_reply_uint(reply, "size", a->size);
                yajl_gen_map_close(g);
            }
            yajl_gen_array_close(g);
        }
        yajl_gen_map_close(g);
    }
    yajl_gen_array_close(g);
}

static void
vh_backend_report_irqs(VhBackend *b, VhBackendReply *reply)
{
    const VhVfioDeviceInfo *info = vh_vfio_device_get_info(b->dev);
    yajl_gen g = reply->gen;
    guint32 i;

    vh_backend_reply_key(reply, "irqs");
    yajl_gen_array_open(g);
    for (i = 0; i < info->num_irqs; i++) {
        g_autoptr(GError) local = NULL;
        const VhVfioIrqInfo *irq;

        if (!vh_vfio_device_get_irq_info(b->dev, i, &irq, &local))
            continue;
        yajl_gen_map_open(g);
        vh_backend_reply_uint(reply, "index", i);
        vh_backend_reply_string(reply, "name",
                                i < G_N_ELEMENTS(vh_backend_irq_names) ?
                                vh_backend_irq_names[i] : NULL);
        vh_backend_reply_uint(reply, "count", irq->count);
        vh_backend_reply_bool(reply, "eventfd",
                              irq->flags & VFIO_IRQ_INFO_EVENTFD);
        vh_backend_reply_bool(reply, "maskable",
                              irq->flags & VFIO_IRQ_INFO_MASKABLE);
        vh_backend_reply_bool(reply, "automasked",
                              irq->flags & VFIO_IRQ_INFO_AUTOMASKED);
        vh_backend_reply_bool(reply, "noresize",
                              irq->flags & VFIO_IRQ_INFO_NORESIZE);
        yajl_gen_map_close(g);
    }
    yajl_gen_array_close(g);
}

static void
vh_backend_report_iommu(VhBackend *b, VhBackendReply *reply)
{
    VhVfioContainer *container =
        vh_vfio_group_get_container(vh_vfio_device_get_group(b->dev));
    g_autoptr(GError) local = NULL;
    g_autoptr(GArray) ranges = NULL;
    guint64 pgsizes;
    guint32 avail;
    guint i;

    vh_backend_reply_key(reply, "iommu");
    if (!container ||
        !vh_vfio_container_get_iommu_info(container, &pgsizes, &ranges,
                                          &avail, &local)) {
        yajl_gen_map_open(reply->gen);
        vh_backend_reply_string(reply, "error",
                                local ? local->message : "no container");
        yajl_gen_map_close(reply->gen);
        return;
    }
    yajl_gen_map_open(reply->gen);
    vh_backend_reply_uint(reply, "pgsizes", pgsizes);
    vh_backend_reply_uint(reply, "dma_avail", avail);
    vh_backend_reply_key(reply, "iova_ranges");
    yajl_gen_array_open(reply->gen);
    for (i = 0; i < ranges->len; i++) {
        const VhVfioIovaRange *r = &g_array_index(ranges, VhVfioIovaRange, i);

        yajl_gen_map_open(reply->gen);
        vh_backend_reply_uint(reply, "start", r->start);
        vh_backend_reply_uint(reply, "end", r->end);
        yajl_gen_map_close(reply->gen);
    }
    yajl_gen_array_close(reply->gen);
    yajl_gen_map_close(reply->gen);
}

static gboolean
vh_backend_cmd_report(VhBackend *b, const VhBackendRequest *req, GArray *fds,
                      VhBackendReply *reply, GError **error)
{
    const VhVfioDeviceInfo *info;
    const VhVfioMsix *msix;
    g_autoptr(GError) local = NULL;
    g_autoptr(GPtrArray) blocked = NULL;
    VhVfioResetMethod method;
    guint16 vendor, device;

    if (!vh_backend_need_device(b, error))
        return FALSE;
    info = vh_vfio_device_get_info(b->dev);
    if (!vh_vfio_device_config_read_u16(b->dev, 0, &vendor, error) ||
        !vh_vfio_device_config_read_u16(b->dev, 2, &device, error))
        return FALSE;
    vh_backend_reply_string(reply, "device", b->name);
    vh_backend_reply_int(reply, "group", b->group_id);
    vh_backend_reply_uint(reply, "vendor", vendor);
    vh_backend_reply_uint(reply, "device_id", device);
    vh_backend_reply_uint(reply, "flags", info->flags);
    vh_backend_reply_bool(reply, "pci", info->flags & VFIO_DEVICE_FLAGS_PCI);
    vh_backend_reply_bool(reply, "reset_flag",
                          info->flags & VFIO_DEVICE_FLAGS_RESET);
    vh_backend_reply_uint(reply, "num_regions", info->num_regions);
    vh_backend_reply_uint(reply, "num_irqs", info->num_irqs);
    vh_backend_report_regions(b, reply);
    vh_backend_report_irqs(b, reply);
    msix = vh_vfio_device_get_msix(b->dev);
    if (msix && msix->present) {
        vh_backend_reply_key(reply, "msix");
        yajl_gen_map_open(reply->gen);
        vh_backend_reply_uint(reply, "entries", msix->entries);
        vh_backend_reply_uint(reply, "table_bar", msix->table_bar);
        vh_backend_reply_uint(reply, "table_offset", msix->table_offset);
        vh_backend_reply_uint(reply, "pba_bar", msix->pba_bar);
        vh_backend_reply_uint(reply, "pba_offset", msix->pba_offset);
        yajl_gen_map_close(reply->gen);
    }
    if (vh_vfio_device_get_reset_method(b->dev, NULL, 0, &method, &blocked,
                                        &local)) {
        vh_backend_reply_string(reply, "reset",
                                vh_vfio_reset_method_to_string(method));
    } else {
        vh_backend_reply_string(reply, "reset", "unknown");
        vh_backend_reply_string(reply, "reset_error", local->message);
    }
    vh_backend_report_iommu(b, reply);
    return TRUE;
}

static gboolean
vh_backend_cmd_config_read(VhBackend *b, const VhBackendRequest *req,
                           GArray *fds, VhBackendReply *reply, GError **error)
{
    VhBackendAccess a;
    guint64 value;

    if (!vh_backend_need_device(b, error) ||
        !vh_backend_access_parse(b, req->root, NULL, TRUE, &a, error) ||
        !vh_backend_access_read(b, &a, &value, NULL, error))
        return FALSE;
    vh_backend_reply_uint(reply, "value", value);
    return TRUE;
}

static gboolean
vh_backend_cmd_config_write(VhBackend *b, const VhBackendRequest *req,
                            GArray *fds, VhBackendReply *reply,
                            GError **error)
{
    VhBackendAccess a;
    guint64 value;

    if (!vh_backend_need_device(b, error) ||
        !vh_backend_access_parse(b, req->root, NULL, TRUE, &a, error) ||
        !vh_backend_request_uint(req, "value", FALSE, 0, G_MAXUINT64, &value,
                                 error) ||
        !vh_backend_access_write(b, &a, value, NULL, error))
        return FALSE;
    return TRUE;
}

static gboolean
vh_backend_cmd_region_read(VhBackend *b, const VhBackendRequest *req,
                           GArray *fds, VhBackendReply *reply, GError **error)
{
    VhBackendAccess a;
    guint64 value;
    gboolean mapped;

    if (!vh_backend_need_device(b, error) ||
        !vh_backend_access_parse(b, req->root, NULL, FALSE, &a, error) ||
        !vh_backend_access_read(b, &a, &value, &mapped, error))
        return FALSE;
    vh_backend_reply_uint(reply, "value", value);
    vh_backend_reply_string(reply, "path", mapped ? "mmap" : "pread");
    return TRUE;
}

static gboolean
vh_backend_cmd_region_write(VhBackend *b, const VhBackendRequest *req,
                            GArray *fds, VhBackendReply *reply,
                            GError **error)
{
    VhBackendAccess a;
    guint64 value;
    gboolean mapped;

    if (!vh_backend_need_device(b, error) ||
        !vh_backend_access_parse(b, req->root, NULL, FALSE, &a, error) ||
        !vh_backend_request_uint(req, "value", FALSE, 0, G_MAXUINT64, &value,
                                 error) ||
        !vh_backend_access_write(b, &a, value, &mapped, error))
        return FALSE;
    vh_backend_reply_string(reply, "path", mapped ? "mmap" : "pwrite");
    return TRUE;
}

static gboolean
vh_backend_irq_index_parse(const char *name, VhVfioIrqIndex *ret_index,
                           GError **error)
{
    guint i;

    for (i = 0; i < G_N_ELEMENTS(vh_backend_irq_names); i++) {
        if (g_str_equal(name, vh_backend_irq_names[i])) {
            *ret_index = i;
            return TRUE;
        }
    }
    g_set_error(error, VH_BACKEND_ERROR, VH_BACKEND_ERROR_INVALID,
                "\"irq\" must be intx, msi, msix, err or req");
    return FALSE;
}

static gboolean
vh_backend_irq_arm(VhBackend *b, VhVfioIrqIndex index, guint vector,
                   GError **error)
{
    switch (index) {
    case VH_VFIO_IRQ_INTX:
        return vh_vfio_device_intx_enable(b->dev, error);
    case VH_VFIO_IRQ_MSI:
        return vh_vfio_device_msi_enable(b->dev, vector + 1, error);
    case VH_VFIO_IRQ_MSIX:
        return vh_vfio_device_msix_enable_vector(b->dev, vector, error);
    case VH_VFIO_IRQ_ERR:
        return vh_vfio_device_err_enable(b->dev, error);
    case VH_VFIO_IRQ_REQ:
        return vh_vfio_device_req_enable(b->dev, error);
    }
    g_assert_not_reached();
}

/* Interrupt, raised by a register write (trigger) or by the kernel
 * (loopback), received on the eventfd, then acknowledged. */
static gboolean
vh_backend_irq_test_run(VhBackend *b, const VhBackendRequest *req,
                        VhVfioIrqIndex index, guint vector,
                        VhBackendReply *reply, GError **error)
{
    yajl_val trigger_obj, ack_obj;
    VhBackendAccess trigger = { 0 }, ack = { 0 };
    guint64 trigger_value = 0, ack_value = 0, timeout_ms, count;
    gint64 t0, t1;

    if (!vh_backend_request_object(req, "trigger", TRUE, &trigger_obj, error) ||
        !vh_backend_request_object(req, "ack", TRUE, &ack_obj, error) ||
        !vh_backend_request_uint(req, "timeout_ms", TRUE, 1000, 60000,
                                 &timeout_ms, error))
        return FALSE;
    if (trigger_obj &&
        (!vh_backend_access_parse(b, trigger_obj, "trigger", FALSE, &trigger,
                                  error) ||
         !vh_backend_json_uint(trigger_obj, "trigger", "value", FALSE, 0,
                               G_MAXUINT64, &trigger_value, error)))
        return FALSE;
    if (ack_obj &&
        (!vh_backend_access_parse(b, ack_obj, "ack", FALSE, &ack, error) ||
         !vh_backend_json_uint(ack_obj, "ack", "value", FALSE, 0, G_MAXUINT64,
                               &ack_value, error)))
        return FALSE;

    if (!vh_backend_irq_arm(b, index, vector, error))
        return FALSE;
    /* Nothing left over from before: the count read is this test's. */
    vh_vfio_device_irq_wait(b->dev, index, vector, 0, NULL, NULL);
    t0 = g_get_monotonic_time();
    if (trigger_obj) {
        if (!vh_backend_access_write(b, &trigger, trigger_value, NULL, error))
            return FALSE;
    } else if (!vh_vfio_device_irq_trigger(b->dev, index, vector, error)) {
        return FALSE;
    }
    if (!vh_vfio_device_irq_wait(b->dev, index, vector, (int) timeout_ms,
                                 &count, error)) {
        g_prefix_error(error, "%s: no %s interrupt on vector %u within %"
                       G_GUINT64_FORMAT " ms after the %s: ", b->name,
                       vh_backend_irq_names[index], vector, timeout_ms,
                       trigger_obj ? "trigger write" : "loopback trigger");
        return FALSE;
    }
    t1 = g_get_monotonic_time();
    if (ack_obj && !vh_backend_access_write(b, &ack, ack_value, NULL, error))
        return FALSE;
    if (index == VH_VFIO_IRQ_INTX && !vh_vfio_device_intx_unmask(b->dev, error))
        return FALSE;
    vh_backend_reply_string(reply, "irq", vh_backend_irq_names[index]);
    vh_backend_reply_uint(reply, "vector", vector);
    vh_backend_reply_bool(reply, "fired", TRUE);
    vh_backend_reply_uint(reply, "count", count);
    vh_backend_reply_int(reply, "latency_us", t1 - t0);
    vh_backend_reply_int(reply, "eventfd",
                         vh_vfio_device_irq_get_eventfd(b->dev, index, vector));
    vh_backend_reply_string(reply, "trigger",
                            trigger_obj ? "device" : "loopback");
    return TRUE;
}

static gboolean
vh_backend_cmd_irq_test(VhBackend *b, const VhBackendRequest *req,
                        GArray *fds, VhBackendReply *reply, GError **error)
{
    const VhVfioIrqInfo *info;
    const char *name;
    VhVfioIrqIndex index;
    guint64 vector;
    gboolean ok;

    if (!vh_backend_need_device(b, error) ||
        !vh_backend_request_string(req, "irq", FALSE, NULL, &name, error) ||
        !vh_backend_irq_index_parse(name, &index, error) ||
        !vh_backend_request_uint(req, "vector", TRUE, 0, 2047, &vector,
                                 error) ||
        !vh_vfio_device_get_irq_info(b->dev, index, &info, error))
        return FALSE;
    if (vector >= info->count) {
        g_set_error(error, VH_BACKEND_ERROR, VH_BACKEND_ERROR_INVALID,
                    "%s: %s has %u vector%s; vector %" G_GUINT64_FORMAT
                    " does not exist", b->name, name, info->count,
                    info->count == 1 ? "" : "s", vector);
        return FALSE;
    }
    ok = vh_backend_irq_test_run(b, req, index, vector, reply, error);
    /* Leave the interrupt as it was: off. */
    if (ok)
        return vh_vfio_device_irq_disable(b->dev, index, error);
    vh_vfio_device_irq_disable(b->dev, index, NULL);
    return FALSE;
}

static gboolean
vh_backend_cmd_dma_test(VhBackend *b, const VhBackendRequest *req,
                        GArray *fds, VhBackendReply *reply, GError **error)
{
    VhBackendEduDmaResult r;
    guint64 iova, length, unmapped_iova;
    guint16 vendor, device;

    if (!vh_backend_need_device(b, error) ||
        !vh_backend_request_uint(req, "iova", TRUE, VH_BACKEND_EDU_IOVA,
                                 G_MAXUINT64, &iova, error) ||
        !vh_backend_request_uint(req, "length", TRUE, 2048, G_MAXUINT32,
                                 &length, error) ||
        !vh_backend_request_uint(req, "unmapped_iova", TRUE,
                                 iova + VH_BACKEND_EDU_UNMAPPED_GAP,
                                 G_MAXUINT64, &unmapped_iova, error))
        return FALSE;
    if (!vh_vfio_device_config_read_u16(b->dev, 0, &vendor, error) ||
        !vh_vfio_device_config_read_u16(b->dev, 2, &device, error))
        return FALSE;
    if (vendor != VH_BACKEND_EDU_VENDOR || device != VH_BACKEND_EDU_DEVICE) {
        g_set_error(error, VH_BACKEND_ERROR, VH_BACKEND_ERROR_INVALID,
                    "%s (%04x:%04x): dma-test knows how to program only QEMU's "
                    "edu device (1234:11e8)", b->name, vendor, device);
        return FALSE;
    }
    if (!vh_backend_edu_dma_test(b->dev, iova, length, unmapped_iova, &r,
                                 error)) {
        g_prefix_error(error, "%s: ", b->name);
        return FALSE;
    }
    vh_backend_reply_uint(reply, "iova", iova);
    vh_backend_reply_uint(reply, "length", length);
    vh_backend_reply_uint(reply, "mismatches", r.mismatches);
    vh_backend_reply_int(reply, "first_mismatch", r.first_mismatch);
    vh_backend_reply_uint(reply, "checksum", r.checksum);
    vh_backend_reply_uint(reply, "unmapped_iova", unmapped_iova);
    vh_backend_reply_uint(reply, "unmapped_changed", r.unmapped_changed);
    vh_backend_reply_int(reply, "elapsed_us", r.elapsed_us);
    return TRUE;
}

static gboolean
vh_backend_cmd_reset(VhBackend *b, const VhBackendRequest *req, GArray *fds,
                     VhBackendReply *reply, GError **error)
{
    VhVfioResetMethod method;

    if (!vh_backend_need_device(b, error) ||
        !vh_vfio_device_reset(b->dev, NULL, 0, &method, error))
        return FALSE;
    vh_backend_reply_string(reply, "method",
                            vh_vfio_reset_method_to_string(method));
    return TRUE;
}

static gboolean
vh_backend_cmd_quit(VhBackend *b, const VhBackendRequest *req, GArray *fds,
                    VhBackendReply *reply, GError **error)
{
    return TRUE;
}

typedef struct {
    const char *name;
    VhBackendCommandFunc func;
    const char *const fields[8];    /* besides "id" and "cmd" */
} VhBackendCommand;

static const VhBackendCommand vh_backend_commands[] = {
    { "handover", vh_backend_cmd_handover, { "group", NULL } },
    { "status", vh_backend_cmd_status, { NULL } },
    { "report", vh_backend_cmd_report, { NULL } },
    { "config-read", vh_backend_cmd_config_read, { "offset", "size", NULL } },
    { "config-write", vh_backend_cmd_config_write,
      { "offset", "size", "value", NULL } },
    { "region-read", vh_backend_cmd_region_read,
      { "region", "offset", "size", NULL } },
    { "region-write", vh_backend_cmd_region_write,
      { "region", "offset", "size", "value", NULL } },
    { "irq-test", vh_backend_cmd_irq_test,
      { "irq", "vector", "trigger", "ack", "timeout_ms", NULL } },
    { "dma-test", vh_backend_cmd_dma_test,
      { "iova", "length", "unmapped_iova", NULL } },
    { "reset", vh_backend_cmd_reset, { NULL } },
    { "quit", vh_backend_cmd_quit, { NULL } },
};

static void
vh_backend_close_fds(GArray *fds)
{
    guint i;

    if (!fds)
        return;
    for (i = 0; i < fds->len; i++)
        close(g_array_index(fds, int, i));
    g_array_set_size(fds, 0);
}

char *
vh_backend_handle_line(VhBackend *b, const char *line, GArray *fds,
                       gboolean *ret_quit)
{
    g_autoptr(VhBackendRequest) req = NULL;
    g_autoptr(VhBackendReply) reply = NULL;
    g_autoptr(GError) error = NULL;
    const VhBackendCommand *cmd = NULL;
    VhBackendId id = { 0 };
    char *out;
    gsize i;

    *ret_quit = FALSE;
    if (!(req = vh_backend_request_parse(line, &id, &error))) {
        out = vh_backend_reply_error(&id, error->message);
        vh_backend_id_clear(&id);
        vh_backend_close_fds(fds);
        return out;
    }
    for (i = 0; i < G_N_ELEMENTS(vh_backend_commands); i++) {
        if (g_str_equal(vh_backend_commands[i].name, req->cmd))
            cmd = &vh_backend_commands[i];
    }
    if (!cmd) {
        g_autofree char *esc = g_strescape(req->cmd, NULL);
        g_autofree char *msg = g_strdup_printf(
            "unknown command \"%s\"; known: handover, status, report, "
            "config-read, config-write, region-read, region-write, irq-test, "
            "dma-test, reset, quit", esc);
        vh_backend_close_fds(fds);
        return vh_backend_reply_error(&req->id, msg);
    }
    reply = vh_backend_reply_new(&req->id);
    if (!vh_backend_request_check_fields(req, cmd->fields, &error) ||
        !cmd->func(b, req, fds, reply, &error)) {
        vh_backend_close_fds(fds);
        return vh_backend_reply_error(&req->id, error->message);
    }
    /* fds that came with anything but a handover are not kept. */
    vh_backend_close_fds(fds);
    *ret_quit = cmd->func == vh_backend_cmd_quit;
    return vh_backend_reply_finish(reply);
}

/* ---- the socket --------------------------------------------------------- */

static gboolean
vh_backend_send_all(int sock, const char *data, gsize len, GError **error)
{
    gsize done = 0;

    while (done < len) {
        ssize_t n = send(sock, data + done, len - done, MSG_NOSIGNAL);

        if (n < 0) {
            int saved_errno = errno;

            if (saved_errno == EINTR)
                continue;
            g_set_error(error, VH_BACKEND_ERROR, VH_BACKEND_ERROR_FAILED,
                        "writing a reply on the control socket: %s",
                        g_strerror(saved_errno));
            return FALSE;
        }
        done += n;
    }
    return TRUE;
}

gboolean
vh_backend_serve(VhBackend *b, GError **error)
{
    g_autoptr(GString) in = g_string_new(NULL);
    g_autoptr(GArray) fds = g_array_new(FALSE, FALSE, sizeof(int));
    gboolean discarding = FALSE;
    char buf[4096];

    static const char overlong[] = "{\"id\":null,\"ok\":false,\"error\":"
        "\"request line longer than " G_STRINGIFY(VH_BACKEND_MAX_LINE)
        " bytes; skipped\"}\n";

    for (;;) {
        g_autoptr(GError) local = NULL;
        gssize n = vh_backend_fds_recv(b->sock, buf, sizeof(buf), fds, &local);
        char *nl;

        if (n < 0) {
            if (g_error_matches(local, VH_BACKEND_ERROR,
                                VH_BACKEND_ERROR_PROTOCOL)) {
                /* Too many fds: say so and go on. */
                g_autofree char *out = vh_backend_reply_error(NULL,
                                                              local->message);
                if (!vh_backend_send_all(b->sock, out, strlen(out), error))
                    return FALSE;
                continue;
            }
            vh_backend_close_fds(fds);
            g_propagate_error(error, g_steal_pointer(&local));
            return FALSE;
        }
        if (n == 0) {
            vh_backend_close_fds(fds);
            return TRUE;        /* the manager went away */
        }
        g_string_append_len(in, buf, n);
        while ((nl = memchr(in->str, '\n', in->len))) {
            gsize len = nl - in->str;
            g_autofree char *out = NULL;
            gboolean quit = FALSE;

            *nl = '\0';
            if (discarding) {
                discarding = FALSE;
            } else if (len > VH_BACKEND_MAX_LINE) {
                vh_backend_close_fds(fds);
                if (!vh_backend_send_all(b->sock, overlong,
                                         strlen(overlong), error))
                    return FALSE;
            } else if (len > 0) {
                out = vh_backend_handle_line(b, in->str, fds, &quit);
                if (!vh_backend_send_all(b->sock, out, strlen(out), error))
                    return FALSE;
            }
            g_string_erase(in, 0, len + 1);
            if (quit)
                return TRUE;
        }
        if (in->len > VH_BACKEND_MAX_LINE) {
            if (!discarding &&
                !vh_backend_send_all(b->sock, overlong, strlen(overlong),
                                     error))
                return FALSE;
            discarding = TRUE;
            g_string_truncate(in, 0);
            vh_backend_close_fds(fds);
        }
    }
}
