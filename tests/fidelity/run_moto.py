"""Start moto's server with orgtrail's AWS-fidelity patches applied (see moto_fidelity.py).

Same command line as `moto_server`: `run_moto.py -H 127.0.0.1 -p PORT`. Run it with the project's
virtualenv interpreter (`.venv/bin/python`), which has the pinned moto.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import moto_fidelity  # noqa: E402

moto_fidelity.apply()

from moto.server import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
