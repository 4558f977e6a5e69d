/* Fuzzes the control API's HTTP request parser (src/vm/api/http.c) as a
 * pure function: every parse of the input as a stream of pipelined requests
 * must be consistent (sane fields, prefixes never contradict the whole) and
 * never read outside the buffer (ASan). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vm/api/api.h"
#include "vm/api/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An exact-size heap copy, so ASan catches a read one past the end. */
static void check_one(const char *buf, size_t len)
{
	struct http_request req;
	enum http_parse r = http_parse_request(buf, len, &req);
	if (r == HTTP_PARSE_ERROR) {
		if (!req.error || req.status < 400 || req.status > 599)
			abort();
		return;
	}
	if (r == HTTP_PARSE_INCOMPLETE) {
		if (len >= HTTP_MAX_HEADER + VM_API_MAX_BODY)
			abort(); /* the server's buffer would be full */
		if (req.header_len && (req.header_len > len || req.total_len <= len))
			abort();
		return;
	}
	if (req.total_len > len || req.header_len > HTTP_MAX_HEADER || req.content_length > VM_API_MAX_BODY ||
	    req.total_len != req.header_len + req.content_length || req.body != buf + req.header_len ||
	    req.path[0] != '/' || !req.method[0] || req.minor > 1 || (req.minor == 0 && req.keep_alive) ||
	    strchr(req.path, '?'))
		abort();
	/* the request alone parses the same; any shorter prefix is incomplete
	 * (a pipelined request cannot end early) */
	struct http_request again;
	if (http_parse_request(buf, req.total_len, &again) != HTTP_PARSE_COMPLETE ||
	    again.total_len != req.total_len || strcmp(again.path, req.path) || strcmp(again.method, req.method))
		abort();
	size_t cuts[] = {req.total_len - 1, req.header_len - 1, req.total_len / 2};
	for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++)
		if (http_parse_request(buf, cuts[i], &again) == HTTP_PARSE_COMPLETE)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	/* the input as pipelined requests, as the server consumes them */
	size_t off = 0;
	for (int n = 0; n < 64 && off <= size; n++) {
		struct http_request req;
		check_one(buf + off, size - off);
		if (http_parse_request(buf + off, size - off, &req) != HTTP_PARSE_COMPLETE || !req.total_len)
			break;
		off += req.total_len;
	}
	free(buf);
	return 0;
}
