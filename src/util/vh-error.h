/*
 * vh-error.h: the project's GError domains
 *
 * One domain per module, each with a ..._FAILED catch-all.  Codes named
 * ..._INVALID mean "the caller gave bad input": the CLI maps them (and
 * G_OPTION_ERROR) to exit status 2, everything else to 1.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define VH_ADDRESS_ERROR (vh_address_error_quark())
typedef enum {
    VH_ADDRESS_ERROR_FAILED,
    VH_ADDRESS_ERROR_INVALID,       /* not a PCI address or device name */
} VhAddressError;

#define VH_SYSFS_ERROR (vh_sysfs_error_quark())
typedef enum {
    VH_SYSFS_ERROR_FAILED,          /* I/O error; message carries errno */
    VH_SYSFS_ERROR_INVALID,         /* bad root or path given by the caller */
    VH_SYSFS_ERROR_NOT_FOUND,       /* a required file or device is absent */
    VH_SYSFS_ERROR_TOO_BIG,         /* attribute larger than we accept */
} VhSysfsError;

#define VH_HOSTDEV_ERROR (vh_hostdev_error_quark())
typedef enum {
    VH_HOSTDEV_ERROR_FAILED,
    VH_HOSTDEV_ERROR_INVALID,       /* bad request: a bridge, no group, ... */
    VH_HOSTDEV_ERROR_CONFLICT,      /* the group belongs to another owner */
    VH_HOSTDEV_ERROR_CRITICAL,      /* the host uses it; --force overrides */
    VH_HOSTDEV_ERROR_CORRUPT,       /* the state dir holds what we cannot read */
    VH_HOSTDEV_ERROR_TIMEOUT,       /* the kernel did not do it in time */
} VhHostdevError;

#define VH_CLI_ERROR (vh_cli_error_quark())
typedef enum {
    VH_CLI_ERROR_FAILED,
    VH_CLI_ERROR_INVALID,           /* bad usage: unknown verb, argument count */
} VhCliError;

#define VH_DAEMON_ERROR (vh_daemon_error_quark())
typedef enum {
    VH_DAEMON_ERROR_FAILED,         /* socket, signals, fork */
    VH_DAEMON_ERROR_INVALID,        /* a request that is not one, bad options */
} VhDaemonError;

#define VH_QEMU_ERROR (vh_qemu_error_quark())
typedef enum {
    VH_QEMU_ERROR_FAILED,
    VH_QEMU_ERROR_INVALID,          /* bad or unsupported domain XML */
} VhQemuError;
#define VH_VFIO_ERROR (vh_vfio_error_quark())
typedef enum {
    VH_VFIO_ERROR_FAILED,           /* the kernel refused; message carries errno */
    VH_VFIO_ERROR_INVALID,          /* bad request: offset, size, index, fd */
    VH_VFIO_ERROR_NOT_FOUND,        /* no such region, IRQ, device or group */
    VH_VFIO_ERROR_UNSUPPORTED,      /* the device or kernel does not offer it */
    VH_VFIO_ERROR_NOT_VIABLE,       /* group members still on host drivers */
    VH_VFIO_ERROR_NOT_OWNED,        /* a hot reset would hit others' groups */
    VH_VFIO_ERROR_NO_SPACE,         /* outside the IOVA ranges, no dma_avail */
    VH_VFIO_ERROR_MEMLOCK,          /* RLIMIT_MEMLOCK too low for a DMA map */
    VH_VFIO_ERROR_CORRUPT,          /* capability chain or ROM malformed */
    VH_VFIO_ERROR_TIMEOUT,          /* an interrupt did not come in time */
} VhVfioError;

GQuark vh_address_error_quark(void);
GQuark vh_sysfs_error_quark(void);
GQuark vh_cli_error_quark(void);
GQuark vh_daemon_error_quark(void);
GQuark vh_hostdev_error_quark(void);
GQuark vh_qemu_error_quark(void);
GQuark vh_vfio_error_quark(void);

/* TRUE when @error reports bad input from the caller (exit status 2). */
gboolean vh_error_is_invalid_input(const GError *error);

/*
 * @text with its control characters escaped ("\n", "\t", "\r", "\x01"),
 * so that a message quoting user input stays on one line; every other
 * byte (UTF-8 too) is kept.  Free with g_free().
 */
char *vh_error_one_line(const char *text);

G_END_DECLS
