"""What one `wf redact` run did: counts and warnings, never the secret."""

from __future__ import annotations

from dataclasses import dataclass, field

from wf.redact.proof import Proof


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
    steps_dropped: int = 0
    events_removed: int = 0
    annotations_scrubbed: int = 0
    annotations_removed: int = 0
    screens_may_show_text: int = 0
    warnings: list[str] = field(default_factory=list)
    proof: Proof = field(default_factory=Proof)

    def to_json(self) -> dict[str, object]:
        d = {k: getattr(self, k) for k in self.__dataclass_fields__ if k != "proof"}
        d["proof"] = self.proof.to_json()
        return d
