//! Placeholder: filled in by the tt work (see issues).
