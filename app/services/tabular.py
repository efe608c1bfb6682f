"""Reading uploaded CSV/XLSX tables and writing exports that spreadsheet software cannot execute."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from app.services.errors import ValidationError

MAX_ROWS = 20_000
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass
class RowError:
    row: int  # as the user sees it in their spreadsheet: the header is row 1
    message: str


@dataclass
class Preview:
    """What an import would do; nothing is saved unless `errors` is empty."""

    rows: list[dict] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors and bool(self.rows)


def decode_text(raw: bytes) -> str:
    # Get Information about Schools and Excel both export Windows-1252; try UTF-8 first.
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ValidationError("The file is not readable text (expected UTF-8 or Windows-1252 CSV).", "file")


def read_table(filename: str, raw: bytes) -> list[dict[str, str]]:
    """Rows as dicts of stripped strings, from a .csv or .xlsx upload; a clear error for anything else."""
    name = (filename or "").lower()
    if name.endswith(".csv"):
        rows = _read_csv(raw)
    elif name.endswith(".xlsx"):
        rows = _read_xlsx(raw)
    else:
        raise ValidationError("Upload a .csv or .xlsx file.", "file")
    if len(rows) > MAX_ROWS:
        raise ValidationError(f"The file has {len(rows):,} rows; the most one import takes is {MAX_ROWS:,}.", "file")
    return rows


def _read_csv(raw: bytes) -> list[dict[str, str]]:
    text = decode_text(raw)
    if "\x00" in text:
        raise ValidationError("The file is not a CSV file.", "file")
    try:
        reader = csv.DictReader(io.StringIO(text, newline=""))
        if not reader.fieldnames:
            raise ValidationError("The file is empty.", "file")
        return [
            {(k or "").strip(): (v or "").strip() if isinstance(v, str) else "" for k, v in row.items()}
            for row in reader
        ]
    except csv.Error as exc:
        raise ValidationError(f"The CSV file could not be read: {exc}.", "file") from exc


#: The most an .xlsx may unpack to: a 5 MB upload of compressed XML could otherwise expand to gigabytes.
MAX_XLSX_UNPACKED_BYTES = 100 * 1024 * 1024


def _read_xlsx(raw: bytes) -> list[dict[str, str]]:
    import zipfile

    from openpyxl import load_workbook

    unreadable = ValidationError("The file is not a readable .xlsx workbook.", "file")
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            unpacked = sum(member.file_size for member in archive.infolist())
    except Exception as exc:  # noqa: BLE001 - zipfile raises NotImplementedError, EOFError, ... on damaged files
        raise unreadable from exc
    if unpacked > MAX_XLSX_UNPACKED_BYTES:
        raise ValidationError("The workbook unpacks to more than 100 MB; save it as .csv and upload that.", "file")
    try:
        book = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
        try:
            return _xlsx_rows(book)
        finally:
            book.close()
    except ValidationError:
        raise
    except Exception as exc:  # noqa: BLE001 - openpyxl and the XML/zip layers under it raise many kinds
        raise unreadable from exc


def _xlsx_rows(book) -> list[dict[str, str]]:
    if not book.worksheets:
        raise ValidationError("The workbook has no sheets.", "file")
    sheet = book.worksheets[0]
    rows = sheet.iter_rows(values_only=True)
    try:
        header = [str(h).strip() if h is not None else "" for h in next(rows)]
    except StopIteration as exc:
        raise ValidationError("The workbook's first sheet is empty.", "file") from exc
    out = []
    for values in rows:
        if values is None or all(v is None or str(v).strip() == "" for v in values):
            continue
        out.append({h: ("" if v is None else _cell_text(v)) for h, v in zip(header, values, strict=False)})
        if len(out) > MAX_ROWS:
            break
    return out


def _cell_text(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def neutralise(value):
    """Make a cell inert in Excel/LibreOffice: text that starts like a formula gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def restore(value: str) -> str:
    """Undo `neutralise` on import so a round trip gives back what was exported."""
    if value.startswith("'") and value[1:2] and value[1:].startswith(_FORMULA_STARTS):
        return value[1:]
    return value


def write_csv(header: Sequence[str], rows: Iterable[Sequence]) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if v is None else neutralise(v) for v in row])
    return buffer.getvalue().encode("utf-8-sig")


def write_xlsx(header: Sequence[str], rows: Iterable[Sequence], title: str = "Export") -> bytes:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title[:31])
    sheet.append(list(header))
    for row in rows:
        sheet.append([neutralise(v) for v in row])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
