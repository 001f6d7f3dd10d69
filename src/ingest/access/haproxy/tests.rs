//! Tests of the HAProxy parser.
