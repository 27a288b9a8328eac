"""Assertions of .ci/check-contract over what the third-party tools produce.

The tools (Redocly CLI, openapi-spec-validator, schemathesis, newman, Chromium) do the real work;
this file only reads their inputs and outputs (the OpenAPI document, the Postman collection, the
schemathesis HAR, the newman JSON report, Chromium's DOM dump and NetLog) and checks what they
cannot: that both schemathesis runs really were anonymous and authenticated, that the collection
covers every operation, that /docs lists every operation and fetches nothing from another origin.

Standard library only. Usage: python3 contract_checks.py COMMAND ARGS... (see main()).
Exit status 0 when the check holds, 1 with the reasons on stderr when it does not.
"""

import json
import re
import sys
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

# The operations the server had when this check was written (issue 5). The document must list at
# least these; new endpoints are covered automatically because every other check iterates over the
# document itself.
KNOWN_OPERATIONS = [
    ("GET", "/health"),
    ("GET", "/ready"),
    ("GET", "/metrics"),
    ("POST", "/api/v1/auth/register"),
    ("POST", "/api/v1/auth/login"),
    ("GET", "/api/v1/users/me"),
    ("POST", "/api/v1/api-keys"),
    ("GET", "/api/v1/api-keys"),
    ("DELETE", "/api/v1/api-keys/{id}"),
]


class Problems:
    def __init__(self):
        self.items = []

    def add(self, msg):
        self.items.append(msg)

    def finish(self, ok_msg):
        if self.items:
            for m in self.items:
                print("  - " + m, file=sys.stderr)
            return 1
        print("  " + ok_msg)
        return 0


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


# ---------------------------------------------------------------- the OpenAPI document


def resolve(doc, node, depth=0):
    """Follows local $refs (#/...) until a node without $ref; None when unresolvable."""
    while isinstance(node, dict) and "$ref" in node and depth < 50:
        ref = node["$ref"]
        if not isinstance(ref, str) or not ref.startswith("#/"):
            return None
        cur = doc
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            if not isinstance(cur, dict) or part not in cur:
                return None
            cur = cur[part]
        node = cur
        depth += 1
    return node


def operations(doc):
    """Yields (METHOD, path, operation, path_item) for every operation of the document."""
    for path, item in (doc.get("paths") or {}).items():
        item = resolve(doc, item) or {}
        for method in METHODS:
            if isinstance(item.get(method), dict):
                yield method.upper(), path, item[method], item


def is_secured(doc, op):
    """True when the operation needs credentials (a security requirement without an empty alternative)."""
    sec = op.get("security", doc.get("security", []))
    if not sec:
        return False
    return not any(req == {} for req in sec)


def path_regex(template, prefix_ok=False):
    """Regex matching the concrete paths of a path template; with prefix_ok, also under a prefix."""
    parts = re.split(r"(\{[^}/]+\})", template)
    rx = "".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts)
    return re.compile(("^(?:/.*)?" if prefix_ok else "^") + rx + "/?$")


def schema_properties(doc, schema, depth=0):
    """Property map of an object schema, merging allOf/anyOf/oneOf branches (after $refs)."""
    schema = resolve(doc, schema)
    if not isinstance(schema, dict) or depth > 10:
        return {}, set()
    props = dict(schema.get("properties") or {})
    required = set(schema.get("required") or [])
    for key in ("allOf", "anyOf", "oneOf"):
        for sub in schema.get(key) or []:
            p, r = schema_properties(doc, sub, depth + 1)
            props.update(p)
            if key == "allOf":
                required |= r
    return props, required


def check_document(doc_path):
    doc = load(doc_path)
    p = Problems()
    version = str(doc.get("openapi", ""))
    if not version.startswith("3.1"):
        p.add(f"openapi is {version!r}, expected 3.1.x")
    schemes = (doc.get("components") or {}).get("securitySchemes") or {}
    bearer = resolve(doc, schemes.get("bearerAuth")) or {}
    if bearer.get("type") != "http" or str(bearer.get("scheme", "")).lower() != "bearer":
        p.add("components.securitySchemes.bearerAuth must be {type: http, scheme: bearer}")
    if "apiKeyAuth" not in schemes:
        p.add("components.securitySchemes.apiKeyAuth is missing")

    ops = list(operations(doc))
    present = {(m, path) for m, path, _, _ in ops}
    for m, path in KNOWN_OPERATIONS:
        if (m, path) not in present:
            p.add(f"operation {m} {path} is not in the document")

    op_ids = {}
    for m, path, op, _ in ops:
        label = f"{m} {path}"
        if op.get("operationId"):
            op_ids.setdefault(op["operationId"], []).append(label)
        if not op.get("tags"):
            p.add(f"{label}: no tag (the Postman collection groups requests by tag)")
        responses = op.get("responses") or {}
        if not any(str(code).startswith("2") for code in responses):
            p.add(f"{label}: no 2xx response documented")
        if is_secured(doc, op) and "401" not in responses:
            p.add(f"{label}: requires credentials but documents no 401")
        for code, response in responses.items():
            if not (str(code)[:1] in ("4", "5") or code == "default"):
                continue
            response = resolve(doc, response) or {}
            content = response.get("content") or {}
            media = content.get("application/json") or next(
                (v for k, v in content.items() if k.endswith("json")), None)
            if media is None:
                p.add(f"{label} {code}: no JSON body documented (the error envelope)")
                continue
            props, required = schema_properties(doc, media.get("schema"))
            if "success" not in props or "error" not in props:
                p.add(f"{label} {code}: body schema is not the envelope {{success, error}}")
                continue
            eprops, erequired = schema_properties(doc, props["error"])
            missing = {"code", "message"} - set(eprops)
            if missing:
                p.add(f"{label} {code}: error object lacks {sorted(missing)}")
            elif not {"code", "message"} <= erequired:
                p.add(f"{label} {code}: error.code and error.message must be required")
            if not {"success", "error"} <= required:
                p.add(f"{label} {code}: success and error must be required in the envelope")
    for op_id, labels in op_ids.items():
        if len(labels) > 1:
            p.add(f"operationId {op_id!r} used by {labels}")
    return p.finish(f"{len(ops)} operations; security schemes and error envelopes as expected")


# ---------------------------------------------------------------- schemathesis runs (HAR)


def check_har(doc_path, har_path, mode, base):
    """mode 'anonymous': no operation needing credentials ever answered 2xx.
    mode 'authenticated': every such operation accepted the credentials at least once (an answer
    other than 401: a 403 means the credentials were recognised and the role is not allowed, as
    for administrators' endpoints), and the GETs without path parameters answered 2xx at least
    once. Writes whose bodies name existing resources (a wallet to pay from) cannot succeed on
    generated data, so they only need to accept the credentials."""
    doc = load(doc_path)
    har = load(har_path)
    base_path = urlsplit(base).path.rstrip("/")
    entries = []
    for e in har.get("log", {}).get("entries", []):
        req, resp = e.get("request", {}), e.get("response", {})
        path = urlsplit(req.get("url", "")).path
        if base_path and path.startswith(base_path):
            path = path[len(base_path):]
        entries.append((req.get("method", "").upper(), path, int(resp.get("status") or 0)))
    p = Problems()
    if not entries:
        p.add("schemathesis recorded no request")
        return p.finish("")
    # Templates with literal segments first, so /api-keys/{id} does not swallow a literal sibling.
    ops = sorted(operations(doc), key=lambda o: o[1].count("{"))
    seen = {}
    for method, path, status in entries:
        for m, template, op, _ in ops:
            if m == method and path_regex(template).match(path):
                seen.setdefault((m, template), []).append(status)
                break
    checked = 0
    for m, template, op, _ in ops:
        if not is_secured(doc, op):
            continue
        checked += 1
        statuses = seen.get((m, template), [])
        label = f"{m} {template}"
        if not statuses:
            p.add(f"{label}: schemathesis sent it no request")
            continue
        if mode == "anonymous":
            ok = [s for s in statuses if 200 <= s < 300]
            if ok:
                p.add(f"{label}: answered {ok[0]} to an anonymous request ({len(ok)} times)")
        else:
            accepted = [s for s in statuses if s != 401]
            if not accepted:
                p.add(f"{label}: rejected the credentials every time ({len(statuses)} requests)")
            elif m == "GET" and "{" not in template and 403 not in statuses \
                    and not any(200 <= s < 300 for s in statuses):
                p.add(f"{label}: never answered 2xx with valid credentials "
                      f"(statuses seen: {sorted(set(statuses))})")
    what = "no 2xx without credentials" if mode == "anonymous" else "credentials accepted"
    return p.finish(f"{len(entries)} requests; {checked} operations needing credentials: {what}")


# ---------------------------------------------------------------- Postman collection and newman


def iter_items(items, folder=None):
    for it in items or []:
        if "item" in it:
            yield from iter_items(it["item"], folder or it.get("name"))
        elif "request" in it:
            yield folder, it


def scripts(node, listen):
    out = []
    for ev in node.get("event") or []:
        if ev.get("listen") == listen:
            ex = (ev.get("script") or {}).get("exec") or []
            out.append("\n".join(ex) if isinstance(ex, list) else str(ex))
    return "\n".join(out)


def request_url(req):
    url = req.get("url")
    if isinstance(url, dict):
        raw = url.get("raw")
        if raw:
            return raw
        return "/".join(url.get("host") or []) + "/" + "/".join(url.get("path") or [])
    return url or ""


def norm_collection_path(raw):
    raw = re.sub(r"^\{\{[^}]+\}\}", "", raw.strip())  # {{baseUrl}}
    raw = re.sub(r"^[a-z]+://[^/]+", "", raw)
    raw = raw.split("?")[0].split("#")[0]
    segs = [s for s in raw.split("/") if s]
    segs = ["*" if re.fullmatch(r"\{\{[^}]+\}\}|:\w+|\{[^}]+\}", s) else s for s in segs]
    return "/" + "/".join(segs)


def collection_base_url(coll_path, base):
    """The baseUrl to hand newman: the server's base URL, plus the path suffix (for example
    /api/v1) that the collection's own baseUrl default carries, if any."""
    coll = load(coll_path)
    for v in coll.get("variable") or []:
        if v.get("key") == "baseUrl":
            suffix = urlsplit(str(v.get("value") or "")).path.rstrip("/")
            if suffix and not suffix.startswith("{{"):
                return base.rstrip("/") + suffix
    return base.rstrip("/")


def check_collection(doc_path, coll_path):
    doc = load(doc_path)
    coll = load(coll_path)
    p = Problems()
    schema = (coll.get("info") or {}).get("schema", "")
    if "v2.1" not in schema:
        p.add(f"info.schema is {schema!r}, expected the Postman v2.1.0 collection schema")
    variables = {v.get("key") for v in coll.get("variable") or []}
    for key in ("baseUrl", "token"):
        if key not in variables:
            p.add(f"collection variable {key!r} missing (has {sorted(k for k in variables if k)})")

    folders = {str(it.get("name", "")).lower() for it in coll.get("item") or [] if "item" in it}
    tags = set()
    for _, _, op, _ in operations(doc):
        tags.update(str(t).lower() for t in op.get("tags") or [])
    for t in sorted(tags - folders):
        p.add(f"no folder for tag {t!r} (folders: {sorted(folders)})")

    items = list(iter_items(coll.get("item")))
    by_op = {}
    for folder, it in items:
        req = it["request"]
        method = str(req.get("method", "GET")).upper()
        raw = request_url(req)
        if not raw.lstrip().startswith("{{"):
            p.add(f"request {it.get('name')!r}: URL {raw!r} does not start with a variable like {{{{baseUrl}}}}")
        by_op.setdefault(method, []).append((norm_collection_path(raw), it))

    all_tests = scripts(coll, "test") + "\n".join(scripts(it, "test") for _, it in items)
    for m, template, op, _ in operations(doc):
        label = f"{m} {template}"
        # A path parameter may be a variable ({{apiKeyId}}) or an example value (swagger-ui.css).
        rx = path_regex(template)
        found = [it for path, it in by_op.get(m, []) if rx.match(path)]
        if not found:
            p.add(f"{label}: no request in the collection")
            continue
        it = found[0]
        body = op.get("requestBody")
        if body and not ((it["request"].get("body") or {}).get("raw") or "").strip():
            p.add(f"{label}: request has no example body")
        if template.endswith("/auth/register"):
            raw = (it["request"].get("body") or {}).get("raw") or ""
            unique = "{{" in raw or scripts(it, "prerequest") or scripts(coll, "prerequest")
            if not unique:
                p.add(f"{label}: the example email is fixed; use {{{{$randomEmail}}}} or a pre-request script")
        if template.endswith(("/auth/register", "/auth/login")):
            if not re.search(r"""collectionVariables\.set\(\s*["']token["']""", scripts(it, "test")):
                p.add(f"{label}: no test script stores the token (pm.collectionVariables.set(\"token\", ...))")
    if not re.search(r"""collectionVariables\.set\(\s*["']apiKeyId["']""", all_tests):
        p.add("no test script stores apiKeyId (pm.collectionVariables.set(\"apiKeyId\", ...))")
    return p.finish(f"{len(items)} requests in {len(folders)} folders cover every operation")


def check_newman(doc_path, report_path, iterations):
    doc = load(doc_path)
    rep = load(report_path)
    run = rep.get("run") or {}
    p = Problems()
    for f in run.get("failures") or []:
        err = f.get("error") or {}
        src = (f.get("source") or {}).get("name", "?")
        p.add(f"newman failure in {src!r}: {err.get('name', '')}: {err.get('message', '')}")
    executed = []
    for ex in run.get("executions") or []:
        name = (ex.get("item") or {}).get("name", "?")
        req = ex.get("request") or {}
        resp = ex.get("response")
        url = req.get("url") or {}
        path = "/" + "/".join(url.get("path") or []) if isinstance(url, dict) else urlsplit(str(url)).path
        method = str(req.get("method", "")).upper()
        if not resp:
            p.add(f"{name!r} ({method} {path}): no response")
            continue
        code = int(resp.get("code") or 0)
        executed.append((method, path, code))
        if code >= 400:
            p.add(f"{name!r} ({method} {path}): answered {code}")
    for m, template, _, _ in operations(doc):
        rx = path_regex(template, prefix_ok=True)
        hits = [c for (mm, path, c) in executed if mm == m and rx.match(path)]
        if len(hits) < iterations:
            p.add(f"{m} {template}: run {len(hits)} times, expected {iterations} (one per iteration)")
    return p.finish(f"{len(executed)} requests over {iterations} iterations, all answered below 400")


# ---------------------------------------------------------------- Swagger UI at /docs


class _Refs(HTMLParser):
    ATTRS = {"src", "href", "action", "formaction", "poster", "data", "srcset", "manifest"}

    def __init__(self):
        super().__init__()
        self.refs = []
        self.inline = []
        self._in = None

    def handle_starttag(self, tag, attrs):
        for k, v in attrs:
            if v is None:
                continue
            if k == "href" and tag in ("a", "area"):
                continue  # a link the reader may follow, not something the page loads
            if k in self.ATTRS:
                if k == "srcset":
                    self.refs += [c.strip().split(" ")[0] for c in v.split(",") if c.strip()]
                else:
                    self.refs.append(v)
            elif k == "style":
                self.refs += re.findall(r"url\(\s*['\"]?([^'\")]+)", v)
            elif k == "content" and re.match(r"\s*\d+\s*;\s*url=", v, re.I):
                self.refs.append(re.sub(r"^\s*\d+\s*;\s*url=", "", v, flags=re.I))
        self._in = tag if tag in ("style", "script") else None

    def handle_endtag(self, tag):
        self._in = None

    def handle_data(self, data):
        if self._in == "style":
            self.refs += re.findall(r"url\(\s*['\"]?([^'\")]+)", data)
            self.refs += re.findall(r"@import\s+['\"]([^'\"]+)", data)
        if self._in:
            self.inline.append(data)


def check_docs_html(page, html_path):
    """page: the URL the HTML was served from (after redirects)."""
    origin = urlsplit(page)
    with open(html_path, encoding="utf-8", errors="replace") as f:
        html = f.read()
    parser = _Refs()
    parser.feed(html)
    p = Problems()
    if "<script" not in html.lower():
        p.add("the page has no script; is it Swagger UI?")
    for ref in parser.refs:
        ref = ref.strip()
        if ref.startswith(("data:", "blob:", "#", "javascript:", "about:")) or not ref:
            continue
        u = urlsplit(urljoin(page, ref))
        if (u.scheme, u.netloc) != (origin.scheme, origin.netloc):
            p.add(f"references {ref!r}, which is not on this server")
    # Absolute URLs in inline scripts and styles are requests the page may make too.
    for url in re.findall(r"""["'`(]((?:https?:)?//[^"'`)\s]+)""", "\n".join(parser.inline)):
        if url.startswith("http://www.w3.org/"):
            continue  # XML namespace names, never fetched
        u = urlsplit(urljoin(page, url))
        if (u.scheme, u.netloc) != (origin.scheme, origin.netloc):
            p.add(f"an inline script or attribute names {url!r}, which is not on this server")
    return p.finish(f"{len(parser.refs)} asset references, all relative or same-origin")


def check_docs_dom(doc_path, dom_path):
    doc = load(doc_path)
    with open(dom_path, encoding="utf-8", errors="replace") as f:
        dom = f.read()
    p = Problems()
    blocks = re.findall(r'class="opblock opblock-([a-z]+)', dom)
    if not blocks:
        p.add("no opblock element: Swagger UI rendered no operation")
    if "Failed to load API definition" in dom or 'class="errors-wrapper"' in dom:
        p.add("Swagger UI shows an error (failed to load or resolve the API definition)")
    paths = set(re.findall(r'data-path="([^"]*)"', dom))
    paths = {x.replace("&amp;", "&") for x in paths}
    want = {}
    for m, template, _, _ in operations(doc):
        want[m.lower()] = want.get(m.lower(), 0) + 1
        if template not in paths:
            p.add(f"{m} {template} is not listed on the page")
    for m, n in want.items():
        got = blocks.count(m)
        if got < n:
            p.add(f"{n} {m.upper()} operations documented, {got} shown")
    if "/api/v1/auth/login" not in paths:
        p.add("/api/v1/auth/login is not listed on the page")
    return p.finish(f"{len(blocks)} operations listed")


def check_docs_netlog(base, netlog_path):
    """Every request that the page itself made (not the browser's own housekeeping) went to the
    page's origin. The page's requests are the navigation and those whose initiator or network
    isolation key is the page's site."""
    page = base.rstrip("/") + "/docs"
    origin = urlsplit(page)
    site = f"{origin.scheme}://{origin.hostname}"
    with open(netlog_path, encoding="utf-8") as f:
        text = f.read()
    try:
        log = json.loads(text)
    except json.JSONDecodeError:
        # Chromium killed before it closed the file: finish the events array by hand.
        log = json.loads(text.rstrip().rstrip(",") + "]}")
    types = {v: k for k, v in log["constants"]["logEventTypes"].items()}
    p = Problems()
    page_requests = []
    for e in log.get("events", []):
        if types.get(e.get("type")) != "URL_REQUEST_START_JOB":
            continue
        prm = e.get("params") or {}
        url = prm.get("url")
        if not url:
            continue
        initiator = str(prm.get("initiator", ""))
        nik = str(prm.get("network_isolation_key", ""))
        from_page = (
            url.split("#")[0] == page
            or initiator.startswith(site)
            or nik.split(" ")[0] == site
        )
        if from_page:
            page_requests.append(url)
    if not any(u.split("#")[0] == page for u in page_requests):
        p.add(f"the NetLog shows no request for {page}")
    for url in page_requests:
        u = urlsplit(url)
        if u.scheme in ("data", "blob"):
            continue
        if (u.scheme, u.netloc) != (origin.scheme, origin.netloc):
            p.add(f"the page requested {url}")
    distinct = sorted({urlsplit(u).path for u in page_requests})
    return p.finish(f"{len(page_requests)} requests, all to {origin.scheme}://{origin.netloc}: {', '.join(distinct)}")


def main(argv):
    cmds = {
        "document": (check_document, 1),
        "har": (check_har, 4),
        "collection": (check_collection, 2),
        "collection-base-url": (None, 2),
        "newman": (check_newman, 3),
        "docs-html": (check_docs_html, 2),
        "docs-dom": (check_docs_dom, 2),
        "docs-netlog": (check_docs_netlog, 2),
    }
    if len(argv) < 2 or argv[1] not in cmds or len(argv) - 2 != cmds[argv[1]][1]:
        print("usage: contract_checks.py " + " | ".join(cmds), file=sys.stderr)
        return 2
    cmd, args = argv[1], argv[2:]
    try:
        if cmd == "collection-base-url":
            print(collection_base_url(*args))
            return 0
        if cmd == "newman":
            return check_newman(args[0], args[1], int(args[2]))
        return cmds[cmd][0](*args)
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
        print(f"  - cannot check: {type(e).__name__}: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
