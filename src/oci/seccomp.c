/* linux.seccomp -> BPF (OCI runtime spec, config-linux.md "Seccomp").
 *
 * The filter is built with libseccomp in the runtime process, exported as raw
 * BPF into a memfd and read back into a plain array, so that the container
 * process (a post-fork child) loads it with one seccomp(2) call and no
 * allocation. Filter flags (TSYNC, LOG, SPEC_ALLOW) are passed to that call. */
#include "oci/seccomp.h"

#include <ctype.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/log.h"
#include "base/util.h"

#ifndef SECCOMP_FILTER_FLAG_TSYNC
#define SECCOMP_FILTER_FLAG_TSYNC (1UL << 0)
#endif
#ifndef SECCOMP_FILTER_FLAG_LOG
#define SECCOMP_FILTER_FLAG_LOG (1UL << 1)
#endif
#ifndef SECCOMP_FILTER_FLAG_SPEC_ALLOW
#define SECCOMP_FILTER_FLAG_SPEC_ALLOW (1UL << 2)
#endif

/* Upper bound on the exported program: the kernel's BPF_MAXINSNS is 4096. */
#define OCI_SECCOMP_MAX_INSNS 4096

struct oci_seccomp {
	struct sock_fprog prog;   /* prog.filter points into insns */
	struct sock_filter *insns;
	unsigned int flags;       /* SECCOMP_FILTER_FLAG_* for seccomp(2) */
};

static const struct {
	const char *name;
	unsigned long flag;
} seccomp_flags[] = {
	{ "SECCOMP_FILTER_FLAG_TSYNC", SECCOMP_FILTER_FLAG_TSYNC },
	{ "SECCOMP_FILTER_FLAG_LOG", SECCOMP_FILTER_FLAG_LOG },
	{ "SECCOMP_FILTER_FLAG_SPEC_ALLOW", SECCOMP_FILTER_FLAG_SPEC_ALLOW },
};

static const char *const seccomp_actions[] = {
	"SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS",
	"SCMP_ACT_KILL_THREAD", "SCMP_ACT_LOG", "SCMP_ACT_TRACE", "SCMP_ACT_TRAP",
};

static const struct {
	const char *name;
	enum scmp_compare op;
} seccomp_ops[] = {
	{ "SCMP_CMP_NE", SCMP_CMP_NE },
	{ "SCMP_CMP_LT", SCMP_CMP_LT },
	{ "SCMP_CMP_LE", SCMP_CMP_LE },
	{ "SCMP_CMP_EQ", SCMP_CMP_EQ },
	{ "SCMP_CMP_GE", SCMP_CMP_GE },
	{ "SCMP_CMP_GT", SCMP_CMP_GT },
	{ "SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ },
};

/* The spec's architecture names, SCMP_ARCH_<X>, map to libseccomp's
 * lower-case names. */
static const char *const seccomp_arches[] = {
	"SCMP_ARCH_X86", "SCMP_ARCH_X86_64", "SCMP_ARCH_X32", "SCMP_ARCH_ARM",
	"SCMP_ARCH_AARCH64", "SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64", "SCMP_ARCH_MIPS64N32",
	"SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC",
	"SCMP_ARCH_PPC64", "SCMP_ARCH_PPC64LE", "SCMP_ARCH_S390", "SCMP_ARCH_S390X",
	"SCMP_ARCH_PARISC", "SCMP_ARCH_PARISC64", "SCMP_ARCH_RISCV64", "SCMP_ARCH_LOONGARCH64",
	"SCMP_ARCH_M68K", "SCMP_ARCH_SH", "SCMP_ARCH_SHEB",
};

/* Resolves an errnoRet-style field: absent => def, else a non-negative integer. */
static int seccomp_get_ret(json_t *obj, const char *key, unsigned def, unsigned *out,
			   struct verr **err)
{
	json_t *v = json_object_get(obj, key);
	if (!v || json_is_null(v)) {
		*out = def;
		return 0;
	}
	if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 0xffff)
		return verr_set(err, 0, "%s: expected an integer between 0 and 65535", key);
	*out = (unsigned)json_integer_value(v);
	return 0;
}

/* Maps an action name (+ its errno/trace value) to a libseccomp action. */
static int seccomp_action(const char *name, unsigned ret, uint32_t *out, struct verr **err)
{
	if (!strcmp(name, "SCMP_ACT_ALLOW"))
		*out = SCMP_ACT_ALLOW;
	else if (!strcmp(name, "SCMP_ACT_ERRNO"))
		*out = SCMP_ACT_ERRNO(ret);
	else if (!strcmp(name, "SCMP_ACT_KILL") || !strcmp(name, "SCMP_ACT_KILL_THREAD"))
		*out = SCMP_ACT_KILL_THREAD;
	else if (!strcmp(name, "SCMP_ACT_KILL_PROCESS"))
		*out = SCMP_ACT_KILL_PROCESS;
	else if (!strcmp(name, "SCMP_ACT_TRAP"))
		*out = SCMP_ACT_TRAP;
	else if (!strcmp(name, "SCMP_ACT_TRACE"))
		*out = SCMP_ACT_TRACE(ret);
	else if (!strcmp(name, "SCMP_ACT_LOG"))
		*out = SCMP_ACT_LOG;
	else if (!strcmp(name, "SCMP_ACT_NOTIFY"))
		return verr_set(err, 0, "action SCMP_ACT_NOTIFY is not supported (no seccomp listener support)");
	else
		return verr_set(err, 0, "unknown seccomp action '%s'", name);
	return 0;
}

static int seccomp_parse_action(json_t *obj, const char *akey, const char *rkey, unsigned def_ret,
				uint32_t *out, struct verr **err)
{
	json_t *a = json_object_get(obj, akey);
	if (!json_is_string(a))
		return verr_set(err, 0, "%s: expected a string", akey);
	unsigned ret;
	if (seccomp_get_ret(obj, rkey, def_ret, &ret, err) < 0)
		return -1;
	return seccomp_action(json_string_value(a), ret, out, err);
}

/* "SCMP_ARCH_X86_64" -> "x86_64", libseccomp's name. */
static void seccomp_arch_lower(const char *name, char *out, size_t size)
{
	const char *s = name + strlen("SCMP_ARCH_");
	size_t n = 0;
	for (; *s && n + 1 < size; s++)
		out[n++] = (char)tolower((unsigned char)*s);
	out[n] = '\0';
}

static int seccomp_add_arches(scmp_filter_ctx ctx, json_t *arches, struct verr **err)
{
	if (!arches || json_is_null(arches))
		return 0;
	if (!json_is_array(arches))
		return verr_set(err, 0, "architectures: expected an array");
	size_t i;
	json_t *a;
	json_array_foreach(arches, i, a) {
		if (!json_is_string(a))
			return verr_set(err, 0, "architectures[%zu]: expected a string", i);
		const char *name = json_string_value(a);
		bool known = false;
		for (size_t k = 0; k < ARRAY_SIZE(seccomp_arches); k++)
			known |= !strcmp(name, seccomp_arches[k]);
		if (!known)
			return verr_set(err, 0, "unknown seccomp architecture '%s'", name);
		char lower[32];
		seccomp_arch_lower(name, lower, sizeof(lower));
		uint32_t token = seccomp_arch_resolve_name(lower);
		if (token == 0) {
			/* Known to the spec but not to this libseccomp: not an error
			 * for the filter's meaning on this host. */
			log_debug("seccomp: architecture %s unknown to libseccomp, skipped", name);
			continue;
		}
		int rc = seccomp_arch_add(ctx, token);
		if (rc < 0 && rc != -EEXIST)
			return verr_set(err, -rc, "seccomp_arch_add %s", name);
	}
	return 0;
}

static int seccomp_parse_arg(json_t *arg, size_t idx, struct scmp_arg_cmp *out, struct verr **err)
{
	if (!json_is_object(arg))
		return verr_set(err, 0, "args[%zu]: expected an object", idx);
	json_t *index = json_object_get(arg, "index");
	json_t *value = json_object_get(arg, "value");
	json_t *value2 = json_object_get(arg, "valueTwo");
	json_t *op = json_object_get(arg, "op");
	if (!json_is_integer(index) || json_integer_value(index) < 0 || json_integer_value(index) > 5)
		return verr_set(err, 0, "args[%zu].index: expected an integer between 0 and 5", idx);
	if (!json_is_integer(value))
		return verr_set(err, 0, "args[%zu].value: expected an integer", idx);
	if (value2 && !json_is_null(value2) && !json_is_integer(value2))
		return verr_set(err, 0, "args[%zu].valueTwo: expected an integer", idx);
	if (!json_is_string(op))
		return verr_set(err, 0, "args[%zu].op: expected a string", idx);
	bool found = false;
	for (size_t k = 0; k < ARRAY_SIZE(seccomp_ops); k++) {
		if (!strcmp(json_string_value(op), seccomp_ops[k].name)) {
			out->op = seccomp_ops[k].op;
			found = true;
		}
	}
	if (!found)
		return verr_set(err, 0, "unknown seccomp operator '%s'", json_string_value(op));
	out->arg = (unsigned)json_integer_value(index);
	/* JSON integers are signed 64-bit; the bits are what the kernel compares. */
	out->datum_a = (scmp_datum_t)json_integer_value(value);
	out->datum_b = value2 ? (scmp_datum_t)json_integer_value(value2) : 0;
	return 0;
}

static int seccomp_add_rule(scmp_filter_ctx ctx, const char *name, uint32_t action,
			    struct scmp_arg_cmp *args, unsigned nargs, struct verr **err)
{
	int nr = seccomp_syscall_resolve_name(name);
	if (nr == __NR_SCMP_ERROR) {
		log_debug("seccomp: unknown syscall '%s' skipped", name);
		return 0;
	}
	int rc = seccomp_rule_add_array(ctx, action, nr, nargs, args);
	if (rc < 0)
		return verr_set(err, -rc, "seccomp rule for '%s'", name);
	return 0;
}

static int seccomp_add_syscalls(scmp_filter_ctx ctx, json_t *syscalls, uint32_t def_action,
				struct verr **err)
{
	if (!syscalls || json_is_null(syscalls))
		return 0;
	if (!json_is_array(syscalls))
		return verr_set(err, 0, "syscalls: expected an array");
	size_t i;
	json_t *sc;
	json_array_foreach(syscalls, i, sc) {
		if (!json_is_object(sc))
			return verr_set(err, 0, "syscalls[%zu]: expected an object", i);
		uint32_t action;
		/* syscalls[].errnoRet defaults to EPERM, not to defaultErrnoRet */
		if (seccomp_parse_action(sc, "action", "errnoRet", EPERM, &action, err) < 0)
			return verr_wrap(err, "syscalls[%zu]", i);
		json_t *names = json_object_get(sc, "names");
		if (!json_is_array(names))
			return verr_set(err, 0, "syscalls[%zu].names: expected an array", i);
		json_t *jargs = json_object_get(sc, "args");
		if (jargs && !json_is_null(jargs) && !json_is_array(jargs))
			return verr_set(err, 0, "syscalls[%zu].args: expected an array", i);
		size_t nargs = json_is_array(jargs) ? json_array_size(jargs) : 0;
		if (nargs > 6)
			return verr_set(err, 0, "syscalls[%zu].args: more than 6 conditions", i);
		struct scmp_arg_cmp args[6];
		bool same_index = false;
		for (size_t k = 0; k < nargs; k++) {
			if (seccomp_parse_arg(json_array_get(jargs, k), k, &args[k], err) < 0)
				return verr_wrap(err, "syscalls[%zu]", i);
			for (size_t m = 0; m < k; m++)
				same_index |= args[m].arg == args[k].arg;
		}
		size_t j;
		json_t *n;
		json_array_foreach(names, j, n) {
			if (!json_is_string(n))
				return verr_set(err, 0, "syscalls[%zu].names[%zu]: expected a string", i, j);
			/* libseccomp refuses a rule whose action is the default one;
			 * such a rule changes nothing, skip it as runc does. */
			if (action == def_action)
				continue;
			const char *name = json_string_value(n);
			if (!same_index) {
				if (seccomp_add_rule(ctx, name, action, args, (unsigned)nargs, err) < 0)
					return -1;
				continue;
			}
			/* libseccomp cannot AND two conditions on one argument:
			 * fall back to one rule per condition (OR), as runc does. */
			for (size_t k = 0; k < nargs; k++)
				if (seccomp_add_rule(ctx, name, action, &args[k], 1, err) < 0)
					return -1;
		}
	}
	return 0;
}

static int seccomp_parse_flags(json_t *flags, unsigned int *out, struct verr **err)
{
	*out = 0;
	if (!flags || json_is_null(flags))
		return 0;
	if (!json_is_array(flags))
		return verr_set(err, 0, "flags: expected an array");
	size_t i;
	json_t *f;
	json_array_foreach(flags, i, f) {
		if (!json_is_string(f))
			return verr_set(err, 0, "flags[%zu]: expected a string", i);
		bool found = false;
		for (size_t k = 0; k < ARRAY_SIZE(seccomp_flags); k++) {
			if (!strcmp(json_string_value(f), seccomp_flags[k].name)) {
				*out |= (unsigned)seccomp_flags[k].flag;
				found = true;
			}
		}
		if (!found)
			return verr_set(err, 0, "unsupported seccomp flag '%s'", json_string_value(f));
	}
	return 0;
}

/* Exports ctx's BPF program into a heap array through a memfd. */
static int seccomp_export(scmp_filter_ctx ctx, struct oci_seccomp *f, struct verr **err)
{
	cleanup_close int fd = memfd_create("vessel-seccomp", MFD_CLOEXEC);
	if (fd < 0)
		return verr_set(err, errno, "memfd_create");
	int rc = seccomp_export_bpf(ctx, fd);
	if (rc < 0)
		return verr_set(err, -rc, "seccomp_export_bpf");
	struct stat st;
	if (fstat(fd, &st) < 0)
		return verr_set(err, errno, "fstat seccomp memfd");
	size_t len = (size_t)st.st_size;
	if (len == 0 || len % sizeof(struct sock_filter) != 0 ||
	    len / sizeof(struct sock_filter) > OCI_SECCOMP_MAX_INSNS)
		return verr_set(err, 0, "seccomp filter has a bad size (%zu bytes, at most %d instructions)",
				len, OCI_SECCOMP_MAX_INSNS);
	f->insns = xmalloc(len);
	if (lseek(fd, 0, SEEK_SET) < 0)
		return verr_set(err, errno, "lseek seccomp memfd");
	rc = read_full(fd, f->insns, len);
	if (rc < 0)
		return verr_set(err, -rc, "read seccomp memfd");
	f->prog.len = (unsigned short)(len / sizeof(struct sock_filter));
	f->prog.filter = f->insns;
	return 0;
}

int oci_seccomp_compile(json_t *seccomp, struct oci_seccomp **out, struct verr **err)
{
	if (!json_is_object(seccomp))
		return verr_set(err, 0, "seccomp: expected an object");
	if (json_object_get(seccomp, "listenerPath"))
		return verr_set(err, 0, "seccomp: listenerPath is not supported");
	uint32_t def_action;
	if (seccomp_parse_action(seccomp, "defaultAction", "defaultErrnoRet", EPERM, &def_action, err) < 0)
		return verr_wrap(err, "seccomp");
	struct oci_seccomp *f = xcalloc(1, sizeof(*f));
	scmp_filter_ctx ctx = seccomp_init(def_action);
	if (!ctx) {
		oci_seccomp_free(f);
		return verr_set(err, 0, "seccomp: seccomp_init failed");
	}
	/* We set no_new_privs ourselves only when process.noNewPrivileges asks. */
	int rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
	if (rc < 0) {
		verr_set(err, -rc, "seccomp: seccomp_attr_set NNP");
		goto fail;
	}
	if (seccomp_parse_flags(json_object_get(seccomp, "flags"), &f->flags, err) < 0 ||
	    seccomp_add_arches(ctx, json_object_get(seccomp, "architectures"), err) < 0 ||
	    seccomp_add_syscalls(ctx, json_object_get(seccomp, "syscalls"), def_action, err) < 0 ||
	    seccomp_export(ctx, f, err) < 0) {
		verr_wrap(err, "seccomp");
		goto fail;
	}
	seccomp_release(ctx);
	*out = f;
	return 0;
fail:
	seccomp_release(ctx);
	oci_seccomp_free(f);
	return -1;
}

int oci_seccomp_load(struct oci_seccomp *f, struct verr **err)
{
	/* seccomp(2) rather than prctl(PR_SET_SECCOMP) so the flags apply. */
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, f->flags, &f->prog) < 0)
		return verr_set(err, errno, "seccomp(SECCOMP_SET_MODE_FILTER)%s",
				errno == EACCES ? " (needs no_new_privs or CAP_SYS_ADMIN)" : "");
	return 0;
}

void oci_seccomp_free(struct oci_seccomp *f)
{
	if (!f)
		return;
	free(f->insns);
	free(f);
}

json_t *oci_seccomp_features(void)
{
	json_t *j = json_object();
	json_t *a = json_array();
	json_object_set_new(j, "enabled", json_true());
	for (size_t i = 0; i < ARRAY_SIZE(seccomp_actions); i++)
		json_array_append_new(a, json_string(seccomp_actions[i]));
	json_object_set_new(j, "actions", a);
	a = json_array();
	for (size_t i = 0; i < ARRAY_SIZE(seccomp_ops); i++)
		json_array_append_new(a, json_string(seccomp_ops[i].name));
	json_object_set_new(j, "operators", a);
	a = json_array();
	for (size_t i = 0; i < ARRAY_SIZE(seccomp_arches); i++) {
		char lower[32];
		seccomp_arch_lower(seccomp_arches[i], lower, sizeof(lower));
		if (seccomp_arch_resolve_name(lower) != 0)
			json_array_append_new(a, json_string(seccomp_arches[i]));
	}
	json_object_set_new(j, "archs", a);
	json_t *known = json_array();
	for (size_t i = 0; i < ARRAY_SIZE(seccomp_flags); i++)
		json_array_append_new(known, json_string(seccomp_flags[i].name));
	json_object_set_new(j, "knownFlags", known);
	/* the kernel checks flags before the program: EFAULT for a NULL
	 * program means the flag itself was accepted */
	json_t *sup = json_array();
	for (size_t i = 0; i < ARRAY_SIZE(seccomp_flags); i++)
		if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, seccomp_flags[i].flag, NULL) < 0 && errno == EFAULT)
			json_array_append_new(sup, json_string(seccomp_flags[i].name));
	json_object_set_new(j, "supportedFlags", sup);
	return j;
}
