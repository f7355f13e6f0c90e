"""Every word the report shows, in Chinese (the default) and English.

Keys are stable identifiers; :func:`labels` returns the table of one language. Tiers, stages,
bands, risk levels and churn reasons are looked up by their data value (``tier.platinum``);
a value the table does not know (a renamed stage in a custom config) is shown as it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Lang = Literal["zh", "en"]
LANGS: tuple[Lang, ...] = ("zh", "en")
DEFAULT_LANG: Lang = "zh"

_ZH: dict[str, str] = {
    "html_lang": "zh-CN",
    "sep": "：",
    "title": "客户经营月报",
    "subtitle": "售后客户分层、留存与流失风险",
    "as_of": "数据截至",
    "previous_snapshot": "上期快照",
    "comparison_period": "对比期",
    "none": "无",
    "scored_now": "本报告生成时计算了该日期的评分快照",
    "generated_by": "由 Aftercare 生成",
    # headline KPIs
    "kpi.customers": "客户总数",
    "kpi.crr": "客户留存率 CRR",
    "kpi.top_share": "前{top}客户贡献净利润",
    "kpi.loss_making": "亏损客户占比",
    "kpi.high_risk": "高流失风险客户",
    "kpi.reminders": "未来{weeks}周到期保养",
    "kpi.tier_mix": "客户分层结构（实际 / 期望）",
    # sections
    "sec.tier_mix": "客户分层结构",
    "sec.migration": "客户等级迁移矩阵",
    "sec.lifecycle": "生命周期分布",
    "sec.pareto": "帕累托分析",
    "sec.profit_by_tier": "各等级利润",
    "sec.crr": "客户留存率（CRR）",
    "sec.churn": "流失风险",
    "sec.reminders": "未来保养提醒负荷",
    # tier mix
    "col.tier": "等级",
    "col.customers": "客户数",
    "col.share": "实际占比",
    "col.expected": "期望占比",
    "col.gap": "差异（百分点）",
    "series.actual": "实际",
    "series.expected": "期望",
    "axis.share": "客户占比",
    # migration
    "migration.from_to": "上期 \\ 本期",
    "migration.new": "新增",
    "migration.gone": "移除",
    "migration.none": "没有更早的评分快照，无法计算迁移。"
    "请先运行 `aftercare score --as-of <更早日期>`。",
    "migration.note": "行：上期等级；列：本期等级。对角线为等级不变，右上为降级，左下为升级。",
    "migration.up": "升级",
    "migration.down": "降级",
    "migration.same": "不变",
    # lifecycle
    "col.stage": "阶段",
    "col.stage_share": "占比",
    "col.previous": "上期",
    "col.current": "本期",
    "col.change": "变化",
    "col.change_pct": "变化率",
    "series.previous": "上期",
    "series.current": "本期",
    "axis.customers": "客户数",
    # pareto & profit
    "pareto.curve": "客户累计占比与净利润累计占比",
    "axis.customer_share": "客户累计占比（按净利润从高到低）",
    "axis.profit_share": "净利润累计占比",
    "pareto.equal": "平均分布",
    "pareto.top": "前{top}客户",
    "pareto.total_net_profit": "净利润合计",
    "pareto.top_customers": "前{top}客户数",
    "pareto.loss_making": "亏损客户数",
    "col.annual_spend": "年消费",
    "col.gross_profit": "毛利",
    "col.cost_to_serve": "服务成本",
    "col.net_profit": "净利润",
    "col.net_profit_share": "净利润占比",
    "col.customer_share": "客户占比",
    "col.loss_making": "亏损客户",
    "col.mean_ltv": "平均LTV",
    "axis.net_profit": "净利润",
    # CRR
    "crr.formula": "CRR =（期末客户数 − 期间新增客户数）÷ 期初客户数 × 100%",
    "crr.period": "统计期",
    "crr.at_start": "期初客户数",
    "crr.at_end": "期末客户数",
    "crr.new": "期间新增客户数",
    "crr.retained": "留存客户数",
    "crr.reactivated": "回流客户数",
    "crr.value": "CRR",
    "crr.band": "水平",
    "crr.na": "期初无客户，无法计算",
    # churn
    "churn.levels": "按风险等级",
    "churn.reasons": "流失/高风险客户的可能原因",
    "churn.trade_in": "其中车辆已售出或报废（转置换沟通）",
    "col.level": "风险等级",
    "col.reason": "原因",
    # reminders
    "col.week": "周",
    "col.dates": "日期",
    "col.vehicles": "车辆数",
    "reminders.overdue": "已逾期未回厂车辆",
    "reminders.note": "按每辆在用车辆的下次保养到期日（时间或预测里程，先到为准）统计。",
    "week_n": "第{n}周",
    "axis.vehicles": "车辆数",
    # this week's actions (SPEC §7)
    "sec.actions": "本周关键行动清单",
    "actions.week": "本周",
    "actions.by_rule": "门店：按优先级和规则",
    "actions.by_advisor": "按服务顾问",
    "actions.pool": "未分配（门店公共池）",
    "actions.none": "本周没有待办行动。",
    "actions.note": "截至本周日到期、尚未完成的行动（含逾期）；状态由已记录的回访结果推出。",
    "kpi.week_actions": "本周待办行动",
    "col.priority": "优先级",
    "col.rule": "规则",
    "col.actions": "行动数",
    "col.overdue": "其中逾期",
    "col.advisor": "服务顾问",
    "col.total": "合计",
    "priority.high": "高优先级",
    "priority.medium": "中优先级",
    "priority.low": "低优先级",
    # monthly KPIs (SPEC §7)
    "sec.kpis": "本月目标达成情况",
    "col.kpi": "指标",
    "col.actual": "实际",
    "col.target": "目标",
    "col.status": "状态",
    "col.basis": "分子 / 分母",
    "col.detail": "说明",
    "status.ok": "达成",
    "status.below": "需加强",
    "status.no_data": "无数据",
    "kpi.provisional": "（未定：观察期未结束）",
    "kpi.mean_score": "平均分 {mean}",
    "kpi.surveys": "{n}份问卷",
    "kpi.crr_period": "统计期 {start} → {end}",
    "kpis.chart": "各项比率：实际与目标",
    "kpis.note": "首保到店率：本月首保窗口（交车至首保到期后宽限期）结束的车辆中按时首保的比例；"
    "成长期增值渗透率：月末处于成长期、近一年购买增值服务的客户比例；"
    "流失客户召回率：本月联系上（接通、预约、到店、拒绝）的流失等级客户中{winback_days}天内回厂的比例；"
    "NPS：本月问卷（{promoter_min}–10分推荐者减0–{detractor_max}分贬损者）；CRR：截至月末的一年。",
    "unit.points": "分",
    # rule lift and bookings
    "sec.lifts": "规则效果（对照组）",
    "lifts.none": "没有设置对照组的规则（R-ACT-HOLDOUT：规则配置 holdout_share）或对照期尚未结束。",
    "lifts.note": "回厂率：行动基准日起{days}天内到店的比例。效果 = 执行组 − 对照组；"
    "意向处理效果 = 全部分配组 − 对照组。",
    "col.control": "对照组回厂率",
    "col.treated": "执行组回厂率",
    "col.assigned": "分配组回厂率",
    "col.lift": "效果（百分点）",
    "col.lift_itt": "意向处理效果（百分点）",
    "sec.bookings": "预约到店转化",
    "bookings.none": "本月没有记录预约。",
    "bookings.note": "预约后{days}天内到店即为成功（R-ACT-OUTCOME）；"
    "转化率 = 成功 ÷（预约 − 观察中）。",
    "col.bookings": "预约数",
    "col.converted": "已到店",
    "col.pending": "观察中",
    "col.conversion": "转化率",
    "kpi.bookings": "本月预约到店转化",
    # per-advisor activity of the month (issue 10)
    "sec.advisor_kpis": "服务顾问本月回访",
    "col.calls": "回访数",
    "col.reached": "接通数",
    "col.reach_rate": "接通率",
    "col.visits": "到店数",
    "col.expired": "过期未办",
    "advisor_kpis.none": "没有服务顾问。",
    "advisor_kpis.note": "回访数：本月记录了回访结果的行动（同一行动多次回访计一次，未接通也算）；"
    "接通：结果为已接通、已预约、已到店或拒绝；预约：本月记录的已预约；"
    "到店：这些预约中{days}天内到店的；过期未办：本月超过有效期仍未完成的行动（R-ACT-EXPIRE）。",
    # call sheets
    "calls.title": "服务顾问回访表",
    "calls.summary": "汇总",
    "calls.week": "行动周",
    "calls.generated": "生成日期",
    "calls.no_script": "（话术暂不可用）",
    "col.due": "到期日",
    "col.customer": "客户",
    "col.phone": "电话",
    "col.vehicle": "车辆",
    "col.channel": "渠道",
    "col.why": "原因",
    "col.script": "话术",
    "col.result": "回访结果",
    "col.note": "备注",
    "col.called_at": "回访时间",
    "col.action_id": "任务编号",
    "col.sheet": "工作表",
    # sheet names (≤ 31 characters)
    "sheet.summary": "概览",
    "sheet.tier_mix": "分层结构",
    "sheet.migration": "等级迁移",
    "sheet.lifecycle": "生命周期",
    "sheet.pareto": "帕累托",
    "sheet.profit_by_tier": "各等级利润",
    "sheet.crr": "留存率",
    "sheet.churn": "流失风险",
    "sheet.reminders": "保养提醒",
    "sheet.actions": "本周行动",
    "sheet.kpis": "月度KPI",
    "col.metric": "指标",
    "col.value": "数值",
    # values
    "tier.platinum": "白金",
    "tier.gold": "黄金",
    "tier.silver": "白银",
    "tier.regular": "普通",
    "tier.lapsed": "流失",
    "stage.new": "新客期",
    "stage.activation": "激活期",
    "stage.growth": "成长期",
    "stage.mature": "成熟期",
    "stage.decline": "衰退期",
    "band.excellent": "优秀",
    "band.good": "良好",
    "band.average": "行业平均",
    "band.below_average": "低于平均",
    "band.alert": "警戒",
    "level.low": "低",
    "level.medium": "中",
    "level.high": "高",
    "reason.passive": "被动流失（搬迁、忙碌等）",
    "reason.price": "价格因素",
    "reason.experience": "服务体验",
}

_EN: dict[str, str] = {
    "html_lang": "en",
    "sep": ": ",
    "title": "Customer Management Report",
    "subtitle": "After-sales customer tiers, retention and churn risk",
    "as_of": "Data as of",
    "previous_snapshot": "Previous snapshot",
    "comparison_period": "Comparison period",
    "none": "none",
    "scored_now": "The score snapshot of this date was computed for this report",
    "generated_by": "Generated by Aftercare",
    "kpi.customers": "Customers",
    "kpi.crr": "Customer retention rate (CRR)",
    "kpi.top_share": "Net profit from the top {top} of customers",
    "kpi.loss_making": "Loss-making customers",
    "kpi.high_risk": "High churn risk customers",
    "kpi.reminders": "Services due in the next {weeks} weeks",
    "kpi.tier_mix": "Tier mix (actual / expected)",
    "sec.tier_mix": "Tier mix",
    "sec.migration": "Tier migration matrix",
    "sec.lifecycle": "Lifecycle distribution",
    "sec.pareto": "Pareto analysis",
    "sec.profit_by_tier": "Profit by tier",
    "sec.crr": "Customer retention rate (CRR)",
    "sec.churn": "Churn risk",
    "sec.reminders": "Service reminder load",
    "col.tier": "Tier",
    "col.customers": "Customers",
    "col.share": "Actual share",
    "col.expected": "Expected share",
    "col.gap": "Gap (pp)",
    "series.actual": "Actual",
    "series.expected": "Expected",
    "axis.share": "Share of customers",
    "migration.from_to": "Previous \\ current",
    "migration.new": "New",
    "migration.gone": "Removed",
    "migration.none": "No earlier score snapshot, so no migration. "
    "Run `aftercare score --as-of <an earlier date>` first.",
    "migration.note": "Rows: previous tier; columns: current tier. The diagonal kept its tier, "
    "above it moved down, below it moved up.",
    "migration.up": "Up",
    "migration.down": "Down",
    "migration.same": "Same",
    "col.stage": "Stage",
    "col.stage_share": "Share",
    "col.previous": "Previous",
    "col.current": "Current",
    "col.change": "Change",
    "col.change_pct": "Change %",
    "series.previous": "Previous",
    "series.current": "Current",
    "axis.customers": "Customers",
    "pareto.curve": "Cumulative share of net profit by share of customers",
    "axis.customer_share": "Share of customers (highest net profit first)",
    "axis.profit_share": "Cumulative share of net profit",
    "pareto.equal": "Even spread",
    "pareto.top": "Top {top}",
    "pareto.total_net_profit": "Total net profit",
    "pareto.top_customers": "Customers in the top {top}",
    "pareto.loss_making": "Loss-making customers",
    "col.annual_spend": "Annual spend",
    "col.gross_profit": "Gross profit",
    "col.cost_to_serve": "Cost to serve",
    "col.net_profit": "Net profit",
    "col.net_profit_share": "Share of net profit",
    "col.customer_share": "Share of customers",
    "col.loss_making": "Loss-making",
    "col.mean_ltv": "Mean LTV",
    "axis.net_profit": "Net profit",
    "crr.formula": "CRR = (customers at end − new customers in the period) "
    "÷ customers at start × 100 %",
    "crr.period": "Period",
    "crr.at_start": "Customers at start",
    "crr.at_end": "Customers at end",
    "crr.new": "New customers in the period",
    "crr.retained": "Retained customers",
    "crr.reactivated": "Reactivated customers",
    "crr.value": "CRR",
    "crr.band": "Band",
    "crr.na": "No customers at the start: not computable",
    "churn.levels": "By risk level",
    "churn.reasons": "Likely reason of lapsed / high-risk customers",
    "churn.trade_in": "Of whom all vehicles sold or scrapped (trade-in conversation)",
    "col.level": "Risk level",
    "col.reason": "Reason",
    "col.week": "Week",
    "col.dates": "Dates",
    "col.vehicles": "Vehicles",
    "reminders.overdue": "Vehicles already overdue",
    "reminders.note": "Active vehicles by next service due date (by time or forecast mileage, "
    "whichever comes first).",
    "week_n": "Week {n}",
    "axis.vehicles": "Vehicles",
    "sec.actions": "This week's actions",
    "actions.week": "Week",
    "actions.by_rule": "Store: by priority and rule",
    "actions.by_advisor": "By advisor",
    "actions.pool": "Unassigned (store pool)",
    "actions.none": "No open actions this week.",
    "actions.note": "Open actions due by Sunday (overdue ones included); status follows the "
    "recorded outcomes.",
    "kpi.week_actions": "Open actions this week",
    "col.priority": "Priority",
    "col.rule": "Rule",
    "col.actions": "Actions",
    "col.overdue": "Overdue",
    "col.advisor": "Advisor",
    "col.total": "Total",
    "priority.high": "High priority",
    "priority.medium": "Medium priority",
    "priority.low": "Low priority",
    "sec.kpis": "This month's targets",
    "col.kpi": "KPI",
    "col.actual": "Actual",
    "col.target": "Target",
    "col.status": "Status",
    "col.basis": "Numerator / denominator",
    "col.detail": "Detail",
    "status.ok": "Met",
    "status.below": "Below target",
    "status.no_data": "No data",
    "kpi.provisional": " (provisional: window still open)",
    "kpi.mean_score": "mean score {mean}",
    "kpi.surveys": "{n} surveys",
    "kpi.crr_period": "period {start} → {end}",
    "kpis.chart": "Rates: actual vs target",
    "kpis.note": "First-service arrival: vehicles whose first-service window (delivery to due "
    "+ grace) closed this month, serviced in time; growth-stage value-added: growth-stage "
    "customers at month end who bought value-added in the trailing year; win-back: "
    "lapsed-tier customers reached this month (reached, booked, visited, declined) who "
    "visited within {winback_days} days; NPS: this month's surveys (promoters "
    "{promoter_min}–10 minus detractors 0–{detractor_max}); CRR: the year to the month's end.",
    "unit.points": "points",
    "sec.lifts": "Rule lift (control groups)",
    "lifts.none": "No rule has a control group (R-ACT-HOLDOUT: holdout_share in the rule's "
    "config), or no control window has ended yet.",
    "lifts.note": "Return rate: visited within {days} days of the action's base date. Lift = "
    "treated − control; intention-to-treat lift = all assigned − control.",
    "col.control": "Control return rate",
    "col.treated": "Treated return rate",
    "col.assigned": "Assigned return rate",
    "col.lift": "Lift (pp)",
    "col.lift_itt": "ITT lift (pp)",
    "sec.bookings": "Bookings that converted",
    "bookings.none": "No bookings recorded this month.",
    "bookings.note": "A booking followed by a visit within {days} days is a success "
    "(R-ACT-OUTCOME); rate = converted ÷ (bookings − pending).",
    "col.bookings": "Bookings",
    "col.converted": "Visited",
    "col.pending": "Pending",
    "col.conversion": "Conversion",
    "kpi.bookings": "Bookings that converted this month",
    "sec.advisor_kpis": "Advisors' calls this month",
    "col.calls": "Calls made",
    "col.reached": "Reached",
    "col.reach_rate": "Reach rate",
    "col.visits": "Visits",
    "col.expired": "Expired",
    "advisor_kpis.none": "No advisors.",
    "advisor_kpis.note": "Calls made: actions with a result recorded this month (an action "
    "called twice is one call; a missed call counts); reached: result reached, booked, "
    "visited or declined; bookings: booked this month; visits: those bookings followed by a "
    "visit within {days} days; expired: actions past their validity this month (R-ACT-EXPIRE).",
    "calls.title": "Advisor call sheet",
    "calls.summary": "Summary",
    "calls.week": "Week",
    "calls.generated": "Generated",
    "calls.no_script": "(script not available)",
    "col.due": "Due",
    "col.customer": "Customer",
    "col.phone": "Phone",
    "col.vehicle": "Vehicle",
    "col.channel": "Channel",
    "col.why": "Why",
    "col.script": "Script",
    "col.result": "Result",
    "col.note": "Note",
    "col.called_at": "Called at",
    "col.action_id": "Action id",
    "col.sheet": "Sheet",
    "sheet.summary": "Summary",
    "sheet.tier_mix": "Tier mix",
    "sheet.migration": "Migration",
    "sheet.lifecycle": "Lifecycle",
    "sheet.pareto": "Pareto",
    "sheet.profit_by_tier": "Profit by tier",
    "sheet.crr": "CRR",
    "sheet.churn": "Churn risk",
    "sheet.reminders": "Reminders",
    "sheet.actions": "Actions this week",
    "sheet.kpis": "Monthly KPIs",
    "col.metric": "Metric",
    "col.value": "Value",
    "tier.platinum": "Platinum",
    "tier.gold": "Gold",
    "tier.silver": "Silver",
    "tier.regular": "Regular",
    "tier.lapsed": "Lapsed",
    "stage.new": "New",
    "stage.activation": "Activation",
    "stage.growth": "Growth",
    "stage.mature": "Mature",
    "stage.decline": "Decline",
    "band.excellent": "Excellent",
    "band.good": "Good",
    "band.average": "Industry average",
    "band.below_average": "Below average",
    "band.alert": "Alert",
    "level.low": "Low",
    "level.medium": "Medium",
    "level.high": "High",
    "reason.passive": "Passive (moved, busy)",
    "reason.price": "Price",
    "reason.experience": "Service experience",
}

#: Human labels of the playbook's rules (SPEC §6), as seed 004's dashboard names them.
RULE_LABELS: dict[Lang, dict[str, str]] = {
    "zh": {"A-WELCOME": "新客户welcome call", "A-FIRST-SERVICE": "首保预约提醒",
           "A-FOLLOWUP-24H": "服务后24小时回访", "A-FIRST-SERVICE-30D": "首保后30天关怀",
           "A-MAINTENANCE": "常规保养提醒", "A-EXT-WARRANTY": "延保到期提醒",
           "A-INSURANCE-RENEWAL": "保险续保提醒", "A-INSPECTION": "年检提醒",
           "A-CARE-90D": "流失预警客户关怀", "A-COMPLAINT-72H": "投诉72小时回访",
           "A-BIRTHDAY": "VIP客户生日祝福", "A-DECLINED": "未做项目跟进",
           "A-WINBACK": "流失客户召回", "A-TIER-UP": "升级白金欢迎", "A-TIER-DOWN": "降级客户关怀"},
    "en": {"A-WELCOME": "Welcome call", "A-FIRST-SERVICE": "First-service booking",
           "A-FOLLOWUP-24H": "24-hour follow-up", "A-FIRST-SERVICE-30D": "First service +30 d",
           "A-MAINTENANCE": "Maintenance reminder", "A-EXT-WARRANTY": "Warranty ending",
           "A-INSURANCE-RENEWAL": "Insurance renewal", "A-INSPECTION": "Annual inspection",
           "A-CARE-90D": "90-day care call", "A-COMPLAINT-72H": "Complaint follow-up (72 h)",
           "A-BIRTHDAY": "VIP birthday", "A-DECLINED": "Declined work follow-up",
           "A-WINBACK": "Win-back", "A-TIER-UP": "Welcome to platinum",
           "A-TIER-DOWN": "Downgraded customer care"},
}  # fmt: skip
#: Names of the monthly KPIs (SPEC §7, seed 004).
KPI_LABELS: dict[Lang, dict[str, str]] = {
    "zh": {"first_service_arrival_rate": "新客户首保到店率",
           "growth_value_added_penetration": "成长期增值渗透率",
           "winback_rate": "流失客户召回率", "nps": "客户NPS", "crr": "客户留存率CRR"},
    "en": {"first_service_arrival_rate": "First-service arrival rate",
           "growth_value_added_penetration": "Growth-stage value-added penetration",
           "winback_rate": "Win-back rate", "nps": "NPS", "crr": "Customer retention (CRR)"},
}  # fmt: skip


def _table(lang: Lang, words: dict[str, str]) -> dict[str, str]:
    return {
        **words,
        **{f"rule.{k}": v for k, v in RULE_LABELS[lang].items()},
        **{f"kpi_name.{k}": v for k, v in KPI_LABELS[lang].items()},
    }


TABLES: dict[Lang, dict[str, str]] = {"zh": _table("zh", _ZH), "en": _table("en", _EN)}


@dataclass(frozen=True)
class Labels:
    """The words of one language."""

    lang: Lang
    words: dict[str, str]

    def __getitem__(self, key: str) -> str:
        return self.words[key]

    def fmt(self, key: str, **values: object) -> str:
        """The label ``key`` with ``{name}`` placeholders filled."""
        return self.words[key].format(**values)

    def value(self, kind: str, name: str | None) -> str:
        """The label of a data value (``kind`` = tier, stage, band, level, reason, rule,
        priority, status, kpi_name)."""
        if name is None:
            return self.words["none"]
        return self.words.get(f"{kind}.{name}", name)

    def tier(self, name: str | None) -> str:
        """A tier's label."""
        return self.value("tier", name)

    def rule(self, rule_id: str | None) -> str:
        """A rule's human label (a custom ``U-…`` rule shows its id)."""
        return self.value("rule", rule_id)


def labels(lang: str = DEFAULT_LANG) -> Labels:
    """The labels of ``lang`` (``zh`` or ``en``).

    Raises
    ------
    ValueError
        For another language.
    """
    if lang not in TABLES:
        raise ValueError(f"unknown report language {lang!r}: use one of {', '.join(LANGS)}")
    return Labels(lang=lang, words=TABLES[lang])
