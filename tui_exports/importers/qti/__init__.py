"""QTI 1.2 for import: assessments (Canvas's full QTI, the CC profile, other tools' IMS QTI 1.2.1)
into quizzes, and QTI zips into courses.

:func:`read_assessment` reads one parsed ``<questestinterop>``; the Common Cartridge importer
calls it for every assessment of a cartridge, and :func:`import_qti_zip` for the assessments of
a QTI zip.
"""

from .assessment import read_assessment
from .package import import_qti_zip, is_qti_zip

__all__ = ["import_qti_zip", "is_qti_zip", "read_assessment"]
