"""``aftercare segment``: RFM quintiles, profit pyramid or k-means, validated (R-SEG-VALID).

Works on a stored ``customer_scores`` snapshot (``aftercare score`` first) and that date's
customer value. :func:`build_segment_features` is the glue that belongs in the service layer
(``aftercare.services.analytics``) once it exists; the command only prints.
"""

from __future__ import annotations

import datetime as dt
import math
from enum import StrEnum
from typing import Annotated, Literal

import ibis.expr.types as ir
import pyarrow as pa
import typer
from rich.table import Table

from aftercare.cli.common import ConfigOption, DbOption, app, console, guarded, read_config
from aftercare.config import Config
from aftercare.errors import AftercareError
from aftercare.models import Scheme, segment_customers
from aftercare.models.validation import SegmentValidation, validate_segmentation
from aftercare.pipeline.segments import pyramid_labels, segment_features
from aftercare.pipeline.staging import resolved_orders
from aftercare.pipeline.value import customer_value
from aftercare.services.inputs import canonical_tables
from aftercare.services.scoring import SCORES_TABLE, snapshot
from aftercare.store import open_store
from aftercare.store.connect import Store
from aftercare.store.snapshots import snapshot_dates

NO_SCORES = "no scores yet: run `aftercare score` first"


class SchemeChoice(StrEnum):
    """Segmentation schemes of SPEC §8."""

    rfm_quintile = "rfm-quintile"
    pyramid = "pyramid"
    kmeans = "kmeans"


def build_segment_features(store: Store, as_of: dt.date, config: Config) -> ir.Table:
    """The feature table of one stored score snapshot (SPEC §8).

    Grain: one row per customer scored as of ``as_of``. Scores come from the stored
    snapshot; net profit is computed for the same date and the snapshot's tiers
    (R-VAL-PROFIT). To move into ``aftercare.services.analytics``.

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


def _parse_k(value: str | None) -> int | Literal["auto"] | None:
    if value is None:
        return None
    if value == "auto":
        return "auto"
    try:
        k = int(value)
    except ValueError:
        raise typer.BadParameter(
            "a whole number of clusters, or 'auto'", param_hint="--k"
        ) from None
    if k < 1:
        raise typer.BadParameter("at least 1 cluster", param_hint="--k")
    return k


def _print_validation(title: str, check: SegmentValidation, since: dt.date | None) -> None:
    console.print(title, highlight=False)
    grid = Table()
    for col in ("segment", "customers", "share"):
        grid.add_column(col, justify="left" if col == "segment" else "right")
    for row in check.sizes.to_pylist():
        grid.add_row(row["segment"], str(row["customers"]), f"{row['share']:.1%}")
    console.print(grid)
    console.print("Kruskal–Wallis (do the segments differ?):", highlight=False)
    for test in check.differences:
        if math.isnan(test.h):
            console.print(f"  {test.metric}: undefined (one segment or all values equal)")
            continue
        console.print(
            f"  {test.metric} ({test.column}): H = {test.h:.2f}, df = {test.degrees_of_freedom}, "
            f"p = {test.p_value:.3g}",
            highlight=False,
        )
    if check.stability is not None and check.stability.share is not None:
        s = check.stability
        console.print(
            f"Stability since {since}: {s.share:.1%} of {s.customers_in_both} customers in both "
            f"snapshots kept their segment",
            highlight=False,
        )
    elif since is None:
        console.print("Stability: no earlier snapshot to compare with")


@app.command("segment")
@guarded
def segment_cmd(
    scheme: Annotated[
        SchemeChoice, typer.Option("--scheme", help="Segmentation scheme.")
    ] = SchemeChoice.rfm_quintile,
    k: Annotated[
        str | None,
        typer.Option(
            "--k",
            help="k-means clusters: a number or 'auto' (best silhouette); "
            "default segmentation.kmeans_k.",
            show_default=False,
        ),
    ] = None,
    as_of: Annotated[
        dt.datetime | None,
        typer.Option(
            "--as-of", formats=["%Y-%m-%d"], help="Score snapshot date (default: the latest)."
        ),
    ] = None,
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Segment customers (RFM quintiles, profit pyramid, k-means) and validate it (R-SEG-VALID)."""
    clusters = _parse_k(k)
    if clusters is not None and scheme is not SchemeChoice.kmeans:
        raise typer.BadParameter("only with --scheme kmeans", param_hint="--k")
    cfg = read_config(config)
    with open_store(db, create=False) as store:
        dates = snapshot_dates(store, SCORES_TABLE) if store.has_table(SCORES_TABLE) else []
        if not dates:
            raise AftercareError(NO_SCORES)
        day = as_of.date() if as_of else dates[-1]
        earlier = [d for d in dates if d < day]
        previous_day = earlier[-1] if earlier else None
        features = build_segment_features(store, day, cfg)
        previous = None
        if scheme is SchemeChoice.kmeans:
            from aftercare.models.kmeans import kmeans_segments

            fitted = kmeans_segments(features, config=cfg, k=clusters)
            assignments: ir.Table | pa.Table = fitted.assignments
            if previous_day:
                previous = segment_customers(
                    build_segment_features(store, previous_day, cfg), "kmeans", cfg, k=fitted.k
                )
        else:
            name: Scheme = "pyramid" if scheme is SchemeChoice.pyramid else "rfm-quintile"
            assignments = segment_customers(features, name, cfg)
            if previous_day:
                previous = segment_customers(
                    build_segment_features(store, previous_day, cfg), name, cfg
                )
        expected = None
        if scheme is SchemeChoice.pyramid:
            expected = pyramid_labels(cfg.segmentation.pyramid_shares)
        elif scheme is SchemeChoice.kmeans:
            expected = [f"cluster_{i}" for i in range(fitted.k)]
        check = validate_segmentation(
            assignments, features, previous=previous, expected_segments=expected
        )
    total = sum(check.sizes.column("customers").to_pylist())
    _print_validation(
        f"Segments ({scheme.value}) as of {day}, {total} customers", check, previous_day
    )
    if scheme is SchemeChoice.kmeans:
        scan = ", ".join(f"k={n}: {s:.3f}" for n, s in fitted.silhouette.items())
        console.print(
            f"k-means: k = {fitted.k} chosen; best silhouette k = {fitted.best_k}; "
            f"silhouette {scan or 'not computable (too few distinct customers)'}",
            highlight=False,
        )
        grid = Table(title="Cluster profile (0 = highest mean spend)")
        for col in ("cluster", "customers", "spend", "visits", "recency days", "net profit"):
            grid.add_column(col, justify="right")
        for p in fitted.profile.to_pylist():
            grid.add_row(
                f"cluster_{p['cluster']}",
                str(p["customers"]),
                f"{p['mean_monetary']:,.0f}",
                f"{p['mean_frequency']:.1f}",
                f"{p['mean_recency_days']:.0f}",
                f"{p['mean_net_profit']:,.0f}",
            )
        console.print(grid)
