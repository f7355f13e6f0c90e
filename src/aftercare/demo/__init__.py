"""A synthetic dealer calibrated to the seeds: generate, export like a DMS, import.

``generate`` builds canonical Arrow tables in memory (deterministic by seed);
``run_demo`` also writes the DMS export files and loads them through the import service.
"""

from __future__ import annotations

from aftercare.demo.generate import DemoData, generate
from aftercare.demo.run import DemoResult, run_demo

__all__ = ["DemoData", "DemoResult", "generate", "run_demo"]
