"""Write the synthetic data the way a DMS exports it.

Chinese headers and value labels from the built-in mapping (SPEC §1), mixed date and amount
formats, GBK CSV for orders and customers, Excel for vehicles and advisors (real date
cells), UTF-8 CSV for the rest. Large runs write Parquet for the big tables (fast path).
Everything is column-wise.
"""

from __future__ import annotations

import io
import os
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import xlsxwriter

from aftercare.demo import names
from aftercare.demo.generate import TABLE_ORDER, DemoData

#: Where ``aftercare demo`` writes its export files unless told otherwise.
DEFAULT_OUT = Path("aftercare-demo")

#: Canonical column -> DMS header, per table, in file column order.
HEADERS: dict[str, dict[str, str]] = {
    "advisors": {
        "advisor_id": "顾问编号",
        "name": "顾问姓名",
        "store_id": "门店编号",
        "role": "职务",
        "active": "在职",
    },
    "customers": {
        "customer_id": "客户编号",
        "name": "客户姓名",
        "phone": "手机号码",
        "birthday": "生日",
        "city": "城市",
        "source_channel": "来源渠道",
        "preferred_channel": "首选联系方式",
        "preferred_time": "偏好联系时间",
        "price_sensitivity": "价格敏感度",
        "marketing_consent": "同意营销",
        "do_not_contact": "勿扰",
        "advisor_id": "服务顾问",
        "store_id": "门店编号",
        "language": "语言",
        "created_at": "建档日期",
    },
    "vehicles": {
        "vin": "车架号",
        "customer_id": "客户编号",
        "plate": "车牌号",
        "brand": "品牌",
        "model": "车型",
        "delivery_date": "提车日期",
        "factory_warranty_end": "质保到期日",
        "extended_warranty_end": "延保到期日",
        "insurance_expiry": "保险到期日",
        "status": "车辆状态",
    },
    "service_orders": {
        "order_id": "接车单号",
        "vin": "车架号",
        "customer_id": "客户编号",
        "open_date": "接车日期",
        "close_date": "完工日期",
        "odometer_km": "行驶里程",
        "category": "维修类别",
        "payer": "结算方式",
        "labor_amount": "工时费",
        "parts_amount": "配件费",
        "discount_amount": "优惠金额",
        "total_amount": "结算金额",
        "cost_amount": "成本金额",
        "advisor_id": "服务顾问",
        "store_id": "门店编号",
    },
    "declined_services": {
        "order_id": "接车单号",
        "item": "维修项目",
        "customer_id": "客户编号",
        "vin": "车架号",
        "declined_date": "拒绝日期",
        "reason": "拒绝原因",
        "quoted_amount": "报价金额",
        "deferred_until": "延期至",
        "is_safety_item": "安全项目",
    },
    "interactions": {
        "interaction_id": "记录编号",
        "customer_id": "客户编号",
        "ts": "发生时间",
        "type": "类型",
        "score": "评分",
        "referred_customer_id": "被推荐客户编号",
        "channel": "渠道",
        "advisor_id": "服务顾问",
        "resolved": "是否解决",
        "note": "备注",
    },
}

#: Canonical value -> DMS label (a list: one label is picked per row, first most often).
LABELS: dict[str, dict[str, tuple[str, ...]]] = {
    "category": {
        "maintenance": ("保养", "定期保养", "首保"),
        "repair": ("一般维修", "机修"),
        "bodywork": ("钣喷",),
        "warranty": ("索赔",),
        "insurance": ("事故",),
        "value_added": ("精品", "美容"),
    },
    "payer": {
        "customer": ("自费",),
        "warranty": ("索赔",),
        "insurance": ("保险",),
        "internal": ("内部",),
    },
    "type": {
        "complaint": ("投诉",),
        "praise": ("表扬",),
        "referral": ("推荐", "转介绍"),
        "brand_event": ("品牌活动", "车主活动"),
        "competitor_visit": ("竞品到店",),
        "nps_survey": ("满意度调查",),
        "call": ("电话", "回访"),
        "sms": ("短信",),
        "wechat": ("微信",),
        "app_push": ("APP推送",),
    },
    "status": {"active": ("在用",), "sold": ("已售",), "scrapped": ("报废",)},
    "preferred_channel": {
        "phone": ("电话",),
        "sms": ("短信",),
        "wechat": ("微信",),
        "app": ("APP",),
    },
    "channel": {"phone": ("电话",), "sms": ("短信",), "wechat": ("微信",), "app": ("APP",)},
    "price_sensitivity": {"low": ("低",), "medium": ("中",), "high": ("高",)},
    "reason": {
        "price": ("价格", "太贵"),
        "time": ("没时间",),
        "not_needed": ("不需要",),
        "other": ("其他",),
    },
    "role": {"advisor": ("服务顾问",), "manager": ("服务经理",)},
    "language": {"zh-CN": ("中文",), "en": ("英文",)},
}
BOOL_LABELS = ("否", "是")

#: How each table is written: small runs / fast path (>= FAST_PATH_CUSTOMERS customers).
FORMATS: dict[str, tuple[str, str]] = {
    "advisors": ("xlsx", "xlsx"),
    "customers": ("csv-gbk", "parquet"),
    "vehicles": ("xlsx", "parquet"),
    "service_orders": ("csv-gbk", "parquet"),
    "declined_services": ("csv", "parquet"),
    "interactions": ("csv", "parquet"),
}
FAST_PATH_CUSTOMERS = 100_000
SUFFIX = {"csv": ".csv", "csv-gbk": ".csv", "xlsx": ".xlsx", "parquet": ".parquet"}
_EXCEL_EPOCH_OFFSET = 25569  # Excel serial of 1970-01-01


def _relabel(
    rng: np.random.Generator,
    column: pa.ChunkedArray,
    labels: Mapping[str, tuple[str, ...]],
    raw: pa.ChunkedArray | None = None,
) -> pa.Array:
    """Canonical enum values -> DMS labels; unknown values (and ``other`` with raw text) kept.

    Works on the dictionary (a handful of values), then picks a label per row by index.
    """
    col = column.combine_chunks()
    encoded = col if pa.types.is_dictionary(col.type) else pc.dictionary_encode(col)
    values = encoded.dictionary.to_pylist()
    options = [labels.get(v, (v,)) for v in values] or [("",)]
    width = max(len(o) for o in options)
    table = [o[i] if i < len(o) else o[0] for o in options for i in range(width)]
    indices = encoded.indices
    idx = np.asarray(pc.fill_null(indices, 0).to_numpy(zero_copy_only=False), dtype=np.int64)
    lens = np.array([len(o) for o in options])[idx]
    # The first label most of the time, the others now and then.
    pick = np.where(rng.random(len(idx)) < 0.8, 0, rng.integers(0, width, len(idx)) % lens)
    mask = np.asarray(pc.is_null(indices).to_numpy(zero_copy_only=False), dtype=bool)
    if raw is not None:
        raw_col = raw.combine_chunks()
        raw_enc = raw_col if pa.types.is_dictionary(raw_col.type) else pc.dictionary_encode(raw_col)
        has_raw = np.asarray(pc.is_valid(raw_enc).to_numpy(zero_copy_only=False), dtype=bool)
        raw_idx = np.asarray(pc.fill_null(raw_enc.indices, 0).to_numpy(zero_copy_only=False))
        table = table + raw_enc.dictionary.to_pylist()
        code = np.where(has_raw, len(options) * width + raw_idx, idx * width + pick)
    else:
        code = idx * width + pick
    return pa.DictionaryArray.from_arrays(
        pa.array(code.astype(np.int32), mask=mask if mask.any() else None),
        pa.array(table, pa.string()),
    )


def date_text(rng: np.random.Generator, column: pa.ChunkedArray) -> pa.Array:
    """Dates as ``2024-03-05`` (3 in 4) or ``2024/3/5``."""
    col = column.combine_chunks()
    iso = pc.strftime(pc.cast(col, pa.timestamp("s")), "%Y-%m-%d")
    slash = names.join(
        pc.cast(pc.year(col), pa.string()),
        "/",
        pc.cast(pc.month(col), pa.string()),
        "/",
        pc.cast(pc.day(col), pa.string()),
    )
    return pc.if_else(pa.array(rng.random(len(col)) < 0.75), iso, slash)


def timestamp_text(column: pa.ChunkedArray) -> pa.Array:
    """Timestamps as ``2024-03-05 14:23:10``."""
    return pc.strftime(pc.cast(column.combine_chunks(), pa.timestamp("s")), "%Y-%m-%d %H:%M:%S")


def money_text(
    rng: np.random.Generator, column: pa.ChunkedArray, symbols: tuple[str, ...]
) -> pa.Array:
    """Amounts as ``1234.50`` (most), ``1,234.50`` or ``￥1,234.50`` (sign first if negative)."""
    col = column.combine_chunks()
    values = np.nan_to_num(np.asarray(col.to_numpy(zero_copy_only=False), dtype=np.float64))
    cents = np.round(np.abs(values) * 100).astype(np.int64)
    whole, frac = cents // 100, cents % 100
    sign = pa.array(np.where(values < 0, "-", ""), pa.string())
    frac_text = names.zero_padded(frac, 2)
    plain = names.join(sign, pc.cast(pa.array(whole), pa.string()), ".", frac_text)
    millions, thousands, units = whole // 1_000_000, (whole // 1000) % 1000, whole % 1000
    head_thousands = pc.if_else(
        pa.array(whole >= 1_000_000),
        names.join(pc.cast(pa.array(millions), pa.string()), ",", names.zero_padded(thousands, 3)),
        pc.cast(pa.array(thousands), pa.string()),
    )
    grouped = pc.if_else(
        pa.array(whole >= 1000),
        names.join(head_thousands, ",", names.zero_padded(units, 3)),
        pc.cast(pa.array(units), pa.string()),
    )
    symbol = pa.array(symbols, pa.string()).take(pa.array(rng.integers(0, len(symbols), len(col))))
    fancy = names.join(sign, symbol, grouped, ".", frac_text)
    style = rng.random(len(col))
    out = pc.if_else(pa.array(style < 0.7), plain, fancy)
    return pc.if_else(pc.is_valid(col), out, pa.scalar(None, pa.string()))


def dms_view(rng: np.random.Generator, name: str, table: pa.Table, fmt: str) -> pa.Table:
    """The canonical table ``name`` as the DMS writes it in format ``fmt``."""
    text = fmt.startswith("csv")
    symbols = ("￥",) if fmt == "csv-gbk" else ("¥", "￥")
    columns: dict[str, pa.Array | pa.ChunkedArray] = {}
    for canonical, header in HEADERS[name].items():
        col = table[canonical]
        if canonical in LABELS:
            raw = table[f"{canonical}_raw"] if f"{canonical}_raw" in table.column_names else None
            out: pa.Array | pa.ChunkedArray = _relabel(rng, col, LABELS[canonical], raw)
        elif pa.types.is_boolean(col.type):
            out = pa.array(BOOL_LABELS, pa.string()).take(pc.cast(col, pa.int8()))
        elif pa.types.is_date(col.type) and text:
            out = date_text(rng, col)
        elif pa.types.is_timestamp(col.type) and text:
            out = timestamp_text(col)
        elif pa.types.is_floating(col.type) and text and name != "interactions":
            out = money_text(rng, col, symbols)
        else:
            out = col
        if text and pa.types.is_dictionary(out.type):
            out = pc.cast(out, pa.string())
        columns[header] = out
    return pa.table(columns)


def write_csv(view: pa.Table, path: Path, encoding: str) -> None:
    """CSV with quoting only where needed, in ``encoding`` (utf-8 or gbk)."""
    buffer = io.BytesIO()
    options = pa_csv.WriteOptions(quoting_style="needed")
    pa_csv.write_csv(view, buffer, options)
    data = buffer.getvalue()
    path.write_bytes(data if encoding == "utf-8" else data.decode("utf-8").encode(encoding))


def write_xlsx(view: pa.Table, path: Path) -> None:
    """An Excel sheet; date columns are real date cells (serial numbers with a date format)."""
    with xlsxwriter.Workbook(str(path)) as book:
        sheet = book.add_worksheet("Sheet1")
        date_format = book.add_format({"num_format": "yyyy-mm-dd"})
        for j, name in enumerate(view.column_names):
            col = view[name].combine_chunks()
            sheet.write_string(0, j, name)
            if pa.types.is_date(col.type):
                days = pc.cast(col, pa.int32()).to_numpy(zero_copy_only=False)
                serial = np.where(np.isnan(days.astype(float)), np.nan, days + _EXCEL_EPOCH_OFFSET)
                values = [None if np.isnan(v) else float(v) for v in serial.tolist()]
                sheet.write_column(1, j, values, date_format)
                sheet.set_column(j, j, 12)
            else:
                sheet.write_column(1, j, col.to_pylist())


@dataclass(frozen=True)
class ExportView:
    """One table as the DMS writes it, ready to be written to ``path`` in format ``fmt``."""

    view: pa.Table
    path: Path
    fmt: str


def export_view(
    rng: np.random.Generator, name: str, table: pa.Table, out_dir: Path, fast: bool
) -> ExportView:
    """Canonical table ``name`` as a DMS export bound for ``out_dir`` (draws from ``rng``)."""
    fmt = FORMATS[name][1 if fast else 0]
    return ExportView(dms_view(rng, name, table, fmt), out_dir / f"{name}{SUFFIX[fmt]}", fmt)


def write_view(export: ExportView) -> Path:
    """Write an :class:`ExportView` to its file (no randomness: views may be written in
    parallel); return the file."""
    view, path, fmt = export.view, export.path, export.fmt
    if fmt == "csv-gbk":
        write_csv(view, path, "gbk")
    elif fmt == "csv":
        write_csv(view, path, "utf-8")
    elif fmt == "xlsx":
        write_xlsx(view, path)
    else:
        pq.write_table(_plain_strings(view), path, compression="snappy")
    return path


def write_table(
    rng: np.random.Generator, name: str, table: pa.Table, out_dir: Path, fast: bool
) -> Path:
    """Write canonical table ``name`` as a DMS export into ``out_dir``; return the file."""
    return write_view(export_view(rng, name, table, out_dir, fast))


def write_files(data: DemoData, out_dir: Path, seed: int) -> dict[str, Path]:
    """Write every table as a DMS export into ``out_dir`` (created if missing)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    fast = data.population.n_customers >= FAST_PATH_CUSTOMERS
    rng = np.random.default_rng([seed, 1])  # formats vary by seed too, independently of data
    # Views draw from the RNG in table order (deterministic); the files are then written in
    # parallel (Parquet and CSV writers release the GIL: the 9M-order file no longer waits
    # for the others).
    views = [export_view(rng, name, data.tables[name], out_dir, fast) for name in TABLE_ORDER]
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        paths = list(pool.map(write_view, views))
    return dict(zip(TABLE_ORDER, paths, strict=True))


def _plain_strings(view: pa.Table) -> pa.Table:
    """Dictionary columns as plain strings: Parquet dictionary-encodes them itself, and an Arrow
    dictionary of a million VINs made the file 50 % larger and twice as slow to write."""
    columns = [
        col.cast(col.type.value_type) if pa.types.is_dictionary(col.type) else col
        for col in view.columns
    ]
    return pa.table(columns, names=view.column_names)
