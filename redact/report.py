"""What one `wf redact` run did: counts and warnings, never the secret."""

from __future__ import annotations

from dataclasses import dataclass, field

from wf.redact.pixel_proof import PixelProof
from wf.redact.proof import Proof
from wf.redact.screen_ocr import ScreenOcr


@dataclass
class RedactReport:
    """What one run did (counts only: never the secret)."""

    source: str
    out: str
    events_in: int = 0
    events_out: int = 0
    keys_redacted: int = 0
    literals: int = 0
    texts_scrubbed: int = 0
    windows_masked: int = 0
    screens_masked: int = 0
    screens_written: int = 0
    screens_reencoded: int = 0  # copied screens whose PNG carried more than pixels (text chunks dropped)
    steps_dropped: int = 0
    events_removed: int = 0
    annotations_scrubbed: int = 0
    annotations_removed: int = 0
    screens_may_show_text: int = 0  # only counted with --no-ocr
    warnings: list[str] = field(default_factory=list)
    proof: Proof = field(default_factory=Proof)
    ocr: ScreenOcr | None = None  # None: the pixels were not read (pixels_not_read says why)
    pixel_proof: PixelProof | None = None
    pixels_not_read: str = ""

    @property
    def ok(self) -> bool:
        """Both proofs passed (the pixel proof counts only when it ran)."""
        return self.proof.ok and (self.pixel_proof is None or self.pixel_proof.ok)

    def to_json(self) -> dict[str, object]:
        d = {k: getattr(self, k) for k in self.__dataclass_fields__ if k not in ("proof", "ocr", "pixel_proof")}
        d["ok"] = self.ok
        d["proof"] = self.proof.to_json()
        d["ocr"] = None if self.ocr is None else self.ocr.to_json()
        d["pixel_proof"] = ({"ok": True, "checked": False, "why": self.pixels_not_read} if self.pixel_proof is None
                            else {**self.pixel_proof.to_json(), "checked": True})
        return d
