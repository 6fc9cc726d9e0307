"""`python -m ganjax.cli ...` is `ganjax ...`."""

import sys

from ganjax.cli import main

sys.exit(main())
