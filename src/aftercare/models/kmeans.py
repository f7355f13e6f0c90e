"""K-means segmentation on standardised customer features (SPEC §8).

The feature table (:func:`aftercare.pipeline.segments.segment_features`) is reduced in the
engine to four numbers per customer (:func:`kmeans_inputs`), pulled to Arrow and modelled with
scikit-learn. Model features, each z-scored (mean 0, population standard deviation 1; a
constant column becomes 0):

- ``log1p_monetary`` = log(1 + max(monetary, 0)): spend is heavy-tailed; net refunds count as 0;
- ``frequency``: visits in the window;
- ``recency_days``: never visited → ``window_days + 1`` (just beyond the scoring window);
- ``net_profit``: NULL (no value row) → 0.

Determinism: rows are sorted by ``customer_id`` (Arrow byte order, whatever the engine
returned) before fitting, and every fit uses :data:`RANDOM_STATE`, so the same data gives the
same clusters on every engine. Cluster labels are renumbered by mean monetary, highest first
(label 0 = most valuable), so names stay stable between runs and snapshots.

The chosen k is reported with its silhouette: :func:`silhouette_by_k` fits each k of
``segmentation.kmeans_k_range`` (default 2–8) on a sample of at most
:data:`SILHOUETTE_SAMPLE` customers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import ibis
import ibis.expr.types as ir
import numpy as np
import pyarrow as pa

from aftercare.config import Config
from aftercare.errors import AftercareError

# CONFIG: module constants until SegmentationConfig has these fields.
#: At most this many customers are used for the silhouette scan (keeps it fast).
SILHOUETTE_SAMPLE = 10_000
#: Seed of every random choice (k-means++ initialisation, silhouette sample).
RANDOM_STATE = 0
#: k-means restarts per fit; the best inertia wins.
KMEANS_N_INIT = 10

MODEL_FEATURES = ("log1p_monetary", "frequency", "recency_days", "net_profit")


def kmeans_inputs(features: ir.Table, *, window_days: int) -> ir.Table:
    """The raw model inputs of every customer, reduced in the engine.

    Grain: one row per customer of ``features``.

    Returns
    -------
    ir.Table
        customer_id, monetary (float64, as is, for the cluster profile), and the un-scaled
        :data:`MODEL_FEATURES` except the log (taken in numpy): ``monetary_floor0``,
        ``frequency``, ``recency_days``, ``net_profit`` (all float64, no NULLs).
    """
    monetary = features.monetary.cast("float64").fill_null(0.0)
    return features.select(
        customer_id=features.customer_id,
        monetary=monetary,
        monetary_floor0=ibis.greatest(monetary, ibis.literal(0.0, type="float64")),
        frequency=features.frequency.cast("float64").fill_null(0.0),
        recency_days=features.recency_days.cast("float64").fill_null(float(window_days + 1)),
        net_profit=features.net_profit.cast("float64").fill_null(0.0),
    )


def standardise(x: np.ndarray) -> np.ndarray:
    """Z-score each column (population std); a constant column becomes all zeros."""
    mean = x.mean(axis=0)
    std = x.std(axis=0)
    return (x - mean) / np.where(std > 0, std, 1.0)


def order_labels_by_value(
    labels: np.ndarray, monetary: np.ndarray, net_profit: np.ndarray
) -> np.ndarray:
    """Renumber cluster labels by mean monetary, highest first (then net profit, old label)."""
    k = int(labels.max()) + 1 if labels.size else 0
    counts = np.bincount(labels, minlength=k).astype(float)
    safe = np.where(counts > 0, counts, 1.0)
    mean_monetary = np.bincount(labels, weights=monetary, minlength=k) / safe
    mean_profit = np.bincount(labels, weights=net_profit, minlength=k) / safe
    # lexsort: last key is primary; negate for descending.
    order = np.lexsort((np.arange(k), -mean_profit, -mean_monetary))
    new_label = np.empty(k, dtype=np.int64)
    new_label[order] = np.arange(k)
    return new_label[labels]


def _fit(z: np.ndarray, k: int) -> tuple[np.ndarray, float]:
    from sklearn.cluster import KMeans

    model = KMeans(n_clusters=k, n_init=KMEANS_N_INIT, random_state=RANDOM_STATE)
    labels = model.fit_predict(z)
    return labels.astype(np.int64), float(model.inertia_)


def silhouette_by_k(
    z: np.ndarray,
    *,
    k_range: tuple[int, int],
    sample_size: int = SILHOUETTE_SAMPLE,
) -> dict[int, float]:
    """Mean silhouette of a k-means fit for each k in ``k_range`` (SPEC §8).

    Fits and scores on one random sample of at most ``sample_size`` rows (seeded). A k that
    the sample cannot support (k ≥ distinct points) is left out.

    Parameters
    ----------
    z
        Standardised features, one row per customer.
    k_range
        Inclusive smallest and largest k (``segmentation.kmeans_k_range``).
    sample_size
        Largest sample to fit and score.

    Returns
    -------
    dict
        k → mean silhouette coefficient (−1…1, higher = better separated).
    """
    from sklearn.metrics import silhouette_score

    rows = z.shape[0]
    if rows > sample_size:
        rng = np.random.default_rng(RANDOM_STATE)
        z = z[np.sort(rng.choice(rows, size=sample_size, replace=False))]
    distinct = np.unique(z, axis=0).shape[0]
    scores: dict[int, float] = {}
    for k in range(k_range[0], k_range[1] + 1):
        if k >= distinct:
            break
        labels, _ = _fit(z, k)
        scores[k] = float(silhouette_score(z, labels))
    return scores


def best_k(scores: dict[int, float]) -> int | None:
    """The k with the highest silhouette (the smaller k on a tie); None when none was scored."""
    if not scores:
        return None
    return max(sorted(scores), key=lambda k: scores[k])


@dataclass(frozen=True)
class KMeansSegmentation:
    """A k-means segmentation and how it was chosen.

    Attributes
    ----------
    assignments
        One row per customer: customer_id, scheme (``kmeans``), cluster (0 = highest mean
        monetary), segment (``cluster_0`` …).
    k
        The number of clusters fitted.
    silhouette
        k → mean silhouette of :func:`silhouette_by_k` (sampled).
    best_k
        The k with the best silhouette.
    inertia
        Within-cluster sum of squares of the final fit (standardised units).
    profile
        One row per cluster: cluster, customers, mean_monetary, mean_frequency,
        mean_recency_days, mean_net_profit (original units).
    """

    assignments: pa.Table
    k: int
    silhouette: dict[int, float]
    best_k: int | None
    inertia: float
    profile: pa.Table


def _profile(labels: np.ndarray, k: int, columns: dict[str, np.ndarray]) -> pa.Table:
    counts = np.bincount(labels, minlength=k)
    out: dict[str, object] = {"cluster": np.arange(k, dtype=np.int64), "customers": counts}
    for name, values in columns.items():
        out[f"mean_{name}"] = np.bincount(labels, weights=values, minlength=k) / np.maximum(
            counts, 1
        )
    return pa.table(out)


def kmeans_segments(
    features: ir.Table | pa.Table,
    *,
    config: Config,
    k: int | Literal["auto"] | None = None,
    silhouette: bool = True,
) -> KMeansSegmentation:
    """Cluster customers with k-means on standardised features (SPEC §8).

    Grain of ``assignments``: one row per customer of ``features``.

    Parameters
    ----------
    features
        The feature table (:func:`aftercare.pipeline.segments.segment_features`); an Arrow
        table is read through an in-memory Ibis table.
    config
        ``segmentation.kmeans_k`` (default k), ``segmentation.kmeans_k_range`` (the
        silhouette scan) and ``scoring.window_days`` (never visited).
    k
        Clusters to fit: a number, ``"auto"`` (the best silhouette), or None (the config's).
    silhouette
        Run the silhouette scan (always run for ``"auto"``); without it ``silhouette`` is
        empty and ``best_k`` None.

    Returns
    -------
    KMeansSegmentation
        Assignments, chosen k, silhouette per k, profile.

    Raises
    ------
    AftercareError
        When there are fewer distinct customers than clusters.
    """
    if isinstance(features, pa.Table):
        features = ibis.memtable(features)
    raw = kmeans_inputs(features, window_days=config.scoring.window_days).to_pyarrow()
    raw = raw.sort_by("customer_id")
    monetary = raw.column("monetary").to_numpy()
    columns = {
        "log1p_monetary": np.log1p(raw.column("monetary_floor0").to_numpy()),
        "frequency": raw.column("frequency").to_numpy(),
        "recency_days": raw.column("recency_days").to_numpy(),
        "net_profit": raw.column("net_profit").to_numpy(),
    }
    z = standardise(np.column_stack([columns[n] for n in MODEL_FEATURES]))
    k_range = config.segmentation.kmeans_k_range
    scores = silhouette_by_k(z, k_range=k_range) if silhouette or k == "auto" else {}
    chosen = best_k(scores) if k == "auto" else (k or config.segmentation.kmeans_k)
    if chosen is None:
        raise AftercareError("k-means: too few distinct customers to choose k")
    distinct = np.unique(z, axis=0).shape[0] if z.size else 0
    if chosen < 1 or chosen > distinct:
        raise AftercareError(
            f"k-means: cannot make {chosen} clusters of {distinct} distinct customers"
        )
    labels, inertia = _fit(z, chosen)
    labels = order_labels_by_value(labels, monetary, columns["net_profit"])
    assignments = pa.table(
        {
            "customer_id": raw.column("customer_id"),
            "scheme": pa.array(["kmeans"] * raw.num_rows, pa.string()),
            "cluster": pa.array(labels, pa.int64()),
            "segment": pa.array([f"cluster_{i}" for i in range(chosen)], pa.string()).take(
                pa.array(labels)
            ),
        }
    )
    profile = _profile(
        labels,
        chosen,
        {
            "monetary": monetary,
            "frequency": columns["frequency"],
            "recency_days": columns["recency_days"],
            "net_profit": columns["net_profit"],
        },
    )
    return KMeansSegmentation(
        assignments=assignments,
        k=chosen,
        silhouette=scores,
        best_k=best_k(scores),
        inertia=inertia,
        profile=profile,
    )
