"""Segment the customers of a stored score snapshot and validate it (SPEC §8, R-SEG-VALID).

Works on a stored ``customer_scores`` snapshot (``aftercare score`` first) and that date's
customer value: RFM quintiles, the profit pyramid or k-means, each with its sizes, the
Kruskal–Wallis tests and the stability against the previous stored snapshot.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import ibis.expr.types as ir
import pyarrow as pa

from aftercare.config import Config
from aftercare.errors import AftercareError
from aftercare.models import SCHEMES, Scheme, segment_customers
from aftercare.models.validation import SegmentValidation, validate_segmentation
from aftercare.pipeline.segments import pyramid_labels, segment_features
from aftercare.pipeline.staging import resolved_orders
from aftercare.pipeline.value import customer_value
from aftercare.services.inputs import canonical_tables
from aftercare.services.scoring import SCORES_TABLE, snapshot
from aftercare.store.connect import Store
from aftercare.store.snapshots import snapshot_dates

if TYPE_CHECKING:
    from aftercare.models.kmeans import KMeansSegmentation

NO_SCORES = "no scores yet: run `aftercare score` first"

__all__ = [
    "NO_SCORES",
    "SCHEMES",
    "Scheme",
    "Segmentation",
    "build_segment_features",
    "segment_snapshot",
]


@dataclass(frozen=True)
class Segmentation:
    """One segmentation of a score snapshot, validated (R-SEG-VALID).

    Attributes
    ----------
    scheme
        ``rfm-quintile``, ``pyramid`` or ``kmeans``.
    as_of
        The score snapshot segmented.
    previous_as_of
        The stored snapshot before it, whose segmentation the stability compares with
        (``None`` when there is none).
    validation
        Sizes, Kruskal–Wallis tests and stability.
    kmeans
        The k-means fit (chosen k, silhouette by k, cluster profile); ``None`` for the
        other schemes.
    """

    scheme: Scheme
    as_of: dt.date
    previous_as_of: dt.date | None
    validation: SegmentValidation
    kmeans: KMeansSegmentation | None = None

    @property
    def customers(self) -> int:
        """Customers segmented."""
        return sum(self.validation.sizes.column("customers").to_pylist())


def build_segment_features(store: Store, as_of: dt.date, config: Config) -> ir.Table:
    """The feature table of one stored score snapshot (SPEC §8).

    Grain: one row per customer scored as of ``as_of``. Scores come from the stored
    snapshot; net profit is computed for the same date and the snapshot's tiers
    (R-VAL-PROFIT).

    Raises
    ------
    AftercareError
        When no snapshot of that date is stored.
    """
    scores = snapshot(store, as_of)
    tables = canonical_tables(store)
    value = customer_value(
        resolved_orders(tables.service_orders, tables.vehicles),
        tables.interactions,
        scores.select("customer_id", "tier"),
        as_of=as_of,
        scoring=config.scoring,
        value=config.value,
    )
    return segment_features(scores, value)


def segment_snapshot(
    store: Store,
    scheme: Scheme,
    config: Config,
    *,
    as_of: dt.date | None = None,
    k: int | Literal["auto"] | None = None,
) -> Segmentation:
    """Segment the customers of a stored score snapshot by ``scheme`` and validate it.

    Parameters
    ----------
    store
        An open store with at least one ``customer_scores`` snapshot.
    scheme
        ``rfm-quintile``, ``pyramid`` or ``kmeans``.
    config
        The configuration (``segmentation``, ``scoring``, ``value``).
    as_of
        The snapshot to segment (default: the latest stored).
    k
        k-means only: clusters (a number, ``"auto"`` = best silhouette, ``None`` = config).
        The previous snapshot is clustered with the k chosen here, so stability compares
        like with like.

    Returns
    -------
    Segmentation
        The validation (and the k-means fit for ``kmeans``).

    Raises
    ------
    AftercareError
        When no score snapshot is stored, or none of ``as_of``.
    """
    dates = snapshot_dates(store, SCORES_TABLE) if store.has_table(SCORES_TABLE) else []
    if not dates:
        raise AftercareError(NO_SCORES)
    day = as_of or dates[-1]
    earlier = [d for d in dates if d < day]
    previous_day = earlier[-1] if earlier else None
    features = build_segment_features(store, day, config)
    previous = None
    fitted = None
    expected = None
    if scheme == "kmeans":
        # scikit-learn (a core dependency) is imported only when k-means runs.
        from aftercare.models.kmeans import kmeans_segments

        fitted = kmeans_segments(features, config=config, k=k)
        assignments: ir.Table | pa.Table = fitted.assignments
        expected = [f"cluster_{i}" for i in range(fitted.k)]
        if previous_day:
            previous = segment_customers(
                build_segment_features(store, previous_day, config), scheme, config, k=fitted.k
            )
    else:
        assignments = segment_customers(features, scheme, config)
        if scheme == "pyramid":
            expected = pyramid_labels(config.segmentation.pyramid_shares)
        if previous_day:
            previous = segment_customers(
                build_segment_features(store, previous_day, config), scheme, config
            )
    validation = validate_segmentation(
        assignments, features, previous=previous, expected_segments=expected
    )
    return Segmentation(scheme, day, previous_day, validation, fitted)
