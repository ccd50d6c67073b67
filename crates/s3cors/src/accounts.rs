//! The accounts file: `[[account]]` tables of `id`, `name`, `access_key_id`, `secret_access_key`.

use s3cors_http::auth::Account;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    account: Vec<Entry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    id: String,
    name: String,
    access_key_id: String,
    secret_access_key: String,
}

/// Parses an accounts file; errors name the line.
pub(crate) fn parse(text: &str) -> Result<Vec<Account>, String> {
    let file: File = toml::from_str(text).map_err(|e| {
        let line = e
            .span()
            .map(|s| text[..s.start.min(text.len())].lines().count().max(1));
        match line {
            Some(l) => format!("line {l}: {}", e.message()),
            None => e.message().to_owned(),
        }
    })?;
    Ok(file
        .account
        .into_iter()
        .map(|a| Account {
            id: a.id,
            name: a.name,
            access_key_id: a.access_key_id,
            secret_access_key: a.secret_access_key,
        })
        .collect())
}

/// Checks ids (12 digits) and that no id or access key is used twice.
pub(crate) fn check(accounts: &[Account]) -> Result<(), String> {
    for (i, a) in accounts.iter().enumerate() {
        if a.id.len() != 12 || !a.id.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!(
                "account {:?}: the id {:?} is not 12 digits",
                a.name, a.id
            ));
        }
        if a.access_key_id.is_empty() || a.secret_access_key.is_empty() {
            return Err(format!("account {:?}: empty access key id or secret", a.name));
        }
        if let Some(b) = accounts[..i]
            .iter()
            .find(|b| b.id == a.id || b.access_key_id == a.access_key_id)
        {
            return Err(format!(
                "accounts {:?} and {:?} share an id or an access key id",
                b.name, a.name
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_form() {
        let text = "[[account]]\nid = \"111111111111\"          # 12 digits\nname = \"alt\"\naccess_key_id = \"alt-key\"\nsecret_access_key = \"alt-secret\"\n";
        let a = parse(text).expect("valid");
        assert_eq!(a.len(), 1);
        assert_eq!(
            (a[0].id.as_str(), a[0].access_key_id.as_str()),
            ("111111111111", "alt-key")
        );
        assert!(check(&a).is_ok());
    }

    #[test]
    fn errors_name_the_line() {
        let err =
            parse("[[account]]\nid = \"1\"\nname = \"x\"\naccess_key_id = 5\nsecret_access_key = \"s\"\n")
                .expect_err("bad");
        assert!(err.starts_with("line 4:"), "{err}");
        let err = parse("[[account]]\nid = \"111111111111\"\nbogus = 1\n").expect_err("unknown field");
        assert!(err.starts_with("line ") && err.contains("bogus"), "{err}");
        let bad_id = parse(
            "[[account]]\nid = \"12\"\nname = \"x\"\naccess_key_id = \"k\"\nsecret_access_key = \"s\"\n",
        )
        .expect("parses");
        assert!(check(&bad_id).expect_err("short id").contains("12 digits"));
    }
}
