"""Text message backends: ``console`` (development), ``locmem`` (tests),
``twilio`` (the real provider) and ``disabled`` (texts switched off)."""
