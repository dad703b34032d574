"""A stand-in solver child for worker tests: speaks the runner protocol, then misbehaves.

argv[1] is the mode: ``sleep`` (never answers), ``crash`` (exits with code 3 on the first job).
"""

from __future__ import annotations

import json
import os
import sys
import time


def main() -> None:
    mode = sys.argv[1]
    print(json.dumps({"type": "ready", "pid": os.getpid()}), flush=True)
    for _line in sys.stdin:
        if mode == "crash":
            sys.exit(3)
        time.sleep(3600)


if __name__ == "__main__":
    main()
