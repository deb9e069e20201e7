"""Signal: is a demonstration worth training on (docs/quality.md).

Per-step effects from the recorded screens (:mod:`wf.curate.effects`), per-demonstration quality in one
streaming pass (:mod:`wf.curate.quality`), splitting a long recording into tasks (:mod:`wf.curate.split`)
and the filtering decisions exports apply (:mod:`wf.curate.filters`). It stands on :mod:`wf.bundle` alone;
export, view and the command line use it.
"""
