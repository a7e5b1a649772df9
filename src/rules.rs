//! Placeholder: the rule catalogue (being written).
