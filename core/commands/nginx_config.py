"""``python -m core nginx-config``: an nginx.conf that serves Streamlit's frontend files and passes the rest to Streamlit."""

from __future__ import annotations

import argparse
import sys

from core.server.proxy import configured_upload_mb, nginx_config


def main(argv: list[str] | None = None, prog: str = "python -m core nginx-config") -> int:
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.split(":", 1)[1].strip(),
                                     epilog="docs/deployment.md says how to run it; add TLS as your site does.")
    parser.add_argument("--listen", default="0.0.0.0:80", help="where visitors connect (default: %(default)s)")
    parser.add_argument("--upstream", default="127.0.0.1:8501", help="the Streamlit server (default: %(default)s)")
    parser.add_argument("--runtime", default="/var/lib/qtl-nginx",
                        help="a folder nginx may write to: pid, error log, temporary files (default: %(default)s)")
    parser.add_argument("--foreground", action="store_true", help="daemon off: for a service manager")
    args = parser.parse_args(argv)
    try:
        print(nginx_config(args.listen, args.upstream, args.runtime, max_upload_mb=configured_upload_mb(),
                           foreground=args.foreground), end="")
    except (ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
