"""`python -m tempmail` is the `tempmail` command."""

import sys

from tempmail.cli import main

sys.exit(main())
