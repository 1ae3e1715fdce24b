"""QR matrices for thousands of labels that differ only in a few characters, fast.

A general encoder (segno) takes ~2.3 ms per code with a fixed mask and ~11 ms choosing it,
which alone would cap a worker at a few hundred labels per second. The labels of one batch
share the length of their payload (the same base URL and a fixed-width serial code), so they
share the QR version, and we fix the error-correction level and the mask for all of them.
With mode, length, version, level and mask fixed, every step of QR encoding — bit stream,
Reed-Solomon codewords (linear over GF(2⁸), hence over GF(2)), interleaving, placement,
masking — is affine in the payload's bits:

    matrix(p) = matrix(ref) XOR Σ over bytes i where p[i] ≠ ref[i] of Δᵢ(p[i] XOR ref[i])

where Δᵢ(x) is itself the XOR of the single-bit differences Δᵢ(2ᵇ) for the bits b set in x.
So segno encodes one reference payload (choosing the mask by the standard's penalty rules)
and, lazily, the 8 single-bit flips of each byte position that ever differs (the serial's
characters, ~11 positions × 8 × 2.3 ms once per process and payload shape); after that a
label costs a few XORs of ~300-byte integers: microseconds. The result is exactly what segno
itself would encode for that payload with that version, level and mask (tests check this).

A matrix is returned as the raster of a 1-bit image, dark module = 1, rows from the top,
each row padded to whole bytes — what a PDF image mask with `/Decode [1 0]` paints.
"""

from __future__ import annotations

import re
from threading import Lock

import segno

ERROR_LEVELS = ("L", "M", "Q", "H")
_NONZERO = re.compile(rb"[^\x00]")


def _raster(matrix: tuple[bytearray, ...] | list[bytearray], row_bytes: int) -> int:
    """A segno matrix (rows of 0/1 bytes) as one big integer, row-major, MSB first."""
    pad = "0" * (row_bytes * 8 - len(matrix[0]))
    bits = "".join("".join("1" if v else "0" for v in row) + pad for row in matrix)
    return int(bits, 2)


class QrShape:
    """Every payload of one byte length at one error level, with the version and mask fixed
    by the first payload seen (the reference)."""

    def __init__(self, reference: bytes, error: str) -> None:
        if error not in ERROR_LEVELS:
            raise ValueError(f"QR error level must be one of {ERROR_LEVELS}")
        code = segno.make(reference, mode="byte", error=error, boost_error=False, micro=False)
        self.reference = reference
        self._reference_int = int.from_bytes(reference, "big")
        self.error = error
        self.version: int = int(code.version)
        self.mask: int = int(code.mask)
        self.size: int = len(code.matrix)
        self.row_bytes = (self.size + 7) // 8
        self.nbytes = self.row_bytes * self.size
        self._reference_raster = _raster(code.matrix, self.row_bytes)
        self._bit_deltas: dict[int, tuple[int, ...]] = {}
        self._byte_deltas: dict[tuple[int, int], int] = {}
        self._lock = Lock()

    def _encode(self, payload: bytes) -> int:
        code = segno.make(
            payload,
            mode="byte",
            error=self.error,
            version=self.version,
            mask=self.mask,
            boost_error=False,
            micro=False,
        )
        return _raster(code.matrix, self.row_bytes)

    def _bits_of(self, position: int) -> tuple[int, ...]:
        deltas = self._bit_deltas.get(position)
        if deltas is None:
            with self._lock:
                deltas = self._bit_deltas.get(position)
                if deltas is None:
                    found = []
                    for bit in range(8):
                        flipped = bytearray(self.reference)
                        flipped[position] ^= 1 << bit
                        found.append(self._encode(bytes(flipped)) ^ self._reference_raster)
                    deltas = self._bit_deltas[position] = tuple(found)
        return deltas

    def _delta(self, position: int, difference: int) -> int:
        key = (position, difference)
        delta = self._byte_deltas.get(key)
        if delta is None:
            bits = self._bits_of(position)
            delta = 0
            for bit in range(8):
                if difference >> bit & 1:
                    delta ^= bits[bit]
            self._byte_deltas[key] = delta
        return delta

    def raster(self, payload: bytes) -> bytes:
        """The 1-bit raster of `payload`'s QR code (same length as the reference)."""
        if len(payload) != len(self.reference):
            raise ValueError("payload length differs from the shape's")
        value = self._reference_raster
        difference = (int.from_bytes(payload, "big") ^ self._reference_int).to_bytes(
            len(payload), "big"
        )
        for found in _NONZERO.finditer(difference):  # C speed: usually ~11 of ~80 bytes differ
            value ^= self._delta(found.start(), difference[found.start()])
        return value.to_bytes(self.nbytes, "big")


_SHAPES: dict[tuple[int, str], QrShape] = {}
_SHAPES_LOCK = Lock()
MAX_SHAPES = 16  # each holds at most a few MB of differences; usually one or two are in use


def shape_for(payload: bytes, error: str = "M") -> QrShape:
    """The process-wide shape for payloads of this length and error level (the first payload
    seen is the reference): a worker's next chunk of the same batch, or of any batch whose
    payloads have the same length, starts with the differences already computed."""
    key = (len(payload), error)
    shape = _SHAPES.get(key)
    if shape is None:
        with _SHAPES_LOCK:
            shape = _SHAPES.get(key)
            if shape is None:
                if len(_SHAPES) >= MAX_SHAPES:
                    _SHAPES.clear()
                shape = _SHAPES[key] = QrShape(payload, error)
    return shape
