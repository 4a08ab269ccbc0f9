"""The GraphiQL page, served on GET with Accept: text/html."""

from __future__ import annotations

import html

_PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>{title}</title>
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <style>body {{ margin: 0; height: 100vh; }} #graphiql {{ height: 100vh; }}</style>
  <link rel="stylesheet" href="https://unpkg.com/graphiql@3/graphiql.min.css">
</head>
<body>
  <div id="graphiql">Loading GraphiQL…</div>
  <script crossorigin src="https://unpkg.com/react@18/umd/react.production.min.js"></script>
  <script crossorigin src="https://unpkg.com/react-dom@18/umd/react-dom.production.min.js"></script>
  <script crossorigin src="https://unpkg.com/graphiql@3/graphiql.min.js"></script>
  <script>
    const url = new URL(window.location.href);
    const wsUrl = url.href.replace(/^http/, "ws");
    const fetcher = GraphiQL.createFetcher({{ url: url.pathname, subscriptionUrl: wsUrl }});
    ReactDOM.createRoot(document.getElementById("graphiql")).render(
      React.createElement(GraphiQL, {{ fetcher: fetcher }})
    );
  </script>
</body>
</html>
"""


def graphiql_page(title: str = "GraphiQL") -> str:
    return _PAGE.format(title=html.escape(title))
