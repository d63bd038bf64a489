"""FraiseQL's validation rules, one per file."""
