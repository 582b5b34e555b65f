/*
 * vh-sysfs.h: the one seam through which the project reads and writes sysfs
 *
 * Every access is relative to a configured root ("/sys", or a fake tree in
 * tests) and is resolved beneath it: paths are checked (no absolute paths,
 * no "." or ".." components) and opened with openat2(RESOLVE_BENEATH), so
 * neither a path nor a symlink in the tree can lead outside the root.
 *
 * Attributes that do not exist are an answer, not an error: readers return
 * TRUE with a NULL result for them.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

#include "vh-pci-address.h"

G_BEGIN_DECLS

typedef struct _VhSysfs VhSysfs;

/* Text attributes larger than this are refused (VH_SYSFS_ERROR_TOO_BIG). */
#define VH_SYSFS_ATTR_MAX (64 * 1024)

/* Opens @root (a directory); VH_SYSFS_ERROR_INVALID if it is not one. */
VhSysfs *vh_sysfs_new(const char *root, GError **error);
void vh_sysfs_free(VhSysfs *sysfs);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VhSysfs, vh_sysfs_free)

const char *vh_sysfs_get_root(const VhSysfs *sysfs);

/*
 * A VhSysfs rooted at the directory @relpath of @sysfs (a device's
 * directory, or bus/pci/devices), kept open so that reading many attributes
 * of one device costs one short lookup each, not a walk from the root.
 * Everything opened through it stays beneath that directory; links read
 * through it resolve against the root of vh_sysfs_new() (see
 * vh_sysfs_resolve_link()).  VH_SYSFS_ERROR_NOT_FOUND when it does not exist.
 */
VhSysfs *vh_sysfs_open_subdir(const VhSysfs *sysfs, const char *relpath,
                              GError **error);

/* "bus/pci/devices/0000:01:02.3" or, with @attr, ".../0000:01:02.3/@attr".
 * @attr is a constant of the caller's, never user input.  Free with g_free(). */
char *vh_sysfs_pci_device_relpath(const VhPciAddress *addr, const char *attr);

/* TRUE when @relpath is a path the seam accepts (see above). */
gboolean vh_sysfs_relpath_is_valid(const char *relpath);

/* Root + @relpath for messages; free with g_free(). */
char *vh_sysfs_describe(const VhSysfs *sysfs, const char *relpath);

gboolean vh_sysfs_exists(const VhSysfs *sysfs, const char *relpath);

/* @relpath is a regular file, as every attribute of the kernel's sysfs is
 * (a final symlink not followed). */
gboolean vh_sysfs_is_file(const VhSysfs *sysfs, const char *relpath);

/*
 * Attribute readers (vh_sysfs_read, _read_bytes, _read_int) take a short
 * read as the end of the file: a sysfs attribute comes from one show() and
 * a regular file ends where read(2) returns less.  Stream files (procfs
 * seq_files return a page per read) need vh_sysfs_read_file().
 */

/* Text of an attribute without its trailing newline; NULL if absent.
 * Free with g_free(). */
gboolean vh_sysfs_read(const VhSysfs *sysfs, const char *relpath,
                       char **ret_value, GError **error);

/* At most @max bytes of a binary attribute (config, rom); NULL if absent.
 * Unlike vh_sysfs_read() a longer file is truncated to @max, as config
 * space readers only want the part they understand.  Free with
 * g_bytes_unref(). */
gboolean vh_sysfs_read_bytes(const VhSysfs *sysfs, const char *relpath,
                             gsize max, GBytes **ret_bytes, GError **error);

/* All of a file, read until read(2) returns 0, whatever its kind (procfs
 * seq_files too); VH_SYSFS_ERROR_TOO_BIG past @max bytes.  NULL if absent.
 * Free with g_bytes_unref(). */
gboolean vh_sysfs_read_file(const VhSysfs *sysfs, const char *relpath,
                            gsize max, GBytes **ret_bytes, GError **error);

/* A numeric attribute ("0x8086", "-1", "4"): base 0 as strtoll does.
 * *ret_present tells whether the file exists; *ret_value is set only then. */
gboolean vh_sysfs_read_int(const VhSysfs *sysfs, const char *relpath,
                           gint64 *ret_value, gboolean *ret_present,
                           GError **error);

/* Last component of a symlink's target (a driver, an iommu group);
 * NULL if the link is absent.  Free with g_free(). */
gboolean vh_sysfs_read_link_name(const VhSysfs *sysfs, const char *relpath,
                                 char **ret_name, GError **error);

/* The target of a symlink as the kernel stores it, not resolved (a
 * /proc/PID/fd/N link says "/dev/vfio/4"); NULL if the link is absent.
 * Free with g_free(). */
gboolean vh_sysfs_read_link(const VhSysfs *sysfs, const char *relpath,
                            char **ret_target, GError **error);

/*
 * The target of the symlink @relpath as a path relative to the root,
 * normalized ("bus/pci/devices/0000:00:03.0" gives
 * "devices/pci0000:00/0000:00:03.0").  Absolute targets and targets that
 * climb out of the root are refused.  NULL if the link is absent.
 * Through a subdirectory from vh_sysfs_open_subdir() the link is read
 * there (one readlinkat(), no lookup from the root) and the result is
 * still relative to the root of vh_sysfs_new(): "0000:00:03.0" in the
 * subdirectory "bus/pci/devices" gives the path above.
 * Free with g_free().
 */
gboolean vh_sysfs_resolve_link(const VhSysfs *sysfs, const char *relpath,
                               char **ret_relpath, GError **error);

/*
 * The name of the entry of directory @dir (relative to the root) that the
 * link @relpath points to: "bus/pci/devices/0000:01:02.0/driver" with @dir
 * "bus/pci/drivers" gives "e1000".  NULL when the link is absent.  A link
 * to anything else -- elsewhere, out of the root, a loop, an entry that
 * does not exist -- is VH_SYSFS_ERROR_FAILED naming the link and where it
 * points: the kernel makes no such link.  @sysfs is a root from
 * vh_sysfs_new().  Free with g_free().
 */
gboolean vh_sysfs_read_link_entry(const VhSysfs *sysfs, const char *relpath,
                                  const char *dir, char **ret_name,
                                  GError **error);

/*
 * @relpath resolved as the kernel would, following every link on the way
 * (also links in the middle, as "class/block/dm-0/slaves/sda2"), to a
 * normalized path relative to the root.  NULL when the path does not
 * exist or leaves the root (an absolute link, ".." above the root, a loop
 * or more than 40 links): such a path is not followed, with a debug
 * message.  Costs a readlink per component; vh_sysfs_resolve_link() is the
 * cheap form for a link whose target holds no further links.
 * Free with g_free().
 */
gboolean vh_sysfs_resolve_path(const VhSysfs *sysfs, const char *relpath,
                               char **ret_relpath, GError **error);

/* Sorted names in a directory; NULL if absent.  @relpath "" lists the
 * root itself (the pids of a /proc).  Free with g_ptr_array_unref(). */
gboolean vh_sysfs_list(const VhSysfs *sysfs, const char *relpath,
                       GPtrArray **ret_names, GError **error);

/*
 * A binary attribute opened for reads at offsets, for config space, where
 * every dword read reaches the device (a config cycle; a trap to the
 * hypervisor in a VM): the caller reads only the parts it needs.
 */
typedef struct _VhSysfsFile VhSysfsFile;

/* @relpath opened for reading; NULL if absent.  Free with
 * vh_sysfs_file_free(). */
gboolean vh_sysfs_file_open(const VhSysfs *sysfs, const char *relpath,
                            VhSysfsFile **ret_file, GError **error);

/* Up to @len bytes at @offset into @buf; *ret_read is less than @len only
 * at the end of the file (sysfs config space ends at 64 bytes for users
 * other than root). */
gboolean vh_sysfs_file_read_at(VhSysfsFile *file, guint8 *buf, gsize len,
                               goffset offset, gsize *ret_read,
                               GError **error);

void vh_sysfs_file_free(VhSysfsFile *file);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VhSysfsFile, vh_sysfs_file_free)

/* Write @value to an existing attribute, in one write(2) as sysfs wants. */
gboolean vh_sysfs_write(const VhSysfs *sysfs, const char *relpath,
                        const char *value, GError **error);

/*
 * For a simulated kernel in tests: called after each write through @sysfs
 * has landed in the file, with the relpath as given and the value.  The
 * hook changes the tree as the kernel's store() would (driver links on
 * unbind, bind, drivers_probe) and may fail the write with an error, as
 * store() returning -errno would.  Not inherited by vh_sysfs_open_subdir().
 */
typedef gboolean (*VhSysfsWriteHook)(gpointer data, const char *relpath,
                                     const char *value, GError **error);
void vh_sysfs_set_write_hook(VhSysfs *sysfs, VhSysfsWriteHook hook,
                             gpointer data);

/*
 * The kernel's device events (uevents), for a process that keeps what it
 * read (virt-hostdevd).  A VhSysfsEvents exists only when @sysfs is the
 * kernel's own sysfs (its root is a sysfs mount): a fake tree has no
 * events, and vh_sysfs_events_new() says so with VH_SYSFS_ERROR_INVALID.
 * The kernel queues an event on the socket before the write that caused it
 * returns (bind, unbind, add, remove), so draining the queue before an
 * answer sees every change completed before the question.
 */
typedef struct _VhSysfsEvents VhSysfsEvents;

VhSysfsEvents *vh_sysfs_events_new(const VhSysfs *sysfs, GError **error);
void vh_sysfs_events_free(VhSysfsEvents *events);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VhSysfsEvents, vh_sysfs_events_free)

/* The socket's descriptor, for a main loop to wait on (readable: events
 * are queued).  Owned by @events. */
int vh_sysfs_events_get_fd(const VhSysfsEvents *events);

/* Read every queued event without waiting; *ret_pci is TRUE when one of
 * them concerns a PCI device (SUBSYSTEM=pci) or events were lost (the
 * queue overflowed), FALSE when none did.  Set only on success. */
gboolean vh_sysfs_events_drain(VhSysfsEvents *events, gboolean *ret_pci,
                               GError **error);

G_END_DECLS
