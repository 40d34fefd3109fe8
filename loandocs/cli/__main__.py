import sys

from loandocs.cli.main import main

sys.exit(main())
