#!/usr/bin/env python3
"""Sends one request to a VM's control API and checks the answer against
docs/openapi.json: the status must be documented for that operation, and
a JSON body must match the documented schema (type, required, properties,
additionalProperties, enum, minimum/maximum, $ref). The same rules as the C
checker of tests/unit/test_api.c, applied to a real VM's answers.

usage: openapi_check.py SPEC SOCKET METHOD PATH [JSON-BODY]
prints "STATUS BODY" on stdout; exit 0 when the answer conforms, 1 when it
does not (the reason on stderr), 2 when the server cannot be reached.
   or: openapi_check.py SPEC --answer METHOD PATH STATUS FILE
checks an answer taken earlier (e.g. by curl, when timing matters): STATUS
and the body in FILE (JSON, as application/json)."""
import http.client
import json
import socket
import sys


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("localhost", timeout=60)
        self.unix_path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(60)
        self.sock.connect(self.unix_path)


def resolve(spec, node):
    while isinstance(node, dict) and "$ref" in node:
        ref = node["$ref"]
        assert ref.startswith("#/"), ref
        node = spec
        for part in ref[2:].split("/"):
            node = node[part]
    return node


def validate(spec, schema, value, where):
    schema = resolve(spec, schema)
    t = schema.get("type")
    types = {
        "object": dict, "array": list, "string": str, "boolean": bool,
        "integer": int, "number": (int, float),
    }
    if t:
        if isinstance(value, bool) and t in ("integer", "number"):
            return f"{where}: boolean where {t} expected"
        if not isinstance(value, types[t]):
            return f"{where}: {type(value).__name__} where {t} expected"
    if "enum" in schema and value not in schema["enum"]:
        return f"{where}: {value!r} not in {schema['enum']}"
    if "minimum" in schema and value < schema["minimum"]:
        return f"{where}: {value} below the minimum {schema['minimum']}"
    if "maximum" in schema and value > schema["maximum"]:
        return f"{where}: {value} above the maximum {schema['maximum']}"
    if t == "object":
        for r in schema.get("required", []):
            if r not in value:
                return f"{where}: required field '{r}' missing"
        props = schema.get("properties", {})
        extra = schema.get("additionalProperties", True)
        for k, v in value.items():
            if k in props:
                e = validate(spec, props[k], v, f"{where}.{k}")
            elif extra is False:
                e = f"{where}: field '{k}' is not in the spec"
            elif isinstance(extra, dict):
                e = validate(spec, extra, v, f"{where}.{k}")
            else:
                e = None
            if e:
                return e
    if t == "array" and "items" in schema:
        for i, v in enumerate(value):
            e = validate(spec, schema["items"], v, f"{where}[{i}]")
            if e:
                return e
    return None


def main():
    if len(sys.argv) == 7 and sys.argv[2] == "--answer":
        spec_path, _, method, path, status, f = sys.argv[1:7]
        raw = open(f, "rb").read()
        return check(json.load(open(spec_path)), method, path, int(status), raw,
                     "application/json" if raw.strip() else "")
    spec_path, sock, method, path = sys.argv[1:5]
    body = sys.argv[5] if len(sys.argv) > 5 else None
    spec = json.load(open(spec_path))
    try:
        c = UnixHTTPConnection(sock)
        headers = {"Content-Type": "application/json"} if body is not None else {}
        c.request(method, path, body=body, headers=headers)
        r = c.getresponse()
        raw = r.read()
    except OSError as e:
        print(f"cannot reach {sock}: {e}", file=sys.stderr)
        return 2
    status = r.status
    print(status, raw.decode(errors="replace"))
    return check(spec, method, path, status, raw, r.getheader("Content-Type", ""))


def check(spec, method, path, status, raw, content_type):
    op = spec["paths"].get(path, {}).get(method.lower())
    if op is None:
        # unknown paths and methods: the generic error shape
        if status not in (404, 405):
            print(f"{method} {path}: status {status} for an operation not in the spec", file=sys.stderr)
            return 1
        resp = spec["components"]["responses"]["Error"]
    else:
        resp = op["responses"].get(str(status))
        if resp is None:
            print(f"{method} {path}: status {status} is not documented", file=sys.stderr)
            return 1
    resp = resolve(spec, resp)
    content = resp.get("content", {}).get("application/json")
    if content is None:
        if raw.strip():
            print(f"{method} {path}: {status} must have no body, got {raw[:80]!r}", file=sys.stderr)
            return 1
        return 0
    try:
        value = json.loads(raw)
    except ValueError:
        print(f"{method} {path}: {status} body is not JSON: {raw[:80]!r}", file=sys.stderr)
        return 1
    if content_type.split(";")[0] != "application/json":
        print(f"{method} {path}: Content-Type is {content_type!r}", file=sys.stderr)
        return 1
    err = validate(spec, content["schema"], value, f"{method} {path} {status}")
    if err:
        print(err, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
