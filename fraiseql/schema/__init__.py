"""Declarations -> schema: decorators, scalars, naming, and the builder."""
