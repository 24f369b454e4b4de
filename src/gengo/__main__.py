"""``python -m gengo``: the same as the ``gengo`` command."""

import sys

from gengo.launch import main

sys.exit(main())
