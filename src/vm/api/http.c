/* The control API's HTTP/1.1 request parser (RFC 9112 message syntax, a
 * strict subset; see http.h). Lines are judged only once whole, so a prefix
 * of a request is never refused for what the rest might have said. */
#include "vm/api/http.h"

#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "vm/api/api.h"

/* tchar (RFC 9110 5.6.2): the characters of methods and field names. */
static bool is_tchar(unsigned char c)
{
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
		return true;
	return c && strchr("!#$%&'*+-.^_`|~", c);
}

/* field-vchar, SP or HTAB; obs-text (0x80-0xff) is allowed and opaque. */
static bool is_field_char(unsigned char c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7f);
}

static bool is_ows(char c)
{
	return c == ' ' || c == '\t';
}

static enum http_parse refuse(struct http_request *req, unsigned status, const char *why)
{
	req->status = status;
	req->error = why;
	return HTTP_PARSE_ERROR;
}

/* Case-insensitive compare of value[0..len) with a NUL-terminated word. */
static bool equals_ci(const char *value, size_t len, const char *word)
{
	return strlen(word) == len && !strncasecmp(value, word, len);
}

/* "METHOD SP /target SP HTTP/1.x" in line[0..len). */
static enum http_parse parse_request_line(const char *line, size_t len, struct http_request *req)
{
	size_t i = 0;
	while (i < len && is_tchar((unsigned char)line[i]))
		i++;
	if (i == 0 || i == len || line[i] != ' ')
		return refuse(req, 400, "malformed request line (want \"METHOD /path HTTP/1.1\")");
	if (i > HTTP_MAX_METHOD)
		return refuse(req, 501, "method not implemented");
	memcpy(req->method, line, i);
	req->method[i] = 0;
	size_t t = ++i;
	while (i < len && line[i] != ' ') {
		unsigned char c = (unsigned char)line[i];
		if (c < 0x21 || c > 0x7e)
			return refuse(req, 400, "bad character in request target");
		i++;
	}
	if (i == t || i == len)
		return refuse(req, 400, "malformed request line (want \"METHOD /path HTTP/1.1\")");
	if (line[t] != '/')
		return refuse(req, 400, "request target must be a path starting with '/'");
	if (i - t > HTTP_MAX_TARGET)
		return refuse(req, 414, "request target is longer than 1024 bytes");
	size_t plen = 0;
	while (t + plen < i && line[t + plen] != '?')
		plen++;
	memcpy(req->path, line + t, plen);
	req->path[plen] = 0;
	const char *v = line + i + 1;
	size_t vlen = len - i - 1;
	if (vlen != 8 || memcmp(v, "HTTP/", 5) || v[5] < '0' || v[5] > '9' || v[6] != '.' || v[7] < '0' ||
	    v[7] > '9')
		return refuse(req, 400, "malformed HTTP version");
	if (v[5] != '1' || (v[7] != '0' && v[7] != '1'))
		return refuse(req, 505, "HTTP version not supported (use HTTP/1.1)");
	req->minor = (unsigned)(v[7] - '0');
	return HTTP_PARSE_INCOMPLETE;
}

/* What the header fields said, beyond what goes into the request. */
struct head_state {
	bool have_cl, cl_too_big, have_te, te_chunked, have_host, conn_close;
	uint64_t cl;
};

/* One "name: value" field in line[0..len). */
static enum http_parse parse_field(const char *line, size_t len, struct http_request *req, struct head_state *h)
{
	if (is_ows(line[0]))
		return refuse(req, 400, "obsolete line folding in header field");
	size_t n = 0;
	while (n < len && is_tchar((unsigned char)line[n]))
		n++;
	if (n == 0 || n == len || line[n] != ':')
		return refuse(req, 400, "malformed header field (want \"Name: value\")");
	const char *v = line + n + 1, *end = line + len;
	for (const char *p = v; p < end; p++)
		if (!is_field_char((unsigned char)*p))
			return refuse(req, 400, "bad character in header field value");
	while (v < end && is_ows(*v))
		v++;
	while (end > v && is_ows(end[-1]))
		end--;
	size_t vlen = (size_t)(end - v);
	if (equals_ci(line, n, "content-length")) {
		if (h->have_cl)
			return refuse(req, 400, "repeated Content-Length");
		h->have_cl = true;
		if (vlen == 0)
			return refuse(req, 400, "bad Content-Length");
		for (size_t i = 0; i < vlen; i++) {
			if (v[i] < '0' || v[i] > '9')
				return refuse(req, 400, "bad Content-Length");
			if (!h->cl_too_big) {
				h->cl = h->cl * 10 + (uint64_t)(v[i] - '0');
				h->cl_too_big = h->cl > VM_API_MAX_BODY;
			}
		}
	} else if (equals_ci(line, n, "transfer-encoding")) {
		h->have_te = true;
		/* the last coding decides how the body is framed */
		const char *last = end;
		while (last > v && last[-1] != ',' && !is_ows(last[-1]))
			last--;
		h->te_chunked |= equals_ci(last, (size_t)(end - last), "chunked");
	} else if (equals_ci(line, n, "host")) {
		if (h->have_host)
			return refuse(req, 400, "repeated Host");
		h->have_host = true;
	} else if (equals_ci(line, n, "connection")) {
		for (const char *p = v; p < end;) {
			while (p < end && (is_ows(*p) || *p == ','))
				p++;
			const char *tok = p;
			while (p < end && !is_ows(*p) && *p != ',')
				p++;
			h->conn_close |= equals_ci(tok, (size_t)(p - tok), "close");
		}
	} else if (equals_ci(line, n, "expect")) {
		if (!equals_ci(v, vlen, "100-continue"))
			return refuse(req, 417, "unsupported Expect (only 100-continue)");
		req->expect_continue = true;
	}
	return HTTP_PARSE_INCOMPLETE;
}

enum http_parse http_parse_request(const char *buf, size_t len, struct http_request *req)
{
	memset(req, 0, sizeof(*req));
	struct head_state h = {0};
	size_t limit = len < HTTP_MAX_HEADER ? len : HTTP_MAX_HEADER;
	size_t pos = 0;
	unsigned fields = 0;
	for (bool first = true;; first = false) {
		const char *nl = memchr(buf + pos, '\n', limit - pos);
		if (!nl) {
			if (len >= HTTP_MAX_HEADER)
				return refuse(req, 431, "request line and header fields exceed 8 KiB");
			return HTTP_PARSE_INCOMPLETE;
		}
		size_t eol = (size_t)(nl - buf);
		if (eol == pos || buf[eol - 1] != '\r')
			return refuse(req, 400, "line ends in a bare LF (want CRLF)");
		const char *line = buf + pos;
		size_t line_len = eol - 1 - pos;
		pos = eol + 1;
		if (memchr(line, '\r', line_len))
			return refuse(req, 400, "bare CR in request head");
		if (first) {
			if (parse_request_line(line, line_len, req) == HTTP_PARSE_ERROR)
				return HTTP_PARSE_ERROR;
			continue;
		}
		if (line_len == 0)
			break;
		if (++fields > HTTP_MAX_FIELDS)
			return refuse(req, 431, "more than 64 header fields");
		if (parse_field(line, line_len, req, &h) == HTTP_PARSE_ERROR)
			return HTTP_PARSE_ERROR;
	}
	if (h.have_te && h.have_cl)
		return refuse(req, 400, "both Transfer-Encoding and Content-Length");
	if (h.te_chunked)
		return refuse(req, 411, "chunked request bodies are not supported: send Content-Length");
	if (h.have_te)
		return refuse(req, 501, "Transfer-Encoding is not supported: send Content-Length");
	if (h.cl_too_big)
		return refuse(req, 413, "request body is larger than 64 KiB");
	req->keep_alive = req->minor == 1 && !h.conn_close;
	req->content_length = (size_t)h.cl;
	req->header_len = pos;
	req->total_len = pos + req->content_length;
	if (len < req->total_len)
		return HTTP_PARSE_INCOMPLETE;
	req->body = buf + pos;
	return HTTP_PARSE_COMPLETE;
}

const char *http_reason(unsigned status)
{
	switch (status) {
	case 100: return "Continue";
	case 200: return "OK";
	case 204: return "No Content";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 411: return "Length Required";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 417: return "Expectation Failed";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	default: return "Unknown";
	}
}
