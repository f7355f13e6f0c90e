"""A synthetic dealer calibrated to the seeds: generate it, export it like a DMS.

``generate`` builds canonical Arrow tables in memory (deterministic by seed); ``write_files``
writes them as the DMS export files. Importing them is a service
(:func:`aftercare.services.demo.run_demo`).
"""

from __future__ import annotations

from aftercare.demo.files import write_files
from aftercare.demo.generate import DemoData, generate

__all__ = ["DemoData", "generate", "write_files"]
