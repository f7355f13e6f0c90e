"""Vectorised identities: Chinese names, mobile numbers, plates, VINs, document numbers.

Every function takes a ``numpy.random.Generator`` and a count and returns an Arrow array built
column-wise (no Python loop per row).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

# Most common surnames, roughly by frequency.
SURNAMES = list(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
_SURNAME_WEIGHTS = 1.0 / np.arange(1, len(SURNAMES) + 1) ** 0.7
GIVEN_CHARS = list(
    "伟芳娜秀敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂英华玉萍红建文辉力飞鹏宇浩凯晨欣怡佳雪琳晓婷俊峰志博然子轩涵梓睿思雨嘉颖诗彤泽宏毅斌鑫海燕云龙波亮国庆春梅丹"
)
CITIES = ("深圳", "东莞", "惠州", "广州", "香港")
CITY_WEIGHTS = (0.82, 0.08, 0.05, 0.04, 0.01)
PHONE_PREFIXES = [
    "134",
    "135",
    "136",
    "137",
    "138",
    "139",
    "147",
    "150",
    "151",
    "152",
    "157",
    "158",
    "159",
    "178",
    "182",
    "183",
    "184",
    "187",
    "188",
    "198",
    "130",
    "131",
    "132",
    "155",
    "156",
    "166",
    "175",
    "176",
    "185",
    "186",
    "133",
    "153",
    "173",
    "177",
    "180",
    "181",
    "189",
    "191",
    "199",
]
# VIN alphabet without I, O, Q; transliteration values and position weights (ISO 3779).
VIN_CHARS = "0123456789ABCDEFGHJKLMNPRSTUVWXYZ"
_VIN_VALUES = {
    **{str(d): d for d in range(10)},
    **dict(zip("ABCDEFGH", range(1, 9), strict=True)),
    **dict(zip("JKLMN", range(1, 6), strict=True)),
    "P": 7,
    "R": 9,
    **dict(zip("STUVWXYZ", range(2, 10), strict=True)),
}
_VIN_WEIGHTS = np.array([8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2], dtype=np.int64)
# Model-year codes from 2010 (VIN position 10).
_YEAR_CODES = "ABCDEFGHJKLMNPRSTVWXY123456789"
PLATE_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"


def _take(values: list[str] | tuple[str, ...], idx: np.ndarray) -> pa.Array:
    return pa.array(values, pa.string()).take(pa.array(idx))


def zero_padded(numbers: np.ndarray, width: int) -> pa.Array:
    """Non-negative integers as zero-padded strings."""
    return pc.utf8_lpad(pc.cast(pa.array(numbers, pa.int64()), pa.string()), width, "0")


def join(*parts: pa.Array | str) -> pa.Array:
    """Element-wise concatenation of string arrays and scalars."""
    return pc.binary_join_element_wise(*parts, "")


def prefixed_ids(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    """IDs such as ``C00012345`` from integers."""
    return join(prefix, zero_padded(numbers, width))


def chinese_names(rng: np.random.Generator, n: int) -> pa.Array:
    """Surname + one or two given-name characters (about 70 % two)."""
    weights = _SURNAME_WEIGHTS / _SURNAME_WEIGHTS.sum()
    surname = _take(SURNAMES, rng.choice(len(SURNAMES), n, p=weights))
    first = _take(GIVEN_CHARS, rng.integers(0, len(GIVEN_CHARS), n))
    second_idx = rng.integers(0, len(GIVEN_CHARS) + 1, n)
    second_idx[rng.random(n) < 0.3] = len(GIVEN_CHARS)  # empty: a one-character given name
    second = _take([*GIVEN_CHARS, ""], second_idx)
    return join(surname, first, second)


def mobile_numbers(rng: np.random.Generator, n: int) -> pa.Array:
    """Eleven-digit mainland mobile numbers from real prefixes."""
    prefix = _take(PHONE_PREFIXES, rng.integers(0, len(PHONE_PREFIXES), n))
    return join(prefix, zero_padded(rng.integers(0, 10**8, n), 8))


def cities(rng: np.random.Generator, n: int) -> pa.Array:
    """Home city, mostly the centre's own (Shenzhen)."""
    return _take(CITIES, rng.choice(len(CITIES), n, p=CITY_WEIGHTS))


def plates(rng: np.random.Generator, is_ev: np.ndarray) -> pa.Array:
    """Shenzhen plates: ``粤B12345`` / ``粤B·A1234``; EVs get green ``粤BD12345``."""
    n = len(is_ev)
    letters = np.frombuffer(PLATE_LETTERS.encode(), dtype="S1")
    digits = np.frombuffer(b"0123456789", dtype="S1")
    body = digits[rng.integers(0, 10, (n, 5))]
    # About 1 in 5 plates has a letter first.
    with_letter = rng.random(n) < 0.2
    body[with_letter, 0] = letters[rng.integers(0, len(letters), int(with_letter.sum()))]
    text = pc.cast(pa.array(np.ascontiguousarray(body).view("S5").ravel()), pa.string())
    green = np.where(is_ev, np.where(rng.random(n) < 0.8, "D", "F"), "")
    dot = np.where(rng.random(n) < 0.3, "·", "")
    return join("粤B", pa.array(dot, pa.string()), pa.array(green, pa.string()), text)


def vins(
    rng: np.random.Generator,
    wmi_codes: tuple[str, ...],
    wmi_index: np.ndarray,
    unique_index: np.ndarray,
    model_year: np.ndarray,
) -> pa.Array:
    """Valid 17-character VINs with an ISO 3779 check digit, unique by ``unique_index``.

    Parameters
    ----------
    wmi_codes, wmi_index
        Three-character manufacturer codes, and which one each vehicle has.
    unique_index
        Distinct non-negative integers (< 23 × 10**6): positions 11–17 encode them.
    model_year
        Calendar model year per vehicle (2010–2039).
    """
    n = len(unique_index)
    alphabet = np.frombuffer(VIN_CHARS.encode(), dtype=np.uint8)
    mat = np.empty((n, 17), dtype=np.uint8)
    wmi_bytes = np.frombuffer("".join(wmi_codes).encode(), np.uint8).reshape(-1, 3)
    mat[:, 0:3] = wmi_bytes[wmi_index]
    mat[:, 3:8] = alphabet[rng.integers(0, len(alphabet), (n, 5))]
    year_codes = np.frombuffer(_YEAR_CODES.encode(), dtype=np.uint8)
    mat[:, 9] = year_codes[(model_year - 2010) % len(_YEAR_CODES)]
    mat[:, 10] = alphabet[10 + unique_index // 10**6]  # plant letter carries the millions
    serial = unique_index % 10**6
    for pos in range(6):
        mat[:, 16 - pos] = ord("0") + (serial // 10**pos) % 10
    mat[:, 8] = ord("0")
    values = np.zeros(256, dtype=np.int64)
    for ch, val in _VIN_VALUES.items():
        values[ord(ch)] = val
    check = (values[mat] * _VIN_WEIGHTS).sum(axis=1) % 11
    mat[:, 8] = np.where(check == 10, ord("X"), ord("0") + check)
    return pc.cast(pa.array(mat.view("S17").ravel()), pa.string())


def vin_check_ok(vin: str) -> bool:
    """True when ``vin``'s ninth character is its ISO 3779 check digit."""
    total = sum(_VIN_VALUES[c] * int(w) for c, w in zip(vin, _VIN_WEIGHTS, strict=True))
    digit = total % 11
    return vin[8] == ("X" if digit == 10 else str(digit))
