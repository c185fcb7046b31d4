"""The simulator's busyness accounting: in-flight request seconds and the busy span."""
from spx_data.sim.stats import Stats


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_in_flight_seconds_integrate_the_requests_in_flight_over_time():
    clock = Clock()
    stats = Stats(clock)
    clock.now += 5                      # idle before the first request: not counted
    stats.data_begin()
    clock.now += 2                      # one in flight for 2 s
    stats.data_begin()
    clock.now += 3                      # two in flight for 3 s
    stats.data_end()
    clock.now += 1                      # one for 1 s
    stats.data_end()
    clock.now += 10                     # idle after the last one: not in the span
    snapshot = stats.snapshot()
    assert snapshot["in_flight_seconds"] == 2 + 2 * 3 + 1
    assert snapshot["busy_span_seconds"] == 6
    assert snapshot["max_in_flight"] == 2


def test_a_span_still_open_runs_to_now_and_reset_starts_over():
    clock = Clock()
    stats = Stats(clock)
    stats.data_begin()
    clock.now += 4
    assert stats.snapshot()["busy_span_seconds"] == 4 and stats.snapshot()["in_flight_seconds"] == 4
    stats.reset()                       # one still in flight: it counts from the reset on
    clock.now += 1
    stats.data_end()
    snapshot = stats.snapshot()
    assert snapshot["in_flight_seconds"] == 1 and snapshot["busy_span_seconds"] == 1


def test_no_requests_no_span():
    snapshot = Stats(Clock()).snapshot()
    assert snapshot["in_flight_seconds"] == 0 and snapshot["busy_span_seconds"] == 0
