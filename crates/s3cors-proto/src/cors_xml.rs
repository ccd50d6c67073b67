//! The `CORSConfiguration` document: parse (R7–R13) and serialise (R33–R34).
//!
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketCors.html>. Parsing is strict about
//! structure (unknown elements, repeated `ID` or `MaxAgeSeconds`, a non-integer `MaxAgeSeconds`, a wrong
//! root: `MalformedXML`) and lenient about form (namespace optional, children in any order, whitespace
//! between elements ignored). Values are kept verbatim. Semantic checks are [`s3cors_cors::validate`].

use s3cors_cors::{CorsConfiguration, CorsRule};

use crate::error::{S3Error, S3ErrorCode};
use crate::xml::{self, XmlWriter};

fn malformed() -> S3Error {
    S3Error::new(S3ErrorCode::MalformedXML)
}

/// Parses a PutBucketCors body.
pub fn parse_cors(body: &[u8]) -> Result<CorsConfiguration, S3Error> {
    let root = xml::parse(body)?;
    if root.name != "CORSConfiguration" || !root.text.trim().is_empty() {
        return Err(malformed());
    }
    let mut rules = Vec::new();
    for child in &root.children {
        if child.name != "CORSRule" || !child.text.trim().is_empty() {
            return Err(malformed());
        }
        let mut rule = CorsRule::default();
        for el in &child.children {
            if !el.children.is_empty() {
                return Err(malformed());
            }
            let value = el.text.clone();
            match el.name.as_str() {
                "ID" if rule.id.is_none() => rule.id = Some(value),
                "AllowedOrigin" => rule.allowed_origins.push(value),
                "AllowedMethod" => rule.allowed_methods.push(value),
                "AllowedHeader" => rule.allowed_headers.push(value),
                "ExposeHeader" => rule.expose_headers.push(value),
                "MaxAgeSeconds" if rule.max_age_seconds.is_none() => {
                    rule.max_age_seconds = Some(value.trim().parse::<i64>().map_err(|_| malformed())?);
                }
                _ => return Err(malformed()),
            }
        }
        rules.push(rule);
    }
    Ok(CorsConfiguration { rules })
}

/// Serialises a configuration for GetBucketCors: stored order, case and values, unset members omitted;
/// inside a rule `ID`, `AllowedHeader`, `AllowedMethod`, `AllowedOrigin`, `ExposeHeader`,
/// `MaxAgeSeconds` (botocore's model order, R34).
pub fn serialize_cors(config: &CorsConfiguration) -> String {
    let mut w = XmlWriter::new();
    w.start_root("CORSConfiguration");
    for r in &config.rules {
        w.start("CORSRule");
        if let Some(id) = &r.id {
            w.elem("ID", id);
        }
        for (tag, values) in [
            ("AllowedHeader", &r.allowed_headers),
            ("AllowedMethod", &r.allowed_methods),
            ("AllowedOrigin", &r.allowed_origins),
            ("ExposeHeader", &r.expose_headers),
        ] {
            for v in values {
                w.elem(tag, v);
            }
        }
        if let Some(age) = r.max_age_seconds {
            w.elem("MaxAgeSeconds", &age.to_string());
        }
        w.end("CORSRule");
    }
    w.end("CORSConfiguration");
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn code(body: &str) -> S3ErrorCode {
        parse_cors(body.as_bytes()).expect_err(body).code()
    }

    #[test]
    fn r8_r9_r10_namespace_order_whitespace() {
        let with_ns = r#"<?xml version="1.0" encoding="UTF-8"?>
            <CORSConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
              <CORSRule>
                <MaxAgeSeconds>3000</MaxAgeSeconds>
                <AllowedMethod>PUT</AllowedMethod>
                <AllowedOrigin>http://a.example</AllowedOrigin>
                <AllowedMethod>GET</AllowedMethod>
                <ID>first</ID>
                <AllowedHeader>x-AMZ-*</AllowedHeader>
                <ExposeHeader>ETag</ExposeHeader>
              </CORSRule>
            </CORSConfiguration>"#;
        let c = parse_cors(with_ns.as_bytes()).expect("valid");
        let r = &c.rules[0];
        assert_eq!(r.id.as_deref(), Some("first"));
        assert_eq!(r.allowed_methods, ["PUT", "GET"], "R5: order kept");
        assert_eq!(r.allowed_headers, ["x-AMZ-*"], "R5: case kept");
        assert_eq!(r.max_age_seconds, Some(3000));
        let without = "<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>";
        assert_eq!(
            parse_cors(without.as_bytes()).expect("no namespace").rules.len(),
            1
        );
    }

    #[test]
    fn r6_empty_origin_and_r14_negative_max_age() {
        let doc = "<CORSConfiguration><CORSRule><AllowedOrigin></AllowedOrigin><AllowedMethod>GET</AllowedMethod>\
                   <MaxAgeSeconds>-100</MaxAgeSeconds></CORSRule></CORSConfiguration>";
        let c = parse_cors(doc.as_bytes()).expect("valid");
        assert_eq!(c.rules[0].allowed_origins, [""]);
        assert_eq!(c.rules[0].max_age_seconds, Some(-100));
    }

    #[test]
    fn r8_r13_structural_errors_are_malformed_xml() {
        for doc in [
            "<Other/>",
            "not xml",
            "<CORSConfiguration><CORSRule><Bogus>1</Bogus></CORSRule></CORSConfiguration>",
            "<CORSConfiguration><Bogus/></CORSConfiguration>",
            "<CORSConfiguration><CORSRule><ID>a</ID><ID>b</ID></CORSRule></CORSConfiguration>",
            "<CORSConfiguration><CORSRule><MaxAgeSeconds>1</MaxAgeSeconds><MaxAgeSeconds>2</MaxAgeSeconds></CORSRule></CORSConfiguration>",
            "<CORSConfiguration><CORSRule><MaxAgeSeconds>a</MaxAgeSeconds></CORSRule></CORSConfiguration>",
            "<CORSConfiguration><CORSRule><MaxAgeSeconds>1.5</MaxAgeSeconds></CORSRule></CORSConfiguration>",
            "<CORSConfiguration><CORSRule><AllowedOrigin><x/></AllowedOrigin></CORSRule></CORSConfiguration>",
        ] {
            assert_eq!(code(doc), S3ErrorCode::MalformedXML, "{doc}");
        }
    }

    #[test]
    fn r34_serialisation() {
        let c = CorsConfiguration {
            rules: vec![CorsRule {
                id: Some("id".into()),
                allowed_origins: vec!["*".into()],
                allowed_methods: vec!["GET".into()],
                allowed_headers: vec!["a&b".into()],
                expose_headers: vec!["ETag".into()],
                max_age_seconds: Some(3000),
            }],
        };
        assert_eq!(
            serialize_cors(&c),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<CORSConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\
             <CORSRule><ID>id</ID><AllowedHeader>a&amp;b</AllowedHeader><AllowedMethod>GET</AllowedMethod>\
             <AllowedOrigin>*</AllowedOrigin><ExposeHeader>ETag</ExposeHeader><MaxAgeSeconds>3000</MaxAgeSeconds>\
             </CORSRule></CORSConfiguration>"
        );
        let minimal = CorsConfiguration {
            rules: vec![CorsRule {
                allowed_origins: vec!["*".into()],
                allowed_methods: vec!["GET".into()],
                ..Default::default()
            }],
        };
        assert!(serialize_cors(&minimal).contains(
            "<CORSRule><AllowedMethod>GET</AllowedMethod><AllowedOrigin>*</AllowedOrigin></CORSRule>"
        ));
    }

    fn value() -> impl Strategy<Value = String> {
        // Any text, including XML metacharacters and non-ASCII, but not control characters XML 1.0
        // cannot carry.
        "[a-zA-Z0-9 *&<>\"'./:_é-]{0,12}"
    }

    fn rule() -> impl Strategy<Value = CorsRule> {
        (
            proptest::option::of(value()),
            proptest::collection::vec(value(), 1..3),
            proptest::collection::vec(value(), 1..3),
            proptest::collection::vec(value(), 0..3),
            proptest::collection::vec(value(), 0..3),
            proptest::option::of(any::<i64>()),
        )
            .prop_map(
                |(id, allowed_origins, allowed_methods, allowed_headers, expose_headers, max_age_seconds)| {
                    CorsRule {
                        id,
                        allowed_origins,
                        allowed_methods,
                        allowed_headers,
                        expose_headers,
                        max_age_seconds,
                    }
                },
            )
    }

    proptest! {
        #[test]
        fn parse_of_serialise_is_identity(rules in proptest::collection::vec(rule(), 1..5)) {
            let c = CorsConfiguration { rules };
            let back = parse_cors(serialize_cors(&c).as_bytes()).expect("own output parses");
            prop_assert_eq!(back, c);
        }

        #[test]
        fn parse_never_panics(body in proptest::collection::vec(any::<u8>(), 0..256)) {
            let _ = parse_cors(&body);
        }
    }
}
