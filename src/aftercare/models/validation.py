"""R-SEG-VALID: is a segmentation worth using?

For any segmentation (RFM quintiles, profit pyramid, k-means, the RFM+L tiers themselves):

- **size** and share of each segment;
- a **Kruskal–Wallis** test per metric (spend = ``monetary``, visits = ``frequency``,
  profit = ``net_profit``) that the segments differ — rank-based, so heavy-tailed spend needs
  no normality (ANOVA would); H is tie-corrected, p from the χ² approximation with
  (segments − 1) degrees of freedom (:func:`scipy.stats.kruskal`);
- **stability** between two snapshots' assignments: of the customers present in both, the
  share with the same segment.

Assignments are tables with ``customer_id`` and ``segment``, lazy Ibis or Arrow (k-means).
Sizes and stability run in the engine when both inputs are Ibis tables; the test pulls only
(segment, metric) pairs, grouped with Arrow and numpy — no per-customer Python loop.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import ibis.expr.types as ir
import numpy as np
import pyarrow as pa

#: Metric name → feature column tested across segments (R-SEG-VALID: spend, visits, profit).
METRICS: dict[str, str] = {"spend": "monetary", "visits": "frequency", "profit": "net_profit"}


def _arrow(table: ir.Table | pa.Table, columns: list[str]) -> pa.Table:
    if isinstance(table, pa.Table):
        return table.select(columns)
    return table.select(*columns).to_pyarrow()


def segment_sizes(
    assignments: ir.Table | pa.Table, *, expected: list[str] | None = None
) -> pa.Table:
    """Customers and share of each segment (R-SEG-VALID).

    Grain: one row per segment, largest first (then by name); with ``expected`` (e.g. the
    pyramid levels, best first) every expected segment is listed in that order, empty ones
    with 0 customers, then any other segment found.

    Returns
    -------
    pa.Table
        segment, customers (int64), share (float64, of all assigned customers).
    """
    if isinstance(assignments, ir.Table):
        a = assignments
        counts = a.group_by("segment").aggregate(customers=a.count())
        totals = a.aggregate(total=a.count())
        joined = counts.cross_join(totals)
        table = joined.select(
            segment=joined.segment,
            customers=joined.customers.cast("int64"),
            share=joined.customers.cast("float64") / joined.total.cast("float64"),
        ).to_pyarrow()
    else:
        grouped = assignments.group_by("segment").aggregate([("customer_id", "count")])
        customers = grouped.column("customer_id_count").cast(pa.int64())
        total = assignments.num_rows
        table = pa.table(
            {
                "segment": grouped.column("segment"),
                "customers": customers,
                "share": pa.array(customers.to_numpy() / total if total else [], pa.float64()),
            }
        )
    table = table.sort_by([("customers", "descending"), ("segment", "ascending")])
    if expected is None:
        return table
    found = dict(zip(table.column("segment").to_pylist(), table.to_pylist(), strict=True))
    names = [*expected, *[n for n in found if n not in expected]]
    empty = {"customers": 0, "share": 0.0}
    rows = [found.get(n, {"segment": n, **empty}) for n in names]
    return pa.Table.from_pylist(rows, schema=table.schema)


@dataclass(frozen=True)
class KruskalResult:
    """Kruskal–Wallis test of one metric across segments.

    ``h`` and ``p_value`` are NaN when the test is undefined: fewer than two segments with a
    value, or every value equal.
    """

    metric: str
    column: str
    h: float
    p_value: float
    segments: int
    customers: int

    @property
    def degrees_of_freedom(self) -> int:
        """Segments − 1."""
        return max(self.segments - 1, 0)


def kruskal_wallis(
    segment: np.ndarray, values: np.ndarray, *, metric: str = "", column: str = ""
) -> KruskalResult:
    """Kruskal–Wallis H and p of ``values`` grouped by ``segment`` (NaN values left out)."""
    from scipy import stats

    keep = ~np.isnan(values)
    segment, values = segment[keep], values[keep]
    order = np.argsort(segment, kind="stable")
    segment, values = segment[order], values[order]
    _, starts = np.unique(segment, return_index=True)
    groups = np.split(values, starts[1:]) if values.size else []
    h = p = math.nan
    if len(groups) >= 2 and np.ptp(values) > 0:
        result = stats.kruskal(*groups)
        h, p = float(result.statistic), float(result.pvalue)
    return KruskalResult(metric, column, h, p, len(groups), int(values.size))


def segment_differences(
    assignments: ir.Table | pa.Table,
    features: ir.Table | pa.Table,
    *,
    metrics: dict[str, str] | None = None,
) -> list[KruskalResult]:
    """Kruskal–Wallis per metric: do the segments differ on spend, visits, profit? (R-SEG-VALID)

    Parameters
    ----------
    assignments
        customer_id, segment.
    features
        customer_id and the metric columns (default :data:`METRICS`).
    metrics
        Metric name → column.

    Returns
    -------
    list of KruskalResult
        One per metric, in ``metrics`` order.
    """
    metrics = METRICS if metrics is None else metrics
    columns = list(dict.fromkeys(metrics.values()))
    if isinstance(assignments, ir.Table) and isinstance(features, ir.Table):
        a = assignments.select("customer_id", "segment")
        joined = a.inner_join(features.select("customer_id", *columns), "customer_id")
        table = joined.select(
            "segment", *[joined[c].cast("float64").name(c) for c in columns]
        ).to_pyarrow()
    else:
        a = _arrow(assignments, ["customer_id", "segment"])
        f = _arrow(features, ["customer_id", *columns])
        table = a.join(f, "customer_id", join_type="inner")
    segment = table.column("segment").to_numpy(zero_copy_only=False).astype(str)
    results = []
    for metric, column in metrics.items():
        values = table.column(column).cast(pa.float64()).to_numpy(zero_copy_only=False)
        results.append(kruskal_wallis(segment, values, metric=metric, column=column))
    return results


@dataclass(frozen=True)
class Stability:
    """How many customers kept their segment between two snapshots (R-SEG-VALID)."""

    customers_before: int
    customers_after: int
    customers_in_both: int
    kept: int

    @property
    def share(self) -> float | None:
        """kept ÷ customers in both snapshots (None when nobody is in both)."""
        return self.kept / self.customers_in_both if self.customers_in_both else None


def segment_stability(before: ir.Table | pa.Table, after: ir.Table | pa.Table) -> Stability:
    """Share of customers in both snapshots' assignments that keep their segment.

    Customers present in only one snapshot (new, gone) are counted but do not enter the share.
    Segment names are compared as they are, so the scheme must name segments stably (the
    quintile cells, pyramid levels and value-ordered k-means clusters do).
    """
    if isinstance(before, ir.Table) and isinstance(after, ir.Table):
        b = before.select(customer_id="customer_id", segment_before="segment")
        a = after.select(customer_id="customer_id", segment_after="segment")
        both = b.inner_join(a, "customer_id")
        counts = (
            both.aggregate(
                in_both=both.count(),
                kept=both.count(where=both.segment_before == both.segment_after),
            )
            .cross_join(b.aggregate(n_before=b.count()))
            .cross_join(a.aggregate(n_after=a.count()))
            .to_pyarrow()
            .to_pylist()[0]
        )
        return Stability(
            int(counts["n_before"]),
            int(counts["n_after"]),
            int(counts["in_both"]),
            int(counts["kept"] or 0),
        )
    b = _arrow(before, ["customer_id", "segment"]).rename_columns(["customer_id", "before"])
    a = _arrow(after, ["customer_id", "segment"]).rename_columns(["customer_id", "after"])
    both = b.join(a, "customer_id", join_type="inner")
    same = np.asarray(both.column("before").to_numpy(zero_copy_only=False)) == np.asarray(
        both.column("after").to_numpy(zero_copy_only=False)
    )
    return Stability(b.num_rows, a.num_rows, both.num_rows, int(same.sum()))


@dataclass(frozen=True)
class SegmentValidation:
    """R-SEG-VALID for one segmentation: sizes, differences, stability (when a previous one)."""

    sizes: pa.Table
    differences: list[KruskalResult]
    stability: Stability | None


def validate_segmentation(
    assignments: ir.Table | pa.Table,
    features: ir.Table | pa.Table,
    *,
    previous: ir.Table | pa.Table | None = None,
    expected_segments: list[str] | None = None,
) -> SegmentValidation:
    """Validate a segmentation (R-SEG-VALID).

    Parameters
    ----------
    assignments
        customer_id, segment (one row per customer).
    features
        The feature table of the same snapshot (customer_id, monetary, frequency,
        net_profit).
    previous
        The same scheme's assignments at an earlier snapshot, for stability.
    expected_segments
        Segment names to list even when empty, in this order (:func:`segment_sizes`).

    Returns
    -------
    SegmentValidation
        Segment sizes, Kruskal–Wallis per metric, stability (None without ``previous``).
    """
    return SegmentValidation(
        sizes=segment_sizes(assignments, expected=expected_segments),
        differences=segment_differences(assignments, features),
        stability=None if previous is None else segment_stability(previous, assignments),
    )


__all__ = [
    "METRICS",
    "KruskalResult",
    "SegmentValidation",
    "Stability",
    "kruskal_wallis",
    "segment_differences",
    "segment_sizes",
    "segment_stability",
    "validate_segmentation",
]
