"""Statistical models: segmentation (k-means, R-SEG-VALID), and later churn and CLV.

One module per model. scikit-learn and scipy (core dependencies) are imported only when a
model runs, so the rest of Aftercare starts without loading them.

:func:`segment_customers` is the single entry point of SPEC §8's schemes.
"""

from __future__ import annotations

from typing import Literal

import ibis.expr.types as ir
import pyarrow as pa

from aftercare.config import Config
from aftercare.pipeline.segments import profit_pyramid, rfm_quintiles

Scheme = Literal["rfm-quintile", "pyramid", "kmeans"]
SCHEMES: tuple[Scheme, ...] = ("rfm-quintile", "pyramid", "kmeans")


def segment_customers(
    features: ir.Table,
    scheme: Scheme,
    config: Config,
    *,
    k: int | Literal["auto"] | None = None,
) -> ir.Table | pa.Table:
    """Assign every customer a segment by ``scheme`` (SPEC §8).

    Grain: one row per customer of ``features``.

    Parameters
    ----------
    features
        The feature table (:func:`aftercare.pipeline.segments.segment_features`).
    scheme
        ``rfm-quintile`` and ``pyramid`` stay lazy Ibis expressions; ``kmeans`` runs the
        model and returns Arrow (use :func:`aftercare.models.kmeans.kmeans_segments` for its
        silhouette and profile).
    config
        The configuration (``segmentation``, and ``scoring.window_days`` for k-means).
    k
        k-means only: clusters (a number, ``"auto"`` = best silhouette, None = config).

    Returns
    -------
    ir.Table or pa.Table
        At least customer_id, scheme and segment.
    """
    if scheme == "rfm-quintile":
        return rfm_quintiles(features)
    if scheme == "pyramid":
        return profit_pyramid(features, config=config)
    if scheme == "kmeans":
        from aftercare.models.kmeans import kmeans_segments

        return kmeans_segments(features, config=config, k=k, silhouette=k == "auto").assignments
    raise ValueError(f"unknown segmentation scheme {scheme!r}; choose one of {SCHEMES}")


__all__ = ["SCHEMES", "Scheme", "segment_customers"]
