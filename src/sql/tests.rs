//! Tests of the generated SQL text, dialect by dialect.
