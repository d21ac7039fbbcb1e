"""Builders shared by the spreadsheet tests: files in each format, and a way
to run an import job without HTTP."""

import csv
import datetime as dt
import io
import json

from django.urls import reverse

from spreadsheets.formats import read_dataset
from spreadsheets.jobs import start_stage
from spreadsheets.models import ImportJob


def csv_bytes(rows, *, delimiter=",", bom=False):
    stream = io.StringIO()
    writer = csv.writer(stream, delimiter=delimiter)
    for row in rows:
        writer.writerow(row)
    return (("\ufeff" if bom else "") + stream.getvalue()).encode("utf-8")


def xlsx_bytes(rows):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    stream = io.BytesIO()
    book.save(stream)
    return stream.getvalue()


def json_bytes(rows):
    headers, *body = rows
    return json.dumps([dict(zip(headers, row, strict=True)) for row in body]).encode()


def make_job(user, key, data, filename="file.csv", *, options=None, skip_invalid=False):
    """An import job for ``data``, checked (the dry run) but not imported."""
    dataset = read_dataset(data, filename)
    job = ImportJob.objects.create(
        resource=key,
        user=user,
        file_name=filename,
        data=data,
        options=options or {},
        skip_invalid=skip_invalid,
        total_rows=len(dataset),
    )
    start_stage(job, "preview")
    job.refresh_from_db()
    return job


def confirm(job):
    """Import a checked job for real; returns it refreshed."""
    ImportJob.objects.filter(pk=job.pk, status="previewed").update(
        status="import_queued"
    )
    job.refresh_from_db()
    start_stage(job, "import")
    job.refresh_from_db()
    return job


def import_file(user, key, data, filename="file.csv", **kwargs):
    """Check and import ``data``; returns the finished job."""
    return confirm(make_job(user, key, data, filename, **kwargs))


def actions(job):
    """{spreadsheet row number: action} of a job's preview."""
    return {row[0]: row[1] for row in job.preview["rows"]}


def errors(job):
    """{spreadsheet row number: {column: [messages]}} for rows with problems."""
    return {row[0]: row[3] for row in job.preview["rows"] if row[3]}


def export(client, key, file_format="csv", **params):
    """GET an export; returns the response."""
    return client.get(
        reverse("spreadsheets_export", args=[key]), {"format": file_format, **params}
    )


def local(year, month, day, hour, minute=0):
    from zoneinfo import ZoneInfo

    return dt.datetime(
        year, month, day, hour, minute, tzinfo=ZoneInfo("America/Toronto")
    )
