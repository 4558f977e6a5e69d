/* Running the reference host tools the image code relies on (gpgv, mke2fs):
 * one place that forks, captures their messages and reaps them. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/util.h"
#include "image/image_int.h"

#define TOOL_LOG_MAX 4096

int image_run_tool(const char *const argv[], char **log, int *status, struct verr **err)
{
	*log = NULL;
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return verr_set(err, errno, "pipe");
	pid_t pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return verr_set(err, errno, "fork");
	}
	if (pid == 0) {
		int nul = open("/dev/null", O_RDONLY);
		if (nul >= 0)
			dup2(nul, 0);
		dup2(p[1], 1);
		dup2(p[1], 2);
		/* Debian keeps mke2fs in /sbin, which a user's PATH may lack. */
		setenv("PATH", "/usr/sbin:/sbin:/usr/bin:/bin", 1);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(p[1]);
	char *buf = xmalloc(TOOL_LOG_MAX + 1);
	size_t n = 0;
	for (;;) { /* keep the first bytes, drain the rest so the tool never blocks */
		char tmp[512];
		ssize_t r = read(p[0], tmp, sizeof(tmp));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		size_t take = (size_t)r < TOOL_LOG_MAX - n ? (size_t)r : TOOL_LOG_MAX - n;
		memcpy(buf + n, tmp, take);
		n += take;
	}
	close(p[0]);
	buf[n] = 0;
	int st;
	while (waitpid(pid, &st, 0) < 0) {
		if (errno != EINTR) {
			free(buf);
			return verr_set(err, errno, "waitpid");
		}
	}
	*status = st;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
		free(buf);
		return 0;
	}
	*log = buf;
	return 1;
}
