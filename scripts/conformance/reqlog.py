"""Logs every HTTP answer >= 400 (and every connection error) that python-gitlab gets.

Part of the conformance harness (scripts/conformance/run.py), not of python-gitlab's tests.
It patches `requests.Session.send` and appends one JSON line per failing request to the file
named by GANTRY_CONFORMANCE_REQLOG, tagged with GANTRY_CONFORMANCE_TEST (the pytest node id
and phase the replacement conftest sets around each test). The driver then reads, for each
failed test, the request that failed last in the failing phase: the one that broke it.

The driver copies this file to <work>/_gantry_site/sitecustomize.py and puts that folder on
PYTHONPATH, so the `gitlab` CLI processes the CLI tests start log their requests too; the
replacement conftest imports it for the pytest process itself.
"""

import json
import os

_INSTALLED = False


def _snippet(data, limit):
    if data is None:
        return None
    if isinstance(data, bytes):
        data = data[:limit].decode("utf-8", "replace")
    elif not isinstance(data, str):
        return f"<{type(data).__name__}>"
    return data[:limit]


def _write(entry):
    path = os.environ.get("GANTRY_CONFORMANCE_REQLOG")
    if not path:
        return
    entry["test"] = os.environ.get("GANTRY_CONFORMANCE_TEST", "")
    entry["pid"] = os.getpid()
    try:
        with open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps(entry) + "\n")
    except OSError:
        pass


def install():
    global _INSTALLED
    if _INSTALLED or not os.environ.get("GANTRY_CONFORMANCE_REQLOG"):
        return
    try:
        import requests
    except ImportError:
        return
    original = requests.Session.send

    def send(self, request, **kwargs):
        try:
            response = original(self, request, **kwargs)
        except Exception as e:  # noqa: BLE001 - logged and re-raised unchanged
            _write(
                {
                    "method": request.method,
                    "url": request.url,
                    "status": None,
                    "error": f"{type(e).__name__}: {e}"[:300],
                    "request_body": _snippet(request.body, 300),
                }
            )
            raise
        if response.status_code >= 400:
            body = None
            if not kwargs.get("stream"):
                try:
                    body = response.content[:400].decode("utf-8", "replace")
                except Exception:  # noqa: BLE001
                    body = None
            _write(
                {
                    "method": request.method,
                    "url": request.url,
                    "status": response.status_code,
                    "content_type": response.headers.get("content-type", ""),
                    "body": body,
                    "request_body": _snippet(request.body, 300),
                }
            )
        return response

    requests.Session.send = send
    _INSTALLED = True


install()
