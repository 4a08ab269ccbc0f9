"""A file read on a worker thread a block at a time and handed out in the pieces a response sends.

A small file costs one trip to the thread pool (stat, open, read and close together) instead of one
per chunk; a short read is the end of the file, as it is for a loop of reads.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from typing import IO

import anyio.to_thread

BLOCK = 1024 * 1024


def checked_stat(path: str | os.PathLike[str]) -> os.stat_result:
    try:
        result = os.stat(path)
    except FileNotFoundError:
        raise RuntimeError(f"File at path {path} does not exist.")
    if not stat.S_ISREG(result.st_mode):
        raise RuntimeError(f"File at path {path} is not a file.")
    return result


def _fill(
    path: str | os.PathLike[str], file: IO[bytes] | None, position: int, count: int
) -> tuple[IO[bytes] | None, bytes]:
    """Read `count` bytes at `position`, opening the file first if need be.

    A short read is the end of the file: the file is closed then, and None comes back in its place.
    """
    if file is None:
        file = open(path, "rb")  # noqa: SIM115 - closed here or by Blocks.close
    try:
        file.seek(position)
        data = file.read(count)
    except BaseException:
        file.close()
        raise
    if len(data) < count:
        file.close()
        return None, data
    return file, data


def stat_and_fill(path: str | os.PathLike[str], block: int) -> tuple[os.stat_result, IO[bytes] | None, bytes]:
    # One byte past the size stat reports shows whether the file ends where stat says it does.
    result = checked_stat(path)
    file, data = _fill(path, None, 0, min(result.st_size + 1, block))
    return result, file, data


class Blocks:
    """One response's view of its file: read a block at a time on a worker thread, taken in pieces."""

    __slots__ = ("path", "block", "file", "data", "start", "offset", "ended")

    def __init__(self, path: str | os.PathLike[str], block: int) -> None:
        self.path = path
        self.block = block
        self.file: IO[bytes] | None = None
        self.data = b""
        self.start = 0  # where in the file self.data begins
        self.offset = 0  # how much of self.data has been taken
        self.ended = False  # self.data runs up to the end of the file

    def preload(self, file: IO[bytes] | None, data: bytes) -> None:
        self.file, self.data, self.ended = file, data, file is None

    def seek(self, position: int) -> None:
        if self.start <= position <= self.start + len(self.data):
            self.offset = position - self.start
        else:
            self.start, self.data, self.offset, self.ended = position, b"", 0, False

    async def load(self, position: int, ahead: int) -> None:
        """Read from `position` now, opening the file: one that cannot be read fails here."""
        self.seek(position)
        if self.offset == len(self.data) and not self.ended:
            await self._refill(0, ahead)

    async def take(self, count: int, ahead: int) -> bytes:
        """Up to `count` bytes from the current position (fewer only at the end of the file).

        `ahead` is how much the caller expects to take from here on: a refill reads that much, up to
        a block, so that the bytes of nearby ranges come in the same trip.
        """
        if len(self.data) - self.offset < count and not self.ended:
            await self._refill(count, ahead)
        offset = self.offset
        if offset == 0 and count >= len(self.data):
            piece = self.data
        else:
            piece = self.data[offset : offset + count]
        self.offset = offset + len(piece)
        return piece

    async def _refill(self, count: int, ahead: int) -> None:
        # What is left of the block is kept in front of what is read next.
        held = len(self.data) - self.offset
        position = self.start + len(self.data)
        wanted = max(count - held, min(ahead - held, self.block), 1)
        self.file, fresh = await anyio.to_thread.run_sync(_fill, self.path, self.file, position, wanted)
        self.data = self.data[self.offset :] + fresh if held else fresh
        self.start, self.offset, self.ended = position - held, 0, self.file is None

    def close(self) -> None:
        if self.file is not None:
            self.file.close()
            self.file = None


def reaches(spans: Sequence[tuple[int, int]], gap: int) -> list[int]:
    """For each span, the end of the run of spans after it separated by less than `gap` bytes.

    Reading up to there in one go costs less than a trip to the thread pool per span.
    """
    reaches = [stop for _, stop in spans]
    for index in range(len(spans) - 2, -1, -1):
        if spans[index + 1][0] - spans[index][1] < gap:
            reaches[index] = reaches[index + 1]
    return reaches
