"""`ganjax playground`: a local web page that trains toy GANs live (`ganjax.playground`)."""

from __future__ import annotations

import argparse
import importlib.util
import sys
from typing import Any

from ganjax.cli.flags import add_runtime_flags, apply_runtime_flags
from ganjax.cli.report import report
from ganjax.errors import EXIT_CONFIG_ERROR

INSTALL_HINT = "pip install 'ganjax[playground]'"


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Adds the `playground` command to `subparsers` (from `parser.add_subparsers()`)."""
    play = subparsers.add_parser(
        "playground", help="a local web page that trains toy GANs live",
        usage="ganjax playground [-h] [--port PORT] [--host HOST] [--config SPEC] "
              "[--config.KEY=VALUE ...]",
        description="Serve the GAN playground: one page that trains toy GANs (ring, grid, the "
                    "1-D Gaussian, drawn points) on ganjax's engine and streams samples, D's "
                    "heat map, the warped noise grid and G's gradients to the browser. "
                    f"Needs the playground extra: {INSTALL_HINT}.")
    play.add_argument("--port", type=int, default=8080, help="port (default %(default)s; 0: a "
                                                            "free one, printed)")
    play.add_argument("--host", default="127.0.0.1",
                      help="address to listen on (default %(default)s, this machine only; "
                           "anything else prints a warning)")
    play.add_argument("--config", default=None, metavar="SPEC",
                      help="the setup every new tab starts with: ring8, grid25, gaussian_1d "
                           "(:variant) or an experiment file of a toy MLP GAN, with "
                           "--config.KEY=VALUE overrides (default: ring8's plain GAN with "
                           "64x64 MLPs)")
    play.add_argument("--idle_timeout", type=float, default=1800.0, metavar="SECONDS",
                      help="close a tab's session after this long without a message "
                           "(default %(default)s)")
    play.add_argument("--max_tabs", type=int, default=8,
                      help="sessions served at once (default %(default)s)")
    play.add_argument("--export_dir", default="playground_exports", metavar="DIR",
                      help="where the page's 'save on server' writes experiment files "
                           "(default %(default)s; '' turns saving off)")
    add_runtime_flags(play)
    return play


def run(args: argparse.Namespace, overrides: dict[str, str]) -> int:
    """Runs `ganjax playground`; returns the process exit code."""
    missing = [m for m in ("starlette", "uvicorn") if importlib.util.find_spec(m) is None]
    if missing:
        print(f"ganjax: error: the playground needs {' and '.join(missing)}: {INSTALL_HINT}",
              file=sys.stderr)
        return EXIT_CONFIG_ERROR
    if not 0 <= args.port <= 65535 or args.max_tabs < 1 or args.idle_timeout <= 0:
        print("ganjax: error: --port must be in [0, 65535], --max_tabs >= 1 and "
              "--idle_timeout > 0", file=sys.stderr)
        return EXIT_CONFIG_ERROR
    apply_runtime_flags(args)
    from ganjax import config as config_lib
    from ganjax.errors import ConfigError
    from ganjax.playground import server
    from ganjax.playground.session import Setup
    from ganjax.playground.settings import default_config, validate_setup

    try:
        if args.config is None:
            config = config_lib.apply_overrides(default_config(), overrides)
        else:
            config = config_lib.apply_overrides(config_lib.load_config(args.config), overrides)
        config = validate_setup(config)
    except ConfigError as e:
        return report(e)
    base = args.config if args.config and not args.config.endswith(".py") else None
    options = server.Options(setup=lambda: Setup(config, None, base),
                             idle_timeout_s=args.idle_timeout, max_tabs=args.max_tabs,
                             export_dir=args.export_dir or None)
    try:
        server.serve(args.host, args.port, options)
    except OSError as e:
        print(f"ganjax: error: cannot listen on {args.host}:{args.port}: {e}", file=sys.stderr)
        return EXIT_CONFIG_ERROR
    return 0
