#include "oci/hooks.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
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
		char *const empty_env[] = { NULL };
		char *default_args[] = { h->path, NULL };
		sigset_t all;
		sigemptyset(&all);
		sigprocmask(SIG_SETMASK, &all, NULL);
		execve(h->path, h->args ? h->args : default_args, h->env ? h->env : empty_env);
		_exit(127);
	}
	close(pipefd[0]);
	/* A hook that does not read its stdin must not block us: ignore
	 * EPIPE (SIGPIPE is ignored by the CLI) and do not wait on a full pipe
	 * longer than the state size allows (it fits in the pipe buffer). */
	int fl = fcntl(pipefd[1], F_GETFL);
	fcntl(pipefd[1], F_SETFL, fl | O_NONBLOCK);
	if (write_full(pipefd[1], state, strlen(state)) < 0) {
		/* not fatal: the hook may not care about its stdin */
	}
	close(pipefd[1]);

	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	int status = 0;
	if (pidfd >= 0) {
		struct pollfd p = { .fd = pidfd, .events = POLLIN };
		int timeout_ms = h->timeout > 0 ? h->timeout * 1000 : -1;
		int r;
		do {
			r = poll(&p, 1, timeout_ms);
		} while (r < 0 && errno == EINTR);
		close(pidfd);
		if (r == 0) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			return verr_set(err, 0, "%s hook %zu (%s): timed out after %d s", what, idx, h->path,
					h->timeout);
		}
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
