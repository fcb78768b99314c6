//! Collects every problem found in one attribute's input so the user sees
//! them all in one build, not one per fix-and-rebuild round.

use std::fmt::Display;

use quote::ToTokens;

/// The problems found so far, combined into one `syn::Error` (each keeps
/// its own span and becomes its own `compile_error!`).
#[derive(Default)]
pub struct Errors {
    combined: Option<syn::Error>,
}

impl Errors {
    pub fn push(&mut self, error: syn::Error) {
        match &mut self.combined {
            Some(all) => all.combine(error),
            None => self.combined = Some(error),
        }
    }

    /// Reports `message` on the tokens of `at` (all of them, e.g. a whole type).
    pub fn spanned(&mut self, at: impl ToTokens, message: impl Display) {
        self.push(syn::Error::new_spanned(at, message));
    }

    /// Reports `message` at one span.
    pub fn at(&mut self, span: proc_macro2::Span, message: impl Display) {
        self.push(syn::Error::new(span, message));
    }

    pub fn is_empty(&self) -> bool {
        self.combined.is_none()
    }

    /// All problems, or `None` when the input was fine.
    pub fn finish(self) -> Option<syn::Error> {
        self.combined
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proc_macro2::Span;

    #[test]
    fn keeps_every_error_in_order() {
        let mut errors = Errors::default();
        assert!(errors.is_empty());
        errors.at(Span::call_site(), "first");
        errors.at(Span::call_site(), "second");
        let messages: Vec<String> = errors
            .finish()
            .map(|e| e.into_iter().map(|one| one.to_string()).collect())
            .unwrap_or_default();
        assert_eq!(messages, ["first", "second"]);
    }
}
