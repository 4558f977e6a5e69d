/* `vessel-runtime` / `vessel runtime`: the runc-compatible command line over
 * src/oci/. Global options come before the command, as runc takes them:
 *   vessel-runtime [--root DIR] [--log FILE] [--log-format text|json]
 *                  [--debug] [--systemd-cgroup] [--rootless B] COMMAND ...
 * Errors go to stderr and, with --log, to the log file (podman reads them
 * there: with --log-format json one {"level","msg","time"} object a line). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <seccomp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/sendfile.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "base/err.h"
#include "base/util.h"
#include "cli/cli.h"
#include "oci/container.h"
#include "oci/console.h"
#include "oci/defaults.h"
#include "oci/spec.h"
#include "oci/state.h"

#ifndef VESSEL_VERSION
#define VESSEL_VERSION "0.0.0"
#endif

extern char **environ;

/* ---- logging ---- */

struct rt_cli {
	struct oci_runtime rt;
	FILE *log;
	bool log_json;
	bool debug;
};

static void rt_log(struct rt_cli *c, const char *level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void rt_log(struct rt_cli *c, const char *level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *msg = NULL;
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	if (!msg)
		return;
	bool is_error = strcmp(level, "error") == 0 || strcmp(level, "warning") == 0;
	if (is_error || (c->debug && !c->log))
		fprintf(stderr, "vessel-runtime: %s%s%s\n", is_error ? "" : level, is_error ? "" : ": ", msg);
	if (c->log) {
		char *t = oci_time_rfc3339();
		if (c->log_json) {
			json_t *o = json_pack("{s:s,s:s,s:s}", "level", level, "msg", msg, "time", t);
			char *s = json_dumps(o, JSON_COMPACT);
			if (s)
				fprintf(c->log, "%s\n", s);
			free(s);
			json_decref(o);
		} else {
			fprintf(c->log, "time=\"%s\" level=%s msg=\"%s\"\n", t, level, msg);
		}
		fflush(c->log);
		free(t);
	}
	free(msg);
}

static int fail(struct rt_cli *c, struct verr *err)
{
	rt_log(c, "error", "%s", err ? err->msg : "unknown error");
	verr_free(err);
	return 1;
}

static int usage_error(struct rt_cli *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int usage_error(struct rt_cli *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *msg = NULL;
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	rt_log(c, "error", "%s", msg ? msg : "usage error");
	free(msg);
	return 1;
}

/* ---- option parsing: --name value, --name=value, -name, -n ---- */

struct opt {
	const char *name; /* long name without dashes */
	char short_name;  /* or 0 */
	bool has_arg;
	const char **value; /* for has_arg: where the value goes */
	bool *flag;	    /* for flags */
	int *count;	    /* for repeated --env etc.: collected in list */
	const char ***list;
};

static const struct opt *find_opt(const struct opt *opts, const char *name, size_t len)
{
	for (const struct opt *o = opts; o->name; o++) {
		if ((strlen(o->name) == len && strncmp(o->name, name, len) == 0) ||
		    (len == 1 && o->short_name == name[0]))
			return o;
	}
	return NULL;
}

/* Parses options up to the first non-option; returns the index of the first
 * positional argument, or -1 after logging an error. */
static int parse_opts(struct rt_cli *c, const char *cmd, int argc, char **argv, int i, const struct opt *opts)
{
	for (; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--") == 0)
			return i + 1;
		if (a[0] != '-' || a[1] == 0)
			return i;
		const char *name = a + 1 + (a[1] == '-');
		const char *eq = strchr(name, '=');
		size_t len = eq ? (size_t)(eq - name) : strlen(name);
		const struct opt *o = find_opt(opts, name, len);
		if (!o) {
			usage_error(c, "%s: unknown option '%s'", cmd, a);
			return -1;
		}
		if (!o->has_arg) {
			if (eq) {
				bool v = strcmp(eq + 1, "true") == 0 || strcmp(eq + 1, "1") == 0;
				if (o->flag)
					*o->flag = v;
			} else if (o->flag) {
				*o->flag = true;
			}
			continue;
		}
		const char *v;
		if (eq) {
			v = eq + 1;
		} else {
			if (i + 1 >= argc) {
				usage_error(c, "%s: option '%s' needs a value", cmd, a);
				return -1;
			}
			v = argv[++i];
		}
		if (o->list) {
			*o->list = xrealloc(*o->list, sizeof(char *) * (size_t)(*o->count + 2));
			(*o->list)[(*o->count)++] = v;
			(*o->list)[*o->count] = NULL;
		} else {
			*o->value = v;
		}
	}
	return i;
}

static int parse_int_arg(const char *s, long lo, long hi, long *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

/* ---- signals ---- */

static const struct {
	const char *name;
	int sig;
} sig_names[] = {
    {"HUP", SIGHUP},   {"INT", SIGINT},	      {"QUIT", SIGQUIT}, {"ILL", SIGILL},     {"TRAP", SIGTRAP},
    {"ABRT", SIGABRT}, {"IOT", SIGIOT},	      {"BUS", SIGBUS},	 {"FPE", SIGFPE},     {"KILL", SIGKILL},
    {"USR1", SIGUSR1}, {"SEGV", SIGSEGV},     {"USR2", SIGUSR2}, {"PIPE", SIGPIPE},   {"ALRM", SIGALRM},
    {"TERM", SIGTERM}, {"STKFLT", SIGSTKFLT}, {"CHLD", SIGCHLD}, {"CONT", SIGCONT},   {"STOP", SIGSTOP},
    {"TSTP", SIGTSTP}, {"TTIN", SIGTTIN},     {"TTOU", SIGTTOU}, {"URG", SIGURG},     {"XCPU", SIGXCPU},
    {"XFSZ", SIGXFSZ}, {"VTALRM", SIGVTALRM}, {"PROF", SIGPROF}, {"WINCH", SIGWINCH}, {"IO", SIGIO},
    {"POLL", SIGPOLL}, {"PWR", SIGPWR},	      {"SYS", SIGSYS},
};

/* "KILL", "SIGKILL", "9", "RTMIN+3" -> signal number, or -1. */
static int parse_signal(const char *s)
{
	long n;
	if (parse_int_arg(s, 1, SIGRTMAX, &n) == 0)
		return (int)n;
	if (strncasecmp(s, "SIG", 3) == 0)
		s += 3;
	for (size_t i = 0; i < ARRAY_SIZE(sig_names); i++)
		if (strcasecmp(s, sig_names[i].name) == 0)
			return sig_names[i].sig;
	if (strncasecmp(s, "RTMIN", 5) == 0) {
		if (!s[5])
			return SIGRTMIN;
		if (s[5] == '+' && parse_int_arg(s + 6, 0, SIGRTMAX - SIGRTMIN, &n) == 0)
			return SIGRTMIN + (int)n;
	}
	if (strncasecmp(s, "RTMAX", 5) == 0) {
		if (!s[5])
			return SIGRTMAX;
		if (s[5] == '-' && parse_int_arg(s + 6, 0, SIGRTMAX - SIGRTMIN, &n) == 0)
			return SIGRTMAX - (int)n;
	}
	return -1;
}

/* ---- CVE-2019-5736: run from a sealed memfd copy of ourselves ----
 * A process in the container that opens /proc/PID/exe of the runtime (while
 * it joins the container for exec) finds a sealed anonymous file, not the
 * binary on the host's disk, so it cannot overwrite it. */
#define SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

static int ensure_sealed_self(char **argv)
{
	int self = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (self < 0)
		return -errno;
	int seals = fcntl(self, F_GET_SEALS);
	if (seals >= 0 && (seals & SEALS) == SEALS) {
		close(self);
		return 0;
	}
	struct stat sb;
	if (fstat(self, &sb) < 0) {
		close(self);
		return -errno;
	}
	int mfd = memfd_create("vessel-runtime", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (mfd < 0) {
		close(self);
		return -errno;
	}
	off_t off = 0;
	while (off < sb.st_size) {
		ssize_t n = sendfile(mfd, self, &off, (size_t)(sb.st_size - off));
		if (n <= 0) {
			int e = n < 0 ? errno : EIO;
			close(self);
			close(mfd);
			return -e;
		}
	}
	close(self);
	if (fcntl(mfd, F_ADD_SEALS, SEALS) < 0) {
		int e = errno;
		close(mfd);
		return -e;
	}
	/* argv[0] becomes "vessel-runtime", so the multi-call dispatch of
	 * the copy goes straight here with the same arguments, whether we were
	 * called as `vessel-runtime ...` or as `vessel runtime ...`. */
	char *saved = argv[0];
	argv[0] = "vessel-runtime";
	syscall(SYS_execveat, mfd, "", argv, environ, AT_EMPTY_PATH);
	argv[0] = saved;
	int e = errno;
	close(mfd);
	return -e;
}

/* ---- waiting for a process we are the subreaper of ---- */

static int exit_code(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 1;
}

static struct termios saved_tio;
static bool tio_saved;

static void restore_tty(void)
{
	if (tio_saved)
		tcsetattr(0, TCSANOW, &saved_tio);
}

/* Waits for pid (reaping other orphans on the way), forwarding signals to
 * it and, when master >= 0, proxying stdin/stdout to the pty. Returns the
 * exit code in the shell's convention. */
static int wait_forward(pid_t pid, int master)
{
	sigset_t set;
	sigemptyset(&set);
	int fwd[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH, SIGCHLD};
	for (size_t i = 0; i < ARRAY_SIZE(fwd); i++)
		sigaddset(&set, fwd[i]);
	sigprocmask(SIG_BLOCK, &set, NULL);
	int sfd = signalfd(-1, &set, SFD_CLOEXEC);
	if (master >= 0 && isatty(0) && tcgetattr(0, &saved_tio) == 0) {
		tio_saved = true;
		struct termios raw = saved_tio;
		cfmakeraw(&raw);
		tcsetattr(0, TCSANOW, &raw);
		struct winsize ws;
		if (ioctl(0, TIOCGWINSZ, &ws) == 0)
			ioctl(master, TIOCSWINSZ, &ws);
	}
	bool stdin_open = master >= 0;
	int code = -1;
	while (code < 0) {
		int status;
		pid_t w;
		while ((w = waitpid(-1, &status, WNOHANG)) > 0)
			if (w == pid)
				code = exit_code(status);
		if (w < 0 && errno == ECHILD && code < 0)
			break;
		if (code >= 0)
			break;
		struct pollfd p[3] = {{.fd = sfd, .events = POLLIN},
				      {.fd = master, .events = POLLIN},
				      {.fd = stdin_open ? 0 : -1, .events = POLLIN}};
		if (poll(p, 3, -1) < 0 && errno != EINTR)
			break;
		if (p[0].revents & POLLIN) {
			struct signalfd_siginfo si;
			if (read(sfd, &si, sizeof(si)) == sizeof(si) && si.ssi_signo != SIGCHLD) {
				if (si.ssi_signo == SIGWINCH && master >= 0) {
					struct winsize ws;
					if (ioctl(0, TIOCGWINSZ, &ws) == 0)
						ioctl(master, TIOCSWINSZ, &ws);
				} else {
					kill(pid, (int)si.ssi_signo);
				}
			}
		}
		char buf[8192];
		if (master >= 0 && (p[1].revents & (POLLIN | POLLHUP))) {
			ssize_t n = read(master, buf, sizeof(buf));
			if (n > 0) {
				if (write_full(1, buf, (size_t)n) < 0) {
					/* stdout gone: keep draining */
				}
			} else if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) {
				close(master);
				master = -1;
			}
		}
		if (stdin_open && (p[2].revents & (POLLIN | POLLHUP))) {
			ssize_t n = read(0, buf, sizeof(buf));
			if (n > 0 && master >= 0) {
				if (write_full(master, buf, (size_t)n) < 0)
					stdin_open = false;
			} else if (n <= 0) {
				stdin_open = false;
				if (master >= 0) {
					char eof = 4; /* ^D, so a shell sees the end */
					if (write(master, &eof, 1) < 0)
						stdin_open = false;
				}
			}
		}
	}
	restore_tty();
	if (master >= 0)
		close(master);
	close(sfd);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	return code < 0 ? 255 : code;
}

/* ---- commands ---- */

static int need_id(struct rt_cli *c, const char *cmd, int argc, char **argv, int i)
{
	if (i >= argc)
		return usage_error(c, "%s: a container id is required", cmd), -1;
	return i;
}

static int cmd_create_run(struct rt_cli *c, bool run, int argc, char **argv)
{
	const char *cmd = run ? "run" : "create";
	const char *bundle = NULL, *pid_file = NULL, *console = NULL, *preserve = NULL;
	bool no_pivot = false, no_keyring = false, detach = false, no_subreaper = false, keep = false;
	const struct opt opts[] = {
	    {"bundle", 'b', true, &bundle},	     {"pid-file", 0, true, &pid_file},
	    {"console-socket", 0, true, &console},   {"preserve-fds", 0, true, &preserve},
	    {"no-pivot", 0, false, NULL, &no_pivot}, {"no-new-keyring", 0, false, NULL, &no_keyring},
	    {"detach", 'd', false, NULL, &detach},   {"no-subreaper", 0, false, NULL, &no_subreaper},
	    {"keep", 0, false, NULL, &keep},	     {NULL},
	};
	int i = parse_opts(c, cmd, argc, argv, 1, opts);
	if (i < 0 || need_id(c, cmd, argc, argv, i) < 0)
		return 1;
	long npres = 0;
	if (preserve && parse_int_arg(preserve, 0, 65536, &npres) < 0)
		return usage_error(c, "%s: --preserve-fds: invalid number '%s'", cmd, preserve);
	/* systemd socket activation: fds 3..3+LISTEN_FDS-1 pass through. */
	const char *lf = getenv("LISTEN_FDS");
	long nlisten = 0;
	if (lf && parse_int_arg(lf, 0, 65536, &nlisten) == 0)
		npres += nlisten;
	struct oci_create_opts o = {
	    .id = argv[i],
	    .bundle = bundle,
	    .pid_file = pid_file,
	    .console_socket = console,
	    .console_fd = -1,
	    .preserve_fds = (int)npres,
	    .listen_fds = (int)nlisten,
	    .no_pivot = no_pivot,
	    .no_new_keyring = no_keyring,
	};
	struct verr *err = NULL;
	pid_t pid;
	int sv[2] = {-1, -1};
	if (run && !detach) {
		prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
		if (!console) {
			/* An attached run with a terminal: we hold the pty
			 * ourselves and proxy it (runc does the same). */
			struct oci_spec *s = NULL;
			cleanup_free char *b = xstrdup(bundle ? bundle : ".");
			if (oci_spec_load(b, &s, &err) < 0)
				return fail(c, err);
			bool tty = s->has_process && s->process.terminal;
			oci_spec_free(s);
			if (tty) {
				if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
					return usage_error(c, "socketpair: %s", strerror(errno));
				o.console_fd = sv[1];
			}
		}
	}
	if (oci_container_create(&c->rt, &o, &pid, &err) < 0) {
		if (sv[0] >= 0) {
			close(sv[0]);
			close(sv[1]);
		}
		return fail(c, err);
	}
	if (c->debug)
		rt_log(c, "debug", "container %s created, init pid %d", o.id, (int)pid);
	if (!run)
		return 0;
	int master = -1;
	if (sv[0] >= 0) {
		close(sv[1]);
		master = oci_console_recv(sv[0], &err);
		close(sv[0]);
		if (master < 0) {
			struct verr *e2 = NULL;
			oci_container_delete(&c->rt, o.id, true, &e2);
			verr_free(e2);
			return fail(c, err);
		}
	}
	if (oci_container_start(&c->rt, o.id, &err) < 0) {
		struct verr *e2 = NULL;
		oci_container_delete(&c->rt, o.id, true, &e2);
		verr_free(e2);
		if (master >= 0)
			close(master);
		return fail(c, err);
	}
	if (detach)
		return 0;
	int code = wait_forward(pid, master);
	if (!keep && oci_container_delete(&c->rt, o.id, true, &err) < 0)
		rt_log(c, "warning", "%s", err->msg);
	verr_free(err);
	return code;
}

static int cmd_simple(struct rt_cli *c, const char *cmd, int argc, char **argv)
{
	bool force = false, all = false;
	const struct opt opts[] = {
	    {"force", 'f', false, NULL, &force},
	    {"all", 'a', false, NULL, &all},
	    {NULL},
	};
	int i = parse_opts(c, cmd, argc, argv, 1, opts);
	if (i < 0 || need_id(c, cmd, argc, argv, i) < 0)
		return 1;
	const char *id = argv[i];
	struct verr *err = NULL;
	int r;
	if (strcmp(cmd, "start") == 0) {
		r = oci_container_start(&c->rt, id, &err);
	} else if (strcmp(cmd, "delete") == 0) {
		r = oci_container_delete(&c->rt, id, force, &err);
	} else if (strcmp(cmd, "pause") == 0 || strcmp(cmd, "resume") == 0) {
		r = oci_container_pause(&c->rt, id, strcmp(cmd, "pause") == 0, &err);
	} else if (strcmp(cmd, "kill") == 0) {
		int sig = SIGTERM;
		if (i + 1 < argc) {
			sig = parse_signal(argv[i + 1]);
			if (sig < 0)
				return usage_error(c, "kill: unknown signal '%s'", argv[i + 1]);
		}
		r = oci_container_kill(&c->rt, id, sig, all, &err);
	} else if (strcmp(cmd, "state") == 0) {
		json_t *j = NULL;
		r = oci_container_state(&c->rt, id, &j, &err);
		if (r == 0) {
			char *s = json_dumps(j, JSON_INDENT(2));
			printf("%s\n", s ? s : "{}");
			free(s);
			json_decref(j);
		}
	} else {
		return usage_error(c, "unknown command '%s'", cmd);
	}
	return r < 0 ? fail(c, err) : 0;
}

/* --user uid[:gid] */
static int parse_user(const char *s, struct oci_process *p)
{
	long uid, gid;
	const char *colon = strchr(s, ':');
	if (colon) {
		cleanup_free char *u = strndup(s, (size_t)(colon - s));
		if (parse_int_arg(u, 0, UINT32_MAX, &uid) < 0 ||
		    parse_int_arg(colon + 1, 0, UINT32_MAX, &gid) < 0)
			return -1;
		p->gid = (uint32_t)gid;
	} else if (parse_int_arg(s, 0, UINT32_MAX, &uid) < 0) {
		return -1;
	}
	p->uid = (uint32_t)uid;
	return 0;
}

static char **strv_append(char **v, const char *s)
{
	size_t n = 0;
	while (v && v[n])
		n++;
	v = xrealloc(v, sizeof(char *) * (n + 2));
	v[n] = xstrdup(s);
	v[n + 1] = NULL;
	return v;
}

/* env "K=V" replaces an existing K. */
static char **env_set(char **env, const char *kv)
{
	const char *eq = strchr(kv, '=');
	size_t klen = eq ? (size_t)(eq - kv) : strlen(kv);
	for (char **e = env; e && *e; e++) {
		if (strncmp(*e, kv, klen) == 0 && (*e)[klen] == '=') {
			free(*e);
			*e = xstrdup(kv);
			return env;
		}
	}
	return strv_append(env, kv);
}

static int cmd_exec(struct rt_cli *c, int argc, char **argv)
{
	const char *process = NULL, *console = NULL, *pid_file = NULL, *cwd = NULL, *user = NULL,
		   *preserve = NULL, *apparmor = NULL, *label = NULL, *process_label = NULL, *cgroup = NULL;
	bool tty = false, detach = false, nnp = false, ignore_paused = false;
	const char **envs = NULL, **caps = NULL, **add_gids = NULL;
	int nenv = 0, ncaps = 0, ngids = 0;
	const struct opt opts[] = {
	    {"process", 'p', true, &process},
	    {"console-socket", 0, true, &console},
	    {"pid-file", 0, true, &pid_file},
	    {"cwd", 0, true, &cwd},
	    {"user", 'u', true, &user},
	    {"preserve-fds", 0, true, &preserve},
	    {"apparmor", 0, true, &apparmor},
	    {"label", 0, true, &label},
	    {"process-label", 0, true, &process_label},
	    {"cgroup", 0, true, &cgroup},
	    {"tty", 't', false, NULL, &tty},
	    {"detach", 'd', false, NULL, &detach},
	    {"no-new-privs", 0, false, NULL, &nnp},
	    {"ignore-paused", 0, false, NULL, &ignore_paused},
	    {"env", 'e', true, NULL, NULL, &nenv, &envs},
	    {"cap", 'c', true, NULL, NULL, &ncaps, &caps},
	    {"additional-gids", 'g', true, NULL, NULL, &ngids, &add_gids},
	    {NULL},
	};
	int i = parse_opts(c, "exec", argc, argv, 1, opts);
	int ret = 1;
	struct verr *err = NULL;
	struct oci_process p = {0};
	json_t *pj = NULL, *config = NULL;
	if (i < 0 || need_id(c, "exec", argc, argv, i) < 0)
		goto out;
	const char *id = argv[i++];
	if (process) {
		json_error_t je;
		pj = strcmp(process, "-") == 0 ? json_loadf(stdin, 0, &je) : json_load_file(process, 0, &je);
		if (!pj) {
			usage_error(c, "exec: --process '%s': %s", process, je.text);
			goto out;
		}
	} else {
		if (i >= argc) {
			usage_error(c, "exec: a command or --process is required");
			goto out;
		}
		/* Defaults from the container's own process (runc does the
		 * same): env, cwd, user, capabilities, rlimits, nnp. */
		if (oci_container_config(&c->rt, id, &config, &err) < 0) {
			fail(c, err);
			goto out;
		}
		json_t *cp = json_object_get(config, "process");
		pj = json_is_object(cp) ? json_deep_copy(cp) : json_object();
		json_t *args = json_array();
		for (; i < argc; i++)
			json_array_append_new(args, json_string(argv[i]));
		json_object_set_new(pj, "args", args);
		json_object_set_new(pj, "terminal", json_boolean(tty));
		if (!json_object_get(pj, "cwd"))
			json_object_set_new(pj, "cwd", json_string("/"));
		json_object_del(pj, "consoleSize");
	}
	if (oci_process_parse(pj, &p, &err) < 0) {
		verr_wrap(&err, "exec");
		fail(c, err);
		goto out;
	}
	if (tty)
		p.terminal = true;
	if (cwd) {
		free(p.cwd);
		p.cwd = xstrdup(cwd);
	}
	if (user && parse_user(user, &p) < 0) {
		usage_error(c, "exec: --user '%s': expected UID[:GID]", user);
		goto out;
	}
	for (int k = 0; k < nenv; k++)
		p.env = env_set(p.env, envs[k]);
	for (int k = 0; k < ncaps; k++) {
		int cap = oci_cap_from_name(caps[k]);
		if (cap < 0) {
			usage_error(c, "exec: unknown capability '%s'", caps[k]);
			goto out;
		}
		p.has_caps = true;
		for (int s = 0; s < OCI_CAP_NSETS; s++)
			if (s != OCI_CAP_AMBIENT)
				p.caps[s] |= 1ull << cap;
	}
	for (int k = 0; k < ngids; k++) {
		long g;
		if (parse_int_arg(add_gids[k], 0, UINT32_MAX, &g) < 0) {
			usage_error(c, "exec: --additional-gids '%s': not a number", add_gids[k]);
			goto out;
		}
		p.additional_gids = xrealloc(p.additional_gids, sizeof(uint32_t) * (p.n_additional_gids + 1));
		p.additional_gids[p.n_additional_gids++] = (uint32_t)g;
	}
	if (nnp)
		p.no_new_privileges = true;
	if (apparmor) {
		free(p.apparmor_profile);
		p.apparmor_profile = xstrdup(apparmor);
	}
	if (process_label) {
		free(p.selinux_label);
		p.selinux_label = xstrdup(process_label);
	}
	long npres = 0;
	if (preserve && parse_int_arg(preserve, 0, 65536, &npres) < 0) {
		usage_error(c, "exec: --preserve-fds: invalid number '%s'", preserve);
		goto out;
	}
	int sv[2] = {-1, -1};
	struct oci_exec_opts o = {.id = id,
				  .process = &p,
				  .pid_file = pid_file,
				  .console_socket = console,
				  .console_fd = -1,
				  .preserve_fds = (int)npres,
				  .ignore_paused = ignore_paused};
	if (!detach) {
		prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
		if (p.terminal && !console) {
			if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
				usage_error(c, "socketpair: %s", strerror(errno));
				goto out;
			}
			o.console_fd = sv[1];
		}
	}
	pid_t pid;
	int r = oci_container_exec(&c->rt, &o, &pid, &err);
	if (sv[1] >= 0)
		close(sv[1]);
	if (r < 0) {
		if (sv[0] >= 0)
			close(sv[0]);
		fail(c, err);
		goto out;
	}
	if (detach) {
		ret = 0;
		goto out;
	}
	int master = -1;
	if (sv[0] >= 0) {
		master = oci_console_recv(sv[0], &err);
		close(sv[0]);
		if (master < 0)
			rt_log(c, "warning", "%s", err->msg), verr_clear(&err);
	}
	ret = wait_forward(pid, master);
out:
	oci_process_clear(&p);
	json_decref(pj);
	json_decref(config);
	free(envs);
	free(caps);
	free(add_gids);
	return ret;
}

static int cmd_list(struct rt_cli *c, int argc, char **argv)
{
	const char *format = "table";
	bool quiet = false;
	const struct opt opts[] = {
	    {"format", 'f', true, &format},
	    {"quiet", 'q', false, NULL, &quiet},
	    {NULL},
	};
	if (parse_opts(c, "list", argc, argv, 1, opts) < 0)
		return 1;
	json_t *a = NULL;
	struct verr *err = NULL;
	if (oci_container_list(&c->rt, &a, &err) < 0)
		return fail(c, err);
	size_t i;
	json_t *o;
	if (quiet) {
		json_array_foreach(a, i, o) printf("%s\n", json_string_value(json_object_get(o, "id")));
	} else if (strcmp(format, "json") == 0) {
		char *s = json_dumps(a, JSON_COMPACT);
		printf("%s\n", s ? s : "[]");
		free(s);
	} else if (strcmp(format, "table") == 0) {
		static const char *const cols[] = {"ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"};
		static const char *const keys[] = {"id", "pid", "status", "bundle", "created", "owner"};
		size_t w[6];
		for (int k = 0; k < 6; k++)
			w[k] = strlen(cols[k]);
		size_t n = json_array_size(a);
		char **cells = xcalloc(n * 6 + 1, sizeof(char *));
		json_array_foreach(a, i, o)
		{
			for (int k = 0; k < 6; k++) {
				json_t *v = json_object_get(o, keys[k]);
				char *s = json_is_integer(v)
					      ? xasprintf("%lld", (long long)json_integer_value(v))
					      : xstrdup(json_is_string(v) ? json_string_value(v) : "");
				cells[i * 6 + (size_t)k] = s;
				if (strlen(s) > w[k])
					w[k] = strlen(s);
			}
		}
		for (int k = 0; k < 6; k++)
			printf("%-*s%s", k < 5 ? (int)(w[k] + 3) : 0, cols[k], k < 5 ? "" : "\n");
		for (size_t r = 0; r < n; r++)
			for (int k = 0; k < 6; k++)
				printf("%-*s%s", k < 5 ? (int)(w[k] + 3) : 0, cells[r * 6 + (size_t)k],
				       k < 5 ? "" : "\n");
		for (size_t k = 0; k < n * 6; k++)
			free(cells[k]);
		free(cells);
	} else {
		json_decref(a);
		return usage_error(c, "list: invalid format '%s'", format);
	}
	json_decref(a);
	return 0;
}

static int cmd_ps(struct rt_cli *c, int argc, char **argv)
{
	const char *format = "table";
	const struct opt opts[] = {{"format", 'f', true, &format}, {NULL}};
	int i = parse_opts(c, "ps", argc, argv, 1, opts);
	if (i < 0 || need_id(c, "ps", argc, argv, i) < 0)
		return 1;
	pid_t *pids = NULL;
	size_t n = 0;
	struct verr *err = NULL;
	if (oci_container_pids(&c->rt, argv[i], &pids, &n, &err) < 0)
		return fail(c, err);
	if (strcmp(format, "json") == 0) {
		json_t *a = json_array();
		for (size_t k = 0; k < n; k++)
			json_array_append_new(a, json_integer(pids[k]));
		char *s = json_dumps(a, JSON_COMPACT);
		printf("%s\n", s);
		free(s);
		json_decref(a);
		free(pids);
		return 0;
	}
	if (strcmp(format, "table") != 0) {
		free(pids);
		return usage_error(c, "ps: invalid format '%s'", format);
	}
	/* Like runc: run ps(1) with the given options (default -ef) and keep
	 * the header and the lines whose PID column is one of ours. */
	int pfd[2];
	if (pipe2(pfd, O_CLOEXEC) < 0) {
		free(pids);
		return usage_error(c, "ps: pipe: %s", strerror(errno));
	}
	pid_t child = fork();
	if (child == 0) {
		dup2(pfd[1], 1);
		char **args = xcalloc((size_t)(argc - i) + 2, sizeof(char *));
		args[0] = "ps";
		int k = 1;
		if (i + 1 >= argc)
			args[k++] = "-ef";
		for (int j = i + 1; j < argc; j++)
			args[k++] = argv[j];
		execvp("ps", args);
		_exit(127);
	}
	close(pfd[1]);
	FILE *f = fdopen(pfd[0], "r");
	char *line = NULL;
	size_t cap = 0;
	int pid_col = -1;
	while (f && getline(&line, &cap, f) > 0) {
		if (pid_col < 0) {
			int col = 0;
			char *save = NULL, *copy = xstrdup(line);
			for (char *t = strtok_r(copy, " \t\n", &save); t;
			     t = strtok_r(NULL, " \t\n", &save), col++)
				if (strcmp(t, "PID") == 0)
					pid_col = col;
			free(copy);
			fputs(line, stdout);
			continue;
		}
		int col = 0;
		long pidv = -1;
		char *save = NULL, *copy = xstrdup(line);
		for (char *t = strtok_r(copy, " \t\n", &save); t; t = strtok_r(NULL, " \t\n", &save), col++)
			if (col == pid_col)
				pidv = strtol(t, NULL, 10);
		free(copy);
		for (size_t k = 0; k < n; k++)
			if (pids[k] == pidv)
				fputs(line, stdout);
	}
	free(line);
	if (f)
		fclose(f);
	waitpid(child, NULL, 0);
	free(pids);
	return 0;
}

static int cmd_update(struct rt_cli *c, int argc, char **argv)
{
	const char *resources = NULL, *memory = NULL, *memswap = NULL, *memres = NULL, *kmem = NULL,
		   *shares = NULL, *quota = NULL, *period = NULL, *cpus = NULL, *mems = NULL,
		   *pids_limit = NULL, *blkio = NULL, *rt_period = NULL, *rt_runtime = NULL;
	const struct opt opts[] = {
	    {"resources", 'r', true, &resources},
	    {"memory", 0, true, &memory},
	    {"memory-swap", 0, true, &memswap},
	    {"memory-reservation", 0, true, &memres},
	    {"kernel-memory", 0, true, &kmem},
	    {"cpu-shares", 0, true, &shares},
	    {"cpu-quota", 0, true, &quota},
	    {"cpu-period", 0, true, &period},
	    {"cpu-rt-period", 0, true, &rt_period},
	    {"cpu-rt-runtime", 0, true, &rt_runtime},
	    {"cpuset-cpus", 0, true, &cpus},
	    {"cpuset-mems", 0, true, &mems},
	    {"pids-limit", 0, true, &pids_limit},
	    {"blkio-weight", 0, true, &blkio},
	    {NULL},
	};
	int i = parse_opts(c, "update", argc, argv, 1, opts);
	if (i < 0 || need_id(c, "update", argc, argv, i) < 0)
		return 1;
	json_t *res;
	if (resources) {
		json_error_t je;
		res = strcmp(resources, "-") == 0 ? json_loadf(stdin, 0, &je)
						  : json_load_file(resources, 0, &je);
		if (!json_is_object(res)) {
			json_decref(res);
			return usage_error(c, "update: --resources '%s': %s", resources,
					   res ? "expected an object" : je.text);
		}
	} else {
		res = json_object();
	}
	struct {
		const char *val, *group, *key;
		bool size, signed_;
	} f[] = {
	    {memory, "memory", "limit", true, true},
	    {memswap, "memory", "swap", true, true},
	    {memres, "memory", "reservation", true, true},
	    {kmem, "memory", "kernel", true, true},
	    {shares, "cpu", "shares", false, false},
	    {quota, "cpu", "quota", false, true},
	    {period, "cpu", "period", false, false},
	    {rt_period, "cpu", "realtimePeriod", false, false},
	    {rt_runtime, "cpu", "realtimeRuntime", false, true},
	    {pids_limit, "pids", "limit", false, true},
	    {blkio, "blockIO", "weight", false, false},
	};
	for (size_t k = 0; k < ARRAY_SIZE(f); k++) {
		if (!f[k].val)
			continue;
		long long v;
		uint64_t u;
		if (f[k].size && strcmp(f[k].val, "-1") != 0) {
			if (parse_size(f[k].val, &u) < 0 || u > INT64_MAX) {
				json_decref(res);
				return usage_error(c, "update: invalid value '%s' for %s.%s", f[k].val,
						   f[k].group, f[k].key);
			}
			v = (long long)u;
		} else {
			char *end;
			errno = 0;
			v = strtoll(f[k].val, &end, 10);
			if (errno || *end || end == f[k].val || (!f[k].signed_ && v < 0)) {
				json_decref(res);
				return usage_error(c, "update: invalid value '%s' for %s.%s", f[k].val,
						   f[k].group, f[k].key);
			}
		}
		json_t *g = json_object_get(res, f[k].group);
		if (!g) {
			g = json_object();
			json_object_set_new(res, f[k].group, g);
		}
		json_object_set_new(g, f[k].key, json_integer(v));
	}
	if (cpus || mems) {
		json_t *g = json_object_get(res, "cpu");
		if (!g) {
			g = json_object();
			json_object_set_new(res, "cpu", g);
		}
		if (cpus)
			json_object_set_new(g, "cpus", json_string(cpus));
		if (mems)
			json_object_set_new(g, "mems", json_string(mems));
	}
	struct verr *err = NULL;
	int r = oci_container_update(&c->rt, argv[i], res, &err);
	json_decref(res);
	return r < 0 ? fail(c, err) : 0;
}

static int cmd_spec(struct rt_cli *c, int argc, char **argv)
{
	const char *bundle = NULL;
	bool rootless = false;
	const struct opt opts[] = {
	    {"bundle", 'b', true, &bundle},
	    {"rootless", 0, false, NULL, &rootless},
	    {NULL},
	};
	if (parse_opts(c, "spec", argc, argv, 1, opts) < 0)
		return 1;
	cleanup_free char *path = xasprintf("%s/config.json", bundle ? bundle : ".");
	if (access(path, F_OK) == 0)
		return usage_error(c, "File %s exists. Remove it first", path);
	json_t *s = oci_default_spec(rootless, getuid(), getgid());
	int r = json_dump_file(s, path, JSON_INDENT(8) | JSON_PRESERVE_ORDER);
	json_decref(s);
	if (r < 0)
		return usage_error(c, "write '%s' failed", path);
	return 0;
}

static int cmd_features(struct rt_cli *c, int argc, char **argv)
{
	json_t *f = oci_features();
	char *s = json_dumps(f, JSON_INDENT(4) | JSON_PRESERVE_ORDER);
	printf("%s\n", s ? s : "{}");
	free(s);
	json_decref(f);
	return 0;
}

static void print_version(void)
{
	const struct scmp_version *v = seccomp_version();
	printf("vessel-runtime version %s\nspec: %s\n", VESSEL_VERSION, OCI_SPEC_VERSION);
	if (v)
		printf("libseccomp: %u.%u.%u\n", v->major, v->minor, v->micro);
}

static void print_help(FILE *f)
{
	fputs("usage: vessel-runtime [global options] COMMAND [options] [ID]\n"
	      "\n"
	      "An OCI runtime (runtime-spec " OCI_SPEC_VERSION ") with runc's command line.\n"
	      "\n"
	      "commands:\n"
	      "  create    create a container (its init waits for start)\n"
	      "  start     start a created container\n"
	      "  run       create and start a container (attached unless --detach)\n"
	      "  state     print the OCI state of a container\n"
	      "  kill      send a signal to a container's init (--all: every process)\n"
	      "  delete    delete a container (--force kills it first)\n"
	      "  exec      run a new process in a container\n"
	      "  ps        list a container's processes\n"
	      "  list      list containers\n"
	      "  pause     freeze every process of a container\n"
	      "  resume    thaw a paused container\n"
	      "  update    change a container's resource limits\n"
	      "  features  print the features document\n"
	      "  spec      write a default config.json\n"
	      "\n"
	      "global options:\n"
	      "  --root DIR          state directory (default " OCI_DEFAULT_ROOT ")\n"
	      "  --log FILE          log file\n"
	      "  --log-format F      text or json\n"
	      "  --debug             debug output\n"
	      "  --systemd-cgroup    cgroupsPath is slice:prefix:name\n"
	      "  --rootless B        accepted for compatibility\n"
	      "  --version, -v       print the version\n",
	      f);
}

int cli_runtime_main(int argc, char **argv)
{
	struct rt_cli c = {.rt = {.root = OCI_DEFAULT_ROOT}};
	const char *root = NULL, *log = NULL, *log_format = "text", *rootless = NULL, *criu = NULL,
		   *log_level = NULL;
	bool version = false, help = false;
	const struct opt gopts[] = {
	    {"root", 0, true, &root},
	    {"log", 0, true, &log},
	    {"log-format", 0, true, &log_format},
	    {"rootless", 0, true, &rootless},
	    {"criu", 0, true, &criu},
	    {"log-level", 0, true, &log_level},
	    {"debug", 0, false, NULL, &c.debug},
	    {"systemd-cgroup", 0, false, NULL, &c.rt.systemd_cgroup},
	    {"version", 'v', false, NULL, &version},
	    {"help", 'h', false, NULL, &help},
	    {NULL},
	};
	/* A hook or a pipe that goes away must not kill us mid-operation. */
	signal(SIGPIPE, SIG_IGN);
	int i = parse_opts(&c, "vessel-runtime", argc, argv, 1, gopts);
	if (i < 0)
		return 1;
	if (root)
		c.rt.root = root;
	if (strcmp(log_format, "json") == 0)
		c.log_json = true;
	else if (strcmp(log_format, "text") != 0)
		return usage_error(&c, "--log-format: expected text or json, not '%s'", log_format);
	if (log) {
		c.log = fopen(log, "ae");
		if (!c.log)
			fprintf(stderr, "vessel-runtime: open log '%s': %s\n", log, strerror(errno));
	}
	/* runc 1.2's --log-level: "debug" is --debug, other levels only
	 * filter what we already keep to errors and warnings. */
	if (log_level && strcmp(log_level, "debug") == 0)
		c.debug = true;
	if (rootless && strcmp(rootless, "true") == 0)
		c.rt.rootless = true;
	int ret;
	if (version) {
		print_version();
		ret = 0;
	} else if (help || i >= argc) {
		print_help(help ? stdout : stderr);
		ret = help ? 0 : 2;
	} else {
		const char *cmd = argv[i];
		int cargc = argc - i;
		char **cargv = argv + i;
		if (strcmp(cmd, "create") == 0 || strcmp(cmd, "run") == 0 || strcmp(cmd, "exec") == 0) {
			int r = ensure_sealed_self(argv);
			if (r < 0)
				rt_log(&c, "warning", "cannot re-execute from a sealed copy: %s",
				       strerror(-r));
		}
		if (strcmp(cmd, "create") == 0)
			ret = cmd_create_run(&c, false, cargc, cargv);
		else if (strcmp(cmd, "run") == 0)
			ret = cmd_create_run(&c, true, cargc, cargv);
		else if (strcmp(cmd, "exec") == 0)
			ret = cmd_exec(&c, cargc, cargv);
		else if (strcmp(cmd, "list") == 0)
			ret = cmd_list(&c, cargc, cargv);
		else if (strcmp(cmd, "ps") == 0)
			ret = cmd_ps(&c, cargc, cargv);
		else if (strcmp(cmd, "update") == 0)
			ret = cmd_update(&c, cargc, cargv);
		else if (strcmp(cmd, "spec") == 0)
			ret = cmd_spec(&c, cargc, cargv);
		else if (strcmp(cmd, "features") == 0)
			ret = cmd_features(&c, cargc, cargv);
		else if (strcmp(cmd, "help") == 0) {
			print_help(stdout);
			ret = 0;
		} else if (strcmp(cmd, "start") == 0 || strcmp(cmd, "delete") == 0 ||
			   strcmp(cmd, "kill") == 0 || strcmp(cmd, "state") == 0 ||
			   strcmp(cmd, "pause") == 0 || strcmp(cmd, "resume") == 0)
			ret = cmd_simple(&c, cmd, cargc, cargv);
		else
			ret = usage_error(&c, "unknown command '%s'", cmd);
	}
	fflush(stdout);
	if (c.log)
		fclose(c.log);
	return ret;
}
