"""``python -m ad_core.teaching geotrans [--seed S]``: rebuild the cached GeoTrans results."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from ad_core.errors import UserError
from ad_core.teaching.geotrans import build_geotrans_cache


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m ad_core.teaching geotrans [--seed S]``: rebuild the cached GeoTrans results."""
    ap = argparse.ArgumentParser(prog="python -m ad_core.teaching",
                                 description="Rebuild the teaching page's cached results.")
    ap.add_argument("what", choices=["geotrans"])
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    try:
        paths = build_geotrans_cache(args.seed)
    except UserError as e:
        print(f"error: {e}")
        return 2
    print(f"wrote {paths[0]} and {paths[1]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
