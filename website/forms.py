"""Form helpers shared by the public site."""


class AccessibleErrorsMixin:
    """Links each field's error message to its input for screen readers.

    Django already points ``aria-describedby`` at the help text; once a
    field has an error, the error paragraph (``<id>_error``, as rendered by
    ``includes/form_field.html``) is added to it.
    """

    def full_clean(self):
        super().full_clean()
        for name in self.errors:
            if name not in self.fields:
                continue
            bound = self[name]
            described_by = [f"{bound.auto_id}_error"]
            if bound.help_text:
                described_by.insert(0, f"{bound.auto_id}_helptext")
            self.fields[name].widget.attrs["aria-describedby"] = " ".join(described_by)
