"""The `instagram-service` command (`app.py`), its command bodies (`commands.py`), the demo,
and the worker process's start-up (`worker_process.py`)."""
