"""Print the manager's headline: tier mix, CRR, Pareto, churn risk (the main job's end)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.table import Table

from aftercare.cli.score_cmds import print_tier_mix

if TYPE_CHECKING:
    from rich.console import Console

    from aftercare.services.summary import Headline


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def print_headline(headline: Headline, console: Console) -> None:
    """The headline figures of one as-of date, each with its definition in a word."""
    print_tier_mix(headline.mix)
    crr = headline.crr
    crr_text = "—" if crr["crr_pct"] is None else f"{crr['crr_pct']:.1f} %"
    console.print(
        f"Retention (CRR, {crr['period_start']} → {crr['period_end']}): [bold]{crr_text}[/] "
        f"({crr['band'] or 'no band'}) — {crr['customers_at_end']} active at end, "
        f"{crr['new_customers']} new, {crr['customers_at_start']} at start",
        highlight=False,
    )
    p = headline.pareto
    console.print(
        f"Pareto: the top {p['top_share']:.0%} of customers ({p['top_customers']}) bring "
        f"[bold]{_pct(p['top_net_profit_share'])}[/] of net profit; "
        f"{_pct(p['loss_making_share'])} of customers are loss-making",
        highlight=False,
    )
    levels = ", ".join(
        f"{level} {headline.risk_counts.get(level, 0)}" for level in ("high", "medium", "low")
    )
    reasons = ", ".join(f"{k} {v}" for k, v in sorted(headline.reason_counts.items()))
    console.print(f"Churn risk: {levels}; likely reasons (lapsed or high risk): {reasons}")
    if headline.top_risks:
        grid = Table(title="Most valuable customers at high churn risk")
        for col in ("customer", "name", "tier", "spend (12 m)", "LTV", "days absent", "why"):
            grid.add_column(col)
        for r in headline.top_risks:
            grid.add_row(
                r["customer_id"],
                r.get("name") or "",
                r["tier"],
                f"{r['annual_spend']:,.0f}",
                f"{r['ltv']:,.0f}" if r["ltv"] is not None else "—",
                str(r["days_absent"]),
                r["reasons"] or "",
            )
        console.print(grid)
