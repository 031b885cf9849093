"""An nginx configuration for a workshop server: nginx serves Streamlit's frontend files, Streamlit the rest.

A fresh visitor's page fetches about a hundred of Streamlit's frontend files (3 MB); served by Streamlit, they
cost its process about 0.3 s of CPU per page open, four fifths of it, in the same process and GIL that run every
visitor's predictions (docs/benchmarks.md, *A proxy for the frontend files*). nginx sends them from disk
instead and lets browsers keep them (their names carry a content hash). Everything else, the page's WebSocket
and the uploads included, goes to Streamlit.

The client's address is written into ``X-Forwarded-For`` by nginx, replacing whatever the client sent: uvicorn
trusts that header from 127.0.0.1, so the maintainer password's throttle keys each visitor by their own address
and a forged header changes nothing (docs/security.md).
"""

from __future__ import annotations

import importlib.util
import tomllib
from pathlib import Path

from core.paths import PROJECT_ROOT

STREAMLIT_DEFAULT_UPLOAD_MB = 200

TEMPLATE = """\
# Written by `python -m core nginx-config` (core/server/proxy.py). Run: nginx -c <this file> -p {runtime}
worker_processes 1;
pid {runtime}/nginx.pid;
error_log {runtime}/error.log warn;
{daemon}
events {{
    worker_connections 1024;
}}

http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log off;
    sendfile on;
    tcp_nopush on;
    server_tokens off;
    client_body_temp_path {runtime}/body;
    proxy_temp_path {runtime}/proxy;
    fastcgi_temp_path {runtime}/fastcgi;
    uwsgi_temp_path {runtime}/uwsgi;
    scgi_temp_path {runtime}/scgi;

    map $http_upgrade $connection_upgrade {{
        default upgrade;
        '' close;
    }}

    server {{
        listen {listen};
        # Streamlit refuses a larger photo with its own message; nginx lets it through to say so
        client_max_body_size {body_mb}m;

        # Streamlit's frontend (hashed file names: a browser may keep them)
        location /static/ {{
            alias {static}/;
            add_header Cache-Control "public, immutable, max-age=31536000";
        }}

        location / {{
            proxy_pass http://{upstream};
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_set_header Host $host;
            # the address nginx sees, never one the client sent
            proxy_set_header X-Forwarded-For $remote_addr;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_read_timeout 1d;
            proxy_buffering off;
        }}
    }}
}}
"""


def configured_upload_mb(config: Path = PROJECT_ROOT / ".streamlit" / "config.toml") -> int:
    """``[server] maxUploadSize`` from the app's Streamlit config (Streamlit's default where it is not set)."""
    try:
        return int(tomllib.loads(config.read_text())["server"]["maxUploadSize"])
    except (OSError, KeyError, ValueError, tomllib.TOMLDecodeError):
        return STREAMLIT_DEFAULT_UPLOAD_MB


def streamlit_static_dir() -> Path:
    """The folder of the installed Streamlit's frontend files (what its server sends under ``/static/``)."""
    spec = importlib.util.find_spec("streamlit")
    if spec is None or spec.origin is None:
        raise FileNotFoundError("Streamlit is not installed in this environment (pip install -r requirements.txt)")
    folder = Path(spec.origin).parent / "static" / "static"
    if not (folder / "js").is_dir():
        raise FileNotFoundError(f"no Streamlit frontend files in {folder}: is this Streamlit installation complete?")
    return folder


def nginx_config(listen: str, upstream: str, runtime: str | Path, *, static: str | Path | None = None,
                 max_upload_mb: int = 10, foreground: bool = False) -> str:
    """An nginx.conf: ``listen`` (e.g. "0.0.0.0:80") in front of Streamlit at ``upstream`` ("127.0.0.1:8501").

    ``runtime`` is a folder nginx may write to (pid, error log, temporary files); ``static`` defaults to the
    installed Streamlit's frontend files; ``max_upload_mb`` is Streamlit's ``server.maxUploadSize``;
    ``foreground`` keeps nginx in the foreground (a service manager or a test holds it).
    """
    for name, value in (("listen", listen), ("upstream", upstream)):
        if not value or any(c in value for c in " ;{}\n"):
            raise ValueError(f"{name}={value!r}: expected an address such as 127.0.0.1:8501")
    if max_upload_mb < 1:
        raise ValueError(f"max_upload_mb must be at least 1, got {max_upload_mb}")
    return TEMPLATE.format(listen=listen, upstream=upstream, runtime=Path(runtime).resolve(),
                           static=Path(static or streamlit_static_dir()).resolve(), body_mb=max_upload_mb + 1,
                           daemon="daemon off;" if foreground else "")
