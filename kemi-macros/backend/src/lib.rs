//! Placeholder: parse -> model -> codegen arrive with the toolkit.
