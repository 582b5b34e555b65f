/*
 * vh-daemon-proto.h: what virt-hostdev and virt-hostdevd say to each other
 *
 * Plain C without GLib: the client side is virt-hostdev's small front
 * (virt-hostdev.c), which links nothing but libc.
 *
 * One connection per command, on a SOCK_SEQPACKET Unix socket:
 *
 *   request  VhDaemonRequest, then argc + envc strings, each ended by a
 *            NUL: the command line after argv[0], then the client's
 *            VIRT_HOSTDEV_* and locale environment as NAME=VALUE.  Three descriptors
 *            ride along (SCM_RIGHTS): the client's standard output, its
 *            standard error and its working directory (O_PATH).
 *   reply    VhDaemonReply: the exit status of the command, which wrote
 *            its output to the descriptors, or VH_DAEMON_DECLINED when the
 *            daemon does not run it (another verb or another sysfs root,
 *            bad usage): the client then runs it itself, and nothing was
 *            written.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <stdint.h>
#include <string.h>

#define VH_DAEMON_MAGIC "VHD1"
#define VH_DAEMON_MAGIC_LEN 4
/* The largest request, header included. */
#define VH_DAEMON_REQUEST_MAX 65536
#define VH_DAEMON_N_FDS 3
#define VH_DAEMON_DECLINED (-1)
/* The environment the client forwards: its variables with this prefix,
 * and those of its locale (LANG, LANGUAGE, LC_*: GLib's own messages, as
 * GOption's, follow it). */
#define VH_DAEMON_ENV_PREFIX "VIRT_HOSTDEV_"

/* 1 when the variable @var (NAME=VALUE) is one the client forwards. */
static inline int
vh_daemon_env_forwarded(const char *var)
{
    size_t n = strcspn(var, "=");

    return (n == strlen("LANG") && strncmp(var, "LANG", n) == 0) ||
           (n == strlen("LANGUAGE") && strncmp(var, "LANGUAGE", n) == 0) ||
           (n > strlen("LC_") && strncmp(var, "LC_", strlen("LC_")) == 0) ||
           (n > strlen(VH_DAEMON_ENV_PREFIX) &&
            strncmp(var, VH_DAEMON_ENV_PREFIX, strlen(VH_DAEMON_ENV_PREFIX)) == 0);
}
/* Where the client finds the daemon (unset: VH_DEFAULT_SOCKET; set but
 * empty: never ask a daemon). */
#define VH_DAEMON_SOCKET_ENV "VIRT_HOSTDEV_SOCKET"

typedef struct {
    char magic[VH_DAEMON_MAGIC_LEN];
    uint32_t argc;
    uint32_t envc;
} VhDaemonRequest;

typedef struct {
    char magic[VH_DAEMON_MAGIC_LEN];
    int32_t status;
} VhDaemonReply;
