//! Placeholder: filled in by the sparse work (see issues).
