//! Custom fields: field metadata and coercion of plain inputs to the shape each field needs.
