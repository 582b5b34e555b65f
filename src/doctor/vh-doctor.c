/*
 * vh-doctor.c: the report and the host checks of `doctor`
 *
 * Host checks, in order: host/iommu, host/interrupt-remapping, host/vfio,
 * host/vfio-pci, host/vfio-iommu-type1, host/pci-stub, host/dev-vfio,
 * host/state.  Everything is read through the seams (sysfs, proc, dev,
 * modules roots); a file that cannot be read is evidence, not an error.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "doctor"

#include <string.h>

#include "vh-doctor.h"
#include "vh-doctor-priv.h"
#include "vh-error.h"
#include "vh-node-device-json.h"

/* Stream files of /proc and the modules index are read whole, up to this. */
#define VH_DOCTOR_FILE_MAX (64 * 1024 * 1024)

/* Intel VT-d 3.4, 11.4.3: Extended Capability Register, bit 3 IR
 * (interrupt remapping supported). */
#define VH_DOCTOR_ECAP_IR (G_GUINT64_CONSTANT(1) << 3)

static const char *const vh_doctor_status_names[] = {
    [VH_DOCTOR_OK] = "ok",
    [VH_DOCTOR_WARN] = "warn",
    [VH_DOCTOR_FAIL] = "fail",
    [VH_DOCTOR_SKIP] = "skip",
};

const char *
vh_doctor_status_string(VhDoctorStatus status)
{
    return vh_doctor_status_names[status];
}

/* ---- the report ---------------------------------------------------------- */

static void
vh_doctor_check_free(VhDoctorCheck *check)
{
    if (!check)
        return;
    g_free(check->id);
    g_free(check->summary);
    g_ptr_array_unref(check->evidence);
    g_free(check->fix);
    g_free(check);
}

void
vh_doctor_report_free(VhDoctorReport *report)
{
    if (!report)
        return;
    if (report->checks)
        g_ptr_array_unref(report->checks);
    g_free(report);
}

VhDoctorCheck *
vh_doctor_add(VhDoctorReport *report, const char *id, VhDoctorStatus status,
              const char *fmt, ...)
{
    VhDoctorCheck *check = g_new0(VhDoctorCheck, 1);
    va_list ap;

    check->id = g_strdup(id);
    check->status = status;
    va_start(ap, fmt);
    check->summary = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    check->evidence = g_ptr_array_new_with_free_func(g_free);
    g_ptr_array_add(report->checks, check);
    return check;
}

void
vh_doctor_evidence(VhDoctorCheck *check, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    g_ptr_array_add(check->evidence, g_strdup_vprintf(fmt, ap));
    va_end(ap);
}

void
vh_doctor_fix(VhDoctorCheck *check, const char *fmt, ...)
{
    va_list ap;

    g_free(check->fix);
    va_start(ap, fmt);
    check->fix = g_strdup_vprintf(fmt, ap);
    va_end(ap);
}

guint
vh_doctor_report_count(const VhDoctorReport *report, VhDoctorStatus status)
{
    guint n = 0;
    guint i;

    for (i = 0; i < report->checks->len; i++) {
        const VhDoctorCheck *c = g_ptr_array_index(report->checks, i);
        n += c->status == status;
    }
    return n;
}

gboolean
vh_doctor_report_ok(const VhDoctorReport *report)
{
    return vh_doctor_report_count(report, VH_DOCTOR_FAIL) == 0;
}

const VhDoctorCheck *
vh_doctor_report_find(const VhDoctorReport *report, const char *id)
{
    guint i;

    for (i = 0; i < report->checks->len; i++) {
        const VhDoctorCheck *c = g_ptr_array_index(report->checks, i);
        if (g_str_equal(c->id, id))
            return c;
    }
    return NULL;
}

/* Lines of text we did not write (file contents, driver names) stay one
 * line each, with no control byte for the terminal. */
static void
vh_doctor_append_line(GString *s, const char *prefix, const char *text)
{
    g_autofree char *line = vh_error_one_line(text);

    g_string_append_printf(s, "%s%s\n", prefix, line);
}

char *
vh_doctor_report_format(const VhDoctorReport *report)
{
    GString *s = g_string_new(NULL);
    guint i;
    guint j;

    for (i = 0; i < report->checks->len; i++) {
        const VhDoctorCheck *c = g_ptr_array_index(report->checks, i);
        g_autofree char *head = g_strdup_printf("%-4s  %s: %s",
                                                vh_doctor_status_string(c->status),
                                                c->id, c->summary);
        g_autofree char *upper = g_ascii_strup(head, 4);

        /* "FAIL  host/iommu: ..." */
        memcpy(head, upper, 4);
        vh_doctor_append_line(s, "", head);
        for (j = 0; j < c->evidence->len; j++)
            vh_doctor_append_line(s, "      ", g_ptr_array_index(c->evidence, j));
        if (c->fix)
            vh_doctor_append_line(s, "      fix: ", c->fix);
    }
    g_string_append_printf(s, "%u checks: %u ok, %u warn, %u fail, %u skip\n",
                           report->checks->len,
                           vh_doctor_report_count(report, VH_DOCTOR_OK),
                           vh_doctor_report_count(report, VH_DOCTOR_WARN),
                           vh_doctor_report_count(report, VH_DOCTOR_FAIL),
                           vh_doctor_report_count(report, VH_DOCTOR_SKIP));
    return g_string_free(s, FALSE);
}

/* Bytes we did not write may be invalid UTF-8, which yajl refuses. */
static void
vh_doctor_json_text(yajl_gen g, const char *text)
{
    g_autofree char *valid = text ? g_utf8_make_valid(text, -1) : NULL;

    vh_json_string(g, valid);
}

char *
vh_doctor_report_json(const VhDoctorReport *report, GError **error)
{
    yajl_gen g = vh_json_gen_new();
    guint i;
    guint j;

    yajl_gen_map_open(g);
    vh_json_key_bool(g, "ok", vh_doctor_report_ok(report));
    vh_json_string(g, "checks");
    yajl_gen_array_open(g);
    for (i = 0; i < report->checks->len; i++) {
        const VhDoctorCheck *c = g_ptr_array_index(report->checks, i);

        yajl_gen_map_open(g);
        vh_json_key_string(g, "id", c->id);
        vh_json_key_string(g, "status", vh_doctor_status_string(c->status));
        vh_json_string(g, "summary");
        vh_doctor_json_text(g, c->summary);
        vh_json_string(g, "evidence");
        yajl_gen_array_open(g);
        for (j = 0; j < c->evidence->len; j++)
            vh_doctor_json_text(g, g_ptr_array_index(c->evidence, j));
        yajl_gen_array_close(g);
        vh_json_string(g, "fix");
        vh_doctor_json_text(g, c->fix);
        yajl_gen_map_close(g);
    }
    yajl_gen_array_close(g);
    yajl_gen_map_close(g);
    return vh_json_gen_finish(g, error);
}

/* ---- reading ------------------------------------------------------------- */

/* A whole file of @root as text (NUL-terminated), or NULL with the reason
 * in *@ret_why ("absent" or the error).  Free both with g_free(). */
static char *
vh_doctor_read_text(const VhSysfs *root, const char *relpath, char **ret_why)
{
    g_autoptr(GBytes) bytes = NULL;
    g_autoptr(GError) err = NULL;
    gsize len = 0;
    const char *data;

    if (!vh_sysfs_read_file(root, relpath, VH_DOCTOR_FILE_MAX, &bytes, &err)) {
        *ret_why = g_strdup(err->message);
        return NULL;
    }
    if (!bytes) {
        *ret_why = g_strdup("absent");
        return NULL;
    }
    data = g_bytes_get_data(bytes, &len);
    *ret_why = NULL;
    return g_strndup(data ? data : "", len);
}

/* Names in a directory of @root; an empty array when absent or
 * unreadable (the reason in *@ret_why, NULL when it was read). */
static GPtrArray *
vh_doctor_list(const VhSysfs *root, const char *relpath, char **ret_why)
{
    g_autoptr(GError) err = NULL;
    GPtrArray *names = NULL;

    *ret_why = NULL;
    if (!vh_sysfs_list(root, relpath, &names, &err))
        *ret_why = g_strdup(err->message);
    else if (!names)
        *ret_why = g_strdup("absent");
    return names ? names : g_ptr_array_new_with_free_func(g_free);
}

static char *
vh_doctor_join(const GPtrArray *names, guint max)
{
    GString *s = g_string_new(NULL);
    guint i;

    for (i = 0; i < names->len && i < max; i++)
        g_string_append_printf(s, "%s%s", i ? ", " : "",
                               (const char *) g_ptr_array_index(names, i));
    if (names->len > max)
        g_string_append_printf(s, ", ... (%u in all)", names->len);
    return g_string_free(s, FALSE);
}

/* ---- host/iommu ------------------------------------------------------------ */

static void
vh_doctor_check_iommu(const VhDoctor *d, VhDoctorReport *report,
                      VhDoctorHost *host)
{
    g_autofree char *gwhy = NULL;
    g_autofree char *iwhy = NULL;
    g_autofree char *cwhy = NULL;
    g_autoptr(GPtrArray) groups = vh_doctor_list(d->sysfs, "kernel/iommu_groups",
                                                 &gwhy);
    g_autoptr(GPtrArray) iommus = vh_doctor_list(d->sysfs, "class/iommu", &iwhy);
    g_autofree char *gpath = vh_sysfs_describe(d->sysfs, "kernel/iommu_groups");
    g_autofree char *ipath = vh_sysfs_describe(d->sysfs, "class/iommu");
    g_autofree char *cpath = vh_sysfs_describe(d->proc, "cmdline");
    g_autofree char *cmdline = vh_doctor_read_text(d->proc, "cmdline", &cwhy);
    g_autofree char *names = vh_doctor_join(iommus, 8);
    VhDoctorCheck *c;

    host->n_groups = groups->len;
    if (groups->len > 0) {
        c = vh_doctor_add(report, "host/iommu", VH_DOCTOR_OK,
                          "IOMMU enabled: %u IOMMU groups", groups->len);
    } else if (iommus->len > 0) {
        c = vh_doctor_add(report, "host/iommu", VH_DOCTOR_FAIL,
                          "IOMMU hardware is registered (%s) but the kernel "
                          "made no IOMMU groups", names);
        vh_doctor_fix(c, "boot with intel_iommu=on (Intel) or amd_iommu=on "
                      "(AMD) and without iommu=off on the kernel command "
                      "line");
    } else {
        c = vh_doctor_add(report, "host/iommu", VH_DOCTOR_FAIL,
                          "no IOMMU: VFIO cannot assign devices on this host");
        vh_doctor_fix(c, "enable VT-d (Intel) or AMD-Vi/IOMMU (AMD) in the "
                      "firmware setup and boot with intel_iommu=on or "
                      "amd_iommu=on on the kernel command line");
    }
    vh_doctor_evidence(c, "%s: %u groups%s%s%s", gpath, groups->len,
                       gwhy ? " (" : "", gwhy ? gwhy : "", gwhy ? ")" : "");
    if (iommus->len > 0)
        vh_doctor_evidence(c, "%s: %s", ipath, names);
    else
        vh_doctor_evidence(c, "%s: no IOMMU registered%s%s%s", ipath,
                           iwhy ? " (" : "", iwhy ? iwhy : "", iwhy ? ")" : "");
    if (cmdline) {
        g_strchomp(cmdline);
        vh_doctor_evidence(c, "%s: %s", cpath, cmdline);
    } else {
        vh_doctor_evidence(c, "%s: %s", cpath, cwhy);
    }
}

/* ---- host/interrupt-remapping -------------------------------------------- */

/* Interrupts delivered through a remapping irq domain: /proc/interrupts
 * names their chips "IR-PCI-MSI", "IR-IO-APIC" (Intel and AMD alike). */
static guint
vh_doctor_count_remapped(const char *interrupts)
{
    g_auto(GStrv) lines = g_strsplit(interrupts, "\n", -1);
    guint n = 0;
    guint i;

    for (i = 0; lines[i]; i++)
        n += strstr(lines[i], " IR-") != NULL;
    return n;
}

/* Whether an Intel IOMMU's ecap has the IR bit; FALSE without evidence. */
static gboolean
vh_doctor_ecap_ir(const VhDoctor *d, const char *iommu, VhDoctorCheck *c)
{
    g_autofree char *relpath = g_strdup_printf("class/iommu/%s/intel-iommu/ecap",
                                               iommu);
    g_autofree char *path = vh_sysfs_describe(d->sysfs, relpath);
    g_autofree char *why = NULL;
    g_autofree char *text = vh_doctor_read_text(d->sysfs, relpath, &why);
    guint64 ecap;

    if (!text)
        return FALSE;
    ecap = g_ascii_strtoull(g_strstrip(text), NULL, 16);
    vh_doctor_evidence(c, "%s: %s, IR (bit 3, interrupt remapping) %s", path,
                       text, ecap & VH_DOCTOR_ECAP_IR ? "supported"
                                                      : "not supported");
    return (ecap & VH_DOCTOR_ECAP_IR) != 0;
}

static void
vh_doctor_check_irq_remap(const VhDoctor *d, VhDoctorReport *report,
                          const VhDoctorHost *host)
{
    const char *param = "module/vfio_iommu_type1/parameters/allow_unsafe_interrupts";
    g_autofree char *ppath = vh_sysfs_describe(d->sysfs, param);
    g_autofree char *ipath = vh_sysfs_describe(d->proc, "interrupts");
    g_autofree char *iwhy = NULL;
    g_autofree char *uwhy = NULL;
    g_autofree char *lwhy = NULL;
    g_autofree char *interrupts = NULL;
    g_autofree char *unsafe = NULL;
    g_autoptr(GPtrArray) iommus = NULL;
    gboolean hw_ir = FALSE;
    gboolean allow_unsafe;
    guint remapped = 0;
    VhDoctorCheck *c;
    guint i;

    if (host->n_groups == 0) {
        vh_doctor_add(report, "host/interrupt-remapping", VH_DOCTOR_SKIP,
                      "no IOMMU (see host/iommu)");
        return;
    }
    interrupts = vh_doctor_read_text(d->proc, "interrupts", &iwhy);
    unsafe = vh_doctor_read_text(d->sysfs, param, &uwhy);
    allow_unsafe = unsafe && (unsafe[0] == 'Y' || unsafe[0] == '1');
    if (interrupts)
        remapped = vh_doctor_count_remapped(interrupts);

    if (remapped > 0) {
        c = vh_doctor_add(report, "host/interrupt-remapping", VH_DOCTOR_OK,
                          "interrupt remapping is enabled");
    } else if (allow_unsafe) {
        c = vh_doctor_add(report, "host/interrupt-remapping", VH_DOCTOR_WARN,
                          "no interrupt remapping seen; vfio_iommu_type1 "
                          "allows unsafe interrupts, so a guest can forge "
                          "MSIs to the host");
        vh_doctor_fix(c, "enable interrupt remapping (firmware VT-d/AMD-Vi "
                      "and x2APIC, no intremap=off or nointremap on the "
                      "kernel command line), then drop "
                      "allow_unsafe_interrupts");
    } else if (!interrupts) {
        c = vh_doctor_add(report, "host/interrupt-remapping", VH_DOCTOR_WARN,
                          "cannot tell whether interrupt remapping is "
                          "enabled: %s is unreadable", ipath);
        vh_doctor_fix(c, "run doctor where /proc/interrupts is readable "
                      "(the host's own /proc)");
    } else {
        c = vh_doctor_add(report, "host/interrupt-remapping", VH_DOCTOR_FAIL,
                          "interrupt remapping is not enabled: "
                          "vfio_iommu_type1 refuses to attach a group (\"No "
                          "interrupt remapping support\")");
        vh_doctor_fix(c, "enable interrupt remapping (firmware VT-d/AMD-Vi "
                      "and x2APIC, no intremap=off or nointremap on the "
                      "kernel command line); only on a trusted host: "
                      "vfio_iommu_type1 allow_unsafe_interrupts=1");
    }
    if (interrupts)
        vh_doctor_evidence(c, "%s: %u interrupt%s through remapping chips "
                           "(IR-PCI-MSI, IR-IO-APIC, ...)", ipath, remapped,
                           remapped == 1 ? "" : "s");
    else
        vh_doctor_evidence(c, "%s: %s", ipath, iwhy);
    iommus = vh_doctor_list(d->sysfs, "class/iommu", &lwhy);
    for (i = 0; i < iommus->len; i++)
        hw_ir = vh_doctor_ecap_ir(d, g_ptr_array_index(iommus, i), c) || hw_ir;
    if (unsafe)
        vh_doctor_evidence(c, "%s: %s", ppath, g_strstrip(unsafe));
    else
        vh_doctor_evidence(c, "%s: %s (vfio_iommu_type1 not loaded)", ppath,
                           uwhy);
    if (c->status == VH_DOCTOR_FAIL && hw_ir)
        vh_doctor_fix(c, "the IOMMU supports interrupt remapping but the "
                      "kernel does not use it: remove intremap=off or "
                      "nointremap from the kernel command line and enable "
                      "x2APIC in the firmware");
}

/* ---- host/vfio, vfio-pci, vfio-iommu-type1, pci-stub -------------------- */

typedef struct {
    const char *id;
    const char *module;         /* as in /sys/module: '_' not '-' */
    const char *driver;         /* its PCI driver, or NULL */
    const char *config;         /* its Kconfig symbol */
    gboolean required;          /* VFIO needs it; else a missing one warns */
    const char *use;
} VhDoctorModule;

static const VhDoctorModule vh_doctor_modules[] = {
    { "host/vfio", "vfio", NULL, "CONFIG_VFIO", TRUE,
      "VFIO's core: /dev/vfio" },
    { "host/vfio-pci", "vfio_pci", "vfio-pci", "CONFIG_VFIO_PCI", TRUE,
      "the driver assigned devices are bound to" },
    { "host/vfio-iommu-type1", "vfio_iommu_type1", NULL,
      "CONFIG_VFIO_IOMMU_TYPE1", TRUE, "the IOMMU backend QEMU maps guest "
      "RAM through" },
    { "host/pci-stub", "pci_stub", "pci-stub", "CONFIG_PCI_STUB", FALSE,
      "the driver that holds group peers" },
};

/* The modules index of the running kernel, read once. */
typedef struct {
    char *builtin;              /* modules.builtin, or NULL */
    char *dep;                  /* modules.dep, or NULL */
    char *builtin_why;
    char *dep_why;
} VhDoctorModIndex;

static void
vh_doctor_mod_index_clear(VhDoctorModIndex *idx)
{
    g_free(idx->builtin);
    g_free(idx->dep);
    g_free(idx->builtin_why);
    g_free(idx->dep_why);
}

/* The path (first field) of the line of @index whose file is @module
 * ("kernel/drivers/vfio/pci/vfio-pci.ko.xz" for vfio_pci), or NULL. */
static char *
vh_doctor_mod_index_find(const char *index, const char *module)
{
    g_auto(GStrv) lines = NULL;
    guint i;

    if (!index)
        return NULL;
    lines = g_strsplit(index, "\n", -1);
    for (i = 0; lines[i]; i++) {
        g_autofree char *path = g_strdup(lines[i]);
        char *colon = strchr(path, ':');
        const char *base;
        char *ko;

        if (colon)
            *colon = '\0';
        base = strrchr(path, '/');
        base = base ? base + 1 : path;
        if (!(ko = strstr(base, ".ko")))
            continue;
        {
            g_autofree char *name = g_strndup(base, ko - base);
            g_strdelimit(name, "-", '_');
            if (g_str_equal(name, module))
                return g_steal_pointer(&path);
        }
    }
    return NULL;
}

static void
vh_doctor_check_module(const VhDoctor *d, VhDoctorReport *report,
                       const VhDoctorModule *m, const VhDoctorModIndex *idx)
{
    g_autofree char *modrel = g_strdup_printf("module/%s", m->module);
    g_autofree char *modpath = vh_sysfs_describe(d->sysfs, modrel);
    g_autofree char *drvrel = m->driver ?
        g_strdup_printf("bus/pci/drivers/%s", m->driver) : NULL;
    g_autofree char *drvpath = drvrel ? vh_sysfs_describe(d->sysfs, drvrel)
                                      : NULL;
    g_autofree char *builtin = vh_doctor_mod_index_find(idx->builtin, m->module);
    g_autofree char *file = vh_doctor_mod_index_find(idx->dep, m->module);
    const char *modroot = d->modules ? vh_sysfs_get_root(d->modules) : NULL;
    gboolean loaded = vh_sysfs_exists(d->sysfs, modrel);
    gboolean registered = drvrel && vh_sysfs_exists(d->sysfs, drvrel);
    VhDoctorCheck *c;

    if (registered || loaded) {
        c = vh_doctor_add(report, m->id, VH_DOCTOR_OK, "%s is %s (%s)",
                          m->module, registered ? "registered" : "loaded",
                          m->use);
    } else if (builtin) {
        c = vh_doctor_add(report, m->id, VH_DOCTOR_OK, "%s is built into "
                          "the kernel (%s)", m->module, m->use);
    } else if (file) {
        c = vh_doctor_add(report, m->id, VH_DOCTOR_OK, "%s is not loaded; "
                          "modprobe finds it (%s), libvirt and prepare load "
                          "it when needed", m->module, m->use);
    } else {
        c = vh_doctor_add(report, m->id, m->required ? VH_DOCTOR_FAIL
                                                     : VH_DOCTOR_WARN,
                          "%s is neither loaded nor built in nor installed "
                          "as a module (%s)", m->module, m->use);
        if (m->required)
            vh_doctor_fix(c, "install the modules of the running kernel "
                          "(its linux-image package) or build it with %s=m",
                          m->config);
        else
            vh_doctor_fix(c, "install the modules of the running kernel or "
                          "build it with %s=m; meanwhile hold peers on "
                          "vfio-pci (nodedev-detach --hold-driver vfio)",
                          m->config);
    }
    vh_doctor_evidence(c, "%s: %s", modpath, loaded ? "present" : "absent");
    if (drvpath)
        vh_doctor_evidence(c, "%s: %s", drvpath, registered ? "present"
                                                            : "absent");
    if (!modroot) {
        vh_doctor_evidence(c, "%s: absent (the modules directory of the "
                           "running kernel)", d->modules_dir ? d->modules_dir
                                                             : "/lib/modules");
        return;
    }
    if (builtin)
        vh_doctor_evidence(c, "%s/modules.builtin: %s", modroot, builtin);
    else
        vh_doctor_evidence(c, "%s/modules.builtin: %s", modroot,
                           idx->builtin ? "not listed" : idx->builtin_why);
    if (file)
        vh_doctor_evidence(c, "%s/modules.dep: %s", modroot, file);
    else
        vh_doctor_evidence(c, "%s/modules.dep: %s", modroot,
                           idx->dep ? "not listed" : idx->dep_why);
}

static void
vh_doctor_check_modules(const VhDoctor *d, VhDoctorReport *report)
{
    VhDoctorModIndex idx = { 0 };
    gsize i;

    if (d->modules) {
        idx.builtin = vh_doctor_read_text(d->modules, "modules.builtin",
                                          &idx.builtin_why);
        idx.dep = vh_doctor_read_text(d->modules, "modules.dep", &idx.dep_why);
    }
    for (i = 0; i < G_N_ELEMENTS(vh_doctor_modules); i++)
        vh_doctor_check_module(d, report, &vh_doctor_modules[i], &idx);
    vh_doctor_mod_index_clear(&idx);
}

/* ---- host/dev-vfio --------------------------------------------------------- */

static void
vh_doctor_check_dev_vfio(const VhDoctor *d, VhDoctorReport *report)
{
    g_autofree char *path = vh_sysfs_describe(d->dev, "vfio/vfio");
    g_autofree char *vfio = vh_sysfs_describe(d->sysfs, "module/vfio");
    VhDoctorCheck *c;

    if (vh_sysfs_exists(d->dev, "vfio/vfio")) {
        c = vh_doctor_add(report, "host/dev-vfio", VH_DOCTOR_OK,
                          "%s exists (the VFIO container QEMU opens)", path);
    } else if (vh_sysfs_exists(d->sysfs, "module/vfio")) {
        c = vh_doctor_add(report, "host/dev-vfio", VH_DOCTOR_FAIL,
                          "vfio is loaded but %s is missing: QEMU cannot "
                          "open the VFIO container", path);
        vh_doctor_fix(c, "mount devtmpfs on /dev (udev), or in a container "
                      "pass /dev/vfio through: mknod /dev/vfio/vfio c 10 196");
    } else {
        c = vh_doctor_add(report, "host/dev-vfio", VH_DOCTOR_WARN,
                          "%s is missing: it appears when vfio is loaded",
                          path);
        vh_doctor_fix(c, "modprobe vfio-pci (libvirt and prepare load it "
                      "when they bind a device)");
    }
    vh_doctor_evidence(c, "%s: %s", path, c->status == VH_DOCTOR_OK
                                          ? "present" : "absent");
    vh_doctor_evidence(c, "%s: %s", vfio, vh_sysfs_exists(d->sysfs, "module/vfio")
                                          ? "present" : "absent");
}

/* ---- host/state ------------------------------------------------------------ */

static void
vh_doctor_check_state(const VhDoctor *d, VhDoctorReport *report,
                      VhDoctorHost *host)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(VhJournal) pending = NULL;
    g_autoptr(GPtrArray) entries = NULL;
    VhRegistry *registry;
    VhDoctorCheck *c;

    if (!(registry = vh_registry_load(d->state_dir, &err))) {
        /* Corrupt: every operation refuses until it is fixed.  Unreadable
         * (a user other than root): only the owners are unknown. */
        gboolean corrupt = g_error_matches(err, VH_HOSTDEV_ERROR,
                                           VH_HOSTDEV_ERROR_CORRUPT);

        c = vh_doctor_add(report, "host/state", corrupt ? VH_DOCTOR_FAIL
                                                        : VH_DOCTOR_WARN,
                          corrupt ? "the registry is corrupt: every "
                                    "operation refuses until it is fixed"
                                  : "the registry cannot be read: owners "
                                    "are unknown");
        vh_doctor_evidence(c, "%s", err->message);
        vh_doctor_fix(c, corrupt ? "do what the message above says"
                                 : "run doctor as root (the state dir is "
                                   "root's)");
        host->registry = vh_registry_new();
        return;
    }
    host->registry = registry;
    host->registry_read = TRUE;
    entries = vh_registry_entries(registry);
    if (!vh_journal_load(d->state_dir, &pending, &err)) {
        c = vh_doctor_add(report, "host/state", VH_DOCTOR_FAIL,
                          "the journal cannot be read");
        vh_doctor_evidence(c, "%s", err->message);
        vh_doctor_fix(c, "run `virt-hostdev recover`, which says what to do "
                      "with it");
    } else if (pending) {
        c = vh_doctor_add(report, "host/state", VH_DOCTOR_FAIL,
                          "an interrupted %s for %s is pending: every "
                          "operation is refused until it is undone",
                          pending->operation, pending->owner);
        vh_doctor_fix(c, "run `virt-hostdev recover`");
    } else {
        c = vh_doctor_add(report, "host/state", VH_DOCTOR_OK,
                          "%u device%s recorded, no interrupted operation",
                          entries->len, entries->len == 1 ? "" : "s");
    }
    vh_doctor_evidence(c, "%s/registry.json, %s/journal.json", d->state_dir,
                       d->state_dir);
}

/* ---- run ------------------------------------------------------------------- */

gboolean
vh_doctor_run(const VhDoctor *doctor, const VhDomainDef *def,
              VhDoctorReport **ret_report, GError **error)
{
    g_autoptr(VhDoctorReport) report = g_new0(VhDoctorReport, 1);
    VhDoctorHost host = { 0 };
    gboolean ok = TRUE;

    report->checks = g_ptr_array_new_with_free_func((GDestroyNotify) vh_doctor_check_free);
    vh_doctor_check_iommu(doctor, report, &host);
    vh_doctor_check_irq_remap(doctor, report, &host);
    vh_doctor_check_modules(doctor, report);
    vh_doctor_check_dev_vfio(doctor, report);
    vh_doctor_check_state(doctor, report, &host);
    if (def)
        ok = vh_doctor_check_domain(doctor, &host, def, report, error);
    vh_registry_free(host.registry);
    if (!ok)
        return FALSE;
    *ret_report = g_steal_pointer(&report);
    return TRUE;
}
