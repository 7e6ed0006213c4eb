"""A beat-like dispatcher for the real-worker soak: hands out due reminders every ``--interval`` seconds.

``--mode inline`` runs ``reminders_send_due`` in this process (as a dispatcher or a cron job would:
``reminders_dispatch_due`` here, batches queued to Redis); ``--mode beat`` only queues the task, as
Celery beat does, so a worker runs the dispatch.  Several of these at once are the "second beat
process".  A Redis that is down fails a round; the loop counts it and goes on.  It stops when
``--stop-file`` exists and prints one line of JSON: rounds, rows handed out, errors by type.

Run from the project root with the worker's environment (``real_workers.worker_environment``):
``python -m tests.notifications.dispatch_loop --mode inline --stop-file /tmp/stop``.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mode", choices=["inline", "beat"], default="inline")
    parser.add_argument("--interval", type=float, default=0.5)
    parser.add_argument("--stop-file", type=Path, required=True)
    arguments = parser.parse_args()

    import django

    django.setup()
    from django.db import close_old_connections

    from notifications.tasks import reminders_send_due

    rounds, handed_out, errors = 0, 0, Counter()
    while not arguments.stop_file.exists():
        rounds += 1
        try:
            if arguments.mode == "inline":
                handed_out += reminders_send_due()
            else:
                reminders_send_due.delay()
        except Exception as error:
            errors[type(error).__name__] += 1
            close_old_connections()
        time.sleep(arguments.interval)
    print(json.dumps({"mode": arguments.mode, "rounds": rounds, "handed_out": handed_out, "errors": errors}))


if __name__ == "__main__":
    main()
