/* A long control-API request (POST /vm/migrate, POST /vm/snapshot) that the
 * CLI follows: the POST waits on a thread while this thread polls a
 * progress route on a second connection. */
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#include <jansson.h>

#include "base/err.h"
#include "cli/cli.h"
#include "vm/api/api.h"

struct follow_post {
	struct cli_follow *f;
	atomic_bool done;
};

static void *follow_post_main(void *arg)
{
	struct follow_post *fp = arg;
	struct cli_follow *f = fp->f;
	if (vm_api_call(f->sock, "POST", f->post_path, f->body, &f->status, &f->reply, &f->err) < 0)
		f->status = -1;
	atomic_store(&fp->done, true);
	return NULL;
}

int cli_follow_post(struct cli_follow *f)
{
	struct follow_post fp = { .f = f };
	f->status = -1;
	f->reply = NULL;
	f->err = NULL;
	pthread_t t;
	if (pthread_create(&t, NULL, follow_post_main, &fp) != 0)
		return -1;
	while (f->progress && !atomic_load(&fp.done)) {
		usleep(f->interval_ms * 1000);
		if (atomic_load(&fp.done))
			break;
		json_t *p = NULL;
		long st = 0;
		struct verr *e = NULL;
		if (vm_api_call(f->sock, "GET", f->poll_path, NULL, &st, &p, &e) < 0) {
			verr_free(e);
			continue;
		}
		if (st == 200 && p)
			f->progress(p, f->opaque);
		json_decref(p);
	}
	pthread_join(t, NULL);
	return 0;
}

const char *cli_jstr(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "";
}

long long cli_jint(json_t *o, const char *key)
{
	return (long long)json_integer_value(json_object_get(o, key));
}
