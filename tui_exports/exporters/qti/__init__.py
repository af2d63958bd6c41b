"""QTI 1.2 export (spec §5): ``export_qti(snapshot, workdir, progress)``."""

from .exporter import export_qti

__all__ = ["export_qti"]
