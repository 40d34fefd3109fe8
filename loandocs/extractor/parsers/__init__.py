"""Per-type parsers: rows in, canonical fields and checks out."""
