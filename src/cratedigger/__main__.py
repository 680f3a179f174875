"""`python -m cratedigger` runs the command line."""

import sys

from cratedigger.cli import main

sys.exit(main())
