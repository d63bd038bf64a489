"""The GraphiQL page, served entirely from local (vendored) assets.

:func:`graphiql_html` renders the page; :func:`static_file` serves the vendored
files it loads. Nothing on the page points at another host: the scripts and the
stylesheet come from ``static_prefix`` and GraphiQL's fonts are inlined in its CSS.
The vendored files are fetched at build/install time (see ``fraiseql.http.assets``).
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from fraiseql.http.assets import VENDOR_FILES, default_vendor_dir

__all__ = ["ASSET_CONTENT_TYPES", "DEFAULT_QUERY", "graphiql_html", "static_file"]

# The only names static_file() will ever serve: a fixed allow-list, so no request
# path can reach any other file.
ASSET_CONTENT_TYPES: dict[str, str] = {
    "graphiql.min.js": "text/javascript; charset=utf-8",
    "graphiql.min.css": "text/css; charset=utf-8",
    "react.production.min.js": "text/javascript; charset=utf-8",
    "react-dom.production.min.js": "text/javascript; charset=utf-8",
}

_DIGESTS = {vf.name: vf.sha256 for vf in VENDOR_FILES}

DEFAULT_QUERY = """\
# Welcome to FraiseQL.
#
# Ctrl-Space: autocomplete from the schema.
# Ctrl-Enter: run the query.
# Request headers (e.g. Authorization) go
# in the Headers tab below.

query {
  __typename
}
"""

_CACHE: dict[str, bytes] = {}


def _js_literal(value: Any) -> str:
    """JSON that is also safe inside an inline <script> element."""
    return (
        json.dumps(value, ensure_ascii=True)
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
    )


def _check_prefix(static_prefix: str) -> str:
    lowered = static_prefix.strip().lower()
    if "://" in lowered or lowered.startswith("//") or ":" in lowered.split("/", 1)[0]:
        raise ValueError(f"static_prefix must be a path on this server, got {static_prefix!r}")
    return static_prefix if static_prefix.endswith("/") else static_prefix + "/"


def _asset_url(prefix: str, name: str) -> str:
    # The digest in the query string lets the route send far-future cache headers.
    return html.escape(f"{prefix}{name}?v={_DIGESTS[name][:12]}", quote=True)


def graphiql_html(
    endpoint: str,
    static_prefix: str,
    *,
    default_query: str = DEFAULT_QUERY,
    default_headers: str = "{}",
    title: str = "FraiseQL · GraphiQL",
) -> bytes:
    """The GraphiQL page (UTF-8 bytes) querying ``endpoint``.

    ``static_prefix`` is the URL path under which :func:`static_file` is routed,
    e.g. ``"/graphql/static/"``; the page loads ``<prefix><name>?v=<digest>``.
    """
    prefix = _check_prefix(static_prefix)
    config = {
        "endpoint": endpoint,
        "defaultQuery": default_query,
        "defaultHeaders": default_headers,
    }
    page = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>{html.escape(title)}</title>
<link rel="stylesheet" href="{_asset_url(prefix, "graphiql.min.css")}">
<style>
html, body {{ height: 100%; margin: 0; overflow: hidden; }}
#graphiql {{ height: 100vh; }}
#graphiql > .fraiseql-loading {{ font: 16px sans-serif; padding: 2em; color: #555; }}
</style>
</head>
<body>
<div id="graphiql"><div class="fraiseql-loading">Loading GraphiQL&hellip;</div></div>
<script src="{_asset_url(prefix, "react.production.min.js")}"></script>
<script src="{_asset_url(prefix, "react-dom.production.min.js")}"></script>
<script src="{_asset_url(prefix, "graphiql.min.js")}"></script>
<script>
(function () {{
  var config = {_js_literal(config)};
  var root = document.getElementById("graphiql");
  if (!window.React || !window.ReactDOM || !window.GraphiQL) {{
    root.textContent = "GraphiQL assets failed to load; fetch them with " +
      "`python -m fraiseql.http.assets`.";
    return;
  }}
  var url = new URL(config.endpoint, window.location.href).toString();
  var fetcher = GraphiQL.createFetcher({{ url: url }});
  ReactDOM.createRoot(root).render(
    React.createElement(GraphiQL, {{
      fetcher: fetcher,
      defaultQuery: config.defaultQuery,
      defaultHeaders: config.defaultHeaders,
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: false,
      defaultEditorToolsVisibility: "headers"
    }})
  );
}})();
</script>
</body>
</html>
"""
    return page.encode("utf-8")


def static_file(name: str, vendor_dir: Path | None = None) -> tuple[bytes, str] | None:
    """``(content, content_type)`` for a vendored GraphiQL file, else ``None``.

    ``name`` is the last URL segment (without query string). Only the fixed
    file names in :data:`ASSET_CONTENT_TYPES` are served; anything else,
    including any name with a path separator, is refused.
    """
    content_type = ASSET_CONTENT_TYPES.get(name)
    if content_type is None:
        return None
    if vendor_dir is None:
        cached = _CACHE.get(name)
        if cached is not None:
            return cached, content_type
    folder = default_vendor_dir() if vendor_dir is None else vendor_dir
    try:
        data = (folder / name).read_bytes()
    except OSError:
        return None  # not fetched yet; don't cache the miss
    if vendor_dir is None:
        _CACHE[name] = data
    return data, content_type
