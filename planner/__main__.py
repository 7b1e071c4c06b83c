"""``python -m planner``: the ``planner`` command."""

import sys

from planner.app.entry import main

sys.exit(main())
