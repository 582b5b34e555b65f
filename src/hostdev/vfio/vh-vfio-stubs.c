/*
 * vh-vfio-stubs.c: placeholders for the API not implemented yet
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "hostdev.vfio"

#include "vh-vfio.h"

VhVfioContainer *vh_vfio_container_new(const VhVfioOps *ops,
                                       gpointer ops_data, GError **error)
{
    g_set_error_literal(error, VH_VFIO_ERROR, VH_VFIO_ERROR_UNSUPPORTED, "vh_vfio_container_new: not implemented yet");
    return NULL;
}

VhVfioContainer *vh_vfio_container_new_from_fd(const VhVfioOps *ops,
                                               gpointer ops_data, int fd,
                                               GError **error)
{
    g_set_error_literal(error, VH_VFIO_ERROR, VH_VFIO_ERROR_UNSUPPORTED, "vh_vfio_container_new_from_fd: not implemented yet");
    return NULL;
}

VhVfioContainer *vh_vfio_container_ref(VhVfioContainer *container)
{
    return NULL;
}

void vh_vfio_container_unref(VhVfioContainer *container)
{
}

int vh_vfio_container_get_fd(const VhVfioContainer *container)
{
    return -1;
}

gboolean vh_vfio_container_has_iommu(const VhVfioContainer *container)
{
    return FALSE;
}

gboolean vh_vfio_container_get_iommu_info(VhVfioContainer *container,
                                          guint64 *ret_pgsizes,
                                          GArray **ret_ranges,
                                          guint32 *ret_dma_avail,
                                          GError **error)
{
    g_set_error_literal(error, VH_VFIO_ERROR, VH_VFIO_ERROR_UNSUPPORTED, "vh_vfio_container_get_iommu_info: not implemented yet");
    return FALSE;
}

gboolean vh_vfio_container_dma_map_ranges(VhVfioContainer *container,
                                          const VhVfioDmaRange *ranges,
                                          gsize n_ranges, GError **error)
{
    g_set_error_literal(error, VH_VFIO_ERROR, VH_VFIO_ERROR_UNSUPPORTED, "vh_vfio_container_dma_map_ranges: not implemented yet");
    return FALSE;
}

gboolean vh_vfio_container_dma_map(VhVfioContainer *container,
                                   gconstpointer vaddr, guint64 iova,
                                   guint64 size, VhVfioDmaFlags flags,
                                   GError **error)
{
    g_set_error_literal(error, VH_VFIO_ERROR, VH_VFIO_ERROR_UNSUPPORTED, "vh_vfio_container_dma_map: not implemented yet");
    return FALSE;
}

gboolean vh_vfio_container_dma_unmap(VhVfioContainer *container,
                                     guint64 iova, guint64 size,
                                     GError **error)
{
    g_set_error_literal(error, VH_VFIO_ERROR, VH_VFIO_ERROR_UNSUPPORTED, "vh_vfio_container_dma_unmap: not implemented yet");
    return FALSE;
}

const GArray *vh_vfio_container_get_mappings(const VhVfioContainer *container)
{
    return NULL;
}

guint64 vh_vfio_container_get_map_calls(const VhVfioContainer *container)
{
    return 0;
}

gboolean vh_vfio_group_blockers_sysfs(gpointer data, int group_id,
                                      GPtrArray **ret_blockers,
                                      GError **error)
{
    g_set_error_literal(error, VH_VFIO_ERROR, VH_VFIO_ERROR_UNSUPPORTED, "vh_vfio_group_blockers_sysfs: not implemented yet");
    return FALSE;
}

VhVfioGroup *vh_vfio_group_new(const VhVfioOps *ops, gpointer ops_data,
                               int group_id, GError **error)
{
    g_set_error_literal(error, VH_VFIO_ERROR, VH_VFIO_ERROR_UNSUPPORTED, "vh_vfio_group_new: not implemented yet");
    return NULL;
}

VhVfioGroup *vh_vfio_group_new_from_fd(const VhVfioOps *ops,
                                       gpointer ops_data, int fd,
                                       int group_id, GError **error)
{
    g_set_error_literal(error, VH_VFIO_ERROR, VH_VFIO_ERROR_UNSUPPORTED, "vh_vfio_group_new_from_fd: not implemented yet");
    return NULL;
}

VhVfioGroup *vh_vfio_group_ref(VhVfioGroup *group)
{
    return NULL;
}

void vh_vfio_group_unref(VhVfioGroup *group)
{
}

int vh_vfio_group_get_fd(const VhVfioGroup *group)
{
    return -1;
}

int vh_vfio_group_get_id(const VhVfioGroup *group)
{
    return -1;
}

VhVfioContainer *vh_vfio_group_get_container(const VhVfioGroup *group)
{
    return NULL;
}

gboolean vh_vfio_group_check_viable(VhVfioGroup *group,
                                    VhVfioBlockersFunc blockers,
                                    gpointer blockers_data, GError **error)
{
    g_set_error_literal(error, VH_VFIO_ERROR, VH_VFIO_ERROR_UNSUPPORTED, "vh_vfio_group_check_viable: not implemented yet");
    return FALSE;
}

gboolean vh_vfio_group_attach(VhVfioGroup *group, VhVfioContainer *container,
                              GError **error)
{
    g_set_error_literal(error, VH_VFIO_ERROR, VH_VFIO_ERROR_UNSUPPORTED, "vh_vfio_group_attach: not implemented yet");
    return FALSE;
}

VhVfioDevice *vh_vfio_device_new(VhVfioGroup *group, const char *name,
                                 GError **error)
{
    g_set_error_literal(error, VH_VFIO_ERROR, VH_VFIO_ERROR_UNSUPPORTED, "vh_vfio_device_new: not implemented yet");
    return NULL;
}

VhVfioDevice *vh_vfio_device_new_from_fds(const VhVfioOps *ops,
                                          gpointer ops_data,
                                          int group_fd, int group_id,
                                          int container_fd,
                                          VhVfioContainer *shared,
                                          const char *name,
                                          VhVfioBlockersFunc blockers,
                                          gpointer blockers_data,
                                          GError **error)
{
    g_set_error_literal(error, VH_VFIO_ERROR, VH_VFIO_ERROR_UNSUPPORTED, "vh_vfio_device_new_from_fds: not implemented yet");
    return NULL;
}

VhVfioDevice *vh_vfio_device_open_address(const VhVfioOps *ops,
                                          gpointer ops_data,
                                          const VhSysfs *sysfs,
                                          const VhPciAddress *addr,
                                          VhVfioContainer *shared,
                                          GError **error)
{
    g_set_error_literal(error, VH_VFIO_ERROR, VH_VFIO_ERROR_UNSUPPORTED, "vh_vfio_device_open_address: not implemented yet");
    return NULL;
}

VhVfioDevice *vh_vfio_device_ref(VhVfioDevice *dev)
{
    return NULL;
}

void vh_vfio_device_unref(VhVfioDevice *dev)
{
}

const char *vh_vfio_device_get_name(const VhVfioDevice *dev)
{
    return NULL;
}

int vh_vfio_device_get_fd(const VhVfioDevice *dev)
{
    return -1;
}

VhVfioGroup *vh_vfio_device_get_group(const VhVfioDevice *dev)
{
    return NULL;
}

const VhVfioDeviceInfo *vh_vfio_device_get_info(const VhVfioDevice *dev)
{
    return NULL;
}

const VhVfioMsix *vh_vfio_device_get_msix(const VhVfioDevice *dev)
{
    return NULL;
}

gboolean vh_vfio_device_get_region(VhVfioDevice *dev, guint32 index,
                                   const VhVfioRegion **ret_region,
                                   GError **error)
{
    g_set_error_literal(error, VH_VFIO_ERROR, VH_VFIO_ERROR_UNSUPPORTED, "vh_vfio_device_get_region: not implemented yet");
    return FALSE;
}

gboolean vh_vfio_device_get_irq_info(VhVfioDevice *dev, guint32 index,
                                     const VhVfioIrqInfo **ret_info,
                                     GError **error)
{
    g_set_error_literal(error, VH_VFIO_ERROR, VH_VFIO_ERROR_UNSUPPORTED, "vh_vfio_device_get_irq_info: not implemented yet");
    return FALSE;
}

gboolean vh_vfio_device_region_read(VhVfioDevice *dev, guint32 index,
                                    guint64 offset, void *buf, gsize len,
                                    GError **error)
{
    g_set_error_literal(error, VH_VFIO_ERROR, VH_VFIO_ERROR_UNSUPPORTED, "vh_vfio_device_region_read: not implemented yet");
    return FALSE;
}

gboolean vh_vfio_device_region_write(VhVfioDevice *dev, guint32 index,
                                     guint64 offset, const void *buf,
                                     gsize len, GError **error)
{
    g_set_error_literal(error, VH_VFIO_ERROR, VH_VFIO_ERROR_UNSUPPORTED, "vh_vfio_device_region_write: not implemented yet");
    return FALSE;
}

gboolean vh_vfio_device_config_read(VhVfioDevice *dev, guint64 offset,
                                    void *buf, gsize len, GError **error)
{
    g_set_error_literal(error, VH_VFIO_ERROR, VH_VFIO_ERROR_UNSUPPORTED, "vh_vfio_device_config_read: not implemented yet");
    return FALSE;
}

gboolean vh_vfio_device_config_write(VhVfioDevice *dev, guint64 offset,
                                     const void *buf, gsize len,
                                     GError **error)
{
    g_set_error_literal(error, VH_VFIO_ERROR, VH_VFIO_ERROR_UNSUPPORTED, "vh_vfio_device_config_write: not implemented yet");
    return FALSE;
}

gboolean vh_vfio_device_config_read_u8(VhVfioDevice *dev, guint64 offset,
                                       guint8 *ret_value, GError **error)
{
    g_set_error_literal(error, VH_VFIO_ERROR, VH_VFIO_ERROR_UNSUPPORTED, "vh_vfio_device_config_read_u8: not implemented yet");
    return FALSE;
}

gboolean vh_vfio_device_config_read_u16(VhVfioDevice *dev, guint64 offset,
                                        guint16 *ret_value, GError **error)
{
    g_set_error_literal(error, VH_VFIO_ERROR, VH_VFIO_ERROR_UNSUPPORTED, "vh_vfio_device_config_read_u16: not implemented yet");
    return FALSE;
}

gboolean vh_vfio_device_config_read_u32(VhVfioDevice *dev, guint64 offset,
                                        guint32 *ret_value, GError **error)
{
    g_set_error_literal(error, VH_VFIO_ERROR, VH_VFIO_ERROR_UNSUPPORTED, "vh_vfio_device_config_read_u32: not implemented yet");
    return FALSE;
}

gboolean vh_vfio_device_config_write_u8(VhVfioDevice *dev, guint64 offset,
                                        guint8 value, GError **error)
{
    g_set_error_literal(error, VH_VFIO_ERROR, VH_VFIO_ERROR_UNSUPPORTED, "vh_vfio_device_config_write_u8: not implemented yet");
    return FALSE;
}

gboolean vh_vfio_device_config_write_u16(VhVfioDevice *dev, guint64 offset,
                                         guint16 value, GError **error)
{
    g_set_error_literal(error, VH_VFIO_ERROR, VH_VFIO_ERROR_UNSUPPORTED, "vh_vfio_device_config_write_u16: not implemented yet");
    return FALSE;
}

gboolean vh_vfio_device_config_write_u32(VhVfioDevice *dev, guint64 offset,
                                         guint32 value, GError **error)
{
    g_set_error_literal(error, VH_VFIO_ERROR, VH_VFIO_ERROR_UNSUPPORTED, "vh_vfio_device_config_write_u32: not implemented yet");
    return FALSE;
}

gboolean vh_vfio_device_bar_mmap_areas(VhVfioDevice *dev, guint32 bar,
                                       GArray **ret_areas, GError **error)
{
    g_set_error_literal(error, VH_VFIO_ERROR, VH_VFIO_ERROR_UNSUPPORTED, "vh_vfio_device_bar_mmap_areas: not implemented yet");
    return FALSE;
}

gboolean vh_vfio_device_bar_map(VhVfioDevice *dev, guint32 bar,
                                guint *ret_mapped, GError **error)
{
    g_set_error_literal(error, VH_VFIO_ERROR, VH_VFIO_ERROR_UNSUPPORTED, "vh_vfio_device_bar_map: not implemented yet");
    return FALSE;
}

void vh_vfio_device_bar_unmap(VhVfioDevice *dev, guint32 bar)
{
}

gboolean vh_vfio_device_bar_read(VhVfioDevice *dev, guint32 bar,
                                 guint64 offset, void *buf, gsize len,
                                 GError **error)
{
    g_set_error_literal(error, VH_VFIO_ERROR, VH_VFIO_ERROR_UNSUPPORTED, "vh_vfio_device_bar_read: not implemented yet");
    return FALSE;
}

gboolean vh_vfio_device_bar_write(VhVfioDevice *dev, guint32 bar,
                                  guint64 offset, const void *buf, gsize len,
                                  GError **error)
{
    g_set_error_literal(error, VH_VFIO_ERROR, VH_VFIO_ERROR_UNSUPPORTED, "vh_vfio_device_bar_write: not implemented yet");
    return FALSE;
}

gboolean vh_vfio_device_bar_read_u32(VhVfioDevice *dev, guint32 bar,
                                     guint64 offset, guint32 *ret_value,
                                     GError **error)
{
    g_set_error_literal(error, VH_VFIO_ERROR, VH_VFIO_ERROR_UNSUPPORTED, "vh_vfio_device_bar_read_u32: not implemented yet");
    return FALSE;
}

gboolean vh_vfio_device_bar_write_u32(VhVfioDevice *dev, guint32 bar,
                                      guint64 offset, guint32 value,
                                      GError **error)
{
    g_set_error_literal(error, VH_VFIO_ERROR, VH_VFIO_ERROR_UNSUPPORTED, "vh_vfio_device_bar_write_u32: not implemented yet");
    return FALSE;
}

gboolean vh_vfio_device_bar_read_u64(VhVfioDevice *dev, guint32 bar,
                                     guint64 offset, guint64 *ret_value,
                                     GError **error)
{
    g_set_error_literal(error, VH_VFIO_ERROR, VH_VFIO_ERROR_UNSUPPORTED, "vh_vfio_device_bar_read_u64: not implemented yet");
    return FALSE;
}

gboolean vh_vfio_device_bar_write_u64(VhVfioDevice *dev, guint32 bar,
                                      guint64 offset, guint64 value,
                                      GError **error)
{
    g_set_error_literal(error, VH_VFIO_ERROR, VH_VFIO_ERROR_UNSUPPORTED, "vh_vfio_device_bar_write_u64: not implemented yet");
    return FALSE;
}

gboolean vh_vfio_device_bar_is_mapped(const VhVfioDevice *dev, guint32 bar,
                                      guint64 offset, gsize len)
{
    return FALSE;
}

gboolean vh_vfio_device_rom_read(VhVfioDevice *dev, GBytes **ret_rom,
                                 GError **error)
{
    g_set_error_literal(error, VH_VFIO_ERROR, VH_VFIO_ERROR_UNSUPPORTED, "vh_vfio_device_rom_read: not implemented yet");
    return FALSE;
}

gboolean vh_vfio_device_intx_enable(VhVfioDevice *dev, GError **error)
{
    g_set_error_literal(error, VH_VFIO_ERROR, VH_VFIO_ERROR_UNSUPPORTED, "vh_vfio_device_intx_enable: not implemented yet");
    return FALSE;
}

gboolean vh_vfio_device_intx_unmask(VhVfioDevice *dev, GError **error)
{
    g_set_error_literal(error, VH_VFIO_ERROR, VH_VFIO_ERROR_UNSUPPORTED, "vh_vfio_device_intx_unmask: not implemented yet");
    return FALSE;
}

gboolean vh_vfio_device_msi_enable(VhVfioDevice *dev, guint count,
                                   GError **error)
{
    g_set_error_literal(error, VH_VFIO_ERROR, VH_VFIO_ERROR_UNSUPPORTED, "vh_vfio_device_msi_enable: not implemented yet");
    return FALSE;
}

gboolean vh_vfio_device_msix_enable_vector(VhVfioDevice *dev, guint vector,
                                           GError **error)
{
    g_set_error_literal(error, VH_VFIO_ERROR, VH_VFIO_ERROR_UNSUPPORTED, "vh_vfio_device_msix_enable_vector: not implemented yet");
    return FALSE;
}

gboolean vh_vfio_device_msix_disable_vector(VhVfioDevice *dev, guint vector,
                                            GError **error)
{
    g_set_error_literal(error, VH_VFIO_ERROR, VH_VFIO_ERROR_UNSUPPORTED, "vh_vfio_device_msix_disable_vector: not implemented yet");
    return FALSE;
}

gboolean vh_vfio_device_err_enable(VhVfioDevice *dev, GError **error)
{
    g_set_error_literal(error, VH_VFIO_ERROR, VH_VFIO_ERROR_UNSUPPORTED, "vh_vfio_device_err_enable: not implemented yet");
    return FALSE;
}

gboolean vh_vfio_device_req_enable(VhVfioDevice *dev, GError **error)
{
    g_set_error_literal(error, VH_VFIO_ERROR, VH_VFIO_ERROR_UNSUPPORTED, "vh_vfio_device_req_enable: not implemented yet");
    return FALSE;
}

gboolean vh_vfio_device_irq_disable(VhVfioDevice *dev, VhVfioIrqIndex index,
                                    GError **error)
{
    g_set_error_literal(error, VH_VFIO_ERROR, VH_VFIO_ERROR_UNSUPPORTED, "vh_vfio_device_irq_disable: not implemented yet");
    return FALSE;
}

gboolean vh_vfio_device_irq_trigger(VhVfioDevice *dev, VhVfioIrqIndex index,
                                    guint vector, GError **error)
{
    g_set_error_literal(error, VH_VFIO_ERROR, VH_VFIO_ERROR_UNSUPPORTED, "vh_vfio_device_irq_trigger: not implemented yet");
    return FALSE;
}

int vh_vfio_device_irq_get_eventfd(const VhVfioDevice *dev,
                                   VhVfioIrqIndex index, guint vector)
{
    return -1;
}

guint vh_vfio_device_irq_get_enabled(const VhVfioDevice *dev,
                                     VhVfioIrqIndex index)
{
    return 0;
}

gboolean vh_vfio_device_irq_wait(VhVfioDevice *dev, VhVfioIrqIndex index,
                                 guint vector, int timeout_ms,
                                 guint64 *ret_count, GError **error)
{
    g_set_error_literal(error, VH_VFIO_ERROR, VH_VFIO_ERROR_UNSUPPORTED, "vh_vfio_device_irq_wait: not implemented yet");
    return FALSE;
}

const char *vh_vfio_reset_method_to_string(VhVfioResetMethod method)
{
    return NULL;
}

gboolean vh_vfio_device_get_hot_reset_info(VhVfioDevice *dev,
                                           VhVfioGroup *const *groups,
                                           gsize n_groups,
                                           GArray **ret_devices,
                                           GError **error)
{
    g_set_error_literal(error, VH_VFIO_ERROR, VH_VFIO_ERROR_UNSUPPORTED, "vh_vfio_device_get_hot_reset_info: not implemented yet");
    return FALSE;
}

gboolean vh_vfio_device_get_reset_method(VhVfioDevice *dev,
                                         VhVfioGroup *const *groups,
                                         gsize n_groups,
                                         VhVfioResetMethod *ret_method,
                                         GPtrArray **ret_blocked,
                                         GError **error)
{
    g_set_error_literal(error, VH_VFIO_ERROR, VH_VFIO_ERROR_UNSUPPORTED, "vh_vfio_device_get_reset_method: not implemented yet");
    return FALSE;
}

gboolean vh_vfio_device_reset(VhVfioDevice *dev, VhVfioGroup *const *groups,
                              gsize n_groups, VhVfioResetMethod *ret_method,
                              GError **error)
{
    g_set_error_literal(error, VH_VFIO_ERROR, VH_VFIO_ERROR_UNSUPPORTED, "vh_vfio_device_reset: not implemented yet");
    return FALSE;
}
