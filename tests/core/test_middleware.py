"""Request ids: unique within a process and across forked workers."""

import os

from app.core import middleware


def test_request_ids_of_one_process_are_unique_and_long_enough() -> None:
    ids = [next(middleware._request_id) for _ in range(1000)]
    assert len(set(ids)) == len(ids)
    assert all(len(request_id) >= 16 for request_id in ids)


def test_a_forked_worker_draws_its_own_request_ids() -> None:
    """A server that forks its workers after importing the app (gunicorn --preload) must
    not give two workers the same ids."""
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:  # the worker: report its next id and leave at once
        os.write(write_end, next(middleware._request_id).encode())
        os._exit(0)
    os.close(write_end)
    child_id = os.read(read_end, 200).decode()
    os.close(read_end)
    os.waitpid(child, 0)
    parent_id = next(middleware._request_id)
    assert child_id
    assert child_id[:16] != parent_id[:16]
