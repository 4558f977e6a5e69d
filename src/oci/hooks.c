#include "oci/hooks.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/util.h"

static int run_one(const struct oci_hook *h, const char *state, const char *what, size_t idx,
		   struct verr **err)
{
	int pipefd[2];
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return verr_set(err, errno, "%s hook %zu: pipe", what, idx);
	pid_t pid = fork();
	if (pid < 0) {
		int e = errno;
		close(pipefd[0]);
		close(pipefd[1]);
		return verr_set(err, e, "%s hook %zu: fork", what, idx);
	}
	if (pid == 0) {
		dup2(pipefd[0], 0);
		char *const empty_env[] = {NULL};
		char *default_args[] = {h->path, NULL};
		sigset_t all;
		sigemptyset(&all);
		sigprocmask(SIG_SETMASK, &all, NULL);
		execve(h->path, h->args ? h->args : default_args, h->env ? h->env : empty_env);
		_exit(127);
	}
	close(pipefd[0]);
	/* Feed the state while watching the hook: one that exits without
	 * reading its stdin must not block us, one that reads gets all of it
	 * even when it is larger than the pipe buffer. */
	int fl = fcntl(pipefd[1], F_GETFL);
	fcntl(pipefd[1], F_SETFL, fl | O_NONBLOCK);
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	uint64_t deadline = h->timeout > 0 ? now_ns() + (uint64_t)h->timeout * 1000000000ull : 0;
	size_t len = strlen(state), off = 0;
	bool timed_out = false;
	/* A hook that exits without reading makes our writes fail with EPIPE;
	 * the library must not depend on its caller ignoring SIGPIPE, so the
	 * signal is blocked here and a pending one we caused is consumed. */
	sigset_t pipe_set, old_mask, pending;
	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old_mask);
	sigpending(&pending);
	bool pipe_was_pending = sigismember(&pending, SIGPIPE);
	for (;;) {
		while (off < len) {
			ssize_t n = write(pipefd[1], state + off, len - off);
			if (n <= 0)
				break;
			off += (size_t)n;
		}
		if (off >= len && pipefd[1] >= 0) {
			close(pipefd[1]);
			pipefd[1] = -1;
		}
		int timeout_ms = -1;
		if (deadline) {
			uint64_t now = now_ns();
			if (now >= deadline) {
				timed_out = true;
				break;
			}
			timeout_ms = (int)((deadline - now) / 1000000) + 1;
		}
		struct pollfd p[2] = {{.fd = pidfd, .events = POLLIN}, {.fd = pipefd[1], .events = POLLOUT}};
		if (pidfd < 0)
			break; /* no pidfd: fall back to a plain wait */
		int r = poll(p, 2, timeout_ms);
		if (r < 0 && errno != EINTR)
			break;
		if (p[0].revents & POLLIN)
			break; /* the hook exited */
		if (p[1].revents & (POLLERR | POLLHUP)) {
			close(pipefd[1]);
			pipefd[1] = -1;
		}
	}
	if (pipefd[1] >= 0)
		close(pipefd[1]);
	sigpending(&pending);
	if (!pipe_was_pending && sigismember(&pending, SIGPIPE)) {
		struct timespec zero = { 0, 0 };
		sigtimedwait(&pipe_set, NULL, &zero);
	}
	pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
	if (pidfd >= 0)
		close(pidfd);
	int status = 0;
	if (timed_out) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		return verr_set(err, 0, "%s hook %zu (%s): timed out after %d s", what, idx, h->path,
				h->timeout);
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			return verr_set(err, errno, "%s hook %zu: wait", what, idx);
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
		return verr_set(err, 0, "%s hook %zu (%s): could not be executed", what, idx, h->path);
	if (WIFEXITED(status))
		return verr_set(err, 0, "%s hook %zu (%s): exited with status %d", what, idx, h->path,
				WEXITSTATUS(status));
	return verr_set(err, 0, "%s hook %zu (%s): killed by signal %d", what, idx, h->path,
			WTERMSIG(status));
}

int oci_hooks_run(const struct oci_hook *hooks, size_t n, const char *state, const char *what,
		  struct verr **err)
{
	for (size_t i = 0; i < n; i++)
		if (run_one(&hooks[i], state, what, i, err) < 0)
			return -1;
	return 0;
}
