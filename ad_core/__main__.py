"""``python -m ad_core`` → :func:`ad_core.cli.main`."""

from ad_core.cli import main

raise SystemExit(main())
