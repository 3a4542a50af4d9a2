"""Checks an nginx config of the chat, statically and against a running
nginx whose gateways are down (scripts/infra-check/nginx-probe.sh starts it).

    python3 nginx_probe.py static KIND FILE...        KIND: prod or dev
    python3 nginx_probe.py run KIND BASE_URL LOG...   after the requests, LOGs
                                                     must hold no secret

Static (the source files): worker_connections >= 10,000 and
worker_rlimit_nofile at least that; limit_conn per address on every proxying
server; limit_req on the auth endpoints; X-Forwarded-For only $remote_addr;
JSON error pages for 413/429/502/503/504; prod: HTTP/2, gateways re-resolved
(`resolve` in a zone'd upstream), /ws errors kept out of the error log.
Run: nginx's own 413, 429 and 502 answer {"error": {"code", "message"}} as
docs/protocol.md promises; a WebSocket ticket, a bearer token and a password
sent in requests appear in no log line (access log and error log).
"""
import gzip
import http.client
import json
import re
import ssl
import sys
import time
import urllib.parse

SECRETS = {
    "ticket": "tkt-SECRET-4f1d9c0e",
    "token": "tok-SECRET-88a1b2c3",
    "password": "pw-SECRET-77e6d5c4",
}

results = []


def check(name, ok, detail=""):
    results.append(bool(ok))
    print(f"{'ok  ' if ok else 'FAIL'} {name}{': ' + detail if detail and not ok else ''}", flush=True)


def directives(text):
    return [l.split("#", 1)[0].strip() for l in text.splitlines() if l.split("#", 1)[0].strip()]


def static(kind, files):
    text = "\n".join(open(f).read() for f in files)
    lines = directives(text)
    joined = "\n".join(lines)
    wc = [int(m) for m in re.findall(r"^worker_connections\s+(\d+);", joined, re.M)]
    check("worker_connections >= 10000", wc and wc[0] >= 10000, f"{wc}")
    rl = [int(m) for m in re.findall(r"^worker_rlimit_nofile\s+(\d+);", joined, re.M)]
    check("worker_rlimit_nofile >= worker_connections", rl and wc and rl[0] >= wc[0], f"{rl}")
    check("limit_conn per address (limit_conn_zone $binary_remote_addr, limit_conn)",
          re.search(r"^limit_conn_zone\s+\$binary_remote_addr\b", joined, re.M) and re.search(r"^limit_conn\s+\w+\s+\d+;", joined, re.M))
    auth = re.search(r"location\s+(\^~\s+)?/api/auth/\s*\{(.*?)\n\s*\}", text, re.S)
    check("limit_req on the auth endpoints (location /api/auth/)",
          auth and re.search(r"^\s*limit_req\s+zone=", auth.group(2), re.M) and re.search(r"^limit_req_zone\s+\$binary_remote_addr\b", joined, re.M))
    xff = re.findall(r"proxy_set_header\s+X-Forwarded-For\s+(\S+);", joined)
    check("X-Forwarded-For is $remote_addr, never a value the client sent", xff and set(xff) == {"$remote_addr"}, f"{set(xff)}")
    for code in (413, 429, 502, 503, 504):
        check(f"error_page for {code} (JSON)", re.search(rf"^error_page\s+[\d\s]*\b{code}\b[\d\s]*\s=?\s*@\w+;", joined, re.M))
    check("limit_req/limit_conn answer 429", re.search(r"^limit_req_status\s+429;", joined, re.M) and re.search(r"^limit_conn_status\s+429;", joined, re.M))
    ws = re.search(r"location\s+=\s+/ws\s*\{(.*?)\n\s*\}", text, re.S)
    check("/ws errors kept out of the error log (its request line holds the ticket)",
          ws and re.search(r"^\s*error_log\s+\S+\s+crit;", ws.group(1), re.M))
    if kind == "prod":
        check("HTTP/2 on the HTTPS server", re.search(r"^http2\s+on;", joined, re.M))
        servers = re.findall(r"^server\s+\$\{CHAT_GATEWAY_\d\}[^;]*;", joined, re.M)
        check("the gateways' names are re-resolved (server ... resolve, upstream zone, resolver valid=)",
              servers and all(re.search(r"\bresolve\b", s) for s in servers)
              and re.search(r"^zone\s+\w+\s+\d+k;", joined, re.M)
              and re.search(r"^resolver\s+\S+\s+valid=\d+s", joined, re.M), f"{servers}")


def conn(base):
    u = urllib.parse.urlsplit(base)
    if u.scheme == "https":
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        return http.client.HTTPSConnection(u.hostname, u.port, context=ctx, timeout=10)
    return http.client.HTTPConnection(u.hostname, u.port, timeout=10)


def request(base, method, path, body=None, headers=None):
    c = conn(base)
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        return r.status, dict((k.lower(), v) for k, v in r.getheaders()), r.read()
    finally:
        c.close()


def json_error(status, headers, body, want_status, name):
    ok = status == want_status and headers.get("content-type", "").startswith("application/json")
    detail = f"status {status}, content-type {headers.get('content-type')}, body {body[:80]!r}"
    if ok:
        try:
            err = json.loads(body)["error"]
            ok = isinstance(err.get("code"), str) and isinstance(err.get("message"), str)
        except (ValueError, KeyError, TypeError, AttributeError):
            ok = False
    check(name, ok, detail)


def static_files(base):
    """The web client's files: compressed and cached as in production."""
    gz = {"Accept-Encoding": "gzip"}
    s, h, b = request(base, "GET", "/assets/app-0123abcd.js", headers=gz)
    served = gzip.decompress(b) if h.get("content-encoding") == "gzip" else b
    check("a bundle is served from its precompressed copy (gzip_static)",
          s == 200 and served == b"precompressed copy\n", f"status {s}, content-encoding {h.get('content-encoding')}")
    check("a bundle is cached for a year, immutable",
          h.get("cache-control") == "public, max-age=31536000, immutable", f"cache-control {h.get('cache-control')}")
    check("a bundle varies by Accept-Encoding and keeps the CSP",
          "accept-encoding" in h.get("vary", "").lower() and "content-security-policy" in h,
          f"vary {h.get('vary')}, headers {sorted(h)}")
    s, h, b = request(base, "GET", "/assets/style-0123abcd.css", headers=gz)
    check("a file without a precompressed copy is compressed on the fly",
          s == 200 and h.get("content-encoding") == "gzip" and gzip.decompress(b).startswith(b"a { color: red; }"),
          f"status {s}, content-encoding {h.get('content-encoding')}")
    s, h, b = request(base, "GET", "/assets/app-0123abcd.js")
    check("without Accept-Encoding: gzip, the bundle is plain",
          s == 200 and "content-encoding" not in h and b.startswith(b"console.log(1);"), f"status {s}, {sorted(h)}")
    for path in ("/", "/index.html", "/r/0190a1b2-0000-7000-8000-0000000000aa"):
        s, h, b = request(base, "GET", path)
        check(f"{path}: the entry page, revalidated on every load (no-cache) with the CSP",
              s == 200 and b.startswith(b"<!doctype html>") and h.get("cache-control") == "no-cache"
              and "content-security-policy" in h, f"status {s}, cache-control {h.get('cache-control')}")
    s, h, b = request(base, "GET", "/", headers=gz)
    check("the entry page is never compressed (BREACH scanners look at '/')", "content-encoding" not in h,
          f"content-encoding {h.get('content-encoding')}")
    s, h, b = request(base, "GET", "/assets/missing-0123abcd.js")
    check("a missing bundle is a 404, not the entry page", s == 404, f"status {s}")
    s, h, b = request(base, "GET", "/api/rooms", headers=gz)
    check("API answers are never compressed nor cached by these rules",
          "content-encoding" not in h and "cache-control" not in h, f"headers {sorted(h)}")


def run(kind, base, logs):
    origin = base
    if kind == "dev":
        static_files(base)
    s, h, b = request(base, "GET", "/api/rooms", headers={"Authorization": "Bearer " + SECRETS["token"]})
    json_error(s, h, b, 502, "502 from nginx (gateways down) is JSON")
    s, h, b = request(base, "GET", "/ws?ticket=" + SECRETS["ticket"], headers={
        "Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Protocol": "chat.v1", "Origin": origin})
    json_error(s, h, b, 502, "502 on /ws is JSON")
    big = json.dumps({"body": "x" * (70 * 1024)}).encode()
    s, h, b = request(base, "POST", "/api/rooms/1/messages", body=big, headers={"Content-Type": "application/json"})
    json_error(s, h, b, 413, "413 for a body over 64 KiB is JSON")
    login = json.dumps({"username": "probe", "password": SECRETS["password"]}).encode()
    got = None
    c = conn(base)
    for i in range(1, 801):
        try:
            c.request("POST", "/api/auth/login", body=login, headers={"Content-Type": "application/json"})
            r = c.getresponse()
            s, h, b = r.status, dict((k.lower(), v) for k, v in r.getheaders()), r.read()
        except (http.client.HTTPException, OSError):
            c.close()
            c = conn(base)
            continue
        if r.will_close:
            c.close()
            c = conn(base)
        if s == 429:
            got = (s, h, b, i)
            break
    c.close()
    check("limit_req on /api/auth/: a flood from one address gets 429", got is not None, "no 429 in 800 requests")
    if got:
        s, h, b, i = got
        print(f"     (429 after {i} requests)")
        json_error(s, h, b, 429, "429 from nginx is JSON")
        check("429 from nginx carries Retry-After", "retry-after" in h, f"headers {sorted(h)}")
    time.sleep(0.3)  # the access log is written after the answer
    text = ""
    for f in logs:
        try:
            text += open(f, errors="replace").read()
        except FileNotFoundError:
            pass
    check("the logs were read", len(text) > 0, f"{logs}")
    if kind == "dev":
        # Here the limits fit the machine (production's are the container's).
        alerts = [l for l in text.splitlines() if "[alert]" in l or "[emerg]" in l]
        check("no alert in the error log (descriptor limit raised)", not alerts, alerts[0][:200] if alerts else "")
    for what, secret in SECRETS.items():
        lines = [l for l in text.splitlines() if secret in l]
        check(f"no {what} in any log line", not lines, lines[0][:200] if lines else "")


def main():
    mode, kind = sys.argv[1], sys.argv[2]
    if mode == "static":
        static(kind, sys.argv[3:])
    else:
        run(kind, sys.argv[3], sys.argv[4:])
    passed = sum(results)
    print(f"nginx {kind} {mode}: {passed} passed, {len(results) - passed} failed")
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
