"""``GatherResource``: the django-import-export base class every Gather
resource shares, and helpers for resources."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from import_export import resources

from .errors import SpreadsheetError
from .formats import line_numbers

#: Rows read from the database and written at a time by a background export.
EXPORT_CHUNK_ROWS = 1000


def _batched(iterable, size):
    """Lists of at most ``size`` items of ``iterable``."""
    batch = []
    for item in iterable:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


class GatherResource(resources.ModelResource):
    """What every Gather resource shares, on top of django-import-export.

    Following the library's performance guidance: no per-row diff (the
    preview shows what each row does, not a diff), so ``skip_diff`` is on and
    "unchanged" is decided from a small snapshot taken when a row's instance
    is found; look-ups are loaded once per import in ``before_import``; bulk
    mode is switched on by resources whose rows allow it.

    Subclasses name their columns in ``columns`` (column -> label), list the
    ones a file must have in ``required_columns``, and parse a row in
    ``import_instance``, raising ``ValidationError`` keyed by column name.
    """

    #: The name in URLs and logs (see ``spreadsheets.registry``); also the
    #: export's file name.
    key = ""
    #: Plain name for headings and logs.
    label = ""
    #: The Spreadsheets menu's item for importing this resource, and its place.
    menu_label = ""
    menu_order = 100
    #: Whether exports hold personal data (names, contact details).
    personal_data = False
    #: Column name -> label, in export order.
    columns: dict = {}
    required_columns: tuple = ()
    #: Other names people give columns -> the column name.
    column_aliases: dict = {}

    class Meta:
        skip_diff = True
        skip_html_diff = True
        report_skipped = True
        use_transactions = True
        clean_model_instances = False

    def __init__(self, *, user=None, options=None, progress=None):
        super().__init__()
        self.user = user
        self.options = options or {}
        self.progress = progress
        #: Row number -> a short note for the preview ("On the waitlist").
        self.row_notes = {}
        #: Row number (1 for the first data row) -> its line in the file.
        self.lines = []

    # Columns -----------------------------------------------------------------

    @classmethod
    def canonical_headers(cls, headers):
        """``headers`` with aliases replaced by the column names they stand for."""
        return [cls.column_aliases.get(h, h) for h in headers]

    @classmethod
    def check_columns(cls, headers):
        """Raise SpreadsheetError when a required column is missing."""
        present = set(cls.canonical_headers(headers))
        missing = [c for c in cls.required_columns if c not in present]
        if missing:
            raise SpreadsheetError(
                _(
                    "These columns are missing: %(missing)s. The first row must "
                    "hold the column names; the columns are: %(all)s."
                )
                % {"missing": ", ".join(missing), "all": ", ".join(cls.columns)}
            )

    def column_label(self, column):
        return str(self.columns.get(column, column))

    # Import hooks ------------------------------------------------------------

    def get_instance(self, instance_loader, row):
        """Always ask the loader: a row may be found without an id column."""
        return instance_loader.get_instance(row)

    def _check_import_id_fields(self, headers):
        """Columns are checked on upload (``check_columns``) instead."""

    @classmethod
    def check_options(cls, options, user):
        """Raise SpreadsheetError when the upload options no longer hold."""

    def snapshot(self, instance):
        """The values that decide whether a row changes ``instance``."""
        raise NotImplementedError

    def after_init_instance(self, instance, new, row, **kwargs):
        instance._gather_snapshot = None if new else self.snapshot(instance)

    def skip_row(self, instance, original, row, import_validation_errors=None):
        if import_validation_errors:
            return False
        before = getattr(instance, "_gather_snapshot", None)
        return before is not None and before == self.snapshot(instance)

    def after_import_row(self, row, row_result, **kwargs):
        if self.progress is not None:
            self.progress(kwargs.get("row_number", 0))

    def import_data(self, dataset, **kwargs):
        """Import with column aliases resolved (see ``column_aliases``)."""
        self.lines = line_numbers(dataset)
        dataset.headers = self.canonical_headers(dataset.headers)
        return super().import_data(dataset, **kwargs)

    def line_of(self, row_number) -> int:
        """The line in the file of the library's ``row_number``: what
        messages such as "the same person is also on row 7" must name, since
        the preview numbers rows by their line too."""
        if 1 <= row_number <= len(self.lines):
            return self.lines[row_number - 1]
        return row_number + 1

    # Export ------------------------------------------------------------------

    def export(self, queryset=None, **kwargs):
        """The library's export, titled with the resource's label."""
        dataset = super().export(queryset, **kwargs)
        dataset.title = str(self.label)
        return dataset

    def export_rows(self, queryset, *, chunk_size=EXPORT_CHUNK_ROWS):
        """(headers, chunks): the export's header row, and an iterator of
        lists of at most ``chunk_size`` rows, reading ``chunk_size``
        instances from the database at a time, so that memory stays bounded
        whatever the number of rows (background exports). Each chunk goes
        through ``before_export_chunk`` first, for what its rows look up;
        ``before_export`` is told ``chunked=True``, so it can leave that to
        the chunks.
        """
        self.before_export(queryset, chunked=True)
        headers = self.get_export_headers()

        def chunks():
            for instances in _batched(
                queryset.iterator(chunk_size=chunk_size), chunk_size
            ):
                self.before_export_chunk(instances)
                yield [self.export_resource(instance) for instance in instances]

        return headers, chunks()

    def before_export_chunk(self, instances):
        """Load what the rows of ``instances`` show beyond their own fields."""

    # Permissions and options (overridden by resources) ------------------------

    @classmethod
    def can_import(cls, user) -> bool:
        return False

    @classmethod
    def can_export(cls, user) -> bool:
        return False

    @classmethod
    def upload_fields(cls, user) -> dict:
        """Extra form fields for the upload form (e.g. where to put events)."""
        return {}

    @classmethod
    def clean_options(cls, cleaned_data, user) -> dict:
        """JSON-safe options for the import from the upload form."""
        return {}

    @classmethod
    def describe_options(cls, options) -> list[str]:
        """Lines saying what the options were, for the preview page."""
        return []

    @classmethod
    def export_queryset(cls, request):
        """(queryset, filters) for an export with the listing's GET filters.

        Raises ValidationError when the filters are not valid.
        """
        raise NotImplementedError

    @classmethod
    def listing_url(cls) -> str:
        return ""


def validation_error(column, message):
    """A ValidationError about one column."""
    return ValidationError({column: [message]})


def search_text(request, param="q") -> str:
    """The listing's search words from the query string, stripped, without
    NUL characters (no database column can hold one; PostgreSQL refuses
    them in a query and in the audit log's JSON)."""
    return request.GET.get(param, "").replace("\x00", "").strip()


def filters_description(filterset, request, search_param="q") -> dict:
    """The listing filters in use, as text, for the audit log."""
    described = {}
    for name, value in filterset.form.cleaned_data.items():
        if value in (None, "", [], ()):
            continue
        if hasattr(value, "start") and hasattr(value, "stop"):  # a date range
            value = f"{value.start or ''}..{value.stop or ''}"
        described[name] = str(value)
    if query := search_text(request, search_param):
        described["search"] = query
    return described
