"""Common Cartridge export (spec §4): ``export_common_cartridge(snapshot, workdir, progress, version)``."""

from .exporter import export_common_cartridge
from .profile import PROFILES, profile_for

__all__ = ["export_common_cartridge", "PROFILES", "profile_for"]
