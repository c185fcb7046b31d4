"""Deterministic noise: pure functions of integer keys (splitmix64), scalar and vectorised.

Keys are folded from (seed, date, root, ...) so every generated number is a pure function of
what it describes, never of the order in which things were generated.
"""
import hashlib

import pyarrow as pa
import pyarrow.compute as pc

_MASK = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15
_M1 = 0xBF58476D1CE4E5B9
_M2 = 0x94D049BB133111EB
_UNIT = 2.0 ** -53


def _mix(z):
    z = ((z ^ (z >> 30)) * _M1) & _MASK
    z = ((z ^ (z >> 27)) * _M2) & _MASK
    return z ^ (z >> 31)


def _as_int(part):
    if isinstance(part, int):
        return part & _MASK
    # str/date: a stable digest, independent of PYTHONHASHSEED
    return int.from_bytes(hashlib.blake2b(str(part).encode(), digest_size=8).digest(), "little")


def key(*parts):
    """A 64-bit key for a tuple of ints/strings/dates."""
    h = _GOLDEN
    for part in parts:
        h = _mix(((h + _GOLDEN) & _MASK) ^ _as_int(part))
    return h


def uniform(*parts):
    """A float in (0, 1) for a tuple of parts."""
    return ((key(*parts) >> 11) + 0.5) * _UNIT


def _u64(value):
    return pa.scalar(value & _MASK, pa.uint64())


def mix_array(keys):
    """splitmix64 finaliser over a uint64 array (multiplication wraps, as in C)."""
    z = keys
    z = pc.multiply(pc.bit_wise_xor(z, pc.shift_right(z, _u64(30))), _u64(_M1))
    z = pc.multiply(pc.bit_wise_xor(z, pc.shift_right(z, _u64(27))), _u64(_M2))
    return pc.bit_wise_xor(z, pc.shift_right(z, _u64(31)))


def row_uniforms(contract_keys, times_ms, count):
    """COUNT independent uniform arrays in (0, 1), one value per row of (contract key, time in
    ms): two per 64-bit hash, one from each 32-bit half (ample for noise; cheap per row)."""
    t = pc.multiply(pc.cast(times_ms, pa.uint64()), _u64(_GOLDEN))
    h = mix_array(pc.bit_wise_xor(contract_keys, t))
    uniforms = []
    while len(uniforms) < count:
        for half in (pc.shift_right(h, _u64(32)), pc.bit_wise_and(h, _u64(0xFFFFFFFF))):
            uniforms.append(pc.multiply(pc.add(pc.cast(half, pa.float64()), 0.5), 2.0 ** -32))
        h = mix_array(pc.bit_wise_xor(h, _u64(_GOLDEN)))
    return uniforms[:count]


def uniform_array(keys, stream):
    """Floats in (0, 1), one per key; STREAM selects an independent draw for the same keys."""
    z = mix_array(pc.bit_wise_xor(keys, _u64(key("stream", stream))))
    return pc.multiply(pc.add(pc.cast(pc.shift_right(z, _u64(11)), pa.float64()), 0.5), _UNIT)


def normal_array(keys, stream):
    """Standard normal draws (Box-Muller), one per key."""
    u1 = uniform_array(keys, f"{stream}/1")
    u2 = uniform_array(keys, f"{stream}/2")
    radius = pc.sqrt(pc.multiply(pc.ln(u1), -2.0))
    return pc.multiply(radius, pc.cos(pc.multiply(u2, 6.283185307179586)))
