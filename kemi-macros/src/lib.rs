//! Placeholder: the attributes arrive with the toolkit.
