"""Exponential backoff with full jitter (DESIGN §6): the n-th retry waits a uniformly random time
between 0 and min(cap, base * 2**(n-1)), so that processes that failed together do not retry in
lockstep."""
import random

CAP_SECONDS = 30.0


def backoff_seconds(retry, base, cap=CAP_SECONDS, rng=random):
    """The wait before retry number RETRY (1 = the first retry)."""
    return rng.uniform(0.0, min(cap, base * 2 ** (retry - 1)))
