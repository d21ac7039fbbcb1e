"""The signal a provider's delivery report sends."""

import django.dispatch

#: A provider reported what became of a text: sent with ``provider_id``
#: (``TextResult.provider_id``), ``status`` ("sent", "delivered" or
#: "failed") and ``error`` (the provider's error code, or ""). The sender is
#: the backend class whose provider reported it.
text_status_changed = django.dispatch.Signal()
