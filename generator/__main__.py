"""Run the command line: `python -m generator`."""

import sys

from .cli import main

if __name__ == "__main__":  # not when multiprocessing imports the main module in a worker
    sys.exit(main())
