/*
 * vh-backend-client.h: the manager's side: start a backend, talk to it
 *
 * The manager (root) opens the container and group, then starts
 * virt-hostdev-backend with RLIMIT_MEMLOCK raised (set in the child before
 * exec, while it is still root), stdin and stdout on
 * /dev/null, stderr inherited, one end of a socketpair as its control
 * socket, and the group/container fds either inherited (fd numbers on its
 * command line) or sent over the socket (SCM_RIGHTS, "handover").
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <sys/types.h>

#include <glib.h>

#include "vh-backend-proto.h"

G_BEGIN_DECLS

typedef enum {
    VH_BACKEND_PASS_INHERIT,    /* --group-fd N --container-fd M */
    VH_BACKEND_PASS_SOCKET,     /* "handover" with SCM_RIGHTS */
} VhBackendPass;

typedef struct {
    const char *program;        /* path of virt-hostdev-backend */
    const char *device;         /* "0000:00:03.0" */
    int group_id;               /* the N of /dev/vfio/N */
    int group_fd;               /* not taken: the caller closes its copy;
                                 * -1: none now (a later "handover") */
    int container_fd;           /* -1: none */
    VhBackendPass pass;
    uid_t uid;                  /* what the backend drops to */
    gid_t gid;
    guint64 memlock;            /* RLIMIT_MEMLOCK for it; 0: leave as is */
    guint timeout_ms;           /* per request; 0: 10 s */
} VhBackendLaunch;

typedef struct _VhBackendClient VhBackendClient;

/*
 * Start the backend as @launch says and wait for its first answer
 * ("status"), so that a backend that cannot start is reported here, with
 * its exit status.
 */
VhBackendClient *vh_backend_client_spawn(const VhBackendLaunch *launch,
                                         GError **error);

/* A client on an already connected socket @sock (taken), for tests. */
VhBackendClient *vh_backend_client_new(int sock, GPid pid);

/* Stop: close the socket and reap the process (SIGKILL after 5 s). */
void vh_backend_client_free(VhBackendClient *c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VhBackendClient, vh_backend_client_free)

GPid vh_backend_client_get_pid(const VhBackendClient *c);

/*
 * Send {"id":N,"cmd":@cmd,@fields} (fields: JSON members or NULL) with
 * @fds attached (may be NULL/0) and wait for the reply.  An "ok":false
 * reply is VH_BACKEND_ERROR_FAILED with the backend's message.  On success
 * *ret_reply holds the reply object (free with yajl_tree_free(), or use
 * g_auto(VhJson)).
 */
gboolean vh_backend_client_call(VhBackendClient *c, const char *cmd,
                                const char *fields, const int *fds,
                                guint n_fds, VhJson *ret_reply,
                                GError **error);

/* Send "quit", wait for the process to exit; its status in *ret_status. */
gboolean vh_backend_client_quit(VhBackendClient *c, int *ret_status,
                                GError **error);

/* Reply field helpers: an unsigned integer (or "0x" string) / a string /
 * a bool at @key, with an error naming the command when it is missing. */
gboolean vh_backend_reply_get_uint(yajl_val reply, const char *key,
                                   guint64 *ret_value, GError **error);
const char *vh_backend_reply_get_string(yajl_val reply, const char *key);
gboolean vh_backend_reply_get_bool(yajl_val reply, const char *key);

G_END_DECLS
