"""Lets `python -m twin` run the same command line as the `twin` console script."""
import sys

from twin.cli import main

sys.exit(main())
