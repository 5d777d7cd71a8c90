"""Where each reading of a feed sits in a dense station × time array, computed once per feed."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from tasks.aq.frame import pieces
from tasks.aq.parsing import HOUR_NS


@dataclass(frozen=True)
class Grid:
    """Where each reading sits in a dense station × time array (computed once, shared by checks and derivation).

    `position` = station code × `n_slots` + slot of its time, a slot being an hour (hourly feeds) or a day,
    counted from 00:00 of the feed's first day (`first`, in slots since the epoch). `positions` holds them, or
    is None for a complete grid, whose row i is at position i (nothing stored; `position` makes them on demand).
    """

    first: int
    n_slots: int
    step: int  # nanoseconds per slot
    positions: np.ndarray | None
    off_grid: bool = False  # some time is not on a slot boundary (not on the hour / not at midnight)
    increasing: bool = False  # positions strictly increase: rows sorted by station and time, no repeats
    stations: int = 0  # number of station codes (the grid's first dimension)

    @property
    def position(self) -> np.ndarray:
        """Position of every row (a fresh arange for a complete grid)."""
        if self.positions is None:
            size = self.stations * self.n_slots
            return np.arange(size, dtype=np.int32 if size < 2**31 else np.int64)
        return self.positions

    @property
    def complete(self) -> bool:
        """Rows are exactly the dense grid in order (every station-slot once, gaps as NaN rows, like the
        Beijing files): a column is then the station × slot array itself, no scatter needed."""
        if self.positions is None:
            return self.stations * self.n_slots > 0
        return self.increasing and len(self.positions) == self.stations * self.n_slots > 0


def make_grid(frame: pd.DataFrame, step: int) -> Grid:
    """The grid of a canonical frame (station category, time) for slots of `step` nanoseconds.

    Times are read a chunk at a time, because touching fresh memory is the most expensive thing this does. A
    frame with as many rows as the dense grid has cells may be the complete grid in order: its positions are
    then only checked, a chunk at a time in a small reused buffer, and not kept (they are 0, 1, 2, …); other
    frames get the int32 positions in full (60 MB for 15 million rows).
    """
    time_pieces = list(pieces(frame["time"]))
    per_tick = _ns_per_tick(time_pieces[0].dtype) if time_pieces else 1
    ticks_per_slot = step // per_tick
    per_day = 24 * HOUR_NS // step
    lows = [int(p.view(np.int64).min()) for p in time_pieces if len(p)]
    highs = [int(p.view(np.int64).max()) for p in time_pieces if len(p)]
    first = (min(lows) // ticks_per_slot // per_day) * per_day if lows else 0
    n_slots = ((max(highs) // ticks_per_slot - first) // per_day + 1) * per_day if highs else 0
    stations = len(frame["station"].cat.categories)
    codes = frame["station"].array.codes
    dtype = np.int32 if stations * n_slots < 2**31 else np.int64
    maybe_complete = 0 < len(codes) == stations * n_slots
    if maybe_complete:
        off_grid, increasing = _scan(time_pieces, codes, ticks_per_slot, first, n_slots,
                                     np.empty(max(len(p) for p in time_pieces), dtype=dtype), whole=False)
        if increasing:  # strictly increasing, stations × n_slots of them in [0, stations × n_slots): 0, 1, 2, …
            return Grid(first, n_slots, step, None, off_grid, True, stations)
    position = np.empty(len(codes), dtype=dtype)
    off_grid, increasing = _scan(time_pieces, codes, ticks_per_slot, first, n_slots, position, whole=True)
    return Grid(first, n_slots, step, position, off_grid, increasing, stations)


def _scan(time_pieces: list[np.ndarray], codes: np.ndarray, ticks_per_slot: int, first: int, n_slots: int,
          out: np.ndarray, *, whole: bool) -> tuple[bool, bool]:
    """Positions chunk by chunk into `out` (all rows when `whole`, else each chunk over the last); return
    (some time is off the grid, positions strictly increase)."""
    off_grid, increasing, start, previous = False, True, 0, -1
    for piece in time_pieces:
        ticks = piece.view(np.int64)
        slot = ticks // ticks_per_slot
        off_grid = off_grid or bool(np.any(slot * ticks_per_slot != ticks))
        here = out[start:start + len(ticks)] if whole else out[:len(ticks)]
        np.multiply(codes[start:start + len(ticks)], n_slots, out=here, dtype=here.dtype)
        np.add(here, slot - first, out=here, casting="unsafe")  # fits: positions stay below stations × n_slots
        if len(here):
            increasing = increasing and previous < int(here[0]) and bool(np.all(np.greater(here[1:], here[:-1])))
            previous = int(here[-1])
        start += len(ticks)
    return off_grid, increasing


def time_ticks(frame: pd.DataFrame) -> tuple[np.ndarray, int]:
    """The frame's `time` column as int64 ticks of its own resolution, and nanoseconds per tick (a copy when
    the column is Arrow-backed: for messages and rare checks, not for the hot path)."""
    times = frame["time"].to_numpy()
    return times.view(np.int64), _ns_per_tick(times.dtype)


def _ns_per_tick(dtype: np.dtype) -> int:
    unit, count = np.datetime_data(dtype)
    per_tick = {"D": 86_400 * 10**9, "h": HOUR_NS, "m": 60 * 10**9, "s": 10**9, "ms": 10**6, "us": 10**3,
                "ns": 1}[unit]
    return per_tick * count
