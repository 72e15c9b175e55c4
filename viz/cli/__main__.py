"""``python -m viz.cli``: the same as the ``autograd-core`` command."""

import sys

from .app import main

sys.exit(main())
