"""``aftercare segment``: RFM quintiles, profit pyramid or k-means, validated (R-SEG-VALID).

Works on a stored ``customer_scores`` snapshot (``aftercare score`` first) and that date's
customer value; :func:`aftercare.services.segments.segment_snapshot` does the work, the
command only prints.
"""

from __future__ import annotations

import datetime as dt
import math
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Literal

import typer
from rich.table import Table

from aftercare.cli.common import ConfigOption, DbOption, app, console, guarded, read_config

if TYPE_CHECKING:
    from aftercare.services.segments import Scheme, Segmentation


class SchemeChoice(StrEnum):
    """Segmentation schemes of SPEC §8."""

    rfm_quintile = "rfm-quintile"
    pyramid = "pyramid"
    kmeans = "kmeans"


SCHEMES: dict[SchemeChoice, Scheme] = {
    SchemeChoice.rfm_quintile: "rfm-quintile",
    SchemeChoice.pyramid: "pyramid",
    SchemeChoice.kmeans: "kmeans",
}


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


def _print_validation(run: Segmentation) -> None:
    check, since = run.validation, run.previous_as_of
    console.print(
        f"Segments ({run.scheme}) as of {run.as_of}, {run.customers} customers", highlight=False
    )
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
    from aftercare.services.segments import segment_snapshot
    from aftercare.services.workspace import open_workspace

    clusters = _parse_k(k)
    if clusters is not None and scheme is not SchemeChoice.kmeans:
        raise typer.BadParameter("only with --scheme kmeans", param_hint="--k")
    cfg = read_config(config)
    with open_workspace(db, create=False) as store:
        run = segment_snapshot(
            store, SCHEMES[scheme], cfg, as_of=as_of.date() if as_of else None, k=clusters
        )
    _print_validation(run)
    fitted = run.kmeans
    if fitted is not None:
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
