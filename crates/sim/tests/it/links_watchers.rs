//! Tests for this area are added here.
