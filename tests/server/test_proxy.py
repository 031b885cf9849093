"""The nginx front (core.server.proxy, ``python -m core nginx-config``): its configuration, and the real nginx in
front of a header-echoing server and of the app in chromium."""

from __future__ import annotations

import http.server
import json
import threading
import urllib.request
from pathlib import Path

import pytest

from core.__main__ import main as core_main
from core.server.proxy import configured_upload_mb, nginx_config, streamlit_static_dir
from tests.conftest import IN_CI
from tools.browser import CHROMIUM, NGINX, ROOT, nginx_in_front


@pytest.fixture
def nginx() -> str:
    """nginx's path, or skip (a user's machine) / fail (CI, which installs it) when it is absent."""
    if Path(NGINX).is_file():
        return NGINX
    message = f"{NGINX} is missing (apt-get install nginx-light)"
    if IN_CI:
        pytest.fail(message + " (CI=true, so this is an error, not a skip)")
    pytest.skip(message)


def test_the_configuration_sends_streamlits_own_frontend_files_and_overwrites_the_forwarded_address(tmp_path):
    config = nginx_config("0.0.0.0:80", "127.0.0.1:8501", tmp_path, max_upload_mb=10)
    static = streamlit_static_dir()
    assert f"alias {static}/;" in config and any((static / "js").glob("index.*.js"))
    assert "proxy_pass http://127.0.0.1:8501;" in config and "listen 0.0.0.0:80;" in config
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in config, "never the client's own header"
    assert "client_max_body_size 11m;" in config, "Streamlit, not nginx, refuses a photo over its limit"
    assert f"pid {tmp_path.resolve()}/nginx.pid;" in config and "daemon off;" not in config


def test_addresses_that_would_break_the_configuration_are_refused(tmp_path):
    for bad in ("", "127.0.0.1:8501; include /etc/passwd", "a b"):
        with pytest.raises(ValueError, match="expected an address"):
            nginx_config("0.0.0.0:80", bad, tmp_path)
    with pytest.raises(ValueError, match="at least 1"):
        nginx_config("0.0.0.0:80", "127.0.0.1:8501", tmp_path, max_upload_mb=0)


def test_the_command_prints_a_configuration_with_the_apps_upload_limit(capsys, tmp_path):
    assert core_main(["nginx-config", "--listen", "127.0.0.1:8080", "--runtime", str(tmp_path), "--foreground"]) == 0
    printed = capsys.readouterr().out
    assert f"client_max_body_size {configured_upload_mb() + 1}m;" in printed and "daemon off;" in printed
    assert configured_upload_mb() == 10, "the app's .streamlit/config.toml sets maxUploadSize = 10"
    assert core_main(["nginx-config", "--upstream", "x;y"]) == 2
    assert "expected an address" in capsys.readouterr().err


class _Echo(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's name)
        body = json.dumps({"forwarded": self.headers.get_all("X-Forwarded-For"), "path": self.path}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def echo_server():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_nginx_sends_the_frontend_files_itself_and_a_forged_address_never_reaches_the_server(nginx, echo_server):
    with nginx_in_front(echo_server, health_path="/") as (url, _):
        forged = urllib.request.Request(f"{url}/_stcore/stream", headers={"X-Forwarded-For": "6.6.6.6"})
        with urllib.request.urlopen(forged) as answer:
            seen = json.loads(answer.read())
        assert seen == {"forwarded": ["127.0.0.1"], "path": "/_stcore/stream"}
        script = next((streamlit_static_dir() / "js").glob("index.*.js"))
        with urllib.request.urlopen(f"{url}/static/js/{script.name}") as answer:
            assert answer.headers["Server"] == "nginx" and "immutable" in answer.headers["Cache-Control"]
            assert answer.read() == script.read_bytes()
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"{url}/static/../../../../etc/passwd")
        assert refused.value.code in (400, 404)


@pytest.mark.skipif(not Path(CHROMIUM).is_file(), reason=f"{CHROMIUM} is missing (apt-get install chromium)")
def test_a_visitor_through_nginx_uploads_a_close_up_and_gets_its_verdict(nginx, face_mask_410, tmp_path):
    from playwright.sync_api import sync_playwright

    from tools.browser import launch_chromium, open_page, streamlit_server, upload_and_read_faces

    (ROOT / "tests" / "artifacts").mkdir(exist_ok=True)
    env = {"QTL_DATA": str(face_mask_410), "QTL_JOBS_DIR": str(tmp_path / "jobs"), "QTL_MAINTAINER_PASSWORD": ""}
    with streamlit_server(env) as (upstream, _), nginx_in_front(upstream) as (url, _), sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        page = browser.new_page()
        statics = []
        page.on("response", lambda r: statics.append(r.headers.get("server")) if "/static/" in r.url else None)
        open_page(page, url, "predict", 120_000)
        labels, _ = upload_and_read_faces(page, face_mask_410 / "test" / "no_mask" / "154.jpg", 0, 120_000)
        browser.close()
    assert labels == ["no_mask"]
    assert statics and set(statics) == {"nginx"}, "every frontend file came from nginx, none from Streamlit"
