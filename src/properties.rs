//! Property tests (proptest) of the scope parser and matcher.
//!
//! They belong in `scope.rs`'s `mod tests`, beside the code they test, like
//! the bearer, JWS and key-set properties (now in `bearer.rs`, `jws.rs` and
//! `jwk.rs`); they stay here only until `scope.rs` (owned by another change
//! in flight) can take them. Shared strategies are in `test_strategies.rs`.

use proptest::prelude::*;

use crate::scope::{Scope, has_scope};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn scope_parser_never_panics_and_round_trips(full in ".{0,80}") {
        if let Ok(scope) = Scope::parse(&full) {
            prop_assert_eq!(scope.as_str(), full.as_str());
            prop_assert_eq!(format!("{}/{}", scope.identifier(), scope.name()), full.clone());
            prop_assert!(!scope.name().contains('/'));
        }
    }

    #[test]
    fn well_formed_scopes_parse(
        identifier in "[a-z]{1,10}(\\.[a-z]{1,10}){0,2}",
        scheme in prop_oneof![Just(""), Just("https://")],
        name in "[a-z][a-z0-9._-]{0,20}",
    ) {
        let full = format!("{scheme}{identifier}/{name}");
        let scope = Scope::parse(&full).expect("the strategy only makes well-formed scopes");
        prop_assert_eq!(scope.name(), name.as_str());
        prop_assert_eq!(scope.identifier(), format!("{scheme}{identifier}"));
    }

    #[test]
    fn scope_matching_is_exact_membership(
        tokens in proptest::collection::vec("[a-zA-Z0-9:/._-]{1,20}", 0..8),
        separators in proptest::collection::vec(1..4usize, 8),
        wanted in "[a-zA-Z0-9:/._-]{0,20}",
        pick in any::<prop::sample::Index>(),
        twist in 0..4u8,
    ) {
        let mut granted = String::new();
        for (i, token) in tokens.iter().enumerate() {
            granted.push_str(&" ".repeat(separators[i]));
            granted.push_str(token);
        }
        // Ask for a granted scope, or one a character off it.
        let wanted = match (tokens.is_empty(), twist) {
            (true, _) | (false, 0) => wanted,
            (false, 1) => tokens[pick.index(tokens.len())].clone(),
            (false, 2) => format!("{}x", tokens[pick.index(tokens.len())]),
            (false, _) => tokens[pick.index(tokens.len())].to_uppercase(),
        };
        let expected = !wanted.is_empty() && tokens.contains(&wanted);
        prop_assert_eq!(has_scope(&granted, &wanted), expected);
    }
}
