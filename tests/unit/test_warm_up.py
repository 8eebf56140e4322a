"""The server's background warm-ups wait until training is idle (they slowed a cold quick start's
fit from ~10 s to 12–13 s on 2 cores when they ran beside it)."""

from __future__ import annotations

import threading
import time

from ad_core import jobs, warmup


class FakeManager:
    def __init__(self) -> None:
        self.ready = False
        self.running = True

    def trainer_ready(self) -> bool:
        return self.ready

    def busy(self) -> bool:
        return self.running


def test_warm_ups_start_only_once_training_has_been_idle_for_a_while(monkeypatch) -> None:
    fake = FakeManager()
    monkeypatch.setattr(jobs, "get_manager", lambda: fake)
    monkeypatch.setattr(warmup, "_deferred_started", False)
    monkeypatch.setattr(warmup, "_deferred_done", False)
    monkeypatch.setattr(warmup, "IDLE_POLL_S", 0.02)
    monkeypatch.setattr(warmup, "IDLE_QUIET_S", 0.3)
    ran = threading.Event()
    warmup._when_training_idle(ran.set)
    warmup._when_training_idle(ran.set)  # once per server
    time.sleep(0.4)
    assert not ran.is_set()  # trainer not ready, a job running
    fake.ready = True
    time.sleep(0.4)
    assert not ran.is_set()  # still training
    fake.running = False
    t0 = time.monotonic()
    assert ran.wait(5)
    assert time.monotonic() - t0 >= 0.25  # a quiet period first, not the moment the job ended
    for _ in range(100):
        if warmup._deferred_done:
            break
        time.sleep(0.02)
    assert warmup._deferred_done
