/* A small, strict HTTP/1.1 request parser for the control API server
 * (docs/api.md, "HTTP server"). It is a pure function over a byte buffer: no
 * I/O, no allocation, so it can be unit-tested and fuzzed on its own
 * (tests/unit/test_http.c, tests/fuzz/fuzz_http.c).
 *
 * Accepted: "METHOD SP origin-form SP HTTP/1.0|HTTP/1.1 CRLF", header fields
 * "name: value CRLF", an empty line, then a body of exactly Content-Length
 * bytes (none without Content-Length). Everything else is refused with a
 * status and a reason: bare LF or CR, control characters, whitespace before
 * the colon, obsolete line folding, a bad or repeated Content-Length, any
 * Transfer-Encoding (chunked: 411, others: 501), headers over
 * HTTP_MAX_HEADER bytes (431), bodies over VM_API_MAX_BODY (413). */
#ifndef VESSEL_VM_API_HTTP_H
#define VESSEL_VM_API_HTTP_H

#include <stdbool.h>
#include <stddef.h>

/* Request line plus header fields plus the empty line, at most (431). */
#define HTTP_MAX_HEADER (8 * 1024)
/* Header fields, at most (431). */
#define HTTP_MAX_FIELDS 64
/* Method and request-target lengths, at most (501 / 414). */
#define HTTP_MAX_METHOD 15
#define HTTP_MAX_TARGET 1024

enum http_parse {
	HTTP_PARSE_ERROR = -1,	    /* refused: status and error say why */
	HTTP_PARSE_INCOMPLETE = 0,  /* valid so far, more bytes needed */
	HTTP_PARSE_COMPLETE = 1,    /* one whole request at the buffer's start */
};

struct http_request {
	/* HTTP_PARSE_COMPLETE, and HTTP_PARSE_INCOMPLETE once header_len
	 * is non-zero (the head is complete, the body is still arriving): */
	char method[HTTP_MAX_METHOD + 1];
	char path[HTTP_MAX_TARGET + 1]; /* the target up to '?' */
	unsigned minor;			/* HTTP/1.<minor>: 0 or 1 */
	bool keep_alive;		/* 1.1 without "Connection: close" */
	bool expect_continue;		/* "Expect: 100-continue" */
	size_t content_length;		/* <= VM_API_MAX_BODY */
	size_t header_len;		/* bytes up to and with the empty line */
	size_t total_len;		/* header_len + content_length */
	const char *body;		/* buf + header_len (COMPLETE only) */
	/* HTTP_PARSE_ERROR: the status to answer and a static reason. */
	unsigned status;
	const char *error;
};

/* Parses the request at the start of buf[0..len). Returns COMPLETE with *req
 * filled (the request is buf[0..req->total_len); more requests may follow,
 * pipelined), INCOMPLETE if buf is a valid prefix of a request (header_len is
 * set once the head is whole), or ERROR with req->status (400, 411, 413, 414,
 * 417, 431, 501, 505) and req->error. The result for a prefix never
 * contradicts the result for the whole: bytes are judged as they arrive. */
enum http_parse http_parse_request(const char *buf, size_t len, struct http_request *req);

/* The reason phrase of an HTTP status ("Not Found"); "Unknown" for codes
 * the server never sends. */
const char *http_reason(unsigned status);

#endif
