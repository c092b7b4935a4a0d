"""`python3 -m bench` from benches/: the same as `benches/run`."""

import sys

from .cli import main

sys.exit(main())
