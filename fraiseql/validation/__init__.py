"""Parse + validate once per document; our own limits as validation rules."""
