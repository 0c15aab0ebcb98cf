"""Named random streams: one numpy `Generator` per source, per replication.

A stream is identified by the scenario seed, the replication number and a name such as
``("handle", "phone")``. Names are hashed stably (CRC-32), so a stream does not depend on
how many other streams exist or in which order they are created: adding a channel or an
agent group in a variant leaves every other channel's customers exactly as they were. That
is what makes comparisons between variants paired (common random numbers).
"""

from __future__ import annotations

import zlib

import numpy as np
from numpy.random import Generator


def stream(seed: int, replication: int, *name: str) -> Generator:
    """The generator for source `name` in replication `replication` of a run seeded `seed`."""
    key = (replication, *(zlib.crc32(part.encode("utf-8")) for part in name))
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=key)))
