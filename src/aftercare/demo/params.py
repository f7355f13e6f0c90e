"""Knobs of the synthetic dealer: latent customer segments and their behaviour.

These are *calibration constants of the synthetic population*, not business rules: they are
tuned so that the RFM+L scorecard of SPEC §2 (with its default config) sorts the generated
customers into a tier mix near the seed's 5/15/30/40/10 %, with platinum customers spending
about 15000 CNY a year at 55 % gross margin and regular customers about 800 a year at 35 %
(seed 000). ``tests/test_demo_calibration.py`` checks that with its own scorer.

Segments are indexed 0..4 in :data:`SEGMENTS` order; every per-segment tuple follows it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

SEGMENTS: tuple[str, ...] = ("platinum", "gold", "silver", "regular", "lapsed")

# Service categories as the generator knows them (canonical names, SPEC §1).
CATEGORIES: tuple[str, ...] = (
    "maintenance",
    "repair",
    "bodywork",
    "warranty",
    "insurance",
    "value_added",
)
MAINTENANCE, REPAIR, BODYWORK, WARRANTY, INSURANCE, VALUE_ADDED = range(6)
PAYERS: tuple[str, ...] = ("customer", "warranty", "insurance", "internal")
PAY_CUSTOMER, PAY_WARRANTY, PAY_INSURANCE, PAY_INTERNAL = range(4)


@dataclass(frozen=True)
class Model:
    """A vehicle model sold and serviced by the demo centre."""

    brand: str
    name: str
    is_ev: bool
    share: float
    # Maintenance schedule: every `months` or `km`, whichever comes first.
    service_months: int
    service_km: int
    # World manufacturer identifier (first three VIN characters).
    wmi: str


MODELS: tuple[Model, ...] = (
    Model("大众", "朗逸", False, 0.24, 12, 10000, "LSV"),
    Model("大众", "帕萨特", False, 0.16, 12, 10000, "LSV"),
    Model("大众", "途观L", False, 0.18, 12, 10000, "LSV"),
    Model("大众", "途昂", False, 0.08, 12, 10000, "LSV"),
    Model("大众", "凌渡L", False, 0.10, 6, 7500, "LSV"),
    Model("大众", "ID.4 X", True, 0.14, 12, 20000, "LSV"),
    Model("大众", "ID.6 X", True, 0.10, 12, 20000, "LSV"),
)


@dataclass(frozen=True)
class DemoParams:
    """Behaviour of the latent segments (index order: :data:`SEGMENTS`)."""

    # Latent shares differ from the seed's tier mix: scoring is noisy (a gold-like customer
    # who just had a quiet year scores silver), so these are tuned to land on 5/15/30/40/10.
    segment_share: tuple[float, ...] = (0.065, 0.155, 0.28, 0.455, 0.045)
    # Chance of a second / third vehicle (about 1.2 vehicles per customer overall).
    second_vehicle: tuple[float, ...] = (0.50, 0.35, 0.20, 0.12, 0.10)
    third_vehicle: tuple[float, ...] = (0.15, 0.05, 0.02, 0.01, 0.0)
    # Unscheduled visits (repair, bodywork, accident, warranty, accessories) per customer-year.
    extra_visits_per_year: tuple[float, ...] = (7.0, 2.5, 1.0, 0.15, 0.2)
    # Multiplier of every order amount.
    spend_multiplier: tuple[float, ...] = (1.05, 1.2, 1.0, 1.0, 0.9)
    gross_margin: tuple[float, ...] = (0.56, 0.48, 0.40, 0.32, 0.32)
    # Share of the segment that stopped coming some time in the last year (churn risk).
    at_risk_share: tuple[float, ...] = (0.02, 0.08, 0.12, 0.15, 1.0)
    # Lapsed customers stopped between these many days before the as-of date.
    lapsed_stop_days: tuple[int, int] = (380, 1100)
    at_risk_stop_days: tuple[int, int] = (60, 330)
    extended_warranty: tuple[float, ...] = (0.90, 0.45, 0.25, 0.10, 0.05)
    # Share of vehicles insured through the centre (their policy's expiry is in the DMS).
    insured_here: tuple[float, ...] = (0.85, 0.70, 0.55, 0.40, 0.20)
    # Interactions per customer-year, by type.
    brand_events_per_year: tuple[float, ...] = (1.5, 0.4, 0.15, 0.05, 0.02)
    referrals_per_year: tuple[float, ...] = (0.7, 0.2, 0.05, 0.02, 0.01)
    complaints_per_year: tuple[float, ...] = (0.05, 0.10, 0.15, 0.15, 0.30)
    competitor_visits_per_year: tuple[float, ...] = (0.02, 0.05, 0.10, 0.15, 0.40)
    praise_per_year: tuple[float, ...] = (0.40, 0.20, 0.10, 0.05, 0.02)
    contacts_per_year: tuple[float, ...] = (2.0, 1.0, 0.6, 0.4, 0.3)
    complaint_resolved: tuple[float, ...] = (0.95, 0.90, 0.85, 0.80, 0.55)
    # NPS: chance of a survey after an order; mean score by segment (0–10, seed 004 ≈ 76 NPS).
    survey_share: float = 0.25
    nps_mean: tuple[float, ...] = (9.3, 9.0, 8.7, 8.3, 6.8)
    price_sensitivity_high: tuple[float, ...] = (0.05, 0.10, 0.25, 0.40, 0.45)
    # Orders.
    daily_km: tuple[float, float] = (20.0, 80.0)
    first_service_days: tuple[int, int] = (85, 125)
    maintenance_days: tuple[int, int] = (150, 380)
    # Low-engagement segments come about once a year whatever their mileage.
    min_maintenance_days: tuple[int, ...] = (150, 150, 200, 330, 330)
    maintenance_jitter: float = 0.12
    same_day_addon: float = 0.05
    refund_share: float = 0.003
    internal_share: float = 0.01
    declined_share: float = 0.12
    unmatched_share: float = 0.001
    blank_customer_share: float = 0.10
    new_category_rows: int = 5
    vehicle_max_age_years: float = 10.0
    # Vehicle ages by lifecycle band (R-LIFE: < 1, 1–3, 3–5, 5–8, 8+ years): seed 004's store,
    # 342 / 687 / 523 / 289 / 156 of its 1,997 customers, a young and growing 4S store.
    vehicle_age_band_years: tuple[float, ...] = (0.0, 1.0, 3.0, 5.0, 8.0)
    vehicle_age_shares: tuple[float, ...] = (0.171, 0.344, 0.262, 0.145, 0.078)
    factory_warranty_years: int = 3
    extra_mix: tuple[float, ...] = field(
        # repair, bodywork, warranty, insurance, value_added (maintenance comes on schedule)
        default=(0.35, 0.13, 0.17, 0.12, 0.23)
    )
    # Mean settled amount per order by category (CNY) before the segment multiplier.
    category_mean_amount: tuple[float, ...] = (650.0, 1500.0, 2600.0, 1500.0, 4200.0, 1300.0)
    category_margin_offset: tuple[float, ...] = (0.0, -0.03, 0.02, -0.20, -0.05, 0.10)
