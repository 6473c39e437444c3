"""The task queue: the Taskiq broker, the stream broker, the scheduler, enqueue by name.

It knows no domain: domains declare their tasks on Taskiq's shared broker (`tasks.py`) and
send them by name (`enqueue_after_commit`), so nothing imports a tasks module or the broker.
"""
