//! Property tests: the compiled matcher agrees with a naive reference, `explain` agrees with the
//! decision it explains, and deciding and linting never panic.

use proptest::prelude::*;
use s3cors_cors::{
    BucketCors, CompiledCors, CorsConfiguration, CorsRule, ExplainRequest, PreflightRequest, actual,
    evaluate, explain, lint, preflight,
};

/// The specification's matching, written as plainly as possible: character-level glob with at most
/// one `*`, first rule whose origin, method and every header match.
fn naive_glob(pattern: &str, s: &str, ignore_case: bool) -> bool {
    let (p, s) = if ignore_case {
        (pattern.to_lowercase(), s.to_lowercase())
    } else {
        (pattern.to_owned(), s.to_owned())
    };
    match p.find('*') {
        None => p == s,
        Some(i) => {
            let (pre, post) = (&p[..i], &p[i + 1..]);
            (0..=s.len()).any(|k| {
                s.is_char_boundary(k) && &s[..k] == pre && s[k..].ends_with(post) && s.len() - k >= post.len()
            })
        }
    }
}

fn naive_first_match(c: &CorsConfiguration, origin: &str, method: &str, acrh: &str) -> Option<usize> {
    let names: Vec<&str> = acrh.split(',').map(str::trim).filter(|h| !h.is_empty()).collect();
    c.rules.iter().position(|r| {
        r.allowed_origins.iter().any(|o| naive_glob(o, origin, false))
            && r.allowed_methods.iter().any(|m| m == method)
            && names
                .iter()
                .all(|n| r.allowed_headers.iter().any(|h| naive_glob(h, n, true)))
    })
}

fn pattern() -> impl Strategy<Value = String> {
    prop_oneof!["[ab.:/]{0,4}", "[ab.]{0,2}\\*[ab.]{0,2}", Just("*".to_owned()),]
}

fn method() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("GET"),
        Just("PUT"),
        Just("HEAD"),
        Just("POST"),
        Just("DELETE")
    ]
    .prop_map(str::to_owned)
}

fn rule() -> impl Strategy<Value = CorsRule> {
    (
        proptest::collection::vec(pattern(), 1..3),
        proptest::collection::vec(method(), 1..3),
        proptest::collection::vec("[aAbB-]{0,3}\\*?[aAbB-]{0,2}", 0..3),
    )
        .prop_map(|(allowed_origins, allowed_methods, allowed_headers)| CorsRule {
            allowed_origins,
            allowed_methods,
            allowed_headers: allowed_headers.into_iter().filter(|h| !h.is_empty()).collect(),
            ..CorsRule::default()
        })
}

proptest! {
    #[test]
    fn compiled_matcher_agrees_with_the_naive_reference(
        rules in proptest::collection::vec(rule(), 1..6),
        origin in "[ab.:/]{1,5}",
        method in method(),
        acrh in "([aAbB-]{1,3}, ?){0,3}",
    ) {
        let config = CorsConfiguration { rules };
        let compiled = CompiledCors::compile(&config);
        let got = evaluate(&compiled, &origin, &method, Some(&acrh)).ok().map(|h| h.rule);
        prop_assert_eq!(got, naive_first_match(&config, &origin, &method, &acrh));
    }

    /// Up to and past the 128 rules the compiled index covers (beyond it the rules are visited in
    /// turn): a few distinct rules repeated, so that later ones are reached and shadowed.
    #[test]
    fn compiled_matcher_agrees_with_the_naive_reference_on_many_rules(
        pool in proptest::collection::vec(rule(), 1..8),
        picks in proptest::collection::vec(any::<prop::sample::Index>(), 90..140),
        origin in "[ab.:/]{1,5}",
        method in method(),
        acrh in "([aAbB-]{1,3}, ?){0,3}",
    ) {
        let rules = picks.iter().map(|p| p.get(&pool).clone()).collect();
        let config = CorsConfiguration { rules };
        let compiled = CompiledCors::compile(&config);
        let got = evaluate(&compiled, &origin, &method, Some(&acrh)).ok().map(|h| h.rule);
        prop_assert_eq!(got, naive_first_match(&config, &origin, &method, &acrh));
    }

    #[test]
    fn deciding_never_panics(
        rules in proptest::collection::vec(rule(), 0..4),
        origin in proptest::option::of(".{0,12}"),
        acrm in proptest::option::of(".{0,8}"),
        acrh in proptest::option::of(".{0,24}"),
        method in ".{0,8}",
        has_key in any::<bool>(),
    ) {
        let compiled = CompiledCors::compile(&CorsConfiguration { rules });
        let req = PreflightRequest { origin: origin.as_deref(), method: acrm.as_deref(), headers: acrh.as_deref(), has_key };
        for bucket in [BucketCors::NoBucket, BucketCors::NotConfigured, BucketCors::Configured(&compiled)] {
            let _ = preflight(bucket, &req);
            let _ = actual(bucket, origin.as_deref(), &method, acrm.as_deref(), acrh.as_deref());
        }
    }

    /// The first rule `explain` reports as matching is the rule the engine chose (R68), and a request
    /// is allowed exactly when some rule matches.
    #[test]
    fn explain_agrees_with_the_decision(
        rules in proptest::collection::vec(rule(), 1..6),
        origin in "[ab.:/]{1,5}",
        method in method(),
        acrh in "([aAbB-]{1,3}, ?){0,3}",
        is_preflight in any::<bool>(),
    ) {
        let config = CorsConfiguration { rules };
        let req = ExplainRequest {
            request: PreflightRequest {
                origin: Some(&origin),
                method: Some(&method),
                headers: Some(&acrh),
                has_key: true,
            },
            preflight: is_preflight,
        };
        let e = explain(Some(&config), true, &req);
        let first = e.rules.iter().position(|r| r.matches).map(|i| i + 1);
        prop_assert_eq!(e.decision.rule, first);
        prop_assert_eq!(e.decision.allowed, first.is_some());
        prop_assert_eq!(first.map(|i| i - 1), naive_first_match(&config, &origin, &method, &acrh));
        let _ = lint(&config);
    }
}
