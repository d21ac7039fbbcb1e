"""Documents and images uploaded in the admin have a size limit (Wagtail
sets none for documents), and images a pixel limit."""

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from wagtail.documents.fields import WagtailDocumentField
from wagtail.images.fields import WagtailImageField


def _claiming_size(name, size, content=b"%PDF-1.7\n"):
    """An upload that says it is ``size`` bytes, without holding them."""
    upload = SimpleUploadedFile(name, content)
    upload.size = size
    return upload


def test_a_document_over_20_mb_is_refused_next_to_the_field():
    field = WagtailDocumentField()
    assert field.clean(_claiming_size("leaflet.pdf", 20 * 1024 * 1024))
    with pytest.raises(ValidationError) as error:
        field.clean(_claiming_size("leaflet.pdf", 20 * 1024 * 1024 + 1))
    assert "This file is too big" in str(error.value)
    assert "Maximum filesize 20.0" in str(error.value)


def _png(width, height):
    stream = io.BytesIO()
    Image.new("1", (width, height)).save(stream, "PNG")
    return stream.getvalue()


def test_an_image_over_10_mb_is_refused_next_to_the_field():
    upload = _claiming_size("poster.png", 10 * 1024 * 1024 + 1, content=_png(10, 10))
    with pytest.raises(ValidationError) as error:
        WagtailImageField().clean(upload)
    assert "Maximum filesize 10.0" in str(error.value)


def test_an_image_of_more_than_50_million_pixels_is_refused():
    """A tiny PNG can declare a huge canvas; each rendition would decode it."""
    data = _png(10_000, 5_001)
    assert len(data) < 100_000
    upload = SimpleUploadedFile("poster.png", data)
    with pytest.raises(ValidationError) as error:
        WagtailImageField().clean(upload)
    assert "too many pixels" in str(error.value)
