import sys

from molvae.cli.main import main

sys.exit(main())
