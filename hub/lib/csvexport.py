"""CSV downloads of patient-related data (KPI rows, the audit log):
streamed in chunks, safe to open in a spreadsheet, never cached."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpResponse, StreamingHttpResponse

CHUNK_ROWS = 200


def safe_cell(value):
    """A cell a spreadsheet will not run as a formula; None as empty."""
    if value is None:
        return ""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def chunks(columns: Iterable[str], rows: Iterable[Iterable], *, every: int = CHUNK_ROWS) -> Iterator[str]:
    """The header, then the rows (already cell values), `every` rows a chunk."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for n, row in enumerate(rows, start=1):
        writer.writerow(row)
        if n % every == 0:
            yield out.getvalue()
            out.seek(0)
            out.truncate(0)
    yield out.getvalue()


async def _async_chunks(sync_chunks: Iterator[str]):
    """The same chunks for an ASGI server, each produced in the request's
    database thread (Django would otherwise read a sync iterator whole)."""
    take = sync_to_async(lambda: next(sync_chunks, None), thread_sensitive=True)
    while (chunk := await take()) is not None:
        yield chunk


def download(request, csv_chunks: Iterator[str], filename: str, *, stream: bool = True) -> HttpResponse:
    """The chunks as a file download; `stream=False` for small tables."""
    if stream:
        response = StreamingHttpResponse(
            _async_chunks(csv_chunks) if isinstance(request, ASGIRequest) else csv_chunks,
            content_type="text/csv; charset=utf-8")
    else:
        response = HttpResponse("".join(csv_chunks), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response
