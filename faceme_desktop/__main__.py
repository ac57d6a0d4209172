"""``python -m faceme_desktop``."""

import sys

from faceme_desktop.app import main

sys.exit(main())
