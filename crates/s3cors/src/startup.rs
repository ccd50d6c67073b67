//! Initial state from the environment: buckets to create and their CORS rules, validated exactly as
//! PutBucketCors validates them, so a compose file can ship a front end's CORS configuration.

use s3cors_cors::{CorsConfiguration, CorsRule};
use s3cors_store::{Store, StoreError};
use serde::Deserialize;

/// The AWS CLI / SDK JSON shape of a CORS configuration.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonConfiguration {
    #[serde(rename = "CORSRules")]
    cors_rules: Vec<JsonRule>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonRule {
    #[serde(rename = "ID")]
    id: Option<String>,
    #[serde(rename = "AllowedHeaders", default)]
    allowed_headers: Vec<String>,
    #[serde(rename = "AllowedMethods", default)]
    allowed_methods: Vec<String>,
    #[serde(rename = "AllowedOrigins", default)]
    allowed_origins: Vec<String>,
    #[serde(rename = "ExposeHeaders", default)]
    expose_headers: Vec<String>,
    #[serde(rename = "MaxAgeSeconds")]
    max_age_seconds: Option<i64>,
}

/// One bucket's configuration: the JSON shape, or a string of `CORSConfiguration` XML.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Entry {
    Json(JsonConfiguration),
    Xml(String),
}

/// Parses a CORS map `{"bucket": {"CORSRules": […]}, "other": "<CORSConfiguration>…"}` and validates
/// every configuration as PutBucketCors would; errors name the bucket and carry S3's text.
pub(crate) fn parse_cors_map(text: &str) -> Result<Vec<(String, CorsConfiguration)>, String> {
    let map: serde_json::Map<String, serde_json::Value> = serde_json::from_str(text)
        .map_err(|e| format!("the CORS map is not a JSON object of buckets: {e}"))?;
    let mut out = Vec::new();
    for (bucket, value) in map {
        let entry: Entry = serde_json::from_value(value)
            .map_err(|e| format!("bucket {bucket}: MalformedXML: not a CORS configuration ({e})"))?;
        let config = configuration(entry).map_err(|e| format!("bucket {bucket}: {e}"))?;
        out.push((bucket, config));
    }
    Ok(out)
}

/// Parses one configuration document, `CORSConfiguration` XML or the AWS JSON shape
/// (`{"CORSRules": […]}`), validated as PutBucketCors would.
pub(crate) fn parse_cors_document(text: &str) -> Result<CorsConfiguration, String> {
    let entry = if text.trim_start().starts_with('<') {
        Entry::Xml(text.to_owned())
    } else {
        serde_json::from_str(text).map_err(|e| format!("MalformedXML: not a CORS configuration ({e})"))?
    };
    configuration(entry)
}

fn configuration(entry: Entry) -> Result<CorsConfiguration, String> {
    let config = match entry {
        Entry::Json(j) => CorsConfiguration {
            rules: j
                .cors_rules
                .into_iter()
                .map(|r| CorsRule {
                    id: r.id,
                    allowed_origins: r.allowed_origins,
                    allowed_methods: r.allowed_methods,
                    allowed_headers: r.allowed_headers,
                    expose_headers: r.expose_headers,
                    max_age_seconds: r.max_age_seconds,
                })
                .collect(),
        },
        Entry::Xml(xml) => s3cors_proto::cors_xml::parse_cors(xml.as_bytes())
            .map_err(|e| format!("{}: {}", e.code(), e.message()))?,
    };
    s3cors_cors::validate(&config).map_err(|e| format!("{}: {e}", e.code()))?;
    Ok(config)
}

/// Creates `buckets` (existing ones are left as they are) and applies `cors`.
pub(crate) fn apply(
    store: &Store,
    owner: &str,
    region: &str,
    buckets: &[String],
    cors: &[(String, CorsConfiguration)],
) -> Result<(), String> {
    for b in buckets.iter().map(|b| b.trim()).filter(|b| !b.is_empty()) {
        s3cors_proto::names::validate_bucket_name(b)
            .map_err(|e| format!("bucket {b}: {}: {}", e.code(), e.message()))?;
        match store.create_bucket(b, owner, region, "private") {
            Ok(_) | Err(StoreError::BucketAlreadyOwnedByYou(_)) => {}
            Err(e) => return Err(format!("bucket {b}: {e}")),
        }
    }
    for (bucket, config) in cors {
        store.put_cors(bucket, config).map_err(|e| match e {
            StoreError::NoSuchBucket(_) => {
                format!("bucket {bucket}: NoSuchBucket: it does not exist (create it with S3CORS_BUCKETS)")
            }
            e => format!("bucket {bucket}: {e}"),
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_and_xml_entries() {
        let text = r#"{
            "web": {"CORSRules": [{"AllowedOrigins": ["http://localhost:3000"], "AllowedMethods": ["GET", "PUT"],
                                   "AllowedHeaders": ["*"], "ExposeHeaders": ["ETag"], "MaxAgeSeconds": 600}]},
            "assets": "<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>"
        }"#;
        let mut parsed = parse_cors_map(text).expect("valid");
        parsed.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(parsed[0].0, "assets");
        assert_eq!(parsed[1].1.rules[0].allowed_methods, ["GET", "PUT"]);
        assert_eq!(parsed[1].1.rules[0].max_age_seconds, Some(600));
    }

    #[test]
    fn invalid_configurations_name_the_bucket_with_s3_text() {
        let err = parse_cors_map(
            r#"{"web": {"CORSRules": [{"AllowedOrigins": ["*"], "AllowedMethods": ["PATCH"]}]}}"#,
        )
        .expect_err("bad method");
        assert_eq!(
            err,
            "bucket web: InvalidRequest: Found unsupported HTTP method in CORS config. Unsupported method is PATCH"
        );
        let err = parse_cors_map(r#"{"web": {"CORSRules": []}}"#).expect_err("empty");
        assert!(err.starts_with("bucket web: MalformedXML"), "{err}");
        let err = parse_cors_map(r#"{"web": "<nope/>"}"#).expect_err("xml");
        assert!(err.starts_with("bucket web: MalformedXML"), "{err}");
        assert!(parse_cors_map("[1]").is_err());
    }
}
