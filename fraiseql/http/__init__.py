"""fraiseql.http."""
