"""``python -m symsde.cli``: the command line."""

import sys

from symsde.cli import main

sys.exit(main())
