"""A stand-in solver child for worker tests: speaks the runner protocol, then misbehaves.

argv[1] is the mode: ``sleep`` (never answers), ``crash`` (exits with code 3 on the first job),
``slow`` (waits argv[2] seconds, default 4, then solves the job like the real runner).
"""

from __future__ import annotations

import json
import os
import sys
import time


def main() -> None:
    mode = sys.argv[1]
    if mode == "slow":
        from kakehashi.service.runner import _die_with_parent, _jsonable, handle

        _die_with_parent()
    print(json.dumps({"type": "ready", "pid": os.getpid()}), flush=True)
    for line in sys.stdin:
        if mode == "crash":
            sys.exit(3)
        if mode == "slow":
            time.sleep(float(sys.argv[2]) if len(sys.argv) > 2 else 4.0)
            print(json.dumps(handle(json.loads(line)), default=_jsonable), flush=True)
            continue
        time.sleep(3600)


if __name__ == "__main__":
    main()
