"""Open actions that consent no longer allows (R-ACT-CONSENT).

Ibis only, ``Table -> Table``; nothing here connects or executes. The engine blocks new
actions by the same rules (:func:`aftercare.playbook.engine.plan_actions`, step 4) and the
derived status stops them (:func:`aftercare.playbook.outcomes.current_status`); all three
take a customer's current preference from
:func:`aftercare.pipeline.latest.latest_contact_preference` (an opt-out wins a tie).
"""

from __future__ import annotations

import ibis.expr.types as ir

from aftercare.pipeline.latest import latest_contact_preference


def consent_stops(actions: ir.Table, customers: ir.Table, preferences: ir.Table) -> ir.Table:
    """The open actions to stop: the customer is do-not-contact, or it is marketing without
    consent.

    Do-not-contact: the customer master's flag, or the latest ``contact_preferences`` row.
    Marketing consent comes from the customer master (unknown: no consent); an action of a
    customer missing from the master is stopped only by a preference.

    Grain: one row per open action to stop.

    Parameters
    ----------
    actions, customers, preferences
        The stored ``actions``, canonical ``customers`` and stored ``contact_preferences``.

    Returns
    -------
    ir.Table
        action_id.
    """
    c = customers
    prefs = latest_contact_preference(preferences)
    opted_out = prefs.filter(prefs.do_not_contact).select("customer_id")
    dnc = c.filter(c.do_not_contact.fill_null(False)).select("customer_id").union(opted_out)
    no_consent = c.filter(~c.marketing_consent.fill_null(False)).select("customer_id")
    open_ = actions.filter(actions.status == "open")
    # Two semi-joins, not one filter with ``IN … OR IN …``: PostgreSQL cannot hash a
    # subquery under an OR and scanned its 500k customers once per open action (issue 11:
    # minutes at 1M customers).
    opted_out_actions = open_.filter(open_.customer_id.isin(dnc.customer_id))
    marketing = open_.filter(open_.is_marketing)
    unconsented = marketing.filter(marketing.customer_id.isin(no_consent.customer_id))
    return opted_out_actions.select("action_id").union(
        unconsented.select("action_id"), distinct=True
    )
